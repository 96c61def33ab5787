"""DPT zoning palette and two comprehensive plans for Lampang city (ผังเมืองรวมเมืองลำปาง).

A Thai comprehensive plan is drawn on the town's own fabric: zone borders run along roads,
rivers, the railway and tambon borders, commercial land lines the main streets, industry
follows the highway and the railway, and farmland surrounds the built-up area. So the plan is
built the way a planner would draw it, in three steps:

1. **Streets and blocks.** The Wang, the national highways and the railway (an approximate
   alignment from ``city_plan.json``) are the fixed lines. Main streets form a curvilinear grid
   aligned with the Wang (streets parallel to the river and cross streets, only some of which
   bridge it), with irregular spacing that widens away from the centre. Polygonizing these
   lines gives superblocks, which are then cut recursively, roughly across their long axis and
   with jittered position and angle, until blocks reach a target size of about 150 m in the core
   growing to a kilometre and more in the fields. This mimics how Thai towns grow (main roads
   first, then sois cut into the land between them) and gives irregular but plausible blocks.
2. **A reach field.** Each block gets an "effective distance" from the city: straight-line
   distance from the centre and from a few satellite centres (the provincial hall, the
   university), shortened along the highways (growth follows them) and stretched by a smooth
   random field, so no zone border is a circle. The plan area is the blocks within a reach
   threshold, plus the whole city (its four tambons) and the named sites, with holes filled;
   its border therefore follows streets, the river and tambon borders.
3. **Rules.** Blocks are labelled in priority order: the open-space strip along the Wang, the
   named sites (provincial hall, airport, Rajabhat university, Wat Phra Kaeo Don Tao, a
   special industrial estate), the old town (Thai art and culture conservation and residential
   conservation), the commercial core and main-street frontage, industry and warehouses along
   highway 11 and the railway, residential density graded by reach, and farmland outside.

Both plans share the street and block structure (a revision redraws zones on the same base
map): the 2024 revision only grows the thresholds (``grow``). Every zone is the coverage union
of whole faces of one polygonization of all lines, snapped to the 1 cm grid, so the zones of a
plan tile its area with exactly matching shared edges.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from gis_registry.demo.facts import Facts
from gis_registry.demo.geo import GRID, as_multipolygon, chaikin, densify, latlon_points_to_utm
from gis_registry.demo.highways import Highway
from gis_registry.demo.rivers import Hydrography

PLANS: tuple[dict[str, Any], ...] = (
    {
        "id": 1,
        "code": "LP-CITY-2561",
        "name_th": "ผังเมืองรวมเมืองลำปาง พ.ศ. 2561",
        "name_en": "Lampang City Comprehensive Plan 2018",
        "effective_date": dt.date(2018, 6, 14),
        "expiry_date": dt.date(2023, 6, 13),
        "grow": 0.85,
    },
    {
        "id": 2,
        "code": "LP-CITY-2567",
        "name_th": "ผังเมืองรวมเมืองลำปาง (ปรับปรุงครั้งที่ 1) พ.ศ. 2567",
        "name_en": "Lampang City Comprehensive Plan 2024 (first revision)",
        "effective_date": dt.date(2024, 3, 1),
        "expiry_date": dt.date(2029, 2, 28),
        "grow": 1.0,
    },
)

# Land-use codes in output order, with their category (zoning_categories.csv). Codes follow each
# category's range in that file; categories without one use the codes Thai plans print.
ZONES: tuple[tuple[str, str], ...] = (
    ("ย.2", "low_density_residential"),
    ("ย.3", "low_density_residential"),
    ("ย.5", "medium_density_residential"),
    ("ย.6", "medium_density_residential"),
    ("ย.8", "high_density_residential"),
    ("ย.9", "high_density_residential"),
    ("ย.อ.", "residential_conservation"),
    ("พ.1", "commercial"),
    ("พ.2", "commercial"),
    ("พ.3", "commercial"),
    ("อ.1", "industrial"),
    ("อ.2", "industrial"),
    ("อ.4", "special_industrial"),
    ("อ.3", "warehouse"),
    ("ก.2", "rural_agricultural_conservation"),
    ("ก.3", "rural_agricultural_conservation"),
    ("ก.4", "rural_agricultural"),
    ("ศ.1", "thai_art_culture_conservation"),
    ("ส.1", "government"),
    ("ส.2", "education"),
    ("ส.3", "religious"),
    ("ล.1", "open_space"),
)
_Z = {code: k for k, (code, _) in enumerate(ZONES)}

# Effective distances (metres, see _reach) of the plan's rings at grow = 1.
PLAN_REACH = 5_300.0  # the plan area
URBAN_REACH = 3_800.0  # residential and urban uses; farmland beyond
MEDIUM_REACH = 2_500.0  # medium-density residential within
HIGH_REACH = 1_350.0  # high-density residential within
MAIN_STREET_REACH = 2_600.0  # commercial frontage on main streets within
HIGHWAY_REACH = 3_400.0  # commercial frontage on highways within

REGION_REACH = 9_000.0  # district tambons nearer the centre than this may hold the plan
SATELLITE_OFFSET = 2_600.0  # reach of a satellite centre (hall, university) from the city
CORRIDOR_ALONG = 0.55  # reach per metre along a highway (growth follows the roads)
CORRIDOR_ACROSS = 1.6  # reach per metre away from the highway
REACH_NOISE = 0.2  # amplitude of the smooth multiplicative noise on the reach ...
FINE_NOISE = 0.06  # ... and of its sub-kilometre ripple
VALLEY_STRETCH = 1.35  # distances along the Wang count this much less
ARTERIAL_PULL = 350.0  # blocks on an arterial count as this much nearer for density

TRACT = 1_700.0  # target side of the tracts the plan area is made of (rural-road spacing)
CORE_BLOCK = 150.0  # target block side in the core (metres)...
BLOCK_GROWTH = 0.12  # ... growing by this many metres per metre of reach ...
FIELD_BLOCK = 1_300.0  # ... up to this in the fields

STRIP_WIDTH = (30.0, 170.0)  # half-width range of the open space along the Wang in town
FLOODPLAIN = 1_200.0  # rural land this close to the Wang is floodplain conservation (ก.2)
HW11_INDUSTRY = 1_000.0  # industry within this distance of highway 11 ...
HW11_WEST = 2_000.0  # ... and this far west of the centre
RAIL_WAREHOUSE = 350.0  # warehouses within this distance of the railway
MAIN_DEPTH = (60.0, 100.0)  # depth of the commercial frontage along main streets (metres)
HIGHWAY_DEPTH = (110.0, 160.0)  # ... and along highways


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    """``city_plan.json``: anchors, sites and the approximate railway (read once)."""
    text = (
        resources.files("gis_registry.demo").joinpath("data", "city_plan.json").read_text("utf-8")
    )
    spec: dict[str, Any] = json.loads(text)
    return spec


def category_frame(facts: Facts) -> pd.DataFrame:
    """The zoning_categories rows (hatch empty where the category is drawn plain)."""
    cats = facts.zoning_categories.copy()
    cats["hatch"] = cats["hatch"].astype(object).where(cats["hatch"].notna(), None)
    cats["sort_order"] = cats["sort_order"].astype(int)
    return cats


def plan_frame() -> pd.DataFrame:
    """The zoning_plans rows: the 2018 plan (expired) and its 2024 revision (in force).

    Plan codes are ``LP-CITY-<year of the plan, BE>``: Lampang city's plan of 2561 and 2567.
    """
    return pd.DataFrame([{k: v for k, v in p.items() if k != "grow"} for p in PLANS])


def railway_line() -> shapely.LineString:
    """The approximate Northern Line through the province (UTM 47N metres).

    Returns
    -------
    shapely.LineString
        The waypoints of ``city_plan.json`` (hand-traced, not surveyed), smoothed.
    """
    pts = latlon_points_to_utm(_spec()["railway"]["waypoints"])
    return shapely.LineString(densify(chaikin(pts, 3), 200.0))


def _pt(latlon: list[float]) -> np.ndarray:
    return latlon_points_to_utm([latlon])[0]


class _Noise:
    """A smooth random field in about [-1, 1]: a few plane waves of kilometre wavelengths."""

    def __init__(self, rng: np.random.Generator, waves: int = 6, wavelength=(2_500.0, 7_000.0)):
        ang = rng.uniform(0.0, np.pi, waves)
        k = 2 * np.pi / rng.uniform(*wavelength, waves)
        self.k = np.column_stack([np.cos(ang), np.sin(ang)]) * k[:, None]
        self.phase = rng.uniform(0.0, 2 * np.pi, waves)
        self.scale = np.sqrt(2.0 / waves)

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        return np.clip(np.sin(xy @ self.k.T + self.phase).sum(axis=1) * self.scale, -1.0, 1.0)


class _Track:
    """A polyline sampled every few metres, for fast nearest-point look-ups of many points.

    GEOS projects a point on a line in time linear in the line's vertices; the plan asks this
    of thousands of points dozens of times, so a KD-tree over close samples (exact to a few
    metres, plenty for planning distances) keeps ``zone_frame`` fast.
    """

    def __init__(self, coords: np.ndarray, step: float = 10.0):
        self.xy = densify(np.asarray(coords, float), step)
        self.chain = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(self.xy, axis=0).T))])
        self.tree = cKDTree(self.xy)

    def locate(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distance to the line, chainage of the nearest sample and that sample's index."""
        d, i = self.tree.query(xy)
        return d, self.chain[i], i


