"""The real province, its 13 districts and 100 tambons, the 102 LGO areas drawn from them, and
every office.

The boundaries are the real ones (HDX COD-AB, ``demo/data/boundaries``). LGO areas follow how
Thai local government is laid out over tambons (ตำบล):

- a tambon-level LGO (an SAO, or a municipality named after its tambon: the fact files name it
  by its tambon's Thai name, matched within its district) governs its whole tambon;
- a town-centre municipality (role ``centre``) takes the tambons no tambon-level LGO governs
  (Nakhon Lampang: the four city tambons), or else an irregular area of about ``radius_km``
  around its real centre inside its host tambon (the tambon of its name, else the one its centre
  lies in), whose SAO then governs the tambon minus that area.

So the 102 LGOs tile the province exactly: their shared borders are the tambons' own, on the
1 cm grid (:func:`gis_registry.demo.geo.to_utm`).

LGO codes are the registry's own and never a DOPA code (see :func:`lgo_code`); the real DOPA
code of the tambon an LGO is seated in goes into ``tambon_code``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from gis_registry import domain
from gis_registry.demo.facts import Facts
from gis_registry.demo.geo import GRID, as_multipolygon, latlon_points_to_utm, to_utm
from gis_registry.demo.rivers import Hydrography

OFFICE_RIVER_CLEARANCE = 400.0
OFFICE_EDGE_CLEARANCE = 300.0  # an office stands well inside its LGO (villages keep clear too)
TOWN_EDGE_CLEARANCE = 150.0  # metres between a town municipality and its tambon's border
PAO_OFFICE = (18.2577, 99.5445)  # Lampang provincial hall [lat, lon]

# First digit of an LGO code by kind. Followed by the 6-digit DOPA code of the tambon the office
# stands in, a code has 7 digits, so it can never equal a (6-digit) DOPA tambon code.
KIND_DIGIT = {
    "city_municipality": "2",
    "town_municipality": "3",
    "subdistrict_municipality": "4",
    "sao": "5",
}


@dataclass
class Territory:
    """Province, districts, tambons and LGOs (UTM); ``lgos`` in load order (row i: seq i + 2)."""

    outline: shapely.Polygon
    districts: pd.DataFrame  # code, name_th, name_en, office_x/y, geom
    tambons: pd.DataFrame  # code (DOPA), name_th, name_en, district_code, geom
    lgos: pd.DataFrame  # facts columns + code, seq, tambon_code, name_th/en, office_x/y, geom
    pao_office: np.ndarray  # (2,) metres


def lgo_code(kind: str, tambon_code: str) -> str:
    """The registry's code of an LGO: its kind's digit and the DOPA code of its seat's tambon.

    ``2`` city, ``3`` town and ``4`` subdistrict municipality, ``5`` SAO: the SAO of tambon
    Ko Kha (DOPA 520306) is ``5520306``. Seven digits, so never a DOPA tambon code (six);
    modelled on, but not taken from, the DLA's own numbering.
    """
    return KIND_DIGIT[kind] + tambon_code


def province_outline(facts: Facts) -> shapely.Polygon:
    """The real province boundary in UTM metres, snapped to the 1 cm grid."""
    return to_utm(facts.province.geometry.iloc[0])


def tambon_frame(facts: Facts) -> pd.DataFrame:
    """The 100 real tambons in UTM metres: code (DOPA), name_th, name_en, district_code, geom."""
    t = facts.tambons
    return pd.DataFrame(
        {
            "code": t["ADM3_PCODE"].to_numpy(),
            "name_th": t["ADM3_TH"].to_numpy(),
            "name_en": t["ADM3_EN"].to_numpy(),
            "district_code": t["ADM2_PCODE"].to_numpy(),
            "geom": to_utm(np.asarray(t.geometry)),
        }
    )


def _named_tambons(lgos: pd.DataFrame, tambons: pd.DataFrame) -> np.ndarray:
    """Row in ``tambons`` of the tambon each LGO is named after (its Thai name in the LGO's
    district), -1 for a town centre named after no tambon (Nakhon Lampang, Khelang Nakhon).

    Raises
    ------
    ValueError
        A tambon-level LGO names no tambon of its district, or two of them the same tambon.
    """
    index = {
        (d, n): i
        for i, (d, n) in enumerate(zip(tambons["district_code"], tambons["name_th"], strict=True))
    }
    out = np.full(len(lgos), -1)
    for i, row in enumerate(lgos.itertuples()):
        hit = index.get((row.district_code, row.stem_th))
        if hit is None and row.role != "centre":
            raise ValueError(
                f"local_bodies.csv: no tambon {row.stem_th} in district {row.district_code}"
            )
        out[i] = -1 if hit is None else hit
    governed = out[(out >= 0) & (lgos["role"] != "centre").to_numpy()]
    if len(np.unique(governed)) != len(governed):
        raise ValueError("local_bodies.csv: two tambon-level LGOs govern the same tambon")
    return out


def _town_area(centre: np.ndarray, radius: float, rng: np.random.Generator) -> shapely.Polygon:
    """An irregular, roughly round town area: the radius wobbles smoothly with the bearing."""
    theta = np.linspace(0.0, 2 * np.pi, 96, endpoint=False)
    r = np.ones_like(theta)
    for k in (2, 3, 5):
        r += rng.uniform(0.05, 0.16) * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
    pts = centre + radius * r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    return shapely.Polygon(pts)


def _lgo_areas(
    lgos: pd.DataFrame, tambons: pd.DataFrame, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each LGO's area (UTM MultiPolygons) and the centre it was drawn around (NaN if none)."""
    geoms = np.asarray(tambons["geom"])
    named = _named_tambons(lgos, tambons)
    is_centre = (lgos["role"] == "centre").to_numpy()
    tambon_of = np.where(is_centre, -1, named)  # the tambon each tambon-level LGO governs
    area = np.empty(len(lgos), object)
    area[tambon_of >= 0] = geoms[tambon_of[tambon_of >= 0]]
    centres = np.full((len(lgos), 2), np.nan)
    anchors = latlon_points_to_utm(lgos[["anchor_lat", "anchor_lon"]].fillna(0).to_numpy())
    district = lgos["district_code"].to_numpy()

    # Tambons no tambon-level LGO governs go to the nearest town centre of their district.
    orphans: dict[int, list[int]] = {int(i): [] for i in np.flatnonzero(is_centre)}
    for t in sorted(set(range(len(tambons))) - set(tambon_of[tambon_of >= 0].tolist())):
        towns = np.flatnonzero(is_centre & (district == tambons.at[t, "district_code"]))
        if not len(towns):
            raise ValueError(f"tambon {tambons.at[t, 'code']} has no LGO in local_bodies.csv")
        at = shapely.get_coordinates(shapely.point_on_surface(geoms[t]))[0]
        orphans[int(towns[np.argmin(np.hypot(*(anchors[towns] - at).T))])].append(t)

    for i, mine in orphans.items():
        if mine:
            area[i] = shapely.union_all(geoms[mine], grid_size=GRID)
            centres[i] = anchors[i]
            continue
        host = (
            int(named[i])
            if named[i] >= 0
            else int(np.flatnonzero(shapely.contains_xy(geoms, *anchors[i]))[0])
        )
        governor = np.flatnonzero(tambon_of == host)
        if not len(governor) or lgos.at[int(governor[0]), "kind"] != "sao":
            raise ValueError(f"{lgos.at[i, 'stem_en']}: its host tambon must be an SAO's")
        host_geom = area[int(governor[0])]
        centre = anchors[i]
        core = host_geom.buffer(-OFFICE_EDGE_CLEARANCE * 2)
        if not core.contains(shapely.Point(centre)):  # the centre lies over the tambon line
            centre = np.asarray(
                shapely.get_coordinates(shapely.shortest_line(core, shapely.Point(centre)))[0]
            )
        # The town stays off the tambon's own border, so the neighbours' borders (the real
        # tambon lines) keep exactly their vertices: the SAO surrounds its municipality.
        town = shapely.intersection(
            _town_area(centre, float(lgos.at[i, "radius_km"]) * 1000.0, rng),
            host_geom.buffer(-TOWN_EDGE_CLEARANCE),
            grid_size=GRID,
        )
        area[i] = town
        area[int(governor[0])] = shapely.difference(host_geom, town, grid_size=GRID)
        centres[i] = centre
    return np.array([as_multipolygon(g) for g in area]), centres


