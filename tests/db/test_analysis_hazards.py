"""Hazard exposure on the hand-built world (test_analysis_world.build_hazards)."""

from __future__ import annotations

import pytest

from gis_registry.analysis.hazards import exposure_totals, hazard_exposure
from gis_registry.errors import ValidationError
from tests.db.test_analysis_world import build_hazards, build_world

pytestmark = pytest.mark.db


def test_exposure_by_type_severity_and_lgo(conn):
    ids = build_world(conn)
    build_hazards(conn, ids)
    exp = hazard_exposure(conn).set_index(["hazard_type", "severity", "local_body_en"])
    high = exp.loc[("flood", "high", "West SAO")]
    # R1's first segment runs 0.003 degree (332 m) inside the two overlapping high areas:
    # counted once; A (300 people) and well W1 inside
    assert high["road_km"] == pytest.approx(0.332, rel=0.01)
    assert (high["villages"], high["population"], high["water_sources"]) == (1, 300, 1)
    assert high["bridges"] == 0
    medium = exp.loc[("flood", "medium", "East SAO")]
    # R2 runs 0.01 degree (1,057 m) inside; C and the culvert on R2 too; W2 lies just outside
    assert medium["road_km"] == pytest.approx(1.057, rel=0.01)
    assert (medium["villages"], medium["population"], medium["bridges"]) == (1, 250, 1)
    assert medium["water_sources"] == 0
    slide = exp.loc[("landslide", "low", "West SAO")]
    assert slide["road_km"] == pytest.approx(0.111, rel=0.02)
    assert (slide["villages"], slide["population"]) == (1, 200)
    assert len(exp) == 3
    totals = exposure_totals(hazard_exposure(conn, hazard_types="flood"))
    assert set(totals["severity"]) == {"high", "medium"}
    assert totals["population"].sum() == 550


def test_exposure_refuses_unknown_hazard(conn):
    with pytest.raises(ValidationError):
        hazard_exposure(conn, hazard_types=["earthquake"])
    assert hazard_exposure(conn).empty
