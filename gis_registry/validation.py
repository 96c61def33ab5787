"""Validation of writes: one code path for the library, the API and file imports.

Every problem found in a batch is reported at once, each naming the record, the field and the
rule. The database then enforces the same rules again (CHECK constraints, typmods, triggers);
what slips through here is translated by :mod:`gis_registry.db.errors`.

Some rules only validation holds (the database has no equivalent):

- **Size and density of a geometry** (:class:`Limits`): the network build and the analyses
  grow with vertices, so one editor's million-vertex road must not cost every route. At most
  :data:`MAX_VERTICES` vertices per point or line geometry, :data:`MAX_AREA_VERTICES` per
  polygon (full-resolution COD-AB boundaries have tens of thousands), and a geometry of more
  than :data:`SPACING_FROM_VERTICES` vertices must average at least
  :data:`MIN_VERTEX_SPACING_M` between them, measured in metres (a local equirectangular
  projection per geometry: well under 1 % from the geodesic at these lengths).
  ``GIS_REGISTRY_MAX_VERTICES``, ``GIS_REGISTRY_MAX_AREA_VERTICES`` and
  ``GIS_REGISTRY_MIN_VERTEX_SPACING_M`` change them (:meth:`Limits.from_settings`).
- **Inside the registry's province**: given an ``extent`` (the PAO boundary's box widened by
  a margin, :func:`gis_registry.geodesy.province_extent`, computed once per batch by the
  caller), a feature outside it is refused. An empty registry has none: only lon/lat ranges.
- **Closed rings**: GeoJSON polygons whose ring does not end where it starts are refused
  (shapely would close them silently).
- **Numbers that fit their column**: ``numeric(p, s)`` and integer ranges, named by field.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import shapely
from geoalchemy2 import Geometry
from shapely.geometry.base import BaseGeometry
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
    Text,
)

from gis_registry import domain
from gis_registry.chainage import FORMS as CHAINAGE_FORMS
from gis_registry.chainage import parse_chainage
from gis_registry.errors import ValidationError

if TYPE_CHECKING:
    from gis_registry.settings import Settings

# Columns users never write: timestamps and generated measures (ids may be given).
SYSTEM_COLUMNS = {"created_at", "updated_at"}

VOCABULARIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("local_bodies", "kind"): domain.LOCAL_BODY_KINDS,
    ("roads", "road_class"): domain.ROAD_CLASSES,
    ("roads", "surface"): domain.SURFACES,
    ("roads", "owner_agency"): domain.AGENCIES,
    **{(t, "owner_agency"): domain.AGENCIES for t in domain.WATER_GEOMETRIES},
    ("bridges", "structure_type"): domain.BRIDGE_STRUCTURES,
    ("bridges", "material"): domain.BRIDGE_MATERIALS,
    **{(t, "kind"): domain.WATER_SOURCE_KINDS for t in domain.WATER_GEOMETRIES},
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


def geometry_home(layer: str | None, geom_type: str) -> str | None:
    """The layer that takes a ``geom_type`` geometry among ``layer`` and the layers it was split
    from (water sources: water_points, water_areas, water_lines), or None."""
    if layer not in domain.WATER_GEOMETRIES:
        return None
    return next(
        (t for t, (_, kinds, _) in domain.WATER_GEOMETRIES.items() if geom_type in kinds), None
    )


def _type_rule(geom_type: str, declared: str, layer: str | None) -> str:
    expected = " or ".join(sorted(_GEOM_TYPES.get(declared.upper(), set())))
    rule = f"geometry type {geom_type} is not allowed here (expected {expected})"
    home = geometry_home(layer, geom_type)
    return f"{rule}; a {geom_type} water source belongs in {home}" if home else rule


# --- Limits per geometry (defaults of the GIS_REGISTRY_* settings of the same names) ---
# OSM caps a way at 2,000 nodes; the longest demo road has a few hundred vertices.
MAX_VERTICES = 10_000
# A full-resolution COD-AB province boundary has some 50,000 vertices.
MAX_AREA_VERTICES = 250_000
# Surveyed lines rarely place vertices closer than a metre; 1 mm spacing is an artefact.
MIN_VERTEX_SPACING_M = 0.5
# A few close vertices cost nothing (OSM splits ways anywhere, a way may be 20 cm long):
# the spacing rule applies from this many vertices on.
SPACING_FROM_VERTICES = 100
# Metres per degree of latitude (and of longitude at the equator), WGS 84 mean.
_M_PER_DEGREE = 111_320.0
# Layers that define the province rather than lie in it (as the import's check).
_PROVINCE_LAYERS = frozenset({"local_bodies", "districts"})

Extent = tuple[float, float, float, float]
"""A (min lon, min lat, max lon, max lat) box features must lie in, margin included."""


@dataclass(frozen=True)
class Limits:
    """Per-geometry size and density limits (see the module docstring).

    Parameters
    ----------
    max_vertices : most vertices of a point or line geometry
    max_area_vertices : most vertices of a polygon geometry (boundaries, zones, hazards)
    min_vertex_spacing_m : least mean distance between vertices, in metres, of a geometry of
        more than :data:`SPACING_FROM_VERTICES` vertices
    """

    max_vertices: int = MAX_VERTICES
    max_area_vertices: int = MAX_AREA_VERTICES
    min_vertex_spacing_m: float = MIN_VERTEX_SPACING_M

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Limits:
        """The limits of ``settings`` (by default read from the environment, ``GIS_REGISTRY_*``).

        Reading the environment costs well under a millisecond: done once per validated batch,
        so a changed setting counts without a restart.
        """
        if settings is None:
            from gis_registry.settings import Settings

            settings = Settings()
        return cls(
            max_vertices=settings.max_vertices,
            max_area_vertices=settings.max_area_vertices,
            min_vertex_spacing_m=settings.min_vertex_spacing_m,
        )


UNLIMITED = Limits(max_vertices=2**62, max_area_vertices=2**62, min_vertex_spacing_m=0.0)
"""No vertex limits: for geometries already stored (an update that leaves them alone)."""


def writable_columns(table: Table) -> dict[str, Any]:
    """Columns a user may write, by name: all but the timestamps and generated columns."""
    return {c.name: c for c in table.columns if c.name not in SYSTEM_COLUMNS and c.computed is None}


class GeometryProblem(ValueError):
    """A geometry that can be read but is refused as given (its message is the rule)."""


def parse_geometry(value: Any) -> BaseGeometry:
    """Accept a shapely geometry, a GeoJSON mapping or string, WKT or WKB (hex).

    Raises
    ------
    GeometryProblem
        For a GeoJSON polygon with a ring that does not end where it starts (shapely would
        close it silently), naming the ring.
    """
    if isinstance(value, BaseGeometry):
        return value
    if isinstance(value, Mapping):
        _require_closed_rings(value)
        return shapely.geometry.shape(value)
    if isinstance(value, bytes):
        return shapely.from_wkb(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            mapping = json.loads(text)
            _require_closed_rings(mapping)
            return shapely.geometry.shape(mapping)
        if all(ch in "0123456789abcdefABCDEF" for ch in text[:16]) and len(text) > 16:
            return shapely.from_wkb(text)
        try:
            return shapely.from_wkt(text)
        except shapely.errors.GEOSException as exc:
            if "closed" in str(exc):  # GEOS: "Points of LinearRing do not form a closed ..."
                raise GeometryProblem(
                    "a ring of the polygon is not closed: its last point must repeat its first"
                ) from None
            raise
    raise TypeError(f"cannot read a geometry from {type(value).__name__}")


def _require_closed_rings(mapping: Mapping[str, Any]) -> None:
    """Raise :class:`GeometryProblem` naming the first ring of a GeoJSON (Multi)Polygon whose
    last position is not its first (RFC 7946, 3.1.6); other shapes are left to shapely."""
    kind = mapping.get("type")
    if kind == "GeometryCollection":
        for part in mapping.get("geometries") or ():
            if isinstance(part, Mapping):
                _require_closed_rings(part)
        return
    coordinates = mapping.get("coordinates")
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon":
        polygons = list(coordinates or ())
    else:
        return
    for p, polygon in enumerate(polygons, start=1):
        for r, ring in enumerate(polygon or (), start=1):
            if not isinstance(ring, (list, tuple)) or len(ring) < 2:
                continue  # shapely says what is wrong with it
            first, last = ring[0], ring[-1]
            if list(first) != list(last):
                raise GeometryProblem(
                    f"ring {r} of polygon {p} is not closed: it starts at {_position(first)} and"
                    f" ends at {_position(last)}; repeat the first position at the end"
                    " (GeoJSON, RFC 7946 3.1.6)"
                )


def _position(position: Any) -> str:
    try:
        return "(" + ", ".join(f"{float(v):g}" for v in position) + ")"
    except (TypeError, ValueError):
        return repr(position)[:40]


def _vertex_problems(geoms: Any, limits: Limits) -> dict[int, str]:
    """Position -> rule for the geometries of ``geoms`` (an array of shapely geometries, no
    None) with too many vertices, or vertices too close on average (in metres)."""
    import numpy as np

    problems: dict[int, str] = {}
    if len(geoms) == 0:
        return problems
    counts = shapely.get_num_coordinates(geoms)
    areal = np.isin(
        shapely.get_type_id(geoms),
        [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON],
    )
    most = np.where(areal, limits.max_area_vertices, limits.max_vertices)
    for i in np.flatnonzero(counts > most):
        problems[int(i)] = _too_many_rule(int(counts[i]), bool(areal[i]), limits)
    dense = np.flatnonzero((counts > SPACING_FROM_VERTICES) & (counts <= most))
    if len(dense) and limits.min_vertex_spacing_m > 0:
        spacing = _mean_spacing_m(geoms[dense])
        for i, metres in zip(dense, spacing, strict=True):
            if metres < limits.min_vertex_spacing_m:
                problems[int(i)] = (
                    f"vertices are {metres:.3g} m apart on average: at least "
                    f"{limits.min_vertex_spacing_m:g} m (GIS_REGISTRY_MIN_VERTEX_SPACING_M) for a"
                    f" geometry of more than {SPACING_FROM_VERTICES} vertices; simplify it"
                )
    return problems


def _too_many_rule(count: int, areal: bool, limits: Limits) -> str:
    most = limits.max_area_vertices if areal else limits.max_vertices
    what = "polygon" if areal else "point or line"
    setting = "GIS_REGISTRY_MAX_AREA_VERTICES" if areal else "GIS_REGISTRY_MAX_VERTICES"
    return (
        f"geometry has {count:,} vertices: at most {most:,} per {what} geometry ({setting});"
        " simplify it"
    )


def _geojson_too_big(mapping: Mapping[str, Any], limits: Limits) -> str | None:
    """The vertex-limit rule for a GeoJSON geometry over it, counted before shapely builds it
    (building a million-vertex line costs seconds; counting its positions microseconds)."""
    kind = mapping.get("type")
    coordinates: Any = mapping.get("coordinates")
    # how deep the positions lie: a line's are its items, a polygon's its rings' items...
    depth = {"LineString": 1, "MultiPoint": 1, "Polygon": 2, "MultiLineString": 2}.get(
        str(kind), 3 if kind == "MultiPolygon" else 0
    )
    try:
        if depth == 1:
            count = len(coordinates)
        elif depth == 2:
            count = sum(len(ring) for ring in coordinates)
        elif depth == 3:
            count = sum(len(ring) for polygon in coordinates for ring in polygon)
        else:
            return None  # a point, or a type no layer takes (refused by type)
    except TypeError:
        return None  # malformed: shapely says how
    areal = kind in ("Polygon", "MultiPolygon")
    most = limits.max_area_vertices if areal else limits.max_vertices
    return _too_many_rule(count, areal, limits) if count > most else None


def _mean_spacing_m(geoms: Any) -> Any:
    """Mean distance between consecutive vertices of each geometry, in metres.

    Every line and ring is measured segment by segment in a local equirectangular projection
    around its geometry's mid-latitude (within 0.1 % of the geodesic over a few kilometres at
    Thailand's latitudes), all at once in numpy; the total is divided by the segments (the
    vertices less one per line or ring). Points measure 0.
    """
    import numpy as np

    bounds = shapely.bounds(geoms)
    cos_lat = np.cos(np.radians((bounds[:, 1] + bounds[:, 3]) / 2))
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    polygonal = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    rings, ring_of = shapely.get_rings(parts[polygonal], return_index=True)
    lines = np.concatenate([parts[~polygonal], rings])
    line_of = np.concatenate([part_of[~polygonal], part_of[polygonal][ring_of]])
    coords, index = shapely.get_coordinates(lines, return_index=True)
    same = index[1:] == index[:-1]  # a segment joins two vertices of one line or ring
    owner = line_of[index[1:][same]]
    dx = np.diff(coords[:, 0])[same] * cos_lat[owner]
    dy = np.diff(coords[:, 1])[same]
    length = np.bincount(owner, weights=np.hypot(dx, dy), minlength=len(geoms))
    segments = np.bincount(owner, minlength=len(geoms))
    return length * _M_PER_DEGREE / np.maximum(segments, 1)


def _outside(bounds: Any, extent: Extent) -> Any:
    """Mask of the boxes (rows of min x, min y, max x, max y) not within ``extent``."""
    import numpy as np

    bounds = np.asarray(bounds, dtype=float).reshape(-1, 4)
    return (
        (bounds[:, 0] < extent[0])
        | (bounds[:, 1] < extent[1])
        | (bounds[:, 2] > extent[2])
        | (bounds[:, 3] > extent[3])
    )


def _outside_rule(extent: Extent) -> str:
    return (
        "lies outside the registry's province (longitude "
        f"{extent[0]:.3f} to {extent[2]:.3f}, latitude {extent[1]:.3f} to {extent[3]:.3f}, margin"
        " included): latitude and longitude swapped, or a place in another province?"
    )


def _geometry_problem(
    geom: BaseGeometry,
    declared: str,
    limits: Limits | None = None,
    extent: Extent | None = None,
    layer: str | None = None,
) -> str | None:
    allowed = _GEOM_TYPES.get(declared.upper(), set())
    if geom.geom_type not in allowed:
        return _type_rule(geom.geom_type, declared, layer)
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
    if limits is not None:
        import numpy as np

        problem = _vertex_problems(np.array([geom], dtype=object), limits).get(0)
        if problem:
            return problem
    if extent is not None and _outside(geom.bounds, extent)[0]:
        return _outside_rule(extent)
    if not geom.is_valid:
        return f"geometry is invalid: {shapely.is_valid_reason(geom)}"
    return None


# Whole-number columns' ranges (PostgreSQL smallint, integer, bigint).
_INTEGER_MAX = ((SmallInteger, 2**15 - 1), (BigInteger, 2**63 - 1), (Integer, 2**31 - 1))


def number_range_problem(number: float, kind: Any) -> str | None:
    """Why ``number`` does not fit the column type ``kind`` (numeric(p, s), an integer), or
    None when it fits: the rule validation holds, and how a database refusal names its field
    (:mod:`gis_registry.db.errors`)."""
    if isinstance(kind, Numeric) and not isinstance(kind, Float) and kind.precision:
        scale = kind.scale or 0
        whole = kind.precision - scale
        if abs(round(number, scale)) >= 10**whole:
            return (
                f"{number:g} is out of range: numeric({kind.precision}, {scale}) holds values"
                f" below 10^{whole} (at most {whole} digits before the decimal point)"
            )
        return None
    for integer, largest in _INTEGER_MAX:
        if isinstance(kind, integer):
            if not -largest - 1 <= number <= largest:
                return f"{number:g} is out of range: at most {largest:,} for this field"
            return None
    return None


def _coerce(
    value: Any, column: Any, limits: Limits | None = None, extent: Extent | None = None
) -> tuple[Any, str | None]:
    """Coerce ``value`` to the column's Python type; return (value, problem)."""
    kind = column.type
    try:
        if isinstance(kind, Geometry):
            if limits is not None and isinstance(value, Mapping):
                early = _geojson_too_big(value, limits)
                if early:
                    return None, early
            geom = parse_geometry(value)
            layer = column.table.name  # a column of writable_columns(table)
            problem = _geometry_problem(
                geom, kind.geometry_type or "GEOMETRY", limits, extent, layer
            )
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
            whole = int(value)
            problem = number_range_problem(whole, kind)
            return (None, problem) if problem else (whole, None)
        if isinstance(kind, (Float, Numeric)):
            number = parse_chainage(value) if _is_chainage(column) else float(value)
            if not math.isfinite(number):
                return None, f"'{value}' is not a finite number"
            problem = number_range_problem(number, kind)
            return (None, problem) if problem else (number, None)
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
    except GeometryProblem as exc:
        return None, str(exc)
    except (TypeError, ValueError, KeyError, AttributeError, shapely.errors.ShapelyError) as exc:
        # malformed GeoJSON (missing keys, wrong nesting) or WKT/WKB that GEOS cannot read;
        # the value is echoed shortened (it may be a 20 MB geometry)
        return None, f"'{_shorten(value)}' cannot be read as {kind}: {exc}"
    return value, None


