"""The analyses on the Lampang demo province (seed 52, scale 1): invariants that must hold
whatever the generated data, and agreement between the ways of adding things up."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from gis_registry.analysis import (
    compliance,
    condition,
    coverage,
    hazards,
    history,
    programme,
    siting,
    zoning,
)
from gis_registry.errors import ValidationError
from gis_registry.fiscal import fiscal_year

pytestmark = pytest.mark.db
ON = date(2026, 6, 1)


def _scalar(conn, sql, **params):
    return conn.execute(text(sql), params).scalar()


@pytest.fixture(scope="module")
def water(demo_engine):
    with demo_engine.connect() as conn:
        return coverage.water_coverage(conn, distance_m=1000)


def test_water_shares_between_0_and_1_and_totals_agree(demo_conn, water):
    assert len(water) == _scalar(demo_conn, "SELECT count(*) FROM settlements")
    totals = coverage.coverage_totals(water)
    assert 0 < totals["share_households_covered"] < 1
    assert totals["households"] == _scalar(demo_conn, "SELECT sum(households) FROM settlements")
    by_lgo = coverage.coverage_by(water, "local_body")
    by_district = coverage.coverage_by(water, "district")
    for frame in (by_lgo, by_district):
        shares = frame["share_households_covered"].dropna()
        assert ((shares >= 0) & (shares <= 1)).all()
        for col in ("villages", "villages_covered", "households", "households_covered"):
            assert frame[col].sum() == totals[col]
    assert (water.loc[water["covered"], "distance_m"] <= 1000).all()


def test_water_coverage_is_the_exact_ellipsoidal_answer(demo_conn, water):
    # every village with a source within 1 km on the ellipsoid, checked pair by pair
    exact = {
        r[0]
        for r in demo_conn.execute(
            text(
                "SELECT s.id FROM settlements s WHERE EXISTS (SELECT 1 FROM water_sources w "
                "WHERE ST_Distance(w.geom::geography, s.geom::geography) <= 1000)"
            )
        )
    }
    assert set(water.loc[water["covered"], "settlement_id"]) == exact


def test_along_roads_never_covers_more_than_straight_line(demo_conn, water):
    along = coverage.water_coverage(demo_conn, distance_m=1000, along_roads=True)
    straight = set(water.loc[water["covered"], "settlement_id"])
    reached = set(along.loc[along["covered"], "settlement_id"])
    assert reached <= straight  # a path is never shorter than the straight line
    assert reached  # but the network does reach some villages
    wells = coverage.water_coverage(demo_conn, distance_m=1000, kinds="groundwater_well")
    assert set(wells.loc[wells["covered"], "settlement_id"]) <= straight


def test_siting_gains_shrink_and_fit_what_is_uncovered(demo_conn, water):
    sites = siting.site_water_sources(demo_conn, n=5, distance_m=1000)
    assert len(sites) == 5
    gains = sites["households_gained"].to_numpy()
    assert (np.diff(gains) <= 0).all() and gains[-1] > 0
    uncovered = water.loc[~water["covered"], "households"].sum()
    assert sites["cumulative_households"].iloc[-1] <= uncovered
    chosen = [i for ids in sites["settlement_ids"] for i in ids]
    assert len(chosen) == len(set(chosen))  # no village counted twice


def test_road_access_and_density(demo_conn):
    access = coverage.road_access(demo_conn, distance_m=2000)
    share = coverage.coverage_totals(access)["share_villages_covered"]
    assert 0 < share <= 1
    assert not (access["only_unpaved"] & access["covered"]).any()
    density = coverage.road_density(demo_conn)
    assert ((density["paved_share"].dropna() >= 0) & (density["paved_share"].dropna() <= 1)).all()
    total_km = _scalar(demo_conn, "SELECT sum(length_m) / 1000 FROM roads")
    pao = density[density["kind"] == "pao"].iloc[0]
    assert pao["road_km"] == pytest.approx(total_km)
    # roads clipped to the LGOs (which tile the province) add up to the province's roads
    assert density.loc[density["kind"] != "pao", "road_km"].sum() == pytest.approx(
        total_km, rel=0.01
    )


def test_hazard_exposure_bounded_by_the_registry(demo_conn):
    exposure = hazards.hazard_exposure(demo_conn)
    assert set(exposure["hazard_type"]) <= {"flood", "landslide"}
    totals = hazards.exposure_totals(exposure)
    villages = _scalar(demo_conn, "SELECT count(*) FROM settlements")
    road_km = _scalar(demo_conn, "SELECT sum(length_m) / 1000 FROM roads")
    assert (totals["villages"] <= villages).all() and (totals["road_km"] <= road_km).all()
    assert totals["road_km"].sum() > 0 and totals["villages"].sum() > 0
    floods = hazards.hazard_exposure(demo_conn, hazard_types="flood")
    assert set(floods["hazard_type"]) == {"flood"}


def test_zoning_uses_the_plan_in_force(demo_conn):
    plans = pd.read_sql("SELECT * FROM zoning_plans ORDER BY effective_date", demo_conn)
    for _, plan in plans.iterrows():
        day = plan["effective_date"]
        in_force = zoning.plans_in_force(demo_conn, on=day)
        assert plan["id"] in set(in_force["plan_id"])
    areas = zoning.zoning_areas(demo_conn, by="plan", on=ON)
    assert set(areas["plan_id"]) <= set(zoning.plans_in_force(demo_conn, on=ON)["plan_id"])
    zone = demo_conn.execute(
        text(
            "SELECT ST_X(ST_PointOnSurface(z.geom)), ST_Y(ST_PointOnSurface(z.geom)), z.id "
            "FROM zoning_zones z JOIN zoning_plans p ON p.id = z.plan_id "
            "WHERE z.category = 'low_density_residential' AND p.effective_date <= :on "
            "AND (p.expiry_date IS NULL OR p.expiry_date > :on) LIMIT 1"
        ),
        {"on": ON},
    ).one()
    at = zoning.zone_at(demo_conn, zone[0], zone[1], on=ON)
    assert zone[2] in set(at["zone_id"])
    check = compliance.check_compliance(
        demo_conn, asset="landfill", geom=f"POINT({zone[0]} {zone[1]})", on=ON
    )
    assert compliance.overall_verdict(check) == "prohibited"
    assert "LF-01" in set(check["rule"])


def test_condition_overdue_and_distribution(demo_conn):
    latest = condition.latest_condition(demo_conn, as_of=ON)
    inspected = latest["condition_index"].dropna()
    assert ((inspected >= 0) & (inspected <= 100)).all()
    dist = condition.condition_distribution(latest, by="road_class")
    assert dist["assets"].sum() == len(latest)
    overdue = condition.overdue_inspections(demo_conn, as_of=ON)
    assert set(overdue["status"]) <= {"never", "overdue"}
    assert (overdue.loc[overdue["status"] == "overdue", "days_overdue"] > 0).all()


def test_programme_never_exceeds_the_budget(demo_conn):
    budget = 100_000_000
    prog = programme.work_programme(
        demo_conn, fiscal_year=2570, budget_thb=budget, as_of=ON, criticality=False
    )
    assert 0 < prog.funded_thb <= budget
    assert len(prog.funded) + len(prog.deferred) == len(prog.items)
    assert prog.deferred["reason"].str.len().gt(0).all()
    assert prog.deferred["reason"].str.startswith("already programmed").any()  # FY 2570 works
    split = prog.split("funding_body")
    assert split["funded_thb"].sum() == pytest.approx(prog.funded_thb)
    by_lgo = prog.split("local_body")
    assert by_lgo["funded_thb"].sum() == pytest.approx(prog.funded_thb)
    ranks = prog.items.sort_values("rank")["priority"].to_numpy()
    assert (np.diff(ranks) <= 1e-9).all()
    tiny = programme.work_programme(
        demo_conn, fiscal_year=2570, budget_thb=1_000, as_of=ON, criticality=False
    )
    assert tiny.funded_thb <= 1_000


def test_the_default_programme_spends_the_paos_budget_only(demo_conn):
    """DOH and DRR assets never draw on the PAO's budget; the LGO assets it funds are those
    the registry records PAO support for."""
    budget = 50_000_000
    prog = programme.work_programme(demo_conn, fiscal_year=2570, budget_thb=budget, as_of=ON)
    assert prog.funding_bodies == ("pao",)
    assert set(prog.items["funding_body"]) == {"pao"}
    assert 0 < prog.funded_thb <= budget
    owners = pd.read_sql(
        "SELECT r.id AS asset_id, r.owner_agency, lb.kind FROM roads r "
        "LEFT JOIN local_bodies lb ON lb.id = r.owner_local_body_id",
        demo_conn,
    ).set_index("asset_id")
    roads = prog.items[prog.items["asset_type"] == "road"]
    owner = owners.loc[roads["asset_id"]]
    assert owner["owner_agency"].isna().all()  # no DOH, DRR or other agency road
    lgo_roads = roads[(owner["kind"] != "pao").to_numpy()]
    assert len(lgo_roads) and lgo_roads["funding_note"].str.contains("PAO supports").all()
    others = prog.other_bodies
    assert {"doh", "drr", "lgo"} <= set(others["funding_body"])
    assert prog.summary()["other_bodies_items"] == len(others)


def test_coordination_totals_equal_the_programmes_of_every_body(demo_conn):
    from gis_registry import domain
    from gis_registry.analysis import coordination

    c = coordination.coordination(demo_conn, fiscal_year=2570, as_of=ON)
    bodies = c.by_funding_body.set_index("funding_body")
    total_items, total_thb = 0, 0.0
    for body in domain.FUNDING_BODIES:
        s = programme.work_programme(
            demo_conn,
            fiscal_year=2570,
            budget_thb=0,
            as_of=ON,
            criticality=False,
            funding_bodies=[body],
        ).summary()
        assert bodies.loc[body, "backlog_items"] == s["deferred_items"]  # budget 0: all
        assert bodies.loc[body, "backlog_thb"] == pytest.approx(s["backlog_thb"])
        total_items += s["deferred_items"]
        total_thb += s["backlog_thb"]
    summary = c.summary()
    assert summary["backlog_items"] == total_items
    assert summary["backlog_thb"] == pytest.approx(total_thb)
    programmed = _scalar(
        demo_conn,
        "SELECT sum(cost_thb) FROM maintenance_works WHERE fiscal_year = 2570 "
        "AND status <> 'cancelled' AND water_source_id IS NULL",
    )
    assert summary["programmed_thb"] == pytest.approx(float(programmed))
    assert c.by_local_body["programmed_thb"].sum() == pytest.approx(float(programmed))


def test_fiscal_years_at_the_boundary_and_in_buddhist_era(demo_conn):
    works = pd.read_sql(
        "SELECT planned_start, fiscal_year, cost_thb, status FROM maintenance_works", demo_conn
    )
    spent = works[works["status"].isin(["completed", "in_progress"])]
    expected = (
        spent.assign(fy=[fiscal_year(d) for d in spent["planned_start"]])
        .groupby("fy")["cost_thb"]
        .sum()
        .astype(float)
    )
    got = history.spending(demo_conn).set_index("fiscal_year")["cost_thb"]
    assert got.to_dict() == pytest.approx(expected.to_dict())
    assert all(2500 < fy < 2700 for fy in got.index)  # Buddhist Era, not CE
    # 30 September and 1 October fall in consecutive fiscal years
    assert fiscal_year(date(2026, 9, 30)) == 2569 and fiscal_year(date(2026, 10, 1)) == 2570
    prog = programme.work_programme(
        demo_conn, fiscal_year=2570, budget_thb=0, as_of=ON, criticality=False
    )
    assert (prog.starts, prog.ends) == (date(2026, 10, 1), date(2027, 9, 30))
    with pytest.raises(ValidationError):
        programme.work_programme(demo_conn, fiscal_year=2027, budget_thb=0)


def test_history_backlog_and_trend(demo_conn):
    log = history.backlog(demo_conn)
    assert (log["backlog_thb"] >= 0).all() and len(log) >= 2
    treatments = [c for c in log.columns if c.endswith("_thb") and c != "backlog_thb"]
    assert np.allclose(log[treatments].sum(axis=1), log["backlog_thb"], atol=1)
    trend = history.condition_trend(demo_conn)
    shares = trend[[f"share_{c}" for c in condition.CLASSES]].sum(axis=1)
    assert np.allclose(shares, 1.0)


def test_tables_of_villages_and_assets_name_their_lgo_in_thai_and_english(demo_conn):
    from gis_registry.analysis import reports

    uncovered = reports.water_coverage(demo_conn, distance_m=1000).table("uncovered")
    overdue = reports.overdue(demo_conn, as_of=date(2026, 10, 1)).table()
    for table in (uncovered, overdue):
        assert {"local_body_th", "local_body_en"} <= set(table.columns)
        named = table.dropna(subset=["local_body_en"])
        assert len(named) and named["local_body_th"].str.match(r"^[\u0e00-\u0e7f]").all()
