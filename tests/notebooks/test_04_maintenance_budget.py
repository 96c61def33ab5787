"""Notebook 04, maintenance and the budget: its charts, its map, and its key numbers are the
library's answers for fiscal year 2570 (condition as on the year's first day, PAO-funded works
only), at 50 million baht and after a 20 % cut to 40 million."""

from __future__ import annotations

import pytest

from gis_registry.fiscal import fiscal_year_bounds
from tests.notebooks.kernel import figures, key_numbers

pytestmark = pytest.mark.db

NOTEBOOK = "04_maintenance_budget.ipynb"
FISCAL_YEAR = 2570
AS_OF = fiscal_year_bounds(FISCAL_YEAR)[0]  # 1 October 2026: the notebook's one date
PAYER = ["pao"]  # a PAO budget pays for the PAO's works only


def _funded(report) -> dict[tuple[str, int], float]:
    table = report.table("funded")
    return {
        (t, int(i)): float(c)
        for t, i, c in zip(table["asset_type"], table["asset_id"], table["cost_thb"], strict=True)
    }


def test_draws_its_charts_and_the_condition_map(executed):
    found = figures(executed(NOTEBOOK))
    # condition by road class, by owner, inspections due, programme by treatment,
    # spending history, the cut; and the condition map
    assert found.images >= 6
    assert found.maps >= 1


def test_inspections_due_are_the_librarys(executed, demo_registry):
    numbers = key_numbers(executed(NOTEBOOK))
    assert numbers["fiscal_year"] == FISCAL_YEAR
    assert numbers["as_of"] == AS_OF.isoformat()
    due = demo_registry.overdue(as_of=AS_OF).summary
    assert numbers["never_inspected"] == due["never"]
    assert numbers["overdue"] == due["overdue"]


def test_programme_and_cut_are_the_librarys(executed, demo_registry):
    numbers = key_numbers(executed(NOTEBOOK))
    full = demo_registry.programme(
        fiscal_year=FISCAL_YEAR, budget_thb=50_000_000, funding_bodies=PAYER, as_of=AS_OF
    )
    cut = demo_registry.programme(
        fiscal_year=FISCAL_YEAR, budget_thb=40_000_000, funding_bodies=PAYER, as_of=AS_OF
    )
    assert set(full.table("funded")["funding_body"]) == {"pao"}
    assert numbers["funded_items_50m"] == full.summary["funded_items"]
    assert numbers["funded_thb_50m"] == round(full.summary["funded_thb"], 2)
    assert numbers["funded_items_40m"] == cut.summary["funded_items"]
    assert numbers["funded_thb_40m"] == round(cut.summary["funded_thb"], 2)

    at_50, at_40 = _funded(full), _funded(cut)
    deferred = set(at_50) - set(at_40)
    assert deferred, "a 20 % cut of a full budget defers something"
    assert numbers["deferred_by_cut_items"] == len(deferred)
    assert numbers["deferred_by_cut_thb"] == round(sum(at_50[k] for k in deferred), 2)
    assert numbers["funded_only_after_cut_items"] == len(set(at_40) - set(at_50))

    assert numbers["pao_backlog_thb"] == pytest.approx(full.summary["backlog_thb"])
    assert full.summary["funding_bodies"] == PAYER  # the library's default: the PAO's budget


def test_pao_spending_history_is_the_librarys(executed, demo_registry):
    numbers = key_numbers(executed(NOTEBOOK))
    spending = demo_registry.history(
        by="funding_body", fiscal_years=(FISCAL_YEAR - 5, FISCAL_YEAR - 1)
    ).table("spending")
    pao = spending[spending["funding_body"] == "pao"]
    assert sorted(pao["fiscal_year"]) == [2565, 2566, 2567, 2568, 2569]
    assert numbers["pao_spent_thb_fy2565_2569"] == pytest.approx(float(pao["cost_thb"].sum()))
