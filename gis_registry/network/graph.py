"""Directed routing graphs for Dijkstra (scipy.sparse.csgraph), with degree-2 chains contracted.

Each edge can be walked in two *states*: ``2e`` (source to target) and ``2e + 1`` (target to
source, forbidden on one-way roads). A :class:`RoutingGraph` is defined by its *stop* nodes: an
arc walks from a stop node through non-stop nodes until it reaches the next stop node.

* The full graph stops at every node: one arc per allowed state.
* The core graph stops only at junctions (degree other than 2) and at the nodes places attach
  to, so chains of degree-2 nodes become one arc. Shortest paths between stop nodes are the same
  in both graphs (a chain interior has nowhere else to go), and the core is smaller.

These serve the analyses under closures (closing an edge closes the arc of its chain: every arc
carries the *chain key* of its edges); without closures the contraction hierarchy
(:mod:`.hierarchy`) answers instead, in milliseconds.

scipy.sparse.csgraph won the measured comparison (``bench/bench_network.py``, scale 100: build
0.3 s and one single-source Dijkstra 0.2 s, against igraph 2.7 s / 1.4 s, rustworkx 1.5 s /
1.0 s, networkx 14 s / 6.9 s): a CSR matrix is a few numpy operations away from our edge arrays,
its Dijkstra runs in C without Python callbacks, and it is already a dependency (KD-trees).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

# scipy is imported where it is used: a CLI route loaded from a snapshot between LGO offices
# never needs it, and importing it is a third of a cold process's time.
if TYPE_CHECKING:
    from scipy import sparse

WEIGHTS = ("time", "distance")


def check_weight(by: str) -> str:
    """``by`` itself when it names a weight ("time" or "distance"); else a ValidationError."""
    if by not in WEIGHTS:
        from gis_registry.errors import ValidationError

        raise ValidationError("route", [(None, "by", f"must be one of {', '.join(WEIGHTS)}")])
    return by


@dataclass
class RoutingGraph:
    """Arcs between stop nodes, sorted by (tail, head), ready to become a CSR matrix.

    ``node_of[i]`` is the topology node of graph node ``i``; ``index_of[n]`` the reverse
    (-1 for nodes that are not stops). ``first_state[a]`` is the state that starts arc ``a``;
    ``next_state`` continues a walk (-1 at a stop), ``edge_chain[e]`` is the chain key of edge
    ``e`` and ``chain[a]`` that of arc ``a``.
    """

    node_of: np.ndarray
    index_of: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    length_m: np.ndarray
    time_s: np.ndarray
    first_state: np.ndarray
    chain: np.ndarray
    next_state: np.ndarray
    edge_chain: np.ndarray
    _csr: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        """Number of graph nodes (the stop nodes)."""
        return len(self.node_of)

    def weights(self, by: str) -> np.ndarray:
        """Arc weights for ``by``: travel time in seconds or length in metres."""
        return self.time_s if check_weight(by) == "time" else self.length_m

    def arc_mask(self, closed_edges: np.ndarray | None) -> np.ndarray | None:
        """Arcs that stay open when ``closed_edges`` (boolean per edge) are closed."""
        if closed_edges is None or not closed_edges.any():
            return None
        closed_chains = np.unique(self.edge_chain[np.flatnonzero(closed_edges)])
        return ~np.isin(self.chain, closed_chains)

    def matrix(self, by: str, mask: np.ndarray | None = None) -> sparse.csr_matrix:
        """The CSR adjacency weighted ``by`` time or distance, without masked-out arcs."""
        from scipy import sparse

        if mask is None and by in self._csr:
            return self._csr[by]
        w, tail, head = self.weights(by), self.tail, self.head
        if mask is not None:
            w, tail, head = w[mask], tail[mask], head[mask]
        indptr = np.searchsorted(tail, np.arange(self.n + 1))
        # Parallel arcs stay as duplicates: csgraph relaxes each, so the cheapest wins.
        csr = sparse.csr_matrix((w, head, indptr), shape=(self.n, self.n))
        if mask is None:
            self._csr[by] = csr
        return csr

    def shortest(
        self, sources, by: str, mask: np.ndarray | None = None, *, predecessors: bool = True
    ):
        """Dijkstra from ``sources`` (graph node indices); see ``scipy.sparse.csgraph.dijkstra``."""
        from scipy.sparse import csgraph

        return csgraph.dijkstra(
            self.matrix(by, mask),
            directed=True,
            indices=sources,
            return_predecessors=predecessors,
        )

    def path_arcs(self, nodes: np.ndarray, by: str, mask: np.ndarray | None = None) -> np.ndarray:
        """The cheapest open arc between each pair of consecutive graph nodes of a path."""
        w = self.weights(by)
        lo = np.searchsorted(self.tail, nodes[:-1], side="left")
        hi = np.searchsorted(self.tail, nodes[:-1], side="right")
        arcs = np.empty(len(nodes) - 1, dtype=np.int64)
        for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
            cand = a + np.flatnonzero(self.head[a:b] == nodes[i + 1])
            if mask is not None:
                cand = cand[mask[cand]]
            arcs[i] = cand[np.argmin(w[cand])]
        return arcs

    def states(self, arcs: np.ndarray) -> list[int]:
        """The edge states walked by ``arcs``, in order."""
        out: list[int] = []
        nxt = self.next_state
        for a in arcs:
            s = int(self.first_state[a])
            while s >= 0:
                out.append(s)
                s = int(nxt[s])
        return out


def state_arrays(
    source: np.ndarray, target: np.ndarray, oneway: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tail, head and allowed flag of every state (``2e`` forward, ``2e + 1`` backward)."""
    tail = np.empty(2 * len(source), dtype=np.int64)
    head = np.empty_like(tail)
    tail[0::2], head[0::2] = source, target
    tail[1::2], head[1::2] = target, source
    allowed = np.ones(len(tail), dtype=bool)
    allowed[1::2] = ~oneway
    return tail, head, allowed


