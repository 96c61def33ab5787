"""Files in and out through pyogrio/GDAL, with the registry's own validation.

An import reads the whole file, reprojects it to EPSG:4326 (legacy Thai data often comes in
Indian 1975 / UTM 47N, EPSG:24047, or WGS 84 / UTM 47N), validates every record and inserts all
of them or none. Exports keep Thai text (UTF-8 everywhere, .cpg for Shapefiles).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from sqlalchemy import Connection

from gis_registry.errors import GisRegistryError, ValidationError
from gis_registry.queries.features import (
    frame_records,
    insert_features,
    layer_table,
    read_layer,
)

DRIVERS = {
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
    ".shp": "ESRI Shapefile",
    ".csv": "CSV",
}


def read_file(
    path: str | Path, *, source_layer: str | None = None, crs: str | int | None = None
) -> gpd.GeoDataFrame:
    """Read a vector file; ``crs`` declares the CRS of a file that does not carry one."""
    path = Path(path)
    if not path.exists():
        raise GisRegistryError(f"file not found: {path}")
    try:
        frame = pyogrio.read_dataframe(path, layer=source_layer, encoding=None)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise GisRegistryError(f"cannot read {path}: {exc}") from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
        raise GisRegistryError(f"{path} has no geometry column")
    if frame.crs is None:
        if crs is None:
            raise GisRegistryError(
                f"{path} does not declare its coordinate reference system; declare it in the"
                " file (e.g. ogr2ogr -a_srs EPSG:32647) or, for an import, give it with --crs"
                " (e.g. --crs EPSG:32647 or --crs EPSG:24047)"
            )
        frame = frame.set_crs(crs)
    return frame.to_crs(4326)


def import_file(
    conn: Connection,
    layer: str,
    path: str | Path,
    *,
    source_layer: str | None = None,
    crs: str | int | None = None,
    rename: dict[str, str] | None = None,
) -> list[int]:
    """Validate and insert every feature of a file into ``layer``; all or nothing.

    Record references in errors are 1-based feature numbers of the file (``#12``).
    """
    table = layer_table(layer)
    frame = read_file(path, source_layer=source_layer, crs=crs)
    frame = frame.rename(columns=_shapefile_names(frame.columns, table.c.keys()))
    if rename:
        frame = frame.rename(columns=rename)
    records = frame_records(frame, table)
    if not records:
        raise ValidationError(layer, [(None, "(file)", f"{path} holds no features")])
    return insert_features(conn, layer, records)


def export_layer(
    conn: Connection,
    layer: str,
    path: str | Path,
    *,
    crs: str | int | None = None,
    **read_options: Any,
) -> int:
    """Write a layer to a file (driver from the extension); returns the feature count."""
    path = Path(path)
    driver = DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise GisRegistryError(
            f"unknown file type '{path.suffix}' (known: {', '.join(sorted(DRIVERS))})"
        )
    frame = read_layer(conn, layer, **read_options)
    if isinstance(frame, gpd.GeoDataFrame):
        for column in frame.columns:  # secondary geometries travel as WKT
            if column != frame.geometry.name and isinstance(frame[column], gpd.GeoSeries):
                frame[column] = frame[column].to_wkt()
        if crs is not None:
            frame = frame.to_crs(crs)
    for column in frame.columns:  # timestamps with zones and decimals as plain values
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert("Asia/Bangkok").dt.tz_localize(None)
        elif (
            frame[column].dtype == object
            and frame[column].map(type).astype(str).str.contains("Decimal").any()
        ):
            frame[column] = frame[column].astype(float)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(frame, gpd.GeoDataFrame):
        pyogrio.write_dataframe(
            frame, path, driver=driver, encoding="UTF-8", layer=layer if driver == "GPKG" else None
        )
    else:
        frame.to_csv(path, index=False, encoding="utf-8")
    return len(frame)


def _shapefile_names(columns: Any, fields: list[str]) -> dict[str, str]:
    """Shapefiles cut field names to 10 characters (``owner_local_body_id`` -> ``owner_loca``):
    map each cut name back when exactly one field of the layer starts with it."""
    mapping: dict[str, str] = {}
    for column in columns:
        if column in fields or len(column) != 10:
            continue
        matches = [f for f in fields if f.startswith(column)]
        if len(matches) == 1:
            mapping[column] = matches[0]
    return mapping
