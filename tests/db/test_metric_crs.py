"""The registry measures planar metres in its own province's UTM zone, not always in 47N.

A small province near Ubon Ratchathani (104.8 E, UTM zone 48N): measured in zone 47N, its roads
would come out 0.45 % too long (UTM's scale factor 5.85 degrees off the central meridian); in
its own zone they agree with the ellipsoid within 0.05 %.
"""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import LineString, Point, box

from gis_registry.analysis.coverage import road_density
from gis_registry.geodesy import DEFAULT_METRIC_SRID, metric_srid, utm_epsg
from gis_registry.network.attach import resolve_endpoint
from gis_registry.network.model import NetworkCache, load_network
from gis_registry.queries.features import insert_features

pytestmark = pytest.mark.db

GEOD = Geod(ellps="WGS84")
# Near Ubon Ratchathani, split at 104.85 E between two SAOs; the PAO is the whole box.
PROVINCE = box(104.75, 15.15, 104.95, 15.35)
WEST, EAST = box(104.75, 15.15, 104.85, 15.35), box(104.85, 15.15, 104.95, 15.35)
# A road crossing the SAO boundary: 5.4 km west of it and 4.3 km east.
ROAD = LineString([(104.80, 15.25), (104.83, 15.26), (104.89, 15.24)])


def geodesic_m(line: LineString) -> float:
    lon, lat = line.xy
    return float(GEOD.line_length(lon, lat))


def add_province(conn, *, pao: bool = True) -> dict[str, int]:
    """The zone-48 province: a district, the PAO (unless ``pao=False``), two SAOs, one road."""
    insert_features(
        conn,
        "districts",
        [
            {
                "code": "3401",
                "name_th": "เมืองอุบลราชธานี",
                "name_en": "Mueang Ubon Ratchathani",
                "office": Point(104.86, 15.24),
                "boundary": PROVINCE,
            }
        ],
    )
    sao = {
        "kind": "sao",
        "district_code": "3401",
        "name_th": "องค์การบริหารส่วนตำบลทดสอบ",
    }
    bodies = [
        {**sao, "code": "340101", "seq": 2, "name_en": "West SAO", "boundary": WEST},
        {**sao, "code": "340102", "seq": 3, "name_en": "East SAO", "boundary": EAST},
    ]
    for body, office in zip(bodies, [Point(104.80, 15.30), Point(104.90, 15.30)], strict=True):
        body["office"] = office
    if pao:
        bodies.insert(
            0,
            {
                "code": "34",
                "seq": 1,
                "kind": "pao",
                "name_th": "องค์การบริหารส่วนจังหวัดอุบลราชธานี",
                "name_en": "Ubon Ratchathani PAO",
                "boundary": PROVINCE,
                "office": Point(104.85, 15.25),
            },
        )
    inserted = insert_features(conn, "local_bodies", bodies)
    ids = dict(zip([b["name_en"] for b in bodies], inserted, strict=True))
    (ids["road"],) = insert_features(
        conn,
        "roads",
        [
            {
                "code": "อบ.ถ. 1-0001",
                "name_th": "ถนนทดสอบ",
                "name_en": "Test road",
                "road_class": "local",
                "owner_local_body_id": ids["West SAO"],
                "surface": "asphalt",
                "geom": ROAD,
            }
        ],
    )
    return ids


def test_utm_epsg_zone_and_hemisphere():
    assert utm_epsg(99.5, 18.3) == 32647  # Lampang
    assert utm_epsg(104.85, 15.25) == 32648  # Ubon Ratchathani
    assert utm_epsg(102.0, 17.0) == 32648  # a zone starts at its western edge
    assert utm_epsg(106.8, -6.2) == 32748  # Jakarta, south of the equator
    assert utm_epsg(-180, 0) == utm_epsg(180, 0) == 32601
    with pytest.raises(ValueError):
        utm_epsg(18.3, 99.5)  # lat/lon swapped


def test_metric_srid_of_an_empty_registry_is_the_default(conn):
    assert metric_srid(conn) == DEFAULT_METRIC_SRID == 32647


def test_metric_srid_follows_the_province(conn):
    add_province(conn)
    assert metric_srid(conn) == 32648


def test_metric_srid_without_a_pao_uses_the_local_bodies(conn):
    add_province(conn, pao=False)
    assert metric_srid(conn) == 32648


def test_metric_srid_of_roads_without_boundaries_is_the_roads_own_zone(conn):
    """Roads imported (from OpenStreetMap, say) before any boundary: Helsinki's roads are
    measured in zone 35, never in Lampang's 47."""
    helsinki = LineString([(24.93, 60.16), (24.95, 60.17)])
    insert_features(
        conn,
        "roads",
        [
            {
                "road_class": "unregistered",
                "surface": "asphalt",
                "geom": helsinki,
                "name_th": "Mannerheimintie",
                "name_en": "Mannerheimintie",
            }
        ],
    )
    assert metric_srid(conn) == 32635
    assert load_network(conn, cache=None).metric_srid == 32635


def test_road_density_in_zone_48_agrees_with_the_ellipsoid(conn):
    add_province(conn)
    density = road_density(conn).set_index("local_body_en")
    west, east = (
        geodesic_m(ROAD.intersection(WEST)),
        geodesic_m(ROAD.intersection(EAST)),
    )
    # the road crosses the SAO boundary: each SAO's share is clipped and measured in metres
    assert density.loc["West SAO", "road_km"] * 1000 == pytest.approx(west, rel=1e-3)
    assert density.loc["East SAO", "road_km"] * 1000 == pytest.approx(east, rel=1e-3)
    # ...which zone 47N could not have done within 0.1 %
    to_47 = Transformer.from_crs("EPSG:4326", "EPSG:32647", always_xy=True)
    in_47 = LineString(np.column_stack(to_47.transform(*ROAD.intersection(WEST).xy))).length
    assert abs(in_47 / west - 1) > 3e-3


def test_network_in_zone_48_measures_in_its_own_zone(conn):
    add_province(conn)
    net = load_network(conn, cache=None)
    assert net.metric_srid == 32648 and net.places.metric_srid == 32648
    assert net.topo.length_m.sum() == pytest.approx(geodesic_m(ROAD), rel=1e-3)
    # a lon,lat endpoint is projected in the network's CRS: inside the province, it attaches
    anchor = resolve_endpoint(net.places, net.topo.node_xy, "104.80,15.2505")
    assert anchor.attach_m == pytest.approx(GEOD.inv(104.80, 15.25, 104.80, 15.2505)[2], rel=1e-2)


def test_a_cached_network_without_its_crs_is_rebuilt(conn, tmp_path):
    """A network pickled before networks carried their metric CRS is not reused."""
    add_province(conn)
    cache = NetworkCache(directory=tmp_path)
    net = load_network(conn, cache=cache)
    key, stamp = next(iter(cache._items)), net.stamp
    assert NetworkCache(directory=tmp_path).get(key, stamp) is not None  # a fresh process
    object.__delattr__(net.roads, "metric_srid")  # as an older version pickled it
    cache.put(key, net)
    assert NetworkCache(directory=tmp_path).get(key, stamp) is None
