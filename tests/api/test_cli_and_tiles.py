"""The users/keys commands, and vector tiles."""

from __future__ import annotations

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from gis_registry.cli.auth import register
from gis_registry.db import make_engine
from tests.api.conftest import auth

pytestmark = pytest.mark.db
WRITES = True  # a world of its own (conftest.api_db): its writes never reach other modules


@pytest.fixture()
def cli(api_url, monkeypatch):
    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", api_url)
    app = typer.Typer()
    register(app)
    return app


def test_users_add_and_keys_create_revoke(cli, client, world, api_url):
    runner = CliRunner()
    r = runner.invoke(
        cli, ["users", "add", "malee", "--role", "editor", "--local-body", str(world["pao"])]
    )
    assert r.exit_code == 0, r.output
    bad = runner.invoke(cli, ["users", "add", "nobody", "--role", "editor"])
    assert bad.exit_code == 1 and "local_body_id" in bad.output
    # the LGO by its code or its name, as every command takes it
    for name, lgo in (("somchai", "520199"), ("suda", "Thotsop SAO"), ("dao", "อบต.ทดสอบ")):
        r = runner.invoke(cli, ["users", "add", name, "--role", "editor", "--local-body", lgo])
        assert r.exit_code == 0, r.output
    engine = make_engine(url=api_url)
    with engine.connect() as conn:
        lgos = conn.execute(
            text(
                "SELECT lb.code FROM users u JOIN local_bodies lb ON lb.id = u.local_body_id "
                "WHERE u.username IN ('somchai', 'suda', 'dao')"
            )
        ).scalars()
        assert list(lgos) == ["520199"] * 3
    engine.dispose()
    unknown = runner.invoke(cli, ["users", "add", "x", "--role", "editor", "--local-body", "Tsop"])
    assert unknown.exit_code == 1 and "no local body" in unknown.output
    r = runner.invoke(cli, ["keys", "create", "malee", "--name", "QGIS desktop"])
    assert r.exit_code == 0, r.output
    token = r.output.strip().splitlines()[-1]
    assert client.get("/auth/me", headers=auth(token)).json()["username"] == "malee"
    prefix = token.split("_")[1]
    listed = runner.invoke(cli, ["keys", "list", "--username", "malee"])
    assert prefix in listed.output and token not in listed.output
    r = runner.invoke(cli, ["keys", "revoke", prefix])
    assert r.exit_code == 0, r.output
    assert client.get("/auth/me", headers=auth(token)).status_code == 401
    assert runner.invoke(cli, ["keys", "revoke", prefix]).exit_code == 1


def test_vector_tiles(client):
    tilejson = client.get("/tiles/roads/tilejson.json").json()
    assert tilejson["tiles"][0].endswith("/tiles/roads/{z}/{x}/{y}.mvt")
    assert "surface" in tilejson["vector_layers"][0]["fields"]
    tile = client.get("/tiles/roads/10/794/459.mvt")  # over Lampang city
    assert tile.status_code == 200
    assert tile.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert len(tile.content) > 100 and b"roads" in tile.content and b"surface" in tile.content
    empty = client.get("/tiles/roads/10/0/0.mvt")
    assert empty.status_code == 200 and empty.content == b""
    assert client.get("/tiles/roads/3/8/0.mvt").status_code == 400
    assert client.get("/tiles/roads/30/0/0.mvt").status_code == 400
    assert client.get("/tiles/inspections/1/0/0.mvt").status_code in (400, 404)
    assert client.get("/tiles/zoning_zones/12/3179/1837.mvt").status_code == 200
