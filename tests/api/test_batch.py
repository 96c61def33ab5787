"""Coalesced feature reads (api.batch): concurrent requests share statements, and each gets
exactly what a read of its own would give."""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
import pytest

from api.batch import FeatureReader
from api.pool import AsyncPool
from gis_registry.catalog import CATALOG as COLLECTIONS
from gis_registry.queries.crs import parse_crs
from gis_registry.queries.geojson import feature_query


class CountingPool(AsyncPool):
    """An AsyncPool that counts the connections taken (one per statement here)."""

    taken = 0

    @contextlib.asynccontextmanager
    async def connection(self):
        self.taken += 1
        async with super().connection() as conn:
            yield conn


def alone(url: str, collection: str, key, crs=None) -> tuple[bytes, str] | None:
    text, params = feature_query(COLLECTIONS[collection], key, parse_crs(crs))
    with psycopg.connect(url) as conn:
        row = conn.execute(text, params, binary=True).fetchone()
    return None if row is None else (bytes(row[0]), row[1])


def read_together(url: str, requests: list[tuple[str, object, str | None]]) -> tuple[list, int]:
    async def main():
        pool = CountingPool(url, size=4, timeout_s=5)
        reader = FeatureReader(pool)
        try:
            answers = await asyncio.gather(
                *(reader.get(COLLECTIONS[c], parse_crs(crs), key) for c, key, crs in requests),
                return_exceptions=True,
            )
        finally:
            await pool.close()
        return answers, pool.taken

    return asyncio.run(main())


def test_concurrent_reads_share_statements_and_match_single_reads(api_url, world):
    roads = world["roads"]
    missing = max(roads) + 1000
    requests = [("roads", key, None) for key in roads * 3]  # each feature asked three times
    requests += [("roads", missing, None), ("roads", roads[0], "EPSG:32647")]
    answers, statements = read_together(api_url, requests)
    # one statement per (collection, CRS) at most: 2 here, not one per request
    assert statements == 2, statements
    for (collection, key, crs), answer in zip(requests, answers, strict=True):
        expected = alone(api_url, collection, key, crs)
        got = None if answer is None else (bytes(answer[0]), answer[1])
        assert got == expected, (collection, key, crs)
    assert answers[-2] is None  # a missing feature is None, the others still answered


def test_text_keys_and_errors_reach_every_waiting_request(api_url):
    with psycopg.connect(api_url) as conn:
        code = conn.execute("SELECT key FROM zoning_categories ORDER BY key LIMIT 1").fetchone()
    if code is None:
        pytest.fail("the API world has no zoning categories")
    alone_code = alone(api_url, "zoning_categories", code[0])
    answers, _ = read_together(
        api_url, [("zoning_categories", code[0], None), ("zoning_categories", "nope", None)]
    )
    assert answers[0] is not None and bytes(answers[0][0]) == alone_code[0]
    assert answers[1] is None
    # a database that refuses: every request of the batch gets the error, none hangs
    bad = api_url.rsplit("/", 1)[0] + "/no_such_database_here"
    answers, _ = read_together(bad, [("roads", 1, None), ("roads", 2, None)])
    assert all(isinstance(a, Exception) for a in answers), answers


def test_a_key_that_postgresql_would_refuse_never_reaches_a_batch(client):
    """A NUL in a text key is refused while parsing: in a shared statement it would fail every
    request of the batch."""
    r = client.get("/collections/districts/items/52%0001")
    assert r.status_code == 400
    assert r.json()["code"] == "InvalidParameterValue" and "featureId" in r.json()["detail"]
