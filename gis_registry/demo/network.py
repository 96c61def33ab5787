"""The road network's topology: which node pairs are joined by a road, and where bridges go.

Every road node (offices, highway vertices, villages, junctions) is a point of one Delaunay
triangulation, and every road is an edge of it. Edges of a planar triangulation never cross,
so the network is noded by construction: roads meet only at shared end points, and no road
needs ``layer = 1``. Candidate edges leaving the province, crossing a reservoir or crossing a
river more than once are dropped; so are the edges that would give a planted weak-link zone a
second way out. From the remaining candidates the network takes

* the national highways (their node chains, joined edge by edge),
* DRR rural roads from every LGO office to its district seat and from each seat to a highway,
* PAO roads between neighbouring LGO offices,
* a minimum spanning tree (so every village is reached; river crossings cost ten times their
  length, so the tree crosses rivers only where it must), plus a random share of short edges
  for loops,
* and finally, for every river crossing whose loss would still cut off a village or an office
  (other than the planted ones), the cheapest extra edge that closes a loop around it.

A road edge that crosses a river is split in three so a 10-100 m segment spans the crossing:
that segment carries the bridge.
"""

from __future__ import annotations

from dataclasses import dataclass

import igraph as ig
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra, minimum_spanning_tree
from scipy.spatial import Delaunay

from gis_registry.demo.highways import Highway
from gis_registry.demo.rivers import Hydrography
from gis_registry.demo.settlements import NodeDraw
from gis_registry.demo.territory import Territory
from gis_registry.demo.weak_links import WeakLinkZone

# node kinds
PAO, DISTRICT, LGO_OFFICE, HIGHWAY, VILLAGE, JUNCTION, SPLIT = range(7)
# road classes of edges, in claiming priority (higher wins)
LGO_ROAD, PAO_ROAD, DRR_ROAD, HIGHWAY_ROAD = range(4)

CROSSING_PENALTY = 10.0
MAX_EDGE_M = 15_000.0


@dataclass
class RoadNetwork:
    """Nodes (UTM), the chosen edges and their segments after bridge splits."""

    xy: np.ndarray  # (n, 2) every node, split nodes last
    kind: np.ndarray  # node kind (PAO, DISTRICT, ...)
    ref: np.ndarray  # row of the village / LGO / district / highway the node stands for
    edges: pd.DataFrame  # u, v, length, cls, route, river, t, zone (-1 unless planted bridge)
    segments: pd.DataFrame  # u, v, edge, bridge (bool)
    bridges: pd.DataFrame  # segment, x, y, river, zone, length
    village_alive: np.ndarray  # per drawn village: still on the network
    drr_ends: list[tuple[str, int, str, int]]  # per DRR route: (kind, ref) of both ends
    pao_ends: list[tuple[int, int]]  # per PAO route: the two LGOs (rows) it links

    @property
    def pao_node(self) -> int:
        """Node index of the PAO office (it is always the first node drawn)."""
        return 0


def _trace(pred: np.ndarray, node: int) -> list[int]:
    path = [node]
    while pred[node] >= 0:
        node = int(pred[node])
        path.append(node)
    return path


