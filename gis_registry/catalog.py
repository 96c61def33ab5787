"""The layer catalogue: what each layer of :data:`gis_registry.db.tables.LAYERS` is to a reader.

One :class:`Layer` per table: its titles (English and Thai), key, geometry columns (and the one
rule choosing the primary geometry), properties and their types, time columns and whether it
is served as vector tiles. The table definitions stay in :mod:`gis_registry.db.tables`; this
module only describes them.

Every SQL identifier a query uses comes from here (an allow-list), never from the caller.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    SmallInteger,
    Table,
)

from gis_registry.db.tables import LAYERS, WATER_TABLES
from gis_registry.errors import InvalidParameter, NotFound

TITLES: dict[str, tuple[str, str]] = {
    "districts": ("Districts", "อำเภอ"),
    "local_bodies": ("Local government organisations", "องค์กรปกครองส่วนท้องถิ่น"),
    "settlements": ("Villages", "หมู่บ้าน"),
    "rivers": ("Rivers and streams", "แม่น้ำและลำน้ำ"),
    "roads": ("Roads", "ถนน"),
    "bridges": ("Bridges and culverts", "สะพานและท่อลอด"),
    "water_points": ("Water sources (points)", "แหล่งน้ำ (จุด)"),
    "water_areas": ("Water sources (areas)", "แหล่งน้ำ (พื้นที่)"),
    "water_lines": ("Water sources (lines)", "แหล่งน้ำ (เส้น)"),
    "zoning_categories": ("Land-use categories", "ประเภทการใช้ประโยชน์ที่ดิน"),
    "zoning_plans": ("Comprehensive plans", "ผังเมืองรวม"),
    "zoning_zones": ("Zoning zones", "เขตการใช้ประโยชน์ที่ดิน"),
    "hazard_areas": ("Hazard areas", "พื้นที่เสี่ยงภัย"),
    "inspections": ("Inspections", "การตรวจสภาพ"),
    "maintenance_works": ("Maintenance works", "งานซ่อมบำรุง"),
}
# layer -> (start column, end column or None) of the feature's time
TEMPORAL: dict[str, tuple[str, str | None]] = {
    "inspections": ("inspected_on", None),
    "maintenance_works": ("planned_start", "planned_end"),
    "zoning_plans": ("effective_date", "expiry_date"),
}
# Layers big enough to deserve vector tiles.
TILED = (
    "roads",
    "bridges",
    "water_points",
    "water_areas",
    "water_lines",
    "settlements",
    "zoning_zones",
    "hazard_areas",
    "local_bodies",
    "rivers",
    "districts",
)
# The primary geometry of a layer with several: the area (a district's boundary) before the
# point (its office), whatever the table's column order.
PREFERRED_GEOMETRIES = ("geom", "boundary")
_INTEGERS = (Integer, SmallInteger, BigInteger)


def geometry_columns(table: Table) -> list[str]:
    """Names of the table's geometry columns, in table order."""
    return [c.name for c in table.columns if isinstance(c.type, Geometry)]


def primary_geometry(table: Table) -> str | None:
    """The one rule for a layer's primary geometry: ``geom``, else ``boundary``, else the first
    geometry column; None for a layer without geometry."""
    geoms = geometry_columns(table)
    for preferred in PREFERRED_GEOMETRIES:
        if preferred in geoms:
            return preferred
    return geoms[0] if geoms else None


def json_type(column: Any) -> dict[str, Any]:
    """The JSON Schema of a column's values (GeoJSON schemas for geometries)."""
    kind = column.type
    if isinstance(kind, Boolean):
        return {"type": "boolean"}
    if isinstance(kind, _INTEGERS):
        return {"type": "integer"}
    if isinstance(kind, (Float, Numeric)):
        return {"type": "number"}
    if isinstance(kind, DateTime):
        return {"type": "string", "format": "date-time"}
    if isinstance(kind, Date):
        return {"type": "string", "format": "date"}
    if isinstance(kind, Geometry):
        gtype = (kind.geometry_type or "GEOMETRY").upper()
        names = {
            "POINT": "Point",
            "LINESTRING": "LineString",
            "MULTIPOLYGON": "MultiPolygon",
            "POLYGON": "Polygon",
        }
        if gtype in names:
            return {"$ref": f"https://geojson.org/schema/{names[gtype]}.json"}
        return {"$ref": "https://geojson.org/schema/Geometry.json"}
    return {"type": "string"}


