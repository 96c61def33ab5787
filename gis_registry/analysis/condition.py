"""Condition of roads, bridges and water sources from their latest inspection.

The three scales of ``domain.CONDITION_SCALES`` are mapped to one condition index, 0 (failed)
to 100 (new), piecewise linearly so that the class limits coincide on every scale:

==============  ==========  ============  ==========  ===========
index           > 70 good   > 45 fair     > 20 poor   <= 20 very poor
score_1_5       4, 5        3             2           1
nbi_0_9         7-9         5, 6          2-4         0, 1
iri_m_per_km    < 2.5       2.5 - 3.5     3.5 - 5     >= 5 (DOH bands; 15+ = 0)
==============  ==========  ============  ==========  ===========
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from gis_registry.analysis._frames import check_choice, frame
from gis_registry.domain import Term
from gis_registry.errors import ValidationError

# The classes, best first, with their labels and map colours (green to dark red).
CLASS_TERMS: dict[str, Term] = {
    "good": Term("ดี", "good", "#1a9850"),
    "fair": Term("พอใช้", "fair", "#e6b800"),
    "poor": Term("เสีย", "poor", "#f46d43"),
    "very_poor": Term("เสียมาก", "very poor", "#a50026"),
}
CLASSES = tuple(CLASS_TERMS)
# The class of a never-inspected asset in distributions and on maps (``condition_class`` None).
UNKNOWN = "unknown"
UNKNOWN_TERM = Term("ยังไม่สำรวจ", "not inspected", "#9e9e9e")
# What the condition map and the QGIS project draw per class, the never-inspected included.
CLASS_STYLES: dict[str, Term] = {**CLASS_TERMS, UNKNOWN: UNKNOWN_TERM}
MAPPED_TYPES = ("road", "bridge")  # the assets the condition map and layers draw
CLASS_FLOORS = (70.0, 45.0, 20.0)  # index above the first: good; above the second: fair; ...
# (score knots, index knots) per scale
SCALE_KNOTS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "score_1_5": ((1, 5), (0, 100)),
    "nbi_0_9": ((0, 9), (0, 100)),
    "iri_m_per_km": ((0, 2.5, 3.5, 5, 15), (100, 70, 45, 20, 0)),
}
ASSET_TYPES = ("road", "bridge", "water_source")
# Days between inspections before an asset is overdue (override with ``intervals=``).
INSPECTION_INTERVAL_DAYS: dict[str, int] = {"road": 365, "bridge": 730, "water_source": 365}
GROUPS = ("local_body", "road_class", "surface", "asset_type", "owner")


def condition_index(scores, scales) -> np.ndarray:
    """Condition index 0-100 of scores on their scales (NaN where the score is missing)."""
    scores = np.asarray(pd.to_numeric(pd.Series(scores), errors="coerce"), dtype=float)
    scales = np.asarray(scales, dtype=object)
    out = np.full(scores.shape, np.nan)
    for scale, (xs, ys) in SCALE_KNOTS.items():
        mask = (scales == scale) & ~np.isnan(scores)
        out[mask] = np.interp(scores[mask], xs, ys)
    return out


def condition_class(index) -> np.ndarray:
    """good / fair / poor / very_poor for condition indices (None where NaN)."""
    index = np.asarray(index, dtype=float)
    good, fair, poor = CLASS_FLOORS
    out = np.select(
        [index > good, index > fair, index > poor, index >= 0],
        list(CLASSES),
        default=np.array(None, dtype=object),
    )
    return out.astype(object)


LGO_OF = """(
    SELECT lb.id FROM local_bodies lb
    WHERE lb.kind <> 'pao' AND ST_Intersects(lb.boundary, {point})
    ORDER BY lb.area_km2, lb.id LIMIT 1)"""
_LATEST_SQL = f"""
WITH latest AS (
    SELECT DISTINCT ON (road_id, bridge_id, water_source_id)
           road_id, bridge_id, water_source_id, inspected_on, condition_score,
           condition_scale, method
    FROM inspections
    WHERE inspected_on <= :as_of
    ORDER BY road_id, bridge_id, water_source_id, inspected_on DESC, id DESC
),
assets AS (
    SELECT 'road' AS asset_type, r.id AS asset_id, r.code, r.name_th, r.name_en,
           r.road_class, r.surface, r.width_m, r.length_m, r.year_built,
           r.owner_local_body_id, r.owner_agency,
           {LGO_OF.format(point="ST_LineInterpolatePoint(r.geom, 0.5)")} AS local_body_id,
           l.inspected_on, l.condition_score, l.condition_scale, l.method
    FROM roads r LEFT JOIN latest l ON l.road_id = r.id
    UNION ALL
    SELECT 'bridge', b.id, rd.code, b.name_th, b.name_en,
           rd.road_class, NULL, NULL, b.length_m, b.year_built,
           rd.owner_local_body_id, rd.owner_agency,
           {LGO_OF.format(point="b.geom")},
           l.inspected_on, l.condition_score, l.condition_scale, l.method
    FROM bridges b JOIN roads rd ON rd.id = b.road_id
    LEFT JOIN latest l ON l.bridge_id = b.id
    UNION ALL
    SELECT 'water_source', w.id, NULL, w.name_th, w.name_en,
           NULL, NULL, NULL, NULL, w.year_built,
           w.owner_local_body_id, w.owner_agency,
           {LGO_OF.format(point="ST_PointOnSurface(w.geom)")},
           l.inspected_on, l.condition_score, l.condition_scale, l.method
    FROM water_sources w LEFT JOIN latest l ON l.water_source_id = w.id
)
SELECT a.*, o.kind AS owner_kind,
       coalesce(o.name_en, a.owner_agency) AS owner,
       lb.name_th AS local_body_th, lb.name_en AS local_body_en, lb.district_code
