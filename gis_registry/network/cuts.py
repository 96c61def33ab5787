"""Exact single-failure cuts of an undirected multigraph: graph bridges and their cut sides.

One depth-first forest answers every single-edge question at once. In a DFS tree every non-tree
edge joins a node to one of its ancestors (a *back edge*), so a tree edge ``parent(v) - v`` is a
bridge exactly when no back edge leaves the subtree of ``v`` upwards:

    cover(v) = sum over the subtree of v of (back edges going up - back edges arriving)

and when it is a bridge, the subtree of ``v`` (a contiguous range of preorder positions) is the
side that loses its connection to the root. Removing several edges together (a road noded into
several edges) can cut more than their bridges alone; random XOR labels tell when: a set of
edges contains an edge cut exactly when some subset's labels XOR to zero (a true cut always
does; a spurious zero has probability 2**-64 and only costs an exact check).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CutForest:
    """A DFS forest of the open edges, rooted at ``roots`` (one per connected component).

    ``pre[v]`` is the preorder position of node ``v`` and ``end[v]`` one past its subtree;
    ``child[e]`` is the lower node of tree edge ``e`` (-1 for non-tree or closed edges);
    ``bridge[e]`` says whether removing edge ``e`` alone disconnects its component.
    """

    component: np.ndarray
    pre: np.ndarray
    end: np.ndarray
    child: np.ndarray
    bridge: np.ndarray
    label: np.ndarray

    def below(self, edge: int) -> tuple[int, int]:
        """Preorder range of the side of tree edge ``edge`` away from its component's root."""
        v = self.child[edge]
        return int(self.pre[v]), int(self.end[v])


def cut_forest(
    source: np.ndarray,
    target: np.ndarray,
    n_nodes: int,
    *,
    open_edges: np.ndarray | None = None,
    root: int | None = None,
    seed: int = 0,
) -> CutForest:
    """DFS forest, bridges and XOR labels of the undirected multigraph of ``open_edges``.

    Parameters
    ----------
    source, target
        Edge end nodes.
    n_nodes
        Node count.
    open_edges
        Boolean mask of the edges present (default all).
    root
        Node to root its component at (the PAO office); other components are rooted at their
        lowest node.
    seed
        Seed of the XOR labels (the result does not depend on it).
    """
    from scipy import sparse
    from scipy.sparse import csgraph

    n_edges = len(source)
    is_open = np.ones(n_edges, dtype=bool) if open_edges is None else open_edges
    live = np.flatnonzero(is_open)
    s, t = source[live], target[live]
    adj = sparse.csr_matrix(
        (np.ones(2 * len(live), dtype=np.float32), (np.r_[s, t], np.r_[t, s])),
        shape=(n_nodes + 1, n_nodes + 1),
    )
    n_comp, component = csgraph.connected_components(adj[:n_nodes, :n_nodes], directed=False)
    # One DFS from a virtual node joined to a root of every component gives the whole forest.
    _, first = np.unique(component, return_index=True)
    roots = first.copy()
    if root is not None and 0 <= root < n_nodes:
        roots[component[root]] = root
    virtual = n_nodes
    adj = adj + sparse.csr_matrix(
        (np.ones(n_comp, dtype=np.float32), (np.full(n_comp, virtual), roots)),
        shape=(n_nodes + 1, n_nodes + 1),
    )
    order, parent = csgraph.depth_first_order(adj, virtual, directed=True)
    order, parent = order[1:], parent[:n_nodes].astype(np.int64)
    parent[roots] = -1
    pre = np.empty(n_nodes, dtype=np.int64)
    pre[order] = np.arange(len(order))
    size = _subtree_sizes(order, parent)
    end = pre + size

    # The tree edge of each child: one of the open edges joining it to its parent.
    child = np.full(n_edges, -1, dtype=np.int64)
    cand = np.where(parent[t] == s, t, np.where(parent[s] == t, s, -1))
    tree_edge = np.full(n_nodes, n_edges, dtype=np.int64)
    has = cand >= 0
    np.minimum.at(tree_edge, cand[has], live[has])
    is_tree = np.zeros(n_edges, dtype=bool)
    is_tree[tree_edge[tree_edge < n_edges]] = True
    child[tree_edge[tree_edge < n_edges]] = np.flatnonzero(tree_edge < n_edges)

    back = live[~is_tree[live]]
    lo = np.where(pre[source[back]] > pre[target[back]], source[back], target[back])
    hi = np.where(pre[source[back]] > pre[target[back]], target[back], source[back])
    flow = np.zeros(n_nodes, dtype=np.int64)
    np.add.at(flow, lo, 1)
    np.add.at(flow, hi, -1)
    cover = _subtree_reduce(flow, order, pre, end, np.cumsum, np.subtract)

    rng = np.random.default_rng(seed)
    label = np.zeros(n_edges, dtype=np.uint64)
    label[back] = rng.integers(1, 2**63, size=len(back), dtype=np.uint64)
    acc = np.zeros(n_nodes, dtype=np.uint64)
    np.bitwise_xor.at(acc, source[back], label[back])
    np.bitwise_xor.at(acc, target[back], label[back])
    xor = _subtree_reduce(acc, order, pre, end, np.bitwise_xor.accumulate, np.bitwise_xor)
    tree_edges = np.flatnonzero(is_tree)
    label[tree_edges] = xor[child[tree_edges]]
    bridge = np.zeros(n_edges, dtype=bool)
    bridge[tree_edges] = cover[child[tree_edges]] == 0
    return CutForest(component=component, pre=pre, end=end, child=child, bridge=bridge, label=label)


def _subtree_sizes(order: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Subtree size of every node (children come after their parent in ``order``)."""
    size = np.ones(len(parent), dtype=np.int64)
    par = parent.tolist()
    sz = size.tolist()
    for v in order[::-1].tolist():
        p = par[v]
        if p >= 0:
            sz[p] += sz[v]
    return np.asarray(sz, dtype=np.int64)


def _subtree_reduce(values, order, pre, end, accumulate, inverse):
    """Reduce ``values`` over every subtree, via a prefix scan over preorder positions."""
    prefix = np.zeros(len(order) + 1, dtype=values.dtype)
    prefix[1:] = accumulate(values[order])
    return inverse(prefix[end], prefix[pre])


def independent(labels: np.ndarray) -> bool:
    """Whether non-zero 64-bit ``labels`` are linearly independent over GF(2)."""
    basis: dict[int, int] = {}  # highest set bit -> basis vector
    for x in (int(v) for v in labels):
        while x:
            top = x.bit_length() - 1
            if top not in basis:
                basis[top] = x
                break
            x ^= basis[top]
        if x == 0:
            return False
    return True