def _shorten(value: Any, most: int = 80) -> str:
    text = str(value)
    return text if len(text) <= most else f"{text[: most - 3]}..."


def validate_record(
    table: Table,
    record: Mapping[str, Any],
    *,
    ref: str | int | None,
    partial: bool = False,
    limits: Limits | None = None,
    extent: Extent | None = None,
) -> tuple[dict[str, Any], list[tuple[str | int | None, str, str]]]:
    """Check and coerce one record. ``partial`` validates an update (only the given fields).

    ``limits`` bound each geometry's vertices (none when None: :func:`validate_records`
    passes the settings'); ``extent`` is the box of the registry's province, margin included
    (:func:`gis_registry.geodesy.province_extent`), or None to check lon/lat ranges only.
    """
    layer = table.name
    if layer in _PROVINCE_LAYERS:
        extent = None
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
        value, problem = _coerce(value, column, limits, extent)
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
    table: Table,
    records: Iterable[Mapping[str, Any]],
    *,
    partial: bool = False,
    limits: Limits | None = None,
    extent: Extent | None = None,
) -> list[dict[str, Any]]:
    """Validate a batch; raise one :class:`ValidationError` listing every problem found.

    Parameters
    ----------
    table : the layer's table
    records : field -> value mappings; a record's ``id`` (else ``#n``) names it in problems
    partial : validate only the fields given (an update)
    limits : vertex limits; by default :meth:`Limits.from_settings` (read once per batch)
    extent : the province's box with its margin (:func:`gis_registry.geodesy.province_extent`,
        computed once per batch by the caller); None checks only lon/lat ranges
    """
    limits = limits if limits is not None else Limits.from_settings()
    cleaned: list[dict[str, Any]] = []
    problems: list[tuple[str | int | None, str, str]] = []
    for index, record in enumerate(records):
        ref = record.get("id", f"#{index + 1}") if isinstance(record, Mapping) else f"#{index + 1}"
        if not isinstance(record, Mapping):
            problems.append((ref, "(record)", "must be an object of field values"))
            continue
        clean, found = validate_record(
            table, record, ref=ref, partial=partial, limits=limits, extent=extent
        )
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
    table: Table,
    frame: Any,
    *,
    resolved_later: Iterable[str] = (),
    limits: Limits | None = None,
    extent: Extent | None = None,
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
    limits
        Vertex limits per geometry; by default :meth:`Limits.from_settings`.
    extent
        The province's box with its margin (:func:`gis_registry.geodesy.province_extent`), or
        None. File imports leave it None: they check every feature against the province's
        boundary itself, in SQL (``gis_registry.io.load``), after reprojection.

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
    limits = limits if limits is not None else Limits.from_settings()
    if table.name in _PROVINCE_LAYERS:
        extent = None
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
        value, bad, rule = _coerce_series(raw, column, missing, limits, extent)
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


