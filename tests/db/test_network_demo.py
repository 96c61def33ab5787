"""Road network analyses on the scale-1 demo province (seed 52) and its planted weak links."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from gis_registry.network.connectivity import components, node_components
from gis_registry.network.criticality import criticality
from gis_registry.network.model import load_network
from gis_registry.network.restrictions import Restrictions
from gis_registry.network.routing import matrix, route

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def demo(demo_engine):
    """The network and the criticality of the demo province, computed once for the module."""
    with demo_engine.connect() as conn:
        net = load_network(conn)
        crit = criticality(conn, network=net)
    return net, crit


def brute_force_cut(net, edges: np.ndarray) -> tuple[set, set]:
    """(villages, LGO codes) disconnected from the PAO office when ``edges`` close."""
    closed = np.zeros(net.topo.n_edges, dtype=bool)
    closed[edges] = True
    _, label = node_components(net, closed)
    p = net.places
    root = label[p.node[p.pao]]
    cut = [i for i in range(len(p)) if p.kind[i] in ("lgo", "village") and label[p.node[i]] != root]
    return (
        {int(p.ids[i]) for i in cut if p.kind[i] == "village"},
        {p.key[i] for i in cut if p.kind[i] == "lgo"},
    )


def item_edges(net, kind: str, item_id: int) -> np.ndarray:
    if kind == "bridge":
        return net.bridge_edge[net.bridge_rows([item_id])]
    return net.topo.edges_of_roads(net.road_rows([item_id]))


def test_planted_weak_links_are_found(demo, demo_engine):
    net, crit = demo
    weak = demo_engine.demo_report.weak_links
    assert weak, "the demo plants weak links"
    by = {(i.kind, i.id): i for i in crit.items}
    for link in weak:
        for kind, item_id in (("bridge", link.bridge_id), ("road", link.road_id)):
            item = by[(kind, item_id)]
            assert item.critical
            assert set(item.cut_off_villages) == set(link.settlement_ids), (kind, item_id)
            assert set(item.cut_off_lgos) == set(link.local_body_codes), (kind, item_id)
    # every bridge called critical is a planted weak link: the rest have a way round
    critical_bridges = {i.id for i in crit.critical if i.kind == "bridge"}
    assert critical_bridges == {link.bridge_id for link in weak}


def test_nothing_is_called_critical_that_is_not(demo):
    net, crit = demo
    for item in crit.critical:
        villages, lgos = brute_force_cut(net, item_edges(net, item.kind, item.id))
        assert set(item.cut_off_villages) == villages, (item.kind, item.id)
        assert set(item.cut_off_lgos) == lgos, (item.kind, item.id)
    # and the items not called critical cut nobody off (every bridge, a sample of roads)
    critical = {(i.kind, i.id) for i in crit.critical}
    rng = np.random.default_rng(0)
    roads = rng.choice(net.roads.ids, 200, replace=False)
    candidates = [("bridge", int(b)) for b in net.bridges.ids] + [("road", int(r)) for r in roads]
    for kind, item_id in candidates:
        if (kind, item_id) not in critical:
            assert brute_force_cut(net, item_edges(net, kind, item_id)) == (set(), set())


def test_criticality_delays_match_rerouting(demo, demo_conn):
    net, crit = demo
    delayed = [i for i in crit.items if i.kind == "bridge" and i.delayed]
    assert delayed, "some bridge closures slow somebody down"
    item = max(delayed, key=lambda i: len(i.delayed))
    lgo = next((p for p in item.delayed if p["kind"] == "lgo" and p["after_s"]), None)
    if lgo is None:
        pytest.skip("no LGO office delayed by a bridge closure in this demo")
    pao = net.places.key[net.places.pao]
    after = route(
        demo_conn,
        pao,
        lgo["code"],
        network=net,
        restrictions=Restrictions(closed_bridges=[item.id]),
    )
    before = route(demo_conn, pao, lgo["code"], network=net)
    assert after.time_s == pytest.approx(lgo["after_s"], rel=1e-9)
    assert before.time_s == pytest.approx(lgo["before_s"], rel=1e-9)


def test_routes_equal_pgr_dijkstra_on_the_demo(demo, demo_conn):
    net, _ = demo
    conn = demo_conn
    conn.execute(
        text(
            "CREATE TEMP TABLE demo_edges (id bigint, source bigint, target bigint, cost float8, "
            "reverse_cost float8) ON COMMIT DROP"
        )
    )
    conn.execute(
        text(
            "INSERT INTO demo_edges SELECT * FROM unnest(CAST(:i AS bigint[]), "
            "CAST(:s AS bigint[]), CAST(:t AS bigint[]), CAST(:c AS float8[]), "
            "CAST(:r AS float8[]))"
        ),
        {
            "i": list(range(1, net.topo.n_edges + 1)),
            "s": (net.topo.source + 1).tolist(),
            "t": (net.topo.target + 1).tolist(),
            "c": net.time_s.tolist(),
            "r": np.where(net.edge_oneway, -1.0, net.time_s).tolist(),
        },
    )
    p = net.places
    lgos = [i for i in range(len(p)) if p.kind[i] == "lgo"]
    rng = np.random.default_rng(52)
    for a, b in rng.choice(lgos, (12, 2), replace=False):
        ours = route(conn, p.key[a], p.key[b], network=net)
        theirs = conn.execute(
            text(
                "SELECT max(agg_cost) FROM pgr_dijkstra('SELECT * FROM demo_edges', "
                "CAST(:a AS bigint), CAST(:b AS bigint), true)"
            ),
            {"a": int(p.node[a]) + 1, "b": int(p.node[b]) + 1},
        ).scalar()
        assert abs(ours.time_s - theirs) <= 1e-9 * theirs, (p.key[a], p.key[b])


def test_demo_route_matrix_and_components(demo, demo_conn):
    net, _ = demo
    p = net.places
    pao = p.key[p.pao]
    lgo = next(p.key[i] for i in range(len(p)) if p.kind[i] == "lgo" and i != p.pao)
    r = route(demo_conn, pao, lgo, network=net).to_dict()
    assert r["length_m"] > 0 and r["segments"] and r["geometry"]["type"] == "LineString"
    assert any(s["name_th"] for s in r["segments"])
    m = matrix(demo_conn, network=net)
    assert len(m.codes) == 103
    assert m.unreachable_from_pao == []
    i, j = m.codes.index(pao), m.codes.index(lgo)
    assert m.time_s[i][j] == pytest.approx(r["time_s"], rel=1e-9)
    assert m.length_m[i][j] == pytest.approx(r["length_m"], rel=1e-9)
    c = components(demo_conn, network=net)
    assert c.cut_off == []
