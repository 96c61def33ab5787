"""Layers out to files a PAO officer can open, share and import again.

Every format holds the same columns, :func:`file_columns`: the layer's fields with each
reference to another record written as that record's code (``owner_local_body_code``, not
``owner_local_body_id``; :data:`gis_registry.io.keys.REFERENCES`), so a file re-imports by code
in this registry or another. ``id`` and the computed columns stay for readers; the importer
skips them (:data:`gis_registry.io.keys.READ_ONLY`).

The primary geometry is the file's geometry; a second one (a district's or an LGO's ``office``)
travels as WKT text in a column of the same name, since GeoPackage, GeoJSON and FlatGeobuf hold
one geometry per layer. CSV and Excel hold every geometry as WKT. Thai text is UTF-8 in every
format (a ``.cpg`` says so beside a Shapefile; a CSV starts with a byte-order mark, see
:func:`_write_csv`). A file is written beside its destination under a temporary name and
renamed when complete: a failed export leaves no file, and never a half-written one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    DateTime,
    Integer,
    Numeric,
    SmallInteger,
    select,
)

from gis_registry.catalog import LOGICAL_LAYERS, Layer, get_layer
from gis_registry.db.tables import RELATIONS, SRID
from gis_registry.errors import GisRegistryError, InvalidParameter
from gis_registry.io.keys import REFERENCES, Reference
from gis_registry.queries.features import BBox, read_items, union_frames
from gis_registry.queries.filters import envelope

__all__ = ["FORMATS", "Format", "export_layer", "file_columns", "parse_bbox", "shapefile_fields"]

# Local time of the province: timestamps are written as Thai officers read them (no zone).
TIMEZONE = "Asia/Bangkok"
# Excel refuses (or silently cuts) longer cells; a long boundary's WKT easily exceeds it.
EXCEL_CELL_LIMIT = 32_767
# A .dbf text field holds at most 254 bytes: about 84 Thai characters in UTF-8.
DBF_TEXT_LIMIT = 254
SHAPEFILE_NAME_LIMIT = 10


@dataclass(frozen=True)
class Format:
    """A file format an export writes, chosen by the file's extension."""

    name: str  # as users know it
    driver: str | None  # the GDAL driver; None: pandas/geopandas writes it
    spatial_only: bool  # holds features only: no table of a layer without geometry
    wkt: bool = False  # a table: every geometry as WKT text


FORMATS: dict[str, Format] = {
    ".gpkg": Format("GeoPackage", "GPKG", spatial_only=False),
    ".geojson": Format("GeoJSON", "GeoJSON", spatial_only=True),
    ".json": Format("GeoJSON", "GeoJSON", spatial_only=True),
    ".fgb": Format("FlatGeobuf", "FlatGeobuf", spatial_only=True),
    ".shp": Format("Shapefile", "ESRI Shapefile", spatial_only=True),
    ".csv": Format("CSV", None, spatial_only=False, wkt=True),
    ".xlsx": Format("Excel workbook", "XLSX", spatial_only=False, wkt=True),
    ".parquet": Format("GeoParquet", None, spatial_only=False),
}
_INTEGERS = (Integer, SmallInteger, BigInteger)
_GEOMETRY_TYPES = {
    "POINT": "Point",
    "LINESTRING": "LineString",
    "POLYGON": "Polygon",
    "MULTIPOINT": "MultiPoint",
    "MULTILINESTRING": "MultiLineString",
    "MULTIPOLYGON": "MultiPolygon",
}
# What a Shapefile holds one of (a single and a multi type mix: they are written as multi).
_FAMILIES = {
    "Point": "points",
    "MultiPoint": "points",
    "LineString": "lines",
    "MultiLineString": "lines",
    "Polygon": "polygons",
    "MultiPolygon": "polygons",
}


# -- what a file holds -----------------------------------------------------------------------
def _codes(ref: Reference) -> dict[str, str]:
    """The code columns of a reference whose target column exists (file column -> target's)."""
    target = RELATIONS[ref.target].c
    return {name: key for name, key in ref.codes.items() if key in target}


