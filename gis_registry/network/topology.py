"""Noding the roads layer into a graph: nodes, edges and their geometry.

Roads meet where they share a vertex, or where vertices lie within a snapping tolerance (metres,
measured in the province's UTM zone: :func:`gis_registry.geodesy.metric_srid`, carried by
:class:`RoadArrays` as ``metric_srid``). Two rules keep junctions honest:

* a road never meets another at a mere crossing of lines: without a shared vertex there is no
  junction (no noding at geometric intersections);
* vertices on different ``layer`` values (a road on a bridge over another) do not meet, except
  road *ends* on different layers, which do: that is how an OSM-style bridge way (layer 1) joins
  its approaches (layer 0).

Interior vertices become nodes only when another road (or the road's own end) meets them, so a
road is split into as many edges as it has junctions along it. A road end that lies on another
road's line between two of its vertices is not a junction either (no snapping to lines): such
data should be noded upstream. Everything is vectorised (numpy, scipy) because the scale-100
network has about a million roads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gis_registry import deadline, domain
from gis_registry.geodesy import DEFAULT_METRIC_SRID, transformer, utm_epsg


@dataclass(frozen=True)
class RoadArrays:
    """The columns of ``roads`` the network needs, as arrays (roads sorted by id).

    ``lonlat`` and ``xy`` hold every vertex of every road, road ``i`` owning rows
    ``offsets[i]:offsets[i + 1]``; ``xy`` is in metres in EPSG:``metric_srid`` (a UTM zone),
    the CRS everything else measured in metres on the network (places, bridges) must share.
    """

    ids: np.ndarray
    class_idx: np.ndarray
    surface_idx: np.ndarray
    oneway: np.ndarray
    layer: np.ndarray
    offsets: np.ndarray
    lonlat: np.ndarray
    xy: np.ndarray
    metric_srid: int

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, road_ids: np.ndarray) -> np.ndarray:
        """Row indices of ``road_ids`` (-1 where a road does not exist)."""
        road_ids = np.asarray(road_ids, dtype=np.int64)
        if len(self.ids) == 0:
            return np.full(road_ids.shape, -1, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.ids, road_ids), 0, len(self.ids) - 1)
        return np.where(self.ids[pos] == road_ids, pos, -1)


def own_utm_srid(lonlat: np.ndarray) -> int:
    """The UTM zone (EPSG code) of the middle of lon/lat points; the default zone when empty."""
    if len(lonlat) == 0:
        return DEFAULT_METRIC_SRID
    lon, lat = np.median(np.asarray(lonlat, dtype=np.float64).reshape(-1, 2), axis=0)
    return utm_epsg(lon, lat)


def to_metric(lonlat: np.ndarray, srid: int | None = None) -> np.ndarray:
    """Project lon/lat (EPSG:4326) to metres in EPSG:``srid``.

    Parameters
    ----------
    lonlat : (n, 2) array of lon/lat
    srid : the metric CRS, e.g. :attr:`RoadArrays.metric_srid`; default the UTM zone of these
        points' middle (:func:`own_utm_srid`). Pass it whenever the result is compared with
        other projected points: two calls with their own defaults may pick different zones.

    Returns
    -------
    ndarray
        (n, 2) array of x, y in metres.
    """
    lonlat = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    srid = own_utm_srid(lonlat) if srid is None else int(srid)
    x, y = transformer(4326, srid).transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def to_lonlat(xy: np.ndarray, srid: int) -> np.ndarray:
    """Metres in EPSG:``srid`` (e.g. :attr:`RoadArrays.metric_srid`) back to lon/lat: the
    inverse of :func:`to_metric`; (n, 2) in, (n, 2) out."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    lon, lat = transformer(int(srid), 4326).transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def road_arrays(
    ids,
    lonlat: np.ndarray,
    offsets: np.ndarray,
    *,
    road_class,
    surface,
    oneway,
    layer,
    metric_srid: int | None = None,
) -> RoadArrays:
    """Assemble :class:`RoadArrays` from per-road values and the concatenated vertices.

    ``road_class`` and ``surface`` are names (from :mod:`gis_registry.domain`) or their indices.
    ``metric_srid`` is the CRS of ``xy`` (default: the UTM zone of the roads' middle).
    """
    ids = np.asarray(ids, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    offsets = np.asarray(offsets, dtype=np.int64)
    lonlat = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    if not np.all(order == np.arange(len(ids))):
        counts = np.diff(offsets)[order]
        rows = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in order])
        lonlat = lonlat[rows]
        offsets = np.concatenate([[0], np.cumsum(counts)])
    return RoadArrays(
        ids=ids[order],
        class_idx=_codes(road_class, domain.ROAD_CLASSES)[order],
        surface_idx=_codes(surface, domain.SURFACES)[order],
        oneway=np.asarray(oneway, dtype=bool)[order],
        layer=np.asarray(layer, dtype=np.int64)[order],
        offsets=offsets,
        lonlat=lonlat,
        xy=to_metric(lonlat, metric_srid) if len(lonlat) else np.zeros((0, 2)),
        metric_srid=own_utm_srid(lonlat) if metric_srid is None else int(metric_srid),
    )


