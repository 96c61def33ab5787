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
from gis_registry.chainage import FORMS as CHAINAGE_FORMS
from gis_registry.chainage import parse_chainage
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
NON_NEGATIVE = {
    "population",
    "households",
    "capacity_m3",
    "households_served",
    "cost_thb",
    "chainage_m",
    "chainage_start_m",
    "chainage_end_m",
}
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
            number = parse_chainage(value) if _is_chainage(column) else float(value)
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


# --- Bulk: the same rules over a whole frame at once (file imports of a million records) ---

_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}
# A year this large is a Buddhist Era year (BE = CE + 543), as Thai offices write dates.
BE_YEAR_FROM = 2400


def validate_frame(
    table: Table, frame: Any, *, resolved_later: Iterable[str] = ()
) -> tuple[Any, list[tuple[int, str, Any, str]]]:
    """Check and coerce every record of a DataFrame at once, with the rules of
    :func:`validate_record` (types, vocabularies, ranges, geometry, road codes).

    Parameters
    ----------
    table
        The layer's table.
    frame
        A pandas DataFrame whose columns are fields of ``table`` (others are left alone);
        geometry columns hold shapely geometries in EPSG:4326; its index numbers the records.
    resolved_later
        Columns the caller fills afterwards (ids found from codes): not required here.

    Returns
    -------
    DataFrame, list
        The coerced frame (values the database takes; refused values become missing) and the
        problems as ``(record index, field, value, rule)``.
    """
    import numpy as np
    import pandas as pd

    columns = writable_columns(table)
    later = set(resolved_later)
    out = pd.DataFrame(index=frame.index)
    problems: list[tuple[int, str, Any, str]] = []

    def refuse(mask: Any, name: str, values: Any, rule: Any) -> None:
        """Record a problem for every masked position; ``rule`` is text or (position, value)
        -> text."""
        for position in np.flatnonzero(np.asarray(mask, dtype=bool)):
            value = values.iloc[position]
            text = rule(int(position), value) if callable(rule) else rule
            problems.append((int(frame.index[position]), name, value, text))

    for name, column in columns.items():
        if name not in frame.columns:
            required = not column.nullable and column.server_default is None
            if required and not (column.primary_key and column.autoincrement) and name not in later:
                problems.extend((int(index), name, None, "is required") for index in frame.index)
            continue
        raw = frame[name]
        missing = _blank(raw)
        if not column.nullable and name not in later:
            refuse(missing, name, raw, "is required (must not be null)")
        value, bad, rule = _coerce_series(raw, column, missing)
        refuse(bad, name, raw, rule)
        present = ~missing & ~bad
        vocabulary = VOCABULARIES.get((table.name, name))
        if vocabulary:
            outside = present & ~np.asarray(value.isin(vocabulary))
            refuse(
                outside, name, raw, lambda _, v, w=vocabulary: f"'{v}' is not one of {', '.join(w)}"
            )
        if name in NON_NEGATIVE or name in POSITIVE:
            numbers = pd.to_numeric(value, errors="coerce").to_numpy(dtype=float)
            low = numbers <= 0 if name in POSITIVE else numbers < 0
            limit = "must be greater than 0" if name in POSITIVE else "must not be negative"
            refuse(present & low, name, raw, lambda _, v, r=limit: f"{r} (got {v})")
        out[name] = value
    if table.name == "roads" and "road_class" in out.columns:
        codes = out.get("code", pd.Series(None, index=out.index, dtype=object))
        pairs = pd.DataFrame({"c": out["road_class"], "k": codes}).astype(object)
        verdicts = {
            key: domain.road_code_problem(key[0] or "", key[1])
            for key in set(zip(pairs["c"], pairs["k"], strict=True))
            if key[0] is not None
        }
        rule_of = [verdicts.get((c, k)) for c, k in zip(pairs["c"], pairs["k"], strict=True)]
        bad_codes = np.array([r is not None for r in rule_of], dtype=bool)
        for index in np.flatnonzero(bad_codes):
            problems.append(
                (int(frame.index[index]), "code", codes.iloc[index], str(rule_of[index]))
            )
    return out, problems


