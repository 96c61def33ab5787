"""What the demo generator returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from gis_registry.catalog import LOGICAL_LAYERS


@dataclass(frozen=True)
class WeakLink:
    """A bridge that is the only road link from the PAO office to some villages or offices.

    Attributes
    ----------
    bridge_id
        The bridge (``bridges.id``).
    road_id
        The road segment that carries it (``roads.id``); closing it cuts the link.
    settlement_ids
        Every village that can no longer reach the PAO office when the bridge is closed.
    local_body_codes
        LGOs whose office can no longer reach the PAO office.
    """

    bridge_id: int
    road_id: int
    settlement_ids: list[int]
    local_body_codes: list[str]


@dataclass
class DemoPlan:
    """The generated province, one frame per registry layer (geometries in EPSG:4326).

    ``frames`` follows the load order of ``gis_registry.db.tables.LAYERS``; column names are
    the table's (no generated columns, no timestamps).
    """

    seed: int
    scale: float
    frames: dict[str, pd.DataFrame]
    weak_links: list[WeakLink] = field(default_factory=list)

    def __getitem__(self, layer: str) -> pd.DataFrame:
        """A layer's frame; for a logical layer (``water_sources``) its parts', by id."""
        parts = LOGICAL_LAYERS.get(layer)
        if parts:
            whole = pd.concat([self.frames[p] for p in parts], ignore_index=True)
            return whole.sort_values("id", ignore_index=True)
        return self.frames[layer]

    @property
    def counts(self) -> dict[str, int]:
        """Rows generated per layer, in load order."""
        return {layer: len(frame) for layer, frame in self.frames.items()}


@dataclass
class DemoReport:
    """What ``load_demo`` did: rows per layer, time taken, and the planted weak links."""

    counts: dict[str, int]
    seconds: float
    seed: int
    scale: float
    weak_links: list[WeakLink] = field(default_factory=list)
