"""Noding and topology checks of the road network: what keeps routes from joining up.

Roads drawn by hand or imported from OpenStreetMap rarely meet the way the network needs them to
(:mod:`gis_registry.network.topology` joins roads only at shared vertices, within a 1 m
snapping tolerance). :func:`check_network` finds, on the noded network itself:

* **dangles**: road ends meeting nothing (dead ends; many are real, each is worth a look);
* **near misses**: a dangling road end within ``tolerance_m`` of another road's line or end,
  but not joined to it; a T-junction onto the middle of a segment is a near miss at ~0 m;
* **crossings**: two roads on the same ``layer`` whose lines cross without a shared node
  (roads on different layers, bridges over roads, never meet and are not errors);
* **duplicates**: segments (consecutive vertex pairs) two roads both have, either direction;
  ``full`` when the two roads are the same line;
* **zero-length segments**: consecutive vertices of a road closer than 1 mm;
* **islands**: connected components of the noded network other than the main one (the PAO
  office's), with their roads, length, villages and population, and how far they lie from the
  main network.

Every distance is in metres in the registry's metric CRS (:attr:`.RoadArrays.metric_srid`, a
UTM zone), positions are lon/lat. The work is vectorised (numpy, shapely 2's STRtree, scipy's
KD-tree and sparse graphs), nothing is quadratic: once the network is loaded, the scale-1 demo
(5,616 segments) is checked in 0.2 s and a synthetic grid of a million segments with 18,000
findings in about 7 s (measured on the 2-core machine). :mod:`gis_registry.network.fix`
repairs the crossings and near misses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree
from sqlalchemy import Connection, bindparam, text

from gis_registry import deadline
from gis_registry.errors import InvalidParameter
from gis_registry.network.model import Network, load_network
from gis_registry.network.topology import Topology, to_lonlat

# The default snapping tolerance of the check and the fix: hand-held GPS and digitising on
# imagery put road ends within 3-5 m of where they belong, while two distinct roads are rarely
# closer than 10 m (a lane is 3.5 m wide). Stated in every output.
DEFAULT_TOLERANCE_M = 6.0
# Beyond this, "snapping" would join roads that merely run near each other.
MAX_TOLERANCE_M = 100.0
# Consecutive vertices closer than this are a zero-length segment; also the grid on which
# duplicate segments are compared.
ZERO_LENGTH_M = 0.001
# A dangle's distance to the nearest other road is searched up to this far (then None).
DANGLE_SEARCH_M = 5_000.0
# An island lists at most this many of its road ids (``n_roads`` counts them all).
ISLAND_ROADS_LISTED = 200

KINDS = ("crossing", "near_miss", "dangle", "duplicate", "zero_length", "island")
KIND_LABELS = {
    "crossing": ("ทางตัดกันไม่มีจุดเชื่อม", "crossing without a junction"),
    "near_miss": ("ปลายทางเกือบชน (ไม่เชื่อม)", "near miss (not joined)"),
    "dangle": ("ปลายทางไม่เชื่อมต่อ", "dangle (end meets nothing)"),
    "duplicate": ("ช่วงทางซ้ำกัน", "duplicate segment"),
    "zero_length": ("ช่วงทางยาวศูนย์", "zero-length segment"),
    "island": ("โครงข่ายแยกโดดเดี่ยว", "disconnected island"),
}


@dataclass
class NetworkCheck:
    """What :func:`check_network` found.

    ``findings`` holds one dict per finding (``kind``, ``road_ids``, ``road_codes``, ``lon``,
    ``lat``, ``distance_m`` and the kind's own fields); ``counts`` counts them per kind;
    ``islands`` lists every connected component, the main one (``main``) first.
    """

    tolerance_m: float
    noding_tolerance_m: float
    metric_srid: int
    n_roads: int
    counts: dict[str, int]
    findings: list[dict[str, Any]]
    islands: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict (what ``network check --json`` and the API give)."""
        return {
            "tolerance_m": self.tolerance_m,
            "noding_tolerance_m": self.noding_tolerance_m,
            "metric_srid": self.metric_srid,
            "roads": self.n_roads,
            "counts": self.counts,
            "islands": self.islands,
            "findings": self.findings,
        }


def check_tolerance(tolerance_m: float) -> float:
    """``tolerance_m`` as a float, or an :class:`InvalidParameter` naming it."""
    value = float(tolerance_m)
    if not math.isfinite(value) or value <= 0 or value > MAX_TOLERANCE_M:
        raise InvalidParameter(
            "tolerance_m",
            f"must be a number of metres above 0 and at most {MAX_TOLERANCE_M:g} "
            f"(got {tolerance_m})",
        )
    return value


def check_network(
    conn: Connection,
    *,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    network: Network | None = None,
) -> NetworkCheck:
    """Find the noding and topology problems of the road network.

    Parameters
    ----------
    conn : an open connection
    tolerance_m : how far (metres) a road end may be from another road to count as a near
        miss rather than a dangle (default :data:`DEFAULT_TOLERANCE_M`)
    network : the network already loaded (default :func:`load_network`)

    Returns
    -------
    NetworkCheck
        Counts per kind, every finding with its roads, position and distance, and the islands.

    Raises
    ------
    InvalidParameter
        When ``tolerance_m`` is not a positive number of metres up to :data:`MAX_TOLERANCE_M`.
    """
    tol = check_tolerance(tolerance_m)
    net = network if network is not None else load_network(conn)
    return check_and_plan(conn, net, tol)[0]


def check_and_plan(conn: Connection, net: Network, tolerance_m: float) -> tuple[NetworkCheck, Plan]:
    """:func:`check_network` on a loaded network, with the plan :mod:`.fix` carries out."""
    plan = analyse(net, tolerance_m)
    findings = plan.findings
    ids = sorted({i for f in findings for i in f["road_ids"]})
    codes = _road_codes(conn, ids)
    for f in findings:
        f["road_codes"] = [codes.get(i) for i in f["road_ids"]]
    counts = {kind: 0 for kind in KINDS}
    for f in findings:
        counts[f["kind"]] += 1
    result = NetworkCheck(
        tolerance_m=tolerance_m,
        noding_tolerance_m=float(net.topo.tolerance_m),
        metric_srid=int(net.metric_srid),
        n_roads=len(net.roads),
        counts=counts,
        findings=findings,
        islands=plan.islands,
    )
    return result, plan


_CODES = text("SELECT id, code FROM roads WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


def _road_codes(conn: Connection, ids: list[int]) -> dict[int, str | None]:
    out: dict[int, str | None] = {}
    for start in range(0, len(ids), 50_000):
        chunk = ids[start : start + 50_000]
        out.update({int(i): c for i, c in conn.execute(_CODES, {"ids": chunk})})
    return out


# -- the analysis, on arrays -------------------------------------------------------------------


@dataclass
class Plan:
    """Findings and what the fix needs to repair them (rows of the network's arrays, metres).

    ``crossings``: (road a, road b, x, y). ``snaps``: (moving road, end 0/1, target road or -1,
    x, y, target vertex row or -1): move that end onto (x, y) and put (x, y) on the target road.
    """

    findings: list[dict[str, Any]]
    islands: list[dict[str, Any]]
    crossings: list[tuple[int, int, float, float]] = field(default_factory=list)
    snaps: list[tuple[int, int, int, float, float, int]] = field(default_factory=list)


class _Geometry:
    """The network's roads as metric lines, their ends and which nodes each road touches."""

    def __init__(self, net: Network):
        roads, topo = net.roads, net.topo
        self.net, self.roads, self.topo = net, roads, topo
        self.n = n = len(roads)
        counts = np.diff(roads.offsets)
        self.vertex_road = np.repeat(np.arange(n), counts)
        self.lines = shapely.linestrings(roads.xy, indices=self.vertex_road)
        self.tree = shapely.STRtree(self.lines)
        has = topo.road_edges[1:] > topo.road_edges[:-1]
        first, last = topo.road_edges[:-1], np.maximum(topo.road_edges[1:] - 1, 0)
        ne = max(topo.n_edges, 1)
        start_node = np.where(has, topo.source[np.minimum(first, ne - 1)], -1)
        end_node = np.where(has, topo.target[np.minimum(last, ne - 1)], -1)
        # ends: rows 0..n-1 the starts, n..2n-1 the ends of roads 0..n-1
        self.end_road = np.r_[np.arange(n), np.arange(n)]
        self.end_which = np.r_[np.zeros(n, np.int64), np.ones(n, np.int64)]
        self.end_vertex = np.r_[roads.offsets[:-1], roads.offsets[1:] - 1]
        self.end_node = np.r_[start_node, end_node] if topo.n_edges else np.full(2 * n, -1)
        self.end_xy = roads.xy[self.end_vertex]
        degree = np.bincount(topo.source, minlength=topo.n_nodes) + np.bincount(
            topo.target, minlength=topo.n_nodes
        )
        self.dangling = (self.end_node >= 0) & (degree[np.maximum(self.end_node, 0)] == 1)
        keys = (
            np.r_[topo.source, topo.target].astype(np.int64) * max(n, 1)
            + np.r_[topo.road, topo.road]
        )
        self.node_road = np.sort(keys)  # searched, so duplicates do no harm
        self.node_tree = cKDTree(topo.node_xy) if topo.n_nodes else None

    def touches(self, node: np.ndarray, road: np.ndarray) -> np.ndarray:
        """Whether ``road`` has an edge at ``node`` (element-wise; -1 or a missing node: no)."""
        key = np.asarray(node, np.int64) * max(self.n, 1) + road
        pos = np.clip(np.searchsorted(self.node_road, key), 0, max(len(self.node_road) - 1, 0))
        ok = (self.node_road[pos] == key) if len(self.node_road) else np.zeros(len(key), bool)
        return ok & (np.asarray(node) >= 0) & (np.asarray(node) < self.topo.n_nodes)

    def joined_near(
        self, xy: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float
    ) -> np.ndarray:
        """Whether roads ``a`` and ``b`` share a node within ``radius`` of ``xy`` (per row)."""
        if len(xy) == 0 or self.node_tree is None:
            return np.zeros(len(xy), bool)
        k = min(8, self.topo.n_nodes)
        _, nodes = self.node_tree.query(xy, k=k, distance_upper_bound=radius)
        nodes = np.asarray(nodes).reshape(len(xy), k)
        out = np.zeros(len(xy), bool)
        for col in nodes.T:
            out |= self.touches(col, a) & self.touches(col, b)
        return out

    def lonlat(self, xy: np.ndarray) -> np.ndarray:
        """Metric points back to lon/lat."""
        return to_lonlat(xy, self.net.metric_srid)


def _finding(kind: str, roads: list[int], lonlat, distance_m: float | None, **extra: Any) -> dict:
    return {
        "kind": kind,
        "road_ids": roads,
        "road_codes": [],
        "lon": round(float(lonlat[0]), 8),
        "lat": round(float(lonlat[1]), 8),
        "distance_m": None if distance_m is None else round(float(distance_m), 3),
        **extra,
    }


def analyse(net: Network, tolerance_m: float) -> Plan:
    """Every finding of :func:`check_network` on a loaded network, and the fix's plan."""
    g = _Geometry(net)
    plan = Plan(findings=[], islands=[])
    _crossings(g, plan)
    deadline.check()
    near_ends = _near_misses(g, plan, tolerance_m)
    deadline.check()
    _dangles(g, plan, near_ends)
    deadline.check()
    _duplicates(g, plan)
    _zero_length(g, plan)
    deadline.check()
    _islands(g, plan)
    return plan


def _ids(g: _Geometry, rows) -> list[int]:
    return [int(g.roads.ids[r]) for r in rows]


def _crossings(g: _Geometry, plan: Plan) -> None:
    """Same-layer contacts of two roads' interiors with no shared node there.

    Segment against segment: candidate pairs from the STRtree's boxes (no GEOS predicate: at a
    million segments, GEOS's ``crosses`` on every candidate took 18 s), then the intersection
    of the two segments solved in numpy, all pairs at once.
    """
    if g.n < 2:
        return
    start, length = _segments(g)
    start = start[length >= ZERO_LENGTH_M]
    xy, road = g.roads.xy, g.vertex_road[start]
    if len(start) == g.n:  # every road a single segment: its line is the segment
        tree = g.tree
    else:
        tree = shapely.STRtree(shapely.linestrings(np.stack([xy[start], xy[start + 1]], axis=1)))
    i, j = tree.query(tree.geometries)
    keep = (i < j) & (road[i] != road[j]) & (g.roads.layer[road[i]] == g.roads.layer[road[j]])
    i, j = i[keep], j[keep]
    # segments sharing a vertex meet only there (unless collinear: duplicates), and a vertex
    # two roads share on one layer is a node: most candidates of noded data end here
    p0, p1, q0, q1 = xy[start[i]], xy[start[i] + 1], xy[start[j]], xy[start[j] + 1]
    shared = np.zeros(len(i), bool)
    for u_, v_ in ((p0, q0), (p0, q1), (p1, q0), (p1, q1)):
        shared |= (u_ == v_).all(axis=1)
    i, j = i[~shared], j[~shared]
    p, r = xy[start[i]], xy[start[i] + 1] - xy[start[i]]
    q, s = xy[start[j]], xy[start[j] + 1] - xy[start[j]]
    denom = r[:, 0] * s[:, 1] - r[:, 1] * s[:, 0]
    qp = q - p
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (qp[:, 0] * s[:, 1] - qp[:, 1] * s[:, 0]) / denom
        u = (qp[:, 0] * r[:, 1] - qp[:, 1] * r[:, 0]) / denom
    eps = 1e-9
    hit = (np.abs(denom) > 1e-12) & (t >= -eps) & (t <= 1 + eps) & (u >= -eps) & (u <= 1 + eps)
    a, b = road[i[hit]], road[j[hit]]
    a, b = np.minimum(a, b), np.maximum(a, b)
    pts = p[hit] + t[hit, None] * r[hit]
    radius = g.topo.tolerance_m + 1e-6
    # a road end on (or a hair past) the other line is a T-junction: a near miss, not a crossing
    at_end = np.zeros(len(pts), bool)
    for rd in (a, b):
        for end in (g.roads.offsets[rd], g.roads.offsets[rd + 1] - 1):
            at_end |= np.hypot(*(xy[end] - pts).T) <= radius
    a, b, pts = a[~at_end], b[~at_end], pts[~at_end]
    missing = ~g.joined_near(pts, a, b, radius)
    a, b, pts = a[missing], b[missing], pts[missing]
    # one finding per crossing, though a crossing through a vertex is found by two segments
    grid = np.round(pts / 0.01).astype(np.int64)
    _, first = np.unique(np.column_stack([a, b, grid]), axis=0, return_index=True)
    first = np.sort(first)
    a, b, pts = a[first], b[first], pts[first]
    for (x, y), (lon, lat), ra, rb in zip(pts, g.lonlat(pts), a, b, strict=True):
        plan.findings.append(_finding("crossing", _ids(g, [ra, rb]), (lon, lat), 0.0))
        plan.crossings.append((int(ra), int(rb), float(x), float(y)))


def _near_misses(g: _Geometry, plan: Plan, tol: float) -> set[int]:
    """Dangling ends within ``tol`` of another road's end or line; returns their end rows."""
    dang = np.flatnonzero(g.dangling)
    found: set[int] = set()
    # end to end: clusters of dangling ends within tol, each end moving onto the cluster's
    # first (lowest road id) end
    if len(dang) > 1:
        pairs = cKDTree(g.end_xy[dang]).query_pairs(tol, output_type="ndarray")
        pairs = pairs[g.end_road[dang[pairs[:, 0]]] != g.end_road[dang[pairs[:, 1]]]]
        if len(pairs):
            m = len(dang)
            adj = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), (m, m))
            _, label = csgraph.connected_components(adj, directed=False)
            members = np.unique(pairs)
            rank = g.end_road[dang[members]] * 2 + g.end_which[dang[members]]
            order = members[np.lexsort((rank, label[members]))]
            first = np.r_[True, label[order][1:] != label[order][:-1]]
            head = order[np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))]
            for e, h in zip(dang[order[~first]], dang[head[~first]], strict=True):
                d = float(np.hypot(*(g.end_xy[e] - g.end_xy[h])))
                plan.findings.append(
                    _finding(
                        "near_miss",
                        _ids(g, [g.end_road[e], g.end_road[h]]),
                        g.roads.lonlat[g.end_vertex[h]],
                        d,
                        end=("start", "end")[g.end_which[e]],
                        onto="end",
                    )
                )
                hx, hy = g.end_xy[h]
                plan.snaps.append(
                    (int(g.end_road[e]), int(g.end_which[e]), -1, hx, hy, int(g.end_vertex[h]))
                )
            found.update(dang[members].tolist())
    # end to line: the nearest other road within tol (on the same layer; across layers only
    # onto that road's end, as the network joins layers only at road ends)
    rest = np.array(sorted(set(dang.tolist()) - found), dtype=np.int64)
    if len(rest) == 0:
        return found
    pts = shapely.points(g.end_xy[rest])
    k, r = g.tree.query(pts, predicate="dwithin", distance=tol)
    other = r != g.end_road[rest[k]]
    k, r = k[other], r[other]
    own = g.end_road[rest[k]]
    lines = g.lines[r]
    dist = shapely.distance(pts[k], lines)
    along = shapely.line_locate_point(lines, pts[k])
    q = shapely.get_coordinates(shapely.line_interpolate_point(lines, along))
    other_layer = g.roads.layer[r] != g.roads.layer[own]
    if other_layer.any():
        s, e = g.roads.offsets[r], g.roads.offsets[r + 1] - 1
        p = g.end_xy[rest[k]]
        ds, de = np.hypot(*(g.roads.xy[s] - p).T), np.hypot(*(g.roads.xy[e] - p).T)
        end_xy = np.where((ds <= de)[:, None], g.roads.xy[s], g.roads.xy[e])
        q = np.where(other_layer[:, None], end_xy, q)
        dist = np.where(other_layer, np.minimum(ds, de), dist)
    # not a near miss when the two roads already meet right there (a short road's far end)
    ok = (dist <= tol) & ~g.joined_near(q, own, r, tol)
    k, r, dist, q = k[ok], r[ok], dist[ok], q[ok]
    order = np.lexsort((r, dist, k))
    first = np.r_[True, k[order][1:] != k[order][:-1]] if len(order) else order.astype(bool)
    best = order[first]
    lonlat = g.lonlat(q[best])
    for i, j in enumerate(best):
        e = rest[k[j]]
        road, target = int(g.end_road[e]), int(r[j])
        on_end = bool(g.roads.layer[target] != g.roads.layer[road])
        plan.findings.append(
            _finding(
                "near_miss",
                _ids(g, [road, target]),
                lonlat[i],
                dist[j],
                end=("start", "end")[g.end_which[e]],
                onto="end" if on_end else "line",
            )
        )
        x, y = q[j]
        plan.snaps.append((road, int(g.end_which[e]), target, float(x), float(y), -1))
        found.add(int(e))
    return found


