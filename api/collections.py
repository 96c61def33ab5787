"""The collection registry: one OGC collection per layer of ``tables.LAYERS``.

Every SQL identifier the API uses comes from here (an allow-list), never from a request.
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

from api.errors import InvalidParameter
from gis_registry.db.tables import LAYERS

TITLES: dict[str, tuple[str, str]] = {
    "districts": ("Districts", "อำเภอ"),
    "local_bodies": ("Local government organisations", "องค์กรปกครองส่วนท้องถิ่น"),
    "settlements": ("Villages", "หมู่บ้าน"),
    "rivers": ("Rivers and streams", "แม่น้ำและลำน้ำ"),
    "roads": ("Roads", "ถนน"),
    "bridges": ("Bridges and culverts", "สะพานและท่อลอด"),
    "water_sources": ("Water sources", "แหล่งน้ำ"),
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
    "water_sources",
    "settlements",
    "zoning_zones",
    "hazard_areas",
    "local_bodies",
    "rivers",
    "districts",
)


def json_type(column: Any) -> dict[str, Any]:
    kind = column.type
    if isinstance(kind, Boolean):
        return {"type": "boolean"}
    if isinstance(kind, (Integer, SmallInteger, BigInteger)):
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
class Collection:
    id: str
    table: Table
    title: str
    title_th: str
    description: str
    key: str
    geometry: str | None
    geometry_type: str | None
    other_geometries: tuple[str, ...]
    properties: tuple[str, ...]  # every non-geometry column, in table order
    temporal: tuple[str, str | None] | None
    tiled: bool
    key_is_int: bool

    @property
    def spatial(self) -> bool:
        return self.geometry is not None

    @property
    def geometries(self) -> tuple[str, ...]:
        """Every geometry column, the primary one first."""
        return (self.geometry, *self.other_geometries) if self.geometry else ()

    def queryables(self) -> dict[str, dict[str, Any]]:
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

    def parse_key(self, value: str) -> Any:
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
        """A query-string value as the column's Python type (for property filters)."""
        kind = self.table.c[name].type
        try:
            if isinstance(kind, Boolean):
                lowered = raw.lower()
                if lowered not in ("true", "false", "1", "0"):
                    raise ValueError(raw)
                return lowered in ("true", "1")
            if isinstance(kind, (Integer, SmallInteger, BigInteger)):
                number = int(raw)
                limit = 2**63 if isinstance(kind, BigInteger) else 2**31
                if not -limit <= number < limit:
                    raise ValueError(raw)
                return number
            if isinstance(kind, (Float, Numeric)):
                number = float(raw)
                if number != number or number in (float("inf"), float("-inf")):
                    raise ValueError(raw)
                return number
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


def _primary_geometry(table: Table) -> str | None:
    geoms = [c.name for c in table.columns if isinstance(c.type, Geometry)]
    for preferred in ("geom", "boundary"):
        if preferred in geoms:
            return preferred
    return geoms[0] if geoms else None


def build_registry() -> dict[str, Collection]:
    registry: dict[str, Collection] = {}
    for name, table in LAYERS.items():
        geometry = _primary_geometry(table)
        key_col = table.primary_key.columns.values()[0]
        others = tuple(
            c.name for c in table.columns if isinstance(c.type, Geometry) and c.name != geometry
        )
        props = tuple(c.name for c in table.columns if not isinstance(c.type, Geometry))
        title, title_th = TITLES.get(name, (name.replace("_", " ").title(), name))
        gtype = None
        if geometry is not None:
            gtype = (table.c[geometry].type.geometry_type or "GEOMETRY").upper()
        registry[name] = Collection(
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
            key_is_int=isinstance(key_col.type, (Integer, SmallInteger, BigInteger)),
        )
    return registry


COLLECTIONS: dict[str, Collection] = build_registry()
COLLECTION_IDS: tuple[str, ...] = tuple(COLLECTIONS)


def get_collection(collection_id: str) -> Collection:
    from gis_registry.errors import NotFound

    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(
            f"collection '{collection_id}' does not exist (collections: {', '.join(COLLECTIONS)})"
        ) from None
