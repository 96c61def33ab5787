"""Repairing what :func:`~gis_registry.network.check.check_network` finds: ``network check --fix``.

Two repairs, both within the tolerance of the check and never across layers:

* a **crossing** without a junction gets the crossing point as a new vertex of both roads;
* a **near miss** has its dangling road end moved onto the other road (onto that road's end
  for an end-to-end gap), and the point is added to the other road as a vertex.

Where the point is already within the network's noding tolerance of a vertex, that vertex's own
coordinates are used, so both roads hold the very same coordinates and the network joins them.
Every repair is an UPDATE of ``roads.geom`` (one statement, inside a savepoint: all or
nothing), so the history triggers record each changed road, before and after. Dangles,
duplicates, zero-length segments and islands are left to a person: removing or joining them
needs knowledge of the ground the data lacks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from gis_registry.db.errors import translate
from gis_registry.errors import GisRegistryError
from gis_registry.network.check import (
    DEFAULT_TOLERANCE_M,
    NetworkCheck,
    Plan,
    check_and_plan,
    check_network,
    check_tolerance,
)
from gis_registry.network.model import Network, load_network
from gis_registry.network.topology import to_lonlat


class NetworkFixRefused(GisRegistryError):
    """The database refused the fix's updates; nothing was changed."""


@dataclass
class NetworkFix:
    """What :func:`fix_network` changed.

    ``counts`` says how many crossings were noded and near misses snapped; ``changes`` lists
    each change to a road (``vertex_added`` or ``end_moved``, where, by how many metres);
    ``left`` the near misses not snapped, with the reason (a snap that would fold a road onto
    a road already joining the same two junctions); ``before`` and ``after`` are the check's
    counts before and after the fix.
    """

    tolerance_m: float
    counts: dict[str, int]
    changes: list[dict[str, Any]]
    roads_updated: list[int]
    before: dict[str, int]
    left: list[dict[str, Any]] = field(default_factory=list)
    after: dict[str, int] = field(default_factory=dict)
    # the check after the fix (what the CLI prints next); not part of to_dict()
    after_check: NetworkCheck | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict (``network check --fix --json``)."""
        return {
            "tolerance_m": self.tolerance_m,
            "counts": self.counts,
            "roads_updated": self.roads_updated,
            "changes": self.changes,
            "left": self.left,
            "before": self.before,
            "after": self.after,
        }


_UPDATE = text(
    """
    UPDATE roads r SET geom = ST_SetSRID(ST_GeomFromWKB(u.wkb), 4326)
    FROM unnest(CAST(:ids AS int[]), CAST(:wkbs AS bytea[])) AS u(id, wkb)
    WHERE r.id = u.id
    """
)


def fix_network(
    conn: Connection,
    *,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    network: Network | None = None,
) -> NetworkFix:
    """Node same-layer crossings and snap near misses within ``tolerance_m``, in one savepoint.

    Parameters
    ----------
    conn : an open connection; the caller commits (the CLI's ``--fix`` does)
    tolerance_m : the near-miss tolerance in metres, as for :func:`check_network`
    network : the network already loaded (default :func:`load_network`)

    Returns
    -------
    NetworkFix
        The changes, and the check's counts before and after.

    Raises
    ------
    InvalidParameter
        For a tolerance out of range.
    NetworkFixRefused
        When the database refuses an update; nothing is changed.
    """
    tol = check_tolerance(tolerance_m)
    net = network if network is not None else load_network(conn)
    before, plan = check_and_plan(conn, net, tol)
    edits, changes, left = _edits(net, plan)
    codes = {
        i: c for f in before.findings for i, c in zip(f["road_ids"], f["road_codes"], strict=True)
    }
    for change in changes + left:
        change["road_code"] = codes.get(change["road_id"])
    ids = sorted(edits)
    if ids:
        wkbs = [shapely.to_wkb(shapely.linestrings(edits[i])) for i in ids]
        try:
            with conn.begin_nested():
                conn.execute(_UPDATE, {"ids": ids, "wkbs": wkbs})
        except DBAPIError as exc:
            refused = translate(exc, "roads", None)
            reason = str(refused) if refused else str(exc.orig).strip().splitlines()[0]
            raise NetworkFixRefused(
                f"roads: the network fix was refused by the database ({reason}); "
                "nothing was changed"
            ) from None
    fixed = NetworkFix(
        tolerance_m=tol,
        counts={"crossing": len(plan.crossings), "near_miss": len(plan.snaps) - len(left)},
        changes=changes,
        roads_updated=ids,
        before=before.counts,
        left=left,
    )
    after: NetworkCheck = check_network(conn, tolerance_m=tol) if ids else before
    fixed.after = after.counts
    fixed.after_check = after
    return fixed


class _Edit:
    """The new vertices of one road: moved ends and inserted points (lon/lat)."""

    def __init__(self, lonlat: np.ndarray):
        self.lonlat = lonlat
        self.ends: dict[int, np.ndarray] = {}
        self.inserts: list[tuple[int, float, tuple[float, float]]] = []

    def coords(self) -> np.ndarray:
        out = self.lonlat.copy()
        for which, moved in self.ends.items():
            out[0 if which == 0 else -1] = moved
        seen: set[tuple[float, float]] = set()
        rows = []
        for seg, _t, coord in sorted(self.inserts):
            if coord not in seen:
                seen.add(coord)
                rows.append((seg + 1, coord))
        if rows:
            out = np.insert(out, [r for r, _ in rows], np.array([c for _, c in rows]), axis=0)
        return out


def _edits(
    net: Network, plan: Plan
) -> tuple[dict[int, np.ndarray], list[dict[str, Any]], list[dict[str, Any]]]:
    """The new coordinates of every road the plan changes (by road id), the change list, and
    the near misses left alone."""
    roads = net.roads
    joined = _Joined(net)
    left: list[dict[str, Any]] = []
    snap = float(net.topo.tolerance_m)
    edits: dict[int, _Edit] = {}
    changes: list[dict[str, Any]] = []

    def edit(row: int) -> _Edit:
        if row not in edits:
            edits[row] = _Edit(roads.lonlat[roads.offsets[row] : roads.offsets[row + 1]])
        return edits[row]

    def place(row: int, xy: np.ndarray) -> tuple[int, float, np.ndarray | None]:
        """Where ``xy`` lies on road ``row``: (segment, fraction, vertex lon/lat if one is
        within the noding tolerance, else None)."""
        v = roads.xy[roads.offsets[row] : roads.offsets[row + 1]]
        near = np.hypot(*(v - xy).T)
        if near.min() <= snap:
            k = int(np.argmin(near))
            return k, 0.0, roads.lonlat[roads.offsets[row] + k]
        a, d = v[:-1], v[1:] - v[:-1]
        t = np.clip(np.einsum("ij,ij->i", xy - a, d) / np.maximum((d * d).sum(1), 1e-18), 0, 1)
        s = int(np.argmin(np.hypot(*(a + t[:, None] * d - xy).T)))
        return s, float(t[s]), None

    def note(row: int, action: str, kind: str, other: int, coord, moved: float | None) -> None:
        changes.append(
            {
                "road_id": int(roads.ids[row]),
                "road_code": None,
                "action": action,
                "kind": kind,
                "with_road_id": int(roads.ids[other]),
                "lon": round(float(coord[0]), 8),
                "lat": round(float(coord[1]), 8),
                "moved_m": None if moved is None else round(moved, 3),
            }
        )

    for a, b, x, y in plan.crossings:
        xy = np.array([x, y])
        pa, pb = place(a, xy), place(b, xy)
        coord = (
            pa[2]
            if pa[2] is not None
            else pb[2]
            if pb[2] is not None
            else to_lonlat(xy, net.metric_srid)[0]
        )
        for row, p, other in ((a, pa, b), (b, pb, a)):
            if p[2] is None:
                edit(row).inserts.append((p[0], p[1], (float(coord[0]), float(coord[1]))))
                note(row, "vertex_added", "crossing", other, coord, None)
    targets: dict[int, list[int]] = defaultdict(list)
    for road, which, target, x, y, vertex in plan.snaps:
        xy = np.array([x, y])
        end_row = roads.offsets[road] if which == 0 else roads.offsets[road + 1] - 1
        end_xy, end_ll = roads.xy[end_row], roads.lonlat[end_row]
        onto: int | None = None  # the vertex row the end goes onto, if it goes onto one
        if target < 0:  # onto another road's end: its exact coordinates
            coord = roads.lonlat[vertex]
            other = int(np.searchsorted(roads.offsets, vertex, side="right") - 1)
            onto = int(vertex)
        else:
            other = target
            p = place(target, xy)
            if p[2] is not None:
                coord = p[2]
                onto = int(roads.offsets[target]) + p[0]
            else:
                # an end within the noding tolerance of the line stays where it is and the
                # line gets its coordinates: no road moves by millimetres (UTM's curvature puts
                # a lon/lat T-junction a few mm off the projected line)
                on_line = np.hypot(*(end_xy - xy)) <= snap
                coord = end_ll if on_line else to_lonlat(xy, net.metric_srid)[0]
                edit(target).inserts.append((p[0], p[1], (float(coord[0]), float(coord[1]))))
                note(target, "vertex_added", "near_miss", road, coord, None)
        twin = joined.twin(road, which, onto)
        if twin is not None:
            left.append(
                {
                    "road_id": int(roads.ids[road]),
                    "road_code": None,
                    "with_road_id": int(roads.ids[other]),
                    "lon": round(float(end_ll[0]), 8),
                    "lat": round(float(end_ll[1]), 8),
                    "reason": f"snapping its end would make it a duplicate road {twin}: that "
                    "road already joins the two junctions it would join",
                }
            )
            continue
        targets[road].append(other)
        if not np.array_equal(coord, end_ll):
            edit(road).ends[which] = np.asarray(coord, dtype=np.float64)
            note(road, "end_moved", "near_miss", other, coord, float(np.hypot(*(end_xy - xy))))
    return {int(roads.ids[r]): e.coords() for r, e in edits.items()}, changes, left


class _Joined:
    """Which junctions an edge already joins, to keep a snap from duplicating a road."""

    def __init__(self, net: Network):
        t = net.topo
        self.net = net
        lo, hi = np.minimum(t.source, t.target), np.maximum(t.source, t.target)
        self.key = lo.astype(np.int64) * t.n_nodes + hi
        self.order = np.argsort(self.key, kind="stable")
        self.sorted = self.key[self.order]

    def _node_at(self, vertex: int) -> int | None:
        """The node at vertex row ``vertex`` (a road's end or a junction), if it is one."""
        t = self.net.topo
        i = int(np.searchsorted(t.v0, vertex))
        if i < t.n_edges and t.v0[i] == vertex:
            return int(t.source[i])
        if i > 0 and t.v1[i - 1] == vertex:
            return int(t.target[i - 1])
        return None

    def twin(self, road: int, which: int, vertex: int | None) -> int | None:
        """The id of a road that already joins the junction next to road row ``road``'s end
        ``which`` (0 first, 1 last) with the node at vertex row ``vertex``; None if none (or
        the snap goes onto a line, where a new node is made)."""
        t, roads = self.net.topo, self.net.roads
        first, stop = int(t.road_edges[road]), int(t.road_edges[road + 1])
        if vertex is None or first == stop:
            return None
        # the junction the moved end's edge starts from, seen from the moved end
        near = int(t.target[first]) if which == 0 else int(t.source[stop - 1])
        far = self._node_at(vertex)
        if far is None:
            return None
        if far == near:
            return int(roads.ids[road])  # the road would close on itself
        key = min(near, far) * t.n_nodes + max(near, far)
        at = int(np.searchsorted(self.sorted, key))
        if at < len(self.sorted) and self.sorted[at] == key:
            return int(roads.ids[t.road[self.order[at]]])
        return None
