"""The ``gis-registry`` command: one module per command group, shared plumbing in
:mod:`gis_registry.cli._common`. Thin: each command parses, calls the library, prints.

Typer is imported here and nowhere else in the library; heavy imports (pandas, geopandas,
folium, the generator) happen inside the commands that need them.
"""

from __future__ import annotations

import typer

from gis_registry.cli import (
    analysis,
    auth,
    backup,
    data,
    db,
    files,
    maps,
    network,
    network_check,
    places,
    qgis,
    serve,
)
from gis_registry.cli._common import Commands

app = typer.Typer(
    cls=Commands,
    help="Lampang PAO geospatial infrastructure asset registry.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

_GROUPS = (
    db,
    backup,
    data,
    files,
    places,
    network,
    network_check,
    analysis,
    maps,
    auth,
    serve,
    qgis,
)
for _group in _GROUPS:
    _group.register(app)

__all__ = ["app"]
