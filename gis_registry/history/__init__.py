"""Change history of the layers: who changed which feature when, before and after.

Rows of ``feature_history`` are written by database triggers (migration 0003) on every insert,
update and delete, whoever writes; :func:`set_actor` names the person for the current transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select, text

from gis_registry.db.tables_auth import feature_history
from gis_registry.errors import NotFound
from gis_registry.queries.features import layer_table


def set_actor(conn: Connection, actor: str) -> None:
    """Record ``actor`` as the author of the changes made in the current transaction."""
    conn.execute(text("SELECT set_config('gis_registry.actor', :actor, true)"), {"actor": actor})


def feature_changes(conn: Connection, layer: str, feature_id: Any) -> list[dict[str, Any]]:
    """Every recorded change of one feature, oldest first (``before``/``after`` as JSON, with
    geometries as GeoJSON)."""
    layer_table(layer)
    query = (
        select(
            feature_history.c.id,
            feature_history.c.operation,
            feature_history.c.changed_at,
            feature_history.c.changed_by,
            feature_history.c.before,
            feature_history.c.after,
        )
        .where(
            feature_history.c.layer == layer,
            feature_history.c.feature_id == str(feature_id),
        )
        .order_by(feature_history.c.id)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def require_feature_history(conn: Connection, layer: str, feature_id: Any) -> list[dict[str, Any]]:
    """Like :func:`feature_changes`, raising :class:`NotFound` when nothing is known of it."""
    changes = feature_changes(conn, layer, feature_id)
    if not changes:
        table = layer_table(layer)
        key = table.primary_key.columns.values()[0]
        exists = conn.execute(select(key).where(key == feature_id)).first()
        if exists is None:
            raise NotFound(f"{layer} record {feature_id} does not exist and never did")
    return changes


def layer_as_of_sql(layer: str) -> str:
    """SQL (psycopg ``%(name)s`` parameters ``at``, ``layer``) selecting ``rec`` (jsonb): each
    record of ``layer`` as it was at time ``at``.

    A row unchanged since ``at`` is read from the table; a row changed since is the ``before`` of
    its first change after ``at`` (none if it was inserted after ``at``). Correct as long as every
    change after ``at`` was recorded, which the triggers guarantee since migration 0003.
    """
    table = layer_table(layer)
    key = table.primary_key.columns.values()[0].name
    # identifiers come from the table registry, never from input
    return f"""
        WITH later AS (
            SELECT DISTINCT ON (feature_id) feature_id, before
            FROM feature_history
            WHERE layer = %(layer)s AND changed_at > %(at)s
            ORDER BY feature_id, id
        )
        SELECT to_jsonb(t) AS rec, t."{key}"::text AS fid FROM "{table.name}" t
        WHERE t.created_at <= %(at)s
          AND NOT EXISTS (SELECT 1 FROM later WHERE later.feature_id = t."{key}"::text)
        UNION ALL
        SELECT before AS rec, feature_id AS fid FROM later WHERE before IS NOT NULL
    """


def layer_as_of(conn: Connection, layer: str, at: dt.datetime) -> list[dict[str, Any]]:
    """Every record of ``layer`` as it was at ``at`` (geometries as GeoJSON mappings)."""
    sql = layer_as_of_sql(layer)
    rows = conn.exec_driver_sql(sql, {"layer": layer, "at": at}).all()
    return [row[0] for row in rows]
