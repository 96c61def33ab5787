"""Open a QGIS project as QGIS does, report its layers and render one of them to a PNG.

Payload: ``{"project": path, "render": {"table": ..., "extent": [west, south, east, north]
(EPSG:4326), "size": [width, height], "png": path, "points": [[lon, lat], ...],
"radius": px}}`` (``render`` optional).

Answer: ``{"read": bool, "error", "log", "crs": authid, "layers": [{"name", "provider",
"table", "valid", "group", "geometry_type", "feature_count", "renderer"}], "render":
{"errors": [...], "pixels": [{"pixel": [x, y], "colours": {"#rrggbb": n}}]}}``: the colours
met within ``radius`` pixels of each point. The rendered layer is drawn alone on white,
without labels (a label may lie where a colour is read). Run by Debian's /usr/bin/python3
(see runner.py).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from _qgis import main, messages_since


def source_table(layer: Any) -> str | None:
    """The registry layer a QGIS layer reads: the table (postgres), the collection (OAPIF) or
    the GeoPackage layer (ogr: the condition snapshot beside the project)."""
    from qgis.core import QgsDataSourceUri, QgsProviderRegistry

    if layer.providerType() == "ogr":
        parts = QgsProviderRegistry.instance().decodeUri("ogr", layer.source())
        return parts.get("layerName") or None
    uri = QgsDataSourceUri(layer.source())
    return uri.table() or uri.param("typename") or None


def describe(layer: Any, group: str | None) -> dict[str, Any]:
    """One layer as the project opened it."""
    from qgis.core import QgsMapLayerType, QgsWkbTypes

    out: dict[str, Any] = {
        "name": layer.name(),
        "provider": layer.providerType(),
        "table": source_table(layer),
        "valid": layer.isValid(),
        "group": group,
    }
    if layer.type() == QgsMapLayerType.VectorLayer and layer.isValid():
        out["geometry_type"] = QgsWkbTypes.geometryDisplayString(layer.geometryType())
        out["feature_count"] = layer.featureCount()
        out["renderer"] = layer.renderer().type() if layer.renderer() else None
    return out


def render(project: Any, layer: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """Render ``layer`` alone over ``spec['extent']``; the colours around ``spec['points']``."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsMapRendererParallelJob,
        QgsMapSettings,
        QgsPointXY,
        QgsRectangle,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    crs = project.crs() if project.crs().isValid() else layer.crs()
    to_map = QgsCoordinateTransform(
        QgsCoordinateReferenceSystem("EPSG:4326"), crs, project.transformContext()
    )
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(crs)
    settings.setTransformContext(project.transformContext())
    settings.setBackgroundColor(QColor("white"))
    settings.setOutputSize(QSize(*spec["size"]))
    settings.setOutputDpi(96)
    settings.setFlag(QgsMapSettings.DrawLabeling, False)
    settings.setExtent(to_map.transformBoundingBox(QgsRectangle(*spec["extent"])))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(spec["png"], "PNG")
    to_pixel = settings.mapToPixel()
    radius = int(spec.get("radius", 2))
    pixels = []
    for lon, lat in spec["points"]:
        at = to_pixel.transform(to_map.transform(QgsPointXY(lon, lat)))
        x, y = round(at.x()), round(at.y())
        colours: Counter[str] = Counter()
        for dx in range(-radius, radius + 1):
            for dy in range(-radius, radius + 1):
                if 0 <= x + dx < image.width() and 0 <= y + dy < image.height():
                    colours[QColor(image.pixel(x + dx, y + dy)).name()] += 1
        pixels.append({"pixel": [x, y], "colours": dict(colours)})
    return {
        "errors": [f"{e.layerID}: {e.message}" for e in job.errors()],
        "crs": crs.authid(),
        "pixels": pixels,
    }


def open_project(payload: dict[str, Any]) -> dict[str, Any]:
    """Read the project; describe its layers; render the one asked for."""
    from qgis.core import QgsProject

    project = QgsProject.instance()
    read = project.read(payload["project"])
    groups = {  # the layer's group in the layer tree (the root's name is empty)
        node.layerId(): node.parent().name() or None
        for node in project.layerTreeRoot().findLayers()
    }
    layers = list(project.mapLayers().values())
    answer: dict[str, Any] = {
        "read": read,
        "error": project.error(),
        "log": messages_since(0),  # why a layer is invalid, among others
        "crs": project.crs().authid(),
        "layers": [describe(layer, groups.get(layer.id())) for layer in layers],
    }
    spec = payload.get("render")
    if spec:
        chosen = [layer for layer in layers if source_table(layer) == spec["table"]]
        answer["render"] = (
            render(project, chosen[0], spec) if chosen else {"errors": ["no such layer"]}
        )
    return answer


if __name__ == "__main__":
    main(open_project)
