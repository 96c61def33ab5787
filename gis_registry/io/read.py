"""Reading a user's file honestly: its CRS, its text encoding and every geometry column.

Legacy Thai data comes as Shapefiles in Indian 1975 / UTM 47N (EPSG:24047) with TIS-620 text
and no ``.cpg``, as GeoPackages with an undefined SRS, as GeoJSON holding UTM numbers, as CSV
with lon/lat or WKT columns, and as Excel sheets. Each is read in chunks (bounded memory) and
reprojected to EPSG:4326; what cannot be read truthfully is refused with the fix named:

- a file without a CRS needs ``--crs`` (GeoJSON is lon/lat by definition, and a CSV whose
  coordinates are lon/lat is taken as such, with a note);
- ``--crs`` never silently replaces the CRS a file declares (``--crs-override``);
- coordinates impossible for the declared CRS (UTM metres as degrees) are refused, naming the
  likely CRS;
- text that decodes as Thai in TIS-620 but was read as Latin-1 (a DBF without ``.cpg``) is
  refused with the hint ``--encoding cp874``, so mojibake is never stored.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis_registry.errors import GisRegistryError

CHUNK_ROWS = 100_000

# Column names a CSV or sheet may carry its coordinates in (lower case).
LON_NAMES = ("lon", "long", "lng", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape")
TABLE_SUFFIXES = (".csv", ".xlsx", ".xls", ".ods")

# What UTM coordinates read as degrees usually are in Thailand.
_LIKELY_PROJECTED = (
    "EPSG:32647 (WGS 84 / UTM 47N) or EPSG:24047 (Indian 1975 / UTM 47N); "
    "EPSG:32648 / EPSG:24048 east of 102° E"
)
_THAI = range(0x0E01, 0x0E5C)


@dataclass
class Source:
    """A file opened for import: what it declares and what it was read as.

    Attributes
    ----------
    path : the file
    crs : the CRS its coordinates are in (declared, given or assumed), None for a table
    notes : what the reader assumed or changed, for the user (one line each)
    count : number of features, when the driver knows it cheaply
    """

    path: Path
    crs: CRS | None
    notes: list[str] = field(default_factory=list)
    count: int | None = None
    _chunks: Iterator[pd.DataFrame] | None = None

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The records as frames of at most :data:`CHUNK_ROWS` rows, geometries in the
        file's CRS (reprojected by :func:`to_wgs84`), index = 0-based record number."""
        assert self._chunks is not None
        yield from self._chunks


