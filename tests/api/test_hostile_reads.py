"""Hostile reads (issue 17, problem 7): query strings built to break the service get a 400
problem naming the parameter, never a 500."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.db

UTM = "http://www.opengis.net/def/crs/EPSG/0/32647"
MERCATOR = "http://www.opengis.net/def/crs/EPSG/0/3857"
EQUAL = {"op": "=", "args": [{"property": "surface"}, "x"]}


def refused(r, parameter: str) -> dict:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    # the request's own checks (FastAPI's) name the parameter in the detail
    assert problem.get("parameter") == parameter or parameter in problem["detail"], problem
    return problem


def items(client, **params):
    return client.get("/collections/roads/items", params=params)


# -- CQL2: depth and size over the whole expression ------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "NOT " * 900 + "surface = 'x'",  # 900 chained NOTs
        # an expression as deep as it is long where a geometry is expected (was a
        # RecursionError while the error message was written: a 500)
        "S_INTERSECTS(geom, " + "+".join(["1"] * 1500) + ")",
        "S_INTERSECTS(" + "+".join(["1"] * 1500) + ", geom)",
        # many terms, none nested: within the length, beyond the size
        " OR ".join(["lanes=1"] * 360),
    ],
    ids=["nots", "deep-sum-geometry", "deep-sum-first", "many-terms"],
)
def test_deep_or_large_cql2_text_is_400(client, text):
    assert len(text) <= 4000  # within the length limit: the depth and size limits answer
    problem = refused(items(client, filter=text), "filter")
    assert "limit" in problem["detail"], problem


@pytest.mark.parametrize(
    "document",
    [
        # chained NOTs, as deep as the length allows
        '{"op":"not","args":[' * 170 + json.dumps(EQUAL) + "]}" * 170,
        # a flat AND of 700 terms that pygeofilter builds as a tree 700 deep, as a geometry
        json.dumps(
            {"op": "s_intersects", "args": [{"property": "geom"}, {"op": "and", "args": [1] * 700}]}
        ).replace(" ", ""),
        json.dumps({"op": "or", "args": [True] * 700}).replace(" ", ""),
    ],
    ids=["nots", "deep-and-geometry", "many-terms"],
)
def test_deep_or_large_cql2_json_is_400(client, document):
    assert len(document) <= 4000
    r = items(client, filter=document, **{"filter-lang": "cql2-json"})
    problem = refused(r, "filter")
    assert "limit" in problem["detail"], problem


def test_cql2_within_the_limits_still_works(client):
    # 40 levels of parentheses and 200 terms: inside the limits, answered
    nested = "(" * 40 + "lanes >= 1" + ")" * 40
    assert items(client, filter=nested).status_code == 200
    wide = " OR ".join(["lanes = 1"] * 100)
    r = items(client, filter=wide)
    assert r.status_code == 200, r.text


# -- bbox in a projected CRS: inside the CRS's area of use -----------------------------------
@pytest.mark.parametrize(
    ("bbox", "crs"),
    [
        ("99000000,0,99500000,1", UTM),  # PostGIS: 'Point outside of projection domain'
        ("-10000000,-10000000,10000000,10000000", UTM),  # wraps the globe: nonsense box
        ("500000,10000000,600000,20000000", UTM),  # beyond the pole
        ("0,0,1e300,1e300", UTM),
        ("0,-1e9,1,1e9", MERCATOR),
        ("nan,0,1,1", UTM),
        ("0,0,inf,1", UTM),
    ],
)
def test_bbox_outside_the_crs_area_is_400(client, bbox, crs):
    problem = refused(items(client, bbox=bbox, **{"bbox-crs": crs}), "bbox")
    assert "area" in problem["detail"] or "finite" in problem["detail"], problem


def test_bbox_in_utm_inside_the_area_works(client):
    # Lampang in UTM 47N, and the zone's whole extent: both answered
    r = items(client, bbox="500000,1900000,700000,2200000", **{"bbox-crs": UTM})
    assert r.status_code == 200 and r.json()["features"], r.text
    whole = items(client, bbox="166000,0,834000,9300000", **{"bbox-crs": UTM})
    assert whole.status_code == 200, whole.text


# -- other parameters at their extremes ------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"datetime": "0001-01-01T00:00:00+14:00"}, "datetime"),
        ({"datetime": "9999-12-31T23:59:59-14:00/.."}, "datetime"),
        ({"limit": "99999999999999999999"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"offset": "99999999999999999999"}, "offset"),
        ({"sortby": "geom"}, "sortby"),
        ({"properties": "x" * 300}, "properties"),
        ({"lanes": "99999999999"}, "lanes"),
        ({"surface": "a\x00b"}, "surface"),
        ({"at": "0001-01-01T00:00:00+14:00"}, "at"),
        ({"filter": "S_INTERSECTS(geom, BBOX(1e308, 0, 1e309, 1))"}, "filter"),
        ({"filter": "lanes = 1e400"}, "filter"),
    ],
)
def test_extreme_parameters_are_400(client, params, parameter):
    r = items(client, **params)
    if r.status_code == 200:  # a value the service can answer (an empty page) is fine too
        return
    refused(r, parameter)


# -- a scan: hostile strings on the read routes are never a 500 ------------------------------
HOSTILE = [
    "",
    "\x00",
    "'",
    "%",
    "1e400",
    "-1e400",
    "nan",
    "99999999999999999999",
    "-99999999999999999999",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "a" * 190,
    "(" * 60,
    "ก" * 50,
]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_values_are_never_a_server_error(client, value):
    paths = [
        ("/collections/roads/items", p)
        for p in ("bbox", "bbox-crs", "crs", "datetime", "at", "filter", "limit", "offset")
    ]
    paths += [
        ("/collections/roads/items", "lanes"),
        ("/collections/inspections/items", "inspected_on"),
        ("/collections/roads/items", "surface"),
    ]
    for path, parameter in paths:
        r = client.get(path, params={parameter: value})
        assert r.status_code < 500, (path, parameter, value, r.text)
    segment = quote(value, safe="")
    for path in (
        f"/collections/roads/items/{segment}",
        f"/collections/roads/items/{segment}/history",
        f"/collections/{segment}/items",
    ):
        r = client.get(path)
        assert r.status_code < 500, (path, r.text)
