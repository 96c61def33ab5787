"""API fixtures: a committed test registry, the app on it (in process) and a real server
(uvicorn in a subprocess) for the GIS clients."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from gis_registry.server import free_port
from gis_registry.settings import Settings
from tests.api.world import build_api_world
from tests.fixtures.servers import serving

ROOT = Path(__file__).resolve().parents[2]
JWT_SECRET = "test-secret-for-bearer-tokens-0123456789"


@contextlib.contextmanager
def world_database(settings: Settings, suffix: str):
    """A throw-away database holding the API world, committed (the app reads it with its own
    connections). Yields (url, ids)."""
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database

    url = create_test_database(settings, suffix=suffix)
    eng = make_engine(settings, url=url)
    upgrade(eng)
    with eng.begin() as conn:
        ids = build_api_world(conn)
    eng.dispose()
    try:
        yield url, ids
    finally:
        drop_test_database(url)


@pytest.fixture(scope="session")
def shared_api_db(settings: Settings):
    """The world every module that only reads shares."""
    with world_database(settings, "_api_test") as db:
        yield db


@pytest.fixture(scope="module")
def api_db(request, settings: Settings, shared_api_db):
    """The module's world: the shared one, or a world of its own for a module that declares
    ``WRITES = True``, so that no test sees another module's writes whatever the order."""
    if not getattr(request.module, "WRITES", False):
        yield shared_api_db
        return
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:12]
    with world_database(settings, f"_api_{name}") as db:
        yield db


@pytest.fixture(scope="module")
def api_url(api_db) -> str:
    return api_db[0]


@pytest.fixture(scope="module")
def world(api_db) -> dict:
    return api_db[1]


@pytest.fixture(scope="module")
def keys(world) -> dict[str, str]:
    return world["keys"]


def make_client(url: str, **api_settings) -> TestClient:
    app = create_app(
        ApiSettings(jwt_secret=JWT_SECRET, **api_settings),
        registry_settings=Settings(database_url=url),
    )
    return TestClient(app, base_url="http://testserver", raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(api_url):
    with make_client(api_url) as c:
        yield c


@pytest.fixture(scope="module")
def closed_client(api_url):
    """The app with reading closed to anonymous callers."""
    with make_client(api_url, public_read=False) as c:
        yield c


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


@contextlib.contextmanager
def serve(database_url: str):
    """``gis-registry serve`` on a free port, on ``database_url``; yields its base URL."""
    port = free_port()
    env = {**os.environ, "GIS_REGISTRY_DATABASE_URL": database_url}
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "gis_registry.cli", "serve", "--host", "127.0.0.1"]
    with serving(
        [*command, "--port", str(port)],
        ready_url=f"{base}/conformance",
        what="the API server",
        env=env,
        cwd=ROOT,
    ):
        yield base


@pytest.fixture(scope="session")
def live_server(shared_api_db):
    """The real server on the shared (read-only) API test database."""
    with serve(shared_api_db[0]) as base:
        yield base