def _dangles(g: _Geometry, plan: Plan, near: set[int]) -> None:
    """Dangling ends that are no near miss, with the distance to the nearest other road."""
    rows = np.array([e for e in np.flatnonzero(g.dangling) if e not in near], dtype=np.int64)
    dist = np.full(len(rows), np.nan)
    todo = np.arange(len(rows))
    # growing search radii: most dangles find a road within the first, cheap, search
    radii = [r for r in (50.0, 200.0, 800.0, 3200.0) if r < DANGLE_SEARCH_M] + [DANGLE_SEARCH_M]
    for radius in radii:
        if len(todo) == 0:
            break
        pts = shapely.points(g.end_xy[rows[todo]])
        k, r = g.tree.query(pts, predicate="dwithin", distance=radius)
        other = r != g.end_road[rows[todo[k]]]
        k, r = k[other], r[other]
        best = np.full(len(todo), np.inf)
        np.minimum.at(best, k, shapely.distance(pts[k], g.lines[r]))
        hit = np.isfinite(best)
        dist[todo[hit]] = best[hit]
        todo = todo[~hit]
    for e, d in zip(rows, dist, strict=True):
        plan.findings.append(
            _finding(
                "dangle",
                _ids(g, [g.end_road[e]]),
                g.roads.lonlat[g.end_vertex[e]],
                None if np.isnan(d) else d,
                end=("start", "end")[g.end_which[e]],
            )
        )


