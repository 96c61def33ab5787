"""Road segments with the attributes a registry holds: class, owner, code, surface, width...

Routes are what carry a code: a highway, a DRR road, a PAO road, or an LGO road (a chain of
LGO edges through nodes where nothing else joins). Every segment of a route shares its code,
names, surface and age.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from gis_registry import domain
from gis_registry.demo.highways import Highway
from gis_registry.demo.network import DRR_ROAD, HIGHWAY_ROAD, LGO_ROAD, PAO_ROAD, RoadNetwork
from gis_registry.demo.territory import Territory

PAO_ID = 1
UNPAVED = ("laterite", "earth")


def _lgo_routes(edges: pd.DataFrame, lgo_edges: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Route number (1..) of LGO edges: chains through nodes where exactly two of the same
    LGO's edges meet. Over 9,999 routes in one LGO (only at large scales) the numbers wrap."""
    e = lgo_edges
    inc = pd.DataFrame(
        {
            "node": np.concatenate([edges["u"].to_numpy()[e], edges["v"].to_numpy()[e]]),
            "owner": np.concatenate([owner, owner]),
            "k": np.concatenate([np.arange(len(e)), np.arange(len(e))]),
        }
    )
    grp = inc.groupby(["owner", "node"])["k"].agg(["first", "last", "count"])
    two = grp[grp["count"] == 2]
    graph = coo_matrix(
        (np.ones(len(two)), (two["first"].to_numpy(), two["last"].to_numpy())),
        shape=(len(e), len(e)),
    )
    _, chain = connected_components(graph, directed=False)
    frame = pd.DataFrame({"owner": owner, "chain": chain, "k": np.arange(len(e))})
    first_k = frame.groupby("chain")["k"].transform("min")
    frame["first"] = first_k
    number = frame.groupby("owner")["first"].rank(method="dense").astype(int).to_numpy()
    return (number - 1) % 9999 + 1


def _pick(rng: np.random.Generator, n: int, values: tuple, p: tuple) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.choice(len(values), n, p=np.asarray(p) / sum(p))]


