"""Maps through the analyst's front door take the analyses' own options."""

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
