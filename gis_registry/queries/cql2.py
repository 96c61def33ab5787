"""CQL2 filters (OGC API - Features Part 3) as SQL on the catalogue's columns.

The text (``cql2-text``) and JSON (``cql2-json``) encodings are parsed by pygeofilter, the
parser pygeoapi uses; its syntax tree is turned into SQL here, by an emitter that knows only
what the registry serves: Basic CQL2 (comparisons ``= <> < <= > >=``, ``IS [NOT] NULL``,
``AND``/``OR``/``NOT``) over the layer's properties with string, number, boolean, date and
timestamp literals, and the spatial functions (``S_INTERSECTS``, ``S_WITHIN``, ...) over its
geometry columns and geometry or ``BBOX`` literals in CRS84. Anything else is refused.

Nothing of the input reaches the SQL text: identifiers come from the catalogue (an allow-list),
values are bound parameters (pygeofilter's own SQL backends are not used). A filter is bounded
before its SQL is built: its length, its depth and its number of terms (see :func:`check_size`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import shapely
from psycopg import sql
from shapely.errors import ShapelyError
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Float, Integer, Numeric, SmallInteger

from gis_registry.catalog import Layer
from gis_registry.errors import InvalidParameter
from gis_registry.queries.crs import DEFAULT
from gis_registry.queries.filters import col, envelope

# Limits over the whole expression, checked before its SQL is built (and, where the input
# shows them, before it is parsed): a filter is a few conditions, not a program, and every level
# of the tree costs a Python frame and every term a bound parameter.
MAX_LENGTH = 4000  # characters (the query string's limit too)
MAX_DEPTH = 50  # levels: parentheses (text), objects and arrays (JSON), operators (the tree)
MAX_NODES = 500  # terms: operators, properties, values and geometries
LANGUAGES = ("cql2-text", "cql2-json")
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"")
_KEYWORDS = re.compile(r"\b(?:AND|OR|NOT)\b", re.IGNORECASE)


@dataclass(frozen=True)
class EmptyGeometry:
    """``POINT EMPTY`` and its kin (CQL2 has them; pygeofilter 0.4's WKT grammar does not)."""

    kind: str


# -- parsing ---------------------------------------------------------------------------------
# pygeofilter 0.4's CQL2-text grammar lacks two things CQL2 has and this service accepted before
# it used pygeofilter: ``NOT (a OR b)`` (it takes only ``NOT (predicate)``) and empty
# geometries; and it reads 'it''s' as two strings. Its grammar is loaded with these three lines
# changed, and its own transformer builds the tree (pygeofilter is pinned below 0.5: a grammar
# that no longer holds these lines stops the import instead of parsing differently).
_PATCHES = (
    (
        '"NOT"i "(" predicate ")"',
        '"NOT"i "(" condition ")"',
    ),
    (
        "        | envelope\n",
        "        | envelope\n        | EMPTY_GEOMETRY -> empty_geometry\n",
    ),
    (
        'SINGLE_QUOTED: "\'" /.*?/ "\'"',
        "SINGLE_QUOTED: /'(?:[^']|'')*'/\n"
        "EMPTY_GEOMETRY.3: /(POINT|LINESTRING|POLYGON|MULTIPOINT|MULTILINESTRING|MULTIPOLYGON"
        "|GEOMETRYCOLLECTION)[ \\t]+EMPTY/i",
    ),
)


@cache
def _text_parser() -> Any:
    import lark
    from lark import Lark, v_args
    from pygeofilter.parsers.cql2_text import parser as cql2_text

    lark.logger.setLevel(logging.WARNING)  # pygeofilter sets lark's logger to DEBUG on import

    @v_args(meta=False, inline=True)
    class Transformer(cql2_text.CQLTransformer):
        def SINGLE_QUOTED(self, token: Any) -> str:  # noqa: N802 (lark's terminal name)
            return str(token)[1:-1].replace("''", "'")

        def empty_geometry(self, token: Any) -> EmptyGeometry:
            return EmptyGeometry(str(token).split()[0].upper())

        # pygeofilter's WKT transformer prints these two to stdout; and filter geometries are
        # CRS84, so an EWKT SRID is refused rather than ignored
        def wkt__multipoint_2(self, *coordinates: Any) -> dict:
            return {"type": "MultiPoint", "coordinates": coordinates}

        def wkt__geometry_with_srid(self, srid: Any, geometry: Any) -> dict:
            raise ValueError("geometries in a filter are CRS84 (no SRID=...)")

    path = Path(cql2_text.__file__).with_name("grammar.lark")
    grammar = path.read_text(encoding="utf-8")
    for old, new in _PATCHES:
        if old not in grammar:
            raise RuntimeError(f"pygeofilter's CQL2 grammar changed: cannot patch {old!r}")
        grammar = grammar.replace(old, new)
    return Lark(
        grammar,
        parser="lalr",
        maybe_placeholders=False,
        transformer=Transformer(),
        import_paths=[str(path.parent.parent)],
    )


def _nesting(text: str) -> int:
    """The deepest parenthesis nesting of a CQL2 text, quoted strings aside."""
    depth = deepest = 0
    quote = ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


def _too_deep() -> InvalidParameter:
    return InvalidParameter(
        "filter", f"the filter nests deeper than the limit of {MAX_DEPTH} levels"
    )


def _too_large() -> InvalidParameter:
    return InvalidParameter("filter", f"the filter has more than the limit of {MAX_NODES} terms")


def _keywords(text: str) -> int:
    """How many ``AND``, ``OR`` and ``NOT`` a CQL2 text holds outside its strings: each is a
    node of the tree, so their count bounds it from below before anything is parsed."""
    return len(_KEYWORDS.findall(_QUOTED.sub("''", text)))


def check_size(tree: Any) -> None:
    """Refuse a syntax tree deeper than :data:`MAX_DEPTH` or larger than :data:`MAX_NODES`.

    The walk is iterative (the tree may be as deep as its text is long: ``1+1+1...``). A chain
    of one combination (``a AND b AND c``, built as a tree as deep as it is long) counts as one
    level, as its SQL is one flat list.

    Parameters
    ----------
    tree : a pygeofilter syntax tree

    Raises
    ------
    InvalidParameter
        naming ``filter`` and the limit passed.
    """
    from pygeofilter import ast

    chains = (ast.And, ast.Or)
    stack: list[tuple[Any, int]] = [(tree, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise _too_large()
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(node, ast.Node):
            children = list(node.get_sub_nodes() or ())
        elif isinstance(node, (list, tuple)):
            children = list(node)
        else:  # a value: a literal, a property name, a geometry, an envelope
            continue
        kind = type(node)
        for child in children:
            same_chain = kind in chains and type(child) is kind
            stack.append((child, depth if same_chain else depth + 1))


def _json_depth(node: Any, depth: int = 0) -> int:
    if depth > MAX_DEPTH:
        return depth
    if isinstance(node, dict):
        return max((_json_depth(v, depth + 1) for v in node.values()), default=depth)
    if isinstance(node, list):
        return max((_json_depth(v, depth + 1) for v in node), default=depth)
    return depth


def parse(text: str | Mapping[str, Any], lang: str = "cql2-text") -> Any:
    """The pygeofilter syntax tree of a CQL2 filter.

    Parameters
    ----------
    text : CQL2 text, or CQL2 JSON (text or an already decoded mapping)
    lang : ``"cql2-text"`` or ``"cql2-json"``

    Raises
    ------
    InvalidParameter
        ``filter`` (the filter cannot be read, or passes a limit: :data:`MAX_LENGTH`
        characters, :data:`MAX_DEPTH` levels, :data:`MAX_NODES` terms) or ``filter-lang``
        (another language).
    """
    if lang not in LANGUAGES:
        raise InvalidParameter(
            "filter-lang", f"'{lang}' is not supported (supported: {', '.join(LANGUAGES)})"
        )
    if isinstance(text, str) and len(text) > MAX_LENGTH:
        raise InvalidParameter(
            "filter", f"the filter is longer than the limit of {MAX_LENGTH} characters"
        )
    if lang == "cql2-json":
        tree = _parse_json(text)
    else:
        tree = _parse_text(text)
    check_size(tree)
    return tree


def _parse_text(text: Any) -> Any:
    if not isinstance(text, str) or not text.strip():
        raise InvalidParameter("filter", "the filter is empty")
    if _nesting(text) > MAX_DEPTH:
        raise _too_deep()
    if _keywords(text) > MAX_NODES:
        raise _too_large()
    try:
        return _text_parser().parse(text)
    except RecursionError:  # lark's parser is iterative; should a transformer not be
        raise _too_deep() from None
    except Exception as exc:  # lark's errors, or the transformer's on nonsense (-attribute)
        raise InvalidParameter("filter", f"cannot read the filter: {_first_line(exc)}") from None


def _parse_json(text: str | Mapping[str, Any]) -> Any:
    from pygeofilter.parsers.cql2_json import parse as parse_json

    try:
        document = json.loads(text) if isinstance(text, str) else text
    except (ValueError, RecursionError):
        raise InvalidParameter("filter", "the filter is not JSON") from None
    if not isinstance(document, dict) or not document:
        raise InvalidParameter("filter", "a CQL2-JSON filter is a JSON object")
    if _json_depth(document) > MAX_DEPTH:
        raise _too_deep()
    try:
        return parse_json(document)
    except RecursionError:
        raise _too_deep() from None
    except Exception as exc:  # pygeofilter raises ValueError, TypeError, KeyError...
        raise InvalidParameter("filter", f"cannot read the filter: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


# -- SQL -------------------------------------------------------------------------------------
def _tables() -> tuple[dict[type, str], dict[type, str], dict[type, str]]:
    from pygeofilter import ast

    comparisons = {
        ast.Equal: "=",
        ast.NotEqual: "<>",
        ast.LessThan: "<",
        ast.LessEqual: "<=",
        ast.GreaterThan: ">",
        ast.GreaterEqual: ">=",
    }
    spatial = {
        ast.GeometryIntersects: "ST_Intersects",
        ast.GeometryDisjoint: "ST_Disjoint",
        ast.GeometryEquals: "ST_Equals",
        ast.GeometryTouches: "ST_Touches",
        ast.GeometryCrosses: "ST_Crosses",
        ast.GeometryWithin: "ST_Within",
        ast.GeometryContains: "ST_Contains",
        ast.GeometryOverlaps: "ST_Overlaps",
    }
    combinations = {ast.And: " AND ", ast.Or: " OR "}
    return comparisons, spatial, combinations


class Emitter:
    """SQL of a pygeofilter tree over one layer's columns; parameters collected in order."""

    def __init__(self, c: Layer, *, json_envelopes: bool = False):
        self.c = c
        self.params: list[Any] = []
        # pygeofilter 0.4's CQL2-JSON reader builds {"bbox": [minx, miny, maxx, maxy]} as
        # Envelope(x1=minx, x2=miny, y1=maxx, y2=maxy): read its fields in that order
        self.json_envelopes = json_envelopes
        self.comparisons, self.spatial, self.combinations = _tables()

    def fail(self, message: str) -> InvalidParameter:
        """The error for a filter that cannot be used, naming ``filter``."""
        return InvalidParameter("filter", message, layer=self.c.id)

    def condition(self, node: Any, depth: int = 0) -> sql.Composable:
        """SQL of a condition node (a boolean combination or a predicate)."""
        from pygeofilter import ast

        if depth > MAX_DEPTH:
            raise self.fail(f"the filter nests deeper than the limit of {MAX_DEPTH} levels")
        kind = type(node)
        if kind in self.combinations:
            # a chain (a AND b AND c) is one flat list, not a tree as deep as it is long
            parts = [self.condition(n, depth + 1) for n in self._chain(node, kind)]
            return sql.SQL("({})").format(sql.SQL(self.combinations[kind]).join(parts))
        if kind is ast.Not:
            return sql.SQL("(NOT {})").format(self.condition(node.sub_node, depth + 1))
        if kind in self.comparisons:
            return self.comparison(node)
        if kind is ast.IsNull:
            if not isinstance(node.lhs, ast.Attribute):
                raise self.fail("IS NULL applies to a property")
            name = self.property(node.lhs)
            return sql.SQL("({} IS {}NULL)").format(col(name), sql.SQL("NOT " if node.not_ else ""))
        if kind in self.spatial:
            return sql.SQL("{}({}, {})").format(
                sql.SQL(self.spatial[kind]), self.geometry(node.lhs), self.geometry(node.rhs)
            )
        if kind is ast.BBox:  # BBOX(geom, minx, miny, maxx, maxy), the CQL1 form
            box = self.box([node.minx, node.miny, node.maxx, node.maxy])
            return sql.SQL("ST_Intersects({}, {})").format(self.geometry(node.lhs), box)
        raise self.fail(f"{self._name(node)} is not supported (Basic CQL2 and spatial functions)")

    def _chain(self, node: Any, kind: Any) -> list[Any]:
        out: list[Any] = []
        stack: list[Any] = [node]
        while stack:
            item: Any = stack.pop()
            if type(item) is kind:
                stack += [item.rhs, item.lhs]
            else:
                out.append(item)
        return out

    @staticmethod
    def _name(node: Any) -> str:
        from pygeofilter import ast

        if isinstance(node, ast.Function):
            return f"the function '{node.name}'"
        return f"'{type(node).__name__}'"

    def comparison(self, node: Any) -> sql.Composable:
        """SQL of ``a <op> b``; a literal takes the type of the property it meets."""
        from pygeofilter import ast

        left, right = node.lhs, node.rhs
        hint = next((side for side in (left, right) if isinstance(side, ast.Attribute)), None)
        return sql.SQL("({} {} {})").format(
            self.operand(left, hint),
            sql.SQL(self.comparisons[type(node)]),
            self.operand(right, hint),
        )

    def property(self, node: Any) -> str:
        """The name of a property node, when the layer has it."""
        name = node.name
        if name not in self.c.properties:
            raise self.fail(
                f"'{name}' is not a queryable of '{self.c.id}' "
                f"(queryables: {', '.join(self.c.properties)})"
            )
        return name

    def operand(self, item: Any, hint: Any) -> sql.Composable:
        """A property's column, or a literal as a bound parameter."""
        from pygeofilter import ast

        if isinstance(item, ast.Attribute):
            return col(self.property(item))
        if isinstance(item, ast.Node) or not isinstance(
            item, (str, int, float, bool, dt.date, dt.datetime)
        ):
            raise self.fail(f"{self._name(item)} is not supported as a value")
        value = item
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)  # dateparser's zone classes: plain UTC for psycopg
        if hint is not None:
            value = self.coerce(hint.name, value)
        self.params.append(value)
        return sql.SQL("%s")

    def coerce(self, name: str, value: Any) -> Any:
        """A literal as the type of the property it is compared with."""
        kind = self.c.table.c[name].type
        ok = True
        if isinstance(kind, Boolean):
            ok = isinstance(value, bool)
        elif isinstance(kind, (Integer, SmallInteger, BigInteger, Float, Numeric)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if ok and isinstance(kind, (Integer, SmallInteger, BigInteger)):
                if isinstance(value, int) and not -(2**31) <= value < 2**31:
                    ok = False
        elif isinstance(kind, DateTime):
            if isinstance(value, str):
                try:
                    value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    ok = False
            ok = ok and isinstance(value, dt.datetime)
        elif isinstance(kind, Date):
            if isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    ok = False
            ok = ok and isinstance(value, dt.date)
        else:
            ok = isinstance(value, str)
            if ok and "\x00" in value:
                ok = False
        if not ok:
            raise self.fail(f"{value!r} cannot be compared with '{name}'")
        return value

    # -- geometries --------------------------------------------------------------------------
    def geometry(self, item: Any) -> sql.Composable:
        """A spatial operand: a geometry column, a geometry literal or a box."""
        from pygeofilter import ast, values

        if isinstance(item, ast.Attribute):
            if item.name not in self.c.geometries:
                raise self.fail(
                    f"'{item.name}' is not a geometry of '{self.c.id}' "
                    f"(geometries: {', '.join(self.c.geometries) or 'none'})"
                )
            return col(item.name)
        if isinstance(item, ast.Function) and item.name.lower() == "bbox":
            return self.box(item.arguments)
        if isinstance(item, values.Envelope) and self.json_envelopes:
            return self.box([item.x1, item.x2, item.y1, item.y2])
        if isinstance(item, EmptyGeometry):
            return self.shape(shapely.from_wkt(f"{item.kind} EMPTY"), item.kind)
        if isinstance(item, values.Geometry):
            try:
                geometry = shapely.geometry.shape(item.geometry)
            except (ShapelyError, ValueError, TypeError, KeyError, IndexError) as exc:
                raise self.fail(f"cannot read the geometry: {exc}") from None
            return self.shape(geometry, item.geometry.get("type", "geometry"))
        # a node by its name, not its repr: a repr recurses as deep as the node
        what = self._name(item) if isinstance(item, ast.Node) else repr(item)[:100]
        raise self.fail(f"expected a geometry property, a geometry or BBOX, not {what}")

    def box(self, numbers: list[Any]) -> sql.Composable:
        """A BBOX literal (CRS84), under the ``bbox`` parameter's rules."""
        if len(numbers) not in (4, 6) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers
        ):
            raise self.fail("BBOX takes four (or six) numbers: BBOX(minx, miny, maxx, maxy)")
        env, values = envelope(tuple(numbers), DEFAULT, "filter")  # the bbox parameter's rules
        self.params.extend(values)
        return env

    def shape(self, geometry: Any, kind: str) -> sql.Composable:
        """A valid CRS84 geometry literal as a bound WKB parameter."""
        if not geometry.is_valid:
            reason = shapely.is_valid_reason(geometry)
            raise self.fail(f"the {kind} is not valid: {reason}")
        if not geometry.is_empty:
            minx, miny, maxx, maxy = geometry.bounds
            if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
                raise self.fail(
                    "geometries in a filter are longitude, latitude (CRS84): "
                    "longitudes in [-180, 180], latitudes in [-90, 90]"
                )
        self.params.append(geometry.wkb_hex)
        return sql.SQL("ST_GeomFromWKB(decode(%s, 'hex'), 4326)")


def cql2_filter(
    c: Layer, text: str | Mapping[str, Any], lang: str = "cql2-text"
) -> tuple[sql.Composable, list[Any]]:
    """The WHERE fragment and its parameters for a CQL2 filter on layer ``c``.

    Parameters
    ----------
    c : the layer filtered (its table aliased ``t``)
    text : the filter, CQL2 text or CQL2 JSON
    lang : ``"cql2-text"`` or ``"cql2-json"``

    Raises
    ------
    InvalidParameter
        naming ``filter`` (and the layer's queryables when a name is unknown) or
        ``filter-lang``.
    """
    if isinstance(text, str):  # the usual case: a query string's filter, often repeated
        where, params = _compiled(c, text, lang)
        return where, list(params)
    return _compile(c, text, lang)


@lru_cache(maxsize=256)
def _compiled(c: Layer, text: str, lang: str) -> tuple[sql.Composable, tuple[Any, ...]]:
    """:func:`_compile`, remembered: parsing costs tens of microseconds (lark), a repeated
    filter (a map panning with the same filter, only its bbox changing) costs a lookup.
    Errors are not remembered (they raise)."""
    where, params = _compile(c, text, lang)
    return where, tuple(params)  # immutable values (str, numbers, dates): safe to share


def _compile(
    c: Layer, text: str | Mapping[str, Any], lang: str
) -> tuple[sql.Composable, list[Any]]:
    tree = parse(text, lang)
    emitter = Emitter(c, json_envelopes=lang == "cql2-json")
    try:
        return emitter.condition(tree), emitter.params
    except RecursionError:  # bounded by check_size; a last guard, never a 500
        raise emitter.fail(
            f"the filter nests deeper than the limit of {MAX_DEPTH} levels"
        ) from None