def road_frame(
    net: RoadNetwork,
    territory: Territory,
    highways: list[Highway],
    villages: pd.DataFrame,
    lgo_ids: np.ndarray,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Attributes of every road segment (geometry added by the caller).

    Parameters
    ----------
    net
        The network (edges, segments after bridge splits).
    territory
        LGOs (polygons, names) and districts.
    highways
        Highway attributes by route number.
    villages
        The settlements frame (x, y, name_th, name_en) used to name LGO roads.
    lgo_ids
        Database id of each LGO row.
    rng
        The plan's random generator.

    Returns
    -------
    pandas.DataFrame, numpy.ndarray
        One row per segment in ``net.segments`` order (without id and geometry), and the
        segment order to use for ids (highways first, then DRR, PAO and LGO roads).
    """
    edges = net.edges
    lgos, dist = territory.lgos, territory.districts
    n_e = len(edges)
    cls = edges["cls"].to_numpy()
    route = edges["route"].to_numpy().copy()
    mid = (net.xy[edges["u"]] + net.xy[edges["v"]]) / 2
    owner_row = np.full(n_e, -1)
    p_idx, g_idx = shapely.STRtree(np.asarray(lgos["geom"])).query(
        shapely.points(mid), predicate="intersects"
    )
    owner_row[p_idx] = g_idx  # a midpoint on a border takes either side
    lgo_e = np.flatnonzero(cls == LGO_ROAD)
    route[lgo_e] = _lgo_routes(edges, lgo_e, owner_row[lgo_e])

    # One attribute draw per route: key routes by (class, owner, number).
    rkey = pd.DataFrame(
        {"cls": cls, "owner": np.where(cls == LGO_ROAD, owner_row, -1), "route": route}
    )
    routes = rkey.drop_duplicates().reset_index(drop=True)
    rid = rkey.merge(routes.reset_index(), on=["cls", "owner", "route"], how="left")["index"]
    rid = rid.to_numpy()
    nr = len(routes)
    rc = routes["cls"].to_numpy()
    code = np.empty(nr, dtype=object)
    name_th = np.empty(nr, dtype=object)
    name_en = np.empty(nr, dtype=object)
    agency = np.full(nr, None, dtype=object)
    owner_id = np.full(nr, None, dtype=object)
    surface = np.empty(nr, dtype=object)
    width = np.zeros(nr)
    lanes = np.full(nr, 2)
    year = np.zeros(nr, int)

    hw = np.flatnonzero(rc == HIGHWAY_ROAD)
    for i in hw:
        h = highways[routes.at[i, "route"]]
        code[i], name_th[i], name_en[i] = h.code, h.name_th, h.name_en
        agency[i], surface[i], width[i], lanes[i], year[i] = (
            "DOH",
            "asphalt",
            h.width_m,
            h.lanes,
            h.year_built,
        )

    drr = np.flatnonzero(rc == DRR_ROAD)
    numbers = np.sort(rng.choice(np.arange(1001, 5999), len(drr), replace=False))
    for k, i in enumerate(drr):
        a_kind, a, _b_kind, b = net.drr_ends[routes.at[i, "route"]]
        code[i] = f"{domain.PROVINCE_ABBR_TH}.{numbers[k]:04d}"
        if a_kind == "lgo":
            th = f"{lgos.at[a, 'stem_th']} - อำเภอ{dist.at[b, 'name_th']}"
            en = f"{lgos.at[a, 'stem_en']} - {dist.at[b, 'name_en']} district"
        else:
            th = f"แยกทางหลวง - อำเภอ{dist.at[a, 'name_th']}"
            en = f"highway junction - {dist.at[a, 'name_en']} district"
        name_th[i] = f"ทางหลวงชนบท {code[i]} สาย{th}"
        name_en[i] = f"Rural road LP.{numbers[k]:04d} ({en})"
        agency[i] = "DRR"
    surface[drr] = _pick(rng, len(drr), ("asphalt", "concrete"), (0.85, 0.15))
    width[drr] = rng.choice([6.0, 7.0, 8.0], len(drr), p=[0.3, 0.5, 0.2])
    year[drr] = rng.integers(1972, 2012, len(drr))

    pao = np.flatnonzero(rc == PAO_ROAD)
    for i in pao:
        r = routes.at[i, "route"]
        a, b = net.pao_ends[r]
        code[i] = domain.local_road_code(1, r + 1)
        name_th[i] = f"ถนน อบจ.ลำปาง สาย{lgos.at[a, 'stem_th']} - {lgos.at[b, 'stem_th']}"
        name_en[i] = f"PAO road {lgos.at[a, 'stem_en']} - {lgos.at[b, 'stem_en']}"
        owner_id[i] = PAO_ID
    surface[pao] = _pick(rng, len(pao), ("asphalt", "concrete", "crushed_rock"), (0.55, 0.4, 0.05))
    width[pao] = rng.choice([5.0, 6.0, 7.0], len(pao), p=[0.25, 0.55, 0.2])
    year[pao] = rng.integers(1992, 2022, len(pao))

    lg = np.flatnonzero(rc == LGO_ROAD)
    own = routes["owner"].to_numpy()[lg]
    seqs = lgos["seq"].to_numpy()[own]
    nums = routes["route"].to_numpy()[lg]
    code[lg] = [domain.local_road_code(int(s), int(n)) for s, n in zip(seqs, nums, strict=True)]
    owner_id[lg] = lgo_ids[own]
    first_edge = pd.Series(np.arange(n_e)).groupby(rid).min().to_numpy()
    _, near = cKDTree(villages[["x", "y"]].to_numpy()).query(mid[first_edge[lg]])
    name_th[lg] = "ถนนสาย" + villages["name_th"].to_numpy()[near]
    name_en[lg] = villages["name_en"].to_numpy()[near] + " road"
    surface[lg] = _pick(rng, len(lg), domain.SURFACES, (0.2, 0.4, 0.2, 0.1, 0.1))
    width[lg] = rng.choice([4.0, 5.0, 6.0], len(lg), p=[0.45, 0.35, 0.2])
    lanes[lg] = np.where(width[lg] < 5, 1, 2)
    year[lg] = rng.integers(1985, 2027, len(lg))  # a few are new (FY 2565-2569 works)

    seg = net.segments
    r_of_seg = rid[seg["edge"].to_numpy()]
    seg_surface = surface[r_of_seg]
    # a bridge deck on an unpaved road is still concrete
    deck = seg["bridge"].to_numpy() & np.isin(seg_surface, UNPAVED + ("crushed_rock",))
    seg_surface = np.where(deck, "concrete", seg_surface)
    frame = pd.DataFrame(
        {
            "code": code[r_of_seg],
            "name_th": name_th[r_of_seg],
            "name_en": name_en[r_of_seg],
            "road_class": np.array(["local", "local", "rural", "national"], dtype=object)[
                cls[seg["edge"].to_numpy()]
            ],
            "owner_local_body_id": pd.array(owner_id[r_of_seg], dtype="Int64"),
            "owner_agency": agency[r_of_seg],
            "surface": seg_surface,
            "width_m": width[r_of_seg],
            "lanes": lanes[r_of_seg].astype(int),
            "oneway": False,
            "layer": 0,
            "year_built": year[r_of_seg].astype(int),
        }
    )
    order = np.lexsort((np.arange(len(seg)), r_of_seg, -cls[seg["edge"].to_numpy()]))
    return frame, order