def build_routing_graph(
    source: np.ndarray,
    target: np.ndarray,
    oneway: np.ndarray,
    length_m: np.ndarray,
    time_s: np.ndarray,
    n_nodes: int,
    *,
    stops: np.ndarray | None = None,
) -> RoutingGraph:
    """Contract the edges into arcs between ``stops`` (boolean per node; None = every node).

    Nodes of degree other than 2 are always stops: only chains through degree-2 nodes contract.
    """
    n_edges = len(source)
    tail, head, allowed = state_arrays(source, target, oneway)
    state_len = np.repeat(length_m, 2)
    state_time = np.repeat(time_s, 2)
    degree = np.bincount(np.r_[source, target], minlength=n_nodes)
    stop = degree != 2
    if stops is None:
        stop[:] = True
    else:
        stop |= stops
    nxt = np.full(2 * n_edges, -1, dtype=np.int64)
    if not stop.all():
        # Each interior node has exactly two incident edges: arriving on one, leave on the other.
        ends = np.r_[source, target]
        order = np.argsort(ends, kind="stable")
        first = np.searchsorted(ends[order], np.arange(n_nodes))
        edge_at = np.r_[np.arange(n_edges), np.arange(n_edges)][order]
        arriving = np.flatnonzero(~stop[head])
        h = head[arriving]
        e_in = arriving // 2
        e1, e2 = edge_at[first[h]], edge_at[first[h] + 1]
        e_out = np.where(e1 == e_in, e2, e1)
        nxt[arriving] = 2 * e_out + (source[e_out] != h)
    last = np.arange(2 * n_edges)
    acc_len, acc_time, acc_ok = state_len.copy(), state_time.copy(), allowed.copy()
    jump = nxt.copy()
    # Pointer jumping: after k rounds each state knows the sums over its next 2**k states.
    # Chains without a stop (isolated rings) never finish; they hold no place, so they are left.
    for _ in range(64):
        m = np.flatnonzero(jump >= 0)
        if len(m) == 0:
            break
        j = jump[m]
        acc_len[m] += acc_len[j]
        acc_time[m] += acc_time[j]
        acc_ok[m] &= acc_ok[j]
        last[m] = last[j]
        jump[m] = jump[j]
    finished = jump < 0
    # A chain's key is the smaller of its two final states (one per direction): every state of
    # the chain, in either direction, computes the same key.
    chain_key = np.minimum(last, last[np.arange(2 * n_edges) ^ 1])
    starts = np.flatnonzero(stop[tail] & finished & acc_ok)
    starts = starts[tail[starts] != head[last[starts]]]  # a chain back to its own stop: no use
    node_of = np.flatnonzero(stop)
    index_of = np.full(n_nodes, -1, dtype=np.int64)
    index_of[node_of] = np.arange(len(node_of))
    a_tail, a_head = index_of[tail[starts]], index_of[head[last[starts]]]
    order = np.lexsort((a_head, a_tail))
    starts = starts[order]
    return RoutingGraph(
        node_of=node_of,
        index_of=index_of,
        tail=a_tail[order],
        head=a_head[order],
        length_m=acc_len[starts],
        time_s=acc_time[starts],
        first_state=starts,
        chain=chain_key[starts],
        next_state=nxt,
        edge_chain=chain_key[0::2],
    )
