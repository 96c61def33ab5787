"""Routes and route maps through the front door: one vocabulary of closures, detours told once."""

import re

import pytest

from gis_registry import Registry
from gis_registry.errors import ValidationError
from gis_registry.maps.offline import render_html

pytestmark = pytest.mark.db

CITY, CHAE_HOM = "2520103", "4520601"  # Nakhon Lampang city, Chae Hom subdistrict municipality


def test_route_map_takes_the_closures_route_takes(demo_engine):
    """``reg.map("route", closed_bridge=[...])`` closes what ``reg.route(closed_bridge=...)``
    closes (the map builder's own keyword is ``closed_bridges``)."""
    reg = Registry(demo_engine)

    def page(**closures):  # folium names elements with random hex ids
        shown = reg.map("route", origin=CITY, destination=CHAE_HOM, **closures)
        return re.sub(r"[0-9a-f]{32}", "", render_html(shown)[0])

    bridge = int(reg.route(CITY, CHAE_HOM).bridges[0]["bridge_id"])
    assert page(closed_bridge=[bridge]) == page(closed_bridges=[bridge]) != page()
    with pytest.raises(ValidationError, match="closed_bridge"):
        reg.map("route", origin=CITY, destination=CHAE_HOM, closed_bridge=["x"])


def test_one_detour_round_several_closures_is_told_once(demo_engine):
    """Flooding the Wang floodplain closes three hazard areas on the usual route: the route goes
    round all of them at once, so the note says so once, naming each (not once per area, as if
    each alone caused the whole detour)."""
    reg = Registry(demo_engine)
    floods = reg.hazard_areas(hazard_type="flood")
    wang = [int(i) for i in floods.loc[floods["name_en"].str.startswith("Wang"), "id"]]
    r = reg.route("52", CHAE_HOM, hazard=wang)
    on_route = [c["label"] for c in r.closures if c["on_route"]]
    assert len(on_route) >= 2
    detours = [n for n in r.notes if "the route goes round" in n]
    assert len(detours) == 1
    assert all(label in detours[0] for label in on_route)
    assert " are on the usual route; the route goes round them: " in detours[0]
