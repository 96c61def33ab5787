"""The road condition map: segments coloured by condition class and wide by road class,
bridges as circles coloured by their condition."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import folium
import pandas as pd
from branca.element import Element
from sqlalchemy import Connection, RowMapping, text

from gis_registry import domain
from gis_registry.analysis.condition import (
    CLASS_STYLES,
    UNKNOWN,
    UNKNOWN_TERM,
    condition_frame,
)
from gis_registry.chainage import on_road
from gis_registry.errors import NotFound
from gis_registry.maps.base import (
    ROAD_WIDTH_PX,
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
    thai_date,
    tolerance_for,
)
from gis_registry.maps.settings import MapSettings
from gis_registry.queries.places import local_body_row
from gis_registry.styles import palette

OPEN_WORKS = ("planned", "approved", "in_progress")
_INSPECTION = ("inspected_on", "condition_score", "condition_scale", "condition")


def _inspections(classified: pd.DataFrame, asset_type: str) -> dict[int, dict[str, Any]]:
    """The latest inspection and class per asset id of one type (missing values as None)."""
    rows = classified.loc[classified["asset_type"] == asset_type, ["asset_id", *_INSPECTION]]
    rows = rows.astype(object).where(rows.notna(), None)
    return {int(r["asset_id"]): {k: r[k] for k in _INSPECTION} for r in rows.to_dict("records")}


def _never_inspected() -> dict[str, Any]:
    return dict.fromkeys(_INSPECTION) | {"condition": UNKNOWN}


def _with_inspection(
    rows: Iterable[Mapping[str, Any] | RowMapping], inspections: Mapping[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    return [{**r, **inspections.get(r["id"], _never_inspected())} for r in rows]


def planned_works(conn: Connection, asset: str) -> dict[int, str]:
    """Open works (planned, approved, in progress) per road or bridge id, as popup text."""
    rows = conn.execute(
        text(
            f"SELECT {asset} AS asset_id, treatment, description, fiscal_year, cost_thb, status "
            f"FROM maintenance_works WHERE {asset} IS NOT NULL AND status = ANY(:open) "
            "ORDER BY planned_start, id"
        ),
        {"open": list(OPEN_WORKS)},
    ).mappings()
    out: dict[int, list[str]] = {}
    for r in rows:
        line = (
            f"{domain.label(domain.TREATMENT_TERMS, r['treatment'])}, "
            f"ปีงบ / FY {r['fiscal_year']}, {float(r['cost_thb']):,.0f} บาท/THB, "
            f"{domain.label(domain.WORK_STATUS_TERMS, r['status'])}"
        )
        if r["description"]:
            line += f" — {r['description']}"
        out.setdefault(r["asset_id"], []).append(html.escape(line))
    return {k: "<br>".join(v) for k, v in out.items()}


def inspection_text(row: Mapping[str, Any]) -> str:
    """'5 พฤศจิกายน 2567 (2024-11-05): 2 (คะแนน 1-5 / score 1-5) — เสีย / poor'."""
    if row.get("inspected_on") is None:
        return UNKNOWN_TERM.bilingual
    scale = domain.label(domain.CONDITION_SCALE_TERMS, row["condition_scale"])
    return (
        f"{thai_date(row['inspected_on'])}: {float(row['condition_score']):g} "
        f"({scale}) — {CLASS_STYLES[row['condition']].bilingual}"
    )


def _owner_sql(alias: str) -> str:
    return f"COALESCE(lb.name_th || ' / ' || lb.name_en, {alias}.owner_agency) AS owner"


def condition_map(
    conn: Connection,
    *,
    local_body: int | str | None = None,
    road_classes: list[str] | None = None,
    tolerance_m: float | None = None,
    vector_tiles: str | None = None,
    details_url: str | None = None,
    as_of: date | None = None,
    tiles: str | None = None,
    settings: MapSettings | None = None,
) -> folium.Map:
    """Road condition map.

    Parameters
    ----------
    conn : an open connection
    local_body : only roads and bridges meeting this LGO's area (id, code or name)
    road_classes : only these road classes (default all)
    tolerance_m : simplification tolerance in metres (default: fitted to the extent)
    vector_tiles : URL template of the roads' vector tiles (``/tiles/roads/{z}/{x}/{y}.mvt``
        when served by the API): roads are drawn from the tiles and the page only carries each
        road's style class, instead of every road's geometry and popup
    details_url : with ``vector_tiles``, URL template (``{id}``) of :func:`road_details` as
        JSON, fetched when a road is clicked
    as_of : draw the latest inspection on or before this day (default today)
    tiles : a basemap URL template (default: none, or the configured one)
    settings : map settings

    Returns
    -------
    folium.Map: road segments coloured by the class of their latest inspection (good, fair,
    poor, very poor, not inspected; the classes of :func:`condition_frame`, i.e. of the
    analysis) and as wide as their road class; bridges as circles
    coloured the same way; popups with code, owner, surface, last inspection, planned works.
    """
    clauses = ["TRUE"]
    params: dict[str, Any] = {}
    subtitle = ""
    if local_body is not None:
        lgo = local_body_row(conn, local_body)
        clauses.append("ST_Intersects(r.geom, (SELECT boundary FROM local_bodies WHERE id = :lgo))")
        params["lgo"] = lgo["id"]
        subtitle = f"{lgo['name_th']} · {lgo['name_en']}"
    if road_classes:
        clauses.append("r.road_class = ANY(:classes)")
        params["classes"] = list(road_classes)
    where = " AND ".join(clauses)
    bounds = layer_bounds(conn, f"SELECT r.geom FROM roads r WHERE {where}", params)
    tol = tolerance_m if tolerance_m is not None else tolerance_for(bounds)
    m = new_map(
        bounds,
        title_th="สภาพทางและสะพาน",
        title_en="Road and bridge condition",
        subtitle=subtitle,
        tiles=tiles,
        settings=settings,
    )
    add_boundaries(
        m, conn, tolerance_m=tol, bounds=bounds, show_local_bodies=local_body is not None
    )

    classified = condition_frame(conn, as_of=as_of)
    road_inspections = _inspections(classified, "road")
    dense: list[Element] = []  # thin lines and small points at the province's zoom
    if vector_tiles:
        _vector_roads(m, conn, where, params, road_inspections, vector_tiles, details_url)
    else:
        road_layer = _geojson_roads(
            m, conn, where, {**params, **simplify_params(conn, tol)}, road_inspections
        )
        if road_layer is not None:
            dense.append(road_layer)

    bridge_works = planned_works(conn, "bridge_id")
    brows = _with_inspection(
        conn.execute(
            text(
                "SELECT b.id, b.name_th, b.name_en, b.structure_type, b.material, b.length_m, "
                f"b.spans, b.load_limit_t, b.chainage_m, r.code AS road_code, {_owner_sql('r')}, "
                "ST_AsGeoJSON(b.geom, 6) AS geometry "
                "FROM bridges b JOIN roads r ON r.id = b.road_id "
                "LEFT JOIN local_bodies lb ON lb.id = r.owner_local_body_id "
                f"WHERE {where} ORDER BY b.id"
            ),
            params,
        ).mappings(),
        _inspections(classified, "bridge"),
    )
    bridges = []
    for b in brows:
        bridges.append(
            {
                "id": b["id"],
                "condition": b["condition"],
                "name": esc(f"{b['name_th']} / {b['name_en']}"),
                "code": esc(on_road(b["road_code"], b["chainage_m"])),
                "owner": esc(b["owner"]),
                "structure": esc(
                    f"{domain.label(domain.BRIDGE_STRUCTURE_TERMS, b['structure_type'])}, "
                    f"{domain.label(domain.BRIDGE_MATERIAL_TERMS, b['material'])}"
                ),
                "size": f"{b['length_m']:g} m, {b['spans']} ช่วง/spans"
                + (f", {b['load_limit_t']:g} t" if b["load_limit_t"] else ""),
                "inspection": html.escape(inspection_text(b)),
                "works": bridge_works.get(b["id"], "–"),
                "geometry": b["geometry"],
            }
        )
    bridge_aliases = {
        "name": "สะพาน / Bridge",
        "code": "บนทาง / On road",
        "owner": "เจ้าของ / Owner",
        "structure": "โครงสร้าง / Structure",
        "size": "ขนาด / Size",
        "inspection": "สำรวจล่าสุด / Last inspection",
        "works": "งานที่วางแผน / Planned works",
    }
    if bridges:
        bridge_layer = folium.GeoJson(
            feature_collection(bridges),
            name="สะพาน · Bridges by condition",
            marker=folium.CircleMarker(
                radius=palette.CONDITION_BRIDGE_MARKER_PX / 2,
                weight=palette.CONDITION_BRIDGE_LINE_PX,
                color=palette.CONDITION_BRIDGE_LINE,
                fill=True,
            ),
            style_function=lambda f: {
                "fillColor": CLASS_STYLES[f["properties"]["condition"]].colour,
                "fillOpacity": 1.0,
                "color": palette.CONDITION_BRIDGE_LINE,
                "weight": palette.CONDITION_BRIDGE_LINE_PX,
            },
            popup=folium.GeoJsonPopup(list(bridge_aliases), aliases=list(bridge_aliases.values())),
            tooltip=folium.GeoJsonTooltip(["name"], labels=False),
        ).add_to(m)
        dense.append(bridge_layer)
    if dense:
        # thin, not hair-thin: the colours of the condition classes must still read
        m.add_child(ZoomScaled(dense, least=0.5))

    rows_legend = []
    for t in CLASS_STYLES.values():
        assert t.colour is not None  # every condition class has its map colour
        rows_legend.append(LegendRow(line_swatch(t.colour), t.th, t.en))
    rows_legend += [
        LegendRow(
            line_swatch(palette.ROAD_LINE, ROAD_WIDTH_PX[k]),
            domain.ROAD_CLASS_TERMS[k].th,
            domain.ROAD_CLASS_TERMS[k].en,
        )
        for k in ("national", "rural", "local", "unregistered")
    ]
    rows_legend.append(
        LegendRow(
            point_swatch("#ffffff", palette.CONDITION_BRIDGE_MARKER_PX),
            "สะพาน (สีตามสภาพ)",
            "bridge (colour = condition)",
        )
    )
    return finish(m, legend_html("สภาพ", "Condition", rows_legend))


ROAD_POPUP = {
    "code": "รหัสทาง / Road code",
    "name": "ชื่อ / Name",
    "road_class": "ประเภท / Class",
    "owner": "เจ้าของ / Owner",
    "surface": "ผิวทาง / Surface",
    "size": "ยาว × กว้าง / Length × width",
    "inspection": "สำรวจล่าสุด / Last inspection",
    "works": "งานที่วางแผน / Planned works",
}


def _road_rows(
    conn: Connection,
    where: str,
    params: dict[str, Any],
    inspections: Mapping[int, dict[str, Any]],
    *,
    geometry: bool,
) -> list[dict[str, Any]]:
    geom = f", {simplified_geojson_sql('r.geom')} AS geometry" if geometry else ""
    rows = conn.execute(
        text(
            "SELECT r.id, r.code, r.name_th, r.name_en, r.road_class, r.surface, r.width_m, "
            f"r.length_m, {_owner_sql('r')}{geom} "
            "FROM roads r LEFT JOIN local_bodies lb ON lb.id = r.owner_local_body_id "
            f"WHERE {where} ORDER BY r.id"
        ),
        params,
    ).mappings()
    return _with_inspection(rows, inspections)


def _road_popup(r: Any, works: dict[int, str]) -> dict[str, str]:
    return {
        "code": esc(r["code"]),
        "name": esc(f"{r['name_th']} / {r['name_en']}"),
        "road_class": esc(domain.label(domain.ROAD_CLASS_TERMS, r["road_class"])),
        "owner": esc(r["owner"]),
        "surface": esc(domain.label(domain.SURFACE_TERMS, r["surface"])),
        "size": f"{r['length_m'] or 0:,.0f} m × {r['width_m'] or 0:g} m",
        "inspection": html.escape(inspection_text(r)),
        "works": works.get(r["id"], "–"),
    }


def road_details(
    conn: Connection, road_id: int, *, as_of: date | None = None
) -> list[tuple[str, str]]:
    """The condition map's popup rows of one road (label, HTML-escaped value)."""
    inspections = _inspections(condition_frame(conn, as_of=as_of, asset_types=["road"]), "road")
    rows = _road_rows(
        conn, "r.id = :road_id", {"road_id": int(road_id)}, inspections, geometry=False
    )
    if not rows:
        raise NotFound(f"roads record {road_id} does not exist")
    works = {k: v for k, v in planned_works(conn, "road_id").items() if k == int(road_id)}
    popup = _road_popup(rows[0], works)
    return [(ROAD_POPUP[k], popup[k]) for k in ROAD_POPUP if k not in ("code", "name")]


