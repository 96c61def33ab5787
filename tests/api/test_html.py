"""The API's pages for browsers: the landing page links everything, collections and features
are links, feature pages carry an offline Leaflet map, numbers are rounded, geometry is not
dumped, data cannot inject HTML, and Swagger UI works with no network.

Plain HTTP checks run on the app in process; the browser checks run headless Chromium (DNS
resolves only 127.0.0.1) against a real server, following the links and recording every
request the pages make."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import httpx
import pytest
from shapely.geometry import LineString

from gis_registry.catalog import CATALOG
from tests.api.conftest import serve
from tests.maps.browser import chromium, open_map, page_report, sample

WRITES = True  # a world of its own: the hostile road below must not reach other modules

HOSTILE_TH = '<script>window.pwned=1</script>ถนน "ทดสอบ" & ซอย'
HOSTILE_EN = '"><img src=x onerror="window.pwned=2">'
HTML_ACCEPT = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
def hostile(api_url, world) -> int:
    """A road whose names try to inject markup and script."""
    from gis_registry.db import make_engine
    from gis_registry.queries.features import insert_features
    from gis_registry.settings import Settings

    engine = make_engine(Settings(database_url=api_url), url=api_url)
    with engine.begin() as conn:
        (road,) = insert_features(
            conn,
            "roads",
            [
                {
                    "code": "ลป.ถ. 1-0999",
                    "name_th": HOSTILE_TH,
                    "name_en": HOSTILE_EN,
                    "road_class": "local",
                    "owner_local_body_id": world["pao"],
                    "surface": "asphalt",
                    "width_m": 5,
                    "lanes": 2,
                    "year_built": 2001,
                    "geom": LineString([(99.42, 18.36), (99.44, 18.36)]),
                }
            ],
        )
    engine.dispose()
    return road


class Page(HTMLParser):
    """The links of a page and its visible text (script and style contents left out)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.text: list[str] = []
        self._hidden = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)

    @property
    def visible(self) -> str:
        return " ".join(self.text)


def html_of(client, url: str) -> str:
    r = client.get(url, headers=HTML_ACCEPT)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html")
    return r.text


# -- plain HTTP ------------------------------------------------------------------------------
def test_landing_links_collections_maps_analyses_tiles_and_docs(client):
    page = Page(html_of(client, "/"))
    paths = {urlparse(h).path for h in page.links}
    for wanted in (
        "/collections",
        "/collections/roads",
        "/collections/roads/items",
        "/maps",
        "/maps/zoning",
        "/tiles/roads/tilejson.json",
        "/api.html",
        "/api",
        "/conformance",
        "/analysis/coverage/water",
        "/analysis/network/route",
        "/analysis/network/check",
    ):
        assert wanted in paths, f"the landing page does not link {wanted}"
    assert "แผนที่" in page.visible and "Maps" in page.visible
    assert "ถนน · Roads" in page.visible  # Thai and English titles
    # JSON stays JSON
    assert client.get("/", params={"f": "json"}).json()["links"]


def test_analysis_examples_have_valid_parameters(client):
    page = Page(html_of(client, "/"))
    examples = [h for h in page.links if urlparse(h).path.startswith("/analysis/")]
    assert len(examples) >= 15
    for href in examples:
        r = client.get(href)
        # 404 is an honest answer of the tiny world (a route endpoint off its network)
        assert r.status_code in (200, 404), (href, r.status_code, r.text[:300])


def test_collections_rows_link_their_pages_items_and_tiles(client):
    page = Page(html_of(client, "/collections"))
    for c in CATALOG.values():
        assert f"http://testserver/collections/{c.id}?f=html" in page.links, c.id
        assert f"http://testserver/collections/{c.id}/items?f=html" in page.links, c.id
    assert "http://testserver/tiles/roads/tilejson.json" in page.links
    one = Page(html_of(client, "/collections/roads"))
    paths = {urlparse(h).path for h in one.links}
    assert {"/collections/roads/items", "/collections/roads/queryables"} <= paths
    assert "/tiles/roads/tilejson.json" in paths
    assert "ถนน" in one.visible


