"""Road network analyses on a small hand-built province (real PostGIS + pgRouting).

    C (0,1000) <-- r3 (one-way west) -- (1000,1000) --r5 [b1]-- B (2000,1000) --r6 [b3]-- v3
        |                                    |
        r4                                r2 [b2]
        |                                    |
    PAO (0,0) ------ r1 (vertex at 500,0) -- A (1000,0)
                        |
    r7 on layer 1 passes over r1 at (500,0), sharing the vertex: no junction.
    v4 at its south end (500,-500) is not connected.

Flood area 1 covers the middle of r5.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
import shapely
from sqlalchemy import text

from gis_registry.db import tables as t
from gis_registry.errors import GisRegistryError, NotFound, ValidationError
from gis_registry.network.connectivity import components
from gis_registry.network.criticality import criticality
from gis_registry.network.model import NetworkConfig, load_network
from gis_registry.network.restrictions import Restrictions
from gis_registry.network.routing import Unreachable, matrix, route
from tests.fixtures.sketch import line, point, pt, square

pytestmark = pytest.mark.db


@pytest.fixture()
def province(conn):
    return build_province(conn)


def build_province(conn) -> dict:
    """Insert the hand-built province; return its ids."""
    conn.execute(
        t.districts.insert().values(
            code="5201",
            name_th="เมืองลำปาง",
            name_en="Mueang Lampang",
            office=point(-20, 1010),
        )
    )
    lgos = {
        "PAO": ("pao", None, (5, -8), "องค์การบริหารส่วนจังหวัดลำปาง"),
        "A": ("sao", "5201", (1010, 5), "อบต.เอ"),
        "B": ("sao", "5201", (2005, 1010), "อบต.บี"),
        "C": ("subdistrict_municipality", "5201", (10, 990), "เทศบาลตำบลซี"),
    }
    ids = {}
    for code, (kind, district, office, name) in lgos.items():
        ids[code] = conn.execute(
            t.local_bodies.insert()
            .values(
                code=code,
                kind=kind,
                district_code=district,
                name_th=name,
                name_en=f"LGO {code}",
                boundary=square(-3000, -3000, 5000, 3000),
                office=point(*office),
            )
            .returning(t.local_bodies.c.id)
        ).scalar_one()
    villages = {
        "v1": ("A", (990, -15), 500),
        "v2": ("B", (1995, 990), 300),
        "v3": ("B", (3000, 1012), 200),
        "v4": ("C", (500, -505), 100),
    }
    for name, (lgo, xy, pop) in villages.items():
        ids[name] = conn.execute(
            t.settlements.insert()
            .values(
                name_th=f"บ้าน {name}",
                name_en=name,
                local_body_id=ids[lgo],
                population=pop,
                households=pop // 4,
                geom=point(*xy),
            )
            .returning(t.settlements.c.id)
        ).scalar_one()
    roads = {
        "r1": ("national", "1035", "asphalt", False, 0, [(0, 0), (500, 0), (1000, 0)]),
        "r2": ("local", "ลป.ถ. 1-0002", "concrete", False, 0, [(1000, 0), (1000, 1000)]),
        "r3": ("local", "ลป.ถ. 1-0003", "asphalt", True, 0, [(1000, 1000), (0, 1000)]),
        "r4": ("local", "ลป.ถ. 1-0004", "laterite", False, 0, [(0, 1000), (0, 0)]),
        "r5": ("local", "ลป.ถ. 1-0005", "asphalt", False, 0, [(1000, 1000), (2000, 1000)]),
        "r6": ("unregistered", None, "earth", False, 0, [(2000, 1000), (3000, 1000)]),
        "r7": ("rural", "ลป.4007", "asphalt", False, 1, [(500, -500), (500, 0), (500, 500)]),
    }
    for name, (cls, code, surface, oneway, layer, xy) in roads.items():
        ids[name] = conn.execute(
            t.roads.insert()
            .values(
                code=code,
                name_th=f"ถนน {name}",
                name_en=f"Road {name}",
                road_class=cls,
                owner_local_body_id=ids["PAO"] if cls == "local" else None,
                owner_agency="DOH" if cls == "national" else None,
                surface=surface,
                oneway=oneway,
                layer=layer,
                geom=line(*xy),
            )
            .returning(t.roads.c.id)
        ).scalar_one()
    bridges = {
        "b1": ("r5", (1500, 1000), 20.0),
        "b2": ("r2", (1000, 500), 30.0),
        "b3": ("r6", (2500, 1000), 5.0),
    }
    for name, (road, xy, limit) in bridges.items():
        ids[name] = conn.execute(
            t.bridges.insert()
            .values(
                road_id=ids[road],
                name_th=f"สะพาน {name}",
                name_en=f"Bridge {name}",
                structure_type="girder",
                material="reinforced_concrete",
                length_m=30,
                load_limit_t=limit,
                geom=point(*xy),
            )
            .returning(t.bridges.c.id)
        ).scalar_one()
    for day, score in ((date(2024, 1, 5), 3), (date(2025, 2, 1), 4)):
        conn.execute(
            t.inspections.insert().values(
                road_id=ids["r1"],
                inspected_on=day,
                condition_score=score,
                condition_scale="score_1_5",
            )
        )
    ids["flood"] = conn.execute(
        t.hazard_areas.insert()
        .values(
            name_th="น้ำท่วม",
            name_en="flood",
            hazard_type="flood",
            severity="high",
            geom=square(1400, 900, 1600, 1100),
        )
        .returning(t.hazard_areas.c.id)
    ).scalar_one()
    return ids


def kmh(cls, surface):
    return NetworkConfig().speeds.kmh(cls, surface) / 3.6


def test_network_is_noded_with_layers_and_attached(conn, province):
    net = load_network(conn)
    assert net.topo.n_edges == 7  # r1 is not split where r7 passes over it
    pao = net.places.row("lgo", "PAO")
    assert net.places.attach_m[pao] == pytest.approx(9.4, abs=0.5)
    # the bridges lie on the edges of their roads
    b1 = net.bridges.ids.tolist().index(province["b1"])
    assert net.roads.ids[net.topo.road[net.bridge_edge[b1]]] == province["r5"]


def test_network_is_cached_until_roads_change(conn, province):
    first = load_network(conn)
    assert load_network(conn) is first
    conn.execute(t.roads.update().where(t.roads.c.id == province["r4"]).values(surface="asphalt"))
    assert load_network(conn) is not first


def test_route_between_lgos_reports_segments_bridges_and_geometry(conn, province):
    r = route(conn, "PAO", "B")
    # PAO -> r1 -> r2 (over b2) -> r5 (over b1): r4 + r3 would be shorter but r3 is one-way west
    assert [s["road_id"] for s in r.segments] == [province[k] for k in ("r1", "r2", "r5")]
    assert [b["bridge_id"] for b in r.bridges] == [province["b2"], province["b1"]]
    assert r.bridges[1]["load_limit_t"] == 20.0
    seg = r.segments[0]
    assert seg["owner"] == {"kind": "agency", "code": "DOH"}
    assert seg["condition"]["score"] == 4.0 and seg["condition"]["inspected_on"] == "2025-02-01"
    assert r.segments[1]["owner"]["code"] == "PAO"
    assert r.segments[1]["name_th"] == "ถนน r2"
    assert r.length_m == pytest.approx(sum(s["length_m"] for s in r.segments), abs=0.01)
    expected_time = sum(s["length_m"] / kmh(s["road_class"], s["surface"]) for s in r.segments)
    assert r.time_s == pytest.approx(expected_time, rel=1e-5)
    coords = r.geometry["coordinates"]
    assert r.geometry["type"] == "LineString"
    assert coords[0] == pytest.approx(list(pt(0, 0)), abs=1e-6)
    assert coords[-1] == pytest.approx(list(pt(2000, 1000)), abs=1e-6)
    # r3 is one-way westbound: B to C takes it, C to B goes round the loop
    west = route(conn, "B", "C")
    assert [s["road_id"] for s in west.segments] == [province[k] for k in ("r5", "r3")]
    east = route(conn, "C", "B")
    assert [s["road_id"] for s in east.segments] == [province[k] for k in ("r4", "r1", "r2", "r5")]
    data = json.loads(json.dumps(r.to_dict(), ensure_ascii=False))
    assert {"length_m", "time_s", "geometry", "segments", "bridges"} <= set(data)


def test_route_by_distance_and_from_villages_and_points(conn, province):
    r = route(conn, f"village:{province['v1']}", province["v2"], by="distance")
    assert route(conn, str(province["v1"]), "B").origin["id"] == province["v1"]
    assert r.origin["kind"] == "village" and r.origin["attach_m"] > 0
    p = route(conn, "{},{}".format(*pt(0, 600)), (pt(1000, 1000)), by="distance")
    assert p.origin["kind"] == "point"
    assert p.length_m == pytest.approx(route(conn, "C", "B").length_m - 1000, rel=0.01)


def test_route_errors(conn, province):
    with pytest.raises(NotFound, match="no local body with code 'ZZ'"):
        route(conn, "ZZ", "B")
    with pytest.raises(NotFound, match="no village with id '999999'"):
        route(conn, "village:999999", "B")
    with pytest.raises(ValidationError, match="outside the province"):
        route(conn, "PAO", "100.9,13.7")
    with pytest.raises(Unreachable, match="no route from PAO to village"):
        route(conn, "PAO", f"village:{province['v4']}")
    with pytest.raises(Unreachable):
        route(conn, "PAO", "B", restrictions=Restrictions(closed_bridges=[province["b1"]]))
    with pytest.raises(NotFound, match="no bridge with id 424242"):
        route(conn, "PAO", "B", restrictions=Restrictions(closed_bridges=[424242]))
    with pytest.raises(NotFound, match="no hazard area"):
        route(conn, "PAO", "B", restrictions=Restrictions(hazard_ids=[424242]))
    assert issubclass(Unreachable, GisRegistryError)


def test_restrictions_reroute_or_cut(conn, province):
    v3 = f"village:{province['v3']}"
    assert route(conn, "PAO", v3).bridges[-1]["bridge_id"] == province["b3"]
    with pytest.raises(Unreachable):
        route(conn, "PAO", v3, restrictions=Restrictions(vehicle_tonnes=10))
    with pytest.raises(Unreachable):
        route(conn, "PAO", "B", restrictions=Restrictions(hazard_ids=[province["flood"]]))
    with pytest.raises(Unreachable):  # r6 is earth
        route(conn, "PAO", v3, restrictions=Restrictions(all_weather=True))
    # with r2 closed the PAO reaches C (and no further east, r3 being one-way west)
    r = route(conn, "PAO", "C", restrictions=Restrictions(closed_roads=[province["r2"]]))
    assert [s["road_id"] for s in r.segments] == [province["r4"]]
    with pytest.raises(Unreachable):
        route(conn, "PAO", "B", restrictions=Restrictions(closed_roads=[province["r2"]]))
    polygon = shapely.box(*pt(900, 400), *pt(1100, 600))
    with pytest.raises(Unreachable):
        route(conn, "PAO", "B", restrictions=Restrictions(polygons=[polygon]))


@pytest.mark.parametrize("by", ["time", "distance"])
def test_route_costs_equal_pgr_dijkstra(conn, province, by):
    net = load_network(conn)
    _edge_table(conn, net, net.time_s if by == "time" else net.topo.length_m)
    codes = ["PAO", "A", "B", "C", f"village:{province['v3']}"]
    for a in codes:
        for b in codes:
            if a == b:
                continue
            ours = route(conn, a, b, network=net, by=by)
            na = net.places.node[net.places.row(*_kind_key(a))] + 1
            nb = net.places.node[net.places.row(*_kind_key(b))] + 1
            theirs = _pgr_cost(conn, int(na), int(nb))
            cost = ours.time_s if by == "time" else ours.length_m
            assert abs(cost - theirs) <= 1e-9 * theirs, (a, b)


def _kind_key(code: str) -> tuple[str, str]:
    return ("village", code.split(":")[1]) if code.startswith("village:") else ("lgo", code)


def _edge_table(conn, net, cost) -> None:
    conn.execute(
        text(
            "CREATE TEMP TABLE net_edges (id bigint, source bigint, target bigint, cost float8, "
            "reverse_cost float8) ON COMMIT DROP"
        )
    )
    conn.execute(
        text(
            "INSERT INTO net_edges SELECT * FROM unnest(CAST(:i AS bigint[]), "
            "CAST(:s AS bigint[]), CAST(:t AS bigint[]), CAST(:c AS float8[]), "
            "CAST(:r AS float8[]))"
        ),
        {
            "i": list(range(1, net.topo.n_edges + 1)),
            "s": (net.topo.source + 1).tolist(),
            "t": (net.topo.target + 1).tolist(),
            "c": cost.tolist(),
            "r": np.where(net.edge_oneway, -1.0, cost).tolist(),
        },
    )


def _pgr_cost(conn, a: int, b: int) -> float:
    return conn.execute(
        text(
            "SELECT max(agg_cost) FROM pgr_dijkstra("
            "'SELECT id, source, target, cost, reverse_cost FROM net_edges', "
            "CAST(:a AS bigint), CAST(:b AS bigint), true)"
        ),
        {"a": a, "b": b},
    ).scalar()


def test_matrix_among_lgos(conn, province):
    m = matrix(conn)
    assert m.codes == ["PAO", "A", "B", "C"]
    i, j = m.codes.index("PAO"), m.codes.index("B")
    assert m.time_s[i][j] == pytest.approx(route(conn, "PAO", "B").time_s, rel=1e-9)
    assert m.length_m[i][j] == pytest.approx(route(conn, "PAO", "B").length_m, rel=1e-9)
    assert m.time_s[i][i] == 0
    assert m.unreachable_from_pao == []
    cut = matrix(
        conn, codes=["PAO", "B"], restrictions=Restrictions(closed_bridges=[province["b1"]])
    )
    assert cut.time_s[0][1] is None and cut.unreachable_from_pao == ["B"]
    with pytest.raises(NotFound):
        matrix(conn, codes=["PAO", "nope"])


def test_components_lists_places_cut_off(conn, province):
    c = components(conn)
    assert [p["id"] for p in c.cut_off] == [province["v4"]]
    assert c.cut_off_population == 100
    assert c.components[0]["has_pao"] and c.components[0]["lgos"] == 4
    flooded = components(conn, restrictions=Restrictions(hazard_ids=[province["flood"]]))
    cut = {p.get("code") or p["id"] for p in flooded.cut_off}
    assert cut == {"B", province["v2"], province["v3"], province["v4"]}
    one_way = components(conn, restrictions=Restrictions(closed_roads=[province["r2"]]))
    assert {p.get("code") or p["id"] for p in one_way.one_way_unreachable} == {
        "B",
        province["v2"],
        province["v3"],
    }


def test_criticality_finds_exact_cut_sets_and_delays(conn, province):
    crit = criticality(conn)
    by = {(i.kind, i.id): i for i in crit.items}
    b1 = by[("bridge", province["b1"])]
    assert b1.critical
    assert set(b1.cut_off_lgos) == {"B"}
    assert set(b1.cut_off_villages) == {province["v2"], province["v3"]}
    assert b1.cut_off_population == 500
    assert {p.get("code") or p["id"] for p in b1.lost_district_office} == {
        "B",
        province["v2"],
        province["v3"],
    }
    assert b1.name_en == "Bridge b1"
    assert by[("road", province["r5"])].cut_off_population == 500
    assert by[("bridge", province["b3"])].cut_off_villages == [province["v3"]]
    assert crit.items[0].cut_off_population == 500  # ranked by population cut off
    # the loop is not critical, but closing r2 (bridge b2) forces ... nothing: r3 is one-way
    b2 = by.get(("bridge", province["b2"]))
    assert b2 is not None and not b2.critical
    assert {p.get("code") for p in b2.delayed} >= {"B"}
    assert all(p["after_s"] is None for p in b2.delayed if p.get("code") == "B")
    # closing r4 delays C (which is then reached round the loop)
    r4 = by[("road", province["r4"])]
    c = next(p for p in r4.delayed if p.get("code") == "C")
    assert c["increase_s"] > 0
    assert c["after_s"] == pytest.approx(
        route(conn, "PAO", "C", restrictions=Restrictions(closed_roads=[province["r4"]])).time_s,
        rel=1e-9,
    )
    critical = {(i.kind, i.id) for i in crit.critical}
    assert critical == {
        ("bridge", province["b1"]),
        ("bridge", province["b3"]),
        ("road", province["r5"]),
        ("road", province["r6"]),
    }
    assert [p["id"] for p in crit.baseline_cut_off] == [province["v4"]]


def test_criticality_under_a_flood(conn, province):
    crit = criticality(conn, restrictions=Restrictions(hazard_ids=[province["flood"]]))
    assert not any(i.id == province["b1"] and i.kind == "bridge" for i in crit.items)
    # with r5 flooded, the loop's edges now carry nothing east: r6 cuts v3 only from B
    assert {p.get("code") or p["id"] for p in crit.baseline_cut_off} >= {"B", province["v2"]}


def test_empty_registry_gives_clear_errors(conn):
    with pytest.raises(NotFound):
        route(conn, "PAO", "B")
    with pytest.raises(GisRegistryError, match="no PAO office"):
        components(conn)
    with pytest.raises(GisRegistryError, match="no PAO office"):
        criticality(conn)
    assert matrix(conn).codes == []


def test_disk_cache_survives_processes_and_notices_changes(conn, province, tmp_path):
    from gis_registry.network.model import NetworkCache

    built = load_network(conn, cache=NetworkCache(directory=tmp_path))
    again = load_network(conn, cache=NetworkCache(directory=tmp_path))  # a new process, say
    assert again is not built and again.stamp == built.stamp
    assert route(conn, "PAO", "B", network=again).time_s == route(conn, "PAO", "B").time_s
    conn.execute(t.bridges.update().where(t.bridges.c.id == province["b1"]).values(load_limit_t=3))
    fresh = load_network(conn, cache=NetworkCache(directory=tmp_path))
    assert fresh.stamp != built.stamp
    assert len(list(tmp_path.glob("network-*.snapshot"))) == 1  # replaced, not accumulated
    # the arrays of a loaded network are views of the mapped file, not copies
    loaded = load_network(conn, cache=NetworkCache(directory=tmp_path))
    assert loaded is not fresh and not loaded.topo.length_m.flags.owndata
    h = loaded.hierarchy("time")
    assert not h.fwd_head.flags.owndata and h.fwd_head.flags.writeable


def test_a_restarted_process_loads_the_snapshot_instead_of_building(
    conn, province, tmp_path, monkeypatch
):
    """What the API and the CLI do (``keep_snapshots_in`` the registry home): after a restart
    (the memory cache empty), the network comes from the snapshot, not from a build."""
    from gis_registry.network import model

    monkeypatch.setattr(model.DEFAULT_CACHE, "directory", tmp_path)
    model.DEFAULT_CACHE.clear()
    expected = route(conn, "PAO", "B").time_s  # built and saved
    model.DEFAULT_CACHE.clear()  # a new process

    def no_build(*args, **kwargs):
        raise AssertionError("rebuilt although a current snapshot exists")

    monkeypatch.setattr(model, "build_network", no_build)
    assert route(conn, "PAO", "B").time_s == expected
    model.DEFAULT_CACHE.clear()


def test_the_api_keeps_network_snapshots_under_the_registry_home(tmp_path, monkeypatch):
    from api.app import create_app
    from gis_registry.network import model
    from gis_registry.server import database_url
    from gis_registry.settings import Settings

    monkeypatch.setattr(model.DEFAULT_CACHE, "directory", None)
    settings = Settings(home=tmp_path, database_url=database_url(Settings()))
    create_app(registry_settings=settings)
    assert model.DEFAULT_CACHE.directory == tmp_path.resolve() / "network-cache"
