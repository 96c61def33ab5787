"""One answer, three doors: for every analysis, ``gis-registry ... --json``, the API's JSON and
the library's ``Registry`` report are the same document, on the demo province (seed 52).

The CLI and the API only present :mod:`gis_registry.analysis.reports` and the network results;
if one of them re-derived a figure, a column or a default, its case here fails.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from gis_registry.cli import app
from gis_registry.registry import Registry
from tests.api.conftest import make_client
from tests.fixtures.servers import database_url

pytestmark = pytest.mark.db

DAY = "2026-06-01"


@pytest.fixture(scope="module")
def demo(demo_engine):
    """The demo's URL, a client of the API on it, and ids the cases need."""
    url = database_url(demo_engine)
    with demo_engine.connect() as conn:
        codes = conn.execute(
            text("SELECT code FROM local_bodies WHERE kind <> 'pao' ORDER BY code LIMIT 3")
        ).scalars()
        ids = {
            "codes": list(codes),
            "bridge": conn.execute(text("SELECT min(id) FROM bridges")).scalar_one(),
            "flood": conn.execute(
                text("SELECT min(id) FROM hazard_areas WHERE hazard_type = 'flood'")
            ).scalar_one(),
            "point": conn.execute(
                text(
                    "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(z.geom) AS c "
                    "FROM zoning_zones z JOIN zoning_plans p ON p.id = z.plan_id "
                    "WHERE p.expiry_date > :day ORDER BY z.id LIMIT 1) s"
                ),
                {"day": DAY},
            ).one(),
        }
    with make_client(url) as client:
        yield url, client, ids


