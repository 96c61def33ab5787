"""The analysis commands on a committed copy of the hand-built world (its own database)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from tests.db.test_analysis_world import (
    build_hazards,
    build_maintenance,
    build_world,
    build_zoning,
)

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def cli_world(settings):
    """A committed world in a throw-away database, and the env that points the CLI at it."""
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database

    url = create_test_database(settings, suffix="_analysis_cli_test")
    engine = make_engine(settings, url=url)
    upgrade(engine)
    with engine.begin() as conn:
        ids = build_world(conn)
        ids.update(build_zoning(conn))
        ids.update(build_hazards(conn, ids))
        ids.update(build_maintenance(conn, ids))
    engine.dispose()
    yield url, ids
    drop_test_database(url)


@pytest.fixture()
def run(cli_world, monkeypatch):
    from gis_registry.cli import app

    url, _ids = cli_world
    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", url)
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(app, list(args))
        return result

    return invoke


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_coverage_water_json_contract(run):
    out = _json(run("coverage", "water", "--distance-m", "500", "--json"))
    assert (out["villages"], out["villages_covered"]) == (3, 1)
    assert (out["households"], out["households_covered"]) == (230, 100)
    assert [v["name_th"] for v in out["uncovered"]] == ["บ้านซี", "บ้านบี"]
    along = _json(run("coverage", "water", "--distance-m", "1500", "--along-roads", "--json"))
    assert along["villages_covered"] == 2 and along["along_roads"] is True
    kind = _json(
        run("coverage", "water", "--distance-m", "900", "--kind", "shallow_well", "--json")
    )
    assert kind["households_covered"] == 80


def test_coverage_csv_keeps_thai(run):
    result = run("coverage", "water", "--distance-m", "500", "--csv", "--by", "village")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8"))))
    assert {r["name_th"] for r in rows} == {"บ้านเอ", "บ้านบี", "บ้านซี"}
    assert "lon" in rows[0]


def test_programme_json_contract(run):
    out = _json(
        run(
            "maintenance",
            "programme",
            "--fiscal-year",
            "2570",
            "--budget-thb",
            "5000000",
            "--as-of",
            "2026-05-01",
            "--no-criticality",
            "--json",
        )
    )
    assert out["fiscal_year"] == 2570 and out["starts"] == "2026-10-01"
    assert out["funded"] and out["deferred"]
    for item in out["funded"] + out["deferred"]:
        assert {"cost_thb", "asset", "treatment", "priority", "reason"} <= set(item)
    assert sum(i["cost_thb"] for i in out["funded"]) <= 5_000_000


def test_other_commands_answer(run):
    assert _json(run("coverage", "roads", "--distance-m", "500", "--json"))["unpaved_only"]
    sites = _json(run("siting", "water", "--n", "2", "--distance-m", "500", "--json"))
    assert sites["households_gained"] == 130
    at = _json(run("zoning", "at", "99.45", "18.30", "--on", "2024-06-01", "--json"))
    assert at["zones"][0]["land_use_code"] == "ย.2"
    check = _json(
        run(
            "zoning",
            "check",
            "--asset",
            "landfill",
            "--on",
            "2024-06-01",
            "--geom",
            "POLYGON((99.465 18.30, 99.475 18.30, 99.475 18.31, 99.465 18.31, 99.465 18.30))",
            "--json",
        )
    )
    assert check["verdict"] == "prohibited"
    assert {z["rule"] for z in check["zones"]} == {"LF-01", "LF-02"}
    parcel = run("zoning", "parcel", "POINT(99.45 18.30)", "--on", "2024-06-01", "--csv")
    assert parcel.exit_code == 0 and "ย.2" in parcel.stdout
    assert _json(run("zoning", "areas", "--on", "2024-06-01", "--json"))["areas"]
    hazard = _json(run("hazard", "exposure", "--json"))
    assert sum(t["population"] for t in hazard["totals"]) == 750
    cond = _json(run("maintenance", "condition", "--as-of", "2026-05-01", "--json"))
    assert cond["distribution"]
    overdue = _json(run("maintenance", "overdue", "--as-of", "2026-05-01", "--json"))
    assert (overdue["never"], overdue["overdue"]) == (1, 1)
    hist = _json(run("maintenance", "history", "--json"))
    assert {r["fiscal_year"] for r in hist["spending"]} == {2568, 2569}
    text = run("maintenance", "history", "--table", "trend")
    assert text.exit_code == 0 and "road condition by fiscal year" in text.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("coverage", "water", "--distance-m", "-5", "--json"),
        ("coverage", "water", "--distance-m", "500", "--kind", "spring"),
        ("maintenance", "programme", "--fiscal-year", "2026", "--budget-thb", "1"),
        ("zoning", "check", "--asset", "casino", "--geom", "POINT(99.45 18.30)"),
        ("zoning", "check", "--asset", "landfill", "--geom", "not wkt"),
        ("zoning", "at", "99.45", "18.30", "--on", "2567-13-01"),
        ("maintenance", "overdue", "--interval", "road=soon"),
    ],
)
def test_user_mistakes_are_errors_not_tracebacks(run, args):
    result = run(*args)
    assert result.exit_code == 1
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_a_missing_rule_file_is_named(run, tmp_path):
    missing = tmp_path / "my_rules.csv"
    for args in (
        ("zoning", "check", "--asset", "landfill", "--geom", "POINT(99.45 18.30)"),
        ("maintenance", "programme", "--fiscal-year", "2570", "--budget-thb", "1000000"),
    ):
        result = run(*args, "--rules", str(missing))
        assert result.exit_code == 1, result.output
        assert f"field 'rules': no file {missing}" in result.stderr


def test_file_inputs(run, tmp_path):
    candidates = tmp_path / "candidates.geojson"
    candidates.write_text(
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"name": "ใกล้บ้านซี"},'
        ' "geometry": {"type": "Point", "coordinates": [99.551, 18.300]}},'
        '{"type": "Feature", "properties": {"name": "nowhere"},'
        ' "geometry": {"type": "Point", "coordinates": [99.500, 18.300]}}]}',
        encoding="utf-8",
    )
    sites = _json(
        run(
            "siting",
            "water",
            "--n",
            "3",
            "--distance-m",
            "500",
            "--candidates",
            str(candidates),
            "--json",
        )
    )
    assert [s["candidate"] for s in sites["sites"]] == [0]
    assert sites["households_gained"] == 80
    parcel = tmp_path / "parcel.geojson"
    parcel.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},'
        ' "geometry": {"type": "Polygon", "coordinates": [[[99.465, 18.30], [99.475, 18.30],'
        " [99.475, 18.31], [99.465, 18.31], [99.465, 18.30]]]}}]}",
        encoding="utf-8",
    )
    zones = _json(run("zoning", "parcel", str(parcel), "--on", "2024-06-01", "--json"))
    assert sorted(z["land_use_code"] for z in zones["zones"]) == ["ก.4", "ย.2"]
    missing = run("siting", "water", "--n", "1", "--candidates", str(tmp_path / "no.gpkg"))
    assert missing.exit_code == 1 and "error:" in missing.stderr


def test_file_inputs_are_reprojected_and_need_a_declared_crs(run, tmp_path):
    """A parcel in UTM 47N gives the zones of the same parcel in lon/lat; the same file without
    its .prj is refused (its metres would otherwise be read as degrees)."""
    import geopandas as gpd
    from shapely.geometry import box

    parcel = gpd.GeoDataFrame(geometry=[box(99.465, 18.30, 99.475, 18.31)], crs=4326)
    utm = tmp_path / "parcel_utm.shp"
    parcel.to_crs(32647).to_file(utm)
    zones = _json(run("zoning", "parcel", str(utm), "--on", "2024-06-01", "--json"))
    assert sorted(z["land_use_code"] for z in zones["zones"]) == ["ก.4", "ย.2"]
    utm.with_suffix(".prj").unlink()
    refused = run("zoning", "parcel", str(utm), "--on", "2024-06-01", "--json")
    assert refused.exit_code == 1
    assert "does not declare its coordinate reference system" in refused.stderr
    assert "Traceback" not in refused.stderr
