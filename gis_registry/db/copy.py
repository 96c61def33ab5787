"""Bulk loading with PostgreSQL COPY (CSV over STDIN), geometries as hex EWKB (SRID 4326)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql

SRID = 4326
CHUNK_ROWS = 100_000


def _csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Geometries as hex EWKB; None/NA become empty (NULL) fields."""
    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.api.extensions.ExtensionDtype) and col.dtype.name == "geometry":
            values = np.asarray(col.array, dtype=object)
        else:
            values = col.to_numpy()
        if len(values) and values.dtype == object and _holds_geometries(values):
            present = np.array([v is not None for v in values], dtype=bool)
            text = np.full(len(values), None, dtype=object)
            text[present] = shapely.to_wkb(
                shapely.set_srid(values[present], SRID), hex=True, include_srid=True
            )
            out[name] = text
        else:
            out[name] = col.to_numpy() if not isinstance(col.dtype, pd.Int64Dtype) else col
    return out


def _holds_geometries(values: np.ndarray) -> bool:
    first = next((v for v in values if v is not None), None)
    return isinstance(first, shapely.Geometry)


def copy_frame(cur: psycopg.Cursor, table: str, frame: pd.DataFrame) -> int:
    """COPY ``frame`` into ``table`` (columns matched by name).

    Parameters
    ----------
    cur
        A psycopg 3 cursor inside the caller's transaction.
    table
        The table's name (a layer, or a temporary staging table).
    frame
        Rows to load; every column must be a column of ``table``.

    Returns
    -------
    int
        Rows copied.
    """
    ready = _csv_ready(frame)
    stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, ready.columns))
    )
    with cur.copy(stmt) as copy:
        for start in range(0, len(ready), CHUNK_ROWS):
            buf = io.StringIO()
            ready.iloc[start : start + CHUNK_ROWS].to_csv(buf, header=False, index=False, na_rep="")
            copy.write(buf.getvalue().encode("utf-8"))
    return len(ready)
