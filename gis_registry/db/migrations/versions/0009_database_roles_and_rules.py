"""database roles, row-level security and the API's rules in the database

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 03:00:00

Issue 15: a GIS officer editing in QGIS straight on the database bypassed every rule the API
holds (a well at latitude 99.51, another in Bangkok) as the superuser ``db url`` handed out.

- **Group roles** (NOLOGIN, cluster-wide, made once): ``gis_registry_viewer`` reads every table
  but the secrets (``users``, ``api_keys``) and the authors in ``feature_history``;
  ``gis_registry_editor`` (a viewer) writes the assets of one local body;
  ``gis_registry_admin`` (an editor) writes every table. ``gis-registry db role add`` makes
  LOGIN roles members of one of them and records each in ``database_roles``.
- **Row-level security** on the editable layers mirrors :mod:`gis_registry.auth.permissions`:
  an editor writes the roads, water sources and villages of their local body, the bridges of
  its roads, the inspections and works of its assets, works funded by it or by no LGO. RLS is
  ENABLEd, not FORCEd: the tables' owner (the application's user, which runs the API, the CLI
  and this migration) and superusers skip it, so the application pays nothing for it. An
  editor's change or delete of another LGO's row is refused by the row trigger
  ``<table>_editor_owns`` with an error, not skipped silently as a USING clause would (QGIS
  would report success); its WHEN clause spares the owner the call.
- **Rules the database did not hold** become a statement trigger on every geometry layer but
  the boundaries (as validation skips them): ``geom_in_lonlat_range`` (longitude -180..180,
  latitude -90..90: catches swapped lon/lat and projected coordinates) and
  ``geom_inside_province`` (the PAO boundary's box widened by 2 km, PROVINCE_MARGIN_M, cached
  in ``province_extent`` by a trigger on ``local_bodies``; no PAO, no box). For the login roles
  only, ``geom_vertices`` also bounds the vertices (the API's default limits; the application
  applies its configured ones itself).
- **History** records the login role (``session_user``) for changes made by a login role: its
  ``gis_registry.actor`` and ``gis_registry.history = 'off'`` settings, which any session can
  set, are ignored; the history and layer-version triggers run as their owner (SECURITY
  DEFINER) so a login role needs no write on ``feature_history``.

Group roles need CREATEROLE: on a database whose user lacks it (and where no administrator
made them) the roles part is skipped and ``db role add`` says why; the rules are installed.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

VIEWER, EDITOR, ADMIN = "gis_registry_viewer", "gis_registry_editor", "gis_registry_admin"
GROUPS = (VIEWER, EDITOR, ADMIN)
SECRETS = ("users", "api_keys")
# layer -> the owner expression of a row (see gis_registry.auth.permissions)
OWNED = {
    "roads": "owner_local_body_id",
    "water_points": "owner_local_body_id",
    "water_areas": "owner_local_body_id",
    "water_lines": "owner_local_body_id",
    "settlements": "local_body_id",
    "bridges": "gis_registry_road_owner(road_id)",
    "inspections": "gis_registry_asset_owner(road_id, bridge_id, water_source_id)",
    "maintenance_works": "gis_registry_asset_owner(road_id, bridge_id, water_source_id)",
}
# an editor spends only their own budget, or records a work no LGO pays
FUNDED = {"maintenance_works": "funding_local_body_id"}
# geometry layers checked against the province (validation skips local_bodies and districts)
GEOMETRY_LAYERS = (
    "settlements",
    "rivers",
    "roads",
    "bridges",
    "water_points",
    "water_areas",
    "water_lines",
    "zoning_zones",
    "hazard_areas",
)
# validation.MAX_VERTICES / MAX_AREA_VERTICES (their defaults: the login roles' limits)
MAX_VERTICES, MAX_AREA_VERTICES = 10_000, 250_000
MARGIN_M = 2_000.0  # gis_registry.geodesy.PROVINCE_MARGIN_M

FUNCTIONS = f"""
CREATE TABLE database_roles (
    role_name text PRIMARY KEY,
    kind text NOT NULL CONSTRAINT ck_database_roles_kind_known
        CHECK (kind IN ('viewer', 'editor', 'admin')),
    local_body_id integer REFERENCES local_bodies (id) ON DELETE RESTRICT,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL DEFAULT session_user,
    CONSTRAINT ck_database_roles_local_body_matches
        CHECK ((kind = 'editor') = (local_body_id IS NOT NULL))
);
COMMENT ON TABLE database_roles IS
    'Login roles made by gis-registry db role add: their kind and, for an editor, the local '
    'body whose assets it may write (read by the row-level security policies).';

