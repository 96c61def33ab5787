"""The embedded cluster: created, started, reported, stopped, and recovered after a crash."""

import os
import shutil
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from gis_registry.errors import DatabaseUnavailable
from gis_registry.server import NO_DATABASE, EmbeddedServer, database_url
from gis_registry.settings import Settings

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def scratch_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("cluster") / "home"
    server = EmbeddedServer(Settings(home=home, database_url=None))
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.server_root, ignore_errors=True)


def test_cluster_runs_with_extensions_on_loopback_only(scratch_server):
    with psycopg.connect(scratch_server.url()) as conn:
        exts = {r[0] for r in conn.execute("SELECT extname FROM pg_extension")}
        listen = conn.execute("SHOW listen_addresses").fetchone()[0]
    assert {"postgis", "pgrouting"} <= exts
    assert listen == "127.0.0.1"
    assert scratch_server.url().startswith("postgresql://gis_registry:")
    assert "@127.0.0.1:" in scratch_server.url()


def test_password_required(scratch_server):
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://gis_registry:wrong@127.0.0.1:{scratch_server.port}/postgres")


def test_start_is_idempotent(scratch_server):
    port = scratch_server.port
    scratch_server.start()
    assert scratch_server.port == port and scratch_server.is_running()


def test_crashed_server_recovered_by_start(scratch_server):
    pid = int((scratch_server.datadir / "postmaster.pid").read_text().splitlines()[0])
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while scratch_server.is_running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (scratch_server.datadir / "postmaster.pid").exists()  # stale pid file left behind
    scratch_server.start()
    with psycopg.connect(scratch_server.url()) as conn:
        assert conn.execute("SELECT postgis_lib_version()").fetchone()[0].startswith("3")


def test_database_url_never_starts_the_cluster(scratch_server):
    settings = scratch_server.settings
    assert database_url(settings) == scratch_server.url()
    assert scratch_server.state() == "running"
    scratch_server.stop()
    try:
        with pytest.raises(DatabaseUnavailable) as info:
            database_url(settings)
        assert str(info.value) == NO_DATABASE
        assert scratch_server.state() == "stopped" and not scratch_server.is_running()
    finally:
        scratch_server.start()
    assert database_url(settings) == scratch_server.url()


def test_cli_status_and_url(scratch_server):
    env = {**os.environ, "GIS_REGISTRY_HOME": str(scratch_server.home)}
    env.pop("GIS_REGISTRY_DATABASE_URL", None)
    cli = [sys.executable, "-m", "gis_registry.cli"]
    status = subprocess.run([*cli, "db", "status"], env=env, capture_output=True, text=True)
    assert status.returncode == 0, status.stderr
    for word in ("postgresql", "postgis", "geos", "proj", "pgrouting", "data size"):
        assert word in status.stdout
    assert "***" in status.stdout  # password never printed by status
    url = subprocess.run([*cli, "db", "url"], env=env, capture_output=True, text=True)
    assert url.stdout.strip().splitlines()[-1] == scratch_server.url()


def test_status_of_stopped_cluster_is_a_clear_error(tmp_path):
    env = {**os.environ, "GIS_REGISTRY_HOME": str(tmp_path / "never")}
    env.pop("GIS_REGISTRY_DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "gis_registry.cli", "db", "status"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "not created" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "never").exists()  # asking for the status creates nothing
