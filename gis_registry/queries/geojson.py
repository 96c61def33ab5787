"""The SQL of GeoJSON reads: the database writes the GeoJSON, callers pass the bytes on.

Every identifier comes from the catalogue (:mod:`gis_registry.catalog`); every value is a bound
parameter. A query is a (text, params) pair usable by raw psycopg (the web service's async pool)
and by a SQLAlchemy connection (``exec_driver_sql``) alike; equal shapes give equal text (cached
here), so the server prepares each shape once per connection.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from psycopg import sql

from gis_registry.catalog import Layer
from gis_registry.errors import InvalidParameter
from gis_registry.queries.crs import DEFAULT, Crs

# a page's filters, re-exported: one import gives the whole read statement's builder
from gis_registry.queries.filters import Filter, bbox_filter, datetime_filter, property_filter
from gis_registry.queries.filters import col as _col

__all__ = [
    "Filter",
    "as_of_query",
    "bbox_filter",
    "datetime_filter",
    "feature_query",
    "feature_sql",
    "features_query",
    "geometry_sql",
    "page_query",
    "property_filter",
    "version_query",
]


def geometry_sql(column: str, crs: Crs) -> sql.Composable:
    """A geometry column as GeoJSON text in ``crs`` (axis order and decimals of the CRS)."""
    expr: sql.Composable = _col(column)
    if crs.srid != 4326:
        expr = sql.SQL("ST_Transform({}, {})").format(expr, sql.Literal(crs.srid))
    if crs.flip:
        expr = sql.SQL("ST_FlipCoordinates({})").format(expr)
    return sql.SQL("ST_AsGeoJSON({}, {}, 0)").format(expr, sql.Literal(crs.digits))


def feature_sql(c: Layer, crs: Crs = DEFAULT) -> sql.Composable:
    """One row's GeoJSON Feature as text, built by concatenation (no re-parsing of geometry)."""
    members: list[sql.Composable] = [_col(name) for name in c.properties]
    for name in c.other_geometries:
        members.append(
            sql.SQL("{}::json AS {}").format(geometry_sql(name, crs), sql.Identifier(name))
        )
    geometry = (
        sql.SQL("coalesce({}, 'null')").format(geometry_sql(c.geometry, crs))
        if c.geometry
        else sql.SQL("'null'")
    )
    return sql.SQL(
        '\'{{"type":"Feature","id":\' || to_json({key})::text || \',"geometry":\' || {geom}'
        " || ',\"properties\":' || row_to_json((SELECT p FROM (SELECT {props}) AS p))::text"
        " || '}}'"
    ).format(key=_col(c.key), geom=geometry, props=sql.SQL(", ").join(members))


# -- statements ------------------------------------------------------------------------------
def _table(c: Layer) -> sql.Composable:
    return sql.SQL("{} AS t").format(sql.Identifier(c.table.name))


@lru_cache(maxsize=512)
def _page_text(c: Layer, crs: Crs, where: str, count: str) -> str:
    """The page statement; ``count`` is 'none' or 'capped' (count the matches up to a cap)."""
    feature, key, table = feature_sql(c, crs), _col(c.key), _table(c)
    where_sql = sql.SQL(where)
    aggregate = sql.SQL(
        "count(*), convert_to(coalesce(string_agg(p.f, ',' ORDER BY p.k), ''), 'UTF8')"
    )
    and_ = sql.SQL(" AND ") if where else sql.SQL(" WHERE ")
    if count == "none":
        statement = sql.SQL(
            "SELECT NULL::bigint, {aggregate} FROM (SELECT {feature} AS f, {key} AS k"
            " FROM {table}{where} ORDER BY {key} LIMIT %s OFFSET %s) AS p"
        )
    else:
        # One filtered scan serves both the count and the page: the matching keys (up to the
        # cap) are kept, counted, sorted, and only the page's rows are read again, by key. The
        # second branch (the page from a scan in key order) runs only when the matches exceed
        # the cap; the other is then skipped (one-time filters on the count).
        statement = sql.SQL(
            "WITH m AS MATERIALIZED (SELECT {key} AS k FROM {table}{where} LIMIT %s),"
            " n AS (SELECT count(*) AS c FROM m),"
            " ids AS ("
            "(SELECT m.k FROM m WHERE (SELECT c FROM n) <= %s ORDER BY m.k LIMIT %s OFFSET %s)"
            " UNION ALL"
            " (SELECT {key} FROM {table}{where}{and_}(SELECT c FROM n) > %s"
            " ORDER BY {key} LIMIT %s OFFSET %s))"
            " SELECT (SELECT c FROM n), {aggregate} FROM ("
            "SELECT {feature} AS f, {key} AS k FROM {table} JOIN ids ON {key} = ids.k) AS p"
        )
    return statement.format(
        aggregate=aggregate, feature=feature, key=key, table=table, where=where_sql, and_=and_
    ).as_string(None)


