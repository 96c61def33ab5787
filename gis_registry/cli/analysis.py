"""``coverage``, ``siting``, ``zoning``, ``hazard`` and ``maintenance``: each command parses its
options, asks :mod:`gis_registry.analysis.reports` for the report and prints it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_registry.cli._common import (
    DATE,
    AllOpt,
    Commands,
    CsvOpt,
    JsonOpt,
    LimitOpt,
    emit,
    parse_amount,
    parse_date,
    read_file,
    read_geometry,
    run,
)

coverage_app = typer.Typer(
    cls=Commands, help="Water and road coverage of villages.", no_args_is_help=True
)
siting_app = typer.Typer(cls=Commands, help="Where to put new water sources.", no_args_is_help=True)
zoning_app = typer.Typer(
    cls=Commands, help="Comprehensive-plan zones and compliance.", no_args_is_help=True
)
hazard_app = typer.Typer(
    cls=Commands, help="Exposure to floods and landslides.", no_args_is_help=True
)
maintenance_app = typer.Typer(
    cls=Commands, help="Condition, inspections, work programme and history.", no_args_is_help=True
)

OnOpt = Annotated[
    str | None,
    typer.Option("--on", metavar=DATE, help="date whose plans in force apply; default today"),
]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", metavar=DATE, help="default today")]
FiscalYearOpt = Annotated[
    int, typer.Option("--fiscal-year", metavar="YEAR", help="Thai fiscal year in BE, e.g. 2570")
]
# --by of the coverage commands names the table printed as CSV or text.
_COVERAGE_TABLES = {
    "village": "village",
    "local_body": "by_local_body",
    "district": "by_district",
    "density": "density",
}


def register(app: typer.Typer) -> None:
    """Add the analysis command groups to the main app."""
    app.add_typer(coverage_app, name="coverage")
    app.add_typer(siting_app, name="siting")
    app.add_typer(zoning_app, name="zoning")
    app.add_typer(hazard_app, name="hazard")
    app.add_typer(maintenance_app, name="maintenance")


def _coverage_table(by: str, allowed: tuple[str, ...]) -> str:
    from gis_registry.cli._common import fail

    if by not in allowed:
        fail(f"--by must be one of {', '.join(allowed)}")
    return _COVERAGE_TABLES[by]


# -- coverage --------------------------------------------------------------------------------
@coverage_app.command("water")
def coverage_water(
    distance_m: Annotated[
        float, typer.Option("--distance-m", metavar="METRES", help="coverage radius")
    ],
    along_roads: Annotated[
        bool, typer.Option("--along-roads", help="measure along the road network")
    ] = False,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="only sources of this kind (repeatable)")
    ] = None,
    by: Annotated[str, typer.Option(help="CSV rows: village, local_body or district")] = (
        "local_body"
    ),
    nearest: Annotated[
        bool, typer.Option("--nearest", help="name the nearest source of each village (slower)")
    ] = False,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Villages and households within a distance of a water source, per LGO and district."""
    from gis_registry.analysis import reports
    from gis_registry.analysis.reports import COVERAGE_BY

    table = _coverage_table(by, COVERAGE_BY)
    report = run(
        lambda conn: reports.water_coverage(
            conn, distance_m=distance_m, along_roads=along_roads, kinds=kind, nearest=nearest
        )
    )
    emit(report, as_json=as_json, as_csv=as_csv, limit=limit, everything=show_all, table=table)


