"""The load generator of ``python -m bench load``, run as a process of its own.

``python -m bench.load_client PLAN.json OUT.json``: reads the plan written by
:mod:`bench.bench_load` (server address, durations, connections, request pools, credentials),
runs its phases against the server and writes the measurements to ``OUT.json``.

It is a separate process so that the client's CPU is not the server's (they still share the
machine's cores), and a small HTTP/1.1 client on asyncio streams so that 50 keep-alive
connections cost little: no compression asked, ``Content-Length`` and chunked bodies read,
a connection the server closes (or resets) is reopened for the next request.

Phases:

* ``load``: ``connections`` loops, each sending the read mix (item pages, features by id,
  CQL2 filters, routes, coverage) back to back; one writer loop (admin PATCH with If-Match,
  ``/auth/me`` with the API key and with a bearer token) measures authenticated requests.
* ``load+burst``: the same, while ``burst`` more loops send anonymous analyses (siting, coverage
  along roads) one after the other, as a heavy client would. A 429 (the per-client limit of
  anonymous analyses) is expected there: counted as ``limited``, never as an error; the loop
  then waits for ``Retry-After`` (at most a second) and knocks again.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

READ_TIMEOUT_S = 30.0
ANALYSIS_TIMEOUT_S = 90.0
WRITE_TIMEOUT_S = 30.0
STREAM_LIMIT = 1 << 20  # the longest header block accepted
FEATURE_READS = ("items", "feature", "cql2")  # the OGC API reads of the mix (not analyses)
ERROR_SAMPLES = 20  # the first errors of each phase kept, to say what went wrong


class HttpError(Exception):
    """The exchange failed (reset, timeout, malformed answer): an error, not a status."""


@dataclass
class Answer:
    """A status, the response headers (names lower-cased) and the body."""

    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    """One keep-alive HTTP/1.1 connection to ``host:port``, reopened when it was closed."""

    def __init__(self, host: str, port: int, source: str | None = None) -> None:
        self.host, self.port, self.source = host, port, source
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            self.host,
            self.port,
            limit=STREAM_LIMIT,
            local_addr=(self.source, 0) if self.source else None,
        )

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        timeout: float = READ_TIMEOUT_S,
    ) -> Answer:
        """Send one request and read its answer; a failure closes the connection."""
        try:
            async with asyncio.timeout(timeout):
                if self.writer is None:
                    await self.open()
                assert self.reader is not None and self.writer is not None
                head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                for name, value in (headers or {}).items():
                    head += f"{name}: {value}\r\n"
                if body or method in ("POST", "PUT", "PATCH"):
                    head += f"Content-Length: {len(body)}\r\n"
                self.writer.write(head.encode("latin-1") + b"\r\n" + body)
                answer = await self._read(self.reader, method)
        except TimeoutError:
            self.close()
            raise HttpError("timeout") from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            self.close()
            raise HttpError(type(exc).__name__) from None
        except ValueError as exc:  # a malformed status line or length
            self.close()
            raise HttpError(f"malformed answer: {exc}") from None
        if answer.headers.get("connection", "").lower() == "close":
            self.close()
        return answer

    async def _read(self, reader: asyncio.StreamReader, method: str) -> Answer:
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return Answer(status, headers, b"")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size = int((await reader.readline()).split(b";")[0].strip(), 16)
                if size == 0:
                    while (await reader.readline()) not in (b"\r\n", b""):
                        pass  # trailers
                    break
                parts.append((await reader.readexactly(size + 2))[:-2])
            return Answer(status, headers, b"".join(parts))
        if "content-length" in headers:
            return Answer(status, headers, await reader.readexactly(int(headers["content-length"])))
        body = await reader.read()  # delimited by the close
        self.close()
        return Answer(status, headers, body)


@dataclass
class Tally:
    """What one kind of request gave in one phase."""

    latencies_ms: list[float] = field(default_factory=list)  # every attempt but the 429s
    ok: int = 0
    limited: int = 0  # 429: the per-client limit of anonymous analyses
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def summary(self, seconds: float) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "requests": self.ok + self.errors + self.limited,
            "ok": self.ok,
            "errors": self.errors,
            "limited_429": self.limited,
            "rps": self.ok / seconds if seconds > 0 else 0.0,
            "p50_ms": percentile(lat, 50),
            "p99_ms": percentile(lat, 99),
            "max_ms": lat[-1] if lat else None,
            "statuses": dict(sorted(self.statuses.items())),
        }


def percentile(ordered: list[float], q: float) -> float | None:
    """The nearest-rank ``q``-th percentile of an ordered list (None when empty)."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n q / 100)
    return ordered[int(rank) - 1]


