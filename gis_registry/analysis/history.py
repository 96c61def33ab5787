"""History: spending per Thai fiscal year, backlog per year, and the trend of road condition.

Fiscal years are Buddhist Era (``maintenance_works.fiscal_year``; 1 October - 30 September).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from gis_registry import domain
from gis_registry.analysis._frames import check_choice, frame
from gis_registry.analysis.condition import CLASSES, LGO_OF, condition_class, condition_index
from gis_registry.analysis.programme import load_rules, treatments
from gis_registry.errors import ValidationError
from gis_registry.fiscal import fiscal_year, fiscal_year_bounds

SPENDING_GROUPS = ("total", "local_body", "treatment", "funding_body", "asset_type")
SPENT = ("completed", "in_progress")

_WORKS_SQL = f"""
SELECT w.id AS work_id, w.fiscal_year, w.treatment, w.funding_body, w.status, w.cost_thb,
       CASE WHEN w.road_id IS NOT NULL THEN 'road'
            WHEN w.bridge_id IS NOT NULL THEN 'bridge' ELSE 'water_source' END AS asset_type,
       lb.id AS local_body_id, lb.name_th AS local_body_th, lb.name_en AS local_body_en
FROM maintenance_works w
LEFT JOIN roads r ON r.id = w.road_id
LEFT JOIN bridges b ON b.id = w.bridge_id
LEFT JOIN water_sources ws ON ws.id = w.water_source_id
LEFT JOIN local_bodies lb ON lb.id = coalesce(
    w.funding_local_body_id,
    {
    LGO_OF.format(
        point="coalesce(ST_LineInterpolatePoint(r.geom, 0.5), b.geom, ST_PointOnSurface(ws.geom))"
    )
})
WHERE w.status = ANY(CAST(:statuses AS text[]))
  AND (CAST(:first AS int) IS NULL OR w.fiscal_year >= CAST(:first AS int))
  AND (CAST(:last AS int) IS NULL OR w.fiscal_year <= CAST(:last AS int))
ORDER BY w.fiscal_year, w.id
"""


def spending(
    conn: Connection,
    *,
    by: str = "total",
    statuses: Sequence[str] = SPENT,
    fiscal_years: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """THB spent (works and their cost) per fiscal year (BE), and per LGO, treatment, funding
    body or asset type (``by``).

    The LGO of a work is the one funding it (``funding_local_body_id``), else the LGO where
    the asset lies. ``statuses`` says which works count as spending (default completed and
    in progress; add planned/approved for budgets). ``fiscal_years`` = (first, last) in BE.
    """
    check_choice(by, SPENDING_GROUPS, layer="maintenance_works", field="by")
    bad = set(statuses) - set(domain.WORK_STATUSES)
    if bad or not statuses:
        raise ValidationError(
            "maintenance_works", [(None, "status", f"one of {', '.join(domain.WORK_STATUSES)}")]
        )
    first, last = fiscal_years or (None, None)
    for fy in (first, last):
        if fy is not None and fy < 2400:
            raise ValidationError(
                "maintenance_works", [(None, "fiscal_year", f"{fy} is not a Buddhist Era year")]
            )
    works = frame(conn, _WORKS_SQL, {"statuses": list(statuses), "first": first, "last": last})
    keys = {
        "total": [],
        "local_body": ["local_body_id", "local_body_th", "local_body_en"],
        "treatment": ["treatment"],
        "funding_body": ["funding_body"],
        "asset_type": ["asset_type"],
    }[by]
    if not len(works):
        return pd.DataFrame(columns=["fiscal_year", *keys, "works", "cost_thb"])
    out = (
        works.groupby(["fiscal_year", *keys], dropna=False)
        .agg(works=("work_id", "count"), cost_thb=("cost_thb", "sum"))
        .reset_index()
    )
    out["cost_thb"] = out["cost_thb"].astype(float).round(2)
    return out


def _years(conn: Connection, fiscal_years: tuple[int, int] | None) -> list[int]:
    if fiscal_years is not None:
        first, last = (int(y) for y in fiscal_years)
        for fy in (first, last):
            if fy < 2400:
                raise ValidationError(
                    "inspections", [(None, "fiscal_year", f"{fy} is not a Buddhist Era year")]
                )
        if last < first or last - first > 50:
            raise ValidationError("inspections", [(None, "fiscal_year", "first <= last, <= 50")])
        return list(range(first, last + 1))
    span = conn.execute(text("SELECT min(inspected_on), max(inspected_on) FROM inspections")).one()
    if span[0] is None:
        return []
    return list(range(fiscal_year(span[0]), fiscal_year(span[1]) + 1))


# The latest inspection of every road and bridge as of several dates at once (one per fiscal
# year), with the asset columns the treatment rules need.
_BY_YEAR_SQL = """
WITH years AS (
    SELECT t.fy, t.as_of FROM unnest(CAST(:years AS int[]), CAST(:dates AS date[])) AS t(fy, as_of)
),
latest AS (
    SELECT DISTINCT ON (y.fy, i.road_id, i.bridge_id)
           y.fy, y.as_of, i.road_id, i.bridge_id, i.condition_score, i.condition_scale
    FROM years y
    JOIN inspections i ON i.inspected_on <= y.as_of
    WHERE i.road_id IS NOT NULL OR i.bridge_id IS NOT NULL
    ORDER BY y.fy, i.road_id, i.bridge_id, i.inspected_on DESC, i.id DESC
)
SELECT l.fy AS fiscal_year, l.as_of,
       CASE WHEN l.road_id IS NOT NULL THEN 'road' ELSE 'bridge' END AS asset_type,
       coalesce(l.road_id, l.bridge_id) AS asset_id,
       coalesce(r.road_class, rb.road_class) AS road_class, r.surface, r.width_m,
       coalesce(r.length_m, b.length_m) AS length_m, coalesce(r.year_built, b.year_built)
           AS year_built,
       l.condition_score, l.condition_scale
