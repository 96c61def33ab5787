"""Hazard areas: flood-prone land along the Wang and its tributaries, and landslide-prone
slopes in the mountainous north (Wang Nuea, Ngao, Chae Hom, Mueang Pan) and the western hills.

Floods: a synthetic "height above nearest drainage"
----------------------------------------------------
Real flood-prone maps (GISTDA's flood-frequency layers, DWR's flood-risk maps) follow the low
ground: the Wang spreads over kilometres of paddy in the Lampang and Thoen basins and has almost
no flood plain where it runs through the gorges of Chae Hom and Wang Nuea. A uniform buffer of
the river cannot show that, and the demo has no elevation model, so the low ground is modelled
explicitly, as a height above the nearest drainage (HAND, the usual terrain index for flood
mapping):

* Across the valley the ground rises away from the channel at a lateral slope ``g`` (metres of
  height per metre of distance). ``g`` is set per cross-section from a smooth **lowland index**
  ``L`` in [0, 1]: ``log g`` runs from :data:`UPLAND_SLOPE` (a gorge, ``L = 0``) to
  :data:`LOWLAND_SLOPE` (a basin floor, ``L = 1``). ``L`` is the largest of a few flat-topped
  elliptical "basins" (:data:`LOWLANDS`) centred on the real lowlands: the Lampang basin
  (Mueang Lampang and Ko Kha), the Thoen / Sop Prap lowlands, the Mae Mo and Mae Tha valleys and
  the small Ngao and Chae Hom valley floors. The Wang upstream of Kiew Lom, through Chae Hom and
  Wang Nuea, lies in none of them and stays a narrow valley.
* ``g`` varies along the river with smooth noise, separately on each bank (valleys are rarely
  symmetric), and is lower (wider low ground) on the **inside of bends**, where point bars and
  old meander loops lie, and higher on the outside, the cut bank. Near **confluences** the
  ground is lower on both rivers (the tributary's fan and the backwater of the main river), and
  near a stream's source the valley narrows to a gully. Smaller rivers have narrower plains
  (width scales with the channel width to the power 0.6, a hydraulic-geometry rule of thumb).
* A severity band is the land below a height threshold (:data:`BAND_HEIGHTS`: high, medium,
  low). Since the height grows monotonically with distance from the channel, each band is, at
  each cross-section, an interval around the channel: its half-widths are ``threshold / g``.
  The outer bands get extra short-wavelength noise of their own, because the outer edge of a
  flood plain meets terraces, spurs and side gullies, so the edges of the bands are not
  parallel to each other nor to the river.

Cross-sections are taken every :data:`SECTION_STEP` metres, perpendicular to the smoothed valley
axis (not to the meandering channel, whose wiggles would otherwise fan out kilometres away), and
each band is the union of the convex hulls of consecutive cross-sections (a chain of
trapezoids), which is vectorised and never self-intersects, even where the band is wider than
the radius of a bend. The bands of one river are nested (high inside medium inside low). A
point's height above the nearest drainage is its lowest height above any river, so it takes the
most severe band of any river (the main river first on a tie): the bands are differenced into
a partition of the flood-prone land, and no two flood rows overlap, of one river or of two.
Reservoirs are removed (open water is not flood-prone land) and everything is clipped to the
province.

Landslides: strips along ridges
-------------------------------
DMR's landslide-risk areas are steep slopes and their foot: long, irregular belts along the
flanks of the north-south ranges (Phi Pan Nam in Ngao and Wang Nuea, the Khun Tan range on the
Lamphun border), never the valley floors. Each named spot (:data:`LANDSLIDE_SPOTS`) is drawn as
a strip along a slightly bowed ridge axis with a given azimuth and length, its width varying
along the axis and tapering to the ends, with one or two shorter side spurs. The flood plains
and reservoirs (plus :data:`VALLEY_CLEARANCE`) are cut out, so no landslide area lies on a
valley floor.

Randomness: one number is drawn from the plan's generator to seed a local one, so the demo's
later stages see the same random stream whatever this module draws.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from scipy.ndimage import gaussian_filter1d

from gis_registry.demo.geo import GRID, as_multipolygon, latlon_points_to_utm
from gis_registry.domain import SEVERITY_TERMS

if TYPE_CHECKING:
    from gis_registry.demo.rivers import Hydrography
    from gis_registry.demo.territory import Territory

FLOOD_SOURCE = "GISTDA flood-prone area 2011-2022 (demo approximation)"
LANDSLIDE_SOURCE = "DMR landslide risk map (demo approximation)"

# -- flood model ------------------------------------------------------------------------------
# Height above the nearest drainage (metres) below which land is in each band; a flood of
# 1-2 m over the banks reaches the high band most years, the low band only in 2011-type floods.
BAND_HEIGHTS = {"high": 1.5, "medium": 3.5, "low": 6.0}
UPLAND_SLOPE = 0.02  # lateral rise (m/m) of a gorge floor: 6 m within 300 m of the channel
LOWLAND_SLOPE = 0.0022  # ... of a basin floor: 6 m only 2.7 km out
REFERENCE_WIDTH = 70.0  # metres: the Wang's channel; smaller rivers get narrower plains
SECTION_STEP = 150.0  # metres between cross-sections
VALLEY_SMOOTHING = 1500.0  # metres (Gaussian sigma): the valley axis ignores channel meanders
BEND_SCALE = 3000.0  # metres: a valley bend of this radius counts as a full bend
BEND_INSIDE_GAIN = 0.6  # the inside of a full bend is this much wider ...
BEND_OUTSIDE_LOSS = 0.3  # ... and the outside (cut bank) this much narrower
CONFLUENCE_GAIN = 0.8  # low ground widens by this much at a confluence ...
CONFLUENCE_REACH = 2500.0  # ... fading over this many metres (Gaussian sigma) along the river
SOURCE_REACH = 5000.0  # metres over which a valley opens up from the source gully
BANK_NOISE = 0.25  # standard deviation of log g per bank, varying over ~3 km
EDGE_NOISE = {"high": 0.08, "medium": 0.14, "low": 0.2}  # ... per band edge, over ~0.8 km
BAND_MARGIN = {"high": 30.0, "medium": 60.0, "low": 100.0}  # metres beyond the channel bank
MIN_FLOOD_PART = 100.0  # square metres: smaller pieces of a band are below the map's precision
# Lowland basins: name, centre [lat, lon], half-length and half-width (km), azimuth of the long
# axis (degrees from north) and lowland index at the centre. The index falls off as
# exp(-(r^2 / 2)^3) with r the elliptical distance: flat over the basin floor, then a rim.
LOWLANDS = (
    ("Lampang basin (Mueang Lampang, Ko Kha)", (18.22, 99.45), (22.0, 13.0), 25.0, 1.0),
    ("Thoen / Sop Prap lowlands", (17.75, 99.30), (24.0, 10.0), 20.0, 0.85),
    ("Mae Mo basin", (18.30, 99.72), (12.0, 8.0), 40.0, 0.55),
    ("Mae Tha valley (lower Mae Chang)", (18.06, 99.52), (14.0, 7.0), 55.0, 0.45),
    ("Ngao valley", (18.75, 99.96), (16.0, 5.0), 10.0, 0.35),
    ("Chae Hom valley (lower Mae Soi)", (18.735, 99.545), (7.0, 3.0), 55.0, 0.3),
)

# -- landslide model --------------------------------------------------------------------------
# Landslide-prone slopes: Thai and English name, centre [lat, lon], azimuth of the ridge axis
# (degrees from north; the ranges run roughly north-south), length and mean half-width (km).
LANDSLIDE_SPOTS = (
    ("ดอยหลวง วังเหนือ", "Doi Luang, Wang Nuea", (19.25, 99.595), 10.0, 13.0, 1.3, "high"),
    ("ห้วยแม่ส้าน วังเหนือ", "Huai Mae San, Wang Nuea", (19.05, 99.72), 20.0, 11.0, 1.1, "medium"),
    ("ดอยขุนตาล งาว", "Doi Khun Tan, Ngao", (18.92, 99.88), 5.0, 15.0, 1.5, "high"),
    ("บ้านแหง งาว", "Ban Haeng, Ngao", (18.62, 100.03), -15.0, 11.0, 1.1, "medium"),
    ("ดอยพระบาท แจ้ห่ม", "Doi Phra Bat, Chae Hom", (18.80, 99.585), 10.0, 12.0, 1.2, "medium"),
    ("ผาเมือง เมืองปาน", "Pha Mueang, Mueang Pan", (18.93, 99.46), 15.0, 12.0, 1.2, "low"),
    ("ดอยขุนตาล ห้างฉัตร", "Doi Khun Tan, Hang Chat", (18.36, 99.205), 5.0, 13.0, 1.2, "medium"),
    ("แม่มอก เถิน", "Mae Mok, Thoen", (17.72, 99.14), 15.0, 12.0, 1.2, "low"),
    ("ห้วยแม่พริก แม่พริก", "Huai Mae Phrik, Mae Phrik", (17.52, 99.00), 20.0, 12.0, 1.1, "low"),
)
RIDGE_STEP = 150.0  # metres between cross-sections of a landslide strip
VALLEY_CLEARANCE = 300.0  # metres kept between landslide slopes and any flood plain
MIN_LANDSLIDE_PART = 0.3e6  # square metres: smaller pieces left by clipping are dropped


def hazard_frame(
    territory: Territory, hydro: Hydrography, rng: np.random.Generator
) -> pd.DataFrame:
    """Flood bands along every river and landslide-prone slopes, as one frame.

    Parameters
    ----------
    territory
        The province; only ``territory.outline`` (UTM 47N polygon) is used.
    hydro
        Rivers (their first vertex is the upstream end) and reservoirs, in UTM metres.
    rng
        The plan's random generator; exactly one number is drawn from it.

    Returns
    -------
    pandas.DataFrame
        Columns ``name_th, name_en, hazard_type ("flood" | "landslide"), severity ("high" |
        "medium" | "low"), source, geom``; ``geom`` is a valid MultiPolygon in EPSG:32647 on the
        1 cm grid. Three flood rows per river (high, medium, low; some may be empty), then one
        row per landslide spot that lies in the province.
    """
    gen = np.random.default_rng(rng.integers(2**63))
    province = territory.outline
    land = shapely.difference(province, shapely.union_all(hydro.reservoirs), grid_size=GRID)
    shapes = [flood_bands(hydro, r, gen) for r in range(len(hydro.keys))]
    # A point takes the most severe band of any river (its height above the nearest drainage is
    # its lowest height above any of them); where two rivers give the same band (the fans of a
    # confluence), the earlier river in ``hydro`` (the main river first) takes it.
    order = [(r, sev) for sev in BAND_HEIGHTS for r in range(len(shapes))]
    bands = dict(zip(order, _partition([shapes[r][sev] for r, sev in order], land), strict=True))
    rows = []
    for r in range(len(shapes)):
        for sev in BAND_HEIGHTS:
            rows.append(
                {
                    "name_th": f"พื้นที่เสี่ยงน้ำท่วม{hydro.names_th[r]} (ระดับ{SEVERITY_TERMS[sev].th})",
                    "name_en": f"{hydro.names_en[r]} flood-prone area ({sev})",
                    "hazard_type": "flood",
                    "severity": sev,
                    "source": FLOOD_SOURCE,
                    "geom": bands[r, sev],
                }
            )
    # Landslides keep off the valley floors: every flood plain and reservoir, plus a margin.
    floors = shapely.union_all([river["low"] for river in shapes] + list(hydro.reservoirs))
    valleys = shapely.buffer(floors, VALLEY_CLEARANCE, quad_segs=4)
    for th, en, centre, azimuth, length, half_width, sev in LANDSLIDE_SPOTS:
        strip = ridge_strip(
            latlon_points_to_utm([centre])[0], azimuth, length * 1000.0, half_width * 1000.0, gen
        )
        slope = shapely.difference(
            shapely.intersection(strip, province, grid_size=GRID), valleys, grid_size=GRID
        )
        # clipping can leave crumbs at the border or between two valleys: not a slope belt
        pieces = as_multipolygon(slope).geoms
        geom = shapely.MultiPolygon([p for p in pieces if p.area >= MIN_LANDSLIDE_PART])
        if geom.is_empty:  # a spot outside the province or on a valley floor: no row
            continue
        rows.append(
            {
                "name_th": f"พื้นที่เสี่ยงดินถล่ม {th}",
                "name_en": f"Landslide risk: {en}",
                "hazard_type": "landslide",
                "severity": sev,
                "source": LANDSLIDE_SOURCE,
                "geom": geom,
            }
        )
    return pd.DataFrame(rows)


def flood_bands(
    hydro: Hydrography, r: int, gen: np.random.Generator
) -> dict[str, shapely.Geometry]:
    """The high, medium and low flood bands of river ``r``, nested and not yet clipped.

    Parameters
    ----------
    hydro
        Rivers and reservoirs; a river's first vertex is its upstream end, and a tributary's
        last vertex lies on the river it joins.
    r
        Index of the river in ``hydro``.
    gen
        Random generator for the along-river noise.

    Returns
    -------
    dict
        Severity (``"high"``, ``"medium"``, ``"low"``, in that order) to a polygon: the land
        around the channel below that band's height above the drainage. Each contains the
        previous one and the channel.
    """
    line = hydro.geometry(r)
    n = max(3, int(np.ceil(line.length / SECTION_STEP)) + 1)
    chain = np.linspace(0.0, line.length, n)
    step = chain[1]
    pts = shapely.get_coordinates(shapely.line_interpolate_point(line, chain))
    normal, curvature = _valley_frame(pts, step)

    lowland = lowland_index(pts[:, 0], pts[:, 1])
    log_slope = np.log(UPLAND_SLOPE) + lowland * (np.log(LOWLAND_SLOPE) - np.log(UPLAND_SLOPE))
    size = (hydro.widths[r] / REFERENCE_WIDTH) ** 0.6
    gain = size * _confluence_gain(hydro, r, chain) * _source_taper(chain)
    bend = np.tanh(np.abs(curvature) * BEND_SCALE)
    half_channel = hydro.widths[r] / 2.0

    widths: dict[str, list[np.ndarray]] = {sev: [] for sev in BAND_HEIGHTS}
    for side in (1.0, -1.0):  # left bank, right bank (left = the normal's side)
        # a positive curvature turns left, so the left bank is then the inside of the bend
        inside = np.sign(curvature) == side
        bend_factor = np.where(
            inside, 1.0 + BEND_INSIDE_GAIN * bend, 1.0 - BEND_OUTSIDE_LOSS * bend
        )
        slope = np.exp(log_slope + BANK_NOISE * _smooth_noise(gen, n, 3000.0 / step))
        previous = np.full(n, half_channel)
        for sev, height in BAND_HEIGHTS.items():
            edge = np.exp(EDGE_NOISE[sev] * _smooth_noise(gen, n, 800.0 / step))
            w = height / slope * gain * bend_factor * edge
            # the band always holds the channel, and each band reaches beyond the one inside it
            w = np.maximum(w, half_channel + BAND_MARGIN[sev])
            w = np.maximum(w, previous + 25.0)
            widths[sev].append(w)
            previous = w
    return {sev: _swath(pts, normal, left, right) for sev, (left, right) in widths.items()}


def lowland_index(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """How much of a basin floor each point is on: 0 in the hills, 1 on the Lampang plain.

    Parameters
    ----------
    x, y
        UTM 47N coordinates (metres).

    Returns
    -------
    numpy.ndarray
        The largest index of the :data:`LOWLANDS` basins at each point, in [0, 1].
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    index = np.zeros(x.shape)
    for _, centre, (half_length, half_width), azimuth, peak in LOWLANDS:
        cx, cy = latlon_points_to_utm([centre])[0]
        a = np.radians(azimuth)
        along = (x - cx) * np.sin(a) + (y - cy) * np.cos(a)
        across = (x - cx) * np.cos(a) - (y - cy) * np.sin(a)
        r2 = (along / (half_length * 1000.0)) ** 2 + (across / (half_width * 1000.0)) ** 2
        index = np.maximum(index, peak * np.exp(-((r2 / 2.0) ** 3)))
    return index


