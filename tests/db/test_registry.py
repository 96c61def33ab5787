"""The analyst library: GeoDataFrames with a CRS, filters, validated writes."""

import geopandas as gpd
import pytest
from shapely.geometry import Point

from gis_registry import Registry
from gis_registry.db import make_engine
from gis_registry.db.migrate import upgrade
from gis_registry.db.tables import roads as roads_table
from gis_registry.db.testing import create_test_database, drop_test_database
from gis_registry.errors import ConstraintViolation, NotFound, ValidationError
from tests.fixtures.world import build_world

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def reg(settings):
    url = create_test_database(settings, suffix="_registry_test")
    engine = make_engine(settings, url=url)
    upgrade(engine)
    with engine.begin() as conn:
        ids = build_world(conn)
    registry = Registry(engine)
    registry.ids = ids
    yield registry
    engine.dispose()
    drop_test_database(url)


def test_layers_are_geodataframes_in_4326(reg):
    roads = reg.roads()
    assert isinstance(roads, gpd.GeoDataFrame)
    assert roads.crs.to_epsg() == 4326
    assert roads.loc[0, "name_th"] == "ถนนทดสอบ"
    assert roads.loc[0, "length_m"] == pytest.approx(6340, rel=0.01)


def test_bbox_and_property_filters(reg):
    assert len(reg.roads(bbox=(99.44, 18.29, 99.46, 18.31))) == 1
    assert len(reg.roads(bbox=(99.0, 17.0, 99.1, 17.1))) == 0
    assert len(reg.roads(surface="asphalt")) == 1
    assert len(reg.roads(surface=["laterite", "earth"])) == 0
    assert len(reg.roads(where=roads_table.c.width_m > 5)) == 1
    assert len(reg.roads(where=roads_table.c.width_m > 50)) == 0


def test_unknown_filter_field_is_clear(reg):
    with pytest.raises(ValidationError, match="'colour': unknown field"):
        reg.roads(colour="red")
    with pytest.raises(NotFound, match="unknown layer 'railways'"):
        reg.read("railways")


def test_unknown_vocabulary_value_is_refused_not_an_empty_frame(reg):
    with pytest.raises(ValidationError, match="'gravel' is not one of asphalt, concrete"):
        reg.roads(surface=["gravel", "asphalt"])
    assert len(reg.roads(surface=["asphalt", "laterite"])) >= 0  # known values still filter


def test_local_bodies_boundary_or_office(reg):
    boundaries = reg.local_bodies()
    offices = reg.local_bodies(geometry="office")
    assert set(boundaries.geom_type) == {"MultiPolygon"}
    assert set(offices.geom_type) == {"Point"}
    assert set(boundaries["office"].geom_type) == {"Point"}
    assert (boundaries["kind"] == "pao").sum() == 1


def test_add_from_geodataframe_in_utm_is_reprojected(reg):
    frame = gpd.GeoDataFrame(
        {
            "name_th": ["สระหนองใหม่"],
            "name_en": ["Nong Mai pond"],
            "kind": ["pond"],
            "capacity_m3": [12000.0],
            "owner_local_body_id": [reg.ids["sao"]],
        },
        geometry=[Point(552000, 2023500)],
        crs="EPSG:32647",
    )
    (new_id,) = reg.add("water_points", frame)
    try:
        stored = reg.water_sources(id=new_id)
        assert stored.crs.to_epsg() == 4326
        x, y = stored.geometry.iloc[0].x, stored.geometry.iloc[0].y
        assert 99.0 < x < 100.0 and 18.0 < y < 19.0
        assert stored.loc[0, "name_th"] == "สระหนองใหม่"
    finally:
        reg.delete("water_points", new_id)


def test_failed_add_writes_nothing(reg):
    before = len(reg.settlements())
    good = {
        "name_th": "บ้าน",
        "name_en": "Ban",
        "local_body_id": reg.ids["sao"],
        "population": 10,
        "households": 3,
        "geom": Point(99.45, 18.3),
    }
    with pytest.raises(ConstraintViolation):
        reg.add("settlements", [good, {**good, "local_body_id": 123456}])
    assert len(reg.settlements()) == before


