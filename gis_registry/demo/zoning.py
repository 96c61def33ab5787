"""DPT zoning palette and two comprehensive plans for Lampang city (ผังเมืองรวมเมืองลำปาง).

A Thai comprehensive plan is drawn on the town's own fabric: zone borders run along roads,
rivers, the railway and tambon borders; commercial land lines the main streets; industry follows
the highway and the railway; farmland surrounds the built-up area. Concentric discs (what this
module drew before) look like no plan at all, so the plan is built the way a planner draws one:

1. **Streets and blocks.** The Wang, the national highways, an approximate railway
   (``city_plan.json``) and the tambon borders of the region are fixed lines. Main streets form
   a curvilinear grid aligned with the Wang (streets along the river and cross streets, only some
   of which bridge it), irregularly spaced, widening outwards and bent by a smooth warp. Their
   faces are cut recursively, roughly across the long axis with jittered position and angle,
   first into *tracts* of rural-road size (the plan area is made of whole tracts, so its border
   follows roads, the river and tambon borders) and then, inside the plan, into *blocks* of
   about 150 m in the core growing to a kilometre in the fields: main roads first, then the
   sois cut into the land between them, as Thai towns grow. Commercial frontage plots along
   the arterials and highways are bounded by back lines parallel to the street at a set depth,
   the way Thai plans draw a commercial strip.
2. **Reach.** Each block gets an effective distance from town: distance from the centre
   (shorter along the Wang valley), from satellite centres (provincial hall, university) and
   along the highways (towns grow along their roads), stretched by smooth random fields so no
   zone border is a circle. The plan area is the tracts within reach, but only in the city's
   four tambons and in neighbouring tambons of Mueang Lampang the town has grown well into
   (elsewhere it stops at the tambon border), joined into one piece and with notches filled.
3. **Rules.** Blocks are labelled in priority order: open space along the Wang (a strip of
   varying width on either bank), the named sites (airport, provincial hall, Rajabhat
   university, Wat Phra Kaeo Don Tao, a special industrial estate away from housing), the old
   town (Thai art and culture conservation, with residential conservation beyond), the
   commercial core and frontage, warehouses and industry along the railway and highway 11 west,
   residential density graded by reach, and farmland (floodplain and foothill conservation)
   outside. A lone block of one use inside another then takes its neighbours' use.

Both plans share the street and block structure (a revision redraws zones on the same base
map); the 2024 revision scales the reach thresholds (``grow``): a larger plan, more town. Every
zone is the coverage union of whole faces of one polygonization of all lines on the 1 cm grid,
so the zones of a plan tile its area with exactly matching shared edges. Only the ``rng`` passed
in and the fact files are used, so the same seed gives the same plans.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from gis_registry.demo.facts import Facts
from gis_registry.demo.geo import (
    GRID,
    as_multipolygon,
    chaikin,
    densify,
    distance_along,
    latlon_points_to_utm,
)
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

# Land-use codes in output order (the categories' sort order), with their category key in
# zoning_categories.csv. Codes lie in the category's range there; categories without a range
# use the codes Thai plans print for them.
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
_HOUSING = [_Z[c] for c in ("ย.2", "ย.3", "ย.5", "ย.6", "ย.8", "ย.9", "ย.อ.")]
# uses a lone block may give up to its neighbours (never a site, the old town or a frontage)
_FLUID = [
    _Z[c] for c in ("ย.2", "ย.3", "ย.5", "ย.6", "ย.8", "ย.9", "อ.1", "อ.2", "ก.2", "ก.3", "ก.4")
]

# Reach (effective distance from town, metres; see _Reach) of the plan's rings at grow = 1.
PLAN_REACH = 4_700.0  # the plan area
URBAN_REACH = 3_800.0  # residential and urban uses within; farmland beyond
MEDIUM_REACH = 2_500.0  # medium-density residential within
HIGH_REACH = 1_350.0  # high-density residential within
MAIN_STREET_REACH = 2_600.0  # commercial frontage on the arterials within
HIGHWAY_REACH = 3_400.0  # commercial frontage on the highways within

REGION_REACH = 9_000.0  # tambons of the district nearer the centre than this may hold the plan
SATELLITE_OFFSET = 3_000.0  # reach of a satellite centre (provincial hall, university)
CORRIDOR_ALONG = 0.55  # reach per metre along a highway (towns grow along their roads) ...
CORRIDOR_ACROSS = 1.6  # ... and per metre away from it
VALLEY_STRETCH = 1.6  # distances along the Wang count this much less (the town is a valley town)
REACH_NOISE = 0.25  # amplitude of the smooth multiplicative noise on the reach ...
FINE_NOISE = 0.06  # ... and of its sub-kilometre ripple
ARTERIAL_PULL = 350.0  # blocks on an arterial count this much nearer town for density

SLIVER = 1_500.0  # faces smaller than this (m²) are merged into a neighbour
SPECK = 400_000.0  # a lone block of one use smaller than this (m²) takes its neighbours' use
TAMBON_SHARE = 0.3  # the plan reaches into a tambon only if this share of it is within reach
CLOSING, ENCLOSED = 4, 0.4  # passes adding tracts with this share of their border in the plan
TRACT = 1_700.0  # target side of a tract (rural-road spacing)
CORE_BLOCK = 150.0  # target block side in the core (metres) ...
BLOCK_GROWTH = 0.12  # ... growing by this many metres per metre of reach ...
FIELD_BLOCK = 1_300.0  # ... up to this in the fields
PARK_BLOCK = 700.0  # the river strip breaks (at a cross street or path) about this often

STRIP_WIDTH = (30.0, 170.0)  # half-width range of the open space along the Wang in town
MAIN_DEPTH = (60.0, 100.0)  # depth range of the commercial frontage along arterials (metres)
HIGHWAY_DEPTH = (110.0, 160.0)  # ... and along highways
FLOODPLAIN = 1_200.0  # rural land this close to the Wang is floodplain conservation (ก.2)
FOOTHILLS_EAST = 1_500.0  # rural conservation (ก.3) only this far east of the centre
HW11_INDUSTRY = 1_000.0  # industry within this distance of highway 11 or the railway ...
HW11_WEST = 2_000.0  # ... at least this far west of the centre
RAIL_WAREHOUSE = 350.0  # warehouses within this distance of the railway
STATION_YARD = 700.0  # ... beyond this distance from the station (the yard is town centre)


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    """``city_plan.json``: anchors, sites and the approximate railway (read once)."""
    data = resources.files("gis_registry.demo").joinpath("data", "city_plan.json")
    spec: dict[str, Any] = json.loads(data.read_text("utf-8"))
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
    """The approximate Northern Line through the province, in UTM 47N metres.

    Returns
    -------
    shapely.LineString
        The waypoints of ``city_plan.json`` (hand-traced between the real stations, not
        surveyed), smoothed. The line is not clipped to the province.
    """
    pts = latlon_points_to_utm(_spec()["railway"]["waypoints"])
    return shapely.LineString(densify(chaikin(pts, 3), 200.0))


def _pt(latlon: list[float]) -> np.ndarray:
    return latlon_points_to_utm([latlon])[0]


class _Noise:
    """A smooth random field in about [-1, 1]: a few plane waves of kilometre wavelengths."""

    def __init__(
        self,
        rng: np.random.Generator,
        waves: int = 6,
        wavelength: tuple[float, float] = (2_500.0, 7_000.0),
    ):
        ang = rng.uniform(0.0, np.pi, waves)
        k = 2 * np.pi / rng.uniform(*wavelength, waves)
        self.k = np.column_stack([np.cos(ang), np.sin(ang)]) * k[:, None]
        self.phase = rng.uniform(0.0, 2 * np.pi, waves)
        self.scale = np.sqrt(2.0 / waves)

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        return np.clip(np.sin(xy @ self.k.T + self.phase).sum(axis=1) * self.scale, -1.0, 1.0)


class _Track:
    """A polyline sampled every few metres, for fast nearest-point look-ups of many points.

    GEOS projects a point on a line in time linear in the line's vertices, and the plan asks
    this of thousands of points dozens of times; a KD-tree over close samples (exact to a few
    metres, plenty for planning distances) keeps ``zone_frame`` fast.
    """

    def __init__(self, coords: np.ndarray, step: float):
        self.xy = densify(np.asarray(coords, float), step)
        self.chain = distance_along(self.xy)
        self.tree = cKDTree(self.xy)

    def locate(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distance to the line, chainage of the nearest sample and that sample's index."""
        d, i = self.tree.query(xy)
        return d, self.chain[i], i


