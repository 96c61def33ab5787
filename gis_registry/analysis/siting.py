"""Siting new water sources: greedy maximal covering of the households still uncovered.

The pairs (candidate, uncovered village within the distance) come from one PostGIS query
(``ST_DWithin`` on the indexed ``settlements.geom``, exact on the ellipsoid); the greedy choice
then runs in numpy on a sparse candidate x village matrix: at each step the candidate covering
the most still-uncovered households wins (ties: the earlier candidate).
Greedy maximal covering is within a factor 1 - 1/e of the best choice of N sites.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection

from gis_registry import deadline
from gis_registry.analysis._frames import check_distance, degree_radius, frame
from gis_registry.analysis.coverage import check_kinds, water_coverage
from gis_registry.errors import ValidationError
from gis_registry.geodesy import metric_srid

MAX_SITES = 1_000
MAX_GRID_CELLS = 2_000_000

_GRID_SQL = """
WITH u AS (
    SELECT ST_Transform(ST_Collect(geom), CAST(:metric_srid AS integer)) AS g
    FROM settlements WHERE id = ANY(CAST(:ids AS int[]))
),
cells AS (
    SELECT ST_Transform(ST_Centroid(c.geom), 4326) AS p
    FROM u, ST_SquareGrid(:grid_m, ST_Expand(u.g, :distance_m)) AS c
)
SELECT ST_X(p) AS lon, ST_Y(p) AS lat
FROM cells
WHERE EXISTS (
    SELECT 1 FROM settlements s
    WHERE s.id = ANY(CAST(:ids AS int[]))
      AND ST_DWithin(s.geom, cells.p, :deg)
      AND ST_DWithin(s.geom::geography, cells.p::geography, :distance_m)
)
ORDER BY lat, lon
"""
_PAIRS_SQL = """
WITH c AS (
    SELECT t.ord::int AS candidate, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) AS geom
    FROM unnest(CAST(:lon AS float8[]), CAST(:lat AS float8[])) WITH ORDINALITY AS t(lon, lat, ord)
)
SELECT c.candidate - 1 AS candidate, s.id AS settlement_id
FROM c
JOIN settlements s
  ON ST_DWithin(s.geom, c.geom, :deg)
 AND ST_DWithin(s.geom::geography, c.geom::geography, :distance_m)