def _geojson_roads(
    m: folium.Map,
    conn: Connection,
    where: str,
    params: dict[str, Any],
    inspections: Mapping[int, dict[str, Any]],
) -> Element | None:
    works = planned_works(conn, "road_id")
    roads = [
        {
            "id": r["id"],
            "cls": r["road_class"],
            "condition": r["condition"],
            **_road_popup(r, works),
            "geometry": r["geometry"],
        }
        for r in _road_rows(conn, where, params, inspections, geometry=True)
    ]
    if not roads:
        return None
    # the bigger roads last, on top: the network's structure reads before the lanes' colours
    roads.sort(key=lambda r: palette.road_width(r["cls"]))
    return folium.GeoJson(
        feature_collection(roads),
        name="ทาง · Roads by condition",
        style_function=lambda f: road_style(f["properties"]["condition"], f["properties"]["cls"]),
        highlight_function=lambda _f: {"color": "#000000"},
        popup=folium.GeoJsonPopup(list(ROAD_POPUP), aliases=list(ROAD_POPUP.values())),
        tooltip=folium.GeoJsonTooltip(["code", "name"], labels=False),
    ).add_to(m)


def road_style(condition: str, road_class: str) -> dict[str, Any]:
    """Leaflet style of a road: colour of its condition class, width of its road class."""
    return {
        "color": CLASS_STYLES[condition].colour,
        "weight": palette.road_width(road_class),
        "opacity": 0.9,
        "lineCap": "round",
    }


def _vector_roads(
    m: folium.Map,
    conn: Connection,
    where: str,
    params: dict[str, Any],
    inspections: Mapping[int, dict[str, Any]],
    url: str,
    details_url: str | None,
) -> None:
    from gis_registry.maps.vector import VectorTileLayer

    combos = [(c, k) for c in CLASS_STYLES for k in ROAD_WIDTH_PX]
    index = {combo: i for i, combo in enumerate(combos)}
    rows = conn.execute(text(f"SELECT r.id, r.road_class FROM roads r WHERE {where}"), params).all()
    unknown = _never_inspected()
    hidden = len(combos)  # roads outside the filter are in the tiles too: draw them not at all
    VectorTileLayer(
        url,
        "roads",
        styles=[road_style(c, k) for c, k in combos] + [{"opacity": 0, "weight": 0}],
        classes={r[0]: index[(inspections.get(r[0], unknown)["condition"], r[1])] for r in rows},
        default=hidden,
        fields=[("code", ROAD_POPUP["code"]), ("name_th", "ชื่อ"), ("name_en", "Name")],
        details_url=details_url,
        name="ทาง · Roads by condition",
    ).add_to(m)
