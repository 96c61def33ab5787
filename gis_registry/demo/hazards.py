"""Hazard areas: flood-prone land along the Wang and its tributaries, and landslide-prone
slopes in the mountainous north (Wang Nuea, Ngao, Chae Hom) and the west.

Flood bands are buffers of the river course in metres: high near the channel (wider through
the Mueang Lampang and Ko Kha flood plain), medium and low further out. Bands of one river do
not overlap each other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from gis_registry.demo.geo import GRID, as_multipolygon, latlon_points_to_utm
from gis_registry.demo.rivers import Hydrography
from gis_registry.demo.territory import Territory
from gis_registry.domain import SEVERITY_TERMS

FLOOD_SOURCE = "GISTDA flood-prone area 2011-2022 (demo approximation)"
LANDSLIDE_SOURCE = "DMR landslide risk map (demo approximation)"
# landslide-prone hill areas: centre [lat, lon], radius km
LANDSLIDE_SPOTS = (
    ("ดอยหลวง วังเหนือ", "Doi Luang, Wang Nuea", (19.25, 99.55), 6.0, "high"),
    ("ห้วยแม่ส้าน วังเหนือ", "Huai Mae San, Wang Nuea", (19.05, 99.73), 4.5, "medium"),
    ("ดอยขุนตาล งาว", "Doi Khun Tan, Ngao", (18.92, 99.88), 5.5, "high"),
    ("บ้านแหง งาว", "Ban Haeng, Ngao", (18.65, 100.00), 4.0, "medium"),
    ("ดอยพระบาท แจ้ห่ม", "Doi Phra Bat, Chae Hom", (18.90, 99.52), 5.0, "medium"),
    ("ผาเมือง เมืองปาน", "Pha Mueang, Mueang Pan", (18.80, 99.42), 4.0, "low"),
    ("ดอยขุนตาล ห้างฉัตร", "Doi Khun Tan, Hang Chat", (18.42, 99.22), 4.5, "medium"),
    ("แม่มอก เถิน", "Mae Mok, Thoen", (17.75, 99.12), 5.0, "low"),
)


def hazard_frame(
    territory: Territory, hydro: Hydrography, rng: np.random.Generator
) -> pd.DataFrame:
    """Flood and landslide polygons (UTM geometry in ``geom``)."""
    rows = []
    province = territory.outline
    floodplain = shapely.union_all(
        [
            g
            for code, g in zip(
                territory.districts["code"], territory.districts["geom"], strict=True
            )
            if code in ("5201", "5203")
        ]
    )
    for r, key in enumerate(hydro.keys):
        line = hydro.geometry(r)
        main = key == "wang"
        widths = (450.0, 1300.0, 2600.0) if main else (200.0, 600.0, 1200.0)
        high = line.buffer(widths[0])
        if main:
            high = shapely.union(high, shapely.intersection(line.buffer(1100.0), floodplain))
        bands = {"high": high, "medium": line.buffer(widths[1]), "low": line.buffer(widths[2])}
        inner = shapely.Polygon()
        for sev in ("high", "medium", "low"):
            band = as_multipolygon(
                shapely.intersection(
                    shapely.difference(bands[sev], inner, grid_size=GRID), province, grid_size=GRID
                )
            )
            inner = shapely.union(inner, band, grid_size=GRID)
            rows.append(
                {
                    "name_th": f"พื้นที่เสี่ยงน้ำท่วม{hydro.names_th[r]} (ระดับ{SEVERITY_TERMS[sev].th})",
                    "name_en": f"{hydro.names_en[r]} flood-prone area ({sev})",
                    "hazard_type": "flood",
                    "severity": sev,
                    "source": FLOOD_SOURCE,
                    "geom": band,
                }
            )
    for th, en, centre, radius, sev in LANDSLIDE_SPOTS:
        c = latlon_points_to_utm([centre])[0]
        lobes = c + rng.normal(0, radius * 300.0, (5, 2))
        blob = shapely.union_all(
            shapely.buffer(shapely.points(lobes), radius * 1000.0 * rng.uniform(0.35, 0.6, 5))
        )
        blob = shapely.intersection(blob, province, grid_size=GRID)
        rows.append(
            {
                "name_th": f"พื้นที่เสี่ยงดินถล่ม {th}",
                "name_en": f"Landslide risk: {en}",
                "hazard_type": "landslide",
                "severity": sev,
                "source": LANDSLIDE_SOURCE,
                "geom": as_multipolygon(blob),
            }
        )
    return pd.DataFrame(rows)
