"""``plan_demo``: the whole province in memory, one frame per registry layer."""

from __future__ import annotations

import geopandas as gpd
import igraph as ig
import numpy as np
import pandas as pd
import shapely

from gis_registry.demo.bridges import bridge_frame
from gis_registry.demo.chainages import point_chainage, road_chainage
from gis_registry.demo.codes import assign_codes
from gis_registry.demo.facts import load_facts
from gis_registry.demo.geo import WGS84, as_multipolygon, to_wgs84, utm_to_lonlat
from gis_registry.demo.hazards import hazard_frame
from gis_registry.demo.highways import build_highways
from gis_registry.demo.model import DemoPlan, WeakLink
from gis_registry.demo.network import LGO_OFFICE, PAO, VILLAGE, RoadNetwork, build_network
from gis_registry.demo.rivers import build_hydrography
from gis_registry.demo.roads import road_frame
from gis_registry.demo.settlements import draw_nodes, settlement_frame
from gis_registry.demo.territory import build_territory, province_outline
from gis_registry.demo.water import split_by_geometry, water_frame
from gis_registry.demo.weak_links import plan_zones
from gis_registry.demo.works import asset_frame, inspection_frame, works_frame
from gis_registry.demo.zoning import category_frame, plan_frame, zone_frame

PAO_ID = 1
PAO_NAME_TH = "องค์การบริหารส่วนจังหวัดลำปาง"
PAO_NAME_EN = "Lampang Provincial Administrative Organization"


def _gdf(frame: pd.DataFrame, geometry: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=WGS84)


