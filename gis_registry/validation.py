"""Validation of writes: one code path for the library, the API and file imports.

Every problem found in a batch is reported at once, each naming the record, the field and the
rule. The database then enforces the same rules again (CHECK constraints, typmods, triggers);
what slips through here is translated by :mod:`gis_registry.db.errors`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import shapely
from geoalchemy2 import Geometry
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric, SmallInteger, Table, Text

from gis_registry import domain
from gis_registry.errors import ValidationError

# Columns users never write: timestamps and generated measures (ids may be given).
SYSTEM_COLUMNS = {"created_at", "updated_at"}

VOCABULARIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("local_bodies", "kind"): domain.LOCAL_BODY_KINDS,
    ("roads", "road_class"): domain.ROAD_CLASSES,
    ("roads", "surface"): domain.SURFACES,
    ("roads", "owner_agency"): domain.AGENCIES,
    ("water_sources", "owner_agency"): domain.AGENCIES,
    ("bridges", "structure_type"): domain.BRIDGE_STRUCTURES,
    ("bridges", "material"): domain.BRIDGE_MATERIALS,
    ("water_sources", "kind"): domain.WATER_SOURCE_KINDS,
    ("hazard_areas", "hazard_type"): domain.HAZARD_TYPES,
    ("hazard_areas", "severity"): domain.SEVERITIES,
    ("inspections", "condition_scale"): tuple(domain.CONDITION_SCALES),
    ("inspections", "method"): domain.INSPECTION_METHODS,
    ("maintenance_works", "treatment"): domain.TREATMENTS,
    ("maintenance_works", "funding_body"): domain.FUNDING_BODIES,
    ("maintenance_works", "status"): domain.WORK_STATUSES,
}

# Quantities that cannot be negative (or zero, for the strictly positive ones).
NON_NEGATIVE = {"population", "households", "capacity_m3", "households_served", "cost_thb"}
POSITIVE = {"width_m", "length_m", "load_limit_t", "spans", "lanes", "moo", "seq"}

# Allowed geometry types per declared column type (a Polygon is promoted to MultiPolygon).
_GEOM_TYPES = {
    "POINT": {"Point"},
    "LINESTRING": {"LineString"},
    "MULTIPOLYGON": {"MultiPolygon", "Polygon"},
    "GEOMETRY": {"Point", "Polygon", "MultiPolygon", "LineString"},
}


def writable_columns(table: Table) -> dict[str, Any]:
    """Columns a user may write, by name: all but the timestamps and generated columns."""
    return {c.name: c for c in table.columns if c.name not in SYSTEM_COLUMNS and c.computed is None}


def parse_geometry(value: Any) -> BaseGeometry:
    """Accept a shapely geometry, a GeoJSON mapping or string, WKT or WKB (hex)."""
    if isinstance(value, BaseGeometry):
        return value
    if isinstance(value, Mapping):
        return shapely.geometry.shape(value)
    if isinstance(value, bytes):
        return shapely.from_wkb(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            return shapely.geometry.shape(json.loads(text))
        if all(ch in "0123456789abcdefABCDEF" for ch in text[:16]) and len(text) > 16:
            return shapely.from_wkb(text)
        return shapely.from_wkt(text)
    raise TypeError(f"cannot read a geometry from {type(value).__name__}")


def _geometry_problem(geom: BaseGeometry, declared: str) -> str | None:
    allowed = _GEOM_TYPES.get(declared.upper(), set())
    if geom.geom_type not in allowed:
        expected = " or ".join(sorted(allowed))
        return f"geometry type {geom.geom_type} is not allowed here (expected {expected})"
    if geom.is_empty:
        return "geometry is empty"
    if shapely.has_z(geom):
        return "geometry must be 2D (longitude, latitude)"
    minx, miny, maxx, maxy = geom.bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        return "geometry has non-finite coordinates"
    if abs(miny) > 90 or abs(maxy) > 90 or abs(minx) > 180 or abs(maxx) > 180:
        if -90 <= minx <= 90 and -180 <= miny <= 180:
            return (
                "coordinates look like (latitude, longitude): give (longitude, latitude) "
                "in WGS 84 (EPSG:4326)"
            )
        return (
            "coordinates are not longitude/latitude in WGS 84 (EPSG:4326); "
            "projected coordinates (e.g. UTM 47N) must be transformed first"
        )
    if not geom.is_valid:
        return f"geometry is invalid: {shapely.is_valid_reason(geom)}"
    return None


def _coerce(value: Any, column: Any) -> tuple[Any, str | None]:
    """Coerce ``value`` to the column's Python type; return (value, problem)."""
    kind = column.type
    try:
        if isinstance(kind, Geometry):
            geom = parse_geometry(value)
            problem = _geometry_problem(geom, kind.geometry_type or "GEOMETRY")
            if problem:
                return None, problem
            if geom.geom_type == "Polygon" and (kind.geometry_type or "").upper() == "MULTIPOLYGON":
                geom = shapely.MultiPolygon([geom])
            return geom, None
        if isinstance(kind, Boolean):
            if isinstance(value, bool):
                return value, None
            if str(value).lower() in {"true", "1", "yes"}:
                return True, None
            if str(value).lower() in {"false", "0", "no"}:
                return False, None
            return None, f"'{value}' is not true or false"
        if isinstance(kind, (Integer, SmallInteger)):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                return None, f"'{value}' is not a whole number"
            return int(value), None
        if isinstance(kind, (Float, Numeric)):
            number = float(value)
            if not math.isfinite(number):
                return None, f"'{value}' is not a finite number"
            return number, None
        if isinstance(kind, DateTime):
            return (
                value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
            ), None
        if isinstance(kind, Date):
            if isinstance(value, dt.datetime):
                return value.date(), None
            if isinstance(value, dt.date):
                return value, None
            return dt.date.fromisoformat(str(value)), None
        if isinstance(kind, Text):
            if not isinstance(value, str):
                return None, f"expected text, got {type(value).__name__}"
            return value, None
    except (TypeError, ValueError, KeyError, AttributeError, shapely.errors.ShapelyError) as exc:
        # malformed GeoJSON (missing keys, wrong nesting) or WKT/WKB that GEOS cannot read
        return None, f"'{value}' cannot be read as {kind}: {exc}"
    return value, None


