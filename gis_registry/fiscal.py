"""Thai calendar arithmetic: Buddhist Era years and the fiscal year (1 October - 30 September).

A Thai fiscal year is named after the calendar year it ends in, in Buddhist Era (CE + 543):
fiscal year 2569 runs from 1 October 2025 to 30 September 2026. Budgets are THB amounts, which
people write as ``50m``, ``50,000,000`` or ``5e7`` (:func:`parse_amount`).
"""

from __future__ import annotations

import math
import re
from datetime import date

from gis_registry.errors import ValidationError

BE_OFFSET = 543
FISCAL_YEAR_START_MONTH = 10  # October: the fiscal year is named after the year it ends in
THAI_MONTHS = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)
THAI_MONTHS_ABBR = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)


def to_be(year_ce: int) -> int:
    """Common Era year -> Buddhist Era year."""
    return year_ce + BE_OFFSET


def to_ce(year_be: int) -> int:
    """Buddhist Era year -> Common Era year."""
    return year_be - BE_OFFSET


def fiscal_year(day: date) -> int:
    """Thai fiscal year (BE) that ``day`` falls in: 1 Oct 2025 and 30 Sep 2026 are both 2569."""
    return to_be(day.year + 1 if day.month >= FISCAL_YEAR_START_MONTH else day.year)


def fiscal_year_bounds(fiscal_year_be: int) -> tuple[date, date]:
    """First and last day of a Thai fiscal year given in BE (a CE year is refused)."""
    if fiscal_year_be < 2400:
        raise ValueError(
            f"fiscal year {fiscal_year_be} looks like a Common Era year; Thai fiscal years are "
            f"given in Buddhist Era (e.g. {to_be(fiscal_year_be)})"
        )
    end_ce = to_ce(fiscal_year_be)
    return date(end_ce - 1, FISCAL_YEAR_START_MONTH, 1), date(end_ce, 9, 30)


def format_thai_date(day: date, *, abbreviated: bool = False) -> str:
    """``date(2026, 10, 1)`` -> ``'1 ตุลาคม 2569'`` (``'1 ต.ค. 2569'`` abbreviated)."""
    months = THAI_MONTHS_ABBR if abbreviated else THAI_MONTHS
    return f"{day.day} {months[day.month - 1]} {to_be(day.year)}"


# An amount: digits (thousands grouped by commas, or not), an optional fraction and exponent,
# then an optional multiplier. Commas only in groups of three, so a mistyped "5,0000" is refused
# rather than read as 50,000.
_AMOUNT = re.compile(
    r"(?P<number>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?P<exponent>[eE][+-]?\d+)?"
    r"\s*(?P<suffix>[kKmMbB]?)"
)
AMOUNT_SUFFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9}
AMOUNT_FORMS = "50000000, 50,000,000, 50m or 50M (million), 1.5k (thousand), 2b (billion), 5e7"


def parse_amount(
    text: str | float, *, field: str = "budget_thb", layer: str = "programme"
) -> float:
    """An amount of money (THB) as people write it: ``50m``, ``50M``, ``50,000,000``, ``5e7``,
    ``1.5k``, ``2b`` or plain ``50000000``; a number passes through (checked).

    Parameters
    ----------
    text : the amount as written (or already a number)
    field, layer : named in the error (the option or field the amount was given for)

    Returns
    -------
    float
        The amount, 0 or more.

    Raises
    ------
    ValidationError
        On one line, naming ``field`` and the forms accepted, when ``text`` is none of them,
        negative or not finite.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        match = _AMOUNT.fullmatch(str(text).strip())
        if match is None:
            value = math.nan
        else:
            number = match["number"].replace(",", "") + (match["exponent"] or "")
            value = float(number) * AMOUNT_SUFFIXES[match["suffix"].lower()]
    if not (math.isfinite(value) and value >= 0):
        raise ValidationError(
            layer,
            [(None, field, f"'{text}' is not an amount of THB (0 or more); write {AMOUNT_FORMS}")],
        )
    return value
