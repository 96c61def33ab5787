"""National highway alignments (DOH) from the waypoints in ``highways.json``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from gis_registry.demo.facts import Facts
from gis_registry.demo.geo import densify, latlon_points_to_utm
from gis_registry.demo.rivers import Hydrography

VERTEX_STEP = 400.0  # metres between highway nodes
RIVER_CLEARANCE = 170.0  # no road node this close to a river: bridges need room


@dataclass
class Highway:
    """One national highway: its attributes and node coordinates (UTM) in driving order."""

    code: str
    name_th: str
    name_en: str
    lanes: int
    width_m: float
    year_built: int
    coords: np.ndarray
    path: np.ndarray  # the whole waypoint line (UTM), before the cut at the province border
    chainage_origin_m: float  # the DOH chainage of the path's first point

    def chainage(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """DOH chainage (metres) of points on or near the highway: distance along its path."""
        along = shapely.line_locate_point(shapely.LineString(self.path), shapely.points(x, y))
        return self.chainage_origin_m + np.asarray(along)


def build_highways(facts: Facts, outline: shapely.Polygon, hydro: Hydrography) -> list[Highway]:
    """Highway node chains, cut where they leave the province.

    Named junctions are shared waypoints, so highways that meet there share one node. Nodes too
    close to a river are dropped: the highway then crosses the river on one straight segment,
    which becomes a bridge.
    """
    spec = facts.highways
    junctions = {k: latlon_points_to_utm([v])[0] for k, v in spec["junctions"].items()}
    inner = outline.buffer(-300.0)
    out = []
    for hw in spec["highways"]:
        pts = np.array(
            [
                junctions[w] if isinstance(w, str) else latlon_points_to_utm([w])[0]
                for w in hw["waypoints"]
            ]
        )
        pts = densify(pts, VERTEX_STEP)
        path = pts.copy()
        inside = shapely.contains_xy(inner, pts[:, 0], pts[:, 1])
        # keep the longest run of consecutive inside points (the highway within the province)
        runs = np.split(np.arange(len(pts)), np.flatnonzero(np.diff(inside.astype(int))) + 1)
        best = max((r for r in runs if inside[r[0]]), key=len)
        pts = pts[best]
        pts = pts[hydro.distance(pts[:, 0], pts[:, 1], cap=RIVER_CLEARANCE + 1.0) > RIVER_CLEARANCE]
        out.append(
            Highway(
                hw["code"],
                hw["name_th"],
                hw["name_en"],
                int(hw["lanes"]),
                float(hw["width_m"]),
                int(hw["year_built"]),
                pts,
                path,
                float(hw["chainage_origin_km"]) * 1000.0,
            )
        )
    return out
