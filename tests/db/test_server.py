"""The embedded cluster: created, started, reported, stopped, and recovered after a crash."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import psycopg
import pytest

from gis_registry.errors import DatabaseUnavailable, ServerError
from gis_registry.server import NO_DATABASE, EmbeddedServer, database_url, free_port
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
    assert url.stdout.strip() == scratch_server.url()  # $(gis-registry db url) still works
    assert "# role gis_registry" in url.stderr and "superuser" in url.stderr  # names its role


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


def test_port_is_kept_across_restarts_and_a_taken_port_is_an_error(scratch_server):
    """A saved QGIS connection names the port: a restart never moves it silently (issue 15)."""
    port = scratch_server.port
    scratch_server.stop()
    try:
        scratch_server.start()
        assert scratch_server.port == port
        scratch_server.stop()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT
            squatter.bind(("127.0.0.1", port))
            squatter.listen()
            with pytest.raises(ServerError) as info:
                scratch_server.start()
        message = str(info.value)
        assert f"port {port}" in message and "GIS_REGISTRY_PORT" in message
        assert not scratch_server.is_running()
        scratch_server.start()  # freed: back on its port
        assert scratch_server.port == port
    finally:
        if not scratch_server.is_running():
            scratch_server.start()


def test_gis_registry_port_overrides_and_is_kept(scratch_server):
    scratch_server.stop()
    wanted = free_port()
    moved = EmbeddedServer(Settings(home=scratch_server.home, database_url=None, port=wanted))
    try:
        moved.start()
        assert moved.port == wanted and f"@127.0.0.1:{wanted}/" in moved.url()
        with psycopg.connect(moved.url()) as conn:
            assert conn.execute("SHOW port").fetchone()[0] == str(wanted)
        moved.stop()
        scratch_server.start()  # without the setting: the port it was given is kept
        assert scratch_server.port == wanted
    finally:
        if not scratch_server.is_running():
            scratch_server.start()