def plan_demo(*, seed: int = 52, scale: float = 1) -> DemoPlan:
    """Generate the Lampang demo province in memory (no database).

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; the same seed and scale give identical frames.
    scale
        1 is Lampang as it is (~930 villages, ~6,000 road segments); ``K`` multiplies the
        villages, water sources and local road density (districts, LGOs, highways and rivers
        stay as they are). Must be positive.

    Returns
    -------
    DemoPlan
        Frames in ``tables.LAYERS`` order (GeoDataFrames in EPSG:4326 for spatial layers) and
        the weak links: bridges whose closure cuts villages or LGO offices off from the PAO.
    """
    if not scale > 0:
        raise ValueError("scale must be positive")
    rng = np.random.default_rng(seed)
    facts = load_facts()
    outline = province_outline(facts)
    hydro = build_hydrography(facts, outline, rng)
    territory = build_territory(facts, hydro, rng)
    highways = build_highways(facts, outline, hydro)
    zones = plan_zones(facts, hydro, territory, highways)
    lgos, dist = territory.lgos, territory.districts
    fixed = np.vstack(
        [
            territory.pao_office[None, :],
            dist[["office_x", "office_y"]].to_numpy(),
            lgos[["office_x", "office_y"]].to_numpy(),
            *[h.coords for h in highways],
        ]
    )
    draw = draw_nodes(territory, hydro, highways, zones, fixed, scale, rng)
    net = build_network(territory, hydro, highways, zones, draw, scale, rng)

    lon, lat = utm_to_lonlat(net.xy[:, 0], net.xy[:, 1])
    node_ll = np.column_stack([lon, lat])
    node_pts = shapely.points(node_ll)
    lgo_ids = np.arange(len(lgos)) + 2  # id 1 is the PAO; id == seq
    village_node = np.full(len(draw.villages), -1)
    is_v = net.kind == VILLAGE
    village_node[net.ref[is_v]] = np.flatnonzero(is_v)
    lgo_node = np.full(len(lgos), -1)
    is_o = net.kind == LGO_OFFICE
    lgo_node[net.ref[is_o]] = np.flatnonzero(is_o)

    # settlements
    alive = draw.villages[net.village_alive].copy()
    alive["node"] = village_node[net.village_alive]
    sett = settlement_frame(alive, territory, facts, rng)
    sett["id"] = np.arange(1, len(sett) + 1)
    settlements = _gdf(
        pd.DataFrame(
            {
                "id": sett["id"],
                "village_code": sett["village_code"],
                "moo": sett["moo"],
                "name_th": sett["name_th"],
                "name_en": sett["name_en"],
                "local_body_id": lgo_ids[sett["lgo"].to_numpy()],
                "population": sett["population"],
                "households": sett["households"],
                "geom": node_pts[sett["node"].to_numpy()],
            }
        ),
        "geom",
    )

    # districts and local bodies
    districts = _gdf(
        pd.DataFrame(
            {
                "code": dist["code"],
                "name_th": dist["name_th"],
                "name_en": dist["name_en"],
                "office": shapely.points(
                    np.column_stack(utm_to_lonlat(dist["office_x"], dist["office_y"]))
                ),
                "boundary": to_wgs84(np.asarray(dist["geom"])),
            }
        ),
        "boundary",
    )
    province = as_multipolygon(territory.outline)
    local_bodies = _gdf(
        pd.DataFrame(
            {
                "id": np.concatenate([[PAO_ID], lgo_ids]),
                "code": ["52", *lgos["code"]],
                "seq": np.concatenate([[1], lgos["seq"].to_numpy()]),
                "name_th": [PAO_NAME_TH, *lgos["name_th"]],
                "name_en": [PAO_NAME_EN, *lgos["name_en"]],
                "kind": ["pao", *lgos["kind"]],
                "district_code": [None, *lgos["district_code"]],
                "tambon_code": [None, *lgos["tambon_code"]],
                "boundary": to_wgs84(np.concatenate([[province], np.asarray(lgos["geom"])])),
                "office": node_pts[np.concatenate([[0], lgo_node])],
            }
        ),
        "boundary",
    )

    rivers = _gdf(
        pd.DataFrame(
            {
                "id": np.arange(1, len(hydro.keys) + 1),
                "name_th": hydro.names_th,
                "name_en": hydro.names_en,
                "geom": to_wgs84(np.array([shapely.LineString(c) for c in hydro.lines])),
            }
        ),
        "geom",
    )

    # roads: ids in (class, route) order
    attrs, order = road_frame(net, territory, highways, sett, lgo_ids, rng)
    seg = net.segments
    seg_id = np.empty(len(seg), int)
    seg_id[order] = np.arange(1, len(seg) + 1)
    roads = attrs.iloc[order].reset_index(drop=True)
    roads.insert(0, "id", np.arange(1, len(seg) + 1))
    su, sv = seg["u"].to_numpy()[order], seg["v"].to_numpy()[order]
    roads["geom"] = shapely.linestrings(np.stack([node_ll[su], node_ll[sv]], axis=1))
    roads = _gdf(roads, "geom")
    road_len = np.hypot(*(net.xy[sv] - net.xy[su]).T)
    road_first, road_last = road_chainage(
        roads["code"], net.xy[su], net.xy[sv], highways, territory.pao_office
    )
    road_first, road_last = np.round(road_first, 1), np.round(road_last, 1)  # decimetres
    roads.insert(roads.columns.get_loc("year_built") + 1, "chainage_start_m", road_first)
    roads.insert(roads.columns.get_loc("chainage_start_m") + 1, "chainage_end_m", road_last)

    b = bridge_frame(net, hydro, zones, sett, rng)
    b["road_id"] = seg_id[b["segment"].to_numpy()]
    on = b["road_id"].to_numpy() - 1
    b["chainage_m"] = np.round(
        point_chainage(
            b["x"].to_numpy(),
            b["y"].to_numpy(),
            net.xy[su][on],
            net.xy[sv][on],
            road_first[on],
            road_last[on],
        ),
        1,
    )
    b = b.sort_values("road_id", kind="stable").reset_index(drop=True)
    b["id"] = np.arange(1, len(b) + 1)
    bridges = _gdf(
        pd.DataFrame(
            {
                "id": b["id"],
                "road_id": b["road_id"],
                "name_th": b["name_th"],
                "name_en": b["name_en"],
                "structure_type": b["structure_type"],
                "material": b["material"],
                "length_m": b["length_m"],
                "spans": b["spans"],
                "load_limit_t": b["load_limit_t"],
                "river_id": b["river"] + 1,
                "chainage_m": b["chainage_m"],
                "year_built": b["year_built"],
                "geom": shapely.points(np.column_stack(utm_to_lonlat(b["x"], b["y"]))),
            }
        ),
        "geom",
    )

    w = water_frame(territory, hydro, sett, lgo_ids, scale, rng)
    w.insert(0, "id", np.arange(1, len(w) + 1))
    w["geom"] = to_wgs84(np.asarray(w["geom"]))
    water = _gdf(w, "geom")

    z = zone_frame(territory, hydro, highways, rng)
    z.insert(0, "id", np.arange(1, len(z) + 1))
    z["geom"] = to_wgs84(np.asarray(z["geom"]))
    h = hazard_frame(territory, hydro, rng)
    h.insert(0, "id", np.arange(1, len(h) + 1))
    h["geom"] = to_wgs84(np.asarray(h["geom"]))

    assets = asset_frame(roads.assign(length_m=road_len), bridges, water)
    works = works_frame(assets, rng)
    inspections = inspection_frame(assets, works, rng)

    frames = {
        "districts": districts,
        "local_bodies": local_bodies,
        "settlements": settlements,
        "rivers": rivers,
        "roads": roads,
        "bridges": bridges,
        "water_sources": water,
        "zoning_categories": category_frame(facts),
        "zoning_plans": plan_frame(),
        "zoning_zones": _gdf(z, "geom"),
        "hazard_areas": _gdf(h, "geom"),
        "inspections": inspections,
        "maintenance_works": works,
    }
    assign_codes(frames)
    # stored by geometry type (0008), in the load order of LAYERS
    frames = {
        k: v
        for name, frame in frames.items()
        for k, v in (split_by_geometry(frame) if name == "water_sources" else {name: frame}).items()
    }
    weak = weak_links(net, seg_id, b, sett, lgos)
    return DemoPlan(seed=seed, scale=scale, frames=frames, weak_links=weak)