def ridge_strip(
    centre: np.ndarray,
    azimuth: float,
    length: float,
    half_width: float,
    gen: np.random.Generator,
) -> shapely.Geometry:
    """An irregular belt of slope along a ridge, with one or two side spurs.

    Parameters
    ----------
    centre
        Middle of the ridge axis, UTM metres ``(x, y)``.
    azimuth
        Direction of the axis, degrees clockwise from north.
    length
        Length of the axis in metres.
    half_width
        Mean half-width of the belt in metres (it tapers to the ends).
    gen
        Random generator (bow and wobble of the axis, widths, spurs).

    Returns
    -------
    shapely.Geometry
        A polygon in UTM metres (not clipped).
    """
    a = np.radians(azimuth)
    direction = np.array([np.sin(a), np.cos(a)])
    side = np.array([-direction[1], direction[0]])
    n = max(5, int(np.ceil(length / RIDGE_STEP)) + 1)
    t = np.linspace(-0.5, 0.5, n)  # position along the axis, as a share of its length
    # A ridge is a gentle curve (bow) with a wobble of a few hundred metres.
    bow = gen.uniform(-0.08, 0.08) * length * (1.0 - (2.0 * t) ** 2)
    wobble = 0.03 * length * _smooth_noise(gen, n, 1500.0 / RIDGE_STEP)
    axis = centre + np.outer(t * length, direction) + np.outer(bow + wobble, side)
    normal, _ = _valley_frame(axis, length / (n - 1), smoothing=0.0)
    taper = np.maximum(np.sqrt(np.clip(1.0 - (2.0 * t) ** 2, 0.0, 1.0)), 0.12)
    # The two flanks differ (one face is steeper), and the belt swells and pinches along it.
    left = half_width * taper * np.exp(0.35 * _smooth_noise(gen, n, 1000.0 / RIDGE_STEP))
    right = half_width * taper * np.exp(0.35 * _smooth_noise(gen, n, 1000.0 / RIDGE_STEP))
    pieces = [_swath(axis, normal, left, right)]
    for _ in range(int(gen.integers(1, 3))):  # side spurs leave the ridge at an angle
        root = axis[int(gen.integers(n // 4, 3 * n // 4))]
        turn = np.radians(gen.uniform(35.0, 60.0)) * gen.choice([-1.0, 1.0])
        spur_dir = np.array(
            [
                direction[0] * np.cos(turn) - direction[1] * np.sin(turn),
                direction[0] * np.sin(turn) + direction[1] * np.cos(turn),
            ]
        )
        spur_len = gen.uniform(0.2, 0.3) * length
        m = max(3, int(np.ceil(spur_len / RIDGE_STEP)) + 1)
        s = np.linspace(0.0, 1.0, m)
        spur_axis = root + np.outer(s * spur_len, spur_dir)
        spur_normal = np.tile([-spur_dir[1], spur_dir[0]], (m, 1))
        spur_half = 0.7 * half_width * np.maximum(1.0 - s**2, 0.3)
        pieces.append(_swath(spur_axis, spur_normal, spur_half, spur_half))
    return shapely.union_all(pieces)


def _partition(
    shapes: list[shapely.Geometry], land: shapely.Geometry
) -> list[shapely.MultiPolygon]:
    """Split ``land`` among overlapping ``shapes``, each point going to the first that holds it.

    All boundaries are noded once on the 1 cm grid and polygonised into faces; each face goes to
    the first shape containing it, and a shape's part is the union of its faces. Faces share
    their edges exactly, so the parts never overlap, which differencing the shapes one by one on
    the grid cannot promise (each overlay snaps its new vertices its own way). Pieces smaller
    than :data:`MIN_FLOOD_PART` are dropped.
    """
    snapped = shapely.set_precision(np.asarray(shapes, dtype=object), GRID)
    edges = shapely.union_all([*shapely.boundary(snapped), shapely.boundary(land)], grid_size=GRID)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(edges))))
    faces = faces[shapely.area(faces) > 0]
    probe = shapely.get_coordinates(shapely.point_on_surface(faces))
    owner = np.where(shapely.contains_xy(land, probe[:, 0], probe[:, 1]), -1, len(shapes))
    for k, shape in enumerate(snapped):
        free = np.flatnonzero(owner == -1)
        owner[free[shapely.contains_xy(shape, probe[free, 0], probe[free, 1])]] = k
    out = []
    for k in range(len(shapes)):
        pieces = as_multipolygon(shapely.coverage_union_all(faces[owner == k])).geoms
        # crumbs where a band just outreaches a reservoir shore or another band's end
        out.append(shapely.MultiPolygon([p for p in pieces if p.area >= MIN_FLOOD_PART]))
    return out


