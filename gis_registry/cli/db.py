"""``db start | stop | url | status``, ``db replica start | stop | status`` (the embedded
cluster and its local standby), ``db role add | list | password | remove`` (login roles for
QGIS and psql) and ``migrate``."""

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
    """Print the application's connection URL (last line; which role it is goes to stderr).

    It is the owner's (on the embedded cluster a superuser): for QGIS or psql, make a role
    under the rules with `db role add`. Starts nothing: fails when no database runs.
    """
    from gis_registry.db.roles import describe_url
    from gis_registry.server import database_url
    from gis_registry.settings import Settings

    settings = Settings()
    with user_errors():
        url = database_url(settings)
    typer.echo(describe_url(url, embedded=not settings.database_url), err=True)
    echo(url)


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


role_app = typer.Typer(
    help="Login roles for QGIS and psql, under the registry's rules (row-level security).",
    no_args_is_help=True,
)
db_app.add_typer(role_app, name="role")


@role_app.command("add")
def role_add(
    name: Annotated[str, typer.Argument(help="role name: lower-case letters, digits, _")],
    viewer: Annotated[bool, typer.Option("--viewer", help="reads every layer")] = False,
    editor: Annotated[
        bool, typer.Option("--editor", help="writes the assets of one LGO (give --lgo)")
    ] = False,
    admin: Annotated[bool, typer.Option("--admin", help="writes every layer")] = False,
    lgo: Annotated[
        str | None,
        typer.Option(
            "--lgo",
            metavar="CODE",
            help="the LGO an editor works for: its code or unique name (`gis-registry lgo list`)",
        ),
    ] = None,
) -> None:
    """Create a PostgreSQL login role with a generated password; print its URL (last line).

    The password is shown once; `db role password NAME` makes a new one.
    """
    from gis_registry.db.roles import RoleError, add_role, role_url
    from gis_registry.queries.places import local_body_row

    kinds = [
        k for k, chosen in (("viewer", viewer), ("editor", editor), ("admin", admin)) if chosen
    ]
    with user_errors():
        if len(kinds) != 1:
            raise RoleError("give exactly one of --viewer, --editor --lgo CODE, --admin")
        if lgo is not None and kinds[0] != "editor":
            raise RoleError("--lgo is for editors only (--editor --lgo CODE)")
        eng = engine()
        with eng.begin() as conn:
            lgo_id = None
            label = ""
            if kinds[0] == "editor":
                if lgo is None:
                    raise RoleError(
                        "an editor needs --lgo CODE: `gis-registry lgo list` lists the codes"
                    )
                row = local_body_row(conn, lgo)
                lgo_id, label = row["id"], f" of {row['code']} {row['name_th']}"
            password = add_role(conn, name, kinds[0], lgo_id)
        url = role_url(eng.url.render_as_string(hide_password=False), name, password)
    echo(f"role {name} ({kinds[0]}{label}) created; its password is shown only here")
    echo(url)


@role_app.command("list")
def role_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The login roles made by `db role add`: name, kind, LGO, when and by whom."""
    from gis_registry.db.roles import list_roles

    with user_errors(), engine().connect() as conn:
        roles = list_roles(conn)
    if as_json:
        print_json([r.to_dict() for r in roles])
        return
    if not roles:
        echo("no database roles: `gis-registry db role add NAME --viewer` makes one")
    for r in roles:
        lgo = f" {r.local_body_code} {r.local_body_name}" if r.local_body_code else ""
        echo(f"{r.name:<20} {r.kind:<7}{lgo}  (created {r.created_at:%Y-%m-%d} by {r.created_by})")


@role_app.command("password")
def role_password(name: Annotated[str, typer.Argument(help="the role")]) -> None:
    """Give a role a new generated password; print its new URL (last line)."""
    from gis_registry.db.roles import reset_password, role_url

    with user_errors():
        eng = engine()
        with eng.begin() as conn:
            password = reset_password(conn, name)
        url = role_url(eng.url.render_as_string(hide_password=False), name, password)
    echo(f"role {name}: new password set; the old one no longer logs in")
    echo(url)


@role_app.command("remove")
def role_remove(name: Annotated[str, typer.Argument(help="the role")]) -> None:
    """Drop a login role and its privileges."""
    from gis_registry.db.roles import remove_role

    with user_errors(), engine().begin() as conn:
        remove_role(conn, name)
    echo(f"role {name} removed")
