"""Shared fixtures: one real PostGIS test database per session, each test rolled back.

The database tests never skip: if PostGIS cannot be started or reached, they fail and say why.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, Engine

from gis_registry.settings import Settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The session's settings, with the database they name up.

    Connecting never starts a server (only ``gis-registry db start`` does), so the test session
    starts the embedded cluster itself when no GIS_REGISTRY_DATABASE_URL is configured.
    """
    from gis_registry.db.testing import ensure_server

    settings = Settings()
    ensure_server(settings)
    return settings


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Engine:
    """A migrated, empty test database (``<db>_test``) on the embedded or configured server."""
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database

    url = create_test_database(settings)
    eng = make_engine(settings, url=url)
    upgrade(eng)
    yield eng
    eng.dispose()
    drop_test_database(url)


@pytest.fixture()
def conn(engine: Engine) -> Connection:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        trans = connection.begin()
        try:
            yield connection
        finally:
            trans.rollback()


@pytest.fixture(scope="session")
def demo_engine(settings: Settings) -> Engine:
    """A second test database holding the scale-1 demo province, seed 52.

    Loaded once per session; tests must not change it (use ``demo_conn``, which rolls back).
    ``demo_engine.demo_report`` is the loader's DemoReport (counts, planted weak links).
    """
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database
    from gis_registry.demo import load_demo

    url = create_test_database(settings, suffix="_demo_test")
    eng = make_engine(settings, url=url)
    upgrade(eng)
    eng.demo_report = load_demo(eng, seed=52, scale=1)  # planted weak links etc. for the tests
    yield eng
    eng.dispose()
    drop_test_database(url)


@pytest.fixture()
def demo_conn(demo_engine: Engine) -> Connection:
    with demo_engine.connect() as connection:
        trans = connection.begin()
        try:
            yield connection
        finally:
            trans.rollback()
