"""CQL2 text (OGC API - Features Part 3): Basic CQL2 (comparisons ``= <> < <= > >=``,
``IS [NOT] NULL``, ``AND``/``OR``/``NOT`` and parentheses, over the collection's properties and
string, number, boolean, ``DATE('...')`` and ``TIMESTAMP('...')`` literals) and the spatial
functions (``S_INTERSECTS``, ``S_WITHIN``, ... over a geometry property and WKT or
``BBOX(...)`` literals in CRS84).

The text is parsed here into SQL built from the collection registry's identifiers and bound
parameters; nothing of the input reaches the SQL text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import shapely
from psycopg import sql
from shapely.errors import ShapelyError
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Float, Integer, Numeric, SmallInteger

from api.collections import Collection
from api.crs import DEFAULT
from api.errors import InvalidParameter
from api.features_sql import envelope

MAX_LENGTH = 4000
MAX_DEPTH = 50
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<op><>|<=|>=|=|<|>)
      | (?P<paren>[()])
      | (?P<comma>,)
      | (?P<quoted>"(?:[^"]|"")+")
      | (?P<word>[A-Za-z_][A-Za-z0-9_.:]*)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"AND", "OR", "NOT", "IS", "NULL", "TRUE", "FALSE", "DATE", "TIMESTAMP"}
# CQL2 spatial functions and the PostGIS predicate of each
SPATIAL = {
    "S_INTERSECTS": "ST_Intersects",
    "S_DISJOINT": "ST_Disjoint",
    "S_EQUALS": "ST_Equals",
    "S_TOUCHES": "ST_Touches",
    "S_CROSSES": "ST_Crosses",
    "S_WITHIN": "ST_Within",
    "S_CONTAINS": "ST_Contains",
    "S_OVERLAPS": "ST_Overlaps",
}
WKT_TYPES = {
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOINT",
    "MULTILINESTRING",
    "MULTIPOLYGON",
    "GEOMETRYCOLLECTION",
}


@dataclass(frozen=True)
class Token:
    kind: str
    value: str


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise InvalidParameter("filter", f"cannot read the filter at '{text[pos : pos + 20]}'")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "word" and value.upper() in KEYWORDS:
            kind, value = "keyword", value.upper()
        elif kind == "quoted":
            kind, value = "word", value[1:-1].replace('""', '"')
        tokens.append(Token(kind, value))
        pos = match.end()
    return tokens


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Property:
    name: str


class Parser:
    def __init__(self, c: Collection, text: str):
        if len(text) > MAX_LENGTH:
            raise InvalidParameter("filter", f"longer than {MAX_LENGTH} characters")
        self.c = c
        self.tokens = tokenize(text)
        self.pos = 0
        self.params: list[Any] = []
        self.depth = 0

    def fail(self, message: str) -> InvalidParameter:
        return InvalidParameter("filter", message)

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise self.fail("the filter ends too early")
        self.pos += 1
        return token

    def accept(self, kind: str, value: str | None = None) -> bool:
        token = self.peek()
        if token and token.kind == kind and (value is None or token.value == value):
            self.pos += 1
            return True
        return False

    def parse(self) -> sql.Composable:
        if not self.tokens:
            raise self.fail("the filter is empty")
        out = self.disjunction()
        if self.peek() is not None:
            raise self.fail(f"unexpected '{self.peek().value}'")
        return out

    def disjunction(self) -> sql.Composable:
        parts = [self.conjunction()]
        while self.accept("keyword", "OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else sql.SQL("({})").format(sql.SQL(" OR ").join(parts))

    def conjunction(self) -> sql.Composable:
        parts = [self.negation()]
        while self.accept("keyword", "AND"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else sql.SQL("({})").format(sql.SQL(" AND ").join(parts))

    def negation(self) -> sql.Composable:
        if self.accept("keyword", "NOT"):
            return sql.SQL("(NOT {})").format(self.negation())
        return self.primary()

    def primary(self) -> sql.Composable:
        token = self.peek()
        if token and token.kind == "paren" and token.value == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail("the filter nests too deeply")
            self.pos += 1
            inner = self.disjunction()
            if not self.accept("paren", ")"):
                raise self.fail("a ')' is missing")
            self.depth -= 1
            return inner
        nxt = self.tokens[self.pos + 1] if self.pos + 1 < len(self.tokens) else None
        if (
            token
            and token.kind == "word"
            and token.value.upper() in SPATIAL
            and nxt == Token("paren", "(")
        ):
            return self.spatial_predicate()
        left = self.scalar()
        if self.accept("keyword", "IS"):
            negated = self.accept("keyword", "NOT")
            if not self.accept("keyword", "NULL"):
                raise self.fail("expected NULL after IS")
            return sql.SQL("({} IS {}NULL)").format(
                self.operand(left, None), sql.SQL("NOT " if negated else "")
            )
        op = self.take()
        if op.kind != "op":
            raise self.fail(f"expected a comparison operator, not '{op.value}'")
        right = self.scalar()
        hint = (
            left if isinstance(left, Property) else right if isinstance(right, Property) else None
        )
        return sql.SQL("({} {} {})").format(
            self.operand(left, hint), sql.SQL(op.value), self.operand(right, hint)
        )

    def scalar(self) -> Literal | Property:
        token = self.take()
        if token.kind == "string":
            return Literal(token.value[1:-1].replace("''", "'"))
        if token.kind == "number":
            number = float(token.value)
            is_int = re.fullmatch(r"[+-]?\d+", token.value) and abs(number) < 2**63
            return Literal(int(token.value) if is_int else number)
        if token.kind == "keyword" and token.value in ("TRUE", "FALSE"):
            return Literal(token.value == "TRUE")
        if token.kind == "keyword" and token.value in ("DATE", "TIMESTAMP"):
            if not self.accept("paren", "("):
                raise self.fail(f"{token.value} takes a quoted value: {token.value}('...')")
            value = self.take()
            if value.kind != "string" or not self.accept("paren", ")"):
                raise self.fail(f"{token.value} takes a quoted value: {token.value}('...')")
            text = value.value[1:-1]
            try:
                if token.value == "DATE":
                    return Literal(dt.date.fromisoformat(text))
                return Literal(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
            except ValueError:
                raise self.fail(f"'{text}' is not a valid {token.value.lower()}") from None
        if token.kind == "word":
            if token.value not in self.c.properties:
                raise self.fail(
                    f"'{token.value}' is not a queryable of '{self.c.id}' "
                    f"(queryables: {', '.join(self.c.properties)})"
                )
            return Property(token.value)
        raise self.fail(f"unexpected '{token.value}'")

    def spatial_predicate(self) -> sql.Composable:
        """``S_INTERSECTS(a, b)`` and its kin: each side a geometry property or literal."""
        function = SPATIAL[self.take().value.upper()]
        self.take()  # (
        left = self.spatial_operand()
        if not self.accept("comma"):
            raise self.fail(f"{function} takes two geometries, separated by a comma")
        right = self.spatial_operand()
        if not self.accept("paren", ")"):
            raise self.fail("a ')' is missing after the second geometry")
        return sql.SQL("{}({}, {})").format(sql.SQL(function), left, right)

    def spatial_operand(self) -> sql.Composable:
        token = self.take()
        name = token.value.upper() if token.kind == "word" else ""
        if name == "BBOX":
            return self.bbox_literal()
        if name in WKT_TYPES:
            return self.wkt_literal(name)
        if token.kind == "word":
            if token.value not in self.c.geometries:
                raise self.fail(
                    f"'{token.value}' is not a geometry of '{self.c.id}' "
                    f"(geometries: {', '.join(self.c.geometries) or 'none'})"
                )
            return sql.SQL("t.") + sql.Identifier(token.value)
        raise self.fail(f"expected a geometry property, WKT or BBOX, not '{token.value}'")

    def bbox_literal(self) -> sql.Composable:
        if not self.accept("paren", "("):
            raise self.fail("BBOX takes four numbers: BBOX(minx, miny, maxx, maxy)")
        numbers = []
        while True:
            token = self.take()
            if token.kind != "number":
                raise self.fail("BBOX takes four numbers: BBOX(minx, miny, maxx, maxy)")
            numbers.append(float(token.value))
            if self.accept("paren", ")"):
                break
            if not self.accept("comma"):
                raise self.fail("BBOX numbers are separated by commas")
        if len(numbers) not in (4, 6):
            raise self.fail("BBOX takes four (or six) numbers: BBOX(minx, miny, maxx, maxy)")
        env, values = envelope(tuple(numbers), DEFAULT, "filter")  # the bbox parameter's rules
        self.params.extend(values)
        return env

    def wkt_literal(self, kind: str) -> sql.Composable:
        """A WKT geometry (its tokens up to the matching parenthesis), read by shapely."""
        words = [kind]
        depth = 0
        while True:
            token = self.peek()
            if token is None:
                raise self.fail(f"the {kind} ends too early")
            if token.kind == "paren":
                depth += 1 if token.value == "(" else -1
            elif token.kind == "word" and token.value.upper() in ("Z", "M", "ZM", "EMPTY"):
                pass
            elif token.kind not in ("number", "comma"):
                raise self.fail(f"unexpected '{token.value}' in a {kind}")
            words.append(token.value)
            self.pos += 1
            if depth == 0 and token.kind == "paren":
                break
            if depth == 0 and token.value.upper() == "EMPTY":
                break
        text = " ".join(words)
        try:
            geometry = shapely.from_wkt(text)
        except ShapelyError as exc:
            raise self.fail(f"cannot read the geometry '{text[:60]}': {exc}") from None
        if not geometry.is_valid:
            reason = shapely.is_valid_reason(geometry)
            raise self.fail(f"the geometry '{text[:60]}' is not valid: {reason}")
        if not geometry.is_empty:
            self.check_lonlat(geometry.bounds)
        self.params.append(geometry.wkb_hex)
        return sql.SQL("ST_GeomFromWKB(decode(%s, 'hex'), 4326)")

    def check_lonlat(self, bounds: Any) -> None:
        minx, miny, maxx, maxy = bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise self.fail(
                "geometries in a filter are longitude, latitude (CRS84): "
                "longitudes in [-180, 180], latitudes in [-90, 90]"
            )

    def operand(self, item: Literal | Property, hint: Literal | Property | None) -> sql.Composable:
        if isinstance(item, Property):
            return sql.SQL("t.") + sql.Identifier(item.name)
        value = item.value
        if isinstance(hint, Property):
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


def cql2_filter(c: Collection, text: str) -> tuple[sql.Composable, list[Any]]:
    """The WHERE fragment and its parameters for a CQL2-text filter on collection ``c``."""
    parser = Parser(c, text)
    return parser.parse(), parser.params
