"""Chainage (กม.) of the demo's roads and bridges along their road codes.

A national highway's chainage runs along its whole hand-traced path from the DOH origin given
in ``highways.json`` (an estimate), so it continues past the province border the way DOH
kilometre posts do. Any other code (a DRR road, a PAO or LGO road) runs from 0 at the end of
its route nearer the provincial hall; a code whose segments do not merge into one line (a
branching route) gets no chainage rather than an invented one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from gis_registry.demo.highways import Highway


def road_chainage(
    codes: pd.Series,
    start: np.ndarray,
    end: np.ndarray,
    highways: list[Highway],
    origin: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Chainage in metres of each road segment's two ends (NaN where the code has none).

    Parameters
    ----------
    codes
        Road code of each segment.
    start, end
        ``(n, 2)`` UTM coordinates of each segment's first and last vertex.
    highways
        The national highways (their codes, paths and chainage origins).
    origin
        ``(2,)`` UTM point the other codes count from (their nearer end is 0).
    """
    first = np.full(len(codes), np.nan)
    last = np.full(len(codes), np.nan)
    codes = codes.reset_index(drop=True)
    code_array = codes.to_numpy()
    by_highway = {h.code: h for h in highways}
    for code, h in by_highway.items():
        rows = np.flatnonzero(code_array == code)
        first[rows] = h.chainage(start[rows, 0], start[rows, 1])
        last[rows] = h.chainage(end[rows, 0], end[rows, 1])
    other = np.flatnonzero(codes.notna().to_numpy() & ~codes.isin(list(by_highway)).to_numpy())
    if not len(other):
        return first, last
    group, keys = pd.factorize(codes.iloc[other])
    segs = shapely.linestrings(np.stack([start[other], end[other]], axis=1))
    merged = shapely.line_merge(shapely.multilinestrings(segs, indices=group))
    simple = shapely.get_type_id(merged) == 1  # one LineString: the route has no branches
    # Chainage of every vertex of each merged route: its distance along the route. The
    # segments' ends are those vertices (line_merge keeps coordinates exactly), so each end
    # is looked up by (route, x, y) rather than projected onto a long line.
    xy, owner = shapely.get_coordinates(merged[simple], return_index=True)
    route = np.flatnonzero(simple)[owner]
    step = np.hypot(*np.diff(xy, axis=0).T)
    step[np.diff(route) != 0] = 0.0  # a new route starts at 0
    along = np.concatenate([[0.0], np.cumsum(step)])
    along -= along[np.searchsorted(route, route)]  # per route, from its first vertex
    length = np.zeros(len(keys))
    np.maximum.at(length, route, along)
    # count from the end nearer the origin (the provincial hall)
    first_xy = xy[np.searchsorted(route, np.arange(len(keys)))[simple]]
    last_xy = xy[np.searchsorted(route, np.arange(len(keys)), side="right")[simple] - 1]
    reverse = np.zeros(len(keys), bool)
    reverse[simple] = np.hypot(*(last_xy - origin).T) < np.hypot(*(first_xy - origin).T)
    along = np.where(reverse[route], length[route] - along, along)
    vertices = pd.DataFrame({"route": route, "x": xy[:, 0], "y": xy[:, 1], "along": along})
    for ends, out in ((start, first), (end, last)):
        found = pd.DataFrame({"route": group, "x": ends[other, 0], "y": ends[other, 1]}).merge(
            vertices.drop_duplicates(["route", "x", "y"]), how="left", on=["route", "x", "y"]
        )
        out[other] = found["along"].to_numpy()
    return first, last


def point_chainage(
    x: np.ndarray,
    y: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
) -> np.ndarray:
    """Chainage of points on road segments (bridges), interpolated between the chainages of the
    segment's ends (``first``, ``last``; UTM ``start``, ``end``) by the point's place along it."""
    seg_len = np.hypot(*(end - start).T)
    t = np.hypot(x - start[:, 0], y - start[:, 1]) / np.maximum(seg_len, 1e-9)
    return first + np.clip(t, 0.0, 1.0) * (last - first)
