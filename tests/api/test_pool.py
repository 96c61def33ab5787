"""The read path's pool (api/pool.py): connections reused, and replaced once too old, broken or
left inside a transaction."""

from __future__ import annotations

import asyncio

import pytest

from api.pool import AsyncPool

pytestmark = pytest.mark.db


async def _backend_pids(pool: AsyncPool, n: int, *, leave_open_transaction: bool = False):
    pids = []
    for _ in range(n):
        async with pool.connection() as conn:
            pids.append((await (await conn.execute("SELECT pg_backend_pid()")).fetchone())[0])
            if leave_open_transaction:
                await conn.execute("BEGIN")
    await pool.close()
    return pids


def test_connections_are_reused_until_too_old_or_left_in_a_transaction(api_url):
    reused = asyncio.run(_backend_pids(AsyncPool(api_url, size=2, timeout_s=5), 3))
    assert len(set(reused)) == 1
    aged = asyncio.run(_backend_pids(AsyncPool(api_url, size=2, timeout_s=5, max_lifetime_s=0), 3))
    assert len(set(aged)) == 3
    dirty = AsyncPool(api_url, size=2, timeout_s=5)
    assert len(set(asyncio.run(_backend_pids(dirty, 3, leave_open_transaction=True)))) == 3