def _segments(g: _Geometry) -> tuple[np.ndarray, np.ndarray]:
    """First vertex row of every segment and its length (metres)."""
    xy = g.roads.xy
    last = np.zeros(len(xy), bool)
    last[g.roads.offsets[1:] - 1] = True
    start = np.flatnonzero(~last)
    return start, np.hypot(*(xy[start + 1] - xy[start]).T)


def _duplicates(g: _Geometry, plan: Plan) -> None:
    """Segments two roads share (same two vertices to the millimetre, either direction)."""
    start, length = _segments(g)
    keep = length >= ZERO_LENGTH_M
    start, length = start[keep], length[keep]
    if len(start) < 2:
        return
    q = np.round(g.roads.xy / ZERO_LENGTH_M).astype(np.int64)
    a, b = q[start], q[start + 1]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    lo, hi = np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)
    order = np.lexsort((hi[:, 1], hi[:, 0], lo[:, 1], lo[:, 0]))
    key = np.column_stack([lo, hi])[order]
    same = np.r_[False, (key[1:] == key[:-1]).all(axis=1)]
    head = order[np.maximum.accumulate(np.where(~same, np.arange(len(order)), 0))]
    dup, first = order[same], head[same]
    road = g.vertex_road
    ra, rb = road[start[first]], road[start[dup]]
    keep = ra != rb
    ra, rb, seg = np.minimum(ra, rb)[keep], np.maximum(ra, rb)[keep], dup[keep]
    if len(seg) == 0:
        return
    pair = ra.astype(np.int64) * g.n + rb
    pairs, inverse, n_shared = np.unique(pair, return_inverse=True, return_counts=True)
    shared_len = np.bincount(inverse, weights=length[seg])
    first_seg = np.full(len(pairs), len(start))
    np.minimum.at(first_seg, inverse, seg)
    n_segs = np.bincount(road[start], minlength=g.n)
    mid = (g.roads.xy[start[first_seg]] + g.roads.xy[start[first_seg] + 1]) / 2
    for i, p in enumerate(pairs):
        x, y = divmod(int(p), g.n)
        plan.findings.append(
            _finding(
                "duplicate",
                _ids(g, [x, y]),
                g.lonlat(mid[i])[0],
                0.0,
                shared_segments=int(n_shared[i]),
                length_m=round(float(shared_len[i]), 3),
                full=bool(n_shared[i] == n_segs[x] == n_segs[y]),
            )
        )


