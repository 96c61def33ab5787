"""Reading and writing features of a layer with SQLAlchemy Core + GeoAlchemy2.

The caller owns the connection and the transaction (``conn`` first, options keyword-only).
Layers, their fields and their primary geometry come from the catalogue
(:mod:`gis_registry.catalog`), never from raw input; reads filter with the same definitions as
the web service (:mod:`gis_registry.queries.filters`, :mod:`gis_registry.queries.cql2`) and read
past states with the same statement (:func:`gis_registry.queries.geojson.as_of_query`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import orjson
import pandas as pd
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import shape
from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    DateTime,
    String,
    Table,
    and_,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.util import ClauseAdapter

from gis_registry.catalog import Layer, geometry_columns, get_layer, primary_geometry
from gis_registry.db import errors as db_errors
from gis_registry.db.tables import SRID
from gis_registry.errors import InvalidParameter, NotFound
from gis_registry.geodesy import province_extent
from gis_registry.queries.crs import Crs, parse_crs
from gis_registry.queries.filters import Filter, bbox_filter, parse_datetime, property_filter
from gis_registry.validation import UNLIMITED, Limits, validate_records

__all__ = [
    "BBox",
    "delete_feature",
    "frame_records",
    "geometry_columns",
    "insert_features",
    "layer_table",
    "read_items",
    "read_layer",
    "update_feature",
    "where_filter",
]

BBox = tuple[float, float, float, float]


def layer_table(layer: str) -> Table:
    """The table of a catalogued layer; :class:`NotFound` naming the layers otherwise."""
    return get_layer(layer).table


def _values(c: Layer, name: str, value: Any) -> list[Any]:
    """A filter value (one, or a list/tuple/set meaning 'any of') as typed values: text given
    for a non-text field is read as the web service reads a query string."""
    values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
    if not isinstance(c.table.c[name].type, String):
        values = [c.parse_value(name, v) if isinstance(v, str) else v for v in values]
    return values


def where_filter(
    c: Layer,
    *,
    bbox: Sequence[float] | None = None,
    bbox_crs: str | int | Crs | None = None,
    filters: Mapping[str, Any] | None = None,
    filter: str | Mapping[str, Any] | None = None,
    filter_lang: str = "cql2-text",
    geometry: str | None = None,
) -> Filter:
    """The conditions of a read as one :class:`~gis_registry.queries.filters.Filter` (the web
    service's): a box on ``geometry`` (the primary geometry by default), equality on fields,
    and a CQL2 filter."""
    f = Filter()
    if bbox is not None:
        bbox_filter(f, c, bbox, parse_crs(bbox_crs, "bbox-crs"), column=geometry)
    for name, value in (filters or {}).items():
        c.require_property(name)
        property_filter(f, c, name, _values(c, name, value))
    if filter is not None:
        from gis_registry.queries.cql2 import cql2_filter  # pygeofilter: only when filtering

        where, params = cql2_filter(c, filter, filter_lang)
        f.add(where, *params)
    return f


def _active_geometry(c: Layer, geometry: str | None) -> str | None:
    if geometry is None:
        return c.geometry
    if geometry not in c.geometries:
        raise InvalidParameter(
            "geometry",
            f"'{geometry}' is not a geometry column of {c.id} "
            f"({', '.join(c.geometries) or 'it has none'})",
            layer=c.id,
        )
    return geometry


def _select(
    c: Layer,
    f: Filter,
    *,
    where: ColumnElement[bool] | Sequence[ColumnElement[bool]] | None = None,
    limit: int | None = None,
    columns: Sequence[str] | None = None,
) -> Any:
    """SELECT of the layer's table aliased ``t`` (the filters' name for it), in key order."""
    t = c.table.alias("t")
    clauses: list[Any] = []
    clause = f.clause()
    if clause is not None:
        clauses.append(clause)
    if where is not None:  # expressions on the table, e.g. roads.c.width_m > 6: onto the alias
        adapter: Any = ClauseAdapter(t)  # typed for no argument: it adapts any clause
        clauses += [
            adapter.traverse(w) for w in (where if isinstance(where, (list, tuple)) else [where])
        ]
    query = select(*(t.c[name] for name in columns)) if columns else select(t)
    if clauses:
        query = query.where(and_(*clauses))
    query = query.order_by(t.c[c.key])
    if limit is not None:
        query = query.limit(int(limit))
    return query


def _frame(
    conn: Connection, c: Layer, query: Any, active: str | None, names: Sequence[str]
) -> gpd.GeoDataFrame | pd.DataFrame:
    if active is None:
        return pd.read_sql(query, conn)
    frame = gpd.read_postgis(query, conn, geom_col=active, crs=f"EPSG:{SRID}")
    for other in names:  # secondary geometries (local_bodies.office) arrive as WKB elements
        if other != active and other in frame.columns:
            frame[other] = gpd.GeoSeries(
                [None if v is None else to_shape(v) for v in frame[other]],
                index=frame.index,
                crs=f"EPSG:{SRID}",
            )
    return frame


def read_layer(
    conn: Connection,
    layer: str,
    *,
    bbox: BBox | None = None,
    where: ColumnElement[bool] | Sequence[ColumnElement[bool]] | None = None,
    filters: Mapping[str, Any] | None = None,
    limit: int | None = None,
    geometry: str | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """A layer as a GeoDataFrame in EPSG:4326 (a DataFrame for layers without geometry).

    Parameters
    ----------
    conn : an open connection
    layer : a layer of the catalogue (``gis_registry.catalog.CATALOG``)
    bbox : (minx, miny, maxx, maxy) in lon/lat; features whose ``geometry`` intersects it
    where : SQLAlchemy boolean expression(s) on the layer's table, e.g. ``roads.c.width_m > 6``
    filters : field -> value equality filters (a list means any of, None means null)
    limit : at most this many features, in id order
    geometry : which geometry column becomes the active geometry (default: the layer's primary
        geometry, ``catalog.primary_geometry``; local_bodies and districts: boundary or office)

    Raises
    ------
    NotFound
        for an unknown layer (naming the layers).
    InvalidParameter
        for an unknown field or geometry, or an impossible box (naming the valid choices).
    """
    c = get_layer(layer)
    active = _active_geometry(c, geometry)
    f = where_filter(c, bbox=bbox, filters=filters, geometry=active)
    query = _select(c, f, where=where, limit=limit)
    return _frame(conn, c, query, active, c.geometries)


def union_frames(frames: Sequence[pd.DataFrame], key: str = "id") -> pd.DataFrame:
    """The frames of a logical layer's parts (``catalog.LOGICAL_LAYERS``, e.g. the three water
    tables) as one, ordered by ``key``: a GeoDataFrame with the first part's geometry column and
    CRS when the parts are GeoDataFrames."""
    whole = pd.concat(frames, ignore_index=True).sort_values(key, ignore_index=True)
    first = frames[0]
    if isinstance(first, gpd.GeoDataFrame):
        return gpd.GeoDataFrame(whole, geometry=first.geometry.name, crs=first.crs)
    return whole


def read_items(
    conn: Connection,
    layer: str,
    *,
    filter: str | Mapping[str, Any] | None = None,
    filter_lang: str = "cql2-text",
    bbox: Sequence[float] | None = None,
    crs: str | int | None = None,
    at: str | dt.datetime | dt.date | None = None,
    limit: int | None = None,
    properties: Sequence[str] | None = None,
    records_sql: str | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Features of a layer as the web service's ``/collections/{layer}/items`` selects them.

    See :meth:`gis_registry.registry.Registry.items` for the parameters; with ``at``,
    ``records_sql`` is :func:`gis_registry.history.layer_as_of_sql` of the layer (the history
    sits above the queries, which cannot import it).
    """
    c = get_layer(layer)
    out_crs = parse_crs(crs)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidParameter("limit", f"expected a whole number >= 0, not {limit!r}", layer=c.id)
    names = None
    if properties is not None:
        if isinstance(properties, str):
            properties = [properties]
        names = [c.key, *(c.require_property(p, "properties") for p in properties)]
        names = list(dict.fromkeys(names)) + list(c.geometries)
    if at is not None:
        if filter is not None or bbox is not None:
            raise InvalidParameter(
                "at", "a past state is read whole: no filter or bbox with it", layer=c.id
            )
        if records_sql is None:
            raise ValueError("reading a past state needs records_sql (history.layer_as_of_sql)")
        frame = _read_as_of(conn, c, _instant(at), limit, records_sql)
        if names is not None:
            frame = frame[[n for n in names if n in frame.columns]]
    else:
        f = where_filter(c, bbox=bbox, filter=filter, filter_lang=filter_lang)
        query = _select(c, f, limit=limit, columns=names)
        frame = _frame(conn, c, query, c.geometry, c.geometries)
    if isinstance(frame, gpd.GeoDataFrame) and out_crs.srid != SRID:
        for name in c.other_geometries:
            if name in frame.columns:
                frame[name] = gpd.GeoSeries(frame[name], crs=f"EPSG:{SRID}").to_crs(out_crs.srid)
        frame = frame.to_crs(out_crs.srid)
    return frame


