"""Road network: topology, routing, connectivity and criticality.

    from gis_registry.network import route, matrix, components, criticality, Restrictions

    with engine.connect() as conn:
        r = route(conn, "PAO-CODE", "village:123", restrictions=Restrictions(vehicle_tonnes=18))

Every analysis takes the connection first and loads the network of that database through a
cache checked against ``layer_versions`` (:func:`load_network`), so results are never stale.
Modules: ``topology`` (noding), ``check`` / ``fix`` (noding problems found and repaired),
``costs`` (speeds), ``sources`` (reads), ``attach`` (places and the attach limit), ``graph`` /
``hierarchy`` (shortest paths), ``snapshot`` (built networks on disk), ``cuts`` (bridges of the
graph), ``restrictions``, ``routing`` (route, matrix), ``connectivity`` (components),
``criticality``.

Names are imported lazily: the main CLI imports this package at start-up.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "route": "routing",
    "matrix": "routing",
    "Route": "routing",
    "Matrix": "routing",
    "Unreachable": "routing",
    "TooFarFromRoad": "attach",
    "check_network": "check",
    "NetworkCheck": "check",
    "fix_network": "fix",
    "NetworkFix": "fix",
    "components": "connectivity",
    "Components": "connectivity",
    "NoPaoOffice": "connectivity",
    "criticality": "criticality",
    "Criticality": "criticality",
    "CriticalItem": "criticality",
    "Restrictions": "restrictions",
    "load_network": "model",
    "Network": "model",
    "NetworkConfig": "model",
    "NetworkCache": "model",
    "keep_snapshots_in": "model",
    "SpeedTable": "costs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gis_registry.network' has no attribute '{name}'")
    return getattr(importlib.import_module(f"gis_registry.network.{module}"), name)
