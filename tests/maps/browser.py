"""Headless Debian Chromium through selenium, with no network beyond this machine.

Never uses Selenium Manager (which downloads browsers): the driver is /usr/bin/chromedriver and
the browser /usr/bin/chromium, and the tests fail (never skip) when either is missing.
DNS resolves nothing but 127.0.0.1, so a request to any other host fails, and the performance
log records every request the page made, so the test can assert none left the machine.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
WINDOW = (1400, 1000)


@dataclass
class PageReport:
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def external_requests(self) -> list[str]:
        out = []
        for url in self.requests:
            parsed = urlparse(url)
            if parsed.scheme in ("data", "blob", "about", "file", "devtools") or (
                parsed.scheme.startswith("chrome")  # the browser's own pages, not the map's
            ):
                continue
            if parsed.hostname not in LOCAL_HOSTS:
                out.append(url)
        return out


@contextmanager
def chromium():
    """A headless Chromium WebDriver with a fresh profile; quits and cleans up after."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for binary in (CHROMIUM, CHROMEDRIVER):
        assert Path(binary).exists(), (
            f"{binary} is missing: install Debian's chromium and chromium-driver "
            "(scripts/install-system.sh, part of `make setup`)"
        )
    profile = tempfile.mkdtemp(prefix="gis-maps-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-default-apps",
        "--disable-extensions",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--allow-file-access-from-files",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.get("about:blank")  # not the new-tab page, which fetches its own resources
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_map(driver, url: str, *, timeout: float = 20) -> PageReport:
    """Load ``url``, wait until the map (``window.gisMap``) is laid out; report console errors
    and every request made."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")  # drop what the start-up tab logged and fetched
    driver.get_log("performance")
    from selenium.common.exceptions import TimeoutException

    driver.get(url)
    try:
        WebDriverWait(driver, timeout).until(
            lambda d: d.execute_script("return window.gisMapReady === true && !!window.gisMap")
        )
    except TimeoutException:
        logs = driver.get_log("browser")
        body = driver.execute_script("return document.body ? document.body.innerText : ''")
        raise AssertionError(
            f"the map at {url} never became ready; console: {logs}; page text: {body[:500]!r}"
        ) from None
    # let Leaflet finish fitBounds and paint
    driver.execute_script(
        "return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
    )
    return page_report(driver)


def page_report(driver, *, ignore: Callable[[str], bool] = lambda message: False) -> PageReport:
    """The console errors and every request logged since the logs were last read (reading
    empties them); ``ignore`` leaves out the console errors it returns True for."""
    report = PageReport()
    for entry in driver.get_log("browser"):
        message = entry.get("message", "")
        if entry.get("level") == "SEVERE" and not ignore(message):
            report.console_errors.append(message)
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            report.requests.append(message["params"]["request"]["url"])
    return report


def pixel_of(driver, lat: float, lon: float) -> tuple[int, int]:
    """Container pixel of a lat/lon (the map fills the window from its top-left corner)."""
    point = driver.execute_script(
        "const p = window.gisMap.latLngToContainerPoint([arguments[0], arguments[1]]);"
        "const r = window.gisMap.getContainer().getBoundingClientRect();"
        "return [Math.round(p.x + r.left), Math.round(p.y + r.top)];",
        lat,
        lon,
    )
    return int(point[0]), int(point[1])


def element_at(driver, x: int, y: int) -> str:
    """Tag and classes of the element drawn at a window pixel ('path leaflet-interactive')."""
    return driver.execute_script(
        "const e = document.elementFromPoint(arguments[0], arguments[1]);"
        "return e ? (e.tagName + ' ' + (e.getAttribute('class') || '')) : '';",
        x,
        y,
    )


def screenshot(driver, path: Path) -> Path:
    """Save the whole window as a PNG test artefact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(driver.get_screenshot_as_png())
    return path


def sample(driver, x: int, y: int, size: int = 5) -> list[tuple[int, int, int]]:
    """The colours of a ``size`` x ``size`` square of the rendered page centred on (x, y),
    captured by Chromium itself (DevTools ``Page.captureScreenshot`` with a clip)."""
    import base64

    half = size // 2
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "clip": {"x": x - half, "y": y - half, "width": size, "height": size, "scale": 1},
        },
    )
    rgb = decode_png(base64.b64decode(shot["data"]))
    width, height = rgb.size
    return [rgb(i, j) for j in range(height) for i in range(width)]


def decode_png(png: bytes):
    """A tiny PNG decoder (8-bit RGB/RGBA, non-interlaced: what Chromium writes) for the small
    clips of :func:`sample`, so the tests need no imaging library. Returns ``rgb(x, y)``."""
    import struct
    import zlib

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, colour = 8, b"", 0, 0, 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", data)
            assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour, interlace)
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    channels = 4 if colour == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytearray] = []
    prev = bytearray(stride)
    i = 0
    for _ in range(height):
        ftype = raw[i]
        line = bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xFF
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xFF
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xFF
        rows.append(line)
        prev = line

    def rgb(x: int, y: int) -> tuple[int, int, int]:
        row = rows[y]
        return row[x * channels], row[x * channels + 1], row[x * channels + 2]

    rgb.size = (width, height)  # type: ignore[attr-defined]
    return rgb
