"""Why the read path keeps its own small pool (api/pool.py) rather than psycopg_pool.

``python -m bench pool [-- --requests 20000 --concurrency 16 --rounds 3]``

Both pools are configured alike (autocommit, server-side prepared statements, 8 connections)
and serve the same work in alternating rounds: ``--requests`` single-row reads, at most
``--concurrency`` in flight, each taking a connection, running one prepared statement and
giving the connection back, which is what a feature-by-id read does. The medians and the
ratio are printed. On the machine the pool was chosen on, psycopg_pool served 30-40% fewer
feature reads through the whole API (9.9k vs 13.9k req/s, `bench api`); this isolates the pool.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

QUERY = "SELECT %s::int + 1"


async def _serve(connection: Callable[[], AbstractAsyncContextManager[Any]], n: int, c: int):
    gate = asyncio.Semaphore(c)

    async def one(i: int) -> None:
        async with gate, connection() as conn:
            cur = await conn.execute(QUERY, (i,))
            await cur.fetchone()

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - started)


async def _rounds(url: str, requests: int, concurrency: int, rounds: int) -> dict[str, list]:
    from psycopg_pool import AsyncConnectionPool

    from api.pool import AsyncPool

    ours = AsyncPool(url, size=8, timeout_s=30)
    ref = AsyncConnectionPool(
        url,
        kwargs={"autocommit": True, "prepare_threshold": 0},
        min_size=8,
        max_size=8,
        open=False,
        timeout=30,
    )
    await ref.open(wait=True)
    rates: dict[str, list] = {"api.pool": [], "psycopg_pool": []}
    try:
        await _serve(ours.connection, 2_000, concurrency)  # warm both: connect, prepare
        await _serve(ref.connection, 2_000, concurrency)
        for _ in range(rounds):
            rates["api.pool"].append(await _serve(ours.connection, requests, concurrency))
            rates["psycopg_pool"].append(await _serve(ref.connection, requests, concurrency))
    finally:
        await ours.close()
        await ref.close()
    return rates


def main(argv: list[str]) -> dict:
    """Run the rounds and print requests per second of each pool and their ratio."""
    parser = argparse.ArgumentParser(prog="bench pool")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    from gis_registry.server import database_url
    from gis_registry.settings import Settings

    url = database_url(Settings())
    rates = asyncio.run(_rounds(url, args.requests, args.concurrency, args.rounds))
    medians = {name: statistics.median(r) for name, r in rates.items()}
    for name, r in rates.items():
        rounds = ", ".join(f"{x:,.0f}" for x in r)
        print(f"{name:>13}: {medians[name]:>9,.0f} reads/s (rounds {rounds})")
    ratio = medians["api.pool"] / medians["psycopg_pool"]
    print(f"api.pool / psycopg_pool = {ratio:.2f}")
    return {"reads_per_s": medians, "ratio": ratio}
