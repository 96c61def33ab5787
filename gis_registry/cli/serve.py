"""``serve``: the HTTP API. The web service lives in the top-level ``api`` package, on top of
this library: the command checks the database and the port, then becomes ``python -m
api.serve`` (the same process id, so Ctrl-C and signals reach uvicorn), and the library never
imports the web stack."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from gis_registry.cli._common import echo, fail, user_errors


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the main app."""
    app.command()(serve)


def port_problem(host: str, port: int) -> str | None:
    """Why uvicorn could not listen on ``host:port``, in a sentence; None when it could.

    Binds a socket the way uvicorn does (SO_REUSEADDR, IPv6 when the host has a colon) and
    lets it go: a port taken by another server fails here, in one line, rather than in a
    uvicorn traceback after the start-up.
    """
    import errno
    import socket  # here: every command imports this module at start-up

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is in use; choose another with --port N "
                    "(make demo PORT=N)"
                )
            if exc.errno == errno.EACCES:
                return f"port {port} on {host} needs privileges; choose one above 1023"
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        except OverflowError as exc:  # a port beyond 65535
            return f"cannot listen on {host}:{port}: {exc}"
    return None


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    access_log: Annotated[
        bool, typer.Option(help="log every request (costs about a third of a small read)")
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="only check that the database answers and the port is free, then exit",
        ),
    ] = False,
) -> None:
    """Serve the OGC API - Features, the analyses, tiles and maps over HTTP."""
    from gis_registry.server import database_url
    from gis_registry.settings import Settings

    with user_errors():  # no database: one line here, not a traceback from inside uvicorn
        database_url(Settings())
        if read_url := Settings().read_database_url:
            from gis_registry.db.replica import describe_read_database

            echo(describe_read_database(read_url))
    problem = port_problem(host, port)
    if problem is not None:
        fail(problem)
    if check:
        echo(f"port {port} on {host} is free")
        return
    argv = [sys.executable, "-m", "api.serve", "--host", host, "--port", str(port)]
    argv += ["--workers", str(workers)] + (["--access-log"] if access_log else [])
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
