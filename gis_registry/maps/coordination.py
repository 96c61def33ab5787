"""The budget coordination map: every LGO shaded by its maintenance backlog (all funding
bodies), with each body's backlog and programmed works in its popup
(:mod:`gis_registry.analysis.coordination`)."""

from __future__ import annotations

import math
from datetime import date

import folium
import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from gis_registry import domain
from gis_registry.fiscal import fiscal_year as fiscal_year_of
from gis_registry.maps.base import (
    LegendRow,
    add_boundaries,
    esc,
    feature_collection,
    finish,
    layer_bounds,
    legend_html,
    new_map,
    simplified_geojson_sql,
    simplify_params,
    swatch,
    tolerance_for,
)
from gis_registry.maps.settings import MapSettings

# Backlog classes, light to dark (ColorBrewer YlOrRd, 5 classes); no backlog in grey.
BACKLOG_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
NO_BACKLOG = "#d9d9d9"


def backlog_breaks(values: pd.Series | np.ndarray, classes: int = len(BACKLOG_COLOURS)) -> list:
    """Upper bounds (THB) of the backlog classes: quantiles of the LGOs' backlogs rounded to
    two significant figures, so the legend reads 68 M rather than 66.53 M; the last bound is
    the largest backlog."""
    v = np.asarray(values, dtype=float)
    v = v[v > 0]
    if not len(v):
        return []
    inner = np.quantile(v, np.linspace(0, 1, classes + 1)[1:-1])
    rounded = [_two_figures(x) for x in inner]
    bounds = sorted(set(b for b in rounded if 0 < b < v.max()))
    return [*bounds, float(v.max())]


def _two_figures(x: float) -> float:
    if x <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(x)) - 1)
    return float(round(x / step) * step)


def backlog_class(value: float, breaks: list) -> int:
    """Index of ``value``'s class in ``breaks`` (-1: no backlog)."""
    if not value or value <= 0:
        return -1
    for i, upper in enumerate(breaks):
        if value <= upper:
            return i
    return len(breaks) - 1


def _million(thb: float) -> str:
    return f"{thb / 1e6:,.1f} ล้านบาท / M THB"


