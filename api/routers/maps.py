"""Map pages (``/maps/{kind}``) and the offline copies of their libraries (``/maps/assets/...``).

Thin: a route parses, calls :func:`gis_registry.maps.catalog.build_map` with the service's
engine (``api.deps.State``), and renders the page with every script and stylesheet served from
this API (``/maps/assets/``), so a browser showing a map needs nothing but this server.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.deps import Reader, State
from api.errors import InvalidParameter
from api.html_pages import map_items
from api.links import base

router = APIRouter(tags=["Maps"])

MapKind = Literal[
    "zoning", "condition", "water", "route", "critical", "hazard", "network", "coordination"
]


@router.get(
    "/maps", summary="The maps (HTML index)", operation_id="getMaps", response_class=HTMLResponse
)
async def maps_index(request: Request, _: Reader) -> HTMLResponse:
    """An HTML page linking every map, with the query a route map needs (`from`, `to`)."""
    items = map_items(base(request))
    return HTMLResponse(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Maps</title><style>"
        "body{font-family:'Noto Sans Thai','TH Sarabun New','Loma','Garuda',sans-serif;"
        f"margin:2em}}</style></head><body><h1>แผนที่ · Maps</h1><ul>{items}</ul></body></html>"
    )


@router.get(
    "/maps/assets/{path:path}",
    summary="An offline copy of a map library file (Leaflet, its images...)",
    operation_id="getMapAsset",
)
async def map_asset(path: str) -> Response:
    """A script, stylesheet, image or font of the map pages, served from local copies so maps
    work with no internet access. Public, cacheable for a day; unknown paths are 404."""
    from gis_registry.maps.offline import read_asset

    data, media_type = await run_in_threadpool(read_asset, path)
    return Response(data, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})


@router.get(
    "/maps/condition/roads/{road_id}",
    summary="Popup details of a road on the condition map (JSON)",
    operation_id="getConditionMapRoad",
)
async def condition_road(state: State, _: Reader, road_id: int) -> Response:
    """The popup rows (label, HTML value) of one road, which the condition map fetches when a
    road drawn from vector tiles is clicked; 404 for an unknown `road_id`."""
    from gis_registry.maps.condition import road_details

    def details() -> list[tuple[str, str]]:
        with state.engine.connect() as conn:
            return road_details(conn, road_id)

    rows = await run_in_threadpool(details)
    return JSONResponse({"rows": [list(r) for r in rows]})


def _render(state, kind: str, options: dict[str, Any], mode: str, asset_base: str) -> str:
    from gis_registry.maps.catalog import build_map
    from gis_registry.maps.offline import render_html

    with state.engine.connect() as conn:
        m = build_map(conn, kind, **options)
    page, _used = render_html(m, mode=mode, base_url=asset_base)
    return page


@router.get(
    "/maps/{kind}",
    summary="A map as an HTML page that loads nothing from outside this server",
    operation_id="getMap",
    response_class=HTMLResponse,
)
async def map_page(
    request: Request,
    state: State,
    _: Reader,
    kind: MapKind,
    plan: Annotated[int | None, Query(description="zoning: only this plan (id)")] = None,
    lgo: Annotated[
        str | None, Query(description="zoning/condition: only this LGO (id, code or name)")
    ] = None,
    as_of: Annotated[
        date | None, Query(description="zoning: plans in force on this day (default today)")
    ] = None,
    all_plans: Annotated[bool, Query(description="zoning: every plan, in force or not")] = False,
    road_class: Annotated[
        list[str] | None, Query(alias="class", description="condition: road class(es)")
    ] = None,
    distance: Annotated[
        float, Query(gt=0, le=50_000, description="water: coverage radius (m)")
    ] = 2000.0,
    sites: Annotated[int, Query(ge=0, le=100, description="water: new sites to choose")] = 5,
    origin: Annotated[str | None, Query(alias="from", description="route: from (LGO code)")] = None,
    destination: Annotated[
        str | None, Query(alias="to", description="route: to (LGO code)")
    ] = None,
    closed_bridge: Annotated[
        list[int] | None, Query(description="route: closed bridge ids")
    ] = None,
    closed_road: Annotated[list[int] | None, Query(description="route: closed road ids")] = None,
    hazard: Annotated[
        list[int] | None, Query(description="route: hazard areas closing roads")
    ] = None,
    by: Annotated[
        Literal["time", "distance"], Query(description="route: fastest/shortest")
    ] = "time",
    top: Annotated[int, Query(ge=1, le=1000, description="critical: items drawn")] = 50,
    fiscal_year: Annotated[
        int | None,
        Query(ge=2500, le=2700, description="coordination: Thai fiscal year (BE), default now"),
    ] = None,
    tolerance_m: Annotated[
        float | None,
        Query(gt=0, le=100, description="network: near-miss tolerance (m), default as the check"),
    ] = None,
    hazard_type: Annotated[
        list[Literal["flood", "landslide"]] | None, Query(description="hazard: which hazards")
    ] = None,
    vector: Annotated[
        bool,
        Query(
            description="condition, route, critical, hazard: draw the roads from this API's "
            "vector tiles (default) rather than embedding them"
        ),
    ] = True,
    assets: Annotated[
        Literal["url", "inline"],
        Query(description="url: libraries from /maps/assets (default); inline: one file"),
    ] = "url",
) -> HTMLResponse:
    """The map `kind` as a complete HTML page; each parameter applies to the map(s) its
    description names, and a `route` map needs `from` and `to`. With `assets=inline` the page is
    one self-contained file."""
    root = request.scope.get("root_path", "")
    # the roads, the big layer, come from this API's vector tiles unless the page must stand
    # alone (inline) or the caller asks for embedded GeoJSON
    vectored = vector and assets == "url"
    options: dict[str, Any]
    if kind == "zoning":
        options = {
            "plan_id": plan,
            "local_body": lgo,
            "in_force_on": as_of,
            "all_plans": all_plans,
        }
    elif kind == "condition":
        options = {"local_body": lgo, "road_classes": road_class}
        if vectored:
            options["details_url"] = f"{root}/maps/condition/roads/{{id}}"
    elif kind == "water":
        options = {"distance_m": distance, "new_sites": sites}
    elif kind == "route":
        if not origin or not destination:
            raise InvalidParameter("from", "a route map needs both 'from' and 'to'")
        options = {
            "origin": origin,
            "destination": destination,
            "closed_bridge": closed_bridge,
            "closed_road": closed_road,
            "hazard": hazard,
            "by": by,
        }
    elif kind == "critical":
        options = {"top": top}
    elif kind == "network":
        options = {} if tolerance_m is None else {"tolerance_m": tolerance_m}
    elif kind == "coordination":
        options = {"fiscal_year": fiscal_year}
    else:
        options = {"hazard_types": hazard_type}
    if vectored and kind in ("condition", "route", "critical", "hazard"):
        options["vector_tiles"] = f"{root}/tiles/roads/{{z}}/{{x}}/{{y}}.mvt"
    # root-relative asset URLs: the page works under whatever host name the client used
    asset_base = f"{root}/maps/assets/"
    page = await run_in_threadpool(_render, state, kind, options, assets, asset_base)
    return HTMLResponse(page)
