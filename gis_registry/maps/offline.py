"""Offline HTML for folium maps: every script and stylesheet from local copies, nothing else.

Folium and branca put CDN links (Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers, a
glyphicons sheet and a rotation sheet from GitHub) into the page header. :func:`render_html`
renders a map, then rewrites each ``<script src>`` and ``<link rel="stylesheet">`` to the copy
installed from npm by ``scripts/install-map-assets.sh`` (``gis_registry/maps/assets``):

- ``inline`` (what the CLI and :func:`save_map` write by default): a self-contained file that
  works copied alone to a machine with no network; each script and stylesheet inlined once,
  CSS images/fonts as data URIs;
- ``files``: references relative to the HTML file; :func:`save_map` copies the files next to it
  (``FILE_files/``) or into a shared folder (``shared_assets``, the CLI's ``--shared-assets``),
  keeping each package's layout so CSS ``url(...)`` images and fonts resolve;
- ``url``: references under a base URL (the API serves them at ``/maps/assets/...``);
- ``cdn``: folium's own output, for notebooks that are online.

A link that matches no known asset is an error (never silently left pointing outside), and the
final page is scanned for any remaining external script, stylesheet or CSS ``url()``. Libraries
only needed by icon markers (jQuery, Bootstrap, Font Awesome, awesome-markers) are left out of
maps that draw no icon markers (``prune``), which keeps the inline file small.
"""

from __future__ import annotations

import base64
import html as html_lib
import mimetypes
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import folium
from branca.element import Element, Figure

from gis_registry.errors import GisRegistryError, NotFound
from gis_registry.maps.settings import MapSettings


class MapAssetsMissing(GisRegistryError):
    """The offline copies of the map libraries are not installed."""


class ExternalResource(GisRegistryError):
    """A map would load a script or stylesheet from outside the machine."""


class AssetMode(StrEnum):
    """How a rendered page reaches its scripts and stylesheets (see the module docstring)."""

    FILES = "files"
    INLINE = "inline"
    URL = "url"
    CDN = "cdn"


@dataclass(frozen=True)
class Asset:
    """A library file that folium/branca load from a CDN, and where its local copy lives."""

    key: str
    path: str  # relative to node_modules
    kind: str  # "js" or "css"
    pattern: str  # regex matching the CDN URLs folium/branca inject for it
    icons_only: bool = False  # needed only by icon markers (folium.Icon)


ASSETS: tuple[Asset, ...] = (
    Asset("leaflet.js", "leaflet/dist/leaflet.js", "js", r"leaflet(@[\d.]+)?/dist/leaflet\.js$"),
    Asset(
        "leaflet.css", "leaflet/dist/leaflet.css", "css", r"leaflet(@[\d.]+)?/dist/leaflet\.css$"
    ),
    Asset(
        "jquery.js",
        "jquery/dist/jquery.min.js",
        "js",
        r"jquery[-@][\d.]+(/dist/jquery)?\.min\.js$",
        True,
    ),
    Asset(
        "bootstrap.js",
        "bootstrap/dist/js/bootstrap.bundle.min.js",
        "js",
        r"bootstrap@[\d.]+/dist/js/bootstrap\.bundle\.min\.js$",
        True,
    ),
    Asset(
        "bootstrap.css",
        "bootstrap/dist/css/bootstrap.min.css",
        "css",
        r"bootstrap@[\d.]+/dist/css/bootstrap\.min\.css$",
        True,
    ),
    Asset(
        "fontawesome.css",
        "@fortawesome/fontawesome-free/css/all.min.css",
        "css",
        r"fontawesome-free@[\d.]+/css/all\.min\.css$",
        True,
    ),
    Asset(
        "awesome-markers.js",
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.js",
        "js",
        r"awesome-markers/[\d.]+/leaflet\.awesome-markers\.js$",
        True,
    ),
    Asset(
        "awesome-markers.css",
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.css",
        "css",
        r"awesome-markers/[\d.]+/leaflet\.awesome-markers\.css$",
        True,
    ),
)
ASSETS += (
    Asset(
        "vectorgrid.js",
        "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js",
        "js",
        r"leaflet\.vectorgrid@[\d.]+/dist/Leaflet\.VectorGrid\.bundled\.min\.js$",
    ),
)
# Sheets folium adds that no map here needs: Bootstrap 3 glyphicons (only for
# Icon(prefix="glyphicon"), which we never use) and the sheet for rotated icons (Icon(angle=)).
DROPPED = (r"bootstrap-glyphicons\.css$", r"leaflet\.awesome\.rotate(\.min)?\.css$")

