"""Routing graphs and cut forests against brute force on random multigraphs (no database)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse import csgraph

from gis_registry.network.cuts import cut_forest, independent
from gis_registry.network.graph import build_routing_graph


def random_graph(rng: np.random.Generator, n: int, extra: int):
    """A connected-ish multigraph: a random tree, long degree-2 chains, extra random edges."""
    src, dst = [], []
    for v in range(1, n):
        src.append(int(rng.integers(0, v)))
        dst.append(v)
    for _ in range(extra):
        a, b = rng.integers(0, n, 2)
        if a != b:
            src.append(int(a))
            dst.append(int(b))
    # subdivide some edges into chains of degree-2 nodes
    s2, d2, nxt = [], [], n
    for a, b in zip(src, dst, strict=True):
        k = int(rng.integers(0, 4))
        chain = [a, *range(nxt, nxt + k), b]
        nxt += k
        s2 += chain[:-1]
        d2 += chain[1:]
    return np.array(s2), np.array(d2), nxt


def brute_distances(src, dst, oneway, w, n, sources, closed=None):
    keep = np.ones(len(src), bool) if closed is None else ~closed
    rows = np.r_[src[keep], dst[keep & ~oneway]]
    cols = np.r_[dst[keep], src[keep & ~oneway]]
    data = np.r_[w[keep], w[keep & ~oneway]]
    # keep the cheapest of parallel arcs (coo would sum them)
    best = {}
    for r, c, x in zip(rows, cols, data, strict=True):
        best[(r, c)] = min(best.get((r, c), np.inf), x)
    r, c = np.array(list(best)).T if best else (np.zeros(0, int), np.zeros(0, int))
    m = sparse.csr_matrix((np.array(list(best.values())), (r, c)), shape=(n, n))
    return csgraph.dijkstra(m, indices=sources)


@pytest.mark.parametrize("seed", range(6))
def test_core_graph_distances_equal_full_graph(seed):
    rng = np.random.default_rng(seed)
    src, dst, n = random_graph(rng, 40, 25)
    oneway = rng.random(len(src)) < 0.2
    length = rng.uniform(10, 1000, len(src))
    time = length / rng.uniform(5, 25, len(src))
    stops = np.zeros(n, bool)
    stops[rng.choice(n, 12, replace=False)] = True
    core = build_routing_graph(src, dst, oneway, length, time, n, stops=stops)
    full = build_routing_graph(src, dst, oneway, length, time, n)
    closed = np.zeros(len(src), bool)
    closed[rng.choice(len(src), 3, replace=False)] = True
    for by, w in (("time", time), ("distance", length)):
        for shut in (None, closed):
            starts = np.flatnonzero(stops)
            expected = brute_distances(src, dst, oneway, w, n, starts, shut)
            got_core = core.shortest(
                core.index_of[starts], by, core.arc_mask(shut), predecessors=False
            )
            got_full = full.shortest(starts, by, full.arc_mask(shut), predecessors=False)
            np.testing.assert_allclose(got_core, expected[:, core.node_of], rtol=1e-12)
            np.testing.assert_allclose(got_full, expected, rtol=1e-12)


def test_core_path_expands_to_a_walk_with_the_same_cost():
    rng = np.random.default_rng(7)
    src, dst, n = random_graph(rng, 30, 20)
    oneway = rng.random(len(src)) < 0.2
    length = rng.uniform(10, 1000, len(src))
    stops = np.zeros(n, bool)
    stops[[0, 5, 9, 17]] = True
    core = build_routing_graph(src, dst, oneway, length, length, n, stops=stops)
    s = core.index_of[0]
    dist, pred = core.shortest(s, "distance")
    for target in (5, 9, 17):
        t = core.index_of[target]
        if not np.isfinite(dist[t]):
            continue
        nodes = [t]
        while nodes[-1] != s:
            nodes.append(pred[nodes[-1]])
        states = core.states(core.path_arcs(np.array(nodes[::-1]), "distance"))
        e = np.array(states) // 2
        fwd = np.array(states) % 2 == 0
        tails = np.where(fwd, src[e], dst[e])
        heads = np.where(fwd, dst[e], src[e])
        assert tails[0] == 0 and heads[-1] == target
        assert np.all(heads[:-1] == tails[1:])
        assert not np.any(oneway[e] & ~fwd)
        assert length[e].sum() == pytest.approx(dist[t], rel=1e-12)


def components_without(src, dst, n, removed):
    keep = ~removed
    m = sparse.coo_matrix((np.ones(keep.sum()), (src[keep], dst[keep])), shape=(n, n))
    return csgraph.connected_components(m, directed=False)[1]


@pytest.mark.parametrize("seed", range(8))
def test_bridges_and_cut_sides_match_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    src, dst, n = random_graph(rng, 30, int(rng.integers(0, 20)))
    # a second, separate component and a parallel edge
    src = np.r_[src, n, n + 1, 0]
    dst = np.r_[dst, n + 1, n + 2, dst[0]]
    n += 3
    root = int(rng.integers(0, n - 3))
    forest = cut_forest(src, dst, n, root=root)
    none = np.zeros(len(src), bool)
    base = components_without(src, dst, n, none)
    for e in range(len(src)):
        removed = none.copy()
        removed[e] = True
        label = components_without(src, dst, n, removed)
        is_bridge = len(np.unique(label)) > len(np.unique(base))
        assert forest.bridge[e] == is_bridge, e
        if is_bridge:
            lo, hi = forest.below(e)
            side = np.flatnonzero((forest.pre >= lo) & (forest.pre < hi))
            comp_root = root if base[src[e]] == base[root] else None
            if comp_root is not None:
                expected = np.flatnonzero(label != label[root])
                expected = expected[base[expected] == base[root]]
                assert set(side) == set(expected)


@pytest.mark.parametrize("seed", range(5))
def test_xor_labels_detect_multi_edge_cuts(seed):
    rng = np.random.default_rng(200 + seed)
    src, dst, n = random_graph(rng, 25, 15)
    forest = cut_forest(src, dst, n, root=0)
    base = len(np.unique(components_without(src, dst, n, np.zeros(len(src), bool))))
    for _ in range(60):
        k = int(rng.integers(2, 4))
        edges = rng.choice(np.flatnonzero(~forest.bridge), k, replace=False)
        removed = np.zeros(len(src), bool)
        removed[edges] = True
        splits = len(np.unique(components_without(src, dst, n, removed))) > base
        assert splits == (not independent(forest.label[edges]))


def test_open_edges_mask_removes_edges():
    src, dst = np.array([0, 1, 2, 0]), np.array([1, 2, 3, 2])
    forest = cut_forest(src, dst, 4, root=0)
    assert forest.bridge.tolist() == [False, False, True, False]
    forest = cut_forest(src, dst, 4, open_edges=np.array([True, True, True, False]), root=0)
    assert forest.bridge.tolist() == [True, True, True, False]


@pytest.mark.parametrize(("seed", "core"), [(0, 5), (1, 20), (2, 60), (3, 1000)])
def test_hierarchy_queries_equal_dijkstra(seed, core):
    from gis_registry.network.hierarchy import build_hierarchy

    rng = np.random.default_rng(300 + seed)
    src, dst, n = random_graph(rng, 60, 60)
    oneway = rng.random(len(src)) < 0.25
    length = rng.uniform(10, 1000, len(src))
    time = length / rng.choice([10.0, 15.0, 25.0], len(src))
    full = build_routing_graph(src, dst, oneway, length, time, n)
    h = build_hierarchy(
        full.tail, full.head, full.time_s, n, aux=full.length_m, core_nodes=core, seed=seed
    )
    expected = brute_distances(src, dst, oneway, time, n, np.arange(n))
    nodes = rng.choice(n, 12, replace=False)
    h.precompute(nodes[:2])
    h.precompute(nodes[2:4], backward=True)
    for s in nodes:
        for t in nodes:
            cost, aux, arcs = h.query(int(s), int(t))
            if not np.isfinite(expected[s, t]):
                assert not np.isfinite(cost) and arcs == []
                continue
            assert cost == pytest.approx(expected[s, t], rel=1e-12, abs=1e-9)
            if s == t:
                continue
            assert full.tail[arcs[0]] == s and full.head[arcs[-1]] == t
            assert np.all(full.head[arcs[:-1]] == full.tail[arcs[1:]])
            assert full.time_s[arcs].sum() == pytest.approx(cost, rel=1e-12)
            assert full.length_m[arcs].sum() == pytest.approx(aux, rel=1e-12)
    cost, aux = h.many_to_many(nodes, nodes)
    np.testing.assert_allclose(cost, expected[np.ix_(nodes, nodes)], rtol=1e-12)
    for i, s in enumerate(nodes):
        for j, t in enumerate(nodes):
            if np.isfinite(cost[i, j]):
                assert aux[i, j] == pytest.approx(h.query(int(s), int(t))[1], rel=1e-9)
