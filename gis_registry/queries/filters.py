"""The one definition of each read filter: a box, property values, a time, and the WHERE
clause they make together.

A :class:`Filter` holds psycopg ``sql`` fragments over the layer's table aliased ``t`` and
their bound parameters: the web service sends it as it is (:mod:`gis_registry.queries.geojson`),
the library reads through it as a SQLAlchemy clause (:meth:`Filter.clause`, used by
:func:`gis_registry.queries.features.read_layer` and ``Registry.items``). Every identifier comes
from the catalogue (:mod:`gis_registry.catalog`); every value is a bound parameter.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql
from sqlalchemy import Date, TextClause, text

from gis_registry.catalog import Layer
from gis_registry.errors import InvalidParameter
from gis_registry.queries.crs import DEFAULT, Crs, check_box
from gis_registry.validation import VOCABULARIES


@dataclass
class Filter:
    """A WHERE clause in pieces: SQL fragments joined by AND, and their parameters in order."""

    parts: list[sql.Composable] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, part: sql.Composable, *params: Any) -> None:
        """One more condition and its parameters."""
        self.parts.append(part)
        self.params.extend(params)

    def sql(self) -> sql.Composable:
        """`` WHERE a AND b ...`` (nothing when there is no condition)."""
        if not self.parts:
            return sql.SQL("")
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(self.parts)

    def clause(self) -> TextClause | None:
        """The conditions as one SQLAlchemy clause with bound parameters (None when empty).

        The fragments hold no ``%s`` but their placeholders (values are never in the text), so
        each placeholder becomes a named bind.
        """
        if not self.parts:
            return None
        pieces = (sql.SQL(" AND ").join(self.parts)).as_string(None).split("%s")
        assert len(pieces) == len(self.params) + 1, "placeholders and parameters differ"
        binds = {f"qf{i}": value for i, value in enumerate(self.params)}
        # a space after each bind keeps a following '::type' out of its name
        joined = pieces[0] + "".join(f":qf{i} {piece}" for i, piece in enumerate(pieces[1:]))
        return text(f"({joined})").bindparams(**binds)

    def __bool__(self) -> bool:
        return bool(self.parts)


def col(name: str) -> sql.Composable:
    """A column of the filtered table (aliased ``t``)."""
    return sql.SQL("t.") + sql.Identifier(name)


# -- a box -----------------------------------------------------------------------------------
def envelope(
    bbox: Sequence[float], crs: Crs = DEFAULT, parameter: str = "bbox"
) -> tuple[sql.Composable, tuple[float, float, float, float]]:
    """A box (4 or 6 numbers, in ``crs``) as SQL of a CRS84 polygon and its four parameters;
    an impossible box is refused, naming ``parameter``."""
    bbox = tuple(bbox)
    if len(bbox) == 6:  # minx, miny, minz, maxx, maxy, maxz: heights are not stored
        bbox = (bbox[0], bbox[1], bbox[3], bbox[4])
    if len(bbox) != 4:
        raise InvalidParameter(parameter, "expected 4 (or 6) numbers: minx, miny, maxx, maxy")
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise InvalidParameter(parameter, "expected finite numbers")
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
        env: sql.Composable = sql.SQL("ST_MakeEnvelope(%s, %s, %s, %s, 4326)")
    else:
        if minx > maxx or miny > maxy:
            raise InvalidParameter(parameter, "expected minx, miny, maxx, maxy with min <= max")
        check_box(crs, (minx, miny, maxx, maxy), parameter)  # else PostGIS fails: a 500
        env = sql.SQL("ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, {}), 4326)").format(
            sql.Literal(crs.srid)
        )
    return env, (minx, miny, maxx, maxy)


def bbox_filter(
    f: Filter,
    c: Layer,
    bbox: Sequence[float],
    bbox_crs: Crs = DEFAULT,
    *,
    column: str | None = None,
) -> None:
    """Features whose geometry (``column``, else the primary one) intersects a box given in
    ``bbox_crs``; the box is transformed, the column untouched so its index serves."""
    if c.geometry is None:
        raise InvalidParameter("bbox", f"collection '{c.id}' has no geometry", layer=c.id)
    if column is not None and column not in c.geometries:
        raise InvalidParameter(
            "geometry",
            f"'{column}' is not a geometry of '{c.id}' (geometries: {', '.join(c.geometries)})",
            layer=c.id,
        )
    env, values = envelope(bbox, bbox_crs)
    # ST_Intersects costs a GEOS call per row; a feature whose own box lies inside the query
    # box intersects it for sure, and most features of a small box do: only the others pay.
    # (``&&`` carries the index; within CASE, ST_Intersects adds no second index scan.)
    geom = col(column or c.geometry)
    f.add(
        sql.SQL(
            "{g} && {e} AND CASE WHEN {g} @ {e} THEN true ELSE ST_Intersects({g}, {e}) END"
        ).format(g=geom, e=env),
        *values * 3,
    )


# -- property values -------------------------------------------------------------------------
def property_filter(f: Filter, c: Layer, name: str, values: Sequence[Any]) -> None:
    """``name`` equals one of ``values`` (typed values; a lone None means 'is null').

    A value outside the field's vocabulary (``surface=gravel``) is refused with the valid
    choices: it can match nothing, and an empty answer would hide the typo.
    """
    c.require_property(name)
    vocabulary = VOCABULARIES.get((c.id, name))
    unknown = [v for v in values if vocabulary and v is not None and v not in vocabulary]
    if unknown:
        raise InvalidParameter(
            name,
            f"{', '.join(repr(v) for v in unknown)} is not one of {', '.join(vocabulary or ())}",
            layer=c.id,
        )
    if len(values) == 1:
        if values[0] is None:
            f.add(sql.SQL("{} IS NULL").format(col(name)))
        else:
            f.add(sql.SQL("{} = %s").format(col(name)), values[0])
    else:
        f.add(sql.SQL("{} = ANY(%s)").format(col(name)), list(values))


# -- time ------------------------------------------------------------------------------------
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


def datetime_filter(f: Filter, c: Layer, value: str) -> None:
    """Features whose time (instant or period, see ``catalog.TEMPORAL``) meets ``value``."""
    if c.temporal is None:
        raise InvalidParameter(
            "datetime", f"collection '{c.id}' has no time to filter on", layer=c.id
        )
    start, end = parse_datetime(value)
    first, last = c.temporal
    is_date = isinstance(c.table.c[first].type, Date)

    def cast(moment: dt.datetime) -> Any:
        return moment.date() if is_date else moment

    begin_col = col(first)
    end_col = begin_col
    if last:  # open-ended records (no end) last for ever
        end_col = sql.SQL("coalesce({}, 'infinity')").format(col(last))
    if end is not None:
        f.add(sql.SQL("{} <= %s").format(begin_col), cast(end))
    if start is not None:
        f.add(sql.SQL("{} >= %s").format(end_col), cast(start))