FROM assets a
LEFT JOIN local_bodies o ON o.id = a.owner_local_body_id
LEFT JOIN local_bodies lb ON lb.id = a.local_body_id
WHERE CAST(:types AS text[]) IS NULL OR a.asset_type = ANY(CAST(:types AS text[]))
ORDER BY array_position(ARRAY['road', 'bridge', 'water_source'], a.asset_type), a.asset_id
"""

# Without the LGO each asset lies in (faster: for trends over many years).
_LATEST_SQL_NO_LOCATION = _LATEST_SQL
for _point in ("ST_LineInterpolatePoint(r.geom, 0.5)", "b.geom", "ST_PointOnSurface(w.geom)"):
    _LATEST_SQL_NO_LOCATION = _LATEST_SQL_NO_LOCATION.replace(
        LGO_OF.format(point=_point), "CAST(NULL AS integer)"
    )


def latest_condition(
    conn: Connection,
    *,
    as_of: date | None = None,
    asset_types: tuple[str, ...] | list[str] | None = None,
    with_location: bool = True,
) -> pd.DataFrame:
    """Every road, bridge and water source with its latest inspection on or before ``as_of``
    (default today), its condition index and class (NaN/None when never inspected).

    Returns
    -------
    DataFrame
        ``asset_type``, ``asset_id``, ``code``, names, ``road_class``, ``surface``,
        ``width_m``, ``length_m``, ``year_built``, owner (``owner``, ``owner_kind``,
        ``owner_local_body_id``, ``owner_agency``), the LGO where it lies
        (``local_body_id``, names, ``district_code``), ``inspected_on``, ``condition_score``,
        ``condition_scale``, ``method``, ``condition_index``, ``condition_class``.
        ``with_location=False`` skips the LGO lookup (``local_body_id`` is then null).
    """
    if asset_types is not None:
        asset_types = list(asset_types)
        for t in asset_types:
            check_choice(t, ASSET_TYPES, layer="inspections", field="asset_type")
    sql = _LATEST_SQL if with_location else _LATEST_SQL_NO_LOCATION
    out = frame(conn, sql, {"as_of": as_of or date.today(), "types": asset_types})
    out["condition_index"] = condition_index(out["condition_score"], out["condition_scale"])
    out["condition_class"] = condition_class(out["condition_index"])
    return out


def condition_distribution(latest: pd.DataFrame, *, by: str = "local_body") -> pd.DataFrame:
    """Assets (and road km) per condition class, per ``by`` group and asset type.

    ``by`` is one of local_body, road_class, surface, asset_type, owner; never-inspected
    assets are counted as ``unknown``.
    """
    check_choice(by, GROUPS, layer="inspections", field="by")
    keys = {
        "local_body": ["local_body_id", "local_body_en"],
        "road_class": ["road_class"],
        "surface": ["surface"],
        "asset_type": [],
        "owner": ["owner"],
    }[by]
    d = latest.copy()
    d["condition_class"] = d["condition_class"].fillna(UNKNOWN)
    d["km"] = np.where(d["asset_type"] == "road", d["length_m"].fillna(0) / 1000.0, 0.0)
    classes = [*CLASSES, UNKNOWN]
    counts = d.pivot_table(
        index=["asset_type", *keys],
        columns="condition_class",
        values="asset_id",
        aggfunc="count",
        fill_value=0,
        dropna=False,
    ).reindex(columns=classes, fill_value=0)
    km = d.pivot_table(
        index=["asset_type", *keys],
        columns="condition_class",
        values="km",
        aggfunc="sum",
        fill_value=0.0,
        dropna=False,
    ).reindex(columns=classes, fill_value=0.0)
    km.columns = [f"km_{c}" for c in km.columns]
    out = counts.join(km)
    out = out[out[classes].sum(axis=1) > 0]
    out["assets"] = out[classes].sum(axis=1)
    inspected = out["assets"] - out[UNKNOWN]
    for c in CLASSES:
        out[f"share_{c}"] = out[c] / inspected.where(inspected > 0)
    out.columns.name = None
    return out.reset_index()


def overdue_inspections(
    conn: Connection,
    *,
    as_of: date | None = None,
    intervals: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Assets never inspected, or whose latest inspection is older than the interval of their
    type (``INSPECTION_INTERVAL_DAYS``, overridden by ``intervals``) on ``as_of``.

    Returns the assets with ``status`` (never / overdue), ``due_on`` and ``days_overdue``
    (NaN when never inspected), never-inspected first, then the most overdue.
    """
    as_of = as_of or date.today()
    days = {**INSPECTION_INTERVAL_DAYS, **(intervals or {})}
    bad = [k for k, v in days.items() if k not in ASSET_TYPES or int(v) <= 0]
    if bad:
        raise ValidationError(
            "inspections",
            [(None, "intervals", f"'{k}': asset types {ASSET_TYPES}, days > 0") for k in bad],
        )
    latest = latest_condition(conn, as_of=as_of)
    last = pd.to_datetime(latest["inspected_on"])
    interval = pd.to_timedelta(latest["asset_type"].map(days), unit="D")
    due = last + interval
    latest["due_on"] = due.dt.date
    latest["days_overdue"] = (pd.Timestamp(as_of) - due).dt.days
    never = latest["inspected_on"].isna()
    late = latest["days_overdue"] > 0
    out = latest[never | late].copy()
    out["status"] = np.where(out["inspected_on"].isna(), "never", "overdue")
    out = out.sort_values(
        ["status", "days_overdue", "asset_type", "asset_id"],
        ascending=[True, False, True, True],
    )
    return out.reset_index(drop=True)