def _coerce_series(
    raw: Any, column: Any, missing: Any, limits: Limits, extent: Extent | None
) -> tuple[Any, Any, Any]:
    """A column's values as the column's type, the mask of refused values and their rule
    ((position, value) -> text)."""
    import numpy as np
    import pandas as pd

    kind = column.type
    if isinstance(kind, Geometry):
        declared = (kind.geometry_type or "GEOMETRY").upper()
        layer = column.table.name  # a column of writable_columns(table)
        return _coerce_geometries(raw, declared, missing, limits, extent, layer)
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
        finite = np.where(np.isfinite(array), array, 0.0)
        too_big = ~missing & ~bad & _out_of_range(finite, kind)

        def rule(_: int, v: Any, whole: bool = isinstance(kind, Integer)) -> str:
            number = _number_or_nan(v)
            if math.isfinite(number):
                if whole and not number.is_integer():
                    return f"'{v}' is not a whole number"
                return number_range_problem(number, kind) or f"'{v}' is out of range"
            return f"'{v}' is not a whole number" if whole else f"'{v}' is not a finite number"

        if isinstance(kind, Integer):
            fraction = np.isfinite(array) & (array != np.round(array))
            array = np.where(too_big, np.nan, array)
            value = pd.Series(array, index=raw.index).round().astype("Int64")
            value[~np.isfinite(array)] = pd.NA
            return value, bad | too_big | (~missing & fraction), rule
        array = np.where(too_big, np.nan, array)
        return pd.Series(array, index=raw.index), bad | too_big, rule
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


