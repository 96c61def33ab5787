"""Rivers and the two large RID reservoirs, drawn from the waypoints in ``rivers.json``.

Waypoints are smoothed and given a gentle meander so the courses look drawn rather than ruled;
tributaries end exactly on the river they join. Everything here is in UTM metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.ops import substring

from gis_registry.demo.facts import Facts
from gis_registry.demo.geo import (
    GRID,
    chaikin,
    densify,
    distance_along,
    latlon_points_to_utm,
    segments_of,
)

RIVER_VERTEX_STEP = 250.0  # metres between river vertices
CLEARANCE_STEP = 20.0  # metres between the probe points used for clearance look-ups


@dataclass
class Hydrography:
    """Rivers (UTM polylines) and reservoir polygons, with look-up helpers."""

    keys: list[str]
    names_th: list[str]
    names_en: list[str]
    widths: np.ndarray  # metres, per river
    lines: list[np.ndarray]  # (n, 2) coordinates per river
    seg_coords: np.ndarray  # (m, 2, 2) two-point segments of all rivers
    seg_river: np.ndarray  # river index of each segment
    reservoirs: list[shapely.Polygon]
    dams: list[dict]
    _probe: cKDTree  # river points 20 m apart: exact to ~1 m, fast for short look-ups
    _coarse: cKDTree  # the river vertices (~250 m apart): fast for long look-ups

    def distance(self, x: np.ndarray, y: np.ndarray, cap: float = 1_000.0) -> np.ndarray:
        """Distance in metres from points to the nearest river, capped at ``cap``.

        Within 1 km the answer is good to about a metre (clearance checks); beyond, it is
        good to about 150 m (valley weighting).
        """
        pts = np.column_stack([x, y])
        if cap <= 1_000.0:
            d, _ = self._probe.query(pts, distance_upper_bound=cap)
        else:
            d, _ = self._coarse.query(pts, distance_upper_bound=cap)
        return np.minimum(d, cap)

    def geometry(self, i: int) -> shapely.LineString:
        """River ``i`` as a line in UTM 47N metres (EPSG:32647)."""
        return shapely.LineString(self.lines[i])

    def index(self, key: str) -> int:
        """Index of the river with ``key`` (as in ``rivers.json``); ValueError if there is none."""
        return self.keys.index(key)


def _meander(coords: np.ndarray, rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """Offset a densified line sideways by a smooth random curve that vanishes at both ends."""
    chain = distance_along(coords)
    total = chain[-1]
    normal = np.zeros_like(coords)
    tang = np.gradient(coords, axis=0)
    tang /= np.maximum(np.hypot(tang[:, 0], tang[:, 1]), 1e-9)[:, None]
    normal[:, 0], normal[:, 1] = -tang[:, 1], tang[:, 0]
    offset = np.zeros(len(coords))
    for wavelength in (900.0, 2300.0, 5200.0):
        phase = rng.uniform(0, 2 * np.pi)
        offset += np.sin(2 * np.pi * chain / wavelength + phase) * amplitude * rng.uniform(0.4, 1.0)
    taper = np.clip(np.minimum(chain, total - chain) / 1500.0, 0.0, 1.0)
    return coords + normal * (offset * taper)[:, None]


def build_hydrography(
    facts: Facts, outline: shapely.Polygon, rng: np.random.Generator
) -> Hydrography:
    """Rivers clipped to the province and the Kiew Lom / Kiew Kho Ma reservoirs.

    Parameters
    ----------
    facts
        The demo's fact files.
    outline
        Province outline in UTM metres.
    rng
        The plan's random generator (meanders and reservoir shores).

    Returns
    -------
    Hydrography
    """
    specs = facts.rivers["rivers"]
    lines: dict[str, np.ndarray] = {}
    for spec in specs:  # parents come before tributaries in the file
        pts = latlon_points_to_utm(spec["waypoints"])
        pts = densify(chaikin(pts, 3), RIVER_VERTEX_STEP)
        pts = _meander(pts, rng, 90.0 if spec["width_m"] >= 50 else 60.0)
        if "joins" in spec:
            parent = shapely.LineString(lines[spec["joins"]])
            end = parent.interpolate(parent.project(shapely.Point(pts[-1])))
            pts[-1] = shapely.get_coordinates(end)[0]
        clipped = shapely.intersection(shapely.LineString(pts), outline)
        parts = [p for p in shapely.get_parts(shapely.line_merge(clipped)) if p.length > 0]
        longest = max(parts, key=lambda p: p.length)
        lines[spec["key"]] = shapely.get_coordinates(longest)
    keys = [s["key"] for s in specs]
    coords = [lines[k] for k in keys]
    seg_coords, seg_river = segments_of(coords)
    probe = np.vstack([densify(c, CLEARANCE_STEP) for c in coords])

    reservoirs, dams = [], []
    for dam in facts.dams.to_dict("records"):
        river = shapely.LineString(lines[dam["river"]])
        dam_pt = latlon_points_to_utm([[dam["lat"], dam["lon"]]])[0]
        at = river.project(shapely.Point(dam_pt))
        start = max(0.0, at - dam["reservoir_km"] * 1000.0)
        lake_axis = substring(river, start, at)
        # A chain of discs of varying size along the drowned valley gives an irregular shore.
        probes = densify(shapely.get_coordinates(lake_axis), 400.0)
        radii = dam["reservoir_halfwidth_m"] * rng.uniform(0.55, 1.25, len(probes))
        taper = np.clip(np.linspace(0.35, 1.6, len(probes)), 0.3, 1.0)  # narrow at the inflow
        discs = shapely.buffer(shapely.points(probes), radii * taper, quad_segs=6)
        lake = shapely.union_all(discs)
        # the dam wall is a straight cut across the valley at the dam point
        lake = shapely.difference(
            lake, shapely.Point(dam_pt).buffer(1.0).union(_downstream_halfplane(river, at))
        )
        lake = max(shapely.get_parts(lake), key=lambda p: p.area)
        reservoirs.append(shapely.set_precision(lake.simplify(5.0), GRID))
        dams.append(dam)
    return Hydrography(
        keys=keys,
        names_th=[s["name_th"] for s in specs],
        names_en=[s["name_en"] for s in specs],
        widths=np.array([float(s["width_m"]) for s in specs]),
        lines=coords,
        seg_coords=seg_coords,
        seg_river=seg_river,
        reservoirs=reservoirs,
        dams=dams,
        _probe=cKDTree(probe),
        _coarse=cKDTree(np.vstack(coords)),
    )


def _downstream_halfplane(river: shapely.LineString, at: float) -> shapely.Polygon:
    """The half-plane downstream of the point ``at`` metres along ``river`` (a big square)."""
    p = np.array(river.interpolate(at).coords[0])
    q = np.array(river.interpolate(min(river.length, at + 200.0)).coords[0])
    d = (q - p) / max(np.hypot(*(q - p)), 1e-9)
    n = np.array([-d[1], d[0]])
    big = 50_000.0
    corners = [p + n * big, p + n * big + d * big, p - n * big + d * big, p - n * big]
    return shapely.Polygon(corners)
