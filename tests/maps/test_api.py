"""The maps router over HTTP (no browser): pages, assets, refusals."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gis_registry.maps.offline import check_offline

pytestmark = pytest.mark.db


@pytest.fixture()
def client(maps_engine):
    from api import errors
    from api.routers.maps import router

    app = FastAPI()
    # the slice of api.deps.ServiceState the maps router uses
    app.state.service = SimpleNamespace(
        engine=maps_engine, settings=SimpleNamespace(public_read=True)
    )
    errors.install(app)
    app.include_router(router)
    with TestClient(app) as c:
        yield c


def test_map_pages_reference_local_assets(client):
    for path in (
        "/maps/zoning",
        "/maps/condition",
        "/maps/hazard",
        "/maps/water?sites=1",
        "/maps/critical",
        "/maps/route?from=520199&to=521099&closed_bridge=1",
        "/maps/network",
        "/maps/network?tolerance_m=20",
    ):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        assert r.headers["content-type"].startswith("text/html")
        check_offline(r.text)
        assert '<script src="/maps/assets/leaflet/dist/leaflet.js">' in r.text
    inline = client.get("/maps/zoning?assets=inline&lgo=521099")
    assert inline.status_code == 200 and "/maps/assets/" not in inline.text
    assert "เทศบาลตำบลตะวันออก" in inline.text


def test_condition_map_uses_vector_tiles_when_served(client, maps_engine):
    page = client.get("/maps/condition").text
    assert "/tiles/roads/{z}/{x}/{y}.mvt" in page and "L.vectorGrid.protobuf" in page
    assert "/maps/assets/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js" in page
    embedded = client.get("/maps/condition?vector=false").text
    assert "L.vectorGrid" not in embedded and len(embedded) > len(page)
    for path in ("/maps/hazard", "/maps/critical", "/maps/route?from=520199&to=521099"):
        assert "/tiles/roads/{z}/{x}/{y}.mvt" in client.get(path).text, path
        assert (
            "L.vectorGrid"
            not in client.get(path + ("&" if "?" in path else "?") + "vector=false").text
        )
    assert "L.vectorGrid" not in client.get("/maps/hazard?assets=inline").text
    road = maps_engine.world_ids["road2"]
    rows = dict(client.get(f"/maps/condition/roads/{road}").json()["rows"])
    assert "IRI" in rows["สำรวจล่าสุด / Last inspection"]
    assert "บูรณะ / rehabilitation" in rows["งานที่วางแผน / Planned works"]
    assert client.get("/maps/condition/roads/999999").status_code == 404


def test_assets_are_served_from_the_allow_list(client):
    r = client.get("/maps/assets/leaflet/dist/leaflet.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "max-age" in r.headers["cache-control"]
    assert (
        client.get("/maps/assets/leaflet/dist/images/layers.png").headers["content-type"]
        == "image/png"
    )
    for bad in ("leaflet/package.json", "leaflet/src/Leaflet.js", "%2e%2e/package.json"):
        assert client.get(f"/maps/assets/{bad}").status_code == 404, bad
    # a client normalising '..' lands on /maps/package.json: not a map either
    assert client.get("/maps/assets/../package.json").status_code in (400, 404, 422)


def test_refusals(client):
    assert client.get("/maps/route?from=520199").status_code == 400
    assert client.get("/maps/nowhere").status_code in (400, 404, 422)
    assert client.get("/maps/zoning?plan=999").status_code == 404
    assert client.get("/maps/zoning?lgo=nobody").status_code == 404
    index = client.get("/maps")
    assert index.status_code == 200 and "/maps/zoning" in index.text