def _zero_length(g: _Geometry, plan: Plan) -> None:
    """Roads with consecutive vertices closer than :data:`ZERO_LENGTH_M`, one finding each."""
    start, length = _segments(g)
    zero = start[length < ZERO_LENGTH_M]
    if len(zero) == 0:
        return
    road = g.vertex_road[zero]
    roads, first, n = np.unique(road, return_index=True, return_counts=True)
    for r, f, c in zip(roads, first, n, strict=True):
        v = zero[f]
        plan.findings.append(
            _finding(
                "zero_length",
                _ids(g, [r]),
                g.roads.lonlat[v],
                float(np.hypot(*(g.roads.xy[v + 1] - g.roads.xy[v]))),
                segments=int(c),
            )
        )


def noded_graph_components(topo: Topology) -> tuple[int, np.ndarray]:
    """Connected components of the noded network (undirected): (count, label per node).

    A node without edges is a component of its own; :func:`check_network` lists only the
    components holding edges.
    """
    adj = sparse.coo_matrix(
        (np.ones(topo.n_edges, dtype=np.int8), (topo.source, topo.target)),
        shape=(topo.n_nodes, topo.n_nodes),
    )
    n, label = csgraph.connected_components(adj, directed=False)
    return int(n), label


def _islands(g: _Geometry, plan: Plan) -> None:
    """Components with edges, the main one (the PAO office's, else the longest) first."""
    topo, places = g.topo, g.net.places
    if topo.n_edges == 0:
        return
    _, label = noded_graph_components(topo)
    comps, edge_comp = np.unique(label[topo.source], return_inverse=True)
    edge_comp = edge_comp.ravel()
    nc = len(comps)
    length = np.bincount(edge_comp, weights=topo.length_m, minlength=nc)
    has = topo.road_edges[1:] > topo.road_edges[:-1]
    road_rows = np.flatnonzero(has)
    road_comp = edge_comp[topo.road_edges[:-1][has]]
    n_roads = np.bincount(road_comp, minlength=nc)
    node_comp = np.full(topo.n_nodes, -1)
    node_comp[topo.source] = edge_comp
    node_comp[topo.target] = edge_comp
    kinds = np.asarray(places.kind)
    place_comp = np.where(places.node >= 0, node_comp[np.maximum(places.node, 0)], -1)
    pao_node = places.node[places.pao] if places.pao >= 0 else -1
    main = int(node_comp[pao_node]) if pao_node >= 0 else -1
    main_by = "pao_office"
    if main < 0:  # no PAO office (roads imported before the boundaries): the longest
        main, main_by = int(np.argmax(length)), "longest"
    villages = np.flatnonzero(kinds == "village")
    population = np.bincount(
        place_comp[villages][place_comp[villages] >= 0],
        weights=places.population[villages][place_comp[villages] >= 0],
        minlength=nc,
    )
    n_villages = np.bincount(place_comp[villages][place_comp[villages] >= 0], minlength=nc)
    # the nearest point of each island to the main component
    dist = np.full(nc, np.nan)
    where = np.full((nc, 2), np.nan)
    # whole roads (every edge of a road lies in one component): their lines are built already
    main_roads = road_rows[road_comp == main]
    other_roads = road_rows[road_comp != main]
    other_comp = road_comp[road_comp != main]
    if len(other_roads) and len(main_roads):
        main_lines, other_lines = g.lines[main_roads], g.lines[other_roads]
        (i, j), d = shapely.STRtree(main_lines).query_nearest(other_lines, return_distance=True)
        order = np.lexsort((d, other_comp[i]))
        c = other_comp[i][order]
        first = order[np.r_[True, c[1:] != c[:-1]]]
        comp = other_comp[i[first]]
        dist[comp] = d[first]
        near = shapely.shortest_line(other_lines[i[first]], main_lines[j[first]])
        where[comp] = shapely.get_coordinates(near)[0::2]
    rank = np.lexsort((-length, -n_roads, np.arange(nc) != main))
    lonlat = g.lonlat(np.where(np.isnan(where), 0.0, where))
    order_roads = np.argsort(road_comp, kind="stable")
    bounds = np.searchsorted(road_comp[order_roads], np.arange(nc + 1))
    for number, c in enumerate(rank):
        rows = road_rows[order_roads[bounds[c] : bounds[c + 1]]]
        ids = np.sort(g.roads.ids[rows])[:ISLAND_ROADS_LISTED].tolist()
        is_main = bool(c == main)
        members = [] if is_main else villages[place_comp[villages] == c].tolist()
        lgos = np.flatnonzero((kinds == "lgo") & (place_comp == c))
        island = {
            "component": number,
            "main": is_main,
            "main_by": main_by if is_main else None,
            "n_roads": int(n_roads[c]),
            "road_ids": ids,
            "length_m": round(float(length[c]), 3),
            "n_villages": int(n_villages[c]),
            "population": int(population[c]),
            "lgo_codes": [places.key[i] for i in lgos.tolist()],
            "villages": [
                {
                    "id": int(places.ids[v]),
                    "name_th": places.name_th[v],
                    "name_en": places.name_en[v],
                    "population": int(places.population[v]),
                }
                for v in members
            ],
            "distance_m": None if is_main else round(float(dist[c]), 3),
        }
        plan.islands.append(island)
        if not is_main:
            plan.findings.append(
                _finding(
                    "island",
                    ids,
                    lonlat[c],
                    dist[c],
                    component=number,
                    n_roads=int(n_roads[c]),
                    length_m=island["length_m"],
                    n_villages=int(n_villages[c]),
                    population=int(population[c]),
                )
            )


