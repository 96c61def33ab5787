"""Who is connected to the PAO office: connected components of the network.

Connectivity is undirected (a road joins what it touches, whatever its one-way rule); places
the PAO office cannot reach by driving legally are listed separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Connection

from gis_registry.errors import GisRegistryError
from gis_registry.network.model import Network, NetworkConfig, load_network
from gis_registry.network.restrictions import Restrictions, closed_edges


class NoPaoOffice(GisRegistryError):
    """The registry holds no local body of kind 'pao', so there is nothing to connect to."""

    def __init__(self) -> None:
        super().__init__(
            "no PAO office: connectivity is measured from the office of the local body of "
            "kind 'pao', and there is none (or the road network is empty)"
        )


@dataclass
class Components:
    """Connected components and the places cut off from the PAO office.

    ``components`` lists the components holding at least one place, largest first;
    ``fragments`` counts the others (pieces of road with no place on them).
    """

    n_components: int
    components: list[dict]
    fragments: int
    cut_off: list[dict]
    cut_off_population: int
    one_way_unreachable: list[dict]
    restrictions: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The result as a JSON-ready dict."""
        return {
            "n_components": self.n_components,
            "components": self.components,
            "fragments": self.fragments,
            "cut_off": self.cut_off,
            "cut_off_population": self.cut_off_population,
            "one_way_unreachable": self.one_way_unreachable,
            "restrictions": self.restrictions,
        }


def node_components(net: Network, closed: np.ndarray | None) -> tuple[int, np.ndarray]:
    """Undirected connected components of the open edges: (count, label per node)."""
    t = net.topo
    keep = np.ones(t.n_edges, dtype=bool) if closed is None else ~closed
    from scipy import sparse  # here: routes that never need it do not import scipy
    from scipy.sparse import csgraph

    adj = sparse.coo_matrix(
        (np.ones(int(keep.sum()), dtype=np.float32), (t.source[keep], t.target[keep])),
        shape=(t.n_nodes, t.n_nodes),
    )
    return csgraph.connected_components(adj, directed=False)


def components(
    conn: Connection,
    *,
    restrictions: Restrictions | None = None,
    network: Network | None = None,
    config: NetworkConfig | None = None,
) -> Components:
    """Connected components; every LGO office or village not connected to the PAO office.

    Raises
    ------
    NoPaoOffice
        When the registry has no PAO, or no road.
    """
    net = network if network is not None else load_network(conn, config=config)
    places = net.places
    if places.pao < 0 or places.node[places.pao] < 0:
        raise NoPaoOffice()
    closed = closed_edges(conn, net, restrictions)
    n_comp, label = node_components(net, closed)
    t = net.topo
    open_edges = np.ones(t.n_edges, bool) if closed is None else ~closed
    edge_comp = label[t.source[open_edges]]
    n_edges = np.bincount(edge_comp, minlength=n_comp)
    km = np.bincount(edge_comp, weights=t.length_m[open_edges], minlength=n_comp) / 1000
    nodes = np.bincount(label, minlength=n_comp)
    rows = np.flatnonzero(np.isin(np.asarray(places.kind), ("lgo", "village")))
    rows = rows[places.node[rows] >= 0]
    comp_of = label[places.node[rows]]
    pao_comp = label[places.node[places.pao]]
    listed = []
    for c in np.unique(comp_of):
        members = rows[comp_of == c]
        kinds = np.asarray(places.kind)[members]
        listed.append(
            {
                "component": int(c),
                "nodes": int(nodes[c]),
                "edges": int(n_edges[c]),
                "length_km": round(float(km[c]), 3),
                "lgos": int((kinds == "lgo").sum()),
                "villages": int((kinds == "village").sum()),
                "population": int(places.population[members[kinds == "village"]].sum()),
                "has_pao": bool(c == pao_comp),
            }
        )
    listed.sort(key=lambda d: (-d["has_pao"], -d["nodes"]))
    cut = [int(r) for r in rows[comp_of != pao_comp]]
    # Reachable from the PAO office when one-way rules are obeyed?
    core = net.core
    mask = core.arc_mask(closed)
    dist = core.shortest(
        int(core.index_of[places.node[places.pao]]), "time", mask, predecessors=False
    )
    one_way = [
        int(r)
        for r in rows[comp_of == pao_comp]
        if not np.isfinite(dist[core.index_of[places.node[r]]])
    ]
    return Components(
        n_components=int(n_comp),
        components=listed,
        fragments=int(n_comp - len(listed)),
        cut_off=[places.to_dict(r) for r in cut],
        cut_off_population=int(
            sum(places.population[r] for r in cut if places.kind[r] == "village")
        ),
        one_way_unreachable=[places.to_dict(r) for r in one_way],
        restrictions=(restrictions or Restrictions()).to_dict(),
    )
