"""Real GIS clients against a real server: GDAL's OAPIF driver and OWSLib."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from sqlalchemy import create_engine, func, select

from gis_registry.catalog import CATALOG as COLLECTIONS
from gis_registry.db import sqlalchemy_url

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def counts(api_url) -> dict[str, int]:
    eng = create_engine(sqlalchemy_url(api_url))
    with eng.connect() as conn:
        out = {
            name: conn.execute(select(func.count()).select_from(c.table)).scalar_one()
            for name, c in COLLECTIONS.items()
        }
    eng.dispose()
    return out


def ogrinfo(*args: str) -> str:
    exe = shutil.which("ogrinfo")
    assert exe, "ogrinfo (gdal-bin) is needed for this test"
    done = subprocess.run(
        [exe, "-ro", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ogrinfo_lists_every_layer(live_server):
    out = ogrinfo(f"OAPIF:{live_server}")
    listed = re.findall(r"^\d+: (\w+)", out, flags=re.M)
    assert listed == list(COLLECTIONS)


@pytest.mark.parametrize(
    "layer",
    [
        "roads",
        "bridges",
        "water_points",
        "zoning_zones",
        "local_bodies",
        "settlements",
        "hazard_areas",
        "inspections",
    ],
)
def test_ogrinfo_feature_counts(live_server, counts, layer):
    out = ogrinfo("-so", f"OAPIF:{live_server}", layer)
    assert f"Feature Count: {counts[layer]}" in out


def test_ogrinfo_reads_every_feature(live_server, counts):
    out = ogrinfo("-q", "-al", f"OAPIF:{live_server}", "roads")
    assert out.count("OGRFeature(roads)") == counts["roads"]  # paged through next links
    assert "LINESTRING (99.45 18.3,99.51 18.3)" in out
    assert "name_th (String) = ถนนทดสอบ" in out


def test_ogrinfo_spatial_and_attribute_filter(live_server):
    out = ogrinfo(
        "-q",
        "-al",
        "-spat",
        "99.40",
        "18.20",
        "99.50",
        "18.25",
        "-where",
        "surface = 'laterite'",
        f"OAPIF:{live_server}",
        "roads",
    )
    surfaces = re.findall(r"surface \(String\) = (\w+)", out)
    assert surfaces and set(surfaces) == {"laterite"}


def test_owslib_features(live_server, counts):
    from owslib.ogcapi.features import Features

    api = Features(live_server)
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in (api.conformance()["conformsTo"])
    )
    ids = [c["id"] for c in api.collections()["collections"]]
    assert ids == list(COLLECTIONS)
    roads = api.collection("roads")
    assert roads["extent"]["spatial"]["bbox"][0][0] == pytest.approx(99.41)
    page = api.collection_items("roads", limit=5)
    assert page["numberMatched"] == counts["roads"]
    assert page["numberReturned"] == 5 and len(page["features"]) == 5
    assert any(link["rel"] == "next" for link in page["links"])
    laterite = api.collection_items("roads", limit=100, surface="laterite")
    assert laterite["features"]
    assert {f["properties"]["surface"] for f in laterite["features"]} == {"laterite"}
    one = api.collection_item("roads", "1")
    assert one["properties"]["name_en"] == "Test road"
    queryables = api.collection_queryables("roads")
    assert "surface" in queryables["properties"]
