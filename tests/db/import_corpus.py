"""File builders for the import corpus (tests/db/test_import_corpus.py): every file is made in
the test's tmp_path from the shipped boundaries or from a few hand-written records, so each
test says exactly what it feeds the importer."""

from __future__ import annotations

import csv
import json
import sqlite3
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
from pyproj import Geod
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from gis_registry.io.mapping import FieldMapping

ROOT = Path(__file__).resolve().parents[2]
BOUNDARIES = ROOT / "data" / "boundaries" / "lampang"
MAPPINGS = ROOT / "data" / "mappings"

# Lampang city (the features of the hand-written files lie around it, inside the province).
CITY = (99.49, 18.29)
SAO_PREFIX = "องค์การบริหารส่วนตำบล"
_GEOD = Geod(ellps="WGS84")


def cod_ab_mapping(level: str) -> FieldMapping:
    """The shipped mapping ``data/mappings/cod-ab-<level>.yaml``."""
    return FieldMapping.load(MAPPINGS / f"cod-ab-{level}.yaml")


@cache
def _read(name: str) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(BOUNDARIES / f"{name}.geojson")


def boundaries(name: str) -> gpd.GeoDataFrame:
    """A copy of the shipped COD-AB ``province``, ``districts`` or ``tambons`` (EPSG:4326)."""
    return _read(name).copy()


def geodesic_km2(geom: BaseGeometry) -> float:
    """The area of a lon/lat polygon on the WGS 84 ellipsoid, in km²."""
    area, _perimeter = _GEOD.geometry_area_perimeter(geom)
    return abs(area) / 1e6


def near_city(i: int) -> Point:
    """The i-th point of a small grid around Lampang city (about 100 m apart)."""
    return Point(CITY[0] + (i % 50) * 0.001, CITY[1] + (i // 50) * 0.001)


def wells(codes: list[str], **columns: Any) -> gpd.GeoDataFrame:
    """Groundwater wells with Thai names at points near the city (EPSG:4326)."""
    n = len(codes)
    data: dict[str, Any] = {
        "code": codes,
        "name_th": [f"บ่อบาดาลบ้านบอม {i + 1}" for i in range(n)],
        "name_en": [f"Ban Bom well {i + 1}" for i in range(n)],
        "kind": ["groundwater_well"] * n,
    }
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=[near_city(i) for i in range(n)], crs="EPSG:4326")


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    """A UTF-8 CSV."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def wells_csv(path: Path, codes: list[str], **columns: Any) -> Path:
    """:func:`wells` as a CSV with lon/lat columns."""
    frame = wells(codes, **columns)
    header = [c for c in frame.columns if c != "geometry"] + ["lon", "lat"]
    rows = [
        [*(row[c] for c in header[:-2]), f"{row['geometry'].x:.6f}", f"{row['geometry'].y:.6f}"]
        for row in frame.to_dict("records")
    ]
    return write_csv(path, header, rows)


def geojson_with_raw_coordinates(path: Path, frame: gpd.GeoDataFrame) -> Path:
    """A GeoJSON of point features that declares no CRS (so: CRS84, RFC 7946) whatever the
    numbers are: the frame's coordinates are written as they are (e.g. UTM metres)."""
    features = [
        {
            "type": "Feature",
            "properties": {k: v for k, v in row.items() if k != "geometry"},
            "geometry": {"type": "Point", "coordinates": [row["geometry"].x, row["geometry"].y]},
        }
        for row in frame.to_dict("records")
    ]
    payload = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return path


def undefine_gpkg_srs(path: Path) -> None:
    """Set a GeoPackage's layers to srs_id 0 ('undefined geographic SRS'), as some tools write."""
    with sqlite3.connect(path) as db:
        db.execute("UPDATE gpkg_geometry_columns SET srs_id = 0")
        db.execute("UPDATE gpkg_contents SET srs_id = 0")
    db.close()


def truncate(path: Path) -> Path:
    """Cut a file in half (an interrupted download)."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def big_wells_csv(path: Path, n: int, prefix: str = "W-BIG") -> Path:
    """``n`` shallow wells near the city as a lon/lat CSV, written fast (no pandas)."""
    with path.open("w", encoding="utf-8") as out:
        out.write("code,name_th,name_en,kind,lon,lat\n")
        for start in range(0, n, 50_000):
            out.write(
                "".join(
                    f"{prefix}{i:07d},บ่อตื้น {i},shallow well {i},shallow_well,"
                    f"{CITY[0] + (i % 400) * 0.0002:.5f},{CITY[1] + (i // 400) * 0.0001:.5f}\n"
                    for i in range(start, min(n, start + 50_000))
                )
            )
    return path
