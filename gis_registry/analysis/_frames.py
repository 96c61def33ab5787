"""Small helpers shared by the analyses: run bound SQL into (Geo)DataFrames, metre radii.

Distances are measured on the ellipsoid (``geography``) or in the province's UTM zone
(:func:`gis_registry.geodesy.metric_srid`, bound as ``:metric_srid``), never in degrees.
The GiST indexes are on the EPSG:4326 ``geom`` columns, so every metre test is written as
``ST_DWithin(a.geom, b.geom, :deg) AND ST_DWithin(a.geom::geography, b.geom::geography, :m)``:
the first term is a conservative box in degrees that the index answers, the second the exact
test on the ellipsoid.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from gis_registry.errors import ValidationError

# Fewest metres in one degree (of longitude or latitude) anywhere within 30 degrees of the
# equator: 111,320 m * cos(30 deg) = 96,406 m. Thailand spans 5.6-20.5 N.
METRES_PER_DEGREE_MIN = 96_000.0
MAX_DISTANCE_M = 200_000.0


def degree_radius(distance_m: float) -> float:
    """A radius in degrees that contains every point within ``distance_m`` metres (|lat| <= 30)."""
    return float(distance_m) / METRES_PER_DEGREE_MIN


def check_distance(
    distance_m: float, *, layer: str = "analysis", field: str = "distance_m"
) -> float:
    """``distance_m`` as a float, or :class:`ValidationError` when it is not in (0, 200 km]."""
    try:
        value = float(distance_m)
    except (TypeError, ValueError):
        raise ValidationError(layer, [(None, field, "must be a number of metres")]) from None
    if not 0 < value <= MAX_DISTANCE_M:
        raise ValidationError(
            layer, [(None, field, f"must be greater than 0 and at most {MAX_DISTANCE_M:,.0f} m")]
        )
    return value


def read_rule_table(
    rules: pd.DataFrame | str | Path | None, default: Path, *, layer: str, **read_csv: Any
) -> pd.DataFrame:
    """A rule table: a copy of the frame given, else the CSV at ``rules`` (``default`` when
    None); a path that does not exist is a :class:`ValidationError`, not a traceback."""
    if isinstance(rules, pd.DataFrame):
        return rules.copy()
    path = Path(rules or default)
    if not path.exists():
        raise ValidationError(layer, [(None, "rules", f"no file {path}")])
    return pd.read_csv(path, **read_csv)


def check_choice(value: str, choices: tuple[str, ...], *, layer: str, field: str) -> str:
    if value not in choices:
        raise ValidationError(layer, [(None, field, f"must be one of {', '.join(choices)}")])
    return value


@contextmanager
def no_jit(conn: Connection) -> Iterator[None]:
    """JIT compilation off for the duration, then as it was: the analytical queries have high
    cost estimates, and compiling them takes longer than running them at demo scale.

    The setting is transaction-local, so it is restored only when the block succeeds: after an
    error (a statement timeout, a cancel) the transaction may be aborted, where any statement
    fails and would hide the error; its rollback restores the setting anyway.
    """
    old = conn.execute(text("SELECT current_setting('jit')")).scalar()
    conn.execute(text("SELECT set_config('jit', 'off', true)"))
    yield
    conn.execute(text("SELECT set_config('jit', :old, true)"), {"old": old})


def frame(conn: Connection, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Rows of a bound SQL query as a DataFrame (numerics as floats)."""
    with no_jit(conn):
        result = conn.execute(text(sql), dict(params or {}))
        columns = list(result.keys())
        rows = result.fetchall()
    out = pd.DataFrame.from_records([tuple(r) for r in rows], columns=columns)
    for col in out.columns:
        if out[col].dtype == object:
            first = out[col].first_valid_index()
            if first is not None and isinstance(out[col].iloc[first], Decimal):
                out[col] = out[col].astype(float)
    return out


def geo_frame(
    conn: Connection,
    sql: str,
    params: Mapping[str, Any] | None = None,
    *,
    geom_col: str = "geom",
):
    """Rows of a bound SQL query as a GeoDataFrame in EPSG:4326; ``geom_col`` must be selected
    as WKB (``ST_AsBinary(...) AS geom``)."""
    import geopandas as gpd
    import shapely

    df = frame(conn, sql, params)
    wkb = df.pop(geom_col) if geom_col in df else pd.Series([], dtype=object)
    geoms = shapely.from_wkb(np.asarray([bytes(b) if b is not None else None for b in wkb]))
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, index=df.index), crs="EPSG:4326")
