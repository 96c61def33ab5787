"""Coverage: which villages and households a water source or an all-weather road reaches.

Each village (``settlements``) is tested against the sources or roads within a distance, in
PostGIS with the GiST indexes (see :mod:`gis_registry.analysis._frames`); shares are then
summed per local body (LGO) and per district. Every village belongs to exactly one LGO and
every LGO but the PAO to one district, so the LGO and district totals always agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Connection

from gis_registry import domain
from gis_registry.analysis._frames import (
    check_choice,
    check_distance,
    degree_radius,
    frame,
    geo_frame,
)
from gis_registry.errors import ValidationError
from gis_registry.geodesy import metric_srid

GROUPS = ("local_body", "district")
PAVED_SURFACES = ("asphalt", "concrete")
# Columns describing a village and where it belongs (LGO, district).
_VILLAGE_COLUMNS = """
    s.id AS settlement_id, s.village_code, s.name_th, s.name_en, s.population, s.households,
    s.local_body_id, lb.name_th AS local_body_th, lb.name_en AS local_body_en,
    lb.district_code, d.name_th AS district_th, d.name_en AS district_en
"""
_VILLAGE_JOINS = """
    JOIN local_bodies lb ON lb.id = s.local_body_id
    LEFT JOIN districts d ON d.code = lb.district_code
"""

# One probe of the water_sources GiST index per village: a box in degrees that holds the
# distance (the index), then the exact test on the ellipsoid. Without ``nearest`` the probe stops
# at the first source in range; with it, every source in range is measured and the nearest kept.
_WATER_SQL = f"""
SELECT {_VILLAGE_COLUMNS},
       near.source_id, near.source_kind, near.distance_m,
       near.source_id IS NOT NULL AS covered,
       ST_AsBinary(s.geom) AS geom
