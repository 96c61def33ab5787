"""Users and their roles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from gis_registry.auth.permissions import Principal
from gis_registry.db.tables import local_bodies
from gis_registry.db.tables_auth import ROLES, api_keys, users
from gis_registry.errors import NotFound, ValidationError


def add_user(
    conn: Connection,
    username: str,
    *,
    role: str,
    local_body_id: int | None = None,
    display_name: str | None = None,
) -> int:
    """Create a user; return its id.

    Raises :class:`ValidationError` for an unknown role, a missing or unknown local body for an
    editor, or a username already taken.
    """
    problems: list[tuple[str | int | None, str, str]] = []
    if role not in ROLES:
        problems.append((username, "role", f"'{role}' is not one of {', '.join(ROLES)}"))
    if role == "editor" and local_body_id is None:
        problems.append((username, "local_body_id", "an editor belongs to a local body"))
    if local_body_id is not None:
        found = conn.execute(
            select(local_bodies.c.id).where(local_bodies.c.id == local_body_id)
        ).first()
        if found is None:
            problems.append((username, "local_body_id", f"local body {local_body_id} not found"))
    if problems:
        raise ValidationError("users", problems)
    values: dict[str, Any] = {
        "username": username,
        "role": role,
        "local_body_id": local_body_id,
        "display_name": display_name,
    }
    try:
        with conn.begin_nested():
            return conn.execute(insert(users).values(**values).returning(users.c.id)).scalar_one()
    except IntegrityError as exc:
        message = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        field = "username"
        raise ValidationError("users", [(username, field, message)]) from None


def get_user(conn: Connection, username: str) -> Principal:
    """The active user called ``username``; raise :class:`NotFound` otherwise."""
    row = (
        conn.execute(select(users).where(users.c.username == username, users.c.active))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no active user '{username}'")
    return Principal(row["id"], row["username"], row["role"], row["local_body_id"])


def list_users(conn: Connection) -> list[dict[str, Any]]:
    """Every user, active or not, as a dict of the ``users`` columns, ordered by id."""
    return [dict(r) for r in conn.execute(select(users).order_by(users.c.id)).mappings()]


def set_user_active(conn: Connection, username: str, active: bool) -> None:
    """Activate or deactivate ``username``; deactivation stops the user's keys and tokens at once.

    Raises :class:`NotFound` when there is no such user.
    """
    result = conn.execute(update(users).where(users.c.username == username).values(active=active))
    if result.rowcount == 0:
        raise NotFound(f"no user '{username}'")


def disable_user(conn: Connection, username: str) -> int:
    """End every credential of ``username`` at once; return how many keys were revoked.

    The user is marked inactive (their keys and bearer tokens are refused from the next
    request on, see :func:`gis_registry.auth.tokens.verify_token`) and every key still working
    is revoked for good: enabling the user again (:func:`enable_user`) restores none of them.

    Raises
    ------
    NotFound
        when there is no such user.
    """
    set_user_active(conn, username, False)
    user_id = select(users.c.id).where(users.c.username == username).scalar_subquery()
    revoked = conn.execute(
        update(api_keys)
        .where(api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return int(revoked.rowcount)


def enable_user(conn: Connection, username: str) -> None:
    """Mark ``username`` active again; their old keys stay revoked (create new ones).

    Raises
    ------
    NotFound
        when there is no such user.
    """
    set_user_active(conn, username, True)