def test_zoning_joins_plan_and_category(reg):
    from datetime import date

    from gis_registry.queries.features import insert_features

    with reg.begin() as conn:
        # the world brings its own palette (migrate seeds the DPT categories)
        conn.exec_driver_sql("DELETE FROM zoning_categories")
        insert_features(
            conn,
            "zoning_categories",
            [
                {
                    "key": "commercial",
                    "codes": "พ.1-พ.5",
                    "name_th": "พาณิชยกรรม",
                    "name_en": "commercial",
                    "colour_name": "red",
                    "fill": "#e41a1c",
                    "stroke": "#a50f15",
                }
            ],
        )
        (plan,) = insert_features(
            conn,
            "zoning_plans",
            [
                {
                    "name_th": "ผังเมืองรวมทดสอบ",
                    "name_en": "Test plan",
                    "effective_date": date(2020, 1, 1),
                    "expiry_date": date(2025, 1, 1),
                }
            ],
        )
        insert_features(
            conn,
            "zoning_zones",
            [
                {
                    "plan_id": plan,
                    "land_use_code": "พ.2",
                    "category": "commercial",
                    "geom": Point(99.5, 18.29).buffer(0.005),
                }
            ],
        )
    zones = reg.zoning()
    assert zones.loc[0, "category_th"] == "พาณิชยกรรม"
    assert zones.loc[0, "plan_name_en"] == "Test plan"
    assert zones.loc[0, "area_m2"] > 0
    assert len(reg.zoning(on="2022-06-01")) == 1
    assert len(reg.zoning(on="2026-06-01")) == 0  # the plan expired


# -- Registry.items: the web service's query layer (CQL2, output CRS, past states) ------------
def test_items_filters_with_cql2_text_and_json(reg):
    from shapely.geometry import LineString

    assert list(reg.items("roads", filter="surface = 'asphalt' AND width_m > 5")["name_en"]) == [
        "Test road"
    ]
    assert reg.items("roads", filter="surface = 'laterite'").empty
    box = "S_INTERSECTS(geom, BBOX(99.44, 18.29, 99.46, 18.31))"
    assert len(reg.items("roads", filter=box)) == 1
    assert reg.items("roads", filter="NOT (lanes = 2 OR lanes = 4)").empty
    as_json = {
        "op": "and",
        "args": [
            {"op": "=", "args": [{"property": "surface"}, "asphalt"]},
            {
                "op": "s_intersects",
                "args": [{"property": "geom"}, {"bbox": [99.44, 18.29, 99.46, 18.31]}],
            },
        ],
    }
    frame = reg.items("roads", filter=as_json, filter_lang="cql2-json")
    assert len(frame) == 1 and isinstance(frame.geometry.iloc[0], LineString)
    import json

    assert len(reg.items("roads", filter=json.dumps(as_json), filter_lang="cql2-json")) == 1


def test_items_bbox_limit_properties_and_crs(reg):
    assert len(reg.items("roads", bbox=(99.44, 18.29, 99.46, 18.31))) == 1
    assert reg.items("roads", bbox=(99.0, 17.0, 99.1, 17.1)).empty
    assert len(reg.items("settlements", limit=1)) == 1
    slim = reg.items("roads", properties=["name_en"])
    assert list(slim.columns) == ["id", "name_en", "geom"]
    utm = reg.items("roads", crs="EPSG:32647")
    assert utm.crs.to_epsg() == 32647
    x, y = utm.geometry.iloc[0].coords[0]
    assert 500_000 < x < 600_000 and 2_000_000 < y < 2_100_000
    assert reg.items("roads", crs=32647).crs.to_epsg() == 32647
    offices = reg.items("local_bodies", crs="EPSG:3857")
    assert offices.crs.to_epsg() == 3857 and offices["office"].crs.to_epsg() == 3857


def test_items_reads_a_past_state(reg):
    from sqlalchemy import text

    (road_id,) = reg.roads()["id"]
    with reg.begin() as conn:
        before = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    reg.update("roads", road_id, {"name_en": "Renamed road"})
    try:
        assert list(reg.items("roads")["name_en"]) == ["Renamed road"]
        then = reg.items("roads", at=before)
        assert list(then["name_en"]) == ["Test road"]
        assert then.geometry.name == "geom" and then.crs.to_epsg() == 4326
        assert list(reg.items("roads", at=before.isoformat())["name_en"]) == ["Test road"]
        assert reg.items("roads", at="2000-01-01T00:00:00Z").empty
        assert str(then.loc[0, "updated_at"].tz) == "UTC"  # JSON text back to timestamps
    finally:
        reg.update("roads", road_id, {"name_en": "Test road"})


