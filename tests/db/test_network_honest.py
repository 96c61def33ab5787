"""Honest routing (issue 13) on the hand-built province of ``test_network`` plus three LGOs:

    FAR  an office 114 km north of C: beyond any sensible attach distance
    D    an office 150 m east of C's node: attaches to the same node as C
    E    an office 10 m from the south end of r7, the island on layer 1 (v4's road)

A place beyond the attach limit is refused naming the distance; two places on one node are
said to be so; a closure the route does not use is reported as changing nothing; "no route"
says whether the ends lie on different parts of the network or the closures cut them apart.
"""

from __future__ import annotations

import json
import math

import pytest
from pyproj import Geod
from typer.testing import CliRunner

from gis_registry.db import tables as t
from gis_registry.errors import ValidationError
from gis_registry.network.attach import MAX_ATTACH_M, TooFarFromRoad, format_metres
from gis_registry.network.model import load_network
from gis_registry.network.restrictions import Restrictions
from gis_registry.network.routing import Unreachable, matrix, route
from tests.db.test_network import build_province
from tests.fixtures.sketch import point, pt, square

pytestmark = pytest.mark.db

EXTRA = {
    "FAR": ((0, 115_000), "อบต.ไกล"),
    "D": ((150, 1000), "อบต.ดี"),
    "E": ((500, -490), "อบต.อี"),
}


def build_honest_province(conn) -> dict:
    """The province of ``test_network`` and the three LGOs above; returns every id."""
    ids = build_province(conn)
    for code, (office, name) in EXTRA.items():
        ids[code] = conn.execute(
            t.local_bodies.insert()
            .values(
                code=code,
                kind="sao",
                district_code="5201",
                name_th=name,
                name_en=f"LGO {code}",
                boundary=square(-3000, -3000, 5000, 3000),
                office=point(*office),
            )
            .returning(t.local_bodies.c.id)
        ).scalar_one()
    return ids


@pytest.fixture()
def honest(conn):
    return build_honest_province(conn)


# -- attach distance ----------------------------------------------------------------------------
def test_the_default_attach_limit_is_in_the_low_hundreds_of_metres():
    assert 100 <= MAX_ATTACH_M <= 500


def test_an_endpoint_far_from_any_road_is_refused_naming_place_and_distance(conn, honest):
    net = load_network(conn)
    far = net.places.attach_m[net.places.row("lgo", "FAR")]
    assert far == pytest.approx(114_000, rel=0.01)  # the world is as drawn
    with pytest.raises(TooFarFromRoad) as caught:
        route(conn, "FAR", "B", network=net)
    message = str(caught.value)
    assert f"FAR (อบต.ไกล) is {far / 1000:.1f} km from the nearest road" in message
    assert f"the limit is {MAX_ATTACH_M:g} m" in message and "max_attach_m" in message
    assert isinstance(caught.value, Unreachable)  # the shells map it as they map "no route"
    # the destination is checked as well, and both are named when both are too far
    with pytest.raises(TooFarFromRoad, match=r"^B .* and FAR .*km"):
        route(conn, "B", "FAR", network=net, max_attach_m=1)
    # a larger limit lets it through, and the answer states the limit it used
    r = route(conn, "FAR", "B", network=net, max_attach_m=200_000)
    assert r.max_attach_m == 200_000 and r.origin["attach_m"] == pytest.approx(far)
    assert route(conn, "PAO", "B", network=net).to_dict()["max_attach_m"] == MAX_ATTACH_M


def test_a_point_far_from_any_road_is_refused(conn, honest):
    lonlat = "{},{}".format(*pt(0, 2500))  # inside the province, 1.5 km north of C's node
    with pytest.raises(TooFarFromRoad, match=r"is 1\.5 km from the nearest road"):
        route(conn, lonlat, "B")
    assert route(conn, lonlat, "C", max_attach_m=2000).origin["attach_m"] > 1400


