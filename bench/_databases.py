"""The benchmarks' own databases beside the registry's: ``<db>_bench_<name>_s<scale>``, kept
between runs (a scale-100 demo takes minutes to load) and found again by :func:`reused`."""

from __future__ import annotations

import psycopg


def bench_dsn(suffix: str) -> str:
    """libpq URL of the database ``<registry database><suffix>`` on the registry's server."""
    from sqlalchemy.engine import make_url

    from gis_registry.server import database_url
    from gis_registry.settings import Settings

    url = make_url(database_url(Settings()))
    name = f"{url.database}{suffix}"
    return url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)


def reused(suffix: str, *, table: str = "roads") -> str | None:
    """The URL of the bench database ``suffix`` when it exists and ``table`` has rows, migrated
    to this code's schema first (a database kept from an older revision would answer with
    errors); None when it must be built."""
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.settings import Settings

    dsn = bench_dsn(suffix)
    try:
        with psycopg.connect(dsn) as conn:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # a fixed name
    except psycopg.Error:
        return None
    if not row or not row[0]:
        return None
    engine = make_engine(Settings(), url=dsn)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    print(f"reusing {dsn.rsplit('/', 1)[1]} ({row[0]:,} {table})", flush=True)
    return dsn
