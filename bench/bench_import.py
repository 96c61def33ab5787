"""File import: ``gis-registry import roads FILE --mode append`` against ogr2ogr, same file.

    python -m bench import [-- --rows 1000000 --rounds 3 --tool both]
    (quick check: python -m bench import -- --rows 20000 --rounds 1)

Input: ``--rows`` valid road segments inside Lampang (LineStrings of 2-6 vertices, 50-500 m,
chained into routes of 50 segments that share a road code, so every (code, segment) pair is
unique; local, rural and national classes with codes matching ``domain.ROAD_CODE_PATTERNS``,
Thai and English names, no owning local body), written once with pyogrio as the GeoPackage
layer ``roads`` in EPSG:4326. Its columns are the writable columns of
``tables.LAYERS["roads"]`` as they are when it is generated (``segment`` only once the schema
has it). It is cached as ``<gis-registry home>/bench/import_roads_<rows>_<signature>.gpkg``:
the home (``.gis-registry/``) is git-ignored, already holds the other benches' caches, and
survives reboots, unlike /tmp; ``bench/.cache`` is not ignored. The signature changes with the
generator and the columns, so a schema change regenerates the file.

Database: ``<db>_bench_import`` on the configured server (the embedded cluster is started if
needed), dropped, recreated and migrated on every run; it is dropped at the end unless
``--keep-db``. The user's registry and the test databases are never touched.

Rounds alternate (ours, ogr2ogr, ours, ...), each into an emptied layer (before every round
``TRUNCATE roads ... RESTART IDENTITY CASCADE``, the feature history emptied, the scratch table
dropped, a CHECKPOINT). Ours loads the registry's ``roads`` as a user would, ``python -m
gis_registry.cli import roads FILE --mode append`` with GIS_REGISTRY_DATABASE_URL naming the
bench database (full validation, CHECK constraints, triggers including the feature history, the
generated ``length_m``, the registry's indexes); the reference is ``ogr2ogr -f PostgreSQL
PG:... FILE roads -nln roads_ogr2ogr -lco SPATIAL_INDEX=GIST -lco GEOMETRY_NAME=geom`` (COPY, a
plain new table with a GiST index). Each round is timed from spawn to exit by a small launcher
process, whose ``os.wait4`` gives the command's peak memory (``ru_maxrss``: the process and the
children it waited for; the PostgreSQL backend's memory is in neither figure) and CPU time. A
round counts only when the process exits 0 and the table then holds exactly ``--rows`` rows; a
failure is reported with the tail of its stderr and the benchmark goes on. A round is killed
past ``--timeout`` or ``--max-rss-mb``. ``--tool ours|ogr2ogr`` runs one side only.

Runs take a lock (``<home>/bench/import.lock``), so two at once wait for each other instead of
dropping each other's database. The machine's CPU use is sampled for a second before each
round; a round that starts on a busy machine (a test run beside it) is flagged as noisy.

Targets: ours/ogr2ogr rows per second >= 1.0 (medians), ours peak RSS under 2 GB.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.bench_demo import ogr_dsn  # the same PG: string as the demo benchmark gives ogr2ogr

ROOT = Path(__file__).resolve().parents[1]
OGR2OGR = "/usr/bin/ogr2ogr"
SCRATCH = "roads_ogr2ogr"
OURS = "gis-registry"
REF = "ogr2ogr"
TARGET_RATIO = 1.0
TARGET_PEAK_MB = 2048.0
BUSY_WARNING = 0.15  # share of the CPUs busy before a round above which it is flagged

# Generator ------------------------------------------------------------------------------------

GENERATOR_VERSION = 1
SEGMENTS_PER_CODE = 50
LON = (99.0, 100.1)  # Lampang's bounding box
LAT = (17.3, 19.4)
MARGIN = 0.25  # deg; a route of 50 segments of <= 500 m moves at most ~0.24 deg
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQ = 111_320.0
CLASSES = ("local", "rural", "national")
CLASS_P = (0.75, 0.15, 0.10)
# (th, en) place names of Lampang, for route names
PLACES = (
    ("แม่ทะ", "Mae Tha"),
    ("ห้างฉัตร", "Hang Chat"),
    ("เกาะคา", "Ko Kha"),
    ("เสริมงาม", "Soem Ngam"),
    ("งาว", "Ngao"),
    ("แจ้ห่ม", "Chae Hom"),
    ("วังเหนือ", "Wang Nuea"),
    ("เถิน", "Thoen"),
    ("แม่พริก", "Mae Phrik"),
    ("แม่เมาะ", "Mae Mo"),
    ("สบปราบ", "Sop Prap"),
    ("เมืองปาน", "Mueang Pan"),
    ("ทุ่งฮั้ว", "Thung Hua"),
    ("ปงแสนทอง", "Pong Saen Thong"),
    ("บ่อแฮ้ว", "Bo Haeo"),
    ("พิชัย", "Phichai"),
    ("ชมพู", "Chomphu"),
    ("ต้นธงชัย", "Ton Thong Chai"),
    ("นาแก้ว", "Na Kaeo"),
    ("ปงยางคก", "Pong Yang Khok"),
    ("ลำปางหลวง", "Lampang Luang"),
    ("วังพร้าว", "Wang Phrao"),
    ("ศาลา", "Sala"),
    ("บ้านเอื้อม", "Ban Ueam"),
    ("นิคมพัฒนา", "Nikhom Phatthana"),
    ("ทุ่งงาม", "Thung Ngam"),
    ("แม่สุก", "Mae Suk"),
    ("ปงเตา", "Pong Tao"),
    ("บ้านแลง", "Ban Laeng"),
    ("หัวเสือ", "Hua Suea"),
)
SURFACES = {  # by class: (values, probabilities)
    "local": (("concrete", "asphalt", "laterite", "crushed_rock", "earth"), (35, 25, 25, 8, 7)),
    "rural": (("asphalt", "concrete"), (85, 15)),
    "national": (("asphalt", "concrete"), (90, 10)),
}
AGENCY = {"local": None, "rural": "DRR", "national": "DOH"}
WIDTH_M = {"local": (3.0, 6.0), "rural": (6.0, 8.0), "national": (7.0, 14.0)}


def road_columns() -> list[str]:
    """The columns the file carries: what a user may write into ``roads`` today (no internal
    ids: the roads have no owning local body)."""
    from gis_registry.db.tables import LAYERS
    from gis_registry.validation import writable_columns

    skip = {"id", "owner_local_body_id", "length_m"}
    return [name for name in writable_columns(LAYERS["roads"]) if name not in skip]


def generate_roads(rows: int, seed: int = 52):
    """``rows`` valid road segments in Lampang as a GeoDataFrame (EPSG:4326), vectorised."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    from gis_registry import domain

    rng = np.random.default_rng(seed)
    n = rows
    ncodes = math.ceil(n / SEGMENTS_PER_CODE)
    code_of = np.arange(n) // SEGMENTS_PER_CODE
    segment = (np.arange(n) % SEGMENTS_PER_CODE + 1).astype(np.int32)

    # Routes: a class, a unique code valid for it, names, a start point and a heading.
    cls = rng.choice(len(CLASSES), ncodes, p=CLASS_P)
    rank = np.zeros(ncodes, dtype=np.int64)  # j-th route of its class
    for k in range(len(CLASSES)):
        rank[cls == k] = np.arange(int((cls == k).sum()))
    place = rng.integers(0, len(PLACES), ncodes)
    code = np.empty(ncodes, dtype=object)
    name_th = np.empty(ncodes, dtype=object)
    name_en = np.empty(ncodes, dtype=object)
    for c in range(ncodes):
        j = int(rank[c])
        th, en = PLACES[place[c]]
        kind = CLASSES[cls[c]]
        if kind == "local":  # ลป.ถ. <LGO seq 1-100>-<route 0001-9999>
            seq, route = j % 100 + 1, j // 100 + 1
            code[c] = domain.local_road_code(seq, route)
            name_th[c] = f"ถนนบ้าน{th} {route}"
            name_en[c] = f"Ban {en} Road {route}"
            limit = route
        elif kind == "rural":  # ลป.<0001-9999>
            code[c] = f"{domain.PROVINCE_ABBR_TH}.{j + 1:04d}"
            name_th[c] = f"ทางหลวงชนบท {code[c]} สาย{th}"
            name_en[c] = f"Rural Road LP.{j + 1:04d} ({en})"
            limit = j + 1
        else:  # 1-9999
            code[c] = str(j + 1)
            name_th[c] = f"ทางหลวงแผ่นดินหมายเลข {j + 1} สาย{th}"
            name_en[c] = f"Highway {j + 1} ({en})"
            limit = j + 1
        if limit > 9999:
            raise ValueError(f"--rows {rows:,} needs more {kind} road codes than exist")
        problem = domain.road_code_problem(kind, code[c])
        if problem:
            raise AssertionError(problem)
    start_lon = rng.uniform(LON[0] + MARGIN, LON[1] - MARGIN, ncodes)
    start_lat = rng.uniform(LAT[0] + MARGIN, LAT[1] - MARGIN, ncodes)
    heading = rng.uniform(0, 2 * np.pi, ncodes)

    # Segments: 2-6 vertices, 50-500 m long, each starting where the previous one of its
    # route ended (a route is a chain of segments).
    nv = rng.integers(2, 7, n)
    steps = nv - 1
    step_road = np.repeat(np.arange(n), steps)
    step_code = code_of[step_road]
    length = rng.uniform(50.0, 500.0, n)
    weight = rng.uniform(0.5, 1.5, len(step_road))
    per_road = np.bincount(step_road, weights=weight, minlength=n)
    step_m = length[step_road] * weight / per_road[step_road]
    angle = heading[step_code] + rng.normal(0.0, 0.35, len(step_road))
    m_per_deg_lon = M_PER_DEG_LON_EQ * np.cos(np.radians(start_lat))
    dlon = step_m * np.cos(angle) / m_per_deg_lon[step_code]
    dlat = step_m * np.sin(angle) / M_PER_DEG_LAT
    first_step = np.cumsum(steps) - steps  # per road
    code_first_step = first_step[np.arange(ncodes) * SEGMENTS_PER_CODE]
    cx, cy = np.cumsum(dlon), np.cumsum(dlat)
    base_x = cx[code_first_step] - dlon[code_first_step]
    base_y = cy[code_first_step] - dlat[code_first_step]
    after_x = start_lon[step_code] + cx - base_x[step_code]
    after_y = start_lat[step_code] + cy - base_y[step_code]
    vertex_first = np.cumsum(nv) - nv  # per road, in the flat vertex array
    x = np.empty(int(nv.sum()))
    y = np.empty_like(x)
    rest = np.ones(len(x), dtype=bool)
    rest[vertex_first] = False
    route_start = segment == 1  # else the segment starts exactly where the previous one ended
    previous = np.maximum(first_step - 1, 0)
    x[vertex_first] = np.where(route_start, start_lon[code_of], after_x[previous])
    y[vertex_first] = np.where(route_start, start_lat[code_of], after_y[previous])
    x[rest], y[rest] = after_x, after_y
    if not (LON[0] < x.min() and x.max() < LON[1] and LAT[0] < y.min() and y.max() < LAT[1]):
        raise AssertionError("generated roads leave Lampang's bounding box")
    geom = shapely.linestrings(np.column_stack([x, y]), indices=np.repeat(np.arange(n), nv))

    road_cls = cls[code_of]
    surface = np.empty(n, dtype=object)
    width = np.empty(n)
    lanes = np.full(n, 2, dtype=np.int16)
    agency = np.empty(n, dtype=object)
    for k, kind in enumerate(CLASSES):
        mask = road_cls == k
        values, p = SURFACES[kind]
        surface[mask] = np.asarray(values, dtype=object)[
            rng.choice(len(values), int(mask.sum()), p=np.asarray(p) / sum(p))
        ]
        width[mask] = np.round(rng.uniform(*WIDTH_M[kind], int(mask.sum())), 1)
        agency[mask] = AGENCY[kind]
        if kind == "national":
            lanes[mask] = rng.choice(
                np.array([2, 4], dtype=np.int16), int(mask.sum()), p=[0.6, 0.4]
            )
    data = {
        "code": code[code_of],
        "segment": segment,
        "name_th": name_th[code_of],
        "name_en": name_en[code_of],
        "road_class": np.asarray(CLASSES, dtype=object)[road_cls],
        "owner_agency": agency,
        "surface": surface,
        "width_m": width,
        "lanes": lanes,
        "oneway": rng.random(n) < 0.01,
        "layer": (rng.random(n) < 0.005).astype(np.int16),
        "year_built": rng.integers(1960, 2025, n).astype(np.int16),
    }
    columns = [c for c in road_columns() if c != "geom"]
    unknown = [c for c in columns if c not in data]
    if unknown:
        raise RuntimeError(f"the generator has no values for roads columns {unknown}")
    frame = pd.DataFrame({c: data[c] for c in columns})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geom, crs=4326), crs=4326)


