"""CLI commands of the road network (`gis-registry route`, `gis-registry connectivity ...`).

Thin: parse, call the library, print. Heavy imports stay inside the commands because the main
CLI imports this module at start-up.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from gis_registry.errors import GisRegistryError, ValidationError

connectivity_app = typer.Typer(
    help="Connectivity of the local bodies: LGO matrix, components, critical links.",
    no_args_is_help=True,
)


class By(StrEnum):
    time = "time"
    distance = "distance"


Closed = Annotated[
    str | None,
    typer.Option(
        "--closed",
        help="closed road segments and bridges: road ids, or bridge:ID (comma-separated)",
    ),
]
Flood = Annotated[
    list[int] | None,
    typer.Option("--flood", help="hazard area id whose roads are closed (repeatable)"),
]
Tonnes = Annotated[
    float | None,
    typer.Option("--vehicle-tonnes", help="vehicle weight: lighter-rated bridges are closed"),
]
AllWeather = Annotated[
    bool, typer.Option("--all-weather", help="only all-weather surfaces (no laterite, earth)")
]
AsJson = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def register(app: typer.Typer) -> None:
    """Add the network commands to the main ``gis-registry`` app."""
    app.command("route")(route_command)
    app.add_typer(connectivity_app, name="connectivity")


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def _restrictions(closed, flood, tonnes, all_weather):
    from gis_registry.network.restrictions import Restrictions

    roads, bridges = [], []
    for token in (t.strip() for t in (closed or "").split(",")):
        if not token:
            continue
        kind, _, value = token.rpartition(":")
        try:
            number = int(value)
        except ValueError:
            raise ValidationError(
                "restrictions", [(None, "closed", f"'{token}' is not a road id or bridge:ID")]
            ) from None
        if kind.lower() in ("bridge", "b"):
            bridges.append(number)
        elif kind.lower() in ("", "road", "r"):
            roads.append(number)
        else:
            raise ValidationError(
                "restrictions", [(None, "closed", f"'{token}' is not a road id or bridge:ID")]
            )
    return Restrictions(
        closed_roads=roads,
        closed_bridges=bridges,
        hazard_ids=flood or (),
        vehicle_tonnes=tonnes,
        all_weather=all_weather,
    )


def _run(work):
    """Open the registry, load its network (kept on disk between commands, under the
    registry's home, until the registry changes), run ``work(conn, network)``; domain errors
    become ``error: ...`` and exit code 1."""
    try:
        from gis_registry.db import make_engine
        from gis_registry.network.model import NetworkCache, load_network
        from gis_registry.settings import Settings

        settings = Settings()
        cache = NetworkCache(maxsize=1, directory=settings.resolved_home() / "network-cache")
        engine = make_engine(settings)
        with engine.connect() as conn:
            return work(conn, load_network(conn, cache=cache))
    except GisRegistryError as exc:
        _fail(exc)


def _print_json(obj) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False))


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def route_command(
    origin: Annotated[str, typer.Argument(help="LGO code, village:ID or lon,lat")],
    destination: Annotated[str, typer.Argument(help="LGO code, village:ID or lon,lat")],
    by: Annotated[By, typer.Option("--by", help="fastest (time) or shortest")] = By.time,
    closed: Closed = None,
    flood: Flood = None,
    vehicle_tonnes: Tonnes = None,
    all_weather: AllWeather = False,
    as_json: AsJson = False,
) -> None:
    """Route between two local bodies, villages or points, with segments and bridges."""

    def work(conn, network):
        from gis_registry.network.routing import route

        restrictions = _restrictions(closed, flood, vehicle_tonnes, all_weather)
        return route(
            conn, origin, destination, by=by.value, restrictions=restrictions, network=network
        )

    r = _run(work)
    if as_json:
        _print_json(r.to_dict())
        return
    name = lambda p: p.get("name_th") or f"{p.get('lon')},{p.get('lat')}"  # noqa: E731
    typer.echo(
        f"{name(r.origin)} -> {name(r.destination)}: {r.length_m / 1000:.2f} km, "
        f"{_minutes(r.time_s)}"
    )
    for s in r.segments:
        owner = (s["owner"] or {}).get("code") or "-"
        cond = s["condition"]
        cond = f"{cond['score']:g} ({cond['scale']}, {cond['inspected_on']})" if cond else "-"
        typer.echo(
            f"  road {s['road_id']:>7} {s['code'] or '':<16} {s['surface']:<12} "
            f"{s['length_m']:>9.0f} m  owner {owner:<8} condition {cond}  {s['name_th']}"
        )
    for b in r.bridges:
        limit = "no posted limit" if b["load_limit_t"] is None else f"{b['load_limit_t']:g} t"
        typer.echo(f"  bridge {b['bridge_id']:>5} on road {b['road_id']}: {limit}  {b['name_th']}")


@connectivity_app.command("matrix")
def matrix_command(
    codes: Annotated[
        str | None, typer.Option("--codes", help="LGO codes (comma-separated); default all")
    ] = None,
    closed: Closed = None,
    flood: Flood = None,
    vehicle_tonnes: Tonnes = None,
    all_weather: AllWeather = False,
    as_json: AsJson = False,
) -> None:
    """Travel time and distance among LGO offices, and reachability from the PAO office."""

    def work(conn, network):
        from gis_registry.network.routing import matrix

        chosen = [c.strip() for c in codes.split(",") if c.strip()] if codes else None
        restrictions = _restrictions(closed, flood, vehicle_tonnes, all_weather)
        return matrix(conn, codes=chosen, restrictions=restrictions, network=network)

    m = _run(work)
    if as_json:
        _print_json(m.to_dict())
        return
    typer.echo(f"{len(m.codes)} LGO offices; minutes by the fastest route (row to column)")
    typer.echo("          " + "".join(f"{c[-8:]:>9}" for c in m.codes))
    for code, row in zip(m.codes, m.time_s, strict=True):
        cells = "".join(f"{'-' if t is None else round(t / 60):>9}" for t in row)
        typer.echo(f"{code[-8:]:>9} {cells}")
    if m.unreachable_from_pao:
        typer.echo(f"not reachable from the PAO office: {', '.join(m.unreachable_from_pao)}")
    else:
        typer.echo("every LGO office is reachable from the PAO office")


@connectivity_app.command("components")
def components_command(
    closed: Closed = None,
    flood: Flood = None,
    vehicle_tonnes: Tonnes = None,
    all_weather: AllWeather = False,
    as_json: AsJson = False,
) -> None:
    """Connected components; every LGO office or village cut off from the PAO office."""

    def work(conn, network):
        from gis_registry.network.connectivity import components

        restrictions = _restrictions(closed, flood, vehicle_tonnes, all_weather)
        return components(conn, restrictions=restrictions, network=network)

    c = _run(work)
    if as_json:
        _print_json(c.to_dict())
        return
    typer.echo(f"{c.n_components} components ({c.fragments} without any place)")
    for comp in c.components[:20]:
        pao = " (PAO office)" if comp["has_pao"] else ""
        typer.echo(
            f"  #{comp['component']}: {comp['nodes']} nodes, {comp['length_km']:.1f} km, "
            f"{comp['lgos']} LGOs, {comp['villages']} villages{pao}"
        )
    typer.echo(
        f"cut off from the PAO office: {len(c.cut_off)} places, population {c.cut_off_population:,}"
    )
    for p in c.cut_off[:50]:
        typer.echo(f"  {p['kind']:<8} {p.get('code') or p.get('id')}  {p['name_th']}")


@connectivity_app.command("critical")
def critical_command(
    top: Annotated[int, typer.Option("--top", help="items to print (text output)")] = 20,
    bridges_only: Annotated[
        bool, typer.Option("--bridges-only", help="analyse bridges, not road segments")
    ] = False,
    delays: Annotated[
        bool, typer.Option("--delays/--no-delays", help="compute travel-time increases")
    ] = True,
    closed: Closed = None,
    flood: Flood = None,
    vehicle_tonnes: Tonnes = None,
    all_weather: AllWeather = False,
    as_json: AsJson = False,
) -> None:
    """Bridges and road segments whose closure cuts off or delays places, worst first."""

    def work(conn, network):
        from gis_registry.network.criticality import criticality

        return criticality(
            conn,
            restrictions=_restrictions(closed, flood, vehicle_tonnes, all_weather),
            roads=not bridges_only,
            delays=delays,
            network=network,
        )

    c = _run(work)
    if as_json:
        _print_json(c.to_dict())
        return
    typer.echo(
        f"analysed {c.analysed['bridges']} bridges and {c.analysed['roads']} road "
        f"segments: {len(c.critical)} cut places off the PAO office"
    )
    for item in c.items[:top]:
        lgos = f", LGO offices {', '.join(item.cut_off_lgos)}" if item.cut_off_lgos else ""
        typer.echo(
            f"  {item.kind:<6} {item.id:>7}  cuts off {len(item.cut_off)} places "
            f"(population {item.cut_off_population:,}{lgos}); delays {len(item.delayed)} "
            f"(population {item.delayed_population:,})  {item.name_th}"
        )
