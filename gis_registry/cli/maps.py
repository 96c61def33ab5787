"""``map zoning | condition | water | route | critical | hazard | coordination | network |
all``: maps as HTML files that work offline. Each file is self-contained unless
``--shared-assets DIR`` is given. Folium is imported inside the commands."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from gis_registry.cli._common import (
    ClosedBridge,
    ClosedRoad,
    Hazard,
    echo,
    engine,
    fail,
    parse_date,
    user_errors,
)

map_app = typer.Typer(
    help="Maps as HTML that work offline (zoning, condition, water, route, critical, hazard, "
    "coordination, network).",
    no_args_is_help=True,
)

Output = Annotated[Path, typer.Option("-o", "--output", help="HTML file to write")]
# Self-contained files are the default since maps had to travel alone; --offline asked for
# that once and is kept so that scripts using it still run (hidden, a no-op).
Offline = Annotated[
    bool,
    typer.Option(
        "--offline",
        hidden=True,
        help="deprecated: maps are self-contained by default; does nothing",
    ),
]
Assets = Annotated[
    str | None,
    typer.Option(
        "--assets",
        help="inline: one self-contained file (default); files: local copies beside the HTML "
        "(FILE_files/); cdn: folium's online links",
    ),
]
SharedAssets = Annotated[
    Path | None,
    typer.Option(
        "--shared-assets",
        metavar="DIR",
        help="write the libraries once into DIR and refer to them from the map(s) instead of "
        "inlining them (smaller files, but DIR must travel with them)",
    ),
]
Tiles = Annotated[
    str | None,
    typer.Option(
        "--tiles",
        help="basemap tile URL template; default none (or the setting GIS_REGISTRY_MAP_TILES_URL)",
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``map`` to the main app."""
    app.add_typer(map_app, name="map")


def _asset_mode(assets: str | None, shared: Path | None, offline: bool) -> Any:
    """The asset mode the options ask for (inline unless told otherwise)."""
    from gis_registry.maps.offline import AssetMode

    if offline:
        typer.echo(
            "note: --offline is the default now (self-contained files) and will be removed",
            err=True,
        )
    if shared is not None:
        if assets not in (None, "files"):
            fail(f"--shared-assets writes the libraries as files; it cannot be --assets {assets}")
        return AssetMode.FILES
    choices = [m.value for m in AssetMode if m is not AssetMode.URL]  # url: the API's
    if (assets or AssetMode.INLINE.value) not in choices:
        fail(f"--assets must be one of {', '.join(choices)}")
    return AssetMode(assets or AssetMode.INLINE)


def _write(
    kind: str,
    output: Path,
    offline: bool,
    assets: str | None,
    shared: Path | None = None,
    **options: Any,
) -> None:
    from gis_registry.maps.catalog import build_map
    from gis_registry.maps.offline import save_map

    mode = _asset_mode(assets, shared, offline)
    with user_errors(), engine().connect() as conn:
        m = build_map(conn, kind, **options)
        path = save_map(
            m, output, mode=mode, shared_assets=None if shared is None else shared.resolve()
        )
    size = path.stat().st_size
    where = f"shared in {shared}" if shared is not None else mode.value
    echo(f"{kind} map written to {path} ({size / 1e6:.2f} MB, assets: {where})")


@map_app.command()
def zoning(
    output: Output,
    plan: Annotated[int | None, typer.Option(help="only this zoning plan (id)")] = None,
    lgo: Annotated[
        str | None, typer.Option(help="only zones meeting this LGO (id/code/name)")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option(help="plans in force on YYYY-MM-DD (default: today)")
    ] = None,
    all_plans: Annotated[
        bool, typer.Option("--all-plans", help="every plan, in force or not")
    ] = False,
    tolerance: Annotated[float | None, typer.Option(help="simplification in metres")] = None,
    offline: Offline = False,
    assets: Assets = None,
    shared_assets: SharedAssets = None,
    tiles: Tiles = None,
) -> None:
    """Zoning: zones in DPT colours (hatched where DPT hatches), legend, popups, boundaries."""
    day: date | None = parse_date(as_of, "as_of")
    _write(
        "zoning",
        output,
        offline,
        assets,
        shared_assets,
        plan_id=plan,
        local_body=lgo,
        in_force_on=day,
        all_plans=all_plans,
        tolerance_m=tolerance,
        tiles=tiles,
    )


@map_app.command()
def condition(
    output: Output,
    lgo: Annotated[str | None, typer.Option(help="only roads meeting this LGO")] = None,
    road_class: Annotated[list[str] | None, typer.Option("--class", help="road class(es)")] = None,
    offline: Offline = False,
    assets: Assets = None,
    shared_assets: SharedAssets = None,
    tiles: Tiles = None,
) -> None:
    """Road condition: segments by condition class and road class, bridges by condition."""
    _write(
        "condition",
        output,
        offline,
        assets,
        shared_assets,
        local_body=lgo,
        road_classes=road_class,
        tiles=tiles,
    )


