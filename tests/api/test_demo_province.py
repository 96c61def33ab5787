"""GDAL and OWSLib on the Lampang demo province (seed 52, scale 1) through a real server."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from gis_registry.catalog import CATALOG as COLLECTIONS
from tests.api.conftest import serve
from tests.api.test_ogc_clients import ogrinfo
from tests.fixtures.servers import database_url

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def demo_server(demo_engine):
    url = database_url(demo_engine)
    with serve(url) as base:
        yield base


@pytest.fixture(scope="module")
def demo_counts(demo_engine) -> dict[str, int]:
    with demo_engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(c.table)).scalar_one()
            for name, c in COLLECTIONS.items()
        }


def test_ogrinfo_counts_every_layer_of_the_province(demo_server, demo_counts):
    out = ogrinfo("-so", "-al", f"OAPIF:{demo_server}")
    found = dict(re.findall(r"Layer name: (\w+).*?Feature Count: (\d+)", out, flags=re.S))
    assert set(found) == set(COLLECTIONS)
    assert {k: int(v) for k, v in found.items()} == demo_counts
    assert demo_counts["roads"] > 1000


def test_ogrinfo_reads_roads_of_a_district(demo_server):
    out = ogrinfo(
        "-q", "-al", "-spat", "99.48", "18.27", "99.52", "18.31", f"OAPIF:{demo_server}", "roads"
    )
    assert out.count("OGRFeature(roads)") > 10
    assert "LINESTRING (" in out


def test_owslib_on_the_province(demo_server, demo_counts):
    from owslib.ogcapi.features import Features

    api = Features(demo_server)
    page = api.collection_items("roads", limit=100, bbox=[99.48, 18.27, 99.52, 18.31])
    assert 0 < page["numberReturned"] <= 100
    assert page["numberMatched"] >= page["numberReturned"]
    bridges = api.collection_items("bridges", limit=5)
    assert bridges["numberMatched"] == demo_counts["bridges"]
    one = bridges["features"][0]
    assert api.collection_item("bridges", str(one["id"]))["id"] == one["id"]
