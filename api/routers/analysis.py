"""Analyses over HTTP. Each endpoint parses, calls the library function the CLI calls, and
answers JSON (numbers, ISO dates, Thai as is). An analysis runs under a statement timeout
(``analysis_timeout_ms``) and is abandoned past it: the caller gets a 504 problem, not a hang.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import Connection

from api.deps import Reader, ServiceState, State
from api.errors import AnalysisTimeout, InvalidParameter
from api.formats import JSON

router = APIRouter(prefix="/analysis", tags=["Analyses"])

Distance = Annotated[float, Query(gt=0, le=100_000, description="metres")]
Day = Annotated[dt.date | None, Query(description="YYYY-MM-DD; default today")]
Geom = Annotated[
    str, Query(min_length=1, max_length=200_000, description="WKT or GeoJSON in EPSG:4326")
]


async def run_analysis(state: ServiceState, work: Callable[[Connection], Any]) -> Any:
    """``work(conn)`` in a worker thread, on a read-only transaction with a statement timeout."""
    timeout_ms = int(state.settings.analysis_timeout_ms)

    def job() -> Any:
        with state.engine.connect() as conn:
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {timeout_ms}")
            try:
                return work(conn)
            finally:
                conn.rollback()

    try:
        # the statement timeout bounds SQL; this bounds the Python part too
        return await asyncio.wait_for(run_in_threadpool(job), timeout_ms / 1000 + 5)
    except TimeoutError:
        raise AnalysisTimeout(
            f"the analysis did not finish within {timeout_ms / 1000:g} s; narrow it down"
        ) from None


def answer(payload: dict[str, Any]) -> Response:
    from gis_registry.analysis import output

    return Response(
        orjson.dumps(output.plain(payload), option=orjson.OPT_NON_STR_KEYS), media_type=JSON
    )


def parse_geometry(value: str, parameter: str):
    from gis_registry.validation import parse_geometry as parse

    try:
        geom = parse(value)
    except Exception as exc:  # shapely and json raise several types
        raise InvalidParameter(parameter, f"neither WKT nor a GeoJSON geometry: {exc}") from None
    if geom is None or geom.is_empty:
        raise InvalidParameter(parameter, "the geometry is empty")
    return geom


def choice(value: str, allowed: tuple[str, ...], parameter: str) -> str:
    if value not in allowed:
        raise InvalidParameter(parameter, f"'{value}' is not one of {', '.join(allowed)}")
    return value


# -- coverage --------------------------------------------------------------------------------
@router.get(
    "/coverage/water",
    summary="Villages within reach of a water source",
    operation_id="waterCoverage",
)
async def coverage_water(
    state: State,
    _: Reader,
    distance_m: Distance,
    along_roads: bool = False,
    kind: Annotated[list[str] | None, Query(max_length=20)] = None,
) -> Response:
    from gis_registry.analysis import coverage, output

    villages = await run_analysis(
        state,
        lambda conn: coverage.water_coverage(
            conn, distance_m=distance_m, along_roads=along_roads, kinds=kind or None
        ),
    )
    return answer(
        {
            "distance_m": distance_m,
            "along_roads": along_roads,
            "kinds": kind or None,
            **coverage.coverage_totals(villages),
            "by_local_body": output.records(coverage.coverage_by(villages, "local_body")),
            "by_district": output.records(coverage.coverage_by(villages, "district")),
            "uncovered": output.records(coverage.uncovered_villages(villages)),
        }
    )


@router.get(
    "/coverage/roads",
    summary="All-weather road access and road density",
    operation_id="roadCoverage",
)
async def coverage_roads(state: State, _: Reader, distance_m: Distance = 2000.0) -> Response:
    from gis_registry.analysis import coverage, output

    access, density = await run_analysis(
        state,
        lambda conn: (
            coverage.road_access(conn, distance_m=distance_m),
            coverage.road_density(conn),
        ),
    )
    only = access[access["only_unpaved"]].sort_values("population", ascending=False)
    return answer(
        {
            "distance_m": distance_m,
            **coverage.coverage_totals(access),
            "by_local_body": output.records(coverage.coverage_by(access, "local_body")),
            "by_district": output.records(coverage.coverage_by(access, "district")),
            "uncovered": output.records(coverage.uncovered_villages(access)),
            "unpaved_only": output.records(
                only, ["settlement_id", "name_th", "name_en", "population", "surfaces_within"]
            ),
            "density": output.records(density),
        }
    )


@router.get(
    "/siting/water",
    summary="Where new water sources would cover the most households",
    operation_id="siteWaterSources",
)
async def siting_water(
    state: State,
    _: Reader,
    n: Annotated[int, Query(ge=1, le=200)],
    distance_m: Distance = 1000.0,
    grid_m: Annotated[float, Query(ge=100, le=50_000)] = 1000.0,
    kind: Annotated[list[str] | None, Query(max_length=20)] = None,
) -> Response:
    from gis_registry.analysis import output
    from gis_registry.analysis.siting import site_water_sources

    sites = await run_analysis(
        state,
        lambda conn: site_water_sources(
            conn,
            n=n,
            distance_m=distance_m,
            candidates="grid",
            grid_m=grid_m,
            kinds=kind or None,
        ),
    )
    return answer(
        {
            "n": n,
            "distance_m": distance_m,
            "chosen": len(sites),
            "households_gained": int(sites["households_gained"].sum()) if len(sites) else 0,
            "sites": output.records(sites),
        }
    )


# -- zoning ----------------------------------------------------------------------------------
@router.get("/zoning/at", summary="The zone at a point", operation_id="zoneAt")
async def zoning_at(
    state: State,
    _: Reader,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    on: Day = None,
) -> Response:
    from gis_registry.analysis import output, zoning

    day = on or dt.date.today()
    zones = await run_analysis(state, lambda conn: zoning.zone_at(conn, lon, lat, on=day))
    return answer({"lon": lon, "lat": lat, "on": day, "zones": output.records(zones)})


@router.get(
    "/zoning/parcel", summary="The zones under a parcel, with shares", operation_id="parcelZones"
)
async def zoning_parcel(state: State, _: Reader, geom: Geom, on: Day = None) -> Response:
    from gis_registry.analysis import output, zoning

    day = on or dt.date.today()
    shape = parse_geometry(geom, "geom")
    zones = await run_analysis(state, lambda conn: zoning.parcel_zones(conn, shape, on=day))
    return answer({"on": day, "zones": output.records(zones)})


@router.get(
    "/zoning/areas",
    summary="Area of each land-use category per plan or LGO",
    operation_id="zoningAreas",
)
async def zoning_areas(
    state: State, _: Reader, by: Annotated[str, Query(max_length=20)] = "plan", on: Day = None
) -> Response:
    from gis_registry.analysis import output, zoning

    day = on or dt.date.today()
    choice(by, ("plan", "local_body"), "by")
    areas = await run_analysis(state, lambda conn: zoning.zoning_areas(conn, by=by, on=day))
    return answer({"on": day, "by": by, "areas": output.records(areas)})


@router.get(
    "/zoning/check",
    summary="Is a proposed asset allowed where it would be?",
    operation_id="zoningCompliance",
)
async def zoning_check(
    state: State,
    _: Reader,
    asset: Annotated[str, Query(min_length=1, max_length=60)],
    geom: Geom,
    on: Day = None,
) -> Response:
    from gis_registry.analysis import compliance, output

    day = on or dt.date.today()
    shape = parse_geometry(geom, "geom")
    result = await run_analysis(
        state, lambda conn: compliance.check_compliance(conn, asset=asset, geom=shape, on=day)
    )
    return answer(
        {
            "asset": asset,
            "on": day,
            "verdict": compliance.overall_verdict(result),
            "zones": output.records(result),
        }
    )


# -- hazards ---------------------------------------------------------------------------------
@router.get(
    "/hazard/exposure",
    summary="Assets and villages inside hazard areas",
    operation_id="hazardExposure",
)
async def hazard_exposure(
    state: State,
    _: Reader,
    type: Annotated[list[str] | None, Query(max_length=5, description="flood, landslide")] = None,
) -> Response:
    from gis_registry import domain
    from gis_registry.analysis import output
    from gis_registry.analysis.hazards import exposure_totals, hazard_exposure

    for value in type or []:
        choice(value, domain.HAZARD_TYPES, "type")
    rows = await run_analysis(state, lambda conn: hazard_exposure(conn, hazard_types=type or None))
    return answer(
        {"totals": output.records(exposure_totals(rows)), "by_local_body": output.records(rows)}
    )


# -- maintenance -----------------------------------------------------------------------------
CONDITION_GROUPS = ("local_body", "road_class", "surface", "asset_type", "owner", "asset")


@router.get(
    "/maintenance/condition",
    summary="Latest condition of assets and its distribution",
    operation_id="assetCondition",
)
async def maintenance_condition(
    state: State,
    _: Reader,
    by: Annotated[str, Query(max_length=20)] = "local_body",
    as_of: Day = None,
) -> Response:
    from gis_registry.analysis import condition, output

    day = as_of or dt.date.today()
    choice(by, CONDITION_GROUPS, "by")
    latest = await run_analysis(state, lambda conn: condition.latest_condition(conn, as_of=day))
    if by == "asset":
        return answer({"as_of": day, "assets": output.records(latest)})
    dist = condition.condition_distribution(latest, by=by)
    return answer({"as_of": day, "by": by, "distribution": output.records(dist)})


@router.get(
    "/maintenance/overdue",
    summary="Assets never inspected or overdue",
    operation_id="overdueInspections",
)
async def maintenance_overdue(
    state: State,
    _: Reader,
    as_of: Day = None,
    interval: Annotated[
        list[str] | None, Query(max_length=10, description="TYPE=DAYS, e.g. bridge=730")
    ] = None,
) -> Response:
    from gis_registry.analysis import condition, output

    day = as_of or dt.date.today()
    intervals: dict[str, int] = {}
    for item in interval or []:
        key, _sep, days = item.partition("=")
        if not days.strip().isdigit() or not key.strip() or int(days) > 100_000:
            raise InvalidParameter("interval", f"'{item}': expected TYPE=DAYS")
        intervals[key.strip()] = int(days)
    rows = await run_analysis(
        state, lambda conn: condition.overdue_inspections(conn, as_of=day, intervals=intervals)
    )
    return answer(
        {
            "as_of": day,
            "intervals_days": {**condition.INSPECTION_INTERVAL_DAYS, **intervals},
            "never": int((rows["status"] == "never").sum()),
            "overdue": int((rows["status"] == "overdue").sum()),
            "assets": output.records(rows),
        }
    )


@router.get(
    "/maintenance/programme",
    summary="Work programme cut to a fiscal year's budget",
    operation_id="workProgramme",
)
async def maintenance_programme(
    state: State,
    _: Reader,
    fiscal_year: Annotated[int, Query(ge=2500, le=2700, description="Thai fiscal year (BE)")],
    budget_thb: Annotated[float, Query(ge=0, le=1e12)],
    funding_body: Annotated[list[str] | None, Query(max_length=10)] = None,
    as_of: Day = None,
    criticality: bool = True,
) -> Response:
    from gis_registry import domain
    from gis_registry.analysis import output, programme

    for value in funding_body or []:
        choice(value, domain.FUNDING_BODIES, "funding_body")
    prog = await run_analysis(
        state,
        lambda conn: programme.work_programme(
            conn,
            fiscal_year=fiscal_year,
            budget_thb=budget_thb,
            as_of=as_of,
            funding_bodies=funding_body or None,
            criticality=None if criticality else False,
        ),
    )
    fields = list(programme.ITEM_FIELDS)
    return answer(
        {
            **prog.summary(),
            "funded": output.records(prog.funded, fields),
            "deferred": output.records(prog.deferred, fields),
            "by_funding_body": output.records(prog.split("funding_body")),
            "by_local_body": output.records(prog.split("local_body")),
        }
    )


@router.get(
    "/maintenance/history",
    summary="Spending, backlog and condition trend per year",
    operation_id="maintenanceHistory",
)
async def maintenance_history(
    state: State,
    _: Reader,
    by: Annotated[str, Query(max_length=20)] = "total",
    first: Annotated[int | None, Query(alias="from", ge=2400, le=2800)] = None,
    last: Annotated[int | None, Query(alias="to", ge=2400, le=2800)] = None,
) -> Response:
    from gis_registry.analysis import history, output

    choice(by, ("total", "local_body", "treatment", "funding_body"), "by")
    years = None
    if first is not None or last is not None:
        years = (first or last, last or first)

    def work(conn: Connection) -> tuple:
        return (
            history.spending(conn, by=by, fiscal_years=years),
            history.backlog(conn, fiscal_years=years),
            history.condition_trend(conn, fiscal_years=years),
        )

    spent, backlog, trend = await run_analysis(state, work)
    return answer(
        {
            "by": by,
            "spending": output.records(spent),
            "backlog": output.records(backlog),
            "trend": output.records(trend),
        }
    )


# -- road network ----------------------------------------------------------------------------
IdList = Annotated[list[int] | None, Query(max_length=200)]


def restrictions_from(
    closed_road: IdList = None,
    closed_bridge: IdList = None,
    hazard: IdList = None,
    closed_area: Annotated[
        str | None, Query(max_length=200_000, description="WKT/GeoJSON area closed to traffic")
    ] = None,
    vehicle_tonnes: Annotated[float | None, Query(gt=0, le=1000)] = None,
    all_weather: bool = False,
):
    """Closures and vehicle limits, as query parameters shared by the network analyses."""
    from gis_registry.network.restrictions import Restrictions

    polygons = (parse_geometry(closed_area, "closed_area"),) if closed_area else ()
    for name, ids in (
        ("closed_road", closed_road),
        ("closed_bridge", closed_bridge),
        ("hazard", hazard),
    ):
        if any(not 0 < i < 2**31 for i in ids or []):
            raise InvalidParameter(name, "ids are positive integers")
    return Restrictions(
        closed_roads=tuple(closed_road or ()),
        closed_bridges=tuple(closed_bridge or ()),
        hazard_ids=tuple(hazard or ()),
        polygons=polygons,
        vehicle_tonnes=vehicle_tonnes,
        all_weather=all_weather,
    )


Closures = Annotated[Any, Depends(restrictions_from)]


@router.get(
    "/network/route",
    summary="Fastest or shortest route between two places or points (GeoJSON Feature)",
    operation_id="route",
)
async def network_route(
    state: State,
    _: Reader,
    restrictions: Closures,
    origin: Annotated[
        str,
        Query(
            alias="from",
            min_length=1,
            max_length=100,
            description="LGO code, village:ID, district:CODE, DOPA village code or lon,lat",
        ),
    ],
    destination: Annotated[str, Query(alias="to", min_length=1, max_length=100)],
    by: Annotated[str, Query(max_length=20)] = "time",
) -> Response:
    from gis_registry.network.routing import route

    choice(by, ("time", "distance"), "by")
    result = await run_analysis(
        state,
        lambda conn: route(conn, origin, destination, by=by, restrictions=restrictions),
    )
    body = result.to_dict()
    geometry = body.pop("geometry")
    return Response(
        orjson.dumps(
            {"type": "Feature", "geometry": geometry, "properties": body},
            default=_plain,
            option=orjson.OPT_NON_STR_KEYS,
        ),
        media_type="application/geo+json",
    )


def _plain(value: Any) -> Any:
    from gis_registry.analysis import output

    result = output.plain(value)
    if result is value:
        raise TypeError(type(value).__name__)
    return result


@router.get(
    "/network/matrix",
    summary="Travel-time matrix among LGO offices",
    operation_id="travelTimeMatrix",
)
async def network_matrix(
    state: State,
    _: Reader,
    restrictions: Closures,
    code: Annotated[list[str] | None, Query(max_length=200, description="LGO codes")] = None,
) -> Response:
    from gis_registry.network.routing import matrix

    result = await run_analysis(
        state, lambda conn: matrix(conn, codes=code or None, restrictions=restrictions)
    )
    return answer(result.to_dict())


@router.get(
    "/network/components",
    summary="Connected components; places cut off from the PAO office (under closures)",
    operation_id="networkComponents",
)
async def network_components(state: State, _: Reader, restrictions: Closures) -> Response:
    from gis_registry.network.connectivity import components

    result = await run_analysis(state, lambda conn: components(conn, restrictions=restrictions))
    return answer(result.to_dict())


@router.get(
    "/network/criticality",
    summary="Bridges and roads whose closure cuts off or delays the most people",
    operation_id="networkCriticality",
)
async def network_criticality(
    state: State,
    _: Reader,
    restrictions: Closures,
    bridges: bool = True,
    roads: bool = True,
    delays: bool = True,
) -> Response:
    from gis_registry.network.criticality import criticality

    result = await run_analysis(
        state,
        lambda conn: criticality(
            conn, restrictions=restrictions, bridges=bridges, roads=roads, delays=delays
        ),
    )
    return answer(result.to_dict())
