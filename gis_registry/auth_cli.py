"""``gis-registry users add`` and ``gis-registry keys create | revoke | list``.

Registered on the main app by ``register(app)``; imports stay inside the commands.
"""

from __future__ import annotations

from typing import Annotated

import typer

users_app = typer.Typer(help="Users of the HTTP API and their roles.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (stored hashed; shown once).", no_args_is_help=True)


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def _engine():
    from gis_registry.db import make_engine
    from gis_registry.settings import Settings

    return make_engine(Settings())


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="login name (letters, digits, . _ @ -)")],
    role: Annotated[str, typer.Option(help="viewer, editor or admin")] = "viewer",
    local_body: Annotated[
        int | None,
        typer.Option("--local-body", help="id of the local body (LGO) an editor works for"),
    ] = None,
    display_name: Annotated[str | None, typer.Option(help="full name")] = None,
) -> None:
    """Add a user of the API."""
    from gis_registry.auth import add_user
    from gis_registry.errors import GisRegistryError

    try:
        with _engine().begin() as conn:
            user_id = add_user(
                conn, username, role=role, local_body_id=local_body, display_name=display_name
            )
    except GisRegistryError as exc:
        _fail(exc)
    typer.echo(f"user {username} ({role}) added with id {user_id}")


@users_app.command("list")
def users_list() -> None:
    """List the users."""
    from gis_registry.auth import list_users

    with _engine().connect() as conn:
        for user in list_users(conn):
            state = "active" if user["active"] else "inactive"
            body = user["local_body_id"] if user["local_body_id"] is not None else "-"
            typer.echo(
                f"{user['id']:>4}  {user['username']:<24} {user['role']:<7} {body:>6}  {state}"
            )


@keys_app.command("create")
def keys_create(
    username: Annotated[str, typer.Argument(help="the user the key acts for")],
    name: Annotated[str | None, typer.Option(help="what the key is for")] = None,
) -> None:
    """Create an API key; the key is printed once (last line) and only its hash is kept."""
    from gis_registry.auth import create_key
    from gis_registry.errors import GisRegistryError

    try:
        with _engine().begin() as conn:
            key = create_key(conn, username, name=name)
    except GisRegistryError as exc:
        _fail(exc)
    typer.echo(f"key {key.prefix} created for {username}; store it now, it is not shown again:")
    typer.echo(key.token)


@keys_app.command("revoke")
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="the key's prefix (or the whole key)")],
) -> None:
    """Revoke an API key at once."""
    from gis_registry.auth import revoke_key
    from gis_registry.errors import GisRegistryError

    try:
        with _engine().begin() as conn:
            revoke_key(conn, prefix)
    except GisRegistryError as exc:
        _fail(exc)
    typer.echo(f"key {prefix} revoked")


@keys_app.command("list")
def keys_list(
    username: Annotated[str | None, typer.Option(help="only this user's keys")] = None,
) -> None:
    """List keys (prefixes only, never secrets)."""
    from gis_registry.auth import list_keys

    with _engine().connect() as conn:
        for key in list_keys(conn, username):
            state = "revoked" if key["revoked_at"] else "active"
            typer.echo(f"{key['prefix']}  {key['username']:<24} {state:<8} {key['name'] or ''}")


def register(app: typer.Typer) -> None:
    """Add ``users`` and ``keys`` to the main ``gis-registry`` app."""
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")
