"""``route`` and ``connectivity matrix | components | critical``: parse, call
:mod:`gis_registry.network`, print. ``--json`` prints the result's ``to_dict()``, the same JSON
the API answers; the text is for people (:mod:`gis_registry.cli._human`): the figures first,
then short tables (a route's roads, long lists cut at ``--limit``). What is summed up (a route's
roads, surfaces, worst surface) is the library's answer: the text only presents it.

``_human`` (and the columns it chooses) is imported inside the functions: every command module
is imported at start-up, and ``gis-registry --help`` must not pay for the text output."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from gis_registry.cli._common import (
    AllOpt,
    AllWeather,
    ClosedArea,
    ClosedBridge,
    ClosedRoad,
    Command,
    Commands,
    Hazard,
    LimitOpt,
    Tonnes,
    print_json,
    restrictions,
    run,
    write,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from gis_registry.cli._human import Col
    from gis_registry.network.connectivity import Components
    from gis_registry.network.criticality import Criticality
    from gis_registry.network.model import Network
    from gis_registry.network.routing import Matrix, Route

T = TypeVar("T")

connectivity_app = typer.Typer(
    cls=Commands,
    help="Connectivity of the local bodies: LGO matrix, components, critical links.",
    no_args_is_help=True,
)
AsJson = Annotated[bool, typer.Option("--json", help="print one JSON object")]
MATRIX_MAX_CODES = 8  # up to this many offices the text shows the matrix itself
# The default lives in the library (gis_registry.network.attach.MAX_ATTACH_M), which this
# module does not import at start-up; every answer states the limit it used.
MaxAttach = Annotated[
    float | None,
    typer.Option(
        "--max-attach-m",
        min=0.001,
        metavar="METRES",
        help="farthest a place may lie from the road network, in metres (default: the "
        "library's, stated in the output)",
    ),
]


class By(StrEnum):
    """What a route minimises."""

    time = "time"
    distance = "distance"


def register(app: typer.Typer) -> None:
    """Add ``route`` and ``connectivity`` to the main app."""
    app.command("route", cls=Command)(route_command)
    app.add_typer(connectivity_app, name="connectivity")


def cli_network(conn: Connection) -> Network:
    """The network, kept on disk under the registry's home between commands
    (:func:`~gis_registry.network.model.snapshot_directory`, as the API keeps it), until the
    registry changes, so each command does not rebuild it."""
    from gis_registry.cli._progress import progress_bar
    from gis_registry.network.model import NetworkCache, load_network, snapshot_directory

    cache = NetworkCache(maxsize=1, directory=snapshot_directory())
    with progress_bar("network") as bar:  # drawn only when the network is built afresh
        return load_network(conn, cache=cache, progress=bar)


def _with_network(work: Callable[[Connection, Network], T]) -> T:
    """``work(conn, network)`` with the command's network (:func:`cli_network`)."""
    return run(lambda conn: work(conn, cli_network(conn)))


def route_command(
    origin: Annotated[str, typer.Argument(help="LGO code, village:ID or lon,lat")],
    destination: Annotated[str, typer.Argument(help="LGO code, village:ID or lon,lat")],
    by: Annotated[By, typer.Option("--by", help="fastest (time) or shortest")] = By.time,
    closed_road: ClosedRoad = None,
    closed_bridge: ClosedBridge = None,
    hazard: Hazard = None,
    closed_area: ClosedArea = None,
    vehicle_tonnes: Tonnes = None,
    all_weather: AllWeather = False,
    max_attach_m: MaxAttach = None,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: AsJson = False,
) -> None:
    """Route between two local bodies, villages or points, with segments and bridges.

    An endpoint farther than --max-attach-m from the road network is refused (exit code 1).
    """
    from gis_registry.network.routing import route

    closures = restrictions(
        closed_road, closed_bridge, hazard, closed_area, vehicle_tonnes, all_weather
    )
    r = _with_network(
        lambda conn, network: route(
            conn,
            origin,
            destination,
            by=by.value,
            restrictions=closures,
            max_attach_m=max_attach_m,
            network=network,
        )
    )
    if as_json:
        print_json(r.to_dict())
        return
    from gis_registry.cli._human import rows_limit

    write(route_text(r, limit=rows_limit(limit, show_all)))


