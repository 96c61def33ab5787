"""gis-registry: the geospatial infrastructure asset registry of Lampang PAO.

>>> from gis_registry import Registry
>>> reg = Registry.connect()          # embedded PostGIS, or GIS_REGISTRY_DATABASE_URL
>>> roads = reg.roads(surface="laterite")   # a GeoDataFrame in EPSG:4326
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Registry", "Settings", "__version__"]

if TYPE_CHECKING:
    from gis_registry.registry import Registry
    from gis_registry.settings import Settings


def __getattr__(name: str) -> Any:
    # Lazy: `gis-registry db status` must not pay for importing geopandas.
    if name == "Registry":
        from gis_registry.registry import Registry

        return Registry
    if name == "Settings":
        from gis_registry.settings import Settings

        return Settings
    raise AttributeError(name)
