"""Importing a file into a layer: map, validate, stage with COPY, check in SQL, merge.

1. The file is read in chunks (:mod:`gis_registry.io.read`), each mapped to the layer's fields
   (:mod:`gis_registry.io.mapping`), reprojected, and validated at once
   (:func:`gis_registry.validation.validate_frame`, the rules every write obeys).
2. Valid rows are COPYed into a temporary staging table.
3. What needs the database is checked set-based in SQL: references by code (a village's LGO,
   a bridge's road) or by place (the LGO containing a village, the road under a bridge), keys
   duplicated in the file or already in the registry, features far outside the province.
4. The staged rows are merged in one statement: ``append`` inserts, ``upsert`` inserts or
   updates by the layer's natural key (unchanged rows are not touched), ``replace`` also
   deletes the layer's rows the file does not hold.

Everything happens in one transaction: a refused file, a ``--dry-run`` or a killed process
leaves the layer exactly as it was. ``skip_invalid`` merges the valid records only.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import psycopg
from psycopg import sql
from sqlalchemy import Engine, Table
from sqlalchemy.exc import DBAPIError

from gis_registry.catalog import LOGICAL_LAYERS
from gis_registry.db import errors as db_errors
from gis_registry.db.copy import copy_frame
from gis_registry.errors import DatabaseUnavailable, GisRegistryError
from gis_registry.geodesy import PROVINCE_MARGIN_M
from gis_registry.io.export import shapefile_fields
from gis_registry.io.keys import NATURAL_KEYS, READ_ONLY, REFERENCES, Reference
from gis_registry.io.mapping import FieldMapping
from gis_registry.io.read import Source, coordinate_problems, describe, open_source, to_wgs84
from gis_registry.queries.features import geometry_columns, layer_table, primary_geometry
from gis_registry.validation import as_text, validate_frame, writable_columns

MODES = ("append", "upsert", "replace")
# References found by place when a file gives no code (reported by their own checks).
_BY_PLACE = {("settlements", "local_body_id"), ("bridges", "road_id")}
# How far a bridge may lie from the road it is attached to by place (the bridges_on_road rule).
BRIDGE_TOLERANCE_M = 10.0
STAGE = "import_stage"


@dataclass(frozen=True)
class ImportOptions:
    """How to read and load a file (the options of ``gis-registry import``)."""

    mapping: FieldMapping = field(default_factory=FieldMapping)
    source_layer: str | None = None
    crs: str | int | None = None
    crs_override: bool = False
    encoding: str | None = None
    mode: str = "append"
    dry_run: bool = False
    skip_invalid: bool = False
    # match records by these columns instead of the layer's natural key (import-osm: osm_id)
    key: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one record (``record`` None: with the whole file)."""

    record: int | None
    key: str | None
    field: str
    value: Any
    rule: str

    def to_dict(self) -> dict[str, Any]:
        """The problem as JSON-ready values (geometries as shortened WKT)."""
        return {
            "record": self.record,
            "key": self.key,
            "field": self.field,
            "value": None if self.value is None else describe(self.value),
            "rule": self.rule,
        }


