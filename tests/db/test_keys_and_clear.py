"""Natural keys (0004) held by the database, clearing layers, and a demo load that refuses to
replace data it did not load."""

from __future__ import annotations

from datetime import date

import pytest
from shapely.geometry import LineString, Point, box
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from gis_registry.db.tables import LAYERS
from gis_registry.errors import GisRegistryError, NotFound
from gis_registry.io.clear import clear_layers, count_rows_to_clear
from gis_registry.queries.features import insert_features

pytestmark = pytest.mark.db


def scalar(conn: Connection, sql: str, **params):
    return conn.execute(text(sql), params).scalar_one()


def refused(conn: Connection, sql: str) -> str:
    """The constraint that refused ``sql`` (run in a savepoint, so ``conn`` stays usable)."""
    with pytest.raises(IntegrityError) as info, conn.begin_nested():
        conn.execute(text(sql))
    return info.value.orig.diag.constraint_name


def build_world(conn: Connection) -> dict[str, int]:
    """A district, an LGO, a river, a road with a bridge over the river, a water source, and
    an inspection of each asset plus a work on the road."""
    ids: dict[str, int] = {}
    area = box(99.40, 18.20, 99.60, 18.40)
    insert_features(
        conn,
        "districts",
        [{"code": "5201", "name_th": "เมือง", "name_en": "Mueang", "office": Point(99.5, 18.3)}],
    )
    (ids["lgo"],) = insert_features(
        conn,
        "local_bodies",
        [
            {
                "code": "520101",
                "name_th": "อบต.ทดสอบ",
                "name_en": "Test SAO",
                "kind": "sao",
                "district_code": "5201",
                "tambon_code": "520101",
                "boundary": area,
                "office": Point(99.45, 18.25),
            }
        ],
    )
    (ids["river"],) = insert_features(
        conn,
        "rivers",
        [
            {
                "code": "R-01",
                "name_th": "แม่น้ำวัง",
                "name_en": "Wang",
                "geom": LineString([(99.505, 18.25), (99.505, 18.35)]),
            }
        ],
    )
    (ids["road"],) = insert_features(
        conn,
        "roads",
        [
            {
                "code": "1035",
                "segment": 1,
                "name_th": "ทางหลวง 1035",
                "name_en": "Highway 1035",
                "road_class": "national",
                "owner_agency": "DOH",
                "surface": "asphalt",
                "geom": LineString([(99.50, 18.30), (99.51, 18.30)]),
            }
        ],
    )
    (ids["bridge"],) = insert_features(
        conn,
        "bridges",
        [
            {
                "code": "B-0001",
                "road_id": ids["road"],
                "river_id": ids["river"],
                "name_th": "สะพาน",
                "name_en": "Bridge",
                "structure_type": "slab",
                "material": "reinforced_concrete",
                "length_m": 20.0,
                "geom": Point(99.505, 18.30),
            }
        ],
    )
    (ids["water"],) = insert_features(
        conn,
        "water_points",
        [
            {
                "code": "W-520101-001",
                "name_th": "บ่อบาดาล",
                "name_en": "Well",
                "kind": "groundwater_well",
                "owner_local_body_id": ids["lgo"],
                "geom": Point(99.45, 18.26),
            }
        ],
    )
    insert_features(
        conn,
        "inspections",
        [
            {
                "code": f"I-00000{i}",
                f"{asset}_id": ids[key],
                "inspected_on": date(2025, 1, 10),
                "condition_score": 3,
                "condition_scale": "score_1_5",
            }
            for i, (asset, key) in enumerate(
                [("road", "road"), ("bridge", "bridge"), ("water_source", "water")], start=1
            )
        ],
    )
    insert_features(
        conn,
        "maintenance_works",
        [
            {
                "code": "MW-2569-0001",
                "road_id": ids["road"],
                "treatment": "routine",
                "planned_start": date(2026, 2, 1),
                "cost_thb": 50_000,
                "fiscal_year": 2569,
                "funding_body": "pao",
            }
        ],
    )
    return ids


# -- keys held by the database -------------------------------------------------------------


def test_dpt_categories_are_reference_data_after_migrate(conn):
    from gis_registry.demo.facts import load_facts
    from gis_registry.demo.zoning import category_frame

    rows = conn.execute(
        text(
            "SELECT key, codes, name_th, name_en, colour_name, fill, stroke, hatch, sort_order "
            "FROM zoning_categories ORDER BY sort_order"
        )
    ).all()
    demo = category_frame(load_facts())
    assert len(rows) == 15
    # the migration's literal rows and the demo's CSV say the same (a CSV change needs a
    # migration of its own)
    assert [tuple(r) for r in rows] == [
        tuple(r) for r in demo[list(rows[0]._fields)].itertuples(index=False)
    ]
    assert scalar(conn, "SELECT colour_name FROM zoning_categories WHERE key = 'warehouse'") == (
        "mauve"
    )


