"""Emptying layers: :func:`clear_layers` deletes every row of some layers, with what the
database's foreign keys take along; :func:`count_rows_to_clear` says beforehand what would go.

Not ``TRUNCATE ... CASCADE``: that empties every table that merely *refers* to a cleared one,
whatever its foreign key says, so clearing rivers would empty bridges (whose ``river_id`` is
only set to NULL) and clearing local bodies would empty users and their API keys. Here each
foreign key's own ON DELETE rule decides, as for a DELETE:

- CASCADE: the referring rows go too, and are counted (the inspections of cleared roads);
- SET NULL: the reference is emptied and the row stays (a bridge over a cleared river);
- RESTRICT / NO ACTION: the clear is refused, naming the rows in the way (bridges still on
  roads being cleared: clear bridges too).

The foreign keys are read from the database catalogue, so a table added by a later migration
is taken into account without a change here. A table that only cleared tables refer to is
TRUNCATEd (instant at any size); the others are DELETEd children first. Either way the feature
history records nothing: a bulk clear is not an edit. Nor is it a load, so it writes no
``data_loads`` row; the next load's row shows what was deleted when it replaces a layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from gis_registry.catalog import LOGICAL_LAYERS
from gis_registry.db.tables import LAYERS, TRIGGER_REFERENCES, metadata
from gis_registry.errors import GisRegistryError, NotFound

# pg_constraint.confdeltype
CASCADE = "c"
BLOCKING = ("a", "r")  # NO ACTION, RESTRICT

_FOREIGN_KEYS = """
SELECT ch.relname::text AS child, pa.relname::text AS parent, c.confdeltype::text AS action,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
             ORDER BY k.i) AS columns,
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
             ORDER BY k.i) AS parent_columns
FROM pg_constraint c
JOIN pg_class ch ON ch.oid = c.conrelid
JOIN pg_class pa ON pa.oid = c.confrelid
WHERE c.contype = 'f'
  AND pa.relnamespace = current_schema()::regnamespace
  AND ch.relnamespace = pa.relnamespace
ORDER BY 1, 2, 4
"""


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key as the catalogue has it (``action``: pg_constraint.confdeltype)."""

    child: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    action: str
    # held by triggers, not the catalogue (tables.TRIGGER_REFERENCES): a water source id may
    # name a row of any of the three water tables, so only ids of this parent refer to it
    by_trigger: bool = False


@dataclass(frozen=True)
class _Plan:
    cleared: list[str]  # the layers emptied, in load order
    removed: dict[str, str]  # table -> SQL condition on its rows that go ("TRUE": all of them)
    foreign_keys: list[ForeignKey]


# Reference data every registry has after ``migrate`` (0004): cleared only when named, since
# nothing but a demo load would bring it back.
REFERENCE = ("zoning_categories",)


def _layers(layers: list[str] | None) -> list[str]:
    if layers is None:
        return [name for name in LAYERS if name not in REFERENCE]
    # a logical layer (water_sources) is its layers (water_points, water_areas, water_lines)
    layers = [part for name in layers for part in LOGICAL_LAYERS.get(name, (name,))]
    unknown = [name for name in layers if name not in LAYERS]
    if unknown:
        raise NotFound(
            f"unknown layer {', '.join(repr(n) for n in unknown)}; the layers are "
            + ", ".join(LAYERS)
        )
    wanted = set(layers)
    return [name for name in LAYERS if name in wanted]


def foreign_keys(conn: Connection) -> list[ForeignKey]:
    """Every foreign key between tables of the current schema, from the catalogue, and the
    references triggers hold as ON DELETE CASCADE (``inspections.water_source_id``)."""
    found = [
        ForeignKey(r.child, tuple(r.columns), r.parent, tuple(r.parent_columns), r.action)
        for r in conn.execute(text(_FOREIGN_KEYS))
    ]
    for (child, column), parents in TRIGGER_REFERENCES.items():
        found.extend(
            ForeignKey(child, (column,), parent, ("id",), CASCADE, by_trigger=True)
            for parent in parents
        )
    return found


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _refers(conn: Connection, fk: ForeignKey, parent_removed: str) -> str:
    """SQL condition on ``fk.child``'s rows: they refer to a row of the parent that goes."""
    cols = [_quote(conn, c) for c in fk.columns]
    if parent_removed == "TRUE" and not fk.by_trigger:
        # MATCH SIMPLE: a reference with a NULL in it refers to nothing
        return "(" + " AND ".join(f"{c} IS NOT NULL" for c in cols) + ")"
    target = ", ".join(_quote(conn, c) for c in fk.parent_columns)
    return (
        f"(({', '.join(cols)}) IN (SELECT {target} FROM {_quote(conn, fk.parent)} "
        f"WHERE {parent_removed}))"
    )


def _plan(conn: Connection, layers: list[str] | None) -> _Plan:
    cleared = _layers(layers)
    fks = foreign_keys(conn)
    removed = {name: "TRUE" for name in cleared}
    cascading = [fk for fk in fks if fk.action == CASCADE and fk.child not in removed]
    # A row goes when a cascading key refers to a row that goes; iterate until the conditions
    # stop changing (as many rounds as the longest cascade chain).
    for _ in range(len(cascading) + 1):
        grown = {name: "TRUE" for name in cleared}
        for fk in cascading:
            if fk.parent in removed:
                cond = _refers(conn, fk, removed[fk.parent])
                grown[fk.child] = f"{grown[fk.child]} OR {cond}" if fk.child in grown else cond
        if grown == removed:
            break
        removed = grown
    else:
        raise GisRegistryError("cannot clear: the foreign keys cascade in a cycle")
    return _Plan(cleared, removed, fks)