def page_query(
    c: Layer,
    f: Filter,
    *,
    limit: int,
    offset: int,
    crs: Crs = DEFAULT,
    count_cap: int | None,
) -> tuple[str, list[Any]]:
    """(text, params) of one page: a row (matched or NULL, returned, features joined by ',').

    ``count_cap``: count the matching features up to this many (+1 to tell 'more'), or None to
    leave the count out.
    """
    where = f.sql().as_string(None)
    if count_cap is None:
        return _page_text(c, crs, where, "none"), [*f.params, limit, offset]
    page = [count_cap, limit, offset]
    params = [*f.params, count_cap + 1, *page, *f.params, *page]
    return _page_text(c, crs, where, "capped"), params


@lru_cache(maxsize=128)
def _feature_text(c: Layer, crs: Crs) -> str:
    return (
        sql.SQL("SELECT convert_to({feature}, 'UTF8'), t.xmin::text FROM {table} WHERE {key} = %s")
        .format(feature=feature_sql(c, crs), table=_table(c), key=_col(c.key))
        .as_string(None)
    )


def feature_query(c: Layer, key: Any, crs: Crs = DEFAULT) -> tuple[str, list[Any]]:
    """(text, params) of one feature: a row (GeoJSON text, version) or none."""
    return _feature_text(c, crs), [key]


@lru_cache(maxsize=128)
def _features_text(c: Layer, crs: Crs) -> str:
    return (
        sql.SQL(
            "SELECT {key}, convert_to({feature}, 'UTF8'), t.xmin::text FROM {table}"
            " WHERE {key} = ANY(%s::{keys})"
        )
        .format(
            feature=feature_sql(c, crs),
            table=_table(c),
            key=_col(c.key),
            keys=sql.SQL("bigint[]" if c.key_is_int else "text[]"),
        )
        .as_string(None)
    )


def features_query(c: Layer, keys: list[Any], crs: Crs = DEFAULT) -> tuple[str, list[Any]]:
    """(text, params) of several features by key: a row (key, GeoJSON text, version) for each
    one that exists (the coalesced reads of the web service's ``api.batch``)."""
    return _features_text(c, crs), [keys]


def version_query(c: Layer, key: Any, *, lock: bool = False) -> tuple[str, list[Any]]:
    """The row version (behind the ETag) of one feature, optionally locking the row."""
    text = sql.SQL("SELECT t.xmin::text FROM {table} WHERE {key} = %s{lock}").format(
        table=_table(c), key=_col(c.key), lock=sql.SQL(" FOR UPDATE" if lock else "")
    )
    return text.as_string(None), [key]


def as_of_query(
    c: Layer,
    at: dt.datetime,
    f: Filter,
    *,
    limit: int | None,
    offset: int,
    records_sql: str,
) -> tuple[str, dict[str, Any]]:
    """A page of the layer as it was at ``at``, rebuilt from the history.

    Parameters
    ----------
    c, at : the layer and the moment
    f : must be empty (a past state is read whole)
    limit, offset : the page (``limit`` None: every feature)
    records_sql : SQL selecting ``rec`` (jsonb) and ``fid`` (text) of every record of the layer
        at ``%(at)s``: :func:`gis_registry.history.layer_as_of_sql`, given by the caller since
        the history sits above the queries
    """
    if f.parts:
        raise InvalidParameter("at", "reading a past state takes no other filter than bbox")
    strip = sql.SQL("").join(sql.SQL(" - {}").format(sql.Literal(g)) for g in c.geometries)
    geometry = (
        sql.SQL("coalesce((s.rec -> {g}) - 'crs', 'null'::jsonb)").format(g=sql.Literal(c.geometry))
        if c.geometry
        else sql.SQL("'null'::jsonb")
    )
    statement = sql.SQL(
        "SELECT NULL::bigint, count(*),"
        " convert_to(coalesce(string_agg(p.f, ',' ORDER BY p.k), ''), 'UTF8') FROM ("
        "SELECT jsonb_build_object('type', 'Feature', 'id', s.rec -> {key}, 'geometry', {geom},"
        " 'properties', s.rec{strip})::text AS f, s.fid AS k"
        " FROM ({inner}) AS s ORDER BY s.fid LIMIT %(limit)s OFFSET %(offset)s) AS p"
    ).format(
        key=sql.Literal(c.key),
        geom=geometry,
        strip=strip,
        inner=sql.SQL(records_sql),  # SQL built of the catalogue's names, never of input
    )
    params = {"layer": c.id, "at": at, "limit": limit, "offset": offset}
    return statement.as_string(None), params