WHERE s.id = ANY(CAST(:ids AS int[]))
"""


def candidate_points(candidates: Any) -> np.ndarray:
    """Candidates (GeoDataFrame/GeoSeries/sequence of shapely Points, a MultiPoint, or
    (lon, lat) pairs, in EPSG:4326) as an (n, 2) array of lon/lat."""
    import shapely

    if isinstance(candidates, shapely.MultiPoint):
        candidates = list(candidates.geoms)
    if hasattr(candidates, "to_crs") and getattr(candidates, "crs", None) is not None:
        candidates = candidates.to_crs(4326)
    if hasattr(candidates, "geometry"):
        candidates = candidates.geometry
    items = list(candidates)
    if not items:
        return np.zeros((0, 2))
    if isinstance(items[0], shapely.Geometry):
        bad = [i for i, g in enumerate(items) if g is None or g.geom_type != "Point" or g.is_empty]
        if bad:
            raise ValidationError(
                "candidates", [(i, "geometry", "every candidate must be a Point") for i in bad[:10]]
            )
        points = np.array([(g.x, g.y) for g in items], dtype=float)
    else:
        points = np.asarray(items, dtype=float).reshape(-1, 2)
    if not (np.all(np.abs(points[:, 0]) <= 180) and np.all(np.abs(points[:, 1]) <= 90)):
        raise ValidationError(
            "candidates", [(None, "geometry", "candidates must be lon/lat (EPSG:4326)")]
        )
    return points


def greedy_cover(
    pairs_candidate: np.ndarray,
    pairs_village: np.ndarray,
    weights: np.ndarray,
    n_candidates: int,
    n: int,
) -> list[tuple[int, float, np.ndarray]]:
    """Greedy maximal covering: up to ``n`` (candidate, gain, newly covered villages) steps.

    ``pairs_*`` list which candidate covers which village (village = index into ``weights``).
    Stops early when no candidate adds anything; ties go to the lowest candidate index.
    """
    from scipy import sparse

    n_villages = len(weights)
    matrix = sparse.csr_matrix(
        (np.ones(len(pairs_candidate)), (pairs_candidate, pairs_village)),
        shape=(n_candidates, n_villages),
    )
    open_weight = np.asarray(weights, dtype=float).copy()
    steps: list[tuple[int, float, np.ndarray]] = []
    for _ in range(n):
        deadline.check()
        gains = matrix @ open_weight
        if not len(gains):
            break
        best = int(np.argmax(gains))  # first maximum: lowest index wins ties
        if gains[best] <= 0:
            break
        row = matrix.indices[matrix.indptr[best] : matrix.indptr[best + 1]]
        newly = row[open_weight[row] > 0]
        steps.append((best, float(gains[best]), newly))
        open_weight[newly] = 0.0
    return steps


def site_water_sources(
    conn: Connection,
    *,
    n: int,
    distance_m: float,
    candidates: Any = "grid",
    grid_m: float = 1_000.0,
    kinds: str | Sequence[str] | None = None,
):
    """Choose up to ``n`` new water sources covering the most households not yet covered.

    Parameters
    ----------
    conn : an open connection
    n : most sources to choose
    distance_m : coverage radius in metres (straight line), as in
        :func:`gis_registry.analysis.coverage.water_coverage`
    candidates : ``"grid"`` (centres of a ``grid_m`` square grid in the province's UTM zone
        over the uncovered villages, kept where they reach one) or candidate points in
        EPSG:4326
    kinds : existing sources of these kinds count as covering (None = all)

    Returns
    -------
    GeoDataFrame
        One row per chosen site in the order chosen: ``rank``, ``candidate`` (0-based index
        into the candidates), ``lon``, ``lat``, ``households_gained``, ``population_gained``,
        ``villages_gained``, ``cumulative_households``, ``settlement_ids``; point geometry.
    """
    import geopandas as gpd

    if not isinstance(n, int) or not 1 <= n <= MAX_SITES:
        raise ValidationError("siting", [(None, "n", f"must be an integer from 1 to {MAX_SITES}")])
    distance_m = check_distance(distance_m, layer="siting")
    kinds = check_kinds(kinds)
    villages = water_coverage(conn, distance_m=distance_m, kinds=kinds)
    open_villages = villages[~villages["covered"]].reset_index(drop=True)
    ids = [int(i) for i in open_villages["settlement_id"]]
    params: dict[str, Any] = {
        "ids": ids,
        "distance_m": distance_m,
        "deg": degree_radius(distance_m),
    }
    if isinstance(candidates, str):
        if candidates != "grid":
            raise ValidationError("siting", [(None, "candidates", "'grid' or a set of points")])
        grid_m = check_distance(grid_m, layer="siting", field="grid_m")
        grid = {**params, "grid_m": grid_m, "metric_srid": metric_srid(conn)}
        points = (
            frame(conn, _GRID_SQL, grid)[["lon", "lat"]].to_numpy() if ids else np.zeros((0, 2))
        )
    else:
        points = candidate_points(candidates)
    columns = [
        "rank",
        "candidate",
        "lon",
        "lat",
        "households_gained",
        "population_gained",
        "villages_gained",
        "cumulative_households",
        "settlement_ids",
    ]
    if not len(points) or not ids:
        return gpd.GeoDataFrame(columns=columns, geometry=[], crs="EPSG:4326")
    pairs = frame(
        conn,
        _PAIRS_SQL,
        {**params, "lon": points[:, 0].tolist(), "lat": points[:, 1].tolist()},
    )
    position = {sid: i for i, sid in enumerate(ids)}
    village_idx = np.array([position[s] for s in pairs.get("settlement_id", [])], dtype=int)
    cand_idx = np.asarray(pairs.get("candidate", []), dtype=int)
    households = open_villages["households"].to_numpy(dtype=float)
    population = open_villages["population"].to_numpy(dtype=float)
    steps = greedy_cover(cand_idx, village_idx, households, len(points), n)
    rows = []
    cumulative = 0.0
    for rank, (cand, gain, newly) in enumerate(steps, start=1):
        cumulative += gain
        rows.append(
            {
                "rank": rank,
                "candidate": cand,
                "lon": float(points[cand, 0]),
                "lat": float(points[cand, 1]),
                "households_gained": int(gain),
                "population_gained": int(population[newly].sum()),
                "villages_gained": len(newly),
                "cumulative_households": int(cumulative),
                "settlement_ids": sorted(int(ids[v]) for v in newly),
            }
        )
    out = gpd.GeoDataFrame(
        rows,
        columns=columns,
        geometry=gpd.points_from_xy([r["lon"] for r in rows], [r["lat"] for r in rows]),
        crs="EPSG:4326",
    )
    return out