FROM settlements s
{_VILLAGE_JOINS}
LEFT JOIN LATERAL (
    SELECT w.id AS source_id, w.kind AS source_kind,
           ST_Distance(w.geom::geography, s.geom::geography) AS distance_m
    FROM water_sources w
    WHERE ST_DWithin(w.geom, s.geom, :deg)
      AND ST_DWithin(w.geom::geography, s.geom::geography, :distance_m)
      AND (CAST(:kinds AS text[]) IS NULL OR w.kind = ANY(CAST(:kinds AS text[])))
    {{order}}
    LIMIT 1
) near ON true
ORDER BY s.id
"""
_WATER_ANY_SQL = _WATER_SQL.format(order="")
_WATER_NEAREST_SQL = _WATER_SQL.format(order="ORDER BY 3, 1")


def check_kinds(kinds: str | Sequence[str] | None) -> list[str] | None:
    """Water source kinds as a list (None = all), refusing unknown kinds."""
    if kinds is None:
        return None
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    unknown = [k for k in kinds if k not in domain.WATER_SOURCE_KINDS]
    if unknown or not kinds:
        raise ValidationError(
            "water_sources",
            [(None, "kind", f"must be one of {', '.join(domain.WATER_SOURCE_KINDS)}")],
        )
    return kinds


def water_coverage(
    conn: Connection,
    *,
    distance_m: float,
    along_roads: bool = False,
    kinds: str | Sequence[str] | None = None,
    snap_m: float = 1_000.0,
    nearest: bool = False,
):
    """Every village, and whether a water source reaches it within ``distance_m``.

    Parameters
    ----------
    conn : an open connection
    distance_m : coverage radius in metres (straight line on the ellipsoid, or along roads)
    along_roads : measure along the road network instead of in a straight line (see
        :mod:`gis_registry.analysis.reach`: village and source join the network at the nearest
        point of their nearest road, at most ``snap_m`` away, and the walk to it counts)
    kinds : only sources of these kinds (``domain.WATER_SOURCE_KINDS``); None = all
    nearest : name the nearest source in range (every source in range is measured: slower);
        by default the first one the index finds is named

    Returns
    -------
    GeoDataFrame
        One row per village (point geometry, EPSG:4326): ``settlement_id``, names,
        ``population``, ``households``, LGO and district, ``covered``, and for a covered
        village a source in range (``source_id``, ``source_kind``, ``distance_m`` on the
        ellipsoid; the nearest with ``nearest=True``); NaN for uncovered villages. Along
        roads, ``distance_m`` is the network distance and the source is not named.
    """
    distance_m = check_distance(distance_m, layer="water_sources")
    kinds = check_kinds(kinds)
    if along_roads:
        from gis_registry.analysis.reach import network_water_coverage

        return network_water_coverage(
            conn, distance_m=distance_m, kinds=kinds, snap_m=check_distance(snap_m, field="snap_m")
        )
    params = {"distance_m": distance_m, "deg": degree_radius(distance_m), "kinds": kinds}
    out = geo_frame(conn, _WATER_NEAREST_SQL if nearest else _WATER_ANY_SQL, params)
    out["covered"] = out["covered"].astype(bool)
    return out


def coverage_by(villages: pd.DataFrame, by: str = "local_body") -> pd.DataFrame:
    """Villages, households and population covered per LGO (``by='local_body'``) or district.

    ``villages`` is the result of :func:`water_coverage` or :func:`road_access` (a boolean
    ``covered`` column). Shares are between 0 and 1 (NaN for a group without households).
    """
    check_choice(by, GROUPS, layer="coverage", field="by")
    keys = (
        ["local_body_id", "local_body_th", "local_body_en", "district_code"]
        if by == "local_body"
        else ["district_code", "district_th", "district_en"]
    )
    v = pd.DataFrame(villages).copy()
    v["villages_covered"] = v["covered"].astype(int)
    v["households_covered"] = v["households"].where(v["covered"], 0)
    v["population_covered"] = v["population"].where(v["covered"], 0)
    v["villages"] = 1
    figures = [
        "villages",
        "villages_covered",
        "households",
        "households_covered",
        "population",
        "population_covered",
    ]
    out = v.groupby(keys, dropna=False, sort=True)[figures].sum().reset_index()
    hh = out["households"].where(out["households"] > 0)
    out["share_households_covered"] = out["households_covered"] / hh
    out["share_villages_covered"] = out["villages_covered"] / out["villages"]
    return out


def coverage_totals(villages: pd.DataFrame) -> dict[str, float | int]:
    """Province totals: villages, households and population, covered and all, and shares."""
    v = pd.DataFrame(villages)
    covered = v["covered"].astype(bool)
    households = int(v["households"].sum())
    out: dict[str, float | int] = {
        "villages": len(v),
        "villages_covered": int(covered.sum()),
        "households": households,
        "households_covered": int(v.loc[covered, "households"].sum()),
        "population": int(v["population"].sum()),
        "population_covered": int(v.loc[covered, "population"].sum()),
    }
    out["share_villages_covered"] = out["villages_covered"] / len(v) if len(v) else 0.0
    out["share_households_covered"] = out["households_covered"] / households if households else 0.0
    return out


def uncovered_villages(villages: pd.DataFrame) -> pd.DataFrame:
    """Villages not covered, the most populous first (ties by households, then id)."""
    v = villages[~villages["covered"].astype(bool)]
    return v.sort_values(
        ["population", "households", "settlement_id"], ascending=[False, False, True]
    ).reset_index(drop=True)


# -- roads -----------------------------------------------------------------------------------
_ACCESS_SQL = f"""
SELECT {_VILLAGE_COLUMNS},
       coalesce(other.road_id, near.road_id) AS road_id,
       coalesce(other.surface, near.surface) AS surface,
       coalesce(other.distance_m, near.distance_m) AS distance_m,
       (near.distance_m <= :distance_m OR other.road_id IS NOT NULL) IS TRUE AS covered,
       any_road.surfaces AS surfaces_within,
       ST_AsBinary(s.geom) AS geom
