"""The import corpus of issue 12: real and broken files in, each with its expected outcome.

Every file is generated in the test (tmp_path, see ``tests/db/import_corpus.py``). An import
commits its own transaction, so this module works in two throw-away databases of its own:

- ``lampang``: the real COD-AB province, districts and tambons (100 SAOs + the PAO), where the
  hand-written files (wells, roads, hazards, inspections ...) are imported;
- ``boundary_db``: the province and districts only; each tambon test loads the 100 tambons in
  some format and the ``no_tambons`` fixture clears them again.

Every refusal is checked to leave the layer (count and checksum of its rows) and the
``data_loads`` provenance table exactly as they were.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, Point, Polygon
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from gis_registry.errors import GisRegistryError
from gis_registry.io.load import ImportOptions, ImportResult, import_file, write_report
from gis_registry.io.mapping import FieldMapping
from tests.db.import_corpus import (
    BOUNDARIES,
    ROOT,
    SAO_PREFIX,
    big_wells_csv,
    boundaries,
    cod_ab_mapping,
    geodesic_km2,
    geojson_with_raw_coordinates,
    near_city,
    truncate,
    undefine_gpkg_srs,
    wells,
    wells_csv,
    write_csv,
)

pytestmark = pytest.mark.db

BAN_BOM = "521005"  # TH521005, ตำบลบ้านบอม, อำเภอแม่ทะ


# --- databases ----------------------------------------------------------------------------------


@contextmanager
def _database(settings, suffix: str) -> Iterator[tuple[str, Engine]]:
    """A fresh migrated database of this module, dropped at the end whatever happens."""
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database

    url = create_test_database(settings, suffix=suffix)
    engine = make_engine(settings, url=url)
    try:
        upgrade(engine)
        yield url, engine
    finally:
        engine.dispose()
        drop_test_database(url)


_COD_AB = {  # level: (file, layer)
    "province": ("province.geojson", "local_bodies"),
    "districts": ("districts.geojson", "districts"),
    "tambons": ("tambons.geojson", "local_bodies"),
}


def _load_cod_ab(engine: Engine, *levels: str) -> dict[str, ImportResult]:
    """The shipped boundaries through the shipped mappings, in the order given."""
    results = {}
    for level in levels:
        name, layer = _COD_AB[level]
        options = ImportOptions(mapping=cod_ab_mapping(level))
        results[level] = import_file(engine, layer, BOUNDARIES / name, options)
    return results


@pytest.fixture(scope="module")
def lampang(settings):
    """A registry holding the real province, 13 districts and 100 tambon SAOs (committed)."""
    with _database(settings, "_corpus_test") as (url, engine):
        loads = _load_cod_ab(engine, "province", "districts", "tambons")
        for result in loads.values():
            assert result.written and not result.problems, result.lines()
        yield SimpleNamespace(url=url, engine=engine)


@pytest.fixture(scope="module")
def boundary_db(settings):
    """A registry with the province and the districts only: the tambons are the tests' job."""
    with _database(settings, "_corpus_tambons_test") as (url, engine):
        loads = _load_cod_ab(engine, "province", "districts")
        for result in loads.values():
            assert result.written and not result.problems, result.lines()
        yield SimpleNamespace(url=url, engine=engine, loads=loads)


def _clear_tambons(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM local_bodies WHERE kind <> 'pao'"))


@pytest.fixture()
def no_tambons(boundary_db):
    """``boundary_db`` without any LGO but the PAO, before and after the test."""
    _clear_tambons(boundary_db.engine)
    yield boundary_db.engine
    _clear_tambons(boundary_db.engine)


# --- helpers ------------------------------------------------------------------------------------


def snapshot(engine: Engine, layer: str) -> dict[str, Any]:
    """Count and checksum of every row of ``layer``, and of ``data_loads``."""
    out = {}
    with engine.connect() as conn:
        for table in (layer, "data_loads"):
            out[table] = tuple(
                conn.execute(
                    text(
                        "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text),"
                        f" '')) FROM {table} t"
                    )
                ).one()
            )
    return out


def load(engine: Engine, layer: str, path: Path, **options: Any) -> ImportResult:
    """Import a file that must go in whole."""
    result = import_file(engine, layer, path, ImportOptions(**options))
    assert result.written and not result.problems, result.lines()
    return result


def refuse_file(engine: Engine, layer: str, path: Path, match: str, **options: Any) -> str:
    """Import a file that cannot be read truthfully: one-line GisRegistryError, nothing stored."""
    before = snapshot(engine, layer)
    with pytest.raises(GisRegistryError) as info:
        import_file(engine, layer, path, ImportOptions(**options))
    message = str(info.value)
    assert re.search(match, message), message
    assert "\n" not in message, message
    assert snapshot(engine, layer) == before
    return message


def refuse_records(engine: Engine, layer: str, path: Path, **options: Any) -> ImportResult:
    """Import a file with problems: reported, nothing written, the layer as it was."""
    before = snapshot(engine, layer)
    result = import_file(engine, layer, path, ImportOptions(**options))
    assert result.problems and not result.written, result.lines()
    assert snapshot(engine, layer) == before
    return result


def said(result: ImportResult) -> str:
    return "\n".join(result.lines())


def rows(engine: Engine, query: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(query), params).mappings())


