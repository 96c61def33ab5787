"""Water sources: wells, ponds, village water supplies, weirs, check dams, small reservoirs,
canals, and the two large RID reservoirs (Kiew Lom and Kiew Kho Ma).

About a fifth of the villages are left without any source within 1 km, so that coverage
analyses have gaps to find.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from gis_registry.db.tables import WATER_GEOMETRIES
from gis_registry.demo.rivers import Hydrography
from gis_registry.demo.territory import Territory

SOURCES_AT_SCALE_1 = 1000
UNSERVED_SHARE = 0.2
UNSERVED_RADIUS = 1000.0
DRY_CELL_M = 5000.0

# kind: (share, Thai name, English name, capacity m3 range, households range, agencies)
KINDS = {
    "groundwater_well": (0.25, "บ่อบาดาล", "groundwater well", (10, 60), (5, 60), "DGR"),
    # recharge pits that put rainy-season runoff back into the aquifer; LGO-built
    "groundwater_bank": (0.03, "ธนาคารน้ำใต้ดิน", "groundwater bank", (20, 200), (10, 80), None),
    "shallow_well": (0.12, "บ่อตื้น", "shallow well", (5, 25), (3, 20), None),
    "village_water_supply": (
        0.2,
        "ประปาหมู่บ้าน",
        "village water supply",
        (20, 120),
        (60, 400),
        "PWA",
    ),
    "pond": (0.16, "สระน้ำ", "pond", (3_000, 60_000), (20, 200), "DWR"),
    "weir": (0.09, "ฝาย", "weir", (2_000, 40_000), (30, 300), "RID"),
    "check_dam": (0.08, "ฝายชะลอน้ำ", "check dam", (100, 3_000), (0, 50), None),
    "reservoir": (0.04, "อ่างเก็บน้ำ", "reservoir", (100_000, 3_000_000), (100, 1200), "RID"),
    "canal": (0.03, "ลำเหมือง", "irrigation canal", (1_000, 20_000), (30, 300), "RID"),
}


def water_frame(
    territory: Territory,
    hydro: Hydrography,
    villages: pd.DataFrame,
    lgo_ids: np.ndarray,
    scale: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Water sources in UTM (geometry column ``geom``), owner ids already mapped.

    Parameters
    ----------
    territory
        LGO polygons (owners).
    hydro
        Rivers (weirs sit on them) and the large reservoirs.
    villages
        Settlements with x, y, name_th, name_en.
    lgo_ids
        Database id of each LGO row.
    scale
        Multiplies the number of sources.
    rng
        The plan's random generator.
    """
    n_target = int(round(SOURCES_AT_SCALE_1 * scale))
    vxy = villages[["x", "y"]].to_numpy()
    # Dry pockets: villages in a random fifth of 5 km cells get no source within 1 km. Drawn
    # by area (not by village) so the pockets stay pockets at any scale.
    cell = np.floor((vxy - vxy.min(axis=0)) / DRY_CELL_M).astype(np.int64)
    cell_id = np.unique(cell[:, 0] * 100_000 + cell[:, 1], return_inverse=True)[1].ravel()
    unserved = (rng.random(cell_id.max() + 1) < UNSERVED_SHARE)[cell_id]
    served = np.flatnonzero(~unserved)
    kinds = list(KINDS)
    share = np.array([KINDS[k][0] for k in kinds])
    m = max(int(n_target * 2.5) + 20, len(served))
    kind = rng.choice(len(kinds), m, p=share / share.sum())
    # every served village gets one source first, then the rest go anywhere served
    home = np.concatenate([rng.permutation(served), rng.choice(served, m)])[:m]
    r = rng.uniform(60.0, 700.0, m)
    a = rng.uniform(0, 2 * np.pi, m)
    xy = vxy[home] + np.column_stack([r * np.cos(a), r * np.sin(a)])
    # weirs: half of them on a mapped river, at a random point
    on_river = (np.array(kinds)[kind] == "weir") & (rng.random(m) < 0.5)
    if on_river.any():
        seg = rng.integers(0, len(hydro.seg_coords), on_river.sum())
        f = rng.random(on_river.sum())[:, None]
        xy[on_river] = hydro.seg_coords[seg, 0] * (1 - f) + hydro.seg_coords[seg, 1] * f
    ok = shapely.contains_xy(territory.outline.buffer(-200.0), xy[:, 0], xy[:, 1])
    if unserved.any():
        d, _ = cKDTree(vxy[unserved]).query(xy)
        reach = np.select(
            [np.array(kinds)[kind] == "canal", np.array(kinds)[kind] == "reservoir"],
            [1600.0, 500.0],
            50.0,
        )  # canals run on, reservoirs have shores
        ok &= d > UNSERVED_RADIUS + reach
    for res in hydro.reservoirs:
        ok &= ~shapely.contains_xy(res.buffer(200.0), xy[:, 0], xy[:, 1])
    keep = np.flatnonzero(ok)[: n_target - len(hydro.reservoirs)]
    kind, xy, home = kind[keep], xy[keep], home[keep]
    n = len(keep)
    kname = np.array(kinds, dtype=object)[kind]

    geoms = shapely.points(xy)
    res_i = np.flatnonzero(kname == "reservoir")
    if len(res_i):
        # a small reservoir: a lumpy blob of 80-350 m radius
        rad = rng.uniform(80.0, 350.0, len(res_i))
        blobs = [
            shapely.union_all(
                shapely.buffer(
                    shapely.points(xy[i] + rng.normal(0, rr * 0.4, (3, 2))),
                    rr * rng.uniform(0.6, 1.0, 3),
                )
            )
            for i, rr in zip(res_i, rad, strict=True)
        ]
        geoms[res_i] = [
            shapely.Polygon(b.exterior)
            if isinstance(b, shapely.Polygon)
            else shapely.convex_hull(b)
            for b in blobs
        ]
    can_i = np.flatnonzero(kname == "canal")
    if len(can_i):
        ln = rng.uniform(500.0, 1500.0, len(can_i))
        ang = rng.uniform(0, 2 * np.pi, len(can_i))
        bend = rng.normal(0, 0.25, len(can_i))
        p1 = xy[can_i] + np.column_stack([np.cos(ang), np.sin(ang)]) * (ln / 2)[:, None]
        p2 = xy[can_i] + np.column_stack([np.cos(ang + bend), np.sin(ang + bend)]) * ln[:, None]
        geoms[can_i] = shapely.linestrings(np.stack([xy[can_i], p1, p2], axis=1))

    lo = np.array([KINDS[k][3][0] for k in kname], float)
    hi = np.array([KINDS[k][3][1] for k in kname], float)
    cap = np.round(lo * (hi / lo) ** rng.random(n), -1 if n else 0)
    hlo = np.array([KINDS[k][4][0] for k in kname])
    hhi = np.array([KINDS[k][4][1] for k in kname])
    hh = (hlo + rng.random(n) * (hhi - hlo)).astype(int)
    owner_row = villages["lgo"].to_numpy()[home]
    agency = np.array([KINDS[k][5] for k in kname], dtype=object)
    to_agency = (agency != None) & (rng.random(n) < 0.25)  # noqa: E711 (object array)
    none = np.array(None, dtype=object)  # a bare None, which numpy's stubs reject in np.where
    owner_id = np.where(to_agency, none, lgo_ids[owner_row]).astype(object)
    owner_id = np.where(
        ~to_agency & np.isin(kname, ["pond", "reservoir"]) & (rng.random(n) < 0.1), 1, owner_id
    )  # a few belong to the PAO
    agency = np.where(to_agency, agency, none)
    v_th = villages["name_th"].to_numpy()[home]
    v_en = villages["name_en"].to_numpy()[home]
    frame = pd.DataFrame(
        {
            "name_th": [KINDS[k][1] + v for k, v in zip(kname, v_th, strict=True)],
            "name_en": [f"{v} {KINDS[k][2]}" for k, v in zip(kname, v_en, strict=True)],
            "kind": kname,
            "capacity_m3": cap,
            "households_served": hh,
            "owner_local_body_id": pd.array(owner_id, dtype="Int64"),
            "owner_agency": agency,
            "year_built": rng.integers(1975, 2025, n),
            "geom": geoms,
        }
    )
    dams = pd.DataFrame(
        {
            "name_th": [d["name_th"] for d in hydro.dams],
            "name_en": [d["name_en"] for d in hydro.dams],
            "kind": "reservoir",
            "capacity_m3": [float(d["capacity_m3"]) for d in hydro.dams],
            "households_served": [int(d["households_served"]) for d in hydro.dams],
            "owner_local_body_id": pd.array([None] * len(hydro.dams), dtype="Int64"),
            "owner_agency": "RID",
            "year_built": [int(d["year_built"]) for d in hydro.dams],
            "geom": hydro.reservoirs,
        }
    )
    return pd.concat([dams, frame], ignore_index=True)


def split_by_geometry(water: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """The water sources as the registry stores them (0008): one frame per table of
    :data:`gis_registry.db.tables.WATER_GEOMETRIES`, by geometry type, ids kept; a Polygon
    becomes a one-part MultiPolygon for ``water_areas``."""
    types = water.geometry.geom_type
    out = {}
    for table, (_, kinds, _) in WATER_GEOMETRIES.items():
        part = water[types.isin(kinds).to_numpy()].copy()
        if "MultiPolygon" in kinds:
            part[part.geometry.name] = [
                shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in part.geometry
            ]
        out[table] = part.reset_index(drop=True)
    return out
