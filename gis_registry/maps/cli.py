"""CLI commands of gis_registry.maps (registered on the main `gis-registry` app)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this package's commands to the main app; keep heavy imports inside the commands."""
