"""Zoning: which comprehensive-plan zone lies at a point or under a parcel, and zone areas.

Plans expire: every analysis uses the plans in force on a date (``on``, default today). A plan
is in force from its ``effective_date`` (inclusive) until its ``expiry_date`` (exclusive;
none = still in force). Stored zone areas (``area_m2``) are geodesic; shares and clipped areas
are measured in the province's UTM zone (:func:`gis_registry.geodesy.metric_srid`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from gis_registry.analysis._frames import check_choice, frame
from gis_registry.errors import ValidationError
from gis_registry.geodesy import metric_srid

AREA_GROUPS = ("plan", "local_body")


def in_force_sql(plan: str = "p", param: str = "on") -> str:
    """SQL condition: the plan (table alias ``plan``) is in force on the day bound to
    ``:param``; the one definition of "in force" that every query of plans uses.

    Parameters
    ----------
    plan : alias of ``zoning_plans`` in the query (an SQL identifier, not user input)
    param : name of the bound date parameter

    Returns
    -------
    str
        ``p.effective_date <= :on AND (p.expiry_date IS NULL OR p.expiry_date > :on)``
    """
    for name in (plan, param):
        if not name.isidentifier():
            raise ValueError(f"not an SQL identifier: {name!r}")
    return (
        f"{plan}.effective_date <= :{param} "
        f"AND ({plan}.expiry_date IS NULL OR {plan}.expiry_date > :{param})"
    )


IN_FORCE = in_force_sql()
_ZONE_COLUMNS = """
    z.id AS zone_id, z.plan_id, p.name_th AS plan_th, p.name_en AS plan_en,
    p.effective_date, p.expiry_date, z.land_use_code, z.category,
    c.name_th AS category_th, c.name_en AS category_en, c.colour_name
"""
_ZONE_JOINS = """
    FROM zoning_zones z
    JOIN zoning_plans p ON p.id = z.plan_id
    JOIN zoning_categories c ON c.key = z.category
