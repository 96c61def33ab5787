"""The demo province in PostGIS: what the database itself says about the loaded data."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from gis_registry.db.tables import LAYERS

pytestmark = pytest.mark.db


def scalar(conn, sql: str, **params):
    return conn.execute(text(sql), params).scalar_one()


def test_counts_match_the_plan(demo_conn, demo_engine):
    report = demo_engine.demo_report
    for layer in LAYERS:
        assert scalar(demo_conn, f"SELECT count(*) FROM {layer}") == report.counts[layer], layer
    assert report.seed == 52 and report.scale == 1
    assert len(report.weak_links) >= 3


def test_villages_within_their_lgo(demo_conn):
    outside = scalar(
        demo_conn,
        """
        SELECT count(*) FROM settlements s JOIN local_bodies lb ON lb.id = s.local_body_id
        WHERE lb.kind = 'pao' OR NOT ST_Within(s.geom, lb.boundary)""",
    )
    assert outside == 0


def test_lgos_tile_the_pao(demo_conn):
    overlap = scalar(
        demo_conn,
        """
        SELECT coalesce(sum(ST_Area(ST_Transform(ST_Intersection(a.boundary, b.boundary),
                                                 32647))), 0)
        FROM local_bodies a JOIN local_bodies b
          ON a.id < b.id AND ST_Intersects(a.boundary, b.boundary)
        WHERE a.kind <> 'pao' AND b.kind <> 'pao'""",
    )
    assert overlap < 1.0  # m2, all pairs together
    union_km2, pao_km2 = demo_conn.execute(
        text("""
        SELECT (SELECT ST_Area(ST_Union(boundary)::geography) / 1e6
                FROM local_bodies WHERE kind <> 'pao'),
               (SELECT area_km2 FROM local_bodies WHERE kind = 'pao')""")
    ).one()
    assert abs(union_km2 - pao_km2) / pao_km2 < 1e-6
    assert (
        scalar(
            demo_conn,
            """
        SELECT count(*) FROM local_bodies WHERE NOT ST_Within(office, boundary)""",
        )
        == 0
    )
    assert (
        scalar(
            demo_conn,
            """
        SELECT count(*) FROM districts d WHERE NOT ST_Within(d.office, d.boundary)""",
        )
        == 0
    )


def test_bridges_on_their_road_and_over_a_river(demo_conn):
    bad = scalar(
        demo_conn,
        """
        SELECT count(*) FROM bridges b
        JOIN roads r ON r.id = b.road_id
        JOIN rivers v ON v.id = b.river_id
        WHERE NOT ST_DWithin(b.geom::geography, r.geom::geography, 10)
           OR NOT ST_DWithin(b.geom::geography, v.geom::geography, 10)
           OR r.length_m NOT BETWEEN 9.9 AND 100.1""",
    )
    assert bad == 0
    # no road crosses a river except on a bridge segment
    unbridged = scalar(
        demo_conn,
        """
        SELECT count(*) FROM roads r JOIN rivers v ON ST_Intersects(r.geom, v.geom)
        WHERE NOT EXISTS (SELECT 1 FROM bridges b WHERE b.road_id = r.id)""",
    )
    assert unbridged == 0


def test_roads_are_sane(demo_conn):
    assert scalar(demo_conn, "SELECT count(*) FROM roads WHERE NOT length_m > 0") == 0
    km = scalar(demo_conn, "SELECT sum(length_m) / 1000 FROM roads")
    assert 5_000 < km < 40_000
    # segments meet only at shared end points
    crossing = scalar(
        demo_conn,
        """
        SELECT count(*) FROM roads a JOIN roads b
          ON a.id < b.id AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
        WHERE a.layer = b.layer AND NOT ST_Touches(a.geom, b.geom)""",
    )
    assert crossing == 0


def test_fiscal_years_and_dates(demo_conn):
    assert (
        scalar(
            demo_conn,
            """
        SELECT count(*) FROM maintenance_works
        WHERE fiscal_year <> EXTRACT(YEAR FROM planned_start + INTERVAL '3 months')::int + 543
        """,
        )
        == 0
    )
    years = (
        demo_conn.execute(text("SELECT DISTINCT fiscal_year FROM maintenance_works ORDER BY 1"))
        .scalars()
        .all()
    )
    assert years == [2565, 2566, 2567, 2568, 2569, 2570]
    assert (
        scalar(
            demo_conn,
            """
        SELECT count(*) FROM inspections
        WHERE inspected_on NOT BETWEEN DATE '2021-10-01' AND DATE '2026-09-30'""",
        )
        == 0
    )


def test_thai_text_is_utf8(demo_conn):
    name = scalar(demo_conn, "SELECT name_th FROM local_bodies WHERE kind = 'pao'")
    assert name == "องค์การบริหารส่วนจังหวัดลำปาง"
    assert scalar(demo_conn, "SELECT count(*) FROM roads WHERE code LIKE 'ลป.ถ. 1-%'") > 0


def test_sequences_continue_after_the_demo(demo_conn):
    for layer, table in LAYERS.items():
        if "id" in table.columns:
            # the water tables share one sequence (0008): it goes on after the last of them
            shared = table.c.id.server_default is not None
            sequence = (
                "'water_source_ids'" if shared else f"pg_get_serial_sequence('{layer}', 'id')"
            )
            nxt = scalar(demo_conn, f"SELECT nextval({sequence})")
            top = scalar(
                demo_conn,
                f"SELECT coalesce(max(id), 0) FROM {'water_sources' if shared else layer}",
            )
            assert nxt > top, layer


@pytest.fixture(scope="module")
def scratch_engine(settings):
    """A throw-away database for loading and reloading (never the shared test databases)."""
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database

    eng = make_engine(settings, url=create_test_database(settings, suffix="_demo_reload_test"))
    upgrade(eng)
    yield eng
    eng.dispose()


def test_reload_is_idempotent_and_small_scales_load(scratch_engine):
    from gis_registry.demo import load_demo, registry_is_empty

    assert registry_is_empty(scratch_engine)
    first = load_demo(scratch_engine, seed=52, scale=0.2)
    assert not registry_is_empty(scratch_engine)
    second = load_demo(scratch_engine, seed=52, scale=0.2)
    assert first.counts == second.counts and first.weak_links == second.weak_links
    with scratch_engine.connect() as conn:
        for layer in LAYERS:
            assert scalar(conn, f"SELECT count(*) FROM {layer}") == second.counts[layer]
        assert (
            scalar(conn, "SELECT count(DISTINCT village_code) FROM settlements")
            == second.counts["settlements"]
        )
        assert scalar(conn, "SELECT max(id) FROM roads") == second.counts["roads"]
    bigger = load_demo(scratch_engine, seed=52, scale=2)
    assert bigger.counts["roads"] > 4 * first.counts["roads"]
    assert bigger.counts["settlements"] > 1700


def test_every_record_has_its_natural_key(demo_conn):
    from gis_registry.io.keys import NATURAL_KEYS

    patterns = {
        "rivers": r"^R-[0-9]{2}$",
        "bridges": r"^B-[0-9]{4,}$",
        "water_sources": r"^W-(52|[2-5]52[0-9]{4}|[A-Z]+)-[0-9]{3,}$",
        "zoning_plans": r"^LP-CITY-25[0-9]{2}$",
        "zoning_zones": r"^LP-CITY-25[0-9]{2}-.+$",
        "hazard_areas": r"^(FL|LS)-[0-9]{3}$",
        "inspections": r"^I-[0-9]{6,}$",
        "maintenance_works": r"^MW-25[0-9]{2}-[0-9]{4,}$",
    }
    for layer, pattern in patterns.items():
        bad = scalar(
            demo_conn, f"SELECT count(*) FROM {layer} WHERE code IS NULL OR code !~ :p", p=pattern
        )
        assert bad == 0, layer
    for layer, key in NATURAL_KEYS.items():
        cols = ", ".join(key)
        dupes = scalar(
            demo_conn,
            f"SELECT count(*) FROM (SELECT {cols} FROM {layer} GROUP BY {cols} "
            "HAVING count(*) > 1) d",
        )
        assert dupes == 0, layer
    # segments run 1..n along each road code, in id order
    gaps = scalar(
        demo_conn,
        """
        SELECT count(*) FROM (
            SELECT segment, row_number() OVER (PARTITION BY code ORDER BY id) AS n FROM roads
        ) s WHERE segment IS DISTINCT FROM n""",
    )
    assert gaps == 0
    # a work's code carries its fiscal year; an inspection's and a bridge's, the id
    assert (
        scalar(
            demo_conn,
            "SELECT count(*) FROM maintenance_works WHERE code NOT LIKE "
            "'MW-' || fiscal_year || '-%'",
        )
        == 0
    )
    assert scalar(demo_conn, "SELECT code FROM bridges WHERE id = 7") == "B-0007"
    # every LGO but the PAO is seated in a real tambon, and its code is never a DOPA code
    assert scalar(demo_conn, "SELECT count(tambon_code) FROM local_bodies") == 102
    assert (
        scalar(
            demo_conn,
            "SELECT count(*) FROM local_bodies WHERE kind <> 'pao' "
            "AND (code !~ '^[2-5][0-9]{6}$' OR substr(code, 2) <> tambon_code)",
        )
        == 0
    )


def test_bridges_on_registered_roads_carry_their_chainage(demo_conn):
    from gis_registry.chainage import on_road

    rows = demo_conn.execute(
        text(
            "SELECT r.code, b.chainage_m, r.chainage_start_m, r.chainage_end_m FROM bridges b "
            "JOIN roads r ON r.id = b.road_id WHERE r.road_class = 'national'"
        )
    ).all()
    assert rows
    for code, at, start, end in rows:
        assert min(start, end) - 0.1 <= at <= max(start, end) + 0.1, code
    code, at, _, _ = rows[0]
    assert re.fullmatch(rf"{code} กม\. \d+\+\d{{3}}", on_road(code, at))
