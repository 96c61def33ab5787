"""Hazard exposure: road km, bridges, water sources and villages inside flood-prone and
landslide areas, by hazard type, severity and LGO.

Each figure is "inside areas of this type and severity": a road piece or a village inside two
overlapping areas of the same type and severity counts once; inside areas of two severities, it
counts under both (rows do not add up across severities where areas overlap). Road km are
split exactly between LGOs (a segment crossing a boundary counts in both rows' segment
counts); a bridge or water source counts in the LGO where it lies, a village in its own LGO.
Hazard land outside every LGO (other than the PAO) is not counted. The asset joins
are GiST index probes on ``roads.geom``, ``bridges.geom``, ``water_sources.geom`` and
``settlements.geom`` (see the EXPLAIN output of ``bench/bench_analysis.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Connection

from gis_registry import domain
from gis_registry.analysis._frames import frame
from gis_registry.errors import ValidationError

KEYS = ["hazard_type", "severity", "local_body_id"]
# One statement. Hazard areas are dissolved per (type, severity), subdivided into pieces of at
# most 128 vertices and the pieces cut by the LGO boundaries (the PAO left out): the pieces
# partition the hazard land, so lengths add up and the LGO comes with the piece. Each asset
# join is then a GiST probe against a small polygon whose prepared form PostGIS caches.
_EXPOSURE_SQL = """
WITH zones AS MATERIALIZED (
    SELECT p.hazard_type, p.severity, lb.id AS local_body_id,
           CASE WHEN ST_Covers(lb.boundary, p.geom) THEN p.geom
                ELSE ST_CollectionExtract(ST_Intersection(p.geom, lb.boundary), 3) END AS geom
    FROM (
        SELECT h.hazard_type, h.severity,
               ST_Subdivide(ST_UnaryUnion(ST_Collect(h.geom)), 128) AS geom
        FROM hazard_areas h
        WHERE CAST(:types AS text[]) IS NULL OR h.hazard_type = ANY(CAST(:types AS text[]))
        GROUP BY h.hazard_type, h.severity
    ) p
    JOIN local_bodies lb ON lb.kind <> 'pao' AND ST_Intersects(p.geom, lb.boundary)
),
road_pieces AS MATERIALIZED (
    SELECT z.hazard_type, z.severity, z.local_body_id, r.id,
           CASE WHEN ST_Covers(z.geom, r.geom) THEN r.length_m
                ELSE ST_Length(ST_Transform(ST_Intersection(r.geom, z.geom), 32647))
           END AS length_m
    FROM zones z
    JOIN roads r ON ST_Intersects(r.geom, z.geom)
)
SELECT hazard_type, severity, local_body_id, 'road' AS layer,
       sum(length_m) AS amount, count(DISTINCT id) AS items, 0 AS households
FROM road_pieces
GROUP BY 1, 2, 3
UNION ALL
SELECT z.hazard_type, z.severity, z.local_body_id, 'bridge',
       count(DISTINCT b.id), count(DISTINCT b.id), 0
FROM zones z JOIN bridges b ON ST_Intersects(b.geom, z.geom)
GROUP BY 1, 2, 3
UNION ALL
SELECT z.hazard_type, z.severity, z.local_body_id, 'water_source',
       count(DISTINCT w.id), count(DISTINCT w.id), 0
FROM zones z JOIN water_sources w ON ST_Intersects(w.geom, z.geom)
GROUP BY 1, 2, 3
UNION ALL
SELECT hazard_type, severity, local_body_id, 'village',
       sum(population), count(*), sum(households)
FROM (
    SELECT DISTINCT z.hazard_type, z.severity, s.id, s.local_body_id, s.population,
           s.households
    FROM zones z JOIN settlements s ON ST_Intersects(s.geom, z.geom)
) v
GROUP BY 1, 2, 3
"""
_LGO_SQL = (
    "SELECT id AS local_body_id, name_th AS local_body_th, name_en AS local_body_en, "
    "district_code FROM local_bodies"
)
FIGURES = {
    "road_km": float,
    "road_segments": int,
    "bridges": int,
    "water_sources": int,
    "villages": int,
    "population": int,
    "households": int,
}


def hazard_exposure(
    conn: Connection, *, hazard_types: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Assets inside hazard areas per (hazard type, severity, LGO).

    Parameters
    ----------
    conn : an open connection
    hazard_types : only these (``domain.HAZARD_TYPES``: flood, landslide); None = all

    Returns
    -------
    DataFrame
        ``hazard_type``, ``severity``, ``local_body_id`` (NaN outside every LGO), LGO names,
        ``road_km``, ``road_segments``, ``bridges``, ``water_sources``, ``villages``,
        ``population``, ``households``; ordered by type, severity (high first), LGO.
    """
    if hazard_types is not None:
        hazard_types = [hazard_types] if isinstance(hazard_types, str) else list(hazard_types)
        if not hazard_types or set(hazard_types) - set(domain.HAZARD_TYPES):
            raise ValidationError(
                "hazard_areas",
                [(None, "hazard_type", f"must be one of {', '.join(domain.HAZARD_TYPES)}")],
            )
    rows = frame(conn, _EXPOSURE_SQL, {"types": hazard_types})
    if not len(rows):
        return pd.DataFrame(columns=[*KEYS, "local_body_th", "local_body_en", *FIGURES])
    rows["local_body_id"] = rows["local_body_id"].astype("Int64")
    layer = rows["layer"]
    amount = rows["amount"].astype(float)
    items = rows["items"].astype(int)
    rows["road_km"] = amount.where(layer == "road", 0.0) / 1000.0
    rows["road_segments"] = items.where(layer == "road", 0)
    rows["bridges"] = items.where(layer == "bridge", 0)
    rows["water_sources"] = items.where(layer == "water_source", 0)
    rows["villages"] = items.where(layer == "village", 0)
    rows["population"] = amount.where(layer == "village", 0).astype(int)
    rows["households"] = rows["households"].astype(int)
    out = rows.groupby(KEYS, dropna=False)[list(FIGURES)].sum().reset_index()
    for name, kind in FIGURES.items():
        out[name] = out[name].astype(kind)
    out = out.merge(frame(conn, _LGO_SQL), on="local_body_id", how="left")
    severity_rank = {s: i for i, s in enumerate(reversed(domain.SEVERITIES))}
    out["_rank"] = out["severity"].map(severity_rank)
    out = out.sort_values(["hazard_type", "_rank", "local_body_id"], na_position="last")
    columns = [*KEYS, "local_body_th", "local_body_en", "district_code", *FIGURES]
    return out[columns].reset_index(drop=True)


def exposure_totals(exposure: pd.DataFrame) -> pd.DataFrame:
    """Province totals per hazard type and severity (summing the LGO rows)."""
    return (
        exposure.groupby(["hazard_type", "severity"], sort=False)[list(FIGURES)].sum().reset_index()
    )
