"""The province outline, its 13 districts and 102 LGO territories, and their offices.

Territory is built from "cells": a Voronoi diagram of jittered seed points (about 2 km apart,
denser around town centres) clipped to the outline. Cells are given to districts by a power
diagram around the real district offices, with weights tuned until district areas match the
real ones; inside each district, town-centre municipalities take the cells near their centre
and the tambon-level LGOs share the rest by k-means. An LGO is the union of its cells, so the
102 LGOs tile the province exactly (shared borders have identical vertices on a 1 cm grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gis_registry.demo.facts import Facts
from gis_registry.demo.geo import GRID, as_multipolygon, latlon_points_to_utm
from gis_registry.demo.rivers import Hydrography

CELL_SPACING = 2000.0  # metres between territory seeds in the countryside
TOWN_CELL_SPACING = 500.0  # ... and around town centres
OFFICE_RIVER_CLEARANCE = 400.0


@dataclass
class Territory:
    """Districts and LGOs (UTM). ``lgos`` is in load order: row i has seq i + 2."""

    outline: shapely.Polygon
    districts: pd.DataFrame  # code, name_th, name_en, office_x/y, geom
    lgos: pd.DataFrame  # facts columns + code, seq, name_th, name_en, office_x/y, seed_x/y, geom
    pao_office: np.ndarray  # (2,) metres


def province_outline(facts: Facts) -> shapely.Polygon:
    """The hand-written outline (lat/lon vertices) in UTM metres, snapped to the 1 cm grid."""
    pts = latlon_points_to_utm(facts.outline[["lat", "lon"]].to_numpy())
    return shapely.set_precision(shapely.Polygon(pts), GRID)


def _jittered_grid(bounds, spacing: float, rng: np.random.Generator) -> np.ndarray:
    x0, y0, x1, y1 = bounds
    xs = np.arange(x0, x1 + spacing, spacing)
    ys = np.arange(y0, y1 + spacing, spacing)
    gx, gy = np.meshgrid(xs, ys)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    return pts + rng.uniform(-0.35, 0.35, pts.shape) * spacing


def _cells(
    outline: shapely.Polygon, centres: np.ndarray, radii: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Voronoi cells clipped to the outline and their seed points."""
    seeds = _jittered_grid(outline.bounds, CELL_SPACING, rng)
    near_town = np.zeros(len(seeds), bool)
    dense = []
    for (cx, cy), r in zip(centres, radii, strict=True):
        reach = r + 1500.0
        near_town |= np.hypot(seeds[:, 0] - cx, seeds[:, 1] - cy) < reach
        local = _jittered_grid(
            (cx - reach, cy - reach, cx + reach, cy + reach), TOWN_CELL_SPACING, rng
        )
        dense.append(local[np.hypot(local[:, 0] - cx, local[:, 1] - cy) < reach])
    seeds = np.vstack([seeds[~near_town], *dense])
    seeds = seeds[shapely.contains_xy(outline.buffer(300.0), seeds[:, 0], seeds[:, 1])]
    # drop duplicates where two town discs overlap (keep the first)
    _, first = np.unique(np.round(seeds / 50.0), axis=0, return_index=True)
    seeds = seeds[np.sort(first)]
    vor = shapely.voronoi_polygons(
        shapely.multipoints(seeds), extend_to=outline.buffer(20_000.0), ordered=True
    )
    cells = shapely.intersection(np.asarray(shapely.get_parts(vor)), outline, grid_size=GRID)
    keep = ~shapely.is_empty(cells) & (shapely.area(cells) > 1.0)
    return cells[keep], seeds[keep]