def test_the_limit_is_on_the_distance_to_a_road_not_to_a_node(conn, honest):
    """A point on r4, 400 m from its nearest node, is on the network: the answer says the route
    starts at the node and leaves those metres out; 100 m beside r4 it is refused at 50 m."""
    net = load_network(conn)
    on_road = "{},{}".format(*pt(0, 600))
    r = route(conn, on_road, "B", network=net)
    assert r.origin["attach_m"] == pytest.approx(400, rel=0.01)
    assert any(
        n.startswith(
            "{:g},{:g} lies 0 m from a road but 400 m from the nearest junction".format(*pt(0, 600))
        )
        for n in r.notes
    )
    beside = "{},{}".format(*pt(-100, 600))
    with pytest.raises(TooFarFromRoad, match=r"is 10\d m from the nearest road; the limit is 50"):
        route(conn, beside, "B", network=net, max_attach_m=50)


@pytest.mark.parametrize("bad", [0, -5, math.nan, "far"])
def test_a_bad_attach_limit_names_the_field(conn, honest, bad):
    with pytest.raises(ValidationError, match="max_attach_m"):
        route(conn, "PAO", "B", max_attach_m=bad)
    with pytest.raises(ValidationError, match="max_attach_m"):
        matrix(conn, max_attach_m=bad)


# -- two places on one node ------------------------------------------------------------------------
def test_two_places_on_one_node_are_said_to_be_so(conn, honest):
    net = load_network(conn)
    p = net.places
    c, d = p.row("lgo", "C"), p.row("lgo", "D")
    assert p.node[c] == p.node[d]
    r = route(conn, "C", "D", network=net)
    (lon0, lat0), (lon1, lat1) = p.lonlat[c], p.lonlat[d]
    straight = Geod(ellps="WGS84").inv(lon0, lat0, lon1, lat1)[2]  # geodesic, as reported
    assert r.length_m == 0 and r.same_node
    assert r.straight_line_m == pytest.approx(straight, rel=1e-6)
    assert any(
        "both attach to the same road node" in n and f"{straight:.0f} m" in n for n in r.notes
    )
    data = r.to_dict()
    assert data["same_node"] is True and data["straight_line_m"] == r.straight_line_m
    other = route(conn, "PAO", "B", network=net)
    assert not other.same_node and other.straight_line_m > 0
    assert not any("same road node" in n for n in other.notes)


# -- closures on and off the route -----------------------------------------------------------------
def test_a_closure_the_route_does_not_use_changes_nothing(conn, honest):
    b3 = honest["b3"]
    usual = route(conn, "PAO", "B")
    assert b3 not in [b["bridge_id"] for b in usual.bridges]  # b3 is on r6, east of B
    r = route(conn, "PAO", "B", restrictions=Restrictions(closed_bridges=[b3]))
    assert r.closures == [
        {"kind": "closed_bridge", "id": b3, "label": f"bridge {b3}", "on_route": False}
    ]
    assert r.closures_change_route is False
    assert r.edges == usual.edges and r.length_m == usual.length_m
    assert f"bridge {b3} is not on this route; nothing changes" in r.notes
    assert r.to_dict()["closures_change_route"] is False


def test_closures_on_the_route_reroute_and_are_told_apart(conn, honest):
    r4, b3 = honest["r4"], honest["b3"]
    usual = route(conn, "PAO", "C")
    assert [s["road_id"] for s in usual.segments] == [r4]
    r = route(conn, "PAO", "C", restrictions=Restrictions(closed_roads=[r4], closed_bridges=[b3]))
    assert r.closures_change_route is True
    assert {(c["label"], c["on_route"]) for c in r.closures} == {
        (f"road {r4}", True),
        (f"bridge {b3}", False),
    }
    assert r4 not in [s["road_id"] for s in r.segments]
    assert r.usual == {"length_m": usual.length_m, "time_s": usual.time_s}
    assert r.length_m > usual.length_m
    assert any(n.startswith(f"road {r4} is on the usual route") for n in r.notes)
    assert f"bridge {b3} is not on the usual route" in r.notes
    # vehicle and surface rules are closure items too: r4 is laterite
    weather = route(conn, "PAO", "C", restrictions=Restrictions(all_weather=True))
    assert weather.closures == [
        {
            "kind": "all_weather",
            "label": "roads that are not all-weather",
            "on_route": True,
        }
    ]
    assert weather.closures_change_route is True
    # without closures nothing is said about them
    assert usual.closures == [] and usual.closures_change_route is False and usual.usual is None


