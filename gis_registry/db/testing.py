"""Throw-away test databases on the same server as the configured one.

Tests never touch the user's registry: each pytest session creates ``<database><suffix>_<pid>``
databases, migrates them and drops them at the end, so concurrent sessions (two terminals, or
CI beside a developer) never drop each other's data. Databases left by a killed session (its pid
gone) are dropped on the next run. Works on the embedded cluster and on GIS_REGISTRY_DATABASE_URL
(which then needs the CREATEDB privilege).
"""

from __future__ import annotations

import os
import re

import psycopg
from sqlalchemy.engine import URL, make_url

from gis_registry.errors import DatabaseUnavailable
from gis_registry.server import EmbeddedServer, database_url
from gis_registry.settings import Settings


def _admin_dsn(url: URL) -> str:
    return url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ensure_server(settings: Settings) -> None:
    """Start the embedded cluster for a test session, unless a database URL is configured.

    Connecting never starts a server; test fixtures are, with ``gis-registry db start``, the
    only callers that do (explicitly, here), so ``make test`` works on a fresh checkout.

    Parameters
    ----------
    settings
        The session's settings; with ``database_url`` set nothing is started.

    Raises
    ------
    ServerError
        The embedded cluster cannot be initialised or started.
    """
    if not settings.database_url:
        EmbeddedServer(settings).start()


def create_test_database(
    settings: Settings, suffix: str = "_test", *, per_process: bool = True
) -> str:
    """Drop and recreate an empty PostGIS + pgRouting database; return its libpq URL.

    With ``per_process`` the name ends in this process id (for test sessions); without it the
    name is ``<database><suffix>`` (for benchmarks that reuse a loaded database). The server
    must be up: the configured database, or the embedded cluster started by
    :func:`ensure_server` or ``gis-registry db start`` (else DatabaseUnavailable).
    """
    url = make_url(database_url(settings))
    name = f"{url.database}{suffix}" + (f"_{os.getpid()}" if per_process else "")
    target_dsn = url.set(drivername="postgresql", database=name).render_as_string(
        hide_password=False
    )
    try:
        with psycopg.connect(_admin_dsn(url), autocommit=True) as conn:
            _drop_orphans(conn, f"{url.database}")
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(target_dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
    except psycopg.Error as exc:
        raise DatabaseUnavailable(f"cannot create test database {name}: {exc}") from exc
    return target_dsn


def drop_test_database(dsn: str) -> None:
    """Drop the database of ``dsn`` (made by :func:`create_test_database`), even if in use."""
    url = make_url(dsn)
    with psycopg.connect(_admin_dsn(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def _drop_orphans(conn: psycopg.Connection, base: str) -> None:
    """Drop per-process test databases whose process is gone."""
    pattern = re.compile(rf"^{re.escape(base)}_.*_(\d+)$")
    for (name,) in conn.execute("SELECT datname FROM pg_database").fetchall():
        match = pattern.match(name)
        if match and "test" in name and not _pid_alive(int(match.group(1))):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
