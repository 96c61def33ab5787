"""Noding of the roads layer (no database)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gis_registry.network.costs import SpeedTable
from gis_registry.network.topology import build_topology, road_arrays, to_metric

# Near Lampang: about 105.6 m per 0.001 degree of longitude, 110.7 m per 0.001 of latitude.
LON, LAT = 99.5, 18.3


def pt(dx_m: float, dy_m: float) -> tuple[float, float]:
    """A lon/lat point dx, dy metres (roughly) from the origin."""
    return (LON + dx_m / 105_600.0, LAT + dy_m / 110_700.0)


def roads(lines: list[list[tuple[float, float]]], *, layer=None, oneway=None, surface=None):
    coords = np.array([p for line in lines for p in line])
    offsets = np.r_[0, np.cumsum([len(line) for line in lines])]
    n = len(lines)
    return road_arrays(
        np.arange(1, n + 1),
        coords,
        offsets,
        road_class=["local"] * n,
        surface=surface or ["asphalt"] * n,
        oneway=oneway or [False] * n,
        layer=layer or [0] * n,
    )


def test_shared_endpoint_joins_two_roads():
    topo = build_topology(roads([[pt(0, 0), pt(100, 0)], [pt(100, 0), pt(200, 0)]]))
    assert topo.n_nodes == 3 and topo.n_edges == 2
    assert topo.target[0] == topo.source[1]


def test_t_junction_at_a_shared_interior_vertex_splits_the_through_road():
    a = [pt(0, 0), pt(100, 0), pt(200, 0)]
    b = [pt(100, 0), pt(100, 100)]
    topo = build_topology(roads([a, b]))
    assert topo.n_nodes == 4
    assert list(np.diff(topo.road_edges)) == [2, 1]


def test_crossing_without_a_shared_vertex_is_not_a_junction():
    a = [pt(0, 0), pt(200, 0)]
    b = [pt(100, -100), pt(100, 100)]
    topo = build_topology(roads([a, b]))
    assert topo.n_nodes == 4 and topo.n_edges == 2


@pytest.mark.parametrize(("layers", "edges"), [([0, 0], 4), ([0, 1], 2)])
def test_shared_crossing_vertex_is_a_junction_only_on_the_same_layer(layers, edges):
    a = [pt(0, 0), pt(100, 0), pt(200, 0)]
    b = [pt(100, -100), pt(100, 0), pt(100, 100)]
    topo = build_topology(roads([a, b], layer=layers))
    assert topo.n_edges == edges


def test_bridge_on_layer_1_meets_its_approaches_at_its_ends():
    approach_w = [pt(-100, 0), pt(0, 0)]
    bridge = [pt(0, 0), pt(50, 0), pt(100, 0)]
    approach_e = [pt(100, 0), pt(200, 0)]
    under = [pt(50, -100), pt(50, 0), pt(50, 100)]  # passes under, shares a vertex
    topo = build_topology(roads([approach_w, bridge, approach_e, under], layer=[0, 1, 0, 0]))
    assert topo.n_edges == 4  # nothing split
    assert topo.n_nodes == 6  # 4 along the bridge line + 2 ends of the road below


@pytest.mark.parametrize(("tolerance", "nodes"), [(1.0, 3), (0.1, 4)])
def test_endpoints_snap_within_tolerance(tolerance, nodes):
    a = [pt(0, 0), pt(100, 0)]
    b = [pt(100.5, 0), pt(200, 0)]
    topo = build_topology(roads([a, b]), tolerance_m=tolerance)
    assert topo.n_nodes == nodes


def test_edge_lengths_add_up_to_road_lengths_in_utm():
    a = [pt(0, 0), pt(100, 0), pt(200, 50), pt(300, 50)]
    b = [pt(200, 50), pt(200, 300)]
    r = roads([a, b])
    topo = build_topology(r)
    for i in range(2):
        xy = to_metric(r.lonlat[r.offsets[i] : r.offsets[i + 1]])
        expected = shapely.length(shapely.linestrings(xy))
        got = topo.length_m[topo.road_edges[i] : topo.road_edges[i + 1]].sum()
        assert got == pytest.approx(expected, rel=1e-12)


def test_closed_ring_without_junction_is_dropped():
    ring = [pt(0, 0), pt(100, 0), pt(100, 100), pt(0, 0)]
    topo = build_topology(roads([ring]))
    assert topo.n_edges == 0


def test_speed_table_caps_by_surface_and_takes_overrides():
    speeds = SpeedTable(overrides_kmh={("rural", "concrete"): 55})
    assert speeds.kmh("national", "asphalt") == 80
    assert speeds.kmh("national", "earth") == 25
    assert speeds.kmh("rural", "concrete") == 55
    with pytest.raises(Exception, match="unknown key"):
        SpeedTable(class_kmh={"motorway": 120})