def validate_record(
    table: Table, record: Mapping[str, Any], *, ref: str | int | None, partial: bool = False
) -> tuple[dict[str, Any], list[tuple[str | int | None, str, str]]]:
    """Check and coerce one record. ``partial`` validates an update (only the given fields)."""
    layer = table.name
    columns = writable_columns(table)
    clean: dict[str, Any] = {}
    problems: list[tuple[str | int | None, str, str]] = []
    for field in record:
        if field not in columns:
            problems.append(
                (ref, field, f"unknown field for {layer} (known: {', '.join(sorted(columns))})")
            )
    for name, column in columns.items():
        if name not in record:
            required = not column.nullable and column.server_default is None
            if required and not partial and not (column.primary_key and column.autoincrement):
                problems.append((ref, name, "is required"))
            continue
        value = record[name]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            if not column.nullable:
                problems.append((ref, name, "is required (must not be null)"))
            clean[name] = None
            continue
        value, problem = _coerce(value, column)
        if problem:
            problems.append((ref, name, problem))
            continue
        vocabulary = VOCABULARIES.get((layer, name))
        if vocabulary and value not in vocabulary:
            problems.append((ref, name, f"'{value}' is not one of {', '.join(vocabulary)}"))
        if name in NON_NEGATIVE and value < 0:
            problems.append((ref, name, f"must not be negative (got {value})"))
        if name in POSITIVE and value <= 0:
            problems.append((ref, name, f"must be greater than 0 (got {value})"))
        clean[name] = value
    if layer == "roads" and ("code" in clean or "road_class" in clean) and not partial:
        problem = domain.road_code_problem(clean.get("road_class", ""), clean.get("code"))
        if problem:
            problems.append((ref, "code", problem))
    return clean, problems


def validate_records(
    table: Table, records: Iterable[Mapping[str, Any]], *, partial: bool = False
) -> list[dict[str, Any]]:
    """Validate a batch; raise one :class:`ValidationError` listing every problem found."""
    cleaned: list[dict[str, Any]] = []
    problems: list[tuple[str | int | None, str, str]] = []
    for index, record in enumerate(records):
        ref = record.get("id", f"#{index + 1}") if isinstance(record, Mapping) else f"#{index + 1}"
        if not isinstance(record, Mapping):
            problems.append((ref, "(record)", "must be an object of field values"))
            continue
        clean, found = validate_record(table, record, ref=ref, partial=partial)
        cleaned.append(clean)
        problems += found
    if problems:
        raise ValidationError(table.name, problems)
    return cleaned