def _adjacency(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of cells sharing more than a metre of border, as an ``(m, 2)`` array (i < j)."""
    tree = shapely.STRtree(cells)
    i, j = tree.query(cells, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(cells[i]), shapely.boundary(cells[j]))
    )
    keep = shared > 1.0
    return np.column_stack([i[keep], j[keep]]), shared[keep]


def _defragment(
    labels: np.ndarray,
    pairs: np.ndarray,
    shared: np.ndarray,
    anchors: dict[int, int],
    group: np.ndarray,
    area: np.ndarray,
) -> np.ndarray:
    """Make every label one connected set of cells.

    Cells cut off from the part of their label holding its anchor cell (or, without an anchor,
    its largest part) go to the neighbouring label they share most border with, among labels
    of the same ``group`` (an LGO never leaves its district).
    """
    labels = labels.copy()
    n = len(labels)
    for _ in range(50):
        same = labels[pairs[:, 0]] == labels[pairs[:, 1]]
        graph = coo_matrix((np.ones(same.sum()), (pairs[same, 0], pairs[same, 1])), shape=(n, n))
        _, comp = connected_components(graph, directed=False)
        main = {}
        for lab in np.unique(labels):
            members = np.flatnonzero(labels == lab)
            if lab in anchors and labels[anchors[lab]] == lab:
                main[lab] = comp[anchors[lab]]
            else:
                comp_area = pd.Series(area[members]).groupby(comp[members]).sum()
                main[lab] = comp_area.idxmax()
        stray = np.array([comp[c] != main[labels[c]] for c in range(n)])
        if not stray.any():
            return labels
        changed = False
        for c in np.unique(comp[stray]):
            members = np.flatnonzero(comp == c)
            inside = np.isin(pairs, members)
            border = inside[:, 0] ^ inside[:, 1]
            other = np.where(inside[border, 0], pairs[border, 1], pairs[border, 0])
            ok = group[other] == group[members[0]]
            if not ok.any():
                continue
            votes = pd.Series(shared[border][ok]).groupby(labels[other[ok]]).sum()
            labels[members] = votes.idxmax()
            changed = True
        if not changed:
            break
    return labels


def build_territory(facts: Facts, hydro: Hydrography, rng: np.random.Generator) -> Territory:
    """Districts and LGOs tiling the province, each with an office point.

    Parameters
    ----------
    facts
        The demo's fact files.
    hydro
        Rivers and reservoirs (offices keep clear of them).
    rng
        The plan's random generator.

    Returns
    -------
    Territory
    """
    outline = province_outline(facts)
    dist = facts.districts.reset_index(drop=True)
    lgos = facts.local_bodies.reset_index(drop=True).copy()
    d_office = latlon_points_to_utm(dist[["office_lat", "office_lon"]].to_numpy())
    is_centre = (lgos["role"] == "centre").to_numpy()
    anchors = latlon_points_to_utm(lgos[["anchor_lat", "anchor_lon"]].fillna(0).to_numpy())
    radii = lgos["radius_km"].fillna(0).to_numpy() * 1000.0

    cells, seeds = _cells(outline, anchors[is_centre], radii[is_centre], rng)
    cent = shapely.get_coordinates(shapely.point_on_surface(cells))
    area = shapely.area(cells)
    pairs, shared = _adjacency(cells)
    tree = shapely.STRtree(cells)

    def cell_at(pt: np.ndarray) -> int:
        hit = tree.query(shapely.Point(pt), predicate="intersects")
        return int(hit[0]) if len(hit) else int(tree.nearest(shapely.Point(pt)))

    # Districts: power diagram around the offices, weights tuned to the real areas.
    target = dist["area_km2"].to_numpy() * 1e6
    target *= outline.area / target.sum()
    weights = np.zeros(len(dist))
    office_cell = np.array([cell_at(p) for p in d_office])
    # Power sites are rough district centres (real offices sit off-centre); each office must
    # stay in its own district, so weights are projected back whenever a neighbour claims it.
    sites = latlon_points_to_utm(dist[["shape_lat", "shape_lon"]].to_numpy())
    own = ((d_office - sites) ** 2).sum(axis=1)
    other = ((d_office[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2)
    d2 = ((cent[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2)
    for _ in range(1000):
        lab = np.argmin(d2 - weights[None, :], axis=1)
        got = np.bincount(lab, weights=area, minlength=len(dist))
        weights += 0.1 * (target - got) / np.pi
        for _ in range(5):
            # excess[j, k] > 0: office j is nearer (in power) to site k than to its own site
            excess = (own - weights)[:, None] - (other - weights[None, :]) + 4e6
            np.fill_diagonal(excess, 0.0)
            excess = np.clip(excess, 0.0, None)
            if not excess.any():
                break
            weights += 0.5 * excess.sum(axis=1) - 0.5 * excess.sum(axis=0)
    lab[office_cell] = np.arange(len(dist))
    district_of = _defragment(
        lab, pairs, shared, dict(enumerate(office_cell)), np.zeros(len(cells), int), area
    )

    # LGOs: town centres first, then k-means among the tambon-level LGOs of each district.
    lgo_of = np.full(len(cells), -1)
    seed_xy = np.zeros((len(lgos), 2))
    lgo_anchor_cell: dict[int, int] = {}
    for d_idx, code in enumerate(dist["code"]):
        in_d = district_of == d_idx
        members = np.flatnonzero(lgos["district_code"].to_numpy() == code)
        for i in members[is_centre[members]]:
            near = np.hypot(cent[:, 0] - anchors[i, 0], cent[:, 1] - anchors[i, 1]) < radii[i]
            own = in_d & (near | (np.arange(len(cells)) == cell_at(anchors[i]))) & (lgo_of < 0)
            lgo_of[own] = i
            seed_xy[i] = anchors[i]
            lgo_anchor_cell[i] = cell_at(anchors[i])
        rest = np.flatnonzero(in_d & (lgo_of < 0))
        tambon = members[~is_centre[members]]
        fixed = np.zeros(len(tambon), bool)
        centers = cent[rng.choice(rest, len(tambon), replace=False)]
        for k, i in enumerate(tambon):
            if lgos.at[i, "role"] == "capital":
                centers[k], fixed[k] = d_office[d_idx], True
            elif not np.isnan(lgos.at[i, "anchor_lat"]):
                centers[k], fixed[k] = anchors[i], True
        w = area[rest]
        for _ in range(25):  # Lloyd iterations, anchored seeds stay put
            near = np.argmin(((cent[rest, None, :] - centers[None, :, :]) ** 2).sum(2), axis=1)
            for k in range(len(tambon)):
                sel = near == k
                if not fixed[k] and sel.any():
                    centers[k] = (cent[rest][sel] * w[sel, None]).sum(0) / w[sel].sum()
        near = np.argmin(((cent[rest, None, :] - centers[None, :, :]) ** 2).sum(2), axis=1)
        lgo_of[rest] = tambon[near]
        for k, i in enumerate(tambon):
            seed_xy[i] = centers[k]
            mine = rest[near == k]
            if len(mine):
                lgo_anchor_cell[i] = mine[np.argmin(np.hypot(*(cent[mine] - centers[k]).T))]
    lgo_of = _defragment(lgo_of, pairs, shared, lgo_anchor_cell, district_of, area)
    if len(np.unique(lgo_of)) != len(lgos):
        raise RuntimeError("an LGO ended up without territory; adjust the cell spacing")

    lgo_geoms = np.array(
        [
            as_multipolygon(shapely.union_all(cells[lgo_of == i], grid_size=GRID))
            for i in range(len(lgos))
        ]
    )
    district_geoms = np.array(
        [
            as_multipolygon(
                shapely.union_all(
                    lgo_geoms[lgos["district_code"].to_numpy() == code], grid_size=GRID
                )
            )
            for code in dist["code"]
        ]
    )

    # Offices: anchors and district seats where given, otherwise the cell centre nearest the
    # k-means seed; always well inside the LGO and clear of rivers and reservoirs.
    reservoirs = shapely.union_all(hydro.reservoirs).buffer(300.0)
    offices = np.zeros((len(lgos), 2))
    for i in range(len(lgos)):
        inner = lgo_geoms[i].buffer(-300.0)
        if inner.is_empty:
            inner = lgo_geoms[i].buffer(-50.0)
        if is_centre[i]:
            want = anchors[i]
        elif lgos.at[i, "role"] == "capital":
            d_idx = int(np.flatnonzero(dist["code"].to_numpy() == lgos.at[i, "district_code"])[0])
            want = d_office[d_idx] + np.array([350.0, 250.0])  # the LGO office is down the road
        else:
            want = seed_xy[i]
        offices[i] = _clear_point(want, inner, hydro, reservoirs, cent[lgo_of == i])
    lgos["office_x"], lgos["office_y"] = offices[:, 0], offices[:, 1]
    lgos["seed_x"], lgos["seed_y"] = seed_xy[:, 0], seed_xy[:, 1]
    lgos["geom"] = lgo_geoms
    _name_lgos(lgos)

    districts = dist[["code", "name_th", "name_en"]].copy()
    districts["office_x"], districts["office_y"] = d_office[:, 0], d_office[:, 1]
    districts["geom"] = district_geoms
    pao = latlon_points_to_utm([[18.2577, 99.5445]])[0]
    return Territory(outline=outline, districts=districts, lgos=lgos, pao_office=pao)


def _clear_point(
    want: np.ndarray,
    inner: shapely.Geometry,
    hydro: Hydrography,
    reservoirs: shapely.Geometry,
    candidates: np.ndarray,
) -> np.ndarray:
    """``want`` if it is inside ``inner`` and clear of water, else the nearest candidate that is."""
    pts = np.vstack([want[None, :], candidates])
    ok = shapely.contains_xy(inner, pts[:, 0], pts[:, 1])
    ok &= ~shapely.contains_xy(reservoirs, pts[:, 0], pts[:, 1])
    ok &= (
        hydro.distance(pts[:, 0], pts[:, 1], cap=OFFICE_RIVER_CLEARANCE + 1.0)
        > OFFICE_RIVER_CLEARANCE
    )
    if not ok.any():
        rep = shapely.get_coordinates(shapely.point_on_surface(inner))[0]
        return rep
    good = pts[ok]
    return good[np.argmin(np.hypot(*(good - want).T))]


KIND_TH = {
    "city_municipality": "เทศบาลนคร",
    "town_municipality": "เทศบาลเมือง",
    "subdistrict_municipality": "เทศบาลตำบล",
    "sao": "องค์การบริหารส่วนตำบล",
}
KIND_EN = {
    "city_municipality": "{} City Municipality",
    "town_municipality": "{} Town Municipality",
    "subdistrict_municipality": "{} Subdistrict Municipality",
    "sao": "{} SAO",
}


def _name_lgos(lgos: pd.DataFrame) -> None:
    """Official-style names and codes: district code + 2-digit number in the district."""
    lgos["name_th"] = [KIND_TH[k] + s for k, s in zip(lgos["kind"], lgos["stem_th"], strict=True)]
    en = [KIND_EN[k].format(s) for k, s in zip(lgos["kind"], lgos["stem_en"], strict=True)]
    lgos["name_en"] = [
        "Nakhon Lampang City Municipality" if k == "city_municipality" else e
        for k, e in zip(lgos["kind"], en, strict=True)
    ]
    lgos["code"] = [
        f"{d}{n:02d}"
        for d, n in zip(
            lgos["district_code"], lgos.groupby("district_code").cumcount() + 1, strict=True
        )
    ]
    lgos["seq"] = np.arange(len(lgos)) + 2  # seq 1 is the PAO
