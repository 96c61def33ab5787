"""users, API keys and feature history

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-25 19:10:00

Users with roles, hashed API keys, and the history of every change to a layer's rows, written
by row triggers so library writes, API writes and imports are all recorded. The actor is read
from the ``gis_registry.actor`` setting (``SET LOCAL``), falling back to the database user; a
bulk loader may ``SET LOCAL gis_registry.history = 'off'`` to skip recording.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

# layer -> primary key column
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

HISTORY_FUNCTION = """
CREATE FUNCTION gis_registry_record_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_after jsonb;
    row_before jsonb;
BEGIN
    -- Checked first: bulk loaders switch history off and must not pay for to_jsonb per row.
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
"""


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column(
            "local_body_id",
            sa.Integer(),
            nullable=True,
            comment="the LGO whose assets an editor may change",
        ),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "role IN ('viewer', 'editor', 'admin')", name=op.f("ck_users_role_known")
        ),
        sa.CheckConstraint(
            "username ~ '^[A-Za-z0-9._@-]{1,64}$'", name=op.f("ck_users_username_format")
        ),
        sa.ForeignKeyConstraint(
            ["local_body_id"],
            ["local_bodies.id"],
            name=op.f("fk_users_local_body_id"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        comment="People and programs that use the API, with their role.",
    )
    op.create_index(op.f("ix_users_local_body_id"), "users", ["local_body_id"], unique=False)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False, comment="public part, shown in listings"),
        sa.Column(
            "key_hash", sa.Text(), nullable=False, comment="SHA-256 of the secret part (hex)"
        ),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
        comment="API keys; only a hash of the secret is stored.",
    )
    op.create_index(op.f("ix_api_keys_user_id"), "api_keys", ["user_id"], unique=False)
    op.create_table(
        "feature_history",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("feature_id", sa.Text(), nullable=False),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column(
            "changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("changed_by", sa.Text(), nullable=True),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint(
            "operation IN ('insert', 'update', 'delete')",
            name=op.f("ck_feature_history_operation_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_history")),
        comment="Every insert, update and delete of a layer's rows (written by triggers).",
    )
    op.create_index(
        "ix_feature_history_layer_feature",
        "feature_history",
        ["layer", "feature_id", "id"],
        unique=False,
    )
    op.create_index(
        "ix_feature_history_layer_changed_at",
        "feature_history",
        ["layer", "changed_at"],
        unique=False,
    )
    op.execute(HISTORY_FUNCTION)
    for table, key in HISTORY_LAYERS.items():
        op.execute(
            f"CREATE TRIGGER {table}_history AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION gis_registry_record_history('{key}')"
        )


def downgrade() -> None:
    for table in HISTORY_LAYERS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_history ON {table}")
    op.execute("DROP FUNCTION IF EXISTS gis_registry_record_history()")
    op.drop_index("ix_feature_history_layer_changed_at", table_name="feature_history")
    op.drop_index("ix_feature_history_layer_feature", table_name="feature_history")
    op.drop_table("feature_history")
    op.drop_index(op.f("ix_api_keys_user_id"), table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_index(op.f("ix_users_local_body_id"), table_name="users")
    op.drop_table("users")
