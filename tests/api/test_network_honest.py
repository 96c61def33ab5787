"""Honest routing over HTTP (issue 13): the API presents what the library says about the attach
limit, closures off the route and unreachable pairs of the matrix; user mistakes are 4xx.

In the API world (``tests/fixtures/world.py``) the SAO office sits on the test road, which
crosses the test bridge, and the PAO office lies kilometres from any road.
"""

from __future__ import annotations

import re

import pytest

from gis_registry.network.attach import MAX_ATTACH_M

pytestmark = pytest.mark.db

ROUTE = "/analysis/network/route?from=520199&to=99.51,18.30"


def test_route_states_the_attach_limit_and_the_closures(client, world):
    usual = client.get(ROUTE).json()["properties"]
    assert usual["max_attach_m"] == MAX_ATTACH_M
    assert usual["closures"] == [] and usual["closures_change_route"] is False
    assert [b["bridge_id"] for b in usual["bridges"]] == [world["bridge"]]
    on_route = {s["road_id"] for s in usual["segments"]}
    elsewhere = next(r for r in world["roads"] if r not in on_route)
    off = client.get(f"{ROUTE}&closed_road={elsewhere}").json()["properties"]
    assert off["closures"] == [
        {"kind": "closed_road", "id": elsewhere, "label": f"road {elsewhere}", "on_route": False}
    ]
    assert off["closures_change_route"] is False
    assert f"road {elsewhere} is not on this route; nothing changes" in off["notes"]
    assert off["length_m"] == usual["length_m"] and off["segments"] == usual["segments"]
    assert off["usual"] == {"length_m": usual["length_m"], "time_s": usual["time_s"]}
    cut = client.get(f"{ROUTE}&closed_bridge={world['bridge']}&closed_road={elsewhere}")
    assert cut.status_code == 404, cut.text
    detail = cut.json()["detail"]
    assert f"under the closures: bridge {world['bridge']} is on the usual route" in detail
    assert f"not on the usual route: road {elsewhere}" in detail


def test_an_endpoint_beyond_the_attach_limit_is_a_404_naming_it(client):
    # the PAO's road is not joined to the SAO's: route the PAO office to itself
    wide = client.get("/analysis/network/route?from=52&to=52&max_attach_m=100000")
    assert wide.status_code == 200, wide.text
    props = wide.json()["properties"]
    far = props["origin"]["attach_m"]
    assert far > MAX_ATTACH_M and props["max_attach_m"] == 100000
    r = client.get("/analysis/network/route?from=52&to=520199")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    detail = r.json()["detail"]
    # the distance named is to the nearest road, at most the distance to the nearest node
    named = re.search(
        rf"^52 \({props['origin']['name_th']}\) is ([\d.]+) km from the nearest road", detail
    )
    assert named and MAX_ATTACH_M / 1000 < float(named.group(1)) <= round(far / 1000, 1)
    assert f"the limit is {MAX_ATTACH_M:g} m" in detail


@pytest.mark.parametrize("bad", ["0", "-3", "far", "nan"])
def test_a_bad_attach_limit_is_a_400(client, bad):
    for path in (ROUTE, "/analysis/network/matrix?code=520199"):
        r = client.get(f"{path}&max_attach_m={bad}")
        assert r.status_code == 400, (path, r.text)
        assert "max_attach_m" in r.text


def test_matrix_marks_offices_beyond_the_limit(client):
    m = client.get("/analysis/network/matrix").json()
    assert m["max_attach_m"] == MAX_ATTACH_M
    assert [p["code"] for p in m["beyond_attach_limit"]] == ["52"]
    pao = m["codes"].index("52")
    assert all(t is None for t in m["time_s"][pao])
    assert all(row[pao] is None for row in m["length_m"])
    assert m["from_pao_s"] == {code: None for code in m["codes"]}
    assert any(n.startswith("52 (") and "from the nearest road" in n for n in m["notes"])
    assert m["no_path"] == []  # the PAO has its own reason
    wide = client.get("/analysis/network/matrix?max_attach_m=100000").json()
    assert wide["beyond_attach_limit"] == [] and wide["time_s"][pao][pao] == 0
    assert ["52", "520199"] in wide["no_path"]  # now its reason is that no road joins them
