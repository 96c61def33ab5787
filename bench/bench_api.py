"""Our OGC API - Features server beside tipg, on the same database in the same run.

``python -m bench api [-- --scale 1 --duration 10 --workers 1]``: builds (or reuses with
``--reuse``) the bench database ``<db>_bench_api_s<scale>``, loads the Lampang demo
(``load_demo``; synthetic roads when the generator is not available, or with
``--synthetic``), starts our server and tipg (from ``bench/.venv-tipg``, made by
``bench/setup_tipg.sh``) on it, and runs ``wrk -t2 -c16`` on four requests against both (the
last asks for a different random feature each time, the same sequence for both), plus
``pgbench`` on the SQL our server sends for the same answer, in a session set as our read
pool sets it (what PostgreSQL itself can give). Each of the three runs ``--rounds`` times,
alternating; prints every run, then the medians (req/s, p99) and the ratios between them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from bench._databases import reused
from gis_registry.cli._progress import progress_bar as bar
from gis_registry.server import free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TIPG_VENV = HERE / ".venv-tipg"
PGBENCH_CANDIDATES = ("pgbench", "/usr/lib/postgresql/15/bin/pgbench")

SYNTHETIC_SQL = """
SET gis_registry.history = 'off';
SELECT setseed(0.52);
INSERT INTO districts (code, name_th, name_en, office, boundary) VALUES
  ('5201', 'เมืองลำปาง', 'Mueang Lampang', ST_SetSRID(ST_MakePoint(99.5043, 18.2919), 4326),
   ST_Multi(ST_MakeEnvelope(98.9, 17.4, 100.3, 19.3, 4326)));
INSERT INTO local_bodies (code, seq, name_th, name_en, kind, boundary, office) VALUES
  ('52', 1, 'อบจ.ลำปาง', 'Lampang PAO', 'pao',
   ST_Multi(ST_MakeEnvelope(98.9, 17.4, 100.3, 19.3, 4326)),
   ST_SetSRID(ST_MakePoint(99.5445, 18.2577), 4326));
-- roads clustered around village-like centres (40 per 10,000 roads, so a scale-100 province
-- is as dense locally as a scale-1 one), 16 vertices each (about 800 m long)
INSERT INTO roads (name_th, name_en, road_class, owner_local_body_id, surface, width_m, lanes,
                   year_built, geom)
SELECT 'ถนนสาย ' || i, 'Road ' || i, 'unregistered', 1,
       (ARRAY['asphalt', 'concrete', 'laterite', 'crushed_rock', 'earth'])[1 + i % 5],
       4 + i % 5, 2, 1980 + i % 40,
       ST_SetSRID(ST_MakeLine(ARRAY(
           SELECT ST_MakePoint(x + k * dx + (random() - 0.5) * 0.0002,
                               y + k * dy + (random() - 0.5) * 0.0002)
           FROM generate_series(0, 15) AS k ORDER BY k)), 4326)
FROM (SELECT i, cx + (random() - 0.5) * 0.06 AS x, cy + (random() - 0.5) * 0.06 AS y,
             (random() - 0.5) * 0.001 AS dx, (random() - 0.5) * 0.001 AS dy
      FROM generate_series(1, %(n)s) AS i
      JOIN (SELECT c, 99.0 + random() * 1.2 AS cx, 17.5 + random() * 1.7 AS cy
            FROM generate_series(0, %(centres)s - 1) AS c) AS centres
        ON centres.c = i %% %(centres)s) AS s;
