"""Whole-province zoning map: generation time and HTML size, against the naive folium way.

Ours: :func:`gis_registry.maps.zoning_map` (geometry simplified in EPSG:32647 to the map's
scale and rounded to 6 decimals in SQL, styles deduplicated) written offline, both with the
libraries beside the file (``files``) and fully self-contained (``inline``).
Naive: ``read_layer`` GeoDataFrames (unsimplified, full precision) into ``folium.GeoJson`` with
folium's defaults (CDN libraries, OpenStreetMap tiles: it would not even work offline).

Database: ``<db>_bench_maps`` on the configured server, loaded with the scale-1 demo province
(seed 52) the first time and reused afterwards (``--reload`` reloads it).
Targets: under 5 MB and under 3 s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

TARGET_MB = 5.0
TARGET_S = 3.0


def _engine(reload: bool):
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database
    from gis_registry.server import database_url
    from gis_registry.settings import Settings

    settings = Settings()
    url = make_url(database_url(settings))
    name = f"{url.database}_bench_maps"
    existing = url.set(database=name).render_as_string(hide_password=False)
    if not reload:
        try:
            engine = make_engine(settings, url=existing)
            with engine.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM zoning_zones")).scalar_one() > 0:
                    return engine, False
        except Exception:  # noqa: BLE001 - absent or unmigrated: create it below
            pass
    from gis_registry.demo import load_demo

    url = create_test_database(settings, suffix="_bench_maps", per_process=False)
    engine = make_engine(settings, url=url)
    upgrade(engine)
    load_demo(engine, seed=52, scale=1)
    return engine, True


def naive_zoning(conn, path: Path) -> None:
    """What one writes with folium out of the box."""
    import folium

    from gis_registry.queries.features import read_layer

    zones = read_layer(conn, "zoning_zones")
    categories = read_layer(conn, "zoning_categories").set_index("key")
    plans = read_layer(conn, "zoning_plans").set_index("id")
    zones = zones.join(categories[["name_th", "name_en", "fill", "stroke"]], on="category")
    zones = zones.join(plans[["effective_date", "expiry_date"]], on="plan_id", rsuffix="_plan")
    for column in ("created_at", "updated_at", "effective_date", "expiry_date"):
        zones[column] = zones[column].astype(str)
    m = folium.Map(location=[18.3, 99.5], zoom_start=9)
    for layer in ("districts", "local_bodies"):
        frame = read_layer(conn, layer, geometry="boundary")
        folium.GeoJson(frame[["code", "name_th", "name_en", "boundary"]], name=layer).add_to(m)
    folium.GeoJson(
        zones,
        name="zones",
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": f["properties"]["stroke"],
            "fillOpacity": 0.75,
            "weight": 1,
        },
        popup=folium.GeoJsonPopup(
            ["land_use_code", "name_th", "name_en", "effective_date", "area_m2"]
        ),
    ).add_to(m)
    folium.LayerControl().add_to(m)
    m.save(str(path))


def ours_zoning(conn, path: Path, mode: str) -> None:
    from gis_registry.maps import save_map, zoning_map

    save_map(zoning_map(conn), path, mode=mode)


def measure(fn, *args, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="bench maps")
    parser.add_argument("--reload", action="store_true", help="reload the demo database")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from sqlalchemy import text

    started = time.perf_counter()
    engine, loaded = _engine(args.reload)
    print(
        f"demo database {'loaded' if loaded else 'reused'} in {time.perf_counter() - started:.1f} s"
    )
    out = Path(tempfile.mkdtemp(prefix="bench-maps-"))
    results: dict = {}
    with engine.connect() as conn:
        zones = conn.execute(text("SELECT count(*), sum(ST_NPoints(geom)) FROM zoning_zones")).one()
        results["zones"] = int(zones[0])
        results["zone_vertices"] = int(zones[1] or 0)
        print(f"{zones[0]:,} zones, {int(zones[1] or 0):,} vertices")
        runs = {
            "ours_files": (ours_zoning, out / "ours_files.html", "files"),
            "ours_inline": (ours_zoning, out / "ours_inline.html", "inline"),
            "naive_folium": (naive_zoning, out / "naive.html"),
        }
        for name, (fn, *rest) in runs.items():
            seconds = measure(fn, conn, *rest, repeat=args.repeat)
            size = rest[0].stat().st_size
            results[name] = {"seconds": round(seconds, 3), "bytes": size}
            print(f"{name:>14}: {seconds:6.2f} s  {size / 1e6:8.2f} MB")
    naive = results["naive_folium"]
    for name in ("ours_files", "ours_inline"):
        ours = results[name]
        ours["size_ratio_naive_over_ours"] = round(naive["bytes"] / ours["bytes"], 1)
        ours["time_ratio_naive_over_ours"] = round(naive["seconds"] / ours["seconds"], 1)
        ok = ours["bytes"] / 1e6 < TARGET_MB and ours["seconds"] < TARGET_S
        ours["meets_targets"] = ok
        print(
            f"{name}: {ours['size_ratio_naive_over_ours']}x smaller, "
            f"{ours['time_ratio_naive_over_ours']}x faster than naive folium; "
            f"targets (< {TARGET_MB} MB, < {TARGET_S} s) {'met' if ok else 'NOT met'}"
        )
    print("\nevery map of the demo set (self-contained, as `map all` writes them):")
    from gis_registry.maps import MAPS, build_map, save_map
    from gis_registry.maps.catalog import demo_route

    results["all_maps"] = {}
    with engine.connect() as conn:
        for name in MAPS:
            options = (demo_route(conn) or {}) if name == "route" else {}
            started = time.perf_counter()
            path = save_map(build_map(conn, name, **options), out / f"{name}.html")
            seconds = time.perf_counter() - started
            results["all_maps"][name] = {"seconds": round(seconds, 3), "bytes": path.stat().st_size}
            print(f"{name:>14}: {seconds:6.2f} s  {path.stat().st_size / 1e6:8.2f} MB")
    print(f"files in {out}")
    engine.dispose()
    return results
