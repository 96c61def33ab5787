"""Turning analysis results into JSON and CSV for the CLI and the API: Thai text kept as is
(UTF-8, ``ensure_ascii=False``), dates in ISO 8601, NaN as null, geometry as lon/lat (points)
or left out."""

from __future__ import annotations

import io
import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """A JSON-ready Python value."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating, Decimal)):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.date().isoformat() if isinstance(value, pd.Timestamp) else value.isoformat()
    if value is pd.NaT:
        return None
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def table(df: pd.DataFrame) -> pd.DataFrame:
    """A flat table: point geometries become lon/lat columns, other geometries are dropped."""
    out = pd.DataFrame(df).copy()
    geom_cols = [c for c in out.columns if getattr(out[c], "dtype", None) == "geometry"]
    for col in geom_cols:
        geoms = out.pop(col)
        if len(geoms) and all(g is not None and g.geom_type == "Point" for g in geoms):
            if "lon" not in out:
                out["lon"] = [g.x for g in geoms]
                out["lat"] = [g.y for g in geoms]
    return out


def records(df: pd.DataFrame, columns: list[str] | tuple[str, ...] | None = None) -> list[dict]:
    """Rows as JSON-ready dicts (only ``columns`` when given, in that order)."""
    flat = table(df)
    if columns is not None:
        flat = flat[[c for c in columns if c in flat.columns]]
    return [{k: plain(v) for k, v in row.items()} for row in flat.to_dict(orient="records")]


def to_json(payload: Any) -> str:
    """Indented JSON, Thai as is; values JSON does not know (UUIDs, paths) as text."""
    return json.dumps(plain(payload), ensure_ascii=False, indent=2, default=str)


def to_csv(df: pd.DataFrame) -> str:
    """A table as CSV text (UTF-8 when written), lists as ``a|b|c``, points as lon/lat."""
    buffer = io.StringIO()
    flat = table(df)
    for col in flat.columns:  # lists (settlement ids, surfaces) as "a|b|c"
        if flat[col].map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any():
            flat[col] = flat[col].map(
                lambda v: "|".join(str(x) for x in v) if isinstance(v, (list, tuple)) else v
            )
    flat.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()
