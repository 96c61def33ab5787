"""The route map presents the library's answer about closures: a closure the route does not use
draws no "detour" (it would be the route itself) and the map says that nothing changes."""

from __future__ import annotations

import pytest

from gis_registry.maps import route_map
from gis_registry.network.routing import route
from tests.maps.test_builders import features, layers

pytestmark = pytest.mark.db


def test_a_closure_off_the_route_draws_no_detour_and_says_nothing_changes(maps_conn, maps_engine):
    ids = maps_engine.world_ids
    spur = ids["bridge3"]  # on the spur road to a village, not between West and East
    assert spur not in [b["bridge_id"] for b in route(maps_conn, "520199", "521099").bridges]
    m = route_map(maps_conn, "520199", "521099", closed_bridges=[spur])
    assert not any(name.startswith("ทางเลี่ยง") for name in layers(m))
    assert features(m, "เส้นทางปกติ")
    page = m.get_root().render()
    assert f"bridge {spur} is not on this route; nothing changes" in page
    assert "no detour: destination cut off" not in page
    # a closure on the route still draws its detour
    on = route_map(maps_conn, "520199", "521099", closed_bridges=[ids["bridge1"]])
    assert features(on, "ทางเลี่ยง")