def _codes(values, vocabulary: tuple[str, ...]) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int8)
    lookup = {v: i for i, v in enumerate(vocabulary)}
    return np.array([lookup[v] for v in arr], dtype=np.int8)


@dataclass(frozen=True)
class Topology:
    """The noded network.

    Edges are sorted by road (``road_edges[i]:road_edges[i + 1]`` are road ``i``'s edges, in
    digitising order) and run from ``source`` to ``target`` along vertices ``v0..v1`` (inclusive,
    rows of :attr:`RoadArrays.lonlat`).
    """

    node_xy: np.ndarray
    source: np.ndarray
    target: np.ndarray
    road: np.ndarray
    v0: np.ndarray
    v1: np.ndarray
    length_m: np.ndarray
    road_edges: np.ndarray
    tolerance_m: float

    @property
    def n_nodes(self) -> int:
        """Number of nodes (junctions and road ends)."""
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        """Number of edges (road pieces between junctions)."""
        return len(self.source)

    def edges_of_roads(self, road_idx: np.ndarray) -> np.ndarray:
        """Edge indices of the roads at rows ``road_idx``."""
        road_idx = np.asarray(road_idx, dtype=np.int64)
        return ranges(self.road_edges[road_idx], self.road_edges[road_idx + 1])


def ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, e) for s, e in zip(starts, ends)])``, vectorised."""
    counts = np.asarray(ends, dtype=np.int64) - starts
    if len(counts) == 0:
        return np.zeros(0, dtype=np.int64)
    before = np.cumsum(counts) - counts  # output position where each range starts
    return np.repeat(starts - before, counts) + np.arange(before[-1] + counts[-1])


def _cluster(xy: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Cluster label per point: points within ``tolerance_m`` (single linkage) share a label."""
    from scipy import sparse
    from scipy.sparse import csgraph
    from scipy.spatial import cKDTree

    if len(xy) == 0:
        return np.zeros(0, dtype=np.int64)
    # Shared vertices are usually bit-identical: collapse them first so the KD-tree is small.
    q = np.round(xy * 1000.0).astype(np.int64)  # millimetres
    q -= q.min(axis=0)
    if q.max(initial=0) < 2**31:
        _, first, inverse = np.unique(
            (q[:, 0] << 31) | q[:, 1], return_index=True, return_inverse=True
        )
    else:  # pragma: no cover - a network wider than 2,000 km
        _, first, inverse = np.unique(q, axis=0, return_index=True, return_inverse=True)
    labels = np.arange(len(first))
    if tolerance_m > 0 and len(first) > 1:
        deadline.check()  # the KD-tree steps cannot be interrupted: look before each
        tree = cKDTree(xy[first], balanced_tree=False, compact_nodes=False)
        deadline.check()
        pairs = tree.query_pairs(tolerance_m, output_type="ndarray")
        deadline.check()
        if len(pairs):
            graph = sparse.coo_matrix(
                (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])),
                shape=(len(first), len(first)),
            )
            _, labels = csgraph.connected_components(graph, directed=False)
    return labels[inverse.ravel()]