_TAG = re.compile(
    r'<script src="(?P<js>[^"]+)"></script>|<link rel="stylesheet" href="(?P<css>[^"]+)"/?>'
)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(?P<ref>[^)'\"]+)\1\s*\)")
_SOURCE_MAP = re.compile(r"(//[#@] sourceMappingURL=\S+|/\*[#@] sourceMappingURL=[^*]*\*/)")
# a \uXXXX escape (not itself escaped) of a non-ASCII character
_JSON_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u([0-9a-fA-F]{4})")
_EXTERNAL = re.compile(
    r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*['\"]?(https?:)?//", re.IGNORECASE
)
_EXTERNAL_CSS_URL = re.compile(r"url\(\s*['\"]?(https?:)?//", re.IGNORECASE)


def assets_dir(settings: MapSettings | None = None) -> Path:
    """The installed ``node_modules`` folder; raises :class:`MapAssetsMissing` if absent."""
    root = (settings or MapSettings()).assets_dir
    missing = [a.path for a in ASSETS if not (root / a.path).is_file()]
    if missing:
        raise MapAssetsMissing(
            f"offline map assets are not installed in {root} (missing {', '.join(missing)}); "
            "run scripts/install-map-assets.sh (part of `make setup`)"
        )
    return root


def _match(url: str) -> Asset | None:
    return next((a for a in ASSETS if re.search(a.pattern, url)), None)


def _local_refs(css_path: str, text: str) -> Iterator[tuple[str, str]]:
    """(reference as written, path relative to node_modules) of each local ``url()`` in a sheet."""
    base = Path(css_path).parent
    for match in _CSS_URL.finditer(text):
        ref = match.group("ref").strip()
        if ref.startswith(("data:", "#", "http:", "https:", "//")):
            continue
        clean = ref.split("?")[0].split("#")[0]
        resolved = (base / clean).as_posix()
        parts: list[str] = []
        for part in resolved.split("/"):
            if part == "..":
                parts.pop()
            elif part not in ("", "."):
                parts.append(part)
        yield ref, "/".join(parts)


def asset_files(settings: MapSettings | None = None) -> set[str]:
    """Every file a map may load (the assets and the images/fonts their CSS refers to),
    relative to ``node_modules``: the allow-list the API serves from."""
    root = assets_dir(settings)
    files: set[str] = set()
    for asset in ASSETS:
        files.add(asset.path)
        if asset.kind == "css":
            text = (root / asset.path).read_text(encoding="utf-8")
            files.update(path for _ref, path in _local_refs(asset.path, text))
    return files


def read_asset(path: str, settings: MapSettings | None = None) -> tuple[bytes, str]:
    """Bytes and media type of an allowed asset file; :class:`NotFound` for anything else."""
    if path not in asset_files(settings):
        raise NotFound(f"no map asset '{path}'")
    root = assets_dir(settings)
    return asset_bytes(root, path), _media_type(path)


def _media_type(path: str) -> str:
    if path.endswith(".woff2"):
        return "font/woff2"
    if path.endswith(".js"):
        return "text/javascript"
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def asset_bytes(root: Path, path: str) -> bytes:
    """The bytes of the installed file ``path`` under ``root``, without its source-map comment."""
    data = (root / path).read_bytes()
    if path.endswith((".js", ".css")):  # source maps are not shipped: no 404s in devtools
        data = _SOURCE_MAP.sub("", data.decode("utf-8")).encode("utf-8")
    return data


def _inline_css(root: Path, asset: Asset) -> str:
    text = asset_bytes(root, asset.path).decode("utf-8")
    for ref, path in set(_local_refs(asset.path, text)):
        if path.endswith(".ttf"):
            # every Font Awesome face also lists its woff2, which all browsers read: drop the
            # TrueType copies rather than inline them twice over
            text = re.sub(
                rf",?\s*url\(\s*['\"]?{re.escape(ref)}['\"]?\s*\)\s*format\([^)]*\)", "", text
            )
            continue
        data = base64.b64encode((root / path).read_bytes()).decode("ascii")
        text = text.replace(ref, f"data:{_media_type(path)};base64,{data}")
    return text


def _needs_icons(element: Element) -> bool:
    if isinstance(element, folium.Icon):
        return True
    return any(_needs_icons(child) for child in element._children.values())


def render_html(
    m: folium.Map | Figure,
    *,
    mode: AssetMode | str = AssetMode.INLINE,
    base_url: str = "",
    prune: bool = True,
    settings: MapSettings | None = None,
) -> tuple[str, list[Asset]]:
    """The page of a map with every library rewritten for ``mode``; and the assets it uses.

    Parameters
    ----------
    m : the map (or its Figure)
    mode : ``files`` (relative to ``base_url``, default ``""``), ``inline``, ``url``, ``cdn``
    base_url : prefix of asset references in ``files`` and ``url`` modes (ends with ``/``)
    prune : leave out the icon-marker libraries when the map draws no icon marker
    settings : where the assets are installed
    """
    mode = AssetMode(mode)
    root_element = m.get_root()
    page = root_element.render()
    page = unescape_text(page)
    if mode is AssetMode.CDN:
        return page, []
    root = assets_dir(settings)
    icons = _needs_icons(root_element)
    used: list[Asset] = []

    def replace(match: re.Match[str]) -> str:
        url = html_lib.unescape(match.group("js") or match.group("css"))
        if any(re.search(p, url) for p in DROPPED):
            return ""
        asset = _match(url)
        if asset is None:
            if not re.match(r"^(https?:)?//", url):
                return match.group(0)  # already local
            raise ExternalResource(f"no offline copy of {url}: add it to gis_registry/maps/assets")
        if prune and asset.icons_only and not icons:
            return ""
        if asset in used:
            return ""  # one copy per page (an inlined library would otherwise weigh twice)
        used.append(asset)
        if mode is AssetMode.INLINE:
            if asset.kind == "js":
                code = (
                    asset_bytes(root, asset.path).decode("utf-8").replace("</script", "<\\/script")
                )
                return f"<script>{code}</script>"
            return f"<style>{_inline_css(root, asset)}</style>"
        href = html_lib.escape(f"{base_url}{asset.path}")
        if asset.kind == "js":
            return f'<script src="{href}"></script>'
        return f'<link rel="stylesheet" href="{href}"/>'

    page = _TAG.sub(replace, page)
    check_offline(page)
    return page, used


def unescape_text(page: str) -> str:
    """Write JSON's ``\\u0e17`` escapes of non-ASCII text as the characters themselves.

    Folium embeds data with ASCII-only JSON: each Thai character costs 6 bytes instead of 3
    in UTF-8, and Thai names and popups are most of a map's text. Inside JS strings both forms
    are the same string. ASCII escapes (``\\u003c`` keeps ``</script>`` out of the page),
    surrogates and the JS line separators U+2028/2029 are left escaped.
    """

    def repl(match: re.Match[str]) -> str:
        code = int(match.group(2), 16)
        if code < 0x80 or 0xD800 <= code <= 0xDFFF or code in (0x2028, 0x2029):
            return match.group(0)
        return match.group(1) + chr(code)

    return _JSON_ESCAPE.sub(repl, page)


def check_offline(page: str) -> None:
    """Raise :class:`ExternalResource` if the page would load anything from another host."""
    found = _EXTERNAL.search(page) or _EXTERNAL_CSS_URL.search(page)
    if found:
        start = max(found.start() - 40, 0)
        raise ExternalResource(
            f"map page still loads an external resource: {page[start : found.end() + 60]!r}"
        )


def save_map(
    m: folium.Map | Figure,
    path: str | Path,
    *,
    mode: AssetMode | str = AssetMode.INLINE,
    prune: bool = True,
    shared_assets: str | Path | None = None,
    settings: MapSettings | None = None,
) -> Path:
    """Write a map as HTML that works with no network.

    ``inline`` (default) writes one self-contained file: it still draws when copied alone to
    another machine with no network (each library once, CSS images and fonts as data URIs).
    ``files`` copies the libraries it uses into ``<stem>_files/`` beside the HTML and refers to
    them relatively, so the folder must travel with the file; ``cdn`` is folium's online output.

    ``shared_assets`` (a folder; relative paths are relative to the HTML's folder) writes the
    libraries there and refers to them relatively (``files`` mode): maps written side by side
    share one copy, but travel only with it.
    """
    path = Path(path)
    mode = AssetMode(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    if shared_assets is not None:
        mode = AssetMode.FILES
        folder = path.parent / shared_assets  # an absolute folder stays itself
    else:
        folder = path.with_name(f"{path.stem}_files")
    # the page refers to the folder relatively, so file and folder move together
    relative = Path(os.path.relpath(folder.resolve(), path.parent.resolve())).as_posix()
    page, used = render_html(m, mode=mode, base_url=f"{relative}/", prune=prune, settings=settings)
    if mode is AssetMode.FILES:
        root = assets_dir(settings)
        if folder.exists() and shared_assets is None:
            shutil.rmtree(folder)
        for asset in used:
            wanted = [asset.path]
            if asset.kind == "css":
                text = (root / asset.path).read_text(encoding="utf-8")
                wanted += [p for _ref, p in _local_refs(asset.path, text)]
            for rel in wanted:
                target = folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(asset_bytes(root, rel))
    path.write_text(page, encoding="utf-8")
    return path


class OfflineView:
    """A map for a notebook that works with no network: the self-contained page in an iframe
    (``offline_view(zoning_map(conn))`` as the last line of a cell)."""

    def __init__(self, m: folium.Map | Figure, *, height: int = 600):
        self.map = m
        self.height = int(height)

    def _repr_html_(self) -> str:
        page, _used = render_html(self.map, mode=AssetMode.INLINE)
        return (
            f'<iframe srcdoc="{html_lib.escape(page)}" style="width:100%;'
            f'height:{self.height}px;border:0" sandbox="allow-scripts allow-popups"></iframe>'
        )


def offline_view(m: folium.Map | Figure, *, height: int = 600) -> OfflineView:
    """Wrap ``m`` to display in a notebook without network access (an :class:`OfflineView`)."""
    return OfflineView(m, height=height)
