"""``import_osm``: roads, bridges and water sources from an OpenStreetMap extract, by OSM id.

The file is read in two streaming passes (:mod:`gis_registry.io.osm.reader`), its tags turned
into fields by the mapping (:mod:`gis_registry.io.osm.mapping`), and each layer loaded by the
file importer's own machinery (:func:`gis_registry.io.load.load_frames`: the rules of every
write, COPY into a stage, the SQL checks, one merge) with ``osm_id`` as the key: a re-run on a
newer extract inserts new features, updates changed ones and leaves the rest untouched (no
history rows). Rows whose OSM id is not in the new extract are counted, never deleted; rows
without an OSM id (made in the registry) are never touched. All layers load in one
transaction: a refused record (named by its OSM id) leaves the registry as it was.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import shapely
from psycopg import sql
from sqlalchemy import Engine

from gis_registry.catalog import LOGICAL_LAYERS
from gis_registry.errors import GisRegistryError
from gis_registry.io.load import (
    STAGE,
    ImportOptions,
    ImportResult,
    Problem,
    import_transaction,
    load_frames,
)
from gis_registry.io.osm.mapping import OsmMapping
from gis_registry.io.osm.reader import Features, junctions, read_features
from gis_registry.io.split import route

LAYERS = ("roads", "bridges", "water_sources")
SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")
KEY = ("osm_id",)
# lanes when the way has no lanes tag: the registry's own default (roads.lanes)
DEFAULT_LANES = 2


@dataclass(frozen=True)
class OsmOptions:
    """How to import an OSM file (the options of ``gis-registry import-osm``).

    Attributes
    ----------
    mapping : the tag mapping; None for the shipped ``data/mappings/osm.yaml``
    layers : which of roads, bridges, water_sources to load (water sources go to
        water_points, water_areas and water_lines by geometry; the result counts each)
    within : a boundary file (any format :func:`gis_registry.io.read.read_file` opens):
        only features intersecting its polygons are kept, whole, not clipped
    within_province : the same with the PAO boundary in the registry
    dry_run : check everything against the database, write nothing
    """

    mapping: OsmMapping | None = None
    layers: tuple[str, ...] = LAYERS
    within: str | Path | None = None
    within_province: bool = False
    dry_run: bool = False


@dataclass
class OsmImportResult:
    """What an OSM import read and wrote (or would write), per layer."""

    path: str
    dry_run: bool = False
    layers: dict[str, ImportResult] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    road_ways: int = 0
    outside: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    written: bool = False

    @property
    def problems(self) -> list[tuple[str, Problem]]:
        """Every problem as (layer, problem); a problem's key is ``osm_id=...``."""
        return [(name, p) for name, r in self.layers.items() for p in r.problems]

    def counts(self, layer: str) -> dict[str, int]:
        """read, inserted, updated, unchanged, refused and missing (not in this extract)."""
        r = self.layers[layer]
        return {
            "read": r.read,
            "inserted": r.inserted,
            "updated": r.updated,
            "unchanged": r.unchanged,
            "refused": r.refused,
            "missing": self.missing.get(layer, 0),
        }

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready values (what ``import-osm --json`` prints)."""
        return {
            "path": self.path,
            "dry_run": self.dry_run,
            "written": self.written,
            "seconds": round(self.seconds, 3),
            "road_ways": self.road_ways,
            "outside": self.outside,
            "layers": {name: self.counts(name) for name in self.layers},
            "notes": self.notes,
            "problems": [
                {"layer": name, "osm_id": _osm_id(p.key), **p.to_dict()}
                for name, p in self.problems
            ],
        }

    def lines(self, examples: int = 5) -> list[str]:
        """The result for a terminal: notes, problems by rule with OSM ids, then the counts."""
        out = [f"note: {n}" for n in self.notes]
        groups: dict[tuple[str, str, str], list[Problem]] = defaultdict(list)
        for name, p in self.problems:
            groups[(name, p.field, re.sub(r"'[^']*'", "'…'", p.rule))].append(p)
        for (name, fld, _), found in groups.items():
            ids = [_osm_id(p.key) or f"#{p.record}" for p in found[:examples]]
            more = f" and {len(found) - examples} more" if len(found) > examples else ""
            out.append(
                f"problem: {name} field '{fld}': {found[0].rule} ({len(found):,}: "
                f"{', '.join(str(i) for i in ids)}{more})"
            )
        for name in self.layers:
            c = self.counts(name)
            out.append(
                f"{name}: {c['read']:,} read, {c['inserted']:,} inserted, {c['updated']:,} updated,"
                f" {c['unchanged']:,} unchanged, {c['refused']:,} refused; {c['missing']:,} from"
                " OSM not in this extract (kept)"
            )
        if self.problems:
            out.append("refused: nothing was written" if not self.dry_run else "would be refused")
        elif self.dry_run:
            out.append("dry run: nothing written")
        else:
            out.append(f"written in {self.seconds:.1f} s")
        return out


def _osm_id(key: str | None) -> str | None:
    return key.removeprefix("osm_id=") if key else None


def import_osm(
    engine: Engine,
    path: str | Path,
    options: OsmOptions | None = None,
    *,
    progress: Any = None,
) -> OsmImportResult:
    """Import roads, bridges and water sources from an OSM file, upserting by OSM id.

    Parameters
    ----------
    engine
        Engine on a migrated registry (migration 0006: ``osm_id`` columns).
    path
        An ``.osm.pbf``, ``.osm``, ``.osm.bz2`` (or ``.osm.gz``) file.
    options
        Mapping, layers, ``within`` / ``within_province``, dry run (:class:`OsmOptions`).
    progress
        A ``rich.progress.Progress`` to show the passes and the loads, or None.

    Returns
    -------
    OsmImportResult
        Per layer: read, inserted, updated, unchanged, refused, missing (OSM rows of the
        registry not in this extract); notes on tag values not read; every problem with its
        OSM id. ``written`` is False when anything was refused (then nothing was written) or
        for a dry run.

    Raises
    ------
    GisRegistryError
        A missing or unreadable file, an unknown layer, a bad mapping or boundary file,
        ``within_province`` without a PAO in the registry.

    Notes
    -----
    OSM ids: roads ``w<way>:<piece>`` (the way split at every node it shares with another
    road way, or with itself; pieces numbered from 1 in the way's drawing direction),
    bridges ``w<way>``, water sources ``n<node>``, ``w<way>`` or ``r<relation>``.
    A ``oneway=-1`` road is stored reversed and oneway.
    """
    options = options or OsmOptions()
    started = time.perf_counter()
    path = Path(path)
    _check_file(path)
    unknown = [layer for layer in options.layers if layer not in LAYERS]
    if unknown or not options.layers:
        raise GisRegistryError(
            f"layers {', '.join(unknown) or '(none)'}: choose among {', '.join(LAYERS)}"
        )
    mapping = options.mapping or OsmMapping.load()
    within = _within_file(options.within) if options.within is not None else None
    result = OsmImportResult(path=str(path), dry_run=options.dry_run)
    load = ImportOptions(mode="upsert", key=KEY, dry_run=options.dry_run)
    display = progress if progress is not None else nullcontext()
    # committed only when every layer is written
    with display, import_transaction(engine, "import-osm into the registry") as (cur, transaction):
        if options.within_province:
            within = _province(cur)
        prepared = within
        if prepared is not None:
            shapely.prepare(prepared)
        shared, ways = _read(lambda: junctions(path, mapping, progress))
        features = Features()
        roads = read_features(
            path,
            mapping,
            shared,
            ways_total=ways,
            within=prepared,
            progress=progress,
            features=features,
        )
        del shared
        if "roads" in options.layers:
            frames = (_lanes(frame) for frame in roads)
            _load(cur, result, "roads", _reading(frames), load, progress)
        else:
            _read(lambda: [None for _ in roads])
        if "bridges" in options.layers:
            _bridges(cur, result, features.bridges, load, progress)
        if "water_sources" in options.layers:
            # each water source to the table of its geometry (0008), record numbers kept
            frame = _frame(features.water_sources)
            tables = route("water_sources", frame["geom"]) if len(frame) else None
            for table in LOGICAL_LAYERS["water_sources"]:
                part = frame[tables == table] if tables is not None else frame
                _load(cur, result, table, [part], load, progress)
        result.road_ways, result.outside = features.road_ways, features.outside
        result.notes += _notes(features, within is not None)
        refused = bool(result.problems)
        result.written = not refused and not options.dry_run
        if result.written:
            transaction.commit()
        else:
            transaction.rollback()
    result.seconds = time.perf_counter() - started
    return result


def _check_file(path: Path) -> None:
    if not path.name.lower().endswith(SUFFIXES):
        raise GisRegistryError(f"{path}: not an OSM file (expected one of {', '.join(SUFFIXES)})")
    if not path.is_file():
        raise GisRegistryError(f"OSM file not found: {path}")


def _unreadable(exc: RuntimeError) -> GisRegistryError:
    """osmium's error for a corrupt or truncated file (a RuntimeError subclass) as ours."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return GisRegistryError(f"cannot read the OSM file: {first}")


def _read(work: Any) -> Any:
    """Run a pass over the file, osmium's errors as ours."""
    try:
        return work()
    except RuntimeError as exc:
        raise _unreadable(exc) from None


def _reading(frames: Any) -> Any:
    """The road frames, osmium's errors while streaming them as ours."""
    iterator = iter(frames)
    while True:
        try:
            frame = next(iterator)
        except StopIteration:
            return
        except RuntimeError as exc:
            raise _unreadable(exc) from None
        yield frame


def _lanes(frame: pd.DataFrame) -> pd.DataFrame:
    frame["lanes"] = frame["lanes"].astype(object).where(frame["lanes"].notna(), DEFAULT_LANES)
    return frame


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=pd.RangeIndex(len(rows)))


