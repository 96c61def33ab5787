"""water sources split by geometry: water_points, water_areas, water_lines

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 02:00:00

Issue 15: ``water_sources`` mixed points, polygons and lines in one ``geometry`` column (the
type held by a CHECK), so ``geometry_columns`` reported POINT and QGIS hid the reservoirs and
canals, and an OGC API client typed the collection from its first feature. Every water source
moves, keeping its id, to the table of its geometry:

- ``water_points`` ``geometry(Point, 4326)``: wells, ponds drawn as points, ...;
- ``water_areas`` ``geometry(MultiPolygon, 4326)``: reservoirs (a Polygon becomes a one-part
  MultiPolygon);
- ``water_lines`` ``geometry(LineString, 4326)``: canals.

The three share the sequence ``water_source_ids``, so a water source id stays unique across
them, and a trigger refuses an id or a code another of the three holds (rule
``water_source_unique``). ``inspections.water_source_id`` and
``maintenance_works.water_source_id`` keep naming a water source: a foreign key cannot point at
three tables, so triggers check it (``fk_<table>_water_source_id``, raised as a foreign key
violation) and delete a water source's inspections and works with it, as ON DELETE CASCADE did.
``water_sources`` becomes a read-only view, the UNION ALL of the three, for readers of every
water source (analyses, maps, reports). The feature history of ``water_sources`` is renamed to
the layer each feature now lives in, so its history and ``items?at=`` keep working.

The downgrade puts every row back into one ``water_sources`` table (areas stay MultiPolygon,
which that table accepts) with its foreign keys and history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SEQUENCE = "water_source_ids"
# table -> (geometry type, GeometryType() values it takes from water_sources, how it takes them)
WATER = {
    "water_points": ("POINT", ("POINT",), "geom"),
    "water_areas": ("MULTIPOLYGON", ("POLYGON", "MULTIPOLYGON"), "ST_Multi(geom)"),
    "water_lines": ("LINESTRING", ("LINESTRING",), "geom"),
}
HOLDS = {
    "water_points": "points (wells, ponds, village water supplies, ...)",
    "water_areas": "areas (reservoirs, ...)",
    "water_lines": "lines (canals)",
}
CHILDREN = ("inspections", "maintenance_works")
COLUMNS = (
    "id, code, osm_id, name_th, name_en, kind, capacity_m3, households_served, "
    "owner_local_body_id, owner_agency, year_built, geom, created_at, updated_at"
)
KINDS = (
    "reservoir",
    "weir",
    "check_dam",
    "pond",
    "groundwater_well",
    "shallow_well",
    "village_water_supply",
    "canal",
    "groundwater_bank",
)
AGENCIES = ("DOH", "DRR", "RID", "DWR", "DGR", "PWA", "EGAT", "other")
CODE_COMMENT = (
    "water source code, unique: the key imports and exports match records by; rows older "
    "than migration 0004 got 'W-' + id zero-padded to 6 digits"
)
OSM_COMMENT = (
    "OpenStreetMap node, way or relation it came from (n42, w7, r7); unique; NULL when made here"
)
REFERENCE_COMMENT = (
    "id of a water_points, water_areas or water_lines record (a trigger checks it and deletes "
    "the row with its water source: see TRIGGER_REFERENCES)"
)


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _checks(table: str, geometry_rule: str | None = None) -> list[sa.CheckConstraint]:
    checks = {
        "kind_known": f"kind IN ({_listed(KINDS)})",
        "owner_agency_known": f"owner_agency IN ({_listed(AGENCIES)})",
        "one_owner": "num_nonnulls(owner_local_body_id, owner_agency) <= 1",
        "year_built_range": "year_built BETWEEN 1850 AND 2100",
        "capacity_m3_non_negative": "capacity_m3 >= 0",
        "households_served_non_negative": "households_served >= 0",
        "geom_valid": "ST_IsValid(geom)",
        "geom_not_empty": "NOT ST_IsEmpty(geom)",
    }
    if geometry_rule:
        checks["geom_type"] = geometry_rule
    return [
        sa.CheckConstraint(sql, name=op.f(f"ck_{table}_{name}")) for name, sql in checks.items()
    ]


def _create(table: str, geometry_type: str, id_column: sa.Column, comment: str) -> None:
    op.create_table(
        table,
        id_column,
        sa.Column("code", sa.Text(), nullable=True, comment=CODE_COMMENT),
        sa.Column("osm_id", sa.Text(), nullable=True, comment=OSM_COMMENT),
        sa.Column("name_th", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("capacity_m3", sa.Float(), nullable=True),
        sa.Column("households_served", sa.Integer(), nullable=True),
        sa.Column("owner_local_body_id", sa.Integer(), nullable=True),
        sa.Column("owner_agency", sa.Text(), nullable=True),
        sa.Column("year_built", sa.SmallInteger(), nullable=True),
        sa.Column(
            "geom",
            Geometry(geometry_type, srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        *_checks(table, None if geometry_type != "GEOMETRY" else _OLD_GEOMETRY_RULE),
        sa.ForeignKeyConstraint(
            ["owner_local_body_id"],
            ["local_bodies.id"],
            name=op.f(f"fk_{table}_owner_local_body_id"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("code", name=op.f(f"uq_{table}_code")),
        sa.UniqueConstraint("osm_id", name=op.f(f"uq_{table}_osm_id")),
        comment=comment,
    )
    op.execute(f"CREATE INDEX idx_{table}_geom ON {table} USING gist (geom)")
    op.create_index(op.f(f"ix_{table}_owner_local_body_id"), table, ["owner_local_body_id"])
    op.execute(
        f"CREATE TRIGGER {table}_updated_at BEFORE UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION gis_registry_touch_updated_at()"
    )
    _history_triggers(table)


_OLD_GEOMETRY_RULE = "GeometryType(geom) IN ('POINT', 'POLYGON', 'MULTIPOLYGON', 'LINESTRING')"


def _history_triggers(table: str) -> None:
    """The history triggers every layer has (0005): updates per row, the rest per statement."""
    op.execute(
        f"CREATE TRIGGER {table}_history AFTER UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION gis_registry_record_history('id')"
    )
    op.execute(
        f"CREATE TRIGGER {table}_history_insert AFTER INSERT ON {table} "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION gis_registry_record_history_rows('id')"
    )
    op.execute(
        f"CREATE TRIGGER {table}_history_delete AFTER DELETE ON {table} "
        "REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION gis_registry_record_history_rows('id')"
    )


# Every water source of the three tables, with the table it is in (the functions below).
_ALL = " UNION ALL ".join(
    f"SELECT '{t}'::text AS layer, id, code FROM {t}"
    for t in ("water_points", "water_areas", "water_lines")
)

FUNCTIONS = f"""
CREATE FUNCTION gis_registry_water_source_unique() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    taken record;
BEGIN
    -- each table's primary key and unique index hold within it; this holds across the three
    SELECT * INTO taken FROM ({_ALL}) w
    WHERE w.layer <> TG_TABLE_NAME AND (w.id = NEW.id OR w.code = NEW.code)
    LIMIT 1;
    IF FOUND THEN
        IF taken.id = NEW.id THEN
            RAISE EXCEPTION 'water source id % is taken by % record %', NEW.id, taken.layer,
                taken.id
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'water_source_unique',
                      TABLE = TG_TABLE_NAME, COLUMN = 'id',
                      DETAIL = format('Key (id)=(%s) already exists in %s.', NEW.id,
                                      taken.layer);
        END IF;
        RAISE EXCEPTION 'water source code % is taken by % record %', NEW.code, taken.layer,
            taken.id
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'water_source_unique',
                  TABLE = TG_TABLE_NAME, COLUMN = 'code',
                  DETAIL = format('Key (code)=(%s) already exists in %s.', NEW.code,
                                  taken.layer);
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION gis_registry_water_source_exists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.water_source_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM ({_ALL}) w WHERE w.id = NEW.water_source_id
    ) THEN
        RAISE EXCEPTION 'insert or update on table "%" violates rule "fk_%_water_source_id"',
            TG_TABLE_NAME, TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'fk_' || TG_TABLE_NAME || '_water_source_id',
                  TABLE = TG_TABLE_NAME, COLUMN = 'water_source_id',
                  DETAIL = format('Key (water_source_id)=(%s) is not present in water_points,'
                                  ' water_areas or water_lines.', NEW.water_source_id);
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION gis_registry_water_source_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- ON DELETE CASCADE, as the foreign keys before 0008 did
    DELETE FROM inspections WHERE water_source_id IN (SELECT id FROM old_rows);
    DELETE FROM maintenance_works WHERE water_source_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END $$;

