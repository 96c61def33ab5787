"""The network-check map: what :func:`gis_registry.network.check.check_network` finds, drawn.

Roads are grey, the roads of islands (components cut off from the main network) green; each
kind of finding is a layer of points at its position, with a legend row per kind. Nothing is
re-derived here: the points and islands are the check's own answer.
"""

from __future__ import annotations

import folium
from branca.element import Element
from sqlalchemy import Connection, text

from gis_registry.maps.base import (
    LegendRow,
    ZoomScaled,
    add_boundaries,
    esc,
    feature_collection,
    finish,
    layer_bounds,
    legend_html,
    line_swatch,
    new_map,
    point_swatch,
    simplified_geojson_sql,
    simplify_params,
    tolerance_for,
)
from gis_registry.maps.settings import MapSettings
from gis_registry.network.check import DEFAULT_TOLERANCE_M, KIND_LABELS, KINDS, check_network

KIND_COLOURS = {
    "crossing": "#d7191c",
    "near_miss": "#fdae61",
    "dangle": "#2c7bb6",
    "duplicate": "#7b3294",
    "zero_length": "#000000",
    "island": "#1a9641",
}
ROAD = "#9e9e9e"
ISLAND_ROAD = KIND_COLOURS["island"]


def network_map(
    conn: Connection,
    *,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    simplify_m: float | None = None,
    tiles: str | None = None,
    settings: MapSettings | None = None,
) -> folium.Map:
    """The road network with the findings of the topology check, a layer and legend row per
    kind of finding.

    Parameters
    ----------
    conn : an open connection
    tolerance_m : the check's near-miss tolerance in metres (stated in the subtitle)
    simplify_m : simplification of the drawn roads in metres (default: fitted to the extent)
    tiles, settings : basemap and map settings
    """
    result = check_network(conn, tolerance_m=tolerance_m)
    bounds = layer_bounds(conn, "SELECT geom FROM roads")
    tol = simplify_m if simplify_m is not None else tolerance_for(bounds)
    m = new_map(
        bounds,
        title_th="ตรวจสอบโครงข่ายถนน",
        title_en="Road network check",
        subtitle=f"tolerance {result.tolerance_m:g} m · "
        + ", ".join(f"{KIND_LABELS[k][1]}: {result.counts[k]:,}" for k in KINDS),
        tiles=tiles,
        settings=settings,
    )
    add_boundaries(m, conn, tolerance_m=tol, bounds=bounds, show_local_bodies=False)
    on_island = {
        road: island["component"]
        for island in result.islands
        if not island["main"]
        for road in island["road_ids"]
    }
    roads = [
        {
            "id": r["id"],
            "road_id": r["id"],
            "island": on_island.get(r["id"], ""),
            "code": esc(r["code"]),
            "name": esc(f"{r['name_th']} / {r['name_en']}"),
            "layer": r["layer"],
            "geometry": r["geometry"],
        }
        for r in conn.execute(
            text(
                "SELECT id, code, name_th, name_en, layer, "
                f"{simplified_geojson_sql('geom')} AS geometry FROM roads ORDER BY id"
            ),
            simplify_params(conn, tol),
        ).mappings()
    ]
    dense: list[Element] = []  # thin roads, small points at the province's zoom
    if roads:
        road_layer = folium.GeoJson(
            feature_collection(roads),
            name="ทาง (เขียว = โครงข่ายแยก) · Roads (green = island)",
            style_function=lambda f: {
                "color": ISLAND_ROAD if f["properties"]["island"] != "" else ROAD,
                "weight": 3 if f["properties"]["island"] != "" else 2,
                "opacity": 0.9,
            },
            popup=folium.GeoJsonPopup(
                ["road_id", "code", "name", "layer", "island"],
                aliases=["ทาง / Road", "รหัส / Code", "ชื่อ / Name", "ชั้น / Layer", "Island #"],
            ),
        ).add_to(m)
        dense.append(road_layer)
    for kind in KINDS:
        points = [
            {
                "kind": KIND_LABELS[kind][1],
                "roads": ", ".join(str(i) for i in f["road_ids"][:10]),
                "codes": esc(", ".join(c or "-" for c in f["road_codes"][:10])),
                "distance": "-" if f["distance_m"] is None else f"{f['distance_m']:,.2f} m",
                "geometry": {"type": "Point", "coordinates": [f["lon"], f["lat"]]},
            }
            for f in result.findings
            if f["kind"] == kind
        ]
        if not points:
            continue
        th, en = KIND_LABELS[kind]
        finding_layer = folium.GeoJson(
            feature_collection(points),
            name=f"{th} · {en} ({len(points):,})",
            marker=folium.CircleMarker(radius=6, fill=True),
            style_function=lambda _f, colour=KIND_COLOURS[kind]: {
                "fillColor": colour,
                "color": "#ffffff",
                "weight": 1,
                "fillOpacity": 0.95,
            },
            popup=folium.GeoJsonPopup(
                ["kind", "roads", "codes", "distance"],
                aliases=["ปัญหา / Finding", "ทาง / Roads", "รหัส / Codes", "ระยะ / Distance"],
            ),
        ).add_to(m)
        dense.append(finding_layer)
    if dense:
        # findings shrink less than roads: they are what the map is for
        m.add_child(ZoomScaled(dense, least=0.6))
    legend: list[LegendRow] = [
        LegendRow(point_swatch(KIND_COLOURS[k]), KIND_LABELS[k][0], f"{KIND_LABELS[k][1]}", "")
        for k in KINDS
    ]
    legend += [
        LegendRow(line_swatch(ROAD, 2), "ทาง", "road"),
        LegendRow(line_swatch(ISLAND_ROAD, 3), "ทางบนโครงข่ายแยก", "road on an island"),
    ]
    return finish(
        m,
        legend_html(
            f"ตรวจสอบโครงข่าย (ระยะ {result.tolerance_m:g} ม.)",
            f"Network check (tolerance {result.tolerance_m:g} m)",
            legend,
        ),
    )
