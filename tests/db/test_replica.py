"""A local hot standby (``gis-registry db replica``) and the API's public reads served from it
(GIS_REGISTRY_READ_DATABASE_URL) while writes, credentialed reads and ``?at=`` use the primary.

Everything runs on a scratch embedded cluster of its own (a temporary home), never the
session's: its standby copies the whole cluster, which no other test should see.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from api.app import create_app
from api.settings import ApiSettings
from gis_registry.cli import app as cli
from gis_registry.db.replica import SLOT, Standby
from gis_registry.server import EmbeddedServer, free_port
from gis_registry.settings import Settings
from tests.api.world import build_api_world

pytestmark = pytest.mark.db

LAG_S = 5.0  # the stated bound: a commit on the primary is read from the standby within it


@pytest.fixture(scope="module")
def primary(tmp_path_factory):
    """A scratch embedded cluster holding a migrated API world database; yields
    (settings, env for the CLI, the world database's URL, the world's ids)."""
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database

    home = tmp_path_factory.mktemp("replica") / "home"
    settings = Settings(home=home, database_url=None, read_database_url=None)
    server = EmbeddedServer(settings)
    server.start()
    url = create_test_database(settings, suffix="_replica")
    eng = make_engine(settings, url=url)
    upgrade(eng)
    with eng.begin() as conn:
        ids = build_api_world(conn)
    eng.dispose()
    env = {
        "GIS_REGISTRY_HOME": str(home),
        "GIS_REGISTRY_DATABASE_URL": None,
        "GIS_REGISTRY_READ_DATABASE_URL": None,
    }
    try:
        yield settings, env, url, ids
    finally:
        Standby(settings).stop(remove=True)
        server.stop()
        shutil.rmtree(server.server_root, ignore_errors=True)


def run(env: dict, *args: str):
    return CliRunner().invoke(cli, ["db", "replica", *args], env=env)


@pytest.fixture(scope="module")
def standby(primary):
    """The standby started by the CLI; yields the world database's URL on it."""
    settings, env, url, _ = primary
    started = run(env, "start")
    assert started.exit_code == 0, started.output
    standby_url = started.output.strip().splitlines()[-1]
    port = make_url(standby_url).port
    return make_url(url).set(port=port).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def client(primary, standby):
    """The app with its public reads on the standby."""
    _, _, url, _ = primary
    app = create_app(
        ApiSettings(),
        registry_settings=Settings(database_url=url, read_database_url=standby),
    )
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as c:
        yield c


def test_status_when_no_standby_runs(primary):
    _, env, _, _ = primary
    text = run(env, "status")
    assert text.exit_code == 0, text.output
    assert "state: not created" in text.output and "primary: running" in text.output
    as_json = run(env, "status", "--json")
    assert json.loads(as_json.output)["state"] == "not created"
    stopped = run(env, "stop")
    assert stopped.exit_code == 0 and stopped.output.strip() == "not running"


def test_external_database_and_missing_cluster_are_one_line_errors(tmp_path):
    external = {"GIS_REGISTRY_DATABASE_URL": "postgresql://registry@db.example/registry"}
    for args in (("start",), ("status",)):
        r = run(external, *args)
        assert r.exit_code == 1
        assert r.output.count("\n") == 1 and "that server's own tools" in r.output
    nothing = {"GIS_REGISTRY_HOME": str(tmp_path / "none"), "GIS_REGISTRY_DATABASE_URL": None}
    r = run(nothing, "start")
    assert r.exit_code == 1 and r.output.strip() == (
        "error: the embedded cluster is not running: run `gis-registry db start` first"
    )


def test_standby_streams_read_only_through_a_slot(primary, standby):
    settings, env, url, _ = primary
    with psycopg.connect(standby) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE nope (x int)")
    with psycopg.connect(url) as conn:
        slot = conn.execute(
            "SELECT active FROM pg_replication_slots WHERE slot_name = %s", (SLOT,)
        ).fetchone()
    assert slot == (True,)
    status = json.loads(run(env, "status", "--json").output)
    assert status["state"] == "running" and status["in_recovery"] is True
    assert status["streaming"] is True and status["port"] == make_url(standby).port
    assert "***" in status["url"]
    assert run(env, "start").exit_code == 0  # idempotent: the running standby is kept
    checked = CliRunner().invoke(
        cli,
        ["serve", "--check", "--port", str(free_port())],
        env={**env, "GIS_REGISTRY_DATABASE_URL": url, "GIS_REGISTRY_READ_DATABASE_URL": standby},
    )
    assert checked.exit_code == 0, checked.output
    assert f"public reads from the standby 127.0.0.1:{make_url(standby).port}/" in checked.output


