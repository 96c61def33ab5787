"""Zoning and compliance on the hand-built plans (test_analysis_world.build_zoning)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from shapely.geometry import LineString, box

from gis_registry.analysis import compliance, zoning
from gis_registry.errors import ValidationError
from tests.db.test_analysis_world import build_world, build_zoning

pytestmark = pytest.mark.db
NOW = date(2024, 6, 1)
THEN = date(2018, 6, 1)


@pytest.fixture()
def zoned(conn):
    build_world(conn)
    return build_zoning(conn)


def test_zone_at_follows_the_plan_in_force(conn, zoned):
    now = zoning.zone_at(conn, 99.45, 18.30, on=NOW)
    assert list(now["land_use_code"]) == ["ย.2"] and list(now["plan_en"]) == ["New plan"]
    then = zoning.zone_at(conn, 99.45, 18.30, on=THEN)
    assert list(then["category"]) == ["industrial"]
    # the old plan expires on 1 Jan 2020 (exclusive) and the new one starts that day
    assert list(zoning.zone_at(conn, 99.45, 18.30, on=date(2019, 12, 31))["plan_en"]) == [
        "Old plan"
    ]
    assert list(zoning.zone_at(conn, 99.45, 18.30, on=date(2020, 1, 1))["plan_en"]) == ["New plan"]
    assert zoning.zone_at(conn, 99.45, 18.30, on=date(2010, 1, 1)).empty
    assert zoning.zone_at(conn, 99.55, 18.30, on=NOW).empty  # East has no plan
    assert list(zoning.plans_in_force(conn, on=NOW)["name_en"]) == ["New plan"]


def test_parcel_straddling_two_zones_and_unzoned_land(conn, zoned):
    # half in ย.2 (west of 99.47), half in ก.4
    halves = zoning.parcel_zones(conn, box(99.465, 18.30, 99.475, 18.31), on=NOW)
    shares = dict(zip(halves["land_use_code"], halves["share"], strict=True))
    assert shares == pytest.approx({"ย.2": 0.5, "ก.4": 0.5}, abs=0.005)
    # half in ก.4, half east of 99.50 where no plan is in force
    edge = zoning.parcel_zones(conn, box(99.495, 18.30, 99.505, 18.31), on=NOW)
    shares = dict(zip(edge["category"], edge["share"], strict=True))
    assert shares == pytest.approx({"rural_agri": 0.5, "unzoned": 0.5}, abs=0.005)
    with pytest.raises(ValidationError):
        zoning.parcel_zones(conn, "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))", on=NOW)  # bow-tie


def test_parcel_in_every_form_the_writes_accept(conn, zoned):
    import json

    import shapely

    parcel = box(99.465, 18.30, 99.475, 18.31)
    expected = zoning.parcel_zones(conn, parcel, on=NOW)
    for form in (
        parcel.wkt,
        shapely.to_wkb(parcel, hex=True),
        parcel.__geo_interface__,
        json.dumps(parcel.__geo_interface__),
    ):
        pd.testing.assert_frame_equal(zoning.parcel_zones(conn, form, on=NOW), expected)
    for bad in ('{"type": "Polygon"}', "POLYGON((99.4 18.3", 42):
        with pytest.raises(ValidationError, match="geometry.*neither WKT, WKB nor GeoJSON"):
            zoning.parcel_zones(conn, bad, on=NOW)


def test_zone_areas_per_plan_and_lgo(conn, zoned):
    by_plan = zoning.zoning_areas(conn, by="plan", on=NOW).set_index("category")
    # 0.03 x 0.03 degree at 18.3 N: about 3.17 km x 3.32 km
    assert by_plan.loc["res_low", "area_km2"] == pytest.approx(3.17 * 3.32, rel=0.02)
    by_lgo = zoning.zoning_areas(conn, by="local_body", on=NOW)
    assert set(by_lgo["local_body_en"]) == {"West SAO"}  # both zones lie west of 99.50
    assert by_lgo["area_km2"].sum() == pytest.approx(by_plan["area_km2"].sum(), rel=1e-6)


def test_landfill_compliance_cites_rules(conn, zoned):
    straddling = compliance.check_compliance(
        conn, asset="landfill", geom=box(99.465, 18.30, 99.475, 18.31), on=NOW
    )
    by_code = straddling.set_index("land_use_code")
    assert by_code.loc["ย.2", "verdict"] == "prohibited" and by_code.loc["ย.2", "rule"] == "LF-01"
    assert by_code.loc["ก.4", "verdict"] == "conditional" and by_code.loc["ก.4", "rule"] == "LF-02"
    assert compliance.overall_verdict(straddling) == "prohibited"
    rural = compliance.check_compliance(
        conn, asset="landfill", geom=box(99.48, 18.30, 99.49, 18.31), on=NOW
    )
    assert compliance.overall_verdict(rural) == "conditional"
    assert "EIA" in rural.iloc[0]["reason"]


def test_factory_under_the_old_plan_and_a_road_line(conn, zoned):
    old = compliance.check_compliance(conn, asset="factory", geom="POINT(99.45 18.30)", on=THEN)
    assert compliance.overall_verdict(old) == "allowed" and list(old["rule"]) == ["FA-02"]
    road = compliance.check_compliance(
        conn, asset="road_widening", geom=LineString([(99.45, 18.30), (99.52, 18.30)]), on=NOW
    )
    assert compliance.overall_verdict(road) == "allowed"
    assert road["share"].sum() == pytest.approx(1.0)


def test_custom_rules_and_unknown_asset(conn, zoned):
    rules = pd.DataFrame(
        [
            {
                "rule": "X-1",
                "asset": "kiln",
                "category": "Low-density residential",
                "verdict": "prohibited",
                "reason": "smoke",
            },
        ]
    )
    result = compliance.check_compliance(
        conn, asset="kiln", geom=box(99.465, 18.30, 99.475, 18.31), on=NOW, rules=rules
    )
    verdicts = dict(zip(result["land_use_code"], result["verdict"], strict=True))
    assert verdicts == {"ย.2": "prohibited", "ก.4": "unknown"}
    with pytest.raises(ValidationError, match="unknown asset"):
        compliance.check_compliance(conn, asset="casino", geom="POINT(99.45 18.30)", on=NOW)
