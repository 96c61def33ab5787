"""The demo province on the real map of Lampang (issue 14).

Checked against the real HDX COD-AB boundaries shipped in ``data/boundaries/lampang`` and the
published facts below (district offices and dams from the domain notes), never against what the
generator itself computed.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from gis_registry.chainage import format_chainage
from gis_registry.demo import DemoPlan, plan_demo

BOUNDARIES = Path(__file__).resolve().parents[2] / "data" / "boundaries" / "lampang"
TO_M = Transformer.from_crs(4326, 32647, always_xy=True)

# District offices (lat, lon) as published (../shared/domain/LAMPANG.md).
DISTRICT_OFFICES = {
    "5201": (18.2919, 99.5043),
    "5202": (18.2755, 99.6505),
    "5203": (18.1918, 99.3955),
    "5204": (18.0652, 99.2473),
    "5205": (18.7779, 99.9709),
    "5206": (18.7127, 99.5576),
    "5207": (19.1458, 99.6193),
    "5208": (17.6116, 99.2158),
    "5209": (17.4483, 99.1145),
    "5210": (18.1342, 99.5131),
    "5211": (17.8808, 99.3373),
    "5212": (18.3219, 99.3177),
    "5213": (18.7704, 99.4983),
}
# Towns each national highway runs through (district codes whose office it passes).
HIGHWAY_TOWNS = {
    "1": ["5208", "5211", "5203", "5205"],  # Thoen - Sop Prap - Ko Kha - (Lampang) - Ngao
    "11": ["5212"],  # Lampang - Hang Chat - (Chiang Mai)
    "103": ["5205"],  # Ngao - (Rong Kwang)
    "1035": ["5206", "5207"],  # Lampang - Chae Hom - Wang Nuea
    "1034": ["5203", "5212"],  # Ko Kha - Hang Chat
}
# The Wang's districts from north to south (LAMPANG.md).
WANG_DISTRICTS = ["5207", "5206", "5201", "5203", "5211", "5208"]
DAMS = {"Kiew Lom": ((18.522, 99.626), "5201"), "Kiew Kho Ma": ((18.80, 99.64), "5206")}


def metric(geoms) -> np.ndarray:
    return shapely.transform(
        np.asarray(geoms), lambda c: np.column_stack(TO_M.transform(c[:, 0], c[:, 1]))
    )


def point_m(lat: float, lon: float) -> shapely.Point:
    return shapely.Point(TO_M.transform(lon, lat))


@pytest.fixture(scope="module")
def plan() -> DemoPlan:
    return plan_demo(seed=52, scale=1)


@pytest.fixture(scope="module")
def real():
    read = {
        n: pyogrio.read_dataframe(BOUNDARIES / f"{n}.geojson")
        for n in ("province", "districts", "tambons")
    }
    return {
        "province": metric(read["province"].geometry)[0],
        "districts": dict(
            zip(
                read["districts"]["ADM2_PCODE"].str[2:],
                metric(read["districts"].geometry),
                strict=True,
            )
        ),
        "tambons": dict(
            zip(
                read["tambons"]["ADM3_PCODE"].str[2:], metric(read["tambons"].geometry), strict=True
            )
        ),
        "tambon_names": dict(
            zip(read["tambons"]["ADM3_PCODE"].str[2:], read["tambons"]["ADM3_TH"], strict=True)
        ),
    }


def test_province_and_districts_are_the_real_ones(plan, real):
    lb = plan["local_bodies"]
    pao = metric([lb.loc[lb["kind"] == "pao", "boundary"].iloc[0]])[0]
    province = real["province"]
    assert shapely.symmetric_difference(pao, province).area < 1e-6 * province.area
    d = plan["districts"]
    for code, boundary in zip(d["code"], metric(d["boundary"]), strict=True):
        want = real["districts"][code]
        assert shapely.symmetric_difference(boundary, want).area < 1e-6 * want.area, code


def test_lgo_areas_tile_the_real_province(plan, real):
    lb = plan["local_bodies"]
    lgos = metric(lb.loc[lb["kind"] != "pao", "boundary"])
    province = real["province"]
    union = shapely.union_all(lgos)
    gap = shapely.difference(province, union).area
    i, j = shapely.STRtree(lgos).query(lgos, predicate="intersects")
    keep = i < j
    overlap = shapely.area(shapely.intersection(lgos[i[keep]], lgos[j[keep]])).sum()
    assert gap < 1e-3 * province.area and overlap < 1e-3 * province.area
    assert union.difference(province).area < 1e-3 * province.area


def test_every_lgo_lies_in_its_real_tambon(plan, real):
    lb = plan["local_bodies"]
    lgos = lb[lb["kind"] != "pao"]
    assert lgos["tambon_code"].str.fullmatch(r"\d{6}").all()
    assert (lgos["tambon_code"].str[:4] == lgos["district_code"]).all()
    for row in lgos.itertuples():
        tambon = real["tambons"][row.tambon_code]
        office = metric([row.office])[0]
        assert tambon.contains(office), f"{row.code}: office outside tambon {row.tambon_code}"
        assert metric([row.boundary])[0].contains(office), row.code
        area = metric([row.boundary])[0]
        if row.kind != "city_municipality":  # the city spans its four tambons
            assert area.difference(tambon).area < 1e-5 * area.area, row.code
        # an SAO bears its tambon's name
        if row.kind == "sao":
            assert row.name_th.endswith(real["tambon_names"][row.tambon_code]), row.code
    # every real tambon is governed by some LGO
    covered = shapely.union_all(metric(lgos["boundary"]))
    for code, tambon in real["tambons"].items():
        # 1 cm snapping of the vertices (the demo draws in metres) is all that differs
        assert tambon.difference(covered).area < 1e-5 * tambon.area, code


def test_codes_do_not_lie(plan, real):
    lb = plan["local_bodies"]
    lgos = lb[lb["kind"] != "pao"]
    dopa = set(real["tambons"])
    for row in lgos.itertuples():
        # an LGO code may only ever equal the DOPA code of its own tambon (ours never do)
        assert row.code not in dopa - {row.tambon_code}, row.code
    assert lgos["code"].str.fullmatch(r"[2-5]\d{6}").all()
    assert (lgos["code"].str[1:] == lgos["tambon_code"]).all()


def test_villages_inside_the_province_their_lgo_and_tambon(plan, real):
    s, lb = plan["settlements"], plan["local_bodies"].set_index("id")
    points = metric(s["geom"])
    inside = shapely.contains(real["province"], points)
    assert inside.mean() >= 0.99 and inside.all()
    assert shapely.contains(metric(lb.loc[s["local_body_id"], "boundary"]), points).all()
    tambons = np.array([real["tambons"][c[:6]] for c in s["village_code"]])
    assert shapely.contains(tambons, points).all()


def test_district_offices_at_their_real_coordinates(plan):
    d = plan["districts"].set_index("code")
    for code, (lat, lon) in DISTRICT_OFFICES.items():
        office = d.at[code, "office"]
        assert math.isclose(office.y, lat, abs_tol=1e-6) and math.isclose(
            office.x, lon, abs_tol=1e-6
        )


def test_highways_stay_inside_along_their_real_corridors(plan, real):
    roads = plan["roads"]
    border_zone = real["province"].exterior.buffer(1000.0)
    for code, towns in HIGHWAY_TOWNS.items():
        line = shapely.union_all(metric(roads.loc[roads["code"] == code, "geom"]))
        assert line.length > 10_000.0, code
        # outside the province only within 1 km of its border (where the real road leaves)
        assert line.difference(real["province"]).difference(border_zone).length < 1.0, code
        for town in towns:
            office = point_m(*DISTRICT_OFFICES[town])
            assert line.distance(office) < 2_500.0, f"highway {code} misses district {town}"


def test_the_wang_runs_through_its_real_districts(plan, real):
    rivers = plan["rivers"]
    wang = metric(rivers.loc[rivers["name_en"] == "Wang River", "geom"])[0]
    assert wang.difference(real["province"].buffer(1.0)).length < 1.0
    samples = shapely.line_interpolate_point(wang, np.arange(0.0, wang.length, 500.0))
    order = []
    for p in samples:
        hit = next((c for c, g in real["districts"].items() if g.contains(p)), None)
        if hit and (not order or order[-1] != hit):
            order.append(hit)
    it = iter(order)
    assert all(code in it for code in WANG_DISTRICTS), order  # in this order, others between
    for geom in metric(rivers["geom"]):
        assert geom.difference(real["province"].buffer(1.0)).length < 1.0


def test_dams_at_their_real_positions(plan, real):
    w = plan["water_sources"]
    for name, ((lat, lon), district) in DAMS.items():
        lake = metric(w.loc[w["name_en"].str.contains(name), "geom"])[0]
        assert lake.distance(point_m(lat, lon)) < 500.0, name
        assert real["districts"][district].contains(point_m(lat, lon)), name  # the dam wall


def test_no_zone_is_a_circle(plan):
    for code, geom in zip(
        plan["zoning_zones"]["code"], metric(plan["zoning_zones"]["geom"]), strict=True
    ):
        for part in shapely.get_parts(geom):
            if part.area >= 5e4:  # 5 ha
                ratio = 4 * math.pi * part.area / part.length**2
                assert ratio <= 0.9, f"{code} is a circle ({ratio:.2f})"


def test_chainage_along_registered_roads(plan):
    roads, bridges = plan["roads"], plan["bridges"]
    hw1 = roads[roads["code"] == "1"]
    assert hw1[["chainage_start_m", "chainage_end_m"]].notna().all().all()
    # consecutive segments meet at the same chainage; the route runs south to north
    ends = dict(zip(hw1["chainage_end_m"].round(1), hw1["segment"], strict=True))
    assert sum(round(c, 1) in ends for c in hw1["chainage_start_m"]) >= len(hw1) - 2
    south = hw1.loc[hw1["chainage_start_m"].idxmin(), "geom"].centroid.y
    north = hw1.loc[hw1["chainage_start_m"].idxmax(), "geom"].centroid.y
    assert south < north
    on = bridges.merge(
        roads[["id", "chainage_start_m", "chainage_end_m"]], left_on="road_id", right_on="id"
    )
    low = on[["chainage_start_m", "chainage_end_m"]].min(axis=1)
    high = on[["chainage_start_m", "chainage_end_m"]].max(axis=1)
    known = on["chainage_m"].notna()
    assert known.mean() > 0.8
    assert ((on["chainage_m"] >= low - 0.1) & (on["chainage_m"] <= high + 0.1))[known].all()
    assert format_chainage(688_210.0) == "กม. 688+210"


def test_exactly_the_three_planted_weak_links(plan):
    assert len(plan.weak_links) == 3
    assert sum(bool(w.local_body_codes) for w in plan.weak_links) >= 1
