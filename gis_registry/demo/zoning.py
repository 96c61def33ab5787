"""DPT zoning palette and two comprehensive plans for Lampang city (ผังเมืองรวมเมืองลำปาง).

Zones are painted in priority order inside a 15 km disc around the city centre: each zone is
its shape minus everything painted before, so zones of one plan never overlap and together
tile the disc.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import shapely

from gis_registry.demo.facts import Facts
from gis_registry.demo.geo import GRID, as_multipolygon, latlon_points_to_utm
from gis_registry.demo.highways import Highway
from gis_registry.demo.rivers import Hydrography

CITY_CENTRE = (18.29, 99.49)
PLAN_RADIUS = 15_000.0

PLANS: tuple[dict[str, Any], ...] = (
    {
        "id": 1,
        "code": "LP-CITY-2561",
        "name_th": "ผังเมืองรวมเมืองลำปาง พ.ศ. 2561",
        "name_en": "Lampang City Comprehensive Plan 2018",
        "effective_date": dt.date(2018, 6, 14),
        "expiry_date": dt.date(2023, 6, 13),
        "grow": 0.85,
    },
    {
        "id": 2,
        "code": "LP-CITY-2567",
        "name_th": "ผังเมืองรวมเมืองลำปาง (ปรับปรุงครั้งที่ 1) พ.ศ. 2567",
        "name_en": "Lampang City Comprehensive Plan 2024 (first revision)",
        "effective_date": dt.date(2024, 3, 1),
        "expiry_date": dt.date(2029, 2, 28),
        "grow": 1.0,
    },
)


def category_frame(facts: Facts) -> pd.DataFrame:
    """The zoning_categories rows (hatch empty where the category is drawn plain)."""
    cats = facts.zoning_categories.copy()
    cats["hatch"] = cats["hatch"].astype(object).where(cats["hatch"].notna(), None)
    cats["sort_order"] = cats["sort_order"].astype(int)
    return cats


def plan_frame() -> pd.DataFrame:
    """The zoning_plans rows: the 2018 plan (expired) and its 2024 revision (in force).

    Plan codes are ``LP-CITY-<year of the plan, BE>``: Lampang city's plan of 2561 and 2567.
    """
    return pd.DataFrame([{k: v for k, v in p.items() if k != "grow"} for p in PLANS])


def _sector(c: np.ndarray, r0: float, r1: float, a0: float, a1: float) -> shapely.Polygon:
    ang = np.radians(np.linspace(a0, a1, 48))
    outer = np.column_stack([c[0] + r1 * np.cos(ang), c[1] + r1 * np.sin(ang)])
    inner = np.column_stack([c[0] + r0 * np.cos(ang[::-1]), c[1] + r0 * np.sin(ang[::-1])])
    return shapely.Polygon(np.vstack([outer, inner]))


def zone_frame(
    hydro: Hydrography, highways: list[Highway], rng: np.random.Generator
) -> pd.DataFrame:
    """Zones (UTM geometry in ``geom``) of both plans.

    Parameters
    ----------
    hydro
        The Wang (conservation strip along it).
    highways
        Commercial strips follow the highways out of town.
    rng
        The plan's random generator (shape jitter).
    """
    c = latlon_points_to_utm([CITY_CENTRE])[0]
    disc = shapely.Point(c).buffer(PLAN_RADIUS, quad_segs=32)
    wang = hydro.geometry(hydro.index("wang"))
    hall = latlon_points_to_utm([[18.2577, 99.5445]])[0]
    rajabhat = latlon_points_to_utm([[18.2290, 99.4890]])[0]
    wat_lampang_luang = latlon_points_to_utm([[18.2175, 99.3893]])[0]
    wat_don_tao = latlon_points_to_utm([[18.2960, 99.5090]])[0]
    hw_lines = shapely.union_all([shapely.LineString(h.coords) for h in highways])
    rows = []
    for plan in PLANS:
        g = plan["grow"]
        jitter = rng.uniform(0.9, 1.1, 8)
        # (category, land-use code, shape); earlier shapes win where they overlap
        shapes = [
            (
                "thai_art_culture_conservation",
                "ศ.1",
                shapely.Point(wat_don_tao).buffer(450.0 * jitter[0]),
            ),
            ("religious", "ส.3", shapely.Point(wat_lampang_luang).buffer(350.0)),
            ("open_space", "ล.1", wang.buffer(180.0)),
            ("government", "ส.1", shapely.Point(hall).buffer(650.0 * jitter[1])),
            ("education", "ส.2", shapely.Point(rajabhat).buffer(550.0 * jitter[2])),
            ("commercial", "พ.2", shapely.Point(c).buffer(1500.0 * g * jitter[3])),
            ("residential_conservation", "ย.อ.", shapely.Point(wat_don_tao).buffer(900.0)),
            (
                "commercial",
                "พ.1",
                hw_lines.buffer(120.0).intersection(shapely.Point(c).buffer(7000.0 * g)),
            ),
            ("high_density_residential", "ย.8", shapely.Point(c).buffer(3000.0 * g * jitter[4])),
            ("industrial", "อ.2", _sector(c, 5000.0 * g, 9000.0 * g, 285.0, 320.0)),
            ("warehouse", "อ.3", _sector(c, 4500.0 * g, 7000.0 * g, 320.0, 340.0)),
            ("special_industrial", "อ.4", _sector(c, 9000.0, 13000.0, 60.0, 80.0)),
            ("medium_density_residential", "ย.5", shapely.Point(c).buffer(6000.0 * g)),
            ("low_density_residential", "ย.3", shapely.Point(c).buffer(10_000.0 * g)),
            (
                "rural_agricultural_conservation",
                "ก.2",
                _sector(c, 10_000.0, PLAN_RADIUS + 10, 100.0, 200.0),
            ),
            ("rural_agricultural", "ก.4", disc),
        ]
        # Node every shape's outline once and polygonize: faces then share exact edges, and
        # each face goes to the first shape (in priority order) that holds it.
        clipped = [
            shapely.intersection(shapely.segmentize(shape, 100.0), disc, grid_size=GRID)
            for _, _, shape in shapes
        ]
        lines = shapely.union_all(
            [shapely.boundary(g) for g in clipped if not g.is_empty], grid_size=GRID
        )
        faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))))
        rep = shapely.get_coordinates(shapely.point_on_surface(faces))
        label = np.full(len(faces), -1)
        for k, g in enumerate(clipped):
            free = label < 0
            label[free & shapely.contains_xy(g, rep[:, 0], rep[:, 1])] = k
        for k, (category, code, _) in enumerate(shapes):
            part = as_multipolygon(shapely.coverage_union_all(faces[label == k]))
            if part.is_empty or part.area < 1000.0:
                continue
            rows.append(
                {"plan_id": plan["id"], "land_use_code": code, "category": category, "geom": part}
            )
    return pd.DataFrame(rows)