"""


def prepare_database(scale: float, *, synthetic: bool, reuse: bool) -> str:
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database
    from gis_registry.settings import Settings

    settings = Settings()
    suffix = f"_bench_api_s{scale:g}".replace(".", "_")  # one database per scale
    if reuse and (dsn := reused(suffix)):
        return dsn
    dsn = create_test_database(settings, suffix=suffix, per_process=False)
    engine = make_engine(settings, url=dsn)
    upgrade(engine)
    started = time.perf_counter()
    loaded = False
    if not synthetic:
        try:
            from gis_registry.demo import load_demo

            with bar(f"demo scale {scale:g}") as progress:
                load_demo(engine, seed=52, scale=scale, progress=progress)
            with engine.connect() as conn:
                loaded = conn.exec_driver_sql("SELECT count(*) FROM roads").scalar_one() > 0
        except Exception as exc:  # the generator may not be there yet: say so, go synthetic
            print(f"load_demo unavailable ({type(exc).__name__}: {exc}); synthetic roads instead")
    if not loaded:
        n = int(10_000 * scale)
        with psycopg.connect(dsn, autocommit=False) as conn:
            sql_text = SYNTHETIC_SQL.replace("%(n)s", str(n)).replace("%%", "%")
            conn.execute(sql_text.replace("%(centres)s", str(max(40, n // 250))))
            conn.commit()
        print(f"synthetic: {n:,} roads", flush=True)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    engine.dispose()
    print(f"bench database ready in {time.perf_counter() - started:.1f} s", flush=True)
    return dsn


def start(cmd: list[str], env: dict[str, str], probe: str, name: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(probe, timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    proc.kill()
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    raise RuntimeError(f"{name} did not start: {err[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


# Each wrk thread draws its own seeded sequence of ids (the same for both servers), formatted
# once in init: building a request in Lua for every call costs wrk CPU that the servers, on
# the same 2 cores, would lose.
RANDOM_ID_LUA = """
local threads = 0
function setup(thread)
  thread:set("seed", 52 + threads)
  threads = threads + 1
end
function init(args)
  math.randomseed(seed)
  paths = {}
  for i = 1, 100000 do
    paths[i] = wrk.format("GET", "%s" .. math.random(%d, %d))
  end
  n = 0
end
function request()
  n = n %% 100000 + 1
  return paths[n]
end
"""


def wrk(
    url: str, *, threads: int, connections: int, duration: int, script: str | None = None
) -> dict[str, float]:
    """wrk on ``url``; with ``script`` (Lua source), the script makes the requests."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            cmd += ["-s", lua.name]
        out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p99_ms": float(value) * _UNITS[unit],
        "errors": int(errors.group(1)) if errors else 0,
    }