def _instant(at: str | dt.datetime | dt.date) -> dt.datetime:
    """A moment as the web service reads ``at``: a date is its midnight, no zone means UTC."""
    if isinstance(at, str):
        start, end = parse_datetime(at)
        if start is None or start != end:
            raise InvalidParameter("at", "expected one RFC 3339 date-time")
        return start
    if isinstance(at, dt.datetime):
        return at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    if isinstance(at, dt.date):
        return dt.datetime.combine(at, dt.time(), dt.UTC)
    raise InvalidParameter("at", f"expected a date-time, not {at!r}")


def _read_as_of(
    conn: Connection, c: Layer, at: dt.datetime, limit: int | None, records_sql: str
) -> gpd.GeoDataFrame | pd.DataFrame:
    """The layer as it was at ``at``, through the web service's statement (GeoJSON rows)."""
    from gis_registry.queries.geojson import as_of_query

    text, params = as_of_query(c, at, Filter(), limit=limit, offset=0, records_sql=records_sql)
    row = conn.exec_driver_sql(text, params).one()
    features = orjson.loads(b"[" + bytes(row[2]) + b"]")
    records = [feature["properties"] for feature in features]
    frame = pd.DataFrame.from_records(records, columns=list(c.properties))
    for name in c.properties:  # JSON has no dates: back to the columns' types
        kind = c.table.c[name].type
        if isinstance(kind, DateTime):
            frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
        elif isinstance(kind, Date):
            frame[name] = pd.to_datetime(frame[name], format="ISO8601").dt.date
    if c.geometry is None:
        return frame
    shapes = [None if f["geometry"] is None else shape(f["geometry"]) for f in features]
    out = gpd.GeoDataFrame(frame, geometry=shapes, crs=f"EPSG:{SRID}")
    return out.rename_geometry(c.geometry)