def _place(p: dict) -> str:
    """An endpoint as a person names it: its Thai name and code, or its coordinates."""
    if not p.get("name_th"):
        return f"{p.get('lon')},{p.get('lat')}"
    if p.get("kind") == "village":
        return f"{p['name_th']} (village {p.get('id', p.get('code'))})"
    return f"{p['name_th']} ({p['code']})" if p.get("code") else p["name_th"]


def _restrictions(given: dict) -> str:
    """The closures and restrictions asked for, in words ("none")."""
    words = {"closed_road": "closed road", "closed_bridge": "closed bridge", "hazard": "hazard"}
    parts = [f"{words[k]} {', '.join(map(str, given[k]))}" for k in words if given.get(k)]
    if given.get("closed_area"):
        parts.append(f"{given['closed_area']} closed area(s)")
    if given.get("vehicle_tonnes") is not None:
        parts.append(f"vehicle {given['vehicle_tonnes']:g} t")
    if given.get("all_weather"):
        parts.append("all-weather roads only")
    return "; ".join(parts) or "none"


def _surfaces(r: Route) -> tuple[str, str]:
    """The worst surface driven (and whether it is all-weather), and the km on each."""
    from gis_registry.cli._human import fmt

    if r.worst_surface is None:
        worst = "unknown"
    else:
        weather = "all-weather" if r.all_weather else "not all-weather"
        worst = f"{fmt(r.worst_surface, 'term')} ({weather})"
    per_surface = (f"{fmt(k, 'term')} {m / 1000:,.1f} km" for k, m in r.surfaces.items())
    return worst, ", ".join(per_surface)


def _road_rows(r: Route) -> list[dict[str, Any]]:
    """The route's roads (:attr:`~gis_registry.network.routing.Route.roads`) as table rows:
    surfaces and owners each in one cell."""
    from gis_registry.cli._human import fmt

    return [
        {
            **run,
            "surface": ", ".join(fmt(x, "term") for x in run["surfaces"]) or "-",
            "owner": ", ".join(o.get("code") or "-" for o in run["owners"]) or "-",
        }
        for run in r.roads
    ]


def route_text(r: Route, *, limit: int | None = None) -> str:
    """The route for a person: its ends in the title; length, time, bridges crossed, the
    lowest load limit, the worst surface and the restrictions; the attach distances and the
    notes; then the roads driven (consecutive segments of one road merged) and the bridges,
    each list cut at ``limit`` rows (None: all)."""
    from gis_registry.cli._human import (
        BRIDGE_COLUMNS,
        ROAD_RUN_COLUMNS,
        console_width,
        document,
        fmt,
        listing,
    )
    from gis_registry.network.attach import format_metres

    width = console_width()
    posted = [b for b in r.bridges if b.get("load_limit_t") is not None]
    lowest = min(posted, key=lambda b: b["load_limit_t"]) if posted else None
    worst, per_surface = _surfaces(r)
    pairs = [
        ("length", f"{fmt(r.length_m, 'km')} km"),
        ("time", f"{fmt(r.time_s, 'min')} min"),
        ("by", "time (fastest)" if r.by == "time" else "distance (shortest)"),
        ("straight line", f"{fmt(r.straight_line_m, 'km')} km"),
        ("bridges crossed", f"{len(r.bridges):,}"),
        ("lowest load limit", f"{lowest['load_limit_t']:g} t" if lowest else "none posted"),
        ("worst surface", worst),
        ("restrictions", _restrictions(r.restrictions)),
        ("surfaces", per_surface or "none"),
    ]
    notes = [
        f"attached: origin {format_metres(r.origin['attach_m'])}, destination "
        f"{format_metres(r.destination['attach_m'])} from the nearest road node "
        f"(limit {r.max_attach_m:g} m)",
        *r.notes,
    ]
    code_of = {s["road_id"]: s.get("code") or str(s["road_id"]) for s in r.segments}
    bridges = []
    for b in r.bridges:
        condition = b.get("condition") or {}
        tonnes = b.get("load_limit_t")
        bridges.append(
            {
                **b,
                "road": code_of.get(b.get("road_id"), b.get("road_id")),
                "limit": "none posted" if tonnes is None else f"{tonnes:g} t",
                "score": "-" if condition.get("score") is None else f"{condition['score']:g}",
                "inspected_on": condition.get("inspected_on"),
            }
        )
    blocks = [
        listing(_road_rows(r), ROAD_RUN_COLUMNS, heading="roads driven", limit=limit, width=width),
        listing(bridges, BRIDGE_COLUMNS, heading="bridges crossed", limit=limit, width=width),
    ]
    title = f"route {_place(r.origin)} -> {_place(r.destination)}"
    return document(title, pairs, blocks, notes=notes)


