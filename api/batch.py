"""Reads of single features, coalesced: the requests for features of one layer that
arrive together share one statement (``WHERE key = ANY(...)``), as a data loader does.

A feature by id is the cheapest read there is: the database answers it in tens of
microseconds, and the Python around one round trip (cursor, protocol, wake-ups) costs several
times that. Under load, requests queue behind the statements in flight anyway; taking them
together costs no latency and divides that overhead by the batch size. An idle service sends
each read at once (on the next turn of the event loop), alone.

Every read still goes to the database (there is no cache to go stale): a feature written and
committed is what the next read returns.
"""

from __future__ import annotations

import asyncio
from typing import Any

from api.pool import AsyncPool
from gis_registry.catalog import Layer
from gis_registry.queries.crs import Crs
from gis_registry.queries.geojson import features_query

MAX_BATCH = 500  # keys in one statement
# Statements in flight per (layer, CRS); the rest of the requests wait for the next one.
# One keeps the batches largest: under 16 concurrent clients, about 8 keys per statement with
# one in flight, 4 with two, and the server serves a third more features per second with one
# (bench/bench_api.py, feature by id). A statement by primary key takes well under a millisecond.
IN_FLIGHT = 1


class _Group:
    """Pending and in-flight reads of one (layer, CRS)."""

    __slots__ = ("pending", "in_flight", "scheduled")

    def __init__(self) -> None:
        self.pending: dict[Any, list[asyncio.Future]] = {}
        self.in_flight = 0
        self.scheduled = False


class FeatureReader:
    """Coalesced reads of features by id, one group per (layer, CRS)."""

    def __init__(self, pool: AsyncPool) -> None:
        self.pool = pool
        self._groups: dict[tuple[Layer, Crs], _Group] = {}
        self._tasks: set[asyncio.Task] = set()  # strong references while they run

    async def get(self, c: Layer, crs: Crs, key: Any) -> tuple[bytes, str] | None:
        """(GeoJSON Feature, row version) of one feature, or None when there is none."""
        loop = asyncio.get_running_loop()
        group = self._groups.get((c, crs))
        if group is None:
            group = self._groups[(c, crs)] = _Group()
        future = loop.create_future()
        group.pending.setdefault(key, []).append(future)
        if not group.scheduled:
            # wait one turn of the loop: requests whose bytes arrived together join this batch
            group.scheduled = True
            loop.call_soon(self._flush, c, crs, group)
        return await future

    def _flush(self, c: Layer, crs: Crs, group: _Group) -> None:
        group.scheduled = False
        if not group.pending or group.in_flight >= IN_FLIGHT:
            return  # a statement in flight takes the pending reads when it ends
        keys = list(group.pending)[:MAX_BATCH]
        batch = {key: group.pending.pop(key) for key in keys}
        group.in_flight += 1
        task = asyncio.get_running_loop().create_task(self._run(c, crs, group, batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self, c: Layer, crs: Crs, group: _Group, batch: dict[Any, list[asyncio.Future]]
    ) -> None:
        try:
            async with self.pool.connection() as conn:
                cur = await conn.execute(*features_query(c, list(batch), crs), binary=True)
                rows = await cur.fetchall()
        except BaseException as exc:  # every waiting request gets the error
            for futures in batch.values():
                for future in futures:
                    if future.done():
                        continue
                    if isinstance(exc, Exception):
                        future.set_exception(exc)
                    else:  # cancelled (shutting down)
                        future.cancel()
            if not isinstance(exc, Exception):
                raise
        else:
            found = {row[0]: (row[1], row[2]) for row in rows}
            for key, futures in batch.items():
                answer = found.get(key)
                for future in futures:
                    if not future.done():  # the client may have gone
                        future.set_result(answer)
        finally:
            group.in_flight -= 1
            if group.pending and not group.scheduled:
                group.scheduled = True
                asyncio.get_running_loop().call_soon(self._flush, c, crs, group)
