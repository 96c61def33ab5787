"""The HTML pages of the API: the landing page, the collections, a page of features and one
feature, each feature page with an offline Leaflet map.

Only browsers get these (``Accept: text/html`` or ``f=html``, see :mod:`api.formats`); the
JSON answers never pass through here, so the fast read path stays as it is. Every value from
the database is escaped (:func:`esc`), and the features a map draws travel as JSON inside a
``<script type="application/json">`` with ``<``, ``>`` and ``&`` escaped, read with
``JSON.parse`` and shown with ``textContent``: a name such as ``</script><script>...`` stays
text. Leaflet comes from this API's own copies (``/maps/assets/``, the map pages' route), never
from a CDN.

How a value is written is decided in one place, :func:`cell_text`, from the column's name and
type (the rule the CLI's tables already follow, :func:`gis_registry.cli._human.fmt`).
"""

from __future__ import annotations

import html
import numbers
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import orjson
from fastapi.responses import HTMLResponse
from starlette.datastructures import URL

from gis_registry.catalog import CATALOG, Layer

LEAFLET_JS = "leaflet/dist/leaflet.js"
LEAFLET_CSS = "leaflet/dist/leaflet.css"
COORDINATE_DECIMALS = 6  # ~0.1 m: finer than any survey here, and a page a sixth the size
FEATURE_COLOUR = "#c0392b"

_STYLE = """body{font-family:'Noto Sans Thai','TH Sarabun New','Loma','Garuda',system-ui,
sans-serif;margin:1.5em 2em;max-width:90em;color:#222}
a{color:#1a5fb4}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
nav.crumbs{font-size:90%;margin-bottom:.5em}nav.pages a{margin-right:1em}
#map{height:420px;border:1px solid #bbb;margin:.5em 0}small{color:#666}
section{margin-bottom:1.5em}dt{font-weight:600}dd{margin:0 0 .4em 1.5em}"""


def esc(value: Any) -> str:
    """``value`` as HTML text (quotes included, so it is safe in attributes too)."""
    return html.escape("" if value is None else str(value), quote=True)


def page(
    title: str,
    body: str,
    *,
    root: str,
    crumbs: Iterable[tuple[str, str]] = (),
    status_code: int = 200,
) -> HTMLResponse:
    """A complete page: ``body`` (already HTML) under an escaped ``title`` and breadcrumbs.

    ``crumbs`` are (href, text) pairs leading from the landing page to this one; ``root`` is
    the service's base URL.
    """
    trail = [(f"{root}/?f=html", "หน้าแรก · Home"), *crumbs]
    nav = " › ".join(f'<a href="{esc(href)}">{esc(text)}</a>' for href, text in trail)
    return HTMLResponse(
        '<!doctype html>\n<html lang="th"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{esc(title)}</title><link rel="icon" href="data:,">'
        f"<style>{_STYLE}</style></head><body>"
        f'<nav class="crumbs">{nav}</nav><h1>{esc(title)}</h1>{body}</body></html>',
        status_code=status_code,
    )


def a(href: str, text: str) -> str:
    """A link, both parts escaped."""
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def as_html(url: str) -> str:
    """``url`` asking for HTML (``f=html``), so a followed link stays a page."""
    return str(URL(url).include_query_params(f="html"))