def pgbench(
    dsn: str,
    query: str,
    *,
    clients: int,
    threads: int,
    duration: int,
    options: str = "",
    prelude: str = "",
    mode: str = "prepared",
) -> float:
    """tps of ``query`` (after pgbench meta-commands ``prelude``), with ``options`` as the
    sessions' PGOPTIONS (our read pool's settings: same SQL, same session)."""
    exe = next((p for p in PGBENCH_CANDIDATES if shutil.which(p)), None)
    if exe is None:
        raise RuntimeError("pgbench not found")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(prelude + query.strip().rstrip(";") + ";\n")
        script = f.name
    try:
        out = subprocess.run(
            [
                exe,
                "-n",
                "-M",
                mode,
                f"-c{clients}",
                f"-j{threads}",
                f"-T{duration}",
                "-f",
                script,
                dsn,
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PGOPTIONS": options},
        ).stdout
    finally:
        os.unlink(script)
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def inline(dsn: str, text: str, params: list) -> str:
    """Our page statement with its parameters written in, for pgbench."""
    with psycopg.connect(dsn) as conn:
        return psycopg.ClientCursor(conn).mogrify(text, params)


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench api")
    parser.add_argument("--scale", type=float, default=1)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs of each (ours, tipg, pgbench); medians kept"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="server processes, both servers")
    parser.add_argument("--synthetic", action="store_true", help="skip load_demo")
    parser.add_argument("--reuse", action="store_true", help="reuse a loaded bench database")
    parser.add_argument("--skip-tipg", action="store_true")
    args = parser.parse_args(argv)
    for tool in ("wrk",):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed (apt-get install {tool})")

    dsn = prepare_database(args.scale, synthetic=args.synthetic, reuse=args.reuse)
    with psycopg.connect(dsn) as conn:
        n_roads = conn.execute("SELECT count(*) FROM roads").fetchone()[0]
        mid_id = conn.execute(
            "SELECT id FROM roads ORDER BY id OFFSET %s LIMIT 1", [n_roads // 2]
        ).fetchone()[0]
        first_id, last_id = conn.execute("SELECT min(id), max(id) FROM roads").fetchone()
        if last_id - first_id + 1 != n_roads:
            raise SystemExit("road ids are not contiguous: the random-id request needs them so")
        # a small box (about 4 x 4 km) centred on the densest 0.02-degree cell of the network
        cx, cy = conn.execute(
            "SELECT ST_X(c) + 0.01, ST_Y(c) + 0.01 FROM ("
            " SELECT ST_SnapToGrid(ST_StartPoint(geom), 0.02) AS c FROM roads) AS s"
            " GROUP BY c ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    cx, cy = float(cx), float(cy)
    bbox = f"{cx - 0.02:.4f},{cy - 0.02:.4f},{cx + 0.02:.4f},{cy + 0.02:.4f}"
    print(f"roads: {n_roads:,}; small bbox {bbox}; feature {mid_id}", flush=True)

    env = {**os.environ, "GIS_REGISTRY_DATABASE_URL": dsn}
    ours_port = free_port()
    ours_base = f"http://127.0.0.1:{ours_port}"
    servers = {}
    servers["ours"] = start(
        [
            sys.executable,
            "-m",
            "gis_registry.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(ours_port),
            "--workers",
            str(args.workers),
        ],
        env,
        f"{ours_base}/conformance",
        "our server",
    )
    bases = {"ours": (ours_base, "roads")}
    tipg_python = TIPG_VENV / "bin" / "python"
    if not args.skip_tipg:
        if not tipg_python.exists():
            print("tipg is not installed yet: running bench/setup_tipg.sh", flush=True)
            subprocess.run([str(HERE / "setup_tipg.sh")], check=True)
        tipg_port = free_port()
        tipg_env = {
            **os.environ,
            "DATABASE_URL": dsn,
            "TIPG_DB_SCHEMAS": '["public"]',
            "TIPG_DB_FUNCTIONS": "[]",
            "TIPG_MAX_FEATURES_PER_QUERY": "10000",
            # tipg reloads its catalog every 5 minutes by default, and every request in flight
            # then starts the reload (extents and time ranges of every table): a minute of
            # saturated CPU for all three, mid-run. The bench database does not change.
            "TIPG_CATALOG_TTL": "0",
        }
        servers["tipg"] = start(
            [
                str(tipg_python),
                "-m",
                "uvicorn",
                "tipg.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(tipg_port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            tipg_env,
            f"http://127.0.0.1:{tipg_port}/conformance",
            "tipg",
        )
        bases["tipg"] = (f"http://127.0.0.1:{tipg_port}", "public.roads")

    requests = {
        "items bbox limit=100": "/collections/{c}/items?limit=100&bbox=" + bbox,
        "items limit=1000": "/collections/{c}/items?limit=1000",
        "feature by id": "/collections/{c}/items/" + str(mid_id),
        # every request a different feature, the same sequence for both servers
        "feature by random id": "/collections/{c}/items/",
    }
    scripts = {"feature by random id": RANDOM_ID_LUA}
    results: dict = {
        "roads": n_roads,
        "scale": args.scale,
        "workers": args.workers,
        "bbox": bbox,
        "requests": {},
    }
    # what PostgreSQL itself gives for the same SQL (the whole answer built in SQL), measured
    # right after the servers on each request, so that all three see the machine alike
    from api.app import read_session_options
    from api.settings import ApiSettings
    from gis_registry.catalog import CATALOG as COLLECTIONS
    from gis_registry.queries import geojson as q
    from gis_registry.queries.crs import parse_crs

    roads = COLLECTIONS["roads"]
    f = q.Filter()
    q.bbox_filter(f, roads, tuple(float(v) for v in bbox.split(",")), parse_crs(None))
    whole = q.page_query(
        roads, q.Filter(), limit=1000, offset=0, count_cap=100_000 if n_roads < 100_000 else None
    )
    feature = q.feature_query(roads, mid_id)
    # (pgbench meta-commands, statement, mode): pages are planned for their values (unnamed
    # statements, as the server sends them), a feature is prepared once
    sql_of = {
        "items bbox limit=100": (
            "",
            inline(dsn, *q.page_query(roads, f, limit=100, offset=0, count_cap=100_000)),
            "extended",
        ),
        "items limit=1000": ("", inline(dsn, *whole), "extended"),
        "feature by id": ("", inline(dsn, *feature), "prepared"),
        "feature by random id": (
            f"\\set id random({first_id}, {last_id})\n",
            feature[0].replace("%s", ":id"),
            "prepared",
        ),
    }
    session = read_session_options(ApiSettings())
    try:
        for label, template in requests.items():
            urls, wrk_scripts, returned = {}, {}, {}
            for name, (base, cid) in bases.items():
                url = base + template.format(c=cid)
                if label in scripts:
                    wrk_scripts[name] = scripts[label] % (url.removeprefix(base), first_id, last_id)
                    url = f"{url}{mid_id}"
                r = httpx.get(url, timeout=60)
                r.raise_for_status()
                returned[name] = r.json().get("numberReturned", 1)
                for _ in range(20):  # warm up (prepared statements, caches)
                    httpx.get(url, timeout=60)
                urls[name] = url
            if len(set(returned.values())) > 1:
                print(f"  ! numberReturned differs: {returned}")
            prelude, statement, mode = sql_of[label]
            runs: dict[str, list] = {name: [] for name in [*bases, "pgbench"]}
            # rounds alternate the three, so that a slow spell of the machine hits all of them
            for _ in range(args.rounds):
                for name in bases:
                    run = wrk(
                        urls[name],
                        threads=args.threads,
                        connections=args.connections,
                        duration=args.duration,
                        script=wrk_scripts.get(name),
                    )
                    runs[name].append(run)
                    print(
                        f"  {label:<22} {name:<7} {run['rps']:>9.1f} req/s "
                        f"p99 {run['p99_ms']:>8.1f} ms  errors {run['errors']}",
                        flush=True,
                    )
                tps = pgbench(
                    dsn,
                    statement,
                    clients=args.connections,
                    threads=args.threads,
                    duration=args.duration,
                    options=session,
                    prelude=prelude,
                    mode=mode,
                )
                runs["pgbench"].append(tps)
                print(f"  {label:<22} pgbench {tps:>9.1f} tps", flush=True)
            row: dict = {
                name: {
                    key: statistics.median(run[key] for run in runs[name])
                    for key in ("rps", "p99_ms", "errors")
                }
                for name in bases
            }
            row["postgres_tps"] = statistics.median(runs["pgbench"])
            row["returned"] = returned
            row["rounds"] = runs
            results["requests"][label] = row
    finally:
        for proc in servers.values():
            stop(proc)

    print(f"\nmedians of {args.rounds} rounds")
    print(
        "request                 ours req/s  p99 ms | tipg req/s  p99 ms |  x tipg | "
        "postgres tps | ours/pg"
    )
    for label, row in results["requests"].items():
        ours = row["ours"]
        tipg = row.get("tipg")
        pg = row["postgres_tps"]
        ratio = ours["rps"] / tipg["rps"] if tipg else float("nan")
        row["ours_over_tipg"] = ratio
        row["ours_over_postgres"] = ours["rps"] / pg
        tipg_text = (
            f"{tipg['rps']:>10.1f} {tipg['p99_ms']:>7.1f}" if tipg else f"{'-':>10} {'-':>7}"
        )
        print(
            f"{label:<22} {ours['rps']:>10.1f} {ours['p99_ms']:>7.1f} | {tipg_text} | "
            f"{ratio:>7.1f} | {pg:>12.1f} | {ours['rps'] / pg:>7.2f}"
        )
    print(json.dumps({"roads": n_roads, "workers": args.workers}), flush=True)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
