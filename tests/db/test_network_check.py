"""Noding and topology checks (``network check [--fix]``) on roads drawn by hand across two
tambons, as a new user would draw them (real PostGIS):

    y
    600  |                       t1 (ends ON m1's segment, no vertex: a T-junction)
    500  |   c1 (crosses m1,      |          h (0.5 m after g5's end: joined at 1 m)
         |   no shared vertex)    |          |
      0  PAO=m1==========x1=======+====m1 end (2000,0) . 5 m gap . g5 ====b1==== (3000,0)
         |   |              |                                     (b1 layer 1 passes over g5)
   -300  d1/d2 (one road   z1 (a repeated vertex: zero-length segment)
         twice)
    island i1/i2 at (5000..6000, 5000..6000) with village vi (population 120).

Tambon A (west of x = 1800) and tambon B (east) are the two LGOs; the PAO office is at (0,0).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json

import networkx as nx
import numpy as np
import pytest
import shapely
from sqlalchemy import text
from typer.testing import CliRunner

from gis_registry.db import tables as t
from gis_registry.errors import GisRegistryError, ValidationError
from gis_registry.network.check import (
    DEFAULT_TOLERANCE_M,
    NetworkCheck,
    check_network,
    noded_graph_components,
)
from gis_registry.network.fix import fix_network
from gis_registry.network.model import load_network
from gis_registry.network.routing import Unreachable, route
from tests.fixtures.sketch import line, point, pt, square

pytestmark = pytest.mark.db

ROADS = {
    # name: (layer, vertices)
    "m1": (0, [(0, 0), (1000, 0), (1200, 0), (2000, 0)]),
    "c1": (0, [(500, -500), (500, 500)]),
    "t1": (0, [(1500, 600), (1500, 0)]),
    "x1": (0, [(1200, -300), (1200, 0), (1200, 300)]),
    "g5": (0, [(2005, 0), (3000, 0)]),
    "h": (0, [(3000.5, 0), (3000.5, 800)]),
    "b1": (1, [(2500, -400), (2500, 400)]),
    "d1": (0, [(0, 0), (0, -300)]),
    "d2": (0, [(0, -300), (0, 0)]),
    "z1": (0, [(1000, 0), (1000, -300), (1000, -300), (1000, -600)]),
    "i1": (0, [(5000, 5000), (6000, 5000)]),
    "i2": (0, [(6000, 5000), (6000, 6000)]),
}
VILLAGES = {
    # name: (lgo, position, population)
    "v_main": ("A", (5, -305), 400),
    "v_cross": ("A", (505, 505), 150),
    "v_tee": ("B", (1505, 605), 90),
    "v_gap": ("B", (3005, 805), 210),
    "v_island": ("B", (5995, 6005), 120),
}


def build_two_tambons(conn) -> dict:
    """Insert the hand-drawn roads and their places; return the ids by name."""
    conn.execute(
        t.districts.insert().values(
            code="5201", name_th="เมืองลำปาง", name_en="Mueang Lampang", office=point(10, 10)
        )
    )
    ids: dict = {}
    lgos = {
        "PAO": ("pao", None, (2, 3), (-3000, -3000, 8000, 8000), "องค์การบริหารส่วนจังหวัดลำปาง"),
        "A": ("sao", "5201", (498, 480), (-3000, -3000, 1800, 3000), "อบต.ทุ่งฝาย"),
        "B": ("sao", "5201", (2995, 790), (1800, -3000, 8000, 8000), "อบต.บ้านเสด็จ"),
    }
    for code, (kind, district, office, box, name) in lgos.items():
        ids[code] = conn.execute(
            t.local_bodies.insert()
            .values(
                code=code,
                kind=kind,
                district_code=district,
                name_th=name,
                name_en=f"LGO {code}",
                boundary=square(*box),
                office=point(*office),
            )
            .returning(t.local_bodies.c.id)
        ).scalar_one()
    for name, (lgo, xy, pop) in VILLAGES.items():
        ids[name] = conn.execute(
            t.settlements.insert()
            .values(
                name_th=f"บ้าน {name}",
                name_en=name,
                local_body_id=ids[lgo],
                population=pop,
                households=pop // 4,
                geom=point(*xy),
            )
            .returning(t.settlements.c.id)
        ).scalar_one()
    for name, (layer, xy) in ROADS.items():
        ids[name] = conn.execute(
            t.roads.insert()
            .values(
                code=None,
                name_th=f"ถนน {name}",
                name_en=f"Road {name}",
                road_class="unregistered",
                surface="asphalt",
                layer=layer,
                geom=line(*xy),
            )
            .returning(t.roads.c.id)
        ).scalar_one()
    return ids


@pytest.fixture()
def tambons(conn):
    return build_two_tambons(conn)


def of_kind(result: NetworkCheck, kind: str) -> list[dict]:
    return [f for f in result.findings if f["kind"] == kind]


def road_sets(findings: list[dict]) -> set[frozenset]:
    return {frozenset(f["road_ids"]) for f in findings}


def test_crossing_without_a_shared_vertex_is_found_at_its_position(conn, tambons):
    result = check_network(conn)
    crossings = of_kind(result, "crossing")
    assert road_sets(crossings) == {frozenset({tambons["c1"], tambons["m1"]})}
    (c,) = crossings
    assert (c["lon"], c["lat"]) == pytest.approx(pt(500, 0), abs=1e-7)
    # x1 crosses m1 at a shared vertex (a real junction) and b1 passes over g5 on layer 1:
    # neither is a finding
    assert not any(tambons["b1"] in f["road_ids"] for f in crossings)


def test_t_junction_and_five_metre_gap_are_near_misses_in_metres(conn, tambons):
    result = check_network(conn)
    near = {frozenset(f["road_ids"]): f for f in of_kind(result, "near_miss")}
    assert set(near) == {
        frozenset({tambons["t1"], tambons["m1"]}),
        frozenset({tambons["g5"], tambons["m1"]}),
    }
    tee = near[frozenset({tambons["t1"], tambons["m1"]})]
    assert tee["distance_m"] == pytest.approx(0.0, abs=0.01)
    assert (tee["lon"], tee["lat"]) == pytest.approx(pt(1500, 0), abs=1e-7)
    gap = near[frozenset({tambons["g5"], tambons["m1"]})]
    assert gap["distance_m"] == pytest.approx(5.0, abs=0.05)  # metres, not degrees
    # the 0.5 m gap is joined by the network's own 1 m snapping: no finding
    assert not any(
        tambons["h"] in f["road_ids"]
        for f in result.findings
        if f["kind"] not in ("dangle", "island")
    )
    # with a tolerance under 5 m the gap's two ends are dangles instead
    small = check_network(conn, tolerance_m=4.0)
    assert road_sets(of_kind(small, "near_miss")) == {frozenset({tambons["t1"], tambons["m1"]})}
    dangles = {f["road_ids"][0] for f in of_kind(small, "dangle")}
    assert {tambons["g5"], tambons["m1"]} <= dangles
    assert small.tolerance_m == 4.0 and small.to_dict()["tolerance_m"] == 4.0


def test_dangles_are_road_ends_meeting_nothing(conn, tambons):
    result = check_network(conn)
    dangles = of_kind(result, "dangle")
    ends = {(f["road_ids"][0], f["end"]) for f in dangles}
    # c1's two ends, t1's far end, b1's two ends (layer 1 over g5: never joined), x1's ends...
    for expected in [
        (tambons["c1"], "start"),
        (tambons["c1"], "end"),
        (tambons["t1"], "start"),
        (tambons["b1"], "start"),
        (tambons["b1"], "end"),
        (tambons["x1"], "start"),
        (tambons["h"], "end"),
    ]:
        assert expected in ends
    # an end that is a near miss is not also a dangle; ends at junctions are neither
    assert (tambons["t1"], "end") not in ends
    assert (tambons["g5"], "start") not in ends
    assert (tambons["g5"], "end") not in ends  # joined to h within 1 m
    b1 = next(f for f in dangles if f["road_ids"] == [tambons["b1"]] and f["end"] == "start")
    assert b1["distance_m"] == pytest.approx(400.0, abs=0.5)  # to g5, the nearest other road


def test_duplicate_and_zero_length_segments(conn, tambons):
    result = check_network(conn)
    dups = of_kind(result, "duplicate")
    assert road_sets(dups) == {frozenset({tambons["d1"], tambons["d2"]})}
    assert dups[0]["full"] is True
    assert dups[0]["length_m"] == pytest.approx(300.0, abs=0.5)
    zero = of_kind(result, "zero_length")
    assert [f["road_ids"] for f in zero] == [[tambons["z1"]]]
    assert (zero[0]["lon"], zero[0]["lat"]) == pytest.approx(pt(1000, -300), abs=1e-7)


def test_islands_with_their_villages_and_population(conn, tambons):
    result = check_network(conn)
    main = result.islands[0]
    assert main["main"] and tambons["m1"] in main["road_ids"]
    island = next(i for i in result.islands if tambons["i1"] in i["road_ids"])
    assert set(island["road_ids"]) == {tambons["i1"], tambons["i2"]}
    assert island["n_roads"] == 2 and island["length_m"] == pytest.approx(2000.0, abs=1)
    assert [v["id"] for v in island["villages"]] == [tambons["v_island"]]
    assert island["population"] == 120
    # the island is 5.8 km from the main component at its nearest (m1's end at (2000, 0))
    assert island["distance_m"] == pytest.approx(np.hypot(3000, 5000), rel=1e-3)
    assert result.counts["island"] == len(result.islands) - 1


def islands_by_networkx(net) -> set[frozenset]:
    """Connected components of the noded network, by networkx, as sets of road ids."""
    g = nx.Graph()
    g.add_edges_from(zip(net.topo.source.tolist(), net.topo.target.tolist(), strict=True))
    road_of_edge = net.roads.ids[net.topo.road]
    node_comp = {n: i for i, comp in enumerate(nx.connected_components(g)) for n in comp}
    out: dict[int, set] = {}
    for e, road in enumerate(road_of_edge.tolist()):
        out.setdefault(node_comp[int(net.topo.source[e])], set()).add(road)
    return {frozenset(s) for s in out.values()}


def test_islands_equal_networkx_components(conn, tambons):
    result = check_network(conn)
    mine = {frozenset(i["road_ids"]) for i in result.islands}
    assert mine == islands_by_networkx(load_network(conn))
    assert len(mine) == 6  # main, c1, t1, g5+h, b1, island


def test_noded_graph_components_equal_networkx_on_the_demo(demo_conn):
    net = load_network(demo_conn)
    n, label = noded_graph_components(net.topo)
    mine: dict[int, set] = {}
    for e, road in enumerate(net.roads.ids[net.topo.road].tolist()):
        mine.setdefault(int(label[net.topo.source[e]]), set()).add(road)
    assert {frozenset(s) for s in mine.values()} == islands_by_networkx(net)
    result = check_network(demo_conn, network=net)
    assert {frozenset(i["road_ids"]) for i in result.islands if i["n_roads"] <= 50} == {
        s for s in islands_by_networkx(net) if len(s) <= 50
    }
    assert sum(i["n_roads"] for i in result.islands) == len(net.roads)
    assert sorted(i["n_roads"] for i in result.islands) == sorted(
        len(s) for s in islands_by_networkx(net)
    )
    assert result.islands[0]["main"] and result.islands[0]["main_by"] == "pao_office"


def test_tolerance_is_checked_and_stated(conn, tambons):
    assert check_network(conn).to_dict()["tolerance_m"] == DEFAULT_TOLERANCE_M
    for bad in (-1.0, float("nan"), 1e6):
        with pytest.raises(ValidationError, match="tolerance_m"):
            check_network(conn, tolerance_m=bad)


def test_fix_nodes_crossings_and_snaps_near_misses_so_routes_work(conn, tambons):
    for village in ("v_cross", "v_tee", "v_gap"):
        with pytest.raises(Unreachable):
            route(conn, "PAO", f"village:{tambons[village]}")
    before_history = conn.execute(text("SELECT count(*) FROM feature_history")).scalar_one()
    stamp_before = load_network(conn).stamp

    fixed = fix_network(conn)

    assert fixed.counts == {"crossing": 1, "near_miss": 2}
    changed = {c["road_id"] for c in fixed.changes}
    assert changed == {tambons[r] for r in ("m1", "c1", "g5")}  # t1's end is already on m1
    after = check_network(conn)
    assert of_kind(after, "crossing") == [] and of_kind(after, "near_miss") == []
    assert load_network(conn).stamp != stamp_before
    for village in ("v_cross", "v_tee", "v_gap"):
        r = route(conn, "PAO", f"village:{tambons[village]}")
        assert np.isfinite(r.length_m) and r.length_m > 0
    # the 5 m gap is closed by moving g5's start onto m1's end: the route runs m1, g5, h
    gap = route(conn, "PAO", f"village:{tambons['v_gap']}", by="distance")
    assert [s["road_id"] for s in gap.segments] == [tambons[r] for r in ("m1", "g5", "h")]
    geodesic = conn.execute(
        text("SELECT sum(length_m) FROM roads WHERE id IN (:a, :b, :c)"),
        {"a": tambons["m1"], "b": tambons["g5"], "c": tambons["h"]},
    ).scalar_one()
    assert gap.length_m == pytest.approx(geodesic, rel=1e-3)  # UTM vs geodesic
    # the history records every changed road, before and after
    rows = conn.execute(
        text(
            "SELECT feature_id, operation FROM feature_history "
            "WHERE layer = 'roads' AND id > 0 ORDER BY id"
        )
    ).all()
    assert conn.execute(text("SELECT count(*) FROM feature_history")).scalar_one() == (
        before_history + 3
    )
    assert {int(r[0]) for r in rows[-3:]} == changed
    # a second fix finds nothing to do
    again = fix_network(conn)
    assert again.counts == {"crossing": 0, "near_miss": 0} and again.changes == []


def test_fix_leaves_other_layers_and_far_gaps_alone(conn, tambons):
    geom_b1 = conn.execute(
        text("SELECT ST_AsText(geom) FROM roads WHERE id = :i"), {"i": tambons["b1"]}
    ).scalar_one()
    fixed = fix_network(conn, tolerance_m=4.0)
    assert fixed.counts == {"crossing": 1, "near_miss": 1}  # the 5 m gap is beyond 4 m
    assert tambons["g5"] not in {c["road_id"] for c in fixed.changes}
    assert (
        conn.execute(
            text("SELECT ST_AsText(geom) FROM roads WHERE id = :i"), {"i": tambons["b1"]}
        ).scalar_one()
        == geom_b1
    )


def test_fix_never_folds_a_road_back_onto_its_own_junction(conn):
    """As in Helsinki's OSM data: a way drawn north from a junction J0 (where another road
    ends) through J1, split there into two pieces, its loose end 3.9 m from J0. Snapping that
    end onto J0 would fold the second piece back onto the first (a duplicate road); the fix
    leaves it and says why."""
    ids = {}
    for name, xy in {
        "approach": ((0, -40), (0, 0)),
        "piece1": ((0, 0), (0, 2.2)),
        "piece2": ((0, 2.2), (0, 3.9)),
        "spur": ((0, 2.2), (30, 2.2)),  # makes J1 a junction, as the split way's neighbour
    }.items():
        ids[name] = conn.execute(
            t.roads.insert()
            .values(
                name_th=name,
                name_en=name,
                road_class="unregistered",
                surface="asphalt",
                geom=line(*xy),
            )
            .returning(t.roads.c.id)
        ).scalar_one()
    before = check_network(conn)
    assert before.counts["near_miss"] == 1
    fixed = fix_network(conn)
    assert fixed.counts["near_miss"] == 0 and fixed.roads_updated == []
    (left,) = fixed.left
    assert left["road_id"] == ids["piece2"] and "duplicate road" in left["reason"]
    assert fixed.after["duplicate"] == 0
    assert fixed.to_dict()["left"] == fixed.left


def test_fix_is_all_or_nothing(conn, tambons):
    # a real refusal by the database for one of the roads the fix changes (c1)
    sql = """
        CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.id = ROAD_ID THEN
                RAISE EXCEPTION 'road ROAD_ID is locked' USING ERRCODE = '23514';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER refuse_c1 BEFORE UPDATE ON roads
            FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse();
    """
    conn.exec_driver_sql(sql.replace("ROAD_ID", str(int(tambons["c1"]))))
    before = dict(conn.execute(text("SELECT id, ST_AsText(geom) FROM roads")).all())
    with pytest.raises(GisRegistryError, match="roads"):
        fix_network(conn)
    assert dict(conn.execute(text("SELECT id, ST_AsText(geom) FROM roads")).all()) == before
    assert len(of_kind(check_network(conn), "crossing")) == 1


def test_csv_has_one_row_per_finding(conn, tambons):
    from gis_registry.cli.network_check import findings_csv

    result = check_network(conn)
    rows = list(csv.DictReader(io.StringIO(findings_csv(result))))
    assert len(rows) == len(result.findings)
    assert {r["kind"] for r in rows} == {f["kind"] for f in result.findings}
    assert all(r["tolerance_m"] == str(DEFAULT_TOLERANCE_M) for r in rows)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_report_file_opens_with_every_finding(conn, tambons, tmp_path, suffix):
    import pyogrio

    from gis_registry.network.check import write_findings

    result = check_network(conn)
    path = write_findings(result, tmp_path / f"findings{suffix}")
    frame = pyogrio.read_dataframe(path)
    assert len(frame) == len(result.findings)
    assert frame.crs.to_epsg() == 4326
    assert set(frame["kind"]) == {f["kind"] for f in result.findings}


def test_report_file_of_unknown_kind_is_refused(conn, tambons, tmp_path):
    from gis_registry.network.check import write_findings

    with pytest.raises(ValidationError, match="report"):
        write_findings(check_network(conn), tmp_path / "findings.xyz")


@contextlib.contextmanager
def committed_tambons(settings, suffix: str):
    """A throw-away database holding the two tambons, committed (the CLI and the API open
    their own connections). Yields (url, ids)."""
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database

    url = create_test_database(settings, suffix=suffix)
    eng = make_engine(settings, url=url)
    upgrade(eng)
    with eng.begin() as c:
        ids = build_two_tambons(c)
    eng.dispose()
    try:
        yield url, ids
    finally:
        drop_test_database(url)


@pytest.fixture()
def cli(monkeypatch, tmp_path):
    from gis_registry.cli import app

    monkeypatch.setenv("GIS_REGISTRY_HOME", str(tmp_path / "home"))
    runner = CliRunner()

    def invoke(url: str, *args: str):
        monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", url)
        return runner.invoke(app, list(args))

    return invoke


def test_cli_json_api_and_registry_agree(settings, cli, tmp_path):
    from gis_registry.registry import Registry
    from tests.api.conftest import make_client

    with committed_tambons(settings, "_netcheck_test") as (url, ids):
        text_out = cli(url, "network", "check")
        assert text_out.exit_code == 0, text_out.output
        assert f"tolerance {DEFAULT_TOLERANCE_M:g} m" in text_out.stdout
        assert "crossing" in text_out.stdout and "บ้าน v_island" in text_out.stdout
        as_json = cli(url, "network", "check", "--json")
        assert as_json.exit_code == 0, as_json.output
        from_cli = json.loads(as_json.stdout)
        from_registry = Registry.connect(url).network_check().to_dict()
        with make_client(url) as client:
            answer = client.get("/analysis/network/check")
            assert answer.status_code == 200, answer.text
            assert answer.json() == from_cli == from_registry
            assert client.get("/analysis/network/check?tolerance_m=4").json()["tolerance_m"] == 4
            bad = client.get("/analysis/network/check?tolerance_m=-3")
            assert bad.status_code == 400 and "tolerance_m" in bad.text
        assert from_cli["counts"]["crossing"] == 1 and from_cli["counts"]["near_miss"] == 2
        as_csv = cli(url, "network", "check", "--csv")
        assert len(list(csv.DictReader(io.StringIO(as_csv.stdout)))) == len(from_cli["findings"])
        report = tmp_path / "findings.gpkg"
        written = cli(url, "network", "check", "--report", str(report))
        assert written.exit_code == 0 and report.exists()
        bad = cli(url, "network", "check", "--tolerance-m", "-3")
        assert bad.exit_code == 1 and "tolerance_m" in bad.output


def test_cli_fix_commits_and_reports(settings, cli):
    with committed_tambons(settings, "_netfix_test") as (url, ids):
        fixed = cli(url, "network", "check", "--fix")
        assert fixed.exit_code == 0, fixed.output
        assert "noded 1 crossing" in fixed.stdout and "snapped 2 near miss" in fixed.stdout
        again = json.loads(cli(url, "network", "check", "--json").stdout)
        assert again["counts"]["crossing"] == 0 and again["counts"]["near_miss"] == 0
        routed = cli(url, "route", "PAO", f"village:{ids['v_gap']}", "--json")
        assert routed.exit_code == 0, routed.output


def test_network_map_draws_the_checks_findings(conn, tambons):
    import folium

    from gis_registry.maps.catalog import build_map
    from gis_registry.network.check import KIND_LABELS

    result = check_network(conn)
    m = build_map(conn, "network")
    layers = {c.layer_name: c for c in m._children.values() if isinstance(c, folium.GeoJson)}
    for kind, n in result.counts.items():
        name = f"{KIND_LABELS[kind][0]} · {KIND_LABELS[kind][1]} ({n:,})"
        if n:
            assert len(layers[name].data["features"]) == n
        else:
            assert name not in layers
    page = m.get_root().render()
    for th, en in KIND_LABELS.values():  # a legend row per kind, found or not
        assert th in page and en in page
    assert f"tolerance {DEFAULT_TOLERANCE_M:g} m" in page
    roads = next(v for k, v in layers.items() if k.startswith("ทาง ("))
    island_roads = {f["id"] for f in roads.data["features"] if f["properties"]["island"] != ""}
    assert {tambons["i1"], tambons["i2"], tambons["c1"]} <= island_roads
    assert tambons["m1"] not in island_roads


def test_empty_registry_has_nothing_to_find(conn):
    result = check_network(conn)
    assert set(result.counts.values()) == {0} and result.islands == []
    assert fix_network(conn).changes == []


def test_crossings_equal_geos_on_random_segments(conn):
    """The numpy segment intersections against GEOS's ``crosses`` on 400 random roads (two
    layers), roads meeting nowhere but where they cross."""
    from gis_registry.network.attach import read_places
    from gis_registry.network.check import analyse
    from gis_registry.network.model import build_network
    from gis_registry.network.sources import BridgeArrays
    from gis_registry.network.topology import road_arrays

    rng = np.random.default_rng(7)
    n = 400
    xy = rng.uniform(0, 3000, size=(n, 3, 2))  # three vertices: crossings through vertices too
    ll = np.array([pt(x, y) for x, y in xy.reshape(-1, 2)])
    layer = rng.integers(0, 2, n)
    roads = road_arrays(
        np.arange(1, n + 1),
        ll,
        np.arange(0, 3 * n + 1, 3),
        road_class=np.zeros(n, int),
        surface=np.zeros(n, int),
        oneway=np.zeros(n, bool),
        layer=layer,
        metric_srid=32647,
    )
    empty = BridgeArrays(
        np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 2))
    )
    net = build_network(roads, empty, lambda nxy, srid: read_places(conn, nxy, metric_srid=srid))
    mine = {frozenset(f["road_ids"]) for f in analyse(net, 6.0).findings if f["kind"] == "crossing"}
    lines = shapely.linestrings(roads.xy, indices=np.repeat(np.arange(n), 3))
    a, b = shapely.STRtree(lines).query(lines, predicate="crosses")
    keep = (a < b) & (layer[a] == layer[b])
    expected = set()
    for i, j in zip(a[keep], b[keep], strict=True):
        ends = shapely.multipoints(roads.xy[[3 * i, 3 * i + 2, 3 * j, 3 * j + 2]])
        for where in shapely.get_parts(shapely.intersection(lines[i], lines[j])):
            if shapely.distance(where, ends) > 1.0 + 1e-6:  # not a T-junction onto a road end
                expected.add(frozenset({int(roads.ids[i]), int(roads.ids[j])}))
    assert len(expected) > 100
    assert mine == expected