CREATE FUNCTION gis_registry_water_source_renumbered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- ON UPDATE NO ACTION, as the foreign keys before 0008 did
    IF EXISTS (SELECT 1 FROM inspections WHERE water_source_id = OLD.id)
       OR EXISTS (SELECT 1 FROM maintenance_works WHERE water_source_id = OLD.id) THEN
        RAISE EXCEPTION 'water source % is still referred to by inspections or works', OLD.id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'water_source_unique',
                  TABLE = TG_TABLE_NAME, COLUMN = 'id',
                  DETAIL = format('Key (id)=(%s) is still referenced from inspections or '
                                  'maintenance_works.', OLD.id);
    END IF;
    RETURN NULL;
END $$;
"""

VIEW = "CREATE VIEW water_sources AS " + " UNION ALL ".join(
    f"SELECT id, code, osm_id, name_th, name_en, kind, capacity_m3, households_served, "
    f"owner_local_body_id, owner_agency, year_built, geom::geometry(Geometry, 4326) AS geom, "
    f"created_at, updated_at FROM {t}"
    for t in WATER
)

# The layer a water source's history belongs to: the table it is in now, else (deleted) the
# type of the last geometry its history holds.
HISTORY_LAYERS = """
CREATE TEMPORARY TABLE water_history_layers ON COMMIT DROP AS
SELECT f.feature_id, coalesce(
    (SELECT 'water_points' FROM water_points WHERE id::text = f.feature_id),
    (SELECT 'water_areas' FROM water_areas WHERE id::text = f.feature_id),
    (SELECT 'water_lines' FROM water_lines WHERE id::text = f.feature_id),
    (SELECT CASE g ->> 'type' WHEN 'LineString' THEN 'water_lines'
                              WHEN 'Polygon' THEN 'water_areas'
                              WHEN 'MultiPolygon' THEN 'water_areas' END
     FROM (SELECT coalesce(h.after -> 'geom', h.before -> 'geom') AS g FROM feature_history h
           WHERE h.layer = 'water_sources' AND h.feature_id = f.feature_id
             AND coalesce(h.after -> 'geom', h.before -> 'geom') IS NOT NULL
           ORDER BY h.id DESC LIMIT 1) last),
    'water_points') AS layer