@pytest.mark.parametrize(
    ("layer", "options", "error", "message"),
    [
        ("roads", {"filter": "colour = 'red'"}, "InvalidParameter", "queryables: id, code"),
        ("roads", {"filter": "surface ="}, "InvalidParameter", "cannot read the filter"),
        ("roads", {"filter": "width_m > 'wide'"}, "InvalidParameter", "cannot be compared"),
        ("roads", {"filter": "lanes = 2", "filter_lang": "sql"}, "InvalidParameter", "cql2-json"),
        ("roads", {"bbox": (99.46, 18.29, 99.44, 18.31)}, "InvalidParameter", "antimeridian"),
        ("roads", {"bbox": (99.44, 18.31, 99.46, 18.29)}, "InvalidParameter", "lower latitude"),
        ("roads", {"crs": "EPSG:9999"}, "InvalidParameter", "supported: http://www.opengis"),
        ("roads", {"properties": ["colour"]}, "InvalidParameter", "fields of 'roads': id, code"),
        ("roads", {"at": "soon"}, "InvalidParameter", "RFC 3339"),
        ("roads", {"at": "2025-01-01", "bbox": (99, 18, 100, 19)}, "InvalidParameter", "whole"),
        ("railways", {}, "NotFound", "unknown layer 'railways' (layers: districts,"),
    ],
)
def test_items_refuses_bad_arguments_by_name(reg, layer, options, error, message):
    from gis_registry import errors

    with pytest.raises(getattr(errors, error)) as caught:
        reg.items(layer, **options)
    assert message in str(caught.value)
    if error == "InvalidParameter":
        assert caught.value.code == "InvalidParameterValue" and caught.value.parameter


def test_one_primary_geometry_rule_for_every_reader(reg):
    """read_layer, Registry.items and the web service's catalogue agree: a district's primary
    geometry is its boundary, not its office (the table's first geometry column)."""
    from gis_registry.catalog import CATALOG

    assert CATALOG["districts"].geometry == "boundary"
    assert reg.districts().geometry.name == "boundary"
    assert reg.items("districts").geometry.name == "boundary"
    assert reg.local_bodies().geometry.name == "boundary"


def test_chainage_is_written_as_engineers_write_it(reg):
    (road_id,) = reg.roads()["id"]
    reg.update("roads", road_id, {"chainage_start_m": "กม. 12+340", "chainage_end_m": "12+900"})
    try:
        row = reg.roads().iloc[0]
        assert (row["chainage_start_m"], row["chainage_end_m"]) == (12_340.0, 12_900.0)
        with pytest.raises(ValidationError) as bad:
            reg.update("roads", road_id, {"chainage_end_m": "km twelve"})
        assert "chainage_end_m" in str(bad.value) and "กม. 688+210" in str(bad.value)
        with pytest.raises(ValidationError, match="chainage_start_m"):
            reg.update("roads", road_id, {"chainage_start_m": -5})
        assert reg.roads().iloc[0]["chainage_end_m"] == 12_900.0  # nothing half-written
    finally:
        reg.update("roads", road_id, {"chainage_start_m": None, "chainage_end_m": None})


def test_map_by_name_is_the_cli_map_and_shows_offline(reg):
    from gis_registry.maps import MAPS, build_map
    from gis_registry.maps.offline import check_offline, render_html

    shown = reg.map("zoning")
    with reg.engine.connect() as conn:
        same = build_map(conn, "zoning")
    assert render_html(shown)[0].count("fillColor") == render_html(same)[0].count("fillColor") > 0
    check_offline(render_html(shown)[0])
    assert shown._repr_html_().startswith("<iframe srcdoc=")
    with pytest.raises(NotFound, match="no map 'roads'.*zoning"):
        reg.map("roads")
    assert set(MAPS) >= {"zoning", "route", "critical", "water", "condition", "hazard"}
