"""Reads from the registry that the network is built from (bulk, array-at-a-time SQL)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, text

from gis_registry import domain
from gis_registry.geodesy import metric_srid as registry_metric_srid
from gis_registry.network.topology import RoadArrays, ranges, to_metric

# Layers whose changes make a built network stale; districts carry no version stamp, so their
# row count and last update stand in for one. local_bodies is also where the network's metric
# CRS comes from (the PAO boundary's UTM zone), so a network is never reused in a stale CRS.
STAMPED_LAYERS = ("bridges", "local_bodies", "roads", "settlements")

_STAMP = text(
    """
    SELECT coalesce((SELECT json_agg(json_build_array(layer, version, changed_at)
                                     ORDER BY layer)::text
                     FROM layer_versions WHERE layer = ANY(:layers)), '[]'),
           (SELECT count(*) FROM districts),
           (SELECT max(updated_at)::text FROM districts),
           current_database()
    """
)

# One row of arrays plus one collected geometry: far faster than a million row tuples.
_ROADS = text(
    """
    SELECT coalesce(array_agg(id ORDER BY id), '{}') AS ids,
           coalesce(array_agg(array_position(CAST(:classes AS text[]), road_class) - 1
                              ORDER BY id), '{}') AS class_idx,
           coalesce(array_agg(array_position(CAST(:surfaces AS text[]), surface) - 1
                              ORDER BY id), '{}') AS surface_idx,
           coalesce(array_agg(oneway ORDER BY id), '{}') AS oneway,
           coalesce(array_agg(layer ORDER BY id), '{}') AS layer,
           ST_AsBinary(ST_Collect(geom ORDER BY id)) AS geoms
    FROM roads
    """
)

_BRIDGES = text("SELECT id, road_id, load_limit_t, ST_X(geom), ST_Y(geom) FROM bridges ORDER BY id")


def network_stamp(conn: Connection) -> tuple:
    """What the network depends on, as a hashable value: equal stamps, equal networks.

    ``layer_versions`` is bumped by a statement trigger on every change; ``changed_at`` (the
    transaction's start) tells apart two transactions that reached the same version number,
    e.g. after a rollback.
    """
    versions, n_districts, districts_at, database = conn.execute(
        _STAMP, {"layers": list(STAMPED_LAYERS)}
    ).one()
    return (database, versions, n_districts, districts_at)


# Roads packed server-side into two binary values per chunk of ids: fixed 16-byte records
# (id, vertex count, class, surface, oneway, layer) and the concatenated coordinates (the WKB
# minus its 9-byte head), aggregated in the same scan order. A few big values instead of a
# million rows: a driver's per-row cost would dominate. The typmod of roads.geom makes every
# line 2D.
_ROADS_PACKED = text(
    """
    SELECT string_agg(
               int4send(id) || int4send(ST_NPoints(geom))
               || int2send((array_position(CAST(:classes AS text[]), road_class) - 1)::int2)
               || int2send((array_position(CAST(:surfaces AS text[]), surface) - 1)::int2)
               || int2send(oneway::int::int2) || int2send(layer), ''::bytea),
           string_agg(substring(ST_AsBinary(geom, 'NDR') FROM 10), ''::bytea)
    FROM roads GROUP BY id / 1000000
    """
)
_RECORD = np.dtype(
    [
        ("id", ">i4"),
        ("n", ">i4"),
        ("cls", ">i2"),
        ("surface", ">i2"),
        ("oneway", ">i2"),
        ("layer", ">i2"),
    ]
)


def read_roads(conn: Connection, *, metric_srid: int | None = None) -> RoadArrays:
    """Every road as arrays, sorted by id (see :class:`.RoadArrays`).

    Parameters
    ----------
    conn : an open connection
    metric_srid : the CRS of the arrays' ``xy``; default the registry's
        (:func:`gis_registry.geodesy.metric_srid`, one small query)

    Returns
    -------
    RoadArrays
        Every road, vertices in lon/lat and in metres; ``metric_srid`` says in which CRS.
    """
    srid = registry_metric_srid(conn) if metric_srid is None else int(metric_srid)
    params = {"classes": list(domain.ROAD_CLASSES), "surfaces": list(domain.SURFACES)}
    records, coords = [], []
    for head, xy in conn.execute(_ROADS_PACKED, params):
        rec = np.frombuffer(bytes(head), dtype=_RECORD)
        pts = np.frombuffer(bytes(xy), dtype="<f8").reshape(-1, 2)
        if rec["n"].astype(np.int64).sum() != len(pts):
            raise RuntimeError("roads read inconsistently: vertex counts do not add up")
        records.append(rec)
        coords.append(pts)
    if not records:
        empty = np.zeros((0, 2))
        return RoadArrays(
            ids=np.zeros(0, np.int64),
            class_idx=np.zeros(0, np.int8),
            surface_idx=np.zeros(0, np.int8),
            oneway=np.zeros(0, bool),
            layer=np.zeros(0, np.int64),
            offsets=np.zeros(1, np.int64),
            lonlat=empty,
            xy=empty,
            metric_srid=srid,
        )
    rec, lonlat = np.concatenate(records), np.concatenate(coords)
    npts = rec["n"].astype(np.int64)
    order = np.argsort(rec["id"], kind="stable")
    first_vertex = np.cumsum(npts) - npts
    counts = npts[order]
    lonlat = lonlat[ranges(first_vertex[order], first_vertex[order] + counts)]
    return RoadArrays(
        ids=rec["id"][order].astype(np.int64),
        class_idx=rec["cls"][order].astype(np.int8),
        surface_idx=rec["surface"][order].astype(np.int8),
        oneway=rec["oneway"][order].astype(bool),
        layer=rec["layer"][order].astype(np.int64),
        offsets=np.r_[0, np.cumsum(counts)],
        lonlat=lonlat,
        xy=to_metric(lonlat, srid),
        metric_srid=srid,
    )


@dataclass(frozen=True)
class BridgeArrays:
    """Bridges: id, road id, load limit in tonnes (NaN when not posted), position in lon/lat
    (projected with the roads' metric CRS where metres are needed)."""

    ids: np.ndarray
    road_id: np.ndarray
    load_limit_t: np.ndarray
    lonlat: np.ndarray


def read_bridges(conn: Connection) -> BridgeArrays:
    """Read every bridge, ordered by id, with its position in lon/lat."""
    rows = conn.execute(_BRIDGES).all()
    lonlat = np.array([(r[3], r[4]) for r in rows], dtype=np.float64).reshape(-1, 2)
    return BridgeArrays(
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        road_id=np.array([r[1] for r in rows], dtype=np.int64),
        load_limit_t=np.array(
            [np.nan if r[2] is None else float(r[2]) for r in rows], dtype=np.float64
        ),
        lonlat=lonlat,
    )
