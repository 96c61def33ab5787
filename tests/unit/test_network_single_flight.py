"""The network cache is single-flight: concurrent callers at one stamp share one build, a failed
build reaches its waiters (who retry once) instead of hanging them, and a caller that stops
waiting neither cancels the build nor starts another."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace

import pytest

from gis_registry.network import model
from gis_registry.network.model import NetworkCache, load_network

THREADS = 8
BUILD_S = 0.5  # long enough for every thread to join the first build


class FakeNetwork:
    def __init__(self, stamp: tuple) -> None:
        self.stamp = stamp

    def hierarchy(self, by: str = "time") -> None:
        return None


class Builder:
    """Stands in for build_network: counts calls, takes BUILD_S, fails the first ``fail`` ones."""

    def __init__(self, fail: int = 0) -> None:
        self.calls = 0
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(
        self, roads, bridges, places_reader, *, config=None, stamp=(), progress=None
    ) -> FakeNetwork:
        with self.lock:
            self.calls += 1
            n = self.calls
        time.sleep(BUILD_S)
        if n <= self.fail:
            raise RuntimeError(f"build {n} failed")
        return FakeNetwork(stamp)


@pytest.fixture()
def world(monkeypatch):
    """A fake database: its stamp is ``world.stamp``; the readers return nothing."""
    state = SimpleNamespace(stamp=("db", 1))
    monkeypatch.setattr(model, "network_stamp", lambda conn: state.stamp)
    monkeypatch.setattr(model, "read_roads", lambda conn: None)
    monkeypatch.setattr(model, "read_bridges", lambda conn: None)
    monkeypatch.setattr(model, "read_places", lambda conn, xy: None)
    state.conn = SimpleNamespace(
        engine=SimpleNamespace(url=SimpleNamespace(render_as_string=lambda hide_password: "db"))
    )
    return state


def run_together(fn, n: int = THREADS) -> list:
    """``fn()`` in ``n`` threads released at once; each result, or the exception raised."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a caller hangs"
    return results


def test_concurrent_callers_share_one_build(world, monkeypatch):
    builder = Builder()
    monkeypatch.setattr(model, "build_network", builder)
    cache = NetworkCache()
    nets = run_together(lambda: load_network(world.conn, cache=cache))
    assert builder.calls == 1
    assert all(net is nets[0] for net in nets) and isinstance(nets[0], FakeNetwork)
    assert load_network(world.conn, cache=cache) is nets[0]  # then from memory

    world.stamp = ("db", 2)  # an edit
    again = run_together(lambda: load_network(world.conn, cache=cache))
    assert builder.calls == 2
    assert all(net is again[0] for net in again) and again[0] is not nets[0]
    assert again[0].stamp == ("db", 2)


def test_a_failed_build_reaches_its_waiters_who_retry_once(world, monkeypatch):
    builder = Builder(fail=1)
    monkeypatch.setattr(model, "build_network", builder)
    cache = NetworkCache()
    results = run_together(lambda: load_network(world.conn, cache=cache))
    errors = [r for r in results if isinstance(r, Exception)]
    nets = [r for r in results if not isinstance(r, Exception)]
    assert [str(e) for e in errors] == ["build 1 failed"]  # the first caller's own error
    assert builder.calls == 2  # the waiters' one retry, shared
    assert len(nets) == THREADS - 1 and all(net is nets[0] for net in nets)


def test_a_build_that_keeps_failing_fails_everyone_without_hanging(world, monkeypatch):
    builder = Builder(fail=99)
    monkeypatch.setattr(model, "build_network", builder)
    cache = NetworkCache()
    results = run_together(lambda: load_network(world.conn, cache=cache))
    assert all(isinstance(r, RuntimeError) for r in results)
    assert builder.calls == 2


def test_a_caller_that_stops_waiting_neither_cancels_nor_repeats_the_build(world, monkeypatch):
    builder = Builder()
    monkeypatch.setattr(model, "build_network", builder)
    cache = NetworkCache()

    async def callers():
        # what api.routers.analysis.run_analysis does: the work in a thread, bounded in time
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.to_thread(load_network, world.conn, cache=cache), 0.05)
        assert builder.calls == 1  # the abandoned build goes on...
        # ...and a patient caller arriving while it runs waits for it
        return await asyncio.to_thread(load_network, world.conn, cache=cache)

    net = asyncio.run(callers())
    assert builder.calls == 1 and net.stamp == world.stamp
    assert load_network(world.conn, cache=cache) is net


def test_no_cache_builds_every_time(world, monkeypatch):
    builder = Builder()
    monkeypatch.setattr(model, "build_network", builder)
    first, second = load_network(world.conn, cache=None), load_network(world.conn, cache=None)
    assert first is not second and builder.calls == 2


def test_caches_sharing_a_directory_build_once_across_processes(world, monkeypatch, tmp_path):
    """Two caches on one snapshot directory stand for two processes (a CLI command and the
    API): the file lock makes the second wait for the first build, then load its snapshot."""
    builder = Builder()
    monkeypatch.setattr(model, "build_network", builder)
    monkeypatch.setattr(model, "Network", FakeNetwork)  # what a snapshot must hold
    monkeypatch.setattr(model, "_complete", lambda net: True)
    caches = [NetworkCache(directory=tmp_path) for _ in range(2)]
    turn = iter(range(2))
    lock = threading.Lock()

    def load():
        with lock:
            cache = caches[next(turn)]
        return load_network(world.conn, cache=cache)

    first, second = run_together(load, n=2)
    assert builder.calls == 1
    assert first.stamp == second.stamp == world.stamp and first is not second
    assert len(list(tmp_path.glob("network-*.snapshot"))) == 1
