"""02_connectivity.ipynb: its route, heatmap and maps are drawn, and its key numbers are the
library's answers (route, matrix, components, criticality, the Wang flood scenario)."""

from __future__ import annotations

import pytest

from tests.notebooks.kernel import figures, key_numbers

pytestmark = pytest.mark.db

NOTEBOOK = "02_connectivity.ipynb"


def _pao(reg) -> str:
    return str(reg.local_bodies(kind="pao")["code"].iloc[0])


def test_draws_the_heatmap_the_flood_chart_and_four_maps(executed):
    found = figures(executed(NOTEBOOK))
    assert found.images >= 2  # the travel-time heatmap and the flood scenario's bars
    assert found.maps >= 4  # route, critical bridges, a bridge's detour, the flood's detour
    route_maps = [p for p in found.map_pages if "Route, closures and detour" in p]
    assert len(route_maps) >= 3
    assert any("Critical bridges and roads" in p for p in found.map_pages)
    # the closed bridge and the flood each draw a detour; the flood map shows the flood
    assert sum("ทางเลี่ยง · Detour" in p for p in route_maps) >= 2
    assert any("Closed hazard areas" in p for p in route_maps)


def test_route_and_travel_times_are_the_librarys(executed, demo_registry):
    keys = key_numbers(executed(NOTEBOOK))
    reg = demo_registry
    route = reg.route(keys["route_origin"], keys["route_destination"])
    assert (keys["route_origin"], keys["route_destination"]) == ("2520103", "4520601")
    assert keys["route_length_m"] == pytest.approx(route.length_m, rel=1e-9)
    assert keys["route_time_s"] == pytest.approx(route.time_s, rel=1e-9)
    assert keys["route_bridges"] == [b["bridge_id"] for b in route.bridges]

    # one seat per district, each an LGO of that district
    lgos = reg.local_bodies().set_index("code")
    seats = keys["district_seats"]
    assert len(seats) == len(reg.districts()) == len(set(lgos.loc[seats, "district_code"]))
    pao = _pao(reg)
    times = [t for row in reg.matrix([pao, *seats]).time_s for t in row if t is not None]
    assert keys["seats_max_time_s"] == pytest.approx(max(times), rel=1e-9)

    from_pao = {c: t for c, t in reg.matrix().from_pao_s.items() if c != pao and t is not None}
    farthest = max(from_pao, key=from_pao.get)
    assert keys["farthest_lgo_from_pao"] == farthest
    assert keys["farthest_lgo_time_s"] == pytest.approx(from_pao[farthest], rel=1e-9)


def test_components_and_critical_bridges_are_the_librarys(executed, demo_registry):
    keys = key_numbers(executed(NOTEBOOK))
    parts = demo_registry.components()
    assert keys["n_components"] == parts.n_components
    assert keys["cut_off_population"] == parts.cut_off_population

    critical = demo_registry.critical(roads=False)
    assert keys["bridges_analysed"] == critical.analysed["bridges"]
    assert keys["critical_bridges"] == len(critical.critical) > 0
    assert keys["top_bridges"] == [i.id for i in critical.items[:10]]
    assert all(i.kind == "bridge" for i in critical.items[:10])
    worst = max(critical.items, key=lambda i: i.cut_off_population)
    assert keys["top_bridge_id"] == worst.id == critical.items[0].id
    assert keys["top_bridge_cut_off_population"] == worst.cut_off_population > 0


def test_the_wang_flood_scenario_is_the_librarys(executed, demo_registry):
    keys = key_numbers(executed(NOTEBOOK))
    reg = demo_registry
    floods = reg.hazard_areas(hazard_type="flood")
    wang = sorted(int(i) for i in floods.loc[floods["name_en"].str.startswith("Wang River"), "id"])
    assert keys["flood_hazard_ids"] == wang and len(wang) == 3

    flood = reg.components(hazard=wang)
    assert keys["flood_components"] == flood.n_components
    assert keys["flood_lgos_cut_off"] == sum(p["kind"] == "lgo" for p in flood.cut_off)
    assert keys["flood_villages_cut_off"] == sum(p["kind"] == "village" for p in flood.cut_off)
    assert keys["flood_population_cut_off"] == flood.cut_off_population > 0

    detour = reg.route(_pao(reg), keys["route_destination"], hazard=wang)
    assert detour.closures_change_route
    assert keys["flood_route_time_s"] == pytest.approx(detour.time_s, rel=1e-9)
    assert detour.time_s > detour.usual["time_s"]
