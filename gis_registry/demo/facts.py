"""The facts the demo is built on, read from the package's ``demo/data`` folder.

The files are hand-written from public sources (see ``data/README.md`` at the project root) and
ship as package data, so an installed ``gis-registry`` can build the demo without the source tree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from io import StringIO

import pandas as pd


def _text(name: str) -> str:
    return resources.files("gis_registry.demo").joinpath("data").joinpath(name).read_text("utf-8")


def _csv(name: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(StringIO(_text(name)), keep_default_na=False, na_values={""}, **kwargs)


@dataclass(frozen=True)
class Facts:
    """Everything read from the fact files (treat as read-only)."""

    districts: pd.DataFrame
    local_bodies: pd.DataFrame
    outline: pd.DataFrame
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
        and placement role, the province outline vertices, highway and river waypoints, the two
        large RID dams, the planted weak-link zones, the DPT zoning palette and village-name parts.
    """
    return Facts(
        districts=_csv("districts.csv", dtype={"code": str}),
        local_bodies=_csv("local_bodies.csv", dtype={"district_code": str}),
        outline=_csv("province_outline.csv"),
        highways=json.loads(_text("highways.json")),
        rivers=json.loads(_text("rivers.json")),
        dams=_csv("dams.csv"),
        weak_links=json.loads(_text("weak_links.json")),
        zoning_categories=_csv("zoning_categories.csv"),
        village_names=_csv("village_names.csv"),
    )
