"""Coordinate helpers: the demo is drawn in metres (UTM 47N) and stored in WGS 84.

Every shape is generated in EPSG:32647 so that distances, buffers and areas are in metres, and
converted to EPSG:4326 once at the end. The same input coordinate always converts to the same
output coordinate, so shared vertices (noded road ends, shared LGO borders) stay identical.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from gis_registry.geodesy import transformer as _transformer

WGS84 = 4326
UTM47N = 32647
GRID = 0.01  # metres: polygons are snapped to a 1 cm grid so that shared borders match exactly


def lonlat_to_utm(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project longitude/latitude arrays to UTM 47N metres."""
    x, y = _transformer(WGS84, UTM47N).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


def utm_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unproject UTM 47N metres to longitude/latitude arrays."""
    lon, lat = _transformer(UTM47N, WGS84).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)


def latlon_points_to_utm(points: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """``[[lat, lon], ...]`` (the order the fact files use) to an ``(n, 2)`` array of metres."""
    arr = np.asarray(points, float).reshape(-1, 2)
    x, y = lonlat_to_utm(arr[:, 1], arr[:, 0])
    return np.column_stack([x, y])


def _to_wgs84_coords(coords: np.ndarray) -> np.ndarray:
    lon, lat = utm_to_lonlat(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def _to_utm_coords(coords: np.ndarray) -> np.ndarray:
    x, y = lonlat_to_utm(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def to_utm(geoms: np.ndarray | shapely.Geometry) -> np.ndarray | shapely.Geometry:
    """Convert WGS 84 geometries to UTM 47N, snapped to the 1 cm grid.

    A vertex two polygons share converts to the same point in both, so polygons that tile in
    WGS 84 (the real tambons) still tile exactly in metres.
    """
    return shapely.set_precision(shapely.transform(geoms, _to_utm_coords), GRID)


def to_wgs84(geoms: np.ndarray | shapely.Geometry) -> np.ndarray | shapely.Geometry:
    """Convert UTM geometries (scalar or array) to WGS 84, vertex by vertex."""
    return shapely.transform(geoms, _to_wgs84_coords)


def as_multipolygon(geom: shapely.Geometry) -> shapely.MultiPolygon:
    """Polygon or MultiPolygon (or a collection holding them) as a MultiPolygon."""
    if isinstance(geom, shapely.MultiPolygon):
        return geom
    if isinstance(geom, shapely.Polygon):
        return shapely.MultiPolygon([geom])
    parts = [
        g for g in shapely.get_parts(geom) if isinstance(g, shapely.Polygon) and not g.is_empty
    ]
    return shapely.MultiPolygon(parts)


def chaikin(coords: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Smooth a polyline by corner cutting, keeping both end points."""
    pts = np.asarray(coords, float)
    for _ in range(rounds):
        if len(pts) < 3:
            return pts
        q = 0.75 * pts[:-1] + 0.25 * pts[1:]
        r = 0.25 * pts[:-1] + 0.75 * pts[1:]
        mid = np.empty((2 * len(q), 2))
        mid[0::2], mid[1::2] = q, r
        pts = np.vstack([pts[:1], mid[1:-1], pts[-1:]])
    return pts


def distance_along(coords: np.ndarray) -> np.ndarray:
    """Distance (metres) of each vertex of a polyline from its first vertex."""
    step = np.hypot(*np.diff(np.asarray(coords, float), axis=0).T)
    return np.concatenate([[0.0], np.cumsum(step)])


def densify(coords: np.ndarray, step: float) -> np.ndarray:
    """Points along a polyline at most ``step`` metres apart (vertices kept)."""
    pts = np.asarray(coords, float)
    seg = np.diff(pts, axis=0)
    length = np.hypot(seg[:, 0], seg[:, 1])
    n = np.maximum(1, np.ceil(length / step).astype(int))
    out = [pts[:1]]
    for i in range(len(seg)):
        t = (np.arange(1, n[i] + 1) / n[i])[:, None]
        out.append(pts[i] + t * seg[i])
    return np.vstack(out)


def segments_of(lines: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Two-point segments of polylines: ``(m, 2, 2)`` coordinates and the line each comes from."""
    segs, owner = [], []
    for i, c in enumerate(lines):
        segs.append(np.stack([c[:-1], c[1:]], axis=1))
        owner.append(np.full(len(c) - 1, i))
    return np.concatenate(segs), np.concatenate(owner)
