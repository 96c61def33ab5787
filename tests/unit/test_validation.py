"""Validation without a database: every problem named by record, field and rule."""

import pytest
from shapely.geometry import LineString, Point, Polygon

from gis_registry.db.tables import roads, settlements, water_areas, water_points
from gis_registry.domain import local_road_code, road_code_problem
from gis_registry.errors import ValidationError
from gis_registry.validation import validate_records

GOOD_ROAD = {
    "code": "ลป.ถ. 1-0023",
    "name_th": "ถนนสายหนึ่ง",
    "name_en": "Road one",
    "road_class": "local",
    "surface": "laterite",
    "width_m": 5,
    "geom": LineString([(99.5, 18.3), (99.51, 18.3)]),
}


def test_good_record_passes_and_keeps_thai():
    (clean,) = validate_records(roads, [GOOD_ROAD])
    assert clean["name_th"] == "ถนนสายหนึ่ง"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("surface", "gravel", "not one of"),
        ("width_m", -4, "greater than 0"),
        ("road_class", "motorway", "not one of"),
        ("geom", Point(99.5, 18.3), "geometry type Point is not allowed"),
        ("geom", LineString([(18.3, 99.5), (18.31, 99.5)]), "(latitude, longitude)"),
        ("geom", LineString([(500000, 2020000), (500100, 2020000)]), "projected coordinates"),
        ("geom", "LINESTRING(99.5 18.3", "cannot be read"),
        ("code", "ลป.4007", "not a valid local road code"),
        ("lanes", 2.5, "not a whole number"),
        ("geom", {"type": "LineString"}, "cannot be read"),
        ("geom", {"type": "Polygonz", "coordinates": []}, "cannot be read"),
    ],
)
def test_bad_field_is_named(field, value, message):
    with pytest.raises(ValidationError) as err:
        validate_records(roads, [{**GOOD_ROAD, field: value}])
    assert err.value.problems[0][1] == field
    assert message in err.value.problems[0][2]
    assert f"roads record #1: field '{field}'" in str(err.value)


def test_invalid_polygon_reason_given():
    bowtie = Polygon([(99.5, 18.3), (99.6, 18.4), (99.6, 18.3), (99.5, 18.4)])
    with pytest.raises(ValidationError, match="Self-intersection"):
        validate_records(
            water_areas, [{"name_th": "ก", "name_en": "a", "kind": "pond", "geom": bowtie}]
        )


def test_a_geometry_of_another_water_layer_is_refused_naming_that_layer():
    line = "LINESTRING(99.5 18.3, 99.51 18.3)"
    record = {"name_th": "คลอง", "name_en": "Canal", "kind": "canal", "geom": line}
    with pytest.raises(ValidationError) as err:
        validate_records(water_points, [record])
    ((ref, field, rule),) = err.value.problems
    assert field == "geom" and "LineString" in rule and "water_lines" in rule
    # a Polygon is promoted for the area layer
    square = "POLYGON((99.5 18.3, 99.51 18.3, 99.51 18.31, 99.5 18.3))"
    (clean,) = validate_records(water_areas, [{**record, "kind": "reservoir", "geom": square}])
    assert clean["geom"].geom_type == "MultiPolygon"


def test_all_problems_reported_at_once():
    records = [{**GOOD_ROAD, "surface": "gravel"}, {**GOOD_ROAD, "width_m": 0, "bogus": 1}]
    with pytest.raises(ValidationError) as err:
        validate_records(roads, records)
    assert {(p[0], p[1]) for p in err.value.problems} == {
        ("#1", "surface"),
        ("#2", "width_m"),
        ("#2", "bogus"),
    }


def test_missing_required_field():
    with pytest.raises(ValidationError, match="'population': is required"):
        validate_records(
            settlements,
            [
                {
                    "name_th": "บ้าน",
                    "name_en": "Ban",
                    "local_body_id": 1,
                    "households": 3,
                    "geom": Point(99.5, 18.3),
                }
            ],
        )


def test_geojson_input_accepted():
    (clean,) = validate_records(
        roads,
        [
            {
                **GOOD_ROAD,
                "geom": {"type": "LineString", "coordinates": [[99.5, 18.3], [99.6, 18.3]]},
            }
        ],
    )
    assert clean["geom"].length > 0


def test_road_codes():
    assert road_code_problem("national", "1035") is None
    assert road_code_problem("rural", "ลป.4007") is None
    assert road_code_problem("local", local_road_code(1, 23)) is None
    assert local_road_code(1, 23) == "ลป.ถ. 1-0023"
    assert road_code_problem("national", "ลป.4007")
    assert road_code_problem("rural", None)
