"""Tables of who may do what (users, API keys) and of what changed (feature history).

They live on the same ``metadata`` as the layers so Alembic compares them too; import this module
wherever the metadata must be complete (``gis_registry.db.tables`` imports it at its end).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from gis_registry.db.tables import _in, check, metadata

ROLES = ("viewer", "editor", "admin")
OPERATIONS = ("insert", "update", "delete")

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", Text, nullable=False, unique=True),
    Column("display_name", Text),
    Column("role", Text, nullable=False),
    Column(
        "local_body_id",
        Integer,
        ForeignKey("local_bodies.id", ondelete="RESTRICT"),
        index=True,
        comment="the LGO whose assets an editor may change",
    ),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    check(
        "users",
        "role_known",
        _in("role", ROLES),
        f"role must be one of {', '.join(ROLES)}",
    ),
    check(
        "users",
        "username_format",
        "username ~ '^[A-Za-z0-9._@-]{1,64}$'",
        "username is 1-64 letters, digits or . _ @ -",
    ),
    comment="People and programs that use the API, with their role.",
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("prefix", Text, nullable=False, unique=True, comment="public part, shown in listings"),
    Column("key_hash", Text, nullable=False, comment="SHA-256 of the secret part (hex)"),
    Column("name", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
    comment="API keys; only a hash of the secret is stored.",
)

feature_history = Table(
    "feature_history",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("layer", Text, nullable=False),
    Column("feature_id", Text, nullable=False),
    Column("operation", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("changed_by", Text),
    Column("before", JSONB),
    Column("after", JSONB),
    check(
        "feature_history",
        "operation_known",
        _in("operation", OPERATIONS),
        f"operation must be one of {', '.join(OPERATIONS)}",
    ),
    Index("ix_feature_history_layer_feature", "layer", "feature_id", "id"),
    Index("ix_feature_history_layer_changed_at", "layer", "changed_at"),
    comment="Every insert, update and delete of a layer's rows (written by triggers).",
)
