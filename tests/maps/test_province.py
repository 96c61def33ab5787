"""The whole Lampang demo province (scale 1, seed 52): the zoning map stays under 5 MB and 3 s,
shows each zone's colour where the zone is in a real browser, and every map builds."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

import folium
import pytest
from sqlalchemy import text

from gis_registry.analysis.zoning import in_force_sql
from gis_registry.maps import MAPS, build_map, save_map, zoning_map
from gis_registry.maps.catalog import demo_route
from gis_registry.maps.zoning import FILL_OPACITY
from tests.maps.browser import chromium, element_at, open_map, pixel_of, sample, screenshot

pytestmark = pytest.mark.db

MAX_BYTES = 5_000_000
MAX_SECONDS = 3.0


def test_whole_province_zoning_map_size_and_time(demo_conn, tmp_path, artifacts):
    started = time.perf_counter()
    m = zoning_map(demo_conn)
    inline = save_map(m, tmp_path / "zoning.html", mode="inline")
    seconds = time.perf_counter() - started
    assert seconds < MAX_SECONDS, f"zoning map took {seconds:.2f} s"
    assert inline.stat().st_size < MAX_BYTES, f"{inline.stat().st_size:,} bytes"
    files = save_map(m, tmp_path / "zoning_files.html", mode="files")
    assert files.stat().st_size < MAX_BYTES

    # where the biggest plain (not hatched) zones are, the screen shows their colour
    zones = (
        demo_conn.execute(
            text(
                "SELECT z.id, z.land_use_code, c.fill, ST_X(p) AS lon, ST_Y(p) AS lat FROM "
                "(SELECT *, ST_PointOnSurface(ST_Buffer(ST_Transform(geom, 32647), -150)) AS q "
                " FROM zoning_zones) z JOIN zoning_categories c ON c.key = z.category "
                f"JOIN zoning_plans pl ON pl.id = z.plan_id AND {in_force_sql('pl', 'today')}, "
                "LATERAL ST_Transform(z.q, 4326) AS p "
                "WHERE c.hatch IS NULL AND NOT ST_IsEmpty(z.q) ORDER BY z.area_m2 DESC LIMIT 10"
            ),
            {"today": date.today()},
        )
        .mappings()
        .all()
    )
    assert len(zones) >= 5
    checked = 0
    with chromium() as driver:
        report = open_map(driver, inline.as_uri())
        assert report.console_errors == [] and report.external_requests == []
        screenshot(driver, artifacts / "province_zoning.png")
        for z in zones:
            x, y = pixel_of(driver, z["lat"], z["lon"])
            if not element_at(driver, x, y).startswith("path"):
                continue  # under the legend or a control
            colour, _n = Counter(sample(driver, x, y, size=7)).most_common(1)[0]
            fill = tuple(int(z["fill"][i : i + 2], 16) for i in (1, 3, 5))
            want = tuple(round(c * FILL_OPACITY + 255 * (1 - FILL_OPACITY)) for c in fill)
            assert all(abs(a - b) <= 14 for a, b in zip(colour, want, strict=True)), (
                f"zone {z['land_use_code']} ({z['id']}) at ({x}, {y}) shows {colour}, "
                f"expected {want}"
            )
            checked += 1
    assert checked >= 5


def test_every_map_builds_on_the_province(demo_conn):
    for name in MAPS:
        options = demo_route(demo_conn) if name == "route" else {}
        assert options is not None
        m = build_map(demo_conn, name, **options)
        assert isinstance(m, folium.Map)
        assert sum(isinstance(c, folium.GeoJson) for c in m._children.values()) >= 2, name


def test_coordination_map_shades_each_lgo_by_the_librarys_backlog(demo_conn, tmp_path, artifacts):
    """Each LGO's fill is the class of its backlog (every body) in the coordination analysis;
    its popup lists each funding body; the page draws offline in Chromium."""
    from gis_registry.analysis.coordination import coordination
    from gis_registry.maps.coordination import (
        BACKLOG_COLOURS,
        NO_BACKLOG,
        backlog_breaks,
        backlog_class,
    )

    day = date(2026, 10, 1)
    m = build_map(demo_conn, "coordination", fiscal_year=2570, as_of=day)
    c = coordination(demo_conn, fiscal_year=2570, as_of=day)
    backlog = c.by_local_body.groupby("local_body_id")["backlog_thb"].sum()
    breaks = backlog_breaks(backlog)
    assert len(breaks) == len(BACKLOG_COLOURS) and breaks == sorted(breaks)
    layer = next(
        ch
        for ch in m._children.values()
        if isinstance(ch, folium.GeoJson) and "Backlog" in ch.layer_name
    )
    features = layer.data["features"]
    assert len(features) == _scalar(
        demo_conn, "SELECT count(*) FROM local_bodies WHERE kind <> 'pao'"
    )
    colours = Counter()
    for f in features:
        k = backlog_class(float(backlog.get(f["id"], 0.0)), breaks)
        assert f["properties"]["fill"] == (NO_BACKLOG if k < 0 else BACKLOG_COLOURS[k])
        colours[f["properties"]["fill"]] += 1
    assert len(colours) >= 4  # quantile classes: the LGOs spread over the palette
    busiest = int(backlog.idxmax())
    popup = next(f for f in features if f["id"] == busiest)["properties"]["bodies"]
    assert "Department of Highways" in popup or "local government" in popup
    path = save_map(m, tmp_path / "coordination.html", mode="inline")
    with chromium() as driver:
        report = open_map(driver, path.as_uri())
        assert report.console_errors == [] and report.external_requests == []
        screenshot(driver, artifacts / "province_coordination.png")
        legend = driver.execute_script("return document.getElementById('gis-legend').innerText")
        assert "backlog" in legend.lower() and "M THB" in legend


def _scalar(conn, sql):
    return conn.execute(text(sql)).scalar()