FROM latest l
LEFT JOIN roads r ON r.id = l.road_id
LEFT JOIN bridges b ON b.id = l.bridge_id
LEFT JOIN roads rb ON rb.id = b.road_id
"""


def _conditions_by_year(conn: Connection, years: list[int], dates: list) -> pd.DataFrame:
    out = frame(conn, _BY_YEAR_SQL, {"years": years, "dates": dates})
    out["condition_index"] = condition_index(out["condition_score"], out["condition_scale"])
    out["condition_class"] = condition_class(out["condition_index"])
    return out


def backlog(
    conn: Connection,
    *,
    fiscal_years: tuple[int, int] | None = None,
    rules: pd.DataFrame | str | Path | None = None,
) -> pd.DataFrame:
    """Cost (THB) of every treatment needed at the start of each fiscal year, from the
    conditions known the day before (routine work included), per treatment and in total.

    ``fiscal_years`` = (first, last) in BE; default: every year with inspections. Roads and
    bridges never inspected by then are not counted.
    """
    years = _years(conn, fiscal_years)
    starts = [fiscal_year_bounds(fy)[0] for fy in years]
    assets = _conditions_by_year(conn, years, [d - timedelta(days=1) for d in starts])
    table = load_rules(rules)
    rows = []
    for fy, start in zip(years, starts, strict=True):
        items = treatments(assets[assets["fiscal_year"] == fy], table, on=start)
        row: dict = {"fiscal_year": fy, "as_of": start - timedelta(days=1)}
        for t in domain.TREATMENTS:
            row[f"{t}_thb"] = round(float(items.loc[items["treatment"] == t, "cost_thb"].sum()), 2)
        row["items"] = len(items)
        row["backlog_thb"] = round(float(items["cost_thb"].sum()), 2)
        rows.append(row)
    return pd.DataFrame(rows)


def condition_trend(
    conn: Connection, *, fiscal_years: tuple[int, int] | None = None
) -> pd.DataFrame:
    """Road network condition at the end of each fiscal year (latest inspections then):
    km inspected, length-weighted mean condition index, km and share per class; bridges
    per class.
    """
    years = _years(conn, fiscal_years)
    ends = [fiscal_year_bounds(fy)[1] for fy in years]
    assets = _conditions_by_year(conn, years, ends)
    rows = []
    for fy, end in zip(years, ends, strict=True):
        latest = assets[assets["fiscal_year"] == fy]
        roads = latest[(latest["asset_type"] == "road") & latest["condition_index"].notna()]
        km = roads["length_m"].astype(float) / 1000.0
        row: dict = {
            "fiscal_year": fy,
            "as_of": end,
            "road_km_inspected": round(float(km.sum()), 3),
            "mean_condition_index": (
                float(np.average(roads["condition_index"], weights=km)) if km.sum() else np.nan
            ),
        }
        for c in CLASSES:
            part = float(km[roads["condition_class"] == c].sum())
            row[f"km_{c}"] = round(part, 3)
            row[f"share_{c}"] = part / km.sum() if km.sum() else np.nan
        bridges = latest[latest["asset_type"] == "bridge"]
        for c in CLASSES:
            row[f"bridges_{c}"] = int((bridges["condition_class"] == c).sum())
        rows.append(row)
    return pd.DataFrame(rows)
