"""Travel speeds by road class and surface: the cost model of the network.

An edge costs its length in metres and its travel time in seconds at the speed of its road's
class, capped by what its surface allows (an earth track is slow whoever owns it). Users override
the defaults per class, per surface or per (class, surface) cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from gis_registry import domain
from gis_registry.errors import ValidationError

# Typical free-flow speeds on Lampang's network (km/h); a planning figure, not a speed limit.
DEFAULT_CLASS_KMH: Mapping[str, float] = MappingProxyType(
    {
        "special": 100.0,
        "national": 80.0,
        "rural": 60.0,
        "local": 40.0,
        "concession": 80.0,
        "unregistered": 25.0,
    }
)
# Highest sensible speed on each surface; unpaved roads are slow whatever their class.
DEFAULT_SURFACE_MAX_KMH: Mapping[str, float] = MappingProxyType(
    {
        "asphalt": 120.0,
        "concrete": 100.0,
        "crushed_rock": 45.0,
        "laterite": 40.0,
        "earth": 25.0,
    }
)


def _frozen(mapping: Mapping) -> dict:
    # a plain dict (a mappingproxy cannot be pickled, and the network cache pickles networks)
    return dict(mapping)


@dataclass(frozen=True)
class SpeedTable:
    """Speed in km/h for every road class x surface.

    Parameters
    ----------
    class_kmh
        Speed per road class (missing classes keep their default).
    surface_max_kmh
        Cap per surface (missing surfaces keep their default).
    overrides_kmh
        Exact speed for a ``(road_class, surface)`` cell; wins over class and cap.

    Examples
    --------
    >>> SpeedTable(class_kmh={"local": 30}).kmh("local", "asphalt")
    30.0
    """

    class_kmh: Mapping[str, float] = field(default_factory=dict)
    surface_max_kmh: Mapping[str, float] = field(default_factory=dict)
    overrides_kmh: Mapping[tuple[str, str], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        classes = {**DEFAULT_CLASS_KMH, **self.class_kmh}
        surfaces = {**DEFAULT_SURFACE_MAX_KMH, **self.surface_max_kmh}
        problems: list[tuple[str | int | None, str, str]] = []
        for name, known, given in (
            ("class_kmh", domain.ROAD_CLASSES, self.class_kmh),
            ("surface_max_kmh", domain.SURFACES, self.surface_max_kmh),
        ):
            problems += [(None, name, f"unknown key '{k}'") for k in given if k not in known]
        for (cls, surface), _ in self.overrides_kmh.items():
            if cls not in domain.ROAD_CLASSES or surface not in domain.SURFACES:
                problems.append((None, "overrides_kmh", f"unknown cell ({cls}, {surface})"))
        values = [*classes.values(), *surfaces.values(), *self.overrides_kmh.values()]
        if any(not (v > 0) for v in values):
            problems.append((None, "speed", "every speed must be greater than 0 km/h"))
        if problems:
            raise ValidationError("speed table", problems)
        object.__setattr__(self, "class_kmh", _frozen(classes))
        object.__setattr__(self, "surface_max_kmh", _frozen(surfaces))
        object.__setattr__(self, "overrides_kmh", _frozen(self.overrides_kmh))

    def kmh(self, road_class: str, surface: str) -> float:
        """Speed on a road of ``road_class`` with ``surface``."""
        cell = self.overrides_kmh.get((road_class, surface))
        if cell is not None:
            return float(cell)
        return float(min(self.class_kmh[road_class], self.surface_max_kmh[surface]))

    def grid(self) -> np.ndarray:
        """Speeds as an array indexed ``[class index, surface index]`` (domain order), in m/s."""
        return np.array(
            [[self.kmh(c, s) / 3.6 for s in domain.SURFACES] for c in domain.ROAD_CLASSES]
        )

    def key(self) -> tuple:
        """A hashable summary, part of the network cache key."""
        return tuple(tuple(row) for row in self.grid().round(9))

    def to_dict(self) -> dict:
        """Speed in km/h of every (class, surface) cell, nested by road class."""
        return {c: {s: self.kmh(c, s) for s in domain.SURFACES} for c in domain.ROAD_CLASSES}


def edge_times(
    length_m: np.ndarray, class_idx: np.ndarray, surface_idx: np.ndarray, speeds: SpeedTable
) -> np.ndarray:
    """Travel time in seconds of edges, given their road's class and surface indices."""
    return length_m / speeds.grid()[class_idx, surface_idx]
