"""Reading and writing features of a layer with SQLAlchemy Core + GeoAlchemy2.

The caller owns the connection and the transaction (``conn`` first, options keyword-only).
Layer and field names come from the table registry (``tables.LAYERS``), never from raw input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import ColumnElement, Connection, Table, and_, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from gis_registry.db import errors as db_errors
from gis_registry.db.tables import LAYERS, SRID
from gis_registry.errors import NotFound, ValidationError
from gis_registry.validation import validate_records

BBox = tuple[float, float, float, float]


def layer_table(layer: str) -> Table:
    try:
        return LAYERS[layer]
    except KeyError:
        raise NotFound(f"unknown layer '{layer}' (layers: {', '.join(LAYERS)})") from None


def geometry_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if isinstance(c.type, Geometry)]


def bbox_filter(table: Table, bbox: BBox, *, column: str | None = None) -> ColumnElement[bool]:
    """Features whose geometry intersects a lon/lat box; the box is built, the column untouched
    so the GiST index serves the query."""
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if minx > maxx or miny > maxy:
        raise ValidationError(
            table.name, [(None, "bbox", "expected minx, miny, maxx, maxy with min <= max")]
        )
    geom = table.c[column or geometry_columns(table)[0]]
    envelope = func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID)
    return func.ST_Intersects(geom, envelope)


def property_filters(table: Table, filters: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """Equality filters on named fields (a list or tuple value means 'any of')."""
    clauses: list[ColumnElement[bool]] = []
    for name, value in filters.items():
        if name not in table.c or isinstance(table.c[name].type, Geometry):
            raise ValidationError(table.name, [(None, name, "unknown field to filter on")])
        column = table.c[name]
        if isinstance(value, (list, tuple, set)):
            clauses.append(column.in_(list(value)))
        elif value is None:
            clauses.append(column.is_(None))
        else:
            clauses.append(column == value)
    return clauses


def read_layer(
    conn: Connection,
    layer: str,
    *,
    bbox: BBox | None = None,
    where: ColumnElement[bool] | Sequence[ColumnElement[bool]] | None = None,
    filters: Mapping[str, Any] | None = None,
    limit: int | None = None,
    geometry: str | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """A layer as a GeoDataFrame in EPSG:4326 (a DataFrame for layers without geometry).

    Parameters
    ----------
    conn : an open connection
    layer : a layer name from ``tables.LAYERS``
    bbox : (minx, miny, maxx, maxy) in lon/lat; features intersecting it
    where : SQLAlchemy boolean expression(s) on the layer's table, e.g. ``roads.c.width_m > 6``
    filters : field -> value equality filters (a list means any of)
    limit : at most this many features, in id order
    geometry : which geometry column becomes the active geometry (local_bodies: boundary/office)
    """
    table = layer_table(layer)
    clauses: list[ColumnElement[bool]] = []
    geoms = geometry_columns(table)
    if bbox is not None:
        clauses.append(bbox_filter(table, bbox, column=geometry))
    if filters:
        clauses += property_filters(table, filters)
    if where is not None:
        clauses += list(where) if isinstance(where, (list, tuple)) else [where]
    query = select(table)
    if clauses:
        query = query.where(and_(*clauses))
    key = table.primary_key.columns.values()[0]
    query = query.order_by(key)
    if limit is not None:
        query = query.limit(int(limit))
    if not geoms:
        return pd.read_sql(query, conn)
    active = geometry or geoms[0]
    if active not in geoms:
        raise ValidationError(
            layer,
            [
                (
                    None,
                    "geometry",
                    f"'{active}' is not a geometry column of {layer} ({', '.join(geoms)})",
                )
            ],
        )
    frame = gpd.read_postgis(query, conn, geom_col=active, crs=f"EPSG:{SRID}")
    for other in geoms:  # secondary geometries (local_bodies.office) arrive as WKB elements
        if other != active:
            frame[other] = gpd.GeoSeries(
                [None if v is None else to_shape(v) for v in frame[other]],
                index=frame.index,
                crs=f"EPSG:{SRID}",
            )
    return frame


def frame_records(frame: pd.DataFrame, table: Table) -> list[dict[str, Any]]:
    """Rows of a (Geo)DataFrame as records for :func:`insert_features`.

    Geometries are reprojected to EPSG:4326, an active geometry column the layer does not have
    (``geometry``) becomes the layer's first one (``geom``, ``boundary``), and missing values
    (NaN, NaT, None) become None.
    """
    if isinstance(frame, gpd.GeoDataFrame):
        if frame.crs is not None:
            frame = frame.to_crs(SRID)
        geoms = geometry_columns(table)
        if frame.geometry.name not in geoms:
            frame = frame.rename_geometry(geoms[0])
    return [
        {k: (None if _is_missing(v) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays, geometries: never "missing" as a whole
        return False


def _bind(table: Table, record: dict[str, Any]) -> dict[str, Any]:
    """Geometries to EWKB elements with the layer SRID."""
    out = dict(record)
    for name in geometry_columns(table):
        if out.get(name) is not None:
            out[name] = from_shape(out[name], srid=SRID)
    return out


def insert_features(
    conn: Connection, layer: str, records: Iterable[Mapping[str, Any]]
) -> list[int]:
    """Validate and insert records; all or nothing. Returns the new ids in input order.

    Raises :class:`ValidationError` listing every problem, or :class:`ConstraintViolation`
    naming the record and the database rule it broke; nothing is written in either case.
    """
    table = layer_table(layer)
    records = list(records)
    clean = validate_records(table, records)
    key = table.primary_key.columns.values()[0]
    ids: list[int] = []
    with conn.begin_nested():  # a savepoint: a failure leaves the caller's transaction usable
        for index, record in enumerate(clean):
            try:
                new_id = conn.execute(insert(table).values(**_bind(table, record)).returning(key))
                ids.append(new_id.scalar_one())
            except DBAPIError as exc:
                ref = records[index].get("id", f"#{index + 1}")
                translated = db_errors.translate(exc, layer, ref)
                if translated is None:
                    raise
                raise translated from None
    return ids


def update_feature(
    conn: Connection, layer: str, feature_id: Any, changes: Mapping[str, Any]
) -> None:
    """Validate and apply changes to one feature (the merged record is validated whole)."""
    table = layer_table(layer)
    key = table.primary_key.columns.values()[0]
    current = conn.execute(select(table).where(key == feature_id)).mappings().first()
    if current is None:
        raise NotFound(f"{layer} record {feature_id} does not exist")
    merged = {
        k: v
        for k, v in current.items()
        if k not in ("created_at", "updated_at") and table.c[k].computed is None
    }
    for name in geometry_columns(table):  # current geometries come back as WKB elements
        if merged.get(name) is not None and name not in changes:
            merged[name] = to_shape(merged[name])
    merged.update(changes)
    merged[key.name] = feature_id
    clean = validate_records(table, [merged])[0]
    values = {k: v for k, v in clean.items() if k in changes}
    if not values:
        return
    with conn.begin_nested():
        try:
            conn.execute(update(table).where(key == feature_id).values(**_bind(table, values)))
        except DBAPIError as exc:
            translated = db_errors.translate(exc, layer, feature_id)
            if translated is None:
                raise
            raise translated from None


def delete_feature(conn: Connection, layer: str, feature_id: Any) -> None:
    table = layer_table(layer)
    key = table.primary_key.columns.values()[0]
    with conn.begin_nested():
        try:
            result = conn.execute(delete(table).where(key == feature_id))
        except DBAPIError as exc:
            translated = db_errors.translate(exc, layer, feature_id)
            if translated is None:
                raise
            raise translated from None
    if result.rowcount == 0:
        raise NotFound(f"{layer} record {feature_id} does not exist")