def test_item_numbers_are_rounded_by_column(client, world):
    road = client.get(f"/collections/roads/items/{world['road']}").json()
    length = road["properties"]["length_m"]
    assert length != round(length, 2)  # a computed geodesic length: many decimals
    page = Page(html_of(client, f"/collections/roads/items/{world['road']}"))
    assert repr(length) not in page.visible
    expected = f"{length / 1000:,.2f} km" if length >= 1000 else f"{length:,.1f} m"
    assert expected in page.visible
    zone = client.get(f"/collections/zoning_zones/items/{world['zone']}").json()
    area = zone["properties"]["area_m2"]
    zone_page = Page(html_of(client, f"/collections/zoning_zones/items/{world['zone']}"))
    assert repr(area) not in zone_page.visible
    assert f"{area / 10_000:,.2f} ha" in zone_page.visible and "ไร่" in zone_page.visible


def test_geometry_is_a_map_not_text(client, world):
    text = html_of(client, f"/collections/zoning_zones/items/{world['zone']}")
    page = Page(text)
    assert "coordinates" not in page.visible and "[99." not in page.visible
    assert 'id="map"' in text and "/maps/assets/leaflet/dist/leaflet.js" in text
    assert "unpkg" not in text and "cdn" not in text.lower()
    items = html_of(client, "/collections/roads/items?limit=3")
    assert 'id="map"' in items and "coordinates" not in Page(items).visible


def test_foreign_keys_link_the_feature_they_name(client, world):
    page = Page(html_of(client, f"/collections/bridges/items/{world['bridge']}"))
    assert f"http://testserver/collections/roads/items/{world['road']}?f=html" in page.links
    assert f"http://testserver/collections/rivers/items/{world['river']}?f=html" in page.links


def test_items_pages_link_prev_and_next_as_html(client):
    first = Page(html_of(client, "/collections/roads/items?limit=2"))
    nexts = [h for h in first.links if "offset=2" in h]
    assert nexts and all("f=html" in h for h in nexts)
    second = Page(html_of(client, nexts[0]))
    assert any("offset=0" in h and "f=html" in h for h in second.links)


def test_every_collection_renders(client):
    for c in CATALOG.values():
        html_of(client, f"/collections/{c.id}")
        html_of(client, f"/collections/{c.id}/items?limit=5")
        html_of(client, f"/collections/{c.id}/queryables")


def test_data_cannot_inject_markup(client, hostile):
    for url in (
        f"/collections/roads/items/{hostile}",
        "/collections/roads/items?limit=100",
        "/collections/roads/items?name_en=" + httpx.QueryParams({"x": HOSTILE_EN})["x"],
    ):
        text = html_of(client, url)
        assert "<script>window.pwned" not in text
        assert "<img src=x" not in text
        assert "&lt;script&gt;window.pwned=1&lt;/script&gt;ถนน &quot;ทดสอบ&quot; &amp; ซอย" in text
        # inside the map's JSON too: no "<" that could close the script element
        data = re.search(
            r'<script type="application/json" id="features">(.*?)</script>', text, re.S
        )
        assert data and "<" not in data.group(1) and "\\u003cscript" in data.group(1)


def test_json_answers_are_unchanged(client, world):
    r = client.get("/collections/roads/items", params={"limit": 2})
    assert r.headers["content-type"] == "application/geo+json"
    assert r.json()["type"] == "FeatureCollection"
    r = client.get(f"/collections/roads/items/{world['road']}")
    assert r.headers["content-type"] == "application/geo+json"