def input_file(rows: int, cache_dir: Path) -> tuple[Path, float | None]:
    """The cached GeoPackage of ``rows`` roads (generated when missing); (path, generate s)."""
    import pyogrio

    signature = hashlib.sha1(
        f"{GENERATOR_VERSION}|{SEGMENTS_PER_CODE}|{road_columns()}".encode()
    ).hexdigest()[:10]
    path = cache_dir / f"import_roads_{rows}_{signature}.gpkg"
    if path.exists():
        return path, None
    cache_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    frame = generate_roads(rows)
    generated = time.perf_counter() - started
    partial = path.with_suffix(".part.gpkg")
    partial.unlink(missing_ok=True)
    pyogrio.write_dataframe(
        frame, partial, layer="roads", driver="GPKG", encoding="UTF-8", use_arrow=True
    )
    partial.rename(path)
    written = time.perf_counter() - started
    print(f"generated {rows:,} roads in {generated:.1f} s, written in {written - generated:.1f} s")
    return path, written


# Running the two tools --------------------------------------------------------------------


@dataclass
class Round:
    """One timed run of one tool."""

    tool: str
    seconds: float
    returncode: int
    peak_rss_mb: float
    cpu_s: float
    rows_loaded: int | None = None
    error: str | None = None
    stderr_tail: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def _tail(data: bytes, lines: int = 15, chars: int = 3000) -> str:
    text = data.decode("utf-8", "replace").replace("\r", "\n")
    kept = [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join(kept)[-chars:]


# Spawns the measured command and reports its exit, time and rusage as JSON. It runs as a
# small process of its own because Linux carries the peak RSS of a process across exec: a
# child forked straight from this benchmark (hundreds of MB of numpy, geopandas, ...) would
# report the benchmark's memory as its own. Forked from this launcher (~10 MB), it does not.
LAUNCHER = """
import json, os, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ)
with open(out + ".pid", "w") as f:
    f.write(str(pid))
_, status, ru = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(out, "w") as f:
    json.dump({"seconds": seconds, "returncode": os.waitstatus_to_exitcode(status),
               "maxrss_kb": ru.ru_maxrss, "cpu_s": ru.ru_utime + ru.ru_stime}, f)
"""


def run_child(
    tool: str, cmd: list[str], env: dict[str, str], timeout_s: float, max_rss_mb: float
) -> Round:
    """Run ``cmd``: wall time from spawn to exit, peak RSS (``ru_maxrss``) and CPU time from
    the ``os.wait4`` of the launcher that spawned it.

    Everything runs in a process group of its own, killed when the command outlives
    ``timeout_s`` or its resident memory passes ``max_rss_mb`` (so a runaway import cannot
    take the machine, or the database server, down with it).
    """
    import json

    busy_before = machine_busy()
    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        report = Path(tmp) / "rusage.json"
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        killed, sampled_hwm_mb, pid = None, 0.0, 0
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            started = time.perf_counter()
            launcher = subprocess.Popen(
                [sys.executable, "-S", "-c", LAUNCHER, str(report), *cmd],
                stdout=out,
                stderr=err,
                env=env,
                cwd=ROOT,
                start_new_session=True,
            )
            while True:
                try:
                    launcher.wait(timeout=0.2)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if not pid and report.with_suffix(".json.pid").exists():
                    pid = int(report.with_suffix(".json.pid").read_text() or 0)
                rss, hwm = _memory_mb(pid) if pid else (0.0, 0.0)
                sampled_hwm_mb = max(sampled_hwm_mb, hwm)
                if killed:
                    continue
                if time.perf_counter() - started > timeout_s:
                    killed = f"killed after the {timeout_s:.0f} s timeout"
                elif rss > max_rss_mb:
                    killed = f"killed: resident memory over {max_rss_mb:,.0f} MB"
                if killed:
                    try:
                        os.killpg(launcher.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            wall = time.perf_counter() - started
        measured = json.loads(report.read_text()) if report.exists() else {}
        stderr, stdout = err_path.read_bytes(), out_path.read_bytes()
    result = Round(
        tool=tool,
        seconds=measured.get("seconds", wall),
        returncode=measured.get("returncode", launcher.returncode),
        peak_rss_mb=measured.get("maxrss_kb", sampled_hwm_mb * 1024) / 1024,  # KB on Linux
        cpu_s=measured.get("cpu_s", math.nan),
        stderr_tail=_tail(stderr),
        extra={
            "stdout_tail": _tail(stdout, lines=5, chars=800),
            "sampled_hwm_mb": sampled_hwm_mb,
            "machine_busy_before": busy_before,
        },
    )
    if killed:
        result.error = killed
    elif not measured:
        result.error = f"launcher failed (exit {launcher.returncode})"
    elif result.returncode != 0:
        result.error = f"exit code {result.returncode}"
    return result


def machine_busy(seconds: float = 1.0) -> float:
    """Share of all CPUs busy over ``seconds`` (from /proc/stat), taken before a round: other
    work on the machine (a test run, another benchmark) makes the timings noisy."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return sum(values) - idle, sum(values)

    try:
        busy0, total0 = sample()
        time.sleep(seconds)
        busy1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return math.nan
    return (busy1 - busy0) / max(total1 - total0, 1)


def _memory_mb(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of ``pid`` (VmRSS, VmHWM), MB; 0 once it is gone."""
    found = {"VmRSS:": 0.0, "VmHWM:": 0.0}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                key = line.split(maxsplit=1)[0] if line.strip() else ""
                if key in found:
                    found[key] = int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return found["VmRSS:"], found["VmHWM:"]


def _sql(url: str, *statements: str, optional: bool = False) -> list:
    """Run statements in autocommit; per statement, the first value it returns (or None).
    With ``optional`` a statement that fails (e.g. CHECKPOINT without the privilege) gives None."""
    import psycopg

    values = []
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            try:
                cur = conn.execute(statement)
            except psycopg.Error:
                if not optional:
                    raise
                values.append(None)
                continue
            values.append(cur.fetchone()[0] if cur.description else None)
    return values


def _history_table(url: str) -> bool:
    return _sql(url, "SELECT to_regclass('feature_history') IS NOT NULL")[0]


def reset(url: str) -> None:
    """Empty both tools' tables before every round, not only the one about to be loaded: the
    other one's million rows would have autovacuum working through them during the round."""
    _sql(url, "TRUNCATE roads RESTART IDENTITY CASCADE", f"DROP TABLE IF EXISTS {SCRATCH} CASCADE")
    if _history_table(url):
        _sql(url, "TRUNCATE feature_history RESTART IDENTITY")
    _sql(url, "CHECKPOINT", optional=True)


def ours_round(url: str, path: Path, rows: int, timeout_s: float, max_rss_mb: float) -> Round:
    """``gis-registry import roads FILE --mode append`` into an emptied ``roads``."""
    reset(url)
    history = _history_table(url)
    env = dict(os.environ, GIS_REGISTRY_DATABASE_URL=url)
    cmd = [sys.executable, "-m", "gis_registry.cli", "import", "roads", str(path)]
    cmd += ["--mode", "append"]
    result = run_child(OURS, cmd, env, timeout_s, max_rss_mb)
    result.rows_loaded = _sql(url, "SELECT count(*) FROM roads")[0]
    if history:
        result.extra["history_rows"] = _sql(url, "SELECT count(*) FROM feature_history")[0]
    if result.ok and result.rows_loaded != rows:
        result.error = f"exit 0 but roads holds {result.rows_loaded:,} of {rows:,} rows"
    return result


def ogr_round(url: str, path: Path, rows: int, timeout_s: float, max_rss_mb: float) -> Round:
    """``ogr2ogr -f PostgreSQL`` into a new scratch table (dropped first)."""
    reset(url)
    dsn, env = ogr_dsn(url)
    cmd = [OGR2OGR, "-f", "PostgreSQL", dsn, str(path), "roads", "-nln", SCRATCH]
    cmd += ["-lco", "SPATIAL_INDEX=GIST", "-lco", "GEOMETRY_NAME=geom"]
    result = run_child(REF, cmd, env, timeout_s, max_rss_mb)
    if _sql(url, f"SELECT to_regclass('{SCRATCH}') IS NOT NULL")[0]:
        result.rows_loaded = _sql(url, f"SELECT count(*) FROM {SCRATCH}")[0]
    if result.ok and result.rows_loaded != rows:
        result.error = f"exit 0 but {SCRATCH} holds {result.rows_loaded:,} of {rows:,} rows"
    return result


# Versions ---------------------------------------------------------------------------------


def git_rev() -> str:
    """``branch@sha`` read from .git (no git process); '?' outside a checkout."""
    git = ROOT / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:12]
        ref = head[5:]
        branch = ref.removeprefix("refs/heads/")
        if (git / ref).exists():
            return f"{branch}@{(git / ref).read_text().strip()[:12]}"
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return f"{branch}@{line.split()[0][:12]}"
        return f"{branch}@?"
    except OSError:
        return "?"


def versions(url: str) -> dict[str, str]:
    import pyogrio

    out = subprocess.run([OGR2OGR, "--version"], capture_output=True, text=True)
    pg, postgis = _sql(url, "SHOW server_version", "SELECT postgis_lib_version()", optional=True)
    return {
        "ogr2ogr": out.stdout.strip() or out.stderr.strip(),
        "gis_registry": git_rev(),
        "pyogrio": f"{pyogrio.__version__} (GDAL {pyogrio.__gdal_version_string__})",
        "python": sys.version.split()[0],
        "postgresql": str(pg),
        "postgis": str(postgis),
    }


# Main -------------------------------------------------------------------------------------


def _summary(rounds: list[Round], rows: int) -> dict:
    good = [r for r in rounds if r.ok]
    if not good:
        return {"ok_rounds": 0, "failed_rounds": len(rounds)}
    median = statistics.median(r.seconds for r in good)
    return {
        "ok_rounds": len(good),
        "failed_rounds": len(rounds) - len(good),
        "median_s": median,
        "rows_per_s": rows / median,
        "peak_rss_mb": max(r.peak_rss_mb for r in good),
        "median_cpu_s": statistics.median(r.cpu_s for r in good),
        "seconds": [r.seconds for r in good],
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m bench import",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--tool", choices=("both", "ours", "ogr2ogr"), default="both", help="what to run"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="per round, seconds")
    parser.add_argument(
        "--max-rss-mb",
        type=float,
        default=8192.0,
        help="kill a round whose process grows past this (4x ours' target by default)",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep <db>_bench_import")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.rounds < 1:
        parser.error("--rows and --rounds must be at least 1")
    from gis_registry.settings import Settings

    settings = Settings()
    cache = settings.resolved_home() / "bench"
    with exclusive(cache / "import.lock"):
        return run(args, settings, cache)


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``, waiting for it: two runs at once would drop each
    other's database (it has a fixed name) and time each other's load."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            print(f"waiting for another `bench import` run (pid {holder}) to finish", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            yield
        finally:
            lock.truncate(0)
            fcntl.flock(lock, fcntl.LOCK_UN)


def run(args: argparse.Namespace, settings, cache: Path) -> dict:
    """Generate (or reuse) the file, make the database and run the rounds; print and return."""
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database, ensure_server

    path, generate_s = input_file(args.rows, cache)
    file_mb = path.stat().st_size / 2**20
    with open(path, "rb") as f:  # into the page cache: no round pays the cold read
        while f.read(1 << 24):
            pass
    ensure_server(settings)
    url = create_test_database(settings, suffix="_bench_import", per_process=False)
    engine = make_engine(settings, url=url)
    upgrade(engine)
    engine.dispose()
    info = versions(url)
    print(f"input: {path} ({args.rows:,} roads, {file_mb:,.0f} MB)")
    print(f"database: {url.rsplit('/', 1)[-1]}; {args.rounds} alternating round(s)", flush=True)

    tools = (OURS, REF) if args.tool == "both" else ((OURS,) if args.tool == "ours" else (REF,))
    runners = {OURS: ours_round, REF: ogr_round}
    rounds: dict[str, list[Round]] = {t: [] for t in tools}
    try:
        for i in range(args.rounds):
            for tool in tools:
                r = runners[tool](url, path, args.rows, args.timeout, args.max_rss_mb)
                rounds[tool].append(r)
                state = "ok" if r.ok else f"FAILED ({r.error})"
                busy = r.extra["machine_busy_before"]
                if busy > BUSY_WARNING:
                    state += f" [machine {busy:.0%} busy just before: timing noisy]"
                print(
                    f"round {i + 1} {tool:>12}: {r.seconds:8.1f} s, {r.peak_rss_mb:8,.0f} MB peak,"
                    f" {r.cpu_s:7.1f} s CPU, {r.rows_loaded if r.rows_loaded is not None else '?'}"
                    f" rows in the table: {state}",
                    flush=True,
                )
                if not r.ok and r.stderr_tail:
                    print("  stderr tail:\n    " + r.stderr_tail.replace("\n", "\n    "))
    finally:
        if not args.keep_db:
            drop_test_database(url)

    summary = {tool: _summary(rs, args.rows) for tool, rs in rounds.items()}
    print()
    print(f"{'tool':>12} {'median s':>9} {'rows/s':>10} {'peak RSS MB':>12} {'CPU s':>7}  rounds")
    for tool, s in summary.items():
        if not s["ok_rounds"]:
            print(
                f"{tool:>12} {'failed':>9} {'-':>10} {'-':>12} {'-':>7}  0 of {s['failed_rounds']}"
            )
            continue
        each = ", ".join(f"{x:.1f}" for x in s["seconds"])
        failed = f" ({s['failed_rounds']} failed)" if s["failed_rounds"] else ""
        print(
            f"{tool:>12} {s['median_s']:>9.1f} {s['rows_per_s']:>10,.0f} "
            f"{s['peak_rss_mb']:>12,.0f} {s['median_cpu_s']:>7.1f}  {each}{failed}"
        )
    ratio = None
    ours, ref = summary.get(OURS, {}), summary.get(REF, {})
    if ours.get("ok_rounds") and ref.get("ok_rounds"):
        ratio = ours["rows_per_s"] / ref["rows_per_s"]
        verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
        print(f"ours/ogr2ogr rows/s = {ratio:.2f} (target >= {TARGET_RATIO:.1f}: {verdict})")
    else:
        print("ours/ogr2ogr rows/s = n/a (a side has no successful round)")
    if ours.get("ok_rounds"):
        verdict = "met" if ours["peak_rss_mb"] < TARGET_PEAK_MB else "NOT met"
        peak = ours["peak_rss_mb"]
        print(f"ours peak RSS {peak:,.0f} MB (target < {TARGET_PEAK_MB:,.0f} MB: {verdict})")
    history = [r.extra["history_rows"] for r in rounds.get(OURS, []) if r.extra.get("history_rows")]
    if history:
        print(f"ours wrote {max(history):,} feature_history rows in a round (history not off)")
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
        "rows": args.rows,
        "rounds": args.rounds,
        "input": {"path": str(path), "mb": file_mb, "generated_s": generate_s},
        "summary": summary,
        "ratio_rows_per_s": ratio,
        "targets": {"ratio": TARGET_RATIO, "ours_peak_mb": TARGET_PEAK_MB},
        "versions": info,
        "runs": [asdict(r) for rs in rounds.values() for r in rs],
    }


if __name__ == "__main__":
    main()
