"""Folium map builders (folium is imported only in this package).

Each builder takes ``conn`` first, options keyword-only, and returns a ``folium.Map`` (for
notebooks); :func:`save_map` writes one as HTML that loads nothing from outside the machine.
Attributes are imported lazily so that ``gis_registry.cli`` can register the commands without
importing folium.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "zoning_map": "gis_registry.maps.zoning",
    "condition_map": "gis_registry.maps.condition",
    "hazard_map": "gis_registry.maps.hazard",
    "network_map": "gis_registry.maps.network",
    "water_map": "gis_registry.maps.water",
    "route_map": "gis_registry.maps.route",
    "criticality_map": "gis_registry.maps.route",
    "build_map": "gis_registry.maps.catalog",
    "write_demo_maps": "gis_registry.maps.catalog",
    "MAPS": "gis_registry.maps.catalog",
    "save_map": "gis_registry.maps.offline",
    "render_html": "gis_registry.maps.offline",
    "offline_view": "gis_registry.maps.offline",
    "AssetMode": "gis_registry.maps.offline",
    "MapSettings": "gis_registry.maps.settings",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gis_registry.maps' has no attribute '{name}'")
    return getattr(import_module(module), name)