def test_duplicate_codes_are_refused_by_the_database(conn):
    water = (
        "INSERT INTO water_points (code, name_th, name_en, kind, geom) "
        "VALUES ('W-52-001', 'สระ', 'Pond', 'pond', ST_SetSRID(ST_Point(99.5, 18.3), 4326))"
    )
    conn.execute(text(water))
    assert refused(conn, water) == "uq_water_points_code"
    # unique across the three water tables too (0008: a trigger, as one index cannot span them)
    area = (
        "INSERT INTO water_areas (code, name_th, name_en, kind, geom) VALUES ('W-52-001', 'อ่าง',"
        " 'Reservoir', 'reservoir', ST_Multi(ST_MakeEnvelope(99.5, 18.3, 99.51, 18.31, 4326)))"
    )
    assert refused(conn, area) == "water_source_unique"
    for table in ("rivers", "bridges", "zoning_plans", "zoning_zones", "hazard_areas"):
        assert scalar(
            conn,
            "SELECT count(*) FROM pg_constraint WHERE conname = :name AND contype = 'u'",
            name=f"uq_{table}_code",
        ), table


def test_roads_are_keyed_by_code_and_segment(conn):
    def road(code: str, segment: str) -> str:
        return (
            "INSERT INTO roads (code, segment, name_th, name_en, road_class, surface, geom) "
            f"VALUES ({code}, {segment}, 'ถนน', 'Road', 'national', 'asphalt', "
            "ST_SetSRID(ST_MakeLine(ST_Point(99.5, 18.3), ST_Point(99.51, 18.3)), 4326))"
        )

    conn.execute(text(road("'1035'", "1")))
    conn.execute(text(road("'1035'", "2")))
    conn.execute(text(road("'11'", "1")))
    assert refused(conn, road("'1035'", "2")) == "uq_roads_code_segment"
    assert refused(conn, road("'1035'", "0")) == "ck_roads_segment_positive"
    # rows without a segment are not keyed: any number of them
    conn.execute(text(road("'1035'", "NULL")))
    conn.execute(text(road("'1035'", "NULL")))


def test_tambon_code_is_a_tambon_of_the_district(conn):
    conn.execute(
        text(
            "INSERT INTO districts (code, name_th, name_en, office) "
            "VALUES ('5201', 'เมือง', 'Mueang', ST_SetSRID(ST_Point(99.5, 18.3), 4326))"
        )
    )

    def lgo(code: str, tambon: str) -> str:
        return (
            "INSERT INTO local_bodies (code, name_th, name_en, kind, district_code, tambon_code, "
            f"boundary, office) VALUES ('{code}', 'อบต.', 'SAO', 'sao', '5201', {tambon}, "
            "ST_Multi(ST_MakeEnvelope(99.4, 18.2, 99.6, 18.4, 4326)), "
            "ST_SetSRID(ST_Point(99.5, 18.3), 4326))"
        )

    conn.execute(text(lgo("520101", "'520105'")))
    conn.execute(text(lgo("520102", "'520105'")))  # a municipality and an SAO share a tambon
    assert refused(conn, lgo("520103", "'52010'")) == "ck_local_bodies_tambon_code_format"
    assert refused(conn, lgo("520104", "'520201'")) == "ck_local_bodies_tambon_in_district"


# -- clearing ------------------------------------------------------------------------------


def test_clear_counts_cascades_and_respects_restrict(conn):
    build_world(conn)
    assert count_rows_to_clear(conn, ["water_points"]) == {"water_points": 1, "inspections": 1}
    # the reference a trigger holds names an id of one water table: the well's stays
    assert count_rows_to_clear(conn, ["water_areas"]) == {"water_areas": 0}
    assert count_rows_to_clear(conn, ["water_sources"]) == {  # all three
        "water_points": 1,
        "water_areas": 0,
        "water_lines": 0,
        "inspections": 1,
    }
    with pytest.raises(GisRegistryError, match="1 bridges still refer.*clear bridges too"):
        count_rows_to_clear(conn, ["roads"])
    both = count_rows_to_clear(conn, ["bridges", "roads"])
    assert both == {"roads": 1, "bridges": 1, "inspections": 2, "maintenance_works": 1}
    with pytest.raises(NotFound, match="'rods'.*roads, bridges"):
        count_rows_to_clear(conn, ["rods"])


