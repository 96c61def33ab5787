"""The water coverage study (notebooks/03_water_coverage.ipynb): its figures, and key numbers
equal to the library's coverage and siting answers at 1 km with ten new sources."""

from __future__ import annotations

import pytest

from tests.notebooks.kernel import figures, key_numbers

pytestmark = pytest.mark.db

NOTEBOOK = "03_water_coverage.ipynb"
DISTANCE_M = 1_000
N_SITES = 10


def test_draws_the_choropleth_two_charts_and_the_water_map(executed):
    found = figures(executed(NOTEBOOK))
    # choropleth per LGO, sources by kind, districts before/after
    assert found.images == 3
    assert found.maps == 1
    page = found.map_pages[0]
    assert "Water source coverage" in page
    assert "within 1,000 m" in page  # drawn with the study's radius, not the default 2 km
    assert "Proposed new sources" in page  # with the new sites of the siting analysis


def test_coverage_numbers_are_the_librarys(executed, demo_registry):
    numbers = key_numbers(executed(NOTEBOOK))
    report = demo_registry.water_coverage(distance_m=DISTANCE_M)
    summary = report.summary
    uncovered = report.tables["uncovered"]
    by_lgo = report.tables["by_local_body"]
    assert numbers["distance_m"] == DISTANCE_M
    assert numbers["villages"] == summary["villages"]
    assert numbers["households"] == summary["households"]
    assert numbers["households_covered"] == summary["households_covered"]
    assert numbers["share_households_covered"] == round(summary["share_households_covered"], 4)
    assert numbers["villages_uncovered"] == summary["villages"] - summary["villages_covered"]
    assert numbers["households_uncovered"] == summary["households"] - summary["households_covered"]
    assert numbers["largest_uncovered_village"] == uncovered.iloc[0]["name_en"]
    assert numbers["lgos_without_coverage"] == int((by_lgo["households_covered"] == 0).sum())


def test_siting_numbers_are_the_librarys(executed, demo_registry):
    numbers = key_numbers(executed(NOTEBOOK))
    siting = demo_registry.siting(n=N_SITES, distance_m=DISTANCE_M)
    coverage = demo_registry.water_coverage(distance_m=DISTANCE_M).summary
    assert numbers["sites_chosen"] == siting.summary["chosen"] == N_SITES
    assert numbers["households_gained"] == siting.summary["households_gained"] > 0
    after = (coverage["households_covered"] + siting.summary["households_gained"]) / coverage[
        "households"
    ]
    assert numbers["share_households_covered_after"] == round(after, 4)
    # the districts the new sites reach, from the villages each site would serve
    villages = demo_registry.settlements().merge(
        demo_registry.local_bodies()[["id", "district_code"]],
        left_on="local_body_id",
        right_on="id",
        suffixes=("", "_lgo"),
    )
    served = {int(s) for ids in siting.tables["sites"]["settlement_ids"] for s in ids}
    districts = villages.loc[villages["id"].isin(served), "district_code"]
    assert numbers["districts_gaining"] == districts.nunique()
