"""Distances along the road network with pgRouting, for coverage "along roads".

The road segments become an undirected graph (nodes = segment ends snapped to 1e-6 degree,
about 0.1 m; cost = ``roads.length_m``), built in temporary tables on the caller's
connection and dropped afterwards. Each water source joins the network at the nearest point of
its nearest road (at most ``snap_m`` away, the straight walk counting as cost), linked to both
ends of that road through one virtual start node, so a single
``pgr_drivingDistance`` bounded by the coverage distance reaches every node within that
distance of any source. A village joins the network the same way: network distance = source
walk + road path + village walk (or, on the same road as a source, the walk along it).
Road ends are the only junctions here; roads that cross without sharing an end do not meet.
(``gis_registry.network`` offers routes and LGO-office matrices but no many-source distance
field yet; pgRouting does that in the database.)
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

from gis_registry.analysis._frames import degree_radius, geo_frame

_DROP = (
    "DROP TABLE IF EXISTS pg_temp.analysis_edges, pg_temp.analysis_nodes, pg_temp.analysis_sources"
)
_NODES = """
CREATE TEMP TABLE analysis_nodes AS
SELECT row_number() OVER (ORDER BY key) AS id, key, geom
FROM (
    SELECT DISTINCT ON (key) key, geom
    FROM (
        SELECT ST_AsBinary(p) AS key, p AS geom
        FROM roads r,
             LATERAL (VALUES (ST_SnapToGrid(ST_StartPoint(r.geom), 1e-6)),
                             (ST_SnapToGrid(ST_EndPoint(r.geom), 1e-6))) AS e(p)
    ) ends
    ORDER BY key
) u
"""
_NODES_INDEX = "CREATE INDEX ON analysis_nodes USING gist (geom); ANALYZE analysis_nodes"
_EDGES = """
CREATE TEMP TABLE analysis_edges AS
SELECT r.id::bigint AS id, a.id AS source, b.id AS target,
       r.length_m AS cost, r.length_m AS reverse_cost
FROM roads r
JOIN analysis_nodes a ON a.key = ST_AsBinary(ST_SnapToGrid(ST_StartPoint(r.geom), 1e-6))
JOIN analysis_nodes b ON b.key = ST_AsBinary(ST_SnapToGrid(ST_EndPoint(r.geom), 1e-6))
"""
# Each source joins the network at the nearest point of its nearest road (at most snap_m away):
# one virtual one-way edge from the start node to each end of that road, costing the walk plus
# the part of the road to that end.
_SOURCES = """
CREATE TEMP TABLE analysis_sources AS
SELECT w.id AS source_id, r.road_id, r.walk_m, r.f, r.length_m
FROM water_sources w
CROSS JOIN LATERAL (
    SELECT r.id AS road_id, r.length_m,
           ST_Distance(r.geom::geography, w.geom::geography) AS walk_m,
           ST_LineLocatePoint(r.geom, ST_ClosestPoint(r.geom, w.geom)) AS f
    FROM roads r
    WHERE ST_DWithin(r.geom, w.geom, :deg)
    ORDER BY r.geom <-> w.geom, r.id
    LIMIT 1
) r
WHERE (CAST(:kinds AS text[]) IS NULL OR w.kind = ANY(CAST(:kinds AS text[])))
  AND r.walk_m <= :snap_m
"""
_SOURCE_EDGES = """
INSERT INTO analysis_edges (id, source, target, cost, reverse_cost)
SELECT row_number() OVER () + (SELECT coalesce(max(id), 0) FROM roads), :start, e.node, e.cost, -1
FROM analysis_sources a
JOIN analysis_edges ae ON ae.id = a.road_id
CROSS JOIN LATERAL (VALUES (ae.source, a.walk_m + a.f * a.length_m),
                           (ae.target, a.walk_m + (1 - a.f) * a.length_m)) AS e(node, cost)
