"""Road network: graph build, LGO-to-LGO routes against pgr_dijkstra, the LGO matrix, criticality.

    python -m bench.bench_network --scale 100      (or: python -m bench network -- --scale 100)

Database: ``<db>_bench_network_s<scale>`` on the configured server, loaded with the demo province
(seed 52) at that scale the first time and reused afterwards (``--reload`` reloads it); the
criticality figure uses the scale-1 province (``<db>_bench_network_s1``).

Targets (issue "Road connectivity between local bodies"), on the scale-100 network (~1.1M road
segments): graph build under 15 s and 2 GB; one LGO-to-LGO route under 10 ms median, and at
least 10x faster than pgr_dijkstra on the same pairs in the same run; the 100 x 100 LGO matrix
under 2 s; criticality of every bridge of the scale-1 province under 10 s. The graph library
comparison (igraph, rustworkx, scipy.sparse.csgraph, networkx: build + one single-source search
on the same arcs) is what chose scipy; ``--no-libraries`` skips it.

Issue 13 ("a network that loads, not rebuilds"); the first two at scale 1 and at ``--scale``, in
fresh processes with an isolated registry home (``GIS_REGISTRY_HOME`` a temporary folder, deleted
afterwards) on that scale's bench database:

- cold CLI route: wall time of ``gis-registry route A B`` (two LGO codes), median of
  ``--cold-runs`` runs after one warm-up run that builds the network and leaves its snapshot on
  disk (that first, fresh-build run is printed too), beside a process that only imports
  ``gis_registry.cli``. Target: under 1 s at scale 100.
- network load: ``load_network`` from the saved snapshot vs a fresh build (``cache=None``), each
  in a fresh process: seconds, peak RSS, and the first hierarchy query after the load (a
  memory-mapped snapshot pays its page faults there). Target: load under 1 s at scale 100.
- contraction hierarchy vs pandana's (on the ``--pandana-scale`` network: scale 1 by default, as
  pandana's build alone takes about 3 minutes at scale 100): the same directed arcs (the allowed
  edge states) and travel times, the same ``--ch-pairs`` random node pairs; equal lengths, build
  time, time per query. pandana stores weights as integer thousandths: the times are scaled up
  before they go in and the lengths compared within that rounding.

``--cold-runs 0`` skips the first two, ``--pandana-scale 0`` the third.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from gis_registry.cli._progress import progress_bar as bar

TARGETS = {
    "build_s": 15.0,
    "build_mb": 2048.0,
    "route_ms": 10.0,
    "route_speedup": 10.0,
    "matrix_s": 2.0,
    "criticality_s": 10.0,
    "cold_route_s": 1.0,  # issue 13, at scale 100
    "snapshot_load_s": 1.0,  # issue 13, at scale 100
}
TARGET_SCALE = 100  # the issue-13 targets are stated for the scale-100 network


def bench_engine(scale: float, *, reload: bool = False):
    """The bench database holding the demo at ``scale`` (created and loaded when needed)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database
    from gis_registry.server import database_url
    from gis_registry.settings import Settings

    settings = Settings()
    suffix = f"_bench_network_s{scale:g}".replace(".", "_")
    url = make_url(database_url(settings))
    existing = url.set(database=f"{url.database}{suffix}").render_as_string(hide_password=False)
    if not reload:
        try:
            engine = make_engine(settings, url=existing)
            with engine.connect() as conn:
                loaded = conn.execute(text("SELECT scale FROM bench_network_demo")).scalar_one()
            if float(loaded) == float(scale):
                return engine
        except Exception:  # noqa: BLE001 - absent, unmigrated or half-loaded: (re)create it
            pass
    from gis_registry.demo import load_demo

    print(f"loading the scale-{scale:g} demo province (once) ...", flush=True)
    started = time.perf_counter()
    engine = make_engine(settings, url=create_test_database(settings, suffix, per_process=False))
    upgrade(engine)
    with bar(f"demo scale {scale:g}") as progress:
        load_demo(engine, seed=52, scale=scale, progress=progress)
    with engine.begin() as conn:
        # a marker that the load finished, so an interrupted load is redone next time
        conn.execute(
            text("CREATE TABLE bench_network_demo AS SELECT CAST(:s AS float8) AS scale"),
            {"s": scale},
        )
    print(f"loaded in {time.perf_counter() - started:.0f} s", flush=True)
    return engine


def _peak_rss_mb() -> float:
    """Peak resident memory of this process since the last :func:`_reset_peak` (Linux), else
    since it started."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _rss_mb() -> float:
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _peak_rss_mb()


def _reset_peak() -> None:
    """Reset the peak (VmHWM) so that loading the demo does not hide the build's peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _verdict(value: float, target: float, *, higher_is_better: bool = False) -> str:
    ok = value >= target if higher_is_better else value <= target
    return "ok" if ok else "MISSED"


