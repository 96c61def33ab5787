"""The one query layer of the library: catalogue, CRSs, filters, CQL2 (no database needed)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gis_registry.catalog import CATALOG, get_layer, primary_geometry
from gis_registry.errors import InvalidParameter, NotFound, ValidationError
from gis_registry.queries import filters
from gis_registry.queries.cql2 import cql2_filter
from gis_registry.queries.crs import parse_crs


def test_query_layer_imports_no_web_stack():
    code = (
        "import sys, gis_registry.catalog, gis_registry.queries.crs, gis_registry.queries.filters,"
        " gis_registry.queries.geojson, gis_registry.queries.cql2, gis_registry.queries.features;"
        "from gis_registry.queries.cql2 import cql2_filter;"
        "from gis_registry.catalog import CATALOG;"
        "cql2_filter(CATALOG['roads'], \"surface = 'x'\");"
        "bad = [m for m in ('fastapi', 'starlette', 'uvicorn', 'api') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_one_catalogue_one_primary_geometry_rule():
    from gis_registry.db.tables import LAYERS

    assert set(CATALOG) == set(LAYERS)  # every table of the schema is a layer, and only those
    assert primary_geometry(CATALOG["districts"].table) == "boundary"  # not the first column
    assert CATALOG["districts"].geometries == ("boundary", "office")
    assert CATALOG["inspections"].geometry is None and not CATALOG["inspections"].tiled
    with pytest.raises(NotFound, match=r"unknown layer 'railways' \(layers: districts, "):
        get_layer("railways")


def test_library_errors_carry_the_ogc_code_and_parameter():
    with pytest.raises(InvalidParameter) as caught:
        parse_crs("EPSG:9999", "bbox-crs")
    assert caught.value.parameter == "bbox-crs" and caught.value.code == "InvalidParameterValue"
    assert "supported: http://www.opengis.net/def/crs/OGC/1.3/CRS84" in str(caught.value)
    assert isinstance(caught.value, ValidationError)
    assert parse_crs(32647) == parse_crs("EPSG:32647") == parse_crs("[EPSG:32647]")


def test_filter_as_a_sqlalchemy_clause_binds_every_value():
    from sqlalchemy.dialects import postgresql

    roads = CATALOG["roads"]
    f = filters.Filter()
    filters.bbox_filter(f, roads, (99.4, 18.2, 99.5, 18.25))
    filters.property_filter(f, roads, "surface", ["laterite", "earth"])
    filters.property_filter(f, roads, "owner_agency", [None])
    where, params = cql2_filter(roads, "name_en = 'x''; DROP TABLE roads; --'")
    f.add(where, *params)
    compiled = f.clause().compile(dialect=postgresql.dialect())
    assert "DROP" not in str(compiled) and "laterite" not in str(compiled)
    assert list(compiled.params.values()) == [
        *(99.4, 18.2, 99.5, 18.25) * 3,
        ["laterite", "earth"],
        "x'; DROP TABLE roads; --",
    ]
    assert 't."owner_agency" IS NULL' in str(compiled)
    assert filters.Filter().clause() is None


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (
            lambda: filters.bbox_filter(filters.Filter(), CATALOG["inspections"], (1, 2, 3, 4)),
            "bbox",
        ),
        (lambda: filters.bbox_filter(filters.Filter(), CATALOG["roads"], (1, 2, 3)), "bbox"),
        (lambda: filters.property_filter(filters.Filter(), CATALOG["roads"], "geom", [1]), "geom"),
        (lambda: cql2_filter(CATALOG["roads"], "lanes = 2", "cql2-xml"), "filter-lang"),
        (
            lambda: cql2_filter(
                CATALOG["roads"], {"op": "=", "args": [{"property": "x"}, 1]}, "cql2-json"
            ),
            "filter",
        ),
    ],
)
def test_bad_arguments_name_their_parameter(call, parameter):
    with pytest.raises(InvalidParameter) as caught:
        call()
    assert caught.value.parameter == parameter
