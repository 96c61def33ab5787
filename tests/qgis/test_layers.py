"""Every layer of the demo province opened in QGIS 3.22 (headless PyQGIS), over the OGC API
(provider ``OAPIF``) and straight from PostGIS (provider ``postgres``): valid, typed as its data
and showing every feature the database holds.

QGIS types a layer once (from ``geometry_columns`` over PostGIS, from the collection or its
first feature over OGC API) and draws only features of that type, so a table mixing points,
areas and lines shows part of its features whatever the provider.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, text

from gis_registry.catalog import CATALOG

pytestmark = pytest.mark.db

SPATIAL = [layer for layer in CATALOG.values() if layer.spatial]
# One QGIS layer per geometry column over PostGIS (as QGIS's browser lists them); the primary
# geometry over OGC API (the one the API serves).
COLUMNS = [(layer.id, column) for layer in SPATIAL for column in layer.geometries]
# PostGIS type names -> QGIS's geometry types (QgsWkbTypes.geometryDisplayString)
QGIS_GEOMETRY = {
    "POINT": "Point",
    "MULTIPOINT": "Point",
    "LINESTRING": "Line",
    "MULTILINESTRING": "Line",
    "POLYGON": "Polygon",
    "MULTIPOLYGON": "Polygon",
}


def data_facts(conn: Any, table: str, column: str) -> dict[str, Any]:
    """What the database holds in ``table.column``: its geometry types, rows, geometries, and
    the type ``geometry_columns`` reports (what QGIS reads). Identifiers come from CATALOG."""
    types = conn.execute(
        text(
            f'SELECT DISTINCT GeometryType("{column}") FROM "{table}" WHERE "{column}" IS NOT NULL'
        )
    ).scalars()
    rows, geometries = conn.execute(
        text(f'SELECT count(*), count("{column}") FROM "{table}"')
    ).one()
    reported = conn.execute(
        text(
            "SELECT type, srid FROM geometry_columns WHERE f_table_schema = 'public' "
            "AND f_table_name = :table AND f_geometry_column = :column"
        ),
        {"table": table, "column": column},
    ).one()
    return {
        "types": sorted(types),
        "rows": rows,
        "geometries": geometries,
        "reported_type": reported.type,
        "reported_srid": reported.srid,
    }


@pytest.fixture(scope="module")
def facts(demo_engine: Engine) -> dict[tuple[str, str], dict[str, Any]]:
    with demo_engine.connect() as conn:
        return {(table, column): data_facts(conn, table, column) for table, column in COLUMNS}


@pytest.fixture(scope="module")
def qgis_layers(
    pyqgis: Callable[..., Any], demo_api: str, demo_connection: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """QGIS's report of every layer, both providers, from one PyQGIS process."""
    specs = [
        {"key": f"OAPIF:{layer.id}", "provider": "OAPIF", "url": demo_api, "typename": layer.id}
        for layer in SPATIAL
    ] + [
        {
            "key": f"postgres:{table}.{column}",
            "provider": "postgres",
            "connection": demo_connection,
            "table": table,
            "geometry": column,
            "id": CATALOG[table].key,
        }
        for table, column in COLUMNS
    ]
    return pyqgis("layers", {"layers": specs})


def test_every_spatial_table_holds_one_geometry_type(facts):
    mixed = {f"{t}.{c}": f["types"] for (t, c), f in facts.items() if len(f["types"]) > 1}
    assert not mixed, f"tables mixing geometry types (QGIS shows one type per layer): {mixed}"


@pytest.mark.parametrize(("table", "column"), COLUMNS)
def test_geometry_columns_reports_the_data(facts, table, column):
    found = facts[(table, column)]
    assert found["reported_srid"] == 4326
    assert found["types"], f"{table}.{column} holds no geometry in the demo"
    assert [found["reported_type"]] == found["types"], (
        f"geometry_columns says {table}.{column} is {found['reported_type']}, "
        f"its data is {found['types']}"
    )


def assert_shows_the_data(report: dict[str, Any], found: dict[str, Any], what: str) -> None:
    """The QGIS layer is valid, typed as every geometry of the data and draws all of them."""
    assert report["valid"], f"QGIS cannot open {what}: {report.get('error')}"
    expected = {QGIS_GEOMETRY[t] for t in found["types"]}
    assert expected == {report["geometry_type"]}, (
        f"QGIS types {what} as {report['wkb_type']}; its data is {found['types']} "
        f"(features by type: {report['feature_types']})"
    )
    assert report["crs"] == "EPSG:4326"
    assert report["drawn"] == found["geometries"], (
        f"QGIS draws {report['drawn']} of the {found['geometries']} geometries of {what} "
        f"(features by type: {report['feature_types']})"
    )


@pytest.mark.qgis
@pytest.mark.parametrize("layer", [layer.id for layer in SPATIAL])
def test_ogc_api_layer_in_qgis(qgis_layers, facts, layer):
    report = qgis_layers[f"OAPIF:{layer}"]
    found = facts[(layer, CATALOG[layer].geometry)]
    assert_shows_the_data(report, found, f"collection {layer} over OGC API")
    assert report["features"] == found["rows"]


@pytest.mark.qgis
@pytest.mark.parametrize(("table", "column"), COLUMNS)
def test_postgis_layer_in_qgis(qgis_layers, facts, table, column):
    report = qgis_layers[f"postgres:{table}.{column}"]
    found = facts[(table, column)]
    assert_shows_the_data(report, found, f"table {table} ({column}) over PostGIS")
    assert report["feature_count"] == report["features"] == found["rows"]