def cli_json(url: str, monkeypatch, *args: str) -> dict:
    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", url)
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def api_json(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def _cases(ids: dict) -> list[tuple[tuple[str, ...], str]]:
    a, b, c = ids["codes"]
    lon, lat = ids["point"]
    square = (
        f"POLYGON(({lon - 0.002} {lat - 0.002},{lon + 0.002} {lat - 0.002},"
        f"{lon + 0.002} {lat + 0.002},{lon - 0.002} {lat + 0.002},{lon - 0.002} {lat - 0.002}))"
    )
    return [
        (("coverage", "water", "--distance-m", "1000"), "/coverage/water?distance_m=1000"),
        (
            ("coverage", "water", "--distance-m", "1500", "--kind", "pond", "--nearest"),
            "/coverage/water?distance_m=1500&kind=pond&nearest=true",
        ),
        (("coverage", "roads", "--distance-m", "2000"), "/coverage/roads?distance_m=2000"),
        (("siting", "water", "--n", "3"), "/siting/water?n=3"),
        (
            ("zoning", "at", str(lon), str(lat), "--on", DAY),
            f"/zoning/at?lon={lon}&lat={lat}&on={DAY}",
        ),
        (("zoning", "parcel", square, "--on", DAY), f"/zoning/parcel?geom={square}&on={DAY}"),
        (
            ("zoning", "areas", "--by", "local_body", "--on", DAY),
            f"/zoning/areas?by=local_body&on={DAY}",
        ),
        (
            ("zoning", "check", "--asset", "landfill", "--geom", square, "--on", DAY),
            f"/zoning/check?asset=landfill&geom={square}&on={DAY}",
        ),
        (("hazard", "exposure", "--type", "flood"), "/hazard/exposure?type=flood"),
        (
            ("maintenance", "condition", "--by", "road_class", "--as-of", DAY),
            f"/maintenance/condition?by=road_class&as_of={DAY}",
        ),
        (
            ("maintenance", "condition", "--by", "asset", "--as-of", DAY),
            f"/maintenance/condition?by=asset&as_of={DAY}",
        ),
        (
            ("maintenance", "overdue", "--as-of", DAY, "--interval", "bridge=500"),
            f"/maintenance/overdue?as_of={DAY}&interval=bridge=500",
        ),
        (
            ("maintenance", "programme", "--fiscal-year", "2570", "--budget-thb", "50000000"),
            "/maintenance/programme?fiscal_year=2570&budget_thb=50000000",
        ),
        (
            ("maintenance", "programme", "--fiscal-year", "2570", "--budget-thb", "20m")
            + ("--funding-body", "lgo", "--as-of", DAY),
            f"/maintenance/programme?fiscal_year=2570&budget_thb=20000000&funding_body=lgo"
            f"&as_of={DAY}",
        ),
        (
            ("maintenance", "coordination", "--fiscal-year", "2570", "--as-of", DAY),
            f"/maintenance/coordination?fiscal_year=2570&as_of={DAY}",
        ),
        (
            ("maintenance", "history", "--by", "treatment", "--from", "2565", "--to", "2568"),
            "/maintenance/history?by=treatment&from=2565&to=2568",
        ),
        (
            ("connectivity", "matrix", "--codes", f"{a},{b},{c}"),
            f"/network/matrix?code={a}&code={b}&code={c}",
        ),
        (
            ("connectivity", "matrix", "--codes", f"{a},{b}", "--max-attach-m", "150"),
            f"/network/matrix?code={a}&code={b}&max_attach_m=150",
        ),
        (
            ("connectivity", "components", "--hazard", str(ids["flood"])),
            f"/network/components?hazard={ids['flood']}",
        ),
        (
            ("connectivity", "critical", "--bridges-only", "--closed-bridge", str(ids["bridge"])),
            f"/network/criticality?roads=false&closed_bridge={ids['bridge']}",
        ),
    ]


def test_every_analysis_answers_the_same_on_the_cli_and_the_api(demo, monkeypatch):
    url, client, ids = demo
    cases = _cases(ids)
    assert len(cases) == 20
    for args, path in cases:
        from_cli = cli_json(url, monkeypatch, *args)
        from_api = api_json(client, "/analysis" + path)
        assert from_cli == from_api, (args, path)


def test_a_route_is_the_same_from_the_library_the_cli_and_the_api(demo, demo_engine, monkeypatch):
    url, client, ids = demo
    a, _b, c = ids["codes"]
    from_cli = cli_json(url, monkeypatch, "route", a, c, "--by", "distance")
    from_library = Registry(demo_engine).route(a, c, by="distance").to_dict()
    feature = api_json(client, f"/analysis/network/route?from={a}&to={c}&by=distance")
    assert from_cli == from_library
    assert from_cli["length_m"] > 0 and from_cli["segments"]
    assert feature["type"] == "Feature"
    assert {**feature["properties"], "geometry": feature["geometry"]} == from_cli
    honest = {"max_attach_m", "straight_line_m", "same_node", "closures", "notes", "usual"}
    assert honest | {"closures_change_route"} <= set(from_cli)
    # closures on or off the route, and the attach limit, are the library's answer everywhere
    bridge = str(ids["bridge"])
    args = ("route", a, c, "--closed-bridge", bridge, "--max-attach-m", "250")
    closed_cli = cli_json(url, monkeypatch, *args)
    closed_lib = Registry(demo_engine).route(a, c, closed_bridge=[bridge], max_attach_m=250)
    closed_api = api_json(
        client, f"/analysis/network/route?from={a}&to={c}&closed_bridge={bridge}&max_attach_m=250"
    )
    assert closed_cli == closed_lib.to_dict()
    assert {**closed_api["properties"], "geometry": closed_api["geometry"]} == closed_cli
    assert closed_cli["max_attach_m"] == 250 and len(closed_cli["closures"]) == 1


def test_water_coverage_is_the_same_from_the_library_and_the_cli(demo, demo_engine, monkeypatch):
    url, _client, _ids = demo
    from_cli = cli_json(url, monkeypatch, "coverage", "water", "--distance-m", "1000")
    report = Registry(demo_engine).water_coverage(distance_m=1000)
    assert report.to_dict() == from_cli
    assert 0 < from_cli["villages_covered"] < from_cli["villages"]
    assert len(report.tables["uncovered"]) == from_cli["villages"] - from_cli["villages_covered"]


def test_closures_have_one_vocabulary(demo, demo_engine, monkeypatch):
    """The same closure, named the same way, changes the answer alike everywhere; a name the
    vocabulary does not know is refused, not ignored."""
    from gis_registry.errors import ValidationError

    url, client, ids = demo
    flood = str(ids["flood"])
    from_cli = cli_json(url, monkeypatch, "connectivity", "components", "--hazard", flood)
    from_api = api_json(client, f"/analysis/network/components?hazard={flood}")
    from_library = Registry(demo_engine).components(hazard=[ids["flood"]]).to_dict()
    assert from_cli == from_api == from_library
    with pytest.raises(ValidationError, match="closed_roads.*unknown option"):
        Registry(demo_engine).components(closed_roads=[1])