def weak_links(
    net: RoadNetwork,
    seg_id: np.ndarray,
    bridges: pd.DataFrame,
    settlements: pd.DataFrame,
    lgos: pd.DataFrame,
) -> list[WeakLink]:
    """Bridges whose closure cuts villages or LGO offices off from the PAO office.

    Found on the road graph itself (a bridge segment that is a cut edge of the network), so
    the list is the truth about the generated data, planted or not.
    """
    seg = net.segments
    g = ig.Graph(n=len(net.xy), edges=seg[["u", "v"]].to_numpy().tolist())
    cut = set(g.bridges())
    village_of = dict(zip(settlements["node"], settlements["id"], strict=True))
    office_of = {
        int(n): lgos.at[int(r), "code"]
        for n, r in zip(
            np.flatnonzero(net.kind == LGO_OFFICE), net.ref[net.kind == LGO_OFFICE], strict=True
        )
    }
    pao = int(np.flatnonzero(net.kind == PAO)[0])
    out = []
    for row in bridges.itertuples():
        if row.segment not in cut:
            continue
        g2 = g.copy()
        g2.delete_edges([row.segment])
        reach = np.zeros(len(net.xy), bool)
        reach[g2.subcomponent(pao)] = True
        lost_v = sorted(int(village_of[n]) for n in village_of if not reach[n])
        lost_o = sorted(code for n, code in office_of.items() if not reach[n])
        if lost_v or lost_o:
            out.append(
                WeakLink(
                    bridge_id=int(row.id),
                    road_id=int(seg_id[row.segment]),
                    settlement_ids=lost_v,
                    local_body_codes=lost_o,
                )
            )
    return out