CREATE TABLE province_extent (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    min_lon double precision NOT NULL,
    min_lat double precision NOT NULL,
    max_lon double precision NOT NULL,
    max_lat double precision NOT NULL
);
COMMENT ON TABLE province_extent IS
    'The PAO boundary''s box widened by {MARGIN_M:g} m (geodesy.province_extent), kept by a '
    'trigger on local_bodies; empty without a PAO. The rule geom_inside_province reads it.';

CREATE FUNCTION gis_registry_province_extent_now() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM province_extent;
    -- the margin in degrees as geodesy.province_extent computes it
    INSERT INTO province_extent (min_lon, min_lat, max_lon, max_lat)
    SELECT greatest(-180, ST_XMin(b) - dlon), greatest(-90, ST_YMin(b) - dlat),
           least(180, ST_XMax(b) + dlon), least(90, ST_YMax(b) + dlat)
    FROM (
        SELECT b, dlat, {MARGIN_M} / (111320.0 * cos(radians(
                   least(89.0, greatest(abs(ST_YMin(b)), abs(ST_YMax(b))) + dlat)))) AS dlon
        FROM (SELECT ST_Extent(boundary)::box2d AS b, {MARGIN_M} / 111320.0 AS dlat
              FROM local_bodies WHERE kind = 'pao') AS box
        WHERE b IS NOT NULL
    ) AS margin;
END $$;

CREATE FUNCTION gis_registry_refresh_province_extent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM gis_registry_province_extent_now();
    RETURN NULL;
END $$;

CREATE FUNCTION gis_registry_direct_role() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM public.database_roles WHERE role_name = session_user)
$$;

CREATE FUNCTION gis_registry_actor() RETURNS text LANGUAGE sql STABLE AS $$
    -- a login role is itself, whatever it sets; the application names its user
    SELECT CASE WHEN public.gis_registry_direct_role() THEN session_user::text
           ELSE coalesce(nullif(current_setting('gis_registry.actor', true), ''), session_user)
           END
$$;

CREATE FUNCTION gis_registry_history_off() RETURNS boolean LANGUAGE sql STABLE AS $$
    -- bulk loads of the application switch history off; a login role cannot
    SELECT coalesce(current_setting('gis_registry.history', true), '') = 'off'
           AND NOT public.gis_registry_direct_role()
$$;

CREATE FUNCTION gis_registry_editor_lgo() RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT local_body_id FROM public.database_roles
    WHERE role_name = current_user AND kind = 'editor'
$$;

CREATE FUNCTION gis_registry_road_owner(road integer) RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT owner_local_body_id FROM public.roads WHERE id = road
$$;

CREATE FUNCTION gis_registry_asset_owner(road integer, bridge integer, water integer)
RETURNS integer LANGUAGE sql STABLE AS $$
    -- as permissions.owning_local_body: the road, else the bridge's road, else the water source
    SELECT CASE
        WHEN road IS NOT NULL THEN public.gis_registry_road_owner(road)
        WHEN bridge IS NOT NULL THEN (
            SELECT public.gis_registry_road_owner(b.road_id) FROM public.bridges b
            WHERE b.id = bridge)
        WHEN water IS NOT NULL THEN (
            SELECT w.owner_local_body_id FROM public.water_sources w WHERE w.id = water)
    END
$$;

CREATE FUNCTION gis_registry_editor_owns() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lgo integer := public.gis_registry_editor_lgo();
    r jsonb;
    owner integer;
