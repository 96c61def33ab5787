"""Work programme: candidate treatments for roads and bridges, priorities, and the cut to a
budget for a Thai fiscal year (BE, 1 October - 30 September).

Treatments come from a rule table (``rules/treatments.csv``; pass ``rules=`` to override):
for an asset type, surfaces (``*`` or ``laterite|earth``), condition class and minimum age,
the treatment and its unit cost in THB per m² (roads: length x width), per bridge, or per
metre of bridge. The rule for an asset is the most specific one (own surface before ``*``)
with the highest ``min_age_years`` not above the asset's age. Good assets younger than the
routine age and never-inspected assets get no candidate (inspect them first: see
:func:`gis_registry.analysis.condition.overdue_inspections`).

Priority (0-100) weighs the need (100 - condition index), the road class, the population
within ``served_m`` of the asset and, when given or available from the network package, the
criticality of the road; weights of missing parts are shared by the others. The budget is
filled in priority order; an item that does not fit is deferred and cheaper items after it
may still be funded. Each item says why it was funded or deferred.

A programme spends one body's budget: by default the PAO's (:data:`DEFAULT_FUNDING_BODIES`).
Who pays for an asset follows its owner (:func:`funding_body`): the PAO its own roads and
bridges, an LGO its own, DOH, DRR and DWR theirs. An LGO's asset whose latest recorded work
(not cancelled) the PAO funded is the PAO's to fund (the PAO supports that LGO road), and
only the PAO's, so every candidate has exactly one payer and :func:`coordination` adds up to
the programmes of all bodies.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from gis_registry import domain
from gis_registry.analysis._frames import (
    check_choice,
    check_distance,
    degree_radius,
    frame,
    read_rule_table,
)
from gis_registry.analysis.condition import age_years, latest_condition
from gis_registry.errors import ValidationError
from gis_registry.fiscal import fiscal_year_bounds, to_ce

RULES_CSV = Path(__file__).parent / "rules" / "treatments.csv"
RULE_COLUMNS = (
    "rule",
    "asset_type",
    "surfaces",
    "condition_class",
    "min_age_years",
    "treatment",
    "unit",
    "unit_cost_thb",
    "reason",
)
UNITS = ("m2", "bridge", "m")
DEFAULT_WIDTH_M = 5.0  # typical LGO road (4-6 m) when the width is not recorded
CLASS_WEIGHT = {
    "special": 100.0,
    "national": 100.0,
    "rural": 80.0,
    "local": 60.0,
    "concession": 50.0,
    "unregistered": 30.0,
}
WEIGHTS = {"condition": 0.5, "road_class": 0.15, "population": 0.2, "criticality": 0.15}
# Works in these states count as already programmed for their asset and fiscal year.
PROGRAMMED = ("planned", "approved", "in_progress", "completed")
_AGENCY_FUNDING = {"DOH": "doh", "DRR": "drr", "DWR": "dwr"}
# The programme a budget draws on when no body is named: the PAO's own.
DEFAULT_FUNDING_BODIES = ("pao",)


def load_rules(rules: pd.DataFrame | str | Path | None = None) -> pd.DataFrame:
    """The treatment rule table (the default CSV when None), checked."""
    table = read_rule_table(
        rules, RULES_CSV, layer="treatment rules", dtype={"rule": str, "surfaces": str}
    )
    missing = [c for c in RULE_COLUMNS if c not in table.columns]
    if missing:
        raise ValidationError("treatment rules", [(None, c, "column missing") for c in missing])
    problems = []
    for _, r in table.iterrows():
        if r["treatment"] not in domain.TREATMENTS:
            problems.append((r["rule"], "treatment", f"one of {', '.join(domain.TREATMENTS)}"))
        if r["unit"] not in UNITS:
            problems.append((r["rule"], "unit", f"one of {', '.join(UNITS)}"))
        if not float(r["unit_cost_thb"]) >= 0:
            problems.append((r["rule"], "unit_cost_thb", "must not be negative"))
    if problems:
        raise ValidationError("treatment rules", problems)
    table["min_age_years"] = table["min_age_years"].astype(float)
    table["unit_cost_thb"] = table["unit_cost_thb"].astype(float)
    return table


def choose_rules(assets: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """The rule row for each asset (index aligned; NaN where none applies).

    ``assets`` needs ``asset_type``, ``surface``, ``condition_class`` and ``age_years``.
    """
    chosen = pd.DataFrame(index=assets.index, columns=list(RULE_COLUMNS), dtype=object)
    age = assets["age_years"].fillna(0.0)
    order = rules.assign(_specific=rules["surfaces"].astype(str) != "*")
    # later rules override earlier ones: '*' before specific surfaces, younger before older
    for _, rule in order.sort_values(["_specific", "min_age_years"], kind="stable").iterrows():
        match = (
            (assets["asset_type"] == rule["asset_type"])
            & (assets["condition_class"] == rule["condition_class"])
            & (age >= rule["min_age_years"])
        )
        if rule["_specific"]:
            match &= assets["surface"].isin(str(rule["surfaces"]).split("|"))
        if match.any():
            chosen.loc[match, list(RULE_COLUMNS)] = [rule[c] for c in RULE_COLUMNS]
    return chosen


def treatments(assets: pd.DataFrame, rules: pd.DataFrame, *, on: date) -> pd.DataFrame:
    """The assets that need a treatment on ``on``, with ``rule``, ``treatment``, ``unit``,
    ``unit_cost_thb``, ``reason_rule``, ``quantity`` and ``cost_thb`` (pure pandas).

    ``assets`` is a :func:`~gis_registry.analysis.condition.latest_condition` frame (roads and
    bridges) with at least ``asset_type``, ``surface``, ``condition_class``, ``year_built``,
    ``length_m`` and ``width_m``.
    """
    assets = assets.copy()
    assets["age_years"] = age_years(assets["year_built"], on)
    chosen = choose_rules(assets, rules)
    keep = chosen["rule"].notna()
    items = assets[keep].copy()
    chosen = chosen[keep]
    for c in ("rule", "treatment", "unit", "unit_cost_thb"):
        items[c] = chosen[c]
    items["reason_rule"] = chosen["reason"]
    width = items["width_m"].astype(float).fillna(DEFAULT_WIDTH_M)
    length = items["length_m"].astype(float)
    items["quantity"] = np.select(
        [items["unit"] == "m2", items["unit"] == "m"], [length * width, length], default=1.0
    ).astype(float)
    items["quantity"] = items["quantity"].round(1)
    items["cost_thb"] = (items["quantity"] * items["unit_cost_thb"].astype(float)).round(2)
    return items


def population_served(conn: Connection, *, served_m: float) -> pd.Series:
    """Population of the villages within ``served_m`` of each road (index: road id)."""
    sql = """
    SELECT r.id AS road_id, sum(s.population) AS population
    FROM settlements s
    JOIN roads r ON ST_DWithin(r.geom, s.geom, :deg)
                AND ST_DWithin(r.geom::geography, s.geom::geography, :m)
    GROUP BY r.id
    """
    out = frame(conn, sql, {"deg": degree_radius(served_m), "m": served_m})
    if not len(out):
        return pd.Series(dtype=float)
    return out.set_index("road_id")["population"].astype(float)


def network_criticality(conn: Connection) -> pd.Series | None:
    """Criticality of roads and bridges from :mod:`gis_registry.network.criticality`: the
    population a closure cuts off, indexed by (asset_type, asset_id); None when the network
    package cannot say (no PAO office, no roads, not installed)."""
    try:
        from gis_registry.network.criticality import criticality
    except ImportError:
        return None
    try:
        result = criticality(conn, delays=False)
    except Exception as exc:  # noqa: BLE001 - optional input: priorities work without it
        warnings.warn(f"road criticality not used: {exc}", stacklevel=2)
        return None
    data = {(item.kind, int(item.id)): float(item.cut_off_population) for item in result.items}
    index = pd.MultiIndex.from_tuples(list(data), names=["asset_type", "asset_id"])
    return pd.Series(list(data.values()), index=index, dtype=float)


def funding_body(owner_kind, owner_agency) -> str:
    """Who pays for work on an asset: the PAO, an LGO, or a national agency."""
    if isinstance(owner_kind, str):
        return "pao" if owner_kind == "pao" else "lgo"
    if isinstance(owner_agency, str):
        return _AGENCY_FUNDING.get(owner_agency, "other")
    return "pao"


def candidates(
    conn: Connection,
    *,
    as_of: date,
    on: date | None = None,
    rules: pd.DataFrame | str | Path | None = None,
    served_m: float = 2_000.0,
    criticality: pd.Series | Literal[False] | None = None,
    with_location: bool = True,
    population: pd.Series | None = None,
) -> pd.DataFrame:
    """Candidate treatments for every road and bridge from its condition on ``as_of`` and its
    age on ``on`` (default ``as_of``), with quantity, cost, funding body and priority."""
    on = on or as_of
    assets = latest_condition(
        conn, as_of=as_of, asset_types=["road", "bridge"], with_location=with_location
    )
    items = treatments(assets, load_rules(rules), on=on)
    items["funding_body"] = [
        funding_body(k, a) for k, a in zip(items["owner_kind"], items["owner_agency"], strict=True)
    ]
    _pao_support(conn, items)
    # the road a bridge stands on gives it class and population
    road_of = _bridge_roads(conn) if (items["asset_type"] == "bridge").any() else {}
    items["road_id"] = np.where(
        items["asset_type"] == "road",
        items["asset_id"],
        items["asset_id"].map(road_of) if len(road_of) else np.nan,
    )
    if population is None:
        population = population_served(conn, served_m=check_distance(served_m, field="served_m"))
    pop = population
    items["population_served"] = items["road_id"].map(pop).fillna(0.0)
    if criticality is None:
        criticality = network_criticality(conn)
    elif criticality is False:
        criticality = None
    if criticality is not None:
        keys = list(zip(items["asset_type"], items["asset_id"].astype(int), strict=True))
        items["criticality"] = [float(criticality.get(k, 0.0)) for k in keys]
    else:
        items["criticality"] = np.nan
    items["priority"] = priority(items, with_criticality=criticality is not None)
    items["asset"] = [
        f"{t} {i}" + (f" ({c})" if isinstance(c, str) and c else "")
        for t, i, c in zip(items["asset_type"], items["asset_id"], items["code"], strict=True)
    ]
    return items.reset_index(drop=True)


# LGO roads and bridges whose latest work that was not cancelled the PAO funded.
_PAO_SUPPORT_SQL = """
SELECT asset_type, asset_id, work_id, fiscal_year FROM (
    SELECT DISTINCT ON (coalesce(w.road_id, w.bridge_id), w.road_id IS NULL)
           CASE WHEN w.road_id IS NOT NULL THEN 'road' ELSE 'bridge' END AS asset_type,
           coalesce(w.road_id, w.bridge_id) AS asset_id,
           w.id AS work_id, w.fiscal_year, w.funding_body
    FROM maintenance_works w
    WHERE (w.road_id IS NOT NULL OR w.bridge_id IS NOT NULL) AND w.status <> 'cancelled'
    ORDER BY coalesce(w.road_id, w.bridge_id), w.road_id IS NULL,
             w.planned_start DESC, w.id DESC
) latest
WHERE funding_body = 'pao'
"""


def _pao_support(conn: Connection, items: pd.DataFrame) -> None:
    """Make the PAO the payer of LGO assets it supports (see the module doc), in place, and
    say so in ``funding_note``."""
    items["funding_note"] = None
    if not len(items):
        return
    supported = frame(conn, _PAO_SUPPORT_SQL)
    if not len(supported):
        return
    notes = {
        (r.asset_type, int(r.asset_id)): (
            f"LGO asset the PAO supports (work #{r.work_id}, FY {r.fiscal_year})"
        )
        for r in supported.itertuples()
    }
    keys = list(zip(items["asset_type"], items["asset_id"].astype(int), strict=True))
    hit = np.array([k in notes for k in keys]) & (items["funding_body"] == "lgo").to_numpy()
    items.loc[hit, "funding_body"] = "pao"
    items.loc[hit, "funding_note"] = [notes[k] for k, h in zip(keys, hit, strict=True) if h]


def fiscal_year_span(fiscal_year: int, *, layer: str) -> tuple[date, date]:
    """First and last day of a Thai fiscal year (BE), a CE year refused as a ValidationError
    of ``layer``'s ``fiscal_year``."""
    try:
        return fiscal_year_bounds(int(fiscal_year))
    except ValueError as exc:
        raise ValidationError(layer, [(None, "fiscal_year", str(exc))]) from None