def _new_road(client, world) -> tuple[str, str]:
    road = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[99.42, 18.35], [99.44, 18.36]]},
        "properties": {
            "code": f"ลป.ถ. 99-{time.monotonic_ns() % 10_000:04d}",
            "name_th": "ถนนใหม่",
            "name_en": "New road",
            "road_class": "local",
            "owner_local_body_id": world["sao"],
            "surface": "laterite",
            "width_m": 5,
        },
    }
    r = client.post(
        "/collections/roads/items", json=road, headers={"X-API-Key": world["keys"]["editor_sao"]}
    )
    assert r.status_code == 201, r.text  # a write: the standby would refuse it
    return r.headers["location"].removeprefix("http://testserver"), r.headers["etag"]


def _rename(client, world, url: str, etag: str, name: str) -> str:
    r = client.patch(
        url,
        json={"properties": {"name_en": name}},
        headers={"X-API-Key": world["keys"]["editor_sao"], "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    return r.headers["etag"]


def test_a_write_is_read_from_the_standby_within_the_lag(primary, client):
    world = primary[3]
    url, etag = _new_road(client, world)
    _rename(client, world, url, etag, "Renamed road")
    started = time.monotonic()
    while True:
        seen = client.get(url)
        if seen.status_code == 200 and seen.json()["properties"]["name_en"] == "Renamed road":
            break
        assert time.monotonic() - started < LAG_S, f"not on the standby after {LAG_S} s"
        time.sleep(0.01)
    lag = time.monotonic() - started
    print(f"\nwrite on the primary read through the API from the standby after {lag:.3f} s")


def test_public_reads_hit_the_standby_and_the_rest_the_primary(primary, standby, client):
    """With the standby's replay paused, an anonymous read still shows the old name (so it
    came from the standby), while a read with credentials, a past state (``?at=``) and the
    history show the new one (the primary)."""
    world = primary[3]
    editor = {"X-API-Key": world["keys"]["editor_sao"]}
    url, etag = _new_road(client, world)
    deadline = time.monotonic() + LAG_S
    while client.get(url).status_code != 200:  # the new road reaches the standby
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with psycopg.connect(standby, autocommit=True) as sb:
        sb.execute("SELECT pg_wal_replay_pause()")
        try:
            new_etag = _rename(client, world, url, etag, "Paused road")
            moment = dt.datetime.now(dt.UTC).isoformat()
            anonymous = client.get(url)
            assert anonymous.json()["properties"]["name_en"] == "New road"
            assert anonymous.headers["etag"] == etag
            page = client.get("/collections/roads/items", params={"limit": 1000}).json()
            names = {f["id"]: f["properties"]["name_en"] for f in page["features"]}
            assert names[int(url.rsplit("/", 1)[-1])] == "New road"
            # an editor reads its own write, with the ETag its next If-Match needs
            mine = client.get(url, headers=editor)
            assert mine.json()["properties"]["name_en"] == "Paused road"
            assert mine.headers["etag"] == new_etag
            past = client.get(
                "/collections/roads/items", params={"at": moment, "limit": 1000}
            ).json()
            names = {f["id"]: f["properties"]["name_en"] for f in past["features"]}
            assert names[int(url.rsplit("/", 1)[-1])] == "Paused road"
            history = client.get(f"{url}/history").json()["changes"]
            assert [c["operation"] for c in history] == ["insert", "update"]
            # the pool's connections to the standby are the ones that ran the public reads
            readers = sb.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND query LIKE '%roads%'"
            ).fetchone()[0]
            assert readers >= 1
        finally:
            sb.execute("SELECT pg_wal_replay_resume()")
    deadline = time.monotonic() + LAG_S
    while client.get(url).json()["properties"]["name_en"] != "Paused road":
        assert time.monotonic() < deadline, "the standby did not catch up after resuming"
        time.sleep(0.01)


def test_stop_keeps_or_removes_the_copy(primary, standby, client):
    settings, env, url, _ = primary
    replica = Standby(settings)
    stopped = run(env, "stop")
    assert stopped.exit_code == 0 and stopped.output.startswith("stopped")
    assert replica.initialised and not replica.is_running()
    assert json.loads(run(env, "status", "--json").output)["state"] == "stopped"
    assert run(env, "start").exit_code == 0  # resumes from its copy and slot
    with psycopg.connect(standby) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
    removed = run(env, "stop", "--remove")
    assert removed.exit_code == 0 and "removed" in removed.output
    assert not replica.root.exists()
    with psycopg.connect(url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = %s", (SLOT,)
        ).fetchone() == (0,)
