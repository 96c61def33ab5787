"""Offline rendering of folium pages: every library from the local npm copies (no database)."""

from __future__ import annotations

import html as html_lib
import re

import folium
import pytest

from gis_registry.errors import NotFound
from gis_registry.maps.offline import (
    ASSETS,
    AssetMode,
    ExternalResource,
    asset_files,
    check_offline,
    read_asset,
    render_html,
    save_map,
)

# a tag that would load from another host (hyperlinks such as Leaflet's attribution are fine)
EXTERNAL = re.compile(
    r"""<(script|link|img|iframe|source)\b[^>]*\b(src|href)\s*=\s*["']?(https?:)?//""",
    re.IGNORECASE,
)


def plain_map() -> folium.Map:
    m = folium.Map(location=[18.3, 99.5], zoom_start=9, tiles=None)
    folium.GeoJson({"type": "FeatureCollection", "features": []}, name="empty").add_to(m)
    folium.LayerControl().add_to(m)
    return m


def icon_map() -> folium.Map:
    m = plain_map()
    folium.Marker([18.3, 99.5], icon=folium.Icon(icon="bridge", prefix="fa")).add_to(m)
    return m


def test_folium_default_page_is_not_offline():
    page, _ = render_html(plain_map(), mode="cdn")
    with pytest.raises(ExternalResource):
        check_offline(page)


@pytest.mark.parametrize("mode", ["files", "url", "inline"])
def test_every_library_is_local(mode):
    page, used = render_html(icon_map(), mode=mode, base_url="/maps/assets/")
    assert not EXTERNAL.search(page)
    assert "cdn.jsdelivr" not in page and "cdnjs" not in page and "code.jquery" not in page
    # icons need all of folium's libraries (VectorGrid is ours, only for vector tile layers)
    assert {a.key for a in used} == {a.key for a in ASSETS} - {"vectorgrid.js"}
    if mode == "inline":
        assert "<script src=" not in page and 'rel="stylesheet"' not in page
        assert "data:font/woff2;base64," in page  # Font Awesome glyphs inlined
        assert "sourceMappingURL" not in page
    else:
        assert '<script src="/maps/assets/leaflet/dist/leaflet.js"></script>' in page


def test_pruned_without_icon_markers():
    page, used = render_html(plain_map(), mode="inline")
    assert [a.key for a in used] == ["leaflet.js", "leaflet.css"]
    assert "jQuery" not in page and "Font Awesome" not in page
    assert len(page) < 250_000


def test_unknown_external_library_is_refused():
    m = plain_map()
    m.get_root().header.add_child(folium.JavascriptLink("https://example.org/x.js"))
    with pytest.raises(ExternalResource, match="example.org"):
        render_html(m, mode="inline")


def test_save_files_copies_what_the_page_references(tmp_path):
    path = save_map(icon_map(), tmp_path / "m.html", mode=AssetMode.FILES)
    page = path.read_text(encoding="utf-8")
    refs = re.findall(r'(?:src|href)="(m_files/[^"]+)"', page)
    assert refs and all((tmp_path / r).is_file() for r in refs)
    # CSS images and fonts resolve beside their sheets
    assert (tmp_path / "m_files/leaflet/dist/images/layers.png").is_file()
    assert (
        tmp_path / "m_files/@fortawesome/fontawesome-free/webfonts/fa-solid-900.woff2"
    ).is_file()


def test_asset_allow_list():
    files = asset_files()
    assert "leaflet/dist/leaflet.js" in files
    assert "leaflet/dist/images/layers.png" in files
    data, media_type = read_asset("leaflet/dist/leaflet.css")
    assert media_type == "text/css" and b".leaflet-container" in data
    for bad in ("../package.json", "leaflet/package.json", "/etc/passwd", "leaflet/src/Leaflet.js"):
        with pytest.raises(NotFound):
            read_asset(bad)


def test_offline_view_for_notebooks():
    from gis_registry.maps import offline_view

    html = offline_view(plain_map(), height=400)._repr_html_()
    assert html.startswith("<iframe srcdoc=") and "height:400px" in html
    assert "cdn.jsdelivr" not in html


def test_registry_maps_display_offline_in_a_notebook():
    """Jupyter shows a map through ``_repr_html_``: the registry's maps inline every library
    there, where folium's own output loads Leaflet from a CDN."""
    from gis_registry.maps.base import new_map

    m = new_map((99.0, 17.5, 100.0, 19.5), title_th="ทดสอบ", title_en="Test")
    shown = m._repr_html_()
    assert shown.startswith("<iframe srcdoc=")
    page = html_lib.unescape(shown.split('srcdoc="', 1)[1].split('"', 1)[0])
    check_offline(page)
    assert "L.map(" in page and "ทดสอบ" in page
    assert "cdn.jsdelivr" in plain_map()._repr_html_()  # what it replaces


def test_each_library_is_inlined_once():
    """A second link to a library already on the page (another plugin asking for Leaflet) adds
    nothing: an inlined copy would weigh twice."""
    m = plain_map()
    m.get_root().header.add_child(
        folium.JavascriptLink("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"),
        name="leaflet_again",
    )
    page, used = render_html(m, mode="inline")
    assert [a.key for a in used] == ["leaflet.js", "leaflet.css"]
    assert page.count("Leaflet 1.9.4") == 1  # the banner at the top of leaflet.js


def test_save_map_is_self_contained_by_default(tmp_path):
    path = save_map(plain_map(), tmp_path / "m.html")
    assert [p.name for p in tmp_path.iterdir()] == ["m.html"]
    page = path.read_text(encoding="utf-8")
    assert "<script src=" not in page and 'rel="stylesheet"' not in page
    shared = save_map(plain_map(), tmp_path / "a" / "m.html", shared_assets=tmp_path / "lib")
    assert '<script src="../lib/leaflet/dist/leaflet.js"></script>' in shared.read_text("utf-8")
    assert (tmp_path / "lib" / "leaflet" / "dist" / "images" / "layers.png").is_file()
