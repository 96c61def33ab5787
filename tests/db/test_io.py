"""File import/export: Thai text survives, CRSs are honoured, bad files are refused whole."""

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point
from sqlalchemy import text

from gis_registry.errors import GisRegistryError, ValidationError
from gis_registry.io.files import export_layer, import_file
from tests.fixtures.world import build_world

pytestmark = pytest.mark.db


def _wells(owner: int, crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {
            "name_th": ["บ่อบาดาลบ้านแม่ทะ", "ประปาหมู่บ้านสบปราบ"],
            "name_en": ["Ban Mae Tha well", "Sop Prap village water supply"],
            "kind": ["groundwater_well", "village_water_supply"],
            "households_served": [45, 210],
            "owner_local_body_id": [owner, owner],
        },
        geometry=[Point(99.46, 18.33), Point(99.47, 18.34)],
        crs="EPSG:4326",
    )
    return frame.to_crs(crs)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".fgb"])
def test_round_trip_keeps_thai(conn, tmp_path, suffix):
    ids = build_world(conn)
    src = tmp_path / f"wells{suffix}"
    pyogrio.write_dataframe(_wells(ids["sao"]), src, encoding="UTF-8")
    new = import_file(conn, "water_sources", src)
    assert len(new) == 2
    out = tmp_path / f"out{suffix}"
    assert export_layer(conn, "water_sources", out) == 3
    back = pyogrio.read_dataframe(out)
    assert "บ่อบาดาลบ้านแม่ทะ" in set(back["name_th"])
    assert "ประปาหมู่บ้านสบปราบ" in set(back["name_th"])


def test_import_from_utm_and_indian_1975_is_reprojected(conn, tmp_path):
    ids = build_world(conn)
    for epsg in ("EPSG:32647", "EPSG:24047"):
        src = tmp_path / f"wells_{epsg[5:]}.gpkg"
        pyogrio.write_dataframe(_wells(ids["sao"], epsg), src)
        import_file(conn, "water_sources", src)
    rows = conn.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM water_sources WHERE name_en = 'Ban Mae Tha well'")
    ).all()
    assert len(rows) == 2
    for x, y in rows:  # back where they were, within a metre or so
        assert x == pytest.approx(99.46, abs=2e-5) and y == pytest.approx(18.33, abs=2e-5)


def test_bad_record_refuses_whole_file(conn, tmp_path):
    ids = build_world(conn)
    frame = _wells(ids["sao"])
    frame.loc[1, "kind"] = "magic_spring"
    src = tmp_path / "bad.gpkg"
    pyogrio.write_dataframe(frame, src)
    with pytest.raises(ValidationError, match="record #2: field 'kind'.*magic_spring"):
        import_file(conn, "water_sources", src)
    assert conn.execute(text("SELECT count(*) FROM water_sources")).scalar_one() == 1


def test_file_without_crs_needs_one(conn, tmp_path):
    ids = build_world(conn)
    src = tmp_path / "nocrs.geojson"
    frame = _wells(ids["sao"]).set_crs(None, allow_override=True)
    pyogrio.write_dataframe(frame, src)
    # GeoJSON is CRS84 by definition: GDAL reports WGS 84, so this one imports
    assert len(import_file(conn, "water_sources", src)) == 2
    shp = tmp_path / "nocrs.shp"
    pyogrio.write_dataframe(frame, shp)
    with pytest.raises(GisRegistryError, match="does not declare"):
        import_file(conn, "water_sources", shp)


def test_missing_file_and_unknown_format(conn, tmp_path):
    with pytest.raises(GisRegistryError, match="file not found"):
        import_file(conn, "roads", tmp_path / "nope.gpkg")
    with pytest.raises(GisRegistryError, match="unknown file type"):
        export_layer(conn, "roads", tmp_path / "roads.xyz")
