"""Text output for people: the summary first (what was asked, the totals and the key figures),
then tables that fit a 100-column terminal, with rounded figures (percentages, km, THB with
thousands separators, Buddhist Era dates) and long lists cut at ``--limit`` rows.

``--json`` and ``--csv`` stay complete and exact; this module only writes the text. Which
columns a person sees is chosen here: of each report's tables in :data:`VIEWS` (and which
tables, in :data:`SECTIONS`), of the other commands' tables in the ``*_COLUMNS`` next to it. A
table without a view (a new report) shows the columns that fit, each formatted by its name
(``*_thb`` as THB, ``share*`` as a percentage, ``*_m`` in metres...), so any
:class:`~gis_registry.analysis.reports.Report` prints sensibly.

Rich (and pandas, for reports) is imported inside the functions: ``gis-registry --help`` and a
route's text must not pay for them at start-up. The command modules import this module only
inside the functions that print, so start-up does not pay for it either.
"""

from __future__ import annotations

import io
import math
import numbers
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

    from gis_registry.analysis.reports import Report

WIDTH = 100  # what a table is laid out for when stdout is not a terminal (pipes, tests)
DEFAULT_LIMIT = 20  # rows of a long list unless --limit or --all says otherwise
NAME_CELLS = 26  # a Thai or English name longer than this ends in "…"
GAP = 2  # cells between two columns of a table: one of padding, one of (blank) rule


@dataclass(frozen=True)
class Col:
    """One column a person sees: the field, its heading and how its values are written.

    ``kind`` is one of :data:`KINDS` (``auto``: from the field's name and value); ``cells``
    caps the width of a text column (a longer value ends in ``…``), and a table too wide for
    the terminal squeezes it down to ``min_cells``.
    """

    key: str
    header: str
    kind: str = "auto"
    cells: int | None = None
    min_cells: int = 6


@dataclass(frozen=True)
class Section:
    """A table of a report printed in the text output, under ``heading``; ``limit`` is its
    default row count when ``--limit`` is not given (None: :data:`DEFAULT_LIMIT`)."""

    table: str
    heading: str | None = None
    limit: int | None = None


# -- values ----------------------------------------------------------------------------------
def missing(value: Any) -> bool:
    """None, NaN, NaT or NA (written ``-``); a list is never missing, even empty."""
    if value is None:
        return True
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return math.isnan(float(value))
    return type(value).__name__ in ("NaTType", "NAType")


def be_date(value: Any) -> str:
    """A date (or ISO text) in the Buddhist Era as Thai officials write it: ``23 ม.ค. 2568``."""
    from gis_registry.fiscal import format_thai_date

    if isinstance(value, datetime):
        value = value.date()
    elif isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    return format_thai_date(value, abbreviated=True) if isinstance(value, date) else str(value)


def _number(value: Any, decimals: int) -> str:
    f = float(value)
    return f"{f:,.{decimals}f}" if decimals or not f.is_integer() else f"{int(f):,}"


def _id(value: Any) -> str:
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return str(int(float(value)))
    return str(value)


def _list(value: Any) -> str:
    return ", ".join(_id(v) for v in value)


