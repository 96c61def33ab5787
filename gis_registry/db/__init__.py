"""Database access: engines, migrations and the table definitions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event

from gis_registry.server import database_url
from gis_registry.settings import Settings


def sqlalchemy_url(url: str) -> str:
    """Make a libpq URL use the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(
    settings: Settings | None = None, *, url: str | None = None, **kwargs: Any
) -> Engine:
    """An engine on ``url``, or on the configured database (never starting one).

    Parameters
    ----------
    settings
        Where the database is (``database_url`` or the embedded cluster's home) and the
        statement timeout of every session; default ``Settings()``.
    url
        Connect here instead; then no server is looked for.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine` (pool size and the like).

    Raises
    ------
    DatabaseUnavailable
        No ``url``, no GIS_REGISTRY_DATABASE_URL and the embedded cluster is not running
        (start it with ``gis-registry db start``).
    """
    settings = settings or Settings()
    url = url or database_url(settings)
    engine = create_engine(sqlalchemy_url(url), pool_pre_ping=True, **kwargs)
    timeout = settings.statement_timeout_ms

    @event.listens_for(engine, "connect")
    def _session_defaults(dbapi_conn, _record):  # noqa: ANN001
        with dbapi_conn.cursor() as cur:
            cur.execute(f"SET statement_timeout = {int(timeout)}")
            cur.execute("SET TIME ZONE 'Asia/Bangkok'")
        dbapi_conn.commit()

    return engine
