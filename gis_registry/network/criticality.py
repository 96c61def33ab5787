"""Criticality of bridges and road segments: who is cut off, or slowed down, if one closes.

Cut-offs are exact and come from graph theory, not from a search per closure: one DFS forest
of the network (:mod:`gis_registry.network.cuts`) gives every graph bridge and the side it cuts
from the PAO office. A physical bridge closes the edge it lies on; a road segment closes all its
edges (when those together form a cut that no single one of them is, an exact component count
settles it).

Travel-time increases for places that stay connected come from the shortest-path tree from the
PAO office: a closure off the tree delays nobody; one on the tree only delays the subtree below
it, and only that subtree is searched again, starting from its unchanged boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from sqlalchemy import Connection, bindparam, text

from gis_registry import deadline
from gis_registry.network.connectivity import NoPaoOffice, node_components
from gis_registry.network.cuts import CutForest, cut_forest, independent
from gis_registry.network.graph import RoutingGraph
from gis_registry.network.model import Network, NetworkConfig, load_network
from gis_registry.network.restrictions import Restrictions, closed_edges
from gis_registry.network.topology import ranges

_NAMES = {
    "bridge": text("SELECT id, name_th, name_en FROM bridges WHERE id IN :ids"),
    "road": text("SELECT id, name_th, name_en FROM roads WHERE id IN :ids"),
}
_NAMES = {k: q.bindparams(bindparam("ids", expanding=True)) for k, q in _NAMES.items()}


@dataclass
class CriticalItem:
    """The effect of closing one bridge or road segment."""

    kind: str
    id: int
    road_id: int
    name_th: str = ""
    name_en: str = ""
    cut_off: list[dict] = field(default_factory=list)
    lost_district_office: list[dict] = field(default_factory=list)
    delayed: list[dict] = field(default_factory=list)

    @property
    def critical(self) -> bool:
        """True when the closure disconnects a place (from the PAO or its district office)."""
        return bool(self.cut_off or self.lost_district_office)

    @property
    def cut_off_population(self) -> int:
        """Villagers cut off from the PAO office (sum of the cut-off villages' population)."""
        return sum(p["population"] for p in self.cut_off if p["kind"] == "village")

    @property
    def cut_off_lgos(self) -> list[str]:
        """Codes of the local bodies (LGO offices) cut off from the PAO office."""
        return [p["code"] for p in self.cut_off if p["kind"] == "lgo"]

    @property
    def cut_off_villages(self) -> list[int]:
        """Ids of the villages cut off from the PAO office."""
        return [p["id"] for p in self.cut_off if p["kind"] == "village"]

    @property
    def delayed_population(self) -> int:
        """Villagers still connected whose fastest route from the PAO office gets slower."""
        return sum(p["population"] for p in self.delayed if p["kind"] == "village")

    def rank_key(self) -> tuple:
        """Sort key that puts the worst closure first.

        Orders by population cut off, then places cut off, then places cut from their district
        office, then delay in person-seconds (a place that becomes unreachable counts 1e9 s);
        kind and id break ties so the ranking is stable.
        """
        person_s = sum(
            p["population"] * (p["increase_s"] if p["increase_s"] is not None else 1e9)
            for p in self.delayed
            if p["kind"] == "village"
        )
        return (
            -self.cut_off_population,
            -len(self.cut_off),
            -len(self.lost_district_office),
            -person_s,
            self.kind,
            self.id,
        )

    def to_dict(self) -> dict:
        """The item as a JSON-ready dict, derived figures included."""
        return {
            "kind": self.kind,
            "id": self.id,
            "road_id": self.road_id,
            "name_th": self.name_th,
            "name_en": self.name_en,
            "critical": self.critical,
            "cut_off_population": self.cut_off_population,
            "cut_off_lgos": self.cut_off_lgos,
            "cut_off_villages": self.cut_off_villages,
            "cut_off": self.cut_off,
            "lost_district_office": self.lost_district_office,
            "delayed_population": self.delayed_population,
            "delayed": self.delayed,
        }


@dataclass
class Criticality:
    """Bridges and road segments whose closure cuts off or delays places, worst first."""

    root: dict
    items: list[CriticalItem]
    analysed: dict
    baseline_cut_off: list[dict]
    restrictions: dict = field(default_factory=dict)

    @property
    def critical(self) -> list[CriticalItem]:
        """The items whose closure disconnects a place (delay-only items left out)."""
        return [i for i in self.items if i.critical]

    def to_dict(self) -> dict:
        """The result as a JSON-ready dict, with the count of critical items."""
        return {
            "root": self.root,
            "analysed": self.analysed,
            "critical_count": len(self.critical),
            "items": [i.to_dict() for i in self.items],
            "baseline_cut_off": self.baseline_cut_off,
            "restrictions": self.restrictions,
        }


def criticality(
    conn: Connection,
    *,
    restrictions: Restrictions | None = None,
    bridges: bool = True,
    roads: bool = True,
    delays: bool = True,
    network: Network | None = None,
    config: NetworkConfig | None = None,
) -> Criticality:
    """For every bridge and road segment, the places its closure cuts off or slows down.

    Parameters
    ----------
    restrictions
        Closures and restrictions already in force (the analysis runs on what is left).
    bridges, roads
        Which items to analyse.
    delays
        Also compute travel-time increases from the PAO office for places that stay connected.

    Returns
    -------
    Criticality
        Items with any effect, ranked by population cut off, then by delay (person-seconds).

    Raises
    ------
    NoPaoOffice
        When there is no PAO office or no road.
    """
    net = network if network is not None else load_network(conn, config=config)
    places = net.places
    if places.pao < 0 or places.node[places.pao] < 0:
        raise NoPaoOffice()
    closed = closed_edges(conn, net, restrictions)
    open_edges = np.ones(net.topo.n_edges, bool) if closed is None else ~closed
    root = int(places.node[places.pao])
    forest = cut_forest(
        net.topo.source, net.topo.target, net.topo.n_nodes, open_edges=open_edges, root=root
    )
    ctx = _Context(net, forest, open_edges, root)

    items: list[tuple[str, int, int, np.ndarray]] = []
    if bridges:
        for i, e in enumerate(net.bridge_edge.tolist()):
            edges = np.array([e] if e >= 0 and open_edges[e] else [], dtype=np.int64)
            items.append(("bridge", int(net.bridges.ids[i]), int(net.bridges.road_id[i]), edges))
    if roads:
        starts, ends = net.topo.road_edges[:-1], net.topo.road_edges[1:]
        for r in np.flatnonzero(ends > starts).tolist():
            edges = np.arange(starts[r], ends[r])
            edges = edges[open_edges[edges]]
            items.append(("road", int(net.roads.ids[r]), int(net.roads.ids[r]), edges))

    delay = _Delays(net, closed, ctx) if delays else None
    found: list[CriticalItem] = []
    for kind, item_id, road_id, edges in items:
        deadline.check()
        if len(edges) == 0:
            continue
        cut, lost = ctx.cuts(edges)
        delayed = delay.delayed(edges, set(cut)) if delay is not None else []
        if cut or lost or delayed:
            found.append(
                CriticalItem(
                    kind=kind,
                    id=item_id,
                    road_id=road_id,
                    cut_off=[places.to_dict(r) for r in cut],
                    lost_district_office=[places.to_dict(r) for r in lost],
                    delayed=delayed,
                )
            )
    found.sort(key=CriticalItem.rank_key)
    _name(conn, found)
    return Criticality(
        root=places.to_dict(places.pao),
        items=found,
        analysed={
            "bridges": len(net.bridges.ids) if bridges else 0,
            "roads": len(net.roads.ids) if roads else 0,
        },
        baseline_cut_off=[places.to_dict(r) for r in ctx.baseline_cut],
        restrictions=(restrictions or Restrictions()).to_dict(),
    )


def _name(conn: Connection, items: list[CriticalItem]) -> None:
    for kind, query in _NAMES.items():
        ids = sorted({i.id for i in items if i.kind == kind})
        if not ids:
            continue
        names = {r.id: r for r in conn.execute(query, {"ids": ids})}
        for item in items:
            if item.kind == kind and item.id in names:
                item.name_th, item.name_en = names[item.id].name_th, names[item.id].name_en


class _Context:
    """The cut forest and where the places sit in it."""

    def __init__(self, net: Network, forest: CutForest, open_edges: np.ndarray, root: int):
        self.net, self.forest, self.open_edges = net, forest, open_edges
        places = net.places
        kinds = np.asarray(places.kind)
        rows = np.flatnonzero(np.isin(kinds, ("lgo", "village")) & (places.node >= 0))
        self.root_comp = forest.component[root]
        comp = forest.component[places.node[rows]]
        self.baseline_cut = rows[comp != self.root_comp].tolist()
        # Places connected to the PAO office, by preorder position (for range queries).
        connected = rows[comp == self.root_comp]
        pre = forest.pre[places.node[connected]]
        order = np.argsort(pre, kind="stable")
        self.sorted_pre, self.sorted_rows = pre[order], connected[order]
        # Places and their district office, when both are on the network and connected.
        d = places.district[rows]
        ok = d >= 0
        ok[ok] &= places.node[d[ok]] >= 0
        rows, d = rows[ok], d[ok]
        same = forest.component[places.node[rows]] == forest.component[places.node[d]]
        rows, d = rows[same], d[same]
        self.d_rows, self.d_office = rows, d
        # ... sorted by the place's preorder, and grouped by the office's preorder.
        place_pre, office_pre = forest.pre[places.node[rows]], forest.pre[places.node[d]]
        order = np.argsort(place_pre, kind="stable")
        self.dp_pre, self.dp_rows, self.dp_office_pre = (
            place_pre[order],
            rows[order],
            office_pre[order],
        )
        order = np.argsort(office_pre, kind="stable")
        self.do_pre, self.do_rows, self.do_place_pre = (
            office_pre[order],
            rows[order],
            place_pre[order],
        )

    def cuts(self, edges: np.ndarray) -> tuple[list[int], list[int]]:
        """Places cut from the PAO office, and places cut from their district office."""
        f = self.forest
        is_bridge = f.bridge[edges]
        others = edges[~is_bridge]
        if len(others) >= 2 and not independent(f.label[others]):
            return self._exact(edges)
        spans = [f.below(e) for e in edges[is_bridge]]
        if not spans:
            return [], []
        cut: list[int] = []
        for lo, hi in spans:
            a, b = np.searchsorted(self.sorted_pre, [lo, hi])
            cut.extend(self.sorted_rows[a:b].tolist())

        def inside(pre: np.ndarray) -> np.ndarray:
            hit = np.zeros(len(pre), dtype=bool)
            for lo, hi in spans:
                hit |= (pre >= lo) & (pre < hi)
            return hit

        # A place loses its district office when exactly one of the two is on the cut side.
        lost: list[int] = []
        for pre, rows, other in (
            (self.dp_pre, self.dp_rows, self.dp_office_pre),
            (self.do_pre, self.do_rows, self.do_place_pre),
        ):
            for lo, hi in spans:
                a, b = np.searchsorted(pre, [lo, hi])
                lost.extend(rows[a:b][~inside(other[a:b])].tolist())
        return sorted(set(cut)), sorted(set(lost))

    def _exact(self, edges: np.ndarray) -> tuple[list[int], list[int]]:
        net = self.net
        closed = ~self.open_edges.copy()
        closed[edges] = True
        _, label = node_components(net, closed)
        node = net.places.node
        root_label = label[node[net.places.pao]]
        cut = [int(r) for r in self.sorted_rows if label[node[r]] != root_label]
        lost = [
            int(r)
            for r, d in zip(self.d_rows, self.d_office, strict=True)
            if label[node[r]] != label[node[d]]
        ]
        return sorted(cut), lost


class _Delays:
    """Travel-time increases from the PAO office, by repairing its shortest-path tree."""

    def __init__(self, net: Network, closed: np.ndarray | None, ctx: _Context):
        self.net, self.ctx = net, ctx
        g: RoutingGraph = net.core
        self.g = g
        self.mask = g.arc_mask(closed)
        self.open_arc = np.ones(len(g.tail), bool) if self.mask is None else self.mask
        root = int(g.index_of[net.places.node[net.places.pao]])
        self.dist, pred = g.shortest(root, "time", self.mask)
        n = g.n
        # The arc each node is reached by: the fastest open arc from its predecessor.
        child = np.flatnonzero(pred >= 0)
        self.tree_arc = np.full(n, -1, dtype=np.int64)
        if len(child):
            arcs = np.flatnonzero(self.open_arc)
            key = g.tail[arcs] * n + g.head[arcs]
            order = np.lexsort((g.time_s[arcs], key))
            key, arcs = key[order], arcs[order]
            self.tree_arc[child] = arcs[
                np.searchsorted(key, pred[child].astype(np.int64) * n + child)
            ]
        self.is_tree_arc = np.zeros(len(g.tail), bool)
        self.is_tree_arc[self.tree_arc[child]] = True
        tree = sparse.csr_matrix(
            (np.ones(len(child), np.float32), (pred[child], child)), shape=(n, n)
        )
        order, parent = csgraph.depth_first_order(tree, root, directed=True)
        self.pre = np.full(n, -1, dtype=np.int64)
        self.pre[order] = np.arange(len(order))
        size = np.ones(n, dtype=np.int64)
        par = parent.tolist()
        sz = size.tolist()
        for v in order[::-1].tolist():
            if par[v] >= 0:
                sz[par[v]] += sz[v]
        self.end = self.pre + np.asarray(sz)
        self.tree_order = order
        # Places by tree preorder; arcs by chain and by head, for quick lookups.
        places = net.places
        rows = ctx.sorted_rows
        ppre = self.pre[g.index_of[places.node[rows]]]
        order = np.argsort(ppre, kind="stable")
        self.p_pre, self.p_rows = ppre[order], rows[order]
        self.by_chain = np.argsort(g.chain, kind="stable")
        self.chain_sorted = g.chain[self.by_chain]
        self.by_head = np.argsort(g.head, kind="stable")
        self.head_ptr = np.searchsorted(g.head[self.by_head], np.arange(n + 1))

    def delayed(self, edges: np.ndarray, cut: set[int]) -> list[dict]:
        g, places = self.g, self.net.places
        chains = np.unique(g.edge_chain[edges])
        a = np.searchsorted(self.chain_sorted, chains, side="left")
        b = np.searchsorted(self.chain_sorted, chains, side="right")
        arcs = self.by_chain[ranges(a, b)]
        tree = arcs[self.is_tree_arc[arcs]]
        if len(tree) == 0:
            return []  # off the shortest-path tree: nobody's fastest route changes
        heads = g.head[tree]
        spans = np.column_stack([self.pre[heads], self.end[heads]])
        bounds = np.searchsorted(self.p_pre, spans)
        rows = np.unique(self.p_rows[ranges(bounds[:, 0], bounds[:, 1])])
        if cut:
            rows = rows[~np.isin(rows, list(cut))]
        if len(rows) == 0:
            return []
        nodes, new = self._repair(spans, arcs)
        v = g.index_of[places.node[rows]]
        before = self.dist[v]
        after = new[np.searchsorted(nodes, v)]
        slower = after - before > 1e-9
        out = []
        for r, b, a in zip(
            rows[slower].tolist(), before[slower].tolist(), after[slower].tolist(), strict=True
        ):
            d = places.to_dict(r)
            finite = bool(np.isfinite(a))
            d["before_s"] = b
            d["after_s"] = a if finite else None
            d["increase_s"] = a - b if finite else None
            out.append(d)
        return out

    def _repair(self, spans: np.ndarray, closed_arcs: np.ndarray):
        """New distances of the nodes below the closed tree arcs (others keep theirs):
        (sorted nodes, their distances)."""
        g = self.g
        nodes = np.unique(self.tree_order[ranges(spans[:, 0], spans[:, 1])])
        arcs = self.by_head[ranges(self.head_ptr[nodes], self.head_ptr[nodes + 1])]
        arcs = arcs[self.open_arc[arcs] & ~np.isin(arcs, closed_arcs)]
        tails = g.tail[arcs]
        pos = np.minimum(np.searchsorted(nodes, tails), len(nodes) - 1)
        inner = nodes[pos] == tails
        outer = ~inner & np.isfinite(self.dist[tails])
        m = len(nodes)
        heads = np.searchsorted(nodes, g.head[arcs])
        rows = np.concatenate([pos[inner], np.full(int(outer.sum()), m)])
        cols = np.concatenate([heads[inner], heads[outer]])
        w = np.concatenate([g.time_s[arcs[inner]], self.dist[tails[outer]] + g.time_s[arcs[outer]]])
        srt = np.argsort(rows, kind="stable")
        indptr = np.searchsorted(rows[srt], np.arange(m + 2))
        # Built from indptr, not COO: parallel arcs must not be summed.
        sub = sparse.csr_matrix((w[srt], cols[srt], indptr), shape=(m + 1, m + 1))
        return nodes, csgraph.dijkstra(sub, directed=True, indices=m)[:m]
