"""OpenStreetMap import (``gis-registry import-osm``): roads, bridges and water sources.

- :mod:`~gis_registry.io.osm.mapping`: the tag mapping (``data/mappings/osm.yaml``), checked;
- :mod:`~gis_registry.io.osm.reader`: two streaming pyosmium passes (junctions, features);
- :mod:`~gis_registry.io.osm.importer`: :func:`import_osm`, upsert by OSM id in one transaction.
"""

from gis_registry.io.osm.importer import LAYERS, OsmImportResult, OsmOptions, import_osm
from gis_registry.io.osm.mapping import DEFAULT_MAPPING, OsmMapping

__all__ = [
    "DEFAULT_MAPPING",
    "LAYERS",
    "OsmImportResult",
    "OsmMapping",
    "OsmOptions",
    "import_osm",
]
