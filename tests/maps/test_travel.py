"""Maps that travel: every map file the CLI writes, copied alone into an empty folder and
opened by headless Chromium with no network, draws its layers where they are, fitted to its
data, with no console error and no request leaving the machine; the route map shows the route
and the detour apart and says which closures are not on the route; the zoning legend shows the
codes the zones carry; dense points stay small at the province's zoom so flood areas show.

These tests fail (never skip) when chromium or chromedriver is missing.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from gis_registry.cli import app
from gis_registry.maps import build_map
from gis_registry.maps.hazard import hazard_colour
from gis_registry.maps.offline import save_map
from gis_registry.maps.route import DETOUR, ROUTE
from gis_registry.maps.water import source_colour
from tests.maps.browser import chromium, element_at, open_map, pixel_of, sample, screenshot
from tests.maps.test_browser import assert_clean, assert_legend, assert_zone_colours
from tests.maps.test_cli import registry_env  # noqa: F401  (a fixture)

pytestmark = pytest.mark.db

# the least share of the room left for the map (the window less the title's and the legend's
# margins) that the data's extent fills along its tighter side when fitted
FITTED_SHARE = 0.9


def _hex(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def over_white(colour: str, opacity: float) -> tuple[int, int, int]:
    """A colour drawn at ``opacity`` on the white map."""
    return tuple(round(c * opacity + 255 * (1 - opacity)) for c in _hex(colour))  # type: ignore[return-value]


def near(a, b, tolerance: int = 16) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def fitted_share(driver) -> float:
    """How much of the room left for the map the extent it fits fills along its tighter side,
    after asserting that the whole extent is in that room. Before the fit was fractional, a
    tall province in a landscape frame filled as little as half of it (a zoom level too far
    out), and the legend could cover the data."""
    x0, y0, x1, y1, width, height, pad = driver.execute_script(
        "const m = window.gisMap, b = window.gisMapBounds, s = m.getSize();"
        "const a = m.latLngToContainerPoint(b.getNorthWest());"
        "const c = m.latLngToContainerPoint(b.getSouthEast());"
        "return [a.x, a.y, c.x, c.y, s.x, s.y, window.gisMapPadding || [20, 60, 20, 20]];"
    )
    left, top, right, bottom = pad
    assert right <= 0.35 * width + 20, f"the legend's margin takes {right} of {width} px"
    assert x0 >= left - 2 and y0 >= top - 2, (x0, y0, pad)
    assert x1 <= width - right + 2 and y1 <= height - bottom + 2, (x1, y1, width, height, pad)
    return max((x1 - x0) / (width - left - right), (y1 - y0) / (height - top - bottom))


def cli_maps(ids: dict) -> dict[str, list[str]]:
    """Each map's command line on the test world."""
    return {
        "zoning": ["zoning"],
        "condition": ["condition"],
        "water": ["water", "--sites", "2"],
        "route": ["route", "--from", "520199", "--to", "521099"]
        + ["--closed-bridge", str(ids["bridge1"]), "--closed-bridge", str(ids["bridge3"])],
        "critical": ["critical"],
        "hazard": ["hazard"],
        "coordination": ["coordination", "--fiscal-year", "2570"],
        "network": ["network"],
    }


def test_every_map_file_travels_alone(registry_env, maps_engine, tmp_path, artifacts):  # noqa: F811
    """Written with the CLI's defaults, moved alone to an empty folder: each map draws, fitted,
    offline; the layers show their colours at known places."""
    ids = maps_engine.world_ids
    written = tmp_path / "written"
    alone: dict[str, Path] = {}
    for kind, args in cli_maps(ids).items():
        out = written / f"{kind}.html"
        result = CliRunner().invoke(app, ["map", *args, "-o", str(out)])
        assert result.exit_code == 0, (kind, result.output)
        folder = tmp_path / "elsewhere" / kind
        folder.mkdir(parents=True)
        alone[kind] = Path(shutil.copy(out, folder / out.name))
        assert [p.name for p in folder.iterdir()] == [out.name]
        print(f"{kind}: {out.stat().st_size:,} bytes")
    with chromium() as driver:
        for kind, path in alone.items():
            report = open_map(driver, path.as_uri())
            assert_clean(report, f"{kind} alone")
            screenshot(driver, artifacts / f"travel_{kind}.png")
            drawn = driver.execute_script(
                "return document.querySelectorAll('.leaflet-overlay-pane path').length"
            )
            assert drawn > 3, f"{kind}: {drawn} paths drawn"
            share = fitted_share(driver)
            assert share >= FITTED_SHARE, f"{kind}: its data fill {share:.0%} of the window"
            assert_legend(driver)
            if kind == "zoning":
                assert_zone_colours(driver, "zoning alone")
            elif kind == "hazard":
                # the flood area (99.47-99.49 E) at full strength between the roads
                want = over_white(hazard_colour("flood", "high"), 0.45)
                seen = [
                    Counter(sample(driver, *pixel_of(driver, lat, 99.476), size=3)).most_common(1)[
                        0
                    ][0]
                    for lat in (18.22, 18.25, 18.27, 18.33, 18.38)
                ]
                assert sum(near(c, want) for c in seen) >= 4, (want, seen)
            elif kind == "water":
                # the pond (an area) in its kind's colour at its centre
                x, y = pixel_of(driver, 18.375, 99.4885)
                colour = Counter(sample(driver, x, y, size=3)).most_common(1)[0][0]
                assert near(colour, over_white(source_colour("pond"), 0.8)), colour


