"""Thai calendar arithmetic: Buddhist Era years and the fiscal year (1 October - 30 September).

A Thai fiscal year is named after the calendar year it ends in, in Buddhist Era (CE + 543):
fiscal year 2569 runs from 1 October 2025 to 30 September 2026.
"""

from __future__ import annotations

from datetime import date

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