@coverage_app.command("roads")
def coverage_roads(
    distance_m: Annotated[
        float,
        typer.Option("--distance-m", metavar="METRES", help="village to all-weather road"),
    ] = 2000.0,
    by: Annotated[
        str, typer.Option(help="CSV rows: village, local_body, district or density")
    ] = "local_body",
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Villages with an all-weather road within a distance; road density and paved share per
    LGO; villages reached only by laterite or earth roads."""
    from gis_registry.analysis import reports
    from gis_registry.analysis.reports import ROAD_COVERAGE_BY

    table = _coverage_table(by, ROAD_COVERAGE_BY)
    report = run(lambda conn: reports.road_coverage(conn, distance_m=distance_m))
    emit(report, as_json=as_json, as_csv=as_csv, limit=limit, everything=show_all, table=table)


# -- siting ----------------------------------------------------------------------------------
@siting_app.command("water")
def siting_water(
    n: Annotated[int, typer.Option("--n", help="most new sources to choose")],
    candidates: Annotated[
        str, typer.Option("--candidates", help="'grid' or a file of candidate points")
    ] = "grid",
    distance_m: Annotated[
        float, typer.Option("--distance-m", metavar="METRES", help="coverage radius")
    ] = 1000,
    grid_m: Annotated[
        float, typer.Option("--grid-m", metavar="METRES", help="grid spacing")
    ] = 1000,
    kind: Annotated[list[str] | None, typer.Option("--kind")] = None,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Choose up to N new water sources covering the most uncovered households (greedy)."""
    from gis_registry.analysis import reports

    points = candidates if candidates == "grid" else read_file(candidates, "siting candidates")
    report = run(
        lambda conn: reports.water_siting(
            conn, n=n, distance_m=distance_m, candidates=points, grid_m=grid_m, kinds=kind
        )
    )
    emit(report, as_json=as_json, as_csv=as_csv, limit=limit, everything=show_all)


# -- zoning ----------------------------------------------------------------------------------
@zoning_app.command("at")
def zoning_at(
    lon: Annotated[float, typer.Argument(help="longitude (EPSG:4326)")],
    lat: Annotated[float, typer.Argument(help="latitude")],
    on: OnOpt = None,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """The zone at a point under the plans in force."""
    from gis_registry.analysis import reports

    day = parse_date(on, "on")
    emit(
        run(lambda conn: reports.zone_at(conn, lon, lat, on=day)),
        as_json=as_json,
        as_csv=as_csv,
        limit=limit,
        everything=show_all,
    )


@zoning_app.command("parcel")
def zoning_parcel(
    parcel: Annotated[str, typer.Argument(help="a vector file, WKT or GeoJSON (EPSG:4326)")],
    on: OnOpt = None,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """The zones under a parcel and the share of the parcel in each."""
    from gis_registry.analysis import reports

    day = parse_date(on, "on")
    geom = read_geometry(parcel, "parcel")
    emit(
        run(lambda conn: reports.parcel_zones(conn, geom, on=day)),
        as_json=as_json,
        as_csv=as_csv,
        limit=limit,
        everything=show_all,
    )


@zoning_app.command("areas")
def zoning_areas(
    by: Annotated[str, typer.Option(help="plan or local_body")] = "plan",
    on: OnOpt = None,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Area of each land-use category per plan or per LGO."""
    from gis_registry.analysis import reports

    day = parse_date(on, "on")
    emit(
        run(lambda conn: reports.zoning_areas(conn, by=by, on=day)),
        as_json=as_json,
        as_csv=as_csv,
        limit=limit,
        everything=show_all,
    )


@zoning_app.command("check")
def zoning_check(
    asset: Annotated[str, typer.Option("--asset", help="landfill, reservoir, factory, ...")],
    geom: Annotated[str, typer.Option("--geom", help="WKT, GeoJSON or a vector file")],
    on: OnOpt = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="your own rule table (CSV)")] = None,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Is a proposed asset allowed in the zones it touches? With the rule and the reason."""
    from gis_registry.analysis import reports

    day = parse_date(on, "on")
    shape = read_geometry(geom, "geom")
    report = run(
        lambda conn: reports.zoning_check(conn, asset=asset, geom=shape, on=day, rules=rules)
    )
    emit(report, as_json=as_json, as_csv=as_csv, limit=limit, everything=show_all)


# -- hazards ---------------------------------------------------------------------------------
@hazard_app.command("exposure")
def hazard_exposure(
    hazard_type: Annotated[
        list[str] | None, typer.Option("--type", help="flood or landslide (repeatable)")
    ] = None,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Road km, bridges, water sources and villages inside hazard areas, by severity and LGO."""
    from gis_registry.analysis import reports

    report = run(lambda conn: reports.hazard_exposure(conn, hazard_types=hazard_type))
    emit(report, as_json=as_json, as_csv=as_csv, limit=limit, everything=show_all)


# -- maintenance -----------------------------------------------------------------------------
@maintenance_app.command("condition")
def maintenance_condition(
    by: Annotated[
        str, typer.Option(help="local_body, road_class, surface, asset_type, owner or asset")
    ] = "local_body",
    as_of: AsOfOpt = None,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Latest condition of every asset, and its distribution (``--by asset`` lists assets)."""
    from gis_registry.analysis import reports

    day = parse_date(as_of, "as_of")
    emit(
        run(lambda conn: reports.condition(conn, by=by, as_of=day)),
        as_json=as_json,
        as_csv=as_csv,
        limit=limit,
        everything=show_all,
    )


@maintenance_app.command("overdue")
def maintenance_overdue(
    as_of: AsOfOpt = None,
    interval: Annotated[
        list[str] | None,
        typer.Option("--interval", help="TYPE=DAYS, e.g. bridge=730 (repeatable)"),
    ] = None,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Assets never inspected or overdue against the inspection interval of their type."""
    from gis_registry.analysis import reports

    day = parse_date(as_of, "as_of")
    report = run(lambda conn: reports.overdue(conn, as_of=day, intervals=interval))
    emit(report, as_json=as_json, as_csv=as_csv, limit=limit, everything=show_all)


@maintenance_app.command("programme")
def maintenance_programme(
    fiscal_year: FiscalYearOpt,
    budget_thb: Annotated[
        str,
        typer.Option(
            "--budget-thb", metavar="THB", help="budget: 50000000, 50,000,000, 50m or 5e7"
        ),
    ],
    funding_body: Annotated[
        list[str] | None,
        typer.Option(
            "--funding-body",
            metavar="BODY",
            help="whose budget: pao (the default: the PAO's roads and bridges and the LGO "
            "roads it supports), lgo, doh, drr, dwr, central_subsidy, other (repeatable)",
        ),
    ] = None,
    as_of: AsOfOpt = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="treatment rules (CSV)")] = None,
    no_criticality: Annotated[
        bool, typer.Option("--no-criticality", help="leave network criticality out")
    ] = False,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Treatments for roads and bridges, ranked and cut to one body's budget (the PAO's unless
    --funding-body) in a Thai fiscal year; DOH and DRR assets never draw on the PAO's."""
    from gis_registry.analysis import reports

    day = parse_date(as_of, "as_of")
    budget = parse_amount(budget_thb, "budget_thb")
    report = run(
        lambda conn: reports.programme(
            conn,
            fiscal_year=fiscal_year,
            budget_thb=budget,
            funding_bodies=funding_body,
            as_of=day,
            rules=rules,
            criticality=not no_criticality,
        )
    )
    emit(report, as_json=as_json, as_csv=as_csv, limit=limit, everything=show_all)


@maintenance_app.command("coordination")
def maintenance_coordination(
    fiscal_year: FiscalYearOpt,
    by: Annotated[
        str, typer.Option(help="CSV/text table: funding_body or local_body")
    ] = "funding_body",
    as_of: AsOfOpt = None,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """For each funding body and each LGO: the backlog of treatments, and the works already
    programmed in the fiscal year with their cost (to coordinate budgets across bodies)."""
    from gis_registry.analysis import reports
    from gis_registry.cli._common import fail

    if by not in ("funding_body", "local_body"):
        fail("--by must be one of funding_body, local_body")
    day = parse_date(as_of, "as_of")
    report = run(lambda conn: reports.coordination(conn, fiscal_year=fiscal_year, as_of=day))
    emit(
        report,
        as_json=as_json,
        as_csv=as_csv,
        table=f"by_{by}",
        limit=limit,
        everything=show_all,
    )


@maintenance_app.command("history")
def maintenance_history(
    by: Annotated[
        str, typer.Option(help="spending per total, local_body, treatment, funding_body")
    ] = "total",
    table: Annotated[
        str, typer.Option(help="CSV/text table: spending, backlog or trend")
    ] = "spending",
    first: Annotated[
        int | None, typer.Option("--from", metavar="YEAR", help="first fiscal year (BE)")
    ] = None,
    last: Annotated[
        int | None, typer.Option("--to", metavar="YEAR", help="last fiscal year (BE)")
    ] = None,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Spending per fiscal year (BE), backlog per year and the trend of road condition."""
    from gis_registry.analysis import reports

    years = reports.year_range(first, last)
    report = run(lambda conn: reports.maintenance_history(conn, by=by, fiscal_years=years))
    emit(report, as_json=as_json, as_csv=as_csv, limit=limit, everything=show_all, table=table)
