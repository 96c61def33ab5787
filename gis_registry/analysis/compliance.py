"""Compliance of a proposed asset with the zones it touches, by a rule table.

The default table is ``rules/compliance.csv`` (columns ``rule, asset, category, verdict,
reason``); pass ``rules=`` (a path or a DataFrame with the same columns) to use your own.
``category`` names a zoning category by its key or English name (compared as a slug:
"Rural and agricultural" = ``rural_and_agricultural``), ``*`` for every category without a rule
of its own, or ``unzoned`` for land outside every plan in force. The verdict of the asset is the
worst of the zones it touches: prohibited > unknown (no rule) > conditional > allowed.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection

from gis_registry.analysis._frames import read_rule_table
from gis_registry.analysis.zoning import check_geometry, parcel_zones
from gis_registry.errors import ValidationError

RULES_CSV = Path(__file__).parent / "rules" / "compliance.csv"
VERDICTS = ("allowed", "conditional", "unknown", "prohibited")  # best to worst
RULE_COLUMNS = ("rule", "asset", "category", "verdict", "reason")


def slug(name: str) -> str:
    """``'Open space, recreation, environment'`` -> ``'open_space_recreation_environment'``."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def load_rules(rules: pd.DataFrame | str | Path | None = None) -> pd.DataFrame:
    """The rule table (the default CSV when None), checked."""
    table = read_rule_table(
        rules, RULES_CSV, layer="compliance rules", dtype=str, keep_default_na=False
    )
    missing = [c for c in RULE_COLUMNS if c not in table.columns]
    if missing:
        raise ValidationError("compliance rules", [(None, c, "column missing") for c in missing])
    bad = table[~table["verdict"].isin(("allowed", "conditional", "prohibited"))]
    if len(bad):
        raise ValidationError(
            "compliance rules",
            [(r, "verdict", "must be allowed, conditional or prohibited") for r in bad["rule"]],
        )
    table["category"] = [c if c in ("*", "unzoned") else slug(c) for c in table["category"]]
    return table


def assets(rules: pd.DataFrame | str | Path | None = None) -> list[str]:
    """The asset kinds the rule table knows."""
    return sorted(set(load_rules(rules)["asset"]))


def rule_for(rules: pd.DataFrame, asset: str, category: str, category_en: str | None) -> dict:
    """The rule applying to ``asset`` in a category (own rule first, then ``*``)."""
    mine = rules[rules["asset"] == asset]
    names = {slug(category)} | ({slug(category_en)} if category_en else set())
    if category == "unzoned":
        names = {"unzoned"}
    for candidates in (mine[mine["category"].isin(names)], mine[mine["category"] == "*"]):
        if len(candidates):
            return candidates.iloc[0].to_dict()
    return {
        "rule": None,
        "verdict": "unknown",
        "reason": f"no rule for {asset} in {category_en or category}: check with the planners",
    }


def check_compliance(
    conn: Connection,
    *,
    asset: str,
    geom,
    on: date | None = None,
    rules: pd.DataFrame | str | Path | None = None,
) -> pd.DataFrame:
    """Is ``asset`` allowed where ``geom`` lies, on date ``on`` (default today)?

    Parameters
    ----------
    conn : an open connection
    asset : an asset kind of the rule table (landfill, reservoir, factory, road_widening, ...)
    geom : shapely geometry or WKT in EPSG:4326 (point, line or polygon)
    on : the plans in force on this date apply
    rules : the rule table (see the module doc)

    Returns
    -------
    DataFrame
        One row per zone touched (and ``unzoned`` for land outside every plan): plan, zone
        code, category, ``share`` of the asset, ``verdict``, ``rule`` and ``reason``.
        ``overall_verdict(frame)`` gives the asset's verdict.
    """
    table = load_rules(rules)
    if asset not in set(table["asset"]):
        raise ValidationError(
            "compliance",
            [(None, "asset", f"unknown asset '{asset}' (known: {', '.join(assets(table))})")],
        )
    zones = parcel_zones(conn, check_geometry(geom, layer="compliance"), on=on)
    verdicts = [
        rule_for(table, asset, row["category"], row.get("category_en"))
        for _, row in zones.iterrows()
    ]
    zones["asset"] = asset
    zones["verdict"] = [v["verdict"] for v in verdicts]
    zones["rule"] = [v["rule"] for v in verdicts]
    zones["reason"] = [v["reason"] for v in verdicts]
    return zones


def overall_verdict(result: pd.DataFrame) -> str:
    """The worst verdict of a :func:`check_compliance` result."""
    if not len(result):
        return "unknown"
    return max(result["verdict"], key=VERDICTS.index)
