"""Demo generator: plan_demo and the COPY load, with ogr2ogr loading the same roads as reference.

    python -m bench.bench_demo [--scale 1 100] [--seed 52]     (or: python -m bench demo)

For each scale: time ``plan_demo`` (pure Python/numpy/shapely), then ``load_plan`` (COPY of
every layer into ``<db>_bench``, dropped, recreated and migrated on each run; one transaction,
with the registry's constraints, triggers, generated columns and GiST indexes in place). As a
reference, the road layer is written to a GeoPackage with pyogrio and loaded by ``ogr2ogr``
(GDAL's PostgreSQL driver, COPY mode) into a plain new table of the same database; the table
compares the roads COPY against it (ratio > 1: ogr2ogr is slower).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from gis_registry.cli._progress import progress_bar as bar


def ogr_dsn(url: str) -> tuple[str, dict[str, str]]:
    """An ogr2ogr ``PG:`` connection string (password passed in the environment)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    parts = [f"dbname={u.database}", f"host={u.host or 'localhost'}", f"port={u.port or 5432}"]
    if u.username:
        parts.append(f"user={u.username}")
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return "PG:" + " ".join(parts), env


def run(scale: float, seed: int) -> dict:
    import pyogrio

    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database
    from gis_registry.demo import load_plan, plan_demo
    from gis_registry.settings import Settings

    settings = Settings()
    url = create_test_database(settings, suffix="_bench", per_process=False)
    engine = make_engine(settings, url=url)
    upgrade(engine)

    started = time.perf_counter()
    plan = plan_demo(seed=seed, scale=scale)
    plan_s = time.perf_counter() - started
    started = time.perf_counter()
    with bar(f"COPY scale {scale:g}") as progress:
        counts, seconds = load_plan(engine, plan, progress=progress)
    load_s = time.perf_counter() - started
    engine.dispose()

    result = {
        "scale": scale,
        "seed": seed,
        "plan_s": plan_s,
        "load_s": load_s,
        "rows": sum(counts.values()),
        "roads": counts["roads"],
        "copy_roads_s": seconds["roads"],
        "layers_s": seconds,
    }
    if shutil.which("ogr2ogr"):
        with tempfile.TemporaryDirectory() as tmp:
            gpkg = Path(tmp) / "roads.gpkg"
            started = time.perf_counter()
            pyogrio.write_dataframe(plan["roads"], gpkg, layer="roads")
            result["gpkg_write_s"] = time.perf_counter() - started
            dsn, env = ogr_dsn(url)
            cmd = [
                "ogr2ogr",
                "-f",
                "PostgreSQL",
                dsn,
                str(gpkg),
                "roads",
                "-nln",
                "roads_ogr",
                "-overwrite",
                "-lco",
                "GEOMETRY_NAME=geom",
                "-lco",
                "SPATIAL_INDEX=GIST",
                "-gt",
                "65536",
                "--config",
                "PG_USE_COPY",
                "YES",
            ]
            started = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, capture_output=True)
            result["ogr2ogr_roads_s"] = time.perf_counter() - started
            result["ratio_ogr2ogr_over_copy"] = result["ogr2ogr_roads_s"] / seconds["roads"]
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_demo", description=__doc__)
    parser.add_argument("--scale", type=float, nargs="+", default=[1.0, 100.0])
    parser.add_argument("--seed", type=int, default=52)
    args = parser.parse_args(argv)
    results = [run(scale, args.seed) for scale in args.scale]
    print(
        f"{'scale':>6} {'roads':>10} {'rows':>10} {'plan s':>8} {'COPY s':>8} "
        f"{'roads COPY s':>13} {'ogr2ogr s':>10} {'ratio':>6}"
    )
    for r in results:
        ogr = f"{r['ogr2ogr_roads_s']:.1f}" if "ogr2ogr_roads_s" in r else "-"
        ratio = f"{r['ratio_ogr2ogr_over_copy']:.2f}" if "ogr2ogr_roads_s" in r else "-"
        print(
            f"{r['scale']:>6g} {r['roads']:>10,} {r['rows']:>10,} {r['plan_s']:>8.1f} "
            f"{r['load_s']:>8.1f} {r['copy_roads_s']:>13.1f} {ogr:>10} {ratio:>6}"
        )
    for r in results:
        slow = sorted(r["layers_s"].items(), key=lambda kv: -kv[1])[:5]
        print(
            f"scale {r['scale']:g} COPY by layer: " + ", ".join(f"{k} {v:.1f} s" for k, v in slow)
        )
    return {"runs": results}


if __name__ == "__main__":
    main()
