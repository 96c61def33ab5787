"""Route and criticality maps, drawn from ``gis_registry.network`` (routing, connectivity,
criticality): a route between two LGOs with its bridges, closures, what they cut off and the
detour; and the bridges and roads whose closure would cut places off."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import folium
from sqlalchemy import Connection, text

from gis_registry import domain
from gis_registry.chainage import on_road
from gis_registry.errors import NotFound
from gis_registry.maps.base import (
    ROAD_WIDTH_PX,
    Bounds,
    LegendRow,
    ZoomScaled,
    add_boundaries,
    esc,
    feature_collection,
    finish,
    legend_html,
    line_swatch,
    new_map,
    point_swatch,
    simplified_geojson_sql,
    simplify_params,
    tolerance_for,
)
from gis_registry.maps.settings import MapSettings

ROUTE = "#1f78b4"
DETOUR = "#ff7f00"
# The normal route is a wide band and the detour a narrow dashed line on top of it: where the
# two share roads (most of the way, for one closed bridge) both still show, the detour's
# dashes inside the route's band.
ROUTE_WIDTH = 11
DETOUR_WIDTH = 4
DETOUR_DASH = "10 8"
CLOSED = "#e31a1c"
CUT_OFF = "#e31a1c"
NETWORK = "#b0b0b0"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:,.0f} นาที / min"


def _km(metres: float) -> str:
    return f"{metres / 1000:,.1f} km"


def _network_layer(
    m: folium.Map, conn: Connection, tol: float, vector_tiles: str | None = None
) -> None:
    """All roads in grey, wider for higher classes: from the API's vector tiles when served
    (``vector_tiles``), else simplified GeoJSON, thinner when zoomed out (:class:`ZoomScaled`)
    so the route and the critical items stand out."""

    def style(road_class: str) -> dict[str, Any]:
        return {
            "color": NETWORK,
            "weight": max(ROAD_WIDTH_PX.get(road_class, 2) - 2, 1),
            "opacity": 0.8,
        }

    name = "โครงข่ายทาง · Road network"
    if vector_tiles:
        from gis_registry.maps.vector import VectorTileLayer

        classes = list(ROAD_WIDTH_PX)
        VectorTileLayer(
            vector_tiles,
            "roads",
            styles=[style(c) for c in classes],
            property="road_class",
            values={c: i for i, c in enumerate(classes)},
            default=classes.index("unregistered"),
            fields=[("code", "รหัสทาง / Road code"), ("name_th", "ชื่อ"), ("name_en", "Name")],
            name=name,
        ).add_to(m)
        return
    rows = conn.execute(
        text(
            "SELECT id, code, road_class, "
            f"{simplified_geojson_sql('geom')} AS geometry FROM roads ORDER BY id"
        ),
        simplify_params(conn, tol),
    ).mappings()
    feats = [
        {"id": r["id"], "cls": r["road_class"], "code": esc(r["code"]), "geometry": r["geometry"]}
        for r in rows
    ]
    if feats:
        layer = folium.GeoJson(
            feature_collection(feats),
            name=name,
            style_function=lambda f: style(f["properties"]["cls"]),
            tooltip=folium.GeoJsonTooltip(["code"], labels=False),
        ).add_to(m)
        m.add_child(ZoomScaled([layer]))


def _require_roads(conn: Connection) -> None:
    # the network library needs roads (an empty network is not an analysis, just nothing)
    if conn.execute(text("SELECT NOT EXISTS (SELECT 1 FROM roads)")).scalar_one():
        raise NotFound("the registry holds no roads: there is no network to draw")


def _province_bounds(conn: Connection) -> Bounds | None:
    row = conn.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(geom) AS e FROM roads) x"
        )
    ).one()
    return None if row[0] is None else tuple(float(v) for v in row)  # type: ignore[return-value]


def _route_bounds(routes, points: Sequence[dict]) -> Bounds:
    """The routes' extent (and the point features given), with a tenth of a margin."""
    xs: list[float] = []
    ys: list[float] = []
    for r in routes:
        if r is not None:
            for x, y in r.geometry["coordinates"]:
                xs.append(x)
                ys.append(y)
    for feature in points:
        x, y = json.loads(feature["geometry"])["coordinates"]
        xs.append(x)
        ys.append(y)
    dx = max((max(xs) - min(xs)) * 0.1, 0.01)
    dy = max((max(ys) - min(ys)) * 0.1, 0.01)
    return (min(xs) - dx, min(ys) - dy, max(xs) + dx, max(ys) + dy)