@connectivity_app.command("matrix")
def matrix_command(
    codes: Annotated[
        str | None,
        typer.Option(
            "--codes", metavar="CODE,...", help="LGO codes (comma-separated); default all"
        ),
    ] = None,
    closed_road: ClosedRoad = None,
    closed_bridge: ClosedBridge = None,
    hazard: Hazard = None,
    closed_area: ClosedArea = None,
    vehicle_tonnes: Tonnes = None,
    all_weather: AllWeather = False,
    max_attach_m: MaxAttach = None,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: AsJson = False,
) -> None:
    """Travel time and distance among LGO offices, and reachability from the PAO office.

    Offices farther than --max-attach-m from the road network get no figures ("off").
    """
    from gis_registry.cli._human import rows_limit
    from gis_registry.network.routing import matrix

    closures = restrictions(
        closed_road, closed_bridge, hazard, closed_area, vehicle_tonnes, all_weather
    )
    chosen = [c.strip() for c in codes.split(",") if c.strip()] if codes else None
    m = _with_network(
        lambda conn, network: matrix(
            conn, codes=chosen, restrictions=closures, max_attach_m=max_attach_m, network=network
        )
    )
    if as_json:
        print_json(m.to_dict())
        return
    write(matrix_text(m, limit=rows_limit(limit, show_all)))


def matrix_text(m: Matrix, *, limit: int | None) -> str:
    """The matrix for a person: up to :data:`MATRIX_MAX_CODES` offices the minutes themselves
    (row to column); more, one line per office (minutes from the PAO office, to the nearest
    and to the farthest other office), cut at ``limit`` rows. The notes (offices beyond the
    attach limit, pairs without a path) come after the table they explain."""
    from gis_registry.cli._human import OFFICE_COLUMNS, console_width, document, listing

    width = console_width()
    off = {p["code"] for p in m.beyond_attach_limit}
    unreachable = m.unreachable_from_pao
    pairs = [
        ("LGO offices", f"{len(m.codes):,}"),
        ("PAO office", m.pao_code or "none"),
        ("restrictions", _restrictions(m.restrictions)),
        ("attach limit", f"{m.max_attach_m:g} m"),
        ("beyond the limit", f"{len(off):,}"),
        ("unreachable from PAO", ", ".join(unreachable) if unreachable else "none"),
    ]
    notes = list(m.notes)
    if len(m.codes) <= MATRIX_MAX_CODES:
        cols, rows = _minutes_grid(m, off)
        notes.append(
            "off: the office is farther than the attach limit from the road network; x: no path"
        )
        block = listing(rows, cols, heading="minutes, row to column", limit=None, width=width)
    else:
        block = listing(
            _office_rows(m), OFFICE_COLUMNS, heading="LGO offices", limit=limit, width=width
        )
    return document("LGO travel-time matrix", pairs, [block], footer=notes)


def _minutes_grid(m: Matrix, off: set[str]) -> tuple[list[Col], list[dict[str, Any]]]:
    """The matrix itself, in whole minutes; ``off`` beyond the attach limit, ``x`` no path."""
    from gis_registry.cli._human import Col

    cols = [Col("from", "from (minutes)", "text"), *(Col(c, c, "text") for c in m.codes)]
    rows: list[dict[str, Any]] = []
    for code, times in zip(m.codes, m.time_s, strict=True):
        row = {"from": code}
        for c, t in zip(m.codes, times, strict=True):
            row[c] = "off" if {code, c} & off else "x" if t is None else f"{t / 60:,.0f}"
        rows.append(row)
    return cols, rows


def _office_rows(m: Matrix) -> list[dict[str, Any]]:
    """One row per office: minutes from the PAO office, to the nearest and farthest other."""
    rows: list[dict[str, Any]] = []
    for i, (code, name, times) in enumerate(zip(m.codes, m.names_th, m.time_s, strict=True)):
        others = [t for j, t in enumerate(times) if j != i and t is not None]
        rows.append(
            {
                "code": code,
                "name_th": name,
                "from_pao_s": m.from_pao_s.get(code),
                "nearest_s": min(others, default=None),
                "farthest_s": max(others, default=None),
                "reached": len(others),
            }
        )
    return rows


