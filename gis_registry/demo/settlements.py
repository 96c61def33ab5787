"""Villages (หมู่บ้าน): where they are, what they are called, who lives there.

Villages and the other road nodes ("junctions": hamlets, farm-track forks) are drawn from one
jittered grid of candidate points, so no two nodes are closer than ~0.4 grid steps. Villages
prefer valleys (near rivers and highways), keep clear of rivers (bridges need room), of LGO
borders (so a village is unambiguously inside its LGO) and of the highway corridors (so the
highways stay straight node-to-node in the triangulation the road network is cut from).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from gis_registry.demo.facts import Facts
from gis_registry.demo.geo import densify
from gis_registry.demo.highways import RIVER_CLEARANCE, Highway
from gis_registry.demo.rivers import Hydrography
from gis_registry.demo.territory import Territory, tambon_codes_at
from gis_registry.demo.weak_links import WeakLinkZone

VILLAGES_AT_SCALE_1 = 930
PROVINCE_POPULATION = 738_000
HIGHWAY_CORRIDOR = 230.0  # metres kept free of other nodes on each side of a highway
ZONE_MIN_VILLAGES = 3

# Fixed populations of the urban LGOs (registered residents, rounded).
URBAN_POPULATION = {"city_municipality": 52_000, "town_municipality": 16_000}
CENTRE_SM_POPULATION = 5_500


@dataclass
class NodeDraw:
    """Village and junction candidates chosen from the grid (UTM)."""

    villages: pd.DataFrame  # x, y, lgo (row in territory.lgos), zone (-1 or zone index)
    junctions: np.ndarray  # (n, 2)
    spacing: float


def village_counts(territory: Territory, scale: float) -> np.ndarray:
    """How many villages each LGO gets: town centres a few, the rest by area."""
    lgos = territory.lgos
    area = np.array([g.area for g in lgos["geom"]]) / 1e6
    fixed = np.select([lgos["kind"].eq("city_municipality"), lgos["role"].eq("centre")], [10, 4], 0)
    fixed = np.where(lgos["stem_en"].eq("Khelang Nakhon"), 6, fixed)
    free = fixed == 0
    share = area[free] ** 0.8
    n = fixed.astype(float)
    n[free] = np.maximum(3, share / share.sum() * (VILLAGES_AT_SCALE_1 - fixed.sum()))
    return np.maximum(1, np.round(n * scale)).astype(int)


def draw_nodes(
    territory: Territory,
    hydro: Hydrography,
    highways: list[Highway],
    zones: list[WeakLinkZone],
    fixed_nodes: np.ndarray,
    scale: float,
    rng: np.random.Generator,
) -> NodeDraw:
    """Choose village and junction points.

    Parameters
    ----------
    territory, hydro, highways, zones
        What the province already holds.
    fixed_nodes
        ``(n, 2)`` offices and highway nodes that other nodes keep away from.
    scale
        Multiplies the number of villages and junctions.
    rng
        The plan's random generator.
    """
    counts = village_counts(territory, scale)
    n_villages = int(counts.sum())
    n_junctions = int(round(n_villages * (2.0 + 1.6 * np.log10(max(scale, 1.0)))))
    spacing = float(np.sqrt(territory.outline.area / (4.0 * (n_villages + n_junctions))))
    x0, y0, x1, y1 = territory.outline.bounds
    gx, gy = np.meshgrid(np.arange(x0, x1, spacing), np.arange(y0, y1, spacing))
    pts = np.column_stack([gx.ravel(), gy.ravel()]) + spacing * (
        0.2 + 0.6 * rng.random((gx.size, 2))
    )
    inner = territory.outline.buffer(-150.0)
    pts = pts[shapely.contains_xy(inner, pts[:, 0], pts[:, 1])]

    # short look-ups (exact) for clearances, long ones (coarse) for the valley weighting
    ok = hydro.distance(pts[:, 0], pts[:, 1], cap=RIVER_CLEARANCE + 1.0) > RIVER_CLEARANCE
    hw_fine = cKDTree(np.vstack([densify(h.coords, 20.0) for h in highways]))
    ok &= hw_fine.query(pts, distance_upper_bound=HIGHWAY_CORRIDOR + 1.0)[0] > HIGHWAY_CORRIDOR
    keep_off = min(250.0, 0.45 * spacing)
    ok &= cKDTree(fixed_nodes).query(pts, distance_upper_bound=keep_off + 1.0)[0] > keep_off
    for res in hydro.reservoirs:
        ok &= ~shapely.contains_xy(res.buffer(100.0), pts[:, 0], pts[:, 1])
    pts = pts[ok]
    d_river = hydro.distance(pts[:, 0], pts[:, 1], cap=30_000.0)
    d_hw = np.minimum(
        cKDTree(np.vstack([h.coords for h in highways])).query(pts, distance_upper_bound=30_000.0)[
            0
        ],
        30_000.0,
    )
    # valleys are where people live and roads run
    weight = 0.25 + 1.2 * np.exp(-d_river / 5000.0) + 0.8 * np.exp(-d_hw / 4000.0)

    margin = min(300.0, 1.5 * spacing)
    inners = np.array([g.buffer(-margin) for g in territory.lgos["geom"]])
    lgo = np.full(len(pts), -1)
    for i, inner_i in enumerate(inners):  # bounding box first, then the exact (prepared) test
        x0_, y0_, x1_, y1_ = inner_i.bounds
        box = np.flatnonzero(
            (pts[:, 0] >= x0_) & (pts[:, 0] <= x1_) & (pts[:, 1] >= y0_) & (pts[:, 1] <= y1_)
        )
        shapely.prepare(inner_i)
        lgo[box[shapely.contains_xy(inner_i, pts[box, 0], pts[box, 1])]] = i
    zone = np.full(len(pts), -1)
    for z, wz in enumerate(zones):
        zone[shapely.contains_xy(wz.polygon, pts[:, 0], pts[:, 1])] = z
    # Efraimidis-Spirakis keys: sorting by key draws a weighted sample without replacement
    key = np.log(rng.random(len(pts))) / weight
    key = np.where(zone >= 0, key / 4.0, key)  # the planted pockets are well settled
    order = np.lexsort((-key, lgo))
    rank = np.empty(len(pts), int)
    sorted_lgo = lgo[order]
    starts = np.searchsorted(sorted_lgo, sorted_lgo, side="left")
    rank[order] = np.arange(len(pts)) - starts
    is_village = (lgo >= 0) & (rank < counts[np.maximum(lgo, 0)])
    for z in range(len(zones)):  # make sure every planted pocket has people to cut off
        in_zone = np.flatnonzero((zone == z) & (lgo >= 0))
        missing = ZONE_MIN_VILLAGES - int(is_village[in_zone].sum())
        if missing > 0:
            extra = in_zone[~is_village[in_zone]]
            is_village[extra[np.argsort(-key[extra])[:missing]]] = True
    villages = pd.DataFrame(
        {
            "x": pts[is_village, 0],
            "y": pts[is_village, 1],
            "lgo": lgo[is_village],
            "zone": zone[is_village],
        }
    )
    rest = np.flatnonzero(~is_village)
    jkey = key[rest]
    take = rest[np.argsort(-jkey, kind="stable")[:n_junctions]]
    return NodeDraw(villages=villages, junctions=pts[np.sort(take)], spacing=spacing)


def settlement_frame(
    villages: pd.DataFrame, territory: Territory, facts: Facts, rng: np.random.Generator
) -> pd.DataFrame:
    """Number, name and populate the villages that made it onto the road network.

    Moo numbers run 1..n per tambon (as DOPA numbers them), outwards from the office of the
    village's LGO; the village code is the real DOPA code of the tambon the village lies in
    followed by the two-digit (or longer) moo number. Populations follow a log-normal split of
    each LGO's total; households are population over 2.8-3.2.
    """
    lgos = territory.lgos
    v = villages.copy()
    v["tambon"] = tambon_codes_at(territory.tambons, v["x"].to_numpy(), v["y"].to_numpy())
    if v["tambon"].isna().any():
        raise ValueError("a village lies outside every tambon")
    v["d_office"] = np.hypot(
        v["x"] - lgos["office_x"].to_numpy()[v["lgo"]],
        v["y"] - lgos["office_y"].to_numpy()[v["lgo"]],
    )
    v = v.sort_values(["tambon", "lgo", "d_office"], kind="stable").reset_index(drop=True)
    v["moo"] = v.groupby("tambon").cumcount() + 1
    v["village_code"] = [f"{t}{m:02d}" for t, m in zip(v["tambon"], v["moo"], strict=True)]
    # the rest of the plan (names, populations) draws in LGO order, as it always has
    v = v.sort_values(["lgo", "d_office"], kind="stable").reset_index(drop=True)

    names = facts.village_names
    pre = names[names["part"] == "prefix"].reset_index(drop=True)
    suf = names[names["part"] == "suffix"].reset_index(drop=True)
    a = rng.integers(0, len(pre), len(v))
    b = rng.integers(0, len(suf), len(v))
    v["name_th"] = "บ้าน" + pre["th"].to_numpy()[a] + suf["th"].to_numpy()[b]
    v["name_en"] = "Ban " + pre["en"].to_numpy()[a] + " " + suf["en"].to_numpy()[b]

    # LGO totals: fixed for the towns, the rest of the province shared by village count
    per_lgo = v.groupby("lgo").size().reindex(range(len(lgos)), fill_value=0).to_numpy()
    total = np.zeros(len(lgos))
    urban = lgos["kind"].map(URBAN_POPULATION).fillna(0).to_numpy()
    urban = np.where(lgos["role"].eq("centre") & (urban == 0), CENTRE_SM_POPULATION, urban)
    total[:] = urban
    rural = urban == 0
    spread = rng.lognormal(0.0, 0.25, len(lgos))
    rural_share = per_lgo * spread * rural
    total[rural] = rural_share[rural] / rural_share.sum() * (PROVINCE_POPULATION - urban.sum())
    w = rng.lognormal(0.0, 0.45, len(v))
    w_sum = pd.Series(w).groupby(v["lgo"]).transform("sum").to_numpy()
    pop = np.maximum(1, np.round(total[v["lgo"]] * w / w_sum)).astype(int)
    hh = np.clip(np.round(pop / rng.uniform(2.8, 3.2, len(v))), 1, pop).astype(int)
    v["population"], v["households"] = pop, hh
    return v
