"""CQL2-text filtering (Basic CQL2 and the spatial functions)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.db


def ids(client, collection: str, text: str, **extra) -> list:
    r = client.get(
        f"/collections/{collection}/items", params={"filter": text, "limit": 1000, **extra}
    )
    assert r.status_code == 200, r.text
    return [f["id"] for f in r.json()["features"]]


def props(client, collection: str, text: str) -> list[dict]:
    r = client.get(f"/collections/{collection}/items", params={"filter": text, "limit": 1000})
    assert r.status_code == 200, r.text
    return [f["properties"] for f in r.json()["features"]]


def test_comparisons_and_logic(client):
    laterite = props(client, "roads", "surface = 'laterite'")
    assert laterite and {p["surface"] for p in laterite} == {"laterite"}
    wide = props(client, "roads", "width_m >= 7 AND NOT (surface = 'earth' OR surface = 'asphalt')")
    assert wide and all(
        p["width_m"] >= 7 and p["surface"] not in ("earth", "asphalt") for p in wide
    )
    assert props(client, "roads", "owner_agency IS NULL")
    assert not props(client, "roads", "owner_agency IS NOT NULL")
    old = props(client, "roads", "year_built < 1995 and lanes = 2")
    assert old and all(p["year_built"] < 1995 for p in old)
    assert ids(client, "inspections", "inspected_on > DATE('2025-01-01')") == [2]
    assert ids(client, "inspections", "inspected_on <= '2024-12-31'") == [1]
    assert ids(client, "roads", "oneway = TRUE") == []
    assert len(ids(client, "roads", "\"surface\" <> 'earth'")) > 0


def test_filter_with_other_parameters(client):
    both = client.get(
        "/collections/roads/items",
        params={
            "filter": "surface='laterite'",
            "bbox": "99.40,18.20,99.50,18.25",
            "limit": 100,
        },
    ).json()
    assert both["numberMatched"] == len(both["features"]) > 0
    r = client.get(
        "/collections/roads/items", params={"filter": "lanes = 2", "filter-lang": "cql2-text"}
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    "text",
    [
        "",
        "surface =",
        "nope = 1",
        "surface = 'a' AND",
        "width_m > 'wide'",
        "surface = 'x'; DROP TABLE roads",
        "surface = 'x' -- comment",
        "lanes = 99999999999",
        "(((surface = 'x')",
        "inspected_on = DATE('yesterday')",
        "S_INTERSECTS(geom, POINT(999 2))",  # not longitude, latitude
        "S_INTERSECTS(surface, POINT(99.5 18.3))",  # not a geometry
        "S_INTERSECTS(geom POINT(99.5 18.3))",
        "S_INTERSECTS(geom, POINT(99.5 18.3)",
        "S_INTERSECTS(geom, POLYGON((99 18, 100 19, 100 18, 99 19, 99 18)))",  # bow tie
        "S_INTERSECTS(geom, POLYGON((99 18, 100 19)))",
        "S_INTERSECTS(geom, BBOX(100, 18, 99, 19))",
        "S_INTERSECTS(geom, BBOX(99, 18, 100))",
        "S_INTERSECTS(geom, POINT(99.5 'x'))",
        "S_WITHIN(geom, LINESTRING(99 18, 100 19); DROP TABLE roads)",
        "(" * 80 + "lanes = 2" + ")" * 80,
        "x" * 5000,
    ],
)
def test_bad_filters_are_400(client, text):
    r = client.get("/collections/roads/items", params={"filter": text})
    assert r.status_code == 400, (text, r.text)
    assert r.headers["content-type"] == "application/problem+json"


def test_filter_lang_must_match_the_filter(client):
    r = client.get(
        "/collections/roads/items", params={"filter": "lanes = 2", "filter-lang": "cql2-json"}
    )
    assert r.status_code == 400
    r = client.get("/collections/roads/items", params={"filter": "lanes = 2", "filter-lang": "sql"})
    assert r.status_code == 400 and r.json()["parameter"] == "filter-lang"
    assert "cql2-text, cql2-json" in r.json()["detail"]
    assert client.get("/collections/roads/items", params={"filter-lang": "ecql"}).status_code == 400


WKT = "POLYGON((99.40 18.20, 99.50 18.20, 99.50 18.25, 99.40 18.25, 99.40 18.20))"
POLYGON = {
    "type": "Polygon",
    "coordinates": [
        [[99.40, 18.20], [99.50, 18.20], [99.50, 18.25], [99.40, 18.25], [99.40, 18.20]]
    ],
}


@pytest.mark.parametrize(
    ("collection", "text", "as_json"),
    [
        (
            "roads",
            "surface = 'laterite'",
            {"op": "=", "args": [{"property": "surface"}, "laterite"]},
        ),
        (
            "roads",
            "width_m >= 7 AND NOT (surface = 'earth' OR surface = 'asphalt')",
            {
                "op": "and",
                "args": [
                    {"op": ">=", "args": [{"property": "width_m"}, 7]},
                    {
                        "op": "not",
                        "args": [
                            {
                                "op": "or",
                                "args": [
                                    {"op": "=", "args": [{"property": "surface"}, "earth"]},
                                    {"op": "=", "args": [{"property": "surface"}, "asphalt"]},
                                ],
                            }
                        ],
                    },
                ],
            },
        ),
        ("roads", "owner_agency IS NULL", {"op": "isNull", "args": [{"property": "owner_agency"}]}),
        (
            "inspections",
            "inspected_on > DATE('2025-01-01')",
            {"op": ">", "args": [{"property": "inspected_on"}, {"date": "2025-01-01"}]},
        ),
        (
            "roads",
            "S_INTERSECTS(geom, BBOX(99.40,18.20,99.50,18.25))",
            {
                "op": "s_intersects",
                "args": [{"property": "geom"}, {"bbox": [99.40, 18.20, 99.50, 18.25]}],
            },
        ),
        (
            "roads",
            f"S_WITHIN(geom, {WKT})",
            {"op": "s_within", "args": [{"property": "geom"}, POLYGON]},
        ),
    ],
)
def test_cql2_json_selects_what_cql2_text_does(client, collection, text, as_json):
    import json

    expected = ids(client, collection, text)
    assert expected
    got = ids(client, collection, json.dumps(as_json), **{"filter-lang": "cql2-json"})
    assert got == expected


@pytest.mark.parametrize(
    "document",
    [
        "",
        "lanes = 2",
        "[1, 2]",
        "{}",
        '{"op": "=", "args": []}',
        '{"op": "=", "args": [{"property": "nope"}, 1]}',
        '{"op": "=", "args": [{"property": "width_m"}, "wide"]}',
        '{"op": "like", "args": [{"property": "surface"}, "lat%"]}',
        '{"op": "s_intersects", "args": [{"property": "surface"}, {"bbox": [99, 18, 100, 19]}]}',
        '{"op": "s_intersects", "args": [{"property": "geom"}, {"bbox": [100, 18, 99, 19]}]}',
        '{"op": "s_intersects", "args": [{"property": "geom"}, '
        '{"type": "Point", "coordinates": [999, 2]}]}',
        '{"op": "=", "args": [{"property": "surface"}, "x\'; DROP TABLE roads; --"]}',
        '{"op": "not", "args": [' * 60
        + '{"op": "=", "args": [{"property": "lanes"}, 2]}'
        + "]}" * 60,
    ],
)
def test_bad_cql2_json_filters_are_400(client, document):
    r = client.get(
        "/collections/roads/items", params={"filter": document, "filter-lang": "cql2-json"}
    )
    if "DROP TABLE" in document:  # a value like any other: matches nothing, drops nothing
        assert r.status_code == 200 and r.json()["features"] == []
        assert client.get("/collections/roads/items?limit=1").json()["features"]
        return
    assert r.status_code == 400, (document, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "InvalidParameterValue" and r.json()["parameter"] == "filter"


def test_spatial_functions_agree_with_postgis_and_bbox(client, api_url):
    import psycopg

    box = "99.40,18.20,99.50,18.25"
    by_bbox = client.get("/collections/roads/items", params={"bbox": box, "limit": 1000}).json()[
        "features"
    ]
    expected = sorted(f["id"] for f in by_bbox)
    assert expected
    assert ids(client, "roads", f"S_INTERSECTS(geom, BBOX({box}))") == expected
    polygon = "POLYGON((99.40 18.20, 99.50 18.20, 99.50 18.25, 99.40 18.25, 99.40 18.20))"
    assert ids(client, "roads", f"S_INTERSECTS(geom, {polygon})") == expected
    # the complement, combined with an attribute filter
    rest = ids(client, "roads", f"NOT S_INTERSECTS(geom, {polygon}) AND lanes >= 1")
    assert rest and not set(rest) & set(expected)
    with psycopg.connect(api_url) as conn:
        within = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM roads WHERE ST_Within(geom, ST_GeomFromText(%s, 4326)) ORDER BY id",
                [polygon],
            )
        ]
    assert within and ids(client, "roads", f"s_within(geom, {polygon})") == within
    assert ids(client, "roads", f"S_CONTAINS({polygon}, geom)") == within
    # a point on no road, a multipoint, an empty geometry
    assert ids(client, "roads", "S_INTERSECTS(geom, POINT(98.0 17.0))") == []
    assert ids(client, "roads", "S_INTERSECTS(geom, MULTIPOINT((98 17), (98.1 17.1)))") == []
    assert ids(client, "roads", "S_INTERSECTS(geom, POINT EMPTY)") == []


def test_geometries_are_queryables(client):
    doc = client.get("/collections/local_bodies/queryables").json()
    assert doc["properties"]["boundary"]["x-ogc-role"] == "primary-geometry"
    conformance = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions" in conformance