@connectivity_app.command("components")
def components_command(
    closed_road: ClosedRoad = None,
    closed_bridge: ClosedBridge = None,
    hazard: Hazard = None,
    closed_area: ClosedArea = None,
    vehicle_tonnes: Tonnes = None,
    all_weather: AllWeather = False,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: AsJson = False,
) -> None:
    """Connected components; every LGO office or village cut off from the PAO office."""
    from gis_registry.cli._human import rows_limit
    from gis_registry.network.connectivity import components

    closures = restrictions(
        closed_road, closed_bridge, hazard, closed_area, vehicle_tonnes, all_weather
    )
    c = _with_network(
        lambda conn, network: components(conn, restrictions=closures, network=network)
    )
    if as_json:
        print_json(c.to_dict())
        return
    write(components_text(c, limit=rows_limit(limit, show_all)))


def components_text(c: Components, *, limit: int | None) -> str:
    """Components and cut-off places for a person: the counts, then both lists."""
    from gis_registry.cli._human import (
        COMPONENT_COLUMNS,
        PLACE_COLUMNS,
        console_width,
        document,
        listing,
    )

    width = console_width()
    pairs = [
        ("components", f"{c.n_components:,}"),
        ("without any place", f"{c.fragments:,}"),
        ("cut off from PAO", f"{len(c.cut_off):,} places"),
        ("population cut off", f"{c.cut_off_population:,}"),
        ("one-way unreachable", f"{len(c.one_way_unreachable):,}"),
        ("restrictions", _restrictions(c.restrictions)),
    ]
    places = [{**p, "ref": p.get("code") or p.get("id")} for p in c.cut_off]
    blocks = [
        listing(
            c.components,
            COMPONENT_COLUMNS,
            heading="components with places",
            limit=limit,
            width=width,
        ),
        listing(
            places, PLACE_COLUMNS, heading="cut off from the PAO office", limit=limit, width=width
        ),
    ]
    return document("connected components", pairs, blocks)


@connectivity_app.command("critical")
def critical_command(
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", "--top", min=1, metavar="N", help="items in the text output (default 20)"
        ),
    ] = None,
    show_all: AllOpt = False,
    bridges_only: Annotated[
        bool, typer.Option("--bridges-only", help="analyse bridges, not road segments")
    ] = False,
    delays: Annotated[
        bool, typer.Option("--delays/--no-delays", help="compute travel-time increases")
    ] = True,
    closed_road: ClosedRoad = None,
    closed_bridge: ClosedBridge = None,
    hazard: Hazard = None,
    closed_area: ClosedArea = None,
    vehicle_tonnes: Tonnes = None,
    all_weather: AllWeather = False,
    as_json: AsJson = False,
) -> None:
    """Bridges and road segments whose closure cuts off or delays places, worst first."""
    from gis_registry.cli._human import rows_limit
    from gis_registry.network.criticality import criticality

    closures = restrictions(
        closed_road, closed_bridge, hazard, closed_area, vehicle_tonnes, all_weather
    )
    c = _with_network(
        lambda conn, network: criticality(
            conn, restrictions=closures, roads=not bridges_only, delays=delays, network=network
        )
    )
    if as_json:
        print_json(c.to_dict())
        return
    write(critical_text(c, limit=rows_limit(limit, show_all)))


def critical_text(c: Criticality, *, limit: int | None) -> str:
    """Criticality for a person: what was analysed and how many closures cut places off, then
    the items, worst first."""
    from gis_registry.cli._human import CRITICAL_COLUMNS, console_width, document, listing

    rows = [
        {
            "kind": item.kind,
            "id": item.id,
            "name_th": item.name_th,
            "cut_off": len(item.cut_off),
            "cut_off_population": item.cut_off_population,
            "lgos": ", ".join(item.cut_off_lgos) or "-",
            "delayed": len(item.delayed),
            "delayed_population": item.delayed_population,
        }
        for item in c.items
    ]
    pairs = [
        ("bridges analysed", f"{c.analysed.get('bridges', 0):,}"),
        ("road segments analysed", f"{c.analysed.get('roads', 0):,}"),
        ("cut places off", f"{len(c.critical):,}"),
        ("cut off already", f"{len(c.baseline_cut_off):,} places"),
        ("restrictions", _restrictions(c.restrictions)),
    ]
    block = listing(
        rows,
        CRITICAL_COLUMNS,
        heading="closures, worst first",
        limit=limit,
        width=console_width(),
        hint="use --limit N or --all",
    )
    return document("critical bridges and road segments", pairs, [block])