def build_territory(facts: Facts, hydro: Hydrography, rng: np.random.Generator) -> Territory:
    """The real districts and tambons, the LGO areas drawn from them, and every office.

    Parameters
    ----------
    facts
        The demo's fact files (real boundaries included).
    hydro
        Rivers and reservoirs (offices keep clear of them).
    rng
        The plan's random generator (town areas).

    Returns
    -------
    Territory

    Raises
    ------
    ValueError
        The fact files disagree with the boundaries (an LGO names no tambon of its district, a
        tambon has no LGO, a town centre's host tambon is not an SAO's).
    """
    outline = province_outline(facts)
    tambons = tambon_frame(facts)
    dist = facts.districts.reset_index(drop=True)
    lgos = facts.local_bodies.reset_index(drop=True).copy()
    d_office = latlon_points_to_utm(dist[["office_lat", "office_lon"]].to_numpy())
    geoms, centres = _lgo_areas(lgos, tambons, rng)

    # Offices: town centres at their centre, district seats down the road from the district
    # office, the rest at a given anchor or mid-area; always inside and clear of water.
    reservoirs = shapely.union_all(hydro.reservoirs).buffer(300.0)
    anchors = lgos[["anchor_lat", "anchor_lon"]].to_numpy()
    offices = np.zeros((len(lgos), 2))
    for i in range(len(lgos)):
        role = lgos.at[i, "role"]
        if role == "centre":
            want = centres[i]
        elif role == "capital":
            d_idx = int(np.flatnonzero(dist["code"].to_numpy() == lgos.at[i, "district_code"])[0])
            want = d_office[d_idx] + np.array([350.0, 250.0])
        elif not np.isnan(anchors[i, 0]):
            want = latlon_points_to_utm([anchors[i]])[0]
        else:
            want = shapely.get_coordinates(shapely.centroid(geoms[i]))[0]
        offices[i] = _clear_point(want, geoms[i], hydro, reservoirs)
    lgos["office_x"], lgos["office_y"] = offices[:, 0], offices[:, 1]
    lgos["geom"] = geoms
    lgos["tambon_code"] = tambon_codes_at(tambons, offices[:, 0], offices[:, 1])
    _name_lgos(lgos)

    district_geom = dict(
        zip(
            facts.district_areas["ADM2_PCODE"],
            to_utm(np.asarray(facts.district_areas.geometry)),
            strict=True,
        )
    )
    districts = dist[["code", "name_th", "name_en"]].copy()
    districts["office_x"], districts["office_y"] = d_office[:, 0], d_office[:, 1]
    districts["geom"] = [as_multipolygon(district_geom[c]) for c in dist["code"]]
    pao = latlon_points_to_utm([PAO_OFFICE])[0]
    return Territory(
        outline=outline, districts=districts, tambons=tambons, lgos=lgos, pao_office=pao
    )


