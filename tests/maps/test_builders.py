"""The map builders on the known world (``world.py``): what each map draws, in which colour."""

from __future__ import annotations

from datetime import date

import folium
import pytest

from gis_registry.errors import NotFound
from gis_registry.maps import (
    build_map,
    condition_map,
    criticality_map,
    hazard_map,
    route_map,
    water_map,
    zoning_map,
)
from gis_registry.maps.base import tolerance_for
from gis_registry.maps.offline import render_html
from gis_registry.maps.zoning import zone_style
from tests.maps.world import FILL, HATCHED, ZONES

pytestmark = pytest.mark.db


def layers(m: folium.Map) -> dict[str, folium.GeoJson]:
    return {c.layer_name: c for c in m._children.values() if isinstance(c, folium.GeoJson)}


def layer(m: folium.Map, starts: str) -> folium.GeoJson:
    found = [g for name, g in layers(m).items() if name.startswith(starts)]
    assert found, f"no layer {starts!r} in {list(layers(m))}"
    return found[0]


def features(m: folium.Map, starts: str) -> list[dict]:
    return layer(m, starts).data["features"]


def legend(m: folium.Map) -> str:
    return next(c.body for c in m._children.values() if type(c).__name__ == "Legend")


def test_zoning_map_colours_popups_legend(maps_conn):
    m = zoning_map(maps_conn)
    assert isinstance(m, folium.Map)
    zones = features(m, "เขตการใช้ประโยชน์ที่ดิน")
    assert [f["properties"]["code"] for f in zones] == [
        code for code, cat, _b in sorted(ZONES, key=lambda z: [k for k in FILL].index(z[1]))
    ]
    for f in zones:
        p = f["properties"]
        style = zone_style(p)
        if p["category"] in HATCHED:
            assert style["fillColor"] == f"url(#hatch-{p['category'].replace('_', '-')})"
        else:
            assert style["fillColor"] == FILL[p["category"]]
        assert p["effective"] == "1 มิถุนายน 2568 (2025-06-01)"  # Buddhist Era in popups
        assert p["expiry"].startswith("1 มิถุนายน 2573")
        assert "ไร่" in p["area"] and "ha" in p["area"]
        assert "Test town plan 2025" in p["plan"]
    text = legend(m)
    for code, th, en in (
        ("ย.1-ย.4", "ที่อยู่อาศัยหนาแน่นน้อย", "low-density residential"),
        ("ก.1-ก.3", "อนุรักษ์ชนบทและเกษตรกรรม", "rural and agricultural conservation"),
    ):
        assert code in text and th in text and en in text
    assert "res_med" not in text and "medium-density" not in text  # only categories shown
    assert any(name.startswith("อำเภอ") for name in layers(m))
    assert any(name.startswith("อปท.") for name in layers(m))
    page, _ = render_html(m, mode="url", base_url="/a/")
    assert '<pattern id="hatch-rural-cons"' in page and '<pattern id="hatch-res-cons"' in page
    assert "L.control.layers" in page and "Loma" in page


def test_zoning_filters(maps_conn, maps_engine):
    ids = maps_engine.world_ids
    east = zoning_map(maps_conn, local_body="521099")
    assert {f["properties"]["code"] for f in features(east, "เขตการใช้")} == {"อ.1", "ก.2", "ส.1"}
    assert len(features(zoning_map(maps_conn, plan_id=ids["plan"]), "เขตการใช้")) == len(ZONES)
    empty = zoning_map(maps_conn, in_force_on=date(2024, 1, 1))  # before the plan
    assert not any(n.startswith("เขตการใช้") for n in layers(empty))
    with pytest.raises(NotFound):
        zoning_map(maps_conn, plan_id=9999)
    with pytest.raises(NotFound):
        zoning_map(maps_conn, local_body="no such LGO")


def test_tolerance_follows_the_scale():
    province = tolerance_for((98.9, 17.2, 100.2, 19.4))
    town = tolerance_for((99.45, 18.25, 99.55, 18.33))
    assert 10 <= province <= 60 and town < 3


def test_condition_map(maps_conn, maps_engine):
    ids = maps_engine.world_ids
    m = condition_map(maps_conn)
    roads = {f["id"]: f["properties"] for f in features(m, "ทาง ·")}
    assert roads[ids["road1"]]["condition"] == "good"  # IRI 2.1
    assert roads[ids["road2"]]["condition"] == "very_poor"  # IRI 6.5
    assert roads[ids["road7"]]["condition"] == "poor"  # latest 1-5 score is 2 (older 4 ignored)
    assert roads[ids["road3"]]["condition"] == "unknown"
    assert "ฟื้นฟู" not in roads[ids["road2"]]["works"]
    assert "บูรณะ / rehabilitation" in roads[ids["road2"]]["works"]
    assert "2569" in roads[ids["road2"]]["works"]
    assert roads[ids["road7"]]["owner"].startswith("เทศบาลตำบลตะวันออก")
    assert roads[ids["road1"]]["owner"] == "DOH"
    assert "ลูกรัง / laterite" in roads[ids["road7"]]["surface"]
    assert "5 พฤศจิกายน 2567" in roads[ids["road7"]]["inspection"]
    bridges = {f["id"]: f["properties"] for f in features(m, "สะพาน")}
    assert bridges[ids["bridge1"]]["condition"] == "poor"  # NBI 3
    assert bridges[ids["bridge2"]]["condition"] == "good"  # NBI 8
    assert bridges[ids["bridge3"]]["condition"] == "unknown"
    assert "ซ่อมแซมคานสะพาน" in bridges[ids["bridge1"]]["works"]
    assert "good" in legend(m) and "ดี" in legend(m)