# -- values ----------------------------------------------------------------------------------
def cell_text(name: str, value: Any) -> str:
    """How a property is written on a page (plain text, not yet escaped): the one rule.

    By the column's name, as the CLI's tables write figures (:func:`gis_registry.cli._human.fmt`):
    ids, codes and years as they are; ``_m`` lengths in m below 1 km, else in km (2 decimals);
    ``_m2`` areas in rai and hectares (the maps' :func:`~gis_registry.maps.base.area_text`);
    timestamps to the minute;
    money (``_thb``) with 2 decimals; ``lon``/``lat`` with 5 decimals (~1 m); other numbers
    with 1 decimal; dates in the Buddhist Era with the ISO date; a unit the name ends with
    (``_m3``, ``_t``, ``_km``...) after the figure.
    """
    from gis_registry.cli import _human

    if _human.missing(value):
        return "–"
    if isinstance(value, bool):
        return "ใช่ · yes" if value else "ไม่ · no"
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    if isinstance(value, numbers.Real):
        if name.endswith("_m2"):
            from gis_registry.maps.base import area_text

            return area_text(float(value))
        if name.endswith("_m"):
            metres = float(value)
            if abs(metres) < 1000:
                return f"{_human.FORMATS['num'](metres)} m"
            return f"{_human.FORMATS['km'](metres)} km"
        kind = _human.kind_of(name, value)
        if kind == "thb":
            return f"{_human.FORMATS['num2'](value)} THB"
        text = _human.fmt(value, kind, name)
        unit = _UNITS.get(name.rsplit("_", 1)[-1]) if "_" in name else None
        return f"{text} {unit}" if unit and kind != "id" else text
    if isinstance(value, str) and _human.kind_of(name, value) == "date":
        return f"{_human.be_date(value)} ({value})"
    if isinstance(value, str) and _TIMESTAMP.fullmatch(value):  # to the minute, Thai time
        return f"{_human.be_date(value)} {value[11:16]} ({value[:16]})"
    return str(value)


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


# units a property's name ends with (``capacity_m3``), written after its figure
_UNITS = {"m3": "m³", "km": "km", "km2": "km²", "t": "t", "days": "days", "pct": "%"}


def is_number(value: Any) -> bool:
    """A figure (right-aligned in a table), not a flag."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def related(layer: Layer, name: str, value: Any, root: str) -> str | None:
    """The page of the feature a foreign-key property points at (``road_id`` -> that road),
    or of the features holding the value when the key is another column; None otherwise."""
    if value is None or name not in layer.table.c:
        return None
    for fk in layer.table.c[name].foreign_keys:
        target = CATALOG.get(fk.column.table.name)
        if target is None:
            continue
        if fk.column.name == target.key:
            return f"{root}/collections/{target.id}/items/{quote(str(value), safe='')}?f=html"
        return str(
            URL(f"{root}/collections/{target.id}/items").include_query_params(
                **{fk.column.name: value, "f": "html"}
            )
        )
    return None


def property_cell(layer: Layer, name: str, value: Any, root: str) -> str:
    """One ``<td>``: the value as :func:`cell_text` writes it, linked when it is a key."""
    text = esc(cell_text(name, value))
    target = related(layer, name, value, root)
    if target is not None:
        text = f'<a href="{esc(target)}">{text}</a>'
    return f'<td class="num">{text}</td>' if is_number(value) else f"<td>{text}</td>"


# -- the map ---------------------------------------------------------------------------------
def rounded(node: Any, decimals: int = COORDINATE_DECIMALS) -> Any:
    """A geometry's coordinates (any nesting) rounded to ``decimals``."""
    if isinstance(node, float):
        return round(node, decimals)
    if isinstance(node, list):
        return [rounded(v, decimals) for v in node]
    return node


