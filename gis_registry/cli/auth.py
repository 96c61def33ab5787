"""``users add | list | disable | enable`` and ``keys create | revoke | list``: who may use the
HTTP API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from gis_registry.cli._common import Commands, echo, engine, user_errors, write

if TYPE_CHECKING:
    from gis_registry.cli._human import Col

users_app = typer.Typer(
    cls=Commands, help="Users of the HTTP API and their roles.", no_args_is_help=True
)
keys_app = typer.Typer(
    cls=Commands, help="API keys (stored hashed; shown once).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add ``users`` and ``keys`` to the main app."""
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="login name (letters, digits, . _ @ -)")],
    role: Annotated[str, typer.Option(help="viewer, editor or admin")] = "viewer",
    local_body: Annotated[
        str | None,
        typer.Option(
            "--local-body",
            metavar="LGO",
            help="the local body an editor works for: its code, id or unique name",
        ),
    ] = None,
    display_name: Annotated[str | None, typer.Option(help="full name")] = None,
) -> None:
    """Add a user of the API."""
    from gis_registry.auth import add_user
    from gis_registry.queries.places import local_body_row

    with user_errors(), engine().begin() as conn:
        lgo = None if local_body is None else local_body_row(conn, local_body)["id"]
        user_id = add_user(conn, username, role=role, local_body_id=lgo, display_name=display_name)
    echo(f"user {username} ({role}) added with id {user_id}")


@users_app.command("list")
def users_list() -> None:
    """List the users."""
    from gis_registry.auth import list_users

    with user_errors(), engine().connect() as conn:
        users = list_users(conn)
    from gis_registry.cli._human import USER_COLUMNS

    rows = [{**u, "state": "active" if u["active"] else "inactive"} for u in users]
    write(_listing("users", rows, USER_COLUMNS))


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="the user to lock out")],
) -> None:
    """End every API key and bearer token of a user at once (keys are revoked for good)."""
    from gis_registry.auth import disable_user

    with user_errors(), engine().begin() as conn:
        revoked = disable_user(conn, username)
    echo(
        f"user {username} disabled: {revoked} key{'s' if revoked != 1 else ''} revoked, "
        "their bearer tokens refused from now on"
    )


@users_app.command("enable")
def users_enable(
    username: Annotated[str, typer.Argument(help="the user to let back in")],
) -> None:
    """Let a disabled user back in; their old keys stay revoked (create new ones)."""
    from gis_registry.auth import enable_user

    with user_errors(), engine().begin() as conn:
        enable_user(conn, username)
    echo(f"user {username} enabled; create a key with `gis-registry keys create {username}`")


def _listing(title: str, rows: list[dict], cols: tuple[Col, ...]) -> str:
    """The rows as a table for a person (every row: these lists are short)."""
    from gis_registry.cli._human import console_width, listing, render

    width = console_width()
    return render(listing(rows, cols, heading=title, limit=None, width=width), width=width)


@keys_app.command("create")
def keys_create(
    username: Annotated[str, typer.Argument(help="the user the key acts for")],
    name: Annotated[str | None, typer.Option(help="what the key is for")] = None,
) -> None:
    """Create an API key; the key is printed once (last line) and only its hash is kept."""
    from gis_registry.auth import create_key

    with user_errors(), engine().begin() as conn:
        key = create_key(conn, username, name=name)
    echo(f"key {key.prefix} created for {username}; store it now, it is not shown again:")
    echo(key.token)


@keys_app.command("revoke")
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="the key's prefix (or the whole key)")],
) -> None:
    """Revoke an API key at once."""
    from gis_registry.auth import revoke_key

    with user_errors(), engine().begin() as conn:
        revoke_key(conn, prefix)
    echo(f"key {prefix} revoked")


@keys_app.command("list")
def keys_list(
    username: Annotated[str | None, typer.Option(help="only this user's keys")] = None,
) -> None:
    """List keys (prefixes only, never secrets)."""
    from gis_registry.auth import list_keys

    with user_errors(), engine().connect() as conn:
        keys = list_keys(conn, username)
    from gis_registry.cli._human import KEY_COLUMNS

    rows = [{**k, "state": "revoked" if k["revoked_at"] else "active"} for k in keys]
    write(_listing("API keys", rows, KEY_COLUMNS))