FORMATS: dict[str, Callable[[Any], str]] = {
    "text": str,
    "id": _id,  # codes, ids, years: no thousands separator
    "int": lambda v: f"{round(float(v)):,}",
    "num": lambda v: _number(v, 1),
    "num2": lambda v: _number(v, 2),
    "thb": lambda v: f"{float(v):,.0f}",
    "pct": lambda v: f"{float(v) * 100:.1f} %",
    "km": lambda v: f"{float(v) / 1000:,.2f}",  # a length in metres, shown in km
    "m": lambda v: f"{float(v):,.0f}",
    "coord": lambda v: f"{float(v):.5f}",
    "date": be_date,
    "bool": lambda v: "yes" if v else "no",
    "list": _list,
    "term": lambda v: str(v).replace("_", " "),  # a vocabulary key: very_poor -> very poor
    "min": lambda v: f"{float(v) / 60:,.1f}",  # seconds, shown in minutes
}
KINDS = ("auto", *FORMATS)
NUMERIC = frozenset({"int", "num", "num2", "thb", "pct", "km", "m", "coord", "min"})
SQUEEZABLE = frozenset({"text", "term", "list"})  # cut with "…" when the table is too wide
# Fields written as they are although they are numbers.
ID_FIELDS = frozenset({"rank", "fiscal_year", "year_built", "code", "candidate", "component"})
DATE_FIELDS = frozenset({"as_of", "on", "starts", "ends", "condition_as_of", "day"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def kind_of(name: str, value: Any) -> str:
    """How a field is written, from its name first (``cost_thb``, ``share_good``,
    ``length_m``, ``inspected_on``...), then from its value."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "bool"
    if isinstance(value, Mapping):
        return "text"
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ndarray":
        return "list"
    if isinstance(value, date) or (
        isinstance(value, str)
        and _ISO_DATE.fullmatch(value)
        and (name in DATE_FIELDS or name.endswith(("_on", "_date")))
    ):
        return "date"
    if isinstance(value, str):
        return "text"
    if name in ID_FIELDS or name.endswith(("_id", "_code", "_ids")):
        return "id"
    if name in ("lon", "lat"):
        return "coord"
    if name.endswith("_thb"):
        return "thb"
    if name.startswith("share") or name.endswith("_share"):
        return "pct"
    if name.endswith(("_km", "_km2")) or name.startswith("km_"):
        return "num"
    if name.endswith("_m"):
        return "m"
    if name.endswith("_s"):
        return "min"
    if isinstance(value, numbers.Integral) or "days" in name:
        return "int"
    if isinstance(value, numbers.Real):
        return "num"
    return "text"


def fmt(value: Any, kind: str = "auto", name: str = "") -> str:
    """``value`` as a person reads it (``-`` when missing)."""
    if missing(value):
        return "-"
    if kind == "auto":
        kind = kind_of(name, value)
    try:
        return FORMATS[kind](value)
    except (TypeError, ValueError):  # a value of another type than its column's: as it is
        return str(value)


# -- the summary -----------------------------------------------------------------------------
# A unit at the end of a figure's name moves to its value: budget_thb -> "budget: 5,000 THB".
UNITS = {"_thb": "THB", "_km2": "km²", "_km": "km", "_m": "m", "_days": "days", "_t": "t"}
# What a None means for some options (other None figures are left out).
NONE_TEXT = {"kinds": "all", "types": "all", "fiscal_years": "all on record", "codes": "all"}


def label(key: str) -> tuple[str, str]:
    """A figure's name as words, and its unit: ``budget_thb`` -> ``('budget', 'THB')``."""
    for suffix, unit in UNITS.items():
        if key.endswith(suffix):
            return key[: -len(suffix)].replace("_", " "), unit
    return key.replace("_", " "), ""


def figure(key: str, value: Any) -> str:
    """One summary figure as text, with its unit."""
    words, unit = label(key)
    if isinstance(value, Mapping):
        return ", ".join(f"{fmt(k, 'term')} {figure(key, v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        if key == "fiscal_years" and len(value) == 2:
            return f"{value[0]} to {value[1]}"
        return ", ".join(fmt(v, name=key) for v in value) or "none"
    text = fmt(value, name=key)
    return f"{text} {unit}" if unit and text != "-" else text


def summary_pairs(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The summary's figures as (label, text), in order; ``share_X`` joins ``X``'s text as
    ``704 (75.9 %)`` when both are there."""
    pairs: list[tuple[str, str]] = []
    for key, value in summary.items():
        if key.startswith("share_") and key[len("share_") :] in summary:
            continue  # said with its count
        if value is None:
            if key in NONE_TEXT:
                pairs.append((label(key)[0], NONE_TEXT[key]))
            continue
        text = figure(key, value)
        share = summary.get(f"share_{key}")
        if share is not None and not missing(share):
            text += f" ({fmt(share, 'pct')})"
        pairs.append((label(key)[0], text))
    return pairs


def summary_grid(pairs: Sequence[tuple[str, str]], width: int) -> list[RenderableType]:
    """Short figures two to a line (label and value each within a quarter of the width, so
    a line never overflows), long ones on lines of their own."""
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    quarter = (width - 8) // 4  # four columns, two cells between each
    short = [p for p in pairs if cell_len(p[0]) <= quarter and cell_len(p[1]) <= quarter]
    grid = Table.grid(padding=(0, 2, 0, 0))
    for _ in range(2):
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(no_wrap=True)
    for i in range(0, len(short), 2):
        row = [*short[i], *(short[i + 1] if i + 1 < len(short) else ("", ""))]
        grid.add_row(*(Text(c) for c in row))
    out: list[RenderableType] = [grid] if short else []
    for words, text in (p for p in pairs if p not in short):
        out.append(Text.assemble((f"{words} ", "dim"), text))
    return out


# -- tables ----------------------------------------------------------------------------------
def console_width() -> int:
    """The terminal's width up to :data:`WIDTH` on a terminal; :data:`WIDTH` otherwise."""
    if sys.stdout.isatty():
        return max(40, min(shutil.get_terminal_size((WIDTH, 24)).columns, WIDTH))
    return WIDTH


AUTO_HEADERS = {"local body": "LGO"}


def auto_columns(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[Col]:
    """The columns of a table without a view: ids and English names dropped where a Thai
    name says the same, coordinates and geometries left out."""
    keys = [k for k in keys if k not in ("geometry", "lon", "lat")]
    drop = set()
    for key in keys:
        if key.endswith("_en") and f"{key[:-3]}_th" in keys:
            drop.add(key)
        if key.endswith("_id") and f"{key[:-3]}_th" in keys:
            drop.add(key)
    first = rows[0] if rows else {}
    cols = []
    for key in keys:
        if key in drop:
            continue
        words, unit = label(key.removesuffix("_th"))
        words = AUTO_HEADERS.get(words, words)
        kind = kind_of(key, first.get(key))
        header = f"{words} {unit}".strip() if kind != "pct" else f"{words} %"
        cells = NAME_CELLS if kind == "text" else None
        cols.append(Col(key, header, "auto", cells, min_cells=max(6, min(len(header), 12))))
    return cols


def table(
    rows: Sequence[Mapping[str, Any]],
    cols: Sequence[Col],
    *,
    width: int,
) -> Table:
    """A rich table of ``rows`` that fits ``width``: figures right-aligned and never cut, text
    cut with ``…`` (to its cap, then narrower while the table is too wide), columns that do
    not fit even so left out from the right."""
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table

    cols = [c for c in cols if any(c.key in r for r in rows)] if rows else list(cols)
    kinds = [c.kind if c.kind != "auto" else kind_of(c.key, _first(rows, c.key)) for c in cols]
    cells = [[fmt(r.get(c.key), k, c.key) for c, k in zip(cols, kinds, strict=True)] for r in rows]
    widths = []
    for i, col in enumerate(cols):
        natural = max([cell_len(col.header), *(cell_len(row[i]) for row in cells)])
        widths.append(min(natural, col.cells) if col.cells and kinds[i] in SQUEEZABLE else natural)
    flexible = [i for i, k in enumerate(kinds) if k in SQUEEZABLE]
    while sum(widths) + GAP * (len(widths) - 1) > width:
        squeezable = [i for i in flexible if widths[i] > cols[i].min_cells]
        if squeezable:
            widest = max(squeezable, key=lambda i: widths[i])
            widths[widest] -= 1
        elif len(cols) > 1:  # still too wide: drop the last column
            cols, kinds, widths = cols[:-1], kinds[:-1], widths[:-1]
            cells = [row[:-1] for row in cells]
            flexible = [i for i in flexible if i < len(cols)]
        else:
            break
    out = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
        header_style="bold",
    )
    for col, kind, w in zip(cols, kinds, widths, strict=True):
        out.add_column(
            col.header,
            width=w,
            no_wrap=True,
            overflow="ellipsis",
            justify="right" if kind in NUMERIC else "left",
        )
    for row in cells:
        out.add_row(*row)
    return out


def _first(rows: Sequence[Mapping[str, Any]], key: str) -> Any:
    for row in rows:
        value = row.get(key)
        if not missing(value):
            return value
    return None


def rows_limit(limit: int | None, everything: bool, default: int | None = None) -> int | None:
    """The rows a list prints: all with ``--all``, else ``--limit``, else the list's default
    (:data:`DEFAULT_LIMIT` when it has none)."""
    return None if everything else (limit or default or DEFAULT_LIMIT)


def more(total: int, shown: int, hint: str = "use --limit N or --all") -> str | None:
    """``… 3,337 more (use --limit N or --all)`` when rows were left out."""
    return f"… {total - shown:,} more ({hint})" if total > shown else None


def listing(
    rows: Sequence[Mapping[str, Any]],
    cols: Sequence[Col],
    *,
    heading: str,
    limit: int | None,
    width: int,
    hint: str = "use --limit N or --all",
) -> list[RenderableType]:
    """A heading with the row count, the first ``limit`` rows (None: all) as a table, and a
    line saying how many more there are."""
    from rich.text import Text

    total = len(rows)
    if not total:
        return [Text(f"{heading}: none", style="bold")]
    shown = rows if limit is None else rows[:limit]
    if len(shown) == total:
        title = f"{heading} ({total:,})"
    else:
        title = f"{heading}: first {len(shown):,} of {total:,}"
    # the heading as a line of its own: a table's title would wrap to a narrow table's width
    out: list[RenderableType] = [Text(title, style="bold"), table(shown, cols, width=width)]
    rest = more(total, len(shown), hint)
    if rest:
        out.append(Text(rest))
    return out


def render(parts: Iterable[RenderableType | str | None], *, width: int | None = None) -> str:
    """The parts as text, one after another (None left out; a str is one plain line); colours
    only on a terminal, no trailing blanks in a pipe."""
    from rich.console import Console
    from rich.text import Text

    tty = sys.stdout.isatty()
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width or console_width(),
        force_terminal=tty,
        no_color=not tty,
        highlight=False,
        markup=False,
        emoji=False,
    )
    for part in parts:
        if part is not None:
            console.print(Text(part) if isinstance(part, str) else part)
    text = buffer.getvalue()
    if not tty:
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text


def document(
    title: str,
    pairs: Sequence[tuple[str, str]],
    blocks: Sequence[Sequence[RenderableType]],
    *,
    notes: Sequence[str] = (),
    footer: Sequence[str] = (),
) -> str:
    """A whole text answer: the title, the summary, notes, each block after a blank line, then
    the footer (notes that explain the tables)."""
    from rich.text import Text

    width = console_width()
    parts: list[RenderableType | str | None] = [Text(title, style="bold")]
    parts += summary_grid(pairs, width)
    parts += list(notes)
    for block in blocks:
        parts.append("")
        parts += list(block)
    if footer:
        parts += ["", *footer]
    return render(parts, width=width)


# -- reports ---------------------------------------------------------------------------------
LGO = Col("local_body_th", "LGO", "text", NAME_CELLS)
LGO_EN = Col("local_body_en", "LGO", "text", NAME_CELLS)
NAME = Col("name_th", "name", "text", NAME_CELLS)
DISTRICT = Col("district_code", "district", "id")


def _coverage(place: Sequence[Col]) -> tuple[Col, ...]:
    return (
        *place,
        Col("villages", "villages", "int"),
        Col("villages_covered", "covered", "int"),
        Col("share_villages_covered", "covered %", "pct"),
        Col("households", "households", "int"),
        Col("households_covered", "covered", "int"),
        Col("share_households_covered", "covered %", "pct"),
    )


_VILLAGES = (
    Col("village_code", "code", "id"),
    Col("name_th", "village", "text", 22),
    Col("local_body_th", "LGO", "text", 24),
    Col("population", "population", "int"),
    Col("households", "households", "int"),
    Col("covered", "covered", "bool"),
    Col("distance_m", "distance m", "m"),
)
_COVERAGE = {
    "by_local_body": _coverage((Col("local_body_th", "LGO", "text", 30), DISTRICT)),
    "by_district": _coverage((DISTRICT, Col("district_th", "name", "text", 20))),
    "uncovered": _VILLAGES,
    "village": _VILLAGES,
    "unpaved_only": (
        Col("settlement_id", "id", "id"),
        Col("name_th", "village", "text", 24),
        Col("name_en", "village (en)", "text", 24),
        Col("population", "population", "int"),
        Col("surfaces_within", "surfaces within reach", "list", 30),
    ),
    "density": (
        Col("local_body_th", "LGO", "text", 30),
        Col("kind", "kind", "term"),
        Col("area_km2", "km²", "num"),
        Col("road_km", "road km", "num"),
        Col("density_km_per_km2", "km per km²", "num2"),
        Col("paved_share", "paved %", "pct"),
        Col("all_weather_share", "all-weather %", "pct"),
    ),
}
_PROGRAMME_ITEMS = (
    Col("rank", "rank", "id"),
    Col("status", "status", "term"),
    Col("asset", "asset", "text", 26, min_cells=24),
    Col("name_th", "name", "text", 22),
    Col("treatment", "treatment", "term", 16),
    Col("condition_class", "condition", "term"),
    Col("cost_thb", "cost THB", "thb"),
    Col("priority", "priority", "num"),
)
_SPLIT = (
    Col("funded_items", "funded", "int"),
    Col("funded_thb", "funded THB", "thb"),
    Col("deferred_items", "deferred", "int"),
    Col("deferred_thb", "deferred THB", "thb"),
)
_COORDINATION = (
    Col("backlog_items", "backlog", "int"),
    Col("backlog_thb", "backlog THB", "thb"),
    Col("programmed_works", "programmed", "int"),
    Col("programmed_thb", "programmed THB", "thb"),
)
_ZONES = (
    Col("land_use_code", "zone", "text"),
    Col("category_th", "category", "text", 28),
    Col("category_en", "category (en)", "text", 24),
    Col("share", "share %", "pct"),
    Col("plan_th", "plan", "text", 26),
    Col("effective_date", "from", "date"),
    Col("expiry_date", "until", "date"),
)

# The columns a person sees of each table, by (report title, table name). One place.
VIEWS: dict[tuple[str, str], tuple[Col, ...]] = {
    **{("water coverage", name): cols for name, cols in _COVERAGE.items()},
    **{("all-weather road access", name): cols for name, cols in _COVERAGE.items()},
    ("new water sources", "sites"): (
        Col("rank", "rank", "id"),
        Col("candidate", "candidate", "id"),
        Col("lon", "lon", "coord"),
        Col("lat", "lat", "coord"),
        Col("households_gained", "households", "int"),
        Col("population_gained", "population", "int"),
        Col("villages_gained", "villages", "int"),
        Col("cumulative_households", "households so far", "int"),
    ),
    ("zones at the point", "zones"): _ZONES,
    ("zones under the parcel", "zones"): _ZONES,
    ("zone areas (km²)", "areas"): (
        Col("plan_th", "plan", "text", 30),
        Col("local_body_th", "LGO", "text", 30),
        Col("category_th", "category", "text", 28),
        Col("category_en", "category (en)", "text", 24),
        Col("zones", "zones", "int"),
        Col("area_km2", "km²", "num2"),
    ),
    ("compliance", "zones"): (
        Col("land_use_code", "zone", "text"),
        Col("category_th", "category", "text", 22),
        Col("share", "share %", "pct"),
        Col("verdict", "verdict", "term"),
        Col("rule", "rule", "text"),
        Col("reason", "reason", "text", 48),
    ),
    ("hazard exposure", "totals"): (
        Col("hazard_type", "hazard", "term"),
        Col("severity", "severity", "term"),
        Col("road_km", "road km", "num"),
        Col("road_segments", "road segments", "int"),
        Col("bridges", "bridges", "int"),
        Col("water_sources", "water sources", "int"),
        Col("villages", "villages", "int"),
        Col("population", "population", "int"),
    ),
    ("hazard exposure", "by_local_body"): (
        Col("hazard_type", "hazard", "term"),
        Col("severity", "severity", "term"),
        LGO,
        Col("road_km", "road km", "num"),
        Col("bridges", "bridges", "int"),
        Col("water_sources", "water sources", "int"),
        Col("villages", "villages", "int"),
        Col("population", "population", "int"),
    ),
    ("condition distribution", "distribution"): (
        Col("asset_type", "asset", "term"),
        Col("local_body_en", "LGO", "text", 30),
        Col("road_class", "class", "term"),
        Col("surface", "surface", "term"),
        Col("owner", "owner", "text", 20),
        Col("assets", "assets", "int"),
        Col("share_good", "good %", "pct"),
        Col("share_fair", "fair %", "pct"),
        Col("share_poor", "poor %", "pct"),
        Col("share_very_poor", "very poor %", "pct"),
        Col("unknown", "not inspected", "int"),
    ),
    ("latest condition", "assets"): (
        Col("asset_type", "asset", "term"),
        Col("code", "code", "text", 16),
        NAME,
        Col("surface", "surface", "term"),
        Col("condition_class", "condition", "term"),
        Col("condition_index", "index", "num"),
        Col("inspected_on", "inspected", "date"),
        Col("owner", "owner", "text", 10),
    ),
    ("inspections due", "assets"): (
        Col("asset_type", "asset", "term"),
        Col("code", "code", "text", 16),
        Col("name_th", "name", "text", 24),
        Col("owner", "owner", "text", 10),
        Col("status", "status", "term"),
        Col("inspected_on", "inspected", "date"),
        Col("due_on", "due", "date"),
        Col("days_overdue", "days late", "int"),
    ),
    ("work programme", "funded"): tuple(c for c in _PROGRAMME_ITEMS if c.key != "status"),
    ("work programme", "deferred"): tuple(c for c in _PROGRAMME_ITEMS if c.key != "status"),
    ("work programme", "items"): _PROGRAMME_ITEMS,
    ("work programme", "by_funding_body"): (Col("funding_body", "funding body"), *_SPLIT),
    ("work programme", "by_local_body"): (Col("local_body_en", "LGO", "text", 30), *_SPLIT),
    ("budget coordination", "by_funding_body"): (
        Col("funding_body", "body", "id"),
        Col("name_en", "funding body", "text", 36),
        *_COORDINATION,
    ),
    ("budget coordination", "by_local_body"): (
        Col("local_body_code", "code", "id"),
        LGO,
        Col("funding_body", "body", "id"),
        *_COORDINATION,
    ),
    ("maintenance history", "spending"): (
        Col("fiscal_year", "FY", "id"),
        Col("local_body_th", "LGO", "text", 30),
        Col("treatment", "treatment", "term"),
        Col("funding_body", "funding body", "text"),
        Col("works", "works", "int"),
        Col("cost_thb", "cost THB", "thb"),
    ),
    ("maintenance history", "backlog"): (
        Col("fiscal_year", "FY", "id"),
        Col("items", "items", "int"),
        Col("routine_thb", "routine", "thb"),
        Col("periodic_thb", "periodic", "thb"),
        Col("rehabilitation_thb", "rehabilitation", "thb"),
        Col("reconstruction_thb", "reconstruction", "thb"),
        Col("backlog_thb", "backlog THB", "thb"),
    ),
    ("maintenance history", "trend"): (
        Col("fiscal_year", "FY", "id"),
        Col("road_km_inspected", "km inspected", "num"),
        Col("mean_condition_index", "mean index", "num"),
        Col("share_good", "good %", "pct"),
        Col("share_fair", "fair %", "pct"),
        Col("share_poor", "poor %", "pct"),
        Col("share_very_poor", "very poor %", "pct"),
        Col("bridges_poor", "bridges poor", "int"),
        Col("bridges_very_poor", "very poor", "int"),
    ),
}

# The columns of the commands that are not reports (a route, the connectivity analyses, the
# users and keys), here with VIEWS so the columns a person sees are chosen in one place.
# `network check`: counts by kind, the parts of the network, the findings.
CHECK_COUNT_COLUMNS = (
    Col("count", "found", "int"),
    Col("en", "finding", "text", 30),
    Col("th", "ข้อค้นพบ", "text", 30),
)
CHECK_ISLAND_COLUMNS = (
    Col("where", "part of the network", "text", 30),
    Col("n_roads", "roads", "int"),
    Col("length_m", "km", "km"),
    Col("n_villages", "villages", "int"),
    Col("population", "population", "int"),
    Col("distance_m", "m from main", "m"),
    Col("names", "villages", "text", 40),
)
CHECK_FINDING_COLUMNS = (
    Col("kind", "kind", "term"),
    Col("roads", "roads", "text", 24),
    Col("distance", "distance", "text"),
    Col("lon", "lon", "coord"),
    Col("lat", "lat", "coord"),
)

ROAD_RUN_COLUMNS = (  # Route.roads, its surfaces and owners each in one cell
    Col("code", "road", "text", 16),
    Col("name_th", "name", "text", 34),
    Col("surface", "surface", "text", 22),
    Col("length_m", "km", "km"),
    Col("time_s", "min", "min"),
    Col("owner", "owner", "text", 10),
    Col("n_segments", "segments", "int"),
)
BRIDGE_COLUMNS = (
    Col("bridge_id", "id", "id"),
    Col("name_th", "name", "text", 34),
    Col("road", "on road", "text", 14),
    Col("structure_type", "structure", "term"),
    Col("length_m", "length m", "m"),
    Col("limit", "load limit", "text"),
    Col("score", "condition", "text"),
    Col("inspected_on", "inspected", "date"),
)
OFFICE_COLUMNS = (
    Col("code", "code", "id"),
    Col("name_th", "LGO", "text", 34),
    Col("from_pao_s", "from PAO min", "min"),
    Col("nearest_s", "nearest min", "min"),
    Col("farthest_s", "farthest min", "min"),
    Col("reached", "offices reached", "int"),
)
COMPONENT_COLUMNS = (
    Col("component", "#", "id"),
    Col("nodes", "nodes", "int"),
    Col("length_km", "km", "num"),
    Col("lgos", "LGOs", "int"),
    Col("villages", "villages", "int"),
    Col("has_pao", "PAO office", "bool"),
)
PLACE_COLUMNS = (
    Col("kind", "kind", "term"),
    Col("ref", "code or id", "id"),
    Col("name_th", "name", "text", 34),
    Col("population", "population", "int"),
)
CRITICAL_COLUMNS = (
    Col("kind", "kind", "term"),
    Col("id", "id", "id"),
    Col("name_th", "name", "text", 30),
    Col("cut_off", "places cut off", "int"),
    Col("cut_off_population", "population", "int"),
    Col("lgos", "LGO offices cut off", "text", 16),
    Col("delayed", "delayed", "int"),
    Col("delayed_population", "population", "int"),
)
USER_COLUMNS = (
    Col("id", "id", "id"),
    Col("username", "user", "text", 24),
    Col("display_name", "name", "text", 26),
    Col("role", "role", "text"),
    Col("local_body_id", "local body", "id"),
    Col("state", "state", "text"),
)
KEY_COLUMNS = (
    Col("prefix", "prefix", "text"),
    Col("username", "user", "text", 24),
    Col("state", "state", "text"),
    Col("name", "for", "text", 30),
    Col("created_at", "created", "date"),
    Col("expires_at", "expires", "date"),
)

# The tables a report prints when none is asked for (by default its main table alone).
SECTIONS: dict[str, tuple[Section, ...]] = {
    "work programme": (
        Section("funded", "funded"),
        Section("deferred", "deferred, highest priority first", limit=10),
        Section("by_funding_body", "by funding body"),
    ),
    "hazard exposure": (
        Section("totals", "by hazard and severity"),
        Section("by_local_body", "by LGO"),
    ),
}
HEADINGS = {
    "by_local_body": "by LGO",
    "by_district": "by district",
    "uncovered": "villages not covered, most populous first",
    "village": "villages",
    "unpaved_only": "villages reached only by laterite or earth roads",
    "density": "road density by LGO",
    "sites": "sites, in the order chosen",
    "distribution": "condition",
    "trend": "road condition by fiscal year",
}


def sections(report: Report, table: str | None) -> tuple[Section, ...]:
    """The tables to print: the one asked for, the report's own choice, or its main table."""
    if table:
        return (Section(table),)
    return SECTIONS.get(report.title) or (Section(report.main),)


def render_report(
    report: Report, *, table: str | None = None, limit: int | None = None, everything: bool = False
) -> str:
    """A report as text: its title, its summary (the options it ran with and its figures),
    then its tables (:data:`SECTIONS`) with the columns of :data:`VIEWS`, each cut at
    ``limit`` rows (the section's default when None) unless ``everything``.

    Raises
    ------
    ValidationError
        When ``table`` is not one of the report's tables.
    """
    from gis_registry.analysis.output import table as flat

    width = console_width()
    blocks = []
    for section in sections(report, table):
        frame = report.table(section.table)
        rows = flat(frame).to_dict(orient="records")
        cols = VIEWS.get((report.title, section.table)) or auto_columns(rows, list(frame.columns))
        heading = section.heading or HEADINGS.get(section.table, section.table.replace("_", " "))
        shown = rows_limit(limit, everything, section.limit)
        blocks.append(listing(rows, cols, heading=heading, limit=shown, width=width))
    return document(report.title, summary_pairs(report.summary), blocks)
