"""Open layers as QGIS does and report what a QGIS user would see of each.

Payload: ``{"layers": [spec, ...]}``, a spec being either
``{"key": ..., "provider": "postgres", "connection": {host, port, dbname, user, password},
"table": ..., "geometry": ..., "id": ...}`` or
``{"key": ..., "provider": "OAPIF", "url": ..., "typename": ...}``.

Answer: ``{key: report}``; a report holds whether the layer is valid (and QGIS's error when
not), its WKB type and geometry type, ``featureCount()``, and, from iterating every feature,
how many there are, how many have no geometry and how many QGIS draws (a geometry of the
layer's geometry type: QGIS types a layer once and draws no other type), with the WKB types
met. Run by Debian's /usr/bin/python3 (see tests/qgis/runner.py).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from _qgis import LOG, main, messages_since


def data_source(spec: dict[str, Any]) -> str:
    """The layer's URI, built as QGIS's own dialogs build it (QgsDataSourceUri)."""
    from qgis.core import QgsDataSourceUri

    uri = QgsDataSourceUri()
    if spec["provider"] == "postgres":
        c = spec["connection"]
        uri.setConnection(c["host"], str(c["port"]), c["dbname"], c["user"], c["password"])
        uri.setDataSource("public", spec["table"], spec["geometry"], "", spec["id"])
        return uri.uri(False)
    uri.setParam("url", spec["url"])
    uri.setParam("typename", spec["typename"])
    return uri.uri(False)


def report(spec: dict[str, Any]) -> dict[str, Any]:
    """What QGIS makes of one layer."""
    from qgis.core import QgsVectorLayer, QgsWkbTypes

    started, logged = time.monotonic(), len(LOG)
    layer = QgsVectorLayer(data_source(spec), spec["key"], spec["provider"])
    if not layer.isValid():
        return {"valid": False, "error": messages_since(logged) or "no message from QGIS"}
    geometry_type = layer.geometryType()
    found: Counter[str] = Counter()
    features = no_geometry = drawn = 0
    for feature in layer.getFeatures():
        features += 1
        geometry = feature.geometry()
        if geometry is None or geometry.isNull():
            no_geometry += 1
            continue
        found[QgsWkbTypes.displayString(geometry.wkbType())] += 1
        drawn += geometry.type() == geometry_type
    return {
        "valid": True,
        "wkb_type": QgsWkbTypes.displayString(layer.wkbType()),
        "geometry_type": QgsWkbTypes.geometryDisplayString(geometry_type),
        "crs": layer.crs().authid(),
        "feature_count": layer.featureCount(),
        "features": features,
        "no_geometry": no_geometry,
        "drawn": drawn,
        "feature_types": dict(found),
        "seconds": round(time.monotonic() - started, 2),  # what a layer costs the test run
    }


def check_layers(payload: dict[str, Any]) -> dict[str, Any]:
    """The report of every layer of the payload."""
    return {spec["key"]: report(spec) for spec in payload["layers"]}


if __name__ == "__main__":
    main(check_layers)
