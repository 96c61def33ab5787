"""The network model (topology + costs + bridges + places) and its cache.

:func:`load_network` returns the network of the connected database, built once and reused
until the registry changes: the cache is keyed by the database and the configuration, and
checked against the ``layer_versions`` stamp on every call, so it is never stale. Builds are
single-flight: callers asking at once for the same (key, stamp) share one build.

Metres on the network (snapping, edge lengths, attaching places and bridges) are measured in
the registry's metric CRS, the UTM zone of its province
(:func:`gis_registry.geodesy.metric_srid`), looked up once per build by
:func:`~gis_registry.network.sources.read_roads` and carried by the arrays. It derives from
``local_bodies``, which the stamp covers: a network is never reused in another CRS than its
data's.
"""

from __future__ import annotations

import fcntl
import hashlib
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import Connection

from gis_registry import deadline
from gis_registry.errors import NotFound
from gis_registry.network import snapshot
from gis_registry.network.attach import Places, read_places
from gis_registry.network.costs import SpeedTable, edge_times
from gis_registry.network.graph import (
    RoutingGraph,
    build_routing_graph,
    check_weight,
    state_arrays,
)
from gis_registry.network.hierarchy import Hierarchy, build_hierarchy
from gis_registry.network.sources import (
    BridgeArrays,
    network_stamp,
    read_bridges,
    read_roads,
)
from gis_registry.network.topology import (
    RoadArrays,
    Topology,
    build_topology,
    ranges,
    to_metric,
)

# Contraction stops at n / CORE_FRACTION nodes (at least CORE_MIN) or after CORE_ROUNDS rounds.
# Later rounds contract few, high-degree nodes at the cost of a pass over every arc, and save
# less in the offices' precomputed core searches than they cost (measured at scale 100).
CORE_FRACTION = 12
CORE_MIN = 500
CORE_ROUNDS = 10


@dataclass(frozen=True)
class NetworkConfig:
    """How the network is built.

    Parameters
    ----------
    tolerance_m
        Snapping tolerance: vertices closer than this many metres are one node.
    speeds
        Speed per road class and surface, for travel times.
    """

    tolerance_m: float = 1.0
    speeds: SpeedTable = field(default_factory=SpeedTable)

    def key(self) -> tuple:
        """A hashable value: equal keys, equal networks (for the cache)."""
        return (float(self.tolerance_m), self.speeds.key())