def check_funding_bodies(funding_bodies: str | Sequence[str] | None) -> tuple[str, ...]:
    """The bodies a programme spends the budget of: :data:`DEFAULT_FUNDING_BODIES` for None.

    Raises
    ------
    ValidationError
        For an empty list or a body not in ``domain.FUNDING_BODIES``.
    """
    if funding_bodies is None:
        return DEFAULT_FUNDING_BODIES
    bodies = (funding_bodies,) if isinstance(funding_bodies, str) else tuple(funding_bodies)
    for body in bodies or ("",):  # an empty list names no budget: refused as '' would be
        check_choice(body, domain.FUNDING_BODIES, layer="programme", field="funding_body")
    return tuple(dict.fromkeys(bodies))


def _bridge_roads(conn: Connection) -> dict[int, int]:
    rows = frame(conn, "SELECT id, road_id FROM bridges")
    return dict(zip(rows["id"], rows["road_id"], strict=True)) if len(rows) else {}


def priority(
    items: pd.DataFrame,
    *,
    with_criticality: bool = False,
    weights: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Priority 0-100: weighted need, road class, population served and criticality."""
    w = dict(WEIGHTS if weights is None else weights)
    if not with_criticality:
        w.pop("criticality", None)
    total = sum(w.values())
    need = 100.0 - items["condition_index"].astype(float).fillna(50.0)
    klass = items["road_class"].map(CLASS_WEIGHT).astype(float).fillna(30.0)
    pop = items["population_served"].astype(float).fillna(0.0)
    pop_score = 100.0 * np.log1p(pop) / np.log1p(pop.max()) if pop.max() > 0 else pop * 0.0
    parts = {"condition": need, "road_class": klass, "population": pop_score}
    if with_criticality:
        crit = items["criticality"].astype(float)
        top = crit.max()
        parts["criticality"] = (100.0 * crit / top if top and top > 0 else crit * 0.0).fillna(0)
    score = sum(w[k] * parts[k] for k in w) / total
    return np.round(np.asarray(score, dtype=float), 2)


@dataclass
class Programme:
    """A work programme for one fiscal year: every candidate, funded or deferred, and why."""

    fiscal_year: int
    budget_thb: float
    items: pd.DataFrame
    as_of: date
    funding_bodies: tuple[str, ...] = DEFAULT_FUNDING_BODIES
    # candidates other bodies pay for: left out of ``items``, counted for the summary
    other_bodies: pd.DataFrame = field(default_factory=pd.DataFrame)
    starts: date = field(init=False)
    ends: date = field(init=False)

    def __post_init__(self) -> None:
        self.starts, self.ends = fiscal_year_bounds(self.fiscal_year)

    @property
    def funded(self) -> pd.DataFrame:
        """The candidates the budget pays for, in priority order."""
        return self.items[self.items["status"] == "funded"].reset_index(drop=True)

    @property
    def deferred(self) -> pd.DataFrame:
        """Unfunded candidates (over budget or already programmed), in priority order."""
        return self.items[self.items["status"] == "deferred"].reset_index(drop=True)

    @property
    def funded_thb(self) -> float:
        """Total cost in THB of the funded items (never more than the budget)."""
        return float(self.funded["cost_thb"].sum())

    def split(self, by: str) -> pd.DataFrame:
        """Funded and deferred THB (and items) per ``funding_body`` or ``local_body``."""
        keys = ["funding_body"] if by == "funding_body" else ["local_body_id", "local_body_en"]
        if by not in ("funding_body", "local_body"):
            raise ValidationError("programme", [(None, "by", "funding_body or local_body")])
        d = self.items.copy()
        d["funded_thb"] = d["cost_thb"].where(d["status"] == "funded", 0.0)
        d["deferred_thb"] = d["cost_thb"].where(d["status"] == "deferred", 0.0)
        d["funded_items"] = (d["status"] == "funded").astype(int)
        d["deferred_items"] = (d["status"] == "deferred").astype(int)
        cols = ["funded_items", "funded_thb", "deferred_items", "deferred_thb"]
        out = d.groupby(keys, dropna=False)[cols].sum().reset_index()
        return out.round({"funded_thb": 2, "deferred_thb": 2})

    def summary(self) -> dict:
        """Headline figures as a JSON-ready dict: budget, funded, remaining and backlog in THB."""
        return {
            "fiscal_year": self.fiscal_year,
            "starts": self.starts.isoformat(),
            "ends": self.ends.isoformat(),
            "condition_as_of": self.as_of.isoformat(),
            "funding_bodies": list(self.funding_bodies),
            "budget_thb": self.budget_thb,
            "funded_thb": round(self.funded_thb, 2),
            "remaining_thb": round(self.budget_thb - self.funded_thb, 2),
            "funded_items": int((self.items["status"] == "funded").sum()),
            "deferred_items": int((self.items["status"] == "deferred").sum()),
            "backlog_thb": round(float(self.items["cost_thb"].sum()), 2),
            "other_bodies_items": len(self.other_bodies),
            "other_bodies_thb": round(
                float(self.other_bodies.get("cost_thb", pd.Series()).sum()), 2
            ),
            "criticality_used": bool(self.items["criticality"].notna().any()),
        }


_PROGRAMMED_SQL = """
SELECT coalesce(road_id, bridge_id) AS asset_id,
       CASE WHEN road_id IS NOT NULL THEN 'road' ELSE 'bridge' END AS asset_type,
       id AS work_id, treatment, status
FROM maintenance_works
WHERE fiscal_year = :fy AND status = ANY(CAST(:statuses AS text[]))
  AND (road_id IS NOT NULL OR bridge_id IS NOT NULL)
ORDER BY id
"""


def work_programme(
    conn: Connection,
    *,
    fiscal_year: int,
    budget_thb: float,
    as_of: date | None = None,
    funding_bodies: str | Sequence[str] | None = DEFAULT_FUNDING_BODIES,
    rules: pd.DataFrame | str | Path | None = None,
    served_m: float = 2_000.0,
    criticality: pd.Series | Literal[False] | None = None,
) -> Programme:
    """Fund the highest-priority treatments within ``budget_thb`` in Thai fiscal year
    ``fiscal_year`` (Buddhist Era, e.g. 2570 = 1 Oct 2026 - 30 Sep 2027).

    Parameters
    ----------
    conn : an open connection
    fiscal_year : Thai fiscal year in BE (a CE year is refused)
    budget_thb : the budget in THB (>= 0)
    as_of : condition as known on this date (default: the earlier of today and the last day
        of the fiscal year); ages are counted on the first day of the fiscal year
    funding_bodies : whose budget this is (``domain.FUNDING_BODIES``): only the candidates
        these bodies pay for (:func:`funding_body`, PAO support included) are programmed; the
        others are left out and counted in the summary (``other_bodies_*``). Default: the PAO
        (None means the default too). DOH and DRR assets never draw on the PAO's budget.
    rules : treatment rule table (see the module doc)
    criticality : (asset_type, asset_id) -> criticality (any scale, e.g. population cut off
        by a closure); None (default): :func:`network_criticality`; False: leave it out

    Returns
    -------
    Programme
        ``items`` holds every candidate with ``status`` (funded/deferred), ``rank``,
        ``priority``, ``cost_thb``, ``treatment``, ``asset``, ``reason``, ``funding_body``
        and the LGO; ``split('funding_body' | 'local_body')`` and ``summary()``.
    """
    starts, ends = fiscal_year_span(fiscal_year, layer="programme")
    try:
        budget = float(budget_thb)
    except (TypeError, ValueError):
        budget = -1.0
    if not budget >= 0:
        raise ValidationError("programme", [(None, "budget_thb", "a sum of THB, 0 or more")])
    payers = check_funding_bodies(funding_bodies)
    as_of = as_of or min(date.today(), ends)
    everything = candidates(
        conn, as_of=as_of, on=starts, rules=rules, served_m=served_m, criticality=criticality
    )
    ours = everything["funding_body"].isin(payers)
    items, others = everything[ours], everything[~ours].reset_index(drop=True)
    programmed = frame(
        conn, _PROGRAMMED_SQL, {"fy": int(fiscal_year), "statuses": list(PROGRAMMED)}
    )
    already = {
        (r.asset_type, r.asset_id): f"work #{r.work_id} ({r.treatment}, {r.status})"
        for r in programmed.itertuples()
    }
    items = items.sort_values(
        ["priority", "cost_thb", "asset_type", "asset_id"], ascending=[False, True, False, True]
    ).reset_index(drop=True)
    items["rank"] = np.arange(1, len(items) + 1)
    remaining = budget
    status, reasons = [], []
    for row in items.itertuples():
        cost = float(row.cost_thb)
        why = f"{row.reason_rule} (rule {row.rule}); priority {row.priority:.1f}, rank {row.rank}"
        key = (row.asset_type, row.asset_id)
        if key in already:
            status.append("deferred")
            reasons.append(f"already programmed in fiscal year {fiscal_year}: {already[key]}")
        elif cost <= remaining + 1e-6:
            remaining -= cost
            status.append("funded")
            reasons.append(f"{why}; fits the budget ({remaining:,.0f} THB left)")
        else:
            status.append("deferred")
            reasons.append(
                f"over budget: costs {cost:,.0f} THB, {remaining:,.0f} THB left of "
                f"{budget:,.0f}; {why}"
            )
    items["status"] = status
    items["reason"] = reasons
    items["fiscal_year"] = int(fiscal_year)
    items["fiscal_year_ce_end"] = to_ce(int(fiscal_year))
    return Programme(
        fiscal_year=int(fiscal_year),
        budget_thb=budget,
        items=items,
        as_of=as_of,
        funding_bodies=payers,
        other_bodies=others,
    )


ITEM_FIELDS = (
    "rank",
    "asset",
    "asset_type",
    "asset_id",
    "name_th",
    "name_en",
    "road_class",
    "surface",
    "condition_class",
    "condition_index",
    "inspected_on",
    "age_years",
    "treatment",
    "rule",
    "quantity",
    "unit",
    "unit_cost_thb",
    "cost_thb",
    "priority",
    "population_served",
    "funding_body",
    "funding_note",
    "local_body_id",
    "local_body_en",
    "local_body_th",
    "reason",
)