BEGIN
    -- only an editor's own statements: not a cascade of a trigger (0008's water sources)
    IF lgo IS NULL OR pg_trigger_depth() > 1 THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    r := to_jsonb(OLD);
    owner := CASE
        WHEN TG_TABLE_NAME = 'settlements' THEN (r ->> 'local_body_id')::integer
        WHEN TG_TABLE_NAME = 'bridges' THEN public.gis_registry_road_owner((r ->> 'road_id')::integer)
        WHEN TG_TABLE_NAME IN ('inspections', 'maintenance_works') THEN
            public.gis_registry_asset_owner((r ->> 'road_id')::integer,
                (r ->> 'bridge_id')::integer, (r ->> 'water_source_id')::integer)
        ELSE (r ->> 'owner_local_body_id')::integer
    END;
    IF owner IS DISTINCT FROM lgo THEN
        RAISE EXCEPTION 'editor % may only change % of local body % (record % belongs to %)',
            current_user, TG_TABLE_NAME, lgo, r ->> 'id', coalesce(owner::text, 'no local body')
            USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE FUNCTION gis_registry_check_geometries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    box record;
    bad record;
    changed text := '';
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- only geometries this statement changed; OFFSET 0 keeps the join to the few rows
        -- found outside (a bulk update would otherwise hash all of old_rows)
        changed := ') n WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.id = n.id '
                   'AND o.geom ~= n.geom)';
    ELSE
        changed := ') n';
    END IF;
    EXECUTE 'SELECT n.id, ST_AsText(ST_PointOnSurface(n.geom)) AS at FROM (SELECT * FROM '
            'new_rows n WHERE NOT (n.geom @ ST_MakeEnvelope(-180, -90, 180, 90, 4326)) '
            'OFFSET 0' || changed || ' LIMIT 1' INTO bad;
    IF bad.id IS NOT NULL THEN
        RAISE EXCEPTION '% record %: geom (at %) is not longitude/latitude in WGS 84: latitude '
            'and longitude swapped, or projected coordinates? (rule geom_in_lonlat_range)',
            TG_TABLE_NAME, bad.id, bad.at
            USING ERRCODE = 'check_violation', CONSTRAINT = 'geom_in_lonlat_range',
                  TABLE = TG_TABLE_NAME, COLUMN = 'geom';
    END IF;
    SELECT * INTO box FROM public.province_extent;
    IF FOUND THEN
        EXECUTE 'SELECT n.id, ST_AsText(ST_PointOnSurface(n.geom)) AS at FROM (SELECT * FROM '
                'new_rows n WHERE NOT (n.geom @ ST_MakeEnvelope($1, $2, $3, $4, 4326)) '
                'OFFSET 0' || changed || ' LIMIT 1'
            INTO bad USING box.min_lon, box.min_lat, box.max_lon, box.max_lat;
        IF bad.id IS NOT NULL THEN
            RAISE EXCEPTION '% record %: geom (at %) lies outside the registry''s province '
                '(longitude % to %, latitude % to %, margin included): latitude and longitude '
                'swapped, or a place in another province? (rule geom_inside_province)',
                TG_TABLE_NAME, bad.id, bad.at, round(box.min_lon::numeric, 3),
                round(box.max_lon::numeric, 3), round(box.min_lat::numeric, 3),
                round(box.max_lat::numeric, 3)
                USING ERRCODE = 'check_violation', CONSTRAINT = 'geom_inside_province',
                      TABLE = TG_TABLE_NAME, COLUMN = 'geom';
        END IF;
    END IF;
    IF public.gis_registry_direct_role() THEN
        EXECUTE 'SELECT n.id, ST_NPoints(n.geom) AS at FROM (SELECT * FROM new_rows n '
                'WHERE ST_NPoints(n.geom) > CASE WHEN GeometryType(n.geom) LIKE ''%POLYGON'' '
                'THEN {MAX_AREA_VERTICES} ELSE {MAX_VERTICES} END OFFSET 0' || changed
                || ' LIMIT 1' INTO bad;
        IF bad.id IS NOT NULL THEN
            RAISE EXCEPTION '% record %: geom has % vertices, more than a geometry may have '
                '(rule geom_vertices)', TG_TABLE_NAME, bad.id, bad.at
                USING ERRCODE = 'check_violation', CONSTRAINT = 'geom_vertices',
                      TABLE = TG_TABLE_NAME, COLUMN = 'geom';
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION gis_registry_record_history() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
-- once per updated row: no SET search_path (a GUC change per call); every name is qualified
-- instead, so a login role's temporary table cannot stand in for feature_history
DECLARE
    row_after jsonb;
    row_before jsonb;
    actor text := nullif(current_setting('gis_registry.actor', true), '');
BEGIN
    -- Checked first: bulk loaders switch history off and must not pay for to_jsonb per row.
    -- A login role (database_roles) can switch off neither the history nor its own name; the
    -- lookup runs only when a setting asks for either (plans cached: no SQL function call).
    IF current_setting('gis_registry.history', true) = 'off' AND NOT EXISTS (
        SELECT 1 FROM public.database_roles WHERE role_name = session_user
    ) THEN
        RETURN NULL;
    END IF;
    IF actor IS NOT NULL AND EXISTS (
        SELECT 1 FROM public.database_roles WHERE role_name = session_user
    ) THEN
        actor := NULL;
    END IF;
    row_after := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END;
    row_before := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END;
    INSERT INTO public.feature_history (layer, feature_id, operation, changed_by, before, after)
    VALUES (
        TG_TABLE_NAME,
        coalesce(row_after, row_before) ->> TG_ARGV[0],
        lower(TG_OP),
        coalesce(actor, session_user),
        row_before,
        row_after
    );
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION gis_registry_record_history_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    actor text := gis_registry_actor();
BEGIN
    IF current_setting('gis_registry.history', true) = 'off' AND gis_registry_history_off() THEN
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

