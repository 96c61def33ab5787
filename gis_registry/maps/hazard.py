"""The hazard map: flood-prone (and landslide) areas over roads, and what they expose."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import pandas as pd
from branca.element import Element
from sqlalchemy import Connection, text

from gis_registry import domain
from gis_registry.analysis.hazards import exposed_assets
from gis_registry.errors import ValidationError
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
    swatch,
    tolerance_for,
)
from gis_registry.maps.settings import MapSettings
from gis_registry.styles.palette import (  # one palette for maps, QML/SLD and QGIS projects
    HAZARD_FILL_OPACITY,
    HAZARD_LINE_PX,
    hazard_colour,
)

EXPOSED = "#d7191c"
SAFE_ROAD = "#7f7f7f"


def hazard_term(hazard_type: str, severity: str) -> domain.Term:
    """Label of a hazard type at a severity: 'พื้นที่น้ำท่วม สูง' / 'flood-prone, high'."""
    kind = domain.HAZARD_TYPE_TERMS.get(hazard_type, domain.Term(hazard_type, hazard_type))
    level = domain.SEVERITY_TERMS.get(severity, domain.Term(severity, severity))
    return domain.Term(f"{kind.th} {level.th}", f"{kind.en}, {level.en}")


def exposure_by_asset(assets: pd.DataFrame) -> dict[str, dict[int, str]]:
    """The hazards each exposed asset lies in, as popup text, per layer and asset id.

    ``assets`` is :func:`gis_registry.analysis.hazards.exposed_assets`' frame: an asset is
    drawn exposed exactly when the analysis counts it.
    """
    out: dict[str, dict[int, str]] = {}
    pairs = assets[["layer", "asset_id", "hazard_type", "severity"]].drop_duplicates()
    for (layer, asset_id), rows in pairs.groupby(["layer", "asset_id"], sort=False):
        text_ = "; ".join(
            hazard_term(t, v).bilingual
            for t, v in zip(rows["hazard_type"], rows["severity"], strict=True)
        )
        out.setdefault(str(layer), {})[int(asset_id)] = text_
    return out


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
    unknown = [t for t in types if t not in domain.HAZARD_TYPES]
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
    params.update(simplify_params(conn, tol))
    m = new_map(
        bounds,
        title_th="พื้นที่เสี่ยงภัย: ทาง สะพาน และหมู่บ้านที่ได้รับผลกระทบ",
        title_en="Hazard areas: exposed roads, bridges and villages",
        subtitle=", ".join(domain.label(domain.HAZARD_TYPE_TERMS, t) for t in types),
        tiles=tiles,
        settings=settings,
    )
    add_boundaries(m, conn, tolerance_m=tol, bounds=bounds, show_local_bodies=False)
    areas = [
        {
            "id": r["id"],
            "colour": hazard_colour(r["hazard_type"], r["severity"]),
            "name": esc(f"{r['name_th']} / {r['name_en']}"),
            "hazard": esc(domain.label(domain.HAZARD_TYPE_TERMS, r["hazard_type"])),
            "severity": esc(domain.label(domain.SEVERITY_TERMS, r["severity"])),
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
                "fillOpacity": HAZARD_FILL_OPACITY,
                "color": f["properties"]["colour"],
                "weight": HAZARD_LINE_PX,
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
    # what is exposed is the analysis' answer, never re-derived here
    exposure = exposure_by_asset(exposed_assets(conn, hazard_types=types))
    road_name = "ทาง (แดง = อยู่ในพื้นที่เสี่ยง) · Roads (red = exposed)"

    def road_style(exposed: bool) -> dict[str, Any]:
        return {
            "color": EXPOSED if exposed else SAFE_ROAD,
            "weight": 4 if exposed else 2,
            "opacity": 0.9,
        }

    if vector_tiles:
        from gis_registry.maps.vector import VectorTileLayer

        VectorTileLayer(
            vector_tiles,
            "roads",
            styles=[road_style(False), road_style(True)],
            classes=dict.fromkeys(exposure.get("road", {}), 1),
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
        roads = _roads(conn, tol, exposure.get("road", {}))
    dense: list[Element] = []  # drawn small at the province's zoom: the areas show
    if roads:
        # the exposed roads last, on top of the others
        roads.sort(key=lambda r: r["exposed"])
        road_layer = folium.GeoJson(
            feature_collection(roads),
            name=road_name,
            style_function=lambda f: road_style(f["properties"]["exposed"]),
            popup=folium.GeoJsonPopup(
                ["code", "name", "surface", "hazard"],
                aliases=["รหัสทาง / Code", "ชื่อ / Name", "ผิวทาง / Surface", "พื้นที่เสี่ยง / Hazard area"],
            ),
        ).add_to(m)
        dense.append(road_layer)
    points = [
        ("bridges", "bridge", "สะพาน · Bridges", 6),
        ("settlements", "village", "หมู่บ้าน · Villages", 5),
    ]
    for table, layer, name, radius in points:
        feats = _points(conn, table, exposure.get(layer, {}))
        if not feats:
            continue
        fields = ["name", "population", "hazard"] if table == "settlements" else ["name", "hazard"]
        aliases = {
            "name": "ชื่อ / Name",
            "population": "ประชากร / Population",
            "hazard": "พื้นที่เสี่ยง / Hazard area",
        }
        feats.sort(key=lambda f: f["exposed"])  # the exposed ones on top
        points_layer = folium.GeoJson(
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
        dense.append(points_layer)
    if dense:
        m.add_child(ZoomScaled(dense))
    legend = [
        LegendRow(
            swatch(hazard_colour(t, v), hazard_colour(t, v)),
            hazard_term(t, v).th,
            hazard_term(t, v).en,
        )
        for t in domain.HAZARD_TYPES
        if t in types
        for v in domain.SEVERITIES
    ]
    legend += [
        LegendRow(line_swatch(EXPOSED), "ทางในพื้นที่เสี่ยง", "exposed road"),
        LegendRow(line_swatch(SAFE_ROAD, 2), "ทางอื่น", "other road"),
        LegendRow(point_swatch(EXPOSED), "สะพาน/หมู่บ้านในพื้นที่เสี่ยง", "exposed bridge / village"),
        LegendRow(point_swatch("#ffffff"), "สะพาน/หมู่บ้านอื่น", "other bridge / village"),
    ]
    return finish(m, legend_html("พื้นที่เสี่ยงภัย", "Hazards", legend))


def _roads(conn: Connection, tol: float, exposed: Mapping[int, str]) -> list[dict[str, Any]]:
    """Every road as a feature, ``exposed`` when the analysis counts it."""
    rows = conn.execute(
        text(
            "SELECT r.id, r.code, r.name_th, r.name_en, r.surface, "
            f"{simplified_geojson_sql('r.geom')} AS geometry FROM roads r ORDER BY r.id"
        ),
        simplify_params(conn, tol),
    ).mappings()
    return [
        {
            "id": r["id"],
            "exposed": r["id"] in exposed,
            "code": esc(r["code"]),
            "name": esc(f"{r['name_th']} / {r['name_en']}"),
            "surface": esc(domain.label(domain.SURFACE_TERMS, r["surface"])),
            "hazard": esc(exposed.get(r["id"])),
            "geometry": r["geometry"],
        }
        for r in rows
    ]


def _points(conn: Connection, table: str, exposed: Mapping[int, str]) -> list[dict[str, Any]]:
    """Every bridge or village (``table``, not user input) as a feature, ``exposed`` when the
    analysis counts it."""
    population = "population" if table == "settlements" else "CAST(NULL AS integer)"
    rows = conn.execute(
        text(
            f"SELECT id, name_th, name_en, {population} AS population, "
            f"ST_AsGeoJSON(geom, 6) AS geometry FROM {table} ORDER BY id"
        )
    ).mappings()
    return [
        {
            "id": r["id"],
            "exposed": r["id"] in exposed,
            "name": esc(f"{r['name_th']} / {r['name_en']}"),
            "population": "–" if r["population"] is None else f"{r['population']:,}",
            "hazard": esc(exposed.get(r["id"])),
            "geometry": r["geometry"],
        }
        for r in rows
    ]
