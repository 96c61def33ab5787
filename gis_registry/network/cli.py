"""CLI commands of the road network (`gis-registry route`, `gis-registry connectivity ...`)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the network commands to the main ``gis-registry`` app."""
