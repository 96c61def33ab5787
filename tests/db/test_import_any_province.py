"""Any province, not only Lampang: another PAO loads its own COD-AB boundaries the same way.

The files are Lampang's, turned into a province in the east of Thailand (UTM zone 48, where
UTM 47N would measure wrongly): codes TH52 -> TH34, names changed, every coordinate moved 5.3°
east and 2.5° south. A fresh registry (migrate, no demo) loads districts then tambons with
the shipped mappings, and measures them geodesically.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from pyproj import Geod
from sqlalchemy import text

from gis_registry.db import make_engine
from gis_registry.db.migrate import upgrade
from gis_registry.db.testing import create_test_database, drop_test_database
from gis_registry.io.load import ImportOptions, import_file
from gis_registry.io.mapping import FieldMapping

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
BOUNDARIES = ROOT / "data" / "boundaries" / "lampang"
MAPPINGS = ROOT / "data" / "mappings"


@pytest.fixture(scope="module")
def fresh(settings):
    url = create_test_database(settings, suffix="_province_test")
    engine = make_engine(settings, url=url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        drop_test_database(url)


def _elsewhere(name: str, tmp: Path) -> Path:
    """A Lampang COD-AB file as province 34, 5.3° east and 2.5° south."""
    frame = pyogrio.read_dataframe(BOUNDARIES / name)
    for column in frame.columns:
        if column.endswith("_PCODE") and column != "ADM0_PCODE":
            frame[column] = frame[column].str.replace(r"^TH52", "TH34", regex=True)
        if column == "ADM1_TH":
            frame[column] = "ตะวันออก"
    frame = frame.set_geometry(
        shapely.transform(frame.geometry.values, lambda xy: xy + (5.3, -2.5)), crs=4326
    )
    path = tmp / name
    pyogrio.write_dataframe(frame, path)
    return path


def test_a_province_in_zone_48_loads_with_the_shipped_mappings(fresh, tmp_path):
    districts = _elsewhere("districts.geojson", tmp_path)
    tambons = _elsewhere("tambons.geojson", tmp_path)
    for layer, path, mapping in (
        ("districts", districts, "cod-ab-districts.yaml"),
        ("local_bodies", tambons, "cod-ab-tambons.yaml"),
    ):
        options = ImportOptions(mapping=FieldMapping.load(MAPPINGS / mapping))
        result = import_file(fresh, layer, path, options)
        assert result.problems == [], result.lines()
        assert result.written
    with fresh.connect() as conn:
        rows = conn.execute(
            text("SELECT code, tambon_code, district_code, area_km2 FROM local_bodies")
        ).all()
        assert conn.execute(text("SELECT count(*) FROM districts")).scalar_one() == 13
    assert len(rows) == 100
    assert all(re.fullmatch(r"34[0-9]{4}", r.code) and r.code == r.tambon_code for r in rows)
    assert all(r.tambon_code.startswith(r.district_code) for r in rows)
    geod = Geod(ellps="WGS84")
    expected = {
        code.removeprefix("TH"): abs(geod.geometry_area_perimeter(geom)[0]) / 1e6
        for code, geom in zip(
            gpd.read_file(tambons)["ADM3_PCODE"], gpd.read_file(tambons).geometry, strict=True
        )
    }
    for row in rows:  # geodesic, not UTM 47N (which is 0.3-0.5% off this far east)
        assert row.area_km2 == pytest.approx(expected[row.code], rel=1e-3)


def test_another_provinces_road_codes_are_valid(fresh, tmp_path):
    path = tmp_path / "roads.csv"
    path.write_text(
        "code,segment,name_th,name_en,road_class,surface,lanes,oneway,layer,wkt\n"
        "อบ.4001,1,ถนนทดสอบ,Test road,rural,asphalt,2,false,0,"
        '"LINESTRING(104.8 15.8, 104.81 15.81)"\n'
        "อบ.ถ. 1-0001,1,ถนนท้องถิ่น,Local road,local,laterite,1,false,0,"
        '"LINESTRING(104.8 15.8, 104.8 15.82)"\n',
        encoding="utf-8",
    )
    result = import_file(fresh, "roads", path)
    assert result.problems == [], result.lines()
    assert result.inserted == 2


def test_a_second_geometry_is_read_in_the_files_crs(fresh, tmp_path):
    # a district file in UTM 48N whose office column is WKT in the same UTM coordinates
    districts = pyogrio.read_dataframe(_elsewhere("districts.geojson", tmp_path)).iloc[:1]
    office = shapely.Point(104.85, 15.85)
    utm = districts.to_crs(32648)
    utm["office"] = gpd.GeoSeries([office], crs=4326).to_crs(32648).to_wkt().values
    path = tmp_path / "districts_utm.gpkg"
    pyogrio.write_dataframe(utm, path)
    mapping = FieldMapping.load(MAPPINGS / "cod-ab-districts.yaml").with_options(
        columns={"office": "office"}
    )
    result = import_file(fresh, "districts", path, ImportOptions(mapping=mapping, mode="upsert"))
    assert result.problems == [], result.lines()
    code = districts["ADM2_PCODE"].iloc[0].removeprefix("TH")
    with fresh.connect() as conn:
        x, y = conn.execute(
            text("SELECT ST_X(office), ST_Y(office) FROM districts WHERE code = :c"), {"c": code}
        ).one()
    assert (x, y) == (pytest.approx(104.85, abs=1e-7), pytest.approx(15.85, abs=1e-7))
