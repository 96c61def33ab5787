"""What every map shares: the empty map (no basemap unless configured), Thai fonts, the legend
box, SVG hatch patterns, geometry simplified to the map's scale, bilingual popups.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template
from sqlalchemy import Connection, RowMapping, text

from gis_registry.fiscal import format_thai_date
from gis_registry.geodesy import metric_srid
from gis_registry.maps.settings import MapSettings
from gis_registry.styles import palette

THAI_FONTS = "'Noto Sans Thai', 'TH Sarabun New', 'Loma', 'Garuda', 'Sarabun', sans-serif"
MAP_WIDTH_PX = 1000  # the width a map is simplified for (a laptop screen in a meeting room)
DETAIL_ZOOM_STEPS = 3  # keep detail for zooming in this many levels past the whole extent
METRES_PER_PIXEL_Z0 = 156_543.03 * math.cos(math.radians(18.3))  # at Lampang's latitude

# Fractional zoom steps for the initial fit: with whole levels a province fitted into a
# window keeps up to half of each side empty (Lampang, tall and narrow, opened at zoom 8 in a
# 600 px notebook frame, filling ~15% of it); a tenth of a level wastes at most 7%.
ZOOM_SNAP = 0.1
# Below this zoom dense point layers shrink (see ZoomScaled); at it and above they are drawn
# at full size (about a district filling the window).
FULL_SIZE_ZOOM = 12
Bounds = tuple[float, float, float, float]  # minx, miny, maxx, maxy (lon/lat)
# Line width (px) of a road by its class: the palette's (maps, QML/SLD, QGIS projects).
ROAD_WIDTH_PX = palette.ROAD_WIDTH_PX

_PAGE_CSS = """
<link rel="icon" href="data:,">
<style>
  html, body, .leaflet-container, .leaflet-popup-content, .leaflet-control-layers,
  .gis-legend { font-family: FONTS; }
  .leaflet-container { background: #ffffff !important; }
  .gis-title { position: absolute; top: 10px; left: 56px; z-index: 1000;
    background: rgba(255,255,255,.92); padding: 4px 10px; border-radius: 4px;
    box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 15px; }
  .gis-title small { display: block; color: #555; font-size: 12px; }
  .gis-legend { position: absolute; bottom: 18px; right: 10px; z-index: 1000; max-height: 60%;
    overflow-y: auto; background: rgba(255,255,255,.95); padding: 6px 10px; border-radius: 4px;
    box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 12px; line-height: 1.35; }
  .gis-legend h4 { margin: 2px 0 4px; font-size: 13px; }
  .gis-legend table { border-collapse: collapse; }
  .gis-legend td { padding: 1px 4px; vertical-align: middle; }
  .gis-legend .sw { display: inline-block; width: 22px; height: 14px; border: 2px solid #333; }
  .gis-legend .ln { display: inline-block; width: 24px; height: 0; border-top: 4px solid #333;
    vertical-align: middle; }
  .gis-legend .pt { display: inline-block; width: 12px; height: 12px; border-radius: 50%;
    border: 1px solid #333; }
  .gis-legend .code { font-weight: bold; white-space: nowrap; }
  .gis-legend .gis-notes { margin: 4px 0 0; padding-left: 16px; max-width: 320px; }
  .gis-popup th { text-align: left; padding-right: 8px; color: #444; font-weight: 600;
    vertical-align: top; white-space: nowrap; }
  .gis-popup td { vertical-align: top; }
  .gis-label { background: transparent; border: 0; box-shadow: none; font-weight: bold;
    color: #222; text-shadow: 0 0 3px #fff, 0 0 3px #fff; }
</style>
""".replace("FONTS", THAI_FONTS)


class MapHandle(MacroElement):
    """Fits the map to its bounds without animation (a screenshot or a printout never catches
    it half-zoomed), exposes it as ``window.gisMap`` and sets ``window.gisMapReady``.

    The fit leaves room for the title above and for the legend on the right when the window
    is wide enough to spare it (the data then sits beside the legend, not under it), and
    zooms in fractional steps (:data:`ZOOM_SNAP`) so the data fills the window.

    A map drawn while its frame has no size (a notebook output scrolled out of view, a hidden
    tab) cannot be fitted: Leaflet's ``fitBounds`` on a 0 x 0 container throws, and the page
    stays blank. Such a map waits for its container to get a size, then fits.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map) {
            window.gisMap = map;
            {%- if this.bounds %}
            window.gisMapBounds = L.latLngBounds({{ this.bounds }});  // what the view fits
            {%- endif %}
            function fit() {
                {%- if this.bounds %}
                var legend = document.getElementById('gis-legend');
                var right = legend ? legend.offsetWidth + 20 : 20;
                if (right > box.clientWidth * 0.35) { right = 20; }
                window.gisMapPadding = [20, 60, right, 20];  // left, top, right, bottom
                map.fitBounds({{ this.bounds }}, {animate: false,
                    paddingTopLeft: [20, 60], paddingBottomRight: [right, 20]});
                {%- endif %}
                window.gisMapReady = true;
            }
            var box = map.getContainer();
            if (box.clientWidth > 0 && box.clientHeight > 0) { fit(); return; }
            var watch = new ResizeObserver(function () {
                if (box.clientWidth > 0 && box.clientHeight > 0) {
                    watch.disconnect();
                    map.invalidateSize({animate: false});
                    fit();
                }
            });
            watch.observe(box);
        })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self, bounds: Bounds | None = None):
        super().__init__()
        self._name = "MapHandle"
        self.bounds = (
            json.dumps([[bounds[1], bounds[0]], [bounds[3], bounds[2]]]) if bounds else None
        )


class HatchPatterns(MacroElement):
    """SVG ``<pattern>`` definitions; a path whose ``fillColor`` is ``url(#id)`` is hatched.

    Leaflet's SVG renderer writes ``fillColor`` into the ``fill`` attribute, and ``url(#id)``
    resolves anywhere in the HTML document, so one hidden (zero-size, not display:none, which
    would disable the patterns) ``<svg>`` serves every layer.
    """

    _template = Template(
        """{% macro html(this, kwargs) %}
<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>
{%- for p in this.patterns %}
<pattern id="{{ p.id }}" patternUnits="userSpaceOnUse" width="{{ p.spacing }}"
 height="{{ p.spacing }}" patternTransform="rotate(45)">
<rect width="{{ p.spacing }}" height="{{ p.spacing }}" fill="{{ p.background }}"/>
<line x1="0" y1="0" x2="0" y2="{{ p.spacing }}" stroke="{{ p.colour }}"
 stroke-width="{{ p.width }}"/></pattern>
{%- endfor %}
</defs></svg>
{% endmacro %}"""
    )

    def __init__(self, patterns: Sequence[dict[str, Any]]):
        super().__init__()
        self._name = "HatchPatterns"
        self.patterns = list(patterns)


class ZoomScaled(MacroElement):
    """Dense point and line layers drawn small when zoomed out, full size when zoomed in.

    At the province's zoom some 930 villages, a thousand water points or every road of the
    province drawn at full size cover the polygons beneath them (flood areas, reservoirs,
    zones). Below :data:`FULL_SIZE_ZOOM` each circle's radius and each line's width shrink by
    half every two zoom levels, down to ``least`` of their size, and grow back when zooming
    in. Clustering was the other way out, but a cluster's count bubble hides the very colour
    (exposed or not, covered or not, condition class) each point is drawn to show, and covers
    the polygons too.

    Parameters
    ----------
    layers : the folium layers (GeoJson) to scale
    full_zoom : the zoom from which they are drawn at full size
    least : the smallest fraction of their size they shrink to
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map, layers) {
            var f = 1;
            function scaled(style) {
                var s = Object.assign({}, style);
                if (s.weight !== undefined) { s.weight = Math.max(0.5, s.weight * f); }
                if (s.radius !== undefined) { s.radius = Math.max(1.5, s.radius * f); }
                return s;
            }
            // a highlighted feature is reset through the layer's style: scale it there too
            layers.forEach(function (layer) {
                var style = layer.options.style;
                layer.options.style = function (feature) {
                    return scaled(typeof style === 'function' ? style(feature) : style || {});
                };
            });
            function scale() {
                f = Math.min(1, Math.max({{ this.least }},
                    Math.pow(2, (map.getZoom() - {{ this.full_zoom }}) / 2)));
                layers.forEach(function (layer) {
                    layer.eachLayer(function (l) {
                        if (l.setRadius && l._fullRadius === undefined) {
                            l._fullRadius = l.getRadius();
                        }
                        layer.resetStyle(l);
                        if (l.setRadius) { l.setRadius(Math.max(1.5, l._fullRadius * f)); }
                    });
                });
            }
            map.on('zoomend', scale);
            scale();
        })({{ this._parent.get_name() }}, [{{ this.names }}]);
        {% endmacro %}"""
    )

    def __init__(
        self, layers: Sequence[Element], *, full_zoom: int = FULL_SIZE_ZOOM, least: float = 0.35
    ):
        super().__init__()
        self._name = "ZoomScaled"
        self.names = ", ".join(layer.get_name() for layer in layers)
        self.full_zoom = int(full_zoom)
        self.least = float(least)


class Legend(MacroElement):
    """A legend box (class ``gis-legend``, id ``gis-legend``) in the map's corner."""

    _template = Template(
        """{% macro html(this, kwargs) %}
<div class="gis-legend" id="gis-legend">{{ this.body }}</div>
{% endmacro %}"""
    )

    def __init__(self, body: str):
        super().__init__()
        self._name = "Legend"
        self.body = body


class Title(MacroElement):
    """The bilingual title box at the top of a map, with an optional subtitle."""

    _template = Template(
        """{% macro html(this, kwargs) %}
<div class="gis-title" id="gis-title">{{ this.body }}</div>
{% endmacro %}"""
    )

    def __init__(self, title_th: str, title_en: str, subtitle: str = ""):
        super().__init__()
        self._name = "Title"
        sub = f"<small>{html.escape(subtitle)}</small>" if subtitle else ""
        self.body = f"{html.escape(title_th)} · {html.escape(title_en)}{sub}"


@dataclass(frozen=True)
class LegendRow:
    """One row of a legend: the symbol's HTML, Thai and English labels, an optional code."""

    swatch: str  # HTML of the symbol
    label_th: str
    label_en: str
    code: str = ""


def legend_html(
    title_th: str, title_en: str, rows: Iterable[LegendRow], *, notes: Sequence[str] = ()
) -> str:
    """HTML of a legend box: the bilingual title above a table of rows, then ``notes``
    (sentences the analysis wrote, e.g. that a closure is not on the route) as a list."""
    lines = [f"<h4>{html.escape(title_th)} / {html.escape(title_en)}</h4><table>"]
    for row in rows:
        code = f'<td class="code">{html.escape(row.code)}</td>' if row.code else "<td></td>"
        lines.append(
            f"<tr><td>{row.swatch}</td>{code}<td>{html.escape(row.label_th)}"
            f"<br><span style='color:#555'>{html.escape(row.label_en)}</span></td></tr>"
        )
    lines.append("</table>")
    if notes:
        items = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
        lines.append(f'<ul class="gis-notes">{items}</ul>')
    return "".join(lines)


def swatch(fill: str, stroke: str, *, hatch: str | None = None) -> str:
    """A polygon swatch: fill, border colour and an optional hatch colour."""
    background = fill
    if hatch:
        background = f"repeating-linear-gradient(45deg, {hatch} 0 2px, {fill} 2px 6px)"
    return f'<span class="sw" style="background:{background};border-color:{stroke}"></span>'


def line_swatch(colour: str, width: float = 4, dash: bool = False, opacity: float = 1.0) -> str:
    """A line swatch of ``width`` px, dashed or solid, at ``opacity`` (as the map draws it)."""
    style = "dashed" if dash else "solid"
    fade = f";opacity:{opacity:g}" if opacity < 1 else ""
    return f'<span class="ln" style="border-top:{width}px {style} {colour}{fade}"></span>'


def point_swatch(colour: str, size: float = 12) -> str:
    """A round point swatch of ``size`` px."""
    px = f"{size:g}px"
    return f'<span class="pt" style="background:{colour};width:{px};height:{px}"></span>'


class RegistryMap(folium.Map):
    """A ``folium.Map`` that shows itself in a notebook with no network: Jupyter's display
    embeds the self-contained page (every library inlined, :mod:`gis_registry.maps.offline`)
    where folium's own ``_repr_html_`` would load Leaflet and friends from CDNs."""

    height_px = 600

    def _repr_html_(self, **kwargs: Any) -> str:
        from gis_registry.maps.offline import OfflineView

        return OfflineView(self, height=self.height_px)._repr_html_()


def new_map(
    bounds: Bounds | None,
    *,
    title_th: str,
    title_en: str,
    subtitle: str = "",
    tiles: str | None = None,
    attribution: str | None = None,
    settings: MapSettings | None = None,
) -> RegistryMap:
    """An empty map fitted to ``bounds``; a basemap only when one is given or configured
    (``GIS_REGISTRY_MAP_TILES_URL``): with none the page needs no network at all. In a
    notebook it displays offline (a :class:`RegistryMap`)."""
    settings = settings or MapSettings()
    tiles = tiles or settings.tiles_url
    m = RegistryMap(
        location=[18.3, 99.5] if bounds is None else _centre(bounds),
        zoom_start=9,
        zoom_snap=ZOOM_SNAP,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,  # SVG: hatch patterns need it
    )
    if tiles:
        folium.TileLayer(
            tiles=tiles,
            attr=attribution or settings.tiles_attribution or "basemap",
            name="basemap / แผนที่ฐาน",
            overlay=False,
        ).add_to(m)
    cast(Figure, m.get_root()).header.add_child(Element(_PAGE_CSS), name="gis_css")
    m.add_child(Title(title_th, title_en, subtitle))
    m.add_child(MapHandle(bounds))
    return m


def _centre(bounds: Bounds) -> list[float]:
    return [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2]


def tolerance_for(bounds: Bounds | None, *, width_px: int = MAP_WIDTH_PX) -> float:
    """Simplification tolerance in metres for a map showing ``bounds`` on ``width_px`` pixels,
    keeping detail for ``DETAIL_ZOOM_STEPS`` zoom levels in (half a pixel at that zoom)."""
    if bounds is None:
        return 5.0
    width_deg = max(bounds[2] - bounds[0], (bounds[3] - bounds[1]) * 1.05, 1e-4)
    zoom = math.floor(math.log2(width_px * 360 / (256 * width_deg)))
    metres_per_px = METRES_PER_PIXEL_Z0 / 2 ** (zoom + DETAIL_ZOOM_STEPS)
    return round(max(metres_per_px / 2, 0.5), 2)


def simplified_geojson_sql(column: str, tolerance_param: str = "tol", digits: int = 6) -> str:
    """SQL expression: ``column`` simplified by ``:tol`` metres in the province's UTM zone
    (``:metric_srid``), as GeoJSON text with ``digits`` decimals (6 decimals = 0.1 m; enough
    for any map). Bind both with :func:`simplify_params`."""
    return (
        f"ST_AsGeoJSON(ST_Transform(ST_SimplifyPreserveTopology("
        f"ST_Transform({column}, CAST(:metric_srid AS integer)), :{tolerance_param}), 4326), "
        f"{digits})"
    )


def simplify_params(conn: Connection, tolerance_m: float) -> dict[str, Any]:
    """The values :func:`simplified_geojson_sql` binds: the tolerance in metres (``tol``) and
    the registry's metric CRS (``metric_srid``: :func:`gis_registry.geodesy.metric_srid`)."""
    return {"tol": tolerance_m, "metric_srid": metric_srid(conn)}


def feature_collection(
    rows: Iterable[Mapping[str, Any] | RowMapping], *, geometry_key: str = "geometry"
) -> dict:
    """GeoJSON FeatureCollection from rows holding GeoJSON text under ``geometry_key``."""
    features = []
    for index, row in enumerate(rows):
        props = {k: _jsonable(v) for k, v in row.items() if k != geometry_key}
        geometry = row[geometry_key]
        features.append(
            {
                "type": "Feature",
                "id": props.pop("id", index),
                "properties": props,
                "geometry": json.loads(geometry) if isinstance(geometry, str) else geometry,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "__float__") and not isinstance(value, (int, float, bool)):
        return float(value)
    return value


def layer_bounds(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> Bounds | None:
    """Extent (lon/lat) of the geometries a query returns in a column named ``geom``."""
    row = conn.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            f"FROM (SELECT ST_Extent(geom) AS e FROM ({sql}) AS q) AS x"
        ),
        params or {},
    ).one()
    if row[0] is None:
        return None
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def popup_table(rows: Sequence[tuple[str, Any]]) -> str:
    """HTML of a two-column popup table; labels are bilingual 'ไทย / English'."""
    cells = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{value}</td></tr>" for label, value in rows
    )
    return f'<table class="gis-popup">{cells}</table>'


