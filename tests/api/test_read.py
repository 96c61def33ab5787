"""OGC API - Features reading: landing, conformance, collections, items, filters, CRS, paging."""

from __future__ import annotations

import re

import pytest

from gis_registry.catalog import CATALOG as COLLECTIONS
from tests.api.conftest import auth
from tests.api.world import EXTRA_ROADS

pytestmark = pytest.mark.db

ROADS = EXTRA_ROADS + 1
UTM = "http://www.opengis.net/def/crs/EPSG/0/32647"


def test_landing_page_links(client):
    doc = client.get("/").json()
    rels = {link["rel"]: link["href"] for link in doc["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert client.get(rels["service-desc"]).json()["openapi"].startswith("3.0")
    assert client.get(rels["conformance"]).status_code == 200


def test_html_views(client):
    for path in (
        "/",
        "/collections",
        "/collections/roads",
        "/collections/roads/items",
        "/collections/roads/items/1",
        "/conformance",
    ):
        r = client.get(path, headers={"Accept": "text/html"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
    assert "Test road" in client.get("/collections/roads/items?f=html&limit=5").text


def test_every_layer_is_a_collection(client):
    doc = client.get("/collections").json()
    assert [c["id"] for c in doc["collections"]] == list(COLLECTIONS)
    roads = client.get("/collections/roads").json()
    assert roads["title"] == "Roads" and roads["title_th"] == "ถนน"
    assert UTM in roads["crs"]
    assert any(link["rel"] == "items" for link in roads["links"])
    plans = client.get("/collections/zoning_plans").json()
    assert plans["extent"]["temporal"]["interval"] == [["2020-01-01", "2027-01-01"]]


def test_every_spatial_collection_declares_one_concrete_geometry_type(client):
    """QGIS types an OGC API layer by one geometry type (issue 15: water sources mixed three)."""
    for name, c in COLLECTIONS.items():
        if not c.spatial:
            continue
        assert c.geometry_type in ("POINT", "LINESTRING", "MULTIPOLYGON"), (name, c.geometry_type)
        declared = client.get(f"/collections/{name}/queryables").json()["properties"][c.geometry]
        assert declared["format"] == f"geometry-{c.geometry_type.lower()}", name
    gone = client.get("/collections/water_sources")
    assert gone.status_code == 404 and "water_points, water_areas and water_lines" in gone.text


def test_items_and_paging(client):
    first = client.get("/collections/roads/items?limit=25")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/geo+json"
    doc = first.json()
    assert doc["numberMatched"] == ROADS and doc["numberReturned"] == 25
    seen = [f["id"] for f in doc["features"]]
    while True:
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        if not nxt:
            break
        doc = client.get(nxt[0]).json()
        assert any(link["rel"] == "prev" for link in doc["links"])
        seen += [f["id"] for f in doc["features"]]
    assert len(seen) == len(set(seen)) == ROADS
    assert client.get("/collections/roads/items").json()["numberReturned"] == 10  # default


def test_feature_by_id(client):
    r = client.get("/collections/roads/items/1")
    assert r.status_code == 200 and r.headers["etag"].startswith('"')
    feature = r.json()
    assert feature["type"] == "Feature" and feature["id"] == 1
    assert feature["geometry"] == {
        "type": "LineString",
        "coordinates": [[99.45, 18.3], [99.51, 18.3]],
    }
    assert feature["properties"]["code"] == "ลป.ถ. 1-0001"
    assert {link["rel"] for link in feature["links"]} >= {"self", "collection"}
    assert client.get("/collections/districts/items/5201").json()["id"] == "5201"
    office = client.get("/collections/local_bodies/items/1").json()["properties"]["office"]
    assert office["type"] == "Point"


def test_bbox_and_property_filters(client):
    doc = client.get("/collections/roads/items?bbox=99.40,18.20,99.50,18.25&limit=100").json()
    assert doc["features"] and doc["numberMatched"] == len(doc["features"])
    for f in doc["features"]:
        ys = [y for _x, y in f["geometry"]["coordinates"]]
        assert min(ys) <= 18.25
    both = client.get("/collections/roads/items?surface=laterite&owner_local_body_id=1&limit=100")
    props = [f["properties"] for f in both.json()["features"]]
    assert props and all(
        p["surface"] == "laterite" and p["owner_local_body_id"] == 1 for p in props
    )
    anyof = client.get("/collections/roads/items?surface=laterite&surface=earth&limit=100").json()
    assert {f["properties"]["surface"] for f in anyof["features"]} == {"laterite", "earth"}
    assert client.get("/collections/roads/items?oneway=false&limit=1").status_code == 200


def test_datetime_filter(client):
    def ids(query):
        r = client.get(f"/collections/inspections/items?{query}")
        assert r.status_code == 200, r.text
        return [f["properties"]["inspected_on"] for f in r.json()["features"]]

    assert ids("datetime=2025-01-01T00:00:00Z/..") == ["2025-03-15"]
    assert ids("datetime=../2024-12-31") == ["2024-06-01"]
    assert ids("datetime=2024-06-01") == ["2024-06-01"]
    works = client.get("/collections/maintenance_works/items?datetime=2026-01-15").json()
    assert works["numberReturned"] == 1
    r = client.get("/collections/roads/items?datetime=2024-01-01")
    assert r.status_code == 400


def test_output_in_utm(client):
    r = client.get(f"/collections/roads/items/1?crs={UTM}")
    assert r.headers["content-crs"] == f"<{UTM}>"
    x, y = r.json()["geometry"]["coordinates"][0]
    assert 500_000 < x < 600_000 and 2_000_000 < y < 2_100_000
    page = client.get(f"/collections/roads/items?crs={UTM}&limit=1").json()
    assert page["features"][0]["geometry"]["coordinates"][0][0] > 500_000
    latlon = client.get("/collections/roads/items/1?crs=http://www.opengis.net/def/crs/EPSG/0/4326")
    assert latlon.json()["geometry"]["coordinates"][0] == [18.3, 99.45]


def test_bbox_in_utm(client):
    lonlat = client.get("/collections/roads/items?bbox=99.40,18.20,99.50,18.25&limit=100").json()
    # the same box, roughly, in UTM 47N
    utm = client.get(
        f"/collections/roads/items?bbox=537000,2012400,547600,2018000&bbox-crs={UTM}&limit=100"
    ).json()
    assert utm["numberMatched"] > 0
    assert abs(utm["numberMatched"] - lonlat["numberMatched"]) <= 2


@pytest.mark.parametrize(
    "query",
    [
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "bbox=10,10,0,0",
        "bbox=0,0,1,nan",
        "bbox=0,0,1,1&bbox-crs=EPSG:9999",
        "crs=EPSG:9999",
        "limit=0",
        "limit=10000000",
        "limit=abc",
        "offset=-1",
        "datetime=yesterday",
        "unknown_property=1",
        "surface=laterite'--",  # not a surface: refused with the choices, never an empty page
        "lanes=two",
        "lanes=99999999999999",
        "id=1;DROP TABLE roads",
        "f=xml",
        "at=soon",
    ],
)
def test_bad_parameters_are_400_problems(client, query):
    r = client.get(f"/collections/roads/items?{query}")
    assert r.status_code == 400, (query, r.text)
    if query.startswith("surface="):
        assert "is not one of asphalt, concrete, laterite" in r.json()["detail"]
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 400 and body["code"] and body["detail"]


def test_not_found_problems(client):
    for path in (
        "/collections/nope",
        "/collections/nope/items",
        "/collections/roads/items/999999",
        "/collections/districts/items/nope",
        "/nowhere",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "NotFound"
    assert client.get("/collections/roads/items/abc").status_code == 400


def test_queryables(client):
    doc = client.get("/collections/roads/queryables").json()
    assert doc["properties"]["surface"]["type"] == "string"
    assert doc["properties"]["lanes"]["type"] == "integer"


def test_numbermatched_left_out_above_the_count_limit(api_url):
    from tests.api.conftest import make_client

    with make_client(api_url, count_limit=15) as small:
        doc = small.get("/collections/roads/items?limit=5").json()
        assert "numberMatched" not in doc
        assert any(link["rel"] == "next" for link in doc["links"])
        filtered = small.get("/collections/roads/items?surface=earth&limit=5").json()
        assert filtered["numberMatched"] == 12


def test_filtered_pages_are_the_same_below_and_above_the_count_limit(client, api_url):
    """The page statement takes its page from the counted matches, or (above the cap) from a
    scan in key order: both give the same features in the same order."""
    from tests.api.conftest import make_client

    query = "/collections/roads/items?bbox=99.0,17.5,100.2,19.2&limit=4&offset={}"
    with make_client(api_url, count_limit=5) as small:
        for offset in (0, 3, 8, 10_000):
            full = client.get(query.format(offset)).json()
            capped = small.get(query.format(offset)).json()
            assert full["numberMatched"] > 5 and "numberMatched" not in capped
            ids = [f["id"] for f in full["features"]]
            assert ids == [f["id"] for f in capped["features"]]
            assert ids == sorted(ids)


@pytest.mark.parametrize(
    "query",
    [
        "/collections/roads/items?limit=7&offset=3",
        "/collections/roads/items?bbox=99.40,18.20,99.50,18.25&surface=laterite",
        f"/collections/roads/items?crs={UTM}&limit=2",
        "/collections/inspections/items?datetime=2025-01-01/..",
        "/collections/roads/items/1",
        "/collections/districts/items/5201",
        "/collections/roads/items?limit=0",
        "/collections/roads/items/999999",
    ],
)
def test_fast_path_answers_as_the_routes_do(client, keys, query, monkeypatch):
    """Public reads go through api.fastpath; with credentials the FastAPI route answers. Spies
    on the functions each one calls prove who answered (an equal answer alone would also come
    from the route twice, with the fast path switched off)."""
    from api import fastpath
    from api.routers import items

    served: dict[str, int] = {"fast": 0, "route": 0}

    def spy(module, name, who):
        real = getattr(module, name)

        async def wrapper(*args, **kwargs):
            answer = await real(*args, **kwargs)  # an error raised is not an answer served
            served[who] += 1
            return answer

        monkeypatch.setattr(module, name, wrapper)

    # the fast path holds its own references to the routes' functions: each side is spied alone
    spy(fastpath, "serve_items", "fast")
    spy(fastpath, "feature_answer", "fast")
    spy(items, "serve_items", "route")
    spy(items, "feature_answer", "route")

    fast = client.get(query)
    by_fast_path = dict(served)
    routed = client.get(query, headers=auth(keys["viewer"]))
    routed_served = served["route"] - by_fast_path["route"]
    if fast.status_code == 200:
        assert by_fast_path == {"fast": 1, "route": 0}, query
        assert routed_served == 1 and served["fast"] == 1, query
    else:  # errors: the fast path steps aside and the route's one error handler answers
        assert by_fast_path["fast"] == 0 and served["fast"] == 0, query
        assert fast.headers["content-type"] == "application/problem+json"
    assert fast.status_code == routed.status_code
    assert fast.headers["content-type"] == routed.headers["content-type"]
    strip = re.compile(rb'"(timeStamp|request_id)":"[^"]*"')  # each request has its own
    assert strip.sub(b"", fast.content) == strip.sub(b"", routed.content)
    assert fast.headers.get("etag") == routed.headers.get("etag")


@pytest.mark.parametrize(
    "path",
    [
        "/collections/roads/items?limit=200",  # fast path
        "/collections/roads/items?limit=200&f=html",  # route
        "/collections/districts/items/5201",  # one feature, fast path (threshold lowered)
    ],
)
def test_big_answers_are_gzipped_for_clients_that_ask(client, path, monkeypatch):
    import zlib

    from api import compression, fastpath

    if "/items/" in path:  # the test world's features are small: make this one "big"
        monkeypatch.setattr(compression, "MINIMUM_SIZE", 200)
        monkeypatch.setattr(fastpath, "MINIMUM_SIZE", 200)
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as r:
        packed = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in r.headers.get("vary", "").lower()
        assert r.headers.get("etag") == plain.headers.get("etag")
    assert "content-encoding" not in plain.headers
    assert len(packed) < len(plain.content)
    assert zlib.decompress(packed, 16 + zlib.MAX_WBITS) == plain.content


def test_small_answers_go_as_they_are(client):
    r = client.get("/collections/roads/items/1", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and "content-encoding" not in r.headers