"""
_VILLAGES = """
WITH reached AS MATERIALIZED (
    SELECT node, agg_cost
    FROM pgr_drivingDistance(
        'SELECT id, source, target, cost, reverse_cost FROM analysis_edges',
        CAST(:start AS bigint), CAST(:distance_m AS float8), directed => true)
),
attach AS MATERIALIZED (
    -- each village joins the network at the nearest point of its nearest road
    SELECT s.id, v.road_id, v.length_m, v.walk_m, v.f
    FROM settlements s
    CROSS JOIN LATERAL (
        SELECT r.id AS road_id, r.length_m,
               ST_Distance(r.geom::geography, s.geom::geography) AS walk_m,
               ST_LineLocatePoint(r.geom, s.geom) AS f
        FROM roads r
        WHERE ST_DWithin(r.geom, s.geom, :deg)
        ORDER BY r.geom <-> s.geom, r.id
        LIMIT 1
    ) v
    WHERE v.walk_m <= :snap_m
),
best AS (
    SELECT a.id, a.walk_m + min(least(
               ra.agg_cost + a.f * a.length_m,
               rb.agg_cost + (1 - a.f) * a.length_m,
               -- a source on the same road: straight along it
               src.walk_m + abs(src.f - a.f) * src.length_m)) AS distance_m
    FROM attach a
    JOIN analysis_edges ae ON ae.id = a.road_id
    LEFT JOIN reached ra ON ra.node = ae.source
    LEFT JOIN reached rb ON rb.node = ae.target
    LEFT JOIN analysis_sources src ON src.road_id = a.road_id
    GROUP BY a.id, a.walk_m
)
SELECT s.id AS settlement_id, s.village_code, s.name_th, s.name_en, s.population,
       s.households, s.local_body_id, lb.name_th AS local_body_th, lb.name_en AS local_body_en,
       lb.district_code, d.name_th AS district_th, d.name_en AS district_en,
       CAST(NULL AS integer) AS source_id, CAST(NULL AS text) AS source_kind,
       CASE WHEN best.distance_m <= :distance_m THEN best.distance_m END AS distance_m,
       coalesce(best.distance_m <= :distance_m, false) AS covered,
       ST_AsBinary(s.geom) AS geom
FROM settlements s
JOIN local_bodies lb ON lb.id = s.local_body_id
LEFT JOIN districts d ON d.code = lb.district_code
LEFT JOIN best ON best.id = s.id
ORDER BY s.id
"""


def build_graph(conn: Connection) -> int:
    """(Re)build the temporary road graph; return the id of a free node for a virtual start."""
    conn.execute(text(_DROP))
    conn.execute(text(_NODES))
    conn.execute(text(_NODES_INDEX))
    conn.execute(text(_EDGES))
    return int(
        conn.execute(text("SELECT coalesce(max(id), 0) + 1 FROM analysis_nodes")).scalar_one()
    )


def drop_graph(conn: Connection) -> None:
    """Drop the temporary tables of :func:`build_graph`; called even when the analysis fails."""
    conn.execute(text(_DROP))


def network_water_coverage(
    conn: Connection,
    *,
    distance_m: float,
    kinds: Sequence[str] | None = None,
    snap_m: float = 1_000.0,
):
    """Villages within ``distance_m`` of a water source along the roads (see the module doc).

    Same columns as :func:`gis_registry.analysis.coverage.water_coverage`; ``distance_m`` is
    the network distance and ``source_id``/``source_kind`` are not known (NULL).
    """
    start = build_graph(conn)
    try:
        params = {
            "start": start,
            "kinds": list(kinds) if kinds else None,
            "snap_m": float(snap_m),
            "distance_m": float(distance_m),
            "deg": degree_radius(snap_m),
        }
        conn.execute(text(_SOURCES), params)
        conn.execute(text(_SOURCE_EDGES), params)
        out = geo_frame(conn, _VILLAGES, params)
    finally:
        drop_graph(conn)
    out["covered"] = out["covered"].astype(bool)
    return out