def _node_groups(cluster: np.ndarray, layer: np.ndarray, endpoint: np.ndarray) -> np.ndarray:
    """Group id per vertex: same cluster and layer, or road ends of the same cluster."""
    from scipy import sparse
    from scipy.sparse import csgraph

    layer = layer - layer.min(initial=0)
    n_layers = int(layer.max(initial=0)) + 1
    key = cluster.astype(np.int64) * n_layers + layer
    keys, group = np.unique(key, return_inverse=True)
    if n_layers == 1:
        return group
    # Road ends of one cluster meet across layers: link every end's group to the cluster's
    # first end group, then take connected components over groups.
    ends = np.flatnonzero(endpoint)
    order = ends[np.lexsort((group[ends], cluster[ends]))]
    first_of_cluster = np.r_[True, cluster[order][1:] != cluster[order][:-1]]
    head = np.maximum.accumulate(np.where(first_of_cluster, np.arange(len(order)), 0))
    a, b = group[order], group[order][head]
    link = a != b
    if not link.any():
        return group
    graph = sparse.coo_matrix(
        (np.ones(int(link.sum()), dtype=np.int8), (a[link], b[link])),
        shape=(len(keys), len(keys)),
    )
    _, merged = csgraph.connected_components(graph, directed=False)
    return merged[group]


def build_topology(roads: RoadArrays, *, tolerance_m: float = 1.0) -> Topology:
    """Node ``roads`` into a graph.

    Parameters
    ----------
    roads
        The roads, as read by :func:`gis_registry.network.sources.read_roads` or built with
        :func:`road_arrays`.
    tolerance_m
        Vertices closer than this (metres) are one node; 0 joins only identical vertices
        (to the millimetre).

    Returns
    -------
    Topology
        Nodes and edges; self-loops (a closed road without a junction, or a vertex repeated
        within the tolerance) are dropped since no shortest path uses them.
    """
    n_roads, n_vertices = len(roads), len(roads.xy)
    counts = np.diff(roads.offsets)
    vertex_road = np.repeat(np.arange(n_roads), counts)
    endpoint = np.zeros(n_vertices, dtype=bool)
    if n_roads:
        endpoint[roads.offsets[:-1]] = True
        endpoint[roads.offsets[1:] - 1] = True

    group = _node_groups(_cluster(roads.xy, tolerance_m), roads.layer[vertex_road], endpoint)
    deadline.check()
    n_groups = int(group.max(initial=-1)) + 1
    # An interior vertex is a junction when another road, or any road's end, shares its group.
    pairs = np.sort(group.astype(np.int64) * max(n_roads, 1) + vertex_road)
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    roads_per_group = np.bincount(pairs // max(n_roads, 1), minlength=n_groups)
    group_has_end = np.zeros(n_groups, dtype=bool)
    group_has_end[group[endpoint]] = True
    is_node = endpoint | (roads_per_group[group] >= 2) | group_has_end[group]

    node_vertices = np.flatnonzero(is_node)
    _, first, node_of_group = np.unique(
        group[node_vertices], return_index=True, return_inverse=True
    )
    node_xy = roads.xy[node_vertices[first]]
    node_of_vertex = np.full(n_vertices, -1, dtype=np.int64)
    node_of_vertex[node_vertices] = node_of_group.ravel()

    # Edges join consecutive junction vertices of the same road.
    a, b = node_vertices[:-1], node_vertices[1:]
    same_road = vertex_road[a] == vertex_road[b]
    seg = np.zeros(n_vertices)
    if n_vertices > 1:
        seg[:-1] = np.hypot(*(roads.xy[1:] - roads.xy[:-1]).T)
        seg[roads.offsets[1:] - 1] = 0.0  # no segment from a road's last vertex to the next road
    sums = np.add.reduceat(seg, node_vertices) if len(node_vertices) else seg[:0]
    length = sums[:-1]
    source, target = node_of_vertex[a], node_of_vertex[b]
    keep = same_road & (source != target)
    road = vertex_road[a][keep]
    road_edges = np.searchsorted(road, np.arange(n_roads + 1))
    return Topology(
        node_xy=node_xy,
        source=source[keep],
        target=target[keep],
        road=road,
        v0=a[keep],
        v1=b[keep],
        length_m=length[keep],
        road_edges=road_edges,
        tolerance_m=float(tolerance_m),
    )
