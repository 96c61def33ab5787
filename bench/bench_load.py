"""The service under load, the way a busy office and a heavy anonymous client would use it.

``python -m bench load [-- --duration 60 --connections 50 --burst 16 --scale 1]``

* Loads the Lampang demo (seed 52) once into ``<db>_bench_load_s<scale>`` and reuses it
  (``--fresh`` rebuilds it); creates an admin user ``bench_load`` and an API key for the run
  (revoked at the end).
* Starts ``python -m api.serve`` on it (loopback, a JWT secret of the run), checks every kind of
  request once (warm-up: prepared statements, the network snapshot), then runs
  ``python -m bench.load_client`` in a separate process: ``--connections`` keep-alive
  connections sending a mix of item pages, features by id, CQL2 filters, routes and coverage
  for ``--duration`` seconds (phase ``load``), then the same while ``--burst`` more
  connections send anonymous analyses back to back (siting, coverage along roads; phase
  ``load+burst``). Each reading connection comes from a loopback address of its own (127.0.2.x:
  the users of an office); the burst from ``--burst-clients`` addresses (default one heavy
  client, 127.1.0.1). In both phases an admin PATCHes a water source with If-Match and asks
  ``/auth/me`` (API key and bearer token): the authenticated requests.
* Prints phase x (requests/s, p50, p99, max, errors, 429) and whether the targets hold: no
  errors, reads' p99 under 200 ms (both phases), authenticated requests under 1 s during the
  burst. A 429 (the per-client limit of anonymous analyses) is counted apart, not as an error.

``--duration 5`` is a short check; the figures mean something only on an otherwise idle
machine (the server, PostgreSQL and the client share its cores).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench._databases import reused

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ADMIN = "bench_load"
READ_P99_MS = 200.0  # target: reads' p99, in both phases
WRITE_MAX_MS = 1000.0  # target: every authenticated request during the burst
WEIGHTS = {"items": 30, "feature": 40, "cql2": 15, "route": 10, "coverage": 5}
COVERAGE = [
    "/analysis/coverage/water?distance_m=1000",
    "/analysis/coverage/water?distance_m=2000",
    "/analysis/coverage/roads?distance_m=2000",
]


def prepare_database(scale: float, *, fresh: bool) -> str:
    """The bench database with the demo at ``scale``: reused when it holds it, else built."""
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database
    from gis_registry.settings import Settings

    settings = Settings()
    suffix = f"_bench_load_s{scale:g}".replace(".", "_")
    if not fresh and (dsn := reused(suffix)):
        return dsn
    from gis_registry.cli._progress import progress_bar as bar
    from gis_registry.demo import load_demo

    dsn = create_test_database(settings, suffix=suffix, per_process=False)
    engine = make_engine(settings, url=dsn)
    upgrade(engine)
    started = time.perf_counter()
    with bar(f"demo scale {scale:g}") as progress:
        load_demo(engine, seed=52, scale=scale, progress=progress)
    engine.dispose()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"demo loaded in {time.perf_counter() - started:.1f} s", flush=True)
    return dsn


def admin_key(dsn: str) -> tuple[str, str]:
    """An API key of the admin ``bench_load`` (created, or reactivated, if needed): (token,
    prefix)."""
    from sqlalchemy import select, update

    from gis_registry import auth
    from gis_registry.db import make_engine
    from gis_registry.db.tables_auth import users
    from gis_registry.settings import Settings

    engine = make_engine(Settings(), url=dsn)
    try:
        with engine.begin() as conn:
            found = conn.execute(select(users.c.id).where(users.c.username == ADMIN)).first()
            if found is None:
                auth.add_user(conn, ADMIN, role="admin", display_name="python -m bench load")
            else:
                conn.execute(
                    update(users).where(users.c.username == ADMIN).values(active=True, role="admin")
                )
            key = auth.create_key(conn, ADMIN, name=f"bench load {time.strftime('%Y-%m-%d %H:%M')}")
    finally:
        engine.dispose()
    return key.token, key.prefix


def revoke(dsn: str, prefix: str) -> None:
    from gis_registry import auth
    from gis_registry.db import make_engine
    from gis_registry.settings import Settings

    engine = make_engine(Settings(), url=dsn)
    try:
        with engine.begin() as conn:
            auth.revoke_key(conn, prefix)
    finally:
        engine.dispose()


def pools(dsn: str, seed: int) -> dict[str, Any]:
    """What the client draws its requests from: ids, page boxes, CQL2 filters, LGO pairs."""
    rng = random.Random(seed)
    with psycopg.connect(dsn) as conn:

        def column(sql: str) -> list:
            return [row[0] for row in conn.execute(sql).fetchall()]

        ids = {
            layer: column(f"SELECT id FROM {layer} ORDER BY id")
            for layer in ("roads", "bridges", "water_points", "settlements")
        }
        ids = {layer: rng.sample(v, min(len(v), 2000)) for layer, v in ids.items() if v}
        centres = conn.execute(
            "SELECT ST_X(geom), ST_Y(geom) FROM settlements ORDER BY id"
        ).fetchall()
        surfaces = column("SELECT DISTINCT surface FROM roads WHERE surface IS NOT NULL")
        kinds = column("SELECT DISTINCT kind FROM water_points")
        lgos = column("SELECT code FROM local_bodies WHERE kind <> 'pao' ORDER BY code")
        write = conn.execute(
            "SELECT id, name_en FROM water_points WHERE name_en IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()
    if write is None or not lgos:
        raise SystemExit("the bench database holds no demo (water sources, LGOs): use --fresh")
    pages = []
    for x, y in rng.sample(centres, min(len(centres), 100)):
        bbox = f"{x - 0.02:.4f},{y - 0.02:.4f},{x + 0.02:.4f},{y + 0.02:.4f}"
        pages.append((rng.choice(["roads", "water_points", "settlements", "bridges"]), bbox))
    cql2 = [("roads", f"surface = '{s}' AND width_m >= {w}") for s in surfaces for w in (4, 6)]
    cql2 += [("water_points", f"kind = '{k}'") for k in kinds]
    cql2 += [("settlements", f"population > {p}") for p in (300, 800)]
    routes = [tuple(rng.sample(lgos, 2)) for _ in range(40)]
    return {
        "ids": ids,
        "pages": pages,
        "cql2": cql2,
        "routes": routes,
        "coverage": COVERAGE,
        "write": {"collection": "water_points", "id": write[0], "original": write[1]},
    }


def start_server(dsn: str, secret: str, workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    """``python -m api.serve`` on a free loopback port, once it answers; (process, base URL)."""
    from gis_registry.server import free_port

    port = free_port()
    env = {
        **os.environ,
        "GIS_REGISTRY_DATABASE_URL": dsn,
        "GIS_REGISTRY_API_JWT_SECRET": secret,
    }
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as err:  # a file, not a pipe: a chatty server never blocks on it
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.serve", "--host", "127.0.0.1", "--port", str(port)]
            + ["--workers", str(workers)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/conformance", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    stop_server(proc)
    raise SystemExit(f"the server did not start:\n{log.read_text(errors='replace')[-3000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def warm_up(base: str, plan: dict[str, Any], key: str) -> None:
    """Ask every kind of request once (prepared statements, the network snapshot), keep the LGO
    pairs that have a route, and stop with the answer when something else is not a 200."""
    from urllib.parse import quote

    p = plan["pools"]
    with httpx.Client(base_url=base, timeout=120) as client:

        def check(path: str, **kwargs: Any) -> None:
            r = client.get(path, **kwargs)
            if r.status_code != 200:
                raise SystemExit(f"warm-up: {path} answered {r.status_code}: {r.text[:500]}")

        for collection, bbox in p["pages"][:8]:
            check(f"/collections/{collection}/items?limit=100&bbox={bbox}")
        for collection, ids in p["ids"].items():
            check(f"/collections/{collection}/items/{ids[0]}")
        for collection, text in p["cql2"]:
            check(
                f"/collections/{collection}/items?limit=50&filter-lang=cql2-text&filter={quote(text)}"
            )
        for path in p["coverage"]:
            check(path)
        routes = []
        for a, b in p["routes"]:
            r = client.get(f"/analysis/network/route?from={a}&to={b}")
            if r.status_code == 200:
                routes.append((a, b))
        if not routes:
            raise SystemExit(f"warm-up: no route between the LGO pairs ({r.status_code}: {r.text})")
        p["routes"] = routes
        check("/analysis/siting/water?n=5&distance_m=1000")
        check("/analysis/coverage/water?distance_m=2000&along_roads=true")
        check("/auth/me", headers={"X-API-Key": key})


def token(base: str, key: str) -> str | None:
    """A bearer token for ``key`` (None when the server gives none)."""
    r = httpx.post(
        f"{base}/auth/token",
        data={"grant_type": "client_credentials", "client_secret": key},
        timeout=30,
    )
    return r.json()["access_token"] if r.status_code == 200 else None


def rss_mb(pid: int, field: str = "VmRSS") -> float | None:
    """The resident memory (``VmRSS``, or each process' peak ``VmHWM``) in MB of a process and
    its children (the workers, with ``--workers`` above 1), from /proc."""
    total, found = 0.0, False
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for p in [pid, *map(int, children)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total, found = total + int(line.split()[1]) / 1024, True
        except OSError:
            pass
    return total if found else None


def run_client(plan: dict[str, Any], server: subprocess.Popen) -> tuple[dict[str, Any], float]:
    """The load client in its own process; (its measurements, the server's peak RSS in MB)."""
    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
        plan_path, out_path = Path(tmp) / "plan.json", Path(tmp) / "out.json"
        plan_path.write_text(json.dumps(plan))
        client = subprocess.Popen(
            [sys.executable, "-m", "bench.load_client", str(plan_path), str(out_path)], cwd=ROOT
        )
        peak = 0.0
        while client.poll() is None:
            peak = max(peak, rss_mb(server.pid) or 0.0)
            time.sleep(0.5)
        if client.returncode != 0:
            raise SystemExit(f"the load client failed (exit {client.returncode})")
        hwm = rss_mb(server.pid, "VmHWM")
        return json.loads(out_path.read_text()), max(peak, hwm or 0.0)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def table(phases: dict[str, Any], burst: str) -> list[str]:
    """phase x (requests/s, p50, p99, max, errors, 429): every group of requests, and the
    kinds of reads; ``burst`` says who sent the analyses."""
    lines = [
        f"{'phase: requests':<42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>9} "
        f"{'errors':>6} {'429':>6}"
    ]
    for phase, result in phases.items():
        reads = result.get("reads") or {}
        rows = [("reads (all)", reads), ("reads: items, features, CQL2", reads.get("features"))]
        rows += [(f"  {kind}", s) for kind, s in reads.get("kinds", {}).items()]
        rows += [
            (f"writes: {kind}", s)
            for kind, s in (result.get("writes") or {}).get("kinds", {}).items()
        ]
        if result.get("analyses"):
            rows.append((f"analyses ({burst})", result["analyses"]))
        for label, s in rows:
            if not s:
                continue
            lines.append(
                f"{phase + ': ' + label:<42} {s['rps']:>8.1f} {_ms(s['p50_ms']):>8} "
                f"{_ms(s['p99_ms']):>8} {_ms(s['max_ms']):>9} {s['errors']:>6} "
                f"{s['limited_429']:>6}"
            )
    return lines


def targets(phases: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target, its measured value and whether it is met."""
    out: dict[str, dict[str, Any]] = {}
    errors = sum(
        (phases[p].get(group) or {}).get("errors", 0)
        for p in phases
        for group in ("reads", "writes", "analyses")
    )
    out["0 errors (every request, both phases)"] = {"value": errors, "met": errors == 0}
    for p in phases:
        p99 = (phases[p].get("reads") or {}).get("p99_ms")
        out[f"reads p99 < {READ_P99_MS:g} ms ({p})"] = {
            "value": p99,
            "met": p99 is not None and p99 < READ_P99_MS,
        }
    for p in phases:
        p99 = ((phases[p].get("reads") or {}).get("features") or {}).get("p99_ms")
        out[f"(info) items, features, CQL2 p99 < {READ_P99_MS:g} ms ({p})"] = {
            "value": p99,
            "met": p99 is not None and p99 < READ_P99_MS,
        }
    if "load+burst" in phases:
        writes = phases["load+burst"].get("writes") or {}
        worst = writes.get("max_ms")
        out[f"authenticated requests < {WRITE_MAX_MS:g} ms during the burst (max)"] = {
            "value": worst,
            "met": worst is not None and worst < WRITE_MAX_MS and writes.get("errors", 1) == 0,
        }
    return out


def main(argv: list[str]) -> dict:
    """Run the two phases against a fresh server on the demo; print the table and targets."""
    parser = argparse.ArgumentParser(prog="python -m bench load")
    parser.add_argument("--duration", type=float, default=60, help="seconds per phase")
    parser.add_argument("--connections", type=int, default=50, help="reading connections")
    parser.add_argument("--burst", type=int, default=16, help="connections of analyses")
    parser.add_argument(
        "--burst-clients",
        type=int,
        default=1,
        help="client addresses the burst comes from (1: one heavy client, held to the "
        "per-client limit of anonymous analyses; --burst: as many clients as connections)",
    )
    parser.add_argument("--scale", type=float, default=1)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--seed", type=int, default=52)
    parser.add_argument(
        "--write-pause", type=float, default=0.1, help="seconds between an admin's writes"
    )
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench database")
    args = parser.parse_args(argv)

    dsn = prepare_database(args.scale, fresh=args.fresh)
    plan: dict[str, Any] = {
        "duration_s": args.duration,
        "connections": args.connections,
        "ramp_s": min(2.0, args.duration / 5),
        "write_pause_s": args.write_pause,
        "seed": args.seed,
        "weights": WEIGHTS,
        "pools": pools(dsn, args.seed),
        "phases": [["load", 0], ["load+burst", args.burst]],
        "burst_clients": args.burst_clients,
    }
    plan["write"] = {**plan["pools"].pop("write"), "property": "name_en"}
    key, prefix = admin_key(dsn)
    log = Path(tempfile.gettempdir()) / f"bench_load_server_{os.getpid()}.log"
    server, base = start_server(dsn, secrets.token_urlsafe(32), args.workers, log)
    try:
        plan |= {"host": "127.0.0.1", "port": int(base.rsplit(":", 1)[1]), "api_key": key}
        plan["token"] = token(base, key)
        started = time.perf_counter()
        warm_up(base, plan, key)
        rss_before = rss_mb(server.pid)
        print(
            f"warm-up {time.perf_counter() - started:.1f} s; {len(plan['pools']['routes'])} "
            f"routes; server RSS {_ms(rss_before)} MB; {args.connections} connections, "
            f"burst {args.burst}, {args.duration:g} s per phase",
            flush=True,
        )
        phases, peak_mb = run_client(plan, server)
    finally:
        stop_server(server)
        revoke(dsn, prefix)
    log_lines = len(log.read_text(errors="replace").splitlines())

    print()
    who = f"{args.burst} conns, {args.burst_clients} client{'s' * (args.burst_clients > 1)}"
    for line in table(phases, who):
        print(line)
    goals = targets(phases)
    print()
    for name, goal in goals.items():
        value = goal["value"]
        shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        print(f"{'met    ' if goal['met'] else 'NOT met'}  {name}: {shown}")
    for phase, result in phases.items():
        for sample in result.get("error_samples", [])[:5]:
            print(f"  {phase} error: {sample}")
    print(
        f"server RSS {_ms(rss_before)} MB after warm-up, peak {peak_mb:.0f} MB; "
        f"{log_lines} log lines ({log})",
        flush=True,
    )
    return {
        "scale": args.scale,
        "duration_s": args.duration,
        "connections": args.connections,
        "burst": args.burst,
        "burst_clients": args.burst_clients,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "weights": WEIGHTS,
        "phases": phases,
        "targets": goals,
        "server_rss_mb": {"after_warm_up": rss_before, "peak": peak_mb},
        "server_log_lines": log_lines,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
