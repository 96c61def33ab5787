"""The analysis endpoints call the library functions the CLI calls; bad parameters are 4xx
problems and a long analysis ends in a 504 problem, not a hang."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.db

DAY = "on=2024-01-01"
PARCEL = "POLYGON((99.44 18.28,99.46 18.28,99.46 18.3,99.44 18.28))"


@pytest.mark.parametrize(
    "path",
    [
        "/analysis/coverage/water?distance_m=1000",
        "/analysis/coverage/roads?distance_m=2000",
        "/analysis/siting/water?n=2",
        f"/analysis/zoning/at?lon=99.45&lat=18.29&{DAY}",
        f"/analysis/zoning/parcel?geom={PARCEL}&{DAY}",
        f"/analysis/zoning/areas?by=local_body&{DAY}",
        f"/analysis/zoning/check?asset=landfill&geom=POINT(99.45 18.29)&{DAY}",
        "/analysis/hazard/exposure?type=flood",
        "/analysis/maintenance/condition",
        "/analysis/maintenance/overdue?interval=bridge=365",
        "/analysis/maintenance/programme?fiscal_year=2570&budget_thb=1000000",
        "/analysis/maintenance/history?by=treatment",
        "/analysis/maintenance/coordination?fiscal_year=2570",
        "/analysis/network/matrix",
        "/analysis/network/components?closed_bridge=1",
        "/analysis/network/criticality",
    ],
)
def test_analyses_answer_json(client, path):
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert isinstance(r.json(), dict)


def test_results(client):
    water = client.get("/analysis/coverage/water?distance_m=1000").json()
    assert water["villages"] == 2 and water["villages_covered"] == 1
    zone = client.get(f"/analysis/zoning/at?lon=99.45&lat=18.29&{DAY}").json()
    assert zone["zones"][0]["category"] == "residential_low"
    verdict = client.get(f"/analysis/zoning/check?asset=landfill&geom=POINT(99.45 18.29)&{DAY}")
    assert verdict.json()["verdict"] == "prohibited"
    exposure = client.get("/analysis/hazard/exposure").json()
    assert exposure["totals"][0]["bridges"] == 1  # the test bridge sits in the flood plain
    critical = client.get("/analysis/network/criticality").json()
    assert any(i["kind"] == "bridge" for i in critical["items"])


def test_route_is_geojson(client):
    r = client.get("/analysis/network/route?from=99.45,18.30&to=99.51,18.30&by=distance")
    assert r.status_code == 200, r.text
    feature = r.json()
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "LineString"
    assert feature["properties"]["length_m"] == pytest.approx(6341, rel=0.01)
    closed = client.get("/analysis/network/route?from=99.45,18.30&to=99.51,18.30&closed_road=1")
    assert closed.status_code == 404 and closed.json()["code"] == "NotFound"


@pytest.mark.parametrize(
    "path",
    [
        "/analysis/coverage/water",  # distance_m is required
        "/analysis/coverage/water?distance_m=-5",
        "/analysis/zoning/at?lon=200&lat=18",
        "/analysis/zoning/parcel?geom=garbage",
        '/analysis/zoning/parcel?geom={"type":"Nope"}',
        "/analysis/zoning/areas?by=planet",
        "/analysis/hazard/exposure?type=volcano",
        "/analysis/maintenance/condition?by=colour",
        "/analysis/maintenance/overdue?interval=bridge",
        "/analysis/maintenance/programme?fiscal_year=2025&budget_thb=1",
        "/analysis/maintenance/programme?fiscal_year=2570&budget_thb=1&funding_body=highways",
        "/analysis/maintenance/coordination?fiscal_year=2025",
        "/analysis/maintenance/coordination",
        "/analysis/network/route?from=52",
        "/analysis/network/route?from=52&to=52&by=feeling",
        "/analysis/network/components?vehicle_tonnes=-3",
        "/analysis/network/components?closed_bridge=x",
        "/analysis/network/components?closed_area=POLYGON((",
    ],
)
def test_bad_analysis_parameters(client, path):
    r = client.get(path)
    assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"


def test_a_long_analysis_is_a_504_problem(api_url, monkeypatch):
    import gis_registry.network.criticality as module
    from tests.api.conftest import make_client

    # A cached network answers in well under a millisecond, so make the analysis's SQL slow
    # for sure: the statement timeout must cut it and the caller must get a 504 problem.
    def slow(conn, **_options):
        conn.exec_driver_sql("SELECT pg_sleep(2)")

    monkeypatch.setattr(module, "criticality", slow)
    with make_client(api_url, analysis_timeout_ms=50) as impatient:
        r = impatient.get("/analysis/network/criticality")
        assert r.status_code == 504, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "Timeout"


def test_a_timeout_inside_a_frame_query_is_a_504_problem(api_url, monkeypatch):
    """The analyses' queries run through ``frame()`` (JIT off for the duration): a statement
    timeout there must still be a 504, not the 500 of a clean-up run on the aborted
    transaction."""
    from gis_registry.analysis import reports
    from gis_registry.analysis._frames import frame
    from tests.api.conftest import make_client

    monkeypatch.setattr(
        reports, "road_coverage", lambda conn, **_options: frame(conn, "SELECT pg_sleep(2)")
    )
    with make_client(api_url, analysis_timeout_ms=50) as impatient:
        r = impatient.get("/analysis/coverage/roads")
        assert r.status_code == 504, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "Timeout"
