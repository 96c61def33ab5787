"""Rules the database alone does not hold, checked by validation on both write paths.

The API and the library write through ``insert_features``/``update_feature``
(:func:`gis_registry.validation.validate_records`); file imports validate whole frames
(:func:`gis_registry.validation.validate_frame`). Each rule is tried on both, and each refusal
must name the record, the field and the rule (issue 17, problems 2 and 9).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gis_registry.auth import Principal, check_write
from gis_registry.auth.permissions import PermissionDenied
from gis_registry.db import errors as db_errors
from gis_registry.db.tables import hazard_areas, maintenance_works, roads, water_points
from gis_registry.errors import ValidationError
from gis_registry.geodesy import province_extent
from gis_registry.queries.features import insert_features, update_feature
from gis_registry.validation import Limits, validate_frame
from tests.fixtures.world import build_world

pytestmark = pytest.mark.db

METRES_PER_DEGREE = 111_320.0


def _road(geom: LineString, code: str = "ลป.ถ. 99-0700", owner: int | None = None) -> dict:
    return {
        "code": code,
        "name_th": "ถนนทดสอบกฎ",
        "name_en": "Rule test road",
        "road_class": "local",
        "owner_local_body_id": owner,
        "surface": "asphalt",
        "width_m": 5,
        "geom": geom,
    }


def _line(vertices: int, spacing_m: float, start=(99.45, 18.30)) -> LineString:
    """A straight east-west line of ``vertices`` vertices ``spacing_m`` apart."""
    step = spacing_m / (METRES_PER_DEGREE * np.cos(np.radians(start[1])))
    xs = start[0] + step * np.arange(vertices)
    return LineString(np.column_stack([xs, np.full(vertices, start[1])]))


def _problems(exc: ValidationError) -> list[tuple]:
    return list(exc.problems)


def _frame_problems(table, records: list[dict], **kwargs) -> list[tuple]:
    frame = pd.DataFrame.from_records(records)
    _, problems = validate_frame(table, frame, **kwargs)
    return problems


# --- 1. vertices and density -----------------------------------------------------------------


def test_too_many_vertices_refused_naming_feature_and_limit(conn):
    ids = build_world(conn)
    many = _road(_line(10_001, 1.0), owner=ids["sao"])  # 10 km, inside the province
    with pytest.raises(ValidationError) as caught:
        insert_features(conn, "roads", [many])
    ((record, field, rule),) = _problems(caught.value)
    assert (record, field) == ("#1", "geom")
    assert "10,001 vertices" in rule and "10,000" in rule and "GIS_REGISTRY_MAX_VERTICES" in rule
    # the bulk path says the same
    ((index, field, _, rule),) = _frame_problems(roads, [many])
    assert (index, field) == (0, "geom") and "10,000" in rule
    # at the limit it is fine (a real road can be long and detailed)
    (new_id,) = insert_features(conn, "roads", [_road(_line(10_000, 1.0), owner=ids["sao"])])
    assert new_id


def test_vertices_closer_than_the_spacing_refused_in_metres(conn):
    ids = build_world(conn)
    dense = _road(_line(2_000, 0.001), owner=ids["sao"])  # a 2 m road of 2,000 vertices
    with pytest.raises(ValidationError) as caught:
        insert_features(conn, "roads", [dense])
    ((record, field, rule),) = _problems(caught.value)
    assert (record, field) == ("#1", "geom")
    assert "0.001 m apart" in rule and "0.5 m" in rule
    ((_, field, _, rule),) = _frame_problems(roads, [dense])
    assert field == "geom" and "0.5 m" in rule
    # measured in metres, not degrees: 1 m spacing is 0.0000095 degrees, and passes
    assert not _frame_problems(roads, [_road(_line(2_000, 1.0), owner=ids["sao"])])
    # a short way of a few close vertices costs nothing and is kept (OSM splits ways anywhere)
    assert not _frame_problems(roads, [_road(_line(3, 0.05), owner=ids["sao"])])


def test_an_update_is_checked_too(conn):
    ids = build_world(conn)
    with pytest.raises(ValidationError) as caught:
        update_feature(conn, "roads", ids["road"], {"geom": _line(2_000, 0.001)})
    assert _problems(caught.value)[0][1] == "geom"


def test_limits_come_from_the_settings(conn, monkeypatch):
    ids = build_world(conn)
    monkeypatch.setenv("GIS_REGISTRY_MAX_VERTICES", "50")
    with pytest.raises(ValidationError) as caught:
        insert_features(conn, "roads", [_road(_line(51, 5.0), owner=ids["sao"])])
    assert "at most 50" in _problems(caught.value)[0][2]
    monkeypatch.delenv("GIS_REGISTRY_MAX_VERTICES")
    monkeypatch.setenv("GIS_REGISTRY_MIN_VERTEX_SPACING_M", "10")
    limits = Limits.from_settings()
    assert limits.max_vertices == 10_000 and limits.min_vertex_spacing_m == 10
    rule = _frame_problems(roads, [_road(_line(200, 5.0))], limits=limits)[0][3]
    assert "5 m apart" in rule and "at least 10 m" in rule


def test_boundaries_may_be_detailed(conn):
    """A full-resolution COD-AB province boundary has some 50,000 vertices: not refused."""
    build_world(conn)
    ring = _line(60_000, 2.0, start=(99.41, 18.21)).coords[:]
    outline = [*ring, (99.41 + 0.1, 18.3), ring[0]]
    problems = _frame_problems(
        hazard_areas, [_hazard({"type": "Polygon", "coordinates": [outline]})]
    )
    assert not [p for p in problems if "vertices" in p[3]]


# --- 2. inside the registry's province -------------------------------------------------------


def _well(geom, owner: int | None = None) -> dict:
    return {
        "name_th": "บ่อ",
        "name_en": "Well",
        "kind": "groundwater_well",
        "owner_local_body_id": owner,
        "geom": geom,
    }


def test_a_water_source_in_bangkok_is_refused(conn):
    ids = build_world(conn)
    with pytest.raises(ValidationError) as caught:
        insert_features(conn, "water_points", [_well(Point(100.5, 13.75), ids["sao"])])
    ((record, field, rule),) = _problems(caught.value)
    assert (record, field) == ("#1", "geom") and "outside the registry's province" in rule
    extent = province_extent(conn, 2_000)
    problems = _frame_problems(water_points, [_well(Point(100.5, 13.75))], extent=extent)
    assert problems[0][1] == "geom" and "province" in problems[0][3]
    # just over the boundary (within the margin) is the province's own business
    insert_features(conn, "water_points", [_well(Point(99.605, 18.30), ids["sao"])])


def test_longitude_and_latitude_swapped_is_refused(conn):
    ids = build_world(conn)
    with pytest.raises(ValidationError) as caught:
        insert_features(conn, "water_points", [_well("POINT(18.3 99.51)", ids["sao"])])
    assert "(latitude, longitude)" in _problems(caught.value)[0][2]
    problems = _frame_problems(water_points, [_well("POINT(18.3 99.51)")])
    assert "(latitude, longitude)" in problems[0][3]


def test_an_empty_registry_takes_its_first_features_anywhere(conn):
    assert province_extent(conn, 2_000) is None
    (new_id,) = insert_features(conn, "water_points", [_well(Point(100.5, 13.75))])
    assert new_id
    with pytest.raises(ValidationError):  # still lon/lat
        insert_features(conn, "water_points", [_well(Point(500_000, 2_000_000))])


# --- 3. unclosed rings -----------------------------------------------------------------------


def _hazard(geometry) -> dict:
    return {
        "name_th": "น้ำท่วม",
        "name_en": "Flood",
        "hazard_type": "flood",
        "severity": "low",
        "geom": geometry,
    }


UNCLOSED = {
    "type": "Polygon",
    "coordinates": [[[99.5, 18.3], [99.51, 18.3], [99.51, 18.31], [99.5, 18.31]]],
}


def test_an_unclosed_ring_is_refused_not_closed(conn):
    build_world(conn)
    with pytest.raises(ValidationError) as caught:
        insert_features(conn, "hazard_areas", [_hazard(UNCLOSED)])
    ((record, field, rule),) = _problems(caught.value)
    assert (record, field) == ("#1", "geom")
    assert "ring 1 of polygon 1 is not closed" in rule
    multi = {"type": "MultiPolygon", "coordinates": [UNCLOSED["coordinates"]]}
    problems = _frame_problems(hazard_areas, [_hazard(multi)])
    assert problems[0][1] == "geom" and "ring 1 of polygon 1 is not closed" in problems[0][3]
    with pytest.raises(ValidationError) as caught:  # WKT: named too, without echoing it all
        insert_features(
            conn, "hazard_areas", [_hazard("POLYGON((99.5 18.3, 99.51 18.3, 99.51 18.31))")]
        )
    assert "closed" in _problems(caught.value)[0][2]
    closed = {**UNCLOSED, "coordinates": [[*UNCLOSED["coordinates"][0], [99.5, 18.3]]]}
    assert insert_features(conn, "hazard_areas", [_hazard(closed)])


# --- 4. numeric overflow ---------------------------------------------------------------------


def _work(road_id: int, **fields) -> dict:
    return {
        "road_id": road_id,
        "treatment": "routine",
        "planned_start": dt.date(2026, 3, 1),
        "cost_thb": 50_000,
        "fiscal_year": 2569,
        "funding_body": "pao",
        **fields,
    }


def test_numeric_overflow_is_named_by_field(conn):
    ids = build_world(conn)
    with pytest.raises(ValidationError) as caught:
        insert_features(conn, "maintenance_works", [_work(ids["road"], cost_thb=1e20)])
    ((record, field, rule),) = _problems(caught.value)
    assert (record, field) == ("#1", "cost_thb") and "numeric(14, 2)" in rule
    problems = _frame_problems(maintenance_works, [_work(ids["road"], cost_thb=1e20)])
    assert [(p[1], "numeric(14, 2)" in p[3]) for p in problems] == [("cost_thb", True)]
    # the largest the column holds is fine; whole numbers are bounded by their column too
    assert insert_features(conn, "maintenance_works", [_work(ids["road"], cost_thb=1e12 - 1)])
    with pytest.raises(ValidationError) as caught:
        insert_features(conn, "maintenance_works", [_work(ids["road"], fiscal_year=70_000)])
    assert _problems(caught.value)[0][1] == "fiscal_year"


def test_the_database_overflow_names_the_column(conn):
    """What validation misses (a direct write) the error translation still names."""
    ids = build_world(conn)
    values = _work(ids["road"], cost_thb=1e20)
    with pytest.raises(DBAPIError) as caught, conn.begin_nested():
        conn.execute(maintenance_works.insert().values(**values))
    translated = db_errors.translate(caught.value, "maintenance_works", "#1", values)
    assert translated is not None
    ((record, field, rule),) = translated.problems
    assert (record, field) == ("#1", "cost_thb") and "overflow" in rule
    assert conn.execute(text("SELECT 1")).scalar_one() == 1


# --- 5. funding ------------------------------------------------------------------------------


def test_editors_record_only_works_their_own_local_body_funds(conn):
    ids = build_world(conn)
    (sao_road,) = insert_features(
        conn, "roads", [_road(_line(2, 100.0, start=(99.42, 18.25)), owner=ids["sao"])]
    )
    editor = Principal(1, "editor_sao", "editor", ids["sao"])
    own = _work(sao_road, funding_body="lgo", funding_local_body_id=ids["sao"])
    check_write(conn, editor, "maintenance_works", own)
    check_write(conn, editor, "maintenance_works", _work(sao_road, funding_body="central_subsidy"))
    theirs = {**own, "funding_local_body_id": ids["pao"]}
    with pytest.raises(PermissionDenied, match="funding_local_body_id"):
        check_write(conn, editor, "maintenance_works", theirs)
    admin = Principal(2, "admin", "admin")
    check_write(conn, admin, "maintenance_works", theirs)


# --- real data stays within the limits -------------------------------------------------------


def test_the_demo_province_holds_every_geometry_rule(demo_conn):
    """The demo is loaded by COPY, past validation: its geometries must pass the limits and
    the province's extent all the same (limits real data never reaches)."""
    from gis_registry.catalog import CATALOG
    from gis_registry.queries.features import read_layer

    extent = province_extent(demo_conn)
    assert extent is not None
    checked = 0
    for layer in CATALOG:
        c = CATALOG[layer]
        if not c.geometries:
            continue
        frame = read_layer(demo_conn, layer)
        geometries = pd.DataFrame({name: frame[name] for name in c.geometries if name in frame})
        _, problems = validate_frame(
            c.table, geometries, resolved_later=c.table.c.keys(), extent=extent
        )
        assert not problems, (layer, problems[:3])
        checked += len(frame)
    assert checked > 1_000


