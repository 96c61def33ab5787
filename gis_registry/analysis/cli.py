"""CLI commands of gis_registry.analysis (registered on the main `gis-registry` app).

``coverage water|roads``, ``siting water``, ``zoning at|parcel|areas|check``,
``hazard exposure``, ``maintenance condition|overdue|programme|history``; each prints a short
table, or ``--json`` (Thai kept, dates ISO, fiscal years BE) or ``--csv`` (UTF-8) to stdout.
Heavy imports (pandas, geopandas, the analyses) happen inside the commands.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

coverage_app = typer.Typer(help="Water and road coverage of villages.", no_args_is_help=True)
siting_app = typer.Typer(help="Where to put new water sources.", no_args_is_help=True)
zoning_app = typer.Typer(help="Comprehensive-plan zones and compliance.", no_args_is_help=True)
hazard_app = typer.Typer(help="Exposure to floods and landslides.", no_args_is_help=True)
maintenance_app = typer.Typer(
    help="Condition, inspections, work programme and history.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="print CSV (UTF-8)")]
OnOpt = Annotated[
    str | None, typer.Option("--on", help="date (YYYY-MM-DD) whose plans in force apply")
]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="date (YYYY-MM-DD); default today")]


def register(app: typer.Typer) -> None:
    """Add this package's commands to the main app; keep heavy imports inside the commands."""
    app.add_typer(coverage_app, name="coverage")
    app.add_typer(siting_app, name="siting")
    app.add_typer(zoning_app, name="zoning")
    app.add_typer(hazard_app, name="hazard")
    app.add_typer(maintenance_app, name="maintenance")


# -- plumbing --------------------------------------------------------------------------------
def _write(text: str) -> None:
    """Write UTF-8 whatever the terminal's encoding (Thai must survive a pipe to a file)."""
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        stream.flush()
        buffer.write(text.encode("utf-8"))
        buffer.flush()
    else:
        stream.write(text)


def _fail(exc: BaseException) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def _run(work):
    """Call ``work(conn)`` on a connection to the configured database (rolled back: the
    analyses only read), turning expected failures into ``error: ...`` and exit code 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from gis_registry.db import make_engine
    from gis_registry.errors import GisRegistryError
    from gis_registry.settings import Settings

    try:
        engine = make_engine(Settings())
        try:
            with engine.connect() as conn:
                return work(conn)
        finally:
            engine.dispose()
    except GisRegistryError as exc:
        _fail(exc)
    except SQLAlchemyError as exc:
        _fail(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0])


def _emit(payload: dict, frame, *, as_json: bool, as_csv: bool, title: str = "") -> None:
    from gis_registry.analysis import output

    if as_json and as_csv:
        _fail(ValueError("choose one of --json and --csv"))
    if as_json:
        _write(output.to_json(payload) + "\n")
    elif as_csv:
        _write(output.to_csv(frame))
    else:
        import pandas as pd

        lines = [title] if title else []
        lines += [
            f"{k}: {output.plain(v)}" for k, v in payload.items() if not isinstance(v, (list, dict))
        ]
        with pd.option_context("display.max_rows", 60, "display.width", 160):
            lines.append(output.table(frame).to_string(index=False) if len(frame) else "(none)")
        _write("\n".join(lines) + "\n")


def _date(value: str | None, name: str) -> date | None:
    from gis_registry.errors import ValidationError

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(ValidationError("analysis", [(None, name, f"'{value}' is not a YYYY-MM-DD date")]))


def _read_file(value: str, name: str):
    """A vector file in EPSG:4326 (any format GDAL reads), read as the imports read it: a file
    that does not declare its CRS is refused, never taken for lon/lat."""
    from gis_registry.errors import GisRegistryError, ValidationError
    from gis_registry.io.files import read_file

    try:
        frame = read_file(value)
    except GisRegistryError as exc:
        _fail(ValidationError(name, [(None, "file", str(exc))]))
    if frame.empty:
        _fail(ValidationError(name, [(None, "file", f"{value} holds no features")]))
    return frame


def _geometry(value: str, name: str):
    """WKT, or a vector file (reprojected to EPSG:4326, its features unioned)."""
    from gis_registry.errors import ValidationError

    if Path(value).exists():
        return _read_file(value, name).geometry.union_all()
    import shapely

    try:
        return shapely.from_wkt(value)
    except shapely.errors.GEOSException:
        _fail(ValidationError(name, [(None, "geometry", "neither a file nor WKT")]))


# -- coverage --------------------------------------------------------------------------------
@coverage_app.command("water")
def coverage_water(
    distance_m: Annotated[float, typer.Option("--distance-m", help="coverage radius (m)")],
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
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Villages and households within a distance of a water source, per LGO and district."""
    from gis_registry.analysis import coverage

    def work(conn):
        return coverage.water_coverage(
            conn,
            distance_m=distance_m,
            along_roads=along_roads,
            kinds=kind or None,
            nearest=nearest,
        )

    villages = _run(work)
    _coverage_output(
        villages,
        {"distance_m": distance_m, "along_roads": along_roads, "kinds": kind or None},
        by=by,
        as_json=as_json,
        as_csv=as_csv,
        title="water coverage",
    )