def check_tambons(engine: Engine) -> None:
    """The 100 SAOs as the COD-AB file says: codes, Thai names, geodesic areas, offices."""
    truth = boundaries("tambons")
    got = {
        r["code"]: r
        for r in rows(
            engine,
            "SELECT code, tambon_code, district_code, kind, name_th, name_en, area_km2,"
            " ST_AsBinary(office) AS office, ST_Covers(boundary, office) AS covers"
            " FROM local_bodies WHERE kind <> 'pao'",
        )
    }
    assert len(truth) == 100 and len(got) == 100
    assert rows(engine, "SELECT count(*) AS n FROM local_bodies WHERE kind = 'pao'")[0]["n"] == 1
    wrong = []
    for tambon in truth.itertuples():
        dopa = tambon.ADM3_PCODE.removeprefix("TH")
        row = got[dopa]
        office = shapely.from_wkb(bytes(row["office"]))
        expected_km2 = geodesic_km2(tambon.geometry)
        checks = {
            "code": row["code"] == row["tambon_code"] == dopa,
            "district": row["district_code"] == tambon.ADM2_PCODE.removeprefix("TH"),
            "kind": row["kind"] == "sao",
            "name_th": row["name_th"] == SAO_PREFIX + tambon.ADM3_TH,
            "name_en": row["name_en"].startswith(tambon.ADM3_EN),
            "area": abs(row["area_km2"] - expected_km2) <= 1e-3 * expected_km2,
            "office in boundary": bool(row["covers"]),
            "office in tambon": tambon.geometry.buffer(1e-9).covers(office),
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            wrong.append((dopa, bad, row["name_th"], row["area_km2"], expected_km2))
    assert not wrong, wrong[:5]
    assert got[BAN_BOM]["name_th"] == "องค์การบริหารส่วนตำบลบ้านบอม"


# --- 1-3: the real tambons in three formats -----------------------------------------------------


def test_cod_ab_province_districts_tambons_load_exactly(boundary_db, no_tambons):
    engine = no_tambons
    province, districts = boundary_db.loads["province"], boundary_db.loads["districts"]
    assert (province.inserted, districts.inserted) == (1, 13)
    assert "ADM0_PCODE" in said(province) and "ignored" in said(province)

    tambons = _load_cod_ab(engine, "tambons")["tambons"]
    assert tambons.written and not tambons.problems, tambons.lines()
    assert (tambons.read, tambons.inserted) == (100, 100)
    check_tambons(engine)

    pao = rows(engine, "SELECT code, name_th, area_km2 FROM local_bodies WHERE kind = 'pao'")[0]
    truth = boundaries("province").iloc[0]
    assert pao["code"] == "52" and pao["name_th"] == "องค์การบริหารส่วนจังหวัดลำปาง"
    assert pao["area_km2"] == pytest.approx(geodesic_km2(truth.geometry), rel=1e-3)
    stored = {r["code"]: r for r in rows(engine, "SELECT code, name_th, area_km2 FROM districts")}
    for district in boundaries("districts").itertuples():
        row = stored[district.ADM2_PCODE.removeprefix("TH")]
        assert row["name_th"] == district.ADM2_TH
        assert row["area_km2"] == pytest.approx(geodesic_km2(district.geometry), rel=1e-3)
    (loaded,) = rows(
        engine,
        "SELECT source, layer, mode, inserted FROM data_loads WHERE path LIKE '%tambons.geojson'",
    )
    assert dict(loaded) == {
        "source": "import",
        "layer": "local_bodies",
        "mode": "append",
        "inserted": 100,
    }


@pytest.mark.parametrize(
    "geometry_name",
    [
        "geometry",
        pytest.param(
            None,
            id="geom",
        ),
    ],
)
def test_tambons_as_geopackage_in_utm_47n(no_tambons, tmp_path, geometry_name):
    path = tmp_path / "tambons.gpkg"
    options = {"GEOMETRY_NAME": geometry_name} if geometry_name else {}
    pyogrio.write_dataframe(boundaries("tambons").to_crs("EPSG:32647"), path, **options)
    assert pyogrio.read_info(path)["crs"] == "EPSG:32647"
    result = load(no_tambons, "local_bodies", path, mapping=cod_ab_mapping("tambons"))
    assert result.inserted == 100
    check_tambons(no_tambons)


def _cp874_shapefile(tmp_path: Path, *, cpg: bool) -> Path:
    path = tmp_path / "tambons.shp"
    frame = boundaries("tambons").to_crs("EPSG:24047")
    pyogrio.write_dataframe(frame, path, encoding="cp874")
    assert path.with_suffix(".cpg").read_text().strip().upper() in ("CP874", "874")
    assert "บ้านบอม".encode("cp874") in path.with_suffix(".dbf").read_bytes()  # really TIS-620
    if not cpg:
        path.with_suffix(".cpg").unlink()
    return path


def test_tambons_as_indian_1975_shapefile_with_cpg(no_tambons, tmp_path):
    path = _cp874_shapefile(tmp_path, cpg=True)
    assert pyogrio.read_info(path)["crs"] == "EPSG:24047"
    result = load(no_tambons, "local_bodies", path, mapping=cod_ab_mapping("tambons"))
    assert result.inserted == 100
    check_tambons(no_tambons)


def test_shapefile_without_cpg_is_really_misread_as_latin_1(tmp_path):
    """The premise of the encoding rule: GDAL reads a DBF without .cpg as ISO-8859-1."""
    path = _cp874_shapefile(tmp_path, cpg=False)
    assert pyogrio.read_info(path)["encoding"] == "ISO-8859-1"
    names = set(pyogrio.read_dataframe(path, columns=["ADM3_TH"])["ADM3_TH"])
    assert "บ้านบอม".encode("cp874").decode("latin-1") in names  # 'º้าน...' mojibake
    assert "บ้านบอม" not in names


def test_tambons_shapefile_without_cpg_is_refused_naming_cp874(no_tambons, tmp_path):
    path = _cp874_shapefile(tmp_path, cpg=False)
    refuse_file(
        no_tambons,
        "local_bodies",
        path,
        "--encoding cp874",
        mapping=cod_ab_mapping("tambons"),
    )
    assert rows(no_tambons, "SELECT count(*) AS n FROM local_bodies")[0]["n"] == 1  # the PAO


def test_tambons_shapefile_without_cpg_imports_with_encoding_cp874(no_tambons, tmp_path):
    path = _cp874_shapefile(tmp_path, cpg=False)
    result = load(
        no_tambons, "local_bodies", path, mapping=cod_ab_mapping("tambons"), encoding="cp874"
    )
    assert result.inserted == 100
    check_tambons(no_tambons)


def test_wrong_crs_for_a_declared_one_needs_crs_override(no_tambons, tmp_path):
    path = _cp874_shapefile(tmp_path, cpg=True)
    mapping = cod_ab_mapping("tambons")
    message = refuse_file(
        no_tambons, "local_bodies", path, "--crs-override", mapping=mapping, crs="EPSG:32647"
    )
    assert "EPSG:24047" in message and "EPSG:32647" in message

    result = load(
        no_tambons,
        "local_bodies",
        path,
        mapping=mapping,
        crs="EPSG:32647",
        crs_override=True,
    )
    assert any("24047" in n and "32647" in n for n in result.notes), result.notes
    # the Indian 1975 numbers taken as WGS 84 moved every tambon by a few hundred metres
    tambon = boundaries("tambons").set_index("ADM3_PCODE").loc["TH" + BAN_BOM, "geometry"]
    (moved,) = rows(
        no_tambons,
        "SELECT ST_Distance(ST_Centroid(boundary)::geography,"
        " ST_GeomFromText(:truth, 4326)::geography) AS m FROM local_bodies WHERE code = :code",
        truth=tambon.centroid.wkt,
        code=BAN_BOM,
    )
    assert 100 < moved["m"] < 1000


# --- 4-6: coordinates and CRSs ------------------------------------------------------------------


def test_utm_numbers_in_a_geojson_are_refused_naming_epsg_32647(lampang, tmp_path):
    path = geojson_with_raw_coordinates(
        tmp_path / "wells_utm.geojson", wells(["W-UTM1", "W-UTM2"]).to_crs("EPSG:32647")
    )
    message = refuse_file(lampang.engine, "water_sources", path, "EPSG:32647")
    assert "--crs" in message and "impossible" in message


def test_shapefile_without_prj_needs_crs(lampang, tmp_path):
    path = tmp_path / "wells.shp"
    pyogrio.write_dataframe(wells(["W-PRJ1", "W-PRJ2"]).to_crs("EPSG:32647"), path)
    path.with_suffix(".prj").unlink()
    refuse_file(lampang.engine, "water_sources", path, r"does not declare.*--crs")

    result = load(lampang.engine, "water_sources", path, crs="EPSG:32647")
    assert result.inserted == 2
    (first,) = rows(
        lampang.engine,
        "SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM water_sources WHERE code = 'W-PRJ1'",
    )
    assert (first["x"], first["y"]) == pytest.approx(near_city(0).coords[0], abs=1e-6)


def test_geopackage_with_undefined_srs_needs_crs(lampang, tmp_path):
    path = tmp_path / "wells.gpkg"
    pyogrio.write_dataframe(wells(["W-GP1", "W-GP2"]).to_crs("EPSG:32647"), path)
    undefine_gpkg_srs(path)
    assert "Undefined" in pyogrio.read_info(path)["crs"]
    refuse_file(lampang.engine, "water_sources", path, "does not declare")

    result = load(lampang.engine, "water_sources", path, crs="EPSG:32647")
    assert result.inserted == 2
    (second,) = rows(
        lampang.engine,
        "SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM water_sources WHERE code = 'W-GP2'",
    )
    assert (second["x"], second["y"]) == pytest.approx(near_city(1).coords[0], abs=1e-6)


def test_geojson_declaring_utm_47n_is_honoured(lampang, tmp_path):
    """An old-style GeoJSON (GDAL writes a "crs" member) in UTM: reprojected, not refused."""
    path = tmp_path / "wells_utm.geojson"
    pyogrio.write_dataframe(wells(["W-GJ1"]).to_crs("EPSG:32647"), path)
    assert "32647" in path.read_text(encoding="utf-8")[:300]
    load(lampang.engine, "water_sources", path)
    (well,) = rows(
        lampang.engine,
        "SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM water_sources WHERE code = 'W-GJ1'",
    )
    assert (well["x"], well["y"]) == pytest.approx(near_city(0).coords[0], abs=1e-6)


def test_one_record_with_latitude_and_longitude_swapped(lampang, tmp_path):
    path = write_csv(
        tmp_path / "wells.csv",
        ["code", "name_th", "name_en", "kind", "lon", "lat"],
        [
            ["W-SW1", "บ่อตื้น", "shallow well", "shallow_well", "99.49", "18.29"],
            ["W-SW2", "บ่อตื้น", "shallow well", "shallow_well", "18.30", "99.50"],
            ["W-SW3", "บ่อตื้น", "shallow well", "shallow_well", "99.50", "18.30"],
        ],
    )
    result = refuse_records(lampang.engine, "water_sources", path)
    (problem,) = result.problems
    assert (problem.record, problem.field) == (2, "geom")
    assert "latitude, longitude" in problem.rule


def test_lat_lon_columns_swapped_throughout_is_refused_as_swapped(lampang, tmp_path):
    path = write_csv(
        tmp_path / "wells.csv",
        ["code", "name_th", "name_en", "kind", "lon", "lat"],
        [[f"W-SWA{i}", "บ่อตื้น", "shallow well", "shallow_well", "18.29", "99.49"] for i in range(3)],
    )
    message = refuse_file(lampang.engine, "water_sources", path, r"(?i)swapped|latitude")
    assert "--crs-override" not in message


def test_tis_620_csv_needs_encoding_cp874(lampang, tmp_path):
    path = tmp_path / "wells.csv"
    path.write_bytes(
        "code,name_th,name_en,kind,lon,lat\n"
        "W-TIS1,บ่อบาดาลบ้านบอม,Ban Bom well,groundwater_well,99.49,18.29\n".encode("cp874")
    )
    refuse_file(lampang.engine, "water_sources", path, "--encoding cp874")
    load(lampang.engine, "water_sources", path, encoding="cp874")
    (well,) = rows(lampang.engine, "SELECT name_th FROM water_sources WHERE code = 'W-TIS1'")
    assert well["name_th"] == "บ่อบาดาลบ้านบอม"


# --- 7-9: geometries ----------------------------------------------------------------------------

_ROAD = {
    "name_th": "ถนนสายบ้านบอม",
    "name_en": "Ban Bom road",
    "road_class": "local",
    "surface": "asphalt",
}


def _roads(codes: list[tuple[str, int]], geoms: list[Any]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": [c for c, _ in codes],
            "segment": [s for _, s in codes],
            **{k: [v] * len(codes) for k, v in _ROAD.items()},
        },
        geometry=geoms,
        crs="EPSG:4326",
    )


