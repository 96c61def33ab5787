"""The hazard map: flood-prone (and landslide) areas over roads, and what they expose."""

from __future__ import annotations

from typing import Any

import folium
from sqlalchemy import Connection, text

from gis_registry.errors import ValidationError
from gis_registry.maps import labels as L
from gis_registry.maps.base import (
    LegendRow,
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
    swatch,
    tolerance_for,
)
from gis_registry.maps.settings import MapSettings

EXPOSED = "#d7191c"
SAFE_ROAD = "#7f7f7f"


def hazard_colour(hazard_type: str, severity: str) -> str:
    if hazard_type == "landslide":
        return L.LANDSLIDE_SEVERITIES.get(severity, "#fd8d3c")
    return L.SEVERITIES.get(severity, ("", "", "#4292c6"))[2]


def hazard_map(
    conn: Connection,
    *,
    hazard_types: list[str] | None = None,
    tolerance_m: float | None = None,
    vector_tiles: str | None = None,
    tiles: str | None = None,
    settings: MapSettings | None = None,
) -> folium.Map:
    """Hazard areas (coloured by type and severity) over roads, bridges and villages; the
    roads, bridges and villages inside an area are drawn red and listed in their popups.

    Parameters
    ----------
    conn : an open connection
    hazard_types : which hazards (default ``['flood']``; ``['flood', 'landslide']`` for both)
    tolerance_m : simplification tolerance in metres (default: fitted to the extent)
    vector_tiles : URL template of the roads' vector tiles when served by the API (roads are
        then drawn from them; the page only lists the exposed road ids)
    tiles, settings : basemap and map settings
    """
    types = list(hazard_types or ["flood"])
    unknown = [t for t in types if t not in L.HAZARD_TYPES]
    if unknown:
        raise ValidationError(
            "hazard_areas", [(None, "hazard_type", f"unknown hazard type(s) {unknown}")]
        )
    params: dict[str, Any] = {"types": types}
    bounds = layer_bounds(
        conn,
        "SELECT geom FROM roads UNION ALL SELECT geom FROM hazard_areas "
        "WHERE hazard_type = ANY(:types)",
        params,
    )
    tol = tolerance_m if tolerance_m is not None else tolerance_for(bounds)
    params["tol"] = tol
    m = new_map(
        bounds,
        title_th="พื้นที่เสี่ยงภัย: ทาง สะพาน และหมู่บ้านที่ได้รับผลกระทบ",
        title_en="Hazard areas: exposed roads, bridges and villages",
        subtitle=", ".join(L.bilingual(L.HAZARD_TYPES, t) for t in types),
        tiles=tiles,
        settings=settings,
    )
    add_boundaries(m, conn, tolerance_m=tol, bounds=bounds, show_local_bodies=False)
    areas = [
        {
            "id": r["id"],
            "colour": hazard_colour(r["hazard_type"], r["severity"]),
            "name": esc(f"{r['name_th']} / {r['name_en']}"),
            "hazard": esc(L.bilingual(L.HAZARD_TYPES, r["hazard_type"])),
            "severity": esc(
                f"{L.SEVERITIES[r['severity']][0]} / {L.SEVERITIES[r['severity']][1]}"
                if r["severity"] in L.SEVERITIES
                else r["severity"]
            ),
            "area": f"{(r['area_m2'] or 0) / 1e6:,.2f} km²",
            "source": esc(r["source"]),
            "geometry": r["geometry"],
        }
        for r in conn.execute(
            text(
                "SELECT id, name_th, name_en, hazard_type, severity, source, area_m2, "
                f"{simplified_geojson_sql('geom')} AS geometry FROM hazard_areas "
                "WHERE hazard_type = ANY(:types) ORDER BY area_m2 DESC NULLS LAST, id"
            ),
            params,
        ).mappings()
    ]
    if areas:
        folium.GeoJson(
            feature_collection(areas),
            name="พื้นที่เสี่ยงภัย · Hazard areas",
            style_function=lambda f: {
                "fillColor": f["properties"]["colour"],
                "fillOpacity": 0.45,
                "color": f["properties"]["colour"],
                "weight": 1,
            },
            popup=folium.GeoJsonPopup(
                ["name", "hazard", "severity", "area", "source"],
                aliases=[
                    "ชื่อ / Name",
                    "ภัย / Hazard",
                    "ระดับ / Severity",
                    "พื้นที่ / Area",
                    "ที่มา / Source",
                ],
            ),
        ).add_to(m)
    # hazard areas cut into small pieces (ST_Subdivide) so that each test against a road,
    # bridge or village is cheap and the features' GiST index drives the join
    exposed_by = (
        "(WITH h AS (SELECT name_th || ' / ' || name_en AS name, ST_Subdivide(geom, 128) AS g "
        "FROM hazard_areas WHERE hazard_type = ANY(:types)) "
        "SELECT t.id, string_agg(DISTINCT h.name, '; ') AS names FROM h "
        "JOIN {table} t ON t.geom && h.g AND ST_Intersects(t.geom, h.g) GROUP BY t.id)"
    )
    road_name = "ทาง (แดง = อยู่ในพื้นที่เสี่ยง) · Roads (red = exposed)"

    def road_style(exposed: bool) -> dict[str, Any]:
        return {
            "color": EXPOSED if exposed else SAFE_ROAD,
            "weight": 4 if exposed else 2,
            "opacity": 0.9,
        }

    if vector_tiles:
        from gis_registry.maps.vector import VectorTileLayer

        exposed_ids = conn.execute(
            text(f"SELECT id FROM {exposed_by.format(table='roads')} x"), params
        ).scalars()
        VectorTileLayer(
            vector_tiles,
            "roads",
            styles=[road_style(False), road_style(True)],
            classes={int(i): 1 for i in exposed_ids},
            default=0,
            fields=[
                ("code", "รหัสทาง / Code"),
                ("name_th", "ชื่อ"),
                ("name_en", "Name"),
                ("surface", "ผิวทาง / Surface"),
            ],
            name=road_name,
        ).add_to(m)
        roads = []
    else:
        roads = [
            {
                "id": r["id"],
                "exposed": r["exposed"] is not None,
                "code": esc(r["code"]),
                "name": esc(f"{r['name_th']} / {r['name_en']}"),
                "surface": esc(L.bilingual(L.SURFACES, r["surface"])),
                "hazard": esc(r["exposed"]),
                "geometry": r["geometry"],
            }
            for r in conn.execute(
                text(
                    "SELECT r.id, r.code, r.name_th, r.name_en, r.surface, x.names AS exposed, "
                    f"{simplified_geojson_sql('r.geom')} AS geometry FROM roads r "
                    f"LEFT JOIN {exposed_by.format(table='roads')} x ON x.id = r.id "
                    "ORDER BY r.id"
                ),
                params,
            ).mappings()
        ]
    if roads:
        folium.GeoJson(
            feature_collection(roads),
            name=road_name,
            style_function=lambda f: road_style(f["properties"]["exposed"]),
            popup=folium.GeoJsonPopup(
                ["code", "name", "surface", "hazard"],
                aliases=["รหัสทาง / Code", "ชื่อ / Name", "ผิวทาง / Surface", "พื้นที่เสี่ยง / Hazard area"],
            ),
        ).add_to(m)
    points = [
        ("bridges", "สะพาน · Bridges", "b", 6),
        ("settlements", "หมู่บ้าน · Villages", "s", 5),
    ]
    for table, name, alias, radius in points:
        extra = ", s.population" if table == "settlements" else ", NULL::int AS population"
        rows = conn.execute(
            text(
                f"SELECT {alias}.id, {alias}.name_th, {alias}.name_en{extra}, "
                "x.names AS exposed, "
                f"ST_AsGeoJSON({alias}.geom, 6) AS geometry FROM {table} {alias} "
                f"LEFT JOIN {exposed_by.format(table=table)} x ON x.id = {alias}.id "
                f"ORDER BY {alias}.id"
            ),
            params,
        ).mappings()
        feats = [
            {
                "id": r["id"],
                "exposed": r["exposed"] is not None,
                "name": esc(f"{r['name_th']} / {r['name_en']}"),
                "population": "–" if r["population"] is None else f"{r['population']:,}",
                "hazard": esc(r["exposed"]),
                "geometry": r["geometry"],
            }
            for r in rows
        ]
        if not feats:
            continue
        fields = ["name", "population", "hazard"] if table == "settlements" else ["name", "hazard"]
        aliases = {
            "name": "ชื่อ / Name",
            "population": "ประชากร / Population",
            "hazard": "พื้นที่เสี่ยง / Hazard area",
        }
        folium.GeoJson(
            feature_collection(feats),
            name=f"{name} (แดง = เสี่ยง / red = exposed)",
            marker=folium.CircleMarker(radius=radius, fill=True),
            style_function=lambda f, square=(table == "bridges"): {
                "fillColor": EXPOSED if f["properties"]["exposed"] else "#ffffff",
                "color": "#000000" if square else "#444444",
                "weight": 2 if square else 1,
                "fillOpacity": 1.0,
            },
            popup=folium.GeoJsonPopup(fields, aliases=[aliases[f] for f in fields]),
            tooltip=folium.GeoJsonTooltip(["name"], labels=False),
        ).add_to(m)
    legend = [
        LegendRow(
            swatch(L.SEVERITIES[s][2], L.SEVERITIES[s][2]),
            f"น้ำท่วม {L.SEVERITIES[s][0]}",
            f"flood, {L.SEVERITIES[s][1]}",
        )
        for s in L.SEVERITIES
    ]
    if "landslide" in types:
        legend += [
            LegendRow(
                swatch(c, c), f"ดินถล่ม {L.SEVERITIES[s][0]}", f"landslide, {L.SEVERITIES[s][1]}"
            )
            for s, c in L.LANDSLIDE_SEVERITIES.items()
        ]
    legend += [
        LegendRow(line_swatch(EXPOSED), "ทางในพื้นที่เสี่ยง", "exposed road"),
        LegendRow(line_swatch(SAFE_ROAD, 2), "ทางอื่น", "other road"),
        LegendRow(point_swatch(EXPOSED), "สะพาน/หมู่บ้านในพื้นที่เสี่ยง", "exposed bridge / village"),
        LegendRow(point_swatch("#ffffff"), "สะพาน/หมู่บ้านอื่น", "other bridge / village"),
    ]
    return finish(m, legend_html("พื้นที่เสี่ยงภัย", "Hazards", legend))
