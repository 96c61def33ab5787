"""How many analyses run at once: a few per worker (each holds a connection of the analyses'
own pool and a thread), and at most a few per anonymous client, so that one client's burst
neither starves the others nor the writes and authentication (which have their own pool)."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from api.errors import ServiceUnavailable, TooManyRequests


class AnalysisGate:
    """Slots for analyses: ``size`` at once, waited for at most ``queue_s`` seconds (then a
    503 with Retry-After); anonymous clients hold at most ``per_client`` each (then a 429).

    Parameters
    ----------
    size
        Analyses running at once (the analyses' pool has as many connections).
    queue_s
        Longest wait for a slot.
    per_client
        Analyses in flight per anonymous client address.
    retry_after_s
        Seconds a refused client is told to wait (the analysis timeout is a fair guess).
    """

    def __init__(self, size: int, *, queue_s: float, per_client: int, retry_after_s: float):
        self.size = size
        self.queue_s = queue_s
        self.per_client = per_client
        self.retry_after_s = max(1, math.ceil(retry_after_s))
        self._slots: asyncio.Semaphore | None = None
        self._in_flight: Counter[str] = Counter()

    @property
    def slots(self) -> asyncio.Semaphore:
        """The semaphore of running analyses (made on first use, in the serving event loop)."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        return self._slots

    @asynccontextmanager
    async def client(self, address: str | None) -> AsyncIterator[None]:
        """Count an anonymous client's analysis for the block; a 429 beyond ``per_client``."""
        key = address or "?"
        if self._in_flight[key] >= self.per_client:
            raise TooManyRequests(
                f"at most {self.per_client} analyses at once per anonymous client; wait for "
                "one to finish, or authenticate",
                retry_after_s=self.retry_after_s,
            )
        self._in_flight[key] += 1
        try:
            yield
        finally:
            self._in_flight[key] -= 1
            if self._in_flight[key] <= 0:
                del self._in_flight[key]

    async def acquire(self) -> None:
        """Wait for a slot (release it with :meth:`release`); a 503 after ``queue_s``."""
        try:
            await asyncio.wait_for(self.slots.acquire(), self.queue_s)
        except TimeoutError:
            raise ServiceUnavailable(
                f"all {self.size} analysis slots stayed busy for {self.queue_s:g} s; try again",
                retry_after_s=self.retry_after_s,
            ) from None

    def release(self) -> None:
        """Give a slot back (when the analysis' thread has really ended)."""
        self.slots.release()
