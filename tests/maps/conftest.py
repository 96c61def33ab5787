"""Fixtures of the map tests.

``maps_engine``: a database of its own holding the small known world (``world.py``), committed,
so that a browser going through the API (another connection, another thread) sees it. Read-only
for the tests; dropped at the end of the session.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.maps.world import build_world

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="session")
def maps_engine(settings) -> Engine:
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database

    url = create_test_database(settings, suffix="_maps_test")
    eng = make_engine(settings, url=url)
    upgrade(eng)
    with eng.begin() as conn:
        eng.world_ids = build_world(conn)
    yield eng
    eng.dispose()
    drop_test_database(url)


@pytest.fixture()
def maps_conn(maps_engine: Engine):
    with maps_engine.connect() as connection:
        trans = connection.begin()
        try:
            yield connection
        finally:
            trans.rollback()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