def _coverage_output(villages, head: dict, *, by, as_json, as_csv, title, extra=None) -> None:
    from gis_registry.analysis import coverage, output

    if by not in ("village", "local_body", "district"):
        _fail(ValueError("--by must be village, local_body or district"))
    by_lgo = coverage.coverage_by(villages, "local_body")
    by_district = coverage.coverage_by(villages, "district")
    village_cols = [
        "settlement_id",
        "village_code",
        "name_th",
        "name_en",
        "population",
        "households",
        "local_body_en",
        "district_code",
        "covered",
        "distance_m",
        "lon",
        "lat",
    ]
    payload = {
        **head,
        **coverage.coverage_totals(villages),
        "by_local_body": output.records(by_lgo),
        "by_district": output.records(by_district),
        "uncovered": output.records(coverage.uncovered_villages(villages), village_cols),
        **(extra or {}),
    }
    frame = {"village": villages, "local_body": by_lgo, "district": by_district}[by]
    _emit(payload, frame, as_json=as_json, as_csv=as_csv, title=title)


@coverage_app.command("roads")
def coverage_roads(
    distance_m: Annotated[
        float, typer.Option("--distance-m", help="village to all-weather road (m)")
    ] = 2000.0,
    by: Annotated[
        str, typer.Option(help="CSV rows: village, local_body, district or density")
    ] = "local_body",
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Villages with an all-weather road within a distance; road density and paved share per
    LGO; villages reached only by laterite or earth roads."""
    from gis_registry.analysis import coverage, output

    def work(conn):
        return coverage.road_access(conn, distance_m=distance_m), coverage.road_density(conn)

    access, density = _run(work)
    only = access[access["only_unpaved"]].sort_values("population", ascending=False)
    if by == "density":
        payload = {"distance_m": distance_m, "density": output.records(density)}
        _emit(payload, density, as_json=as_json, as_csv=as_csv, title="road density")
        return
    _coverage_output(
        access,
        {"distance_m": distance_m, "covered_means": "an all-weather road within distance_m"},
        by=by,
        as_json=as_json,
        as_csv=as_csv,
        title="all-weather road access",
        extra={
            "unpaved_only": output.records(
                only, ["settlement_id", "name_th", "name_en", "population", "surfaces_within"]
            ),
            "density": output.records(density),
        },
    )


# -- siting ----------------------------------------------------------------------------------
@siting_app.command("water")
def siting_water(
    n: Annotated[int, typer.Option("--n", help="most new sources to choose")],
    candidates: Annotated[
        str, typer.Option("--candidates", help="'grid' or a file of candidate points")
    ] = "grid",
    distance_m: Annotated[float, typer.Option("--distance-m", help="coverage radius (m)")] = 1000,
    grid_m: Annotated[float, typer.Option("--grid-m", help="grid spacing (m)")] = 1000,
    kind: Annotated[list[str] | None, typer.Option("--kind")] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Choose up to N new water sources covering the most uncovered households (greedy)."""
    from gis_registry.analysis import output
    from gis_registry.analysis.siting import site_water_sources

    points = candidates
    if candidates != "grid":
        points = _read_file(candidates, "siting candidates")

    sites = _run(
        lambda conn: site_water_sources(
            conn, n=n, distance_m=distance_m, candidates=points, grid_m=grid_m, kinds=kind or None
        )
    )
    payload = {
        "n": n,
        "distance_m": distance_m,
        "candidates": candidates,
        "chosen": len(sites),
        "households_gained": int(sites["households_gained"].sum()) if len(sites) else 0,
        "sites": output.records(sites),
    }
    _emit(payload, sites, as_json=as_json, as_csv=as_csv, title="new water sources")


# -- zoning ----------------------------------------------------------------------------------
@zoning_app.command("at")
def zoning_at(
    lon: Annotated[float, typer.Argument(help="longitude (EPSG:4326)")],
    lat: Annotated[float, typer.Argument(help="latitude")],
    on: OnOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """The zone at a point under the plans in force."""
    from gis_registry.analysis import output, zoning

    day = _date(on, "on") or date.today()
    zones = _run(lambda conn: zoning.zone_at(conn, lon, lat, on=day))
    payload = {"lon": lon, "lat": lat, "on": day, "zones": output.records(zones)}
    _emit(payload, zones, as_json=as_json, as_csv=as_csv, title="zones at the point")


@zoning_app.command("parcel")
def zoning_parcel(
    parcel: Annotated[str, typer.Argument(help="a vector file or WKT (EPSG:4326)")],
    on: OnOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """The zones under a parcel and the share of the parcel in each."""
    from gis_registry.analysis import output, zoning

    day = _date(on, "on") or date.today()
    geom = _geometry(parcel, "parcel")
    zones = _run(lambda conn: zoning.parcel_zones(conn, geom, on=day))
    payload = {"on": day, "zones": output.records(zones)}
    _emit(payload, zones, as_json=as_json, as_csv=as_csv, title="zones under the parcel")


@zoning_app.command("areas")
def zoning_areas_cmd(
    by: Annotated[str, typer.Option(help="plan or local_body")] = "plan",
    on: OnOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Area of each land-use category per plan or per LGO."""
    from gis_registry.analysis import output, zoning

    day = _date(on, "on") or date.today()
    areas = _run(lambda conn: zoning.zoning_areas(conn, by=by, on=day))
    payload = {"on": day, "by": by, "areas": output.records(areas)}
    _emit(payload, areas, as_json=as_json, as_csv=as_csv, title="zone areas (km²)")


@zoning_app.command("check")
def zoning_check(
    asset: Annotated[str, typer.Option("--asset", help="landfill, reservoir, factory, ...")],
    geom: Annotated[str, typer.Option("--geom", help="WKT or a vector file (EPSG:4326)")],
    on: OnOpt = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="your own rule table (CSV)")] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Is a proposed asset allowed in the zones it touches? With the rule and the reason."""
    from gis_registry.analysis import compliance, output

    day = _date(on, "on") or date.today()
    shape = _geometry(geom, "geom")
    if rules is not None and not rules.exists():
        from gis_registry.errors import ValidationError

        _fail(ValidationError("compliance", [(None, "rules", f"no file {rules}")]))
    result = _run(
        lambda conn: compliance.check_compliance(conn, asset=asset, geom=shape, on=day, rules=rules)
    )
    payload = {
        "asset": asset,
        "on": day,
        "verdict": compliance.overall_verdict(result),
        "zones": output.records(result),
    }
    _emit(payload, result, as_json=as_json, as_csv=as_csv, title="compliance")


# -- hazards ---------------------------------------------------------------------------------
@hazard_app.command("exposure")
def hazard_exposure_cmd(
    hazard_type: Annotated[
        list[str] | None, typer.Option("--type", help="flood or landslide (repeatable)")
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Road km, bridges, water sources and villages inside hazard areas, by severity and LGO."""
    from gis_registry.analysis import output
    from gis_registry.analysis.hazards import exposure_totals, hazard_exposure

    rows = _run(lambda conn: hazard_exposure(conn, hazard_types=hazard_type or None))
    payload = {
        "totals": output.records(exposure_totals(rows)),
        "by_local_body": output.records(rows),
    }
    _emit(payload, rows, as_json=as_json, as_csv=as_csv, title="hazard exposure")


# -- maintenance -----------------------------------------------------------------------------
@maintenance_app.command("condition")
def maintenance_condition(
    by: Annotated[
        str, typer.Option(help="local_body, road_class, surface, asset_type, owner or asset")
    ] = "local_body",
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Latest condition of every asset, and its distribution (``--by asset`` lists assets)."""
    from gis_registry.analysis import condition, output
    from gis_registry.errors import GisRegistryError

    day = _date(as_of, "as_of") or date.today()
    latest = _run(lambda conn: condition.latest_condition(conn, as_of=day))
    if by == "asset":
        payload = {"as_of": day, "assets": output.records(latest)}
        _emit(payload, latest, as_json=as_json, as_csv=as_csv, title="latest condition")
        return
    try:
        dist = condition.condition_distribution(latest, by=by)
    except GisRegistryError as exc:
        _fail(exc)
    payload = {"as_of": day, "by": by, "distribution": output.records(dist)}
    _emit(payload, dist, as_json=as_json, as_csv=as_csv, title="condition distribution")


@maintenance_app.command("overdue")
def maintenance_overdue(
    as_of: AsOfOpt = None,
    interval: Annotated[
        list[str] | None,
        typer.Option("--interval", help="TYPE=DAYS, e.g. bridge=730 (repeatable)"),
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Assets never inspected or overdue against the inspection interval of their type."""
    from gis_registry.analysis import condition, output
    from gis_registry.errors import ValidationError

    day = _date(as_of, "as_of") or date.today()
    intervals: dict[str, int] = {}
    for item in interval or []:
        key, _, days = item.partition("=")
        if not days.strip().isdigit():
            _fail(ValidationError("inspections", [(None, "interval", f"'{item}': TYPE=DAYS")]))
        intervals[key.strip()] = int(days)
    rows = _run(lambda conn: condition.overdue_inspections(conn, as_of=day, intervals=intervals))
    columns = [
        "asset_type",
        "asset_id",
        "code",
        "name_th",
        "name_en",
        "owner",
        "local_body_en",
        "status",
        "inspected_on",
        "due_on",
        "days_overdue",
    ]
    payload = {
        "as_of": day,
        "intervals_days": {**condition.INSPECTION_INTERVAL_DAYS, **intervals},
        "never": int((rows["status"] == "never").sum()),
        "overdue": int((rows["status"] == "overdue").sum()),
        "assets": output.records(rows, columns),
    }
    _emit(payload, rows[columns], as_json=as_json, as_csv=as_csv, title="inspections due")


@maintenance_app.command("programme")
def maintenance_programme(
    fiscal_year: Annotated[
        int, typer.Option("--fiscal-year", help="Thai fiscal year in BE, e.g. 2570")
    ],
    budget_thb: Annotated[float, typer.Option("--budget-thb", help="budget in THB")],
    funding_body: Annotated[
        list[str] | None,
        typer.Option("--funding-body", help="only works these bodies pay for (repeatable)"),
    ] = None,
    as_of: AsOfOpt = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="treatment rules (CSV)")] = None,
    no_criticality: Annotated[
        bool, typer.Option("--no-criticality", help="leave network criticality out")
    ] = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Treatments for roads and bridges, ranked and cut to the budget of a fiscal year."""
    from gis_registry.analysis import output, programme

    day = _date(as_of, "as_of")
    prog = _run(
        lambda conn: programme.work_programme(
            conn,
            fiscal_year=fiscal_year,
            budget_thb=budget_thb,
            as_of=day,
            funding_bodies=funding_body or None,
            rules=rules,
            criticality=False if no_criticality else None,
        )
    )
    fields = list(programme.ITEM_FIELDS)
    payload = {
        **prog.summary(),
        "funded": output.records(prog.funded, fields),
        "deferred": output.records(prog.deferred, fields),
        "by_funding_body": output.records(prog.split("funding_body")),
        "by_local_body": output.records(prog.split("local_body")),
    }
    items = prog.items[[*fields[:1], "status", *fields[1:]]]
    _emit(payload, items, as_json=as_json, as_csv=as_csv, title="work programme")


@maintenance_app.command("history")
def maintenance_history(
    by: Annotated[
        str, typer.Option(help="spending per total, local_body, treatment, funding_body")
    ] = "total",
    table: Annotated[
        str, typer.Option(help="CSV/text table: spending, backlog or trend")
    ] = "spending",
    first: Annotated[int | None, typer.Option("--from", help="first fiscal year (BE)")] = None,
    last: Annotated[int | None, typer.Option("--to", help="last fiscal year (BE)")] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Spending per fiscal year (BE), backlog per year and the trend of road condition."""
    from gis_registry.analysis import history, output

    if table not in ("spending", "backlog", "trend"):
        _fail(ValueError("--table must be spending, backlog or trend"))
    years = None
    if first is not None or last is not None:
        years = (first or last, last or first)

    def work(conn):
        return (
            history.spending(conn, by=by, fiscal_years=years),
            history.backlog(conn, fiscal_years=years),
            history.condition_trend(conn, fiscal_years=years),
        )

    spent, backlog, trend = _run(work)
    payload = {
        "by": by,
        "spending": output.records(spent),
        "backlog": output.records(backlog),
        "trend": output.records(trend),
    }
    frame = {"spending": spent, "backlog": backlog, "trend": trend}[table]
    _emit(payload, frame, as_json=as_json, as_csv=as_csv, title=f"history: {table}")
