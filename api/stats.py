"""Per-collection figures that are costly to recompute on every request (cached briefly)."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from api.deps import ServiceState
from gis_registry.catalog import Layer as Collection

TTL_S = 60.0
ESTIMATED_EXTENT_ABOVE = 200_000  # rows; below this an exact ST_Extent is cheap


@dataclass(frozen=True)
class LayerStats:
    """Figures of one collection: row estimate, bbox in lon/lat (EPSG:4326), time interval."""

    estimate: float  # planner's row estimate; -1 when the table was never analysed
    bbox: tuple[float, float, float, float] | None
    interval: tuple[str | None, str | None] | None


async def layer_stats(state: ServiceState, c: Collection) -> LayerStats:
    """A collection's row estimate, extent and time interval, cached for ``TTL_S`` seconds.

    The row count is the planner's estimate (``pg_class.reltuples``). The extent is exact
    (``ST_Extent``) up to ``ESTIMATED_EXTENT_ABOVE`` rows and estimated from the statistics
    (``ST_EstimatedExtent``) above, so a large layer never costs a full scan; it is rounded
    to 6 decimals (about 0.1 m). The interval spans the earliest start to the latest end (or
    start, when a record has no end).
    """
    key = f"stats:{c.id}"
    hit = state.cached(key, TTL_S)
    if hit is not None:
        return hit
    table = sql.Identifier(c.table.name)
    async with state.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [c.table.name]
        )
        row = await cur.fetchone()
        estimate = float(row[0]) if row else -1.0
        bbox = None
        if c.geometry:
            geom = sql.Identifier(c.geometry)
            if estimate > ESTIMATED_EXTENT_ABOVE:
                query = sql.SQL(
                    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                    "(SELECT ST_EstimatedExtent('public', {t}, {g}) AS e) AS s"
                ).format(t=sql.Literal(c.table.name), g=sql.Literal(c.geometry))
            else:
                query = sql.SQL(
                    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                    "(SELECT ST_Extent({g}) AS e FROM {t}) AS s"
                ).format(t=table, g=geom)
            cur = await conn.execute(query)
            row = await cur.fetchone()
            if row and row[0] is not None:
                bbox = (round(row[0], 6), round(row[1], 6), round(row[2], 6), round(row[3], 6))
        interval = None
        if c.temporal:
            first, last = c.temporal
            query = sql.SQL("SELECT min({a})::text, max(coalesce({b}, {a}))::text FROM {t}").format(
                a=sql.Identifier(first), b=sql.Identifier(last or first), t=table
            )
            cur = await conn.execute(query)
            row = await cur.fetchone()
            if row and row[0] is not None:
                interval = (row[0], row[1])
    return state.remember(key, LayerStats(estimate, bbox, interval))