def test_hazard_map(maps_conn, maps_engine):
    ids = maps_engine.world_ids
    m = hazard_map(maps_conn)
    roads = {f["id"]: f["properties"]["exposed"] for f in features(m, "ทาง")}
    assert roads[ids["road2"]] and roads[ids["road5"]] and not roads[ids["road1"]]
    bridges = {f["id"]: f["properties"]["exposed"] for f in features(m, "สะพาน")}
    assert bridges == {ids["bridge1"]: True, ids["bridge2"]: True, ids["bridge3"]: False}
    villages = {f["id"]: f["properties"]["exposed"] for f in features(m, "หมู่บ้าน")}
    assert villages[ids["v_north"]] and not villages[ids["v_west"]]


def test_water_map(maps_conn, maps_engine):
    ids = maps_engine.world_ids
    m = water_map(maps_conn, distance_m=2000, new_sites=2)
    covered = {f["id"] for f in features(m, "หมู่บ้านที่มีแหล่งน้ำ")}
    uncovered = {f["id"]: f["properties"]["radius"] for f in features(m, "หมู่บ้านที่ไม่มี")}
    assert covered == {ids["v_west"], ids["v_north"]}
    assert set(uncovered) == {ids["v_east"], ids["v_south"]}
    assert uncovered[ids["v_east"]] > uncovered[ids["v_south"]]  # sized by population
    sites = features(m, "จุดที่เสนอ")
    assert 1 <= len(sites) <= 2 and sites[0]["properties"]["rank"] == 1
    assert len(features(m, "แหล่งน้ำ")) == 2


def test_route_map_detour_and_cut_off(maps_conn, maps_engine):
    ids = maps_engine.world_ids
    m = route_map(maps_conn, "520199", "521099", closed_bridges=[ids["bridge1"], ids["bridge3"]])
    normal = features(m, "เส้นทางปกติ")[0]["properties"]
    detour = features(m, "ทางเลี่ยง")[0]["properties"]
    assert float(normal["length"].split()[0]) < float(detour["length"].split()[0])
    bridges = {f["id"]: f["properties"]["closed"] for f in features(m, "สะพานบนเส้นทาง")}
    assert bridges == {ids["bridge1"]: True, ids["bridge3"]: True}
    cut = features(m, "ถูกตัดขาด")
    assert [f["id"] for f in cut] == [f"v{ids['v_south']}"]
    no_closure = route_map(maps_conn, "520199", "521099")
    assert not any(n.startswith("ทางเลี่ยง") for n in layers(no_closure))
    # the popup presents the library's summary of the route: its roads and its worst surface
    from gis_registry import domain
    from gis_registry.network.routing import route

    usual = route(maps_conn, "520199", "521099")
    line = features(no_closure, "เส้นทางปกติ")[0]["properties"]
    assert line["roads"] == ", ".join(dict.fromkeys(r["code"] or r["name_en"] for r in usual.roads))
    assert line["surface"].startswith(domain.label(domain.SURFACE_TERMS, usual.worst_surface))


def test_criticality_map(maps_conn, maps_engine):
    ids = maps_engine.world_ids
    m = criticality_map(maps_conn)
    bridges = {f["id"]: f["properties"] for f in features(m, "สะพานวิกฤต")}
    assert list(bridges) == [ids["bridge3"]]
    assert bridges[ids["bridge3"]]["population"] == "250"
    assert "บ้านใต้" in bridges[ids["bridge3"]]["villages"]


def test_build_map_by_name(maps_conn):
    assert isinstance(build_map(maps_conn, "hazard"), folium.Map)
    with pytest.raises(NotFound):
        build_map(maps_conn, "nonsense")


def test_no_basemap_unless_configured(maps_conn, monkeypatch):
    page, _ = render_html(zoning_map(maps_conn), mode="url", base_url="/a/")
    assert "L.tileLayer" not in page  # works offline: no tiles at all
    local = "http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png"
    page, _ = render_html(zoning_map(maps_conn, tiles=local), mode="url", base_url="/a/")
    assert "L.tileLayer" in page and local in page
    monkeypatch.setenv("GIS_REGISTRY_MAP_TILES_URL", local)
    page, _ = render_html(zoning_map(maps_conn), mode="url", base_url="/a/")
    assert local in page


def test_demo_set_on_an_empty_registry(conn, tmp_path):
    """Maps of an empty registry are empty maps, not errors; what cannot be drawn is named."""
    from gis_registry.maps import write_demo_maps

    result = write_demo_maps(conn, tmp_path)
    assert {"zoning", "condition", "water", "hazard", "index"} <= set(result.paths)
    assert "route" in result.skipped and "critical" in result.skipped
    index = result.paths["index"].read_text(encoding="utf-8")
    assert "zoning.html" in index and result.skipped["critical"][:20] in index