def _line(i: int) -> LineString:
    x, y = near_city(i).coords[0]
    return LineString([(x, y), (x + 0.005, y + 0.001)])


def test_water_sources_take_points_polygons_and_lines(lampang, tmp_path):
    x, y = near_city(10).coords[0]
    frame = wells(["W-MIX1", "W-MIX2", "W-MIX3"], kind=["groundwater_well", "reservoir", "canal"])
    frame = frame.set_geometry(
        [
            Point(x, y),
            Polygon([(x, y), (x + 0.01, y), (x + 0.01, y + 0.01), (x, y + 0.01)]),
            LineString([(x, y), (x + 0.02, y + 0.01)]),
        ],
        crs="EPSG:4326",
    )
    path = tmp_path / "mixed.gpkg"
    pyogrio.write_dataframe(frame, path, geometry_type="Unknown")
    result = load(lampang.engine, "water_sources", path)
    assert result.inserted == 3
    # each to the table of its geometry type (0008), in one import, counted per table
    assert {p.layer: p.inserted for p in result.parts} == {
        "water_points": 1,
        "water_areas": 1,
        "water_lines": 1,
    }
    assert result.to_dict()["layers"]["water_areas"]["inserted"] == 1
    stored = {
        table: rows(
            lampang.engine,
            f"SELECT code, GeometryType(geom) AS t FROM {table} WHERE code LIKE 'W-MIX%'",
        )
        for table in ("water_points", "water_areas", "water_lines")
    }
    assert {t: [(r["code"], r["t"]) for r in found] for t, found in stored.items()} == {
        "water_points": [("W-MIX1", "POINT")],
        "water_areas": [("W-MIX2", "MULTIPOLYGON")],  # a Polygon is promoted
        "water_lines": [("W-MIX3", "LINESTRING")],
    }


