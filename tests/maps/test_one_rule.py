"""Contract: the maps draw what the analyses compute, on the seed-52 demo province.

Each domain rule (condition class of an asset, plans in force on a date, hazard exposure) has
one definition in ``gis_registry.analysis``; a map that re-derived it could disagree (and did:
61 of 3,802 assets once had one class on the condition map and another in the table).
"""

from __future__ import annotations

from datetime import date, timedelta

import folium
import pytest
from sqlalchemy import text

from gis_registry.analysis import condition, hazards, zoning
from gis_registry.maps import condition_map, hazard_map, zoning_map
from gis_registry.registry import Registry

pytestmark = pytest.mark.db


def _features(m: folium.Map, starts: str) -> list[dict]:
    found = [
        c
        for c in m._children.values()
        if isinstance(c, folium.GeoJson) and c.layer_name.startswith(starts)
    ]
    assert found, f"no layer {starts!r}"
    return found[0].data["features"]


def test_condition_map_classes_are_the_analysis_classes(demo_conn):
    latest = condition.latest_condition(demo_conn, asset_types=["road", "bridge"])
    want = {
        (t, int(i)): c if isinstance(c, str) else condition.UNKNOWN
        for t, i, c in latest[["asset_type", "asset_id", "condition_class"]].itertuples(index=False)
    }
    m = condition_map(demo_conn, tolerance_m=50)
    drawn = {("road", int(f["id"])): f["properties"]["condition"] for f in _features(m, "ทาง ·")}
    drawn |= {("bridge", int(f["id"])): f["properties"]["condition"] for f in _features(m, "สะพาน")}
    assert drawn.keys() == want.keys()
    wrong = {k: (v, want[k]) for k, v in drawn.items() if v != want[k]}
    assert not wrong, f"{len(wrong)} assets (map, analysis): {dict(list(wrong.items())[:5])}"


def test_condition_frame_is_what_the_map_draws(demo_conn):
    from gis_registry.maps.condition import condition_frame

    framed = condition_frame(demo_conn)
    assert set(framed["asset_type"]) == {"road", "bridge"}
    assert set(framed["condition"]) <= {*condition.CLASSES, condition.UNKNOWN}
    assert framed["condition"].notna().all()


def _in_force_days(conn) -> list[date]:
    days = {date.today(), date(2000, 1, 1)}
    for start, end in conn.execute(text("SELECT effective_date, expiry_date FROM zoning_plans")):
        days |= {start, start - timedelta(days=1)}
        if end is not None:
            days |= {end, end - timedelta(days=1)}
    return sorted(days)


def test_zoning_map_draws_the_plans_in_force(demo_conn, demo_engine):
    zone_plan = dict(demo_conn.execute(text("SELECT id, plan_id FROM zoning_zones")).all())
    registry = Registry(demo_engine)
    days = _in_force_days(demo_conn)
    assert len(days) >= 4
    for day in days:
        plans = set(zoning.plans_in_force(demo_conn, on=day)["plan_id"].astype(int))
        want = {z for z, p in zone_plan.items() if p in plans}
        m = zoning_map(demo_conn, in_force_on=day, tolerance_m=200, boundaries=False)
        layers = [c for c in m._children.values() if isinstance(c, folium.GeoJson)]
        drawn = {int(f["id"]) for g in layers for f in g.data["features"]}
        assert drawn == want, day
        assert set(registry.zoning(on=day.isoformat())["id"]) == want, day


@pytest.mark.parametrize("types", [["flood"], ["flood", "landslide"]])
def test_hazard_map_draws_the_analysis_exposure(demo_conn, types):
    assets = hazards.exposed_assets(demo_conn, hazard_types=types)
    m = hazard_map(demo_conn, hazard_types=types, tolerance_m=50)
    for layer, starts in (("road", "ทาง"), ("bridge", "สะพาน"), ("village", "หมู่บ้าน")):
        drawn = {int(f["id"]) for f in _features(m, starts) if f["properties"]["exposed"]}
        computed = set(assets.loc[assets["layer"] == layer, "asset_id"].astype(int))
        assert drawn == computed, layer
        assert drawn, layer  # the demo has exposed assets of every kind

    # and the exposure table counts exactly these assets
    exposure = hazards.hazard_exposure(demo_conn, hazard_types=types)
    totals = exposure[["road_segments", "bridges", "villages"]].sum()
    per_group = assets.groupby(["layer", *hazards.KEYS], dropna=False)["asset_id"].nunique()
    assert totals["road_segments"] == per_group.loc["road"].sum()
    assert totals["bridges"] == per_group.loc["bridge"].sum()
    assert totals["villages"] == per_group.loc["village"].sum()