def _edge_table(conn, net) -> None:
    """Our edges, as pgRouting wants them, in a temporary table (same costs as ours)."""
    import numpy as np
    from sqlalchemy import text

    conn.execute(
        text(
            "CREATE TEMP TABLE bench_edges (id bigint, source bigint, target bigint, cost float8, "
            "reverse_cost float8)"
        )
    )
    raw = conn.connection.driver_connection
    t = net.topo
    reverse = np.where(net.edge_oneway, -1.0, net.time_s)
    with raw.cursor() as cur, cur.copy("COPY bench_edges FROM STDIN") as copy:
        for i in range(0, t.n_edges, 200_000):
            rows = zip(
                range(i + 1, min(i + 200_000, t.n_edges) + 1),
                (t.source[i : i + 200_000] + 1).tolist(),
                (t.target[i : i + 200_000] + 1).tolist(),
                net.time_s[i : i + 200_000].tolist(),
                reverse[i : i + 200_000].tolist(),
                strict=True,
            )
            copy.write("".join(f"{a}\t{b}\t{c}\t{d!r}\t{e!r}\n" for a, b, c, d, e in rows))


def bench_routes(conn, net, *, pairs: int, pgr_pairs: int) -> dict:
    import numpy as np
    from sqlalchemy import text

    from gis_registry.network.routing import route

    places = net.places
    lgos = [r for r in places.rows_of("lgo") if places.node[r] >= 0]
    rng = np.random.default_rng(52)
    chosen = [tuple(rng.choice(lgos, 2, replace=False)) for _ in range(pairs)]
    ours, costs, paths = [], [], []
    h = net.hierarchy("time")
    for a, b in chosen:
        started = time.perf_counter()
        h.query(int(places.node[a]), int(places.node[b]))  # the path alone, no SQL
        paths.append(time.perf_counter() - started)
        started = time.perf_counter()
        r = route(conn, places.key[a], places.key[b], network=net)
        ours.append(time.perf_counter() - started)
        costs.append(r.time_s)
    _edge_table(conn, net)
    theirs, worst = [], 0.0
    sql = "SELECT id, source, target, cost, reverse_cost FROM bench_edges"
    for (a, b), cost in list(zip(chosen, costs, strict=True))[:pgr_pairs]:
        started = time.perf_counter()
        agg = conn.execute(
            text(
                "SELECT max(agg_cost) FROM pgr_dijkstra(:sql, CAST(:a AS bigint), "
                "CAST(:b AS bigint), true)"
            ),
            {"sql": sql, "a": int(places.node[a]) + 1, "b": int(places.node[b]) + 1},
        ).scalar()
        theirs.append(time.perf_counter() - started)
        worst = max(worst, abs(agg - cost) / max(agg, 1e-12))
    # pgRouting on the very same pairs, each a one-off query (it builds its graph every time)
    ours_same = statistics.median(ours[: len(theirs)])
    return {
        "pairs": pairs,
        "route_median_ms": statistics.median(ours) * 1000,
        "route_p90_ms": float(np.percentile(ours, 90)) * 1000,
        "path_median_ms": statistics.median(paths) * 1000,
        "pgr_pairs": len(theirs),
        "pgr_median_ms": statistics.median(theirs) * 1000,
        "speedup": statistics.median(theirs) / ours_same,
        "max_rel_diff_vs_pgr": worst,
    }


