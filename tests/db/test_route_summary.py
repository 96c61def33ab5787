"""A route's summary is the library's answer (one place for the CLI, the API and the maps): the
roads driven (consecutive segments of one road merged), the length on each surface and the
worst surface, on the demo province (seed 52) and on routes written out by hand."""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations, groupby

import pytest
from sqlalchemy import text

from gis_registry import Registry, domain
from gis_registry.network.routing import Route, road_runs, worst_surface

pytestmark = pytest.mark.db

MAX_ROUTES = 3000  # routes tried to find one of a kind on the demo (a few ms each)


def _segment(road_id, code, surface, owner, length_m):
    return {
        "road_id": road_id,
        "code": code,
        "name_th": f"ถนน {code}",
        "name_en": f"road {code}",
        "surface": surface,
        "owner": {"kind": "agency", "code": owner},
        "length_m": length_m,
        "time_s": length_m / 10,
    }


def _route(segments) -> Route:
    return Route(
        origin={},
        destination={},
        by="time",
        length_m=sum(s["length_m"] for s in segments),
        time_s=sum(s["time_s"] for s in segments),
        geometry={"type": "LineString", "coordinates": []},
        segments=segments,
        bridges=[],
    )


def test_the_worst_surface_is_the_least_all_weather():
    """Not all-weather (laterite, earth) is worse than any all-weather surface; within each,
    the domain's order (earth after laterite; crushed rock after concrete after asphalt)."""
    assert worst_surface(["asphalt", "concrete"]) == "concrete"
    assert worst_surface(["asphalt", "crushed_rock", "concrete"]) == "crushed_rock"
    assert worst_surface(["asphalt", "crushed_rock", "laterite"]) == "laterite"
    assert worst_surface(["earth", "laterite", "asphalt"]) == "earth"
    assert worst_surface([None, "unknown"]) is None
    assert worst_surface([]) is None


def test_only_consecutive_segments_of_one_road_merge():
    segments = [
        _segment(1, "1035", "asphalt", "DOH", 100),
        _segment(2, "1035", "concrete", "DOH", 200),
        _segment(3, "ลป.1870", "laterite", "DRR", 50),
        _segment(4, "1035", "asphalt", "DOH", 300),
    ]
    runs = road_runs(segments)
    assert [r["code"] for r in runs] == ["1035", "ลป.1870", "1035"]
    first = runs[0]
    assert first["n_segments"] == 2 and first["road_ids"] == [1, 2]
    assert first["length_m"] == 300 and first["time_s"] == 30
    assert first["surfaces"] == ["asphalt", "concrete"]
    assert first["owners"] == [{"kind": "agency", "code": "DOH"}]
    assert first["name_th"] == "ถนน 1035" and first["name_en"] == "road 1035"
    assert runs[2]["road_ids"] == [4]


def test_the_route_answers_its_roads_surfaces_and_worst_surface():
    r = _route(
        [
            _segment(1, "1035", "asphalt", "DOH", 100),
            _segment(2, "ลป.1870", "laterite", "DRR", 50),
            _segment(3, "1035", "concrete", "DOH", 300),
        ]
    )
    assert [run["code"] for run in r.roads] == ["1035", "ลป.1870", "1035"]
    assert r.surfaces == {"asphalt": 100, "concrete": 300, "laterite": 50}
    assert list(r.surfaces) == ["asphalt", "concrete", "laterite"]  # best to worst
    assert r.worst_surface == "laterite" and r.all_weather is False
    body = r.to_dict()
    assert body["roads"] == r.roads and body["surfaces"] == r.surfaces
    assert body["worst_surface"] == "laterite" and body["all_weather"] is False
    paved = _route([_segment(1, "1035", "asphalt", "DOH", 100)])
    assert paved.worst_surface == "asphalt" and paved.all_weather is True
    nowhere = _route([])
    assert nowhere.roads == [] and nowhere.surfaces == {}
    assert nowhere.worst_surface is None and nowhere.all_weather is None


def _runs_by_hand(segments) -> list[list[dict]]:
    return [list(g) for _, g in groupby(segments, key=lambda s: (s["code"], s["name_th"]))]


def _keys(r: Route) -> list[tuple]:
    return [k for k, _ in groupby((s["code"], s["name_th"]) for s in r.segments)]


def _first_route(demo_engine, wanted: Callable[[Route], bool]) -> Route:
    """The first fastest route between two LGOs (pairs in code order) that is ``wanted``."""
    reg = Registry(demo_engine)
    with demo_engine.connect() as conn:
        codes = conn.execute(text("SELECT code FROM local_bodies ORDER BY code")).scalars().all()
    for n, (a, b) in enumerate(combinations(codes, 2)):
        r = reg.route(a, b)
        if wanted(r):
            return r
        assert n < MAX_ROUTES, "no such route on the demo"
    raise AssertionError("no such route on the demo")


def test_a_demo_route_merges_consecutive_segments_by_road(demo_engine):
    # a route that drives one road twice, with another between
    r = _first_route(demo_engine, lambda r: len(_keys(r)) > len(set(_keys(r))))
    by_hand = _runs_by_hand(r.segments)
    assert [run["code"] for run in r.roads] == [g[0]["code"] for g in by_hand]
    assert [run["n_segments"] for run in r.roads] == [len(g) for g in by_hand]
    assert sum(run["n_segments"] for run in r.roads) == len(r.segments) > len(r.roads)
    assert [i for run in r.roads for i in run["road_ids"]] == [s["road_id"] for s in r.segments]
    # a road driven twice, with another between, is two runs
    codes = [run["code"] for run in r.roads]
    assert len(codes) > len(set(codes))
    assert sum(run["length_m"] for run in r.roads) == pytest.approx(r.length_m, abs=0.01)
    assert sum(run["time_s"] for run in r.roads) == pytest.approx(r.time_s, abs=0.01)
    assert sum(r.surfaces.values()) == pytest.approx(r.length_m, abs=0.01)


def test_a_demo_route_on_laterite_is_not_all_weather(demo_engine):
    def laterite_no_earth(r: Route) -> bool:
        driven = {s["surface"] for s in r.segments}
        return "laterite" in driven and "earth" not in driven

    r = _first_route(demo_engine, laterite_no_earth)
    driven = {s["surface"] for s in r.segments}
    assert "laterite" in driven and "earth" not in driven
    assert r.worst_surface == "laterite" and r.all_weather is False
    assert r.surfaces["laterite"] == pytest.approx(
        sum(s["length_m"] for s in r.segments if s["surface"] == "laterite")
    )
    assert set(r.surfaces) == driven
    body = r.to_dict()
    assert body["worst_surface"] == "laterite" and body["roads"] == r.roads
    assert all(s in domain.SURFACES for s in body["surfaces"])
