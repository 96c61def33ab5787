"""A big line or polygon layer drawn from the API's vector tiles (Leaflet.VectorGrid) instead of
embedding its GeoJSON: the page carries only a style class per feature id, and a popup fetches
its details from the API when clicked. Used when a map is served by the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template

# folium-style CDN link; gis_registry.maps.offline swaps it for the local npm copy
VECTORGRID_CDN = (
    "https://cdn.jsdelivr.net/npm/leaflet.vectorgrid@1.3.0/dist/Leaflet.VectorGrid.bundled.min.js"
)


class VectorTileLayer(JSCSSMixin, Layer):
    """Mapbox vector tiles of one layer, styled per feature id.

    Parameters
    ----------
    url : tile URL template (``.../{z}/{x}/{y}.mvt``)
    layer : the layer name inside the tiles
    styles : Leaflet path styles; ``classes`` maps a feature id to an index into them
    classes : feature id -> style index
    property, values : else the style index of the feature's ``property`` value
    default : style index of the other features
    fields : (tile property, label) pairs shown at the top of the popup
    details_url : URL template with ``{id}`` returning JSON ``{"rows": [[label, html], ...]}``
        fetched when a feature is clicked (None: no fetch)
    name : the name in the layer control
    """

    default_js = [("leaflet_vectorgrid", VECTORGRID_CDN)]
    _template = Template(
        """{% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            const styles = {{ this.styles|tojson }};
            const classes = {{ this.classes|tojson }};
            const prop = {{ this.property|tojson }};
            const values = {{ this.values|tojson }};
            const fields = {{ this.fields|tojson }};
            const detailsUrl = {{ this.details_url|tojson }};
            const layer = L.vectorGrid.protobuf({{ this.url|tojson }}, {
                rendererFactory: L.svg.tile,
                interactive: true,
                maxNativeZoom: 16,
                attribution: "",
                // the MVT feature id is not a property: keep it with the properties, which
                // the style function and the clicked path both see
                getFeatureId: function (f) { f.properties.__id = f.id; return f.id; },
                vectorTileLayerStyles: {
                    {{ this.layer|tojson }}: function (p) {
                        let k = classes[p.__id];
                        if (k === undefined && prop) k = values[p[prop]];
                        return styles[k === undefined ? {{ this.default }} : k];
                    }
                }
            });
            const esc = s => String(s ?? "–").replace(/[&<>"]/g,
                c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]);
            layer.on("click", function (e) {
                const p = e.layer.properties || {};
                let rows = fields.map(f => "<tr><th>" + esc(f[1]) + "</th><td>" + esc(p[f[0]])
                                           + "</td></tr>").join("");
                const popup = L.popup({maxWidth: 420}).setLatLng(e.latlng)
                    .setContent('<table class="gis-popup">' + rows + "</table>")
                    .openOn({{ this._parent.get_name() }});
                if (detailsUrl && p.__id !== undefined) {
                    fetch(detailsUrl.replace("{id}", p.__id))
                        .then(r => r.ok ? r.json() : {rows: []})
                        .then(d => {
                            rows += d.rows.map(r => "<tr><th>" + esc(r[0]) + "</th><td>" + r[1]
                                                    + "</td></tr>").join("");
                            popup.setContent('<table class="gis-popup">' + rows + "</table>");
                        });
                }
            });
            return layer;
        })();
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(
        self,
        url: str,
        layer: str,
        *,
        styles: Sequence[dict[str, Any]],
        classes: dict[int, int] | None = None,
        property: str | None = None,
        values: dict[str, int] | None = None,
        default: int = 0,
        fields: Sequence[tuple[str, str]] = (),
        details_url: str | None = None,
        name: str | None = None,
    ):
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "VectorTileLayer"
        self.url = url
        self.layer = layer
        self.styles = list(styles)
        self.classes = {str(k): v for k, v in (classes or {}).items()}
        self.property = property
        self.values = dict(values or {})
        self.default = int(default)
        self.fields = [list(f) for f in fields]
        self.details_url = details_url
