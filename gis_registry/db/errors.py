"""Turn database refusals into messages that name the layer, the record and the rule."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import psycopg
from sqlalchemy.exc import DBAPIError

from gis_registry.db.tables import RULES, metadata
from gis_registry.errors import ConstraintViolation

# PostGIS typmod errors come without a constraint name; recognise them by their text.
_GEOMETRY_MESSAGES = (
    (
        re.compile(r"Geometry type \((\w+)\) does not match column type \((\w+)\)"),
        "geom",
        "geometry type {0} does not match the layer's type {1}",
    ),
    (
        re.compile(r"Geometry SRID \((-?\d+)\) does not match column SRID \((\d+)\)"),
        "geom",
        "geometry SRID {0} does not match the layer's SRID {1} (store WGS 84, EPSG:4326)",
    ),
    (
        re.compile(r"Column has Z dimension but geometry does not|Geometry has Z dimension"),
        "geom",
        "geometry must be 2D",
    ),
    (re.compile(r"parse error - invalid geometry"), "geom", "geometry could not be parsed"),
)


# Rules a statement trigger checks (0009): its message names the first record that breaks it.
_STATEMENT_RULES = frozenset({"geom_in_lonlat_range", "geom_inside_province", "geom_vertices"})


def translate(
    exc: DBAPIError,
    layer: str,
    record: str | int | None,
    values: Mapping[str, Any] | None = None,
) -> ConstraintViolation | None:
    """A :class:`ConstraintViolation` for a refused write, or None if ``exc`` is not one.

    ``values`` (the record as written) let a refusal PostgreSQL reports without its column,
    such as a numeric overflow, name the field whose value does not fit.
    """
    orig = exc.orig
    if not isinstance(orig, psycopg.Error):
        return None
    diag = orig.diag
    state = orig.sqlstate or ""
    constraint = diag.constraint_name
    column = diag.column_name
    primary = diag.message_primary or str(orig)
    if state == "23514" and constraint:  # check_violation (CHECK constraints and triggers)
        field, rule = RULES.get(constraint, ("?", constraint))
        problem = f"breaks rule {constraint}: {rule}"
        if constraint in _STATEMENT_RULES:
            # checked once per statement: the trigger names the record and where it lies
            problem += f" ({primary})"
        return ConstraintViolation(layer, [(record, field, problem)])
    if state == "23502":  # not_null_violation
        return ConstraintViolation(
            layer, [(record, column or "?", "is required (must not be null)")]
        )
    if state == "23503":  # foreign_key_violation
        detail = diag.message_detail or primary
        field = column or _fk_field(detail)
        return ConstraintViolation(
            layer,
            [
                (
                    record,
                    field,
                    f"refers to a record that does not exist or is still in use: {detail}",
                )
            ],
        )
    if state == "23505":  # unique_violation
        detail = diag.message_detail or primary
        field = _fk_field(detail)
        return ConstraintViolation(layer, [(record, field, f"must be unique: {detail}")])
    if state.startswith("22") or state == "XX000":
        for pattern, field, template in _GEOMETRY_MESSAGES:
            match = pattern.search(primary)
            if match:
                return ConstraintViolation(
                    layer, [(record, field, template.format(*match.groups()))]
                )
        if state == "22003" and column is None:  # numeric_value_out_of_range: no column
            fields = _out_of_range(layer, values or {})
            if fields:
                detail = f"{primary}: {diag.message_detail}" if diag.message_detail else primary
                return ConstraintViolation(layer, [(record, name, detail) for name in fields])
        if state.startswith("22"):  # data exception: bad number, date, text for the column
            return ConstraintViolation(layer, [(record, column or "?", primary)])
    return None


def _out_of_range(layer: str, values: Mapping[str, Any]) -> list[str]:
    """The fields of ``values`` whose number does not fit its column of ``layer``."""
    from gis_registry.validation import number_range_problem  # shapely: only on this path

    table = metadata.tables.get(layer)
    if table is None:
        return []
    found = []
    for name, value in values.items():
        if name not in table.c or isinstance(value, bool):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number) and number_range_problem(number, table.c[name].type):
            found.append(name)
    return found


def _fk_field(detail: str) -> str:
    match = re.search(r"Key \(([^)]+)\)", detail)
    return match.group(1) if match else "?"
