"""How users name records: natural keys per layer and references by code, never by internal id.

An import matches a file's records to the registry's by a layer's natural key (``--mode upsert``
and ``replace``), and a file names the record another one refers to by that record's code
(``local_body_code`` for a village's LGO, ``road_code`` for a bridge's road). An export writes
the same codes, so any export re-imports unchanged, in this registry or another.
"""

from __future__ import annotations

from dataclasses import dataclass

from gis_registry.domain import WATER_GEOMETRIES

# The columns that identify a record of each layer to its users (unique in the database, 0004).
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "districts": ("code",),
    "local_bodies": ("code",),
    "settlements": ("village_code",),
    "rivers": ("code",),
    "roads": ("code", "segment"),
    "bridges": ("code",),
    **{water: ("code",) for water in WATER_GEOMETRIES},
    # not a table: the view of the three above, which inspections and works refer to by code
    "water_sources": ("code",),
    "zoning_categories": ("key",),
    "zoning_plans": ("code",),
    "zoning_zones": ("code",),
    "hazard_areas": ("code",),
    "inspections": ("code",),
    "maintenance_works": ("code",),
}

# Columns the registry writes itself: an import skips them (an export carries them for reading).
READ_ONLY = frozenset({"id", "created_at", "updated_at", "area_km2", "area_m2", "length_m"})


@dataclass(frozen=True)
class Reference:
    """A foreign-key column and the code columns a file names its target by.

    ``codes`` maps each file column to the target's natural-key column: a bridge's road is
    ``road_code`` (roads.code) and, where a road code has several segments, ``road_segment``.
    """

    column: str
    target: str
    codes: dict[str, str]

    @property
    def code_columns(self) -> tuple[str, ...]:
        """The file columns that name the target, in key order."""
        return tuple(self.codes)


def _ref(column: str, target: str, prefix: str) -> Reference:
    keys = NATURAL_KEYS[target]
    names = {f"{prefix}_code" if k in ("code", "key") else f"{prefix}_{k}": k for k in keys}
    return Reference(column, target, names)


# Every foreign key of a layer, by the column that holds the internal id.
REFERENCES: dict[str, tuple[Reference, ...]] = {
    "local_bodies": (),
    "settlements": (_ref("local_body_id", "local_bodies", "local_body"),),
    "roads": (_ref("owner_local_body_id", "local_bodies", "owner_local_body"),),
    "bridges": (_ref("road_id", "roads", "road"), _ref("river_id", "rivers", "river")),
    **{
        water: (_ref("owner_local_body_id", "local_bodies", "owner_local_body"),)
        for water in WATER_GEOMETRIES
    },
    "zoning_zones": (_ref("plan_id", "zoning_plans", "plan"),),
    "inspections": (
        _ref("road_id", "roads", "road"),
        _ref("bridge_id", "bridges", "bridge"),
        _ref("water_source_id", "water_sources", "water_source"),
    ),
    "maintenance_works": (
        _ref("road_id", "roads", "road"),
        _ref("bridge_id", "bridges", "bridge"),
        _ref("water_source_id", "water_sources", "water_source"),
        _ref("funding_local_body_id", "local_bodies", "funding_local_body"),
    ),
}