def bench_libraries(net) -> list[dict]:
    """Build + one single-source Dijkstra on the same directed arcs, per graph library."""
    import numpy as np

    from gis_registry.network.graph import state_arrays

    t = net.topo
    tail, head, allowed = state_arrays(t.source, t.target, net.edge_oneway)
    tail, head = tail[allowed], head[allowed]
    weight = np.repeat(net.time_s, 2)[allowed]
    n, source = t.n_nodes, int(net.places.node[net.places.pao])
    rows = []

    def run(name, build, search):
        try:
            started = time.perf_counter()
            graph = build()
            built = time.perf_counter() - started
            started = time.perf_counter()
            dist = search(graph)
            searched = time.perf_counter() - started
        except ImportError as exc:
            rows.append({"library": name, "error": str(exc)})
            return
        rows.append({"library": name, "build_s": built, "sssp_s": searched, "reached": int(dist)})

    def scipy_build():
        from scipy import sparse

        order = np.lexsort((head, tail))
        ptr = np.searchsorted(tail[order], np.arange(n + 1))
        return sparse.csr_matrix((weight[order], head[order], ptr), shape=(n, n))

    def scipy_search(g):
        from scipy.sparse import csgraph

        return np.isfinite(csgraph.dijkstra(g, indices=source)).sum()

    run("scipy.sparse.csgraph", scipy_build, scipy_search)

    def igraph_build():
        import igraph

        g = igraph.Graph(n=n, edges=np.column_stack([tail, head]).tolist(), directed=True)
        g.es["weight"] = weight.tolist()
        return g

    run(
        "igraph",
        igraph_build,
        lambda g: np.isfinite(np.array(g.distances(source, weights="weight")[0])).sum(),
    )

    def rustworkx_build():
        import rustworkx

        g = rustworkx.PyDiGraph()
        g.add_nodes_from(range(n))
        g.add_edges_from(list(zip(tail.tolist(), head.tolist(), weight.tolist(), strict=True)))
        return g

    def rustworkx_search(g):
        import rustworkx

        return len(rustworkx.digraph_dijkstra_shortest_path_lengths(g, source, float)) + 1

    run("rustworkx", rustworkx_build, rustworkx_search)

    def networkx_build():
        import networkx

        g = networkx.DiGraph()
        g.add_nodes_from(range(n))
        g.add_weighted_edges_from(zip(tail.tolist(), head.tolist(), weight.tolist(), strict=True))
        return g

    def networkx_search(g):
        import networkx

        return len(networkx.single_source_dijkstra_path_length(g, source))

    run("networkx", networkx_build, networkx_search)
    return rows


# -- issue 13: cold processes, the saved snapshot, the hierarchy vs pandana's ------------------

# Run in a fresh process: load the network (from the snapshot under GIS_REGISTRY_HOME, as the CLI
# does, or freshly built), then one hierarchy query; print one JSON line.
_LOAD_SCRIPT = r"""
import json, sys, time

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return float("nan")

from gis_registry.db import make_engine
from gis_registry.network.model import NetworkCache, load_network, snapshot_directory
from gis_registry.settings import Settings

mode, s, t = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
settings = Settings()
directory = snapshot_directory(settings)
# the data files (not a lock or stamp file): rewritten by a build, untouched by a load
files = lambda: sorted(
    (p.name, p.stat().st_mtime_ns) for p in directory.glob("*") if p.stat().st_size > 4096
)
engine = make_engine(settings)
with engine.connect() as conn:
    conn.exec_driver_sql("SELECT 1")
    before, rss = (files() if directory.exists() else []), status("VmRSS:")
    started = time.perf_counter()
    if mode == "build":
        net = load_network(conn, cache=None)
    else:
        net = load_network(conn, cache=NetworkCache(maxsize=1, directory=directory))
    seconds = time.perf_counter() - started
    peak = status("VmHWM:")
    started = time.perf_counter()
    cost = net.hierarchy("time").query(s, t)[0]
    query = time.perf_counter() - started
    after = files() if directory.exists() else []
print(json.dumps({
    "seconds": seconds, "rss_before_mb": rss, "peak_rss_mb": peak, "final_peak_rss_mb":
    status("VmHWM:"), "first_query_ms": query * 1000, "cost_s": cost,
    "from_snapshot": bool(before) and before == after,
}))
"""


# Times one command from a small process of its own: ``ru_maxrss`` of a child keeps the high-water
# mark of the process it was forked from (the bench holds a GB), so the child is spawned by this
# wrapper, not by the bench. Writes "seconds maxrss_kib exit_code" to argv[1].
_WRAP_SCRIPT = r"""
import os, sys, time
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(sys.argv[1], "w") as f:
    f.write(f"{seconds!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


# The route command, run as the script runs it, writing the modules it imported to argv[1] at exit.
_MODULES_SCRIPT = r"""
import atexit, sys

def dump(path=sys.argv[1]):
    with open(path, "w") as f:
        f.write("\n".join(m for m in sys.modules if m != "__main__"))

atexit.register(dump)
from gis_registry.cli import app
sys.argv = ["gis-registry", *sys.argv[2:]]
sys.exit(app())
"""

# Imports the modules listed in argv[1] (those a route imported), and nothing else.
_IMPORTS_SCRIPT = r"""
import importlib, sys
for name in open(sys.argv[1]).read().split():
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""