def script_json(value: Any) -> str:
    """``value`` as JSON safe inside a ``<script>`` element (no ``<``, ``>`` or ``&``)."""
    text = orjson.dumps(value).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def map_block(features: list[dict[str, Any]], *, asset_root: str, item_url: str | None) -> str:
    """A Leaflet map of ``features`` (GeoJSON, CRS84), fitted to them; empty when none has a
    geometry. ``item_url`` (``.../items/{id}``) makes each feature a link to its page.

    The page sets ``window.gisMap`` and ``window.gisMapReady`` as the map files do (the tests
    and scripts wait on them).
    """
    drawn = [
        {
            "type": "Feature",
            "id": f.get("id"),
            "properties": {"label": _label(f)},
            "geometry": {
                "type": f["geometry"]["type"],
                "coordinates": rounded(f["geometry"].get("coordinates")),
                **(
                    {"geometries": f["geometry"]["geometries"]}
                    if "geometries" in f["geometry"]
                    else {}
                ),
            },
        }
        for f in features
        if f.get("geometry")
    ]
    if not drawn:
        return ""
    data = script_json({"type": "FeatureCollection", "features": drawn})
    link = script_json(item_url)
    return (
        f'<link rel="stylesheet" href="{esc(asset_root + LEAFLET_CSS)}">'
        '<div id="map" role="region" aria-label="แผนที่ · map"></div>'
        f'<script type="application/json" id="features">{data}</script>'
        f'<script src="{esc(asset_root + LEAFLET_JS)}"></script>'
        "<script>(function(){"
        "var data=JSON.parse(document.getElementById('features').textContent);"
        f"var itemUrl={link};var colour='{FEATURE_COLOUR}';"
        "var map=L.map('map',{zoomSnap:0.25});"
        "var layer=L.geoJSON(data,{"
        "style:function(){return {color:colour,weight:3,fillColor:colour,fillOpacity:0.35};},"
        "pointToLayer:function(f,ll){return L.circleMarker(ll,{radius:6,color:'#7b241c',"
        "weight:1,fillColor:colour,fillOpacity:0.9});},"
        "onEachFeature:function(f,l){var t=document.createElement('span');"
        "t.textContent=f.properties.label;l.bindTooltip(t);"
        "if(itemUrl&&f.id!==null&&f.id!==undefined){l.on('click',function(){"
        "window.location.href=itemUrl.replace('{id}',encodeURIComponent(String(f.id)));});}}"
        "}).addTo(map);"
        "var b=layer.getBounds();"
        "if(b.isValid()){map.fitBounds(b,{padding:[20,20],maxZoom:17});}"
        "else{map.setView([18.3,99.5],8);}"
        "window.gisMap=map;window.gisLayer=layer;window.gisMapReady=true;"
        "})();</script>"
    )


def _label(feature: Mapping[str, Any]) -> str:
    props = feature.get("properties") or {}
    names = [props.get(k) for k in ("name_th", "name_en", "code") if props.get(k)]
    return " · ".join(str(n) for n in names[:2]) or str(feature.get("id"))


# -- tables ----------------------------------------------------------------------------------
def link_list(links: Iterable[Mapping[str, Any]]) -> str:
    """The links of a document as a list (title, relation and media type)."""
    items = "".join(
        f"<li>{a(link['href'], link.get('title') or link['rel'])} "
        f"<small>({esc(link['rel'])}, {esc(link.get('type', ''))})</small></li>"
        for link in links
    )
    return f"<ul>{items}</ul>"


def features_table(layer: Layer, features: list[dict[str, Any]], root: str) -> str:
    """A page of features as a table: the id links to the feature's page, keys to what they
    point at; the geometry only as its type."""
    if not features:
        return "<p>ไม่มีข้อมูล · no features</p>"
    columns = [p for p in layer.properties if p != layer.key]
    head = "".join(f"<th>{esc(c)}</th>" for c in (layer.key, *columns))
    head += "<th>geometry</th>" if layer.spatial else ""
    rows = []
    for f in features:
        props = f.get("properties") or {}
        fid = f.get("id")
        href = f"{root}/collections/{layer.id}/items/{quote(str(fid), safe='')}?f=html"
        cells = [f"<td>{a(href, str(fid))}</td>"]
        cells += [property_cell(layer, c, props.get(c), root) for c in columns]
        if layer.spatial:
            cells.append(f"<td>{esc((f.get('geometry') or {}).get('type', '–'))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def feature_table(layer: Layer, feature: Mapping[str, Any], root: str) -> str:
    """One feature's properties, one row each."""
    props = {layer.key: feature.get("id"), **(feature.get("properties") or {})}
    rows = "".join(
        f"<tr><th>{esc(name)}</th>{property_cell(layer, name, value, root)}</tr>"
        for name, value in props.items()
    )
    geometry = feature.get("geometry")
    if geometry:
        rows += f"<tr><th>geometry</th><td>{esc(geometry.get('type'))}</td></tr>"
    return f"<table><tbody>{rows}</tbody></table>"