class Phase:
    """The tallies of one phase, per group (reads, writes, analyses) and kind of request."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tallies: dict[tuple[str, str], Tally] = {}
        self.error_samples: list[str] = []
        self.measuring = False  # requests before the window opens (ramp-up) are not counted

    def record(
        self,
        group: str,
        kind: str,
        started: float,
        answer: Answer | None,
        failure: str | None,
        expected: tuple[int, ...],
        path: str,
    ) -> None:
        if not self.measuring:
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        tally = self.tallies.setdefault((group, kind), Tally())
        status = str(answer.status) if answer else failure or "failed"
        tally.statuses[status] = tally.statuses.get(status, 0) + 1
        if answer is not None and answer.status == 429:
            tally.limited += 1
            return
        tally.latencies_ms.append(elapsed_ms)
        if answer is not None and answer.status in expected:
            tally.ok += 1
            return
        tally.errors += 1
        if len(self.error_samples) < ERROR_SAMPLES:
            detail = answer.body[:300].decode("utf-8", "replace") if answer else ""
            self.error_samples.append(f"{group}/{kind} {status} {path[:160]} {detail}".strip())

    def summary(self, seconds: float) -> dict[str, Any]:
        """Per group: the merged figures and each kind's; for reads also ``features`` (the
        OGC API reads: items, features by id, CQL2), apart from the analyses in the mix."""
        groups: dict[str, Any] = {}
        for group in sorted({g for g, _ in self.tallies}):
            kinds = {k: t for (g, k), t in sorted(self.tallies.items()) if g == group}
            groups[group] = {
                **merge(kinds.values()).summary(seconds),
                "kinds": {k: t.summary(seconds) for k, t in kinds.items()},
            }
            if group == "reads":
                ogc = [t for k, t in kinds.items() if k in FEATURE_READS]
                groups[group]["features"] = merge(ogc).summary(seconds)
        return {"seconds": seconds, **groups, "error_samples": self.error_samples}


def merge(tallies: Iterable[Tally]) -> Tally:
    """One tally of several kinds."""
    merged = Tally()
    for tally in tallies:
        merged.latencies_ms += tally.latencies_ms
        merged.ok += tally.ok
        merged.limited += tally.limited
        merged.errors += tally.errors
        for status, n in tally.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + n
    return merged


# -- what is asked ------------------------------------------------------------------------------
def read_mix(plan: dict[str, Any]) -> list[tuple[str, float, Any]]:
    """The read mix: (kind, weight, make(rng) -> path) for item pages, features by id, CQL2
    filters, routes and coverage, drawn from the pools the plan carries."""
    pools = plan["pools"]

    def items(rng: random.Random) -> str:
        collection, bbox = rng.choice(pools["pages"])
        return f"/collections/{collection}/items?limit=100&bbox={bbox}"

    def feature(rng: random.Random) -> str:
        collection, ids = rng.choice(list(pools["ids"].items()))
        return f"/collections/{collection}/items/{rng.choice(ids)}"

    def cql2(rng: random.Random) -> str:
        collection, text = rng.choice(pools["cql2"])
        return (
            f"/collections/{collection}/items?limit=50&filter-lang=cql2-text&filter={quote(text)}"
        )

    def route(rng: random.Random) -> str:
        a, b = rng.choice(pools["routes"])
        return f"/analysis/network/route?from={a}&to={b}"

    def coverage(rng: random.Random) -> str:
        return rng.choice(pools["coverage"])

    weights = plan["weights"]
    makers = {"items": items, "feature": feature, "cql2": cql2, "route": route}
    makers["coverage"] = coverage
    return [(kind, float(weights[kind]), makers[kind]) for kind in makers if weights.get(kind)]


def burst_path(rng: random.Random) -> tuple[str, str]:
    """An anonymous analysis of the burst: siting or coverage along roads, varied a little."""
    if rng.random() < 0.5:
        n = rng.randint(5, 10)
        return "siting", f"/analysis/siting/water?n={n}&distance_m={rng.choice([800, 1000])}"
    distance = rng.choice([1500, 2000, 2500])
    return (
        "coverage along roads",
        f"/analysis/coverage/water?distance_m={distance}&along_roads=true",
    )


def reader_address(i: int) -> str:
    """The loopback address of reader ``i``: each reader is a client of its own (as the users
    of an office are), so the per-client limit of anonymous analyses is the burst's alone."""
    return f"127.0.{2 + i // 250}.{1 + i % 250}"


