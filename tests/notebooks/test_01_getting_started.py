"""01_getting_started: layers as GeoDataFrames, filters (box, owner, attributes, CQL2), lengths
in UTM 47N and an export; its figures and key numbers against the library's own answers."""

from __future__ import annotations

import pytest
import shapely

from tests.notebooks.kernel import figures, key_numbers

pytestmark = pytest.mark.db

NOTEBOOK = "01_getting_started.ipynb"
CITY_CODE = "2520103"  # เทศบาลนครลำปาง, found by its English name in the notebook
LAMPANG_CITY_BBOX = (99.45, 18.25, 99.55, 18.33)


def test_draws_the_province_and_the_city(executed):
    found = figures(executed(NOTEBOOK))
    assert found.images >= 2  # districts with roads by class; the city with its unpaved roads
    assert found.maps == 0


def test_reads_and_filters_as_the_library_does(executed, demo_registry):
    numbers = key_numbers(executed(NOTEBOOK))
    reg = demo_registry
    city = reg.local_bodies(code=CITY_CODE)
    assert len(city) == 1
    assert numbers["city_municipality_code"] == CITY_CODE
    assert numbers["local_bodies"] == len(reg.local_bodies())
    assert numbers["road_segments"] == len(reg.roads())
    assert numbers["roads_in_city_bbox"] == len(reg.roads(bbox=LAMPANG_CITY_BBOX))
    assert numbers["city_municipality_roads"] == len(
        reg.roads(owner_local_body_id=int(city["id"].iloc[0]))
    )
    assert numbers["unpaved_roads"] == len(reg.roads(surface=["laterite", "earth"]))
    # a box is not the whole province, and the owner filter is narrower than the box
    assert 0 < numbers["city_municipality_roads"] < numbers["roads_in_city_bbox"]
    assert numbers["roads_in_city_bbox"] < numbers["road_segments"]


def test_cql2_answer_in_utm(executed, demo_registry):
    numbers = key_numbers(executed(NOTEBOOK))
    boundary = demo_registry.local_bodies(code=CITY_CODE).geometry.iloc[0]
    wkt = shapely.to_wkt(boundary, rounding_precision=6)
    cql2 = f"(surface = 'laterite' OR surface = 'earth') AND S_INTERSECTS(geom, {wkt})"
    answer = demo_registry.items("roads", filter=cql2, crs="EPSG:32647")
    assert answer.crs.to_epsg() == 32647
    assert len(answer) > 0
    assert numbers["cql2_unpaved_touching_city"] == len(answer)

    roads = demo_registry.roads()
    utm_km = float(roads.to_crs(32647).length.sum()) / 1000
    stored_km = float(roads["length_m"].sum()) / 1000
    assert numbers["road_km_utm"] == pytest.approx(utm_km, abs=0.051)
    assert numbers["road_km_stored"] == pytest.approx(stored_km, abs=0.051)
    # measured in metres, not degrees: UTM and the geodesic lengths agree within 0.5 %
    assert numbers["road_km_utm"] == pytest.approx(numbers["road_km_stored"], rel=0.005)


def test_export_keeps_every_row_and_the_thai_names(executed, demo_registry):
    numbers = key_numbers(executed(NOTEBOOK))
    city = demo_registry.local_bodies(code=CITY_CODE)
    owned = demo_registry.roads(owner_local_body_id=int(city["id"].iloc[0]))
    assert numbers["rows_exported_gpkg"] == len(owned)
    assert numbers["rows_exported_geojson"] == len(owned)
    assert numbers["thai_names_survive"] is True
