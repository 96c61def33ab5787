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
                "SELECT f_table_name, f_geometry_column, srid FROM geometry_columns "
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