@dataclass
class _Frame:
    """Curvilinear coordinates along a smoothed Wang: chainage ``s`` and offset ``n`` (metres).

    The main-street grid is drawn in these coordinates, so its streets run with the river and
    across it the way Lampang's do.
    """

    chain: np.ndarray
    axis: np.ndarray
    normal: np.ndarray
    s0: float  # chainage of the city centre
    track: _Track

    @classmethod
    def along(cls, river: shapely.Geometry, centre: np.ndarray) -> _Frame:
        """Frame of ``river`` (its reach nearest ``centre``) smoothed at the kilometre scale and
        extended 15 km both ways."""
        parts = shapely.get_parts(shapely.line_merge(river))
        reach = parts[np.argmin(shapely.distance(parts, shapely.Point(centre)))]
        coarse = densify(shapely.get_coordinates(reach), 250.0)[::6]
        axis = chaikin(coarse, 4)
        ends = [axis[1] - axis[0], axis[-1] - axis[-2]]
        ends = [e / np.hypot(*e) for e in ends]
        axis = np.vstack([axis[0] - ends[0] * 15_000.0, axis, axis[-1] + ends[1] * 15_000.0])
        axis = densify(axis, 100.0)
        seg = np.hypot(*np.diff(axis, axis=0).T)
        keep = np.concatenate([[True], seg > 1e-6])
        axis = axis[keep]
        chain = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(axis, axis=0).T))])
        tang = np.gradient(axis, chain, axis=0)
        tang /= np.hypot(tang[:, 0], tang[:, 1])[:, None]
        normal = np.column_stack([-tang[:, 1], tang[:, 0]])
        s0 = shapely.LineString(axis).project(shapely.Point(centre))
        return cls(chain, axis, normal, float(s0), _Track(axis, 10.0))

    def xy(self, s: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Map chainage and offset arrays to UTM coordinates."""
        a = np.column_stack([np.interp(s, self.chain, self.axis[:, i]) for i in (0, 1)])
        d = np.column_stack([np.interp(s, self.chain, self.normal[:, i]) for i in (0, 1)])
        d /= np.hypot(d[:, 0], d[:, 1])[:, None]
        return a + d * np.asarray(n)[:, None]

    def sn(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Chainage and signed offset of points (inverse of :meth:`xy`, to about 10 m)."""
        _, s, i = self.track.locate(xy)
        foot = self.track.xy[i]
        d = np.column_stack([np.interp(s, self.chain, self.normal[:, k]) for k in (0, 1)])
        return s, ((xy - foot) * d).sum(axis=1)


def _wobble(t: np.ndarray, rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """A smooth sideways offset along a street, so no main street is ruled straight."""
    out = np.zeros_like(t)
    for wavelength in rng.uniform(1_200.0, 4_500.0, 2):
        out += np.sin(2 * np.pi * t / wavelength + rng.uniform(0, 2 * np.pi))
    return out * amplitude * rng.uniform(0.3, 1.0)


def _spacings(rng: np.random.Generator, first: float, limit: float, base: float) -> np.ndarray:
    """Offsets of successive parallel streets: irregular, widening away from the centre."""
    out, at = [], first
    while at < limit:
        out.append(at)
        at += base * rng.uniform(0.7, 1.35) + 0.22 * at
    return np.array(out)


def _main_streets(
    frame: _Frame, strip: shapely.Geometry, rng: np.random.Generator
) -> tuple[list[shapely.LineString], list[shapely.LineString]]:
    """The main-street grid, drawn in river coordinates: streets along the Wang and across it.

    Streets along the river start a little off its banks on each side; cross streets bridge
    the river only now and then (about one in three in town), otherwise they stop at the
    riverside. Spacing is irregular and widens outwards, and extents shrink away from the
    river, so the grid frays out into the fields. A smooth warp bends the whole grid a little
    more, so no two streets are quite parallel.

    Returns
    -------
    tuple
        Arterials (the bridges and the first street along each bank: the town's commercial
        streets) and the other main streets, as lines in UTM metres.
    """
    warp = _Noise(rng, 4, (3_000.0, 8_000.0)), _Noise(rng, 4, (3_000.0, 8_000.0))
    tagged: list[tuple[np.ndarray, bool, bool]] = []  # coordinates, arterial, bridge
    for side in (-1.0, 1.0):
        for j, n in enumerate(_spacings(rng, rng.uniform(300.0, 450.0), 5_000.0, 480.0)):
            ext = (7_500.0 - 0.8 * n) * rng.uniform(0.55, 1.0, 2)
            s = np.arange(frame.s0 - ext[0], frame.s0 + ext[1], 80.0)
            arterial = j == 0 or (j == 1 and rng.random() < 0.5)
            tagged.append((frame.xy(s, side * n + _wobble(s, rng, 90.0)), arterial, False))
    for side in (-1.0, 1.0):
        for ds in _spacings(rng, rng.uniform(150.0, 350.0), 8_500.0, 420.0):
            ext = (5_200.0 - 0.4 * ds) * rng.uniform(0.5, 1.0, 2)
            bridge = bool(rng.random() < (0.4 if ds < 3_000.0 else 0.15))
            if ext.min() < 600.0:
                continue
            n = np.arange(-ext[0], ext[1], 80.0)
            s = frame.s0 + side * ds + _wobble(n, rng, 80.0)
            tagged.append((frame.xy(s, n), bridge, bridge))
    keep_off = shapely.buffer(strip, 40.0)
    arterials: list[shapely.LineString] = []
    others: list[shapely.LineString] = []
    for xy, arterial, bridge in tagged:
        xy = xy + 160.0 * np.column_stack([warp[0](xy), warp[1](xy)])
        line = shapely.LineString(xy)
        if not bridge:
            line = shapely.difference(line, keep_off)
        parts = [p for p in shapely.get_parts(line) if p.length > 300.0]
        (arterials if arterial else others).extend(parts)
    return arterials, others


def _river_strip(
    wang: shapely.LineString,
    region: shapely.Geometry,
    reach_of: Any,
    keep_clear: np.ndarray,
    rng: np.random.Generator,
) -> shapely.Geometry:
    """Open space along the Wang: a strip of varying, one-sided width (not a uniform buffer).

    Discs along the river whose centre drifts off the centreline and whose radius varies
    smoothly make a strip that widens and narrows on either bank; it is wider in the fields
    (the river's flood margin) and kept clear of the named old-town places on its banks.
    """
    line = shapely.intersection(wang, shapely.buffer(region, 2_000.0))
    parts = [p for p in shapely.get_parts(shapely.line_merge(line)) if p.length > 0]
    pts = densify(shapely.get_coordinates(max(parts, key=lambda p: p.length)), 25.0)
    t = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
    left = _wobble(t, rng, 1.0) * 0.5 + 0.5
    right = _wobble(t, rng, 1.0) * 0.5 + 0.5
    lo, hi = STRIP_WIDTH
    rural = np.clip((reach_of(pts) - URBAN_REACH) / 2_000.0, 0.0, 1.0)
    w_left = lo + (hi - lo) * np.clip(left, 0, 1) * (1 + 1.5 * rural)
    w_right = lo + (hi - lo) * np.clip(right, 0, 1) * (1 + 1.5 * rural)
    tang = np.gradient(pts, t, axis=0)
    tang /= np.hypot(tang[:, 0], tang[:, 1])[:, None]
    normal = np.column_stack([-tang[:, 1], tang[:, 0]])
    centre = pts + normal * ((w_left - w_right) / 2)[:, None]
    radius = (w_left + w_right) / 2
    # keep the strip's edge 60 m short of the old-town places by the river
    gap = np.hypot(*(centre[:, None, :] - keep_clear[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    radius = np.maximum(np.minimum(radius, gap - 60.0), 15.0)
    discs = shapely.buffer(shapely.points(centre), radius, quad_segs=4)
    strip = shapely.union_all(discs).simplify(3.0)
    return shapely.intersection(strip, region)


class _Reach:
    """Effective distance (metres) from the city: how far out, in planning terms, a point lies.

    The smallest of: the distance from the centre, measured in river coordinates and shortened
    along the Wang (the town stretches along its valley); the distance from a satellite centre
    (provincial hall, university) plus an offset; and the distance along a highway (cheap: towns
    grow along their roads) plus the way to it and off it. Scaled by two smooth random fields
    (kilometre and sub-kilometre waves) so that its level sets wander and no ring is round.
    """

    def __init__(
        self,
        frame: _Frame,
        centre: np.ndarray,
        satellites: np.ndarray,
        corridors: list[shapely.LineString],
        rng: np.random.Generator,
    ):
        self.frame, self.centre, self.satellites = frame, centre, satellites
        # per highway: its track, the chainage of the point nearest the centre and the way there
        self.corridors = []
        for road in corridors:
            track = _Track(shapely.get_coordinates(road), 25.0)
            d, s, _ = track.locate(centre[None, :])
            self.corridors.append((track, s[0], d[0]))
        self.sn0 = [v[0] for v in frame.sn(centre[None, :])]
        self.noise = _Noise(rng)
        self.fine = _Noise(rng, 6, (900.0, 2_200.0))

    def __call__(self, xy: np.ndarray, satellites: bool = True) -> np.ndarray:
        """Reach of points; ``satellites=False`` measures from the town centre only."""
        s, n = self.frame.sn(xy)
        d = np.hypot((s - self.sn0[0]) / VALLEY_STRETCH, n - self.sn0[1])
        if satellites:
            for sat in self.satellites:
                d = np.minimum(d, SATELLITE_OFFSET + np.hypot(*(xy - sat).T))
        for track, s_centre, access in self.corridors:
            off, along, _ = track.locate(xy)
            d = np.minimum(d, CORRIDOR_ALONG * np.abs(along - s_centre) + access + CORRIDOR_ACROSS * off)
        return d * (1.0 + REACH_NOISE * self.noise(xy) + FINE_NOISE * self.fine(xy))


def _subdivide(
    faces: np.ndarray, target_of: Any, fixed: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Cut faces across their long axis until they are no longer than their target size.

    Each round cuts every face still too long by a half-plane through a jittered point of its
    oriented envelope, at a jittered angle: the recursive split of land between main roads by
    local streets. Vectorised: one round is a handful of array operations on all faces.
    """
    done = [faces[fixed]]
    todo = faces[~fixed]
    for _ in range(14):
        if not len(todo):
            break
        env = shapely.oriented_envelope(todo)
        ring = shapely.get_coordinates(shapely.get_exterior_ring(env)).reshape(-1, 5, 2)
        e0, e1 = ring[:, 1] - ring[:, 0], ring[:, 2] - ring[:, 1]
        l0, l1 = np.hypot(*e0.T), np.hypot(*e1.T)
        u = np.where((l0 >= l1)[:, None], e0, e1)
        length = np.maximum(l0, l1)
        u /= np.maximum(length, 1e-9)[:, None]
        mid = ring[:, :4].mean(axis=1)
        target = target_of(mid) * rng.uniform(0.85, 1.45, len(todo))
        cut = length > target
        done.append(todo[~cut])
        todo, u, length, mid = todo[cut], u[cut], length[cut], mid[cut]
        at = mid + u * (length * rng.uniform(-0.15, 0.15, len(todo)))[:, None]
        ang = np.arctan2(u[:, 1], u[:, 0]) + rng.normal(0.0, 0.12, len(todo))
        u = np.column_stack([np.cos(ang), np.sin(ang)])  # normal of the cut line
        v = np.column_stack([-u[:, 1], u[:, 0]])  # along the cut line
        big = (length * 2.0 + 100.0)[:, None]
        halves = []
        for sign in (1.0, -1.0):
            quad = np.stack(
                [
                    at + v * big,
                    at + v * big + sign * u * big,
                    at - v * big + sign * u * big,
                    at - v * big,
                    at + v * big,
                ],
                axis=1,
            )
            halves.append(shapely.intersection(todo, shapely.polygons(quad)))
        parts = shapely.get_parts(np.concatenate(halves))
        keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 1.0)
        todo = parts[keep]
    done.append(todo)
    return np.concatenate(done)


def _frontage_lines(
    streets: list[shapely.LineString],
    reach_of: Any,
    limit: float,
    depth: tuple[float, float],
    rng: np.random.Generator,
) -> list[shapely.Geometry]:
    """Back lines of the frontage plots along ``streets`` where their reach is within ``limit``.

    Thai plans draw commercial land along a road to a set depth from it; a line parallel to
    the street at that depth (varying a little from street to street) bounds those plots.
    """
    out = []
    for street in streets:
        xy = shapely.get_coordinates(shapely.segmentize(street, 50.0))
        ok = reach_of(xy) <= limit
        runs = np.split(np.arange(len(xy)), np.flatnonzero(np.diff(ok.astype(int))) + 1)
        d = rng.uniform(*depth)
        for run in runs:
            if ok[run[0]] and len(run) >= 4:
                line = shapely.LineString(xy[run])
                out += [shapely.offset_curve(line, d), shapely.offset_curve(line, -d)]
    return out


def _along(faces: np.ndarray, streets: shapely.Geometry, depth: float) -> tuple[np.ndarray, ...]:
    """Per face: length (m) of its border on ``streets``, and whether it lies within ``depth``."""
    probe = shapely.get_coordinates(shapely.segmentize(streets, 3.0))
    tree = cKDTree(probe)
    pts, owner = shapely.get_coordinates(
        shapely.segmentize(shapely.boundary(faces), 10.0), return_index=True
    )
    near, _ = tree.query(pts, distance_upper_bound=depth)
    on = near < 2.0
    step = np.hypot(*np.diff(pts, axis=0).T)
    both = on[:-1] & on[1:] & (owner[:-1] == owner[1:])
    front = np.bincount(owner[:-1][both], weights=step[both], minlength=len(faces))
    far = np.bincount(owner, weights=~np.isfinite(near), minlength=len(faces))
    return front, far == 0


def _grab(faces: np.ndarray, free: np.ndarray, point: np.ndarray, area: float) -> np.ndarray:
    """The free faces nearest ``point`` (its own first) until they hold ``area`` m²."""
    d = shapely.distance(faces, shapely.Point(point))
    d[~free] = np.inf
    order = np.argsort(d, kind="stable")
    order = order[np.isfinite(d[order])]
    n = int(np.searchsorted(np.cumsum(shapely.area(faces[order])), area)) + 1
    out = np.zeros(len(faces), bool)
    out[order[:n]] = True
    return out


def _polygonize(*lines: shapely.Geometry | np.ndarray) -> np.ndarray:
    """Faces of the lines, noded on the 1 cm grid (so neighbouring faces share exact edges)."""
    noded = shapely.union_all(np.concatenate([np.atleast_1d(g) for g in lines]), grid_size=GRID)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))
    return faces[shapely.area(faces) > 0.0]


@dataclass
class _City:
    """The street and block structure and what the plans need to know of each block."""

    faces: np.ndarray  # blocks: the faces of one polygonization, UTM
    rep: np.ndarray  # a point inside each
    tract: np.ndarray  # index into tracts: the rural-road-sized face each block lies in
    tracts: np.ndarray  # coarse faces (streets, highways, river, tambon borders) for the plan area
    tract_reach: np.ndarray
    anchors: np.ndarray  # centre and site points: the plan area holds them
    city: shapely.Geometry  # the four city tambons
    features: dict[str, np.ndarray]
    parcel: dict[str, np.ndarray]  # land-use code -> blocks of the named sites


def _city(
    territory: Any, hydro: Hydrography, highways: list[Highway], rng: np.random.Generator
) -> _City:
    """Draw the city's streets and blocks and measure each block (see the module docstring)."""
    spec = _spec()
    centre = _pt(spec["centre"])
    modern = _pt(spec["modern_centre"])
    kad_kong_ta = _pt(spec["old_town"]["kad_kong_ta"])
    don_tao = _pt(spec["old_town"]["wat_phra_kaeo_don_tao"])
    sites = [dict(s, xy=_pt(s["point"])) for s in spec["sites"]]
    site_xy = {s["key"]: s["xy"] for s in sites}
    wang = hydro.geometry(hydro.index("wang"))
    roads = {h.code: shapely.LineString(h.coords) for h in highways}
    rail = railway_line()
    station = _pt(spec["railway"]["station"])

    # The region the plan may reach: tambons of the district near the city, in the province.
    tb = territory.tambons
    code = tb["code"].astype(str).str[-6:].to_numpy()
    district = tb["district_code"].astype(str).str[-4:].to_numpy()
    geoms = np.asarray(tb["geom"])
    near = shapely.distance(geoms, shapely.Point(centre)) < REGION_REACH
    region = shapely.union_all(geoms[(district == spec["district"]) & near])
    region = shapely.intersection(region, territory.outline, grid_size=GRID)
    region = next(p for p in shapely.get_parts(region) if p.covers(shapely.Point(centre)))
    city = shapely.union_all(geoms[np.isin(code, spec["city_tambons"])])

    frame = _Frame.along(shapely.intersection(wang, shapely.buffer(region, 3_000.0)), centre)
    corridors = [roads[c] for c in ("1", "11", "1035") if c in roads]
    satellites = np.array([site_xy["provincial_hall"], site_xy["lampang_rajabhat_university"]])

    reach_of = _Reach(frame, centre, satellites, corridors, rng)

    def town_reach_of(xy: np.ndarray) -> np.ndarray:
        return reach_of(xy, satellites=False)

    # 1. fixed lines, the main-street grid and the frontage lines along them
    a = spec["airport"]
    ax = _pt(a["centre"])
    airport = shapely.box(
        ax[0] - a["width_m"] / 2,
        ax[1] - a["length_m"] / 2,
        ax[0] + a["width_m"] / 2,
        ax[1] + a["length_m"] / 2,
    )
    strip = _river_strip(wang, region, reach_of, np.array([kad_kong_ta, don_tao, modern]), rng)
    arterials, others = _main_streets(frame, strip, rng)
    off_limits = shapely.buffer(airport, 1.0)
    arterials = shapely.intersection(
        shapely.difference(shapely.union_all(arterials), off_limits), region, grid_size=GRID
    )
    mains = shapely.intersection(
        shapely.difference(shapely.union_all(others), off_limits), region, grid_size=GRID
    )
    mains = shapely.union_all([mains, arterials], grid_size=GRID)
    highway_lines = shapely.intersection(shapely.union_all(list(roads.values())), region)
    front_lines = _frontage_lines(
        list(shapely.get_parts(shapely.line_merge(arterials))),
        town_reach_of,
        MAIN_STREET_REACH,
        MAIN_DEPTH,
        rng,
    ) + _frontage_lines(
        list(shapely.get_parts(shapely.line_merge(highway_lines))),
        reach_of,
        HIGHWAY_REACH,
        HIGHWAY_DEPTH,
        rng,
    )
    front_lines = shapely.difference(
        shapely.union_all(front_lines), shapely.union_all([strip, airport])
    )
    fixed = shapely.intersection(
        shapely.union_all(
            [
                highway_lines,
                rail,
                shapely.boundary(strip),
                shapely.boundary(airport),
                shapely.boundary(region),
                shapely.boundary(city),
            ]
        ),
        region,
    )
    superblocks = _polygonize(mains, fixed)

    # 2. tracts (rural-road sized; the plan area is made of them), then blocks in the plan
    rep = shapely.get_coordinates(shapely.point_on_surface(superblocks))
    whole = shapely.contains_xy(airport, rep[:, 0], rep[:, 1])
    in_strip = shapely.contains_xy(strip, rep[:, 0], rep[:, 1])

    def tract_size(xy: np.ndarray) -> np.ndarray:
        return np.where(
            shapely.contains_xy(strip, xy[:, 0], xy[:, 1]), 700.0, np.full(len(xy), TRACT)
        )

    tracts = _subdivide(superblocks, tract_size, whole, rng)
    tracts = _polygonize(shapely.boundary(tracts))
    t_rep = shapely.get_coordinates(shapely.point_on_surface(tracts))
    tract_reach = reach_of(t_rep)
    planned = tract_reach <= PLAN_REACH * 1.1

    def block_size(xy: np.ndarray) -> np.ndarray:
        r = reach_of(xy)
        size = np.minimum(CORE_BLOCK + BLOCK_GROWTH * np.maximum(r, 0.0), FIELD_BLOCK)
        size = np.where(r > URBAN_REACH * 1.1, np.maximum(size, 900.0), size)
        return np.where(shapely.contains_xy(strip, xy[:, 0], xy[:, 1]), 700.0, size)

    t_whole = ~planned | shapely.contains_xy(airport, t_rep[:, 0], t_rep[:, 1])
    blocks = _subdivide(tracts, block_size, t_whole, rng)
    faces = _polygonize(shapely.boundary(blocks), front_lines, fixed)
    faces = faces[
        shapely.contains_xy(region, *shapely.get_coordinates(shapely.point_on_surface(faces)).T)
    ]
    del in_strip

    # 3. what each block is
    rep = shapely.get_coordinates(shapely.point_on_surface(faces))
    pts = shapely.points(rep)
    t_of, b_of = shapely.STRtree(tracts).query(pts, predicate="within")
    tract = np.full(len(faces), -1)
    tract[t_of] = b_of
    s, n = frame.sn(rep)
    s_m, n_m = frame.sn(np.array([(modern + kad_kong_ta) / 2]))
    wiggle = reach_of.noise(rep[:, ::-1])  # a second smooth field (the same waves, axes swapped)
    main_front, main_strip = _along(faces, arterials, MAIN_DEPTH[1] + 3.0)
    hw_front, hw_strip = _along(faces, highway_lines, HIGHWAY_DEPTH[1] + 3.0)
    features = {
        "area": shapely.area(faces),
        "reach": reach_of(rep),
        # density follows the arterials a little way out (the tail of a ribbon development)
        "town_reach": town_reach_of(rep)
        - ARTERIAL_PULL * np.clip(1.0 - shapely.distance(arterials, pts) / 400.0, 0.0, 1.0),
        "d_centre": np.hypot(*(rep - centre).T),
        "d_wang": shapely.distance(shapely.intersection(wang, shapely.buffer(region, 3_000.0)), pts),
        "d_hw11": shapely.distance(roads["11"], pts) if "11" in roads else np.full(len(rep), 1e9),
        "d_rail": shapely.distance(rail, pts),
        "d_station": np.hypot(*(rep - station).T),
        "d_old": shapely.distance(shapely.LineString([kad_kong_ta, don_tao]), pts),
        "d_don_tao": np.hypot(*(rep - don_tao).T),
        "d_modern": np.hypot(*(rep - modern).T),
        "east": rep[:, 0] - centre[0],
        "wiggle": wiggle,
        # the commercial core: an oval along the river between the old and the modern centre
        "core": np.hypot((s - s_m[0]) / 1_150.0, (n - n_m[0]) / 500.0) * (1 + 0.25 * wiggle),
        "at_old_market": shapely.contains_xy(faces, kad_kong_ta[0], kad_kong_ta[1]),
        "strip": shapely.contains_xy(strip, rep[:, 0], rep[:, 1]),
        "airport": shapely.contains_xy(airport, rep[:, 0], rep[:, 1]),
        "main_frontage": main_strip & (main_front > 30.0),
        "highway_frontage": hw_strip & (hw_front > 30.0),
    }
    features["don_tao_from_modern"] = np.full(len(rep), np.hypot(*(don_tao - modern)))

    # site parcels: whole blocks around each named point (never the river strip or airfield)
    parcel = {}
    free = ~(features["strip"] | features["airport"])
    for site in sites:
        got = _grab(faces, free, site["xy"], site["area_ha"] * 1e4)
        parcel[site["land_use_code"]] = got
        free &= ~got
    anchors = np.array([centre, *site_xy.values()])
    return _City(faces, rep, tract, tracts, tract_reach, anchors, city, features, parcel)


def _plan_area(c: _City, grow: float) -> np.ndarray:
    """Blocks of the plan area under ``grow``.

    Whole tracts within reach, the city's and the sites' tracts, then tracts mostly enclosed by
    those (a planner draws the boundary along the next road, not around every field), as one
    piece (the one holding the centre and the sites) with its holes filled.
    """
    t_rep = shapely.point_on_surface(c.tracts)
    take = (c.tract_reach <= PLAN_REACH * grow) | shapely.covers(c.city, t_rep)
    for got in c.parcel.values():
        take[c.tract[got]] = True
    rim = shapely.boundary(c.tracts)
    for _ in range(2):
        blob = shapely.coverage_union_all(c.tracts[take])
        cand = np.flatnonzero(~take & shapely.intersects(c.tracts, blob))
        shared = shapely.length(shapely.intersection(rim[cand], blob))
        take[cand[shared > 0.5 * shapely.length(rim[cand])]] = True
    blob = shapely.coverage_union_all(c.tracts[take])
    keep = [
        shapely.Polygon(p.exterior)
        for p in shapely.get_parts(blob)
        if shapely.covers(p, shapely.points(c.anchors)).any()
    ]
    return shapely.contains_xy(shapely.union_all(keep), c.rep[:, 0], c.rep[:, 1])


def _labels(c: _City, grow: float) -> np.ndarray:
    """Index into ``ZONES`` of each block under a plan of ``grow`` (-1 outside the plan)."""
    f = c.features
    inside = _plan_area(c, grow)
    label = np.full(len(c.faces), -1)

    def paint(code: str, where: np.ndarray) -> None:
        label[(label < 0) & inside & where] = _Z[code]

    reach, town = f["reach"], f["town_reach"]
    urban = reach <= URBAN_REACH * grow
    west = -f["east"] > HW11_WEST
    industry = west & ((f["d_hw11"] < HW11_INDUSTRY) | (f["d_rail"] < RAIL_WAREHOUSE))
    paint("ล.1", f["strip"])
    paint("ส.1", f["airport"])
    for code, got in c.parcel.items():
        paint(code, got)
    paint("พ.3", f["at_old_market"])
    paint("ศ.1", f["d_old"] * (1 + 0.3 * f["wiggle"]) < 330.0)
    paint("พ.3", f["core"] < 1.0)
    paint(
        "ย.อ.",
        (f["d_don_tao"] * (1 + 0.3 * f["wiggle"]) < 1_100.0)
        & (f["d_modern"] > f["don_tao_from_modern"]),
    )
    paint("พ.2", f["main_frontage"] & (town <= MAIN_STREET_REACH * grow))
    paint("พ.1", f["highway_frontage"] & (reach <= HIGHWAY_REACH * grow))
    # warehouses by the railway beyond the station yard, where town gives way to fields
    paint(
        "อ.3",
        (f["d_rail"] < RAIL_WAREHOUSE)
        & (f["d_station"] > 700.0)
        & (town > HIGH_REACH * grow)
        & (town < URBAN_REACH * grow * 1.2),
    )
    paint("อ.1", industry & urban & (town > HIGH_REACH * grow))
    paint("อ.2", industry & (reach <= URBAN_REACH * grow * 1.3))
    paint("ย.9", town <= HIGH_REACH * grow * 0.6)
    paint("ย.8", town <= HIGH_REACH * grow)
    paint("ย.6", town <= (HIGH_REACH + MEDIUM_REACH) / 2 * grow)
    paint("ย.5", town <= MEDIUM_REACH * grow)
    paint("ย.3", town <= (MEDIUM_REACH + URBAN_REACH) / 2 * grow)
    paint("ย.2", urban)
    paint("ก.2", f["d_wang"] < FLOODPLAIN)
    paint("ก.3", (f["wiggle"] > 0.2) & (f["east"] > 1_500.0))
    paint("ก.4", np.ones(len(label), bool))
    return label


def zone_frame(
    territory: Any, hydro: Hydrography, highways: list[Highway], rng: np.random.Generator
) -> pd.DataFrame:
    """Zones of both Lampang city plans, one row per (plan, land-use code).

    Parameters
    ----------
    territory
        Anything with ``outline`` (the province, UTM polygon) and ``tambons`` (a frame with
        ``code``, the DOPA code, ``district_code`` and ``geom`` in UTM): the plan stays inside
        the province, covers the four city tambons and reaches only into tambons of Mueang
        Lampang district.
    hydro
        The Wang (river frame of the street grid, open space along it).
    highways
        National highways: fixed lines of the block structure, growth corridors, commercial
        frontage, and industry along highway 11.
    rng
        The plan's random generator (street grid, block cuts, reach noise, strip widths).

    Returns
    -------
    pandas.DataFrame
        ``plan_id``, ``land_use_code``, ``category`` and ``geom``: a MultiPolygon in UTM 47N
        metres (EPSG:32647) on the 1 cm grid. The zones of a plan never overlap, tile its area
        and share exact edges.
    """
    c = _city(territory, hydro, highways, rng)
    rows = []
    for plan in PLANS:
        label = _labels(c, plan["grow"])
        for k, (code, category) in enumerate(ZONES):
            pick = c.faces[label == k]
            if len(pick):
                geom = as_multipolygon(shapely.coverage_union_all(pick))
                rows.append(
                    {
                        "plan_id": plan["id"],
                        "land_use_code": code,
                        "category": category,
                        "geom": geom,
                    }
                )
    return pd.DataFrame(rows)