ALTER FUNCTION gis_registry_bump_layer_version() SECURITY DEFINER;
ALTER FUNCTION gis_registry_bump_layer_version() SET search_path = public, pg_temp;
"""

# 0003 and 0005's versions, put back by the downgrade
HISTORY_DOWN = """
CREATE OR REPLACE FUNCTION gis_registry_record_history() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE
    row_after jsonb;
    row_before jsonb;
BEGIN
    IF coalesce(current_setting('gis_registry.history', true), '') = 'off' THEN
        RETURN NULL;
    END IF;
    row_after := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END;
    row_before := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END;
    INSERT INTO feature_history (layer, feature_id, operation, changed_by, before, after)
    VALUES (
        TG_TABLE_NAME,
        coalesce(row_after, row_before) ->> TG_ARGV[0],
        lower(TG_OP),
        coalesce(nullif(current_setting('gis_registry.actor', true), ''), session_user),
        row_before,
        row_after
    );
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION gis_registry_record_history_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE
    actor text := coalesce(nullif(current_setting('gis_registry.actor', true), ''), session_user);
BEGIN
    IF coalesce(current_setting('gis_registry.history', true), '') = 'off' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
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

ALTER FUNCTION gis_registry_bump_layer_version() SECURITY INVOKER;
ALTER FUNCTION gis_registry_bump_layer_version() RESET search_path;
"""


def _may_make_roles() -> bool:
    """Whether the group roles exist or this user may create them (CREATEROLE, superuser)."""
    bind = op.get_bind()
    existing = bind.execute(
        text("SELECT count(*) FROM pg_roles WHERE rolname = ANY(:g)"), {"g": list(GROUPS)}
    ).scalar_one()
    if existing == len(GROUPS):
        return True
    return bool(
        bind.execute(
            text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
        ).scalar_one()
    )


def _groups_sql() -> str:
    """Create the group roles (cluster-wide: other databases of the cluster may have them)."""
    made = "\n".join(
        f"    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{g}') THEN\n"
        f"        CREATE ROLE {g} NOLOGIN;\n    END IF;"
        for g in GROUPS
    )
    # granted once: a user who did not create the groups may not grant them again
    chained = "\n".join(
        f"    IF NOT EXISTS (SELECT 1 FROM pg_auth_members WHERE roleid = '{group}'::regrole\n"
        f"                   AND member = '{member}'::regrole) THEN\n"
        f"        GRANT {group} TO {member};\n    END IF;"
        for group, member in ((VIEWER, EDITOR), (EDITOR, ADMIN))
    )
    return f"DO $$\nBEGIN\n{made}\n{chained}\nEND $$;"


def _grants() -> list[str]:
    schema = "public"
    owned = ", ".join(OWNED)
    secrets = ", ".join(SECRETS)
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {VIEWER}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {VIEWER}",
        f"REVOKE ALL ON {secrets} FROM {VIEWER}",
        # who changed what is for editors and admins, as the API shows it
        f"REVOKE ALL ON feature_history FROM {VIEWER}",
        f"GRANT SELECT (id, layer, feature_id, operation, changed_at, before, after) "
        f"ON feature_history TO {VIEWER}",
        f"GRANT SELECT ON feature_history TO {EDITOR}",
        f"GRANT INSERT, UPDATE, DELETE ON {owned} TO {EDITOR}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {EDITOR}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {ADMIN}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {ADMIN}",
        # written by triggers or by `db role` only; the view is read-only
        f"REVOKE INSERT, UPDATE, DELETE ON feature_history, database_roles, province_extent, "
        f"layer_versions, alembic_version, spatial_ref_sys, water_sources FROM {ADMIN}",
        # tables of later migrations: readable by viewers, writable by admins, once granted
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {VIEWER}",
    ]


def _grant_function() -> str:
    """``gis_registry_grant_groups()``: the groups' privileges, which a restore
    (``pg_restore --no-privileges``) does not bring back; it runs them again afterwards."""
    body = "\n".join(f"    EXECUTE {_literal(g)};" for g in _grants())
    return f"""