def open_source(
    path: str | Path,
    *,
    source_layer: str | None = None,
    crs: str | int | None = None,
    crs_override: bool = False,
    encoding: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Source:
    """Open a vector file or a table for import (see the module docstring for the rules).

    Raises
    ------
    GisRegistryError
        One line naming the file and the problem (missing, unreadable, no CRS, CRS conflict,
        a zip without a Shapefile, TIS-620 text read without ``--encoding``).
    """
    path = Path(path)
    if not path.exists():
        raise GisRegistryError(f"file not found: {path}")
    given = _parse_crs(crs) if crs is not None else None
    if encoding is not None:
        try:
            "".encode(encoding)
        except LookupError:
            raise GisRegistryError(
                f"unknown text encoding '{encoding}' (e.g. utf-8, cp874)"
            ) from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _open_csv(path, given, encoding, chunk_rows)
    if suffix == ".parquet":
        return _open_parquet(path, given, crs_override, chunk_rows)
    if suffix == ".zip":
        _check_zip(path)
    return _open_vector(path, source_layer, given, crs_override, encoding, chunk_rows)


def _parse_crs(value: str | int) -> CRS:
    try:
        return CRS.from_user_input(value)
    except CRSError:
        raise GisRegistryError(
            f"--crs '{value}' is not a coordinate reference system (e.g. EPSG:32647)"
        ) from None


def _check_zip(path: Path) -> None:
    try:
        names = zipfile.ZipFile(path).namelist()
    except zipfile.BadZipFile:
        raise GisRegistryError(f"cannot read {path}: not a zip file (or a truncated one)") from None
    if not any(n.lower().endswith((".shp", ".gpkg", ".geojson", ".fgb")) for n in names):
        shown = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
        raise GisRegistryError(
            f"{path} holds no .shp (or other vector file) to import; it holds: {shown or 'nothing'}"
        )


def _open_vector(
    path: Path,
    source_layer: str | None,
    given: CRS | None,
    crs_override: bool,
    encoding: str | None,
    chunk_rows: int,
) -> Source:
    if source_layer is None:
        _one_layer(path)
    try:
        info = pyogrio.read_info(path, layer=source_layer, encoding=encoding)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise GisRegistryError(f"cannot read {path}: {_first_line(exc)}") from None
    except Exception as exc:  # GDAL reports truncated or corrupt files in many ways
        raise GisRegistryError(f"cannot read {path}: {_first_line(exc)}") from None
    has_geometry = bool(info.get("geometry_type"))
    source = Source(path=path, crs=None, count=info.get("features"))
    if has_geometry:
        declared = _declared_crs(info.get("crs"))
        source.crs = _choose_crs(path, declared, given, crs_override, source.notes)
    else:
        source.crs = given  # lon/lat or WKT columns of a sheet, checked like a CSV's
    check_text = False
    if path.suffix.lower() in (".shp", ".zip") and not encoding:
        if not path.with_suffix(".cpg").exists() and info.get("encoding"):
            check_text = True
            # the Arrow reader does not recode: read the DBF as GDAL assumes (Latin-1), so that
            # Thai TIS-620 bytes show up as mojibake and are refused, never stored
            encoding = str(info["encoding"])
    source._chunks = _vector_chunks(path, source_layer, encoding, chunk_rows, source, check_text)
    return source


def _one_layer(path: Path) -> None:
    """A file of several layers (a GeoPackage of a whole project) must say which one."""
    try:
        layers = pyogrio.list_layers(path)
    except Exception:  # unreadable: read_info says why, in one line
        return
    if len(layers) > 1:
        names = ", ".join(str(name) for name, _ in layers[:12])
        raise GisRegistryError(
            f"{path} holds {len(layers)} layers ({names}): say which with --source-layer"
        )


def _declared_crs(text: Any) -> CRS | None:
    """The file's CRS, None when it has none or an undefined one (GeoPackage srs_id 0/-1)."""
    if not text:
        return None
    try:
        crs = CRS.from_user_input(text)
    except CRSError:
        return None
    if "undefined" in crs.name.lower() or crs.name.lower() == "unknown":
        return None
    return crs


def _choose_crs(
    path: Path, declared: CRS | None, given: CRS | None, override: bool, notes: list[str]
) -> CRS:
    if declared is None and given is None:
        if path.suffix.lower() in (".geojson", ".json"):
            return CRS.from_epsg(4326)  # RFC 7946: lon/lat WGS 84
        raise GisRegistryError(
            f"{path} does not declare its coordinate reference system; declare it in the"
            " file (e.g. ogr2ogr -a_srs EPSG:32647) or, for an import, give it with --crs"
            " (e.g. --crs EPSG:32647 or --crs EPSG:24047)"
        )
    if given is None:
        assert declared is not None
        return declared
    if declared is None or declared.equals(given, ignore_axis_order=True):
        return given
    if not override:
        raise GisRegistryError(
            f"{path} declares {_name(declared)} but --crs says {_name(given)}; the file's own"
            " CRS is used unless you add --crs-override (a wrong CRS moves every feature,"
            " often by hundreds of metres)"
        )
    notes.append(f"CRS {_name(declared)} declared by the file replaced by {_name(given)}")
    return given


def _name(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def _vector_chunks(
    path: Path,
    source_layer: str | None,
    encoding: str | None,
    chunk_rows: int,
    source: Source,
    check_text: bool,
) -> Iterator[pd.DataFrame]:
    start = 0
    try:
        with pyogrio.open_arrow(
            path, layer=source_layer, encoding=encoding, batch_size=chunk_rows, use_pyarrow=True
        ) as (meta, reader):
            geometry_name = meta.get("geometry_name") or "geometry"  # as GDAL names it
            wkb_column = next(
                (f for f in reader.schema.names if f in ("wkb_geometry", geometry_name)), None
            )
            if meta.get("geometry_type") and wkb_column is None:
                wkb_column = reader.schema.names[-1]
            for batch in reader:
                frame = batch.to_pandas(date_as_object=True)
                frame.index = pd.RangeIndex(start, start + len(frame))
                start += len(frame)
                if wkb_column is not None and wkb_column in frame.columns:
                    wkb = frame.pop(wkb_column).to_numpy()
                    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
                    # whatever GDAL calls it (geom, wkb_geometry, SHAPE), a mapping names the
                    # file's geometry "geometry"
                    frame = gpd.GeoDataFrame(frame, geometry=geoms, crs=source.crs)
                else:
                    frame = _table_geometry(frame, source)
                if check_text:  # the first chunk tells
                    _refuse_mojibake(path, frame)
                    check_text = False
                yield frame
    except GisRegistryError:
        raise
    except Exception as exc:  # a truncated file fails mid-read in GDAL or Arrow
        raise GisRegistryError(f"cannot read {path}: {_first_line(exc)}") from None


def _open_parquet(path: Path, given: CRS | None, override: bool, chunk_rows: int) -> Source:
    """GeoParquet through pyarrow (GDAL's Parquet driver is not in every build)."""
    try:
        frame = gpd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds for a bad or truncated file
        raise GisRegistryError(f"cannot read {path}: {_first_line(exc)}") from None
    source = Source(path=path, crs=None, count=len(frame))
    source.crs = _choose_crs(path, _declared_crs(frame.crs), given, override, source.notes)
    frame = frame.set_crs(source.crs, allow_override=True)
    source._chunks = (
        frame.iloc[start : start + chunk_rows] for start in range(0, len(frame), chunk_rows)
    )
    return source


def _open_csv(path: Path, given: CRS | None, encoding: str | None, chunk_rows: int) -> Source:
    source = Source(path=path, crs=given)

    def chunks() -> Iterator[pd.DataFrame]:
        try:
            reader = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                encoding=encoding or "utf-8-sig",
                chunksize=chunk_rows,
            )
            for frame in reader:
                yield _table_geometry(frame, source)
        except UnicodeDecodeError:
            raise GisRegistryError(
                f"cannot read {path} as {encoding or 'UTF-8'}: give its encoding with --encoding"
                " (legacy Thai files are often --encoding cp874)"
            ) from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise GisRegistryError(f"cannot read {path}: {_first_line(exc)}") from None

    source._chunks = chunks()
    return source


def _table_geometry(frame: pd.DataFrame, source: Source) -> pd.DataFrame:
    """A point from lon/lat columns, or the geometry from a WKT column, of a CSV or sheet.

    A table that declares no CRS is taken as lon/lat (EPSG:4326) when its coordinates are
    possible as such (with a note); otherwise it must be given with ``--crs``.
    """
    lower = {str(c).lower(): c for c in frame.columns}
    lon = next((lower[n] for n in LON_NAMES if n in lower), None)
    lat = next((lower[n] for n in LAT_NAMES if n in lower), None)
    wkt = next((lower[n] for n in WKT_NAMES if n in lower), None)
    if lon is not None and lat is not None:
        x = pd.to_numeric(frame[lon], errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(frame[lat], errors="coerce").to_numpy(dtype=float)
        geoms = shapely.points(x, y)
        geoms[np.isnan(x) | np.isnan(y)] = None
        frame = frame.drop(columns=[lon, lat])
        name = "geometry"
    elif wkt is not None:
        geoms = shapely.from_wkt(frame[wkt].to_numpy(dtype=object), on_invalid="ignore")
        frame = frame.drop(columns=[wkt])
        name = "geometry"
    else:
        return frame
    if source.crs is None:
        source.crs = CRS.from_epsg(4326)
        source.notes.append(
            f"{source.path.name} declares no CRS: its coordinates were read as lon/lat (WGS 84);"
            " give --crs if they are not"
        )
    out = gpd.GeoDataFrame(frame, geometry=geoms, crs=source.crs)
    return out if name == "geometry" else out.rename_geometry(name)


def _refuse_mojibake(path: Path, frame: pd.DataFrame) -> None:
    """Refuse Thai TIS-620 bytes that GDAL decoded as Latin-1 (a DBF without ``.cpg``)."""
    for column in frame.columns:
        if not _is_text(frame[column]):
            continue
        for value in frame[column].dropna().head(200):
            if not isinstance(value, str) or not any(0xA1 <= ord(ch) <= 0xFB for ch in value):
                continue
            try:
                decoded = value.encode("latin-1").decode("cp874")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if sum(ord(ch) in _THAI for ch in decoded) >= len(decoded.strip()) / 2:
                raise GisRegistryError(
                    f"{path.name}: the text of column '{column}' looks like Thai in TIS-620 read"
                    f" as Latin-1 ('{value}' would be '{decoded}'); the file has no .cpg to say"
                    " its encoding: give it with --encoding cp874 (or add a .cpg file)"
                )


def to_wgs84(frame: pd.DataFrame, crs: CRS | None, geometry_fields: list[str]) -> pd.DataFrame:
    """Every geometry column of ``frame`` in EPSG:4326 and 2D: shapely geometries and WKT text
    alike are taken to be in the file's CRS (a second geometry, e.g. ``office``, too)."""
    out = pd.DataFrame(frame) if isinstance(frame, gpd.GeoDataFrame) else frame.copy()
    for name in out.columns:
        values = out[name]
        is_geometry = isinstance(values.dtype, gpd.array.GeometryDtype)
        if not is_geometry and name in geometry_fields and _is_text(values):
            texts = values.where(values.map(lambda v: isinstance(v, str)))
            parsed = shapely.from_wkt(texts.to_numpy(dtype=object), on_invalid="ignore")
            keep = values.map(lambda v: not isinstance(v, str))  # leave objects/None as given
            values = pd.Series(
                np.where(keep, values.to_numpy(dtype=object), parsed), index=out.index
            )
            is_geometry = True
        if not is_geometry:
            continue
        series = gpd.GeoSeries(values.to_numpy(dtype=object), index=out.index, crs=crs)
        if crs is not None and not CRS(crs).equals(CRS.from_epsg(4326), ignore_axis_order=True):
            series = series.to_crs(4326)
        out[name] = series.force_2d() if series.has_z.any() else series
    return out


def coordinate_problems(frame: pd.DataFrame, crs: CRS | None) -> str | None:
    """Refuse a file whose coordinates are mostly impossible in its CRS (before reprojection),
    naming the likely CRS: UTM metres read as degrees, or degrees read as metres. A few bad
    records (latitude and longitude swapped) are left to the validator, record by record."""
    if crs is None:
        return None
    for name in frame.columns:
        if not isinstance(frame[name].dtype, gpd.array.GeometryDtype):
            continue
        bounds = shapely.bounds(np.asarray(frame[name], dtype=object))
        bounds = bounds[~np.isnan(bounds).any(axis=1)]
        if not len(bounds):
            continue
        size = np.abs(bounds).max(axis=1)
        if crs.is_geographic:
            wrong = (np.abs(bounds[:, [0, 2]]).max(axis=1) > 180) | (
                np.abs(bounds[:, [1, 3]]).max(axis=1) > 90
            )
        else:
            wrong = size <= 360
        if wrong.mean() <= 0.5:
            continue
        x, y = bounds[np.flatnonzero(wrong)[0], :2]
        if crs.is_geographic and abs(x) <= 90 and abs(y) <= 180:
            return (
                f"coordinates such as ({x:.4f}, {y:.4f}) look like (latitude, longitude):"
                " the file must give longitude first (x = lon, y = lat)"
            )
        if crs.is_geographic:
            looks = _LIKELY_PROJECTED if 100_000 < x < 900_000 else "a projected CRS"
            return (
                f"coordinates such as ({x:.0f}, {y:.0f}) are impossible in {_name(crs)}:"
                f" they look like {looks}; give it with --crs"
                + (" --crs-override" if crs.to_epsg() != 4326 or _declares(frame) else "")
            )
        return (
            f"coordinates such as ({x:.4f}, {y:.4f}) are degrees, not metres of"
            f" {_name(crs)}: give --crs EPSG:4326 --crs-override"
        )
    return None


def _declares(frame: pd.DataFrame) -> bool:
    return isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None


def _is_text(series: pd.Series) -> bool:
    """Object or string columns (pandas 3 reads text as its own ``str`` dtype)."""
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def read_file(
    path: str | Path, *, source_layer: str | None = None, crs: str | int | None = None
) -> gpd.GeoDataFrame:
    """A whole vector file as a GeoDataFrame in EPSG:4326 (for analyses that take a file).

    ``crs`` declares the CRS of a file that does not carry one (never overrides one it does).
    """
    source = open_source(path, source_layer=source_layer, crs=crs)
    frames = list(source.chunks())
    frame = pd.concat(frames) if frames else pd.DataFrame()
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
        raise GisRegistryError(f"{path} has no geometry column")
    problem = coordinate_problems(frame, source.crs)
    if problem:
        raise GisRegistryError(f"{path}: {problem}")
    return frame.set_crs(source.crs, allow_override=True).to_crs(4326)


def describe(value: Any) -> str:
    """A value as a user reads it in a problem list (long text and geometries shortened)."""
    if isinstance(value, shapely.Geometry):
        text = value.wkt
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