def file_columns(layer: str) -> list[str]:
    """The columns an export of ``layer`` writes, in order (geometries last).

    Each reference id column (``road_id``) is replaced by the code columns naming its target
    (``road_code``, ``road_segment``). While the target's natural key is not complete in the
    schema (a code column still missing), the id column stays as well: codes alone could name
    several records.

    Parameters
    ----------
    layer : a layer of the catalogue

    Raises
    ------
    NotFound
        for an unknown layer (naming the layers).
    """
    c = get_layer(LOGICAL_LAYERS.get(layer, (layer,))[0])  # water_sources: its layers' columns
    refs = {ref.column: ref for ref in REFERENCES.get(c.id, ())}
    out: list[str] = []
    for name in c.properties:
        ref = refs.get(name)
        if ref is None:
            out.append(name)
            continue
        codes = _codes(ref)
        if len(codes) < len(ref.codes):
            out.append(name)
        out.extend(codes)
    return out + list(c.geometries)


def shapefile_fields(layer: str) -> dict[str, str]:
    """The ``.dbf`` name of every non-geometry column of an export of ``layer`` (full -> cut).

    A Shapefile field name has at most 10 characters. Names are cut, and each cut name is the
    start of exactly one column of :func:`file_columns` (``owner_loca`` ->
    ``owner_local_body_code``), so an import maps it back. It is *not* unique among the
    layer's table columns (``owner_local_body_id`` starts the same way): an importer must map
    cut names against :func:`file_columns`, or this dictionary, never the table's columns.

    Raises
    ------
    GisRegistryError
        when two columns would share a cut name (the layer cannot travel as a Shapefile).
    """
    layer = LOGICAL_LAYERS.get(layer, (layer,))[0]  # water_sources: its layers' columns
    c = get_layer(layer)
    columns = [name for name in file_columns(layer) if name != c.geometry]
    out = {name: name[:SHAPEFILE_NAME_LIMIT] for name in columns}
    for name, cut in out.items():
        clash = [other for other in columns if other != name and other.startswith(cut)]
        if clash:
            raise GisRegistryError(
                f"{layer} cannot be written as a Shapefile: its fields {name} and {clash[0]}"
                f" both start with '{cut}' (field names are cut to {SHAPEFILE_NAME_LIMIT}"
                " characters); export to .gpkg instead"
            )
    return out


# -- arguments -------------------------------------------------------------------------------
def parse_bbox(text: str) -> BBox:
    """``minlon,minlat,maxlon,maxlat`` (EPSG:4326 degrees) as four numbers.

    Parameters
    ----------
    text : e.g. ``"99.4,18.2,99.6,18.4"``

    Raises
    ------
    InvalidParameter
        ``bbox``: not four numbers (naming the expected form), or an impossible box.
    """
    try:
        numbers = tuple(float(part) for part in text.split(","))
    except ValueError:
        numbers = ()
    if len(numbers) != 4:
        raise InvalidParameter(
            "bbox", f"'{text}' is not minlon,minlat,maxlon,maxlat (e.g. 99.4,18.2,99.6,18.4)"
        )
    envelope(numbers)  # the reads' own rules: ranges, min <= max
    minlon, minlat, maxlon, maxlat = numbers
    return (minlon, minlat, maxlon, maxlat)


def _format(path: Path) -> Format:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(FORMATS)
        raise GisRegistryError(
            f"cannot tell the format of {path} from '{path.suffix or '(no extension)'}'"
            f" (known: {known})"
        )
    return fmt


def _output_crs(c: Layer, crs: str | int | None) -> Any:
    """The pyproj CRS to write in (None: the storage CRS, EPSG:4326)."""
    if crs is None or crs == "":
        return None
    if not c.spatial:
        raise InvalidParameter("crs", f"{c.id} has no geometry to reproject", layer=c.id)
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(crs)
    except CRSError:
        raise InvalidParameter(
            "crs", f"'{crs}' is not a known coordinate reference system (e.g. EPSG:32647)"
        ) from None


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise GisRegistryError(
            "writing GeoParquet needs pyarrow, which is not installed"
            " (pip install pyarrow), or export to .gpkg"
        ) from None


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


# -- reading ---------------------------------------------------------------------------------
def _read(
    conn: Connection, c: Layer, bbox: Sequence[float] | None, where: str | None
) -> pd.DataFrame:
    try:
        return read_items(conn, c.id, filter=where, bbox=bbox)
    except InvalidParameter as exc:
        if exc.parameter != "filter":
            raise
        # the user typed --where, not the web service's filter parameter
        raise InvalidParameter("where", exc.problems[0][2], layer=c.id) from None