@dataclass(eq=False)
class Network:
    """A built road network: everything the analyses need, in arrays.

    Without closures, routes and matrices use :meth:`hierarchy` (exact, milliseconds); closures
    change costs, which a precomputed hierarchy cannot follow, so they use plain Dijkstra on
    :attr:`core` or :attr:`full`.
    """

    stamp: tuple
    config: NetworkConfig
    roads: RoadArrays
    topo: Topology
    time_s: np.ndarray
    bridges: BridgeArrays
    bridge_edge: np.ndarray
    places: Places
    _hierarchies: dict = field(default_factory=dict, repr=False)
    hierarchy_states: dict = field(default_factory=dict, repr=False)

    @property
    def metric_srid(self) -> int:
        """The CRS (EPSG code, a UTM zone) of every metric coordinate of the network."""
        return self.roads.metric_srid

    @property
    def edge_oneway(self) -> np.ndarray:
        """Per edge: its road is one-way (source to target)."""
        return self.roads.oneway[self.topo.road]

    @cached_property
    def full(self) -> RoutingGraph:
        """Every node a stop: Dijkstra under closures, for routes from or to any point."""
        t = self.topo
        return build_routing_graph(
            t.source, t.target, self.edge_oneway, t.length_m, self.time_s, t.n_nodes
        )

    @cached_property
    def core(self) -> RoutingGraph:
        """Degree-2 chains contracted, places' nodes kept: Dijkstra under closures between
        places (routes, matrix) and the travel-time increases of criticality."""
        t = self.topo
        stops = np.zeros(t.n_nodes, dtype=bool)
        nodes = self.places.node
        stops[nodes[nodes >= 0]] = True
        return build_routing_graph(
            t.source,
            t.target,
            self.edge_oneway,
            t.length_m,
            self.time_s,
            t.n_nodes,
            stops=stops,
        )

    def hierarchy(self, by: str = "time") -> Hierarchy:
        """The contraction hierarchy of the full graph weighted ``by`` time or distance (the other
        carried along), with the LGO offices' forward spaces precomputed. Its input
        arcs are the allowed edge states, ``hierarchy_states[by][arc]``. Built on first use."""
        h = self._hierarchies.get(check_weight(by))
        if h is None:
            t = self.topo
            tail, head, allowed = state_arrays(t.source, t.target, self.edge_oneway)
            states = np.flatnonzero(allowed)
            length, time_s = t.length_m[states // 2], self.time_s[states // 2]
            weight, aux = (time_s, length) if by == "time" else (length, time_s)
            h = build_hierarchy(
                tail[states],
                head[states],
                weight,
                t.n_nodes,
                aux=aux,
                core_nodes=max(CORE_MIN, t.n_nodes // CORE_FRACTION),
                max_rounds=CORE_ROUNDS,
            )
            offices = self.places.node[self.places.rows_of("lgo")]
            h.precompute(offices[offices >= 0])
            self._hierarchies[by] = h
            self.hierarchy_states[by] = states
        return h

    def road_rows(self, road_ids) -> np.ndarray:
        """Row indices of ``road_ids``; raises NotFound for an unknown id."""
        ids = np.asarray(list(road_ids), dtype=np.int64)
        rows = self.roads.index_of(ids)
        if (rows < 0).any():
            missing = ", ".join(str(i) for i in ids[rows < 0])
            raise NotFound(f"no road with id {missing}")
        return rows

    def bridge_rows(self, bridge_ids) -> np.ndarray:
        """Row indices of ``bridge_ids``; raises NotFound for an unknown id."""
        ids = np.asarray(list(bridge_ids), dtype=np.int64)
        pos = np.clip(np.searchsorted(self.bridges.ids, ids), 0, max(len(self.bridges.ids) - 1, 0))
        ok = (self.bridges.ids[pos] == ids) if len(self.bridges.ids) else np.zeros(len(ids), bool)
        if not ok.all():
            missing = ", ".join(str(i) for i in ids[~ok])
            raise NotFound(f"no bridge with id {missing}")
        return pos

    def edge_lines(self, edges: np.ndarray, *, metric: bool = False) -> np.ndarray:
        """Shapely LineStrings of ``edges`` (lon/lat, or metres in the network's metric CRS,
        :attr:`metric_srid`, when ``metric``)."""
        v0, v1 = self.topo.v0[edges], self.topo.v1[edges]
        counts = v1 - v0 + 1
        rows = ranges(v0, v1 + 1)
        coords = (self.roads.xy if metric else self.roads.lonlat)[rows]
        return shapely.linestrings(coords, indices=np.repeat(np.arange(len(edges)), counts))


# (stage, steps done, steps in all), called as a build goes: a shell draws a progress bar.
Progress = Callable[[str, int, int], None]
# The steps of load_network's build: reading roads, bridges, topology, places, hierarchy.
BUILD_STEPS = ("roads", "bridges", "topology", "places", "hierarchy")


def _step(progress: Progress | None, stage: str) -> None:
    deadline.check()  # a cancelled build stops between its steps (and inside the long ones)
    if progress is not None:
        progress(stage, BUILD_STEPS.index(stage), len(BUILD_STEPS))


def build_network(
    roads: RoadArrays,
    bridges: BridgeArrays,
    places_reader,
    *,
    config: NetworkConfig | None = None,
    stamp: tuple = (),
    progress: Progress | None = None,
) -> Network:
    """Build a :class:`Network` from arrays; ``places_reader(node_xy, metric_srid)`` returns
    the places attached to the nodes at ``node_xy`` (metres in EPSG:``metric_srid``, the roads'
    metric CRS). ``progress(stage, done, total)`` hears of the topology and places steps."""
    config = config or NetworkConfig()
    _step(progress, "topology")
    topo = build_topology(roads, tolerance_m=config.tolerance_m)
    road = topo.road
    time_s = edge_times(
        topo.length_m, roads.class_idx[road], roads.surface_idx[road], config.speeds
    )
    _step(progress, "places")
    net = Network(
        stamp=stamp,
        config=config,
        roads=roads,
        topo=topo,
        time_s=time_s,
        bridges=bridges,
        bridge_edge=np.zeros(0, dtype=np.int64),
        places=places_reader(topo.node_xy, roads.metric_srid),
    )
    net.bridge_edge = _bridge_edges(net)
    return net


def _bridge_edges(net: Network) -> np.ndarray:
    """The edge each bridge lies on: the nearest edge of its road (-1 if the road is unknown)."""
    b = net.bridges
    out = np.full(len(b.ids), -1, dtype=np.int64)
    if len(b.ids) == 0:
        return out
    rows = net.roads.index_of(b.road_id)
    known = rows >= 0
    starts = np.where(known, net.topo.road_edges[np.maximum(rows, 0)], 0)
    ends = np.where(known, net.topo.road_edges[np.maximum(rows, 0) + 1], 0)
    single = ends - starts == 1
    out[single] = starts[single]
    multi = np.flatnonzero(ends - starts > 1)
    if len(multi):
        which = np.repeat(multi, (ends - starts)[multi])
        edges = ranges(starts[multi], ends[multi])
        xy = to_metric(b.lonlat[which], net.metric_srid)
        dist = shapely.distance(net.edge_lines(edges, metric=True), shapely.points(xy))
        order = np.lexsort((dist, which))
        first = np.r_[True, which[order][1:] != which[order][:-1]]
        out[which[order][first]] = edges[order][first]
    return out


class NetworkCache:
    """The last few networks built, per database and configuration (thread-safe).

    A network of the scale-100 province takes about a GB: keep ``maxsize`` small. With a
    ``directory`` the networks are also saved there as snapshots (:mod:`.snapshot`: one file
    per database and configuration, replaced when the registry changes, the ``keep_on_disk``
    most recent kept), loaded memory-mapped in milliseconds, so that a short-lived CLI process
    or a restarted API does not rebuild the network. Only point it at a directory you own:
    loading a snapshot unpickles it, which runs code.

    :meth:`get_or_build` is single-flight: after an edit, concurrent analyses wait for one
    build (15 s and up to 2 GB at a million segments) instead of each running their own.
    """

    def __init__(self, maxsize: int = 2, *, directory: Path | None = None, keep_on_disk: int = 8):
        self.maxsize = maxsize
        self.directory = directory
        self.keep_on_disk = keep_on_disk
        self._items: OrderedDict[tuple, Network] = OrderedDict()
        self._lock = threading.Lock()
        # (key, stamp) -> the build under way; removed when it ends, whatever the outcome
        self._flights: dict[tuple, Future[Network]] = {}

    def _fresh(self, key: tuple, stamp: tuple) -> Network | None:
        """The network in memory for ``key`` if it has ``stamp``. Call with the lock held."""
        net = self._items.get(key)
        if net is not None and net.stamp == stamp:
            self._items.move_to_end(key)
            return net
        return None

    def get_or_build(self, key: tuple, stamp: tuple, build: Callable[[], Network]) -> Network:
        """The network of ``key`` at ``stamp``: from memory, else from the directory, else built.

        One load or build per (key, stamp) runs at a time: callers arriving while it runs wait
        for it and get the same :class:`Network`. If it fails, its caller gets the error and
        each waiter tries once more (a failure may be the first caller's own: its connection,
        its statement timeout), again sharing one build; a second failure is raised. A build
        stops only when its leader's deadline (:mod:`gis_registry.deadline`) passes: nothing
        of it is kept, and the waiters start (or join) a new build without counting that as a
        failure; a waiter whose own deadline passes stops waiting, and the build goes on for
        the others.

        Parameters
        ----------
        key
            Database and configuration (see :func:`load_network`).
        stamp
            The registry's state (:func:`~gis_registry.network.sources.network_stamp`).
        build
            Builds the network at ``stamp``; run in the calling thread of the first caller.

        Returns
        -------
        Network
            The cached or new network, whose ``stamp`` is ``stamp``.
        """
        attempts = 0
        while True:
            with self._lock:
                net = self._fresh(key, stamp)
                if net is not None:
                    return net
                waiting = self._flights.get((key, stamp))
                if waiting is None:
                    flight: Future[Network] = Future()
                    self._flights[(key, stamp)] = flight
            if waiting is None:
                return self._lead(key, stamp, build, flight)
            try:
                return _wait(waiting)
            except deadline.Cancelled:
                if not waiting.done():
                    raise  # this caller's own deadline, while it waited
                # the leader's deadline ended its build, which says nothing of this caller's
                # chances: it leads (or joins) the next build, not counted as a failure
            except Exception:
                attempts += 1
                if attempts > 1:
                    raise

    def _lead(
        self, key: tuple, stamp: tuple, build: Callable[[], Network], flight: Future[Network]
    ) -> Network:
        """Load or build for everyone waiting on ``flight``, and always resolve it."""
        try:
            with self._exclusive(key):
                net = self._load(key, stamp)
                loaded = net is not None
                if net is None:
                    net = build()
                with self._lock:
                    self._store(key, net)
                    self._flights.pop((key, stamp), None)
                flight.set_result(net)  # waiters in this process need not wait for the disk
                if not loaded:
                    self._save(key, net)  # before other processes get the file lock
        except BaseException as exc:
            if flight.done():
                raise
            with self._lock:
                self._flights.pop((key, stamp), None)
            # waiters get an Exception even on KeyboardInterrupt or SystemExit here, and retry
            shared = (
                exc if isinstance(exc, Exception) else RuntimeError(f"build abandoned: {exc!r}")
            )
            flight.set_exception(shared)
            raise
        return net

    @contextmanager
    def _exclusive(self, key: tuple) -> Iterator[None]:
        """One load-or-build of ``key`` at a time across processes sharing the directory: after
        an edit, a CLI command and a running API (or two commands) do not both spend a
        rebuild; the second waits, then loads the first one's snapshot."""
        if self.directory is None:
            yield
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle = self._path(key).with_suffix(".lock").open("a")
        except OSError:
            yield  # a directory we cannot write to: build without the lock
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
            yield

    def get(self, key: tuple, stamp: tuple) -> Network | None:
        """The network of ``key`` if it has ``stamp`` (memory, then directory), else None."""
        with self._lock:
            net = self._fresh(key, stamp)
        if net is not None:
            return net
        net = self._load(key, stamp)
        if net is not None:
            self._remember(key, net)
        return net

    def put(self, key: tuple, net: Network) -> None:
        """Keep ``net`` as the network of ``key`` (and write it to the directory, if any)."""
        self._remember(key, net)
        self._save(key, net)

    def _remember(self, key: tuple, net: Network) -> None:
        with self._lock:
            self._store(key, net)

    def _store(self, key: tuple, net: Network) -> None:
        """Keep ``net`` in memory, dropping the least recent beyond ``maxsize``. Lock held."""
        self._items[key] = net
        self._items.move_to_end(key)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget the networks kept in memory (the directory's files stay)."""
        with self._lock:
            self._items.clear()

    def _path(self, key: tuple) -> Path:
        assert self.directory is not None
        name = hashlib.sha1(repr(key).encode()).hexdigest()[:16]
        return self.directory / f"network-{name}.snapshot"

    def _load(self, key: tuple, stamp: tuple) -> Network | None:
        if self.directory is None:
            return None
        net = snapshot.load(self._path(key), repr(stamp))
        if not (isinstance(net, Network) and net.stamp == stamp):
            return None
        return net if _complete(net) else None

    def _save(self, key: tuple, net: Network) -> None:
        if self.directory is None:
            return
        try:
            snapshot.save(self._path(key), net, repr(net.stamp))
        except (OSError, pickle.PicklingError, TypeError):
            return  # a cache that cannot be written is only slower
        self._prune()

    def _prune(self) -> None:
        """Keep the ``keep_on_disk`` most recently written snapshots (one per database and
        configuration: test databases and scratch registries would otherwise pile up), and
        remove the files of older versions of this cache (pickles and their stamps)."""
        assert self.directory is not None
        try:
            files = sorted(
                self.directory.glob("network-*.snapshot"),
                key=lambda p: p.stat().st_mtime,
                reverse=True,
            )
            stale = files[self.keep_on_disk :]
            stale += [path.with_suffix(".lock") for path in stale]
            stale += list(self.directory.glob("network-*.pickle"))
            stale += list(self.directory.glob("network-*.stamp"))
            for path in stale:
                path.unlink(missing_ok=True)
        except OSError:
            pass  # another process pruned first


def _wait(flight: Future[Network], poll_s: float = 0.05) -> Network:
    """The result of another caller's build, waited for under this caller's deadline
    (:func:`gis_registry.deadline.check` between short waits)."""
    if deadline.current() is None:
        return flight.result()
    while True:
        deadline.check()
        try:
            return flight.result(timeout=poll_s)
        except FutureTimeout:
            continue


def _complete(net: Network) -> bool:
    """Whether ``net`` has every field of the current classes: a network pickled by an older
    version (e.g. before networks carried their metric CRS) unpickles without the new fields,
    and is rebuilt rather than failing later or being measured in the wrong CRS."""
    parts = (net, net.roads, net.topo, net.bridges, net.places)
    return all(hasattr(part, f.name) for part in parts for f in fields(part))


DEFAULT_CACHE = NetworkCache()


def keep_snapshots_in(directory: Path | None) -> None:
    """Save the networks :func:`load_network` builds by default under ``directory`` and load
    them from there, so that a new process (a CLI command, a restarted API) loads the network
    in milliseconds instead of rebuilding it; None keeps them in memory only (the default).

    Parameters
    ----------
    directory : a directory the registry owns, e.g. ``Settings().resolved_home() /
        "network-cache"`` (:func:`snapshot_directory`)
    """
    DEFAULT_CACHE.directory = directory


def snapshot_directory(settings=None) -> Path:
    """Where the CLI and the API keep network snapshots: ``network-cache`` under the registry
    home (``GIS_REGISTRY_HOME``)."""
    from gis_registry.settings import Settings

    return (settings or Settings()).resolved_home() / "network-cache"


def load_network(
    conn: Connection,
    *,
    config: NetworkConfig | None = None,
    cache: NetworkCache | None = DEFAULT_CACHE,
    progress: Progress | None = None,
) -> Network:
    """The road network of the registry behind ``conn``, from the cache when still current.

    Parameters
    ----------
    conn
        An open connection; the network is read in its transaction (uncommitted changes count).
    config
        Snapping tolerance and speeds (default :class:`NetworkConfig`).
    cache
        Where built networks are kept; None builds afresh every time.
    progress
        Called ``(stage, done, total)`` at each step of a build (:data:`BUILD_STEPS`), last
        with ``done == total``; never when the network comes from the cache.
    """
    config = config or NetworkConfig()
    stamp = network_stamp(conn)

    def build() -> Network:
        # read_roads looks up the registry's metric CRS (one small query); the bridges and
        # places are then projected in the roads' CRS, so the whole network shares one.
        _step(progress, "roads")
        roads = read_roads(conn)
        _step(progress, "bridges")
        bridges = read_bridges(conn)
        net = build_network(
            roads,
            bridges,
            lambda node_xy, srid: read_places(conn, node_xy, metric_srid=srid),
            config=config,
            stamp=stamp,
            progress=progress,
        )
        _step(progress, "hierarchy")
        net.hierarchy("time")  # built now, so that the first route does not pay for it
        if progress is not None:
            progress("built", len(BUILD_STEPS), len(BUILD_STEPS))
        return net

    if cache is None:
        return build()
    key = (conn.engine.url.render_as_string(hide_password=True), config.key())
    # Callers with the same stamp see the same data (uncommitted changes bump the stamp), so a
    # network built in another caller's transaction is theirs too.
    return cache.get_or_build(key, stamp, build)