@map_app.command()
def water(
    output: Output,
    distance: Annotated[float, typer.Option(help="coverage radius in metres")] = 2000.0,
    sites: Annotated[int, typer.Option(help="new sites to choose (0: none)")] = 5,
    offline: Offline = False,
    assets: Assets = None,
    shared_assets: SharedAssets = None,
    tiles: Tiles = None,
) -> None:
    """Water coverage: sources by kind, covered/uncovered villages, proposed new sites."""
    _write(
        "water",
        output,
        offline,
        assets,
        shared_assets,
        distance_m=distance,
        new_sites=sites,
        tiles=tiles,
    )


@map_app.command()
def route(
    output: Output,
    origin: Annotated[
        str, typer.Option("--from", help="LGO code or unique name (or village:ID, lon,lat)")
    ],
    destination: Annotated[
        str, typer.Option("--to", help="LGO code or unique name (or village:ID, lon,lat)")
    ],
    closed_road: ClosedRoad = None,
    closed_bridge: ClosedBridge = None,
    hazard: Hazard = None,
    by: Annotated[str, typer.Option(help="time or distance")] = "time",
    offline: Offline = False,
    assets: Assets = None,
    shared_assets: SharedAssets = None,
    tiles: Tiles = None,
) -> None:
    """Route between two LGOs with its bridges, closures, places cut off and the detour."""
    _write(
        "route",
        output,
        offline,
        assets,
        shared_assets,
        origin=origin,
        destination=destination,
        closed_road=closed_road,
        closed_bridge=closed_bridge,
        hazard=hazard,
        by=by,
        tiles=tiles,
    )


@map_app.command()
def critical(
    output: Output,
    top: Annotated[int, typer.Option(help="how many of the worst items to draw")] = 50,
    offline: Offline = False,
    assets: Assets = None,
    shared_assets: SharedAssets = None,
    tiles: Tiles = None,
) -> None:
    """Criticality: bridges and roads whose closure cuts places off from the PAO office."""
    _write("critical", output, offline, assets, shared_assets, top=top, tiles=tiles)


@map_app.command()
def hazard(
    output: Output,
    kind: Annotated[list[str] | None, typer.Option(help="flood (default) and/or landslide")] = None,
    offline: Offline = False,
    assets: Assets = None,
    shared_assets: SharedAssets = None,
    tiles: Tiles = None,
) -> None:
    """Hazards: flood-prone areas over roads; exposed roads, bridges and villages."""
    _write("hazard", output, offline, assets, shared_assets, hazard_types=kind, tiles=tiles)


@map_app.command()
def coordination(
    output: Output,
    fiscal_year: Annotated[
        int | None,
        typer.Option("--fiscal-year", help="Thai fiscal year in BE, e.g. 2570; default now"),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="condition as of (YYYY-MM-DD); default today")
    ] = None,
    offline: Offline = False,
    assets: Assets = None,
    shared_assets: SharedAssets = None,
    tiles: Tiles = None,
) -> None:
    """Budget coordination: LGOs shaded by the backlog of every funding body, with each body's
    backlog and programmed works."""
    day = parse_date(as_of, "as_of")
    _write(
        "coordination",
        output,
        offline,
        assets,
        shared_assets,
        fiscal_year=fiscal_year,
        as_of=day,
        tiles=tiles,
    )


@map_app.command()
def network(
    output: Output,
    tolerance_m: Annotated[
        float | None, typer.Option("--tolerance-m", help="near-miss tolerance in metres")
    ] = None,
    offline: Offline = False,
    assets: Assets = None,
    shared_assets: SharedAssets = None,
    tiles: Tiles = None,
) -> None:
    """Network check: dangles, near misses, crossings, duplicates and islands on the roads."""
    options: dict[str, Any] = {"tiles": tiles}
    if tolerance_m is not None:
        options["tolerance_m"] = tolerance_m
    _write("network", output, offline, assets, shared_assets, **options)


@map_app.command("all")
def all_maps(
    output: Annotated[Path, typer.Option("-o", "--output", help="folder")] = Path("out/maps"),
    offline: Offline = False,
    shared_assets: SharedAssets = None,
) -> None:
    """Write the demo set of maps and an index into a folder, each map one self-contained
    file (unless --shared-assets); print each as it is written."""
    from gis_registry.cli._progress import progress_bar
    from gis_registry.maps.catalog import write_demo_maps

    mode = _asset_mode(None, shared_assets, offline)
    with user_errors(), engine().connect() as conn, progress_bar("maps") as bar:

        def written(name: str, path: Path | None, why: str | None) -> None:
            if path is not None:
                bar.echo(f"{name:>12}: {path} ({path.stat().st_size / 1e6:.2f} MB)")
            elif why is not None:
                bar.echo(f"{name:>12}: left out ({why})")

        maps = write_demo_maps(
            conn,
            output,
            mode=mode,
            shared_assets=None if shared_assets is None else shared_assets.resolve(),
            progress=bar,
            on_map=written,
        )
    index = maps.paths["index"]
    echo(f"{'index':>12}: {index}")
    where = "self-contained" if shared_assets is None else f"libraries in {shared_assets}"
    echo(f"maps written to {output.resolve()} ({where}; open {index.resolve()})")
