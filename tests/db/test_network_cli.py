"""`gis-registry route` and `gis-registry connectivity ...` on a committed hand-built province."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.db.test_network import build_province

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def cli_province(settings):
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database

    url = create_test_database(settings, suffix="_network_cli_test")
    engine = make_engine(settings, url=url)
    upgrade(engine)
    with engine.begin() as conn:
        ids = build_province(conn)
    engine.dispose()
    yield url, ids
    drop_test_database(url)


@pytest.fixture()
def run(cli_province, monkeypatch):
    from gis_registry.cli import app

    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", cli_province[0])
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_route_json_contract(run, cli_province):
    ids = cli_province[1]
    data = _json(run("route", "PAO", "B", "--json"))
    assert {"length_m", "time_s", "geometry", "segments", "bridges"} <= set(data)
    assert data["geometry"]["type"] == "LineString"
    assert [s["road_id"] for s in data["segments"]] == [ids["r1"], ids["r2"], ids["r5"]]
    assert data["segments"][1]["name_th"] == "ถนน r2"  # Thai kept, not \\u-escaped
    assert "ถนน" in run("route", "PAO", "B", "--json").stdout
    assert [b["bridge_id"] for b in data["bridges"]] == [ids["b2"], ids["b1"]]


def test_route_text_and_restrictions(run, cli_province):
    ids = cli_province[1]
    text = run("route", "PAO", "C", "--by", "distance")
    assert text.exit_code == 0 and "km" in text.stdout
    closed = run("route", "PAO", "B", "--closed-bridge", str(ids["b1"]))
    assert closed.exit_code == 1 and "error: no route from PAO to B" in closed.output
    flooded = run("route", "PAO", "B", "--hazard", str(ids["flood"]), "--json")
    assert flooded.exit_code == 1
    heavy = run("route", "PAO", f"village:{ids['v3']}", "--vehicle-tonnes", "10")
    assert heavy.exit_code == 1
    assert run("route", "PAO", f"village:{ids['v3']}", "--all-weather").exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("route", "NOPE", "B"), "no local body with code 'NOPE'"),
        (("route", "PAO", "99.9,30.0"), "outside the province"),
        (("route", "PAO", "B", "--closed-bridge", "x"), "'x' is not a positive id"),
        (("route", "PAO", "B", "--closed-road", "999999"), "no road with id 999999"),
    ],
)
def test_errors_are_one_line(run, args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert "error:" in result.output and message in result.output
    assert "Traceback" not in result.output


def test_connectivity_commands(run, cli_province):
    ids = cli_province[1]
    m = _json(run("connectivity", "matrix", "--json"))
    assert m["codes"] == ["PAO", "A", "B", "C"] and m["unreachable_from_pao"] == []
    assert run("connectivity", "matrix").exit_code == 0
    c = _json(run("connectivity", "components", "--json"))
    assert [p["id"] for p in c["cut_off"]] == [ids["v4"]]
    crit = _json(run("connectivity", "critical", "--json"))
    assert crit["items"][0]["cut_off_population"] == 500
    text = run("connectivity", "critical", "--bridges-only", "--top", "3")
    assert text.exit_code == 0 and "bridge" in text.stdout
    flooded = _json(run("connectivity", "components", "--hazard", str(ids["flood"]), "--json"))
    assert flooded["cut_off_population"] == 600