@dataclass
class _Frame:
    """Curvilinear coordinates along a smoothed Wang: chainage ``s`` and offset ``n`` (metres).

    The main-street grid is drawn in these coordinates, so its streets run with the river and
    across it as Lampang's do; smoothing at the kilometre scale keeps offsets of a few
    kilometres from folding over on the inside of bends.
    """

    chain: np.ndarray
    axis: np.ndarray
    normal: np.ndarray
    s0: float  # chainage of the city centre
    track: _Track

    @classmethod
    def along(cls, river: shapely.Geometry, centre: np.ndarray) -> _Frame:
        """Frame of ``river`` (its stretch nearest ``centre``), extended 15 km both ways."""
        parts = shapely.get_parts(shapely.line_merge(river))
        stretch = parts[np.argmin(shapely.distance(parts, shapely.Point(centre)))]
        axis = chaikin(densify(shapely.get_coordinates(stretch), 250.0)[::6], 4)
        ends = [axis[1] - axis[0], axis[-1] - axis[-2]]
        ends = [e / np.hypot(*e) for e in ends]
        axis = np.vstack([axis[0] - ends[0] * 15_000.0, axis, axis[-1] + ends[1] * 15_000.0])
        axis = densify(axis, 100.0)
        axis = axis[np.concatenate([[True], np.hypot(*np.diff(axis, axis=0).T) > 1e-6])]
        chain = distance_along(axis)
        tang = np.gradient(axis, chain, axis=0)
        tang /= np.hypot(tang[:, 0], tang[:, 1])[:, None]
        normal = np.column_stack([-tang[:, 1], tang[:, 0]])
        track = _Track(axis, 10.0)
        s0 = float(track.locate(centre[None, :])[1][0])
        return cls(chain, axis, normal, s0, track)

    def xy(self, s: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Map chainage and offset arrays to UTM coordinates."""
        a = np.column_stack([np.interp(s, self.chain, self.axis[:, k]) for k in (0, 1)])
        d = np.column_stack([np.interp(s, self.chain, self.normal[:, k]) for k in (0, 1)])
        d /= np.hypot(d[:, 0], d[:, 1])[:, None]
        return a + d * np.asarray(n)[:, None]

    def sn(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Chainage and signed offset of points (inverse of :meth:`xy`, to about 10 m)."""
        _, s, i = self.track.locate(xy)
        d = np.column_stack([np.interp(s, self.chain, self.normal[:, k]) for k in (0, 1)])
        return s, ((xy - self.track.xy[i]) * d).sum(axis=1)


class _Reach:
    """Effective distance (metres) from town: how far out, in planning terms, a point lies.

    The smallest of: the distance from the centre in river coordinates, shortened along the
    Wang (Lampang stretches along its valley); the distance from a satellite centre plus an
    offset; and the distance along a highway plus the way to it and off it (towns grow along
    their roads). Scaled by two smooth random fields (kilometre and sub-kilometre waves) so that
    its level sets wander and no ring is round.
    """

    def __init__(
        self,
        frame: _Frame,
        centre: np.ndarray,
        satellites: np.ndarray,
        corridors: list[shapely.LineString],
        rng: np.random.Generator,
    ):
        self.frame, self.satellites = frame, satellites
        self.s0, self.n0 = (v[0] for v in frame.sn(centre[None, :]))
        # per highway: its track, the chainage of its point nearest the centre and the way there
        self.corridors = []
        for road in corridors:
            track = _Track(shapely.get_coordinates(road), 25.0)
            access, s, _ = track.locate(centre[None, :])
            self.corridors.append((track, s[0], access[0]))
        self.noise = _Noise(rng, 6, (3_000.0, 9_000.0))
        self.fine = _Noise(rng, 6, (900.0, 2_200.0))

    def __call__(self, xy: np.ndarray, satellites: bool = True) -> np.ndarray:
        """Reach of points; ``satellites=False`` measures from the town alone."""
        s, n = self.frame.sn(xy)
        d = np.hypot((s - self.s0) / VALLEY_STRETCH, n - self.n0)
        if satellites:
            for sat in self.satellites:
                d = np.minimum(d, SATELLITE_OFFSET + np.hypot(*(xy - sat).T))
        for track, s_centre, access in self.corridors:
            off, along, _ = track.locate(xy)
            via = CORRIDOR_ALONG * np.abs(along - s_centre) + access + CORRIDOR_ACROSS * off
            d = np.minimum(d, via)
        return d * (1.0 + REACH_NOISE * self.noise(xy) + FINE_NOISE * self.fine(xy))


def _wobble(t: np.ndarray, rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """A smooth sideways offset along a line (two sine waves of random phase)."""
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

    Streets along the river start a few hundred metres off each bank; cross streets bridge the
    river now and then (about one in three in town), otherwise they stop at the riverside.
    Extents shrink away from the river, so the grid frays out into the fields; a smooth warp
    bends the whole grid so that no two streets are quite parallel.

    Returns
    -------
    tuple
        Arterials (the bridges and the first street along each bank, sometimes the second: the
        town's commercial streets) and the other main streets, in UTM metres.
    """
    warp = _Noise(rng, 4, (3_000.0, 8_000.0)), _Noise(rng, 4, (3_000.0, 8_000.0))
    tagged: list[tuple[np.ndarray, bool, bool]] = []  # coordinates, arterial, bridge
    for side in (-1.0, 1.0):
        for j, n in enumerate(_spacings(rng, rng.uniform(300.0, 450.0), 5_000.0, 480.0)):
            ext = (7_500.0 - 0.8 * n) * rng.uniform(0.55, 1.0, 2)
            s = np.arange(frame.s0 - ext[0], frame.s0 + ext[1], 80.0)
            arterial = j == 0 or (j == 1 and rng.random() < 0.3)
            tagged.append((frame.xy(s, side * n + _wobble(s, rng, 90.0)), arterial, False))
    for side in (-1.0, 1.0):
        for ds in _spacings(rng, rng.uniform(150.0, 350.0), 8_500.0, 420.0):
            ext = (5_200.0 - 0.4 * ds) * rng.uniform(0.5, 1.0, 2)
            bridge = bool(rng.random() < (0.3 if ds < 2_500.0 else 0.1))
            if ext.min() < 600.0:
                continue
            n = np.arange(-ext[0], ext[1], 80.0)
            tagged.append(
                (frame.xy(frame.s0 + side * ds + _wobble(n, rng, 80.0), n), bridge, bridge)
            )
    keep_off = shapely.buffer(strip, 40.0)
    arterials: list[shapely.LineString] = []
    others: list[shapely.LineString] = []
    for xy, arterial, bridge in tagged:
        line = shapely.LineString(xy + 160.0 * np.column_stack([warp[0](xy), warp[1](xy)]))
        if not bridge:
            line = shapely.difference(line, keep_off)
        parts = [p for p in shapely.get_parts(line) if p.length > 300.0]
        (arterials if arterial else others).extend(parts)
    return arterials, others


def _river_strip(
    wang: shapely.LineString,
    region: shapely.Geometry,
    reach_of: _Reach,
    keep_clear: np.ndarray,
    rng: np.random.Generator,
) -> shapely.Geometry:
    """Open space along the Wang: a strip of varying width on each bank (not a uniform buffer).

    Discs along the river, whose centre drifts off the centreline and whose radius varies
    smoothly, union into a strip that widens and narrows independently on either bank; it is
    wider in the fields (the river's flood margin) and stops short of the old-town places on
    the banks (the market street and the temple are not parkland).
    """
    line = shapely.intersection(wang, shapely.buffer(region, 2_000.0))
    parts = [p for p in shapely.get_parts(shapely.line_merge(line)) if p.length > 0]
    pts = densify(shapely.get_coordinates(max(parts, key=lambda p: p.length)), 40.0)
    t = distance_along(pts)
    lo, hi = STRIP_WIDTH
    rural = 1.0 + 1.5 * np.clip((reach_of(pts) - URBAN_REACH) / 2_000.0, 0.0, 1.0)
    left, right = (lo + (hi - lo) * np.clip(_wobble(t, rng, 0.5) + 0.5, 0, 1) * rural for _ in "lr")
    tang = np.gradient(pts, t, axis=0)
    tang /= np.hypot(tang[:, 0], tang[:, 1])[:, None]
    centre = pts + np.column_stack([-tang[:, 1], tang[:, 0]]) * ((left - right) / 2)[:, None]
    gap = np.hypot(*(centre[:, None, :] - keep_clear[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    radius = np.maximum(np.minimum((left + right) / 2, gap - 60.0), 15.0)
    strip = shapely.union_all(shapely.buffer(shapely.points(centre), radius, quad_segs=4))
    return shapely.intersection(strip.simplify(3.0), region)


def _subdivide(
    faces: np.ndarray,
    target_of: Callable[[np.ndarray], np.ndarray],
    fixed: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Cut faces across their long axis until none is longer than its target size.

    Each round cuts every face still too long by the two half-planes of a line through a
    jittered point of its oriented envelope, at a jittered angle: the recursive split of land
    between main roads by local streets. Vectorised: a round is a few array operations on all
    faces. Faces flagged ``fixed`` are kept whole.
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
        cut = length > target_of(mid) * rng.uniform(0.85, 1.45, len(todo))
        done.append(todo[~cut])
        todo, u, length, mid = todo[cut], u[cut], length[cut], mid[cut]
        at = mid + u * (length * rng.uniform(-0.15, 0.15, len(todo)))[:, None]
        ang = np.arctan2(u[:, 1], u[:, 0]) + rng.normal(0.0, 0.12, len(todo))
        u = np.column_stack([np.cos(ang), np.sin(ang)])  # normal of the cut line
        v = np.column_stack([-u[:, 1], u[:, 0]]) * (length * 2.0 + 100.0)[:, None]
        halves = []
        for w in (u, -u):
            w = w * (length * 2.0 + 100.0)[:, None]
            quad = np.stack([at + v, at + v + w, at - v + w, at - v, at + v], axis=1)
            halves.append(shapely.intersection(todo, shapely.polygons(quad)))
        parts = shapely.get_parts(np.concatenate(halves))
        todo = parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 1.0)]
    done.append(todo)
    return np.concatenate(done)


def _frontage_lines(
    streets: shapely.Geometry,
    reach_of: Callable[[np.ndarray], np.ndarray],
    limit: float,
    depth: tuple[float, float],
    rng: np.random.Generator,
) -> list[shapely.Geometry]:
    """Back lines of the frontage plots along ``streets`` where the reach is within ``limit``.

    Thai plans draw commercial land along a road to a set depth from it; a line parallel to
    the street at that depth (varying from street to street) bounds those plots.
    """
    out = []
    for street in shapely.get_parts(shapely.line_merge(streets)):
        xy = shapely.get_coordinates(shapely.segmentize(street, 50.0))
        ok = reach_of(xy) <= limit
        d = rng.uniform(*depth)
        for run in np.split(np.arange(len(xy)), np.flatnonzero(np.diff(ok.astype(int))) + 1):
            if ok[run[0]] and len(run) >= 4:
                line = shapely.LineString(xy[run])
                out += [shapely.offset_curve(line, d), shapely.offset_curve(line, -d)]
    return out


def _frontage(faces: np.ndarray, streets: shapely.Geometry, depth: float) -> np.ndarray:
    """Faces along ``streets``: at least 30 m of border on them and no point deeper than
    ``depth`` (the frontage plots, not the blocks behind them)."""
    tree = cKDTree(shapely.get_coordinates(shapely.segmentize(streets, 3.0)))
    rings, ring_face = shapely.get_rings(faces, return_index=True)
    pts, ring = shapely.get_coordinates(shapely.segmentize(rings, 10.0), return_index=True)
    owner = ring_face[ring]
    near, _ = tree.query(pts, distance_upper_bound=depth)
    on = near < 2.0
    both = on[:-1] & on[1:] & (ring[:-1] == ring[1:])
    step = np.hypot(*np.diff(pts, axis=0).T)[both]
    front = np.bincount(owner[:-1][both], weights=step, minlength=len(faces))
    deep = np.bincount(owner, weights=~np.isfinite(near), minlength=len(faces))
    return (front > 30.0) & (deep == 0)


def _polygonize(*lines: shapely.Geometry | np.ndarray) -> np.ndarray:
    """Faces of the lines, noded on the 1 cm grid (so neighbouring faces share exact edges)."""
    noded = shapely.union_all(np.concatenate([np.atleast_1d(g) for g in lines]), grid_size=GRID)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))
    return faces[shapely.area(faces) > 0.0]


def _adjacency(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``i < j`` of faces sharing an edge, and the length they share (metres).

    Faces of one polygonization have identical vertices on shared edges (1 cm grid), so an
    edge two faces share is the same pair of grid points in both: matching edges by value is
    exact and much faster than intersecting neighbours' borders.
    """
    rings, ring_face = shapely.get_rings(faces, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[:-1] == ring[1:]
    a = np.rint(xy[:-1][same] / GRID).astype(np.int64)
    b = np.rint(xy[1:][same] / GRID).astype(np.int64)
    owner = ring_face[ring[:-1][same]]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    key = np.where(swap[:, None], np.hstack([b, a]), np.hstack([a, b]))
    _, edge, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    edge = edge.ravel()
    shared = np.flatnonzero(counts[edge] == 2)
    shared = shared[np.argsort(edge[shared], kind="stable")]  # the two sides of an edge pair up
    own = owner[shared].reshape(-1, 2)
    length = np.hypot(*((a - b)[shared[::2]] * GRID).T)
    n = len(faces)
    pair, which = np.unique(own.min(axis=1) * n + own.max(axis=1), return_inverse=True)
    return pair // n, pair % n, np.bincount(which.ravel(), weights=length)


def _merge_slivers(faces: np.ndarray, min_area: float) -> np.ndarray:
    """Merge faces smaller than ``min_area`` into the larger neighbour they share most border
    with (noding nearly coincident lines leaves slivers no planner would draw)."""
    i, j, length = _adjacency(faces)
    area = shapely.area(faces)
    rank = np.empty(len(faces), int)
    rank[np.argsort(area, kind="stable")] = np.arange(len(faces))
    parent = np.arange(len(faces))
    for f in np.flatnonzero(area < min_area):
        mine = (i == f) | (j == f)
        other = np.where(i[mine] == f, j[mine], i[mine])
        up = rank[other] > rank[f]  # merging only upwards in size: no cycles
        if up.any():
            parent[f] = other[up][np.argmax(length[mine][up])]
    while not (parent[parent] == parent).all():
        parent = parent[parent]
    out = faces.copy()
    for root in np.unique(parent[parent != np.arange(len(faces))]):
        out[root] = shapely.coverage_union_all(faces[parent == root])
    return np.asarray(shapely.get_parts(out[parent == np.arange(len(faces))]))


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


@dataclass
class _City:
    """Lampang's streets and blocks, and what the plans need to know of each block."""

    faces: np.ndarray  # blocks: the faces of one polygonization of all lines, UTM
    rep: np.ndarray  # a point inside each block
    tracts: np.ndarray  # rural-road-sized faces the plan area is made of
    tract_of: np.ndarray  # the tract each block's point lies in
    tract_reach: np.ndarray
    tract_park: np.ndarray  # tracts of the open-space strip along the Wang
    tract_tambon: np.ndarray  # the tambon each tract lies in (index into the region's tambons)
    tambon_area: np.ndarray
    tambon_is_city: np.ndarray
    tract_adjacency: tuple[np.ndarray, np.ndarray, np.ndarray]
    anchor_tracts: np.ndarray  # the tract of each anchor
    anchors: np.ndarray  # the centre and the sites: the plan area holds them
    parcel: dict[str, np.ndarray]  # land-use code -> blocks of that named site
    features: dict[str, np.ndarray]  # per block
    adjacency: tuple[np.ndarray, np.ndarray, np.ndarray]
    arterials: shapely.Geometry  # the commercial ones among them
    railway: shapely.Geometry  # the railway in the region


def _city(
    territory: Any, hydro: Hydrography, highways: list[Highway], rng: np.random.Generator
) -> _City:
    """Draw the city's streets and blocks and measure each block (see the module docstring)."""
    spec = _spec()
    centre, modern = _pt(spec["centre"]), _pt(spec["modern_centre"])
    kad_kong_ta = _pt(spec["old_town"]["kad_kong_ta"])
    don_tao = _pt(spec["old_town"]["wat_phra_kaeo_don_tao"])
    station = _pt(spec["railway"]["station"])
    sites = {s["key"]: (s["land_use_code"], _pt(s["point"]), s["area_ha"]) for s in spec["sites"]}
    roads = {h.code: shapely.LineString(h.coords) for h in highways}

    # The region the plan may take: tambons of Mueang Lampang near the city, in the province.
    tb = territory.tambons
    code = tb["code"].astype(str).str[-6:].to_numpy()
    district = tb["district_code"].astype(str).str[-4:].to_numpy()
    geoms = np.asarray(tb["geom"])
    near = shapely.distance(geoms, shapely.Point(centre)) < REGION_REACH
    ours = (district == spec["district"]) & near
    region = shapely.union_all(geoms[ours])
    region = shapely.intersection(region, territory.outline, grid_size=GRID)
    region = next(p for p in shapely.get_parts(region) if p.covers(shapely.Point(centre)))
    tambons = shapely.intersection(geoms[ours], region, grid_size=GRID)
    is_city = np.isin(code[ours], spec["city_tambons"])
    wang = shapely.intersection(
        hydro.geometry(hydro.index("wang")), shapely.buffer(region, 3_000.0)
    )
    rail = shapely.intersection(railway_line(), region)

    frame = _Frame.along(wang, centre)
    satellites = np.array([sites["provincial_hall"][1], sites["lampang_rajabhat_university"][1]])
    corridors = [roads[c] for c in ("1", "11", "1035") if c in roads]
    reach_of = _Reach(frame, centre, satellites, corridors, rng)

    def town_reach_of(xy: np.ndarray) -> np.ndarray:
        return reach_of(xy, satellites=False)

    # 1. Fixed lines, the main-street grid and the frontage back lines.
    a = spec["airport"]
    ax = _pt(a["centre"])
    half = np.array([a["width_m"], a["length_m"]]) / 2  # runway 18/36: the long side north-south
    airport = shapely.box(*(ax - half), *(ax + half))
    strip = _river_strip(wang, region, reach_of, np.array([kad_kong_ta, don_tao, modern]), rng)
    arterials, others = _main_streets(frame, strip, rng)
    fence = shapely.buffer(airport, 1.0)  # streets end at the airfield fence

    def clip(lines: list[shapely.LineString]) -> shapely.Geometry:
        return shapely.intersection(
            shapely.difference(shapely.union_all(lines), fence), region, grid_size=GRID
        )

    arterial_lines = clip(arterials)
    mains = shapely.union_all([clip(others), arterial_lines], grid_size=GRID)
    highway_lines = shapely.intersection(shapely.union_all(list(roads.values())), region)
    backs = _frontage_lines(
        arterial_lines, town_reach_of, MAIN_STREET_REACH, MAIN_DEPTH, rng
    ) + _frontage_lines(highway_lines, reach_of, HIGHWAY_REACH, HIGHWAY_DEPTH, rng)
    backs = shapely.difference(shapely.union_all(backs), shapely.union_all([strip, airport]))
    fixed = shapely.intersection(
        shapely.union_all(
            [
                highway_lines,
                rail,
                *shapely.boundary([strip, airport, region]),
                *shapely.boundary(tambons),
            ]
        ),
        region,
    )
    superblocks = _polygonize(mains, fixed)

    # 2. Tracts everywhere, blocks within reach of the larger plan.
    def park_or(size: np.ndarray, xy: np.ndarray) -> np.ndarray:
        return np.where(shapely.contains_xy(strip, xy[:, 0], xy[:, 1]), PARK_BLOCK, size)

    def tract_size(xy: np.ndarray) -> np.ndarray:
        return park_or(np.full(len(xy), TRACT), xy)

    def block_size(xy: np.ndarray) -> np.ndarray:
        r = reach_of(xy)
        size = np.minimum(CORE_BLOCK + BLOCK_GROWTH * np.maximum(r, 0.0), FIELD_BLOCK)
        return park_or(np.where(r > URBAN_REACH * 1.1, np.maximum(size, 900.0), size), xy)

    rep = shapely.get_coordinates(shapely.point_on_surface(superblocks))
    in_airport = shapely.contains_xy(airport, rep[:, 0], rep[:, 1])
    tracts = _polygonize(shapely.boundary(_subdivide(superblocks, tract_size, in_airport, rng)))
    t_rep = shapely.get_coordinates(shapely.point_on_surface(tracts))
    tract_reach = reach_of(t_rep)
    anchors = np.array([centre, *(xy for _, xy, _ in sites.values())])
    at, tract = shapely.STRtree(tracts).query(shapely.points(anchors), predicate="within")
    anchor_tracts = np.full(len(anchors), -1)
    anchor_tracts[at] = tract
    # fields far beyond any plan stay whole; the airfield too, and a site's tract never does
    keep_whole = (tract_reach > PLAN_REACH * 1.1) | shapely.contains_xy(airport, *t_rep.T)
    keep_whole[anchor_tracts[anchor_tracts >= 0]] = False
    blocks = _subdivide(tracts, block_size, keep_whole, rng)
    faces = _polygonize(shapely.boundary(blocks), backs, fixed)
    faces = faces[
        shapely.contains_xy(region, *shapely.get_coordinates(shapely.point_on_surface(faces)).T)
    ]
    faces = _merge_slivers(faces, SLIVER)

    # 3. What each block is.
    rep = shapely.get_coordinates(shapely.point_on_surface(faces))
    pts = shapely.points(rep)
    block, tract = shapely.STRtree(tracts).query(pts, predicate="within")
    tract_of = np.full(len(faces), -1)
    tract_of[block] = tract
    s, n = frame.sn(rep)
    s_m, n_m = frame.sn(((modern + kad_kong_ta) / 2)[None, :])
    land = _Noise(rng)  # a smooth field for the choices between neighbouring uses
    wiggle = land(rep)
    f = {
        "area": shapely.area(faces),
        "reach": reach_of(rep),
        # density follows the arterials some way out (the ribbon of a growing town)
        "town_reach": town_reach_of(rep)
        - ARTERIAL_PULL * np.clip(1.0 - shapely.distance(arterial_lines, pts) / 400.0, 0.0, 1.0),
        "d_wang": shapely.distance(wang, pts),
        "d_hw11": shapely.distance(roads["11"], pts) if "11" in roads else np.full(len(rep), 1e9),
        "d_rail": shapely.distance(rail, pts),
        "d_station": np.hypot(*(rep - station).T),
        "d_old_town": shapely.distance(shapely.LineString([kad_kong_ta, don_tao]), pts),
        "d_don_tao": np.hypot(*(rep - don_tao).T),
        "d_modern": np.hypot(*(rep - modern).T),
        "east": rep[:, 0] - centre[0],
        "wiggle": wiggle,
        # the commercial core: an oval along the river from the old market to the modern centre
        "core": np.hypot((s - s_m[0]) / 1_150.0, (n - n_m[0]) / 500.0) * (1 + 0.25 * wiggle),
        "old_market": shapely.contains_xy(faces, *kad_kong_ta),
        "strip": shapely.contains_xy(strip, rep[:, 0], rep[:, 1]),
        "airport": shapely.contains_xy(airport, rep[:, 0], rep[:, 1]),
        "arterial_frontage": _frontage(faces, arterial_lines, MAIN_DEPTH[1] + 3.0),
        "highway_frontage": _frontage(faces, highway_lines, HIGHWAY_DEPTH[1] + 3.0),
    }
    f["beyond_don_tao"] = f["d_modern"] > np.hypot(*(don_tao - modern))

    # The named sites: whole blocks around each point (never the river strip or the airfield).
    parcel = {}
    free = ~(f["strip"] | f["airport"])
    for land_use, xy, area_ha in sites.values():
        parcel[land_use] = _grab(faces, free, xy, area_ha * 1e4)
        free &= ~parcel[land_use]
    on, tambon = shapely.STRtree(tambons).query(shapely.points(t_rep), predicate="within")
    tract_tambon = np.full(len(tracts), -1)
    tract_tambon[on] = tambon
    return _City(
        faces=faces,
        rep=rep,
        tracts=tracts,
        tract_of=tract_of,
        tract_reach=tract_reach,
        tract_park=shapely.contains_xy(strip, *t_rep.T),
        tract_tambon=tract_tambon,
        tambon_area=shapely.area(tambons),
        tambon_is_city=is_city,
        tract_adjacency=_adjacency(tracts),
        anchor_tracts=anchor_tracts,
        anchors=anchors,
        parcel=parcel,
        features=f,
        adjacency=_adjacency(faces),
        arterials=arterial_lines,
        railway=rail,
    )


def _plan_area(c: _City, grow: float) -> np.ndarray:
    """Blocks of the plan area under ``grow``.

    The tracts within reach, but only in the city's tambons and in neighbouring tambons the
    town has grown well into (elsewhere the plan stops at the tambon border), with the city's
    and the sites' tracts; each site joined to the town along the cheapest chain of tracts;
    then, a few times over, the tracts mostly enclosed by the plan (a planner draws the border
    along the next road, not around every field). The piece holding the centre and the sites,
    holes filled.
    """
    n = len(c.tracts)
    area = shapely.area(c.tracts)
    # the river strip's tracts join only between banks in the plan (no tentacle up the river)
    near = (c.tract_reach <= PLAN_REACH * grow) & ~c.tract_park & (c.tract_tambon >= 0)
    share = np.bincount(c.tract_tambon[near], weights=area[near], minlength=len(c.tambon_area))
    town = (c.tract_reach <= MEDIUM_REACH * grow) & ~c.tract_park & (c.tract_tambon >= 0)
    tambon_in = (share >= TAMBON_SHARE * c.tambon_area) | c.tambon_is_city
    tambon_in[c.tract_tambon[town]] = True  # where the town has grown, the plan follows
    tambon_in[c.tract_tambon[c.anchor_tracts[c.anchor_tracts >= 0]]] = True
    allowed = tambon_in[c.tract_tambon] & (c.tract_tambon >= 0)
    take = (near & allowed) | (c.tambon_is_city[c.tract_tambon] & (c.tract_tambon >= 0))
    for got in c.parcel.values():
        take[c.tract_of[got & (c.tract_of >= 0)]] = True
    # one piece: join each site to the town along the cheapest chain of tracts (those beyond
    # reach weighted by how far beyond they are, those of other tambons avoided)
    i, j, _ = c.tract_adjacency
    cost = np.maximum(c.tract_reach - PLAN_REACH * grow, 0.0) + 1.0 + 1e6 * ~allowed
    graph = coo_matrix((cost[np.r_[j, i]], (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    home = c.anchor_tracts[0]
    _, back = dijkstra(graph, indices=home, return_predecessors=True)
    for t in c.anchor_tracts[1:] if home >= 0 else []:
        while t >= 0 and t != home:
            take[t] = True
            t = back[t]
    rim = shapely.boundary(c.tracts)
    for _ in range(CLOSING):
        blob = shapely.coverage_union_all(c.tracts[take])
        cand = np.flatnonzero(~take & allowed & shapely.intersects(c.tracts, blob))
        shared = shapely.length(shapely.intersection(rim[cand], blob))
        take[cand[shared > ENCLOSED * shapely.length(rim[cand])]] = True
    blob = shapely.coverage_union_all(c.tracts[take])
    keep = [
        shapely.Polygon(p.exterior)
        for p in shapely.get_parts(blob)
        if shapely.covers(p, shapely.points(c.anchors)).any()
    ]
    return shapely.contains_xy(shapely.union_all(keep), c.rep[:, 0], c.rep[:, 1])


def _labels(c: _City, grow: float) -> np.ndarray:
    """Index into ``ZONES`` of each block under the plan of ``grow`` (-1: outside the plan)."""
    f = c.features
    inside = _plan_area(c, grow)
    label = np.full(len(c.faces), -1)

    def paint(code: str, where: np.ndarray) -> None:
        label[(label < 0) & inside & where] = _Z[code]

    reach, town, wiggle = f["reach"], f["town_reach"], f["wiggle"]
    urban = reach <= URBAN_REACH * grow
    industry = (-f["east"] > HW11_WEST) & (
        (f["d_hw11"] < HW11_INDUSTRY) | (f["d_rail"] < RAIL_WAREHOUSE)
    )
    # first come first served: sites, then the old town, then the general rules
    paint("ล.1", f["strip"])
    paint("ส.1", f["airport"])
    for code, got in c.parcel.items():
        paint(code, got)
    paint("พ.3", f["old_market"] | (f["core"] < 1.0))
    paint("ศ.1", f["d_old_town"] * (1 + 0.3 * wiggle) < 330.0)
    paint("ย.อ.", (f["d_don_tao"] * (1 + 0.3 * wiggle) < 1_100.0) & f["beyond_don_tao"])
    paint("พ.2", f["arterial_frontage"] & (town <= MAIN_STREET_REACH * grow))
    paint("พ.1", f["highway_frontage"] & (reach <= HIGHWAY_REACH * grow))
    # warehouses by the railway beyond the station yard, where the town gives way to fields
    paint(
        "อ.3",
        (f["d_rail"] < RAIL_WAREHOUSE)
        & (f["d_station"] > STATION_YARD)
        & (town > HIGH_REACH * grow)
        & (town < URBAN_REACH * grow * 1.2),
    )
    paint("อ.1", industry & urban & (town > MEDIUM_REACH * grow * 0.8))
    paint("อ.2", industry & (reach <= URBAN_REACH * grow * 1.3))
    paint("ย.9", town <= HIGH_REACH * grow * 0.6)
    paint("ย.8", town <= HIGH_REACH * grow)
    paint("ย.6", town <= (HIGH_REACH + MEDIUM_REACH) / 2 * grow)
    paint("ย.5", town <= MEDIUM_REACH * grow)
    paint("ย.3", town <= (MEDIUM_REACH + URBAN_REACH) / 2 * grow)
    paint("ย.2", urban)
    paint("ก.2", f["d_wang"] < FLOODPLAIN)
    paint("ก.3", (wiggle > 0.2) & (f["east"] > FOOTHILLS_EAST))  # the foothills east of town
    paint("ก.4", np.ones(len(label), bool))

    # A lone small block of a general use amid others (a blip of the noise, no planner's
    # intent) takes the use it shares most border with.
    i, j, length = c.adjacency
    both = inside[i] & inside[j]
    i, j, length = i[both], j[both], length[both]
    fluid = np.isin(label, _FLUID)
    same = label[i] == label[j]
    kin = np.bincount(i[same], minlength=len(label)) + np.bincount(j[same], minlength=len(label))
    before = label.copy()
    for b in np.flatnonzero(fluid & (kin == 0) & (f["area"] < SPECK)):
        mine = (i == b) | (j == b)
        other = np.where(i[mine] == b, j[mine], i[mine])
        ok = fluid[other]
        if ok.any():
            label[b] = before[other[ok][np.argmax(length[mine][ok])]]
    # no one lives next to the special industrial estate: farmland buffers it from housing
    special = label == _Z["อ.4"]
    housing = np.isin(label, _HOUSING)
    label[np.r_[j[special[i] & housing[j]], i[special[j] & housing[i]]]] = _Z["ก.4"]
    return label


def _zones(c: _City) -> pd.DataFrame:
    rows = []
    for plan in PLANS:
        label = _labels(c, plan["grow"])
        for k, (code, category) in enumerate(ZONES):
            pick = c.faces[label == k]
            if len(pick):
                rows.append(
                    {
                        "plan_id": plan["id"],
                        "land_use_code": code,
                        "category": category,
                        "geom": as_multipolygon(shapely.coverage_union_all(pick)),
                    }
                )
    return pd.DataFrame(rows, columns=["plan_id", "land_use_code", "category", "geom"])


def zone_frame(
    territory: Any, hydro: Hydrography, highways: list[Highway], rng: np.random.Generator
) -> pd.DataFrame:
    """Zones of both Lampang city plans, one row per (plan, land-use code).

    Parameters
    ----------
    territory
        Anything with ``outline`` (the province, a UTM (Multi)Polygon) and ``tambons`` (a frame
        with ``code``, the DOPA code, ``district_code`` and ``geom`` in UTM): the plans stay in
        the province, cover the four tambons of Nakhon Lampang city and reach only into tambons
        of Mueang Lampang district.
    hydro
        The Wang: axis of the street grid, open space along it, floodplain beyond the town.
    highways
        National highways: lines of the block structure, growth corridors, commercial
        frontage, and industry along highway 11 west of the city.
    rng
        The plan's random generator (street grid, block cuts, reach noise, strip widths).

    Returns
    -------
    pandas.DataFrame
        ``plan_id``, ``land_use_code``, ``category`` and ``geom``: a MultiPolygon in UTM 47N
        metres (EPSG:32647) on the 1 cm grid. The zones of a plan never overlap, tile its area
        and share exact edges.
    """
    return _zones(_city(territory, hydro, highways, rng))
