"""``demo``, ``demo-summary`` and ``clear``: the demo province, what the registry holds, and
emptying layers."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from gis_registry.cli._common import echo, engine, fail, print_json, user_errors


def register(app: typer.Typer) -> None:
    """Add the data commands to the main app."""
    app.command()(demo)
    app.command("demo-summary")(demo_summary)
    app.command()(clear)


def demo(
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same data")] = 52,
    scale: Annotated[float, typer.Option(help="1 = Lampang as it is; 100 = ~1M road segments")] = 1,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="do nothing when the registry already holds data")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="replace the registry's data even if the demo did not load it"
        ),
    ] = False,
) -> None:
    """Load the deterministic Lampang demo province (replacing what the registry holds).

    Refuses to replace data the demo did not load (an import, OSM) unless --force.
    """
    from gis_registry.cli._progress import progress_bar
    from gis_registry.db import migrate as m
    from gis_registry.demo import load_demo, registry_is_empty

    with user_errors():
        eng = engine()
        m.upgrade(eng)
        if if_empty and not registry_is_empty(eng):
            echo("registry already holds data; leaving it as it is (drop --if-empty to reload)")
            return
        with progress_bar("demo") as step:
            report = load_demo(eng, seed=seed, scale=scale, force=force, progress=step)
    for layer, count in report.counts.items():
        echo(f"{layer:>20}: {count:>9,}")
    echo(f"loaded in {report.seconds:.1f} s (seed {seed}, scale {scale:g})")


def demo_summary(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Summarise what the registry holds: counts, lengths, population, budgets."""
    from gis_registry.summary import registry_summary

    with user_errors():
        summary = registry_summary(engine())
    if as_json:
        print_json(summary)
        return
    for section, values in summary.items():
        echo(f"{section}")
        for key, value in values.items():
            echo(f"  {key:<40} {value}")


def interactive() -> bool:
    """Whether a person can answer a question on stdin (tests replace this)."""
    return sys.stdin.isatty()


def _rows(counts: dict[str, int], layers: set[str]) -> str:
    return (
        ", ".join(
            f"{n:,} {table}" + ("" if table in layers else " (cascade)")
            for table, n in counts.items()
            if n  # an empty layer loses nothing: not listed
        )
        or "nothing"
    )


def clear(
    layers: Annotated[
        list[str] | None,
        typer.Argument(
            help="layers to empty, e.g. water_points inspections (water_sources: all three)"
        ),
    ] = None,
    all_layers: Annotated[
        bool, typer.Option("--all", help="empty every layer but the DPT zoning categories")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
) -> None:
    """Delete every row of some layers, with what their foreign keys cascade to.

    Prints what would go, then asks; without a terminal to ask on, pass --yes.

    Rows that refer to a cleared layer without cascading (bridges on roads) stop the clear:
    name their layer too. A clear is neither a load (no data_loads row) nor an edit (no
    feature history).
    """
    from gis_registry.catalog import LOGICAL_LAYERS
    from gis_registry.db.tables import LAYERS
    from gis_registry.io.clear import clear_layers, count_rows_to_clear

    if all_layers == bool(layers):
        raise typer.BadParameter(
            "name the layers to clear, or pass --all (not both)", param_hint="LAYERS"
        )
    wanted = None if all_layers else list(layers or [])
    # a logical layer (water_sources) names its layers (water_points, water_areas, water_lines)
    named = {p for n in (LAYERS if wanted is None else wanted) for p in LOGICAL_LAYERS.get(n, (n,))}
    with user_errors():
        eng = engine()
        try:
            with eng.connect() as conn:
                counts = count_rows_to_clear(conn, wanted)
            if not any(counts.values()):
                echo("nothing to delete: " + ", ".join(sorted(named)) + " hold no rows")
                return
            echo(f"will delete {_rows(counts, named)}")
            if not yes:
                if not interactive():
                    fail(
                        "not deleting without confirmation: pass --yes to clear without a terminal"
                    )
                typer.confirm("delete these rows?", abort=True)
            with eng.begin() as conn:
                done = clear_layers(conn, wanted)
        finally:
            eng.dispose()
    echo(f"deleted {_rows(done, named)}")
