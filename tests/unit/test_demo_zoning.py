"""The demo's Lampang city comprehensive plans (gis_registry.demo.zoning): zones that follow
streets, the river and the railway, tile their plan area exactly, and look like a plan.

The territory is a stand-in built here from the real boundaries shipped with the demo (HDX
COD-AB), so these tests do not depend on how ``territory`` builds them; the rivers and highways
are the demo's own on that outline.
"""

from __future__ import annotations

import math
import re
import time
import types
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_registry.demo import zoning
from gis_registry.demo.facts import load_facts
from gis_registry.demo.geo import UTM47N, latlon_points_to_utm
from gis_registry.demo.highways import build_highways
from gis_registry.demo.rivers import build_hydrography

SEED = 52
CENTRE = (18.288, 99.492)
CITY_TAMBONS = {"520101", "520102", "520103", "520104"}
RESIDENTIAL = ("high_density_residential", "medium_density_residential", "low_density_residential")
RURAL = {"rural_agricultural", "rural_agricultural_conservation"}
INDUSTRY = {"industrial", "warehouse", "special_industrial"}


def point(lat: float, lon: float) -> shapely.Point:
    return shapely.Point(latlon_points_to_utm([[lat, lon]])[0])


def _territory() -> types.SimpleNamespace:
    folder = resources.files("gis_registry.demo").joinpath("data", "boundaries")
    with resources.as_file(folder) as path:
        province = gpd.read_file(path / "province.geojson").to_crs(UTM47N)
        tambons = gpd.read_file(path / "tambons.geojson").to_crs(UTM47N)
    return types.SimpleNamespace(
        outline=shapely.set_precision(province.geometry.iloc[0], 0.01),
        tambons=pd.DataFrame(
            {
                "code": tambons["ADM3_PCODE"].str[2:],
                "name_th": tambons["ADM3_TH"],
                "name_en": tambons["ADM3_EN"],
                "district_code": tambons["ADM2_PCODE"].str[2:],
                "geom": shapely.set_precision(tambons.geometry.to_numpy(), 0.01),
            }
        ),
    )


def _inputs(seed: int):
    territory = _territory()
    rng = np.random.default_rng(seed)
    hydro = build_hydrography(load_facts(), territory.outline, rng)
    highways = build_highways(load_facts(), territory.outline, hydro)
    return territory, hydro, highways, rng


@pytest.fixture(scope="module")
def world():
    territory, hydro, highways, rng = _inputs(SEED)
    state = rng.bit_generator.state
    start = time.perf_counter()
    zones = zoning.zone_frame(territory, hydro, highways, rng)
    seconds = time.perf_counter() - start
    rng.bit_generator.state = state  # the same draws again, for the streets behind the zones
    city = zoning._city(territory, hydro, highways, rng)
    return types.SimpleNamespace(
        territory=territory,
        hydro=hydro,
        highways={h.code: shapely.LineString(h.coords) for h in highways},
        zones=zones,
        seconds=seconds,
        city=city,
        state=state,
    )


def plans(world):
    for plan_id, zones in world.zones.groupby("plan_id"):
        yield plan_id, zones.reset_index(drop=True)


def parts_of(zones: pd.DataFrame, categories) -> np.ndarray:
    geoms = zones.loc[zones["category"].isin(categories), "geom"].to_numpy()
    return shapely.get_parts(geoms) if len(geoms) else np.array([])


def category_at(zones: pd.DataFrame, p: shapely.Point) -> str:
    hit = zones[shapely.covers(zones["geom"].to_numpy(), p)]
    assert len(hit) == 1, f"{len(hit)} zones at {p}"
    return hit["category"].iloc[0]


def mean_distance(parts: np.ndarray, centre: shapely.Point) -> float:
    area = shapely.area(parts)
    return float((shapely.distance(shapely.centroid(parts), centre) * area).sum() / area.sum())


