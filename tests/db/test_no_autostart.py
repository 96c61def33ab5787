"""Connecting never starts a server: without GIS_REGISTRY_DATABASE_URL and with the embedded
cluster not running, the library and the API refuse with one clear line, and start, create and
run nothing (no initdb, no pg_ctl, no useradd)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gis_registry import server as server_module
from gis_registry.errors import DatabaseUnavailable
from gis_registry.settings import Settings

pytestmark = pytest.mark.db

MESSAGE = "no database: run `gis-registry db start` or set GIS_REGISTRY_DATABASE_URL"


@pytest.fixture()
def empty_home(tmp_path, monkeypatch):
    """An empty GIS_REGISTRY_HOME, no GIS_REGISTRY_DATABASE_URL, and every subprocess and start
    of the embedded server recorded (and refused), so that a test sees any attempt."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("GIS_REGISTRY_HOME", str(home))
    monkeypatch.delenv("GIS_REGISTRY_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    attempts: list[str] = []

    def refuse_run(cmd, *args, **kwargs):
        attempts.append(" ".join(map(str, cmd)))
        raise AssertionError(f"connecting ran a command: {cmd}")

    def refuse_start(self, *args, **kwargs):
        attempts.append("EmbeddedServer.start")
        raise AssertionError("connecting started the embedded server")

    monkeypatch.setattr(server_module.subprocess, "run", refuse_run)
    monkeypatch.setattr(server_module.EmbeddedServer, "start", refuse_start)
    return home, attempts


def _assert_untouched(empty_home) -> None:
    home, attempts = empty_home
    assert attempts == []
    assert list(home.iterdir()) == []  # no initdb, no password, no port file


def test_registry_connect_without_database_is_a_clear_error(empty_home):
    from gis_registry.registry import Registry

    with pytest.raises(DatabaseUnavailable) as info:
        Registry.connect()
    assert str(info.value) == MESSAGE
    _assert_untouched(empty_home)


def test_make_engine_and_database_url_start_nothing(empty_home):
    from gis_registry.db import make_engine
    from gis_registry.server import database_url

    for attempt in (lambda: make_engine(), lambda: database_url(Settings())):
        with pytest.raises(DatabaseUnavailable, match="^no database: run `gis-registry db start`"):
            attempt()
    _assert_untouched(empty_home)


def test_create_app_without_database_is_a_clear_error(empty_home):
    from api.app import create_app

    with pytest.raises(DatabaseUnavailable) as info:
        create_app()
    assert str(info.value) == MESSAGE
    _assert_untouched(empty_home)


def test_an_explicit_url_needs_no_server(empty_home):
    from gis_registry.registry import Registry

    url = "postgresql://someone:secret@127.0.0.1:1/elsewhere"
    reg = Registry.connect(url)  # engines connect lazily: nothing is reached yet
    assert reg.engine.url.database == "elsewhere"
    reg.engine.dispose()
    _assert_untouched(empty_home)


def test_stopped_cluster_is_the_same_clear_error(tmp_path, monkeypatch):
    """A cluster that exists but is stopped: pg_ctl status may run, nothing starts."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "password").write_text("pw")
    (home / "port").write_text("1")
    settings = Settings(home=home, database_url=None)
    calls: list[list[str]] = []
    real_run = subprocess.run

    def record(cmd, *args, **kwargs):
        calls.append([str(c) for c in cmd])
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(server_module.subprocess, "run", record)
    with pytest.raises(DatabaseUnavailable, match="^no database"):
        server_module.database_url(settings)
    ran = {Path(arg).name for cmd in calls for arg in cmd}
    assert not ran & {"initdb", "start", "useradd"}, calls


def test_connect_works_with_the_cluster_running(settings):
    """The session's fixtures started the embedded cluster (or a URL is configured)."""
    from sqlalchemy import text

    from gis_registry.registry import Registry

    reg = Registry.connect(settings=settings)
    try:
        with reg.engine.connect() as conn:
            assert conn.execute(text("SELECT postgis_lib_version()")).scalar().startswith("3")
    finally:
        reg.engine.dispose()
