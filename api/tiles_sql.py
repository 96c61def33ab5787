"""Mapbox vector tiles of a collection, made by PostGIS (ST_AsMVT)."""

from __future__ import annotations

from functools import lru_cache

from psycopg import sql
from sqlalchemy import Date, DateTime

from gis_registry.catalog import Layer


@lru_cache(maxsize=64)
def tile_sql(c: Layer) -> str:
    """Parameters: z, x, y (the tile envelope, twice), max features. Returns one bytea.

    The tile envelope is transformed to the storage CRS (the indexed column is untouched);
    dates travel as text (MVT has no date type).
    """
    columns: list[sql.Composable] = []
    for name in c.properties:
        if name in ("created_at", "updated_at"):
            continue
        col = sql.SQL("t.") + sql.Identifier(name)
        if isinstance(c.table.c[name].type, (Date, DateTime)):
            col = sql.SQL("{}::text").format(col)
        elif name == c.key and not c.key_is_int:
            col = sql.SQL("{}::text").format(col)
        columns.append(sql.SQL("{} AS {}").format(col, sql.Identifier(name)))
    geom = sql.SQL("t.") + sql.Identifier(c.geometry or "geom")
    feature_id = sql.Literal(c.key) if c.key_is_int else sql.SQL("NULL")
    statement = sql.SQL(
        "SELECT ST_AsMVT(m, {layer}, 4096, 'mvt_geom', {fid}) FROM ("
        "SELECT {columns}, ST_AsMVTGeom(ST_Transform({geom}, 3857), ST_TileEnvelope(%s, %s, %s),"
        " 4096, 64, true) AS mvt_geom"
        " FROM {table} AS t"
        " WHERE {geom} && ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => 0.015625), 4326)"
        " LIMIT %s) AS m WHERE m.mvt_geom IS NOT NULL"
    ).format(
        layer=sql.Literal(c.id),
        fid=feature_id,
        columns=sql.SQL(", ").join(columns),
        geom=geom,
        table=sql.Identifier(c.table.name),
    )
    return statement.as_string(None)