class _Candidates:
    """The candidate edges (sorted by ``u * n + v``, u < v) and their look-up."""

    def __init__(self, u: np.ndarray, v: np.ndarray, n: int):
        self.u, self.v, self.n = u, v, n
        self.key = u.astype(np.int64) * n + v

    def find(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Edge ids of node pairs; -1 where the pair is not a candidate."""
        a, b = np.asarray(a), np.asarray(b)
        k = np.minimum(a, b).astype(np.int64) * self.n + np.maximum(a, b)
        i = np.clip(np.searchsorted(self.key, k), 0, len(self.key) - 1)
        return np.where(self.key[i] == k, i, -1)

    def path_edges(self, nodes: list[int]) -> np.ndarray:
        if len(nodes) < 2:
            return np.zeros(0, int)
        e = self.find(np.array(nodes[:-1]), np.array(nodes[1:]))
        if (e < 0).any():
            raise RuntimeError("a routed path left the candidate edges")
        return e


def _nodes(territory: Territory, highways: list[Highway], draw: NodeDraw):
    lgos, dist = territory.lgos, territory.districts
    hw_pts = np.vstack([h.coords for h in highways])
    uniq, first, inverse = np.unique(
        np.round(hw_pts, 3), axis=0, return_index=True, return_inverse=True
    )
    order = np.argsort(first)  # keep highway nodes in file order
    rank = np.empty(len(order), int)
    rank[order] = np.arange(len(order))
    hw_nodes = hw_pts[first[order]]
    parts = [
        (territory.pao_office[None, :], PAO, np.zeros(1, int)),
        (dist[["office_x", "office_y"]].to_numpy(), DISTRICT, np.arange(len(dist))),
        (lgos[["office_x", "office_y"]].to_numpy(), LGO_OFFICE, np.arange(len(lgos))),
        (hw_nodes, HIGHWAY, np.arange(len(hw_nodes))),
        (draw.villages[["x", "y"]].to_numpy(), VILLAGE, np.arange(len(draw.villages))),
        (draw.junctions, JUNCTION, np.arange(len(draw.junctions))),
    ]
    xy = np.vstack([p[0] for p in parts])
    kind = np.concatenate([np.full(len(p[0]), p[1]) for p in parts])
    ref = np.concatenate([p[2] for p in parts])
    hw_base = 1 + len(dist) + len(lgos)
    chains, start = [], 0
    for h in highways:
        idx = rank[inverse.ravel()[start : start + len(h.coords)]] + hw_base
        chains.append(idx)
        start += len(h.coords)
    return xy, kind, ref, chains


def _segment_params(p: np.ndarray, q: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Parameter t along p->q where it meets a->b (segments known to intersect)."""
    r, s = q - p, b - a
    denom = r[:, 0] * s[:, 1] - r[:, 1] * s[:, 0]
    qp = a - p
    return (qp[:, 0] * s[:, 1] - qp[:, 1] * s[:, 0]) / np.where(denom == 0, 1e-12, denom)


def build_network(
    territory: Territory,
    hydro: Hydrography,
    highways: list[Highway],
    zones: list[WeakLinkZone],
    draw: NodeDraw,
    scale: float,
    rng: np.random.Generator,
) -> RoadNetwork:
    """Choose the road edges and place the bridges (see the module docstring).

    Parameters
    ----------
    territory, hydro, highways, zones, draw
        The province so far: LGOs and offices, rivers, highway chains, planted zones, and
        the village and junction points.
    scale
        Local road density grows with it (more loops per node).
    rng
        The plan's random generator.

    Returns
    -------
    RoadNetwork
    """
    xy, kind, ref, chains = _nodes(territory, highways, draw)
    n = len(xy)
    tri = Delaunay(xy)
    s = np.sort(tri.simplices, axis=1)
    pairs = np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]]).astype(np.int64)
    key = np.unique(pairs[:, 0] * n + pairs[:, 1])
    cu, cv = (key // n).astype(np.int64), (key % n).astype(np.int64)
    pu, pv = xy[cu], xy[cv]
    length = np.hypot(*(pv - pu).T)

    def near(d: np.ndarray) -> np.ndarray:
        # an edge can only touch a feature if it is at least as long as the distances of its
        # two ends to it: only those few edges need an exact (and slower) geometric test
        return np.flatnonzero(length >= d[cu] + d[cv] - 2.0)

    def lines(ids: np.ndarray) -> np.ndarray:
        return shapely.linestrings(np.stack([pu[ids], pv[ids]], axis=1))

    ok = length <= MAX_EDGE_M
    nodes = shapely.points(xy)
    boundary = shapely.get_coordinates(territory.outline.exterior)
    bsegs = shapely.linestrings(np.stack([boundary[:-1], boundary[1:]], axis=1))
    ids = near(shapely.distance(nodes, territory.outline.exterior))
    hit, _ = shapely.STRtree(bsegs).query(lines(ids), predicate="intersects")
    ok[ids[hit]] = False
    if hydro.reservoirs:
        ids = near(shapely.distance(nodes, shapely.union_all(hydro.reservoirs)))
        hit, _ = shapely.STRtree(hydro.reservoirs).query(lines(ids), predicate="intersects")
        ok[ids[hit]] = False
    ids = near(hydro.distance(xy[:, 0], xy[:, 1], cap=1_000.0))
    rsegs = shapely.linestrings(hydro.seg_coords)
    e_hit, s_hit = shapely.STRtree(rsegs).query(lines(ids), predicate="intersects")
    e_hit = ids[e_hit]
    n_cross = np.bincount(e_hit, minlength=len(key))
    ok &= n_cross <= 1
    river = np.full(len(key), -1)
    t = np.full(len(key), np.nan)
    single = n_cross[e_hit] == 1
    e1, s1 = e_hit[single], s_hit[single]
    river[e1] = hydro.seg_river[s1]
    t[e1] = _segment_params(pu[e1], pv[e1], hydro.seg_coords[s1, 0], hydro.seg_coords[s1, 1])
    crossing = river >= 0

    # Planted zones: of all edges leaving a zone keep only the shortest crossing of its river.
    node_zone = np.full(n, -1)
    for z, wz in enumerate(zones):
        node_zone[shapely.contains_xy(wz.polygon, xy[:, 0], xy[:, 1])] = z
    zone_edge = np.full(len(key), -1)
    za, zb = node_zone[cu], node_zone[cv]
    ok &= ~((za == zb) & (za >= 0) & crossing)
    for z, wz in enumerate(zones):
        leaving = ok & ((za == z) != (zb == z))
        exits = np.flatnonzero(leaving & (river == wz.river))
        if not len(exits):
            raise RuntimeError(f"weak-link zone {wz.key}: no road can cross the river")
        best = exits[np.argmin(length[exits])]
        ok[leaving] = False
        ok[best] = True
        zone_edge[best] = z

    # Nodes the candidates cannot reach from the PAO office leave the network.
    cand = np.flatnonzero(ok)
    graph = coo_matrix((np.ones(len(cand)), (cu[cand], cv[cand])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    alive = comp == comp[0]
    if not alive[kind <= HIGHWAY].all():
        raise RuntimeError("an office or highway node is cut off from the candidate network")
    ok &= alive[cu] & alive[cv]
    C = _Candidates(cu, cv, n)
    w = length * np.where(crossing, CROSSING_PENALTY, 1.0)
    big = np.where(ok, w, 0.0)
    csr = csr_matrix((big[ok], (cu[ok], cv[ok])), shape=(n, n))

    cls = np.full(len(key), -1)
    route = np.full(len(key), -1)

    def claim(edge_ids: np.ndarray, c: int, r: int) -> None:
        free = edge_ids[cls[edge_ids] < 0]
        cls[free], route[free] = c, r

    # Highways: node to node; a pair the triangulation did not join is routed instead.
    for h_idx, chain in enumerate(chains):
        e = C.find(chain[:-1], chain[1:])
        for k in np.flatnonzero((e < 0) | ~ok[np.maximum(e, 0)]):
            _, pred = dijkstra(
                csr,
                directed=False,
                indices=int(chain[k + 1]),
                return_predecessors=True,
                limit=20 * MAX_EDGE_M,
            )
            claim(C.path_edges(_trace(pred, int(chain[k]))), HIGHWAY_ROAD, h_idx)
        claim(e[e >= 0][ok[e[e >= 0]]], HIGHWAY_ROAD, h_idx)

    # DRR: LGO office -> nearest district seat, district seat -> nearest highway node.
    district_nodes = np.flatnonzero(kind == DISTRICT)
    lgo_nodes = np.flatnonzero(kind == LGO_OFFICE)
    hw_nodes = np.flatnonzero(kind == HIGHWAY)
    _, pred, _ = dijkstra(
        csr, directed=False, indices=district_nodes, return_predecessors=True, min_only=True
    )
    drr_ends: list[tuple[str, int, str, int]] = []
    for node in lgo_nodes:
        path = _trace(pred, int(node))
        if len(path) > 1:
            claim(C.path_edges(path), DRR_ROAD, len(drr_ends))
            drr_ends.append(("lgo", int(ref[node]), "district", int(ref[path[-1]])))
    _, pred, _ = dijkstra(
        csr, directed=False, indices=hw_nodes, return_predecessors=True, min_only=True
    )
    for node in district_nodes:
        path = _trace(pred, int(node))
        if len(path) > 1:
            claim(C.path_edges(path), DRR_ROAD, len(drr_ends))
            drr_ends.append(("district", int(ref[node]), "highway", int(ref[path[-1]])))

    # PAO roads: between LGO offices whose shortest-path regions touch (a graph Delaunay).
    dist_o, pred_o, src_o = dijkstra(
        csr, directed=False, indices=lgo_nodes, return_predecessors=True, min_only=True
    )
    okc = np.flatnonzero(ok & (src_o[cu] >= 0) & (src_o[cv] >= 0) & (src_o[cu] != src_o[cv]))
    cost = dist_o[cu[okc]] + w[okc] + dist_o[cv[okc]]
    pa, pb = np.minimum(src_o[cu[okc]], src_o[cv[okc]]), np.maximum(src_o[cu[okc]], src_o[cv[okc]])
    best = (
        pd.DataFrame({"a": pa, "b": pb, "cost": cost, "e": okc})
        .sort_values(["a", "b", "cost"], kind="stable")
        .drop_duplicates(["a", "b"])
    )
    best = best[rng.random(len(best)) < 0.45]
    pao_ends: list[tuple[int, int]] = []
    for r_idx, e in enumerate(best["e"].to_numpy()):
        path = _trace(pred_o, int(cu[e]))[::-1] + _trace(pred_o, int(cv[e]))
        claim(C.path_edges(path), PAO_ROAD, r_idx)
        pao_ends.append((int(ref[path[0]]), int(ref[path[-1]])))

    chosen = cls >= 0
    mst = minimum_spanning_tree(csr).tocoo()
    chosen[C.find(mst.row, mst.col)] = True
    # Loops: a share of the short edges (more at higher scale: denser local roads).
    level = np.log10(max(scale, 1.0)) / 2.0
    short = length <= np.quantile(length[ok], 0.6 + 0.2 * level)
    # extra river crossings are drawn from all crossing candidates (they are long edges)
    p_loop = np.where(crossing, 0.15, np.where(short, 0.22 + 0.45 * level, 0.0))
    chosen |= ok & (rng.random(len(key)) < p_loop) & (zone_edge < 0)
    chosen |= zone_edge >= 0

    is_important = (kind == VILLAGE) | (kind == LGO_OFFICE) | (kind == PAO)
    chosen = _close_loops(chosen, ok, C, w, crossing, zone_edge >= 0, is_important, n)

    cls = np.where(chosen & (cls < 0), LGO_ROAD, cls)
    sel = np.flatnonzero(chosen)
    edges = pd.DataFrame(
        {
            "u": cu[sel],
            "v": cv[sel],
            "length": length[sel],
            "cls": cls[sel],
            "route": route[sel],
            "river": river[sel],
            "t": t[sel],
            "zone": zone_edge[sel],
        }
    )
    used = np.zeros(n, bool)
    used[edges["u"]] = used[edges["v"]] = True
    village_alive = used[kind == VILLAGE]
    xy2, kind2, ref2, segments, bridges = _split_bridges(xy, kind, ref, edges, hydro, rng)
    return RoadNetwork(
        xy=xy2,
        kind=kind2,
        ref=ref2,
        edges=edges,
        segments=segments,
        bridges=bridges,
        village_alive=village_alive,
        drr_ends=drr_ends,
        pao_ends=pao_ends,
    )


def _close_loops(
    chosen: np.ndarray,
    ok: np.ndarray,
    C: _Candidates,
    w: np.ndarray,
    crossing: np.ndarray,
    planted: np.ndarray,
    important: np.ndarray,
    n: int,
) -> np.ndarray:
    """Add edges until no unplanted river crossing is the only way to a village or office.

    The chosen graph's bridges (cut edges) are found with igraph; contracting its 2-edge-
    connected components gives the bridge tree, rooted at the PAO office. A cut crossing
    matters when the subtree below it holds a village or an office; it is fixed by the
    cheapest candidate edge with exactly one end in that subtree (found by DFS intervals).
    """
    chosen = chosen.copy()
    for _ in range(20):
        ids = np.flatnonzero(chosen)
        g = ig.Graph(n=n, edges=np.column_stack([C.u[ids], C.v[ids]]).tolist())
        br = np.array(g.bridges(), dtype=int)
        if not len(br):
            return chosen
        keep = np.ones(len(ids), bool)
        keep[br] = False
        g2 = ig.Graph(n=n, edges=np.column_stack([C.u[ids[keep]], C.v[ids[keep]]]).tolist())
        memb = np.array(g2.connected_components().membership)
        ncomp = memb.max() + 1
        be = ids[br]
        ta, tb = memb[C.u[be]], memb[C.v[be]]
        tree = ig.Graph(n=ncomp, edges=np.column_stack([ta, tb]).tolist())
        # igraph lists each visited vertex's parent in visit order; cut-off nodes (left out of
        # the network) are never visited and keep -1
        visited, parent_in_order = tree.dfs(int(memb[0]))
        order = np.array(visited)
        parent = np.full(ncomp, -1)
        parent[order] = parent_in_order
        tin = np.full(ncomp, -1)
        tin[order] = np.arange(len(order))
        size = np.ones(ncomp, int)
        imp = np.bincount(memb[important], minlength=ncomp)
        for node in order[::-1][:-1]:  # children before parents
            size[parent[node]] += size[node]
            imp[parent[node]] += imp[node]
        child = np.where(parent[ta] == tb, ta, tb)
        target = crossing[be] & ~planted[be] & (tin[child] >= 0) & (imp[child] > 0)
        if not target.any():
            return chosen
        cand = np.flatnonzero(ok & ~chosen)
        ca, cb = tin[memb[C.u[cand]]], tin[memb[C.v[cand]]]
        good = (ca >= 0) & (cb >= 0) & (ca != cb)
        cand, ca, cb = cand[good], ca[good], cb[good]
        inside = np.concatenate([ca, cb])
        other = np.concatenate([cb, ca])
        eid = np.concatenate([cand, cand])
        srt = np.argsort(inside, kind="stable")
        inside, other, eid = inside[srt], other[srt], eid[srt]
        added = False
        for c in child[target]:
            lo, hi = tin[c], tin[c] + size[c] - 1
            a, b = np.searchsorted(inside, lo), np.searchsorted(inside, hi, side="right")
            out = (other[a:b] < lo) | (other[a:b] > hi)
            if out.any():
                pick = eid[a:b][out]
                chosen[pick[np.argmin(w[pick])]] = True
                added = True
        if not added:
            raise RuntimeError("cannot give every river crossing a second way round")
    raise RuntimeError("closing loops around river crossings did not converge")


def _split_bridges(
    xy, kind, ref, edges: pd.DataFrame, hydro: Hydrography, rng: np.random.Generator
):
    """Cut each crossing edge so a short middle segment spans the river."""
    cross = np.flatnonzero(edges["river"].to_numpy() >= 0)
    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    length, t = edges["length"].to_numpy(), edges["t"].to_numpy()
    r = edges["river"].to_numpy()[cross]
    cls = edges["cls"].to_numpy()[cross]
    span = hydro.widths[r] * rng.uniform(1.2, 1.8, len(cross))
    span = np.where(cls == HIGHWAY_ROAD, np.maximum(span, 40.0), span)
    room = 2 * (np.minimum(t[cross], 1 - t[cross]) * length[cross] - 10.0)
    span = np.clip(np.minimum(span, room), 10.0, 100.0)
    p, q = xy[u[cross]], xy[v[cross]]
    d = (q - p) / length[cross, None]
    at = p + (t[cross] * length[cross])[:, None] * d
    n1 = at - d * (span / 2)[:, None]
    n2 = at + d * (span / 2)[:, None]
    base = len(xy)
    k = len(cross)
    xy2 = np.vstack([xy, n1, n2])
    kind2 = np.concatenate([kind, np.full(2 * k, SPLIT)])
    ref2 = np.concatenate([ref, np.arange(k), np.arange(k)])
    plain = np.setdiff1d(np.arange(len(edges)), cross)
    i1, i2 = base + np.arange(k), base + k + np.arange(k)
    seg = pd.DataFrame(
        {
            "u": np.concatenate([u[plain], u[cross], i1, i2]),
            "v": np.concatenate([v[plain], i1, i2, v[cross]]),
            "edge": np.concatenate([plain, cross, cross, cross]),
            "piece": np.concatenate(
                [np.zeros(len(plain), int), np.zeros(k, int), np.ones(k, int), np.full(k, 2)]
            ),
        }
    )
    seg["bridge"] = seg["piece"] == 1
    seg = seg.sort_values(["edge", "piece"], kind="stable").reset_index(drop=True)
    bseg = seg.index[seg["bridge"]].to_numpy()
    order = np.argsort(cross)  # seg rows for bridges are in edge order, like `cross` sorted
    bridges = pd.DataFrame(
        {
            "segment": bseg,
            "x": at[order, 0],
            "y": at[order, 1],
            "river": r[order],
            "zone": edges["zone"].to_numpy()[cross][order],
            "length": span[order],
        }
    )
    return xy2, kind2, ref2, seg.drop(columns="piece"), bridges
