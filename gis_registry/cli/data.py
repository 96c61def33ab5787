"""``demo`` and ``demo-summary``: the demo province and what the registry holds."""

from __future__ import annotations

from typing import Annotated

import typer

from gis_registry.cli._common import echo, engine, print_json, user_errors


def register(app: typer.Typer) -> None:
    """Add the data commands to the main app."""
    app.command()(demo)
    app.command("demo-summary")(demo_summary)


def demo(
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same data")] = 52,
    scale: Annotated[float, typer.Option(help="1 = Lampang as it is; 100 = ~1M road segments")] = 1,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="do nothing when the registry already holds data")
    ] = False,
) -> None:
    """Load the deterministic Lampang demo province (replacing what the registry holds)."""
    from gis_registry.db import migrate as m
    from gis_registry.demo import load_demo, registry_is_empty

    with user_errors():
        eng = engine()
        m.upgrade(eng)
        if if_empty and not registry_is_empty(eng):
            echo("registry already holds data; leaving it as it is (drop --if-empty to reload)")
            return
        report = load_demo(eng, seed=seed, scale=scale)
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
