"""Planted weak links: pockets of villages whose only road out crosses one bridge.

A zone is the strip of land on one bank of a river, ``half_length_km`` up and down stream of an
anchor point and ``depth_km`` deep. The network builder keeps every road edge that leaves the
zone except one river crossing, so that bridge is the zone's single point of failure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.ops import substring

from gis_registry.demo.facts import Facts
from gis_registry.demo.geo import latlon_points_to_utm
from gis_registry.demo.highways import Highway
from gis_registry.demo.rivers import Hydrography
from gis_registry.demo.territory import Territory


@dataclass
class WeakLinkZone:
    """A planted zone (UTM polygon) and the bridge attributes it asks for."""

    key: str
    river: int
    polygon: shapely.Polygon
    spec: dict
    office_lgo: int | None  # row in territory.lgos whose office was moved into the zone


def plan_zones(
    facts: Facts, hydro: Hydrography, territory: Territory, highways: list[Highway]
) -> list[WeakLinkZone]:
    """Build the planted zones and move the requested LGO offices into them.

    Raises
    ------
    ValueError
        When a zone touches a highway, another river or a reservoir (fix ``weak_links.json``).
    """
    zones = []
    inner = territory.outline.buffer(-500.0)
    lgos = territory.lgos
    for spec in facts.weak_links["zones"]:
        r = hydro.index(spec["river"])
        river = hydro.geometry(r)
        anchor = shapely.Point(latlon_points_to_utm([spec["anchor"]])[0])
        at = river.project(anchor)
        half = spec["half_length_km"] * 1000.0
        reach = substring(river, max(0.0, at - half), min(river.length, at + half))
        depth = spec["depth_km"] * 1000.0
        left = shapely.buffer(reach, depth, single_sided=True, cap_style="flat")
        right = shapely.buffer(reach, -depth, single_sided=True, cap_style="flat")
        side = left if left.distance(anchor) <= right.distance(anchor) else right
        zone = shapely.intersection(side, inner)
        zone = max(shapely.get_parts(zone), key=lambda p: p.area)
        for hw in highways:
            if shapely.LineString(hw.coords).distance(zone) < 500.0:
                raise ValueError(f"weak-link zone {spec['key']} touches highway {hw.code}")
        for k in range(len(hydro.keys)):
            if k != r and hydro.geometry(k).distance(zone) < 300.0:
                raise ValueError(f"weak-link zone {spec['key']} touches river {hydro.keys[k]}")
        if any(res.distance(zone) < 300.0 for res in hydro.reservoirs):
            raise ValueError(f"weak-link zone {spec['key']} touches a reservoir")
        office_lgo = None
        if spec.get("office"):
            hit = [i for i, g in enumerate(lgos["geom"]) if g.contains(anchor)]
            if not hit or lgos.at[hit[0], "role"] == "centre":
                raise ValueError(f"weak-link zone {spec['key']} anchor is not in a tambon LGO")
            office_lgo = hit[0]
            _move_office(territory, office_lgo, zone, hydro)
        zones.append(WeakLinkZone(spec["key"], r, zone, spec, office_lgo))
    return zones


def _move_office(territory: Territory, i: int, zone: shapely.Polygon, hydro: Hydrography) -> None:
    lgos = territory.lgos
    spot = zone.intersection(lgos.at[i, "geom"].buffer(-400.0)).buffer(-300.0)
    if spot.is_empty:
        raise ValueError("weak-link zone leaves no room for the LGO office")
    x0, y0, x1, y1 = spot.bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, 40), np.linspace(y0, y1, 40))
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    pts = pts[shapely.contains_xy(spot, pts[:, 0], pts[:, 1])]
    pts = pts[hydro.distance(pts[:, 0], pts[:, 1], cap=601.0) > 600.0]
    if not len(pts):
        raise ValueError("weak-link zone leaves no room for the LGO office")
    c = np.array(spot.centroid.coords[0])
    best = pts[np.argmin(np.hypot(*(pts - c).T))]
    lgos.at[i, "office_x"], lgos.at[i, "office_y"] = best