def test_clear_deletes_what_it_counted_and_records_no_history(conn):
    ids = build_world(conn)
    history = scalar(conn, "SELECT count(*) FROM feature_history")
    # SET NULL: the bridge stays, without its river
    assert clear_layers(conn, ["rivers"]) == {"rivers": 1}
    assert scalar(conn, "SELECT river_id FROM bridges WHERE id = :id", id=ids["bridge"]) is None
    expected = count_rows_to_clear(conn, ["roads", "bridges"])
    assert clear_layers(conn, ["roads", "bridges"]) == expected
    assert scalar(conn, "SELECT count(*) FROM inspections") == 1  # the water source's
    assert scalar(conn, "SELECT count(*) FROM maintenance_works") == 0
    assert scalar(conn, "SELECT count(*) FROM feature_history") == history
    # history is recorded again afterwards, in the same transaction
    conn.execute(text("DELETE FROM inspections"))
    assert scalar(conn, "SELECT count(*) FROM feature_history") == history + 1


def test_clear_all_spares_users_but_not_their_lgo_link(conn):
    ids = build_world(conn)
    conn.execute(
        text("INSERT INTO users (username, role, local_body_id) VALUES ('somchai', 'editor', :lb)"),
        {"lb": ids["lgo"]},
    )
    with pytest.raises(GisRegistryError, match="1 users still refer.*change them first"):
        clear_layers(conn, None)
    conn.execute(text("UPDATE users SET local_body_id = NULL"))
    done = clear_layers(conn, None)  # all but the reference data
    assert list(done) == [layer for layer in LAYERS if layer != "zoning_categories"]
    assert done["inspections"] == 3
    assert all(scalar(conn, f"SELECT count(*) FROM {layer}") == 0 for layer in done)
    assert scalar(conn, "SELECT count(*) FROM zoning_categories") == 15
    assert scalar(conn, "SELECT count(*) FROM users") == 1
    assert clear_layers(conn, []) == {}


# -- the demo: provenance and protection ---------------------------------------------------


def test_demo_load_is_recorded_per_layer(demo_conn, demo_engine):
    rows = demo_conn.execute(
        text("SELECT layer, source, mode, path, inserted, deleted FROM data_loads ORDER BY id")
    ).all()
    assert [r.layer for r in rows] == list(LAYERS)
    assert {(r.source, r.mode, r.path) for r in rows} == {("demo", "replace", "seed=52 scale=1")}
    # a fresh registry held only the reference categories, which the demo replaced
    assert {r.layer: r.deleted for r in rows if r.deleted} == {"zoning_categories": 15}
    assert {r.layer: r.inserted for r in rows} == demo_engine.demo_report.counts


def test_demo_refuses_to_replace_imported_data(demo_conn):
    from gis_registry.demo import check_replaceable

    check_replaceable(demo_conn)  # the demo's own data: fine
    demo_conn.execute(
        text(
            "INSERT INTO data_loads (source, layer, path, mode, inserted) "
            "VALUES ('import', 'water_sources', 'wells.gpkg', 'append', 12)"
        )
    )
    with pytest.raises(GisRegistryError) as info:
        check_replaceable(demo_conn)
    message = str(info.value)
    assert "\n" not in message and "use --force" in message
    assert "water_sources came from import of wells.gpkg" in message
    roads = scalar(demo_conn, "SELECT count(*) FROM roads")
    assert f"{roads:,} roads" in message and "zoning_categories" not in message


@pytest.fixture(scope="module")
def scratch(settings):
    """A throw-away database and a small planned province to load into it."""
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database
    from gis_registry.demo import plan_demo

    url = create_test_database(settings, suffix="_keys_test")
    eng = make_engine(settings, url=url)
    upgrade(eng)
    yield eng, url, plan_demo(seed=52, scale=0.2)
    eng.dispose()
    drop_test_database(url)