# -- "no route" explains itself ----------------------------------------------------------------
def test_no_route_between_unconnected_parts_says_so(conn, honest):
    v4 = f"village:{honest['v4']}"
    with pytest.raises(Unreachable) as caught:
        route(conn, "PAO", v4)
    message = str(caught.value)
    assert message.startswith(f"no route from PAO to {v4}: they lie on different, unconnected")
    # r1..r6 on the PAO's part; r7 alone (on layer 1, not joined to r1) on v4's
    assert f"(PAO's part has 6 road segments, {v4}'s 1)" in message
    assert "gis-registry network check" in message


def test_no_route_caused_by_closures_names_them(conn, honest):
    b1, b3, r2 = honest["b1"], honest["b3"], honest["r2"]
    closures = Restrictions(closed_bridges=[b1, b3])
    with pytest.raises(Unreachable) as caught:
        route(conn, "PAO", "B", restrictions=closures)
    message = str(caught.value)
    assert message.startswith("no route from PAO to B under the closures")
    assert f"bridge {b1}" in message and "cut B off from PAO" in message
    assert f"not on the usual route: bridge {b3}" in message
    # r2 closed: B is still joined to the PAO, but only by r3, one-way westbound
    with pytest.raises(Unreachable, match=f"road {r2}.*one-way"):
        route(conn, "PAO", "B", restrictions=Restrictions(closed_roads=[r2]))


# -- matrix ------------------------------------------------------------------------------------
def test_matrix_marks_unreachable_pairs_with_their_reasons(conn, honest):
    net = load_network(conn)
    m = matrix(conn, network=net)
    i = {code: k for k, code in enumerate(m.codes)}
    far = float(net.places.attach_m[net.places.row("lgo", "FAR")])
    assert m.max_attach_m == MAX_ATTACH_M
    assert m.beyond_attach_limit == [
        {
            "code": "FAR",
            "name_th": "อบต.ไกล",
            "attach_m": pytest.approx(far),
            "road_m": pytest.approx(far, abs=1),  # its nearest road passes through its node
        }
    ]
    assert all(m.time_s[i["FAR"]][j] is None for j in range(len(m.codes)))
    assert all(m.time_s[j][i["FAR"]] is None for j in range(len(m.codes)))
    assert all(m.length_m[i["FAR"]][j] is None for j in range(len(m.codes)))
    # E is on the island: no path between it and the others, either way
    assert ["PAO", "E"] in m.no_path and ["E", "B"] in m.no_path
    assert m.time_s[i["PAO"]][i["E"]] is None
    assert not any("FAR" in pair for pair in m.no_path)  # FAR has its own reason
    assert m.same_node == [["C", "D"]]
    assert m.time_s[i["C"]][i["D"]] == 0
    assert set(m.unreachable_from_pao) == {"E", "FAR"}
    assert m.from_pao_s["FAR"] is None
    assert any("FAR" in n and "km from the nearest road" in n for n in m.notes)
    data = m.to_dict()
    assert {"max_attach_m", "beyond_attach_limit", "no_path", "same_node", "notes"} <= set(data)
    # a wider limit takes FAR in: it attaches to C's node, so it has numbers like C's
    wide = matrix(conn, network=net, max_attach_m=200_000)
    assert wide.beyond_attach_limit == []
    assert wide.time_s[i["PAO"]][i["FAR"]] == wide.time_s[i["PAO"]][i["C"]]


