"""``load_demo``: plan the province and COPY it into the registry in one transaction.

A demo load replaces every layer, so it first makes sure it destroys nothing but an earlier
demo (:func:`check_replaceable`), and it records itself in ``data_loads`` (one row per layer,
source ``demo``) so that the next load can tell.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Engine, insert, text
from sqlalchemy.exc import DBAPIError

from gis_registry.db.copy import copy_frame
from gis_registry.db.tables import LAYERS, WATER_SOURCE_IDS, WATER_TABLES, data_loads
from gis_registry.demo.model import DemoPlan, DemoReport
from gis_registry.demo.plan import plan_demo
from gis_registry.errors import DatabaseUnavailable, GisRegistryError
from gis_registry.history import record_layer_rows
from gis_registry.io.clear import clear_layers

# Reference data every registry holds after ``migrate`` (0004): not "data" for these checks.
REFERENCE_LAYERS = ("zoning_categories",)
# (stage, steps done, steps in all), called as a load goes: a shell draws a progress bar.
Progress = Callable[[str, int, int], None]
# Steps of a load besides one per layer: clearing, sequences and users, analysing.
_LOAD_STEPS = 3


def _quiet(stage: str, done: int, total: int) -> None:
    """The progress callback of a caller that wants none."""


def _row_counts(conn: Connection) -> dict[str, int]:
    """Rows per layer (every layer of ``LAYERS``, zeros included), in one round trip."""
    # table names from the LAYERS allow-list, never from a caller
    counts = ", ".join(f"(SELECT count(*) FROM {name}) AS {name}" for name in LAYERS)
    row = conn.execute(text(f"SELECT {counts}")).one()
    return dict(row._mapping)


def registry_is_empty(engine: Engine) -> bool:
    """True when no layer holds a row (the reference zoning categories do not count)."""
    with engine.connect() as conn:
        return not any(
            conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {name})")).scalar_one()
            for name in LAYERS
            if name not in REFERENCE_LAYERS
        )


def check_replaceable(conn: Connection) -> None:
    """Refuse to replace data the demo did not load.

    The registry may be replaced when it holds no data (reference categories aside), or when
    its data came from the demo: a demo load is recorded in ``data_loads`` and no load from
    another source (an import, OSM) is recorded after it. Edits made through the API after a
    demo load do not count as foreign data (the demo's records are invented anyway).

    Parameters
    ----------
    conn
        A connection to a migrated registry.

    Raises
    ------
    GisRegistryError
        The registry holds data from elsewhere; the one-line message says how many rows of
        which layers a demo load would destroy, and to use ``--force``.
    """
    counts = {k: v for k, v in _row_counts(conn).items() if v and k not in REFERENCE_LAYERS}
    if not counts:
        return
    last = conn.execute(
        text(
            "SELECT max(id) FILTER (WHERE source = 'demo') AS demo, "
            "max(id) FILTER (WHERE source <> 'demo') AS other FROM data_loads"
        )
    ).one()
    if last.demo is not None and (last.other is None or last.other < last.demo):
        return
    if last.other is None:
        why = "no demo load is recorded"
    else:
        source, layer, path = conn.execute(
            text("SELECT source, layer, path FROM data_loads WHERE id = :id"), {"id": last.other}
        ).one()
        when = " after the last demo load" if last.demo is not None else ""
        why = f"{layer} came from {source}" + (f" of {path}" if path else "") + when
    lost = ", ".join(f"{n:,} {layer}" for layer, n in counts.items())
    raise GisRegistryError(
        f"the registry holds data the demo did not load ({why}); loading the demo would "
        f"destroy {lost}; use --force to replace it anyway"
    )


def _detach_users(conn: Connection) -> list[dict[str, object]]:
    """Users are not a layer: they outlive a reload. Note each one's LGO by code and detach it
    (its key is RESTRICT), so the LGOs can go; :func:`_attach_users` brings them back."""
    users = [
        dict(row._mapping)
        for row in conn.execute(
            text(
                "SELECT u.id, lb.code FROM users u JOIN local_bodies lb ON lb.id = u.local_body_id"
            )
        )
    ]
    if users:
        conn.execute(text("UPDATE users SET local_body_id = NULL WHERE local_body_id IS NOT NULL"))
    return users


def _attach_users(conn: Connection, users: list[dict[str, object]]) -> None:
    """Attach users again to the LGO of the same code (none if the new data lacks it)."""
    if users:
        conn.execute(
            text(
                "UPDATE users u SET local_body_id = lb.id FROM local_bodies lb "
                "WHERE u.id = :id AND lb.code = :code"
            ),
            users,
        )


def load_plan(
    engine: Engine, plan: DemoPlan, *, force: bool = False, progress: Progress | None = None
) -> tuple[dict[str, int], dict[str, float]]:
    """COPY a planned province into the registry, replacing what its layers held.

    In one transaction, so a failure leaves the registry as it was: every layer of
    ``tables.LAYERS`` is emptied (:func:`gis_registry.io.clear.clear_layers`) and reloaded with
    COPY; sequences are moved past the explicit ids and the tables analysed, so the planner has
    statistics straight away. Users and their API keys stay (an editor is attached again to the
    LGO of the same code), and so do the feature history and ``data_loads``, which gets one
    row per layer: source ``demo``, path ``seed=<seed> scale=<scale>``, mode ``replace``, the
    rows inserted and the rows the layer held before (``deleted``).

    The feature history records the load as the triggers would an import: a ``delete`` of each
    row replaced and an ``insert`` of each row loaded (one ``INSERT ... SELECT`` per layer,
    :func:`gis_registry.history.record_layer_rows`; the COPY itself runs with the history off),
    so that a layer read as it was before the load (``items?at=``) does not show the demo.

    Parameters
    ----------
    engine
        Engine on a migrated registry database.
    plan
        The province from :func:`gis_registry.demo.plan_demo`.
    force
        Replace the registry's data even when the demo did not load it (see
        :func:`check_replaceable`, which runs first, with the layers locked).
    progress
        Called ``(stage, done, total)`` before each step (clearing, each layer, analysing)
        and once at the end, ``done == total``.

    Returns
    -------
    dict, dict
        Rows and seconds per layer (seconds also for ``"(clear)"`` and ``"(analyze)"``).

    Raises
    ------
    GisRegistryError
        The registry holds data the demo did not load and ``force`` is false, or the load
        failed (the message names the layer).
    """
    layer = "(clear)"
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}
    step = _steps(progress, len(LAYERS) + _LOAD_STEPS)
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL statement_timeout = 0"))
            # the triggers off: the load records its history itself, once per layer
            conn.execute(text("SET LOCAL gis_registry.history = 'off'"))
            # the lock the clear takes anyway, taken first: nothing lands after the check
            conn.execute(text(f"LOCK TABLE {', '.join(LAYERS)} IN ACCESS EXCLUSIVE MODE"))
            if not force:
                check_replaceable(conn)
            step("clearing")
            started = time.perf_counter()
            users = _detach_users(conn)
            for name in LAYERS:
                record_layer_rows(conn, name, "delete")
            before = clear_layers(conn, list(LAYERS))  # the DPT palette too: reloaded below
            seconds[layer] = time.perf_counter() - started
            raw = conn.connection.driver_connection
            assert raw is not None  # the psycopg connection of a live pool connection
            with raw.cursor() as cur:
                for layer, table in LAYERS.items():
                    step(layer)
                    started = time.perf_counter()
                    frame = plan.frames[layer]
                    columns = [c.name for c in table.columns if c.name in frame.columns]
                    counts[layer] = copy_frame(cur, layer, frame[columns])
                    record_layer_rows(conn, layer, "insert")
                    seconds[layer] = time.perf_counter() - started
                step("sequences")
                # the water tables' shared sequence (0008) goes on after the last of the three
                cur.execute(
                    sql.SQL(
                        "SELECT setval({}, COALESCE((SELECT max(id) FROM water_sources), 0) + 1,"
                        " false)"
                    ).format(sql.Literal(WATER_SOURCE_IDS))
                )
                for layer, table in LAYERS.items():
                    if table in WATER_TABLES:
                        continue
                    if "id" in table.columns and table.columns["id"].primary_key:
                        cur.execute(
                            sql.SQL(
                                "SELECT setval(pg_get_serial_sequence({}, 'id'), "
                                "COALESCE((SELECT max(id) FROM {}), 0) + 1, false)"
                            ).format(sql.Literal(layer), sql.Identifier(layer))
                        )
            layer = "(users)"
            _attach_users(conn, users)
            conn.execute(
                insert(data_loads),
                [
                    {
                        "source": "demo",
                        "layer": name,
                        "path": f"seed={plan.seed} scale={plan.scale:g}",
                        "mode": "replace",
                        "inserted": counts[name],
                        "deleted": before.get(name, 0),
                    }
                    for name in LAYERS
                ],
            )
            layer = "(analyze)"
            step("analysing")
            started = time.perf_counter()
            for name in LAYERS:
                conn.execute(text(f"ANALYZE {name}"))
            seconds[layer] = time.perf_counter() - started
            step("loaded")
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot load the demo: {exc}") from exc
    except psycopg.Error as exc:
        raise GisRegistryError(f"loading the demo failed at {layer}: {exc}") from exc
    except DBAPIError as exc:
        raise GisRegistryError(f"loading the demo failed at {layer}: {exc.orig}") from exc
    return counts, seconds


def _steps(progress: Progress | None, total: int) -> Callable[[str], None]:
    """A function that reports the next of ``total`` steps to ``progress``."""
    report = progress or _quiet
    count = 0

    def step(stage: str) -> None:
        nonlocal count
        report(stage, min(count, total), total)
        count += 1

    return step


def load_demo(
    engine: Engine,
    *,
    seed: int = 52,
    scale: float = 1,
    force: bool = False,
    progress: Progress | None = None,
) -> DemoReport:
    """Replace the registry's layers with the demo province (all or nothing).

    :func:`gis_registry.demo.plan_demo` then :func:`load_plan` (COPY in one transaction).
    Refuses, before spending time on planning, when the registry holds data the demo did
    not load (:func:`check_replaceable`), unless ``force``.

    Parameters
    ----------
    engine
        Engine on a migrated registry database.
    seed
        Random seed; the same seed and scale load identical data.
    scale
        See :func:`gis_registry.demo.plan_demo`.
    force
        Replace imported (or otherwise foreign) data too.
    progress
        Called ``(stage, done, total)`` as the load goes: planning, then the steps of
        :func:`load_plan` (shifted by one), last with ``done == total``.

    Returns
    -------
    DemoReport
        Rows loaded per layer, seconds taken (planning included) and the weak links.

    Raises
    ------
    GisRegistryError
        The registry holds data the demo did not load and ``force`` is false.
    """
    started = time.perf_counter()
    if not force:
        with engine.connect() as conn:
            check_replaceable(conn)
    total = 1 + len(LAYERS) + _LOAD_STEPS
    _steps(progress, total)("planning")
    plan = plan_demo(seed=seed, scale=scale)
    after_plan = None
    if progress is not None:
        after_plan = lambda stage, done, _total: progress(stage, done + 1, total)  # noqa: E731
    counts, _ = load_plan(engine, plan, force=force, progress=after_plan)
    return DemoReport(
        counts=counts,
        seconds=time.perf_counter() - started,
        seed=seed,
        scale=scale,
        weak_links=plan.weak_links,
    )
