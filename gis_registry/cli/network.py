"""``route`` and ``connectivity matrix | components | critical``: parse, call
:mod:`gis_registry.network`, print. ``--json`` prints the result's ``to_dict()``, the same JSON
the API answers."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from gis_registry.cli._common import (
    AllWeather,
    ClosedArea,
    ClosedBridge,
    ClosedRoad,
    Hazard,
    Tonnes,
    echo,
    print_json,
    restrictions,
    run,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from gis_registry.network.model import Network

T = TypeVar("T")

connectivity_app = typer.Typer(
    help="Connectivity of the local bodies: LGO matrix, components, critical links.",
    no_args_is_help=True,
)
AsJson = Annotated[bool, typer.Option("--json", help="print one JSON object")]
# The default lives in the library (gis_registry.network.attach.MAX_ATTACH_M), which this
# module does not import at start-up; every answer states the limit it used.
MaxAttach = Annotated[
    float | None,
    typer.Option(
        "--max-attach-m",
        min=0.001,
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
    app.command("route")(route_command)
    app.add_typer(connectivity_app, name="connectivity")


def cli_network(conn: Connection) -> Network:
    """The network, kept on disk under the registry's home between commands
    (:func:`~gis_registry.network.model.snapshot_directory`, as the API keeps it), until the
    registry changes, so each command does not rebuild it."""
    from gis_registry.network.model import NetworkCache, load_network, snapshot_directory

    return load_network(conn, cache=NetworkCache(maxsize=1, directory=snapshot_directory()))


def _with_network(work: Callable[[Connection, Network], T]) -> T:
    """``work(conn, network)`` with the command's network (:func:`cli_network`)."""
    return run(lambda conn: work(conn, cli_network(conn)))


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


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
    as_json: AsJson = False,
) -> None:
    """Route between two local bodies, villages or points, with segments and bridges.

    An endpoint farther than --max-attach-m from the road network is refused (exit code 1).
    """
    from gis_registry.network.attach import format_metres
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
    name = lambda p: p.get("name_th") or f"{p.get('lon')},{p.get('lat')}"  # noqa: E731
    echo(
        f"{name(r.origin)} -> {name(r.destination)}: {r.length_m / 1000:.2f} km, "
        f"{_minutes(r.time_s)}"
    )
    echo(
        f"  attached: origin {format_metres(r.origin['attach_m'])}, destination "
        f"{format_metres(r.destination['attach_m'])} from the nearest road node "
        f"(limit {r.max_attach_m:g} m)"
    )
    for note in r.notes:
        echo(f"  {note}")
    for s in r.segments:
        owner = (s["owner"] or {}).get("code") or "-"
        cond = s["condition"]
        cond = f"{cond['score']:g} ({cond['scale']}, {cond['inspected_on']})" if cond else "-"
        echo(
            f"  road {s['road_id']:>7} {s['code'] or '':<16} {s['surface']:<12} "
            f"{s['length_m']:>9.0f} m  owner {owner:<8} condition {cond}  {s['name_th']}"
        )
    for b in r.bridges:
        limit = "no posted limit" if b["load_limit_t"] is None else f"{b['load_limit_t']:g} t"
        echo(f"  bridge {b['bridge_id']:>5} on road {b['road_id']}: {limit}  {b['name_th']}")


@connectivity_app.command("matrix")
def matrix_command(
    codes: Annotated[
        str | None, typer.Option("--codes", help="LGO codes (comma-separated); default all")
    ] = None,
    closed_road: ClosedRoad = None,
    closed_bridge: ClosedBridge = None,
    hazard: Hazard = None,
    closed_area: ClosedArea = None,
    vehicle_tonnes: Tonnes = None,
    all_weather: AllWeather = False,
    max_attach_m: MaxAttach = None,
    as_json: AsJson = False,
) -> None:
    """Travel time and distance among LGO offices, and reachability from the PAO office.

    Offices farther than --max-attach-m from the road network get no figures ("off").
    """
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
    off = {p["code"] for p in m.beyond_attach_limit}
    echo(f"{len(m.codes)} LGO offices; minutes by the fastest route (row to column)")
    echo(f"  off: the office is more than {m.max_attach_m:g} m from the road network; x: no path")
    echo("          " + "".join(f"{c[-8:]:>9}" for c in m.codes))
    for code, row in zip(m.codes, m.time_s, strict=True):
        cells = "".join(
            f"{'off' if {code, c} & off else 'x' if t is None else round(t / 60):>9}"
            for c, t in zip(m.codes, row, strict=True)
        )
        echo(f"{code[-8:]:>9} {cells}")
    for note in m.notes:
        echo(note)
    if m.unreachable_from_pao:
        echo(f"not reachable from the PAO office: {', '.join(m.unreachable_from_pao)}")
    else:
        echo("every LGO office is reachable from the PAO office")


@connectivity_app.command("components")
def components_command(
    closed_road: ClosedRoad = None,
    closed_bridge: ClosedBridge = None,
    hazard: Hazard = None,
    closed_area: ClosedArea = None,
    vehicle_tonnes: Tonnes = None,
    all_weather: AllWeather = False,
    as_json: AsJson = False,
) -> None:
    """Connected components; every LGO office or village cut off from the PAO office."""
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
    echo(f"{c.n_components} components ({c.fragments} without any place)")
    for comp in c.components[:20]:
        pao = " (PAO office)" if comp["has_pao"] else ""
        echo(
            f"  #{comp['component']}: {comp['nodes']} nodes, {comp['length_km']:.1f} km, "
            f"{comp['lgos']} LGOs, {comp['villages']} villages{pao}"
        )
    echo(
        f"cut off from the PAO office: {len(c.cut_off)} places, population {c.cut_off_population:,}"
    )
    for p in c.cut_off[:50]:
        echo(f"  {p['kind']:<8} {p.get('code') or p.get('id')}  {p['name_th']}")


@connectivity_app.command("critical")
def critical_command(
    top: Annotated[int, typer.Option("--top", help="items to print (text output)")] = 20,
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
    echo(
        f"analysed {c.analysed['bridges']} bridges and {c.analysed['roads']} road "
        f"segments: {len(c.critical)} cut places off the PAO office"
    )
    for item in c.items[:top]:
        lgos = f", LGO offices {', '.join(item.cut_off_lgos)}" if item.cut_off_lgos else ""
        echo(
            f"  {item.kind:<6} {item.id:>7}  cuts off {len(item.cut_off)} places "
            f"(population {item.cut_off_population:,}{lgos}); delays {len(item.delayed)} "
            f"(population {item.delayed_population:,})  {item.name_th}"
        )