def test_an_office_beside_a_road_far_from_its_nodes_has_figures_everywhere(conn, honest):
    """G stands 10 m from the middle of r2, a 1 km road without a vertex between its ends:
    about 480 m from a node, but on a road. One rule for the attach limit (the distance to the
    road) gives it figures in the matrix and from the PAO alike, with the same note."""
    conn.execute(
        t.local_bodies.insert().values(
            code="G",
            kind="sao",
            district_code="5201",
            name_th="อบต.จี",
            name_en="LGO G",
            boundary=square(-3000, -3000, 5000, 3000),
            office=point(1010, 480),
        )
    )
    m = matrix(conn)
    i = {code: k for k, code in enumerate(m.codes)}
    assert m.beyond_attach_limit[0]["code"] == "FAR" and len(m.beyond_attach_limit) == 1
    assert m.time_s[i["PAO"]][i["G"]] is not None
    assert m.from_pao_s["G"] == m.time_s[i["PAO"]][i["G"]]
    assert "G" not in m.unreachable_from_pao
    assert any("อบต.จี" in n and "from the nearest junction" in n for n in m.notes)


# -- the command line --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_honest(settings):
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database

    url = create_test_database(settings, suffix="_network_honest_test")
    engine = make_engine(settings, url=url)
    upgrade(engine)
    with engine.begin() as conn:
        ids = build_honest_province(conn)
    engine.dispose()
    yield url, ids
    drop_test_database(url)


@pytest.fixture()
def run(cli_honest, monkeypatch, tmp_path):
    from gis_registry.cli import app

    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", cli_honest[0])
    monkeypatch.setenv("GIS_REGISTRY_HOME", str(tmp_path))
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_cli_refuses_a_far_endpoint_in_one_line(run):
    result = run("route", "FAR", "B")
    assert result.exit_code == 1
    assert (
        "error: FAR (อบต.ไกล) is 11" in result.output
        and "km from the nearest road" in result.output
    )
    assert f"the limit is {MAX_ATTACH_M:g} m" in result.output
    assert "--max-attach-m" in result.output and "Traceback" not in result.output
    wide = run("route", "FAR", "B", "--max-attach-m", "200000")
    assert wide.exit_code == 0, wide.output
    assert run("route", "PAO", "B", "--max-attach-m", "0").exit_code in (1, 2)


def test_cli_route_text_shows_attach_distances_and_the_limit(run, cli_honest):
    result = run("route", "PAO", "B")
    assert result.exit_code == 0, result.output
    data = json.loads(run("route", "PAO", "B", "--json").stdout)
    attach = (
        f"attached: origin {format_metres(data['origin']['attach_m'])}, destination "
        f"{format_metres(data['destination']['attach_m'])} from the nearest road node "
        f"(limit {MAX_ATTACH_M:g} m)"
    )
    assert attach in result.stdout
    same = run("route", "C", "D")
    assert same.exit_code == 0 and "both attach to the same road node" in same.stdout


def test_cli_reports_a_closure_off_the_route(run, cli_honest):
    b3 = cli_honest[1]["b3"]
    result = run("route", "PAO", "B", "--closed-bridge", str(b3))
    assert result.exit_code == 0, result.output
    assert f"bridge {b3} is not on this route; nothing changes" in result.stdout
    data = json.loads(run("route", "PAO", "B", "--closed-bridge", str(b3), "--json").stdout)
    assert data["closures_change_route"] is False and data["closures"][0]["on_route"] is False
    cut = run("route", "PAO", f"village:{cli_honest[1]['v4']}")
    assert cut.exit_code == 1 and "different, unconnected parts" in cut.output


def test_cli_matrix_marks_unreachable_pairs(run):
    data = json.loads(run("connectivity", "matrix", "--json").stdout)
    assert data["beyond_attach_limit"][0]["code"] == "FAR"
    text = run("connectivity", "matrix")
    assert text.exit_code == 0, text.output
    far_row = next(line for line in text.stdout.splitlines() if line.strip().startswith("FAR"))
    assert "km from the nearest road" not in far_row and "off" in far_row and "0" not in far_row
    assert "FAR (อบต.ไกล) is " in text.stdout  # the reason, with its distance
    assert "no path" in text.stdout
    narrow = json.loads(run("connectivity", "matrix", "--max-attach-m", "200000", "--json").stdout)
    assert narrow["beyond_attach_limit"] == []