def _run(cmd: list[str], env: dict) -> dict:
    """Run ``cmd`` (an absolute path first) to its end: wall seconds, its own peak RSS, exit
    code, output."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as res,
    ):
        subprocess.run(
            [sys.executable, "-S", "-c", _WRAP_SCRIPT, res.name, *cmd],
            env=env,
            stdout=out,
            stderr=err,
            check=True,
        )
        seconds, maxrss, rc = res.read().split()
        out.seek(0)
        err.seek(0)
        return {
            "seconds": float(seconds),
            "peak_rss_mb": int(maxrss) / 1024,  # KiB on Linux
            "rc": int(rc),
            "stdout": out.read().decode(errors="replace"),
            "stderr": err.read().decode(errors="replace"),
        }


def _checked(r: dict, what: str) -> dict:
    if r["rc"] != 0:
        raise RuntimeError(f"{what} exited {r['rc']}: {r['stderr'][-2000:]}")
    return r


def _route_pair(conn, net, seed: int = 13) -> tuple[str, str, int, int]:
    """Two LGO codes far apart that route in-process (so the CLI must answer them too)."""
    import numpy as np

    from gis_registry.network.routing import route

    places = net.places
    lgos = [r for r in places.rows_of("lgo") if places.node[r] >= 0]
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(20):
        a, b = (int(x) for x in rng.choice(lgos, 2, replace=False))
        try:
            r = route(conn, places.key[a], places.key[b], network=net)
        except Exception:  # noqa: BLE001 - unreachable or refused: try another pair
            continue
        if r.time_s is not None and np.isfinite(r.time_s) and (best is None or r.time_s > best[0]):
            best = (r.time_s, a, b)
    if best is None:
        raise RuntimeError("no routable LGO pair found")
    _, a, b = best
    return places.key[a], places.key[b], int(places.node[a]), int(places.node[b])


def bench_cold(engine, pair: tuple[str, str, int, int], *, runs: int, build_runs: int) -> dict:
    """Fresh processes on the database behind ``engine``, with a throw-away registry home: the
    CLI route (fresh build once, then ``runs`` from the snapshot), the import-only baseline, and
    ``load_network`` from the snapshot (``runs``) and freshly built (``build_runs``)."""
    code_a, code_b, node_a, node_b = pair
    home = Path(tempfile.mkdtemp(prefix="bench_network_home_"))
    env = dict(os.environ)
    env["GIS_REGISTRY_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    env["GIS_REGISTRY_HOME"] = str(home)
    script = Path(sys.executable).with_name("gis-registry")
    app = "import sys; from gis_registry.cli import app; sys.exit(app())"  # no script: the same
    cli = [str(script)] if script.exists() else [sys.executable, "-c", app]
    cli += ["route", code_a, code_b]
    baseline = [sys.executable, "-c", "import gis_registry.cli"]
    # every module a route imports, and nothing else: where a cold route's time goes
    modules = home / "modules.txt"
    imports = [sys.executable, "-c", _IMPORTS_SCRIPT, str(modules)]
    load = [sys.executable, "-c", _LOAD_SCRIPT]
    nodes = [str(node_a), str(node_b)]
    load_avg = os.getloadavg()[0]
    try:
        # the warm-up: no snapshot yet, so this one builds the network and saves it
        fresh = _checked(_run(cli, env), "gis-registry route (fresh build)")
        listed = [sys.executable, "-c", _MODULES_SCRIPT, str(modules), *cli[-3:]]
        _checked(_run(listed, env), "gis-registry route (listing its modules)")
        rows: dict[str, list[dict]] = {"cli": [], "baseline": [], "imports": [], "load": []}
        for _ in range(runs):  # interleaved, so that a burst of load hits them all alike
            rows["baseline"].append(_checked(_run(baseline, env), "import gis_registry.cli"))
            rows["imports"].append(_checked(_run(imports, env), "importing a route's modules"))
            rows["cli"].append(_checked(_run(cli, env), "gis-registry route"))
            r = _checked(_run([*load, "snapshot", *nodes], env), "load_network (snapshot)")
            rows["load"].append(r | json.loads(r["stdout"].strip().splitlines()[-1]))
        builds = []
        for _ in range(build_runs):
            r = _checked(_run([*load, "build", *nodes], env), "load_network (build)")
            builds.append(r | json.loads(r["stdout"].strip().splitlines()[-1]))
        files = [p for p in home.rglob("*") if p.is_file() and p != modules]
        snapshot_mb = sum(p.stat().st_size for p in files) / 2**20
    finally:
        shutil.rmtree(home, ignore_errors=True)

    def med(items, key):
        return statistics.median(r[key] for r in items)

    return {
        "codes": [code_a, code_b],
        "route": fresh["stdout"].strip().splitlines()[0] if fresh["stdout"].strip() else "",
        "runs": runs,
        "load_average": load_avg,
        "snapshot_mb": snapshot_mb,
        "cli_fresh_build_s": fresh["seconds"],
        "cli_fresh_build_peak_rss_mb": fresh["peak_rss_mb"],
        "cli_cold_median_s": med(rows["cli"], "seconds"),
        "cli_cold_all_s": [r["seconds"] for r in rows["cli"]],
        "cli_cold_peak_rss_mb": med(rows["cli"], "peak_rss_mb"),
        "import_only_median_s": med(rows["baseline"], "seconds"),
        "import_only_peak_rss_mb": med(rows["baseline"], "peak_rss_mb"),
        "imports_median_s": med(rows["imports"], "seconds"),
        "load_snapshot_median_s": med(rows["load"], "seconds"),
        "load_snapshot_all_s": [r["seconds"] for r in rows["load"]],
        "load_snapshot_peak_rss_mb": med(rows["load"], "peak_rss_mb"),
        "load_snapshot_rss_before_mb": med(rows["load"], "rss_before_mb"),
        "load_snapshot_first_query_ms": med(rows["load"], "first_query_ms"),
        "load_snapshot_every_time": all(r["from_snapshot"] for r in rows["load"]),
        "build_runs": len(builds),
        "build_median_s": med(builds, "seconds") if builds else None,
        "build_peak_rss_mb": med(builds, "peak_rss_mb") if builds else None,
        "build_first_query_ms": med(builds, "first_query_ms") if builds else None,
        "same_cost": len({round(r["cost_s"], 6) for r in rows["load"] + builds}) <= 1,
    }


def _print_cold(scale: float, c: dict) -> None:
    at_target = scale >= TARGET_SCALE

    def verdict(value, key):
        if not at_target:
            return f"(target {TARGETS[key]:g} s at scale {TARGET_SCALE})"
        return f"(target {TARGETS[key]:g} s)  {_verdict(value, TARGETS[key])}"

    cold, base = c["cli_cold_median_s"], c["import_only_median_s"]
    print(
        f"scale {scale:g}, {c['runs']} runs each, medians (load average {c['load_average']:.1f}); "
        f"route {c['codes'][0]} -> {c['codes'][1]}: {c['route']}"
    )
    print(
        f"  cold CLI route  {cold:7.2f} s   vs import gis_registry.cli only {base:.2f} s "
        f"({cold / base:.1f}x; route work {cold - base:+.2f} s); peak RSS "
        f"{c['cli_cold_peak_rss_mb']:.0f} MB vs {c['import_only_peak_rss_mb']:.0f} MB  "
        + verdict(cold, "cold_route_s")
    )
    print(
        f"                  {c['imports_median_s']:7.2f} s   of which imports: a process importing "
        f"the modules a route imports, nothing else"
    )
    print(
        f"                  {c['cli_fresh_build_s']:7.2f} s   the first, fresh-build route (no "
        f"snapshot; writes it: {c['snapshot_mb']:.0f} MB on disk), once: fresh/cold "
        f"{c['cli_fresh_build_s'] / cold:.1f}x"
    )
    load, build = c["load_snapshot_median_s"], c["build_median_s"]
    print(
        f"  network load    {load:7.3f} s   from the snapshot, peak RSS "
        f"{c['load_snapshot_peak_rss_mb']:.0f} MB (process {c['load_snapshot_rss_before_mb']:.0f}"
        f" MB before), first query {c['load_snapshot_first_query_ms']:.1f} ms  "
        + verdict(load, "snapshot_load_s")
        + ("" if c["load_snapshot_every_time"] else "  (SNAPSHOT NOT USED: rebuilt)")
    )
    print(
        f"  fresh build     {build:7.2f} s   peak RSS {c['build_peak_rss_mb']:.0f} MB, first "
        f"query {c['build_first_query_ms']:.1f} ms ({c['build_runs']} run"
        f"{'s' if c['build_runs'] > 1 else ''}): build/load {build / load:,.0f}x"
        + ("" if c["same_cost"] else "  (COSTS DIFFER between snapshot and build)")
    )


@contextlib.contextmanager
def _quiet_stdout():
    """File descriptor 1 to /dev/null: pandana's C++ prints its progress there."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def bench_pandana(net, *, pairs: int, scale: float, seed: int = 13) -> dict:
    """Our contraction hierarchy vs pandana's on the same arcs, weights and node pairs."""
    import dataclasses
    import warnings

    import numpy as np
    import pandas as pd

    from gis_registry.network.graph import state_arrays

    t = net.topo
    tail, head, allowed = state_arrays(t.source, t.target, net.edge_oneway)
    states = np.flatnonzero(allowed)  # the hierarchy's input arcs (see Network.hierarchy)
    tail, head, weight = tail[states], head[states], net.time_s[states // 2]

    # ours, built afresh on a copy without the hierarchy (includes precomputing the LGO offices'
    # forward spaces, as load_network does)
    fresh = dataclasses.replace(net, _hierarchies={}, hierarchy_states={})
    started = time.perf_counter()
    h = fresh.hierarchy("time")
    ours_build = time.perf_counter() - started

    rng = np.random.default_rng(seed)
    orig = rng.integers(0, t.n_nodes, pairs)
    dest = rng.integers(0, t.n_nodes, pairs)
    ours, arcs = np.empty(pairs), np.empty(pairs, dtype=np.int64)
    started = time.perf_counter()
    for i, (s, d) in enumerate(zip(orig.tolist(), dest.tolist(), strict=True)):
        cost, _, path = h.query(s, d)
        ours[i], arcs[i] = cost, len(path)
    ours_query = (time.perf_counter() - started) / pairs

    try:
        import pandana
        from threadpoolctl import threadpool_limits
    except ImportError as exc:
        return {"error": str(exc), "ours_build_s": ours_build, "ours_query_ms": ours_query * 1e3}
    # pandana keeps weights as unsigned integer thousandths of the unit and reports
    # UINT_MAX / 1000 for "unreachable": scale the seconds up as far as the longest path allows
    reach = np.isfinite(ours)
    longest = float(ours[reach].max()) if reach.any() else 1.0
    factor = 10.0 ** np.floor(np.log10(4.0e6 / max(longest, 1e-9) / 2))
    factor = float(min(max(factor, 1.0), 1e6))
    nodes = pd.RangeIndex(t.n_nodes)
    started = time.perf_counter()
    # built on every core (its queries need as many per-thread structures as it was built with)
    with _quiet_stdout(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pnet = pandana.Network(
            pd.Series(t.node_xy[:, 0], index=nodes),
            pd.Series(t.node_xy[:, 1], index=nodes),
            pd.Series(tail),
            pd.Series(head),
            pd.DataFrame({"time": weight * factor}),
            twoway=False,
        )
    theirs_build = time.perf_counter() - started
    with threadpool_limits(1, user_api="openmp"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        theirs = np.asarray(pnet.shortest_path_lengths(orig, dest), dtype=float)
        theirs_query = (time.perf_counter() - started) / pairs
        started = time.perf_counter()
        pnet.shortest_paths(orig, dest)
        theirs_paths = (time.perf_counter() - started) / pairs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        pnet.shortest_path_lengths(orig, dest)
        theirs_threads = (time.perf_counter() - started) / pairs
    unreachable = np.isclose(theirs, 4294967.295)
    theirs = np.where(unreachable, np.inf, theirs / factor)
    # each arc's weight is rounded to 1/(1000 factor) s inside pandana
    tolerance = arcs * (1e-3 / factor) + 1e-6 * np.where(reach, ours, 0)
    both = reach & ~unreachable
    diff = np.abs(theirs[both] - ours[both])
    rel = diff / np.maximum(ours[both], 1e-12)
    return {
        "scale": scale,
        "arcs": len(states),
        "nodes": t.n_nodes,
        "pairs": pairs,
        "reachable_pairs": int(both.sum()),
        "same_reachability": bool((reach == ~unreachable).all()),
        "weight_factor": factor,
        "resolution_s": 1e-3 / factor,
        "equal_within_rounding": bool((diff <= tolerance[both]).all()),
        "max_rel_diff": float(rel.max()) if len(rel) else 0.0,
        "max_abs_diff_s": float(diff.max()) if len(diff) else 0.0,
        "ours_build_s": ours_build,
        "pandana_build_s": theirs_build,
        "ours_query_ms": ours_query * 1e3,
        "pandana_query_ms": theirs_query * 1e3,
        "pandana_paths_ms": theirs_paths * 1e3,
        "pandana_query_all_threads_ms": theirs_threads * 1e3,
        "threads": os.cpu_count(),
    }


def _print_pandana(p: dict) -> None:
    if "error" in p:
        print(f"contraction hierarchy vs pandana: pandana not available ({p['error']})")
        return
    print(
        f"contraction hierarchy vs pandana 0.8's, scale {p['scale']:g}: the same {p['arcs']:,} "
        f"arcs (travel time) on {p['nodes']:,} nodes, {p['pairs']:,} random node pairs "
        f"({p['reachable_pairs']:,} reachable):"
    )
    print(
        f"  lengths equal within pandana's integer rounding ({p['resolution_s']:.0e} s per arc; "
        f"weights x{p['weight_factor']:g} going in): "
        f"{'yes' if p['equal_within_rounding'] else 'NO'}, max relative difference "
        f"{p['max_rel_diff']:.1e} ({p['max_abs_diff_s']:.1e} s); same unreachable pairs: "
        f"{'yes' if p['same_reachability'] else 'NO'}"
    )
    print(
        f"  build  ours {p['ours_build_s']:7.2f} s   pandana {p['pandana_build_s']:7.2f} s   "
        f"ours/pandana {p['ours_build_s'] / p['pandana_build_s']:.2f}  (ours 1 thread, pandana "
        f"{p['threads']})"
    )
    print(
        f"  query  ours {p['ours_query_ms']:7.3f} ms  pandana {p['pandana_query_ms']:7.3f} ms   "
        f"ours/pandana {p['ours_query_ms'] / p['pandana_query_ms']:.1f}  (ours: one Python call "
        f"per pair, cost and unpacked path; pandana: one batch call, lengths, 1 thread)"
    )
    print(
        f"         pandana with paths {p['pandana_paths_ms']:.3f} ms (ours/pandana "
        f"{p['ours_query_ms'] / p['pandana_paths_ms']:.1f}); lengths on all "
        f"{p['threads']} threads {p['pandana_query_all_threads_ms']:.3f} ms"
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="bench_network",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=float, default=100)
    parser.add_argument("--pairs", type=int, default=50, help="LGO pairs routed")
    parser.add_argument(
        "--pgr-pairs",
        type=int,
        default=10,
        help="of those, how many pgr_dijkstra also routes (slow: ~s each)",
    )
    parser.add_argument("--reload", action="store_true", help="reload the demo database")
    parser.add_argument("--no-libraries", action="store_true", help="skip the library table")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also build once under tracemalloc (slow) for its peak",
    )
    parser.add_argument(
        "--cold-runs",
        type=int,
        default=5,
        help="fresh-process runs (CLI route, snapshot load) per scale, after one warm-up; "
        "0 skips the issue-13 figures",
    )
    parser.add_argument(
        "--ch-pairs", type=int, default=1000, help="node pairs of the pandana comparison"
    )
    parser.add_argument(
        "--pandana-scale",
        type=float,
        default=1,
        help="network of the pandana comparison (1 or --scale; 0 skips it; at scale 100 "
        "pandana's build takes ~3 min)",
    )
    args = parser.parse_args(argv)
    if args.pandana_scale not in (0, 1, args.scale):
        parser.error("--pandana-scale is 1, --scale or 0")

    from gis_registry.network.criticality import criticality
    from gis_registry.network.model import load_network
    from gis_registry.network.routing import matrix

    result: dict = {"scale": args.scale, "load_average": os.getloadavg()[0], "targets": TARGETS}
    engine = bench_engine(args.scale, reload=args.reload)
    with engine.connect() as conn:
        _reset_peak()
        rss_before = _rss_mb()
        started = time.perf_counter()
        with bar("network build") as progress:
            net = load_network(conn, cache=None, progress=progress)
        build_s = time.perf_counter() - started
        # The peak resident memory during the build, above what the process held before.
        build_mb = _peak_rss_mb() - rss_before
        traced_mb = None
        if args.tracemalloc:  # tracemalloc slows the build several times: a second build
            tracemalloc.start()
            load_network(conn, cache=None)
            traced_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        h = net.hierarchy("time")
        result["network"] = {
            "roads": len(net.roads),
            "nodes": net.topo.n_nodes,
            "edges": net.topo.n_edges,
            "places": len(net.places),
            "core_nodes": len(h.core_nodes),
            "core_arcs": len(h.core_arc),
            "shortcuts": len(h.child),
        }
        result["build"] = {
            "seconds": build_s,
            "peak_rss_growth_mb": build_mb,
            "max_rss_mb": _peak_rss_mb(),
            "tracemalloc_peak_mb": traced_mb,
        }
        print(f"network: {result['network']}")
        print(
            f"graph build    {build_s:8.2f} s   (target {TARGETS['build_s']:g} s)  "
            f"{_verdict(build_s, TARGETS['build_s'])}"
        )
        print(
            f"build memory   {build_mb:8.0f} MB  (target {TARGETS['build_mb']:g} MB; peak RSS "
            f"during the build above the RSS before it"
            + (f", tracemalloc peak {traced_mb:.0f} MB" if traced_mb else "")
            + f")  {_verdict(build_mb, TARGETS['build_mb'])}"
        )

        routes = bench_routes(conn, net, pairs=args.pairs, pgr_pairs=args.pgr_pairs)
        result["routes"] = routes
        print(
            f"route median   {routes['route_median_ms']:8.2f} ms  (p90 "
            f"{routes['route_p90_ms']:.2f} ms; target {TARGETS['route_ms']:g} ms)  "
            f"{_verdict(routes['route_median_ms'], TARGETS['route_ms'])}"
        )
        print(
            f"               {routes['path_median_ms']:8.2f} ms  of which the path alone "
            f"(hierarchy query and unpacking; the rest is SQL for names, owners, conditions)"
        )
        print(
            f"pgr_dijkstra   {routes['pgr_median_ms']:8.0f} ms  median over "
            f"{routes['pgr_pairs']} of the same pairs: ours is {routes['speedup']:,.0f}x "
            f"faster (target {TARGETS['route_speedup']:g}x)  "
            f"{_verdict(routes['speedup'], TARGETS['route_speedup'], higher_is_better=True)}"
        )
        print(
            f"               largest relative cost difference vs pgr_dijkstra: "
            f"{routes['max_rel_diff_vs_pgr']:.1e}"
        )

        codes = [net.places.key[r] for r in net.places.rows_of("lgo")][:100]
        started = time.perf_counter()
        m = matrix(conn, codes=codes, network=net)
        matrix_s = time.perf_counter() - started
        result["matrix"] = {
            "size": len(m.codes),
            "seconds": matrix_s,
            "unreachable_from_pao": len(m.unreachable_from_pao),
        }
        print(
            f"matrix {len(codes)}x{len(codes)} {matrix_s:8.3f} s   (target "
            f"{TARGETS['matrix_s']:g} s)  {_verdict(matrix_s, TARGETS['matrix_s'])}"
        )
        if not args.no_libraries:
            result["libraries"] = bench_libraries(net)
            print(
                "graph libraries on the same arcs (build from arrays, one single-source "
                "Dijkstra from the PAO office):"
            )
            for row in result["libraries"]:
                if "error" in row:
                    print(f"  {row['library']:<22} not available: {row['error']}")
                else:
                    print(
                        f"  {row['library']:<22} build {row['build_s']:7.2f} s   "
                        f"sssp {row['sssp_s']:7.3f} s   reached {row['reached']:,}"
                    )
        pairs = {}
        if args.pandana_scale == args.scale:
            result["pandana"] = bench_pandana(net, pairs=args.ch_pairs, scale=args.scale)
            _print_pandana(result["pandana"])
        if args.cold_runs > 0:
            pairs[args.scale] = _route_pair(conn, net)
        conn.rollback()
    del net, h  # a GB at scale 100: not held while the processes below run

    with bench_engine(1).connect() as conn:
        net1 = load_network(conn, cache=None)
        if args.cold_runs > 0 and 1.0 not in pairs:
            pairs[1.0] = _route_pair(conn, net1)
        if args.pandana_scale == 1 and args.scale != 1:
            result["pandana"] = bench_pandana(net1, pairs=args.ch_pairs, scale=1)
            _print_pandana(result["pandana"])
        started = time.perf_counter()
        crit = criticality(conn, network=net1, roads=False)
        crit_s = time.perf_counter() - started
        started = time.perf_counter()
        everything = criticality(conn, network=net1)
        all_s = time.perf_counter() - started
    result["criticality"] = {
        "bridges": len(net1.bridges.ids),
        "seconds": crit_s,
        "critical_bridges": sum(i.kind == "bridge" for i in crit.critical),
        "with_roads_seconds": all_s,
        "roads": len(net1.roads),
    }
    print(
        f"criticality    {crit_s:8.3f} s   every bridge of the scale-1 province "
        f"({len(net1.bridges.ids)}), with delays (target {TARGETS['criticality_s']:g} s)  "
        f"{_verdict(crit_s, TARGETS['criticality_s'])}"
    )
    print(
        f"               {all_s:8.3f} s   bridges and all {len(net1.roads):,} road segments; "
        f"{len(everything.critical)} items cut places off"
    )
    del net1
    if args.cold_runs > 0:
        result["cold"] = {}
        print(
            "fresh processes (issue 13): `gis-registry route A B` and load_network, each in its "
            "own process, isolated registry home:"
        )
        for scale in sorted(pairs):
            small = scale < TARGET_SCALE
            cold = bench_cold(
                bench_engine(scale),
                pairs[scale],
                runs=args.cold_runs,
                build_runs=min(args.cold_runs, 3) if small else 1,
            )
            result["cold"][f"{scale:g}"] = cold
            _print_cold(scale, cold)
    print(f"(load average when started: {result['load_average']:.1f} on {os.cpu_count()} CPUs)")
    return result


if __name__ == "__main__":  # pragma: no cover
    import sys

    main(sys.argv[1:])