def test_a_file_import_refuses_an_oversized_road(engine, tmp_path):
    """The bulk path end to end: a GeoJSON file read by GDAL, validated by frames."""
    import geopandas as gpd

    from gis_registry.io.load import ImportOptions, import_file

    dense = _road(_line(10_001, 1.0), code="ลป.ถ. 99-0801")
    fine = _road(_line(50, 10.0, start=(99.45, 18.32)), code="ลป.ถ. 99-0802")
    frame = gpd.GeoDataFrame([dense, fine], geometry="geom", crs=4326).drop(
        columns="owner_local_body_id"
    )
    path = tmp_path / "roads.geojson"
    frame.to_file(path)
    result = import_file(engine, "roads", path, ImportOptions(dry_run=True))
    assert [(p.record, p.field) for p in result.problems] == [(1, "geom")]
    assert "at most 10,000" in result.problems[0].rule


def test_the_settings_defaults_are_the_documented_limits():
    from gis_registry.settings import Settings
    from gis_registry.validation import MAX_AREA_VERTICES, MAX_VERTICES, MIN_VERTEX_SPACING_M

    defaults = Settings.model_fields
    assert defaults["max_vertices"].default == MAX_VERTICES
    assert defaults["max_area_vertices"].default == MAX_AREA_VERTICES
    assert defaults["min_vertex_spacing_m"].default == MIN_VERTEX_SPACING_M