def esc(value: Any) -> str:
    """HTML-escaped text of a value ('–' for None or empty)."""
    return "–" if value is None or value == "" else html.escape(str(value))


def thai_date(day: date | None) -> str:
    """'1 ตุลาคม 2569 (2026-10-01)': BE for readers, ISO for the record."""
    if day is None:
        return "–"
    return f"{format_thai_date(day)} ({day.isoformat()})"


def area_text(area_m2: float | None) -> str:
    """Area in rai (1 rai = 1,600 m²), hectares and m²."""
    if area_m2 is None:
        return "–"
    return f"{area_m2 / 1600:,.1f} ไร่ · {area_m2 / 10_000:,.2f} ha"


def add_boundaries(
    m: folium.Map,
    conn: Connection,
    *,
    tolerance_m: float,
    bounds: Bounds | None,
    show_districts: bool = True,
    show_local_bodies: bool = True,
) -> None:
    """District (dark grey, thick) and LGO (grey, dashed) boundaries as outline layers with
    bilingual tooltips; the PAO's boundary (the whole province) is left out."""
    envelope = (
        "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)"
        if bounds is not None
        else "ST_MakeEnvelope(-180, -90, 180, 90, 4326)"
    )
    params: dict[str, Any] = simplify_params(conn, tolerance_m)
    if bounds is not None:
        params.update(minx=bounds[0], miny=bounds[1], maxx=bounds[2], maxy=bounds[3])
    if show_local_bodies:
        rows = conn.execute(
            text(
                "SELECT id, code, name_th, name_en, kind, "
                f"{simplified_geojson_sql('boundary')} AS geometry FROM local_bodies "
                f"WHERE kind <> 'pao' AND boundary && {envelope} ORDER BY id"
            ),
            params,
        ).mappings()
        data = feature_collection(rows)
        if data["features"]:
            folium.GeoJson(
                data,
                name="อปท. · Local government (LGO) boundaries",
                style_function=lambda _f: {
                    "color": palette.LOCAL_BODY_LINE,
                    "weight": palette.LOCAL_BODY_WIDTH_PX,
                    "dashArray": " ".join(f"{v:g}" for v in palette.LOCAL_BODY_DASH_PX),
                    "fill": False,
                },
                tooltip=folium.GeoJsonTooltip(["name_th", "name_en"], labels=False),
                smooth_factor=1.0,
            ).add_to(m)
    if show_districts:
        rows = conn.execute(
            text(
                "SELECT code AS id, code, name_th, name_en, "
                f"{simplified_geojson_sql('boundary')} AS geometry FROM districts "
                f"WHERE boundary IS NOT NULL AND boundary && {envelope} ORDER BY code"
            ),
            params,
        ).mappings()
        data = feature_collection(rows)
        if data["features"]:
            folium.GeoJson(
                data,
                name="อำเภอ · District boundaries",
                style_function=lambda _f: {
                    "color": palette.DISTRICT_LINE,
                    "weight": palette.DISTRICT_WIDTH_PX,
                    "fill": False,
                },
                tooltip=folium.GeoJsonTooltip(["code", "name_th", "name_en"], labels=False),
            ).add_to(m)


def finish(m: folium.Map, legend: str) -> folium.Map:
    """Add the legend and the layer control to a map and return it."""
    m.add_child(Legend(legend))
    folium.LayerControl(collapsed=False).add_to(m)
    return m