def _place_points(conn: Connection, places: Sequence[dict]) -> list[dict[str, Any]]:
    """Point features of places given as network place dicts (LGOs by code, villages by id)."""
    lgo_codes = [p["code"] for p in places if p.get("kind") == "lgo"]
    village_ids = [int(p["id"]) for p in places if p.get("kind") == "village"]
    feats: list[dict[str, Any]] = []
    if lgo_codes:
        for r in conn.execute(
            text(
                "SELECT id, name_th, name_en, 0 AS population, ST_AsGeoJSON(office, 6) AS g "
                "FROM local_bodies WHERE code = ANY(:codes) ORDER BY id"
            ),
            {"codes": lgo_codes},
        ).mappings():
            feats.append(
                {
                    "id": f"lgo{r['id']}",
                    "kind": "อปท. / LGO office",
                    "name": esc(f"{r['name_th']} / {r['name_en']}"),
                    "population": "–",
                    "geometry": r["g"],
                }
            )
    if village_ids:
        for r in conn.execute(
            text(
                "SELECT id, name_th, name_en, population, ST_AsGeoJSON(geom, 6) AS g "
                "FROM settlements WHERE id = ANY(:ids) ORDER BY id"
            ),
            {"ids": village_ids},
        ).mappings():
            feats.append(
                {
                    "id": f"v{r['id']}",
                    "kind": "หมู่บ้าน / Village",
                    "name": esc(f"{r['name_th']} / {r['name_en']}"),
                    "population": f"{r['population']:,}",
                    "geometry": r["g"],
                }
            )
    return feats


def _points_layer(m, feats, name, colour, radius, *, fill="#ffffff") -> None:
    if not feats:
        return
    folium.GeoJson(
        feature_collection(feats),
        name=name,
        marker=folium.CircleMarker(radius=radius, fill=True),
        style_function=lambda _f: {
            "color": colour,
            "fillColor": fill,
            "fillOpacity": 1,
            "weight": 3,
        },
        popup=folium.GeoJsonPopup(
            ["kind", "name", "population"],
            aliases=["ประเภท / Kind", "ชื่อ / Name", "ประชากร / Population"],
        ),
        tooltip=folium.GeoJsonTooltip(["name"], labels=False),
    ).add_to(m)


def _route_line(
    m, route, name: str, colour: str, *, weight: float, opacity: float, dash: str | None = None
) -> None:
    props = {
        "id": name,
        "name": esc(name),
        "length": _km(route.length_m),
        "time": _minutes(route.time_s),
        "roads": esc(", ".join(dict.fromkeys(r["code"] or r["name_en"] for r in route.roads))),
        "surface": esc(
            f"{domain.label(domain.SURFACE_TERMS, route.worst_surface)} "
            f"({'ทุกฤดู / all-weather' if route.all_weather else 'ไม่ทุกฤดู / not all-weather'})"
        )
        if route.worst_surface
        else "–",
        "bridges": str(len(route.bridges)),
        "geometry": route.geometry,
    }
    folium.GeoJson(
        feature_collection([props]),
        name=name,
        style_function=lambda _f: {
            "color": colour,
            "weight": weight,
            "opacity": opacity,
            "dashArray": dash,
            "lineCap": "butt" if dash else "round",
        },
        popup=folium.GeoJsonPopup(
            ["name", "length", "time", "roads", "surface", "bridges"],
            aliases=[
                "เส้นทาง / Route",
                "ระยะทาง / Length",
                "เวลา / Time",
                "ทาง / Roads",
                "ผิวทางแย่สุด / Worst surface",
                "สะพาน / Bridges",
            ],
        ),
    ).add_to(m)