def _load(
    cur: psycopg.Cursor,
    result: OsmImportResult,
    layer: str,
    frames: Any,
    options: ImportOptions,
    progress: Any,
) -> None:
    """One layer through the file importer's machinery, then the count of OSM rows of the
    layer that this extract no longer holds."""
    loaded = load_frames(
        cur, layer, frames, options, path=result.path, source="osm", progress=progress
    )
    result.layers[layer] = loaded
    cur.execute(
        sql.SQL(
            "SELECT count(*) FROM {} t WHERE t.osm_id IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM {} s WHERE s.osm_id = t.osm_id)"
        ).format(sql.Identifier(layer), sql.Identifier(STAGE))
    )
    row = cur.fetchone()
    result.missing[layer] = int(row[0]) if row else 0


def _bridges(
    cur: psycopg.Cursor,
    result: OsmImportResult,
    bridges: list[dict[str, Any]],
    options: ImportOptions,
    progress: Any,
) -> None:
    """Bridges on the road pieces they were read on (just merged, or already there)."""
    wanted = sorted({b["road_osm_id"] for b in bridges})
    cur.execute("SELECT osm_id, id FROM roads WHERE osm_id = ANY(%s)", (wanted,))
    road_ids: dict[str, int] = dict(cur.fetchall())
    lost = [(i, b) for i, b in enumerate(bridges) if b["road_osm_id"] not in road_ids]
    if lost:
        refused = ImportResult(layer="bridges", path=result.path, mode="upsert", read=len(bridges))
        refused.problems = [
            Problem(
                i + 1,
                f"osm_id={b['osm_id']}",
                "road_id",
                b["road_osm_id"],
                "the road piece under the bridge is not in the registry: import the roads layer"
                " too",
            )
            for i, b in lost
        ]
        result.layers["bridges"] = refused
        return
    frame = _frame([{**b, "road_id": road_ids[b["road_osm_id"]]} for b in bridges])
    if len(frame):
        frame = frame.drop(columns=["road_osm_id"])
    _load(cur, result, "bridges", [frame], options, progress)


