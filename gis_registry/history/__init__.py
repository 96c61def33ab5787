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


# The author of a change, as the triggers name it (0003, 0005): the actor set for the
# transaction, else the database user.
_ACTOR = "coalesce(nullif(current_setting('gis_registry.actor', true), ''), session_user)"


def record_layer_rows(conn: Connection, layer: str, operation: str) -> int:
    """Record every row ``layer`` holds now as inserted (or as about to be deleted), in one
    statement, for a bulk load that runs with the history off (``gis_registry.history =
    'off'``, the demo's COPY), so that :func:`layer_as_of_sql` knows a loaded feature did not
    exist before its load, and that a replaced one did.

    A ``delete`` row keeps the record as ``before`` (it is gone afterwards). An ``insert`` row
    says when and by whom, with no copy of the record (``after`` is null): until the feature's
    first change the record is the row itself, and that change's ``before`` keeps it after.
    A copy would add nothing the history lacks, and costs: turning a road into JSON (its
    geometry into GeoJSON) takes about 35 microseconds, which doubled the time of the demo's
    road COPY (``python -m bench demo``) and would add some 40 s to the million roads of
    scale 100.

    Parameters
    ----------
    conn
        A connection in the load's transaction.
    layer
        A layer of the catalogue (its table and key come from the table registry).
    operation
        ``"insert"`` (call after loading the layer) or ``"delete"`` (call before emptying it).

    Returns
    -------
    int
        History rows written.
    """
    if operation not in ("insert", "delete"):
        raise ValueError(f"operation must be insert or delete, not {operation!r}")
    table = layer_table(layer)
    key = table.primary_key.columns.values()[0].name
    before = "to_jsonb(t)" if operation == "delete" else "NULL"
    # identifiers from the table registry, never from input
    statement = f"""
        INSERT INTO feature_history (layer, feature_id, operation, changed_by, before, after)
        SELECT :layer, t."{key}"::text, :operation, {_ACTOR}, {before}, NULL
        FROM "{table.name}" t
    """
    result = conn.execute(text(statement), {"layer": layer, "operation": operation})
    return int(result.rowcount)


def redact_authors(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``changes`` with ``changed_by`` emptied (None): for callers who may not know who edits.

    Usernames are staff accounts; the public (anonymous callers) sees what changed and when,
    not who changed it. Authenticated callers, viewers included, see the names.
    """
    return [{**change, "changed_by": None} for change in changes]


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
    change after ``at`` was recorded, which the triggers guarantee since migration 0003 and
    bulk loads since :func:`record_layer_rows`. A ``before`` created after ``at`` is never
    shown: a row loaded with no insert recorded (a demo loaded by an older version) and edited
    since did not exist at ``at`` either.
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
        SELECT before AS rec, feature_id AS fid FROM later
        WHERE before IS NOT NULL AND (before ->> 'created_at')::timestamptz <= %(at)s
    """


def layer_as_of(conn: Connection, layer: str, at: dt.datetime) -> list[dict[str, Any]]:
    """Every record of ``layer`` as it was at ``at`` (geometries as GeoJSON mappings)."""
    sql = layer_as_of_sql(layer)
    rows = conn.exec_driver_sql(sql, {"layer": layer, "at": at}).all()
    return [row[0] for row in rows]