def test_frame_shape_codes_and_categories(world):
    z = world.zones
    assert list(z.columns) == ["plan_id", "land_use_code", "category", "geom"]
    assert set(z["plan_id"]) == {p["id"] for p in zoning.PLANS}
    assert not z.duplicated(["plan_id", "land_use_code"]).any()  # one row per (plan, code)
    assert z.groupby("land_use_code")["category"].nunique().max() == 1
    assert (shapely.get_type_id(z["geom"].to_numpy()) == 6).all()  # MultiPolygon
    assert shapely.is_valid(z["geom"].to_numpy()).all()
    coords = shapely.get_coordinates(z["geom"].to_numpy())
    assert np.abs(coords / 0.01 - np.rint(coords / 0.01)).max() < 1e-3  # on the 1 cm grid
    cats = zoning.category_frame(load_facts()).set_index("key")
    assert set(z["category"]) <= set(cats.index)
    for code, category in zip(z["land_use_code"], z["category"], strict=True):
        allowed = cats.loc[category, "codes"]
        if m := re.fullmatch(r"(\S+?)\.(\d+)-\1\.(\d+)", allowed):  # a range, e.g. ย.1-ย.4
            got = re.fullmatch(re.escape(m[1]) + r"\.(\d+)", code)
            assert got and int(m[2]) <= int(got[1]) <= int(m[3]), (code, category)
        elif allowed != "-":  # one code (อ.3, ก.4) or a prefix (ส.)
            assert code.startswith(allowed), (code, category)
    for _, zones in plans(world):  # every use a comprehensive plan needs
        assert set(zones["category"]) == set(cats.index)


def test_no_zone_is_a_circle(world):
    worst = 0.0
    for code, geom in zip(world.zones["land_use_code"], world.zones["geom"], strict=True):
        for part in shapely.get_parts(geom):
            ratio = 4 * math.pi * part.area / part.length**2
            assert part.area < 5e4 or ratio <= 0.9, f"{code}: {ratio:.2f}"
            worst = max(worst, ratio if part.area >= 5e4 else 0.0)
    assert worst > 0.3  # the check sees real shapes


def test_zones_tile_the_plan_area_inside_the_province(world):
    province = world.territory.outline
    for plan_id, zones in plans(world):
        geoms = zones["geom"].to_numpy()
        area = shapely.union_all(geoms)
        assert shapely.coverage_is_valid(geoms)  # no overlaps, shared edges match exactly
        i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        overlap = shapely.area(shapely.intersection(geoms[i[i < j]], geoms[j[i < j]])).sum()
        assert overlap < 1e-3 * area.area, plan_id
        assert abs(shapely.area(geoms).sum() - area.area) < 1e-3 * area.area
        # one piece without holes: the zones leave no gap in the plan area
        assert isinstance(area, shapely.Polygon), plan_id
        assert sum(shapely.Polygon(r).area for r in area.interiors) < 1e-3 * area.area
        assert area.difference(province).area < 1e-3 * area.area


def test_plan_area_is_the_city_and_parts_of_its_neighbours(world):
    tb = world.territory.tambons
    city = shapely.union_all(tb.loc[tb["code"].isin(CITY_TAMBONS), "geom"].to_numpy())
    mueang = shapely.union_all(tb.loc[tb["district_code"] == "5201", "geom"].to_numpy())
    areas = {}
    for plan_id, zones in plans(world):
        area = shapely.union_all(zones["geom"].to_numpy())
        areas[plan_id] = area
        assert city.difference(area).area < 1e-3 * city.area  # the whole city
        assert area.difference(mueang).area < 1e-3 * area.area  # in Mueang Lampang district
        assert 60e6 < area.area < 300e6
        # no disc: far from the circle of its area about its centroid (a square is 18 % off)
        disc = area.centroid.buffer(math.sqrt(area.area / math.pi), quad_segs=64)
        assert area.symmetric_difference(disc).area > 0.2 * area.area, plan_id
    old, new = (areas[p["id"]] for p in zoning.PLANS)
    assert new.area > old.area * 1.05  # the revision grows the plan


