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
from gis_registry.geodesy import metric_srid

KEYS = ["hazard_type", "severity", "local_body_id"]
LAYERS = ("road", "bridge", "water_source", "village")
# One statement. Hazard areas are dissolved per (type, severity), subdivided into pieces of at
# most 128 vertices and the pieces cut by the LGO boundaries (the PAO left out): the pieces
# partition the hazard land, so lengths add up and the LGO comes with the piece. Each asset
# join is then a GiST probe against a small polygon whose prepared form PostGIS caches. A road
# wholly inside a piece counts its stored (geodesic) length, a road crossing a piece's edge the
# length of its part inside, measured in the province's UTM zone (``:metric_srid``).
# One row per exposed asset and (type, severity, LGO): the figures are counts of these rows.
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
                ELSE ST_Length(ST_Transform(ST_Intersection(r.geom, z.geom),
                                             CAST(:metric_srid AS integer)))
           END AS length_m
    FROM zones z
    JOIN roads r ON ST_Intersects(r.geom, z.geom)
)
SELECT hazard_type, severity, local_body_id, 'road' AS layer, id AS asset_id,
       CAST(sum(length_m) AS float8) AS exposed_m, CAST(NULL AS integer) AS population,
       CAST(NULL AS integer) AS households
FROM road_pieces
GROUP BY hazard_type, severity, local_body_id, id
UNION ALL
SELECT DISTINCT z.hazard_type, z.severity, z.local_body_id, 'bridge', b.id,
       CAST(NULL AS float8), CAST(NULL AS integer), CAST(NULL AS integer)
FROM zones z JOIN bridges b ON ST_Intersects(b.geom, z.geom)
UNION ALL
SELECT DISTINCT z.hazard_type, z.severity, z.local_body_id, 'water_source', w.id,
       CAST(NULL AS float8), CAST(NULL AS integer), CAST(NULL AS integer)
FROM zones z JOIN water_sources w ON ST_Intersects(w.geom, z.geom)
UNION ALL
SELECT DISTINCT z.hazard_type, z.severity, s.local_body_id, 'village', s.id,
       CAST(NULL AS float8), s.population, s.households
FROM zones z JOIN settlements s ON ST_Intersects(s.geom, z.geom)
"""
_LGO_SQL = (
    "SELECT id AS local_body_id, name_th AS local_body_th, name_en AS local_body_en, "
    "district_code FROM local_bodies"
)
ASSET_COLUMNS = [*KEYS, "layer", "asset_id", "exposed_m", "population", "households"]
FIGURES = {
    "road_km": float,
    "road_segments": int,
    "bridges": int,
    "water_sources": int,
    "villages": int,
    "population": int,
    "households": int,
}


def _check_types(hazard_types: str | Sequence[str] | None) -> list[str] | None:
    if hazard_types is None:
        return None
    types = [hazard_types] if isinstance(hazard_types, str) else list(hazard_types)
    if not types or set(types) - set(domain.HAZARD_TYPES):
        raise ValidationError(
            "hazard_areas",
            [(None, "hazard_type", f"must be one of {', '.join(domain.HAZARD_TYPES)}")],
        )
    return types


def exposed_assets(
    conn: Connection, *, hazard_types: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """The roads, bridges, water sources and villages inside hazard areas: the one definition
    of exposure, which :func:`hazard_exposure` counts and the hazard map draws.

    Parameters
    ----------
    conn : an open connection
    hazard_types : only these (``domain.HAZARD_TYPES``: flood, landslide); None = all

    Returns
    -------
    DataFrame
        One row per exposed asset and (``hazard_type``, ``severity``, ``local_body_id``):
        ``layer`` (road, bridge, water_source, village), ``asset_id`` (the id in its table),
        ``exposed_m`` (a road's length inside, in metres), ``population`` and ``households``
        (a village's). A road or bridge on an LGO boundary has a row per LGO; a village
        counts in its own LGO. Ordered by layer, asset, type, severity (high first), LGO.
    """
    params = {"types": _check_types(hazard_types), "metric_srid": metric_srid(conn)}
    rows = frame(conn, _EXPOSURE_SQL, params)
    if not len(rows):
        return pd.DataFrame(columns=ASSET_COLUMNS)
    rows["local_body_id"] = rows["local_body_id"].astype("Int64")
    rows["asset_id"] = rows["asset_id"].astype(int)
    for column in ("exposed_m", "population", "households"):
        rows[column] = pd.to_numeric(rows[column], errors="coerce").astype(float)
    rows["_layer"] = rows["layer"].map({layer: i for i, layer in enumerate(LAYERS)})
    rows["_rank"] = rows["severity"].map(_severity_rank())
    rows = rows.sort_values(
        ["_layer", "asset_id", "hazard_type", "_rank", "local_body_id"], na_position="last"
    )
    return rows[ASSET_COLUMNS].reset_index(drop=True)


def _severity_rank() -> dict[str, int]:
    return {s: i for i, s in enumerate(reversed(domain.SEVERITIES))}


def hazard_exposure(
    conn: Connection, *, hazard_types: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Assets inside hazard areas per (hazard type, severity, LGO): the rows of
    :func:`exposed_assets`, counted.

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
    assets = exposed_assets(conn, hazard_types=hazard_types)
    columns = [*KEYS, "local_body_th", "local_body_en", "district_code", *FIGURES]
    if not len(assets):
        return pd.DataFrame(columns=columns)
    return exposure_counts(assets).merge(frame(conn, _LGO_SQL), on="local_body_id", how="left")[
        columns
    ]


def exposure_counts(assets: pd.DataFrame) -> pd.DataFrame:
    """The figures of :func:`hazard_exposure` (without LGO names) from
    :func:`exposed_assets`' rows: one row counts one asset."""
    layer = assets["layer"]
    village = layer == "village"
    rows = assets[KEYS].copy()
    rows["road_km"] = assets["exposed_m"].where(layer == "road", 0.0).fillna(0.0) / 1000.0
    rows["road_segments"] = (layer == "road").astype(int)
    rows["bridges"] = (layer == "bridge").astype(int)
    rows["water_sources"] = (layer == "water_source").astype(int)
    rows["villages"] = village.astype(int)
    rows["population"] = assets["population"].where(village, 0).fillna(0)
    rows["households"] = assets["households"].where(village, 0).fillna(0)
    out = rows.groupby(KEYS, dropna=False)[list(FIGURES)].sum().reset_index()
    for name, kind in FIGURES.items():
        out[name] = out[name].astype(kind)
    out["_rank"] = out["severity"].map(_severity_rank())
    out = out.sort_values(["hazard_type", "_rank", "local_body_id"], na_position="last")
    return out.drop(columns="_rank").reset_index(drop=True)


def exposure_totals(exposure: pd.DataFrame) -> pd.DataFrame:
    """Province totals per hazard type and severity (summing the LGO rows)."""
    return (
        exposure.groupby(["hazard_type", "severity"], sort=False)[list(FIGURES)].sum().reset_index()
    )