# -- files for QGIS ------------------------------------------------------------------------------

CSV_FIELDS = (
    "kind",
    "road_ids",
    "road_codes",
    "lon",
    "lat",
    "distance_m",
    "tolerance_m",
    "end",
    "length_m",
    "population",
)


def finding_rows(result: NetworkCheck) -> list[dict[str, Any]]:
    """One flat row per finding (the columns of :data:`CSV_FIELDS`), for CSV and GIS files."""
    return [
        {
            "kind": f["kind"],
            "road_ids": ";".join(str(i) for i in f["road_ids"]),
            "road_codes": ";".join(c or "" for c in f["road_codes"]),
            "lon": f["lon"],
            "lat": f["lat"],
            "distance_m": f["distance_m"],
            "tolerance_m": result.tolerance_m,
            "end": f.get("end"),
            "length_m": f.get("length_m"),
            "population": f.get("population"),
        }
        for f in result.findings
    ]


def write_findings(result: NetworkCheck, path: str | Path) -> Path:
    """Write the findings as points (EPSG:4326) to a GeoPackage or GeoJSON file, by extension,
    for QGIS. An existing file is replaced.

    Raises
    ------
    InvalidParameter
        When the extension is neither ``.gpkg`` nor ``.geojson``/``.json``.
    """
    import geopandas as gpd

    path = Path(path)
    drivers = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON"}
    driver = drivers.get(path.suffix.lower())
    if driver is None:
        raise InvalidParameter(
            "report", f"{path.name}: write .gpkg or .geojson (got '{path.suffix}')"
        )
    rows = finding_rows(result)
    frame = gpd.GeoDataFrame(
        rows,
        columns=list(CSV_FIELDS),
        geometry=gpd.points_from_xy([r["lon"] for r in rows], [r["lat"] for r in rows]),
        crs="EPSG:4326",
    )
    path.unlink(missing_ok=True)
    frame.to_file(path, driver=driver, layer="network_findings" if driver == "GPKG" else None)
    return path