def test_old_town_sites_and_landmarks(world):
    for _, zones in plans(world):
        kad_kong_ta = category_at(zones, point(18.2930, 99.4960))
        assert kad_kong_ta in {"commercial", "thai_art_culture_conservation"}
        assert category_at(zones, point(18.2860, 99.4930)) == "commercial"  # modern centre
        assert category_at(zones, point(18.2577, 99.5445)) == "government"  # provincial hall
        assert category_at(zones, point(18.2709, 99.5042)) == "government"  # airport
        assert category_at(zones, point(18.2290, 99.4890)) == "education"  # Rajabhat
        assert category_at(zones, point(18.2960, 99.5090)) == "religious"  # Wat Phra Kaeo Don Tao
        art = parts_of(zones, {"thai_art_culture_conservation"})
        housing = parts_of(zones, {"residential_conservation"})
        assert shapely.union_all(art).distance(point(18.2960, 99.5090)) < 300.0
        assert shapely.union_all(housing).distance(shapely.union_all(art)) < 1.0  # nearby
        for parts in (parts_of(zones, {c}) for c in ("government", "education", "religious")):
            assert shapely.area(parts).sum() < 3e6  # parcels, not districts


def test_commercial_lines_the_main_streets(world):
    centre = point(*CENTRE)
    streets = shapely.union_all([world.city.arterials, *world.highways.values()])
    for _, zones in plans(world):
        shops = shapely.union_all(parts_of(zones, {"commercial"}))
        outside = shops.difference(centre.buffer(1_500.0))
        assert outside.area > 0.5e6  # commercial reaches out of the core ...
        # ... as frontage: nearly all of it within a plot's depth of a street
        assert outside.difference(streets.buffer(170.0)).area < 0.1 * outside.area
        old_town = shops.intersection(point(18.2930, 99.4960).buffer(500.0))
        assert old_town.area > 0.1e6  # and in the old town


def test_industry_by_highway_11_and_the_railway(world):
    hw11, rail = world.highways["11"], world.city.railway
    for _, zones in plans(world):
        parts = parts_of(zones, INDUSTRY)
        assert len(parts) and shapely.area(parts).sum() > 1e6
        reps = shapely.point_on_surface(parts)
        near = np.minimum(shapely.distance(hw11, reps), shapely.distance(rail, reps))
        assert (near < 1_500.0).all()
        assert (
            np.minimum(shapely.distance(hw11, parts), shapely.distance(rail, parts)) < 1.0e3
        ).all()
        # the special industrial estate does not border housing
        special = shapely.union_all(parts_of(zones, {"special_industrial"}))
        housing = shapely.union_all(parts_of(zones, {*RESIDENTIAL, "residential_conservation"}))
        assert special.area > 0 and shapely.intersection(special, housing).length < 1.0


def test_open_space_follows_the_wang(world):
    wang = world.hydro.geometry(world.hydro.index("wang"))
    for _, zones in plans(world):
        park = shapely.union_all(parts_of(zones, {"open_space"}))
        assert park.intersects(wang)
        assert park.difference(wang.buffer(600.0)).area < 0.01 * park.area
        along = wang.intersection(park).length
        assert along > 8_000.0  # the river through the plan, not a pond
        # of varying width: no uniform buffer of the river matches it
        uniform = wang.intersection(park.envelope).buffer(park.area / along / 2)
        assert park.symmetric_difference(uniform).area > 0.2 * park.area


def test_density_falls_outwards_and_farmland_lies_outside(world):
    centre = point(*CENTRE)
    for plan_id, zones in plans(world):
        high, medium, low = (mean_distance(parts_of(zones, {c}), centre) for c in RESIDENTIAL)
        assert high < medium < low, plan_id
        rural = mean_distance(parts_of(zones, RURAL), centre)
        assert low < rural, plan_id
        # the plan's edge is mostly farmland
        area = shapely.union_all(zones["geom"].to_numpy())
        edge = area.exterior
        farm = shapely.union_all(parts_of(zones, RURAL))
        assert edge.intersection(farm).length > 0.6 * edge.length, plan_id


def test_same_seed_same_plans_and_fast(world):
    assert world.seconds < 5.0, f"zone_frame took {world.seconds:.2f} s"
    territory, hydro, highways, rng = _inputs(SEED)
    assert rng.bit_generator.state == world.state
    again = zoning.zone_frame(territory, hydro, highways, rng)
    assert again[["plan_id", "land_use_code", "category"]].equals(
        world.zones[["plan_id", "land_use_code", "category"]]
    )
    assert (
        shapely.to_wkb(again["geom"].to_numpy()) == shapely.to_wkb(world.zones["geom"].to_numpy())
    ).all()
