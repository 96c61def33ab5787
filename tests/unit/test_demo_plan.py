"""The demo generator in memory: determinism, shape of the province, and the planted weak
links, checked independently of the generator with networkx on the road frame."""

from __future__ import annotations

import re

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from gis_registry import domain
from gis_registry.db.tables import LAYERS
from gis_registry.demo import DemoPlan, plan_demo

THAI = re.compile(r"[\u0E00-\u0E7F]")
TO_M = Transformer.from_crs(4326, 32647, always_xy=True)


def metric(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(
        np.asarray(geoms), lambda c: np.column_stack(TO_M.transform(c[:, 0], c[:, 1]))
    )


@pytest.fixture(scope="module")
def plan() -> DemoPlan:
    return plan_demo(seed=52, scale=1)


def frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    for col in a.columns:
        x, y = np.asarray(a[col], dtype=object), np.asarray(b[col], dtype=object)
        if len(x) and isinstance(x[0], shapely.Geometry):
            if not (shapely.to_wkb(x) == shapely.to_wkb(y)).all():
                return False
        elif not a[col].equals(b[col]):
            return False
    return True


def test_same_seed_same_data_other_seed_other_data(plan):
    again = plan_demo(seed=52, scale=1)
    for layer in LAYERS:
        assert frames_equal(plan[layer], again[layer]), layer
    assert again.weak_links == plan.weak_links
    other = plan_demo(seed=7, scale=1)
    assert not frames_equal(plan["roads"], other["roads"])
    assert not frames_equal(plan["settlements"], other["settlements"])


def test_frames_follow_the_schema(plan):
    assert list(plan.frames) == list(LAYERS)
    for layer, table in LAYERS.items():
        cols = set(table.columns.keys())
        generated = {c.name for c in table.columns if c.computed is not None}
        frame_cols = set(plan[layer].columns)
        assert frame_cols <= cols - generated - {"created_at", "updated_at"}, layer
        if "geom" in frame_cols:
            assert plan[layer].crs.to_epsg() == 4326


def test_counts_are_in_range(plan):
    c = plan.counts
    assert c["districts"] == 13
    assert c["local_bodies"] == 103
    assert 850 <= c["settlements"] <= 1000
    assert 3000 <= c["roads"] <= 8000
    water = c["water_points"] + c["water_areas"] + c["water_lines"]  # by geometry (0008)
    assert 900 <= water <= 1100 and min(c["water_areas"], c["water_lines"]) > 0
    assert c["bridges"] >= 30
    assert c["inspections"] > 1000 and c["maintenance_works"] > 500
    kinds = plan["local_bodies"]["kind"].value_counts().to_dict()
    assert kinds == {
        "pao": 1,
        "city_municipality": 1,
        "town_municipality": 3,
        "subdistrict_municipality": 38,
        "sao": 60,
    }
    pop = plan["settlements"]["population"].sum()
    assert 700_000 <= pop <= 780_000


def test_local_bodies(plan):
    lb = plan["local_bodies"]
    pao = lb[lb["kind"] == "pao"].iloc[0]
    assert (pao["code"], pao["seq"], pao["id"]) == ("52", 1, 1)
    assert pao["name_th"] == "องค์การบริหารส่วนจังหวัดลำปาง"
    assert pao["boundary"].contains(pao["office"])
    assert lb["code"].is_unique and lb["seq"].is_unique
    assert sorted(lb["seq"]) == list(range(1, 104))
    assert lb["district_code"].iloc[1:].notna().all()
    for row in lb.itertuples():
        assert row.boundary.is_valid and row.boundary.geom_type == "MultiPolygon"
        assert row.boundary.contains(row.office), row.code
        assert THAI.search(row.name_th)
    d = plan["districts"]
    assert sorted(d["code"]) == [f"52{i:02d}" for i in range(1, 14)]
    assert all(b.contains(o) for b, o in zip(d["boundary"], d["office"], strict=True))


def test_lgos_tile_the_province(plan):
    lb = plan["local_bodies"]
    lgos = metric(lb.loc[lb["kind"] != "pao", "boundary"])
    province = metric([lb.loc[lb["kind"] == "pao", "boundary"].iloc[0]])[0]
    assert 12_000e6 < province.area < 13_000e6
    union = shapely.union_all(lgos)
    assert abs(union.area - province.area) / province.area < 1e-6
    assert shapely.symmetric_difference(union, province).area < 1e-6 * province.area
    i, j = shapely.STRtree(lgos).query(lgos, predicate="intersects")
    keep = i < j
    overlap = shapely.area(shapely.intersection(lgos[i[keep]], lgos[j[keep]]))
    assert overlap.sum() < 1.0  # square metres, over all pairs
    # districts are unions of their LGOs, roughly as large as the real ones
    d = plan["districts"]
    area = shapely.area(metric(d["boundary"])) / 1e6
    real = {"5201": 1156.6, "5205": 1815.3, "5209": 538.9}
    for code, km2 in real.items():
        got = area[d["code"].to_numpy() == code][0]
        assert 0.7 * km2 < got < 1.3 * km2


def test_villages_inside_their_lgo(plan):
    s, lb = plan["settlements"], plan["local_bodies"].set_index("id")
    assert (s["local_body_id"] != 1).all()
    bound = lb.loc[s["local_body_id"], "boundary"].to_numpy()
    assert shapely.contains(bound, s["geom"].to_numpy()).all()
    assert s["village_code"].is_unique
    # moo numbers run 1..n within each tambon (the village code's first six digits)
    moo = s.groupby(s["village_code"].str[:6])["moo"].agg(["min", "max", "count"])
    assert (moo["min"] == 1).all() and (moo["max"] == moo["count"]).all()
    assert (s["households"] <= s["population"]).all() and (s["households"] >= 1).all()
    ratio = s["population"].sum() / s["households"].sum()
    assert 2.8 <= ratio <= 3.2
    assert s["name_th"].map(lambda t: bool(THAI.search(t))).all()


def test_road_codes_and_attributes(plan):
    r = plan["roads"]
    problems = [
        domain.road_code_problem(c, code)
        for c, code in zip(r["road_class"], r["code"], strict=True)
    ]
    assert not [p for p in problems if p]
    assert set(r["surface"]) <= set(domain.SURFACES)
    nat = r[r["road_class"] == "national"]
    assert set(nat["code"]) == {"1", "11", "103", "1035", "1034"}
    assert (nat["owner_agency"] == "DOH").all() and nat["width_m"].between(7, 12).all()
    rural = r[r["road_class"] == "rural"]
    assert (rural["owner_agency"] == "DRR").all()
    local = r[r["road_class"] == "local"]
    assert local["owner_local_body_id"].notna().all() and local["owner_agency"].isna().all()
    pao = local[local["owner_local_body_id"] == 1]
    assert len(pao) > 50 and pao["code"].str.startswith("ลป.ถ. 1-").all()
    lgo = local[local["owner_local_body_id"] != 1]
    assert lgo["width_m"].between(4, 6).all()
    unpaved = lgo["surface"].isin(["laterite", "earth"]).mean()
    assert unpaved > pao["surface"].isin(["laterite", "earth"]).mean()
    seq = plan["local_bodies"].set_index("id")["seq"]
    expect = "ลป.ถ. " + seq.loc[lgo["owner_local_body_id"]].astype(str).to_numpy() + "-"
    assert all(c.startswith(e) for c, e in zip(lgo["code"], expect, strict=True))
    assert (r["layer"] == 0).all()


def _graph(plan: DemoPlan):
    r = plan["roads"]
    coords = shapely.get_coordinates(r["geom"].to_numpy()).reshape(-1, 2, 2)
    a = [tuple(p) for p in np.round(coords[:, 0], 7)]
    b = [tuple(p) for p in np.round(coords[:, -1], 7)]
    g = nx.MultiGraph()
    for rid, u, v in zip(r["id"], a, b, strict=True):
        g.add_edge(u, v, key=int(rid))
    nodes = list(g.nodes)
    xy = np.column_stack(TO_M.transform(*np.array(nodes).T))
    tree = cKDTree(xy)

    def attach(points) -> list:
        p = shapely.get_coordinates(np.asarray(points))
        _, k = tree.query(np.column_stack(TO_M.transform(p[:, 0], p[:, 1])))
        return [nodes[i] for i in k]

    return g, attach


def test_network_is_noded_and_connected(plan):
    g, _ = _graph(plan)
    assert nx.number_connected_components(g) == 1
    lines = metric(plan["roads"]["geom"])
    i, j = shapely.STRtree(lines).query(lines, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    ends = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    touch = shapely.intersection(lines[i], lines[j])
    # every meeting is at a shared end point
    shared = [
        any(np.allclose(p, q) for p in ends[a] for q in ends[b]) for a, b in zip(i, j, strict=True)
    ]
    assert all(shared)
    assert (shapely.get_type_id(touch) == 0).all()  # points, never overlapping lines


def test_every_village_and_office_reachable(plan):
    g, attach = _graph(plan)
    lb = plan["local_bodies"]
    pao = attach([lb.loc[lb["kind"] == "pao", "office"].iloc[0]])[0]
    reach = nx.node_connected_component(g, pao)
    assert all(n in reach for n in attach(plan["settlements"]["geom"]))
    assert all(n in reach for n in attach(lb["office"]))


def test_bridges_span_rivers(plan):
    b, r, rv = plan["bridges"], plan["roads"].set_index("id"), plan["rivers"].set_index("id")
    road = metric(r.loc[b["road_id"], "geom"])
    pts = metric(b["geom"])
    assert (shapely.distance(pts, road) < 1.0).all()
    assert (shapely.distance(pts, metric(rv.loc[b["river_id"], "geom"])) < 1.0).all()
    assert shapely.length(road).min() >= 10 - 1e-6 and shapely.length(road).max() <= 100 + 1e-6
    assert set(b["structure_type"]) <= set(domain.BRIDGE_STRUCTURES)
    # every road that crosses a river does it on a bridge segment
    lines = metric(plan["roads"]["geom"])
    rivers = metric(plan["rivers"]["geom"])
    i, _ = shapely.STRtree(rivers).query(lines, predicate="intersects")
    assert set(plan["roads"]["id"].to_numpy()[i]) == set(b["road_id"])
    hw = b["load_limit_t"][r.loc[b["road_id"], "road_class"].to_numpy() == "national"]
    assert (hw >= 25).all()


def test_weak_links_are_exactly_the_planted_ones(plan):
    """Close each bridge in turn: only the planted ones cut villages or offices off."""
    assert len(plan.weak_links) >= 3
    assert any(w.local_body_codes for w in plan.weak_links)
    g, attach = _graph(plan)
    s, lb = plan["settlements"], plan["local_bodies"]
    pao = attach([lb.loc[lb["kind"] == "pao", "office"].iloc[0]])[0]
    v_node = dict(zip(s["id"], attach(s["geom"]), strict=True))
    o_node = dict(zip(lb["code"], attach(lb["office"]), strict=True))
    roads = plan["roads"].set_index("id")
    ends = {
        rid: tuple(tuple(p) for p in np.round(shapely.get_coordinates(geom)[[0, -1]], 7))
        for rid, geom in zip(roads.index, roads["geom"], strict=True)
    }
    planted = {w.road_id: w for w in plan.weak_links}
    for bridge_id, road_id in zip(plan["bridges"]["id"], plan["bridges"]["road_id"], strict=True):
        u, v = ends[road_id]
        g.remove_edge(u, v, key=int(road_id))
        reach = nx.node_connected_component(g, pao)
        lost_v = sorted(i for i, n in v_node.items() if n not in reach)
        lost_o = sorted(c for c, n in o_node.items() if n not in reach)
        g.add_edge(u, v, key=int(road_id))
        if road_id in planted:
            w = planted.pop(road_id)
            assert w.bridge_id == bridge_id
            assert lost_v == w.settlement_ids and lost_v
            assert lost_o == w.local_body_codes
        else:
            assert not lost_v and not lost_o, f"bridge {bridge_id} is an unplanned weak link"
    assert not planted


def test_water_zoning_hazards(plan):
    w = plan["water_sources"]
    assert set(w["kind"]) == set(domain.WATER_SOURCE_KINDS)
    dams = w[w["name_en"].str.contains("Kiew")]
    assert sorted(dams["capacity_m3"]) == [112e6, 170e6]
    assert (dams["owner_agency"] == "RID").all()
    assert (w["owner_local_body_id"].isna() | w["owner_agency"].isna()).all()
    # some villages have no source within 1 km
    vil = metric(plan["settlements"]["geom"])
    near = shapely.STRtree(metric(w["geom"])).query(vil, predicate="dwithin", distance=1000.0)
    share_unserved = 1 - len(np.unique(near[0])) / len(vil)
    assert 0.05 < share_unserved < 0.4
    cats = plan["zoning_categories"]
    assert len(cats) == 15 and cats["fill"].str.match(r"^#[0-9A-Fa-f]{6}$").all()
    z = plan["zoning_zones"]
    assert set(z["category"]) <= set(cats["key"])
    for _, zones in z.groupby("plan_id"):
        geoms = metric(zones["geom"])
        i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        keep = i < j
        assert shapely.area(shapely.intersection(geoms[i[keep]], geoms[j[keep]])).sum() < 1.0
    h = plan["hazard_areas"]
    assert set(h["hazard_type"]) == {"flood", "landslide"}
    assert set(h["severity"]) == set(domain.SEVERITIES)


def test_works_and_inspections(plan):
    wk = plan["maintenance_works"]
    start = pd.to_datetime(wk["planned_start"])
    fy = start.dt.year + (start.dt.month >= 10) + 543
    assert (fy == wk["fiscal_year"]).all()
    assert set(wk["fiscal_year"]) == {2565, 2566, 2567, 2568, 2569, 2570}
    assert set(wk.loc[wk["fiscal_year"] == 2570, "status"]) <= {
        "planned",
        "approved",
        "in_progress",
    }
    past = wk[wk["fiscal_year"] < 2569]
    assert (past["status"] == "completed").mean() > 0.85
    assert wk.loc[wk["status"] == "completed", "actual_end"].notna().all()
    assert (wk[["road_id", "bridge_id", "water_source_id"]].notna().sum(axis=1) == 1).all()
    lgo = wk[wk["funding_body"] == "lgo"]
    assert lgo["funding_local_body_id"].notna().all() and (lgo["funding_local_body_id"] != 1).all()
    ins = plan["inspections"]
    assert set(ins["condition_scale"]) == {"iri_m_per_km", "score_1_5", "nbi_0_9"}
    for key, (lo, hi, _) in domain.CONDITION_SCALES.items():
        s = ins.loc[ins["condition_scale"] == key, "condition_score"]
        assert s.between(lo, hi).all()
    on = pd.to_datetime(ins["inspected_on"])
    assert on.min() >= pd.Timestamp("2021-10-01") and on.max() <= pd.Timestamp("2026-09-30")
    assert set(ins["method"]) <= set(domain.INSPECTION_METHODS)
    never = set(plan["roads"]["id"]) - set(ins["road_id"].dropna())
    assert never  # some roads were never inspected


def test_small_scale_works():
    small = plan_demo(seed=52, scale=0.2)
    assert small.counts["local_bodies"] == 103
    assert small.counts["settlements"] < 400
    assert len(small.weak_links) >= 3
