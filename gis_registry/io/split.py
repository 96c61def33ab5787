"""Importing a file into a logical layer: ``water_sources``, split by geometry type (0008).

A file of water sources mixes wells (points), reservoirs (polygons) and canals (lines), as the
registry did before it stored each geometry type in its own table. Importing it into
``water_sources`` reads the file once and sends each record to the table of its geometry
(``water_points``, ``water_areas``, ``water_lines``; :func:`route`), each part validated,
checked and merged as :func:`gis_registry.io.load.load_frames` does, all in one transaction:
if any part is refused, nothing is written. Record numbers stay those of the file, and the
result counts each table (:attr:`gis_registry.io.load.ImportResult.parts`).
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pandas as pd
import shapely
from sqlalchemy import Engine

from gis_registry.catalog import LOGICAL_LAYERS
from gis_registry.io.load import (
    ImportOptions,
    ImportResult,
    Problem,
    _chunks,
    _Plan,
    import_transaction,
    load_frames,
)
from gis_registry.io.read import open_source
from gis_registry.queries.features import layer_table
from gis_registry.validation import geometry_home


def route(layer: str, geometries: pd.Series) -> pd.Series:
    """The table of ``layer``'s parts each geometry goes to: by its type (a one-part Multi* as
    its part, as validation unwraps it); an unreadable or unknown type goes to the first part,
    whose validation refuses it naming the right rule."""
    parts = LOGICAL_LAYERS[layer]

    def home(value: Any) -> str:
        if not isinstance(value, shapely.Geometry):
            return parts[0]
        kind = value.geom_type
        if kind in ("MultiPoint", "MultiLineString") and shapely.get_num_geometries(value) == 1:
            kind = kind.removeprefix("Multi")
        return geometry_home(parts[0], kind) or parts[0]

    return pd.Series([home(v) for v in geometries.to_numpy(dtype=object)], index=geometries.index)


def import_split(
    engine: Engine,
    layer: str,
    path: str | Path,
    options: ImportOptions,
    *,
    progress: Any = None,
) -> ImportResult:
    """Import a file into the logical ``layer``, each record into the table of its geometry.

    Parameters
    ----------
    engine
        Engine on a migrated registry.
    layer
        A logical layer (:data:`gis_registry.catalog.LOGICAL_LAYERS`), e.g. ``water_sources``.
    path
        The file.
    options
        As for :func:`gis_registry.io.load.import_file`; the mode applies to each table
        (``replace`` deletes a table's rows the file's records of that type do not hold).
    progress
        A ``rich.progress.Progress`` or None.

    Returns
    -------
    ImportResult
        Totals over the tables, every problem (file record numbers), and ``parts``: one result
        per table.
    """
    started = time.perf_counter()
    parts = LOGICAL_LAYERS[layer]
    source = open_source(
        path,
        source_layer=options.source_layer,
        crs=options.crs,
        crs_override=options.crs_override,
        encoding=options.encoding,
    )
    result = ImportResult(layer=layer, path=str(path), mode=options.mode, dry_run=options.dry_run)
    # the parts have the same fields: one plan maps, reprojects and names the geometry
    reader = _Plan(layer_table(parts[0]), options, ImportResult(layer, str(path), options.mode))
    frames: dict[str, list[pd.DataFrame]] = {part: [] for part in parts}
    for chunk in _chunks(source, reader, reader.result, validated=False):
        for part, rows in chunk.groupby(route(layer, chunk[reader.geometries[0]]), sort=False):
            frames[str(part)].append(rows)
    result.read = reader.result.read
    result.problems.extend(reader.result.problems)  # the file's (columns, coordinates)
    result.notes.extend([*source.notes, *reader.result.notes])
    if result.read == 0:
        result.problems.append(Problem(None, None, "(file)", None, f"{path} holds no records"))
    display = progress if progress is not None else nullcontext()
    with display, import_transaction(engine, f"import into {layer}") as (cur, transaction):
        refused = any(p.record is None for p in result.problems)
        for part in parts:
            if refused or not frames[part]:
                continue
            done = load_frames(cur, part, frames[part], options, path=str(path), progress=progress)
            result.parts.append(done)
            result.problems.extend(done.problems)
            for name in ("inserted", "updated", "unchanged", "deleted"):
                setattr(result, name, getattr(result, name) + getattr(done, name))
            if any(p.field == "(database)" for p in done.problems):
                refused = True  # the transaction is aborted: no other part can load
        refused = refused or (bool(result.problems) and not options.skip_invalid)
        result.written = not refused and not options.dry_run and result.read > 0
        if result.written:
            transaction.commit()
        else:
            transaction.rollback()
    result.seconds = time.perf_counter() - started
    return result
