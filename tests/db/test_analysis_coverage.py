"""Coverage on the hand-built world (see test_analysis_world for the geometry)."""

from __future__ import annotations

import pandas as pd
import pytest
from shapely.geometry import Point

from gis_registry.analysis import coverage
from gis_registry.errors import ValidationError
from gis_registry.queries.features import insert_features
from tests.db.test_analysis_world import build_world

pytestmark = pytest.mark.db


def _covered(frame) -> set[str]:
    return set(frame.loc[frame["covered"], "name_en"])


def test_water_500m_covers_only_a(conn):
    build_world(conn)
    villages = coverage.water_coverage(conn, distance_m=500)
    # A is 211 m from W1; B is 846 m from W1; C is 634 m from W2
    assert _covered(villages) == {"Ban A"}
    a = villages.set_index("name_en").loc["Ban A"]
    assert a["distance_m"] == pytest.approx(211, abs=2)
    assert a["source_kind"] == "groundwater_well"
    totals = coverage.coverage_totals(villages)
    assert totals["villages"] == 3 and totals["villages_covered"] == 1
    assert totals["households"] == 230 and totals["households_covered"] == 100
    assert totals["share_households_covered"] == pytest.approx(100 / 230)


def test_water_distances_and_kinds(conn):
    build_world(conn)
    assert _covered(coverage.water_coverage(conn, distance_m=700)) == {"Ban A", "Ban C"}
    assert _covered(coverage.water_coverage(conn, distance_m=900)) == {"Ban A", "Ban B", "Ban C"}
    shallow = coverage.water_coverage(conn, distance_m=900, kinds="shallow_well")
    assert _covered(shallow) == {"Ban C"}
    with pytest.raises(ValidationError):
        coverage.water_coverage(conn, distance_m=900, kinds=["spring"])
    with pytest.raises(ValidationError):
        coverage.water_coverage(conn, distance_m=-1)


def test_nearest_source_in_range(conn):
    build_world(conn)
    insert_features(
        conn,
        "water_points",
        [
            {
                "name_th": "บ่อ 3",
                "name_en": "Well 3",
                "kind": "pond",
                "geom": Point(99.455, 18.300),  # 528 m from A and from B
            }
        ],
    )
    near = coverage.water_coverage(conn, distance_m=1000, nearest=True).set_index("name_en")
    assert near.loc["Ban A", "distance_m"] == pytest.approx(211, abs=2)  # W1, not the pond
    assert near.loc["Ban B", "source_kind"] == "pond"  # 528 m, nearer than W1 (846 m)
    assert near.loc["Ban B", "distance_m"] == pytest.approx(528, abs=3)
    anyone = coverage.water_coverage(conn, distance_m=1000).set_index("name_en")
    assert (anyone["covered"] == near["covered"]).all()
    assert (anyone.loc[anyone["covered"], "distance_m"] <= 1000).all()


def test_shares_per_lgo_and_district_agree(conn):
    build_world(conn)
    villages = coverage.water_coverage(conn, distance_m=500)
    by_lgo = coverage.coverage_by(villages, "local_body").set_index("local_body_en")
    assert by_lgo.loc["West SAO", "share_households_covered"] == pytest.approx(100 / 150)
    assert by_lgo.loc["East SAO", "share_households_covered"] == 0
    by_district = coverage.coverage_by(villages, "district").set_index("district_code")
    assert by_district.loc["5201", "households_covered"] == 100
    for col in ("villages", "households", "households_covered", "population_covered"):
        assert by_lgo[col].sum() == by_district[col].sum()
    ranked = coverage.uncovered_villages(villages)
    assert list(ranked["name_en"]) == ["Ban C", "Ban B"]  # 250 people before 200


def test_water_along_roads(conn):
    build_world(conn)
    # B is 846 m from W1 in a straight line, but the road from A winds 2,164 m to B and W1
    # joins it 211 m from A: 2,375 m along the road.
    straight = coverage.water_coverage(conn, distance_m=1500)
    assert "Ban B" in _covered(straight)
    along = coverage.water_coverage(conn, distance_m=1500, along_roads=True)
    assert _covered(along) == {"Ban A", "Ban C"}
    assert pd.isna(along.set_index("name_en").loc["Ban B", "distance_m"])  # beyond 1,500 m
    farther = coverage.water_coverage(conn, distance_m=2500, along_roads=True)
    assert "Ban B" in _covered(farther)
    b = farther.set_index("name_en").loc["Ban B", "distance_m"]
    assert b == pytest.approx(211 + 2164, rel=0.01)
    # W2 and C both join the laterite road R2 (299 m south of them), 0.3 of its 2,113 m apart
    c = along.set_index("name_en").loc["Ban C"]
    assert c["distance_m"] == pytest.approx(299 + 0.3 * 2113 + 299, rel=0.02)


def test_road_access_and_unpaved_only(conn):
    build_world(conn)
    access = coverage.road_access(conn, distance_m=500).set_index("name_en")
    assert bool(access.loc["Ban A", "covered"]) and bool(access.loc["Ban B", "covered"])
    assert not access.loc["Ban C", "covered"]
    assert access.loc["Ban C", "surfaces_within"] == ["laterite"]
    only = coverage.unpaved_only_villages(conn, distance_m=500)
    assert list(only["name_en"]) == ["Ban C"]
    density = coverage.road_density(conn).set_index("local_body_en")
    # R1 is 553 + 1,057 + 553 m inside West; R2 2,113 m inside East (20 thousandths of lon)
    assert density.loc["West SAO", "road_km"] == pytest.approx(2.164, rel=0.01)
    assert density.loc["West SAO", "paved_share"] == pytest.approx(1.0)
    assert density.loc["East SAO", "paved_share"] == 0
    assert density.loc["West SAO", "density_km_per_km2"] == pytest.approx(
        2.164 / density.loc["West SAO", "area_km2"], rel=0.01
    )