def test_a_line_is_refused_by_the_water_points_layer_naming_its_layer(lampang, tmp_path):
    x, y = near_city(11).coords[0]
    frame = wells(["W-LINE1"]).set_geometry([LineString([(x, y), (x + 0.01, y)])], crs=4326)
    path = tmp_path / "line.geojson"
    frame.to_file(path)
    result = refuse_records(lampang.engine, "water_points", path)
    ((problem),) = result.problems
    assert problem.record == 1 and problem.field == "geom"
    assert "LineString" in problem.rule and "water_lines" in problem.rule


def test_a_mixed_file_refused_in_one_part_writes_no_part(lampang, tmp_path):
    x, y = near_city(12).coords[0]
    frame = wells(["W-ALL1", "W-ALL2"], kind=["groundwater_well", "nonsense"])
    frame = frame.set_geometry([Point(x, y), LineString([(x, y), (x + 0.01, y)])], crs="EPSG:4326")
    path = tmp_path / "mixed.geojson"
    frame.to_file(path)
    result = refuse_records(lampang.engine, "water_sources", path)
    ((problem),) = result.problems
    assert problem.record == 2 and problem.field == "kind"
    assert not rows(lampang.engine, "SELECT code FROM water_sources WHERE code LIKE 'W-ALL%'")


def test_roads_refuse_a_point_naming_the_record(lampang, tmp_path):
    path = tmp_path / "roads.geojson"
    frame = _roads([("ลป.ถ. 1-0101", 1), ("ลป.ถ. 1-0101", 2)], [_line(0), near_city(1)])
    pyogrio.write_dataframe(frame, path)
    result = refuse_records(lampang.engine, "roads", path)
    (problem,) = result.problems
    assert (problem.record, problem.field) == (2, "geom")
    assert "geometry type" in problem.rule and "Point" in problem.rule
    assert "segment=2" in (problem.key or "")
    assert "#2" in said(result)


def test_multipart_road_lines(lampang, tmp_path):
    two_parts = MultiLineString([_line(0).coords, _line(3).coords])
    one_part = MultiLineString([_line(5).coords])
    path = tmp_path / "roads.geojson"
    pyogrio.write_dataframe(
        _roads([("ลป.ถ. 1-0102", 1), ("ลป.ถ. 1-0102", 2)], [one_part, two_parts]), path
    )
    result = refuse_records(lampang.engine, "roads", path)
    (problem,) = result.problems
    assert (problem.record, problem.field) == (2, "geom")
    assert "MultiLineString" in problem.rule

    path = tmp_path / "roads_single.geojson"
    pyogrio.write_dataframe(_roads([("ลป.ถ. 1-0102", 1)], [one_part]), path)
    assert load(lampang.engine, "roads", path).inserted == 1
    (road,) = rows(
        lampang.engine, "SELECT ST_AsText(geom) AS g FROM roads WHERE code = 'ลป.ถ. 1-0102'"
    )
    assert road["g"].startswith("LINESTRING")


def _square(i: int, size: float = 0.004) -> Polygon:
    x, y = near_city(i).coords[0]
    return Polygon([(x, y), (x + size, y), (x + size, y + size), (x, y + size)])


def _bow_tie(i: int) -> Polygon:
    x, y = near_city(i).coords[0]
    return Polygon([(x, y), (x + 0.004, y + 0.004), (x + 0.004, y), (x, y + 0.004)])


def test_bow_tie_hazard_area_is_refused_as_invalid(lampang, tmp_path):
    frame = gpd.GeoDataFrame(
        {
            "code": ["HZ-BT1", "HZ-BT2", "HZ-BT3"],
            "name_th": ["พื้นที่น้ำท่วมบ้านบอม"] * 3,
            "name_en": ["Ban Bom flood area"] * 3,
            "hazard_type": ["flood"] * 3,
            "severity": ["high"] * 3,
        },
        geometry=[_square(0), _square(2), _bow_tie(4)],
        crs="EPSG:4326",
    )
    path = tmp_path / "hazards.gpkg"
    pyogrio.write_dataframe(frame, path)
    result = refuse_records(lampang.engine, "hazard_areas", path)
    (problem,) = result.problems
    assert problem.record == 3 and problem.key == "code=HZ-BT3"
    assert "invalid" in problem.rule
    assert "#3" in said(result)


def test_bow_tie_zone_is_refused_as_invalid(lampang, tmp_path):
    plan = write_csv(
        tmp_path / "plan.csv",
        ["code", "name_th", "name_en", "effective_date"],
        [["ZP-BB", "ผังเมืองรวมชุมชนบ้านบอม", "Ban Bom comprehensive plan", "2568-01-15"]],
    )
    load(lampang.engine, "zoning_plans", plan)
    zones = gpd.GeoDataFrame(
        {
            "code": ["ZZ-BB1", "ZZ-BB2"],
            "plan_code": ["ZP-BB", "ZP-BB"],
            "land_use_code": ["ย.1", "พ.1"],
            "category": ["low_density_residential", "commercial"],
        },
        geometry=[_bow_tie(6), _square(8)],
        crs="EPSG:4326",
    )
    path = tmp_path / "zones.geojson"
    pyogrio.write_dataframe(zones, path)
    result = refuse_records(lampang.engine, "zoning_zones", path)
    (problem,) = result.problems
    assert problem.record == 1 and "invalid" in problem.rule

    path = tmp_path / "zones_valid.geojson"
    pyogrio.write_dataframe(zones.iloc[[1]], path)
    assert load(lampang.engine, "zoning_zones", path).inserted == 1
    (zone,) = rows(
        lampang.engine,
        "SELECT p.code FROM zoning_zones z JOIN zoning_plans p ON p.id = z.plan_id"
        " WHERE z.code = 'ZZ-BB2'",
    )
    assert zone["code"] == "ZP-BB"