def age_years(year_built, on: date) -> np.ndarray:
    """Age in whole years on ``on`` (NaN where unknown)."""
    built = pd.to_numeric(pd.Series(year_built), errors="coerce").to_numpy(dtype=float)
    return on.year - built


def condition_frame(
    conn: Connection,
    *,
    as_of: date | None = None,
    asset_types: Iterable[str] = MAPPED_TYPES,
) -> pd.DataFrame:
    """The condition class of every road and bridge as the map and the QGIS project draw it.

    It is :func:`gis_registry.analysis.condition.latest_condition`'s frame (the one definition
    of an asset's condition class) with never-inspected assets as ``unknown``.

    Parameters
    ----------
    conn : an open connection
    as_of : latest inspection on or before this day (default today)
    asset_types : road, bridge (or water_source)

    Returns
    -------
    DataFrame
        ``asset_type``, ``asset_id``, ``inspected_on``, ``condition_score``,
        ``condition_scale``, ``condition_index``, ``condition_class`` (None when never
        inspected) and ``condition`` (the class, or ``unknown``).
    """
    latest = latest_condition(conn, as_of=as_of, asset_types=list(asset_types), with_location=False)
    out = latest[
        [
            "asset_type",
            "asset_id",
            "inspected_on",
            "condition_score",
            "condition_scale",
            "condition_index",
            "condition_class",
        ]
    ].copy()
    classified = out["condition_class"].map(lambda c: isinstance(c, str))
    out["condition"] = out["condition_class"].where(classified, UNKNOWN)
    return out
