"""``db start | stop | url | status``, ``db replica start | stop | status`` (the embedded
cluster and its local standby) and ``migrate``."""

from __future__ import annotations

from typing import Annotated

import typer

from gis_registry.cli._common import echo, engine, print_json, user_errors

db_app = typer.Typer(help="The embedded PostGIS cluster.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``db`` and ``migrate`` to the main app."""
    app.add_typer(db_app, name="db")
    app.command()(migrate)


@db_app.command("start")
def db_start() -> None:
    """Create (first time) and start the embedded cluster; print its URL."""
    from gis_registry.server import EmbeddedServer
    from gis_registry.settings import Settings

    settings = Settings()
    if settings.database_url:
        echo("GIS_REGISTRY_DATABASE_URL is set: using that database, nothing to start.")
        return
    with user_errors():
        server = EmbeddedServer(settings)
        server.start()
    echo(f"embedded PostGIS running on 127.0.0.1:{server.port} (data in {server.datadir})")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded cluster."""
    from gis_registry.server import EmbeddedServer
    from gis_registry.settings import Settings

    with user_errors():
        stopped = EmbeddedServer(Settings()).stop()
    echo("stopped" if stopped else "not running")


@db_app.command("url")
def db_url() -> None:
    """Print the connection URL (last line). Starts nothing: fails when no database runs."""
    from gis_registry.server import database_url
    from gis_registry.settings import Settings

    with user_errors():
        echo(database_url(Settings()))


@db_app.command("status")
def db_status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Versions (PostgreSQL, PostGIS, GEOS, PROJ, pgRouting), URL, data size, schema revision."""
    from gis_registry.db.status import database_status
    from gis_registry.settings import Settings

    with user_errors():
        status = database_status(Settings())
    if as_json:
        print_json(status)
        return
    for key, value in status.items():
        echo(f"{key:>18}: {value}")


def migrate(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
    down: Annotated[bool, typer.Option("--down", help="downgrade to REVISION")] = False,
) -> None:
    """Bring the schema to REVISION (default: the latest).

    Creates the PostgreSQL extensions the schema needs (PostGIS, pgRouting) when the role may;
    otherwise says which is missing and which OS package provides it.
    """
    from gis_registry.db import migrate as m

    with user_errors():
        eng = engine()
        if down:
            m.downgrade(eng, revision)
        elif created := m.upgrade(eng, revision):
            echo(f"created extension{'s' * (len(created) > 1)} {', '.join(created)}")
        echo(f"schema at revision {m.current(eng)}")


replica_app = typer.Typer(
    help="A local hot standby of the embedded cluster (streaming replication) for reads.",
    no_args_is_help=True,
)
db_app.add_typer(replica_app, name="replica")


@replica_app.command("start")
def replica_start() -> None:
    """Copy the running embedded cluster (pg_basebackup) and start it as a read-only standby.

    Prints its URL (last line): set GIS_REGISTRY_READ_DATABASE_URL to it and the API reads
    from it. A stopped standby resumes streaming; its data is under <home>/replica.
    """
    from gis_registry.db.replica import Standby
    from gis_registry.settings import Settings

    with user_errors():
        standby = Standby(Settings())
        url = standby.start()
    echo(f"standby streaming from the embedded cluster on 127.0.0.1:{standby.port}")
    echo(url)


@replica_app.command("stop")
def replica_stop(
    remove: Annotated[
        bool,
        typer.Option(
            "--remove",
            help="also delete its data and its replication slot (the primary then keeps no WAL "
            "for it); without it, `start` resumes it in seconds",
        ),
    ] = False,
) -> None:
    """Stop the standby (its data and slot are kept unless --remove)."""
    from gis_registry.db.replica import WAL_KEEP, Standby
    from gis_registry.settings import Settings

    with user_errors():
        stopped = Standby(Settings()).stop(remove=remove)
    echo("stopped" if stopped else "not running")
    if remove:
        echo("removed its data and replication slot")
    elif stopped:
        echo(f"kept its data; the primary keeps WAL for it (up to {WAL_KEEP}) until `start`")


@replica_app.command("status")
def replica_status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Running or not, port, URL (password hidden) and replication lag."""
    from gis_registry.db.replica import Standby
    from gis_registry.settings import Settings

    with user_errors():
        status = Standby(Settings()).status()
    if as_json:
        print_json(status)
        return
    for key, value in status.items():
        echo(f"{key:>13}: {value}")
