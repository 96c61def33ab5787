"""Analyses never starve the rest, and are really stopped: their own pool and slots (a 503
with Retry-After when full), a per-client limit for anonymous callers (a 429 with
Retry-After), and a deadline that cancels their SQL and stops their Python loops."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import numpy as np
import pytest

from gis_registry import deadline
from gis_registry.analysis import reports
from tests.api.conftest import JWT_SECRET, auth

pytestmark = pytest.mark.db
WRITES = True  # it edits a road: a world of its own (conftest.api_db)


def make_app(url: str, **api_settings):
    from api.app import create_app
    from api.settings import ApiSettings
    from gis_registry.settings import Settings

    return create_app(
        ApiSettings(jwt_secret=JWT_SECRET, **api_settings),
        registry_settings=Settings(database_url=url),
    )


def async_client(app, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30)


def dispose(app) -> None:
    state = app.state.service
    state.engine.dispose()
    if getattr(state, "analysis_engine", None) is not None:
        state.analysis_engine.dispose()


@pytest.fixture()
def slow_roads(monkeypatch):
    """/analysis/coverage/roads made slow in SQL: ``pg_sleep(seconds)``, seconds from the
    distance_m parameter (so each test picks its own)."""

    def road_coverage(conn, *, distance_m):
        conn.exec_driver_sql(f"SELECT pg_sleep({float(distance_m) / 1000})")

        class Done:
            def to_dict(self):
                return {"slept_s": distance_m / 1000}

        return Done()

    monkeypatch.setattr(reports, "road_coverage", road_coverage)
    return "/analysis/coverage/roads?distance_m="


# -- separate pools ---------------------------------------------------------------------------
def test_a_burst_of_anonymous_analyses_does_not_starve_auth_or_writes(
    api_url, keys, world, slow_roads
):
    """16 anonymous analyses of 2 s each at once: an admin's /auth/me and an editor's PATCH
    still answer within a second; the analyses beyond the slots are 503s with Retry-After."""
    app = make_app(api_url, anonymous_analyses_per_client=100, analysis_queue_s=1.0)
    road_id = world["roads"][1]  # the first extra road: owned by the PAO
    url = f"/collections/roads/items/{road_id}"

    async def scenario():
        async with async_client(app) as client:
            etag = (await client.get(url)).headers["etag"]
            burst = [asyncio.ensure_future(client.get(f"{slow_roads}2000")) for _ in range(16)]
            await asyncio.sleep(0.3)  # every analysis has started or queued

            t0 = time.perf_counter()
            me = await client.get("/auth/me", headers=auth(keys["admin"]))
            me_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            patch = await client.patch(
                url,
                json={"type": "Feature", "properties": {"width_m": 6}},
                headers={**auth(keys["editor_pao"]), "If-Match": etag},
            )
            patch_s = time.perf_counter() - t0
            answers = await asyncio.gather(*burst)
            return me, me_s, patch, patch_s, answers

    try:
        me, me_s, patch, patch_s, answers = asyncio.run(scenario())
    finally:
        dispose(app)
    assert me.status_code == 200, me.text
    assert patch.status_code == 200, patch.text
    assert me_s < 1.0 and patch_s < 1.0, (me_s, patch_s)
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 1
    for r in answers:
        if r.status_code == 503:
            assert r.headers["content-type"] == "application/problem+json"
            assert int(r.headers["retry-after"]) >= 1


def test_an_exhausted_write_pool_is_a_503_with_retry_after(api_url, keys):
    """Every connection of the authentication and write pool taken: a request that needs one
    gets a 503 problem with Retry-After once the pool timeout passes, not a 500."""
    from tests.api.conftest import make_client

    with make_client(api_url, write_pool_size=1, pool_timeout_s=0.2) as client:
        engine = client.app.state.service.engine
        held = [engine.connect(), engine.connect()]  # pool_size 1 + max_overflow 1
        try:
            r = client.get("/auth/me", headers=auth(keys["admin"]))
        finally:
            for conn in held:
                conn.close()
        assert r.status_code == 503, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert int(r.headers["retry-after"]) >= 1
        assert "QueuePool" not in r.text  # SQLAlchemy's wording stays inside
        assert client.get("/auth/me", headers=auth(keys["admin"])).status_code == 200


def test_an_exhausted_read_pool_is_a_503_with_retry_after(api_url):
    """The read pool's only connection held: a public read waits its pool timeout, then gets
    a 503 problem with Retry-After."""
    app = make_app(api_url, pool_size=1, pool_timeout_s=0.2)

    async def scenario():
        async with async_client(app) as client:
            async with app.state.service.pool.connection():
                busy = await client.get("/collections/roads/items?limit=1")
            free = await client.get("/collections/roads/items?limit=1")
            await app.state.service.pool.close()
            return busy, free

    try:
        busy, free = asyncio.run(scenario())
    finally:
        dispose(app)
    assert busy.status_code == 503, busy.text
    assert busy.headers["content-type"] == "application/problem+json"
    assert int(busy.headers["retry-after"]) >= 1
    assert free.status_code == 200, free.text


# -- per-client limit -------------------------------------------------------------------------
def test_anonymous_analyses_are_limited_per_client(api_url, keys, slow_roads):
    """With a limit of 2 per anonymous client, a third analysis at once from the same address
    is a 429 with Retry-After; another address, and an authenticated caller, are not refused."""
    app = make_app(api_url, anonymous_analyses_per_client=2, analysis_pool_size=6)

    async def scenario():
        async with async_client(app) as client, async_client(app, "10.0.0.9") as other:
            running = [asyncio.ensure_future(client.get(f"{slow_roads}800")) for _ in range(2)]
            await asyncio.sleep(0.3)
            third = await client.get(f"{slow_roads}1")
            elsewhere = await other.get(f"{slow_roads}1")
            viewer = await client.get(f"{slow_roads}1", headers=auth(keys["viewer"]))
            first_two = await asyncio.gather(*running)
            after = await client.get(f"{slow_roads}1")
            return third, elsewhere, viewer, first_two, after

    try:
        third, elsewhere, viewer, first_two, after = asyncio.run(scenario())
    finally:
        dispose(app)
    assert third.status_code == 429, third.text
    assert third.headers["content-type"] == "application/problem+json"
    assert third.json()["code"] == "TooManyRequests"
    assert int(third.headers["retry-after"]) >= 1
    assert elsewhere.status_code == 200, elsewhere.text
    assert viewer.status_code == 200, viewer.text
    assert [r.status_code for r in first_two] == [200, 200]
    assert after.status_code == 200, after.text  # the slots are given back


# -- real cancellation ------------------------------------------------------------------------
class Tracker:
    """Whether a piece of work is still running, and how it ended."""

    def __init__(self) -> None:
        self.stop = threading.Event()  # the test's own brake, so nothing outlives it
        self.ended = threading.Event()
        self.ending: BaseException | None = None

    def run(self, body) -> None:
        try:
            while not self.stop.is_set():
                body()
        except BaseException as exc:
            self.ending = exc
            raise
        finally:
            self.ended.set()


def python_loop(tracker: Tracker):
    """An analysis whose time goes to Python: the network build's topology step, over and
    over (its deadline checks are the only way to stop it)."""
    from gis_registry.network.topology import build_topology, road_arrays

    rng = np.random.default_rng(0)
    n = 4000
    lonlat = np.column_stack([99.4 + rng.random(2 * n) * 0.2, 18.2 + rng.random(2 * n) * 0.2])
    roads = road_arrays(
        np.arange(1, n + 1),
        lonlat,
        np.arange(0, 2 * n + 1, 2),
        road_class=["local"] * n,
        surface=["asphalt"] * n,
        oneway=[False] * n,
        layer=[0] * n,
    )

    def work(conn, **_options):
        tracker.run(lambda: build_topology(roads, tolerance_m=1.0))

    return work


def sql_loop(tracker: Tracker):
    """An analysis of many short statements, each well within the statement timeout."""

    def work(conn, **_options):
        tracker.run(lambda: conn.exec_driver_sql("SELECT pg_sleep(0.2)"))

    return work


def sql_between(tracker: Tracker):
    """An analysis whose time goes between its statements (no query running to cancel)."""

    def step(conn):
        conn.exec_driver_sql("SELECT 1")
        time.sleep(0.05)

    def work(conn, **_options):
        tracker.run(lambda: step(conn))

    return work


@pytest.mark.parametrize(
    "make_work", [python_loop, sql_loop, sql_between], ids=["python", "sql", "between"]
)
def test_a_timed_out_analysis_stops_its_work(api_url, monkeypatch, make_work):
    """Past its deadline an analysis gets its 504 and its work has stopped (or stops within a
    second or two): no thread keeps running it."""
    import gis_registry.network.criticality as module
    from tests.api.conftest import make_client

    tracker = Tracker()
    monkeypatch.setattr(module, "criticality", make_work(tracker))
    try:
        with make_client(api_url, analysis_timeout_ms=500) as impatient:
            t0 = time.perf_counter()
            r = impatient.get("/analysis/network/criticality")
            took = time.perf_counter() - t0
            assert r.status_code == 504, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["code"] == "Timeout"
            assert took < 3.0, took
            assert tracker.ended.wait(2.0), "the analysis is still running after its 504"
            assert not tracker.stop.is_set()
            # the slot came back: the next analysis runs
            assert impatient.get("/analysis/zoning/areas?by=plan").status_code == 200
    finally:
        tracker.stop.set()
        tracker.ended.wait(10)


def test_library_loops_stop_at_their_deadline():
    """A passed deadline stops the network build (topology, hierarchy) at its next check;
    without one (the CLI), nothing changes."""
    from gis_registry.network.hierarchy import build_hierarchy  # noqa: F401 - instrumented
    from gis_registry.network.topology import build_topology
    from tests.unit.test_network_topology import pt, roads

    arrays = roads([[pt(0, 0), pt(100, 0)], [pt(100, 0.5), pt(200, 0)]])
    assert build_topology(arrays).n_nodes == 3
    late = deadline.Deadline(0.0)
    with deadline.running(late), pytest.raises(deadline.Cancelled):
        build_topology(arrays)
    stopped = deadline.Deadline(60.0)
    stopped.cancel()
    with deadline.running(stopped), pytest.raises(deadline.Cancelled):
        build_topology(arrays)
    assert deadline.current() is None


def test_a_cancelled_build_does_not_poison_the_network_cache():
    """The leader's build is cancelled by its deadline while another caller waits: nothing is
    cached, the waiter builds afresh (not counted as a failure) and gets a whole network."""
    from gis_registry.network.model import NetworkCache

    cache = NetworkCache()
    started = threading.Event()
    leader_error: list[BaseException] = []
    builds: list[str] = []

    def cancelled_build():
        builds.append("cancelled")
        started.set()
        while True:
            deadline.check()
            time.sleep(0.01)

    class Net:
        stamp = ("s",)

    def good_build():
        builds.append("good")
        return Net()

    def leader():
        with deadline.running(deadline.Deadline(0.3)):
            try:
                cache.get_or_build(("k",), ("s",), cancelled_build)
            except BaseException as exc:
                leader_error.append(exc)

    thread = threading.Thread(target=leader)
    thread.start()
    assert started.wait(5)
    with deadline.running(deadline.Deadline(10.0)):
        net = cache.get_or_build(("k",), ("s",), good_build)
    thread.join(5)
    assert isinstance(leader_error[0], deadline.Cancelled)
    assert builds == ["cancelled", "good"]
    assert isinstance(net, Net) and cache.get(("k",), ("s",)) is net


def test_a_waiter_stops_at_its_own_deadline_and_the_build_goes_on():
    """A caller waiting for another's build stops when its own deadline passes (a 504 for a
    request), while the build finishes for the others and is cached."""
    from gis_registry.network.model import NetworkCache

    cache = NetworkCache()
    started, release = threading.Event(), threading.Event()

    class Net:
        stamp = ("s",)

    def slow_build():
        started.set()
        release.wait(10)
        return Net()

    built: list = []
    thread = threading.Thread(
        target=lambda: built.append(cache.get_or_build(("k",), ("s",), slow_build))
    )
    thread.start()
    try:
        assert started.wait(5)
        t0 = time.perf_counter()
        with deadline.running(deadline.Deadline(0.2)), pytest.raises(deadline.Cancelled):
            cache.get_or_build(("k",), ("s",), slow_build)
        assert time.perf_counter() - t0 < 1.0
    finally:
        release.set()
        thread.join(10)
    assert isinstance(built[0], Net) and cache.get(("k",), ("s",)) is built[0]