def burst_address(i: int) -> str:
    """The loopback address of the burst's client ``i`` (``--burst-clients`` of them)."""
    return f"127.1.{i // 250}.{1 + i % 250}"


async def reader_loop(
    phase: Phase, conn: Connection, mix: list, rng: random.Random, stop_at: float
) -> None:
    kinds = [m[0] for m in mix]
    weights = [m[1] for m in mix]
    makers = {m[0]: m[2] for m in mix}
    while time.perf_counter() < stop_at:
        kind = rng.choices(kinds, weights)[0]
        path = makers[kind](rng)
        timeout = ANALYSIS_TIMEOUT_S if kind in ("route", "coverage") else READ_TIMEOUT_S
        await timed_get(phase, conn, "reads", kind, path, timeout)


async def burst_loop(phase: Phase, conn: Connection, rng: random.Random) -> None:
    """Anonymous analyses back to back until cancelled (the phase's end)."""
    while True:
        kind, path = burst_path(rng)
        await timed_get(phase, conn, "analyses", kind, path, ANALYSIS_TIMEOUT_S)


async def timed_get(
    phase: Phase, conn: Connection, group: str, kind: str, path: str, timeout: float
) -> None:
    """GET ``path``, record its time and outcome under ``group``/``kind``; after a 429, wait as
    told (at most a second) before the caller's next request."""
    started = time.perf_counter()
    answer, failure = None, None
    try:
        answer = await conn.request("GET", path, timeout=timeout)
    except HttpError as exc:
        failure = str(exc)
    phase.record(group, kind, started, answer, failure, (200,), path)
    if answer is not None and answer.status == 429:
        await asyncio.sleep(min(float(answer.headers.get("retry-after") or 1), 1.0))


