"""Which metric CRS the registry's data is measured in: the UTM zone of its province.

Geometries are stored in EPSG:4326 and stored measures are geodesic (the ``geography`` type).
Where an analysis or the road network needs planar metres (clipped lengths, grids, KD-trees),
it projects to the WGS 84 / UTM zone the province lies in: zone 47N (EPSG:32647) for Lampang
and western Thailand, zone 48N (EPSG:32648) east of 102 E (Ubon Ratchathani, Nakhon Phanom...).
Inside its own zone, UTM's scale error is under 0.1 %; one zone over it is several times that.

:func:`metric_srid` asks the database every time, without a cache: it is one small query (0.1 ms
on the demo province, under 2 ms for a 50,000-vertex COD-AB province boundary) against
analyses that take tens of milliseconds at least, and a cache would have to follow boundary
imports to stay right.
"""

from __future__ import annotations

import functools
import math

from sqlalchemy import Connection, text

# Lampang's zone: what the registry used before it served other provinces, and the answer for
# an empty registry (which has nothing to measure, so any zone is as good as another).
DEFAULT_METRIC_SRID = 32647

# The province's centre: the PAO boundary's centroid (the PAO's boundary is the province), else
# the centroid of every local body's boundary (a registry holding LGOs but no PAO yet), else the
# centre of the roads' extent (roads imported from OpenStreetMap before any boundary: Helsinki's
# lie in zone 35, not in Lampang's 47). A centroid in degrees is fine here: it only picks a
# 6-degree zone.
_CENTRE = text(
    """
    SELECT ST_X(c), ST_Y(c) FROM (
        SELECT coalesce(
            (SELECT ST_Centroid(boundary) FROM local_bodies WHERE kind = 'pao'
             ORDER BY id LIMIT 1),
            (SELECT ST_Centroid(ST_Collect(boundary)) FROM local_bodies),
            (SELECT ST_Centroid(ST_Extent(geom)::geometry) FROM roads)
        ) AS c
    ) AS centre
    """
)


@functools.lru_cache(maxsize=16)
def transformer(source: int, target: int):
    """The pyproj ``Transformer`` from EPSG:``source`` to EPSG:``target``, lon/lat (x/y) order.

    Made once per pair and shared (pyproj's transformers are thread-safe since 3.1): making one
    takes milliseconds, which code converting points one at a time (the network check and fix,
    the demo generator) would otherwise pay per point. pyproj is imported on first use: a cold
    CLI route never needs it.
    """
    from pyproj import Transformer

    return Transformer.from_crs(f"EPSG:{source}", f"EPSG:{target}", always_xy=True)


def utm_epsg(lon: float, lat: float) -> int:
    """The EPSG code of the WGS 84 / UTM zone holding a lon/lat point.

    Parameters
    ----------
    lon : longitude in degrees, -180 to 180 (180 is zone 1, like -180)
    lat : latitude in degrees, -90 to 90; the equator counts as north

    Returns
    -------
    int
        ``32600 + zone`` north of the equator, ``32700 + zone`` south of it, the zone being
        ``floor((lon + 180) / 6) + 1``. The irregular zones of Norway and Svalbard are not
        applied (no registry province is there).

    Raises
    ------
    ValueError
        When ``lon`` or ``lat`` is not a finite number within its range (e.g. lat/lon swapped
        is caught only when the latitude is beyond 90).

    Examples
    --------
    >>> utm_epsg(99.5, 18.3)  # Lampang
    32647
    >>> utm_epsg(104.85, 15.25)  # Ubon Ratchathani
    32648
    >>> utm_epsg(-47.9, -15.8)  # Brasilia
    32723
    """
    lon, lat = float(lon), float(lat)
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"not a lon/lat point in degrees: ({lon}, {lat})")
    zone = int((lon + 180) // 6) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


def metric_srid(conn: Connection) -> int:
    """The SRID the registry behind ``conn`` measures planar metres in: its province's UTM zone.

    Parameters
    ----------
    conn : an open connection; read in its transaction, so a boundary just imported counts

    Returns
    -------
    int
        :func:`utm_epsg` of the PAO boundary's centroid; without a PAO, of the centroid of
        every local body's boundary; without local bodies, of the centre of the roads' extent;
        with neither, :data:`DEFAULT_METRIC_SRID` (EPSG:32647).
    """
    row = conn.execute(_CENTRE).one()
    if row[0] is None or row[1] is None:
        return DEFAULT_METRIC_SRID
    return utm_epsg(row[0], row[1])


# How far outside the province a feature may lie: a wrong CRS or swapped coordinates, not a
# road that runs on into the next province. Writes check the province's box widened by it
# (province_extent); imports the PAO's boundary itself (gis_registry.io.load).
PROVINCE_MARGIN_M = 2_000.0

# The PAO's boundary is the province (as for metric_srid and the import's check).
_PROVINCE_BOX = text(
    """
    SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (
        SELECT ST_Extent(boundary)::box2d AS b FROM local_bodies WHERE kind = 'pao'
    ) AS box
    """
)


def province_extent(
    conn: Connection, margin_m: float = PROVINCE_MARGIN_M
) -> tuple[float, float, float, float] | None:
    """The box of the registry's province, widened by ``margin_m``, for validating writes.

    Parameters
    ----------
    conn : an open connection (read in its transaction)
    margin_m : metres added on every side; converted to degrees at the box's latitude farthest
        from the equator (where a degree of longitude is shortest, so the margin is at least
        ``margin_m`` everywhere)

    Returns
    -------
    tuple or None
        ``(min lon, min lat, max lon, max lat)`` in degrees; None when the registry has no
        province yet (no PAO boundary): its first imports may lie anywhere.

    Notes
    -----
    One small aggregate over the PAO row(s), like :func:`metric_srid`'s: call it once per
    batch of writes, never per record.
    """
    row = conn.execute(_PROVINCE_BOX).one()
    if row[0] is None:
        return None
    minx, miny, maxx, maxy = (float(v) for v in row)
    metres_per_degree = 111_320.0
    dlat = margin_m / metres_per_degree
    widest = min(89.0, max(abs(miny), abs(maxy)) + dlat)
    dlon = margin_m / (metres_per_degree * math.cos(math.radians(widest)))
    return (
        max(-180.0, minx - dlon),
        max(-90.0, miny - dlat),
        min(180.0, maxx + dlon),
        min(90.0, maxy + dlat),
    )
