"""The water coverage map: sources by kind, covered and uncovered villages, new sites chosen by
the siting analysis (``gis_registry.analysis.coverage`` and ``.siting``)."""

from __future__ import annotations

import math
from typing import Any

import folium
from branca.element import Element
from sqlalchemy import Connection, text

from gis_registry import domain
from gis_registry.maps.base import (
    LegendRow,
    ZoomScaled,
    add_boundaries,
    esc,
    feature_collection,
    finish,
    layer_bounds,
    legend_html,
    new_map,
    point_swatch,
    simplified_geojson_sql,
    simplify_params,
    tolerance_for,
)
from gis_registry.maps.settings import MapSettings
from gis_registry.styles.palette import (  # one palette for maps, QML/SLD and QGIS projects
    WATER_FILL_OPACITY,
    WATER_LINE_PX,
    WATER_MARKER_PX,
    source_colour,
)

COVERED = "#2c7bb6"
UNCOVERED = "#d7191c"
NEW_SITE = "#ff7f00"


def _uncovered_radius(population: float) -> float:
    """Circle radius in pixels growing with the square root of population (area ~ people)."""
    return round(4 + 1.2 * math.sqrt(max(population, 0)) / 3, 1)


def water_map(
    conn: Connection,
    *,
    distance_m: float = 2_000.0,
    new_sites: int = 5,
    kinds: list[str] | None = None,
    tolerance_m: float | None = None,
    tiles: str | None = None,
    settings: MapSettings | None = None,
) -> folium.Map:
    """Water coverage map.

    Parameters
    ----------
    conn : an open connection
    distance_m : a village is covered by a source within this distance (straight line)
    new_sites : how many new sites the siting analysis chooses (0: none)
    kinds : only sources of these kinds count (default all)
    tolerance_m, tiles, settings : simplification, basemap, map settings

    Returns
    -------
    folium.Map: sources coloured by kind, covered villages small and blue, uncovered villages
    red and sized by population, the chosen new sites with the households they would reach.
    """
    from gis_registry.analysis.coverage import water_coverage
    from gis_registry.analysis.siting import site_water_sources

    villages = water_coverage(conn, distance_m=distance_m, kinds=kinds)
    sites = (
        site_water_sources(conn, n=new_sites, distance_m=distance_m, kinds=kinds)
        if new_sites
        else None
    )
    bounds = layer_bounds(
        conn, "SELECT geom FROM settlements UNION ALL SELECT geom FROM water_sources"
    )
    tol = tolerance_m if tolerance_m is not None else tolerance_for(bounds)
    m = new_map(
        bounds,
        title_th="ความครอบคลุมแหล่งน้ำ",
        title_en="Water source coverage",
        subtitle=f"ระยะ / within {distance_m:,.0f} m",
        tiles=tiles,
        settings=settings,
    )
    add_boundaries(m, conn, tolerance_m=tol, bounds=bounds)
    sources = [
        {
            "id": r["id"],
            "kind_key": r["kind"],
            "name": esc(f"{r['name_th']} / {r['name_en']}"),
            "kind": esc(domain.label(domain.WATER_SOURCE_KIND_TERMS, r["kind"])),
            "capacity": "–" if r["capacity_m3"] is None else f"{r['capacity_m3']:,.0f} m³",
            "households": "–" if r["households_served"] is None else f"{r['households_served']:,}",
            "owner": esc(r["owner"]),
            "geometry": r["geometry"],
        }
        for r in conn.execute(
            text(
                "SELECT w.id, w.name_th, w.name_en, w.kind, w.capacity_m3, w.households_served, "
                "COALESCE(lb.name_th || ' / ' || lb.name_en, w.owner_agency) AS owner, "
                f"{simplified_geojson_sql('w.geom')} AS geometry FROM water_sources w "
                "LEFT JOIN local_bodies lb ON lb.id = w.owner_local_body_id ORDER BY w.id"
            ),
            simplify_params(conn, tol),
        ).mappings()
    ]
    dense: list[Element] = []  # drawn small at the province's zoom: reservoirs show
    if sources:
        # reservoirs and canals first, the points over them
        sources.sort(key=lambda f: f["geometry"].startswith('{"type":"Point"'))
        source_layer = folium.GeoJson(
            feature_collection(sources),
            name="แหล่งน้ำ · Water sources",
            marker=folium.CircleMarker(radius=WATER_MARKER_PX / 2, fill=True),
            style_function=lambda f: {
                "color": source_colour(f["properties"]["kind_key"]),
                "fillColor": source_colour(f["properties"]["kind_key"]),
                "fillOpacity": WATER_FILL_OPACITY,
                "weight": WATER_LINE_PX,
            },
            popup=folium.GeoJsonPopup(
                ["name", "kind", "capacity", "households", "owner"],
                aliases=[
                    "ชื่อ / Name",
                    "ประเภท / Kind",
                    "ความจุ / Capacity",
                    "ครัวเรือนที่ใช้ / Households served",
                    "เจ้าของ / Owner",
                ],
            ),
            tooltip=folium.GeoJsonTooltip(["name"], labels=False),
        ).add_to(m)
        dense.append(source_layer)
    covered: list[dict[str, Any]] = []
    uncovered: list[dict[str, Any]] = []
    for row in villages.itertuples():
        feature = {
            "id": int(row.settlement_id),
            "name": esc(f"{row.name_th} / {row.name_en}"),
            "lgo": esc(f"{row.local_body_th} / {row.local_body_en}"),
            "population": f"{int(row.population):,}",
            "households": f"{int(row.households):,}",
            "radius": _uncovered_radius(row.population),
            "status": "มีแหล่งน้ำ / covered" if row.covered else "ไม่มีแหล่งน้ำ / not covered",
            "nearest": "–"
            if not row.covered
            else f"{row.distance_m:,.0f} m "
            f"({domain.label(domain.WATER_SOURCE_KIND_TERMS, row.source_kind)})",
            "geometry": row.geometry.__geo_interface__,
        }
        (covered if row.covered else uncovered).append(feature)
    village_popup = (
        ["name", "lgo", "population", "households", "status", "nearest"],
        [
            "หมู่บ้าน / Village",
            "อปท. / LGO",
            "ประชากร / Population",
            "ครัวเรือน / Households",
            "สถานะ / Status",
            "แหล่งน้ำใกล้สุด / Nearest source",
        ],
    )
    for feats, name, colour, sized in (
        (covered, "หมู่บ้านที่มีแหล่งน้ำ · Covered villages", COVERED, False),
        (uncovered, "หมู่บ้านที่ไม่มีแหล่งน้ำ · Uncovered villages (size = population)", UNCOVERED, True),
    ):
        if not feats:
            continue
        village_layer = folium.GeoJson(
            feature_collection(feats),
            name=name,
            marker=folium.CircleMarker(radius=4, fill=True),
            style_function=lambda f, c=colour, s=sized: {
                "color": "#ffffff" if s else c,
                "fillColor": c,
                "fillOpacity": 0.75 if s else 0.9,
                "weight": 1,
                "radius": f["properties"]["radius"] if s else 4,
            },
            popup=folium.GeoJsonPopup(village_popup[0], aliases=village_popup[1]),
            tooltip=folium.GeoJsonTooltip(["name"], labels=False),
        ).add_to(m)
        dense.append(village_layer)
    if sites is not None and len(sites):
        feats = [
            {
                "id": int(s.rank),
                "rank": int(s.rank),
                "households": f"{int(s.households_gained):,}",
                "population": f"{int(s.population_gained):,}",
                "villages": int(s.villages_gained),
                "cumulative": f"{int(s.cumulative_households):,}",
                "lonlat": f"{s.lat:.5f} N, {s.lon:.5f} E",
                "geometry": {"type": "Point", "coordinates": [round(s.lon, 6), round(s.lat, 6)]},
            }
            for s in sites.itertuples()
        ]
        folium.GeoJson(
            feature_collection(feats),
            name="จุดที่เสนอสร้างแหล่งน้ำใหม่ · Proposed new sources",
            marker=folium.CircleMarker(radius=9, fill=True),
            style_function=lambda _f: {
                "color": "#000000",
                "fillColor": NEW_SITE,
                "fillOpacity": 1,
                "weight": 2,
            },
            popup=folium.GeoJsonPopup(
                ["rank", "households", "population", "villages", "cumulative", "lonlat"],
                aliases=[
                    "ลำดับ / Rank",
                    "ครัวเรือนที่เพิ่ม / Households gained",
                    "ประชากรที่เพิ่ม / Population gained",
                    "หมู่บ้าน / Villages",
                    "ครัวเรือนสะสม / Cumulative households",
                    "พิกัด / Location",
                ],
            ),
        ).add_to(m)
    if dense:
        m.add_child(ZoomScaled(dense))
    legend = [
        LegendRow(point_swatch(source_colour(k)), t.th, t.en)
        for k, t in domain.WATER_SOURCE_KIND_TERMS.items()
    ]
    legend += [
        LegendRow(point_swatch(COVERED, 8), "หมู่บ้านที่มีแหล่งน้ำ", "covered village"),
        LegendRow(
            point_swatch(UNCOVERED, 16),
            "หมู่บ้านที่ไม่มีแหล่งน้ำ (ขนาด = ประชากร)",
            "uncovered village (size = population)",
        ),
        LegendRow(point_swatch(NEW_SITE, 14), "จุดที่เสนอ", "proposed new source"),
    ]
    return finish(m, legend_html("แหล่งน้ำ", "Water", legend))