def _parse_or_problem(value: Any) -> BaseGeometry | GeometryProblem | None:
    """The geometry, the :class:`GeometryProblem` refusing it, or None when unreadable."""
    try:
        return parse_geometry(value)
    except GeometryProblem as exc:
        return exc
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


def _out_of_range(numbers: Any, kind: Any) -> Any:
    """Mask of the (finite) ``numbers`` that do not fit the column type ``kind``."""
    import numpy as np

    if isinstance(kind, Numeric) and not isinstance(kind, Float) and kind.precision:
        scale = kind.scale or 0
        return np.abs(np.round(numbers, scale)) >= 10.0 ** (kind.precision - scale)
    for integer, largest in _INTEGER_MAX:
        if isinstance(kind, integer):
            return (numbers < -largest - 1) | (numbers > largest)
    return np.zeros(len(numbers), dtype=bool)


def _number_or_nan(value: Any) -> float:
    try:
        return float(_number_text(value))
    except (TypeError, ValueError):
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


def _coerce_geometries(
    raw: Any,
    declared: str,
    missing: Any,
    limits: Limits,
    extent: Extent | None,
    layer: str | None = None,
) -> tuple[Any, Any, Any]:
    """Geometries checked at once; the message of :func:`_geometry_problem` for each refused one.

    A single-part Multi* where the layer takes the simple type is that part (Shapefiles write
    lines as MultiLineString); a Polygon where the layer takes MultiPolygon is promoted.
    Vertex limits and the province's extent are checked before validity, so an oversized
    geometry costs no GEOS validity check.
    """
    import numpy as np
    import pandas as pd

    rules: dict[int, str] = {}
    if raw.map(lambda v: isinstance(v, (str, bytes, Mapping))).any():
        parsed = [_parse_or_problem(v) if isinstance(v, (str, bytes, Mapping)) else v for v in raw]
        for i, item in enumerate(parsed):
            if isinstance(item, GeometryProblem):
                rules[i] = str(item)
                parsed[i] = None
        values = np.array(parsed, dtype=object)
    else:
        values = np.asarray(raw, dtype=object)
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
    checked = np.flatnonzero(fine)
    for position, rule in _vertex_problems(geoms[checked], limits).items():
        rules[int(checked[position])] = rule
        fine[checked[position]] = False
    if extent is not None:
        far = fine & _outside(np.where(np.isfinite(bounds), bounds, 0.0), extent)
        for at in np.flatnonzero(far):
            rules[int(at)] = _outside_rule(extent)
        fine &= ~far
    fine[fine] = shapely.is_valid(geoms[fine])
    present = ~np.asarray(missing, dtype=bool) & (geoms != None)  # noqa: E711 - elementwise
    bad = present & ~fine
    for at in np.flatnonzero(bad):
        if int(at) not in rules:
            rules[int(at)] = (
                _geometry_problem(geoms[at], declared, layer=layer) or "geometry cannot be read"
            )
    unreadable = ~np.asarray(missing, dtype=bool) & (geoms == None)  # noqa: E711
    for at in np.flatnonzero(unreadable):
        rules.setdefault(int(at), "cannot be read as a geometry (WKT, WKB or GeoJSON)")
    series = pd.Series(geoms, index=raw.index, dtype=object)
    series[bad | unreadable] = None
    return series, bad | unreadable, lambda position, _: rules[position]
