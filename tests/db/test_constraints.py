"""The database enforces the rules itself; a refusal reaches the user as a clear message."""

import pytest
from shapely.geometry import LineString, Point
from sqlalchemy import text

from gis_registry.errors import ConstraintViolation, NotFound, ValidationError
from gis_registry.queries.features import delete_feature, insert_features, update_feature
from tests.fixtures.world import build_world

pytestmark = pytest.mark.db


def _count(conn, table):
    return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_world_loads_and_measures_in_metres(conn):
    ids = build_world(conn)
    length = conn.execute(text("SELECT length_m FROM roads WHERE id = :i"), {"i": ids["road"]})
    # 0.06 degrees of longitude at 18.3 N is about 6.34 km (measured in UTM 47N, not degrees)
    assert length.scalar_one() == pytest.approx(6340, rel=0.01)
    area = conn.execute(text("SELECT area_km2 FROM local_bodies WHERE id = :i"), {"i": ids["sao"]})
    assert area.scalar_one() == pytest.approx(10.57 * 22.1, rel=0.02)


def test_thai_text_survives(conn):
    build_world(conn)
    name = conn.execute(text("SELECT name_th FROM settlements")).scalar_one()
    assert name == "บ้านทดสอบ"


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        # wrong geometry type for the column (typmod)
        (
            "INSERT INTO settlements (name_th, name_en, local_body_id, population, households,"
            " geom)"
            " VALUES ('ก', 'a', :sao, 1, 1, ST_GeomFromText('LINESTRING(99 18, 99.1 18)', 4326))",
            "geometry type LineString does not match",
        ),
        # wrong SRID
        (
            "INSERT INTO settlements (name_th, name_en, local_body_id, population, households,"
            " geom)"
            " VALUES ('ก', 'a', :sao, 1, 1, ST_GeomFromText('POINT(500000 2000000)', 32647))",
            "SRID 32647 does not match",
        ),
        # invalid polygon (bow tie)
        (
            "INSERT INTO hazard_areas (name_th, name_en, hazard_type, severity, geom) VALUES "
            "('ก', 'a', 'flood', 'high', ST_Multi(ST_GeomFromText("
            "'POLYGON((99 18, 99.1 18.1, 99.1 18, 99 18.1, 99 18))', 4326)))",
            "ck_hazard_areas_geom_valid",
        ),
        # negative households
        (
            "INSERT INTO settlements (name_th, name_en, local_body_id, population, households,"
            " geom)"
            " VALUES ('ก', 'a', :sao, 10, -1, ST_Point(99.45, 18.3, 4326))",
            "households must not be negative",
        ),
        # enumeration
        ("UPDATE roads SET surface = 'gravel'", "surface must be one of"),
        # road code pattern enforced by the database too
        ("UPDATE roads SET code = '1035'", "a local road's code must match"),
        # foreign key
        ("UPDATE settlements SET local_body_id = 999999", "does not exist"),
        # Thai fiscal year must match the planned start (1 Oct 2026 is FY 2570, not 2569)
        (
            "INSERT INTO maintenance_works (road_id, treatment, planned_start, cost_thb,"
            " fiscal_year, funding_body)"
            " VALUES (:road, 'routine', DATE '2026-10-01', 1000, 2569, 'pao')",
            "Thai fiscal year",
        ),
        # a bridge must lie on its road
        ("UPDATE bridges SET geom = ST_Point(99.48, 18.35, 4326)", "must lie on its road"),
        # condition score on its declared scale
        (
            "INSERT INTO inspections (bridge_id, inspected_on, condition_score, condition_scale)"
            " VALUES (:bridge, DATE '2025-01-10', 12, 'nbi_0_9')",
            "must lie on its condition_scale",
        ),
    ],
)
def test_database_refuses_with_clear_message(engine, sql, rule):
    """Raw SQL bypasses the Python validation: the database itself must refuse, and the
    translation must name the rule."""
    from sqlalchemy.exc import DBAPIError

    from gis_registry.db.errors import translate

    with engine.connect() as conn:
        trans = conn.begin()
        ids = build_world(conn)
        with pytest.raises(DBAPIError) as err:
            conn.execute(
                text(sql), {"sao": ids["sao"], "road": ids["road"], "bridge": ids["bridge"]}
            )
        trans.rollback()
    translated = translate(err.value, "layer", 1)
    assert translated is not None, err.value
    assert rule in str(translated)