def test_route_and_detour_both_show(registry_env, maps_engine, tmp_path, artifacts):  # noqa: F811
    """The detour is a narrow dashed line on the route's wide band: where they share a road
    both colours show; where they part each shows alone. The closure that is not on the route
    is said in the legend."""
    ids = maps_engine.world_ids
    out = tmp_path / "route.html"
    args = cli_maps(ids)["route"]
    result = CliRunner().invoke(app, ["map", *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    orange = _hex(DETOUR)

    def colours_around(driver, lat: float, lon: float) -> set[str]:
        x, y = pixel_of(driver, lat, lon)
        found = set()
        for c in sample(driver, x, y, size=25):
            if near(c, over_white(ROUTE, 0.55), 30):  # the route's band
                found.add("route")
            if near(c, orange, 30):
                found.add("detour")
        return found

    with chromium() as driver:
        report = open_map(driver, out.as_uri())
        assert_clean(report, "route")
        screenshot(driver, artifacts / "travel_route.png")
        assert_legend(driver, "normal route", "detour", "not on the usual route")
        # road 1 (n1 -> n2, 18.30 N) is driven by both
        assert colours_around(driver, 18.30, 99.44) == {"route", "detour"}
        # bridge 2's road (18.36 N) only by the detour; past the closed bridge 1 only the route
        assert colours_around(driver, 18.36, 99.48) == {"detour"}
        assert colours_around(driver, 18.30, 99.485) == {"route"}


def test_zoning_legend_shows_the_codes_the_zones_carry(maps_conn, tmp_path):
    """A category without a code range of its own ("-") shows its zones' codes."""
    path = save_map(build_map(maps_conn, "zoning"), tmp_path / "zoning.html")
    with chromium() as driver:
        open_map(driver, path.as_uri())
        rows = driver.execute_script(
            "return [...document.querySelectorAll('#gis-legend tr')].map(r => r.innerText)"
        )
    conservation = [r for r in rows if "residential conservation" in r]
    assert conservation and "ย.อ." in conservation[0], rows
    assert not any(r.split("\t")[1:2] == ["-"] for r in rows), rows


def test_demo_zoning_legend_has_no_dash_codes(demo_conn):
    """The five DPT categories with no code range in zoning_categories (residential
    conservation, special industrial, education, religious, open space) show their zones'."""
    m = build_map(demo_conn, "zoning")
    legend = next(c for c in m._children.values() if type(c).__name__ == "Legend").body
    for code in ("ย.อ.", "ส.2", "ส.3", "ล.1", "อ.4"):
        assert f'<td class="code">{code}</td>' in legend, code
    assert '<td class="code">-</td>' not in legend


def test_flood_areas_show_through_the_province_hazard_map(demo_conn, tmp_path, artifacts):
    """On the whole province at its initial (fitted) view, the flood areas show: points inside
    them show a flood colour (fill or outline) rather than the ~930 village markers, bridges
    and roads once drawn over them at full size (8% of the points showed blue then; what is
    exposed lies inside the areas by definition, so some of them always will be covered)."""
    points = (
        demo_conn.execute(
            text(
                "SELECT h.id, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat FROM hazard_areas h, "
                "LATERAL ST_Dump(ST_GeneratePoints(ST_Buffer(h.geom::geography, -60)::geometry, "
                "12, 7)) AS p WHERE h.hazard_type = 'flood'"
            )
        )
        .mappings()
        .all()
    )
    assert len(points) >= 100
    path = save_map(build_map(demo_conn, "hazard"), tmp_path / "hazard.html")
    with chromium() as driver:
        report = open_map(driver, path.as_uri())
        assert_clean(report, "province hazard")
        screenshot(driver, artifacts / "travel_province_hazard.png")
        assert fitted_share(driver) >= FITTED_SHARE
        shown: Counter[int] = Counter()
        checked = 0
        for p in points:
            x, y = pixel_of(driver, p["lat"], p["lon"])
            if not element_at(driver, x, y).startswith(("path", "svg")):
                continue  # under the legend, the layer control or the title
            checked += 1
            r, _g, b = sample(driver, x, y, size=1)[0]
            if b > r + 25:  # the flood palette is blues; roads, villages, borders are not
                shown[p["id"]] += 1
        # and in a notebook's frame the province is fitted, not a zoom level too far out
        driver.set_window_size(1000, 700)
        open_map(driver, path.as_uri())
        assert fitted_share(driver) >= FITTED_SHARE
    assert checked >= 100
    share = sum(shown.values()) / checked
    assert share >= 0.4, f"a flood colour at {share:.0%} of {checked} points inside the floods"
    floods = {p["id"] for p in points}
    assert set(shown) == floods, f"flood areas not seen at all: {floods - set(shown)}"


def test_condition_map_is_thin_at_the_province_zoom_and_full_when_zoomed_in(
    demo_conn, tmp_path, artifacts
):
    """Zoomed out to the province, road lines are thin and bridges small (full width they
    covered each other: confetti); zoomed in to a district, both are drawn at full size."""
    path = save_map(build_map(demo_conn, "condition"), tmp_path / "condition.html")
    widest = (
        "return [Math.max(...[...document.querySelectorAll('.leaflet-overlay-pane path')]"
        ".filter(p => p.getAttribute('fill') === 'none')"
        ".map(p => +p.getAttribute('stroke-width'))),"
        " Math.max(...Object.values(gisMap._layers).filter(l => l.getRadius)"
        ".map(l => l.getRadius()))]"
    )
    with chromium() as driver:
        report = open_map(driver, path.as_uri())
        assert_clean(report, "province condition")
        screenshot(driver, artifacts / "travel_province_condition.png")
        assert driver.execute_script("return gisMap.getZoom()") < 10
        line, radius = driver.execute_script(widest)
        assert line <= 3.5 and radius <= 3.5, (line, radius)
        driver.execute_script("gisMap.setZoom(13, {animate: false})")
        line, radius = driver.execute_script(widest)
        assert line >= 6 and radius >= 7, (line, radius)
