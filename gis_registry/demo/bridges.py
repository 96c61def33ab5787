"""Bridge attributes: big concrete girders on highways, small slabs, culverts and the odd old
timber or Bailey bridge on local roads; the planted weak links get what their zone asks for."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from gis_registry.demo.network import DRR_ROAD, HIGHWAY_ROAD, PAO_ROAD, RoadNetwork
from gis_registry.demo.rivers import Hydrography
from gis_registry.demo.weak_links import WeakLinkZone

# (structure, material, load limit range t, year range, probability) for LGO-road bridges
LOCAL_TYPES = (
    ("slab", "reinforced_concrete", (10, 15), (1985, 2022), 0.45),
    ("slab", "reinforced_concrete", (8, 10), (1965, 1989), 0.12),  # old slabs, posted low
    ("box_culvert", "reinforced_concrete", (12, 18), (1990, 2023), 0.15),
    ("pipe_culvert", "reinforced_concrete", (8, 12), (1990, 2023), 0.08),
    ("girder", "timber", (5, 8), (1965, 1995), 0.08),
    ("truss", "steel", (10, 15), (1975, 2005), 0.07),
    ("girder", "reinforced_concrete", (15, 18), (1995, 2023), 0.05),
)
SPAN_M = {
    "slab": 10.0,
    "girder": 25.0,
    "truss": 40.0,
    "arch": 30.0,
    "suspension": 80.0,
    "box_culvert": 6.0,
    "pipe_culvert": 4.0,
}


def bridge_frame(
    net: RoadNetwork,
    hydro: Hydrography,
    zones: list[WeakLinkZone],
    villages: pd.DataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One row per bridge segment (road id, river id and geometry added by the caller).

    Returns
    -------
    pandas.DataFrame
        segment, zone, x, y, river (row), name_th, name_en, structure_type, material,
        length_m, spans, load_limit_t, year_built.
    """
    b = net.bridges.copy()
    n = len(b)
    cls = net.edges["cls"].to_numpy()[net.segments["edge"].to_numpy()[b["segment"]]]
    structure = np.empty(n, dtype=object)
    material = np.empty(n, dtype=object)
    load = np.zeros(n)
    year = np.zeros(n, int)

    hw = cls == HIGHWAY_ROAD
    structure[hw], material[hw] = "girder", "prestressed_concrete"
    load[hw] = rng.choice([25.0, 30.0], hw.sum())
    year[hw] = rng.integers(1965, 2016, hw.sum())
    main = (cls == DRR_ROAD) | (cls == PAO_ROAD)
    structure[main] = np.where(rng.random(main.sum()) < 0.5, "girder", "slab")
    material[main] = np.where(
        rng.random(main.sum()) < 0.3, "prestressed_concrete", "reinforced_concrete"
    )
    load[main] = np.where(
        cls[main] == DRR_ROAD,
        rng.choice([21.0, 25.0], main.sum()),
        rng.choice([12.0, 15.0, 18.0], main.sum()),
    )
    year[main] = rng.integers(1975, 2021, main.sum())
    local = ~hw & ~main
    p = np.array([t[4] for t in LOCAL_TYPES])
    pick = rng.choice(len(LOCAL_TYPES), local.sum(), p=p / p.sum())
    lo = np.array([LOCAL_TYPES[k][2][0] for k in pick], float)
    hi = np.array([LOCAL_TYPES[k][2][1] for k in pick], float)
    y0 = np.array([LOCAL_TYPES[k][3][0] for k in pick])
    y1 = np.array([LOCAL_TYPES[k][3][1] for k in pick])
    structure[local] = [LOCAL_TYPES[k][0] for k in pick]
    material[local] = [LOCAL_TYPES[k][1] for k in pick]
    load[local] = np.round(lo + (hi - lo) * rng.random(local.sum()))
    year[local] = y0 + (rng.random(local.sum()) * (y1 - y0)).astype(int)

    for z, wz in enumerate(zones):  # planted weak links: as the fact file says
        at = b["zone"].to_numpy() == z
        structure[at], material[at] = wz.spec["structure_type"], wz.spec["material"]
        load[at], year[at] = float(wz.spec["load_limit_t"]), int(wz.spec["year_built"])

    length = np.round(b["length"].to_numpy(), 1)
    span = np.array([SPAN_M[s] for s in structure])
    spans = np.maximum(1, np.round(length / span)).astype(int)
    _, near = cKDTree(villages[["x", "y"]].to_numpy()).query(b[["x", "y"]].to_numpy())
    river = b["river"].to_numpy()
    v_th = villages["name_th"].to_numpy()[near]
    v_en = villages["name_en"].to_numpy()[near]
    b["name_th"] = [
        "สะพานข้าม" + hydro.names_th[r] + " " + v for r, v in zip(river, v_th, strict=True)
    ]
    b["name_en"] = [f"{hydro.names_en[r]} bridge at {v}" for r, v in zip(river, v_en, strict=True)]
    b["structure_type"], b["material"] = structure, material
    b["length_m"], b["spans"], b["load_limit_t"], b["year_built"] = length, spans, load, year
    return b