def _bridges_layer(m, conn, bridge_ids, closed_ids, name) -> None:
    if not bridge_ids and not closed_ids:
        return
    ids = sorted(set(bridge_ids) | set(closed_ids))
    feats = []
    for r in conn.execute(
        text(
            "SELECT b.id, b.name_th, b.name_en, b.structure_type, b.length_m, b.load_limit_t, "
            "b.chainage_m, r.code, ST_AsGeoJSON(b.geom, 6) AS g "
            "FROM bridges b JOIN roads r ON r.id = b.road_id "
            "WHERE b.id = ANY(:ids) ORDER BY b.id"
        ),
        {"ids": ids},
    ).mappings():
        closed = r["id"] in closed_ids
        feats.append(
            {
                "id": r["id"],
                "closed": closed,
                "name": esc(f"{r['name_th']} / {r['name_en']}"),
                "road": esc(on_road(r["code"], r["chainage_m"])),
                "structure": esc(domain.label(domain.BRIDGE_STRUCTURE_TERMS, r["structure_type"])),
                "size": f"{r['length_m']:g} m"
                + (f", {r['load_limit_t']:g} t" if r["load_limit_t"] else ""),
                "status": "ปิด / CLOSED" if closed else "เปิด / open",
                "geometry": r["g"],
            }
        )
    folium.GeoJson(
        feature_collection(feats),
        name=name,
        marker=folium.CircleMarker(radius=8, fill=True),
        style_function=lambda f: {
            "color": "#000000",
            "fillColor": CLOSED if f["properties"]["closed"] else "#ffffff",
            "fillOpacity": 1,
            "weight": 3 if f["properties"]["closed"] else 2,
        },
        popup=folium.GeoJsonPopup(
            ["name", "status", "road", "structure", "size"],
            aliases=[
                "สะพาน / Bridge",
                "สถานะ / Status",
                "บนทาง / On road",
                "โครงสร้าง / Structure",
                "ขนาด / Size",
            ],
        ),
        tooltip=folium.GeoJsonTooltip(["name", "status"], labels=False),
    ).add_to(m)