def test_swagger_ui_is_served_locally(client):
    text = html_of(client, "/api.html")
    assert "/api/assets/swagger-ui-bundle.js" in text and "/api/assets/swagger-ui.css" in text
    assert not re.search(r"(src|href)=\"https?://", text), text
    assert '"validatorUrl": null' in text
    js = client.get("/api/assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert client.get("/api/assets/package.json").status_code == 404


# -- the browser -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(api_url, hostile) -> str:
    with serve(api_url) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


def reddish(pixels) -> bool:
    """The features' colour (#c0392b, also at 35 % over the map's grey) at a third of the
    pixels at least (a 3 px line may straddle the sample)."""
    return sum(r > 150 and r - g > 30 and r - b > 30 for r, g, b in pixels) >= len(pixels) // 3


def follow(base: str, page_url: str, links: list[str], seen: set[str]) -> None:
    """GET every same-server link (no 4xx or 5xx); analyses and maps are checked apart."""
    for href in links:
        url = urljoin(page_url, href)
        if not url.startswith(base) or url in seen:
            continue
        path = urlparse(url).path
        if path.startswith(("/analysis/", "/maps/")):
            continue
        seen.add(url)
        r = httpx.get(url, headers=HTML_ACCEPT, timeout=60)
        assert r.status_code < 400, f"{url} (linked from {page_url}): {r.status_code}"


def test_pages_render_maps_offline_and_their_links_work(server, browser, world, hostile):
    seen: set[str] = set()
    for path in ("/", "/collections", "/collections/roads"):
        browser.get_log("browser")
        browser.get_log("performance")
        browser.get(f"{server}{path}?f=html")
        report = page_report(browser)
        assert not report.console_errors, (path, report.console_errors)
        assert not report.external_requests, (path, report.external_requests)
        links = browser.execute_script(
            "return [...document.querySelectorAll('a[href]')].map(a => a.href)"
        )
        follow(server, f"{server}{path}", links, seen)
    pages = [
        # (page, a lon/lat a feature covers)
        (f"/collections/zoning_zones/items/{world['zone']}", (99.455, 18.295)),
        ("/collections/zoning_zones/items", (99.455, 18.295)),
        (f"/collections/bridges/items/{world['bridge']}", (99.48, 18.30)),
        (f"/collections/roads/items/{hostile}", (99.43, 18.36)),
        ("/collections/roads/items?limit=50", (99.48, 18.30)),
        ("/collections/districts/items", None),
    ]
    for path, where in pages:
        url = f"{server}{path}" + ("&" if "?" in path else "?") + "f=html"
        report = open_map(browser, url)
        assert not report.console_errors, (path, report.console_errors)
        assert not report.external_requests, (path, report.external_requests)
        drawn = browser.execute_script("let n = 0; window.gisLayer.eachLayer(() => n++); return n;")
        assert drawn >= 1, path
        assert not browser.execute_script("return document.querySelector('.leaflet-tile')")
        assert browser.execute_script("return window.pwned === undefined"), path
        if where is not None:
            point = browser.execute_script(
                "const p = window.gisMap.latLngToContainerPoint([arguments[1], arguments[0]]);"
                "const r = window.gisMap.getContainer().getBoundingClientRect();"
                "return [Math.round(p.x + r.left), Math.round(p.y + r.top)];",
                *where,
            )
            assert reddish(sample(browser, *point, size=3)), (path, point)
        links = browser.execute_script(
            "return [...document.querySelectorAll('a[href]')].map(a => a.href)"
        )
        follow(server, url, links, seen)
    assert len(seen) > 30


def test_swagger_ui_renders_offline(server, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get_log("browser")
    browser.get_log("performance")
    browser.get(f"{server}/api.html")
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script("return document.querySelectorAll('.opblock').length > 20")
    )
    report = page_report(browser)
    assert not report.console_errors, report.console_errors
    assert not report.external_requests, report.external_requests
    assert "getFeatures" in browser.page_source or "/collections/{collectionId}/items" in (
        browser.execute_script("return document.body.innerText")
    )
