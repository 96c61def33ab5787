"""Bulk loading with PostgreSQL COPY (CSV over STDIN), geometries as hex EWKB (SRID 4326)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from sqlalchemy import Table

from gis_registry.demo.geo import WGS84

CHUNK_ROWS = 100_000


def _csv_ready(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Columns in table order; geometries as hex EWKB; None/NA become empty (NULL) fields."""
    cols = [c.name for c in table.columns if c.name in frame.columns]
    out = pd.DataFrame(index=frame.index)
    for name in cols:
        col = frame[name]
        if isinstance(col.dtype, pd.api.extensions.ExtensionDtype) and col.dtype.name == "geometry":
            values = np.asarray(col.array, dtype=object)
        else:
            values = col.to_numpy()
        if len(values) and isinstance(values[0], shapely.Geometry):
            out[name] = shapely.to_wkb(shapely.set_srid(values, WGS84), hex=True, include_srid=True)
        else:
            out[name] = col.to_numpy() if not isinstance(col.dtype, pd.Int64Dtype) else col
    return out


def copy_frame(cur: psycopg.Cursor, table: Table, frame: pd.DataFrame) -> int:
    """COPY ``frame`` into ``table`` (columns matched by name; generated ones never sent).

    Parameters
    ----------
    cur
        A psycopg 3 cursor inside the caller's transaction.
    table
        The SQLAlchemy table (from ``gis_registry.db.tables.LAYERS``).
    frame
        Rows to load; every column must be a column of ``table``.

    Returns
    -------
    int
        Rows copied.
    """
    ready = _csv_ready(frame, table)
    stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, ready.columns))
    )
    with cur.copy(stmt) as copy:
        for start in range(0, len(ready), CHUNK_ROWS):
            buf = io.StringIO()
            ready.iloc[start : start + CHUNK_ROWS].to_csv(buf, header=False, index=False, na_rep="")
            copy.write(buf.getvalue().encode("utf-8"))
    return len(ready)
