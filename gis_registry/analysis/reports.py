"""Every analysis as one report: the parameters it ran with, its figures and its tables.

The CLI prints a report (``--json`` is :meth:`Report.to_dict`, ``--csv`` one of its tables),
the API returns :meth:`Report.to_dict`, notebooks read :attr:`Report.tables` as frames and
:class:`gis_registry.Registry` hands reports out. So the JSON of an analysis is assembled here
and nowhere else, and a contract test holds the CLI and the API to it.

Each function takes an open connection first and options keyword-only, checks every option
(a :class:`~gis_registry.errors.ValidationError` names the option and the valid choices) and
calls the analysis functions of :mod:`gis_registry.analysis`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from gis_registry.analysis import output
from gis_registry.analysis._frames import check_choice
from gis_registry.errors import ValidationError

# Options of the analyses, as the CLI and the API offer them.
COVERAGE_BY = ("village", "local_body", "district")
ROAD_COVERAGE_BY = (*COVERAGE_BY, "density")
ZONING_AREAS_BY = ("plan", "local_body")
CONDITION_BY = ("local_body", "road_class", "surface", "asset_type", "owner", "asset")
HISTORY_BY = ("total", "local_body", "treatment", "funding_body")
HISTORY_TABLES = ("spending", "backlog", "trend")
MAX_INTERVAL_DAYS = 36_500

# Columns of the tables that list villages and assets (the rest of the frame is internal).
VILLAGE_COLUMNS = (
    "settlement_id",
    "village_code",
    "name_th",
    "name_en",
    "population",
    "households",
    "local_body_id",
    "local_body_th",
    "local_body_en",
    "district_code",
    "covered",
    "distance_m",
    "lon",
    "lat",
)
UNPAVED_COLUMNS = ("settlement_id", "name_th", "name_en", "population", "surfaces_within")
OVERDUE_COLUMNS = (
    "asset_type",
    "asset_id",
    "code",
    "name_th",
    "name_en",
    "owner",
    "local_body_th",
    "local_body_en",
    "status",
    "inspected_on",
    "due_on",
    "days_overdue",
)


@dataclass
class Report:
    """The answer of one analysis.

    Attributes
    ----------
    title : what the analysis answers, for a printed heading
    summary : the parameters the analysis ran with and its single figures
    tables : its tables by name, in the order :meth:`to_dict` lists them
    columns : the columns a table shows (all of the frame's when not given)
    main : the table printed (text, CSV) when none is asked for
    csv_only : tables offered to print but left out of :meth:`to_dict` (long or repeated)
    """

    title: str
    summary: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    columns: dict[str, Sequence[str]] = field(default_factory=dict)
    main: str = ""
    csv_only: tuple[str, ...] = ()

    def table(self, name: str | None = None) -> pd.DataFrame:
        """One table (the main one by default), with the columns it shows.

        Raises
        ------
        ValidationError
            When the report has no table of that name.
        """
        name = name or self.main
        if name not in self.tables:
            raise ValidationError(
                "report", [(None, "table", f"'{name}' is not one of {', '.join(self.tables)}")]
            )
        frame = self.tables[name]
        columns = self.columns.get(name)
        if columns is None:
            return frame.copy()  # a caller adding a column must not change the report's JSON
        flat = output.table(frame)
        return flat[[c for c in columns if c in flat.columns]]

    @property
    def frame(self) -> pd.DataFrame:
        """The main table."""
        return self.table()

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (Thai as is, dates ISO, NaN as None)."""
        body = dict(self.summary)
        for name in self.tables:
            if name not in self.csv_only:
                body[name] = output.records(self.table(name))
        return output.plain(body)


def _today(day: date | None) -> date:
    return day or date.today()


# -- coverage --------------------------------------------------------------------------------
def _coverage_tables(villages: pd.DataFrame) -> dict[str, pd.DataFrame]:
    from gis_registry.analysis import coverage

    return {
        "by_local_body": coverage.coverage_by(villages, "local_body"),
        "by_district": coverage.coverage_by(villages, "district"),
        "uncovered": coverage.uncovered_villages(villages),
        "village": villages,
    }


def water_coverage(
    conn: Connection,
    *,
    distance_m: float,
    along_roads: bool = False,
    kinds: str | Sequence[str] | None = None,
    nearest: bool = False,
) -> Report:
    """Villages and households within ``distance_m`` of a water source, per LGO and district.

    Parameters
    ----------
    conn : an open connection
    distance_m : coverage radius in metres (straight line, or along roads)
    along_roads : measure along the road network
    kinds : only sources of these kinds (``domain.WATER_SOURCE_KINDS``); None = all
    nearest : name the nearest source of each covered village (slower)

    Returns
    -------
    Report
        Totals and shares; tables ``by_local_body``, ``by_district``, ``uncovered`` (most
        populous first) and ``village`` (every village; printed only).
    """
    from gis_registry.analysis import coverage

    kinds = coverage.check_kinds(kinds)
    villages = coverage.water_coverage(
        conn, distance_m=distance_m, along_roads=along_roads, kinds=kinds, nearest=nearest
    )
    return Report(
        "water coverage",
        {
            "distance_m": float(distance_m),
            "along_roads": along_roads,
            "kinds": kinds,
            **coverage.coverage_totals(villages),
        },
        _coverage_tables(villages),
        {"uncovered": VILLAGE_COLUMNS, "village": VILLAGE_COLUMNS},
        main="by_local_body",
        csv_only=("village",),
    )


def road_coverage(conn: Connection, *, distance_m: float = 2_000.0) -> Report:
    """Villages with an all-weather road within ``distance_m``; road density per LGO.

    Returns
    -------
    Report
        Totals and shares; tables ``by_local_body``, ``by_district``, ``uncovered``,
        ``unpaved_only`` (villages reached only by laterite or earth roads), ``density`` (road
        km per km² and paved share per LGO) and ``village`` (printed only).
    """
    from gis_registry.analysis import coverage

    access = coverage.road_access(conn, distance_m=distance_m)
    density = coverage.road_density(conn)
    only = access[access["only_unpaved"]].sort_values(
        ["population", "settlement_id"], ascending=[False, True]
    )
    return Report(
        "all-weather road access",
        {
            "distance_m": float(distance_m),
            "covered_means": "an all-weather road within distance_m",
            **coverage.coverage_totals(access),
        },
        {**_coverage_tables(access), "unpaved_only": only, "density": density},
        {"uncovered": VILLAGE_COLUMNS, "village": VILLAGE_COLUMNS, "unpaved_only": UNPAVED_COLUMNS},
        main="by_local_body",
        csv_only=("village",),
    )


# -- siting ----------------------------------------------------------------------------------
def water_siting(
    conn: Connection,
    *,
    n: int,
    distance_m: float = 1_000.0,
    candidates: Any = "grid",
    grid_m: float = 1_000.0,
    kinds: str | Sequence[str] | None = None,
) -> Report:
    """Up to ``n`` new water sources covering the most households not yet covered (greedy).

    Parameters
    ----------
    conn : an open connection
    n : most sources to choose, 1 to ``siting.MAX_SITES``
    distance_m : coverage radius in metres
    candidates : ``"grid"`` or candidate points in EPSG:4326 (a GeoDataFrame, shapely points
        or a MultiPoint)
    grid_m : grid spacing in metres, for ``candidates="grid"``
    kinds : existing sources of these kinds count as covering (None = all)

    Returns
    -------
    Report
        ``chosen`` and ``households_gained``; table ``sites`` in the order chosen.
    """
    from gis_registry.analysis.siting import candidate_points, site_water_sources

    given = not (isinstance(candidates, str) and candidates == "grid")
    if isinstance(candidates, str) and given:
        raise ValidationError("siting", [(None, "candidates", "'grid' or candidate points")])
    if given:
        candidates = candidate_points(candidates)
    sites = site_water_sources(
        conn, n=n, distance_m=distance_m, candidates=candidates, grid_m=grid_m, kinds=kinds
    )
    return Report(
        "new water sources",
        {
            "n": n,
            "distance_m": float(distance_m),
            "candidates": "points" if given else "grid",
            "candidates_given": len(candidates) if given else None,
            "grid_m": None if given else float(grid_m),
            "chosen": len(sites),
            "households_gained": int(sites["households_gained"].sum()) if len(sites) else 0,
        },
        {"sites": sites},
        main="sites",
    )


# -- zoning ----------------------------------------------------------------------------------
def zone_at(conn: Connection, lon: float, lat: float, *, on: date | None = None) -> Report:
    """The zones at a point (EPSG:4326) under the plans in force on ``on`` (default today)."""
    from gis_registry.analysis import zoning

    day = _today(on)
    zones = zoning.zone_at(conn, lon, lat, on=day)
    return Report(
        "zones at the point", {"lon": lon, "lat": lat, "on": day}, {"zones": zones}, main="zones"
    )


def parcel_zones(conn: Connection, parcel: Any, *, on: date | None = None) -> Report:
    """The zones under a parcel (WKT, WKB, GeoJSON or shapely; EPSG:4326) and their shares."""
    from gis_registry.analysis import zoning

    day = _today(on)
    zones = zoning.parcel_zones(conn, parcel, on=day)
    return Report("zones under the parcel", {"on": day}, {"zones": zones}, main="zones")


def zoning_areas(conn: Connection, *, by: str = "plan", on: date | None = None) -> Report:
    """Area (km²) of each land-use category per plan or per LGO (``by``)."""
    from gis_registry.analysis import zoning

    check_choice(by, ZONING_AREAS_BY, layer="zoning", field="by")
    day = _today(on)
    areas = zoning.zoning_areas(conn, by=by, on=day)
    return Report("zone areas (km²)", {"on": day, "by": by}, {"areas": areas}, main="areas")


def zoning_check(
    conn: Connection,
    *,
    asset: str,
    geom: Any,
    on: date | None = None,
    rules: pd.DataFrame | str | Path | None = None,
) -> Report:
    """Whether a proposed asset is allowed in the zones it touches, with rule and reason.

    ``rules`` is a rule table (CSV path or frame) replacing the packaged one.
    """
    from gis_registry.analysis import compliance

    day = _today(on)
    result = compliance.check_compliance(conn, asset=asset, geom=geom, on=day, rules=rules)
    return Report(
        "compliance",
        {"asset": asset, "on": day, "verdict": compliance.overall_verdict(result)},
        {"zones": result},
        main="zones",
    )


# -- hazards ---------------------------------------------------------------------------------
def hazard_exposure(conn: Connection, *, hazard_types: Sequence[str] | None = None) -> Report:
    """Road km, bridges, water sources and villages inside hazard areas, by severity and LGO."""
    from gis_registry import domain
    from gis_registry.analysis.hazards import exposure_totals
    from gis_registry.analysis.hazards import hazard_exposure as exposure

    for value in hazard_types or ():
        check_choice(value, domain.HAZARD_TYPES, layer="hazard_areas", field="type")
    rows = exposure(conn, hazard_types=list(hazard_types) if hazard_types else None)
    return Report(
        "hazard exposure",
        {"types": list(hazard_types) if hazard_types else list(domain.HAZARD_TYPES)},
        {"totals": exposure_totals(rows), "by_local_body": rows},
        main="by_local_body",
    )


# -- maintenance -----------------------------------------------------------------------------
def condition(conn: Connection, *, by: str = "local_body", as_of: date | None = None) -> Report:
    """Latest condition of every asset on ``as_of``, and its distribution ``by`` a grouping
    (``by="asset"`` lists the assets themselves)."""
    from gis_registry.analysis import condition as cond

    check_choice(by, CONDITION_BY, layer="condition", field="by")
    day = _today(as_of)
    latest = cond.latest_condition(conn, as_of=day)
    if by == "asset":
        return Report(
            "latest condition", {"as_of": day, "by": by}, {"assets": latest}, main="assets"
        )
    dist = cond.condition_distribution(latest, by=by)
    return Report(
        "condition distribution",
        {"as_of": day, "by": by},
        {"distribution": dist},
        main="distribution",
    )


def parse_intervals(values: Iterable[str] | Mapping[str, int] | None) -> dict[str, int]:
    """Inspection intervals from ``TYPE=DAYS`` strings (or a mapping), checked.

    Raises
    ------
    ValidationError
        Naming each value that is not an asset type with a whole number of days, 1 to 36,500.
    """
    from gis_registry.analysis.condition import ASSET_TYPES

    pairs: list[tuple[str, Any]]
    if values is None:
        return {}
    if isinstance(values, Mapping):
        pairs = [(str(k), v) for k, v in values.items()]
    else:
        pairs = [(k.strip(), d.strip()) for k, _eq, d in (str(v).partition("=") for v in values)]
    out: dict[str, int] = {}
    problems: list[tuple[str | int | None, str, str]] = []
    for key, days in pairs:
        text = str(days).strip()
        if key not in ASSET_TYPES or not text.isdigit() or not 0 < int(text) <= MAX_INTERVAL_DAYS:
            problems.append(
                (
                    None,
                    "interval",
                    f"'{key}={days}': expected TYPE=DAYS with TYPE one of "
                    f"{', '.join(ASSET_TYPES)} and DAYS 1-{MAX_INTERVAL_DAYS:,}",
                )
            )
        else:
            out[key] = int(text)
    if problems:
        raise ValidationError("inspections", problems)
    return out


def overdue(
    conn: Connection,
    *,
    as_of: date | None = None,
    intervals: Iterable[str] | Mapping[str, int] | None = None,
) -> Report:
    """Assets never inspected or overdue on ``as_of`` against the interval of their type.

    ``intervals`` overrides ``condition.INSPECTION_INTERVAL_DAYS`` (``{"bridge": 730}`` or
    ``["bridge=730"]``).
    """
    from gis_registry.analysis import condition as cond

    day = _today(as_of)
    chosen = parse_intervals(intervals)
    rows = cond.overdue_inspections(conn, as_of=day, intervals=chosen)
    return Report(
        "inspections due",
        {
            "as_of": day,
            "intervals_days": {**cond.INSPECTION_INTERVAL_DAYS, **chosen},
            "never": int((rows["status"] == "never").sum()),
            "overdue": int((rows["status"] == "overdue").sum()),
        },
        {"assets": rows},
        {"assets": OVERDUE_COLUMNS},
        main="assets",
    )


def programme(
    conn: Connection,
    *,
    fiscal_year: int,
    budget_thb: float,
    funding_bodies: str | Sequence[str] | None = None,
    as_of: date | None = None,
    rules: pd.DataFrame | str | Path | None = None,
    criticality: bool = True,
) -> Report:
    """Treatments for roads and bridges, ranked and cut to one body's budget in a Thai fiscal
    year.

    Parameters
    ----------
    conn : an open connection
    fiscal_year : Thai fiscal year in BE (FY 2570 runs 1 Oct 2026 - 30 Sep 2027)
    budget_thb : the budget in THB
    funding_bodies : whose budget (``domain.FUNDING_BODIES``); default (None) the PAO's: its
        own roads and bridges and the LGO assets it supports, never DOH or DRR assets
    as_of : condition as inspected up to this day (default: the fiscal year's start or today)
    rules : treatment rules (CSV path or frame) replacing the packaged ones
    criticality : weigh network criticality into the priority

    Returns
    -------
    Report
        Budget, funded and deferred totals, what other bodies would pay for
        (``other_bodies_*``); tables ``funded``, ``deferred``, ``by_funding_body``,
        ``by_local_body`` and ``items`` (all, with status; printed only).
    """
    from gis_registry.analysis import programme as prog_

    prog = prog_.work_programme(
        conn,
        fiscal_year=fiscal_year,
        budget_thb=budget_thb,
        as_of=as_of,
        funding_bodies=funding_bodies,
        rules=rules,
        criticality=None if criticality else False,
    )
    fields = list(prog_.ITEM_FIELDS)
    return Report(
        "work programme",
        prog.summary(),
        {
            "funded": prog.funded,
            "deferred": prog.deferred,
            "by_funding_body": prog.split("funding_body"),
            "by_local_body": prog.split("local_body"),
            "items": prog.items,
        },
        {
            "funded": fields,
            "deferred": fields,
            "items": [*fields[:1], "status", *fields[1:]],
        },
        main="items",
        csv_only=("items",),
    )


def coordination(
    conn: Connection,
    *,
    fiscal_year: int,
    as_of: date | None = None,
    rules: pd.DataFrame | str | Path | None = None,
) -> Report:
    """Every funding body's backlog and programmed works in a Thai fiscal year, per LGO: what
    the PAO needs to coordinate plans and budgets with the LGOs and the agencies.

    Parameters
    ----------
    conn : an open connection
    fiscal_year : Thai fiscal year in BE
    as_of : condition as inspected up to this day (default as the programme's)
    rules : treatment rules (CSV path or frame) replacing the packaged ones

    Returns
    -------
    Report
        Totals; tables ``by_funding_body`` (every body; its ``backlog_thb`` equals that
        body's programme's) and ``by_local_body`` (one row per LGO and body).
    """
    from gis_registry.analysis import coordination as coord_

    c = coord_.coordination(conn, fiscal_year=fiscal_year, as_of=as_of, rules=rules)
    return Report(
        "budget coordination",
        c.summary(),
        {"by_funding_body": c.by_funding_body, "by_local_body": c.by_local_body},
        main="by_funding_body",
    )


def year_range(first: int | None, last: int | None) -> tuple[int, int] | None:
    """An inclusive range of fiscal years from its two ends; one end alone is that one year."""
    if first is None:
        return None if last is None else (last, last)
    return (first, first if last is None else last)


def maintenance_history(
    conn: Connection, *, by: str = "total", fiscal_years: tuple[int, int] | None = None
) -> Report:
    """Spending per fiscal year (BE) ``by`` a grouping, backlog per year and condition trend.

    ``fiscal_years`` is an inclusive (first, last) range in BE; None = every year on record.
    """
    from gis_registry.analysis import history

    check_choice(by, HISTORY_BY, layer="history", field="by")
    return Report(
        "maintenance history",
        {"by": by, "fiscal_years": list(fiscal_years) if fiscal_years else None},
        {
            "spending": history.spending(conn, by=by, fiscal_years=fiscal_years),
            "backlog": history.backlog(conn, fiscal_years=fiscal_years),
            "trend": history.condition_trend(conn, fiscal_years=fiscal_years),
        },
        main="spending",
    )