def _coerce_series(raw: Any, column: Any, missing: Any) -> tuple[Any, Any, Any]:
    """A column's values as the column's type, the mask of refused values and their rule
    ((position, value) -> text)."""
    import numpy as np
    import pandas as pd

    kind = column.type
    if isinstance(kind, Geometry):
        return _coerce_geometries(raw, (kind.geometry_type or "GEOMETRY").upper(), missing)
    if isinstance(kind, Boolean):
        text = raw.map(lambda v: str(v).strip().lower() if not isinstance(v, bool) else v)
        value = text.map(
            lambda v: v if isinstance(v, bool) else (v in _TRUE if v in _TRUE | _FALSE else None)
        )
        bad = ~missing & value.isna().to_numpy()
        return value.astype(object), bad, lambda _, v: f"'{v}' is not true or false"
    if _is_chainage(column):
        array = raw.map(_chainage_or_nan).to_numpy(dtype=float)
        bad = ~missing & ~np.isfinite(array)
        return (
            pd.Series(array, index=raw.index),
            bad,
            lambda _, v: f"'{v}' is not a chainage ({CHAINAGE_FORMS})",
        )
    if isinstance(kind, (Integer, SmallInteger, Float, Numeric)):
        numbers = pd.to_numeric(raw.map(_number_text), errors="coerce")
        array = numbers.to_numpy(dtype=float)
        bad = ~missing & ~np.isfinite(array)
        if isinstance(kind, (Integer, SmallInteger)):
            fraction = np.isfinite(array) & (array != np.round(array))
            value = pd.Series(array, index=raw.index).round().astype("Int64")
            value[~np.isfinite(array)] = pd.NA
            return value, bad | (~missing & fraction), lambda _, v: f"'{v}' is not a whole number"
        return pd.Series(array, index=raw.index), bad, lambda _, v: f"'{v}' is not a finite number"
    if isinstance(kind, (Date, DateTime)):
        value = raw.map(lambda v: _date(v, isinstance(kind, DateTime)))
        bad = ~missing & value.isna().to_numpy()
        return value, bad, lambda _, v: f"'{v}' is not a date (YYYY-MM-DD, CE or BE)"
    nothing = np.zeros(len(raw), dtype=bool)
    if isinstance(kind, Text):
        if isinstance(raw.dtype, pd.StringDtype):
            return raw.str.strip().astype(object), nothing, ""
        return raw.map(as_text), nothing, ""
    return raw, nothing, ""


def _parse_or_none(value: Any) -> BaseGeometry | None:
    try:
        return parse_geometry(value)
    except (TypeError, ValueError, KeyError, AttributeError, shapely.errors.ShapelyError):
        return None


def _blank(series: Any) -> Any:
    """Missing values: null, NaN, NaT, or text that is only spaces."""
    import numpy as np
    import pandas as pd

    if (
        isinstance(series.dtype, pd.api.extensions.ExtensionDtype)
        and series.dtype.name == "geometry"
    ):
        return np.asarray(series.isna(), dtype=bool)
    if isinstance(series.dtype, pd.StringDtype):
        return np.asarray(series.isna() | (series.str.strip() == ""), dtype=bool)
    if series.dtype != object:
        return np.asarray(series.isna(), dtype=bool)
    return np.asarray(series.map(_is_blank), dtype=bool)


def _is_blank(value: Any) -> bool:
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    try:
        return bool(value != value)  # NaN, NaT, pd.NA
    except (TypeError, ValueError):
        return False


def _is_chainage(column: Any) -> bool:
    """Chainage columns also take the written form, ``กม. 688+210``."""
    return str(getattr(column, "name", "")).startswith("chainage")


def _chainage_or_nan(value: Any) -> float:
    try:
        return parse_chainage(value) if not _is_blank(value) else float("nan")
    except ValueError:
        return float("nan")