def route_map(
    conn: Connection,
    origin: str | int,
    destination: str | int,
    *,
    closed_bridges: Sequence[int] = (),
    closed_roads: Sequence[int] = (),
    hazard_ids: Sequence[int] = (),
    by: str = "time",
    vector_tiles: str | None = None,
    tiles: str | None = None,
    settings: MapSettings | None = None,
) -> folium.Map:
    """A route between two places, its bridges, closures, who they cut off, and the detour.

    Parameters
    ----------
    conn : an open connection
    origin, destination : LGO codes (or any endpoint :func:`gis_registry.network.routing.route`
        accepts: ``village:ID``, ``district:CODE``, ``"lon,lat"``)
    closed_bridges, closed_roads : ids of closed bridges and road segments
    hazard_ids : hazard areas (e.g. a flood) closing every road inside them
    by : ``"time"`` (fastest) or ``"distance"`` (shortest)
    vector_tiles : URL template of the roads' vector tiles when served by the API (the road
        network is then drawn from them instead of embedded)
    tiles, settings : basemap and map settings

    Returns
    -------
    folium.Map: the normal route (blue) with its bridges, closures (red), the detour (orange,
    dashed) when one exists, and the LGO offices and villages the closures cut off from the
    PAO office (red rings). When no closure is on the route there is no detour to draw: the
    subtitle gives the library's notes instead ("bridge 5 is not on this route; nothing
    changes").
    """
    from gis_registry.network.connectivity import components
    from gis_registry.network.restrictions import Restrictions
    from gis_registry.network.routing import Unreachable, route

    restrictions = Restrictions(
        closed_roads=tuple(closed_roads),
        closed_bridges=tuple(closed_bridges),
        hazard_ids=tuple(hazard_ids),
    )
    _require_roads(conn)
    normal = route(conn, origin, destination, by=by)
    detour = None
    unchanged: list[str] = []  # the library's notes when no closure is on the route
    closure_notes: list[str] = []  # the library's sentences on each closure, for the legend
    cut_off: list[dict] = []
    if not restrictions.empty:
        try:
            detour = route(conn, origin, destination, by=by, restrictions=restrictions)
        except Unreachable as exc:
            detour = None
            closure_notes = [str(exc)]
        else:
            closure_notes = list(detour.notes)
            if not detour.closures_change_route:
                # the "detour" would be the route itself: say so instead of drawing it twice
                unchanged, detour = detour.notes, None
        cut_off = components(conn, restrictions=restrictions).cut_off
    tol = tolerance_for(_province_bounds(conn))
    cut_points = _place_points(conn, cut_off)
    bounds = _route_bounds([normal, detour], cut_points)
    names = (
        f"{normal.origin.get('name_th', origin)} → {normal.destination.get('name_th', destination)}"
    )
    subtitle = f"{names} · {_km(normal.length_m)}, {_minutes(normal.time_s)}"
    if detour is not None:
        subtitle += f" · ทางเลี่ยง / detour {_km(detour.length_m)}, {_minutes(detour.time_s)}"
    elif unchanged:
        subtitle += " · ไม่มีผลต่อเส้นทาง / " + "; ".join(unchanged)
    elif not restrictions.empty:
        subtitle += " · ไม่มีทางเลี่ยง / no detour: destination cut off"
    m = new_map(
        bounds,
        title_th="เส้นทางและการปิดทาง",
        title_en="Route, closures and detour",
        subtitle=subtitle,
        tiles=tiles,
        settings=settings,
    )
    add_boundaries(m, conn, tolerance_m=tol, bounds=bounds, show_local_bodies=False)
    _network_layer(m, conn, tol, vector_tiles)
    _route_line(m, normal, "เส้นทางปกติ · Normal route", ROUTE, weight=ROUTE_WIDTH, opacity=0.55)
    if detour is not None:
        _route_line(
            m,
            detour,
            "ทางเลี่ยง · Detour",
            DETOUR,
            weight=DETOUR_WIDTH,
            opacity=1.0,
            dash=DETOUR_DASH,
        )
    if closed_roads:
        rows = conn.execute(
            text(
                "SELECT id, code, name_th, name_en, ST_AsGeoJSON(geom, 6) AS g FROM roads "
                "WHERE id = ANY(:ids) ORDER BY id"
            ),
            {"ids": list(closed_roads)},
        ).mappings()
        feats = [
            {
                "id": r["id"],
                "name": esc(f"{r['code'] or ''} {r['name_th']} / {r['name_en']}"),
                "status": "ปิด / CLOSED",
                "geometry": r["g"],
            }
            for r in rows
        ]
        if feats:
            folium.GeoJson(
                feature_collection(feats),
                name="ทางที่ปิด · Closed roads",
                style_function=lambda _f: {"color": CLOSED, "weight": 8, "dashArray": "2 8"},
                tooltip=folium.GeoJsonTooltip(["name", "status"], labels=False),
            ).add_to(m)
    if hazard_ids:
        rows = conn.execute(
            text(
                "SELECT id, name_th, name_en, ST_AsGeoJSON(geom, 6) AS g FROM hazard_areas "
                "WHERE id = ANY(:ids)"
            ),
            {"ids": list(hazard_ids)},
        ).mappings()
        feats = [
            {"id": r["id"], "name": esc(f"{r['name_th']} / {r['name_en']}"), "geometry": r["g"]}
            for r in rows
        ]
        if feats:
            folium.GeoJson(
                feature_collection(feats),
                name="พื้นที่ปิด (ภัย) · Closed hazard areas",
                style_function=lambda _f: {
                    "color": CLOSED,
                    "fillColor": CLOSED,
                    "fillOpacity": 0.2,
                    "weight": 1,
                },
                tooltip=folium.GeoJsonTooltip(["name"], labels=False),
            ).add_to(m)
    _bridges_layer(
        m,
        conn,
        [int(b["bridge_id"] if "bridge_id" in b else b["id"]) for b in normal.bridges],
        list(closed_bridges),
        "สะพานบนเส้นทาง · Bridges on the route",
    )
    ends = _place_points(conn, [normal.origin, normal.destination])
    _points_layer(m, ends, "ต้นทาง/ปลายทาง · Origin and destination", ROUTE, 10, fill=ROUTE)
    _points_layer(m, cut_points, f"ถูกตัดขาด · Cut off ({len(cut_off)})", CUT_OFF, 9)
    legend = [
        LegendRow(line_swatch(ROUTE, ROUTE_WIDTH, opacity=0.55), "เส้นทางปกติ", "normal route"),
        LegendRow(line_swatch(DETOUR, DETOUR_WIDTH, dash=True), "ทางเลี่ยง", "detour"),
        LegendRow(line_swatch(CLOSED, 6, dash=True), "ทางที่ปิด", "closed road"),
        LegendRow(point_swatch(CLOSED), "สะพานที่ปิด", "closed bridge"),
        LegendRow(point_swatch("#ffffff"), "สะพานบนเส้นทาง", "bridge on the route"),
        LegendRow(
            '<span class="pt" style="border:3px solid ' + CUT_OFF + '"></span>',
            "อปท./หมู่บ้านที่ถูกตัดขาด",
            "LGO / village cut off",
        ),
        LegendRow(line_swatch(NETWORK, 2), "ทางอื่น", "other roads"),
    ]
    return finish(m, legend_html("เส้นทาง", "Route", legend, notes=closure_notes))