class Writer:
    """An admin's session: PATCH of one feature with If-Match, and ``/auth/me`` with the API key
    and with a bearer token. The PATCH flips a text property between its value and a marked
    one; :meth:`restore` puts the value back at the end."""

    def __init__(self, plan: dict[str, Any], conn: Connection) -> None:
        w = plan["write"]
        self.conn = conn
        self.url = f"/collections/{w['collection']}/items/{w['id']}"
        self.prop, self.original = w["property"], w["original"]
        self.key = {"X-API-Key": plan["api_key"]}
        self.bearer = {"Authorization": f"Bearer {plan['token']}"} if plan.get("token") else None
        self.etag: str | None = None
        self.marked = False

    async def fetch_etag(self) -> None:
        answer = await self.conn.request("GET", self.url, headers=self.key, timeout=WRITE_TIMEOUT_S)
        self.etag = answer.headers.get("etag")

    async def patch(self, value: str) -> Answer:
        body = json.dumps({"type": "Feature", "properties": {self.prop: value}}).encode()
        headers = {
            **self.key,
            "Content-Type": "application/geo+json",
            "If-Match": self.etag or "*",
        }
        answer = await self.conn.request(
            "PATCH", self.url, headers=headers, body=body, timeout=WRITE_TIMEOUT_S
        )
        if answer.status == 200:
            self.etag = answer.headers.get("etag")
        else:
            self.etag = None  # a 412 or a failure: read it again before the next one
        return answer

    async def loop(self, phase: Phase, stop_at: float, pause_s: float) -> None:
        while time.perf_counter() < stop_at:
            steps = [("auth/me key", self.key)]
            if self.bearer:
                steps.append(("auth/me bearer", self.bearer))
            for kind, headers in steps:
                started = time.perf_counter()
                answer, failure = None, None
                try:
                    answer = await self.conn.request(
                        "GET", "/auth/me", headers=headers, timeout=WRITE_TIMEOUT_S
                    )
                except HttpError as exc:
                    failure = str(exc)
                phase.record("writes", kind, started, answer, failure, (200,), "/auth/me")
            try:
                if self.etag is None:
                    await self.fetch_etag()
            except HttpError:
                pass
            value = self.original if self.marked else f"{self.original} (load)"
            started = time.perf_counter()
            answer, failure = None, None
            try:
                answer = await self.patch(value)
                if answer.status == 200:
                    self.marked = not self.marked
            except HttpError as exc:
                failure = str(exc)
            phase.record("writes", "PATCH", started, answer, failure, (200,), self.url)
            await asyncio.sleep(pause_s)

    async def restore(self) -> None:
        if self.marked:
            await self.fetch_etag()
            await self.patch(self.original)


async def run_phase(
    name: str, plan: dict[str, Any], burst: int, conns: list[Connection], writer: Writer
) -> dict[str, Any]:
    """One phase: optional burst loops started first (``ramp_s`` before measuring), then the
    readers and the writer for ``duration_s``; the burst is cancelled at the end."""
    phase = Phase(name)
    seed = plan["seed"]
    mix = read_mix(plan)
    host, port = plan["host"], plan["port"]
    clients = max(1, plan["burst_clients"])
    burst_conns = [Connection(host, port, burst_address(i % clients)) for i in range(burst)]
    burst_tasks = [
        asyncio.create_task(burst_loop(phase, c, random.Random(f"{seed}-burst-{i}")))
        for i, c in enumerate(burst_conns)
    ]
    if burst:  # the analyses are running (and the server busy with them) before measuring
        await asyncio.sleep(plan["ramp_s"])
    phase.measuring = True
    started = time.perf_counter()
    stop_at = started + plan["duration_s"]
    tasks = [
        reader_loop(phase, c, mix, random.Random(f"{seed}-{name}-{i}"), stop_at)
        for i, c in enumerate(conns)
    ]
    tasks.append(writer.loop(phase, stop_at, plan["write_pause_s"]))
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    phase.measuring = False
    for task in burst_tasks:
        task.cancel()
    await asyncio.gather(*burst_tasks, return_exceptions=True)
    for c in burst_conns:
        c.close()
    return phase.summary(seconds)


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    host, port = plan["host"], plan["port"]
    conns = [Connection(host, port, reader_address(i)) for i in range(plan["connections"])]
    await asyncio.gather(*(c.open() for c in conns))
    writer = Writer(plan, Connection(host, port, "127.0.0.3"))
    await writer.fetch_etag()
    results: dict[str, Any] = {}
    for name, burst in plan["phases"]:
        print(f"  phase {name}: {plan['duration_s']:g} s", file=sys.stderr, flush=True)
        results[name] = await run_phase(name, plan, burst, conns, writer)
    await writer.restore()
    for c in [*conns, writer.conn]:
        c.close()
    return results


def main(argv: list[str]) -> int:
    """``load_client PLAN.json OUT.json``: run the plan, write the measurements."""
    if len(argv) != 2:
        print("usage: python -m bench.load_client PLAN.json OUT.json", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        plan = json.load(f)
    try:
        import uvloop  # a cheaper event loop leaves more of the cores to the server

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    results = runner(run(plan))
    with open(argv[1], "w", encoding="utf-8") as f:
        json.dump(results, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
