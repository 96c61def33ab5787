"""Exports: every format keeps Thai text and geometry, references travel as codes, a failed
export leaves nothing behind, and every refusal is one line."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import Point, box
from sqlalchemy import text, update
from typer.testing import CliRunner

from gis_registry.catalog import CATALOG
from gis_registry.db.tables import LAYERS
from gis_registry.errors import GisRegistryError, InvalidParameter, NotFound
from gis_registry.io import export as export_module
from gis_registry.io.export import export_layer, file_columns, parse_bbox, shapefile_fields
from gis_registry.queries.features import insert_features
from tests.fixtures.world import build_world

pytestmark = pytest.mark.db

VILLAGE = "บ้านทดสอบ"
SPATIAL = [".gpkg", ".geojson", ".json", ".fgb", ".shp", ".csv", ".xlsx", ".parquet"]


def _read(path) -> pd.DataFrame:
    """A written file as a frame, geometries as shapely objects, as a reader would open it."""
    suffix = path.suffix
    if suffix == ".csv":
        frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    elif suffix == ".parquet":
        frame = gpd.read_parquet(path)
    else:
        frame = pyogrio.read_dataframe(path)
    if suffix in (".csv", ".xlsx"):  # WKT in a column named after the layer's geometry
        frame["geom"] = shapely.from_wkt(frame["geom"])
    elif "geom" not in frame.columns:
        frame = frame.rename_geometry("geom")
    return frame


@pytest.fixture()
def world(conn):
    return build_world(conn)


# -- formats ---------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", SPATIAL)
def test_every_format_keeps_thai_geometry_and_codes(conn, world, tmp_path, suffix):
    path = tmp_path / f"villages{suffix}"
    assert export_layer(conn, "settlements", path) == 1
    back = _read(path)
    assert back["name_th"].tolist() == [VILLAGE]
    assert back["geom"].iloc[0].equals_exact(Point(99.45, 18.31), 1e-9)
    code = "local_body" if suffix == ".shp" else "local_body_code"  # a .dbf name: 10 characters
    assert str(back[code].iloc[0]) == "520199"
    assert "local_body_id" not in back.columns
    assert int(back["id"].iloc[0]) == world["village"]  # kept for readers


def test_shapefile_says_utf8_and_keeps_field_names_unambiguous(conn, world, tmp_path):
    export_layer(conn, "water_sources", tmp_path / "wells.shp")
    assert (tmp_path / "wells.cpg").read_text().strip().upper() in ("UTF-8", "UTF8")
    fields = pyogrio.read_info(tmp_path / "wells.shp")["fields"]
    assert "households" in fields and "owner_loca" in fields
    for layer, c in CATALOG.items():  # every cut name starts exactly one column of the file
        if not c.spatial:
            continue
        columns = file_columns(layer)
        for cut in shapefile_fields(layer).values():
            assert len(cut) <= 10
            assert len([n for n in columns if n.startswith(cut)]) == 1, (layer, cut)


def test_shapefile_refuses_mixed_geometry(conn, world, tmp_path):
    reservoir = {
        "name_th": "อ่างเก็บน้ำทดสอบ",
        "name_en": "Test reservoir",
        "kind": "reservoir",
        "geom": box(99.46, 18.32, 99.47, 18.33),
    }
    if "code" in LAYERS["water_areas"].c:
        reservoir["code"] = "W-TEST-2"
    insert_features(conn, "water_areas", [reservoir])
    # water_sources: the union of the point, area and line layers (0008)
    with pytest.raises(GisRegistryError, match="one kind of geometry") as info:
        export_layer(conn, "water_sources", tmp_path / "water.shp")
    assert "\n" not in str(info.value) and "water_points, water_areas" in str(info.value)
    assert not list(tmp_path.iterdir())
    assert export_layer(conn, "water_sources", tmp_path / "water.gpkg") == 2


def test_format_limits_are_refused_not_cut(conn, world, tmp_path):
    reservoir = {
        "name_th": "อ่างเก็บน้ำ" * 30,  # 330 characters: 990 bytes of UTF-8
        "name_en": "Big reservoir",
        "kind": "reservoir",
        "geom": Point(99.46, 18.33).buffer(0.005, quad_segs=500),  # 2,000 vertices
    }
    if "code" in LAYERS["water_areas"].c:
        reservoir["code"] = "W-TEST-3"
    (new,) = insert_features(conn, "water_areas", [reservoir])
    where = f"id = {new}"
    with pytest.raises(GisRegistryError, match=rf"record {new}: field 'geom' .* Excel cell"):
        export_layer(conn, "water_sources", tmp_path / "big.xlsx", where=where)
    with pytest.raises(GisRegistryError, match=rf"record {new}: field 'name_th' .*\(254\)"):
        export_layer(conn, "water_sources", tmp_path / "big.shp", where=where)
    assert not list(tmp_path.iterdir())
    assert export_layer(conn, "water_sources", tmp_path / "big.csv", where=where) == 1
    back = pd.read_csv(tmp_path / "big.csv", encoding="utf-8-sig")
    assert back["name_th"].iloc[0] == reservoir["name_th"]
    stored = shapely.MultiPolygon([reservoir["geom"]])  # water_areas holds MultiPolygons
    assert shapely.from_wkt(back["geom"].iloc[0]).equals_exact(stored, 1e-12)


def test_csv_is_not_header_only_and_its_wkt_parses(conn, world, tmp_path):
    # the old export wrote the header, then failed on the first geometry (GDAL's CSV driver
    # has no geometry field unless asked), and left the header-only file behind
    path = tmp_path / "wells.csv"
    assert export_layer(conn, "water_sources", path) == 1
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs for UTF-8
    rows = pd.read_csv(path, encoding="utf-8-sig")
    assert len(rows) == 1 and rows.columns[0] == "id"
    assert rows["name_th"].iloc[0] == "บ่อบาดาลหมู่ 1"
    assert shapely.from_wkt(rows["geom"].iloc[0]).equals(Point(99.452, 18.312))
    assert rows["owner_local_body_code"].astype(str).iloc[0] == "520199"
    # GDAL (QGIS, the importer) skips the mark too
    assert pyogrio.read_dataframe(path).columns[0] == "id"


def test_second_geometry_is_wkt_and_primary_keeps_its_name(conn, world, tmp_path):
    path = tmp_path / "lgos.gpkg"
    assert export_layer(conn, "local_bodies", path) == 2
    assert pyogrio.read_info(path)["geometry_name"] == "boundary"
    back = pyogrio.read_dataframe(path)
    offices = dict(zip(back["code"], back["office"], strict=True))
    assert shapely.from_wkt(offices["520199"]).equals(Point(99.45, 18.30))
    assert "องค์การบริหารส่วนตำบลทดสอบ" in set(back["name_th"])


def test_references_are_written_as_codes(conn, world, tmp_path):
    roads, rivers = LAYERS["roads"], LAYERS["rivers"]
    if "segment" in roads.c:
        conn.execute(update(roads).values(segment=1))
    if "code" in rivers.c:
        conn.execute(update(rivers).values(code="R-WANG"))
    path = tmp_path / "bridges.gpkg"
    export_layer(conn, "bridges", path)
    back = pyogrio.read_dataframe(path)
    assert back["road_code"].tolist() == ["ลป.ถ. 1-0001"]
    if "segment" in roads.c:
        assert back["road_segment"].tolist() == [1]
        assert "road_id" not in back.columns
    if "code" in rivers.c:
        assert back["river_code"].tolist() == ["R-WANG"]
        assert "river_id" not in back.columns
    roads_out = tmp_path / "roads.geojson"
    export_layer(conn, "roads", roads_out)
    assert pyogrio.read_dataframe(roads_out)["owner_local_body_code"].tolist() == ["52"]


def test_layer_without_geometry_goes_to_tables(conn, world, tmp_path):
    inspection = {
        "road_id": world["road"],
        "inspected_on": dt.date(2026, 3, 1),
        "condition_score": 3.5,
        "condition_scale": "iri_m_per_km",
        "method": "iri_survey",
        "inspector": "นายช่างทดสอบ",
    }
    if "code" in LAYERS["inspections"].c:
        inspection["code"] = "I-TEST-1"
    insert_features(conn, "inspections", [inspection])
    csv_path, xlsx_path, gpkg_path = (tmp_path / f"insp.{s}" for s in ("csv", "xlsx", "gpkg"))
    for path in (csv_path, xlsx_path, gpkg_path):
        assert export_layer(conn, "inspections", path) == 1
    rows = pd.read_csv(csv_path, encoding="utf-8-sig")
    assert rows["inspector"].tolist() == ["นายช่างทดสอบ"]
    assert rows["inspected_on"].tolist() == ["2026-03-01"]  # a date, not a midnight
    assert rows["condition_score"].tolist() == [3.5]  # a Decimal in the database
    assert rows["road_code"].tolist() == ["ลป.ถ. 1-0001"]
    for path in (xlsx_path, gpkg_path):
        info = pyogrio.read_info(path)
        assert info["geometry_type"] is None
        types = dict(zip(info["fields"], info["ogr_types"], strict=True))
        assert types["inspected_on"] == "OFTDate"
        assert types["condition_score"] == "OFTReal"
        assert pyogrio.read_dataframe(path)["inspector"].tolist() == ["นายช่างทดสอบ"]
    for suffix in (".geojson", ".fgb", ".shp"):
        with pytest.raises(GisRegistryError, match="has no geometry.*csv, .xlsx, .gpkg"):
            export_layer(conn, "inspections", tmp_path / f"insp{suffix}")


def test_timestamps_are_thai_local_time(conn, world, tmp_path):
    path = tmp_path / "wells.gpkg"
    export_layer(conn, "water_sources", path)
    written = pyogrio.read_dataframe(path)["created_at"].iloc[0]
    stored = conn.execute(
        text("SELECT created_at AT TIME ZONE 'Asia/Bangkok' FROM water_sources")
    ).scalar_one()
    assert written.to_pydatetime().replace(microsecond=0) == stored.replace(microsecond=0)


# -- filters and CRS -------------------------------------------------------------------------
def test_bbox_where_and_crs(conn, world, tmp_path):
    inside = export_layer(
        conn, "settlements", tmp_path / "in.gpkg", bbox=parse_bbox("99.4,18.3,99.5,18.4")
    )
    outside = export_layer(
        conn, "settlements", tmp_path / "out.gpkg", bbox=parse_bbox("99.55,18.2,99.6,18.25")
    )
    assert (inside, outside) == (1, 0)
    assert export_layer(conn, "settlements", tmp_path / "w.csv", where="households > 100") == 1
    assert export_layer(conn, "settlements", tmp_path / "n.csv", where="households > 500") == 0
    utm = tmp_path / "utm.gpkg"
    export_layer(conn, "local_bodies", utm, crs="EPSG:32647")
    back = pyogrio.read_dataframe(utm)
    assert back.crs.to_epsg() == 32647
    office = shapely.from_wkt(back["office"].iloc[0])  # the second geometry reprojected too
    assert 500_000 < office.x < 600_000 and 2_000_000 < office.y < 2_100_000


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("99.4,18.2,99.6", "minlon,minlat,maxlon,maxlat"),
        ("a,b,c,d", "minlon,minlat,maxlon,maxlat"),
        ("99.4,18.4,99.6,18.2", "lower latitude"),
        ("99.4,18.2,199.6,18.4", "longitudes"),
    ],
)
def test_bad_bbox_is_refused(text, needle):
    with pytest.raises(InvalidParameter, match=needle) as info:
        parse_bbox(text)
    assert "\n" not in str(info.value) and "bbox" in str(info.value)


def test_bad_where_crs_layer_and_extension(conn, world, tmp_path):
    with pytest.raises(InvalidParameter, match="parameter 'where'") as info:
        export_layer(conn, "settlements", tmp_path / "x.gpkg", where="households >> 3")
    assert "\n" not in str(info.value)
    with pytest.raises(InvalidParameter, match="not a queryable"):
        export_layer(conn, "settlements", tmp_path / "x.gpkg", where="nonsense = 1")
    with pytest.raises(InvalidParameter, match="'EPSG:999999' is not a known"):
        export_layer(conn, "settlements", tmp_path / "x.gpkg", crs="EPSG:999999")
    with pytest.raises(InvalidParameter, match="no geometry"):
        export_layer(conn, "inspections", tmp_path / "x.csv", crs="EPSG:32647")
    with pytest.raises(NotFound, match="unknown layer 'wells'"):
        export_layer(conn, "wells", tmp_path / "x.gpkg")
    with pytest.raises(GisRegistryError, match=r"'\.kml'.*\.gpkg.*\.csv.*\.parquet"):
        export_layer(conn, "settlements", tmp_path / "x.kml")
    assert not list(tmp_path.iterdir())


# -- files -----------------------------------------------------------------------------------
def test_existing_file_needs_overwrite_which_replaces_it(conn, world, tmp_path):
    path = tmp_path / "villages.gpkg"
    export_layer(conn, "settlements", path)
    with pytest.raises(GisRegistryError, match="exists.*--overwrite"):
        export_layer(conn, "water_sources", path)
    journal = tmp_path / "villages.gpkg-wal"
    journal.write_bytes(b"stale")  # SQLite would replay it into the new file
    export_layer(conn, "water_sources", path, overwrite=True)
    assert pyogrio.list_layers(path)[:, 0].tolist() == ["water_sources"]  # not a layer added
    assert not journal.exists()


def test_shapefile_overwrite_replaces_every_sidecar(conn, world, tmp_path):
    path = tmp_path / "wells.shp"
    (tmp_path / "wells.dbf").write_bytes(b"stale")
    with pytest.raises(GisRegistryError, match="wells.dbf exists"):
        export_layer(conn, "water_sources", path)
    (tmp_path / "wells.qix").write_bytes(b"stale index")
    export_layer(conn, "water_sources", path, overwrite=True)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["wells.cpg", "wells.dbf", "wells.prj", "wells.shp", "wells.shx"]
    assert pyogrio.read_dataframe(path)["name_th"].tolist() == ["บ่อบาดาลหมู่ 1"]


def test_failed_export_leaves_no_file(conn, world, tmp_path, monkeypatch):
    def half_written(frame, tmp):
        tmp.write_text("id,name_th\n", encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_module, "_write_csv", half_written)
    path = tmp_path / "wells.csv"
    with pytest.raises(GisRegistryError, match="cannot write .*wells.csv: No space left"):
        export_layer(conn, "water_sources", path)
    assert not list(tmp_path.iterdir())  # neither the file nor the temporary folder
    path.write_text("the old export\n", encoding="utf-8")
    with pytest.raises(GisRegistryError):
        export_layer(conn, "water_sources", path, overwrite=True)
    assert path.read_text(encoding="utf-8") == "the old export\n"  # untouched


def test_missing_folders_are_made_and_unwritable_paths_are_one_line(
    conn, world, tmp_path, monkeypatch
):
    nested = tmp_path / "a" / "b" / "wells.fgb"
    assert export_layer(conn, "water_sources", nested) == 1
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(GisRegistryError, match="cannot create the folder .*file.txt") as info:
        export_layer(conn, "water_sources", blocker / "wells.gpkg")
    assert "\n" not in str(info.value)
    (tmp_path / "folder.gpkg").mkdir()
    with pytest.raises(GisRegistryError, match="folder.gpkg: it is a folder"):
        export_layer(conn, "water_sources", tmp_path / "folder.gpkg", overwrite=True)

    def denied(*args, **kwargs):  # tests run as root, where chmod denies nothing
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(export_module.tempfile, "mkdtemp", denied)
    with pytest.raises(GisRegistryError, match="cannot write .*wells.gpkg: Permission denied"):
        export_layer(conn, "water_sources", tmp_path / "wells.gpkg")


def test_parquet_without_pyarrow_says_so(conn, world, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(GisRegistryError, match="needs pyarrow"):
        export_layer(conn, "water_sources", tmp_path / "wells.parquet")
    assert not list(tmp_path.iterdir())


# -- the command -----------------------------------------------------------------------------
@pytest.fixture()
def cli(engine, monkeypatch):
    """``gis-registry ...`` on the (committed, empty) test database."""
    from gis_registry.cli import app

    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", engine.url.render_as_string(False))
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def _one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_cli_writes_and_refuses_in_one_line(cli, tmp_path):
    path = tmp_path / "villages.gpkg"
    ok = cli("export", "settlements", str(path))
    assert ok.exit_code == 0, ok.output
    assert f"wrote 0 settlements to {path}" in ok.output
    assert "exists" in _one_error_line(cli("export", "settlements", str(path)))
    assert cli("export", "settlements", str(path), "--overwrite").exit_code == 0
    out = str(tmp_path / "x.gpkg")
    cases = [
        (("--bbox", "99.4,18.2"), "minlon,minlat,maxlon,maxlat"),
        (("--where", "name_th ="), "where"),
        (("--crs", "EPSG:999999"), "EPSG:999999"),
    ]
    for options, needle in cases:
        assert needle in _one_error_line(cli("export", "settlements", out, *options))
    assert ".gpkg" in _one_error_line(cli("export", "settlements", str(tmp_path / "x.dwg")))
    assert "unknown layer" in _one_error_line(cli("export", "wells", out))
    assert "no geometry" in _one_error_line(
        cli("export", "zoning_categories", str(tmp_path / "x.fgb"))
    )
    assert not (tmp_path / "x.gpkg").exists()