CREATE FUNCTION gis_registry_grant_groups() RETURNS void LANGUAGE plpgsql
SET search_path = public, pg_temp AS $grant$
BEGIN
    IF (SELECT count(*) FROM pg_roles WHERE rolname IN ('{VIEWER}', '{EDITOR}', '{ADMIN}')) < 3
    THEN
        RETURN;  -- no group roles on this cluster (no CREATEROLE): nothing to grant
    END IF;
{body}
END $grant$;
REVOKE ALL ON FUNCTION gis_registry_grant_groups() FROM PUBLIC;
"""


def _literal(sql: str) -> str:
    return "'" + sql.replace("'", "''") + "'"


def _policies() -> list[str]:
    # the application (the tables' owner, running this migration) skips the trigger's call
    owner_name = op.get_bind().execute(text("SELECT current_user")).scalar_one()
    out = []
    for table, owner in OWNED.items():
        mine = f"{owner} = gis_registry_editor_lgo()"
        check = mine
        if table in FUNDED:
            funder = FUNDED[table]
            check += f" AND ({funder} IS NULL OR {funder} = gis_registry_editor_lgo())"
        out += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"CREATE POLICY {table}_read ON {table} FOR SELECT TO {VIEWER} USING (true)",
            f"CREATE POLICY {table}_admin ON {table} FOR ALL TO {ADMIN} "
            "USING (true) WITH CHECK (true)",
            # UPDATE and DELETE see every row: a row of another LGO is refused by the trigger
            # {table}_editor_owns with an error naming it, where a USING clause would skip it
            # silently (QGIS would report a change that never happened)
            f"CREATE POLICY {table}_editor ON {table} FOR ALL TO {EDITOR} "
            f"USING (true) WITH CHECK ({check})",
            f"CREATE TRIGGER {table}_editor_owns BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW WHEN (current_user <> {_literal(owner_name)}) "
            "EXECUTE FUNCTION gis_registry_editor_owns()",
        ]
    return out


def upgrade() -> None:
    op.execute(FUNCTIONS)
    op.execute(
        "CREATE TRIGGER local_bodies_province_extent AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        "ON local_bodies FOR EACH STATEMENT "
        "EXECUTE FUNCTION gis_registry_refresh_province_extent()"
    )
    op.execute("SELECT gis_registry_province_extent_now()")
    for table in GEOMETRY_LAYERS:
        # existing rows are not re-checked (as NOT VALID): a bad one is refused when its
        # geometry changes, not when its other fields do
        op.execute(
            f"CREATE TRIGGER {table}_geometry_rules AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION gis_registry_check_geometries()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_geometry_rules_update AFTER UPDATE ON {table} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION gis_registry_check_geometries()"
        )
    op.execute(_grant_function())
    if _may_make_roles():
        op.execute(_groups_sql())
        op.execute("SELECT gis_registry_grant_groups()")
        for statement in _policies():
            op.execute(statement)


def downgrade() -> None:
    for table in OWNED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_editor_owns ON {table}")
        for policy in ("read", "admin", "editor"):
            op.execute(f"DROP POLICY IF EXISTS {table}_{policy} ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for table in GEOMETRY_LAYERS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_geometry_rules ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_geometry_rules_update ON {table}")
    op.execute("DROP TRIGGER IF EXISTS local_bodies_province_extent ON local_bodies")
    op.execute(HISTORY_DOWN)
    existing = op.get_bind().execute(
        text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:g)"), {"g": list(GROUPS)}
    )
    for (group,) in existing:
        # the roles are the cluster's: other databases may use them, so only this one's
        # privileges go; login roles made by `db role add` stay (`db role remove` drops them)
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {group}")
        op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {group}")
        op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {group}")
        op.execute(f"REVOKE ALL ON SCHEMA public FROM {group}")
    for function in (
        "editor_owns()",
        "grant_groups()",
        "check_geometries()",
        "asset_owner(integer, integer, integer)",
        "road_owner(integer)",
        "editor_lgo()",
        "history_off()",
        "actor()",
        "direct_role()",
        "refresh_province_extent()",
        "province_extent_now()",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS gis_registry_{function}")
    op.execute("DROP TABLE IF EXISTS province_extent")
    op.execute("DROP TABLE IF EXISTS database_roles")