FROM settlements s
{_VILLAGE_JOINS}
LEFT JOIN LATERAL (
    SELECT r.id AS road_id, r.surface,
           ST_Distance(r.geom::geography, s.geom::geography) AS distance_m
    FROM roads r
    WHERE ST_DWithin(r.geom, s.geom, :deg)
      AND r.surface = ANY(CAST(:all_weather AS text[]))
    ORDER BY r.geom <-> s.geom, r.id
    LIMIT 1
) near ON true
LEFT JOIN LATERAL (
    SELECT r.id AS road_id, r.surface,
           ST_Distance(r.geom::geography, s.geom::geography) AS distance_m
    FROM roads r
    WHERE near.distance_m > :distance_m
      AND ST_DWithin(r.geom, s.geom, :deg)
      AND ST_DWithin(r.geom::geography, s.geom::geography, :distance_m)
      AND r.surface = ANY(CAST(:all_weather AS text[]))
    ORDER BY 3, 1
    LIMIT 1
) other ON true
LEFT JOIN LATERAL (
    -- only for villages without an all-weather road: which roads are near at all
    SELECT array_agg(DISTINCT r.surface ORDER BY r.surface) AS surfaces
    FROM roads r
    WHERE (near.distance_m IS NULL OR near.distance_m > :distance_m)
      AND other.road_id IS NULL
      AND ST_DWithin(r.geom, s.geom, :deg)
      AND ST_DWithin(r.geom::geography, s.geom::geography, :distance_m)
) any_road ON true
ORDER BY s.id
"""


def road_access(conn: Connection, *, distance_m: float = 2_000.0):
    """Every village with the nearest all-weather road (``domain.ALL_WEATHER_SURFACES``)
    within ``distance_m``; ``covered`` is True when there is one.

    Also gives, for villages without one, ``surfaces_within``: every surface of the roads
    within the distance (empty when no road at all is that close; for covered villages it is
    not looked up and left empty) and ``only_unpaved``: roads are near, but all laterite or
    earth (not all-weather). ``road_id``/``surface``/``distance_m`` describe the nearest
    all-weather road found by the index probe (as in :func:`water_coverage`).
    """
    distance_m = check_distance(distance_m, layer="roads")
    params = {
        "distance_m": distance_m,
        "deg": degree_radius(distance_m),
        "all_weather": list(domain.ALL_WEATHER_SURFACES),
    }
    out = geo_frame(conn, _ACCESS_SQL, params)
    out["covered"] = out["covered"].astype(bool)
    out["surfaces_within"] = [list(s) if s is not None else [] for s in out["surfaces_within"]]
    out["only_unpaved"] = ~out["covered"] & out["surfaces_within"].map(bool)
    return out


def unpaved_only_villages(conn: Connection, *, distance_m: float = 2_000.0):
    """Villages whose only roads within ``distance_m`` are laterite or earth, most populous
    first."""
    access = road_access(conn, distance_m=distance_m)
    out = access[access["only_unpaved"]]
    return out.sort_values(["population", "settlement_id"], ascending=[False, True]).reset_index(
        drop=True
    )


# Boundaries cut into pieces of at most 64 vertices: each piece probes the roads' GiST index,
# and roads wholly inside a piece are measured by their stored length (geodesic); the parts of
# roads crossing a piece's edge in the province's UTM zone (``:metric_srid``).
_DENSITY_SQL = """
WITH pieces AS MATERIALIZED (
    SELECT lb.id AS local_body_id, ST_Subdivide(lb.boundary, 64) AS geom
    FROM local_bodies lb WHERE lb.kind <> 'pao'
),
clipped AS MATERIALIZED (
    SELECT p.local_body_id, r.surface,
           CASE WHEN ST_CoveredBy(r.geom, p.geom) THEN r.length_m
                ELSE ST_Length(ST_Transform(ST_Intersection(r.geom, p.geom),
                                             CAST(:metric_srid AS integer)))
           END AS length_m
    FROM pieces p
    JOIN roads r ON ST_Intersects(r.geom, p.geom)
)
SELECT lb.id AS local_body_id, lb.name_th AS local_body_th, lb.name_en AS local_body_en,
       lb.kind, lb.district_code, lb.area_km2,
       coalesce(sum(c.length_m), 0) / 1000.0 AS road_km,
       coalesce(sum(c.length_m) FILTER (WHERE c.surface = ANY(CAST(:paved AS text[]))), 0)
           / 1000.0 AS paved_km,
       coalesce(sum(c.length_m) FILTER (WHERE c.surface = ANY(CAST(:all_weather AS text[]))), 0)
           / 1000.0 AS all_weather_km
FROM local_bodies lb
LEFT JOIN (
    SELECT * FROM clipped
    UNION ALL  -- the PAO: every road of the registry
    SELECT lb.id, r.surface, r.length_m
    FROM roads r CROSS JOIN local_bodies lb WHERE lb.kind = 'pao'
) c ON c.local_body_id = lb.id
GROUP BY lb.id
ORDER BY lb.id
"""


def road_density(conn: Connection) -> pd.DataFrame:
    """Road length (km, clipped to each boundary), density (km per km²) and paved and
    all-weather shares per local body. The PAO row counts every road of the registry over
    the PAO's area (the province)."""
    out = frame(
        conn,
        _DENSITY_SQL,
        {
            "paved": list(PAVED_SURFACES),
            "all_weather": list(domain.ALL_WEATHER_SURFACES),
            "metric_srid": metric_srid(conn),
        },
    )
    area = out["area_km2"].where(out["area_km2"] > 0)
    km = out["road_km"].where(out["road_km"] > 0)
    out["density_km_per_km2"] = out["road_km"] / area
    out["paved_share"] = out["paved_km"] / km
    out["all_weather_share"] = out["all_weather_km"] / km
    return out
