"""Demo hazard areas (gis_registry.demo.hazards): flood plains that follow the river and the low
ground, landslide slopes along the northern and western ridges.

The province and its districts are the real boundaries shipped with the demo (HDX COD-AB),
read here directly so that the tests do not depend on how ``territory`` builds them; the rivers
are the demo's own hydrography on that outline.
"""

from __future__ import annotations

import time
import types
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_registry.demo.facts import load_facts
from gis_registry.demo.geo import UTM47N, utm_to_lonlat
from gis_registry.demo.hazards import FLOOD_SOURCE, LANDSLIDE_SOURCE, hazard_frame
from gis_registry.demo.rivers import build_hydrography

SEED = 52
NORTH_AND_WEST = {"5205", "5206", "5207", "5208", "5209", "5212", "5213"}


def _boundaries() -> types.SimpleNamespace:
    """A stand-in for the demo territory: the real province and district polygons in UTM."""
    folder = resources.files("gis_registry.demo").joinpath("data", "boundaries")
    with resources.as_file(folder) as path:
        province = gpd.read_file(path / "province.geojson").to_crs(UTM47N)
        districts = gpd.read_file(path / "districts.geojson").to_crs(UTM47N)
    outline = shapely.set_precision(shapely.union_all(province.geometry.to_numpy()), 0.01)
    return types.SimpleNamespace(
        outline=outline,
        districts=pd.DataFrame(
            {"code": districts["ADM2_PCODE"].str[2:], "geom": districts.geometry.to_numpy()}
        ),
    )


def _build(seed: int):
    territory = _boundaries()
    rng = np.random.default_rng(seed)
    hydro = build_hydrography(load_facts(), territory.outline, rng)
    start = time.perf_counter()
    frame = hazard_frame(territory, hydro, rng)
    return territory, hydro, frame, time.perf_counter() - start


@pytest.fixture(scope="module")
def world():
    territory, hydro, frame, seconds = _build(SEED)
    return types.SimpleNamespace(territory=territory, hydro=hydro, frame=frame, seconds=seconds)


def _floods(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["hazard_type"] == "flood"]


def _cross_width(line: shapely.LineString, area: shapely.Geometry, at: float) -> float:
    """Length of the piece of ``area`` on the cross-section of ``line`` at chainage ``at``
    (perpendicular to the river's direction over 2 km) that holds the channel point."""
    p = np.array(line.interpolate(at).coords[0])
    a = np.array(line.interpolate(max(at - 1000.0, 0.0)).coords[0])
    b = np.array(line.interpolate(min(at + 1000.0, line.length)).coords[0])
    d = (b - a) / np.hypot(*(b - a))
    n = np.array([-d[1], d[0]])
    cut = shapely.intersection(shapely.LineString([p - 25_000 * n, p + 25_000 * n]), area)
    for part in shapely.get_parts(cut):
        if part.distance(shapely.Point(p)) < 1.0:
            return float(part.length)
    return 0.0


@pytest.fixture(scope="module")
def wang_widths(world):
    """Flood-plain widths across the Wang every kilometre (outside the reservoirs), with the
    latitude of each cross-section."""
    hydro = world.hydro
    line = hydro.geometry(hydro.index("wang"))
    area = shapely.union_all(_floods(world.frame)["geom"].to_numpy())
    at = np.arange(1000.0, line.length - 1000.0, 1000.0)
    pts = shapely.get_coordinates(shapely.line_interpolate_point(line, at))
    lakes = shapely.buffer(shapely.union_all(hydro.reservoirs), 200.0)
    dry = ~shapely.contains_xy(lakes, pts[:, 0], pts[:, 1])
    widths = np.array([_cross_width(line, area, s) for s in at[dry]])
    _, lat = utm_to_lonlat(pts[dry, 0], pts[dry, 1])
    return widths, lat


def test_frame_columns_and_rows(world):
    f, hydro = world.frame, world.hydro
    assert list(f.columns) == ["name_th", "name_en", "hazard_type", "severity", "source", "geom"]
    floods = _floods(f)
    assert len(floods) == 3 * len(hydro.keys)
    assert list(floods["severity"]) == ["high", "medium", "low"] * len(hydro.keys)
    assert (floods["source"] == FLOOD_SOURCE).all()
    assert floods["name_en"].iloc[0] == f"{hydro.names_en[0]} flood-prone area (high)"
    assert floods["name_th"].iloc[0] == f"พื้นที่เสี่ยงน้ำท่วม{hydro.names_th[0]} (ระดับสูง)"
    slides = f[f["hazard_type"] == "landslide"]
    assert len(slides) >= 8 and (slides["source"] == LANDSLIDE_SOURCE).all()
    assert slides["name_en"].str.startswith("Landslide risk: ").all()
    assert set(f["severity"]) == {"high", "medium", "low"}
    geoms = f["geom"].to_numpy()
    assert all(g.geom_type == "MultiPolygon" and g.is_valid and not g.is_empty for g in geoms)
    coords = shapely.get_coordinates(geoms) * 100.0  # on the 1 cm grid
    assert np.abs(coords - np.round(coords)).max() < 1e-3
    assert world.seconds < 5.0  # about half a second on a laptop


def test_flood_width_varies_along_the_wang(wang_widths):
    widths, _ = wang_widths
    assert (widths > 0).all()
    assert widths.max() / widths.min() > 5
    assert widths.std() / widths.mean() > 0.5  # not a buffer of constant width