FROM (SELECT DISTINCT feature_id FROM feature_history WHERE layer = 'water_sources') f
"""


def _promoted(column: str) -> str:
    """``column`` (a history record) with a Polygon geometry made a one-part MultiPolygon."""
    return (
        f"CASE WHEN {column} -> 'geom' ->> 'type' = 'Polygon' THEN jsonb_set({column}, '{{geom}}',"
        f" jsonb_build_object('type', 'MultiPolygon', 'coordinates',"
        f" jsonb_build_array({column} -> 'geom' -> 'coordinates'))) ELSE {column} END"
    )


def upgrade() -> None:
    # moving rows is not an edit: the history is renamed below instead
    op.execute("SET LOCAL gis_registry.history = 'off'")
    op.execute(f"CREATE SEQUENCE {SEQUENCE}")
    op.execute(
        f"SELECT setval('{SEQUENCE}', coalesce((SELECT max(id) FROM water_sources), 0) + 1, false)"
    )
    for table, (geometry_type, _, _) in WATER.items():
        id_column = sa.Column(
            "id",
            sa.Integer(),
            server_default=sa.text(f"nextval('{SEQUENCE}'::regclass)"),
            nullable=False,
            comment=f"shared by water_points, water_areas and water_lines ({SEQUENCE})",
        )
        comment = (
            f"Water sources for farming and daily life drawn as {HOLDS[table]}; "
            "code and id unique across water_points, water_areas and water_lines."
        )
        _create(table, geometry_type, id_column, comment)
    for table, (_, types, expression) in WATER.items():
        op.execute(
            f"INSERT INTO {table} ({COLUMNS}) SELECT {COLUMNS.replace('geom,', expression + ',')} "
            f"FROM water_sources WHERE GeometryType(geom) IN ({_listed(types)})"
        )
    op.execute(FUNCTIONS)
    for table in WATER:
        op.execute(
            f"CREATE TRIGGER {table}_unique BEFORE INSERT OR UPDATE OF id, code ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION gis_registry_water_source_unique()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_cascade AFTER DELETE ON {table} "
            "REFERENCING OLD TABLE AS old_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION gis_registry_water_source_deleted()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_renumbered AFTER UPDATE OF id ON {table} "
            "FOR EACH ROW WHEN (OLD.id <> NEW.id) "
            "EXECUTE FUNCTION gis_registry_water_source_renumbered()"
        )
    for child in CHILDREN:
        op.drop_constraint(op.f(f"fk_{child}_water_source_id"), child, type_="foreignkey")
        op.alter_column(
            child, "water_source_id", comment=REFERENCE_COMMENT, existing_type=sa.Integer()
        )
        op.execute(
            # WHEN: the function is not even called for a road's or a bridge's record (a
            # plpgsql call per row cost the demo's inspection COPY 16 % at scale 100)
            f"CREATE TRIGGER {child}_water_source BEFORE INSERT OR UPDATE OF water_source_id "
            f"ON {child} FOR EACH ROW WHEN (NEW.water_source_id IS NOT NULL) "
            "EXECUTE FUNCTION gis_registry_water_source_exists()"
        )
    op.execute(HISTORY_LAYERS)
    op.execute(
        "UPDATE feature_history h SET layer = m.layer, "
        f"before = CASE WHEN m.layer = 'water_areas' THEN {_promoted('h.before')} ELSE h.before END, "
        f"after = CASE WHEN m.layer = 'water_areas' THEN {_promoted('h.after')} ELSE h.after END "
        "FROM water_history_layers m "
        "WHERE h.layer = 'water_sources' AND h.feature_id = m.feature_id"
    )
    op.drop_table("water_sources")
    op.execute(VIEW)
    op.execute(
        "COMMENT ON VIEW water_sources IS 'Every water source (view of water_points, "
        "water_areas and water_lines): read it, write the tables.'"
    )


def downgrade() -> None:
    op.execute("SET LOCAL gis_registry.history = 'off'")
    op.execute("DROP VIEW water_sources")
    id_column = sa.Column("id", sa.Integer(), nullable=False)  # serial, as before 0008
    _create("water_sources", "GEOMETRY", id_column, "Water sources for farming and daily life.")
    op.execute(
        f"INSERT INTO water_sources ({COLUMNS}) "
        + " UNION ALL ".join(f"SELECT {COLUMNS} FROM {t}" for t in WATER)
    )
    op.execute(
        "SELECT setval('water_sources_id_seq', "
        "coalesce((SELECT max(id) FROM water_sources), 0) + 1, false)"
    )
    for child in CHILDREN:
        op.execute(f"DROP TRIGGER {child}_water_source ON {child}")
        op.alter_column(child, "water_source_id", comment=None, existing_type=sa.Integer())
        op.create_foreign_key(
            op.f(f"fk_{child}_water_source_id"),
            child,
            "water_sources",
            ["water_source_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.execute(
        "UPDATE feature_history SET layer = 'water_sources' "
        f"WHERE layer IN ({_listed(tuple(WATER))})"
    )
    for table in WATER:
        op.drop_table(table)  # its triggers go with it
    for function in ("unique", "exists", "deleted", "renumbered"):
        op.execute(f"DROP FUNCTION gis_registry_water_source_{function}()")
    op.execute(f"DROP SEQUENCE {SEQUENCE}")