@dataclass(frozen=True)
class Layer:
    """One layer as readers see it (an OGC API collection)."""

    id: str
    table: Table
    title: str
    title_th: str
    description: str
    key: str
    geometry: str | None  # the primary geometry (see primary_geometry)
    geometry_type: str | None
    other_geometries: tuple[str, ...]
    properties: tuple[str, ...]  # every non-geometry column, in table order
    temporal: tuple[str, str | None] | None
    tiled: bool
    key_is_int: bool

    @property
    def spatial(self) -> bool:
        """Whether the layer has a geometry."""
        return self.geometry is not None

    @property
    def geometries(self) -> tuple[str, ...]:
        """Every geometry column, the primary one first."""
        return (self.geometry, *self.other_geometries) if self.geometry else ()

    def queryables(self) -> dict[str, dict[str, Any]]:
        """JSON Schema of every column a filter may name, geometries first."""
        out = {}
        for name in self.geometries:  # for the CQL2 spatial functions
            out[name] = {"title": name, **json_type(self.table.c[name])}
        if self.geometry:
            out[self.geometry]["x-ogc-role"] = "primary-geometry"
        for name in self.properties:
            column = self.table.c[name]
            schema = {"title": name, **json_type(column)}
            if column.comment:
                schema["description"] = column.comment
            out[name] = schema
        return out

    def require_property(self, name: str, parameter: str | None = None) -> str:
        """``name`` when it is a (non-geometry) property of the layer, else
        :class:`InvalidParameter` listing the properties."""
        if name not in self.properties:
            raise InvalidParameter(
                parameter or name,
                f"unknown field (fields of '{self.id}': {', '.join(self.properties)})",
                layer=self.id,
            )
        return name

    def parse_key(self, value: str) -> Any:
        """A feature id given as text, as the key column's type."""
        if self.key_is_int:
            try:
                number = int(value)
            except ValueError:
                raise InvalidParameter("featureId", f"'{value}' is not a feature id") from None
            if not -(2**31) <= number < 2**31:
                raise InvalidParameter("featureId", f"'{value}' is not a feature id")
            return number
        if "\x00" in value:  # PostgreSQL text cannot hold it (and one bad key would fail a batch)
            raise InvalidParameter("featureId", "a feature id must not contain NUL characters")
        return value

    def parse_value(self, name: str, raw: str) -> Any:
        """A value given as text (a query string's) as the column's Python type."""
        kind = self.table.c[name].type
        try:
            if isinstance(kind, Boolean):
                lowered = raw.lower()
                if lowered not in ("true", "false", "1", "0"):
                    raise ValueError(raw)
                return lowered in ("true", "1")
            if isinstance(kind, _INTEGERS):
                number = int(raw)
                limit = 2**63 if isinstance(kind, BigInteger) else 2**31
                if not -limit <= number < limit:
                    raise ValueError(raw)
                return number
            if isinstance(kind, (Float, Numeric)):
                real = float(raw)
                if real != real or real in (float("inf"), float("-inf")):
                    raise ValueError(raw)
                return real
            if isinstance(kind, DateTime):
                return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if isinstance(kind, Date):
                return dt.date.fromisoformat(raw)
        except ValueError:
            expected = json_type(self.table.c[name]).get("format") or json_type(
                self.table.c[name]
            ).get("type")
            raise InvalidParameter(name, f"'{raw}' is not a valid {expected}") from None
        if "\x00" in raw:
            raise InvalidParameter(name, "text must not contain NUL characters")
        return raw


def describe(name: str, table: Table) -> Layer:
    """The :class:`Layer` of one table."""
    geometry = primary_geometry(table)
    key_col = table.primary_key.columns.values()[0]
    others = tuple(g for g in geometry_columns(table) if g != geometry)
    props = tuple(c.name for c in table.columns if not isinstance(c.type, Geometry))
    title, title_th = TITLES.get(name, (name.replace("_", " ").title(), name))
    gtype = None
    if geometry is not None:
        gtype = (getattr(table.c[geometry].type, "geometry_type", None) or "GEOMETRY").upper()
    return Layer(
        id=name,
        table=table,
        title=title,
        title_th=title_th,
        description=table.comment or title,
        key=key_col.name,
        geometry=geometry,
        geometry_type=gtype,
        other_geometries=others,
        properties=props,
        temporal=TEMPORAL.get(name),
        tiled=name in TILED and geometry is not None,
        key_is_int=isinstance(key_col.type, _INTEGERS),
    )


CATALOG: dict[str, Layer] = {name: describe(name, table) for name, table in LAYERS.items()}
LAYER_IDS: tuple[str, ...] = tuple(CATALOG)
# Logical layers: one name for layers split by geometry (0008), each part one geometry type.
# Not collections; a file import of one routes each record to its part by geometry.
LOGICAL_LAYERS: dict[str, tuple[str, ...]] = {
    "water_sources": tuple(t.name for t in WATER_TABLES),
}


def split_layer_message(layer: str) -> str:
    """Why ``layer``, a logical layer, is not a collection, and which layers hold it."""
    parts = LOGICAL_LAYERS[layer]
    return (
        f"'{layer}' is split by geometry type into the layers {', '.join(parts[:-1])} and "
        f"{parts[-1]} (one geometry type each); use those"
    )


def get_layer(layer: str) -> Layer:
    """The catalogue entry of ``layer``; :class:`NotFound` naming the layers otherwise."""
    try:
        return CATALOG[layer]
    except (KeyError, TypeError):
        if isinstance(layer, str) and layer in LOGICAL_LAYERS:
            raise NotFound(split_layer_message(layer)) from None
        raise NotFound(f"unknown layer '{layer}' (layers: {', '.join(CATALOG)})") from None
