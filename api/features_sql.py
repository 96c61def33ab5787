"""The SQL of feature reads: the database writes the GeoJSON, the API passes the bytes on.

Every identifier comes from the collection registry (``api.collections``); every value is a
bound parameter. A query is a (text, params) pair usable by raw psycopg (async pool) and by a
SQLAlchemy connection (``exec_driver_sql``) alike; equal shapes give equal text, so the server
prepares each shape once per connection.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from psycopg import sql
from sqlalchemy import Date

from api.collections import Collection
from api.crs import DEFAULT, Crs
from api.errors import InvalidParameter


@dataclass
class Filter:
    """A WHERE clause in pieces: SQL fragments joined by AND, and their parameters in order."""

    parts: list[sql.Composable] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, part: sql.Composable, *params: Any) -> None:
        self.parts.append(part)
        self.params.extend(params)

    def sql(self) -> sql.Composable:
        if not self.parts:
            return sql.SQL("")
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(self.parts)

    def __bool__(self) -> bool:
        return bool(self.parts)


def _col(name: str) -> sql.Composable:
    return sql.SQL("t.") + sql.Identifier(name)


def geometry_sql(column: str, crs: Crs) -> sql.Composable:
    expr: sql.Composable = _col(column)
    if crs.srid != 4326:
        expr = sql.SQL("ST_Transform({}, {})").format(expr, sql.Literal(crs.srid))
    if crs.flip:
        expr = sql.SQL("ST_FlipCoordinates({})").format(expr)
    return sql.SQL("ST_AsGeoJSON({}, {}, 0)").format(expr, sql.Literal(crs.digits))


def feature_sql(c: Collection, crs: Crs = DEFAULT) -> sql.Composable:
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


# -- filters ---------------------------------------------------------------------------------
def envelope(
    bbox: tuple[float, ...], crs: Crs, parameter: str = "bbox"
) -> tuple[sql.Composable, tuple[float, float, float, float]]:
    """A box (4 or 6 numbers, in ``crs``) as SQL of a CRS84 polygon and its four parameters;
    an impossible box is refused, naming ``parameter``."""
    if len(bbox) == 6:  # minx, miny, minz, maxx, maxy, maxz: heights are not stored
        bbox = (bbox[0], bbox[1], bbox[3], bbox[4])
    minx, miny, maxx, maxy = bbox
    if crs.flip:
        minx, miny, maxx, maxy = miny, minx, maxy, maxx
    if crs.srid == 4326:
        if not (
            -180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90
        ):
            raise InvalidParameter(
                parameter, "longitudes must lie in [-180, 180], latitudes in [-90, 90]"
            )
        if miny > maxy:
            raise InvalidParameter(parameter, "the lower latitude is above the upper one")
        if minx > maxx:  # crossing the antimeridian: Thailand is far from it
            raise InvalidParameter(parameter, "boxes crossing the antimeridian are not supported")
        env = sql.SQL("ST_MakeEnvelope(%s, %s, %s, %s, 4326)")
    else:
        if minx > maxx or miny > maxy:
            raise InvalidParameter(parameter, "expected minx, miny, maxx, maxy with min <= max")
        if max(abs(v) for v in (minx, miny, maxx, maxy)) > 1e8:
            raise InvalidParameter(parameter, "coordinates out of range for this CRS")
        env = sql.SQL("ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, {}), 4326)").format(
            sql.Literal(crs.srid)
        )
    return env, (minx, miny, maxx, maxy)


def bbox_filter(f: Filter, c: Collection, bbox: tuple[float, ...], bbox_crs: Crs) -> None:
    """Intersects a box given in ``bbox_crs``; the box is transformed, the column untouched."""
    if c.geometry is None:
        raise InvalidParameter("bbox", f"collection '{c.id}' has no geometry")
    env, values = envelope(bbox, bbox_crs)
    # ST_Intersects costs a GEOS call per row; a feature whose own box lies inside the query
    # box intersects it for sure, and most features of a small box do: only the others pay.
    # (``&&`` carries the index; within CASE, ST_Intersects adds no second index scan.)
    geom = _col(c.geometry)
    f.add(
        sql.SQL(
            "{g} && {e} AND CASE WHEN {g} @ {e} THEN true ELSE ST_Intersects({g}, {e}) END"
        ).format(g=geom, e=env),
        *values * 3,
    )


def property_filter(f: Filter, c: Collection, name: str, values: list[Any]) -> None:
    if len(values) == 1:
        f.add(sql.SQL("{} = %s").format(_col(name)), values[0])
    else:
        f.add(sql.SQL("{} = ANY(%s)").format(_col(name)), values)


def parse_datetime(value: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """An RFC 3339 instant or interval (``a/b``, ``../b``, ``a/..``) as (start, end)."""

    def one(text: str) -> dt.datetime | None:
        text = text.strip()
        if text in ("", ".."):
            return None
        try:
            if len(text) == 10:
                return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), dt.UTC)
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise InvalidParameter("datetime", f"'{text}' is not an RFC 3339 date-time") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

    if "/" in value:
        start_text, _, end_text = value.partition("/")
        start, end = one(start_text), one(end_text)
        if start is None and end is None:
            raise InvalidParameter("datetime", "an interval needs at least one end")
        if start and end and start > end:
            raise InvalidParameter("datetime", "the interval ends before it starts")
        return start, end
    moment = one(value)
    if moment is None:
        raise InvalidParameter("datetime", "expected a date-time or an interval")
    return moment, moment


def datetime_filter(f: Filter, c: Collection, value: str) -> None:
    if c.temporal is None:
        raise InvalidParameter("datetime", f"collection '{c.id}' has no time to filter on")
    start, end = parse_datetime(value)
    first, last = c.temporal
    is_date = isinstance(c.table.c[first].type, Date)

    def cast(moment: dt.datetime) -> Any:
        return moment.date() if is_date else moment

    begin_col = _col(first)
    end_col = sql.SQL("coalesce({}, {})").format(_col(last), begin_col) if last else begin_col
    if last:  # open-ended records (no end) last for ever
        end_col = sql.SQL("coalesce({}, 'infinity')").format(_col(last))
    if end is not None:
        f.add(sql.SQL("{} <= %s").format(begin_col), cast(end))
    if start is not None:
        f.add(sql.SQL("{} >= %s").format(end_col), cast(start))


# -- statements ------------------------------------------------------------------------------
def _table(c: Collection) -> sql.Composable:
    return sql.SQL("{} AS t").format(sql.Identifier(c.table.name))


@lru_cache(maxsize=512)
def _page_text(c: Collection, crs: Crs, where: str, count: str) -> str:
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
    c: Collection,
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
def _feature_text(c: Collection, crs: Crs) -> str:
    return (
        sql.SQL("SELECT convert_to({feature}, 'UTF8'), t.xmin::text FROM {table} WHERE {key} = %s")
        .format(feature=feature_sql(c, crs), table=_table(c), key=_col(c.key))
        .as_string(None)
    )


def feature_query(c: Collection, key: Any, crs: Crs = DEFAULT) -> tuple[str, list[Any]]:
    """(text, params) of one feature: a row (GeoJSON text, version) or none."""
    return _feature_text(c, crs), [key]


@lru_cache(maxsize=128)
def _features_text(c: Collection, crs: Crs) -> str:
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


def features_query(c: Collection, keys: list[Any], crs: Crs = DEFAULT) -> tuple[str, list[Any]]:
    """(text, params) of several features by key: a row (key, GeoJSON text, version) for each
    one that exists (the coalesced reads of :mod:`api.batch`)."""
    return _features_text(c, crs), [keys]


def version_query(c: Collection, key: Any, *, lock: bool = False) -> tuple[str, list[Any]]:
    """The row version (behind the ETag) of one feature, optionally locking the row."""
    text = sql.SQL("SELECT t.xmin::text FROM {table} WHERE {key} = %s{lock}").format(
        table=_table(c), key=_col(c.key), lock=sql.SQL(" FOR UPDATE" if lock else "")
    )
    return text.as_string(None), [key]


def as_of_query(
    c: Collection, at: dt.datetime, f: Filter, *, limit: int, offset: int
) -> tuple[str, list[Any]]:
    """A page of the layer as it was at ``at``, rebuilt from the history."""
    from gis_registry.history import layer_as_of_sql

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
        inner=sql.SQL(layer_as_of_sql(c.id)),
    )
    params = {"layer": c.id, "at": at, "limit": limit, "offset": offset}
    return statement.as_string(None), params  # type: ignore[return-value]
