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
