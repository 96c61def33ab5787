"""The maps in a real browser (headless Debian Chromium, no network): opened from local files
and from the API, no console error, no request leaving the machine, legend present, and the
zone colours on screen where the zones are. Screenshots are kept in tests/maps/artifacts/.

These tests fail (never skip) when chromium or chromedriver is missing.
"""

from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

import pytest

from gis_registry.maps import build_map, save_map
from gis_registry.maps.zoning import FILL_OPACITY
from tests.fixtures.servers import database_url
from tests.maps.browser import chromium, element_at, open_map, pixel_of, sample, screenshot
from tests.maps.world import FILL, HATCHED, ZONES

pytestmark = pytest.mark.db


def _hex(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def expected_fill(colour: str) -> tuple[int, int, int]:
    """A zone's fill as seen on the white map: its colour at FILL_OPACITY over white."""
    return tuple(round(c * FILL_OPACITY + 255 * (1 - FILL_OPACITY)) for c in _hex(colour))  # type: ignore[return-value]


def close(a, b, tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def assert_clean(report, where: str) -> None:
    assert report.console_errors == [], f"{where}: console errors {report.console_errors}"
    assert report.external_requests == [], f"{where}: requests left the machine"


def assert_legend(driver, *words: str) -> None:
    text = driver.execute_script(
        "const e = document.getElementById('gis-legend');"
        "return e && e.offsetWidth > 0 ? e.innerText : null;"
    )
    assert text, "legend missing or hidden"
    for word in words:
        assert word in text


def click(driver, x: int, y: int, wait_ms: int = 300) -> str:
    """Click the map at a window pixel; the text of the popup that opens ('' if none)."""
    return driver.execute_async_script(
        "const [x, y, ms, done] = arguments;"
        "document.elementFromPoint(x, y).dispatchEvent(new MouseEvent('click',"
        " {bubbles: true, clientX: x, clientY: y}));"
        "setTimeout(() => { const c = document.querySelector('.leaflet-popup-content');"
        " done(c ? c.innerText : ''); }, ms);",
        x,
        y,
        wait_ms,
    )


def assert_thai_font(driver) -> None:
    """The legend asks for Thai fonts first, and the local ones it names (Loma, Garuda from
    fonts-thai-tlwg) are really there: Thai text measures differently in each (were they
    missing, both names would fall back to one and the same font)."""
    family, loma, garuda = driver.execute_script(
        "const f = getComputedStyle(document.getElementById('gis-legend')).fontFamily;"
        "const c = document.createElement('canvas').getContext('2d');"
        "const s = 'ที่อยู่อาศัยหนาแน่นน้อย';"
        "c.font = '20px Loma'; const a = c.measureText(s).width;"
        "c.font = '20px Garuda'; const b = c.measureText(s).width;"
        "return [f, a, b];"
    )
    assert family.startswith('"Noto Sans Thai"') and "Loma" in family, family
    assert loma != garuda, "Thai fonts Loma/Garuda missing (Debian fonts-thai-tlwg)"


def assert_zone_colours(driver, label: str) -> None:
    """At each zone's centre the screen shows its DPT colour; hatched zones show both the
    pattern's background and its hatch lines."""
    checked = 0
    for code, category, (minx, miny, maxx, maxy) in ZONES:
        x, y = pixel_of(driver, (miny + maxy) / 2, (minx + maxx) / 2)
        on_top = element_at(driver, x, y)
        assert on_top.startswith("path"), f"{label}: zone {code} at ({x}, {y}) covered by {on_top}"
        pixels = sample(driver, x, y, size=9)
        if category in HATCHED:
            distinct = {p for p in pixels}
            assert len(distinct) >= 2, f"{label}: hatched zone {code} drawn flat: {distinct}"
        else:
            centre = pixels[len(pixels) // 2]
            want = expected_fill(FILL[category])
            assert close(centre, want), f"{label}: zone {code} shows {centre}, expected {want}"
        checked += 1
    assert checked == len(ZONES)


def test_zoning_map_from_local_files(maps_conn, tmp_path, artifacts):
    m = build_map(maps_conn, "zoning")
    files = save_map(m, tmp_path / "zoning.html", mode="files")
    inline = save_map(m, tmp_path / "zoning_inline.html", mode="inline")
    with chromium() as driver:
        for path, shot in ((files, "zoning_files.png"), (inline, "zoning_inline.png")):
            report = open_map(driver, path.as_uri())
            assert_clean(report, path.name)
            if path is files:  # the libraries really came from the folder beside the file
                assert any(
                    u.endswith("zoning_files/leaflet/dist/leaflet.js") for u in report.requests
                )
            screenshot(driver, artifacts / shot)
            assert_legend(driver, "ย.1-ย.4", "ที่อยู่อาศัยหนาแน่นน้อย", "low-density residential")
            assert_zone_colours(driver, path.name)
            assert_thai_font(driver)
            # a zone's popup: code, land use, plan, dates in Buddhist Era, area
            code, _cat, (minx, miny, maxx, maxy) = ZONES[1]
            text = click(driver, *pixel_of(driver, (miny + maxy) / 2, (minx + maxx) / 2))
            for part in (
                code,
                "พาณิชยกรรม / commercial",
                "Test town plan 2025",
                "1 มิถุนายน 2568",
                "ไร่",
            ):
                assert part in text, (part, text)


def test_other_maps_from_local_files(maps_conn, maps_engine, tmp_path, artifacts):
    ids = maps_engine.world_ids
    maps = {
        "condition": ({}, "very poor"),
        "hazard": ({}, "exposed road"),
        "water": ({"new_sites": 2}, "uncovered village"),
        "route": (
            {"origin": "520199", "destination": "521099", "closed_bridges": [ids["bridge1"]]},
            "detour",
        ),
        "critical": ({}, "critical road"),
    }
    with chromium() as driver:
        for kind, (options, legend_word) in maps.items():
            path = save_map(build_map(maps_conn, kind, **options), tmp_path / f"{kind}.html")
            report = open_map(driver, path.as_uri())
            assert_clean(report, kind)
            screenshot(driver, artifacts / f"{kind}_files.png")
            assert_legend(driver, legend_word)
            assert (
                driver.execute_script(
                    "return document.querySelectorAll('path.leaflet-interactive').length"
                )
                > 3
            )


def _serve(app):
    """Run ``app`` with uvicorn in a thread on a free 127.0.0.1 port; yield its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "API server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture()
def api_server(maps_engine):
    """The maps router alone (the slice of the service state it uses), over real HTTP."""
    from fastapi import FastAPI

    from api import errors
    from api.routers.maps import router

    app = FastAPI()
    app.state.service = SimpleNamespace(
        engine=maps_engine, settings=SimpleNamespace(public_read=True)
    )
    errors.install(app)
    app.include_router(router)
    yield from _serve(app)


@pytest.fixture()
def service(maps_engine):
    """The whole API service (api.app.create_app) on the maps test database."""
    from api.app import create_app
    from gis_registry.settings import Settings

    url = database_url(maps_engine)
    yield from _serve(create_app(registry_settings=Settings(database_url=url)))


def test_zoning_map_from_the_api(api_server, artifacts):
    with chromium() as driver:
        report = open_map(driver, f"{api_server}/maps/zoning")
        assert_clean(report, "API /maps/zoning")
        assert any(u.endswith("/maps/assets/leaflet/dist/leaflet.js") for u in report.requests)
        screenshot(driver, artifacts / "zoning_api.png")
        assert_legend(driver, "ก.1-ก.3", "rural and agricultural conservation")
        assert_zone_colours(driver, "API")
        # the roads embedded (vector=false): this app has no tiles; see the whole-service test
        for kind, query in (
            ("route", "?from=520199&to=521099&closed_bridge=1&vector=false"),
            ("condition", "?vector=false"),
            ("water", ""),
            ("critical", "?vector=false"),
            ("hazard", "?vector=false"),
        ):
            report = open_map(driver, f"{api_server}/maps/{kind}{query}")
            assert_clean(report, f"API /maps/{kind}")
            assert_legend(driver)
            screenshot(driver, artifacts / f"{kind}_api.png")


def test_condition_map_from_the_service_draws_vector_tiles(service, artifacts):
    """Served by the API, the roads come from /tiles/roads as vector tiles (the page carries
    only their style classes) and a click fetches the road's details."""
    with chromium() as driver:
        report = open_map(driver, f"{service}/maps/condition")
        driver.execute_script(
            "return new Promise(r => setTimeout(r, 1000))"
        )  # tiles arrive after the page
        assert_clean(report, "service /maps/condition")
        tiles = [
            u
            for u in driver.execute_script(
                "return performance.getEntriesByType('resource').map(e => e.name)"
            )
            if "/tiles/roads/" in u
        ]
        assert tiles, "no vector tile was requested"
        very_poor = driver.execute_script(
            "return [...document.querySelectorAll('path')]"
            ".filter(p => p.getAttribute('stroke') === arguments[0]).length",
            "#a50026",
        )
        assert very_poor >= 1
        screenshot(driver, artifacts / "condition_service.png")
        # click road 2 (IRI 6.5: very poor) between its bridge and the node west of it
        text = click(driver, *pixel_of(driver, 18.30, 99.47), wait_ms=1500)
        assert text and "1035" in text and "IRI" in text and "บูรณะ" in text, text
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
        # the other maps with roads draw them from the tiles too
        for kind, query in (
            ("route", "?from=520199&to=521099&closed_bridge=1"),
            ("critical", ""),
            ("hazard", ""),
        ):
            report = open_map(driver, f"{service}/maps/{kind}{query}")
            driver.execute_script("return new Promise(r => setTimeout(r, 800))")
            assert_clean(report, f"service /maps/{kind}")
            assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
            assert (
                driver.execute_script(
                    "return document.querySelectorAll('.leaflet-tile-container svg path, "
                    ".leaflet-tile svg path, svg.leaflet-tile path').length"
                )
                > 0
            ), f"{kind}: no road drawn from the vector tiles"
            screenshot(driver, artifacts / f"{kind}_service.png")


def test_a_map_drawn_in_a_hidden_frame_fits_once_shown(tmp_path):
    """A notebook output out of view, a hidden tab: the page loads in a 0 x 0 frame, where
    Leaflet's fitBounds throws. The map must wait, then fit and draw once the frame is shown."""
    import folium

    from gis_registry.maps.base import new_map
    from gis_registry.maps.offline import render_html

    m = new_map((99.3, 18.1, 99.7, 18.5), title_th="ทดสอบ", title_en="Test")
    folium.GeoJson(
        {
            "type": "Polygon",
            "coordinates": [[[99.4, 18.2], [99.6, 18.2], [99.6, 18.4], [99.4, 18.2]]],
        }
    ).add_to(m)
    (tmp_path / "map.html").write_text(render_html(m)[0], encoding="utf-8")
    (tmp_path / "host.html").write_text(
        '<iframe id="f" src="map.html" style="width:0;height:0;border:0"></iframe>',
        encoding="utf-8",
    )
    with chromium() as driver:
        driver.get((tmp_path / "host.html").as_uri())
        time.sleep(1)
        driver.switch_to.frame("f")
        assert driver.execute_script("return !!window.gisMap && !window.gisMapReady")
        driver.switch_to.default_content()
        driver.execute_script("Object.assign(f.style, {width: '900px', height: '700px'})")
        driver.switch_to.frame("f")
        deadline = time.monotonic() + 10
        while not driver.execute_script("return window.gisMapReady === true"):
            assert time.monotonic() < deadline, "the map never fitted once shown"
            time.sleep(0.1)
        zoom, paths = driver.execute_script(
            "return [gisMap.getZoom(), document.querySelectorAll('.leaflet-overlay-pane path')"
            ".length]"
        )
        assert zoom >= 9 and paths == 1  # fitted to a 0.4 degree box, the polygon drawn