# --- 10-12: keys and records --------------------------------------------------------------------


def test_duplicate_key_in_the_file(lampang, tmp_path):
    path = wells_csv(tmp_path / "dup.csv", ["W-DUP1", "W-DUP2", "W-DUP1"])
    result = refuse_records(lampang.engine, "water_sources", path)
    (problem,) = result.problems
    assert (problem.record, problem.field, problem.key) == (3, "code", "code=W-DUP1")
    assert "twice" in problem.rule and "#1" in problem.rule


def test_key_already_in_the_registry_append_upsert_rerun(lampang, tmp_path):
    engine = lampang.engine
    first = wells_csv(tmp_path / "first.csv", ["W-UP1", "W-UP2"], households_served=[10, 20])
    load(engine, "water_sources", first)

    again = refuse_records(engine, "water_sources", first)
    assert {p.record for p in again.problems} == {1, 2}
    assert all("--mode upsert" in p.rule for p in again.problems)

    changed = wells_csv(tmp_path / "changed.csv", ["W-UP1", "W-UP2"], households_served=[10, 25])
    result = load(engine, "water_sources", changed, mode="upsert")
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)
    before = rows(
        engine,
        "SELECT code, households_served, updated_at FROM water_sources WHERE code LIKE 'W-UP%'"
        " ORDER BY code",
    )
    assert [r["households_served"] for r in before] == [10, 25]

    rerun = load(engine, "water_sources", changed, mode="upsert")
    assert (rerun.inserted, rerun.updated, rerun.unchanged) == (0, 0, 2)
    after = rows(
        engine,
        "SELECT code, households_served, updated_at FROM water_sources WHERE code LIKE 'W-UP%'"
        " ORDER BY code",
    )
    assert after == before  # unchanged rows are not touched (updated_at too)


@pytest.mark.parametrize("missing", ["nan", ""])
def test_nan_coordinates_are_refused_naming_the_record(lampang, tmp_path, missing):
    path = write_csv(
        tmp_path / "nan.csv",
        ["code", "name_th", "name_en", "kind", "lon", "lat"],
        [
            ["W-NAN1", "บ่อตื้นบ้านบอม", "Ban Bom shallow well", "shallow_well", "99.49", "18.29"],
            ["W-NAN2", "บ่อตื้นบ้านบอม", "Ban Bom shallow well", "shallow_well", missing, "18.29"],
        ],
    )
    result = refuse_records(lampang.engine, "water_sources", path)
    (problem,) = result.problems
    assert (problem.record, problem.field, problem.key) == (2, "geom", "code=W-NAN2")
    assert "#2" in said(result)


