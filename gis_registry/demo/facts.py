"""The facts the demo is built on, read from the package's ``demo/data`` folder.

The files are hand-written from public sources (see ``data/README.md`` at the project root),
except ``boundaries/``: the real HDX COD-AB boundaries of the province, its districts and
tambons. They ship as package data, so an installed ``gis-registry`` can build the demo without
the source tree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from io import StringIO

import geopandas as gpd
import pandas as pd
import pyogrio


def _text(name: str) -> str:
    return resources.files("gis_registry.demo").joinpath("data").joinpath(name).read_text("utf-8")


def _csv(name: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(StringIO(_text(name)), keep_default_na=False, na_values={""}, **kwargs)


def _boundaries(name: str) -> gpd.GeoDataFrame:
    """One of the real HDX COD-AB boundary files (EPSG:4326), with DOPA codes without "TH"."""
    raw = resources.files("gis_registry.demo").joinpath("data", "boundaries", name).read_bytes()
    frame = pyogrio.read_dataframe(raw)
    for level in ("ADM1", "ADM2", "ADM3"):
        if f"{level}_PCODE" in frame:
            frame[f"{level}_PCODE"] = frame[f"{level}_PCODE"].str.removeprefix("TH")
    return frame


@dataclass(frozen=True)
class Facts:
    """Everything read from the fact files (treat as read-only)."""

    districts: pd.DataFrame
    local_bodies: pd.DataFrame
    province: gpd.GeoDataFrame
    district_areas: gpd.GeoDataFrame
    tambons: gpd.GeoDataFrame
    highways: dict
    rivers: dict
    dams: pd.DataFrame
    weak_links: dict
    zoning_categories: pd.DataFrame
    village_names: pd.DataFrame


@lru_cache(maxsize=1)
def load_facts() -> Facts:
    """Read (once per process) the demo's fact files.

    Returns
    -------
    Facts
        District table (DOPA codes, names, office points, areas), the 102 LGOs with their kind
        and placement role, the real province, district and tambon boundaries (HDX COD-AB,
        EPSG:4326, ``ADM*_PCODE`` without the ``TH`` prefix), highway and river waypoints, the
        two large RID dams, the planted weak-link zones, the DPT zoning palette and
        village-name parts.
    """
    return Facts(
        districts=_csv("districts.csv", dtype={"code": str}),
        local_bodies=_csv("local_bodies.csv", dtype={"district_code": str}),
        province=_boundaries("province.geojson"),
        district_areas=_boundaries("districts.geojson"),
        tambons=_boundaries("tambons.geojson"),
        highways=json.loads(_text("highways.json")),
        rivers=json.loads(_text("rivers.json")),
        dams=_csv("dams.csv"),
        weak_links=json.loads(_text("weak_links.json")),
        zoning_categories=_csv("zoning_categories.csv"),
        village_names=_csv("village_names.csv"),
    )