def coordination_map(
    conn: Connection,
    *,
    fiscal_year: int | None = None,
    as_of: date | None = None,
    tolerance_m: float | None = None,
    tiles: str | None = None,
    settings: MapSettings | None = None,
) -> folium.Map:
    """Budget coordination map of a Thai fiscal year.

    Parameters
    ----------
    conn : an open connection
    fiscal_year : Thai fiscal year (BE); default the one today falls in
    as_of : condition as inspected up to this day (default as the programme's)
    tolerance_m, tiles, settings : simplification, basemap, map settings

    Returns
    -------
    folium.Map: LGOs shaded by the backlog of every funding body in THB (quantile classes);
    the popup lists, per body, the backlog and the works already programmed with their cost.
    """
    from gis_registry.analysis.coordination import coordination

    fy = fiscal_year or fiscal_year_of(date.today())
    c = coordination(conn, fiscal_year=fy, as_of=as_of)
    per_lgo = c.by_local_body.groupby("local_body_id")[["backlog_thb", "programmed_thb"]].sum()
    breaks = backlog_breaks(per_lgo["backlog_thb"])
    bounds = layer_bounds(conn, "SELECT boundary AS geom FROM local_bodies WHERE kind <> 'pao'")
    tol = tolerance_m if tolerance_m is not None else tolerance_for(bounds)
    totals = c.summary()
    m = new_map(
        bounds,
        title_th=f"ประสานแผนและงบประมาณซ่อมบำรุง ปีงบประมาณ {fy}",
        title_en=f"Maintenance budget coordination, FY {fy}",
        subtitle=(
            f"งานค้าง / backlog {_million(totals['backlog_thb'])} · "
            f"ตั้งงบแล้ว / programmed {_million(totals['programmed_thb'])}"
        ),
        tiles=tiles,
        settings=settings,
    )
    lgos = conn.execute(
        text(
            "SELECT id, code, name_th, name_en, "
            f"{simplified_geojson_sql('boundary')} AS geometry FROM local_bodies "
            "WHERE kind <> 'pao' ORDER BY id"
        ),
        simplify_params(conn, tol),
    ).mappings()
    rows_of = {k: g for k, g in c.by_local_body.groupby("local_body_id")}
    features = []
    for lgo in lgos:
        backlog = float(per_lgo["backlog_thb"].get(lgo["id"], 0.0))
        programmed = float(per_lgo["programmed_thb"].get(lgo["id"], 0.0))
        k = backlog_class(backlog, breaks)
        features.append(
            {
                "id": lgo["id"],
                "name": esc(f"{lgo['name_th']} / {lgo['name_en']} ({lgo['code']})"),
                "backlog": _million(backlog),
                "programmed": _million(programmed),
                "bodies": _bodies_table(rows_of.get(lgo["id"])),
                "fill": NO_BACKLOG if k < 0 else BACKLOG_COLOURS[k],
                "geometry": lgo["geometry"],
            }
        )
    if features:
        folium.GeoJson(
            feature_collection(features),
            name="งานซ่อมบำรุงค้างต่อ อปท. · Backlog per LGO",
            style_function=lambda f: {
                "color": "#555555",
                "weight": 1,
                "fillColor": f["properties"]["fill"],
                "fillOpacity": 0.75,
            },
            popup=folium.GeoJsonPopup(
                ["name", "backlog", "programmed", "bodies"],
                aliases=[
                    "อปท. / LGO",
                    "งานค้างทั้งหมด / Backlog, all bodies",
                    "ตั้งงบแล้ว / Programmed",
                    "แยกตามผู้รับผิดชอบงบ / By funding body",
                ],
                max_width=520,
            ),
            tooltip=folium.GeoJsonTooltip(["name", "backlog"], labels=False),
        ).add_to(m)
    add_boundaries(m, conn, tolerance_m=tol, bounds=bounds, show_local_bodies=False)
    return finish(m, _legend(breaks))


def _bodies_table(rows: pd.DataFrame | None) -> str:
    """HTML table of one LGO's rows: body, backlog items and THB, programmed works and THB."""
    if rows is None or not len(rows):
        return "–"
    cells = "".join(
        f"<tr><td>{esc(domain.label(domain.FUNDING_BODY_TERMS, r.funding_body))}</td>"
        f"<td>{int(r.backlog_items):,}</td><td>{r.backlog_thb / 1e6:,.1f}</td>"
        f"<td>{int(r.programmed_works):,}</td><td>{r.programmed_thb / 1e6:,.1f}</td></tr>"
        for r in rows.itertuples()
    )
    head = (
        "<tr><th>ผู้รับผิดชอบงบ / Funding body</th><th>งานค้าง / Backlog items</th>"
        "<th>ล้านบาท / M THB</th><th>ตั้งงบ / Works</th><th>ล้านบาท / M THB</th></tr>"
    )
    return f'<table class="gis-popup">{head}{cells}</table>'


def _legend(breaks: list) -> str:
    rows = [LegendRow(swatch(NO_BACKLOG, "#555555"), "ไม่มีงานค้าง", "no backlog")]
    lower = 0.0
    for colour, upper in zip(BACKLOG_COLOURS, breaks, strict=False):
        label = f"{lower / 1e6:,.0f}–{upper / 1e6:,.0f} ล้านบาท"
        rows.append(
            LegendRow(
                swatch(colour, "#555555"), label, f"{lower / 1e6:,.0f}-{upper / 1e6:,.0f} M THB"
            )
        )
        lower = upper
    return legend_html("งานซ่อมบำรุงค้าง (ทุกหน่วยงาน)", "Maintenance backlog, all bodies", rows)