def _valley_frame(
    pts: np.ndarray, step: float, smoothing: float = VALLEY_SMOOTHING
) -> tuple[np.ndarray, np.ndarray]:
    """Unit left normals and signed curvature (1/m) of a smoothed line through ``pts``.

    ``pts`` are ``step`` metres apart; the line is first smoothed with a Gaussian of
    ``smoothing`` metres so that cross-sections follow the valley rather than every meander.
    """
    axis = pts
    if smoothing > 0:
        axis = gaussian_filter1d(pts, smoothing / step, axis=0, mode="nearest")
    d1 = np.gradient(axis, step, axis=0)
    d2 = np.gradient(d1, step, axis=0)
    speed = np.maximum(np.hypot(d1[:, 0], d1[:, 1]), 1e-9)
    normal = np.column_stack([-d1[:, 1], d1[:, 0]]) / speed[:, None]
    curvature = (d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]) / speed**3
    return normal, curvature


def _swath(
    pts: np.ndarray, normal: np.ndarray, left: np.ndarray, right: np.ndarray
) -> shapely.Geometry:
    """Union of the convex hulls of consecutive cross-sections ``pts - right .. pts + left``.

    Each hull is a trapezoid between two cross-sections; the union never self-intersects, even
    where a section is longer than the radius of the bend it sits in.
    """
    lft = pts + normal * left[:, None]
    rgt = pts - normal * right[:, None]
    quads = np.stack([lft[:-1], lft[1:], rgt[1:], rgt[:-1]], axis=1)
    return shapely.union_all(shapely.convex_hull(shapely.multipoints(quads)))


