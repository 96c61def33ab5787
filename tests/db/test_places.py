"""Places by name on the demo province: ``gis-registry lgo list``, and routes, the matrix and
the API taking an LGO by its Thai or English name."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from rich.cells import cell_len
from sqlalchemy import text
from typer.testing import CliRunner

from gis_registry.queries.places import normalise, split_kind
from tests.fixtures.servers import database_url

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def demo_url(demo_engine) -> str:
    return database_url(demo_engine)


@pytest.fixture()
def run(demo_url, monkeypatch):
    from gis_registry.cli import app

    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", demo_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def lgos(demo_engine) -> list[dict]:
    with demo_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT code, name_th, name_en, kind FROM local_bodies ORDER BY code")
        )
        return [dict(r._mapping) for r in rows]


def _unique_by(lgos: list[dict], field: str) -> dict:
    """An LGO other than the PAO whose ``field`` no other LGO shares, even without its kind."""
    bare = defaultdict(list)
    for lgo in lgos:
        bare[split_kind(normalise(lgo[field]))[0]].append(lgo)
    return next(
        lgo
        for lgo in lgos
        if lgo["kind"] != "pao" and len(bare[split_kind(normalise(lgo[field]))[0]]) == 1
    )


def test_lgo_list_json_is_every_local_body(run, demo_conn):
    rows = _json(run("lgo", "list", "--json"))
    total = demo_conn.execute(text("SELECT count(*) FROM local_bodies")).scalar_one()
    assert len(rows) == total > 100
    assert len({r["code"] for r in rows}) == total
    pao = next(r for r in rows if r["kind"] == "pao")
    assert pao["name_th"].startswith("องค์การบริหารส่วนจังหวัด")  # Thai as is
    assert pao["kind_en"] == "provincial administrative organization"
    town = next(r for r in rows if r["kind"] == "town_municipality")
    assert town["kind_th"] == "เทศบาลเมือง" and town["district_code"]
    assert town["district_name_th"] and town["district_name_en"]


def test_lgo_list_filters_by_district_and_kind(run, demo_conn):
    district, name_en = demo_conn.execute(
        text("SELECT code, name_en FROM districts ORDER BY code DESC LIMIT 1")
    ).one()
    expected = demo_conn.execute(
        text("SELECT count(*) FROM local_bodies WHERE district_code = :d"), {"d": district}
    ).scalar_one()
    in_district = _json(run("lgo", "list", "--district", district, "--json"))
    assert len(in_district) == expected > 0
    assert {r["district_code"] for r in in_district} == {district}
    by_name = _json(run("lgo", "list", "--district", name_en.upper(), "--json"))
    assert by_name == in_district
    saos = _json(run("lgo", "list", "--kind", "sao", "--json"))
    n_sao = demo_conn.execute(
        text("SELECT count(*) FROM local_bodies WHERE kind = 'sao'")
    ).scalar_one()
    assert len(saos) == n_sao > 0 and {r["kind"] for r in saos} == {"sao"}
    towns = _json(run("lgo", "list", "--kind", "town", "--district", district, "--json"))
    assert {r["kind"] for r in towns} <= {"town_municipality"}
    assert all(r["district_code"] == district for r in towns)


@pytest.mark.parametrize(
    ("args", "choices"),
    [
        (("--kind", "village"), ["pao", "city", "town", "subdistrict", "sao"]),
        (("--district", "9999"), ["5201", "5213", "Mueang Lampang"]),
    ],
)
def test_lgo_list_refuses_a_bad_filter_naming_the_choices(run, args, choices):
    result = run("lgo", "list", *args)
    assert result.exit_code == 2
    assert "error:" in result.output and "Traceback" not in result.output
    assert all(c in result.output for c in choices)


def test_lgo_list_text_fits_100_columns(run, lgos):
    result = run("lgo", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{len(lgos)} local bodies")
    assert max(cell_len(line.rstrip()) for line in lines) <= 100
    text_out = result.stdout
    assert all(lgo["code"] in text_out and lgo["name_th"] in text_out for lgo in lgos)


def _route(run, *ends):
    return _json(run("route", *ends, "--json"))


def test_a_route_by_english_or_thai_name_is_the_route_by_code(run, lgos):
    origin = next(lgo for lgo in lgos if lgo["kind"] == "city_municipality")
    dest = _unique_by(lgos[::-1], "name_th")
    by_code = _route(run, origin["code"], dest["code"])
    by_name = _route(run, origin["name_en"], dest["name_th"])
    assert by_name["origin"]["code"] == origin["code"]
    assert by_name["destination"]["code"] == dest["code"]
    assert by_name["length_m"] == by_code["length_m"] > 0
    assert by_name["segments"] == by_code["segments"]
    lowered = _route(run, f"lgo:{origin['name_en'].lower()}", dest["code"])
    assert lowered["length_m"] == by_code["length_m"]
    # the English name without its kind, when no other LGO shares it
    unique = _unique_by(lgos, "name_en")
    bare = split_kind(normalise(unique["name_en"]))[0]
    assert _route(run, bare, dest["code"])["origin"]["code"] == unique["code"]


def test_an_ambiguous_name_exits_2_listing_the_candidates(run, lgos):
    shared = defaultdict(list)
    for lgo in lgos:
        shared[split_kind(normalise(lgo["name_en"]))[0]].append(lgo)
    bare, candidates = next((b, c) for b, c in shared.items() if len(c) > 1)
    result = run("route", bare, lgos[-1]["code"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for c in candidates:
        assert c["code"] in result.output and c["name_en"] in result.output
        assert c["name_th"] in result.output
    matrix = run("connectivity", "matrix", "--codes", f"{bare},{lgos[-1]['code']}")
    assert matrix.exit_code == 2 and candidates[0]["code"] in matrix.output


def test_an_unknown_name_exits_1_suggesting_the_closest(run, lgos):
    lgo = _unique_by(lgos, "name_en")
    typo = lgo["name_en"][:3] + lgo["name_en"][4:]  # one letter dropped
    result = run("route", typo, lgos[-1]["code"])
    assert result.exit_code == 1
    assert result.output.count("error:") == 1 and "Traceback" not in result.output
    assert f"no local body with code '{typo}'" in result.output
    assert lgo["code"] in result.output and "closest" in result.output


def test_the_matrix_takes_names(run, lgos):
    a = next(lgo for lgo in lgos if lgo["kind"] == "city_municipality")
    b = _unique_by(lgos[::-1], "name_th")
    by_code = _json(run("connectivity", "matrix", "--codes", f"{a['code']},{b['code']}", "--json"))
    by_name = _json(
        run("connectivity", "matrix", "--codes", f"{a['name_en']},{b['name_th']}", "--json")
    )
    assert by_name["codes"] == by_code["codes"] == [a["code"], b["code"]]
    assert by_name["time_s"] == by_code["time_s"]


def test_maps_take_an_lgo_by_name(run, lgos, tmp_path):
    """``map zoning|condition --lgo`` take the names routes take: a unique one draws that
    LGO's map, an ambiguous one exits 2 listing the candidates."""
    lgo = _unique_by(lgos, "name_en")
    out = tmp_path / "lgo.html"
    for kind in ("zoning", "condition"):
        result = run("map", kind, "-o", str(out), "--lgo", lgo["name_en"])
        assert result.exit_code == 0, result.output
        assert lgo["name_th"] in out.read_text(encoding="utf-8")
    shared = defaultdict(list)
    for row in lgos:
        shared[split_kind(normalise(row["name_en"]))[0]].append(row)
    bare, candidates = next((b, c) for b, c in shared.items() if len(c) > 1)
    ambiguous = run("map", "zoning", "-o", str(out), "--lgo", bare)
    assert ambiguous.exit_code == 2, ambiguous.output
    assert all(c["code"] in ambiguous.output for c in candidates)


def test_the_api_takes_names_and_lists_the_candidates(demo_url, lgos):
    from tests.api.conftest import make_client

    a = next(lgo for lgo in lgos if lgo["kind"] == "city_municipality")
    b = _unique_by(lgos[::-1], "name_th")
    shared = defaultdict(list)
    for lgo in lgos:
        shared[split_kind(normalise(lgo["name_en"]))[0]].append(lgo)
    bare, candidates = next((k, c) for k, c in shared.items() if len(c) > 1)
    with make_client(demo_url) as client:
        by_code = client.get("/analysis/network/route", params={"from": a["code"], "to": b["code"]})
        by_name = client.get(
            "/analysis/network/route", params={"from": a["name_en"], "to": b["name_th"]}
        )
        assert by_code.status_code == by_name.status_code == 200, by_name.text
        assert by_name.json()["properties"]["length_m"] == by_code.json()["properties"]["length_m"]
        ambiguous = client.get("/analysis/network/route", params={"from": bare, "to": b["code"]})
    assert 400 <= ambiguous.status_code < 500
    problem = ambiguous.json()
    assert all(c["code"] in problem["detail"] for c in candidates)
