"""any province: codes and measures that are not Lampang's; history recorded per statement

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 17:00:00

Issue 12 (a registry for any PAO imports its own COD-AB province, districts and tambons):

- district codes are any 4-digit DOPA code (was: ``52xx``, Lampang's only);
- rural and local road codes start with any province's Thai abbreviation (``ลป.4007``,
  ``ชม.ถ. 1-0023``; was: ``ลป`` only; see ``domain.ROAD_CODE_PATTERNS``);
- stored measures (``area_km2``, ``length_m``, ``area_m2``) are geodesic, on the geography type:
  UTM 47N (the old expression) is right for Lampang but not for a province in zone 48.

The feature history of inserts and deletes is written once per statement from the transition
tables, instead of by a row trigger: a 100,000-row import spent about 6 s of its 13 s in the row
trigger. Updates keep the row trigger (``OLD`` and ``NEW`` pair themselves there even when a
key changes).
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

HISTORY_LAYERS = {
    "districts": "code",
    "local_bodies": "id",
    "settlements": "id",
    "rivers": "id",
    "roads": "id",
    "bridges": "id",
    "water_sources": "id",
    "zoning_categories": "key",
    "zoning_plans": "id",
    "zoning_zones": "id",
    "hazard_areas": "id",
    "inspections": "id",
    "maintenance_works": "id",
}

# table -> (column, new expression, old expression, column it follows in meaning)
MEASURES = {
    ("districts", "area_km2"): (
        "ST_Area(boundary::geography) / 1e6",
        "ST_Area(ST_Transform(boundary, 32647)) / 1e6",
    ),
    ("local_bodies", "area_km2"): (
        "ST_Area(boundary::geography) / 1e6",
        "ST_Area(ST_Transform(boundary, 32647)) / 1e6",
    ),
    ("rivers", "length_m"): ("ST_Length(geom::geography)", "ST_Length(ST_Transform(geom, 32647))"),
    ("roads", "length_m"): ("ST_Length(geom::geography)", "ST_Length(ST_Transform(geom, 32647))"),
    ("zoning_zones", "area_m2"): ("ST_Area(geom::geography)", "ST_Area(ST_Transform(geom, 32647))"),
    ("hazard_areas", "area_m2"): ("ST_Area(geom::geography)", "ST_Area(ST_Transform(geom, 32647))"),
}

ROAD_CODES = {
    "rural": (r"^[ก-ฮ]{1,3}\.[0-9]{4}$", r"^ลป\.[0-9]{4}$"),
    "local": (r"^[ก-ฮ]{1,3}\.ถ\.\s?[0-9]{1,3}-[0-9]{4}$", r"^ลป\.ถ\.\s?[0-9]{1,3}-[0-9]{4}$"),
}

STATEMENT_HISTORY = """
CREATE FUNCTION gis_registry_record_history_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    actor text := coalesce(nullif(current_setting('gis_registry.actor', true), ''), session_user);
BEGIN
    IF coalesce(current_setting('gis_registry.history', true), '') = 'off' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        -- MATERIALIZED: to_jsonb once per row (inlined, it would run for the id and the row)
        WITH rows AS MATERIALIZED (SELECT to_jsonb(n) AS j FROM new_rows n)
        INSERT INTO feature_history (layer, feature_id, operation, changed_by, before, after)
        SELECT TG_TABLE_NAME, j ->> TG_ARGV[0], 'insert', actor, NULL, j FROM rows;
    ELSE
        WITH rows AS MATERIALIZED (SELECT to_jsonb(o) AS j FROM old_rows o)
        INSERT INTO feature_history (layer, feature_id, operation, changed_by, before, after)
        SELECT TG_TABLE_NAME, j ->> TG_ARGV[0], 'delete', actor, j, NULL FROM rows;
    END IF;
    RETURN NULL;
END $$;
"""


def _measure(table: str, column: str, expression: str) -> None:
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute(
        f"ALTER TABLE {table} ADD COLUMN {column} double precision"
        f" GENERATED ALWAYS AS ({expression}) STORED"
    )


def _road_codes(which: int) -> None:
    for cls, patterns in ROAD_CODES.items():
        op.drop_constraint(op.f(f"ck_roads_code_{cls}"), "roads", type_="check")
        op.create_check_constraint(
            op.f(f"ck_roads_code_{cls}"),
            "roads",
            f"road_class <> '{cls}' OR code ~ '{patterns[which]}'",
        )


def upgrade() -> None:
    # rewriting stored measures and checking codes are not edits
    op.execute("SET LOCAL gis_registry.history = 'off'")
    op.drop_constraint(op.f("ck_districts_code_format"), "districts", type_="check")
    op.create_check_constraint(op.f("ck_districts_code_format"), "districts", "code ~ '^[0-9]{4}$'")
    _road_codes(0)
    for (table, column), (new, _) in MEASURES.items():
        _measure(table, column, new)
    op.execute(STATEMENT_HISTORY)
    for table, key in HISTORY_LAYERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {table}_history ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_history AFTER UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION gis_registry_record_history('{key}')"
        )
        op.execute(
            f"CREATE TRIGGER {table}_history_insert AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION gis_registry_record_history_rows('{key}')"
        )
        op.execute(
            f"CREATE TRIGGER {table}_history_delete AFTER DELETE ON {table} "
            "REFERENCING OLD TABLE AS old_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION gis_registry_record_history_rows('{key}')"
        )


def downgrade() -> None:
    op.execute("SET LOCAL gis_registry.history = 'off'")
    for table, key in HISTORY_LAYERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {table}_history_insert ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_history_delete ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_history ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_history AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION gis_registry_record_history('{key}')"
        )
    op.execute("DROP FUNCTION IF EXISTS gis_registry_record_history_rows()")
    for (table, column), (_, old) in MEASURES.items():
        _measure(table, column, old)
    _road_codes(1)
    op.drop_constraint(op.f("ck_districts_code_format"), "districts", type_="check")
    op.create_check_constraint(
        op.f("ck_districts_code_format"), "districts", "code ~ '^52[0-9]{2}$'"
    )
