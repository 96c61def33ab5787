"""Analyses over HTTP. Each endpoint parses, calls the library function the CLI calls, and
answers JSON (numbers, ISO dates, Thai as is).

An analysis runs on the analyses' own pool (authentication and writes never wait behind it),
in one of ``analysis_pool_size`` slots (a 503 with Retry-After when none frees up in
``analysis_queue_s``), at most ``anonymous_analyses_per_client`` at once per anonymous client
(a 429 with Retry-After), and under a deadline of ``analysis_timeout_ms``: its statements have
that statement timeout, and past it the deadline is cancelled, which cancels the query it waits
on and stops its Python loops (:mod:`gis_registry.deadline`); the caller gets a 504 problem
once the work has stopped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import Connection, Engine, event

from api.deps import Reader, ServiceState, State
from api.errors import AnalysisTimeout, InvalidParameter
from api.formats import JSON
from gis_registry.analysis import reports
from gis_registry.analysis._frames import MAX_DISTANCE_M
from gis_registry.analysis.siting import MAX_SITES
from gis_registry.deadline import Deadline, check, running

log = logging.getLogger("api")

# After its deadline is cancelled, an analysis stops at its next check or as soon as its query
# is cancelled; the 504 waits this long for that (and the slot stays taken until it happens).
STOP_GRACE_S = 2.0
CANCEL_TIMEOUT_S = 2.0  # the cancel request to PostgreSQL


async def analysis_client(state: State, request: Request, principal: Reader) -> AsyncIterator[None]:
    """Count an anonymous caller's analysis against its address for the request (a 429 with
    Retry-After beyond ``anonymous_analyses_per_client``); authenticated callers are not
    limited this way."""
    gate = state.analysis_gate
    if principal is not None or gate is None:
        yield
        return
    async with gate.client(request.client.host if request.client else None):
        yield


router = APIRouter(prefix="/analysis", tags=["Analyses"], dependencies=[Depends(analysis_client)])

Distance = Annotated[float, Query(gt=0, le=MAX_DISTANCE_M, description="metres")]
Day = Annotated[dt.date | None, Query(description="YYYY-MM-DD; default today")]
Geom = Annotated[
    str, Query(min_length=1, max_length=200_000, description="WKT or GeoJSON in EPSG:4326")
]


async def run_analysis(state: ServiceState, work: Callable[[Connection], Any]) -> Any:
    """``work(conn)`` in a worker thread, on a read-only transaction of the analyses' pool,
    under the analysis deadline; a 504 problem once it has stopped past the deadline."""
    timeout_ms = int(state.settings.analysis_timeout_ms)
    deadline = Deadline(timeout_ms / 1000 if timeout_ms > 0 else None)
    engine = state.analysis_engine or state.engine
    gate = state.analysis_gate
    _check_before_statements(engine)

    def job() -> Any:
        with running(deadline), engine.connect() as conn:
            deadline.check()  # the time may have passed while it waited for a slot
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {timeout_ms}")
            raw: Any = conn.connection.dbapi_connection  # a psycopg connection
            cancel = functools.partial(raw.cancel_safe, timeout=CANCEL_TIMEOUT_S)
            try:
                with deadline.hook(cancel):
                    return work(conn)
            finally:
                conn.rollback()

    if gate is not None:
        await gate.acquire()
    try:
        task = asyncio.ensure_future(run_in_threadpool(job))
    except BaseException:
        if gate is not None:
            gate.release()
        raise

    def settle(done: asyncio.Future) -> None:
        # the slot (and its connection) is free only once the thread has really ended
        if gate is not None:
            gate.release()
        if not done.cancelled():
            done.exception()  # retrieved: an abandoned failure is not logged as unhandled

    task.add_done_callback(settle)
    try:
        finished, _ = await asyncio.wait({task}, timeout=deadline.remaining())
    except asyncio.CancelledError:  # the client went away: stop the work too
        deadline.cancel()
        raise
    if finished:
        return task.result()  # a Cancelled or QueryCanceled is a 504 too (api.errors)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, deadline.cancel)
    finished, _ = await asyncio.wait({task}, timeout=STOP_GRACE_S)
    if not finished:
        log.warning("an analysis is still running %g s after its deadline", STOP_GRACE_S)
    raise AnalysisTimeout(
        f"the analysis did not finish within {timeout_ms / 1000:g} s; narrow it down"
    )


def _check_before_statements(engine: Engine) -> None:
    """Look at the deadline before every statement on ``engine``: a cancel that lands between
    two statements (none running to cancel) still stops the next one."""
    if not event.contains(engine, "before_cursor_execute", _deadline_check):
        event.listen(engine, "before_cursor_execute", _deadline_check)


def _deadline_check(*_args: Any) -> None:
    check()  # a no-op outside an analysis (no deadline in the context)


def answer(report: Any) -> Response:
    """A report (or a network result) as JSON: its ``to_dict()``, as the CLI prints it."""
    return Response(_json(report.to_dict()), media_type=JSON)


def _json(body: Any) -> bytes:
    return orjson.dumps(body, default=_plain, option=orjson.OPT_NON_STR_KEYS)


def _plain(value: Any) -> Any:
    """What orjson does not know (numpy scalars, Decimal), as JSON-ready values."""
    from gis_registry.analysis import output

    result = output.plain(value)
    if result is value:
        raise TypeError(type(value).__name__)
    return result


def parse_geometry(value: str, parameter: str):
    """A WKT or GeoJSON query parameter as a shapely geometry, or a 400 naming the parameter."""
    from gis_registry.validation import parse_geometry as parse

    try:
        geom = parse(value)
    except Exception as exc:  # shapely and json raise several types
        raise InvalidParameter(parameter, f"neither WKT nor a GeoJSON geometry: {exc}") from None
    if geom is None or geom.is_empty:
        raise InvalidParameter(parameter, "the geometry is empty")
    return geom


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
    nearest: bool = False,
) -> Response:
    """Every village within `distance_m` of a water source (straight line, or along roads), totals
    and shares per LGO and district, and the uncovered villages, most populous first."""
    return answer(
        await run_analysis(
            state,
            lambda conn: reports.water_coverage(
                conn, distance_m=distance_m, along_roads=along_roads, kinds=kind, nearest=nearest
            ),
        )
    )


@router.get(
    "/coverage/roads",
    summary="All-weather road access and road density",
    operation_id="roadCoverage",
)
async def coverage_roads(state: State, _: Reader, distance_m: Distance = 2000.0) -> Response:
    """Villages with an all-weather road within `distance_m`, villages reached only by laterite or
    earth roads, and road density and paved share per LGO."""
    return answer(
        await run_analysis(state, lambda conn: reports.road_coverage(conn, distance_m=distance_m))
    )


@router.get(
    "/siting/water",
    summary="Where new water sources would cover the most households",
    operation_id="siteWaterSources",
)
async def siting_water(
    state: State,
    _: Reader,
    n: Annotated[int, Query(ge=1, le=MAX_SITES)],
    distance_m: Distance = 1000.0,
    grid_m: Distance = 1000.0,
    kind: Annotated[list[str] | None, Query(max_length=20)] = None,
    candidates: Annotated[
        str,
        Query(
            max_length=200_000,
            description="'grid', or candidate points as a WKT/GeoJSON MultiPoint",
        ),
    ] = "grid",
) -> Response:
    """Up to `n` new water sources, chosen greedily to cover the most households not yet covered,
    from a grid or from given candidate points."""
    points = candidates if candidates == "grid" else parse_geometry(candidates, "candidates")
    return answer(
        await run_analysis(
            state,
            lambda conn: reports.water_siting(
                conn, n=n, distance_m=distance_m, candidates=points, grid_m=grid_m, kinds=kind
            ),
        )
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
    """The zones at a point under the comprehensive plans in force on `on` (default today)."""
    return answer(await run_analysis(state, lambda conn: reports.zone_at(conn, lon, lat, on=on)))


@router.get(
    "/zoning/parcel", summary="The zones under a parcel, with shares", operation_id="parcelZones"
)
async def zoning_parcel(state: State, _: Reader, geom: Geom, on: Day = None) -> Response:
    """The zones under a parcel and the share of the parcel in each."""
    shape = parse_geometry(geom, "geom")
    return answer(await run_analysis(state, lambda conn: reports.parcel_zones(conn, shape, on=on)))


@router.get(
    "/zoning/areas",
    summary="Area of each land-use category per plan or LGO",
    operation_id="zoningAreas",
)
async def zoning_areas(
    state: State, _: Reader, by: Annotated[str, Query(max_length=20)] = "plan", on: Day = None
) -> Response:
    """Area (km²) of each land-use category per plan or per LGO."""
    return answer(await run_analysis(state, lambda conn: reports.zoning_areas(conn, by=by, on=on)))


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
    """Whether a proposed asset (landfill, market, factory...) is allowed in the zones it touches,
    with the rule and its reason."""
    shape = parse_geometry(geom, "geom")
    return answer(
        await run_analysis(
            state, lambda conn: reports.zoning_check(conn, asset=asset, geom=shape, on=on)
        )
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
    """Road km, bridges, water sources and villages inside flood and landslide areas, by severity
    and LGO."""
    return answer(
        await run_analysis(state, lambda conn: reports.hazard_exposure(conn, hazard_types=type))
    )


# -- maintenance -----------------------------------------------------------------------------
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
    """Latest condition class of every road, bridge and water source, and its distribution by a
    grouping (`by=asset` lists the assets)."""
    return answer(
        await run_analysis(state, lambda conn: reports.condition(conn, by=by, as_of=as_of))
    )


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
    """Assets never inspected, or overdue against the inspection interval of their type."""
    return answer(
        await run_analysis(
            state, lambda conn: reports.overdue(conn, as_of=as_of, intervals=interval)
        )
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
    """Treatments for roads and bridges ranked by priority and cut to the budget of a Thai fiscal
    year (BE)."""
    return answer(
        await run_analysis(
            state,
            lambda conn: reports.programme(
                conn,
                fiscal_year=fiscal_year,
                budget_thb=budget_thb,
                funding_bodies=funding_body,
                as_of=as_of,
                criticality=criticality,
            ),
        )
    )


@router.get(
    "/maintenance/coordination",
    summary="Every funding body's backlog and programmed works, per LGO",
    operation_id="budgetCoordination",
)
async def maintenance_coordination(
    state: State,
    _: Reader,
    fiscal_year: Annotated[int, Query(ge=2500, le=2700, description="Thai fiscal year (BE)")],
    as_of: Day = None,
) -> Response:
    """For each funding body and each LGO: the backlog of treatments, and the works already
    programmed in the Thai fiscal year (BE) with their cost."""
    return answer(
        await run_analysis(
            state,
            lambda conn: reports.coordination(conn, fiscal_year=fiscal_year, as_of=as_of),
        )
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
    """Spending per fiscal year (BE), the backlog per year and the trend of road condition."""
    years = reports.year_range(first, last)
    return answer(
        await run_analysis(
            state, lambda conn: reports.maintenance_history(conn, by=by, fiscal_years=years)
        )
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

    return Restrictions.parse(
        closed_road=closed_road,
        closed_bridge=closed_bridge,
        hazard=hazard,
        closed_area=closed_area,
        vehicle_tonnes=vehicle_tonnes,
        all_weather=all_weather,
    )


Closures = Annotated[Any, Depends(restrictions_from)]
MaxAttach = Annotated[
    float | None,
    Query(
        gt=0,
        le=10_000_000,
        description="metres: a place farther than this from the road network is unreachable "
        "(default: the library's MAX_ATTACH_M, stated in the answer as max_attach_m)",
    ),
]


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
    max_attach_m: MaxAttach = None,
) -> Response:
    """The fastest or shortest route between two places as a GeoJSON Feature: length, time,
    segments driven and bridges crossed, under the given closures; which closures lie on the
    usual route; an endpoint beyond ``max_attach_m`` of the road network is a 404 naming it."""
    from gis_registry.network.routing import route

    result = await run_analysis(
        state,
        lambda conn: route(
            conn, origin, destination, by=by, restrictions=restrictions, max_attach_m=max_attach_m
        ),
    )
    return Response(_json(result.to_feature()), media_type="application/geo+json")


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
    max_attach_m: MaxAttach = None,
) -> Response:
    """Travel time and distance among LGO offices, and which of them the PAO office cannot
    reach; null for offices beyond ``max_attach_m`` of the road network and for pairs with no
    path, with the reasons (``beyond_attach_limit``, ``no_path``)."""
    from gis_registry.network.routing import matrix

    result = await run_analysis(
        state,
        lambda conn: matrix(
            conn, codes=code or None, restrictions=restrictions, max_attach_m=max_attach_m
        ),
    )
    return answer(result)


@router.get(
    "/network/components",
    summary="Connected components; places cut off from the PAO office (under closures)",
    operation_id="networkComponents",
)
async def network_components(state: State, _: Reader, restrictions: Closures) -> Response:
    """Connected components of the road network under the closures, and every LGO office and
    village cut off from the PAO office."""
    from gis_registry.network.connectivity import components

    result = await run_analysis(state, lambda conn: components(conn, restrictions=restrictions))
    return answer(result)


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
    """Bridges and road segments whose closure cuts off or delays the most people, worst first."""
    from gis_registry.network.criticality import criticality

    result = await run_analysis(
        state,
        lambda conn: criticality(
            conn, restrictions=restrictions, bridges=bridges, roads=roads, delays=delays
        ),
    )
    return answer(result)
