"""Reading an OSM file with pyosmium in two streaming passes, in bounded memory.

1. **Junctions**: every way the mapping takes as a road adds its node ids to a flat int64
   array; a node counted twice or more (shared by two roads, or repeated in one) is a
   junction. Only that array, then the set of junction ids, is kept.
2. **Features**: the file again, with pyosmium's node location index (way geometries) and
   area assembly (closed ways and multipolygon relations): road ways are split at their
   junctions into pieces (``w<id>:<n>``, numbered along the way), bridge ways give a bridge
   at their geodesic midpoint on the piece under it, water features give points, polygons or
   lines. Road rows leave in chunks of :data:`CHUNK_ROWS` as they are read; bridges and water
   sources, far fewer, are kept until the roads are merged (a bridge needs its road's id).

Only what the mapping uses is looked at: pyosmium's C++ key filter drops every other object
before Python sees it.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import pandas as pd
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point

from gis_registry.io.osm.mapping import Notes, OsmMapping, names

CHUNK_ROWS = 20_000
ROAD_FIELDS = (
    "osm_id",
    "name_th",
    "name_en",
    "road_class",
    "code",
    "owner_agency",
    "surface",
    "width_m",
    "lanes",
    "oneway",
    "layer",
    "geom",
)
GEOD = Geod(ellps="WGS84")  # the ellipsoid of PostGIS geography: the same metres


@dataclass
class Features:
    """What the second pass keeps besides the road chunks it yields."""

    bridges: list[dict[str, Any]] = field(default_factory=list)
    water_sources: list[dict[str, Any]] = field(default_factory=list)
    road_ways: int = 0
    skipped_highway: dict[str, int] = field(default_factory=dict)
    outside: int = 0
    notes: Notes = field(default_factory=Notes)


def junctions(path: Path, mapping: OsmMapping, progress: Any = None) -> tuple[set[int], int]:
    """First pass: the ids of nodes where road ways meet (or a way meets itself).

    Returns
    -------
    set of int, int
        The junction node ids, and the number of ways read (the second pass's progress total).
    """
    refs = array("q")
    ways = 0
    way: Any  # pyosmium's objects: a union the filters narrow at run time
    task = progress.add_task("junctions", total=None) if progress is not None else None
    for way in osmium.FileProcessor(str(path), osmium.osm.WAY):
        ways += 1
        highway = way.tags.get("highway")
        if highway is not None and highway in mapping.highway:
            refs.extend(n.ref for n in way.nodes)
        if task is not None and ways % 10_000 == 0:
            progress.update(task, completed=ways)
    if task is not None:
        progress.update(task, total=ways, completed=ways)
    ids, counts = np.unique(np.frombuffer(refs, dtype=np.int64), return_counts=True)
    return set(ids[counts > 1].tolist()), ways


def read_features(
    path: Path,
    mapping: OsmMapping,
    shared: set[int],
    *,
    ways_total: int | None = None,
    within: Any = None,
    progress: Any = None,
    features: Features,
) -> Iterator[pd.DataFrame]:
    """Second pass: road pieces in chunks (frames of :data:`ROAD_FIELDS`); bridges and water
    sources into ``features``.

    ``within`` is a prepared shapely geometry: only features intersecting it are kept, whole
    (a road way crossing the border keeps all its pieces, so its junctions stay).
    """
    keys = ("highway", *mapping.water_keys)
    processor = (
        osmium.FileProcessor(str(path)).with_areas().with_filter(osmium.filter.KeyFilter(*keys))
    )
    wkb = osmium.geom.WKBFactory()
    rows: list[dict[str, Any]] = []
    index = 0
    task = progress.add_task("reading", total=ways_total) if progress is not None else None
    ways = 0
    obj: Any  # pyosmium's objects: a union the filters narrow at run time
    for obj in processor:
        if obj.is_way():
            ways += 1
            if task is not None and ways % 5_000 == 0:
                progress.update(task, completed=ways)
            highway = obj.tags.get("highway")
            if highway is not None:
                if highway in mapping.highway:
                    pieces = _road_way(obj, mapping, shared, within, features)
                    for piece in pieces:
                        rows.append(piece)
                    if len(rows) >= CHUNK_ROWS:
                        yield _frame(rows, index)
                        index += len(rows)
                        rows = []
                elif highway not in mapping.excluded:
                    features.skipped_highway[highway] = features.skipped_highway.get(highway, 0) + 1
                continue
            if not obj.is_closed():
                _water_line(obj, mapping, within, features)
        elif obj.is_node():
            kind = mapping.water_kind(obj.tags)
            if kind is not None:
                _water(
                    obj.tags, f"n{obj.id}", Point(obj.lon, obj.lat), kind, mapping, within, features
                )
        elif obj.is_area():
            kind = mapping.water_kind(obj.tags)
            if kind is not None:
                osm_id = f"{'w' if obj.from_way() else 'r'}{obj.orig_id()}"
                geom = shapely.from_wkb(wkb.create_multipolygon(obj))  # hex WKB
                if len(geom.geoms) == 1:
                    geom = geom.geoms[0]
                _water(obj.tags, osm_id, geom, kind, mapping, within, features)
    if rows:
        yield _frame(rows, index)
    if task is not None:
        progress.update(task, total=max(ways, 1), completed=max(ways, 1))


def _frame(rows: list[dict[str, Any]], start: int) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(ROAD_FIELDS))
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def _coordinates(
    way: Any, osm_id: str, features: Features
) -> tuple[list[int], list[tuple[float, float]]]:
    """Node ids and (lon, lat) of a way; nodes missing from the extract are left out."""
    refs, coords = [], []
    for node in way.nodes:
        if node.location.valid():
            refs.append(node.ref)
            coords.append((node.lon, node.lat))
    if len(refs) < len(way.nodes):
        features.notes.add("ways with nodes missing from the extract (cut short)", osm_id)
    return refs, coords


def _road_way(
    way: Any, mapping: OsmMapping, shared: set[int], within: Any, features: Features
) -> list[dict[str, Any]]:
    """The pieces of one road way (split at junctions), and its bridge if it is one."""
    osm_id = f"w{way.id}"
    refs, coords = _coordinates(way, osm_id, features)
    if len(coords) < 2:
        features.notes.add("road ways with fewer than 2 nodes skipped", osm_id)
        return []
    if within is not None and not within.intersects(LineString(coords)):
        features.outside += 1
        return []
    features.road_ways += 1
    fields = mapping.road_fields(way.tags, osm_id, features.notes)
    reverse = fields.pop("_reverse")
    cuts = [0] + [i for i in range(1, len(refs) - 1) if refs[i] in shared] + [len(refs) - 1]
    pieces: list[dict[str, Any]] = []
    spans: list[tuple[int, int, int]] = []
    for start, end in zip(cuts[:-1], cuts[1:], strict=True):
        part = _distinct(coords[start : end + 1])
        if len(part) < 2:
            features.notes.add("zero-length road pieces skipped", osm_id)
            continue
        number = len(pieces) + 1
        line = LineString(part[::-1] if reverse else part)
        pieces.append({**fields, "osm_id": f"{osm_id}:{number}", "geom": line})
        spans.append((start, end, number))
    if pieces and way.tags.get("bridge", "no") != "no":
        _bridge(way, osm_id, coords, spans, mapping, features)
    return pieces


def _distinct(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Coordinates without consecutive repeats (a node drawn twice in a row)."""
    out = [coords[0]]
    for xy in coords[1:]:
        if xy != out[-1]:
            out.append(xy)
    return out


def _bridge(
    way: Any,
    osm_id: str,
    coords: list[tuple[float, float]],
    spans: list[tuple[int, int, int]],
    mapping: OsmMapping,
    features: Features,
) -> None:
    """A bridge at the way's geodesic midpoint, on the road piece that holds the midpoint."""
    lons, lats = zip(*coords, strict=True)
    _, _, steps = GEOD.inv(lons[:-1], lats[:-1], lons[1:], lats[1:])
    lengths = np.cumsum(np.concatenate([[0.0], np.atleast_1d(steps)]))
    total = float(lengths[-1])
    if total <= 0:
        features.notes.add("bridges of zero length skipped", osm_id)
        return
    half = total / 2
    i = min(int(np.searchsorted(lengths, half, side="right")) - 1, len(coords) - 2)
    step = lengths[i + 1] - lengths[i]
    fraction = (half - lengths[i]) / step if step > 0 else 0.0
    (x0, y0), (x1, y1) = coords[i], coords[i + 1]
    point = Point(x0 + (x1 - x0) * fraction, y0 + (y1 - y0) * fraction)
    piece = next((n for start, end, n in spans if start <= i < end), spans[-1][2])
    features.bridges.append(
        {
            "osm_id": osm_id,
            "road_osm_id": f"{osm_id}:{piece}",
            **mapping.bridge_fields(way.tags, osm_id, features.notes),
            "length_m": total,
            "geom": point,
        }
    )


def _water_line(way: Any, mapping: OsmMapping, within: Any, features: Features) -> None:
    """An open way of a line kind (a weir across a stream, a canal)."""
    kind = mapping.water_kind(way.tags)
    if kind is None:
        return
    osm_id = f"w{way.id}"
    if kind not in mapping.line_kinds:
        features.notes.add(f"open ways of kind {kind} skipped (not a line kind)", osm_id)
        return
    _, coords = _coordinates(way, osm_id, features)
    coords = _distinct(coords) if coords else coords
    if len(coords) < 2:
        return
    _water(way.tags, osm_id, LineString(coords), kind, mapping, within, features)


def _water(
    tags: Any,
    osm_id: str,
    geom: Any,
    kind: str,
    mapping: OsmMapping,
    within: Any,
    features: Features,
) -> None:
    if within is not None and not within.intersects(geom):
        features.outside += 1
        return
    name_th, name_en = names(tags, mapping.water_unnamed)
    features.water_sources.append(
        {"osm_id": osm_id, "name_th": name_th, "name_en": name_en, "kind": kind, "geom": geom}
    )
