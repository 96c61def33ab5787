"""Condition, overdue inspections, work programme and history on the hand-built world
(test_analysis_world.build_maintenance states the conditions)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from gis_registry.analysis import condition, history, programme
from gis_registry.errors import ValidationError
from gis_registry.queries.features import insert_features
from tests.db.test_analysis_world import build_hazards, build_maintenance, build_world

pytestmark = pytest.mark.db
MAY = date(2026, 5, 1)


@pytest.fixture()
def world(conn):
    ids = build_world(conn)
    ids.update(build_hazards(conn, ids))
    ids.update(build_maintenance(conn, ids))
    return ids


def _length(conn, road_id) -> float:
    from sqlalchemy import text

    return conn.execute(text("SELECT length_m FROM roads WHERE id = :i"), {"i": road_id}).scalar()


def test_latest_condition_as_of(conn, world):
    now = condition.latest_condition(conn, as_of=MAY).set_index(["asset_type", "asset_id"])
    r1 = now.loc[("road", world["R1"])]
    assert r1["condition_class"] == "very_poor" and r1["condition_score"] == 6.0
    assert r1["local_body_en"] == "West SAO" and r1["owner"] == "Lampang PAO"
    assert now.loc[("bridge", world["bridge"]), "condition_class"] == "poor"
    assert pd.isna(now.loc[("water_source", world["W2"]), "condition_class"])
    before = condition.latest_condition(conn, as_of=date(2025, 1, 1)).set_index(
        ["asset_type", "asset_id"]
    )
    assert before.loc[("road", world["R1"]), "condition_class"] == "good"  # IRI 2.0 in 2024


def test_distribution_and_overdue(conn, world):
    latest = condition.latest_condition(conn, as_of=MAY)
    dist = condition.condition_distribution(latest, by="surface").set_index(
        ["asset_type", "surface"]
    )
    asphalt = dist.loc[("road", "asphalt")]
    assert (asphalt["good"], asphalt["fair"], asphalt["very_poor"]) == (1, 1, 1)
    assert asphalt["km_fair"] == pytest.approx(_length(conn, world["R1b"]) / 1000)
    by_lgo = condition.condition_distribution(latest, by="local_body")
    assert by_lgo["assets"].sum() == len(latest) == 7
    overdue = condition.overdue_inspections(conn, as_of=MAY)
    assert list(zip(overdue["asset_type"], overdue["status"], strict=True)) == [
        ("water_source", "never"),
        ("water_source", "overdue"),
    ]
    assert overdue.iloc[1]["days_overdue"] == (MAY - date(2024, 12, 31)).days  # 2024: 366 days
    # with a 30-day interval for roads, the March inspections are overdue by May too
    strict = condition.overdue_inspections(conn, as_of=MAY, intervals={"road": 30})
    assert (strict["asset_type"] == "road").sum() == 4


def test_programme_cut_to_budget(conn, world):
    # one budget for the PAO's and the LGOs' works: both bodies' candidates compete
    prog = programme.work_programme(
        conn,
        fiscal_year=2570,
        budget_thb=5_000_000,
        as_of=MAY,
        criticality=False,
        funding_bodies=["pao", "lgo"],
    )
    items = prog.items.set_index(["asset_type", "asset_id"])
    r1 = items.loc[("road", world["R1"])]
    assert r1["treatment"] == "reconstruction" and r1["rule"] == "T-R05"
    assert r1["cost_thb"] == pytest.approx(_length(conn, world["R1"]) * 6 * 1200, rel=1e-4)
    # R1b is fair but 26 years old on 1 Oct 2026 (built 2000): rehabilitation, not periodic
    assert items.loc[("road", world["R1b"]), "treatment"] == "rehabilitation"
    assert items.loc[("road", world["R1c"]), "treatment"] == "routine"  # good, 26 years
    # R2 is a poor laterite road: the unpaved rule
    assert items.loc[("road", world["R2"]), "rule"] == "T-R07"
    assert items.loc[("bridge", world["bridge"]), "cost_thb"] == pytest.approx(12 * 60_000)
    # priority: R1 (very poor, 500 people) > R2 (poor) > culvert (NBI 4) > R1b > R1c
    order = list(zip(prog.items["asset_type"], prog.items["asset_id"], strict=True))
    assert order == [
        ("road", world["R1"]),
        ("road", world["R2"]),
        ("bridge", world["bridge"]),
        ("road", world["R1b"]),
        ("road", world["R1c"]),
    ]
    funded = set(zip(prog.funded["asset_type"], prog.funded["asset_id"], strict=True))
    assert funded == {("road", world["R1"]), ("bridge", world["bridge"]), ("road", world["R1c"])}
    assert prog.funded_thb <= 5_000_000
    assert all("over budget" in r for r in prog.deferred["reason"])
    split = prog.split("funding_body").set_index("funding_body")
    assert split.loc["pao", "funded_items"] == 2 and split.loc["lgo", "funded_items"] == 1
    assert split["funded_thb"].sum() == pytest.approx(prog.funded_thb)
    by_lgo = prog.split("local_body").set_index("local_body_en")
    assert by_lgo.loc["East SAO", "deferred_thb"] == pytest.approx(
        items.loc[("road", world["R2"]), "cost_thb"]
    )
    summary = prog.summary()
    assert (summary["starts"], summary["ends"]) == ("2026-10-01", "2027-09-30")
    assert summary["funded_thb"] + summary["remaining_thb"] == pytest.approx(5_000_000)


def test_criticality_raises_priority(conn, world):
    import pandas as pd

    both = ["pao", "lgo"]  # R1b (the PAO's) must overtake the LGO's R2 and culvert
    plain = programme.work_programme(
        conn, fiscal_year=2570, budget_thb=0, as_of=MAY, criticality=False, funding_bodies=both
    )
    crit = pd.Series({("road", world["R1b"]): 500.0})
    critical = programme.work_programme(
        conn, fiscal_year=2570, budget_thb=0, as_of=MAY, criticality=crit, funding_bodies=both
    )
    before = plain.items.set_index("asset_id").query("asset_type == 'road'")["rank"]
    after = critical.items.set_index("asset_id").query("asset_type == 'road'")["rank"]
    assert after[world["R1b"]] < before[world["R1b"]]
    assert critical.summary()["criticality_used"] and not plain.summary()["criticality_used"]


def test_programme_funding_bodies_already_programmed_and_bad_input(conn, world):
    insert_features(
        conn,
        "maintenance_works",
        [
            {
                "road_id": world["R1"],
                "treatment": "reconstruction",
                "planned_start": date(2026, 11, 1),
                "cost_thb": 4_000_000,
                "fiscal_year": 2570,
                "funding_body": "pao",
                "status": "approved",
            }
        ],
    )
    prog = programme.work_programme(
        conn, fiscal_year=2570, budget_thb=10_000_000, as_of=MAY, funding_bodies=["pao"]
    )
    reasons = prog.items.set_index(["asset_type", "asset_id"])["reason"]
    assert reasons[("road", world["R1"])].startswith("already programmed in fiscal year 2570")
    assert set(prog.funded["asset_id"]) == {world["R1b"], world["R1c"]}
    # the LGO's road and culvert are not the PAO's to fund: left out, and counted
    assert ("road", world["R2"]) not in reasons.index
    others = set(zip(prog.other_bodies["asset_type"], prog.other_bodies["asset_id"], strict=True))
    assert others == {("road", world["R2"]), ("bridge", world["bridge"])}
    summary = prog.summary()
    assert summary["funding_bodies"] == ["pao"] and summary["other_bodies_items"] == 2
    assert summary["backlog_thb"] == pytest.approx(prog.items["cost_thb"].sum())
    zero = programme.work_programme(conn, fiscal_year=2570, budget_thb=0, as_of=MAY)
    assert zero.funded.empty and zero.funded_thb == 0
    assert zero.funding_bodies == ("pao",)  # the default: the PAO's own budget
    lgo = programme.work_programme(
        conn, fiscal_year=2570, budget_thb=0, as_of=MAY, funding_bodies="lgo"
    )
    assert set(lgo.items["asset_id"]) == {world["R2"], world["bridge"]}
    with pytest.raises(ValidationError, match="Buddhist Era"):
        programme.work_programme(conn, fiscal_year=2026, budget_thb=1)
    with pytest.raises(ValidationError):
        programme.work_programme(conn, fiscal_year=2570, budget_thb=-5)
    for wrong in (["highways"], []):
        with pytest.raises(ValidationError, match="funding_body"):
            programme.work_programme(conn, fiscal_year=2570, budget_thb=1, funding_bodies=wrong)


def _work(world, column, asset, start, body, status="completed"):
    return {
        column: world[asset],
        "treatment": "rehabilitation",
        "planned_start": start,
        "actual_start": start if status == "completed" else None,
        "actual_end": start if status == "completed" else None,
        "cost_thb": 1_000_000,
        "fiscal_year": 0,
        "funding_body": body,
        "status": status,
    }


def test_the_pao_funds_the_lgo_assets_it_supports(conn, world):
    """An LGO road whose latest work the PAO paid for is the PAO's to fund, and only the PAO's;
    a cancelled work does not count; a later LGO-funded work gives it back to the LGO."""
    from gis_registry.fiscal import fiscal_year

    def add(*works):
        rows = [{**w, "fiscal_year": fiscal_year(w["planned_start"])} for w in works]
        insert_features(conn, "maintenance_works", rows)

    def payers():
        pao = programme.work_programme(conn, fiscal_year=2570, budget_thb=0, as_of=MAY)
        lgo = programme.work_programme(
            conn, fiscal_year=2570, budget_thb=0, as_of=MAY, funding_bodies=["lgo"]
        )
        return pao, set(lgo.items["asset_id"])

    add(_work(world, "road_id", "R2", date(2026, 1, 10), "pao"))
    pao, lgo_ids = payers()
    r2 = pao.items.set_index(["asset_type", "asset_id"]).loc[("road", world["R2"])]
    assert r2["funding_body"] == "pao"
    assert r2["funding_note"].startswith("LGO asset the PAO supports (work #")
    assert world["R2"] not in lgo_ids and world["bridge"] in lgo_ids
    add(_work(world, "road_id", "R2", date(2026, 2, 1), "lgo", status="cancelled"))
    assert world["R2"] in set(payers()[0].items["asset_id"])
    add(_work(world, "road_id", "R2", date(2026, 3, 1), "lgo"))
    pao, lgo_ids = payers()
    assert world["R2"] not in set(pao.items["asset_id"]) and world["R2"] in lgo_ids


def test_coordination_adds_up_to_every_bodys_programme(conn, world):
    from gis_registry import domain
    from gis_registry.analysis import coordination

    add = {**_work(world, "road_id", "R2", date(2026, 11, 2), "central_subsidy", "planned")}
    add["fiscal_year"] = 2570
    insert_features(conn, "maintenance_works", [add])
    c = coordination.coordination(conn, fiscal_year=2570, as_of=MAY)
    bodies = c.by_funding_body.set_index("funding_body")
    assert list(bodies.index) == list(domain.FUNDING_BODIES)
    for body in domain.FUNDING_BODIES:
        prog = programme.work_programme(
            conn, fiscal_year=2570, budget_thb=0, as_of=MAY, funding_bodies=[body]
        )
        assert bodies.loc[body, "backlog_items"] == len(prog.items)
        assert bodies.loc[body, "backlog_thb"] == pytest.approx(prog.summary()["backlog_thb"])
    # the FY 2570 work programmed under a central subsidy, in East SAO where R2 lies
    assert bodies.loc["central_subsidy", "programmed_works"] == 1
    assert bodies.loc["central_subsidy", "programmed_thb"] == 1_000_000
    assert bodies["programmed_works"].sum() == 1  # the FY 2568/2569 works are other years
    east = c.by_local_body.set_index(["local_body_en", "funding_body"])
    assert east.loc[("East SAO", "central_subsidy"), "programmed_thb"] == 1_000_000
    assert east.loc[("East SAO", "lgo"), "backlog_items"] == 2
    assert c.by_local_body["backlog_thb"].sum() == pytest.approx(bodies["backlog_thb"].sum())
    summary = c.summary()
    assert summary["programmed_thb"] == 1_000_000
    assert summary["backlog_thb"] == pytest.approx(bodies["backlog_thb"].sum())
    with pytest.raises(ValidationError, match="Buddhist Era"):
        coordination.coordination(conn, fiscal_year=2027)


def test_spending_per_fiscal_year_at_the_boundary(conn, world):
    total = history.spending(conn).set_index("fiscal_year")["cost_thb"]
    # 30 Sep 2025 belongs to FY 2568, 1 Oct 2025 to FY 2569
    assert total.to_dict() == {2568: 600_000, 2569: 200_000}
    by_lgo = history.spending(conn, by="local_body").set_index(["fiscal_year", "local_body_en"])
    assert by_lgo.loc[(2568, "West SAO"), "cost_thb"] == 500_000  # R1 lies in West
    assert by_lgo.loc[(2568, "East SAO"), "cost_thb"] == 100_000  # funded by East
    by_treatment = history.spending(conn, by="treatment")
    assert by_treatment.groupby("treatment")["cost_thb"].sum().to_dict() == {
        "periodic": 700_000,
        "routine": 100_000,
    }
    assert history.spending(conn, fiscal_years=(2569, 2569))["cost_thb"].sum() == 200_000


def test_backlog_and_trend(conn, world):
    log = history.backlog(conn, fiscal_years=(2569, 2570)).set_index("fiscal_year")
    # on 30 Sep 2025 only R1's 2024 inspection (good, 25 years old on 1 Oct 2025) is known
    assert log.loc[2569, "backlog_thb"] == pytest.approx(
        _length(conn, world["R1"]) * 6 * 25, rel=1e-4
    )
    from gis_registry.analysis.coordination import coordination

    every_body = coordination(conn, fiscal_year=2570, as_of=MAY).summary()
    assert log.loc[2570, "backlog_thb"] == pytest.approx(every_body["backlog_thb"])
    trend = history.condition_trend(conn).set_index("fiscal_year")
    # inspections from Jan 2024 (FY 2567) to Mar 2026 (FY 2569, which ends 30 Sep 2026)
    assert list(trend.index) == [2567, 2568, 2569]
    assert trend.loc[2568, "share_good"] == 1.0
    assert trend.loc[2568, "mean_condition_index"] > trend.loc[2569, "mean_condition_index"]
    assert trend.loc[2569, "bridges_poor"] == 1
