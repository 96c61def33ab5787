"""PostgreSQL login roles for direct access (QGIS, psql): viewers, editors of one LGO, admins.

Migration 0009 made three group roles and the rules they live under: ``gis_registry_viewer``
reads, ``gis_registry_editor`` writes the assets of its local body (row-level security reads it
from ``database_roles``), ``gis_registry_admin`` writes every layer. A login role made here is a
member of one group and has a row in ``database_roles``; it never owns a table, so the rules
(RLS, CHECKs, triggers) all hold for it, unlike for the application's own user.

Why a table and not a role setting (``ALTER ROLE ... SET gis_registry.local_body``): a session
may change its own settings, so an editor could name another LGO; a row in ``database_roles``
it cannot write. The table also travels with the database (pg_dump), keeps a foreign key to
``local_bodies``, and the history triggers recognise a login role by it.

Login roles are the cluster's (PostgreSQL roles are not per database); their row, and so their
rights, are this database's.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from gis_registry.errors import GisRegistryError, NotFound

KINDS = ("viewer", "editor", "admin")
GROUPS = {kind: f"gis_registry_{kind}" for kind in KINDS}
# lower case, no quoting needed, and not one of ours (the owner, the groups)
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_RESERVED = ("gis_registry", "postgres", "pg_")


class RoleError(GisRegistryError):
    """A login role cannot be made, changed or removed (the message says why and what to do)."""


@dataclass(frozen=True)
class DatabaseRole:
    """A login role of ``database_roles``."""

    name: str
    kind: str
    local_body_code: str | None
    local_body_name: str | None
    created_at: Any
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "name": self.name,
            "kind": self.kind,
            "lgo": self.local_body_code,
            "lgo_name": self.local_body_name,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "created_by": self.created_by,
        }


def check_name(name: str) -> str:
    """``name`` if it may name a login role, else a :class:`RoleError` saying what may."""
    if not _NAME.match(name) or name.startswith(_RESERVED):
        raise RoleError(
            f"role name {name!r} is not allowed: use lower-case letters, digits and _, starting "
            "with a letter or _ (at most 63), not gis_registry* (the registry's own roles), "
            "postgres or pg_*"
        )
    return name


def ensure_groups(conn: Connection) -> bool:
    """Create the group roles migration 0009 made, where they are missing and the user may
    (a backup restored on another cluster refers to them). Returns whether all three exist."""
    existing = _existing_groups(conn)
    if len(existing) == len(GROUPS):
        return True  # made with their membership (0009, or below)
    if not _user_may_create_roles(conn)[1]:
        return False
    for group in GROUPS.values():
        if group not in existing:
            conn.exec_driver_sql(f"CREATE ROLE {group} NOLOGIN")
    conn.exec_driver_sql(f"GRANT {GROUPS['viewer']} TO {GROUPS['editor']}")
    conn.exec_driver_sql(f"GRANT {GROUPS['editor']} TO {GROUPS['admin']}")
    return True


def _existing_groups(conn: Connection) -> set[str]:
    """The group roles of :data:`GROUPS` that exist in the cluster."""
    return set(
        conn.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:g)"),
            {"g": list(GROUPS.values())},
        ).scalars()
    )


def _user_may_create_roles(conn: Connection) -> tuple[str, bool]:
    """The database user, and whether it may create roles (superuser or CREATEROLE)."""
    user, may = conn.execute(
        text(
            "SELECT current_user, rolsuper OR rolcreaterole FROM pg_roles "
            "WHERE rolname = current_user"
        )
    ).one()
    return user, bool(may)


def _require_groups(conn: Connection) -> None:
    has_table = conn.execute(text("SELECT to_regclass('database_roles') IS NOT NULL")).scalar_one()
    if len(_existing_groups(conn)) < len(GROUPS) or not has_table:
        user = conn.execute(text("SELECT current_user")).scalar_one()
        raise RoleError(
            "this database has no gis_registry_viewer/editor/admin group roles: run "
            "`gis-registry migrate` as a user who may create roles (CREATEROLE); the database "
            f"user {user!r} may not, so migration 0009 installed the rules without them"
        )


def _may_create_roles(conn: Connection) -> None:
    user, may = _user_may_create_roles(conn)
    if not may:
        raise RoleError(
            f"the database user {user!r} may not create or change roles: ask the database's "
            f"administrator to run `ALTER ROLE {user} CREATEROLE`, or run this command with "
            "GIS_REGISTRY_DATABASE_URL naming a user who may"
        )


def _password_sql(conn: Connection, name: str, password: str) -> str:
    """The SCRAM hash of ``password`` as a quoted literal: the clear password never reaches the
    server (its log, pg_stat_activity)."""
    raw = conn.connection.driver_connection
    if raw is None:  # pragma: no cover - a live connection always has its driver's
        raise RoleError("no database connection to hash the password with")
    digest = raw.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256")
    return "'" + digest.decode().replace("'", "''") + "'"


def add_role(conn: Connection, name: str, kind: str, local_body_id: int | None = None) -> str:
    """Create the login role ``name`` of ``kind`` (editors of ``local_body_id``).

    Parameters
    ----------
    conn : a connection of a user who may create roles, in a transaction the caller commits
    name : the new role (:func:`check_name`); must not exist in the cluster yet
    kind : ``viewer``, ``editor`` or ``admin``
    local_body_id : the id of the local body whose assets an editor writes (editors only)

    Returns
    -------
    str
        The role's generated password (shown once; :func:`reset_password` makes a new one).

    Raises
    ------
    RoleError
        Bad name or kind, an existing role, a missing LGO for an editor, groups missing, or a
        database user who may not create roles.
    """
    check_name(name)
    if kind not in KINDS:
        raise RoleError(f"role kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if (kind == "editor") != (local_body_id is not None):
        raise RoleError(
            "an editor needs --lgo CODE (the local body whose assets it edits); "
            "viewers and admins take none"
        )
    _require_groups(conn)
    _may_create_roles(conn)
    if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first():
        raise RoleError(
            f"role {name!r} already exists in this PostgreSQL cluster: choose another name, or "
            f"`gis-registry db role remove {name}` first"
        )
    password = secrets.token_urlsafe(18)
    # the SCRAM hash holds colons, which text() would take for parameters
    conn.exec_driver_sql(
        f'CREATE ROLE "{name}" LOGIN PASSWORD {_password_sql(conn, name, password)} '
        f"IN ROLE {GROUPS[kind]}"
    )
    conn.execute(
        text("INSERT INTO database_roles (role_name, kind, local_body_id) VALUES (:n, :k, :lgo)"),
        {"n": name, "k": kind, "lgo": local_body_id},
    )
    return password


def _require_listed(conn: Connection, name: str) -> None:
    check_name(name)
    if not conn.execute(
        text("SELECT 1 FROM database_roles WHERE role_name = :n"), {"n": name}
    ).first():
        raise NotFound(
            f"no database role {name!r} in this registry: `gis-registry db role list` lists them"
        )


def reset_password(conn: Connection, name: str) -> str:
    """Give the login role ``name`` a new generated password and return it (the old one stops
    working for new connections)."""
    _require_listed(conn, name)
    _may_create_roles(conn)
    password = secrets.token_urlsafe(18)
    conn.exec_driver_sql(f'ALTER ROLE "{name}" PASSWORD {_password_sql(conn, name, password)}')
    return password


def remove_role(conn: Connection, name: str) -> None:
    """Drop the login role ``name`` and its privileges in this database (a session it has open
    keeps running until it disconnects).

    Raises
    ------
    NotFound
        ``name`` is not a role of this registry.
    RoleError
        The role still has privileges in another database of the cluster (PostgreSQL names
        them), or the database user may not drop roles.
    """
    import psycopg
    from sqlalchemy.exc import DBAPIError

    _require_listed(conn, name)
    _may_create_roles(conn)
    conn.execute(text("DELETE FROM database_roles WHERE role_name = :n"), {"n": name})
    if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first():
        return  # a backup restored on another cluster: the row came, the role did not
    conn.execute(text(f'DROP OWNED BY "{name}"'))  # its grants and any object it made here
    try:
        with conn.begin_nested():
            conn.execute(text(f'DROP ROLE "{name}"'))
    except DBAPIError as exc:
        if isinstance(exc.orig, psycopg.errors.DependentObjectsStillExist):
            raise RoleError(
                f"role {name!r} still has objects or privileges in another database of the "
                f"cluster: {exc.orig.diag.message_detail or exc.orig}"
            ) from None
        raise


def list_roles(conn: Connection) -> list[DatabaseRole]:
    """The login roles of this registry, by name (none when migration 0009 made no groups)."""
    if not conn.execute(text("SELECT to_regclass('database_roles') IS NOT NULL")).scalar_one():
        return []
    rows = conn.execute(
        text(
            """
            SELECT r.role_name, r.kind, lb.code, lb.name_th, r.created_at, r.created_by
            FROM database_roles r LEFT JOIN local_bodies lb ON lb.id = r.local_body_id
            ORDER BY r.role_name
            """
        )
    )
    return [DatabaseRole(*row) for row in rows]


def role_url(url: str, name: str, password: str) -> str:
    """``url`` (the application's) with ``name`` and ``password`` as its user: same host, port
    and database, as libpq and QGIS take it."""
    target = make_url(url).set(drivername="postgresql", username=name, password=password)
    return target.render_as_string(hide_password=False)


def describe_url(url: str, *, embedded: bool) -> str:
    """A comment naming the role a URL of the application connects as (``db url``)."""
    user = make_url(url).username or "?"
    if embedded:
        return (
            f"# role {user}: owner and superuser of the embedded cluster (the application's "
            "own; rules of row-level security do not apply). For QGIS or psql, make a role: "
            "gis-registry db role add NAME --viewer"
        )
    return f"# role {user}: the application's user (GIS_REGISTRY_DATABASE_URL)"