def _with_codes(conn: Connection, c: Layer, frame: pd.DataFrame) -> pd.DataFrame:
    """Each reference's code columns filled from its target (an unknown id gives no code)."""
    for ref in REFERENCES.get(c.id, ()):
        codes = _codes(ref)
        if not codes or ref.column not in frame.columns:
            continue
        target = RELATIONS[ref.target]
        key = target.primary_key.columns.values()[0]
        ids = [int(v) for v in frame[ref.column].dropna().unique()]
        found: dict[Any, tuple[Any, ...]] = {}
        if ids:
            query = select(key, *(target.c[k] for k in codes.values())).where(key.in_(ids))
            found = {row[0]: tuple(row[1:]) for row in conn.execute(query)}
        for index, name in enumerate(codes):
            frame[name] = [
                None if pd.isna(v) or v not in found else found[v][index] for v in frame[ref.column]
            ]
    return frame


def _column_types(c: Layer) -> dict[str, Any]:
    """The SQL type of every column a file holds: the layer's, and each code column's target
    (a road's ``segment`` is an integer in a bridge's file too)."""
    types = {column.name: column.type for column in c.table.columns}
    for ref in REFERENCES.get(c.id, ()):
        target = RELATIONS[ref.target].c
        types.update({name: target[key].type for name, key in _codes(ref).items()})
    return types


def _plain_values(c: Layer, frame: pd.DataFrame) -> pd.DataFrame:
    """Values every format takes: timestamps as Thai local time without a zone, decimals as
    floats, whole numbers as (nullable) integers rather than floats, dates as dates."""
    types = _column_types(c)
    for name in frame.columns:
        if name not in types or name in c.geometries:
            continue
        kind = types[name]
        column = frame[name]
        if isinstance(kind, DateTime):
            moments = pd.to_datetime(column, utc=True)
            frame[name] = moments.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
        elif isinstance(kind, Date):
            if pd.api.types.is_datetime64_any_dtype(column):
                frame[name] = [None if pd.isna(v) else v.date() for v in column]
        elif isinstance(kind, _INTEGERS):  # a null turns a column of integers into floats
            size = "Int64" if isinstance(kind, BigInteger) else "Int32"
            frame[name] = pd.to_numeric(column).astype(size)
        elif isinstance(kind, Numeric):  # Float too; Numeric arrives as Decimal
            frame[name] = pd.to_numeric(column.astype(object), errors="coerce").astype(float)
    return frame


def _portable(
    conn: Connection,
    c: Layer,
    *,
    bbox: Sequence[float] | None,
    where: str | None,
    crs: Any,
) -> pd.DataFrame:
    """The layer as the files hold it: :func:`file_columns`, second geometries as WKT."""
    frame = _read(conn, c, bbox, where)
    frame = _with_codes(conn, c, frame)
    frame = _plain_values(c, frame)
    frame = frame[[name for name in file_columns(c.id) if name in frame.columns]]
    if not isinstance(frame, gpd.GeoDataFrame):
        return pd.DataFrame(frame)
    frame = frame.copy()
    for name in c.other_geometries:
        second = gpd.GeoSeries(frame[name], crs=f"EPSG:{SRID}")
        if crs is not None:
            second = second.to_crs(crs)
        frame[name] = second.to_wkt(rounding_precision=-1)
    if crs is not None:
        frame = frame.to_crs(crs)
    return frame


def _as_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame with its geometry as WKT text in a column of the geometry's name."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return frame
    name = frame.geometry.name
    wkt = frame.geometry.to_wkt(rounding_precision=-1)
    table = pd.DataFrame(frame.drop(columns=name))
    table.insert(list(frame.columns).index(name), name, wkt)
    return table


# -- format rules ----------------------------------------------------------------------------
def _text_too_long(
    c: Layer, frame: pd.DataFrame, measure: Callable[[str], int], limit: int
) -> tuple[Any, str, int] | None:
    """The first (record id, field, size) whose text is longer than ``limit``."""
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object and not pd.api.types.is_string_dtype(column):
            continue
        sizes = column.map(lambda v: measure(v) if isinstance(v, str) else 0)
        over = sizes[sizes > limit]
        if len(over):
            position = over.index[0]
            record = frame.at[position, c.key] if c.key in frame.columns else position
            return record, name, int(over.iloc[0])
    return None


def _check_excel(c: Layer, frame: pd.DataFrame) -> None:
    found = _text_too_long(c, frame, len, EXCEL_CELL_LIMIT)
    if found:
        record, name, size = found
        raise GisRegistryError(
            f"{c.id} record {record}: field '{name}' holds {size:,} characters, more than an"
            f" Excel cell takes ({EXCEL_CELL_LIMIT:,}); export to .csv or .gpkg instead"
        )