def test_demo_load_keeps_users_and_refuses_foreign_data(scratch, monkeypatch):
    from gis_registry.cli import app
    from gis_registry.demo import load_demo, load_plan, registry_is_empty

    eng, url, plan = scratch
    with eng.begin() as conn:
        clear_layers(conn, None)
        conn.execute(text("DELETE FROM data_loads"))
    assert registry_is_empty(eng)
    with eng.begin() as conn:
        build_world(conn)  # data nobody recorded loading
    assert not registry_is_empty(eng)
    with pytest.raises(GisRegistryError, match="no demo load is recorded.*use --force"):
        load_plan(eng, plan)
    with pytest.raises(GisRegistryError, match="use --force"):
        load_demo(eng, seed=52, scale=0.2)  # refused before planning
    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["demo", "--scale", "0.2"])
    assert result.exit_code == 1 and "use --force" in result.output
    result = CliRunner().invoke(app, ["demo", "--if-empty"])
    assert result.exit_code == 0 and "leaving it as it is" in result.output

    with eng.begin() as conn:
        lgo = scalar(conn, "SELECT id FROM local_bodies WHERE code = '520101'")
        conn.execute(
            text("INSERT INTO users (username, role, local_body_id) VALUES ('nok', 'editor', :lb)"),
            {"lb": lgo},
        )
    counts, _ = load_plan(eng, plan, force=True)
    city = plan["local_bodies"].set_index("kind").at["city_municipality", "code"]
    with eng.begin() as conn:
        # the world's 520101 is no LGO of the demo: the editor stays, detached
        assert scalar(conn, "SELECT local_body_id FROM users WHERE username = 'nok'") is None
        conn.execute(
            text(
                "UPDATE users SET local_body_id = (SELECT id FROM local_bodies WHERE code = :c) "
                "WHERE username = 'nok'"
            ),
            {"c": city},
        )
    load_plan(eng, plan)  # the data is the demo's now
    with eng.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM roads") == counts["roads"]
        # the editor is attached again to the LGO of the same code
        assert (
            scalar(
                conn,
                "SELECT lb.code FROM users u JOIN local_bodies lb ON lb.id = u.local_body_id "
                "WHERE u.username = 'nok'",
            )
            == city
        )
        last = conn.execute(
            text("SELECT path, deleted FROM data_loads WHERE layer = 'roads' ORDER BY id")
        ).all()
        assert [tuple(r) for r in last] == [
            ("seed=52 scale=0.2", 1),
            ("seed=52 scale=0.2", counts["roads"]),
        ]
        conn.execute(
            text("INSERT INTO data_loads (source, layer, mode) VALUES ('osm', 'roads', 'append')")
        )
        conn.commit()
    with pytest.raises(GisRegistryError, match="roads came from osm after the last demo load"):
        load_plan(eng, plan)


# -- the clear command ---------------------------------------------------------------------


@pytest.fixture()
def cli(scratch, monkeypatch):
    """The CLI on the scratch database, which holds the small world and nothing else."""
    from gis_registry.cli import app

    eng, url, _ = scratch
    with eng.begin() as conn:
        conn.execute(text("DELETE FROM users"))
        clear_layers(conn, None)
        build_world(conn)
    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", url)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    def count(table: str) -> int:
        with eng.connect() as conn:
            return scalar(conn, f"SELECT count(*) FROM {table}")

    invoke.count = count
    return invoke


def test_clear_cli_needs_layers_and_confirmation(cli, monkeypatch):
    assert cli("clear").exit_code == 2
    assert cli("clear", "roads", "--all").exit_code == 2
    result = cli("clear", "water_sources")  # no terminal, no --yes
    assert result.exit_code == 1
    assert "will delete 1 water_points, 1 inspections (cascade)" in result.output
    assert "--yes" in result.output and cli.count("water_sources") == 1
    result = cli("clear", "nope", "--yes")
    assert result.exit_code == 1 and "unknown layer 'nope'" in result.output
    result = cli("clear", "roads", "--yes")
    assert result.exit_code == 1 and "clear bridges too" in result.output

    monkeypatch.setattr("gis_registry.cli.data.interactive", lambda: True)
    assert cli("clear", "water_sources", input="n\n").exit_code == 1
    assert cli.count("water_sources") == 1
    result = cli("clear", "water_sources", input="y\n")
    assert result.exit_code == 0, result.output
    assert "deleted 1 water_points, 1 inspections (cascade)" in result.output
    assert cli.count("water_sources") == 0 and cli.count("inspections") == 2


def test_clear_cli_all_with_yes(cli):
    categories = cli.count("zoning_categories")
    result = cli("clear", "--all", "--yes")
    assert result.exit_code == 0, result.output
    assert "1 roads" in result.output and "zoning_categories" not in result.output
    # the DPT palette is reference data: --all leaves it, naming it clears it
    assert cli.count("roads") == 0 and cli.count("zoning_categories") == categories
    result = cli("clear", "zoning_categories", "--yes")
    assert result.exit_code == 0 and f"{categories} zoning_categories" in result.output
    assert cli.count("zoning_categories") == 0
    result = cli("clear", "rivers", "--yes")
    assert result.exit_code == 0 and "nothing to delete" in result.output
