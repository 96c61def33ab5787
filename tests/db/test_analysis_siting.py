"""Siting new water sources on the hand-built world (test_analysis_world)."""

from __future__ import annotations

import pytest
from shapely.geometry import Point

from gis_registry.analysis.siting import site_water_sources
from gis_registry.errors import ValidationError
from tests.db.test_analysis_world import build_world

pytestmark = pytest.mark.db

# At 500 m only A is covered; B (50 households) and C (80) are not.
NEAR_B = Point(99.461, 18.300)  # 106 m from B
NEAR_C = Point(99.551, 18.300)  # 106 m from C
NOWHERE = Point(99.500, 18.300)  # 4 km from everything


def test_greedy_picks_most_households_first(conn):
    ids = build_world(conn)
    sites = site_water_sources(conn, n=3, distance_m=500, candidates=[NOWHERE, NEAR_B, NEAR_C])
    assert list(sites["candidate"]) == [2, 1]  # C's 80 households, then B's 50; then nothing
    assert list(sites["households_gained"]) == [80, 50]
    assert list(sites["cumulative_households"]) == [80, 130]
    assert sites.iloc[0]["settlement_ids"] == [ids["C"]]
    one = site_water_sources(conn, n=1, distance_m=500, candidates=[NEAR_B, NEAR_C])
    assert list(one["households_gained"]) == [80]


def test_grid_candidates_cover_everything_left(conn):
    build_world(conn)
    sites = site_water_sources(conn, n=5, distance_m=500, candidates="grid", grid_m=250)
    assert sites["households_gained"].sum() == 130
    assert len(sites) == 2


def test_bad_input(conn):
    build_world(conn)
    with pytest.raises(ValidationError):
        site_water_sources(conn, n=0, distance_m=500)
    with pytest.raises(ValidationError):
        site_water_sources(conn, n=1, distance_m=500, candidates=[Point(500000, 2000000)])
