"""Served styles: ``/collections/{id}/styles`` (OGC API - Styles-like), SLD and QML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text

from gis_registry.catalog import CATALOG
from gis_registry.db import make_engine
from gis_registry.styles.qml import rgba

pytestmark = pytest.mark.db

STYLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/styles"
SLD = "{http://www.opengis.net/sld}"


def test_spatial_collections_link_their_styles(client):
    for layer in CATALOG.values():
        doc = client.get(f"/collections/{layer.id}").json()
        links = [x for x in doc["links"] if x["rel"] == STYLES_REL]
        if not layer.spatial:
            assert not links, layer.id
            continue
        assert len(links) == 1 and links[0]["href"].endswith(f"/collections/{layer.id}/styles")
        listing = client.get(links[0]["href"])
        assert listing.status_code == 200
        styles = listing.json()
        assert styles["default"] == "default"
        hrefs = {x["type"]: x["href"] for x in styles["styles"][0]["links"]}
        assert set(hrefs) == {"application/vnd.ogc.sld+xml", "application/vnd.qgis.qml"}
        for media_type, href in hrefs.items():
            r = client.get(href)
            assert r.status_code == 200, (href, r.text)
            assert r.headers["content-type"].startswith(media_type)
            ET.fromstring(r.content)  # well-formed


def test_zoning_style_carries_the_palette_in_both_encodings(client, api_url):
    engine = make_engine(url=api_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT key, name_th, fill FROM zoning_categories ORDER BY sort_order")
            ).all()
    finally:
        engine.dispose()
    sld = client.get("/collections/zoning_zones/styles/default?f=sld")
    assert sld.headers["content-type"] == "application/vnd.ogc.sld+xml; charset=utf-8"
    root = ET.fromstring(sld.content)
    fills = {
        r.findtext(f"{SLD}Name"): [
            p.text for p in r.iter(f"{SLD}CssParameter") if p.get("name") == "fill"
        ]
        for r in root.iter(f"{SLD}Rule")
    }
    qml = client.get("/collections/zoning_zones/styles/default?f=qml").content.decode("utf-8")
    for key, name_th, fill in rows:
        assert fills[key][0] == fill
        assert name_th in sld.content.decode("utf-8") and name_th in qml
        assert rgba(fill, 0.75) in qml or rgba(fill, 0.9) in qml


def test_style_by_accept_header(client):
    path = "/collections/roads/styles/default"
    qml = client.get(path, headers={"Accept": "application/vnd.qgis.qml"})
    assert qml.headers["content-type"].startswith("application/vnd.qgis.qml")
    assert qml.content.startswith(b"<!DOCTYPE qgis")
    sld = client.get(path, headers={"Accept": "application/vnd.ogc.sld+xml"})
    assert sld.headers["content-type"].startswith("application/vnd.ogc.sld+xml")
    assert client.get(path).headers["content-type"].startswith("application/vnd.ogc.sld+xml")
    assert client.get(path, headers={"Accept": "image/png"}).status_code == 406


def test_no_style_is_a_404_naming_what_exists(client):
    r = client.get("/collections/inspections/styles")
    assert r.status_code == 404
    assert "no geometry" in r.json()["detail"] and "zoning_zones" in r.json()["detail"]
    r = client.get("/collections/roads/styles/fancy?f=qml")
    assert r.status_code == 404 and "styles: default" in r.json()["detail"]
    assert client.get("/collections/nowhere/styles").status_code == 404
    assert client.get("/collections/roads/styles/default?f=png").status_code == 400