@pytest.mark.parametrize("suffix", [".geojson", ".csv"])
def test_empty_file_holds_no_records(lampang, tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    if suffix == ".csv":
        write_csv(path, ["code", "name_th", "name_en", "kind", "lon", "lat"], [])
    else:
        path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    result = refuse_records(lampang.engine, "water_sources", path)
    assert result.read == 0 and result.refused == 0
    assert "holds no records" in said(result)
    assert "1 of 0" not in said(result)


# --- 13-14: unreadable files --------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_truncated_file_cannot_be_read(lampang, tmp_path, suffix):
    path = tmp_path / f"wells{suffix}"
    pyogrio.write_dataframe(wells([f"W-TR{i}" for i in range(300)]), path)
    truncate(path)
    refuse_file(lampang.engine, "water_sources", path, "^cannot read .*wells")


def test_zip_without_a_shapefile_names_what_it_holds(lampang, tmp_path):
    path = tmp_path / "wells.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("อ่านก่อน.txt", "บ่อบาดาล")
        archive.writestr("wells/wells.dbf", b"\x03")
        archive.writestr("wells/wells.xlsx", b"PK")
    message = refuse_file(lampang.engine, "water_sources", path, r"\.shp")
    assert "wells/wells.dbf" in message and "wells/wells.xlsx" in message


def test_a_geopackage_of_several_layers_needs_source_layer(lampang, tmp_path):
    path = tmp_path / "project.gpkg"
    pyogrio.write_dataframe(wells(["W-LAYERS1"]), path, layer="wells")
    pyogrio.write_dataframe(wells(["W-LAYERS2"]), path, layer="ponds")
    refuse_file(lampang.engine, "water_sources", path, r"2 layers \(wells, ponds\).*--source-layer")
    result = load(lampang.engine, "water_sources", path, source_layer="ponds")
    assert result.inserted == 1


def test_zipped_shapefile_imports(lampang, tmp_path):
    shp = tmp_path / "wells.shp"
    pyogrio.write_dataframe(wells(["W-ZIP1", "W-ZIP2"]), shp, encoding="UTF-8")
    path = tmp_path / "wells.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in tmp_path.glob("wells.*"):
            if part.suffix != ".zip":
                archive.write(part, part.name)
    assert load(lampang.engine, "water_sources", path).inserted == 2
    names = rows(lampang.engine, "SELECT name_th FROM water_sources WHERE code LIKE 'W-ZIP%'")
    assert {r["name_th"] for r in names} == {"บ่อบาดาลบ้านบอม 1", "บ่อบาดาลบ้านบอม 2"}


# --- 15-16: tables ------------------------------------------------------------------------------


def test_csv_lon_lat_with_thai_names_and_an_owner_code(lampang, tmp_path):
    path = wells_csv(
        tmp_path / "wells.csv",
        ["W-CSV1", "W-CSV2"],
        owner_local_body_code=[BAN_BOM, BAN_BOM],
        households_served=["45", "1,210"],
    )
    result = load(lampang.engine, "water_sources", path)
    assert result.inserted == 2
    assert any("lon/lat" in note for note in result.notes), result.lines()
    stored = rows(
        lampang.engine,
        "SELECT w.name_th, w.households_served, lb.code AS owner, ST_X(w.geom) AS x"
        " FROM water_sources w JOIN local_bodies lb ON lb.id = w.owner_local_body_id"
        " WHERE w.code LIKE 'W-CSV%' ORDER BY w.code",
    )
    assert [r["name_th"] for r in stored] == ["บ่อบาดาลบ้านบอม 1", "บ่อบาดาลบ้านบอม 2"]
    assert [r["households_served"] for r in stored] == [45, 1210]
    assert {r["owner"] for r in stored} == {BAN_BOM}
    assert stored[0]["x"] == pytest.approx(near_city(0).x, abs=1e-6)


def test_upsert_of_a_file_without_owners_keeps_the_owners(lampang, tmp_path):
    # the file names no owner: an upsert updates what it gives, never empties the rest
    owned = wells_csv(tmp_path / "a.csv", ["W-KEEP1"], owner_local_body_code=[BAN_BOM])
    load(lampang.engine, "water_sources", owned)
    renamed = wells_csv(tmp_path / "b.csv", ["W-KEEP1"], name_en=["Renamed well"])
    result = load(lampang.engine, "water_sources", renamed, mode="upsert")
    assert result.updated == 1
    (row,) = rows(
        lampang.engine,
        "SELECT w.name_en, lb.code AS owner FROM water_sources w"
        " JOIN local_bodies lb ON lb.id = w.owner_local_body_id WHERE w.code = 'W-KEEP1'",
    )
    assert (row["name_en"], row["owner"]) == ("Renamed well", BAN_BOM)


def test_unknown_owner_code_is_refused_naming_it(lampang, tmp_path):
    path = wells_csv(tmp_path / "wells.csv", ["W-OWN1"], owner_local_body_code=["529999"])
    result = refuse_records(lampang.engine, "water_sources", path)
    (problem,) = result.problems
    assert problem.record == 1 and problem.field == "owner_local_body_code"
    assert "529999" in problem.rule


def test_xlsx_inspections_by_asset_code_with_buddhist_era_dates(lampang, tmp_path):
    engine = lampang.engine
    load(engine, "water_sources", wells_csv(tmp_path / "wells.csv", ["W-INS1"]))
    sheet = pd.DataFrame(
        {
            "code": ["I-BB1", "I-BB2"],
            "water_source_code": ["W-INS1", "W-INS1"],
            "inspected_on": ["2569-05-01", "2026-06-15"],
            "condition_score": [4, 3],
            "condition_scale": ["score_1_5", "score_1_5"],
            "method": ["visual", "visual"],
            "inspector": ["นายสมชาย ใจดี", "นางสาวสมหญิง รักดี"],
        }
    )
    path = tmp_path / "inspections.xlsx"
    pyogrio.write_dataframe(sheet, path, driver="XLSX")
    assert load(engine, "inspections", path).inserted == 2
    stored = rows(
        engine,
        "SELECT i.code, i.inspected_on::text AS on_, i.inspector, w.code AS asset"
        " FROM inspections i JOIN water_sources w ON w.id = i.water_source_id"
        " WHERE i.code LIKE 'I-BB%' ORDER BY i.code",
    )
    assert [(r["on_"], r["asset"]) for r in stored] == [
        ("2026-05-01", "W-INS1"),
        ("2026-06-15", "W-INS1"),
    ]
    assert stored[0]["inspector"] == "นายสมชาย ใจดี"

    unknown = sheet.iloc[[0]].assign(code="I-BB3", water_source_code="W-NOPE")
    pyogrio.write_dataframe(unknown, tmp_path / "unknown.xlsx", driver="XLSX")
    result = refuse_records(engine, "inspections", tmp_path / "unknown.xlsx")
    (problem,) = result.problems
    assert problem.field == "water_source_code" and "W-NOPE" in problem.rule


# --- 17: field mapping --------------------------------------------------------------------------

_SURFACES_YAML = """\
# A district office's road list: Thai headers, Thai surface names.
layer: roads
columns:
  code: รหัสสายทาง
  segment: ตอนที่
  name_th: ชื่อสายทาง
  name_en: ชื่อภาษาอังกฤษ
  surface: ผิวจราจร
  geom: แนวเส้นทาง
constants:
  road_class: local
values:
  surface:
    ลาดยาง: asphalt
    ลูกรัง: laterite
    คอนกรีต: concrete
"""


def _thai_roads(path: Path, surfaces: list[str], code: str = "ลป.ถ. 1-0201") -> Path:
    return write_csv(
        path,
        ["รหัสสายทาง", "ตอนที่", "ชื่อสายทาง", "ชื่อภาษาอังกฤษ", "ผิวจราจร", "แนวเส้นทาง"],
        [
            [code, str(i + 1), f"ถนนบ้านบอม ตอน {i + 1}", f"Ban Bom road {i + 1}", s, _line(i).wkt]
            for i, s in enumerate(surfaces)
        ],
    )


def test_yaml_mapping_with_thai_values_map(lampang, tmp_path):
    yaml_path = tmp_path / "roads.yaml"
    yaml_path.write_text(_SURFACES_YAML, encoding="utf-8")
    mapping = FieldMapping.load(yaml_path)
    path = _thai_roads(tmp_path / "roads.csv", ["ลาดยาง", "ลูกรัง", "คอนกรีต"])
    # WKT in a Thai-named column mapped to geom: the CSV itself says nothing of its CRS
    result = load(lampang.engine, "roads", path, mapping=mapping, crs="EPSG:4326")
    assert result.inserted == 3
    stored = rows(
        lampang.engine,
        "SELECT segment, surface, road_class, name_th FROM roads WHERE code = 'ลป.ถ. 1-0201'"
        " ORDER BY segment",
    )
    assert [r["surface"] for r in stored] == ["asphalt", "laterite", "concrete"]
    assert {r["road_class"] for r in stored} == {"local"}
    assert stored[0]["name_th"] == "ถนนบ้านบอม ตอน 1"

    # a Thai surface the map does not know is named as it is in the file
    path = _thai_roads(tmp_path / "roads2.csv", ["หินคลุกผสม"], code="ลป.ถ. 1-0202")
    bad = refuse_records(lampang.engine, "roads", path, mapping=mapping, crs="EPSG:4326")
    (problem,) = bad.problems
    assert problem.field == "surface" and "หินคลุกผสม" in problem.rule


def test_unknown_columns_reported_once_per_column(lampang, tmp_path):
    n = 40
    path = wells_csv(
        tmp_path / "wells.csv",
        [f"W-EX{i:02d}" for i in range(n)],
        **{"หมายเหตุ": ["-"] * n, "depth_m": ["30"] * n},
    )
    result = refuse_records(lampang.engine, "water_sources", path)
    assert all(p.record is None for p in result.problems), result.lines()
    assert 1 <= len(result.problems) <= 2
    named = " ".join(f"{p.field} {p.rule}" for p in result.problems)
    assert "หมายเหตุ" in named and "depth_m" in named and "--ignore-extra" in named
    assert len(said(result).splitlines()) <= 3

    result = load(lampang.engine, "water_sources", path, mapping=FieldMapping(ignore_extra=True))
    assert result.inserted == n
    assert any("หมายเหตุ" in note and "depth_m" in note for note in result.notes)


def test_mapping_naming_a_missing_column_is_a_clear_error(lampang, tmp_path):
    path = wells_csv(tmp_path / "wells.csv", ["W-MISS1"])
    mapping = FieldMapping(columns={"name_th": "ชื่อแหล่งน้ำ"})
    message = refuse_file(lampang.engine, "water_sources", path, "ชื่อแหล่งน้ำ", mapping=mapping)
    assert "does not have" in message

    roads_mapping = FieldMapping(layer="roads")
    refuse_file(lampang.engine, "water_sources", path, "roads", mapping=roads_mapping)


def test_one_column_mapped_to_two_fields(lampang, tmp_path):
    frame = wells(["W-TWO1"]).drop(columns=["name_en"])
    path = tmp_path / "wells.geojson"
    pyogrio.write_dataframe(frame, path)
    mapping = FieldMapping().with_options(columns={"name_en": "name_th"})
    load(lampang.engine, "water_sources", path, mapping=mapping)
    (row,) = rows(
        lampang.engine, "SELECT name_th, name_en FROM water_sources WHERE code = 'W-TWO1'"
    )
    assert row["name_th"] == row["name_en"] == "บ่อบาดาลบ้านบอม 1"


# --- 18: modes, dry run, skip invalid, reports --------------------------------------------------


def _hazards(path: Path, records: list[tuple[str, str, str]]) -> Path:
    """Hazard areas as a WKT CSV: (code, hazard_type, severity), a square near the city per
    code (by its last digit: the same code always has the same square)."""
    return write_csv(
        path,
        ["code", "name_th", "name_en", "hazard_type", "severity", "wkt"],
        [
            [
                code,
                f"พื้นที่เสี่ยง {code}",
                f"hazard {code}",
                kind,
                severity,
                _square(3 * int(code[-1])).wkt,
            ]
            for code, kind, severity in records
        ],
    )


def test_replace_deletes_rows_the_file_does_not_hold(lampang, tmp_path):
    engine = lampang.engine
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM hazard_areas"))
    first = [("HZ-R1", "flood", "low"), ("HZ-R2", "flood", "low"), ("HZ-R3", "landslide", "low")]
    load(engine, "hazard_areas", _hazards(tmp_path / "a.csv", first))
    second = [("HZ-R2", "flood", "low"), ("HZ-R3", "landslide", "high"), ("HZ-R4", "flood", "low")]
    result = load(engine, "hazard_areas", _hazards(tmp_path / "b.csv", second), mode="replace")
    counts = (result.inserted, result.updated, result.unchanged, result.deleted)
    assert counts == (1, 1, 1, 1)
    assert "1 deleted" in said(result)
    stored = rows(engine, "SELECT code, severity FROM hazard_areas ORDER BY code")
    assert [(r["code"], r["severity"]) for r in stored] == [
        ("HZ-R2", "low"),
        ("HZ-R3", "high"),
        ("HZ-R4", "low"),
    ]


def test_dry_run_writes_nothing_but_says_what_it_would_do(lampang, tmp_path):
    engine = lampang.engine
    load(engine, "water_sources", wells_csv(tmp_path / "a.csv", ["W-DRY1"]))
    path = wells_csv(
        tmp_path / "b.csv", ["W-DRY1", "W-DRY2", "W-DRY3"], households_served=[5, 6, 7]
    )
    before = snapshot(engine, "water_sources")
    result = import_file(engine, "water_sources", path, ImportOptions(mode="upsert", dry_run=True))
    assert not result.written and not result.problems
    assert (result.inserted, result.updated) == (2, 1)
    assert "dry run, nothing written; would be 2 inserted, 1 updated" in said(result)
    assert snapshot(engine, "water_sources") == before

    refused = refuse_records(engine, "water_sources", path, dry_run=True)  # append: W-DRY1 exists
    assert "would be refused" in said(refused)


def test_skip_invalid_writes_the_valid_and_reports_the_rest(lampang, tmp_path):
    engine = lampang.engine
    path = wells_csv(
        tmp_path / "wells.csv",
        ["W-SK1", "W-SK2", "W-SK3", "W-SK4"],
        kind=["shallow_well", "magic_spring", "pond", "shallow_well"],
        households_served=["10", "20", "-5", "40"],
    )
    result = import_file(engine, "water_sources", path, ImportOptions(skip_invalid=True))
    assert result.written and result.inserted == 2 and result.refused == 2
    assert "2 skipped" in said(result)
    stored = rows(engine, "SELECT code FROM water_sources WHERE code LIKE 'W-SK%' ORDER BY code")
    assert [r["code"] for r in stored] == ["W-SK1", "W-SK4"]

    write_report(result, tmp_path / "report.json")
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["inserted"] == 2 and report["refused"] == 2
    problems = {(p["record"], p["key"], p["field"], p["value"]) for p in report["problems"]}
    assert problems == {
        (2, "code=W-SK2", "kind", "magic_spring"),
        (3, "code=W-SK3", "households_served", "-5"),
    }
    assert all(p["rule"] for p in report["problems"])

    write_report(result, tmp_path / "report.csv")
    with (tmp_path / "report.csv").open(encoding="utf-8-sig", newline="") as handle:
        listed = list(csv.DictReader(handle))
    assert list(listed[0]) == ["record", "key", "field", "value", "rule"]
    assert {(r["record"], r["key"], r["field"]) for r in listed} == {
        ("2", "code=W-SK2", "kind"),
        ("3", "code=W-SK3", "households_served"),
    }
    with pytest.raises(GisRegistryError, match=r"\.json or \.csv"):
        write_report(result, tmp_path / "report.txt")


def test_skip_invalid_does_not_excuse_a_file_level_problem(lampang, tmp_path):
    path = wells_csv(tmp_path / "wells.csv", ["W-SKF1"], depth_m=["30"])
    refuse_records(lampang.engine, "water_sources", path, skip_invalid=True)


def test_replace_with_skip_invalid_is_refused_before_anything_is_read(lampang, tmp_path):
    # a skipped record would be missing from the file the layer is replaced by: its row deleted
    engine = lampang.engine
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM hazard_areas"))
    load(engine, "hazard_areas", _hazards(tmp_path / "a.csv", [("HZ-S1", "flood", "low")]))
    second = [("HZ-S1", "tsunami", "low"), ("HZ-S2", "flood", "low")]
    before = snapshot(engine, "hazard_areas")
    with pytest.raises(GisRegistryError, match="replace cannot be combined with --skip-invalid"):
        import_file(
            engine,
            "hazard_areas",
            _hazards(tmp_path / "b.csv", second),
            ImportOptions(mode="replace", skip_invalid=True),
        )
    assert snapshot(engine, "hazard_areas") == before


# --- 19: a killed import ------------------------------------------------------------------------


def test_sigkill_in_the_middle_of_a_large_import_changes_nothing(lampang, tmp_path):
    engine = lampang.engine
    load(engine, "water_sources", wells_csv(tmp_path / "some.csv", ["W-KILL1", "W-KILL2"]))
    path = big_wells_csv(tmp_path / "big.csv", 300_000)
    before = snapshot(engine, "water_sources")
    env = {**os.environ, "GIS_REGISTRY_DATABASE_URL": lampang.url}
    command = [sys.executable, "-m", "gis_registry.cli", "import", "water_sources", str(path)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    copying = None
    try:
        deadline = time.monotonic() + 60
        with engine.connect() as conn:
            database = conn.execute(text("SELECT current_database()")).scalar_one()
            while time.monotonic() < deadline and process.poll() is None:
                copying = conn.execute(
                    text(
                        "SELECT pid, tuples_processed FROM pg_stat_progress_copy"
                        " WHERE datname = :db AND tuples_processed > 0"
                    ),
                    {"db": database},
                ).first()
                conn.rollback()
                if copying is not None:
                    break
                time.sleep(0.01)
        assert process.poll() is None, process.communicate()
        assert copying is not None, "the import was never seen copying rows"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    process.stdout.close()
    process.stderr.close()

    # the server notices the dead client and rolls its transaction back
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        (alive,) = rows(
            engine, "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = :pid", pid=copying[0]
        )
        if alive["n"] == 0:
            break
        time.sleep(0.05)
    assert snapshot(engine, "water_sources") == before
    # and nothing is left holding the layer: the next import goes in
    load(engine, "water_sources", wells_csv(tmp_path / "after.csv", ["W-KILL3"]))


# --- 20: the command line -----------------------------------------------------------------------


@pytest.fixture()
def cli(lampang, monkeypatch):
    from gis_registry.cli import app

    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", lampang.url)
    runner = CliRunner()

    def invoke(*args: Any):
        return runner.invoke(app, ["import", *map(str, args)])

    return invoke


def test_cli_exit_codes(cli, lampang, tmp_path):
    good = wells_csv(tmp_path / "good.csv", ["W-CLI1", "W-CLI2"])
    ok = cli("water_sources", good)
    assert ok.exit_code == 0, ok.output
    assert "2 inserted" in ok.stdout

    refused = cli("water_sources", good)  # the same codes again: refused, exit 1
    assert refused.exit_code == 1, refused.output
    assert "--mode upsert" in refused.stdout and "nothing was written" in refused.stdout

    upsert = cli("water_sources", good, "--mode", "upsert")
    assert upsert.exit_code == 0 and "2 unchanged" in upsert.stdout

    missing = cli("water_sources", tmp_path / "nope.gpkg")
    assert missing.exit_code == 1 and "error: file not found" in missing.output
    assert "Traceback" not in missing.output

    before = snapshot(lampang.engine, "water_sources")
    for usage in (
        ["--mode", "merge"],
        ["--map", "name_th"],
        ["--set", "=groundwater_well"],
        ["--no-such-option"],
    ):
        result = cli("water_sources", good, *usage)
        assert result.exit_code == 2, (usage, result.output)
    assert snapshot(lampang.engine, "water_sources") == before


def test_cli_map_set_mapping_and_report(cli, lampang, tmp_path):
    yaml_path = tmp_path / "roads.yaml"
    yaml_path.write_text(_SURFACES_YAML, encoding="utf-8")
    path = _thai_roads(tmp_path / "roads.csv", ["ลาดยาง", "ลูกรัง"], code="ลป.ถ. 1-0301")
    result = cli(
        "roads",
        path,
        "--mapping",
        yaml_path,
        "--map",
        "name_en=ชื่อสายทาง",  # the command line wins over the file
        "--set",
        "lanes=4",
        "--ignore-extra",  # ชื่อภาษาอังกฤษ: no field reads it any more
        "--crs",
        "EPSG:4326",
    )
    assert result.exit_code == 0, result.output
    stored = rows(
        lampang.engine,
        "SELECT name_th, name_en, lanes, surface FROM roads WHERE code = 'ลป.ถ. 1-0301'"
        " ORDER BY segment",
    )
    assert [(r["lanes"], r["surface"]) for r in stored] == [(4, "asphalt"), (4, "laterite")]
    assert stored[0]["name_en"] == "ถนนบ้านบอม ตอน 1"

    report = tmp_path / "problems.csv"
    bad = _thai_roads(tmp_path / "bad.csv", ["ยางมะตอย"], code="ลป.ถ. 1-0302")
    refused = cli("roads", bad, "--mapping", yaml_path, "--crs", "EPSG:4326", "--report", report)
    assert refused.exit_code == 1, refused.output
    with report.open(encoding="utf-8-sig", newline="") as handle:
        (problem,) = csv.DictReader(handle)
    assert (problem["record"], problem["field"], problem["value"]) == ("1", "surface", "ยางมะตอย")
    assert problem["key"] == "code=ลป.ถ. 1-0302, segment=1"


def test_cli_groups_problems_by_rule(cli, lampang, tmp_path):
    n = 100
    path = wells_csv(
        tmp_path / "bad.csv",
        [f"W-GRP{i:03d}" for i in range(n)],
        kind=[f"magic_{i}" for i in range(n)],  # a different wrong value in every record
        households_served=["-1"] * n,
    )
    before = snapshot(lampang.engine, "water_sources")
    result = cli("water_sources", path)
    assert result.exit_code == 1, result.output
    lines = result.stdout.strip().splitlines()
    problems = [line for line in lines if line.startswith("problem:")]
    assert len(problems) == 2, lines
    assert all(f"{n} records: #1, #2, #3, #4, #5 and {n - 5} more" in p for p in problems)
    assert "100 of 100 records" in lines[-1]
    assert len(lines) <= 4
    assert snapshot(lampang.engine, "water_sources") == before