"""

_PLANS_SQL = f"""
SELECT p.id AS plan_id, p.name_th, p.name_en, p.effective_date, p.expiry_date
FROM zoning_plans p WHERE {IN_FORCE} ORDER BY p.effective_date, p.id
"""
_AT_SQL = f"""
SELECT {_ZONE_COLUMNS}
{_ZONE_JOINS}
WHERE ST_Intersects(z.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) AND {IN_FORCE}
ORDER BY p.effective_date DESC, z.id
"""
# A point counts as a share of 1 per zone, a line by length, a polygon by area.
_MEASURE = """CASE ST_Dimension({g})
    WHEN 2 THEN ST_Area(ST_Transform({g}, CAST(:metric_srid AS integer)))
    WHEN 1 THEN ST_Length(ST_Transform({g}, CAST(:metric_srid AS integer))) ELSE 1 END"""
_PIECE = "ST_CollectionExtract(ST_Intersection(z.geom, parcel.g), ST_Dimension(parcel.g) + 1)"
_PARCEL_SQL = f"""
WITH parcel AS (SELECT ST_GeomFromText(:wkt, 4326) AS g),
pieces AS (
    SELECT {_ZONE_COLUMNS},
           {_MEASURE.format(g=_PIECE)} AS measure,
           {_MEASURE.format(g="parcel.g")} AS parcel_measure
    {_ZONE_JOINS}
    CROSS JOIN parcel
    WHERE ST_Intersects(z.geom, parcel.g) AND {IN_FORCE}
)
SELECT *, measure / nullif(parcel_measure, 0) AS share FROM pieces
ORDER BY share DESC, zone_id
"""
_PARCEL_MEASURE_SQL = "SELECT " + _MEASURE.format(g="ST_GeomFromText(:wkt, 4326)")
_AREAS_BY_PLAN_SQL = f"""
SELECT p.id AS plan_id, p.name_th AS plan_th, p.name_en AS plan_en, z.category,
       c.name_th AS category_th, c.name_en AS category_en,
       count(*) AS zones, sum(z.area_m2) / 1e6 AS area_km2
{_ZONE_JOINS}
WHERE {IN_FORCE}
GROUP BY p.id, z.category, c.key
ORDER BY p.id, c.sort_order, z.category
"""
_CLIPPED = """CASE WHEN ST_CoveredBy(z.geom, lb.boundary) THEN z.area_m2
    ELSE ST_Area(ST_Transform(ST_Intersection(z.geom, lb.boundary),
                              CAST(:metric_srid AS integer))) END"""
_AREAS_BY_LGO_SQL = f"""
SELECT lb.id AS local_body_id, lb.name_th AS local_body_th, lb.name_en AS local_body_en,
       z.category, c.name_th AS category_th, c.name_en AS category_en,
       sum({_CLIPPED}) / 1e6 AS area_km2
{_ZONE_JOINS}
JOIN local_bodies lb ON lb.kind <> 'pao' AND ST_Intersects(z.geom, lb.boundary)
WHERE {IN_FORCE}
GROUP BY lb.id, z.category, c.key
HAVING sum({_CLIPPED}) > 0
ORDER BY lb.id, c.sort_order, z.category
"""


def _on(on: date | None) -> date:
    return on if on is not None else date.today()


def plans_in_force(conn: Connection, *, on: date | None = None) -> pd.DataFrame:
    """The comprehensive plans in force on ``on`` (default today).

    Returns
    -------
    DataFrame
        ``plan_id``, ``name_th``, ``name_en``, ``effective_date``, ``expiry_date``, oldest
        first.
    """
    return frame(conn, _PLANS_SQL, {"on": _on(on)})


def zone_at(conn: Connection, lon: float, lat: float, *, on: date | None = None) -> pd.DataFrame:
    """The zones (of plans in force on ``on``) at a lon/lat point; empty when unzoned."""
    if not (-180 <= float(lon) <= 180 and -90 <= float(lat) <= 90):
        raise ValidationError("zoning", [(None, "lon/lat", "expected lon/lat in EPSG:4326")])
    return frame(conn, _AT_SQL, {"lon": float(lon), "lat": float(lat), "on": _on(on)})


def check_geometry(geom, *, layer: str = "zoning"):
    """A valid, non-empty shapely geometry in lon/lat, or :class:`ValidationError`.

    ``geom`` is what the registry's writes accept: a shapely geometry, WKT, hex WKB, or a
    GeoJSON geometry (a mapping such as ``__geo_interface__``, or its text)."""
    import shapely

    from gis_registry.validation import parse_geometry

    if geom is not None and not isinstance(geom, shapely.Geometry):
        try:
            geom = parse_geometry(geom)
        except Exception as exc:  # noqa: BLE001 - shapely and json raise several types
            raise ValidationError(
                layer, [(None, "geometry", f"neither WKT, WKB nor GeoJSON: {exc}")]
            ) from None
    if not isinstance(geom, shapely.Geometry) or geom.is_empty:
        raise ValidationError(layer, [(None, "geometry", "a non-empty geometry is needed")])
    if not geom.is_valid:
        raise ValidationError(
            layer, [(None, "geometry", f"invalid geometry: {shapely.is_valid_reason(geom)}")]
        )
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError(layer, [(None, "geometry", "coordinates must be lon/lat")])
    return geom


def parcel_zones(conn: Connection, parcel, *, on: date | None = None) -> pd.DataFrame:
    """The zones a parcel touches with the ``share`` of the parcel in each (by area for a
    polygon, length for a line), plus an ``unzoned`` row for the share outside every plan in
    force. ``parcel`` is a geometry in EPSG:4326, in any form :func:`check_geometry` reads."""
    import shapely

    geom = check_geometry(parcel)
    params = {"wkt": geom.wkt, "on": _on(on), "metric_srid": metric_srid(conn)}
    out = frame(conn, _PARCEL_SQL, params)
    total = float(conn.execute(text(_PARCEL_MEASURE_SQL), params).scalar() or 0)
    covered = float(out["share"].sum()) if len(out) else 0.0
    if covered < 1 - 1e-6 and shapely.get_dimensions(geom) > 0:
        rest: dict[str, Any] = {c: None for c in out.columns}
        rest.update(
            category="unzoned",
            category_en="outside every plan in force",
            category_th="นอกเขตผังเมืองรวมที่มีผลบังคับใช้",
            measure=total * (1 - covered),
            parcel_measure=total,
            share=1 - covered,
        )
        out = (
            pd.concat([out, pd.DataFrame([rest])], ignore_index=True)
            if len(out)
            else (pd.DataFrame([rest]))
        )
    elif not len(out):
        out = pd.DataFrame(
            [{"category": "unzoned", "category_en": "outside every plan in force", "share": 1.0}]
        )
    return out


def zoning_areas(conn: Connection, *, by: str = "plan", on: date | None = None) -> pd.DataFrame:
    """Area (km²) of each DPT category per plan (``by='plan'``) or per LGO (clipped to its
    boundary; the PAO is left out), for the plans in force on ``on``."""
    check_choice(by, AREA_GROUPS, layer="zoning", field="by")
    if by == "plan":
        return frame(conn, _AREAS_BY_PLAN_SQL, {"on": _on(on)})
    return frame(conn, _AREAS_BY_LGO_SQL, {"on": _on(on), "metric_srid": metric_srid(conn)})