def _clear_point(
    want: np.ndarray, area: shapely.Geometry, hydro: Hydrography, reservoirs: shapely.Geometry
) -> np.ndarray:
    """``want`` if it is well inside ``area`` and clear of water, else the nearest point that is
    (from a 50 x 50 grid over the area), else a point on the area's surface."""
    inner = area.buffer(-OFFICE_EDGE_CLEARANCE)
    if inner.is_empty:
        inner = area.buffer(-50.0)
    x0, y0, x1, y1 = area.bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, 50), np.linspace(y0, y1, 50))
    pts = np.vstack([want[None, :], np.column_stack([gx.ravel(), gy.ravel()])])
    ok = shapely.contains_xy(inner, pts[:, 0], pts[:, 1])
    ok &= ~shapely.contains_xy(reservoirs, pts[:, 0], pts[:, 1])
    ok &= (
        hydro.distance(pts[:, 0], pts[:, 1], cap=OFFICE_RIVER_CLEARANCE + 1.0)
        > OFFICE_RIVER_CLEARANCE
    )
    if not ok.any():
        return shapely.get_coordinates(shapely.point_on_surface(inner))[0]
    good = pts[ok]
    return good[np.argmin(np.hypot(*(good - want).T))]


def tambon_codes_at(tambons: pd.DataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """DOPA code of the tambon (a row of :func:`tambon_frame`) holding each point (None
    outside the province)."""
    hit = shapely.STRtree(np.asarray(tambons["geom"])).query(
        shapely.points(np.column_stack([x, y])), predicate="within"
    )
    out = np.full(len(x), None, object)
    out[hit[0]] = tambons["code"].to_numpy()[hit[1]]
    return out


KIND_EN = {
    "city_municipality": "{} City Municipality",
    "town_municipality": "{} Town Municipality",
    "subdistrict_municipality": "{} Subdistrict Municipality",
    "sao": "{} SAO",
}


def _name_lgos(lgos: pd.DataFrame) -> None:
    """Official-style names, codes (:func:`lgo_code`) and ``seq`` (file order; the PAO is 1)."""
    kind_th = {k: t.th for k, t in domain.LOCAL_BODY_KIND_TERMS.items()}
    lgos["name_th"] = [kind_th[k] + s for k, s in zip(lgos["kind"], lgos["stem_th"], strict=True)]
    en = [KIND_EN[k].format(s) for k, s in zip(lgos["kind"], lgos["stem_en"], strict=True)]
    lgos["name_en"] = [
        "Nakhon Lampang City Municipality" if k == "city_municipality" else e
        for k, e in zip(lgos["kind"], en, strict=True)
    ]
    lgos["code"] = [lgo_code(k, t) for k, t in zip(lgos["kind"], lgos["tambon_code"], strict=True)]
    if lgos["code"].duplicated().any():
        raise ValueError(
            f"two LGOs share a code: {lgos['code'][lgos['code'].duplicated()].tolist()}"
        )
    lgos["seq"] = np.arange(len(lgos)) + 2  # seq 1 is the PAO