def test_lampang_basin_is_wider_than_the_wang_nuea_valley(wang_widths):
    widths, lat = wang_widths
    basin = widths[(lat >= 18.19) & (lat <= 18.28)]  # Mueang Lampang to Ko Kha
    upland = widths[lat > 19.0]  # the Wang upstream through Wang Nuea
    thoen = widths[(lat >= 17.6) & (lat <= 17.95)]  # Sop Prap to Thoen
    assert len(basin) >= 8 and len(upland) >= 20 and len(thoen) >= 20
    assert np.median(basin) > 2000.0 and np.median(upland) < 1000.0
    assert np.median(basin) > 4 * np.median(upland)
    assert np.percentile(basin, 10) > 2 * np.percentile(upland, 90)
    assert np.median(thoen) > 2 * np.median(upland)


def test_flood_plain_widens_at_confluences(world):
    hydro = world.hydro
    wang = hydro.index("wang")
    line = hydro.geometry(wang)
    area = shapely.union_all(_floods(world.frame)["geom"].to_numpy())

    def mean_width(chainages):
        w = [_cross_width(line, area, s) for s in chainages if 0 < s < line.length]
        return np.mean([x for x in w if x > 0])  # a cross-section in a reservoir has none

    ratios = []
    for j, coords in enumerate(hydro.lines):
        mouth = shapely.Point(coords[-1])
        if j == wang or line.distance(mouth) > 1.0:
            continue
        at = line.project(mouth)
        near = mean_width(at + np.array([-1500.0, -750.0, 750.0, 1500.0]))
        far = mean_width(at + np.r_[np.arange(-12e3, -5e3, 1e3), np.arange(5e3, 12e3, 1e3)])
        ratios.append(near / far)
    assert len(ratios) >= 3
    assert np.exp(np.mean(np.log(ratios))) > 1.2, ratios


def test_flood_bands_nest_and_do_not_overlap(world):
    f, hydro = world.frame, world.hydro
    geoms = _floods(f)["geom"].to_numpy()
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    assert shapely.area(shapely.intersection(geoms[i[keep]], geoms[j[keep]])).sum() < 1.0
    land = shapely.difference(world.territory.outline, shapely.union_all(hydro.reservoirs))
    highs = shapely.union_all(geoms[0::3])
    for r in range(len(hydro.keys)):
        high, medium, low = geoms[3 * r : 3 * r + 3]
        channel = hydro.geometry(r)
        # the high band hugs the channel, the medium band lies around the high band ...
        assert shapely.distance(channel, shapely.points(shapely.get_coordinates(high))).max() < 4000
        assert shapely.area(shapely.difference(high, channel.buffer(4000.0))) < 1.0
        if not medium.is_empty and not high.is_empty:
            assert medium.distance(high) < 1.0
        assert low.area > 0 and medium.area > 0
        # ... and every channel on dry land is in a high band (its own or the main river's)
        wet = shapely.intersection(channel, land)
        assert shapely.difference(wet, highs.buffer(1.0)).length < 1.0


def test_floods_stay_in_the_province_and_out_of_the_reservoirs(world):
    f, hydro = world.frame, world.hydro
    province = world.territory.outline.buffer(0.05)
    assert shapely.covers(province, f["geom"].to_numpy()).all()
    floods = shapely.union_all(_floods(f)["geom"].to_numpy())
    for lake in hydro.reservoirs:
        assert lake.area > 1e6
        # the 1 cm grid may move a shore by a few millimetres where a band edge meets it
        assert shapely.intersection(floods, lake.buffer(-0.05)).area == 0.0
        assert shapely.intersection(floods, lake).area < 1e-6 * lake.area


def test_landslides_are_elongated_slopes_in_the_hills(world):
    f, hydro = world.frame, world.hydro
    slides = f[f["hazard_type"] == "landslide"]["geom"].to_numpy()
    districts = world.territory.districts
    hills = shapely.union_all(districts.loc[districts["code"].isin(NORTH_AND_WEST), "geom"])
    assert shapely.contains(hills, shapely.centroid(slides)).all()
    north = shapely.union_all(
        districts.loc[districts["code"].isin({"5205", "5206", "5207", "5213"}), "geom"]
    )
    assert shapely.contains(north, shapely.centroid(slides)).sum() >= 5
    parts = shapely.get_parts(slides)
    ratio = 4 * np.pi * shapely.area(parts) / shapely.length(parts) ** 2
    assert (ratio < 0.8).all(), ratio  # no discs
    aspects = []
    for g in slides:
        x, y = shapely.get_coordinates(shapely.oriented_envelope(g))[:3].T
        sides = np.hypot(np.diff(x), np.diff(y))
        aspects.append(sides.max() / sides.min())
    assert np.mean(np.array(aspects) > 1.5) >= 0.75, aspects
    # never on a valley floor: off the Wang's high band, and off every flood plain
    wang = hydro.index("wang")
    wang_high = _floods(f)["geom"].iloc[3 * wang]
    floods = shapely.union_all(_floods(f)["geom"].to_numpy())
    assert not shapely.intersects(slides, wang_high).any()
    assert shapely.area(shapely.intersection(slides, floods)).sum() < 1.0


def test_same_seed_same_hazards(world):
    _, _, again, _ = _build(SEED)
    assert again.drop(columns="geom").equals(world.frame.drop(columns="geom"))
    assert (shapely.to_wkb(again["geom"].to_numpy()) == shapely.to_wkb(world.frame["geom"])).all()
    _, _, other, _ = _build(SEED + 1)
    assert not (
        shapely.to_wkb(other["geom"].to_numpy()) == shapely.to_wkb(world.frame["geom"])
    ).all()
