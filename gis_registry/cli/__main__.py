"""``python -m gis_registry.cli``."""

from gis_registry.cli import app

app()