def _count(conn: Connection, plan: _Plan) -> dict[str, int]:
    """Rows that go per table; raises when a blocking foreign key is in the way."""
    for fk in plan.foreign_keys:
        if fk.action not in BLOCKING or fk.parent not in plan.removed:
            continue
        if plan.removed.get(fk.child) == "TRUE":
            continue
        stays = (
            f"NOT coalesce(({plan.removed[fk.child]}), false)"
            if fk.child in plan.removed
            else "TRUE"
        )
        blocking = conn.execute(
            text(
                f"SELECT count(*) FROM {_quote(conn, fk.child)} "
                f"WHERE {_refers(conn, fk, plan.removed[fk.parent])} AND {stays}"
            )
        ).scalar_one()
        if blocking:
            hint = f"clear {fk.child} too" if fk.child in LAYERS else "change them first"
            raise GisRegistryError(
                f"cannot clear {fk.parent}: {blocking:,} {fk.child} still refer to them "
                f"({fk.child}.{', '.join(fk.columns)}); {hint}"
            )
    counts: dict[str, int] = {}
    for table, cond in plan.removed.items():
        n = conn.execute(
            text(f"SELECT count(*) FROM {_quote(conn, table)} WHERE {cond}")
        ).scalar_one()
        if n or table in plan.cleared:
            counts[table] = int(n)
    return counts


def count_rows_to_clear(conn: Connection, layers: list[str] | None) -> dict[str, int]:
    """How many rows :func:`clear_layers` would delete, per table, without deleting any.

    Parameters
    ----------
    conn
        A connection to the registry.
    layers
        Layers to empty (names of ``gis_registry.db.tables.LAYERS``); None for all of them
        but the reference data (:data:`REFERENCE`, the DPT zoning categories).

    Returns
    -------
    dict
        Rows per table: every cleared layer (in load order, zeros included), then the tables
        that lose rows by cascade (e.g. ``inspections`` of cleared ``roads``).

    Raises
    ------
    NotFound
        A layer name is not a layer; the message lists the layers.
    GisRegistryError
        Rows of a table that is not cleared still refer to rows that would go, under a
        RESTRICT or NO ACTION foreign key (e.g. bridges on roads).
    """
    return _count(conn, _plan(conn, layers))


def _truncatable(plan: _Plan) -> list[str]:
    """Cleared tables that only other truncated tables refer to (TRUNCATE demands that)."""
    ok = set(plan.cleared)
    changed = True
    while changed:
        changed = False
        for fk in plan.foreign_keys:
            if fk.parent in ok and fk.child not in ok:
                ok.discard(fk.parent)
                changed = True
    return [name for name in plan.cleared if name in ok]


def clear_layers(conn: Connection, layers: list[str] | None) -> dict[str, int]:
    """Delete every row of ``layers``, and what their foreign keys cascade to.

    Runs in the caller's transaction (``with engine.begin() as conn``): all or nothing, and
    nothing is committed here. The tables involved are locked against writes first, so the
    counts returned are the rows deleted. Ids are not reused afterwards (sequences are kept):
    the feature history names features by id. Nothing is recorded in ``feature_history`` or
    ``data_loads`` (a clear is neither an edit nor a load).

    Parameters
    ----------
    conn
        A connection to the registry, inside a transaction.
    layers
        Layers to empty (names of ``gis_registry.db.tables.LAYERS``); None for all of them
        but the reference data (:data:`REFERENCE`, the DPT zoning categories).
        Clearing ``zoning_categories`` removes the DPT reference categories too; ``migrate``
        does not put them back.

    Returns
    -------
    dict
        Rows deleted per table, as :func:`count_rows_to_clear` counts them.

    Raises
    ------
    NotFound
        A layer name is not a layer.
    GisRegistryError
        A RESTRICT or NO ACTION foreign key is in the way; nothing was deleted.
    """
    plan = _plan(conn, layers)
    if not plan.cleared:
        return {}
    truncated = _truncatable(plan)
    others = [t for t in plan.removed if t not in truncated]
    # TRUNCATE needs ACCESS EXCLUSIVE anyway; EXCLUSIVE keeps writers out, readers in
    for mode, tables in (("ACCESS EXCLUSIVE", truncated), ("EXCLUSIVE", others)):
        if tables:
            names = ", ".join(_quote(conn, t) for t in tables)
            conn.execute(text(f"LOCK TABLE {names} IN {mode} MODE"))
    counts = _count(conn, plan)
    previous = conn.execute(
        text("SELECT current_setting('gis_registry.history', true)")
    ).scalar_one()
    # a bulk clear is not an edit: no feature_history row per deleted record (0003)
    conn.execute(text("SELECT set_config('gis_registry.history', 'off', true)"))
    if truncated:
        conn.execute(text("TRUNCATE " + ", ".join(_quote(conn, t) for t in truncated)))
    # children before parents, so RESTRICT keys between cleared layers are satisfied
    order = [t.name for t in reversed(metadata.sorted_tables)]
    for table in sorted((t for t in plan.cleared if t not in truncated), key=order.index):
        conn.execute(text(f"DELETE FROM {_quote(conn, table)}"))
    conn.execute(
        text("SELECT set_config('gis_registry.history', :value, true)"),
        {"value": previous or ""},
    )
    return counts
