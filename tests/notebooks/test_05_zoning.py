"""05_zoning.ipynb: its charts and map, and its key numbers are the library's answers.

The notebook asks on the first day of FY 2570 (1 Oct 2026) how much land each land-use category
gets, which zone the city centre is in and whether a landfill (two sites) and a market may be
built; every figure is recomputed here through the registry with the same arguments.
"""

from __future__ import annotations

import pytest
from shapely.geometry import box

from gis_registry.fiscal import fiscal_year_bounds
from tests.notebooks.kernel import figures, key_numbers

pytestmark = pytest.mark.db

NOTEBOOK = "05_zoning.ipynb"
ON = fiscal_year_bounds(2570)[0]
CENTRE = (99.50, 18.29)
SITE_CENTRE = (99.5436, 18.2593)
MARKET_WKT = (
    "POLYGON ((99.4995 18.29, 99.5005 18.29, 99.5005 18.2908, 99.4995 18.2908, 99.4995 18.29))"
)


def _square(half_side_deg: float):
    x, y = SITE_CENTRE
    return box(x - half_side_deg, y - half_side_deg, x + half_side_deg, y + half_side_deg)


def _codes(report) -> list[str]:
    return [str(c) for c in report.frame["land_use_code"].fillna("unzoned")]


@pytest.fixture(scope="module")
def numbers(executed):
    return key_numbers(executed(NOTEBOOK))


def test_draws_three_charts_and_the_zoning_map(executed):
    found = figures(executed(NOTEBOOK))
    # areas per category, areas per LGO, the sites on the plan; and reg.map("zoning")
    assert found.images == 3
    assert found.maps == 1
    assert "ผังเมืองรวม" in found.map_pages[0]  # the zoning map's Thai title


def test_areas_are_the_reports(numbers, demo_registry):
    areas = demo_registry.zoning_areas(by="plan", on=ON).frame
    zones = demo_registry.zoning(on=ON)
    by_lgo = demo_registry.zoning_areas(by="local_body", on=ON).frame
    per_lgo = by_lgo.groupby("local_body_id")["area_km2"].sum()
    largest = areas.loc[areas["area_km2"].idxmax()]
    total = float(areas["area_km2"].sum())

    assert numbers["on"] == "2026-10-01"
    assert numbers["plans_in_force"] == zones["plan_id"].nunique() == 1
    assert numbers["zones"] == len(zones)
    assert numbers["categories"] == areas["category"].nunique()
    assert numbers["total_zoned_km2"] == round(total, 3)
    assert numbers["total_zoned_rai"] == round(total * 1e6 / 1_600)
    assert numbers["largest_category"] == largest["category"]
    assert numbers["largest_category_km2"] == round(float(largest["area_km2"]), 3)
    assert numbers["lgos_touched"] == len(per_lgo)
    assert numbers["lgos_with_zoned_land"] == int((per_lgo >= 0.01).sum())


def test_zone_at_the_city_centre(numbers, demo_registry):
    at = demo_registry.zoning_at(*CENTRE, on=ON).frame
    assert len(at) == 1
    assert numbers["centre_zone_code"] == at["land_use_code"].iloc[0]
    assert numbers["centre_category"] == at["category"].iloc[0]


def test_landfill_and_market_verdicts(numbers, demo_registry):
    site_a = demo_registry.zoning_check("landfill", _square(0.002), on=ON)
    site_b = demo_registry.zoning_check("landfill", _square(0.0012), on=ON)
    market = demo_registry.zoning_check("market", MARKET_WKT, on=ON)  # the packaged MK rules
    for name, report in (("landfill_a", site_a), ("landfill_b", site_b), ("market", market)):
        verdict = report.summary["verdict"]
        assert numbers[f"{name}_verdict"] == verdict
        assert numbers[f"{name}_allowed"] is (verdict == "allowed")
        assert numbers[f"{name}_zones"] == _codes(report)
    # the study's story: the site as drawn is refused, cut back into one zone it is allowed
    assert not numbers["landfill_a_allowed"] and len(numbers["landfill_a_zones"]) > 1
    assert numbers["landfill_b_allowed"] and numbers["market_allowed"]
