"""Set-up that speaks: ``migrate`` on a database without the extensions, ``serve`` on a taken
port, and the progress the library reports for the demo load and the network build."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from gis_registry.server import database_url, free_port

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]


def _dsn(url, **changes) -> str:
    return url.set(drivername="postgresql", **changes).render_as_string(hide_password=False)


@contextmanager
def bare_database(settings, *, owner: str | None = None):
    """A database with no extension at all (created by the cluster's superuser, owned by
    ``owner`` when given); yields its URL and drops it at the end."""
    url = make_url(database_url(settings))
    name = f"{url.database}_bare_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = _dsn(url, database="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' OWNER "{owner}"' if owner else ""))
    try:
        yield url.set(database=name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _extensions(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        return {r[0] for r in conn.execute("SELECT extname FROM pg_extension")}


def _migrate(monkeypatch, url: str):
    from gis_registry.cli import app

    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", url)
    return CliRunner().invoke(app, ["migrate"])


def _one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def test_migrate_creates_the_extensions_it_needs(settings, monkeypatch):
    with bare_database(settings) as url:
        assert _extensions(_dsn(url)) == {"plpgsql"}
        result = _migrate(monkeypatch, _dsn(url))
        assert result.exit_code == 0, result.output
        assert "created extensions postgis, pgrouting" in result.output
        assert "schema at revision" in result.output
        assert {"postgis", "pgrouting"} <= _extensions(_dsn(url))
        again = _migrate(monkeypatch, _dsn(url))  # nothing to create: nothing said
        assert again.exit_code == 0 and "created" not in again.output


def test_an_extension_the_server_lacks_is_one_line_naming_its_package(settings, monkeypatch):
    from gis_registry.db import migrate

    monkeypatch.setattr(migrate, "EXTENSIONS", ("postgis", "gis_registry_no_such_ext"))
    with bare_database(settings) as url:
        with psycopg.connect(_dsn(url)) as conn:
            version = int(conn.execute("SHOW server_version_num").fetchone()[0])
        line = _one_line_error(_migrate(monkeypatch, _dsn(url)))
    major = version // 10_000
    assert "gis_registry_no_such_ext extension" in line
    assert f"postgresql-{major}-gis_registry_no_such_ext" in line
    assert migrate.package_of("postgis", major) == f"postgresql-{major}-postgis-3"
    assert migrate.package_of("pgrouting", 15) == "postgresql-15-pgrouting"


def test_a_role_that_may_not_create_extensions_is_told_in_one_line(settings, monkeypatch):
    url = make_url(database_url(settings))
    role, password = f"gis_registry_noext_{os.getpid()}", secrets.token_hex(12)
    admin = _dsn(url, database="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        conn.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")  # noqa: S608
    try:
        with bare_database(settings, owner=role) as bare:
            as_role = _dsn(bare, username=role, password=password)
            line = _one_line_error(_migrate(monkeypatch, as_role))
            assert "extension postgis is missing" in line and role in line
            assert "CREATE EXTENSION postgis" in line
            assert _extensions(_dsn(bare)) == {"plpgsql"}  # nothing half done
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_serve_on_a_taken_port_is_one_line(settings):
    env = {**os.environ, "GIS_REGISTRY_DATABASE_URL": database_url(settings)}
    command = [sys.executable, "-m", "gis_registry.cli", "serve", "--host", "127.0.0.1"]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [*command, "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=60,
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is in use; choose another with --port N "
        "(make demo PORT=N)"
    )
    free = subprocess.run(
        [*command, "--port", str(free_port()), "--check"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert free.returncode == 0 and "is free" in free.stdout, free.stderr


def _checked(calls: list[tuple[str, int, int]]) -> None:
    """Progress calls are steps of one total, never going back, ending at the total."""
    assert calls, "no progress reported"
    totals = {total for _, _, total in calls}
    assert len(totals) == 1
    done = [d for _, d, _ in calls]
    assert done == sorted(done) and done[0] == 0 and done[-1] == calls[-1][2]


def test_the_demo_load_reports_its_steps(settings):
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.tables import LAYERS
    from gis_registry.db.testing import create_test_database, drop_test_database
    from gis_registry.demo import load_demo

    url = create_test_database(settings, suffix="_progress_test")
    eng = make_engine(settings, url=url)
    try:
        upgrade(eng)
        calls: list[tuple[str, int, int]] = []
        load_demo(eng, seed=52, scale=0.2, progress=lambda *c: calls.append(c))
    finally:
        eng.dispose()
        drop_test_database(url)
    _checked(calls)
    stages = [s for s, _, _ in calls]
    assert stages[0] == "planning" and stages[-1] == "loaded"
    assert [s for s in stages if s in LAYERS] == list(LAYERS)  # one step per table, in order


def test_a_network_build_reports_its_steps_and_a_cached_one_none(demo_conn):
    from gis_registry.network.model import BUILD_STEPS, NetworkCache, load_network

    calls: list[tuple[str, int, int]] = []
    cache = NetworkCache(maxsize=1)
    load_network(demo_conn, cache=cache, progress=lambda *c: calls.append(c))
    _checked(calls)
    assert [s for s, _, _ in calls] == [*BUILD_STEPS, "built"]
    again: list[tuple[str, int, int]] = []
    load_network(demo_conn, cache=cache, progress=lambda *c: again.append(c))
    assert again == []
