"""A throw-away test database on the same server as the configured one.

Tests never touch the user's registry: they create ``<database>_test``, migrate it and drop it
on the next run. Works on the embedded cluster and on GIS_REGISTRY_DATABASE_URL (which then
needs the CREATEDB privilege).
"""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url

from gis_registry.errors import DatabaseUnavailable
from gis_registry.server import database_url
from gis_registry.settings import Settings


def create_test_database(settings: Settings, suffix: str = "_test") -> str:
    """Drop and recreate an empty PostGIS + pgRouting database; return its libpq URL."""
    url = make_url(database_url(settings))
    name = f"{url.database}{suffix}"
    admin = url.set(drivername="postgresql", database="postgres")
    target = url.set(drivername="postgresql", database=name)
    admin_dsn = admin.render_as_string(hide_password=False)
    target_dsn = target.render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(target_dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
    except psycopg.Error as exc:
        raise DatabaseUnavailable(f"cannot create test database {name}: {exc}") from exc
    return target_dsn
