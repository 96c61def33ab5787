"""The natural keys of the demo's records: ``code`` on most layers, ``segment`` on roads.

Readable, unique and deterministic (the scheme is listed in ``data/README.md``):

========================  =====================================================================
rivers                    ``R-<nn>`` in id order (``R-01``)
roads                     the route's code (``1035``, ``ลป.4007``, ``ลป.ถ. 12-0003``) and
                          ``segment`` 1..n along the code in id order
bridges                   ``B-<nnnn>``: the id
water sources             ``W-<owner>-<nnn>``: the owning LGO's code (the PAO is ``52``) or the
                          agency (``W-RID-002``), numbered within the owner in id order
zoning plans              ``LP-CITY-<BE year>`` (in ``zoning.PLANS``)
zoning zones              ``<plan code>-<land-use code>`` (``LP-CITY-2567-ย.3``)
hazard areas              ``FL-<nnn>`` (flood) and ``LS-<nnn>`` (landslide), numbered in id order
inspections               ``I-<nnnnnn>``: the id
maintenance works         ``MW-<fiscal year>-<nnnn>``, numbered within the fiscal year in id order
========================  =====================================================================

Bridge and inspection codes are what migration 0004 gives rows it finds, so a registry that
held the demo before 0004 has the same keys as one loaded after it. Widths are minimums: at
large scales numbers grow a digit and stay unique.
"""

from __future__ import annotations

import pandas as pd

SMALLINT_MAX = 32_767


def numbered(groups: pd.Series, width: int) -> pd.Series:
    """``<group>-<n>``: rows numbered 1, 2, ... within each group, in frame order.

    Parameters
    ----------
    groups
        The prefix of each row's code (already holding any fixed part, e.g. ``W-520101``).
    width
        Minimum digits of the number (zero-padded; never truncated).
    """
    n = groups.groupby(groups, sort=False).cumcount().to_numpy() + 1
    return pd.Series(
        [f"{g}-{k:0{width}d}" for g, k in zip(groups, n, strict=True)],
        index=groups.index,
        dtype=object,
    )


def id_codes(prefix: str, ids: pd.Series, width: int) -> pd.Series:
    """``<prefix>-<id>`` with the id zero-padded to ``width`` digits."""
    return pd.Series([f"{prefix}-{i:0{width}d}" for i in ids], index=ids.index, dtype=object)


def road_segments(codes: pd.Series) -> pd.Series:
    """Segment numbers 1..n within each road code in frame (id) order; none without a code."""
    has = codes.notna()
    segments = pd.Series(pd.NA, index=codes.index, dtype="Int64")
    segments[has] = codes[has].groupby(codes[has], sort=False).cumcount() + 1
    if has.any() and segments.max() > SMALLINT_MAX:
        raise ValueError(f"a road code has more than {SMALLINT_MAX} segments (smallint)")
    return segments


def water_codes(water: pd.DataFrame, local_bodies: pd.DataFrame) -> pd.Series:
    """``W-<owner>-<nnn>``: the owning LGO's code, else the owning agency."""
    lgo_code = pd.Series(local_bodies["code"].to_numpy(), index=local_bodies["id"].to_numpy())
    owner = water["owner_local_body_id"].map(lgo_code)
    owner = owner.where(owner.notna(), water["owner_agency"]).fillna("NA")
    return numbered("W-" + owner.astype(str), 3)


def zone_codes(zones: pd.DataFrame, plans: pd.DataFrame) -> pd.Series:
    """``<plan code>-<land-use code>``; a land-use code used twice in a plan gets ``/2``, ..."""
    plan_code = zones["plan_id"].map(pd.Series(plans["code"].to_numpy(), index=plans["id"]))
    base = plan_code.astype(str) + "-" + zones["land_use_code"].astype(str)
    n = base.groupby(base, sort=False).cumcount().to_numpy() + 1
    return pd.Series(
        [b if k == 1 else f"{b}/{k}" for b, k in zip(base, n, strict=True)],
        index=zones.index,
        dtype=object,
    )


HAZARD_PREFIX = {"flood": "FL", "landslide": "LS"}


def assign_codes(frames: dict[str, pd.DataFrame]) -> None:
    """Give every frame of a planned province its natural key, in place (see the module).

    Parameters
    ----------
    frames
        The plan's frames by layer, ids already assigned and in id order. ``code`` is
        inserted right after ``id`` (``segment`` after the road code).
    """
    rivers = frames["rivers"]
    rivers.insert(1, "code", id_codes("R", rivers["id"], 2))
    roads = frames["roads"]
    roads.insert(roads.columns.get_loc("code") + 1, "segment", road_segments(roads["code"]))
    bridges = frames["bridges"]
    bridges.insert(1, "code", id_codes("B", bridges["id"], 4))
    water = frames["water_sources"]
    water.insert(1, "code", water_codes(water, frames["local_bodies"]))
    zones = frames["zoning_zones"]
    zones.insert(1, "code", zone_codes(zones, frames["zoning_plans"]))
    hazards = frames["hazard_areas"]
    hazards.insert(1, "code", numbered(hazards["hazard_type"].map(HAZARD_PREFIX), 3))
    inspections = frames["inspections"]
    inspections.insert(1, "code", id_codes("I", inspections["id"], 6))
    works = frames["maintenance_works"]
    works.insert(1, "code", numbered("MW-" + works["fiscal_year"].astype(str), 4))