def _number_text(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(",", "").strip()
    if isinstance(value, bool):
        return float("nan")
    return value


def as_text(value: Any) -> Any:
    """Text as given; numbers a reader typed as numbers (a code 520101) back to text."""
    if value is None or isinstance(value, str):
        return value.strip() if isinstance(value, str) else value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)


def _date(value: Any, with_time: bool) -> Any:
    """A date from ISO text or a date/datetime; a year from 2400 is Buddhist Era."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        if isinstance(value, dt.datetime):
            parsed: Any = value
        elif isinstance(value, dt.date):
            parsed = value
        else:
            text = str(value).strip()
            year = int(text[:4]) if text[:4].isdigit() else 0
            if year >= BE_YEAR_FROM:
                text = f"{year - 543:04d}{text[4:]}"
            parsed = (
                dt.datetime.fromisoformat(text) if with_time else dt.date.fromisoformat(text[:10])
            )
        if isinstance(parsed, dt.datetime) and not with_time:
            parsed = parsed.date()
        if parsed.year >= BE_YEAR_FROM:
            parsed = parsed.replace(year=parsed.year - 543)
        return parsed
    except (ValueError, TypeError):
        return None


def _coerce_geometries(raw: Any, declared: str, missing: Any) -> tuple[Any, Any, Any]:
    """Geometries checked at once; the message of :func:`_geometry_problem` for each refused one.

    A single-part Multi* where the layer takes the simple type is that part (Shapefiles write
    lines as MultiLineString); a Polygon where the layer takes MultiPolygon is promoted.
    """
    import numpy as np
    import pandas as pd

    values = np.array(
        [_parse_or_none(v) if isinstance(v, (str, bytes, Mapping)) else v for v in raw]
        if raw.map(lambda v: isinstance(v, (str, bytes, Mapping))).any()
        else np.asarray(raw, dtype=object),
        dtype=object,
    )
    geoms = np.where(np.asarray(pd.isna(values), dtype=bool), None, values)  # type: ignore[call-overload]
    kinds = shapely.get_type_id(geoms)
    single = shapely.get_num_geometries(geoms) == 1
    kind = shapely.GeometryType
    if declared in ("POINT", "LINESTRING"):
        multi = kind.MULTIPOINT if declared == "POINT" else kind.MULTILINESTRING
        unwrap = (kinds == multi) & single
        geoms[unwrap] = shapely.get_geometry(geoms[unwrap], 0)
    if declared == "MULTIPOLYGON":
        promote = kinds == kind.POLYGON
        geoms[promote] = shapely.multipolygons(geoms[promote].reshape(-1, 1))
    bounds = shapely.bounds(geoms)
    allowed = [kind[name.upper()] for name in _GEOM_TYPES[declared]]
    type_ok = np.isin(shapely.get_type_id(geoms), allowed)
    fine = (
        type_ok
        & ~shapely.is_empty(geoms)
        & np.isfinite(bounds).all(axis=1)
        & (np.abs(bounds[:, [0, 2]]) <= 180).all(axis=1)
        & (np.abs(bounds[:, [1, 3]]) <= 90).all(axis=1)
        & ~shapely.has_z(geoms)
    )
    fine[fine] = shapely.is_valid(geoms[fine])
    present = ~np.asarray(missing, dtype=bool) & (geoms != None)  # noqa: E711 - elementwise
    bad = present & ~fine
    rules = {
        int(i): _geometry_problem(geoms[i], declared) or "geometry cannot be read"
        for i in np.flatnonzero(bad)
    }
    unreadable = ~np.asarray(missing, dtype=bool) & (geoms == None)  # noqa: E711
    for i in np.flatnonzero(unreadable):
        rules[int(i)] = "cannot be read as a geometry (WKT, WKB or GeoJSON)"
    series = pd.Series(geoms, index=raw.index, dtype=object)
    series[bad | unreadable] = None
    return series, bad | unreadable, lambda position, _: rules[position]
