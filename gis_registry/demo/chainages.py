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
    by_highway = {h.code: h for h in highways}
    for code, h in by_highway.items():
        rows = np.flatnonzero(codes.to_numpy() == code)
        first[rows] = h.chainage(start[rows, 0], start[rows, 1])
        last[rows] = h.chainage(end[rows, 0], end[rows, 1])
    other = np.flatnonzero(codes.notna().to_numpy() & ~codes.isin(list(by_highway)).to_numpy())
    if not len(other):
        return first, last
    group, keys = pd.factorize(codes.iloc[other])
    segs = shapely.linestrings(np.stack([start[other], end[other]], axis=1))
    merged = shapely.line_merge(shapely.multilinestrings(segs, indices=group))
    simple = shapely.get_type_id(merged) == 1  # one LineString: the route has no branches
    ends = np.stack(
        [
            shapely.get_coordinates(shapely.get_point(merged[simple], 0)),
            shapely.get_coordinates(shapely.get_point(merged[simple], -1)),
        ]
    )
    reverse = np.zeros(len(keys), bool)
    reverse[simple] = np.hypot(*(ends[1] - origin).T) < np.hypot(*(ends[0] - origin).T)
    line = merged[group]
    length = shapely.length(line)
    for xy, out in ((start, first), (end, last)):
        along = shapely.line_locate_point(line, shapely.points(xy[other]))
        along = np.where(reverse[group], length - along, along)
        out[other] = np.where(simple[group], along, np.nan)
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