def test_fiscal_year_accepted_at_boundary(conn):
    ids = build_world(conn)
    insert_features(
        conn,
        "maintenance_works",
        [
            {
                "road_id": ids["road"],
                "treatment": "routine",
                "planned_start": "2026-09-30",
                "cost_thb": 1000,
                "fiscal_year": 2569,
                "funding_body": "pao",
            },
            {
                "road_id": ids["road"],
                "treatment": "routine",
                "planned_start": "2026-10-01",
                "cost_thb": 1000,
                "fiscal_year": 2570,
                "funding_body": "pao",
            },
        ],
    )
    assert _count(conn, "maintenance_works") == 2


def test_batch_is_all_or_nothing(conn):
    ids = build_world(conn)
    good = {
        "name_th": "บ้านใหม่",
        "name_en": "Ban Mai",
        "local_body_id": ids["sao"],
        "population": 100,
        "households": 30,
        "geom": Point(99.46, 18.33),
    }
    bad_fk = {**good, "local_body_id": 424242}
    with pytest.raises(ConstraintViolation) as err:
        insert_features(conn, "settlements", [good, good, bad_fk])
    assert "settlements record #3" in str(err.value)
    assert "local_body_id" in str(err.value)
    assert _count(conn, "settlements") == 1  # only the world's own village


def test_bridge_off_its_road_refused_through_library(conn):
    ids = build_world(conn)
    with pytest.raises(ConstraintViolation, match="bridges record #1: field 'geom'.*within 10 m"):
        insert_features(
            conn,
            "bridges",
            [
                {
                    "road_id": ids["road"],
                    "name_th": "สะพาน",
                    "name_en": "Bridge",
                    "structure_type": "slab",
                    "material": "timber",
                    "length_m": 8,
                    "geom": Point(99.48, 18.35),
                }
            ],
        )


def test_update_validates_merged_record_and_bumps_updated_at(conn):
    ids = build_world(conn)
    before = conn.execute(text("SELECT updated_at FROM roads")).scalar_one()
    conn.execute(text("SELECT pg_sleep(0.01)"))
    # a new transaction timestamp is needed for now() to move; use a savepoint-free check:
    update_feature(conn, "roads", ids["road"], {"surface": "concrete", "width_m": 7})
    row = conn.execute(text("SELECT surface, width_m, updated_at FROM roads")).one()
    assert (row.surface, row.width_m) == ("concrete", 7)
    assert row.updated_at >= before
    with pytest.raises(ValidationError, match="not a valid local road code"):
        update_feature(conn, "roads", ids["road"], {"code": "1035"})
    with pytest.raises(NotFound):
        update_feature(conn, "roads", 99999, {"surface": "earth"})


def test_delete_in_use_refused(conn):
    ids = build_world(conn)
    with pytest.raises(ConstraintViolation, match="still in use"):
        delete_feature(conn, "roads", ids["road"])  # its bridge refers to it
    delete_feature(conn, "water_points", ids["well"])
    assert _count(conn, "water_sources") == 0


def test_layer_version_stamp_moves_on_road_change(conn):
    build_world(conn)
    v1 = conn.execute(text("SELECT version FROM layer_versions WHERE layer = 'roads'")).scalar()
    conn.execute(text("UPDATE roads SET width_m = 8"))
    v2 = conn.execute(text("SELECT version FROM layer_versions WHERE layer = 'roads'")).scalar()
    assert v2 == v1 + 1


def test_roads_line_must_be_2d_lonlat(conn):
    ids = build_world(conn)
    with pytest.raises(ValidationError, match="latitude, longitude"):
        insert_features(
            conn,
            "roads",
            [
                {
                    "name_th": "ถนน",
                    "name_en": "Road",
                    "road_class": "unregistered",
                    "owner_local_body_id": ids["sao"],
                    "surface": "earth",
                    "geom": LineString([(18.3, 99.45), (18.31, 99.46)]),
                }
            ],
        )
