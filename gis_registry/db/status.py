"""What `gis-registry db status` reports."""

from __future__ import annotations

from typing import Any, LiteralString

import psycopg

from gis_registry.errors import DatabaseUnavailable
from gis_registry.server import EmbeddedServer
from gis_registry.settings import Settings


def _redact(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def database_status(settings: Settings) -> dict[str, Any]:
    """Versions, URL (password hidden), data size and schema revision of the database in use."""
    status: dict[str, Any] = {}
    if settings.database_url:
        url = settings.database_url
        status["mode"] = "external (GIS_REGISTRY_DATABASE_URL)"
    else:
        server = EmbeddedServer(settings)
        state = server.state()  # asks only: a status never starts or creates the cluster
        if state != "running":
            raise DatabaseUnavailable(
                f"embedded cluster in {server.home} is {state}; run `gis-registry db start`"
            )
        url = server.url()
        status["mode"] = "embedded"
        status["data directory"] = str(server.datadir)
    status["url"] = _redact(url)
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:

            def one(query: LiteralString) -> Any:
                """The single value of a query that always returns one row."""
                row = conn.execute(query).fetchone()
                assert row is not None, query
                return row[0]

            status["postgresql"] = one("SHOW server_version")
            exts: dict[str, str] = dict(
                conn.execute("SELECT extname, extversion FROM pg_extension").fetchall()
            )
            status["postgis"] = exts.get("postgis", "not installed")
            if "postgis" in exts:
                status["geos"] = one("SELECT postgis_geos_version()")
                status["proj"] = one("SELECT postgis_proj_version()")
            status["pgrouting"] = (
                one("SELECT pgr_version()") if "pgrouting" in exts else "not installed"
            )
            size = one("SELECT pg_database_size(current_database())")
            status["database size"] = f"{size / 2**20:.1f} MiB"
            has_alembic = one("SELECT to_regclass('alembic_version') IS NOT NULL")
            status["schema revision"] = (
                one("SELECT version_num FROM alembic_version") if has_alembic else "not migrated"
            )
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to {status['url']}: {exc}") from exc
    if status["mode"] == "embedded":
        status["data size"] = f"{server.data_size() / 2**20:.1f} MiB"
    return status