def _within_file(path: str | Path) -> Any:
    """The union of a boundary file's polygons (EPSG:4326)."""
    from gis_registry.io.read import read_file

    frame = read_file(path)
    polygons = frame.geometry[frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polygons.empty:
        raise GisRegistryError(f"--within {path}: the file holds no polygons")
    return shapely.union_all(polygons.to_numpy())


def _province(cur: psycopg.Cursor) -> Any:
    """The PAO boundary of the registry (the province)."""
    cur.execute("SELECT ST_AsBinary(ST_Union(boundary)) FROM local_bodies WHERE kind = 'pao'")
    row = cur.fetchone()
    if row is None or row[0] is None:
        raise GisRegistryError(
            "--within-province: the registry has no province boundary (no PAO record); import"
            " it first (data/mappings/cod-ab-province.yaml) or give --within BOUNDARY_FILE"
        )
    return shapely.from_wkb(bytes(row[0]))


def _notes(features: Features, within: bool) -> list[str]:
    notes = features.notes.lines()
    if features.skipped_highway:
        values = ", ".join(f"{k} ({v:,})" for k, v in sorted(features.skipped_highway.items()))
        notes.append(f"highway values in neither list of the mapping, skipped: {values}")
    if within:
        notes.append(f"{features.outside:,} feature(s) outside the area skipped")
    return notes
