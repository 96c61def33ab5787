"""The zoning map (ผังเมืองรวม): zones in their DPT category colours, hatched categories hatched."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import folium
from sqlalchemy import Connection, text

from gis_registry.analysis.zoning import in_force_sql
from gis_registry.errors import NotFound
from gis_registry.maps.base import (
    Bounds,
    HatchPatterns,
    LegendRow,
    add_boundaries,
    area_text,
    feature_collection,
    finish,
    layer_bounds,
    legend_html,
    new_map,
    simplified_geojson_sql,
    simplify_params,
    swatch,
    thai_date,
    tolerance_for,
)
from gis_registry.maps.settings import MapSettings
from gis_registry.queries.places import local_body_row
from gis_registry.styles import palette  # one palette for maps, QML/SLD and QGIS projects
from gis_registry.styles.symbology import legend_code  # the legend's codes, QGIS's too

FILL_OPACITY = palette.ZONE_FILL_OPACITY
HATCH_FILL_OPACITY = palette.ZONE_HATCH_FILL_OPACITY


def hatch_id(category: str) -> str:
    """The SVG pattern id of a hatched land-use category (safe in ``url(#...)``)."""
    return "hatch-" + "".join(c if c.isalnum() else "-" for c in category)


def zone_style(props: dict[str, Any]) -> dict[str, Any]:
    """Leaflet path style of a zone from its category palette (hatched: an SVG pattern)."""
    hatched = bool(props.get("hatch"))
    return {
        "fillColor": f"url(#{hatch_id(props['category'])})" if hatched else props["fill"],
        "fillOpacity": HATCH_FILL_OPACITY if hatched else FILL_OPACITY,
        "color": props["stroke"],
        "weight": palette.ZONE_STROKE_PX,
        "opacity": 0.9,
    }


def _zone_filter(
    conn: Connection,
    plan_id: int | None,
    local_body: int | str | None,
    in_force_on: date | None,
) -> tuple[str, dict[str, Any], str]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    subtitle: list[str] = []
    if plan_id is not None:
        plan = conn.execute(
            text("SELECT name_th, name_en FROM zoning_plans WHERE id = :p"), {"p": plan_id}
        ).first()
        if plan is None:
            raise NotFound(f"no zoning plan {plan_id}")
        clauses.append("z.plan_id = :plan_id")
        params["plan_id"] = plan_id
        subtitle.append(f"{plan[0]} · {plan[1]}")
    if local_body is not None:
        lgo = local_body_row(conn, local_body)
        clauses.append(
            "ST_Intersects(z.geom, (SELECT boundary FROM local_bodies WHERE id = :lgo_id))"
        )
        params["lgo_id"] = lgo["id"]
        subtitle.append(f"{lgo['name_th']} · {lgo['name_en']}")
    if in_force_on is not None:
        clauses.append(in_force_sql("p", "day"))
        params["day"] = in_force_on
        subtitle.append(f"ณ วันที่ / as of {thai_date(in_force_on)}")
    where = " AND ".join(clauses) if clauses else "TRUE"
    return where, params, " — ".join(subtitle)


def zoning_map(
    conn: Connection,
    *,
    plan_id: int | None = None,
    local_body: int | str | None = None,
    in_force_on: date | None = None,
    all_plans: bool = False,
    tolerance_m: float | None = None,
    boundaries: bool = True,
    tiles: str | None = None,
    settings: MapSettings | None = None,
) -> folium.Map:
    """Zoning map: zones filled with their DPT category colours, hatched categories hatched.

    Parameters
    ----------
    conn : an open connection
    plan_id : only the zones of this comprehensive plan
    local_body : only zones meeting this LGO (id, code or name)
    in_force_on : only plans in force on this day (default: today, unless ``plan_id`` is
        given or ``all_plans``): an expired plan and its revision cover the same land
    all_plans : draw the zones of every plan, in force or not
    tolerance_m : simplification tolerance in metres (default: fitted to the map's extent)
    boundaries : draw district and LGO boundaries
    tiles : a basemap URL template (default: none, or ``GIS_REGISTRY_MAP_TILES_URL``)
    settings : map settings

    Returns
    -------
    folium.Map with a legend (code, Thai and English name per category), popups (zone, plan,
    effective and expiry dates in BE, area) and a layer control.
    """
    if in_force_on is None and plan_id is None and not all_plans:
        in_force_on = date.today()
    where, params, subtitle = _zone_filter(conn, plan_id, local_body, in_force_on)
    base = (
        "FROM zoning_zones z JOIN zoning_plans p ON p.id = z.plan_id "
        f"JOIN zoning_categories c ON c.key = z.category WHERE {where}"
    )
    bounds: Bounds | None = layer_bounds(conn, f"SELECT z.geom {base}", params)
    tol = tolerance_m if tolerance_m is not None else tolerance_for(bounds)
    m = new_map(
        bounds,
        title_th="ผังเมืองรวม: การใช้ประโยชน์ที่ดิน",
        title_en="Comprehensive plan: land use zoning",
        subtitle=subtitle,
        tiles=tiles,
        settings=settings,
    )
    rows = conn.execute(
        text(
            "SELECT z.id, z.land_use_code, z.category, c.name_th AS category_th, "
            "c.name_en AS category_en, c.fill, c.stroke, c.hatch, p.name_th AS plan_th, "
            "p.name_en AS plan_en, p.effective_date, p.expiry_date, z.area_m2, "
            f"{simplified_geojson_sql('z.geom')} AS geometry {base} "
            "ORDER BY c.sort_order, z.id"
        ),
        {**params, **simplify_params(conn, tol)},
    ).mappings()
    features = []
    zone_codes: dict[str, set[str]] = {}  # category -> the land-use codes its zones carry
    for row in rows:
        zone_codes.setdefault(row["category"], set()).add(row["land_use_code"])
        features.append(
            {
                "id": row["id"],
                "category": row["category"],
                "fill": row["fill"],
                "stroke": row["stroke"],
                "hatch": row["hatch"],
                "code": html.escape(row["land_use_code"]),
                "use": html.escape(f"{row['category_th']} / {row['category_en']}"),
                "plan": html.escape(f"{row['plan_th']} / {row['plan_en']}"),
                "effective": thai_date(row["effective_date"]),
                "expiry": thai_date(row["expiry_date"]),
                "area": area_text(row["area_m2"]),
                "geometry": row["geometry"],
            }
        )
    categories = (
        conn.execute(
            text(
                "SELECT key, codes, name_th, name_en, fill, stroke, hatch FROM zoning_categories "
                "ORDER BY sort_order, key"
            )
        )
        .mappings()
        .all()
    )
    shown = {f["category"] for f in features}
    hatched = [c for c in categories if c["hatch"]]
    if hatched:
        m.add_child(
            HatchPatterns(
                [
                    {
                        "id": hatch_id(c["key"]),
                        "background": c["fill"],
                        "colour": c["hatch"],
                        "spacing": palette.ZONE_HATCH_SPACING_PX,
                        "width": palette.ZONE_HATCH_WIDTH_PX,
                    }
                    for c in hatched
                ]
            )
        )
    if boundaries:
        add_boundaries(m, conn, tolerance_m=tol, bounds=bounds)
    if features:
        data = feature_collection(features)
        folium.GeoJson(
            data,
            name="เขตการใช้ประโยชน์ที่ดิน · Land-use zones",
            style_function=lambda f: zone_style(f["properties"]),
            highlight_function=lambda _f: {"weight": 3, "color": "#000000"},
            popup=folium.GeoJsonPopup(
                ["code", "use", "plan", "effective", "expiry", "area"],
                aliases=[
                    "เขต / Zone",
                    "ประเภท / Land use",
                    "ผัง / Plan",
                    "มีผลบังคับใช้ / Effective",
                    "หมดอายุ / Expiry",
                    "พื้นที่ / Area",
                ],
                labels=True,
            ),
            tooltip=folium.GeoJsonTooltip(["code", "use"], labels=False),
        ).add_to(m)
    legend_rows = [
        LegendRow(
            swatch(c["fill"], c["stroke"], hatch=c["hatch"]),
            c["name_th"],
            c["name_en"],
            legend_code(c["codes"], zone_codes.get(c["key"], ())),
        )
        for c in categories
        if c["key"] in shown or not shown
    ]
    return finish(m, legend_html("ประเภทการใช้ประโยชน์ที่ดิน", "Land-use categories", legend_rows))
