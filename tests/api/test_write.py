"""Editing: validation by the library, ETag/If-Match (no lost updates), history, ownership."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from tests.api.conftest import auth

pytestmark = pytest.mark.db
WRITES = True  # a world of its own (conftest.api_db): its writes never reach other modules


def road(owner: int, code: str = "ลป.ถ. 99-0900", **props) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[99.42, 18.35], [99.44, 18.36]]},
        "properties": {
            "code": code,
            "name_th": "ถนนใหม่",
            "name_en": "New road",
            "road_class": "local",
            "owner_local_body_id": owner,
            "surface": "laterite",
            "width_m": 5,
            **props,
        },
    }


@pytest.fixture()
def sao_road(client, keys, world):
    r = client.post(
        "/collections/roads/items", json=road(world["sao"]), headers=auth(keys["editor_sao"])
    )
    assert r.status_code == 201, r.text
    return r


def test_create_read_history(client, sao_road, keys):
    feature = sao_road.json()
    location = sao_road.headers["location"]
    assert location.endswith(f"/collections/roads/items/{feature['id']}")
    assert sao_road.headers["etag"]
    got = client.get(location)
    assert got.json()["properties"]["name_en"] == "New road"
    assert got.headers["etag"] == sao_road.headers["etag"]
    history = client.get(f"{location}/history", headers=auth(keys["viewer"])).json()["changes"]
    assert [c["operation"] for c in history] == ["insert"]
    assert history[0]["changed_by"] == "editor_sao" and history[0]["before"] is None


def test_update_needs_the_current_etag(client, sao_road, keys):
    url = sao_road.headers["location"]
    headers = auth(keys["editor_sao"])
    first_etag = sao_road.headers["etag"]
    patch = {"type": "Feature", "properties": {"surface": "asphalt"}}
    missing = client.patch(url, json=patch, headers=headers)
    assert missing.status_code == 428 and missing.json()["code"] == "PreconditionRequired"
    wrong = client.patch(url, json=patch, headers={**headers, "If-Match": '"v1"'})
    assert wrong.status_code == 412
    ok = client.patch(url, json=patch, headers={**headers, "If-Match": first_etag})
    assert ok.status_code == 200, ok.text
    assert ok.json()["properties"]["surface"] == "asphalt"
    assert ok.headers["etag"] != first_etag
    # a second editor still holding the first ETag cannot overwrite the change
    lost = client.patch(
        url, json={"properties": {"surface": "earth"}}, headers={**headers, "If-Match": first_etag}
    )
    assert lost.status_code == 412
    assert client.get(url).json()["properties"]["surface"] == "asphalt"
    history = client.get(f"{url}/history").json()["changes"]
    assert [c["operation"] for c in history] == ["insert", "update"]
    assert history[1]["before"]["surface"] == "laterite"
    assert history[1]["after"]["surface"] == "asphalt"


def test_replace_and_delete(client, sao_road, keys, world):
    url = sao_road.headers["location"]
    headers = {**auth(keys["editor_sao"]), "If-Match": sao_road.headers["etag"]}
    replaced = client.put(url, json=road(world["sao"], name_en="Renamed road"), headers=headers)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["properties"]["name_en"] == "Renamed road"
    assert replaced.json()["properties"]["year_built"] is None
    stale = client.delete(url, headers=headers)
    assert stale.status_code == 412
    gone = client.delete(url, headers={**headers, "If-Match": replaced.headers["etag"]})
    assert gone.status_code == 204
    assert client.get(url).status_code == 404
    history = client.get(f"{url}/history").json()["changes"]
    assert [c["operation"] for c in history] == ["insert", "update", "delete"]
    assert history[-1]["before"]["name_en"] == "Renamed road" and history[-1]["after"] is None


def test_reading_the_layer_as_it_was(client, sao_road, keys):
    url = sao_road.headers["location"]
    fid = sao_road.json()["id"]
    time.sleep(0.05)
    before = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    time.sleep(0.05)
    r = client.patch(
        url,
        json={"properties": {"name_en": "Changed later"}},
        headers={**auth(keys["editor_sao"]), "If-Match": sao_road.headers["etag"]},
    )
    assert r.status_code == 200
    then = client.get("/collections/roads/items", params={"at": before, "limit": 1000}).json()
    old = [f for f in then["features"] if f["id"] == fid]
    assert old and old[0]["properties"]["name_en"] == "New road"
    assert old[0]["geometry"]["type"] == "LineString"
    assert client.get(url).json()["properties"]["name_en"] == "Changed later"
    ancient = client.get("/collections/roads/items", params={"at": "2000-01-01T00:00:00Z"})
    assert ancient.json()["numberReturned"] == 0


def test_validation_problems_name_field_and_rule(client, keys, world):
    bad = road(world["sao"], surface="gravel", lanes=40)
    del bad["properties"]["name_th"]
    r = client.post("/collections/roads/items", json=bad, headers=auth(keys["editor_sao"]))
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    problems = {e["field"]: e["rule"] for e in r.json()["errors"]}
    assert "gravel" in problems["surface"] and "asphalt" in problems["surface"]
    assert problems["name_th"] == "is required"
    wrong_type = road(world["sao"])
    wrong_type["geometry"] = {"type": "Point", "coordinates": [99.4, 18.3]}
    r = client.post("/collections/roads/items", json=wrong_type, headers=auth(keys["editor_sao"]))
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "geom"
    assert "LineString" in r.json()["errors"][0]["rule"]
    garbage = road(world["sao"])
    garbage["geometry"] = {"type": "Blob", "coordinates": "x"}
    r = client.post("/collections/roads/items", json=garbage, headers=auth(keys["editor_sao"]))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "geom"


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"{not json", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'{"type": "FeatureCollection", "features": []}', "application/geo+json"),
        (b'{"type": "Feature", "properties": 5}', "application/geo+json"),
        (b"<feature/>", "application/xml"),
    ],
)
def test_malformed_bodies(client, keys, body, content_type):
    r = client.post(
        "/collections/roads/items",
        content=body,
        headers={**auth(keys["editor_sao"]), "Content-Type": content_type},
    )
    assert r.status_code in (400, 415), r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_database_rules_are_422(client, keys, world):
    # the library cannot see it, the database trigger can: a bridge must lie on its road
    bridge = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [99.59, 18.39]},
        "properties": {
            "road_id": world["road"],
            "name_th": "สะพาน",
            "name_en": "Far bridge",
            "structure_type": "slab",
            "material": "steel",
            "length_m": 10,
        },
    }
    r = client.post("/collections/bridges/items", json=bridge, headers=auth(keys["admin"]))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "ConstraintViolation"
    assert body["errors"][0]["field"] == "geom" and "10 m" in body["errors"][0]["rule"]


def test_editors_write_only_their_own_assets(client, keys, world):
    r = client.post(
        "/collections/roads/items",
        json=road(world["pao"], code="ลป.ถ. 1-0901"),
        headers=auth(keys["editor_sao"]),
    )
    assert r.status_code == 403 and r.json()["code"] == "Forbidden"
    pao_road = client.get(f"/collections/roads/items/{world['road']}")
    r = client.patch(
        f"/collections/roads/items/{world['road']}",
        json={"properties": {"surface": "earth"}},
        headers={**auth(keys["editor_sao"]), "If-Match": pao_road.headers["etag"]},
    )
    assert r.status_code == 403
    # nor give their asset away
    mine = client.post(
        "/collections/roads/items",
        json=road(world["sao"], code="ลป.ถ. 99-0902"),
        headers=auth(keys["editor_sao"]),
    )
    r = client.patch(
        mine.headers["location"],
        json={"properties": {"owner_local_body_id": world["pao"]}},
        headers={**auth(keys["editor_sao"]), "If-Match": mine.headers["etag"]},
    )
    assert r.status_code == 403
    # layers without an owner are the admin's
    r = client.post(
        "/collections/hazard_areas/items",
        json={
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[99.5, 18.3], [99.51, 18.3], [99.51, 18.31], [99.5, 18.3]]],
            },
            "properties": {
                "name_th": "ดินถล่ม",
                "name_en": "Slide",
                "hazard_type": "landslide",
                "severity": "low",
            },
        },
        headers=auth(keys["editor_pao"]),
    )
    assert r.status_code == 403
    r = client.post(
        "/collections/hazard_areas/items",
        json={
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[99.5, 18.3], [99.51, 18.3], [99.51, 18.31], [99.5, 18.3]]],
            },
            "properties": {
                "name_th": "ดินถล่ม",
                "name_en": "Slide",
                "hazard_type": "landslide",
                "severity": "low",
            },
        },
        headers=auth(keys["admin"]),
    )
    assert r.status_code == 201, r.text
    assert r.json()["geometry"]["type"] == "MultiPolygon"


def test_inspections_and_works(client, keys, world):
    inspection = {
        "road_id": world["road"],
        "inspected_on": "2026-01-10",
        "condition_score": 4,
        "condition_scale": "score_1_5",
        "method": "visual",
    }
    r = client.post(
        "/collections/inspections/items", json=inspection, headers=auth(keys["editor_pao"])
    )
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["inspected_on"] == "2026-01-10"
    assert (
        client.post(
            "/collections/inspections/items", json=inspection, headers=auth(keys["editor_sao"])
        ).status_code
        == 403
    )
    off_scale = {**inspection, "condition_score": 7}
    r = client.post(
        "/collections/inspections/items", json=off_scale, headers=auth(keys["editor_pao"])
    )
    assert r.status_code in (400, 422)
    assert r.json()["errors"][0]["field"] == "condition_score"
    work = {
        "road_id": world["road"],
        "treatment": "routine",
        "planned_start": "2026-03-01",
        "cost_thb": 50000,
        "fiscal_year": 2500,
        "funding_body": "pao",
    }
    r = client.post(
        "/collections/maintenance_works/items", json=work, headers=auth(keys["editor_pao"])
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "fiscal_year"
    r = client.post(
        "/collections/maintenance_works/items",
        json={**work, "fiscal_year": 2569},
        headers=auth(keys["editor_pao"]),
    )
    assert r.status_code == 201, r.text


def test_a_feature_collection_is_added_all_or_nothing(client, keys, world, api_url):
    import psycopg

    def roads_now() -> int:
        with psycopg.connect(api_url) as conn:
            return conn.execute("SELECT count(*) FROM roads").fetchone()[0]

    headers = auth(keys["editor_sao"])
    before = roads_now()
    point = {"type": "Point", "coordinates": [99.4, 18.3]}
    bad = {
        "type": "FeatureCollection",
        "features": [
            road(world["sao"], code="ลป.ถ. 99-0910"),
            road(world["sao"], code="ลป.ถ. 99-0911", surface="gravel"),
            {**road(world["sao"], code="ลป.ถ. 99-0912"), "geometry": point},
        ],
    }
    r = client.post("/collections/roads/items", json=bad, headers=headers)
    assert r.status_code == 400, r.text
    named = {(e["record"], e["field"]) for e in r.json()["errors"]}
    assert ("#2", "surface") in named and ("#3", "geom") in named
    assert roads_now() == before  # the good first feature was not written either
    # one feature of another local body: the editor may write none of them
    theirs = {"type": "FeatureCollection", "features": [road(world["sao"]), road(world["pao"])]}
    r = client.post("/collections/roads/items", json=theirs, headers=headers)
    assert r.status_code == 403 and roads_now() == before
    not_a_feature = {"type": "FeatureCollection", "features": [road(world["sao"]), [1, 2]]}
    r = client.post("/collections/roads/items", json=not_a_feature, headers=headers)
    assert r.status_code == 400 and "#2" in r.json()["detail"]

    codes = ["ลป.ถ. 99-0920", "ลป.ถ. 99-0921", "ลป.ถ. 99-0922"]
    good = {"type": "FeatureCollection", "features": [road(world["sao"], code=c) for c in codes]}
    r = client.post("/collections/roads/items", json=good, headers=headers)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["type"] == "FeatureCollection" and doc["numberReturned"] == 3
    assert [f["properties"]["code"] for f in doc["features"]] == codes  # Thai kept, in order
    assert roads_now() == before + 3
    for feature in doc["features"]:
        url = f"/collections/roads/items/{feature['id']}"
        history = client.get(f"{url}/history", headers=headers).json()["changes"]
        assert [(c["operation"], c["changed_by"]) for c in history] == [("insert", "editor_sao")]
        assert client.delete(url, headers={**headers, "If-Match": "*"}).status_code == 204
    assert roads_now() == before


def test_anonymous_callers_see_no_usernames_in_history(client, sao_road, keys):
    url = f"{sao_road.headers['location']}/history"
    anonymous = client.get(url)
    assert anonymous.status_code == 200
    changes = anonymous.json()["changes"]
    assert [c["operation"] for c in changes] == ["insert"]
    assert changes[0]["changed_by"] is None and "editor_sao" not in anonymous.text
    assert "editor_sao" not in client.get(url, params={"f": "html"}).text
    for role in ("viewer", "editor_pao", "admin"):  # any authenticated caller sees who
        seen = client.get(url, headers=auth(keys[role])).json()["changes"]
        assert seen[0]["changed_by"] == "editor_sao"


def test_editors_record_works_funded_by_their_own_local_body_only(client, keys, world, sao_road):
    work = {
        "road_id": sao_road.json()["id"],
        "treatment": "routine",
        "planned_start": "2026-03-01",
        "cost_thb": 50000,
        "fiscal_year": 2569,
        "funding_body": "lgo",
        "funding_local_body_id": world["pao"],
    }
    url = "/collections/maintenance_works/items"
    r = client.post(url, json=work, headers=auth(keys["editor_sao"]))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "funding_local_body_id" in r.json()["detail"]
    own = {**work, "funding_local_body_id": world["sao"]}
    r = client.post(url, json=own, headers=auth(keys["editor_sao"]))
    assert r.status_code == 201, r.text
    # nor moved onto another LGO's budget afterwards
    r = client.patch(
        r.headers["location"],
        json={"properties": {"funding_local_body_id": world["pao"]}},
        headers={**auth(keys["editor_sao"]), "If-Match": r.headers["etag"]},
    )
    assert r.status_code == 403 and "funding_local_body_id" in r.json()["detail"]


def test_rules_of_issue_17_name_the_field(client, keys, world):
    """A well in Bangkok, an unclosed ring, a cost beyond numeric(14, 2), a dense road: 400s
    naming the record, the field and the rule, never '?'."""
    headers = auth(keys["admin"])
    well = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [100.5, 13.75]},
        "properties": {"name_th": "บ่อ", "name_en": "Bangkok well", "kind": "groundwater_well"},
    }
    r = client.post("/collections/water_points/items", json=well, headers=headers)
    assert r.status_code == 400, r.text
    ((error),) = r.json()["errors"]
    assert error["field"] == "geom" and "province" in error["rule"]
    ring = [[99.5, 18.3], [99.51, 18.3], [99.51, 18.31], [99.5, 18.31]]
    hazard = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "name_th": "น้ำท่วม",
            "name_en": "Flood",
            "hazard_type": "flood",
            "severity": "low",
        },
    }
    r = client.post("/collections/hazard_areas/items", json=hazard, headers=headers)
    assert r.status_code == 400, r.text
    assert "ring 1 of polygon 1 is not closed" in r.json()["errors"][0]["rule"]
    work = {
        "road_id": world["road"],
        "treatment": "routine",
        "planned_start": "2026-03-01",
        "cost_thb": 1e20,
        "fiscal_year": 2569,
        "funding_body": "pao",
    }
    r = client.post("/collections/maintenance_works/items", json=work, headers=headers)
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["cost_thb"]
    dense = road(world["sao"], code="ลป.ถ. 99-0950")
    dense["geometry"]["coordinates"] = [[99.42 + i * 1e-8, 18.35] for i in range(2_000)]
    r = client.post("/collections/roads/items", json=dense, headers=auth(keys["editor_sao"]))
    assert r.status_code == 400, r.text
    ((error),) = r.json()["errors"]
    assert error["field"] == "geom" and "0.5 m" in error["rule"]


def _water(geometry: dict, kind: str, code: str, owner: int | None = None) -> dict:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "code": code,
            "name_th": "แหล่งน้ำทดสอบ",
            "name_en": "Test water source",
            "kind": kind,
            "owner_local_body_id": owner,
        },
    }


def test_water_sources_are_three_collections_of_one_geometry_type_each(client, keys, world):
    """Issue 15: a point, an area and a line water source each in the collection of its
    geometry type; a collection declares one type; the old mixed collection is gone."""
    gone = client.get("/collections/water_sources")
    assert gone.status_code == 404
    assert all(name in gone.text for name in ("water_points", "water_areas", "water_lines"))
    editor = auth(keys["editor_sao"])
    ring = [[99.46, 18.32], [99.47, 18.32], [99.47, 18.33], [99.46, 18.32]]
    wanted = {
        "water_points": ({"type": "Point", "coordinates": [99.452, 18.312]}, "groundwater_well"),
        "water_areas": ({"type": "Polygon", "coordinates": [ring]}, "reservoir"),
        "water_lines": (
            {"type": "LineString", "coordinates": [[99.45, 18.31], [99.46, 18.315]]},
            "canal",
        ),
    }
    made = {}
    for layer, (geometry, kind) in wanted.items():
        feature = _water(geometry, kind, f"W-API-{layer}", world["sao"])
        r = client.post(f"/collections/{layer}/items", json=feature, headers=editor)
        assert r.status_code == 201, r.text
        made[layer] = client.get(r.headers["location"]).json()
    assert made["water_areas"]["geometry"]["type"] == "MultiPolygon"  # promoted
    ids = [int(f["id"]) for f in made.values()]
    assert len(set(ids)) == 3  # one sequence for the three
    for layer, (_, kind) in wanted.items():
        declared = client.get(f"/collections/{layer}/queryables").json()["properties"]["geom"]
        assert declared["format"] != "geometry-any" and "geometry" in declared["format"]
        found = client.get(
            f"/collections/{layer}/items",
            params={"filter": f"kind = '{kind}' AND code = 'W-API-{layer}'"},
        ).json()
        assert {f["properties"]["code"] for f in found["features"]} == {f"W-API-{layer}"}
        assert client.get(f"/tiles/{layer}/tilejson.json").status_code == 200
    # a line is refused by the point layer, naming the record, the field and its layer
    wrong = _water(wanted["water_lines"][0], "canal", "W-API-WRONG", world["sao"])
    r = client.post("/collections/water_points/items", json=wrong, headers=editor)
    assert r.status_code == 400, r.text
    ((error),) = r.json()["errors"]
    assert error["field"] == "geom" and "water_lines" in error["rule"]
    # ids and codes are unique across the three collections
    twin = _water(wanted["water_points"][0], "pond", "W-API-water_areas", world["sao"])
    r = client.post("/collections/water_points/items", json=twin, headers=editor)
    assert r.status_code == 422, r.text  # as any refused unique key
    ((error),) = r.json()["errors"]
    assert error["field"] == "code" and "water_areas" in error["rule"]
    # an inspection names a water source of any of the three; deleting it takes the inspection
    inspection = {
        "type": "Feature",
        "geometry": None,
        "properties": {
            "water_source_id": int(made["water_lines"]["id"]),
            "inspected_on": "2025-03-01",
            "condition_score": 3,
            "condition_scale": "score_1_5",
        },
    }
    r = client.post("/collections/inspections/items", json=inspection, headers=editor)
    assert r.status_code == 201, r.text
    checked = r.headers["location"]
    missing = {**inspection, "properties": {**inspection["properties"], "water_source_id": 999999}}
    r = client.post("/collections/inspections/items", json=missing, headers=auth(keys["admin"]))
    assert r.status_code == 422, r.text
    ((error),) = r.json()["errors"]
    assert error["field"] == "water_source_id" and "water_points, water_areas" in error["rule"]
    line = client.get(f"/collections/water_lines/items/{made['water_lines']['id']}")
    r = client.delete(
        f"/collections/water_lines/items/{made['water_lines']['id']}",
        headers={**editor, "If-Match": line.headers["etag"]},
    )
    assert r.status_code == 204, r.text
    assert client.get(checked).status_code == 404