def _shapefile_frame(c: Layer, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame with .dbf field names, refused where a Shapefile would lose or cut data."""
    families = {_FAMILIES.get(kind, kind) for kind in frame.geometry.geom_type.dropna().unique()}
    if len(families) > 1:
        raise GisRegistryError(
            f"a Shapefile holds one kind of geometry; these {c.id} mix"
            f" {', '.join(sorted(families))}: export to .gpkg, or choose one kind with "
            + (
                f"one of the layers {', '.join(LOGICAL_LAYERS[c.id])}"
                if c.id in LOGICAL_LAYERS
                else "--where"
            )
        )
    found = _text_too_long(c, frame, lambda v: len(v.encode("utf-8")), DBF_TEXT_LIMIT)
    if found:
        record, name, size = found
        raise GisRegistryError(
            f"{c.id} record {record}: field '{name}' holds {size:,} bytes of UTF-8 text, more"
            f" than a Shapefile field takes ({DBF_TEXT_LIMIT}); export to .gpkg instead"
        )
    for name in frame.columns:  # a .dbf has dates but no date-times: ISO text, not a warning
        if pd.api.types.is_datetime64_any_dtype(frame[name]):
            frame[name] = [None if pd.isna(v) else v.isoformat() for v in frame[name]]
    return frame.rename(columns=shapefile_fields(c.id))


# -- writing ---------------------------------------------------------------------------------
def _sidecars(path: Path, fmt: Format) -> list[Path]:
    """The other files that belong to ``path``: a Shapefile's parts, a GeoPackage's SQLite
    journals (a stale one beside a new file would be replayed into it)."""
    if not path.parent.is_dir():
        return []
    if fmt.driver == "GPKG":
        return [Path(f"{path}{journal}") for journal in ("-wal", "-shm", "-journal")]
    if fmt.driver != "ESRI Shapefile":
        return []
    stem = path.stem.lower()
    return [
        p
        for p in path.parent.iterdir()
        if p != path
        and (
            (p.stem.lower() == stem and p.suffix.lower() in _SHAPEFILE_PARTS)
            or p.name.lower() == f"{path.name.lower()}.xml"
        )
    ]


_SHAPEFILE_PARTS = frozenset(
    {".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd", ".fix"}
)


def _check_destination(path: Path, fmt: Format, overwrite: bool) -> None:
    if path.is_dir():
        raise GisRegistryError(f"cannot write {path}: it is a folder")
    # a Shapefile's .dbf alone would be overwritten too; a GeoPackage's journal is not data
    parts = _sidecars(path, fmt) if fmt.driver == "ESRI Shapefile" else []
    existing = [p for p in (path, *parts) if p.exists()]
    if existing and not overwrite:
        raise GisRegistryError(
            f"{existing[0]} exists; export with --overwrite (overwrite=True) to replace it"
        )


def _write_gdal(c: Layer, frame: pd.DataFrame, tmp: Path, fmt: Format) -> None:
    options: dict[str, Any] = {"driver": fmt.driver, "use_arrow": _has_pyarrow()}
    if fmt.driver == "ESRI Shapefile":
        options["encoding"] = "UTF-8"  # and the .cpg that says so
    else:
        options["layer"] = str(c.id)  # the GeoPackage table, the Excel sheet
    if fmt.driver == "GPKG" and isinstance(frame, gpd.GeoDataFrame):
        options["layer_options"] = {"GEOMETRY_NAME": frame.geometry.name}  # not GDAL's "geom"
    if isinstance(frame, gpd.GeoDataFrame) and frame.empty:
        # nothing to infer the type from: the table's declaration
        kind = _GEOMETRY_TYPES.get(c.geometry_type or "", "Unknown")
        if kind == "Unknown" and fmt.driver == "ESRI Shapefile":  # it has no such type
            kind = "Point"
        options["geometry_type"] = kind
    pyogrio.write_dataframe(frame, tmp, **options)


def _write_csv(frame: pd.DataFrame, tmp: Path) -> None:
    """UTF-8 *with* a byte-order mark: Excel (the officers' tool) reads a CSV without one in
    the Windows code page (cp874 or cp1252) and shows Thai as mojibake; with the mark it reads
    UTF-8. GDAL, pandas (``utf-8-sig``) and QGIS skip the mark."""
    frame.to_csv(tmp, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d %H:%M:%S")


def _write_parquet(frame: pd.DataFrame, tmp: Path) -> None:
    frame.to_parquet(tmp, index=False)


def _replace(tmpdir: Path, path: Path, fmt: Format) -> None:
    """Move the finished files from ``tmpdir`` to ``path`` (and its sidecars), replacing the
    old ones; an old sidecar the new export does not write is removed with its file."""
    written = sorted(tmpdir.iterdir(), key=lambda p: p.suffix.lower() == ".shp")  # .shp last
    names = {p.name for p in written}
    for old in _sidecars(path, fmt):
        if old.exists() and old.name not in names:
            old.unlink()
    for part in written:
        os.replace(part, path.parent / part.name)


def _write_atomically(path: Path, fmt: Format, write: Callable[[Path], None]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GisRegistryError(
            f"cannot create the folder {path.parent}: {exc.strerror or exc}"
        ) from None
    try:
        # not named after the file: GDAL reads a folder named "x.xlsx.tmp" as inside a zip
        tmpdir = Path(tempfile.mkdtemp(prefix=".gis-registry-export-", dir=path.parent))
    except OSError as exc:
        raise GisRegistryError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        write(tmpdir / path.name)
        _replace(tmpdir, path, fmt)
    except OSError as exc:
        raise GisRegistryError(f"cannot write {path}: {exc.strerror or exc}") from None
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GisRegistryError(f"cannot write {path}: {message}") from None
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def export_layer(
    conn: Connection,
    layer: str,
    path: str | Path,
    *,
    bbox: Sequence[float] | None = None,
    where: str | None = None,
    crs: str | int | None = None,
    overwrite: bool = False,
) -> int:
    """Write a layer to a file, the format chosen by the extension; returns the record count.

    Parameters
    ----------
    conn : an open connection (only read)
    layer : a layer of the catalogue, e.g. ``roads``, or a logical layer
        (:data:`gis_registry.catalog.LOGICAL_LAYERS`): ``water_sources`` writes every water
        source of water_points, water_areas and water_lines in one file, by id, that an import
        into ``water_sources`` reads back (a Shapefile only when they are of one kind)
    path : ``.gpkg``, ``.geojson``/``.json``, ``.fgb``, ``.shp``, ``.csv``, ``.xlsx`` or
        ``.parquet`` (GeoParquet, needs pyarrow). Layers without geometry go to ``.csv``,
        ``.xlsx``, ``.gpkg`` (an attribute table) or ``.parquet``. Missing folders are made.
    bbox : (minlon, minlat, maxlon, maxlat): only features whose geometry meets the box
    where : a CQL2 text filter on the layer's fields, e.g. ``"surface = 'laterite'"``
    crs : the CRS to write in (``EPSG:32647``, ``EPSG:24047``...); default EPSG:4326. CSV
        and Excel cells do not record it.
    overwrite : replace an existing file (a Shapefile's sidecar files too)

    Returns
    -------
    int
        the number of records written.

    Raises
    ------
    NotFound
        for an unknown layer.
    InvalidParameter
        for a bad ``bbox``, ``where`` or ``crs``.
    GisRegistryError
        for an unknown extension, a format that cannot hold the layer, an existing file
        without ``overwrite``, or a path that cannot be written.
    """
    path = Path(path)
    fmt = _format(path)
    parts = LOGICAL_LAYERS.get(layer)
    c = get_layer(parts[0] if parts else layer)
    if parts:
        # the union in one file, as the import of the logical layer reads it back
        c = replace(c, id=layer, title=layer, geometry_type=None)
    if fmt.spatial_only and not c.spatial:
        raise GisRegistryError(
            f"{layer} has no geometry, and {fmt.name} holds only features with geometry:"
            " export it to .csv, .xlsx, .gpkg or .parquet"
        )
    target = _output_crs(c, crs)
    if fmt.name == "GeoParquet":
        _require_pyarrow()
    _check_destination(path, fmt, overwrite)
    if parts:
        frames = [
            _portable(conn, get_layer(part), bbox=bbox, where=where, crs=target) for part in parts
        ]
        frame = union_frames(frames, c.key)
    else:
        frame = _portable(conn, c, bbox=bbox, where=where, crs=target)
    if fmt.wkt:
        frame = _as_table(frame)
    if fmt.driver == "XLSX":
        _check_excel(c, frame)
    if fmt.driver == "ESRI Shapefile":
        frame = _shapefile_frame(c, frame)
    if fmt.driver is not None:
        _write_atomically(path, fmt, lambda tmp: _write_gdal(c, frame, tmp, fmt))
    elif fmt.wkt:
        _write_atomically(path, fmt, lambda tmp: _write_csv(frame, tmp))
    else:
        _write_atomically(path, fmt, lambda tmp: _write_parquet(frame, tmp))
    return len(frame)
