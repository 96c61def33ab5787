"""Migrations upgrade and downgrade, and the latest one matches the table definitions."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from gis_registry.db import make_engine
from gis_registry.db.migrate import current, downgrade, upgrade
from gis_registry.db.migrations.env_helpers import include_object
from gis_registry.db.tables import LAYERS, metadata
from gis_registry.db.testing import create_test_database, drop_test_database

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def scratch_engine(settings):
    url = create_test_database(settings, suffix="_migrations_test")
    eng = make_engine(settings, url=url)
    yield eng
    eng.dispose()
    drop_test_database(url)


def test_upgrade_downgrade_upgrade(scratch_engine):
    upgrade(scratch_engine)
    assert current(scratch_engine) is not None
    assert set(LAYERS) <= set(inspect(scratch_engine).get_table_names())
    downgrade(scratch_engine, "base")
    assert current(scratch_engine) is None
    assert not set(LAYERS) & set(inspect(scratch_engine).get_table_names())
    upgrade(scratch_engine)
    assert set(LAYERS) <= set(inspect(scratch_engine).get_table_names())


def test_migrations_match_table_definitions(scratch_engine):
    upgrade(scratch_engine)
    with scratch_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, metadata)
    assert diff == [], "tables.py changed without a migration: " + repr(diff)


def test_geometry_columns_declare_srid_and_have_gist_indexes(scratch_engine):
    upgrade(scratch_engine)
    with scratch_engine.connect() as conn:
        from sqlalchemy import text

        rows = conn.execute(
            text(
                "SELECT f_table_name, f_geometry_column, srid FROM geometry_columns g "
                "JOIN pg_class r ON r.relname = g.f_table_name AND r.relkind = 'r' "
                "AND r.relnamespace = 'public'::regnamespace "  # a view has no index
                "WHERE f_table_schema = 'public'"
            )
        ).all()
        indexed = {
            (r.tablename, r.indexdef)
            for r in conn.execute(
                text(
                    "SELECT tablename, indexdef FROM pg_indexes WHERE indexdef LIKE '%USING gist%'"
                )
            )
        }
    assert rows and all(r.srid == 4326 for r in rows)
    for table, column, _srid in rows:
        assert any(t == table and f"({column})" in d for t, d in indexed), (table, column)


def test_0004_gives_existing_rows_keys_and_downgrades(scratch_engine):
    from sqlalchemy import text

    line = "ST_SetSRID(ST_MakeLine(ST_Point(99.5, 18.3), ST_Point(99.51, 18.3)), 4326)"
    downgrade(scratch_engine, "base")
    upgrade(scratch_engine, "0003")
    with scratch_engine.begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO rivers (id, name_th, name_en, geom) VALUES "
                f"(3, 'วัง', 'Wang', {line}), (1234, 'ตุ๋ย', 'Tui', {line})"
            )
        )
        conn.execute(
            text(
                "INSERT INTO roads (id, code, name_th, name_en, road_class, surface, geom) VALUES "
                + ", ".join(
                    f"({i}, {code}, 'ถนน', 'Road', '{cls}', 'asphalt', {line})"
                    for i, code, cls in [
                        (5, "'1035'", "national"),
                        (2, "'1035'", "national"),
                        (9, "'11'", "national"),
                        (7, "'1035'", "national"),
                        (8, "NULL", "local"),
                    ]
                )
            )
        )
        history = conn.execute(text("SELECT count(*) FROM feature_history")).scalar_one()
    upgrade(scratch_engine)
    with scratch_engine.connect() as conn:
        rivers = conn.execute(text("SELECT id, code FROM rivers ORDER BY id")).all()
        assert [tuple(r) for r in rivers] == [(3, "R-03"), (1234, "R-1234")]  # pads, never cuts
        roads = conn.execute(text("SELECT id, segment FROM roads ORDER BY id")).all()
        assert dict(roads) == {2: 1, 5: 2, 7: 3, 8: None, 9: 1}
        # a backfill is not an edit
        assert conn.execute(text("SELECT count(*) FROM feature_history")).scalar_one() == history
        assert conn.execute(text("SELECT count(*) FROM zoning_categories")).scalar_one() == 15
    with scratch_engine.begin() as conn:
        plan = conn.execute(
            text(
                "INSERT INTO zoning_plans (code, name_th, name_en, effective_date) "
                "VALUES ('P', 'ผัง', 'Plan', DATE '2024-01-01') RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO zoning_zones (plan_id, land_use_code, category, geom) VALUES "
                "(:plan, 'พ.1', 'commercial', "
                "ST_Multi(ST_MakeEnvelope(99.4, 18.2, 99.5, 18.3, 4326)))"
            ),
            {"plan": plan},
        )
    downgrade(scratch_engine, "0003")
    names = inspect(scratch_engine)
    assert "data_loads" not in names.get_table_names()
    assert "code" not in {c["name"] for c in names.get_columns("rivers")}
    assert "segment" not in {c["name"] for c in names.get_columns("roads")}
    assert "tambon_code" not in {c["name"] for c in names.get_columns("local_bodies")}
    with scratch_engine.connect() as conn:
        # the reference categories go, except one a zone uses
        keys = conn.execute(text("SELECT key FROM zoning_categories")).scalars().all()
        assert keys == ["commercial"]
    upgrade(scratch_engine)


def test_every_table_declares_one_geometry_type_that_its_data_has(scratch_engine):
    """geometry_columns tells QGIS the truth: a concrete type per table column, no GEOMETRY,
    and every stored geometry of that type (issue 15: water sources said POINT)."""
    from sqlalchemy import text

    upgrade(scratch_engine)
    with scratch_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT g.f_table_name AS tbl, g.f_geometry_column AS col, g.type "
                "FROM geometry_columns g JOIN pg_class r ON r.relname = g.f_table_name "
                "AND r.relnamespace = current_schema()::regnamespace "
                "WHERE g.f_table_schema = current_schema() AND r.relkind = 'r'"
            )
        ).all()
        declared = {(r.tbl, r.col): r.type for r in rows}
        assert {("water_points", "geom"), ("water_areas", "geom"), ("water_lines", "geom")} <= set(
            declared
        )
        assert "water_sources" not in {t for t, _ in declared}  # a view now, not a table
        generic = {key: kind for key, kind in declared.items() if kind == "GEOMETRY"}
        assert not generic, f"tables whose geometry type is not declared: {generic}"
        for (table, column), kind in declared.items():
            found = conn.execute(
                text(f'SELECT DISTINCT GeometryType("{column}") FROM "{table}"')
            ).scalars()
            assert set(found) <= {kind}, (table, column, kind)


def _water_0007(conn) -> None:
    from sqlalchemy import text

    conn.execute(
        text(
            "INSERT INTO water_sources (id, code, name_th, name_en, kind, geom) VALUES "
            "(3, 'W-3', 'บ่อบาดาล', 'Well', 'groundwater_well', "
            " ST_SetSRID(ST_Point(99.5, 18.3), 4326)), "
            "(10, 'W-10', 'อ่างเก็บน้ำ', 'Reservoir', 'reservoir', "
            " ST_MakeEnvelope(99.4, 18.2, 99.41, 18.21, 4326)), "
            "(11, NULL, 'อ่างสอง', 'Reservoir 2', 'reservoir', "
            " ST_Multi(ST_MakeEnvelope(99.42, 18.2, 99.43, 18.21, 4326))), "
            "(20, 'W-20', 'คลอง', 'Canal', 'canal', "
            " ST_SetSRID(ST_MakeLine(ST_Point(99.5, 18.3), ST_Point(99.51, 18.3)), 4326))"
        )
    )
    conn.execute(text("UPDATE water_sources SET name_en = 'Old reservoir' WHERE id = 10"))
    conn.execute(
        text(
            "INSERT INTO inspections (water_source_id, inspected_on, condition_score,"
            " condition_scale) VALUES (3, DATE '2025-01-01', 3, 'score_1_5'),"
            " (10, DATE '2025-01-01', 4, 'score_1_5'), (20, DATE '2025-01-02', 2, 'score_1_5')"
        )
    )


def test_0008_splits_water_sources_by_geometry_and_downgrades(scratch_engine):
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    downgrade(scratch_engine, "base")
    upgrade(scratch_engine, "0007")
    with scratch_engine.begin() as conn:
        _water_0007(conn)
    upgrade(scratch_engine, "0008")
    with scratch_engine.connect() as conn:
        ids = {
            t: conn.execute(text(f"SELECT id FROM {t} ORDER BY id")).scalars().all()
            for t in ("water_points", "water_areas", "water_lines")
        }
        assert ids == {"water_points": [3], "water_areas": [10, 11], "water_lines": [20]}
        assert conn.execute(
            text("SELECT DISTINCT GeometryType(geom) FROM water_areas")
        ).scalars().all() == ["MULTIPOLYGON"]
        # inspections still resolve through the view
        resolved = conn.execute(
            text(
                "SELECT i.water_source_id, w.name_en FROM inspections i "
                "JOIN water_sources w ON w.id = i.water_source_id ORDER BY 1"
            )
        ).all()
        assert [tuple(r) for r in resolved] == [(3, "Well"), (10, "Old reservoir"), (20, "Canal")]
        # the history follows each feature to its new layer, geometry as the layer has it
        layers = conn.execute(
            text("SELECT DISTINCT layer, feature_id FROM feature_history WHERE layer LIKE 'water%'")
        ).all()
        assert ("water_areas", "10") in {tuple(r) for r in layers}
        assert "water_sources" not in {r.layer for r in layers}
        before = conn.execute(
            text(
                "SELECT before -> 'geom' ->> 'type' FROM feature_history "
                "WHERE layer = 'water_areas' AND operation = 'update'"
            )
        ).scalar_one()
        assert before == "MultiPolygon"
        from gis_registry.history import feature_changes

        changes = feature_changes(conn, "water_areas", 10)  # what the API's history serves
        assert [c["operation"] for c in changes] == ["insert", "update"]
    # ids and codes are unique across the three; the shared sequence goes on after the last id
    with scratch_engine.begin() as conn:
        new = conn.execute(
            text(
                "INSERT INTO water_lines (name_th, name_en, kind, geom) VALUES ('ใหม่', 'New',"
                " 'canal', ST_SetSRID(ST_MakeLine(ST_Point(99.5, 18.3), ST_Point(99.6, 18.3)),"
                " 4326)) RETURNING id"
            )
        ).scalar_one()
        assert new == 21
        conn.execute(text("DELETE FROM water_lines WHERE id = :id"), {"id": new})
    for statement, rule in (
        (
            "INSERT INTO water_points (code, name_th, name_en, kind, geom) VALUES ('W-10', 'ก',"
            " 'A', 'pond', ST_SetSRID(ST_Point(99.5, 18.3), 4326))",
            "water_source_unique",
        ),
        (
            "INSERT INTO water_points (id, name_th, name_en, kind, geom) VALUES (20, 'ก', 'A',"
            " 'pond', ST_SetSRID(ST_Point(99.5, 18.3), 4326))",
            "water_source_unique",
        ),
        (
            "INSERT INTO inspections (water_source_id, inspected_on, condition_score,"
            " condition_scale) VALUES (999, DATE '2025-01-01', 3, 'score_1_5')",
            "fk_inspections_water_source_id",
        ),
    ):
        with pytest.raises(IntegrityError) as refused, scratch_engine.begin() as conn:
            conn.execute(text(statement))
        assert refused.value.orig.diag.constraint_name == rule
    # deleting a water source takes its inspections along (ON DELETE CASCADE before)
    with scratch_engine.begin() as conn:
        conn.execute(text("DELETE FROM water_lines WHERE id = 20"))
        left = conn.execute(text("SELECT water_source_id FROM inspections ORDER BY 1")).scalars()
        assert left.all() == [3, 10]
    downgrade(scratch_engine, "0007")
    with scratch_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, code, GeometryType(geom) FROM water_sources ORDER BY id")
        ).all()
        assert [tuple(r) for r in rows] == [
            (3, "W-3", "POINT"),
            (10, "W-10", "MULTIPOLYGON"),
            (11, None, "MULTIPOLYGON"),
        ]
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM inspections i"
                    " JOIN water_sources w ON w.id = i.water_source_id"
                )
            ).scalar_one()
            == 2
        )
        assert (
            conn.execute(
                text("SELECT count(*) FROM feature_history WHERE layer = 'water_sources'")
            ).scalar_one()
            > 0
        )
    with scratch_engine.begin() as conn:  # the foreign key is back
        conn.execute(text("DELETE FROM water_sources WHERE id = 3"))
        assert conn.execute(text("SELECT count(*) FROM inspections")).scalar_one() == 1
    upgrade(scratch_engine)