def criticality_map(
    conn: Connection,
    *,
    top: int = 50,
    delays: bool = False,
    vector_tiles: str | None = None,
    tiles: str | None = None,
    settings: MapSettings | None = None,
) -> folium.Map:
    """Bridges and road segments whose closure cuts LGOs or villages off from the PAO office.

    Parameters
    ----------
    conn : an open connection
    top : draw the ``top`` worst items (ranked by population cut off)
    delays : also compute travel-time increases (slower; shown in the popups)
    vector_tiles : URL template of the roads' vector tiles when served by the API
    tiles, settings : basemap and map settings

    Returns
    -------
    folium.Map: critical bridges as circles and critical roads as thick lines, both coloured
    and sized by the population they would cut off; popups list who is cut off.
    """
    from gis_registry.network.criticality import criticality

    _require_roads(conn)
    result = criticality(conn, delays=delays)
    items = [i for i in result.items if i.critical][:top]
    bounds = _province_bounds(conn)
    tol = tolerance_for(bounds)
    m = new_map(
        bounds,
        title_th="สะพานและทางวิกฤต",
        title_en="Critical bridges and roads",
        subtitle=f"{len(items)} รายการที่ตัดขาดชุมชนหากปิด / items whose closure cuts places off",
        tiles=tiles,
        settings=settings,
    )
    add_boundaries(m, conn, tolerance_m=tol, bounds=bounds, show_local_bodies=False)
    _network_layer(m, conn, tol, vector_tiles)
    worst = max((i.cut_off_population for i in items), default=0) or 1

    def colour(pop: int) -> str:
        share = pop / worst
        return "#67000d" if share > 0.66 else "#cb181d" if share > 0.33 else "#fb6a4a"

    def describe(item) -> dict[str, Any]:
        lgos = [p for p in item.cut_off if p["kind"] == "lgo"]
        villages = [p for p in item.cut_off if p["kind"] == "village"]
        return {
            "name": esc(f"{item.name_th} / {item.name_en}"),
            "population": f"{item.cut_off_population:,}",
            "lgos": esc(", ".join(p["name_th"] for p in lgos)) or "–",
            "villages": esc(
                ", ".join(p["name_th"] for p in villages[:15])
                + (f" … (+{len(villages) - 15})" if len(villages) > 15 else "")
            )
            or "–",
            "delayed": f"{item.delayed_population:,}" if delays else "–",
            "colour": colour(item.cut_off_population),
        }

    road_items = {i.id: i for i in items if i.kind == "road"}
    if road_items:
        rows = conn.execute(
            text(
                f"SELECT id, {simplified_geojson_sql('geom')} AS g FROM roads WHERE id = ANY(:ids)"
            ),
            {"ids": list(road_items), **simplify_params(conn, tol)},
        ).mappings()
        feats = [{"id": r["id"], **describe(road_items[r["id"]]), "geometry": r["g"]} for r in rows]
        folium.GeoJson(
            feature_collection(feats),
            name="ทางวิกฤต · Critical roads",
            style_function=lambda f: {"color": f["properties"]["colour"], "weight": 6},
            popup=folium.GeoJsonPopup(
                ["name", "population", "lgos", "villages", "delayed"], aliases=_CRIT_ALIASES
            ),
            tooltip=folium.GeoJsonTooltip(["name", "population"], labels=False),
        ).add_to(m)
    bridge_items = {i.id: i for i in items if i.kind == "bridge"}
    if bridge_items:
        rows = conn.execute(
            text("SELECT id, ST_AsGeoJSON(geom, 6) AS g FROM bridges WHERE id = ANY(:ids)"),
            {"ids": list(bridge_items)},
        ).mappings()
        feats = []
        for r in rows:
            item = bridge_items[r["id"]]
            props = describe(item)
            props["radius"] = round(6 + 10 * (item.cut_off_population / worst) ** 0.5, 1)
            feats.append({"id": r["id"], **props, "geometry": r["g"]})
        folium.GeoJson(
            feature_collection(feats),
            name="สะพานวิกฤต · Critical bridges",
            marker=folium.CircleMarker(radius=8, fill=True),
            style_function=lambda f: {
                "color": "#000000",
                "weight": 2,
                "fillOpacity": 0.9,
                "fillColor": f["properties"]["colour"],
                "radius": f["properties"]["radius"],
            },
            popup=folium.GeoJsonPopup(
                ["name", "population", "lgos", "villages", "delayed"], aliases=_CRIT_ALIASES
            ),
            tooltip=folium.GeoJsonTooltip(["name", "population"], labels=False),
        ).add_to(m)
    _points_layer(m, _place_points(conn, [result.root]), "อบจ. · PAO office", ROUTE, 9, fill=ROUTE)
    legend = [
        LegendRow(
            point_swatch("#67000d", 16),
            "ตัดขาดประชากรมากที่สุด",
            f"cuts off the most (up to {worst:,} people)",
        ),
        LegendRow(point_swatch("#cb181d", 12), "ตัดขาดปานกลาง", "cuts off a middling number"),
        LegendRow(point_swatch("#fb6a4a", 8), "ตัดขาดน้อย", "cuts off a few"),
        LegendRow(line_swatch("#cb181d", 6), "ทางวิกฤต", "critical road"),
        LegendRow(point_swatch(ROUTE), "ที่ทำการ อบจ.", "PAO office (reference)"),
    ]
    return finish(m, legend_html("ความวิกฤต", "Criticality", legend))


_CRIT_ALIASES = [
    "ชื่อ / Name",
    "ประชากรที่ถูกตัดขาด / Population cut off",
    "อปท. ที่ถูกตัดขาด / LGOs cut off",
    "หมู่บ้านที่ถูกตัดขาด / Villages cut off",
    "ประชากรที่ต้องอ้อม / Population delayed",
]