def _smooth_noise(gen: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """``n`` values of white noise smoothed over ``sigma`` samples, with unit variance."""
    sigma = max(sigma, 0.5)
    pad = int(4 * sigma) + 1
    white = gen.standard_normal(n + 2 * pad)
    smooth = gaussian_filter1d(white, sigma, mode="nearest")[pad : pad + n]
    # smoothing white noise with a Gaussian of sigma s leaves a variance of 1 / (2 sqrt(pi) s)
    return smooth * np.sqrt(2.0 * np.sqrt(np.pi) * sigma)


def _confluence_gain(hydro: Hydrography, r: int, chain: np.ndarray) -> np.ndarray:
    """Widening factor of river ``r`` near its confluences (>= 1), at chainages ``chain``.

    A confluence is where a river's last vertex lies on another river: it counts for both.
    """
    line = hydro.geometry(r)
    at = []
    for j in range(len(hydro.keys)):
        end = shapely.Point(hydro.lines[j][-1])
        if j == r:
            if any(
                shapely.distance(hydro.geometry(k), end) < 1.0
                for k in range(len(hydro.keys))
                if k != r
            ):
                at.append(line.length)
        elif shapely.distance(line, end) < 1.0:
            at.append(line.project(end))
    gain = np.ones_like(chain)
    for s in at:
        gain += CONFLUENCE_GAIN * np.exp(-0.5 * ((chain - s) / CONFLUENCE_REACH) ** 2)
    return gain


def _source_taper(chain: np.ndarray) -> np.ndarray:
    """Narrowing factor (0.3 .. 1) of the valley over the first kilometres from the source."""
    return 0.3 + 0.7 * np.clip(chain / SOURCE_REACH, 0.0, 1.0)
