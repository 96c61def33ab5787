"""``serve``: the HTTP API. The web service lives in the top-level ``api`` package, on top of
this library: the command checks the database, then becomes ``python -m api.serve`` (the same
process id, so Ctrl-C and signals reach uvicorn), and the library never imports the web stack."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from gis_registry.cli._common import user_errors


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the main app."""
    app.command()(serve)


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    access_log: Annotated[
        bool, typer.Option(help="log every request (costs about a third of a small read)")
    ] = False,
) -> None:
    """Serve the OGC API - Features, the analyses, tiles and maps over HTTP."""
    from gis_registry.server import database_url
    from gis_registry.settings import Settings

    with user_errors():  # no database: one line here, not a traceback from inside uvicorn
        database_url(Settings())
    argv = [sys.executable, "-m", "api.serve", "--host", host, "--port", str(port)]
    argv += ["--workers", str(workers)] + (["--access-log"] if access_log else [])
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