def frame_records(frame: pd.DataFrame, table: Table) -> list[dict[str, Any]]:
    """Rows of a (Geo)DataFrame as records for :func:`insert_features`.

    Geometries are reprojected to EPSG:4326, an active geometry column the layer does not have
    (``geometry``) becomes the layer's primary one (``geom``, ``boundary``), and missing values
    (NaN, NaT, None) become None.
    """
    if isinstance(frame, gpd.GeoDataFrame):
        if frame.crs is not None:
            frame = frame.to_crs(SRID)
        geoms = geometry_columns(table)
        if frame.geometry.name not in geoms:
            frame = frame.rename_geometry(primary_geometry(table))
    return [
        {k: (None if _is_missing(v) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays, geometries: never "missing" as a whole
        return False


def _bind(table: Table, record: dict[str, Any]) -> dict[str, Any]:
    """Geometries to EWKB elements with the layer SRID."""
    out = dict(record)
    for name in geometry_columns(table):
        if out.get(name) is not None:
            out[name] = from_shape(out[name], srid=SRID)
    return out


def insert_features(
    conn: Connection, layer: str, records: Iterable[Mapping[str, Any]]
) -> list[int]:
    """Validate and insert records; all or nothing. Returns the new ids in input order.

    Raises :class:`ValidationError` listing every problem, or :class:`ConstraintViolation`
    naming the record and the database rule it broke; nothing is written in either case.
    Geometries are held to the vertex limits of the settings
    (:class:`~gis_registry.validation.Limits`) and to the registry's province
    (:func:`~gis_registry.geodesy.province_extent`, once per call).
    """
    table = layer_table(layer)
    records = list(records)
    extent = province_extent(conn) if geometry_columns(table) else None
    clean = validate_records(table, records, limits=Limits.from_settings(), extent=extent)
    key = table.primary_key.columns.values()[0]
    ids: list[int] = []
    with conn.begin_nested():  # a savepoint: a failure leaves the caller's transaction usable
        for index, record in enumerate(clean):
            try:
                new_id = conn.execute(insert(table).values(**_bind(table, record)).returning(key))
                ids.append(new_id.scalar_one())
            except DBAPIError as exc:
                ref = records[index].get("id", f"#{index + 1}")
                translated = db_errors.translate(exc, layer, ref, record)
                if translated is None:
                    raise
                raise translated from None
    return ids


def update_feature(
    conn: Connection, layer: str, feature_id: Any, changes: Mapping[str, Any]
) -> None:
    """Validate and apply changes to one feature (the merged record is validated whole).

    The geometry limits and the province's extent apply when a geometry is changed: a stored
    feature made before a rule existed can still have its other fields edited.
    """
    table = layer_table(layer)
    key = table.primary_key.columns.values()[0]
    current = conn.execute(select(table).where(key == feature_id)).mappings().first()
    if current is None:
        raise NotFound(f"{layer} record {feature_id} does not exist")
    merged = {
        k: v
        for k, v in current.items()
        if k not in ("created_at", "updated_at") and table.c[k].computed is None
    }
    for name in geometry_columns(table):  # current geometries come back as WKB elements
        if merged.get(name) is not None and name not in changes:
            merged[name] = to_shape(merged[name])
    merged.update(changes)
    merged[key.name] = feature_id
    moved = any(name in changes for name in geometry_columns(table))
    clean = validate_records(
        table,
        [merged],
        limits=Limits.from_settings() if moved else UNLIMITED,
        extent=province_extent(conn) if moved else None,
    )[0]
    values = {k: v for k, v in clean.items() if k in changes}
    if not values:
        return
    with conn.begin_nested():
        try:
            conn.execute(update(table).where(key == feature_id).values(**_bind(table, values)))
        except DBAPIError as exc:
            translated = db_errors.translate(exc, layer, feature_id, values)
            if translated is None:
                raise
            raise translated from None


def delete_feature(conn: Connection, layer: str, feature_id: Any) -> None:
    """Delete one feature; :class:`NotFound` when there is none."""
    table = layer_table(layer)
    key = table.primary_key.columns.values()[0]
    with conn.begin_nested():
        try:
            result = conn.execute(delete(table).where(key == feature_id))
        except DBAPIError as exc:
            translated = db_errors.translate(exc, layer, feature_id)
            if translated is None:
                raise
            raise translated from None
    if result.rowcount == 0:
        raise NotFound(f"{layer} record {feature_id} does not exist")
