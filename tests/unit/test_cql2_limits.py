"""The library's limits on a filter and a box (issue 17, problem 7), without a database: a
library caller (``Registry.items``, ``gis-registry export --bbox``) gets the same refusals as
the web service."""

from __future__ import annotations

import pytest

from gis_registry.catalog import get_layer
from gis_registry.errors import InvalidParameter
from gis_registry.queries import filters
from gis_registry.queries.cql2 import MAX_DEPTH, MAX_NODES, cql2_filter
from gis_registry.queries.crs import area_of_use, parse_crs

ROADS = get_layer("roads")
EQUAL = {"op": "=", "args": [{"property": "lanes"}, 2]}


def refusal(call) -> str:
    with pytest.raises(InvalidParameter) as info:
        call()
    assert info.value.parameter == "filter"
    return str(info.value)


def test_a_decoded_json_filter_has_the_limits_too():
    # a mapping has no length to check: the size and depth limits still hold
    wide = {"op": "or", "args": [EQUAL] * 200}
    assert f"limit of {MAX_NODES} terms" in refusal(lambda: cql2_filter(ROADS, wide, "cql2-json"))
    deep: dict = EQUAL
    for _ in range(2000):  # deeper than Python's recursion limit
        deep = {"op": "not", "args": [deep]}
    message = refusal(lambda: cql2_filter(ROADS, deep, "cql2-json"))
    assert f"limit of {MAX_DEPTH} levels" in message


def test_an_expression_as_deep_as_it_is_long_is_refused_not_recursed():
    text = "S_INTERSECTS(geom, " + "*".join(["2"] * 1900) + ")"
    assert f"limit of {MAX_DEPTH} levels" in refusal(lambda: cql2_filter(ROADS, text))


def test_a_long_and_chain_is_one_level():
    # 100 terms joined by AND: a tree 100 deep as parsed, one level as SQL: accepted
    where, params = cql2_filter(ROADS, " AND ".join(["lanes = 2"] * 100))
    assert len(params) == 100
    # just past the size limit (each comparison is three terms: =, lanes, 2)
    too_many = {"op": "and", "args": [EQUAL] * (MAX_NODES // 3 + 1)}
    assert "terms" in refusal(lambda: cql2_filter(ROADS, too_many, "cql2-json"))


def test_a_projected_box_lies_in_its_crs_area_of_use():
    utm = parse_crs("EPSG:32647")
    minx, miny, maxx, maxy = area_of_use(32647)
    assert minx < 166_000 and maxx > 834_000 and miny < 0 and 9_300_000 < maxy < 10_000_000
    env, values = filters.envelope((500_000, 1_900_000, 700_000, 2_200_000), utm)
    assert values == (500_000, 1_900_000, 700_000, 2_200_000)
    for box in [
        (0, 0, 99e6, 1),
        (0, 9.9e6, 1, 1e7),
        (float("nan"), 0, 1, 1),
        (0, 0, float("inf"), 1),
    ]:
        with pytest.raises(InvalidParameter) as info:
            filters.envelope(box, utm)
        assert info.value.parameter == "bbox"
    with pytest.raises(InvalidParameter, match="finite"):
        filters.envelope((float("nan"), 0, 1, 1))  # CRS84 too
