"""``load_demo``: plan the province and COPY it into the registry in one transaction."""

from __future__ import annotations

import time

import psycopg
from psycopg import sql
from sqlalchemy import Engine, text

from gis_registry.db.tables import LAYERS
from gis_registry.demo.copy import copy_frame
from gis_registry.demo.model import DemoPlan, DemoReport
from gis_registry.demo.plan import plan_demo
from gis_registry.errors import DatabaseUnavailable, GisRegistryError


def registry_is_empty(engine: Engine) -> bool:
    """True when the registry holds no local bodies and no roads."""
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT NOT EXISTS (SELECT 1 FROM local_bodies) "
                    "AND NOT EXISTS (SELECT 1 FROM roads)"
                )
            ).scalar_one()
        )


def load_plan(engine: Engine, plan: DemoPlan) -> tuple[dict[str, int], dict[str, float]]:
    """COPY a planned province into the registry, replacing what its layers held.

    Every table in ``tables.LAYERS`` is truncated (identities restarted, dependants cascaded)
    and reloaded with COPY inside one transaction, so a failure leaves the registry as it was;
    sequences are moved past the explicit ids and the tables analysed, so the planner has
    statistics straight away.

    Returns
    -------
    dict, dict
        Rows and seconds per layer (seconds also for ``"(analyze)"``).
    """
    layer = "(truncate)"
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}
    try:
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None  # the psycopg connection of a live pool connection
            with raw.cursor() as cur:
                cur.execute("SET LOCAL statement_timeout = 0")
                # a bulk load is not an edit: keep it out of the feature history (0003)
                cur.execute("SET LOCAL gis_registry.history = 'off'")
                cur.execute(
                    sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                        sql.SQL(", ").join(sql.Identifier(name) for name in LAYERS)
                    )
                )
                for layer, table in LAYERS.items():
                    started = time.perf_counter()
                    counts[layer] = copy_frame(cur, table, plan.frames[layer])
                    seconds[layer] = time.perf_counter() - started
                for layer, table in LAYERS.items():
                    if "id" in table.columns and table.columns["id"].primary_key:
                        cur.execute(
                            sql.SQL(
                                "SELECT setval(pg_get_serial_sequence({}, 'id'), "
                                "COALESCE((SELECT max(id) FROM {}), 0) + 1, false)"
                            ).format(sql.Literal(layer), sql.Identifier(layer))
                        )
                layer = "(analyze)"
                started = time.perf_counter()
                for name in LAYERS:
                    cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(name)))
                seconds[layer] = time.perf_counter() - started
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot load the demo: {exc}") from exc
    except psycopg.Error as exc:
        raise GisRegistryError(f"loading the demo failed at {layer}: {exc}") from exc
    return counts, seconds


def load_demo(engine: Engine, *, seed: int = 52, scale: float = 1) -> DemoReport:
    """Replace the registry's layers with the demo province (all or nothing).

    :func:`gis_registry.demo.plan_demo` then :func:`load_plan` (COPY in one transaction).

    Parameters
    ----------
    engine
        Engine on a migrated registry database.
    seed
        Random seed; the same seed and scale load identical data.
    scale
        See :func:`gis_registry.demo.plan_demo`.

    Returns
    -------
    DemoReport
        Rows loaded per layer, seconds taken (planning included) and the weak links.
    """
    started = time.perf_counter()
    plan = plan_demo(seed=seed, scale=scale)
    counts, _ = load_plan(engine, plan)
    return DemoReport(
        counts=counts,
        seconds=time.perf_counter() - started,
        seed=seed,
        scale=scale,
        weak_links=plan.weak_links,
    )