@dataclass
class ImportResult:
    """What an import read, wrote (or would write) and refused."""

    layer: str
    path: str
    mode: str
    dry_run: bool = False
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    written: bool = False
    # a logical layer's import (water_sources): what each of its tables got
    parts: list[ImportResult] = field(default_factory=list)

    @property
    def refused(self) -> int:
        """Records with at least one problem (file-level problems are not records)."""
        return len({p.record for p in self.problems if p.record is not None})

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready values."""
        return {
            "layer": self.layer,
            "path": self.path,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "written": self.written,
            **self.counts(),
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
            "problems": [p.to_dict() for p in self.problems],
            **({"layers": {p.layer: p.counts() for p in self.parts}} if self.parts else {}),
        }

    def counts(self) -> dict[str, int]:
        """Records read, inserted, updated, unchanged, deleted and refused."""
        return {
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "refused": self.refused,
        }

    def lines(self, examples: int = 5) -> list[str]:
        """The result for a terminal: notes, problems grouped by rule, then the summary."""
        out = [f"note: {n}" for n in self.notes]
        groups: dict[tuple[str, str], list[Problem]] = defaultdict(list)
        for p in self.problems:
            groups[(p.field, re.sub(r"'[^']*'", "'…'", p.rule))].append(p)
        for (name, _), found in groups.items():
            records = [f"#{p.record}" for p in found[:examples] if p.record is not None]
            more = f" and {len(found) - examples} more" if len(found) > examples else ""
            noun = "record" if len(found) == 1 else "records"
            where = f" ({len(found):,} {noun}: {', '.join(records)}{more})" if records else ""
            first = found[0]
            value = (
                ""
                if first.value is None or first.rule.startswith("'")
                else (f" [{describe(first.value)}]")
            )
            label = f"field '{name}'" if first.record is not None else f"file: {name}"
            out.append(f"problem: {label}: {first.rule}{value}{where}")
        counts = self._changes()
        if self.problems and not self.written:
            verdict = "refused: nothing was written" if not self.dry_run else "would be refused"
            why = (
                f"{self.refused:,} of {self.read:,} records have problems; fix them, or load"
                " the rest with --skip-invalid"
                if self.refused
                else "the file as a whole has problems"
            )
            out.append(f"{self.layer}: {verdict} ({why})")
        elif self.dry_run:
            out.append(f"{self.layer}: dry run, nothing written; would be {counts}")
        else:
            out += [f"  {p.layer}: {p.read:,} read, {p._changes()}" for p in self.parts]
            skipped = f", {self.refused:,} skipped" if self.problems else ""
            out.append(f"{self.layer}: {counts}{skipped} ({self.seconds:.1f} s, {self.mode})")
        return out

    def _changes(self) -> str:
        """Inserted, updated, unchanged (and deleted, in replace mode) as a terminal says it."""
        return (
            f"{self.inserted:,} inserted, {self.updated:,} updated, {self.unchanged:,} unchanged"
            + (f", {self.deleted:,} deleted" if self.mode == "replace" else "")
        )


@contextmanager
def import_transaction(engine: Engine, what: str) -> Iterator[tuple[psycopg.Cursor, Any]]:
    """One import's transaction: a raw psycopg cursor (COPY) without the statement timeout, and
    the SQLAlchemy transaction to commit or roll back; the database's errors become the
    registry's, naming ``what`` ("import into roads").

    Raises
    ------
    DatabaseUnavailable
        When the connection fails or is lost.
    GisRegistryError
        For another database error (a schema the import did not expect, e.g. not migrated).
    """
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cur:
                cur.execute("SET LOCAL statement_timeout = 0")
                yield cur, transaction
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"import stopped: {exc}") from exc
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise GisRegistryError(f"{what} failed: {first}") from exc


def import_file(
    engine: Engine,
    layer: str,
    path: str | Path,
    options: ImportOptions | None = None,
    *,
    progress: Any = None,
) -> ImportResult:
    """Validate a file and load it into ``layer`` (see the module docstring).

    Parameters
    ----------
    engine
        Engine on a migrated registry.
    layer
        The layer to load into, e.g. ``"roads"``; the logical layer ``"water_sources"`` sends
        each record to ``water_points``, ``water_areas`` or ``water_lines`` by its geometry
        (:mod:`gis_registry.io.split`, one transaction, counts per layer in ``parts``).
    path
        The file (any format :func:`gis_registry.io.read.open_source` reads).
    options
        Mapping, CRS, encoding, mode, dry run, skip invalid.
    progress
        A ``rich.progress.Progress`` to show reading and writing, or None.

    Returns
    -------
    ImportResult
        Counts, notes and every problem (record number, key, field, value, rule). When it has
        problems and ``skip_invalid`` is off, nothing was written.

    Raises
    ------
    GisRegistryError
        For a file that cannot be read truthfully at all (missing, no CRS, a CRS conflict,
        TIS-620 text without an encoding, a mapping that names absent columns).
    """
    options = options or ImportOptions()
    started = time.perf_counter()
    if options.mode not in MODES:
        raise GisRegistryError(f"mode '{options.mode}' is not one of {', '.join(MODES)}")
    if options.mode == "replace" and options.skip_invalid:
        raise GisRegistryError(
            "--mode replace cannot be combined with --skip-invalid: a refused record would be"
            " deleted from the registry; fix the file, or upsert with --skip-invalid"
        )
    if options.mapping.layer and options.mapping.layer != layer:
        raise GisRegistryError(f"the mapping is for layer {options.mapping.layer}, not {layer}")
    if layer in LOGICAL_LAYERS:
        from gis_registry.io.split import import_split  # it builds on this module

        return import_split(engine, layer, path, options, progress=progress)
    table = layer_table(layer)
    source = open_source(
        path,
        source_layer=options.source_layer,
        crs=options.crs,
        crs_override=options.crs_override,
        encoding=options.encoding,
    )
    result = ImportResult(layer=layer, path=str(path), mode=options.mode, dry_run=options.dry_run)
    plan = _Plan(table, options, result)
    display = progress if progress is not None else nullcontext()
    # committed only when everything is written
    with display, import_transaction(engine, f"import into {layer}") as (cur, transaction):
        stages = _Stages(progress, source.count)
        plan.create_stage(cur)
        for chunk in _chunks(source, plan, result):
            copy_frame(cur, STAGE, chunk)
            stages.read(result.read)
        if result.read == 0:
            result.problems.append(Problem(None, None, "(file)", None, f"{path} holds no records"))
        stages.start("checking")
        plan.check(cur)
        whole_file = any(p.record is None for p in result.problems)
        refused = bool(result.problems) and (not options.skip_invalid or whole_file)
        if not refused and result.read:
            stages.start("writing")
            try:
                plan.merge(cur)
                plan.record_load(cur, str(path))
            except _Refused:
                refused = True
        stages.done()
        result.written = not refused and not options.dry_run and result.read > 0
        if result.written:
            transaction.commit()
        else:
            transaction.rollback()
    result.notes[:0] = source.notes  # what the reader assumed, first
    result.seconds = time.perf_counter() - started
    return result


def load_frames(
    cur: psycopg.Cursor,
    layer: str,
    frames: Iterable[pd.DataFrame],
    options: ImportOptions,
    *,
    path: str,
    source: str = "import",
    progress: Any = None,
) -> ImportResult:
    """Validate, stage, check and merge frames into ``layer`` inside the caller's transaction.

    The steps of :func:`import_file` after reading (validation, COPY into the stage, the SQL
    checks, the merge, the ``data_loads`` row) for records another reader made, such as
    :mod:`gis_registry.io.osm`. Nothing is committed or rolled back here: the caller commits
    when every layer it loads has ``written`` set, so several layers load all or nothing. The
    stage (``import_stage``) stays until the next call or the end of the transaction.

    Parameters
    ----------
    cur
        A psycopg cursor inside the caller's transaction.
    layer
        The layer to load into.
    frames
        Chunks whose columns are fields of the layer, geometries as shapely objects in
        EPSG:4326; their indexes number the records (1-based record = index + 1), unique
        across chunks.
    options
        Mode, key (e.g. ``("osm_id",)``), dry run, skip invalid; the mapping is not used.
    path
        What was read, for the ``data_loads`` row.
    source
        ``data_loads.source``: ``import`` or ``osm``.
    progress
        A ``rich.progress.Progress`` or None.

    Returns
    -------
    ImportResult
        Counts and problems; ``written`` tells whether the rows were merged (not when there
        were problems, none to write, or a dry run).
    """
    result = ImportResult(layer=layer, path=path, mode=options.mode, dry_run=options.dry_run)
    started = time.perf_counter()
    plan = _Plan(layer_table(layer), options, result)
    stages = _Stages(progress, None, f"{layer}: validating")
    plan.create_stage(cur)
    first = True
    for frame in frames:
        if first:
            plan.columns_of(frame)
            first = False
        result.read += len(frame)
        copy_frame(cur, STAGE, plan.stage_rows(frame))
        stages.read(result.read)
    stages.start(f"{layer}: checking")
    if result.read:
        plan.check(cur)
    whole = any(p.record is None for p in result.problems)
    refused = bool(result.problems) and (not options.skip_invalid or whole)
    if not refused and result.read:
        stages.start(f"{layer}: writing")
        try:
            plan.merge(cur)
            plan.record_load(cur, path, source)
        except _Refused:
            refused = True
    stages.done()
    result.written = not refused and not options.dry_run and result.read > 0
    result.seconds = time.perf_counter() - started
    return result


class _Stages:
    """Progress of an import: records read and validated, then the checks, then the write
    (rich tasks on the caller's Progress; nothing without one)."""

    def __init__(self, progress: Any, total: int | None, first: str = "reading") -> None:
        self.progress = progress
        self.task = progress.add_task(first, total=total) if progress is not None else None

    def read(self, records: int) -> None:
        """Records read and validated so far."""
        if self.progress is not None:
            self.progress.update(self.task, completed=records)

    def start(self, name: str) -> None:
        """The previous task complete, a new one started."""
        if self.progress is not None:
            self.done()
            self.task = self.progress.add_task(name, total=1)

    def done(self) -> None:
        """The current task complete (reading: all its records, whatever the count said)."""
        if self.progress is not None:
            task = next(t for t in self.progress.tasks if t.id == self.task)
            finished = max(task.completed, 1) if task.total is None else task.total
            self.progress.update(self.task, total=finished, completed=finished)


def _chunks(
    source: Source, plan: _Plan, result: ImportResult, *, validated: bool = True
) -> Iterator[pd.DataFrame]:
    """Each chunk of the file mapped, reprojected, validated; the valid rows, staged-ready.
    Not ``validated``: every row, its fields and codes only (a logical layer's import,
    :mod:`gis_registry.io.split`, validates each part's records in its own table)."""
    first = True
    for chunk in source.chunks():
        mapped = plan.mapping.apply(chunk, keep=set(plan.fields) | plan.codes)
        if first:
            plan.columns_of(mapped)
            problem = coordinate_problems(mapped, source.crs)
            if problem:
                raise GisRegistryError(f"{source.path}: {problem}")
            first = False
        result.read += len(mapped)
        rows = to_wgs84(mapped, source.crs, plan.geometries)
        yield plan.stage_rows(rows) if validated else plan.kept_columns(rows)


class _Plan:
    """The layer-specific parts of one import: its fields, references, key and SQL."""

    def __init__(self, table: Table, options: ImportOptions, result: ImportResult) -> None:
        self.table = table
        self.layer = table.name
        self.options = options
        self.mapping = options.mapping
        self.result = result
        self.fields = {n: c for n, c in writable_columns(table).items() if n != "id"}
        # what the registry sets itself (timestamps, measures, ids): skipped with a note
        self.read_only = (set(table.c.keys()) - set(self.fields)) & (READ_ONLY | {"id"})
        self.geometries = list(geometry_columns(table))
        self.references: tuple[Reference, ...] = REFERENCES.get(self.layer, ())
        self.codes = {code for ref in self.references for code in ref.code_columns}
        self.key = options.key or NATURAL_KEYS.get(self.layer, ())
        self.renames: dict[str, str] = {}
        # id columns filled in SQL from codes or by place: checked after resolution instead
        self.resolved_later = {r.column for r in self.references}
        self.kept: list[str] = []

    # -- reading ------------------------------------------------------------------------------
    def columns_of(self, frame: pd.DataFrame) -> None:
        """Decide once, from the first chunk, which columns are fields, codes or extra."""
        known = set(self.fields) | self.codes
        self.renames = _shapefile_names(frame.columns, self.layer)
        names = [self.renames.get(c, c) for c in frame.columns]
        if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name not in known:
            active = str(frame.geometry.name)
            names = [primary_geometry(self.table) if c == active else c for c in names]
            self.renames[active] = str(primary_geometry(self.table))
        skipped = sorted(c for c in names if c in self.read_only)
        if skipped:
            self.result.notes.append(f"skipped {', '.join(skipped)}: the registry sets them")
        extra = [c for c in names if c not in known and c not in self.read_only]
        if extra and self.mapping.ignore_extra:
            self.result.notes.append(f"ignored columns the layer does not have: {', '.join(extra)}")
        elif extra:
            hint = ""
            if any(str(c).startswith(("ADM1_", "ADM2_", "ADM3_")) for c in extra):
                hint = " (HDX COD-AB boundaries: see data/mappings/cod-ab-*.yaml, --mapping)"
            self.result.problems.append(
                Problem(
                    None,
                    None,
                    ", ".join(map(str, extra)),
                    None,
                    f"not fields of {self.layer}: map them (--map FIELD=COLUMN) or skip them"
                    f" (--ignore-extra){hint}; its fields: {', '.join(sorted(known))}",
                )
            )
        self.kept = [c for c in names if c in known]

    def kept_columns(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame's fields and codes as :meth:`columns_of` decided (renamed, once each)."""
        frame = frame.rename(columns=self.renames)
        frame = frame.loc[:, ~frame.columns.duplicated()]
        return frame[[c for c in self.kept if c in frame.columns]]

    def stage_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Validated rows with their record numbers, refused ones left out (and reported)."""
        data = self.kept_columns(frame)
        fields = data[[c for c in data.columns if c in self.fields]]
        clean, found = validate_frame(self.table, fields, resolved_later=self.resolved_later)
        for name in self.codes & set(data.columns):
            clean[name] = data[name].map(_code_text)
        bad = {index for index, _, _, _ in found}
        keys = self._keys(data.loc[sorted(bad)]) if bad else {}
        for index, name, value, rule in found:
            self.result.problems.append(Problem(index + 1, keys.get(index), name, value, rule))
        clean["_record"] = clean.index + 1
        return clean.drop(index=list(bad)) if bad else clean

    def _keys(self, data: pd.DataFrame) -> dict[int, str]:
        present = [k for k in self.key if k in data.columns]
        if not present:
            return {}
        rows = data[present].astype(object).itertuples(index=True, name=None)
        return {
            row[0]: ", ".join(f"{k}={v}" for k, v in zip(present, row[1:], strict=True))
            for row in rows
        }

    # -- SQL ----------------------------------------------------------------------------------
    def create_stage(self, cur: psycopg.Cursor) -> None:
        """A temporary table with the layer's writable columns, the code columns and
        ``_record``; gone at the end of the transaction."""
        columns = sql.SQL(", ").join(map(sql.Identifier, self.fields))
        # several layers may load in one transaction (load_frames): one stage at a time
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(STAGE)))
        cur.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                sql.Identifier(STAGE), columns, sql.Identifier(self.layer)
            )
        )
        extra: list[sql.Composable] = [sql.SQL("ADD COLUMN _record integer")]
        for ref in self.references:
            for code, target_column in ref.codes.items():
                kind = "integer" if target_column == "segment" else "text"
                extra.append(sql.SQL("ADD COLUMN {} " + kind).format(sql.Identifier(code)))
        cur.execute(
            sql.SQL("ALTER TABLE {} ").format(sql.Identifier(STAGE)) + sql.SQL(", ").join(extra)
        )

    def _fail(self, cur: psycopg.Cursor, query: sql.Composed, field: str, rule: str) -> None:
        """Run a query returning (record, key, value) rows and report each as ``rule``."""
        cur.execute(query)
        for record, key, value in cur.fetchall():
            self.result.problems.append(Problem(record, key, field, value, rule.format(v=value)))

    def _key_text(self) -> sql.Composable:
        if not self.key:
            return sql.SQL("NULL::text")
        return sql.SQL(" || ', ' || ").join(
            sql.SQL("{} || '=' || coalesce({}::text, '')").format(sql.Literal(k), sql.Identifier(k))
            for k in self.key
        )

    def check(self, cur: psycopg.Cursor) -> None:
        """The set-based checks that need the database (see the module docstring)."""
        stage, key_text = sql.Identifier(STAGE), self._key_text()
        for ref in self.references:
            self._resolve(cur, ref, key_text)
        if self.layer == "settlements":
            self._by_place(cur, key_text)
        if self.layer == "bridges":
            self._nearest_road(cur, key_text)
        for ref in self.references:
            column = self.table.c[ref.column]
            if column.nullable or (self.layer, ref.column) in _BY_PLACE:
                continue
            self._fail(
                cur,
                sql.SQL("SELECT _record, {kt}, NULL FROM {st} WHERE {c} IS NULL").format(
                    kt=key_text, st=sql.Identifier(STAGE), c=sql.Identifier(ref.column)
                ),
                ref.code_columns[0],
                f"is required: the {ref.target} record this one belongs to",
            )
        if self.key:
            self._fail(
                cur,
                # grouped first (one hash aggregate over the file), detailed for duplicates only
                sql.SQL(
                    "SELECT _record, {kt}, '#' || first FROM (SELECT *, min(_record)"
                    " OVER (PARTITION BY {k}) AS first FROM {st} WHERE ({k}) IN"
                    " (SELECT {k} FROM {st} WHERE {present} GROUP BY {k} HAVING count(*) > 1)) s"
                    " WHERE _record > first"
                ).format(
                    kt=key_text,
                    st=stage,
                    k=sql.SQL(", ").join(map(sql.Identifier, self.key)),
                    present=sql.SQL(" AND ").join(
                        sql.SQL("{} IS NOT NULL").format(sql.Identifier(k)) for k in self.key
                    ),
                ),
                self.key[0],
                "the key is given twice in the file (first in record {v})",
            )
            if self.options.mode == "append":
                self._fail(
                    cur,
                    sql.SQL(
                        "SELECT _record, {kt}, NULL FROM {st} s WHERE EXISTS"
                        " (SELECT 1 FROM {t} t WHERE ({tk}) = ({sk}))"
                    ).format(
                        kt=key_text,
                        st=stage,
                        t=sql.Identifier(self.layer),
                        tk=sql.SQL(", ").join(
                            sql.SQL("t.{}").format(sql.Identifier(k)) for k in self.key
                        ),
                        sk=sql.SQL(", ").join(
                            sql.SQL("s.{}").format(sql.Identifier(k)) for k in self.key
                        ),
                    ),
                    self.key[0],
                    "is already in the registry: use --mode upsert to update it",
                )
            else:
                self._fail(
                    cur,
                    sql.SQL("SELECT _record, NULL, NULL FROM {st} WHERE {nulls}").format(
                        st=stage,
                        nulls=sql.SQL(" OR ").join(
                            sql.SQL("{} IS NULL").format(sql.Identifier(k)) for k in self.key
                        ),
                    ),
                    self.key[0],
                    f"--mode {self.options.mode} matches records by "
                    f"{' + '.join(self.key)}: every record needs it",
                )
        self._inside_province(cur, key_text)

    def _resolve(self, cur: psycopg.Cursor, ref: Reference, key_text: sql.Composable) -> None:
        """Fill an id column from the code columns the file gave; report codes not found."""
        given = [c for c in ref.code_columns if c in self.kept]
        if not given or ref.code_columns[0] not in given:
            return
        target_cols = [ref.codes[c] for c in given]
        match = sql.SQL(" AND ").join(
            sql.SQL("t.{} = s.{}").format(sql.Identifier(t), sql.Identifier(c))
            for c, t in zip(given, target_cols, strict=True)
        )
        stage, target = sql.Identifier(STAGE), sql.Identifier(ref.target)
        column, code = sql.Identifier(ref.column), sql.Identifier(given[0])
        cur.execute(
            sql.SQL(
                "UPDATE {st} s SET {col} = (SELECT min(t.id) FROM {t} t WHERE {m}"
                " HAVING count(*) = 1) WHERE s.{code} IS NOT NULL"
            ).format(st=stage, col=column, t=target, m=match, code=code)
        )
        self._fail(
            cur,
            sql.SQL(
                "SELECT _record, {kt}, s.{code} FROM {st} s"
                " WHERE s.{code} IS NOT NULL AND s.{col} IS NULL"
            ).format(kt=key_text, code=code, st=stage, col=column),
            given[0],
            f"no single {ref.target} record has {' + '.join(target_cols)} {{v}}"
            + (f" (give {' and '.join(ref.code_columns)})" if len(ref.code_columns) > 1 else ""),
        )

    def _by_place(self, cur: psycopg.Cursor, key_text: sql.Composable) -> None:
        """A village without an LGO code belongs to the (non-PAO) LGO whose boundary covers it."""
        cur.execute(
            sql.SQL(
                "UPDATE {st} s SET local_body_id = (SELECT lb.id FROM local_bodies lb"
                " WHERE lb.kind <> 'pao' AND ST_Covers(lb.boundary, s.geom)"
                " ORDER BY lb.kind = 'sao', lb.id LIMIT 1) WHERE s.local_body_id IS NULL"
            ).format(st=sql.Identifier(STAGE))
        )
        self._fail(
            cur,
            sql.SQL(
                "SELECT _record, {kt}, ST_AsText(geom) FROM {st} WHERE local_body_id IS NULL"
            ).format(kt=key_text, st=sql.Identifier(STAGE)),
            "local_body_code",
            "is missing, and the village lies in no LGO's boundary",
        )

    def _nearest_road(self, cur: psycopg.Cursor, key_text: sql.Composable) -> None:
        """A bridge without a road code sits on the nearest road within the tolerance."""
        cur.execute(
            sql.SQL(
                "UPDATE {st} s SET road_id = (SELECT r.id FROM roads r"
                " WHERE ST_DWithin(r.geom::geography, s.geom::geography, %s)"
                " ORDER BY r.geom <-> s.geom LIMIT 1) WHERE s.road_id IS NULL"
            ).format(st=sql.Identifier(STAGE)),
            (BRIDGE_TOLERANCE_M,),
        )
        self._fail(
            cur,
            sql.SQL("SELECT _record, {kt}, ST_AsText(geom) FROM {st} WHERE road_id IS NULL").format(
                kt=key_text, st=sql.Identifier(STAGE)
            ),
            "road_code",
            f"is missing, and no road lies within {BRIDGE_TOLERANCE_M:g} m of the bridge",
        )

    def _inside_province(self, cur: psycopg.Cursor, key_text: sql.Composable) -> None:
        """Refuse features far from the province (the PAO's boundary), when the registry has one.

        The province is cut into small indexed pieces: a million features are checked by index
        lookups, and only those touching no piece pay for the geodesic distance."""
        geometry = primary_geometry(self.table) if self.geometries else None
        if geometry is None or self.layer in ("local_bodies", "districts"):
            return
        cur.execute("DROP TABLE IF EXISTS import_province")
        cur.execute(
            "CREATE TEMP TABLE import_province ON COMMIT DROP AS"
            " SELECT geom, geom::geography AS geog FROM (SELECT ST_Subdivide(boundary, 64)"
            " AS geom FROM local_bodies WHERE kind = 'pao') pieces"
        )
        cur.execute("CREATE INDEX ON import_province USING gist (geom)")
        cur.execute("CREATE INDEX ON import_province USING gist (geog)")
        cur.execute("ANALYZE import_province")
        self._fail(
            cur,
            sql.SQL(
                "SELECT _record, {kt}, ST_AsText(ST_PointOnSurface(s.{g})) FROM {st} s"
                " WHERE s.{g} IS NOT NULL AND EXISTS (SELECT 1 FROM import_province)"
                " AND NOT EXISTS (SELECT 1 FROM import_province p"
                "   WHERE ST_Intersects(p.geom, s.{g}))"
                " AND NOT EXISTS (SELECT 1 FROM import_province p"
                "   WHERE ST_DWithin(p.geog, s.{g}::geography, {margin}))"
            ).format(
                kt=key_text,
                g=sql.Identifier(geometry),
                st=sql.Identifier(STAGE),
                margin=sql.Literal(PROVINCE_MARGIN_M),
            ),
            geometry,
            f"lies more than {PROVINCE_MARGIN_M / 1000:g} km outside the province"
            " (a wrong --crs, or latitude and longitude swapped?)",
        )

    def merge(self, cur: psycopg.Cursor) -> None:
        """Insert, upsert or replace from the stage, in one statement (plus the deletes)."""
        stage, target = sql.Identifier(STAGE), sql.Identifier(self.layer)
        bad = sorted({p.record for p in self.result.problems if p.record is not None})
        where = sql.SQL("WHERE NOT (_record = ANY(%s))") if bad else sql.SQL("")
        params: tuple[Any, ...] = (bad,) if bad else ()
        # an id column is written when the file named its target (or it is found by place):
        # an upsert from a file without owner codes must not empty the owners it has
        resolved = {r.column for r in self.references if r.code_columns[0] in self.kept}
        resolved |= {column for layer, column in _BY_PLACE if layer == self.layer}
        written_cols = [c for c in self.fields if c in self.kept or c in resolved]
        cols = sql.SQL(", ").join(map(sql.Identifier, written_cols))
        insert = sql.SQL("INSERT INTO {t} ({c}) SELECT {c} FROM {st} {w}").format(
            t=target, c=cols, st=stage, w=where
        )
        try:
            if self.options.mode == "append" or not self.key:
                cur.execute(insert, params)
                self.result.inserted = cur.rowcount
                return
            keys = sql.SQL(", ").join(map(sql.Identifier, self.key))
            changing = [c for c in written_cols if c not in self.key]
            sets = sql.SQL(", ").join(
                sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in changing
            )
            differs = sql.SQL(" OR ").join(self._differs(c) for c in changing)
            statement = sql.SQL(
                "WITH merged AS (INSERT INTO {t} AS t ({c}) SELECT {c} FROM {st} {w}"
                " ON CONFLICT ({k}) DO UPDATE SET {s} WHERE {d} RETURNING (xmax = 0) AS inserted)"
                " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)"
                " FROM merged"
            ).format(t=target, c=cols, st=stage, w=where, k=keys, s=sets, d=differs)
            cur.execute(statement, params)
            row = cur.fetchone()
            assert row is not None
            self.result.inserted, self.result.updated = int(row[0]), int(row[1])
            staged = self.result.read - len(bad)
            self.result.unchanged = staged - self.result.inserted - self.result.updated
            if self.options.mode == "replace":
                match = sql.SQL(" AND ").join(
                    sql.SQL("s.{k} = t.{k}").format(k=sql.Identifier(k)) for k in self.key
                )
                cur.execute(
                    sql.SQL(
                        "DELETE FROM {t} t WHERE NOT EXISTS (SELECT 1 FROM {st} s WHERE {m})"
                    ).format(t=target, st=stage, m=match)
                )
                self.result.deleted = cur.rowcount
        except psycopg.errors.Error as exc:
            wrapped = DBAPIError(statement=None, params=None, orig=exc)
            translated = db_errors.translate(wrapped, self.layer, "?")
            rule = str(translated) if translated is not None else str(exc).strip().splitlines()[0]
            self.result.problems.append(Problem(None, None, "(database)", None, rule))
            raise _Refused from None

    def _differs(self, column: str) -> sql.Composed:
        """A changed value; geometries compared at 1e-9 degrees (~0.1 mm), the precision text
        formats such as GeoJSON keep, so re-importing an export changes nothing."""
        c = sql.Identifier(column)
        if column in self.geometries:
            return sql.SQL(
                "(t.{c} IS NULL) <> (EXCLUDED.{c} IS NULL) OR NOT ST_Equals("
                "ST_SnapToGrid(t.{c}, 1e-9), ST_SnapToGrid(EXCLUDED.{c}, 1e-9))"
            ).format(c=c)
        return sql.SQL("t.{c} IS DISTINCT FROM EXCLUDED.{c}").format(c=c)

    def record_load(self, cur: psycopg.Cursor, path: str, source: str = "import") -> None:
        """Provenance: one row in data_loads for this import (``source``: import or osm)."""
        cur.execute(
            "INSERT INTO data_loads (source, layer, path, mode, inserted, updated, deleted)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                source,
                self.layer,
                path,
                self.options.mode,
                self.result.inserted,
                self.result.updated,
                self.result.deleted,
            ),
        )


class _Refused(Exception):
    """The database refused the merge; the problem is in the result."""


def _code_text(value: Any) -> Any:
    """A code as text, as the validator reads text (520101 typed as a number stays 520101);
    a blank code is no code."""
    return as_text(value) or None


def _shapefile_names(columns: Any, layer: str) -> dict[str, str]:
    """Shapefiles cut field names to 10 characters (``owner_local_body_code`` ->
    ``owner_loca``): map each cut name back as the export cuts it
    (:func:`gis_registry.io.export.shapefile_fields`), nothing for a layer whose cut names
    would be ambiguous."""
    try:
        cut = {short: full for full, short in shapefile_fields(layer).items() if short != full}
    except GisRegistryError:
        return {}
    return {column: cut[column] for column in columns if column in cut}


def write_report(result: ImportResult, path: str | Path) -> None:
    """Every problem of an import to a ``.json`` (the whole result) or ``.csv`` file."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".json":
            path.write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=2), "utf-8")
        elif path.suffix.lower() == ".csv":
            with path.open("w", encoding="utf-8-sig", newline="") as out:
                writer = csv.DictWriter(out, ["record", "key", "field", "value", "rule"])
                writer.writeheader()
                writer.writerows(p.to_dict() for p in result.problems)
        else:
            raise GisRegistryError(f"--report {path}: give a .json or .csv file")
    except OSError as exc:
        raise GisRegistryError(f"cannot write the report {path}: {exc.strerror}") from None
