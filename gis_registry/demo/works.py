"""Five fiscal years of maintenance works and condition inspections (FY 2565-2569 BE), plus
the works planned and approved for the current fiscal year 2570.

Condition follows a simple deterioration model: it worsens with the years since the asset was
built or last had a periodic, rehabilitation, reconstruction or new-construction work, so a
road inspected after its overlay scores better than before it. Everything is dated relative to
``AS_OF`` (not the clock), so the same seed always gives the same records.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from gis_registry.fiscal import BE_OFFSET, FISCAL_YEAR_START_MONTH

AS_OF = dt.date(2026, 11, 1)
PAST_FISCAL_YEARS = (2565, 2566, 2567, 2568, 2569)
CURRENT_FISCAL_YEAR = 2570
PAO_ID = 1
PAVED = ("asphalt", "concrete")
RESETTING = ("periodic", "rehabilitation", "reconstruction", "new_construction")

# per asset type: yearly probability of each treatment (for assets of the PAO or an LGO)
RATES = {
    "road": {"routine": 0.03, "periodic": 0.015, "rehabilitation": 0.006, "reconstruction": 0.003},
    "bridge": {"routine": 0.06, "periodic": 0.02, "rehabilitation": 0.012, "reconstruction": 0.004},
    "water": {"routine": 0.05, "periodic": 0.03, "rehabilitation": 0.01, "reconstruction": 0.004},
}
# THB per m2 of road (periodic on unpaved roads is regravelling)
ROAD_COST = {
    "routine": (15, 35),
    "periodic": (300, 500),
    "rehabilitation": (700, 1100),
    "reconstruction": (1200, 1800),
}
NEW_ROAD_COST = {
    "asphalt": (900, 1200),
    "concrete": (800, 1000),
    "laterite": (150, 250),
    "crushed_rock": (200, 300),
    "earth": (80, 150),
}
BRIDGE_COST = {
    "routine": (3_000, 8_000),
    "periodic": (8_000, 15_000),
    "rehabilitation": (12_000, 20_000),
    "reconstruction": (25_000, 40_000),
}  # /m2
WATER_COST = {
    "routine": (10_000, 80_000),
    "periodic": (100_000, 800_000),
    "rehabilitation": (200_000, 2_000_000),
    "reconstruction": (500_000, 5_000_000),
}
DAYS = {
    "routine": (7, 30),
    "periodic": (30, 90),
    "rehabilitation": (60, 180),
    "reconstruction": (90, 240),
    "new_construction": (60, 200),
}
TREATMENT_TH = {
    "routine": "ซ่อมบำรุงปกติ",
    "periodic": "ซ่อมบำรุงตามกำหนดเวลา",
    "rehabilitation": "ซ่อมแซมฟื้นฟูสภาพ",
    "reconstruction": "ก่อสร้างใหม่แทนของเดิม",
    "new_construction": "ก่อสร้างใหม่",
}
ROAD_WORK_TH = {
    "periodic": "เสริมผิวทาง",
    "rehabilitation": "ปรับปรุงผิวทางและไหล่ทาง",
    "reconstruction": "ก่อสร้างถนน คสล. แทนผิวเดิม",
}
INSPECTORS = ("กองช่าง อบจ.ลำปาง", "กองช่าง อปท.", "ที่ปรึกษาสำรวจสภาพทาง", "นายช่างโยธาชำนาญงาน")


def fiscal_year(d: pd.Series) -> pd.Series:
    """Thai fiscal year (BE) of dates: 1 Oct - 30 Sep, named after the year it ends in."""
    d = pd.to_datetime(d)
    starts_next = (d.dt.month >= FISCAL_YEAR_START_MONTH).astype(int)
    return (d.dt.year + starts_next + BE_OFFSET).astype(int)


def _fy_start(fy: np.ndarray) -> np.ndarray:
    start_year_ce = fy - BE_OFFSET - 1
    return (pd.to_datetime(start_year_ce.astype(str) + "-10-01")).to_numpy("datetime64[D]")


def _days(rng: np.random.Generator, lo_hi: np.ndarray) -> np.ndarray:
    return (lo_hi[:, 0] + rng.random(len(lo_hi)) * (lo_hi[:, 1] - lo_hi[:, 0])).astype(int)


def asset_frame(roads: pd.DataFrame, bridges: pd.DataFrame, water: pd.DataFrame) -> pd.DataFrame:
    """One row per asset with what the works and inspections need."""
    r = pd.DataFrame(
        {
            "asset": "road",
            "id": roads["id"].to_numpy(),
            "owner": roads["owner_local_body_id"].astype("float").to_numpy(),
            "agency": roads["owner_agency"].to_numpy(),
            "year_built": roads["year_built"].to_numpy(),
            "detail": roads["surface"].to_numpy(),
            "size": (roads["length_m"] * roads["width_m"]).to_numpy(),
            "name": roads["name_th"].to_numpy(),
        }
    )
    road_owner = roads.set_index("id")
    b = pd.DataFrame(
        {
            "asset": "bridge",
            "id": bridges["id"].to_numpy(),
            "owner": road_owner.loc[bridges["road_id"], "owner_local_body_id"]
            .astype("float")
            .to_numpy(),
            "agency": road_owner.loc[bridges["road_id"], "owner_agency"].to_numpy(),
            "year_built": bridges["year_built"].to_numpy(),
            "detail": bridges["material"].to_numpy(),
            "size": (bridges["length_m"] * 7.0).to_numpy(),
            "name": bridges["name_th"].to_numpy(),
        }
    )
    w = pd.DataFrame(
        {
            "asset": "water",
            "id": water["id"].to_numpy(),
            "owner": water["owner_local_body_id"].astype("float").to_numpy(),
            "agency": water["owner_agency"].to_numpy(),
            "year_built": water["year_built"].to_numpy(),
            "detail": water["kind"].to_numpy(),
            "size": water["capacity_m3"].to_numpy(),
            "name": water["name_th"].to_numpy(),
        }
    )
    return pd.concat([r, b, w], ignore_index=True)


def works_frame(assets: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Maintenance works FY 2565-2570 with plausible costs, dates, funding and status."""
    parts = []
    local = assets["owner"].notna().to_numpy()
    for fy in (*PAST_FISCAL_YEARS, CURRENT_FISCAL_YEAR):
        u = rng.random(len(assets))
        treat = np.full(len(assets), None, dtype=object)
        for kind in ("road", "bridge", "water"):
            rows = (assets["asset"] == kind).to_numpy()
            below = np.zeros(len(assets))
            for t, p in RATES[kind].items():
                p_eff = np.where(local, p, p * 0.3)  # the registry records few DOH/DRR works
                treat[rows & (u >= below) & (u < below + p_eff)] = t
                below = below + p_eff
        sel = np.flatnonzero(treat != None)  # noqa: E711
        parts.append(pd.DataFrame({"row": sel, "treatment": treat[sel], "fy": fy}))
    # new roads built FY 2565-2569 come with their construction contract
    new = np.flatnonzero(
        (assets["asset"] == "road").to_numpy() & (assets["year_built"] >= 2022).to_numpy() & local
    )
    new_fy = assets["year_built"].to_numpy()[new] + BE_OFFSET  # built Jan-Jun of that year
    parts.append(pd.DataFrame({"row": new, "treatment": "new_construction", "fy": new_fy}))
    w = pd.concat(parts, ignore_index=True)
    a = assets.iloc[w["row"].to_numpy()].reset_index(drop=True)
    n = len(w)
    fy = w["fy"].to_numpy()
    treatment = w["treatment"].to_numpy().astype(object)
    is_new = treatment == "new_construction"
    start = _fy_start(fy) + (rng.random(n) * 300).astype(int).astype("timedelta64[D]")
    jan = pd.to_datetime((a["year_built"].to_numpy() - 0).astype(str) + "-01-05").to_numpy(
        "datetime64[D]"
    )
    start = np.where(
        is_new, jan + (rng.random(n) * 120).astype(int).astype("timedelta64[D]"), start
    )
    span = np.array([DAYS[t] for t in treatment])
    dur = _days(rng, span)
    planned_end = start + dur.astype("timedelta64[D]")
    delay = np.maximum(0, rng.normal(10, 15, n)).astype(int)
    actual_start = start + delay.astype("timedelta64[D]")
    actual_end = actual_start + (dur * rng.uniform(0.9, 1.4, n)).astype(int).astype(
        "timedelta64[D]"
    )
    as_of = np.datetime64(AS_OF)
    past = fy < CURRENT_FISCAL_YEAR
    status = np.where(rng.random(n) < 0.05, "cancelled", "completed").astype(object)
    status = np.where(past & (actual_end > as_of), "in_progress", status)
    status = np.where(is_new, "completed", status)
    current = ~past
    begun = current & (actual_start <= as_of)
    status[current] = np.where(rng.random(current.sum()) < 0.55, "approved", "planned")
    status[begun] = "in_progress"
    show_start = (status == "completed") | (status == "in_progress")
    if is_new.any():  # a new road is finished in the year it is registered as built
        year_end = pd.to_datetime(a["year_built"].astype(str) + "-12-31").to_numpy("datetime64[D]")
        actual_end = np.where(is_new, np.minimum(actual_end, year_end), actual_end)

    size = a["size"].to_numpy()
    kind = a["asset"].to_numpy()
    cost: np.ndarray = np.zeros(n)
    for t, (lo, hi) in ROAD_COST.items():
        m = (kind == "road") & (treatment == t)
        cost[m] = size[m] * rng.uniform(lo, hi, m.sum())
    for s, (lo, hi) in NEW_ROAD_COST.items():
        m = (kind == "road") & is_new & (a["detail"].to_numpy() == s)
        cost[m] = size[m] * rng.uniform(lo, hi, m.sum())
    for t, (lo, hi) in BRIDGE_COST.items():
        m = (kind == "bridge") & (treatment == t)
        cost[m] = size[m] * rng.uniform(lo, hi, m.sum())
    for t, (lo, hi) in WATER_COST.items():
        m = (kind == "water") & (treatment == t)
        cost[m] = np.exp(rng.uniform(np.log(lo), np.log(hi), m.sum()))
    cost = np.round(np.maximum(cost, 5_000.0), -2)

    owner = a["owner"].to_numpy()
    agency = a["agency"].to_numpy()
    funding = np.select(
        [owner == PAO_ID, ~np.isnan(owner), agency == "DOH", agency == "DRR", agency == "DWR"],
        ["pao", "lgo", "doh", "drr", "dwr"],
        "other",
    ).astype(object)
    # Capital works on LGO assets: a fifth paid by a central-government subsidy, and some
    # by the PAO supporting the LGO (one draw for both keeps the random stream as it was).
    capital = ~np.isnan(owner) & np.isin(
        treatment, ["rehabilitation", "reconstruction", "new_construction"]
    )
    draw = rng.random(n)
    funding[capital & (draw < 0.2)] = "central_subsidy"
    funding[capital & (owner != PAO_ID) & (draw >= 0.2) & (draw < 0.3)] = "pao"
    road_kind = np.array([ROAD_WORK_TH.get(t, TREATMENT_TH[t]) for t in treatment], dtype=object)
    description = np.where(
        kind == "road", road_kind, np.array([TREATMENT_TH[t] for t in treatment], dtype=object)
    )
    description = description + " " + a["name"].to_numpy().astype(object)

    def col(asset: str) -> pd.array:
        return pd.array(np.where(kind == asset, a["id"].to_numpy(), np.nan), dtype="Int64")

    out = pd.DataFrame(
        {
            "road_id": col("road"),
            "bridge_id": col("bridge"),
            "water_source_id": col("water"),
            "treatment": treatment,
            "description": description,
            "planned_start": start,
            "planned_end": planned_end,
            "actual_start": np.where(show_start, actual_start, np.datetime64("NaT")),
            "actual_end": np.where(status == "completed", actual_end, np.datetime64("NaT")),
            "cost_thb": cost,
            "fiscal_year": 0,
            "funding_body": funding,
            "funding_local_body_id": pd.array(
                np.where(np.isnan(owner), np.nan, owner), dtype="Int64"
            ),
            "status": status,
        }
    )
    for c in ("planned_start", "planned_end", "actual_start", "actual_end"):
        out[c] = pd.to_datetime(out[c]).dt.date.astype(object).where(out[c].notna(), None)
    out["fiscal_year"] = fiscal_year(pd.Series(pd.to_datetime(out["planned_start"])))
    out = out.sort_values(
        ["planned_start", "road_id", "bridge_id", "water_source_id"],
        kind="stable",
        na_position="last",
    ).reset_index(drop=True)
    out.insert(0, "id", np.arange(1, len(out) + 1))
    return out


def inspection_frame(
    assets: pd.DataFrame, works: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Inspections FY 2565-2569; condition depends on age since build or last major work."""
    kind = assets["asset"].to_numpy()
    local = assets["owner"].notna().to_numpy()
    p = np.select([kind == "bridge", kind == "water", local], [0.6, 0.5, 0.35], 0.12)
    ever = rng.random(len(assets)) < np.where(kind == "water", 0.12, 0.85)  # some never
    parts = []
    for fy in PAST_FISCAL_YEARS:
        hit = np.flatnonzero(ever & (rng.random(len(assets)) < p))
        day = _fy_start(np.full(len(hit), fy)) + (rng.random(len(hit)) * 364).astype(int).astype(
            "timedelta64[D]"
        )
        parts.append(pd.DataFrame({"row": hit, "date": day}))
    ins = pd.concat(parts, ignore_index=True)
    ins = ins[ins["date"] < np.datetime64(AS_OF)]
    a = assets.iloc[ins["row"].to_numpy()].reset_index(drop=True)
    ins = ins.reset_index(drop=True)
    # last completed resetting work before each inspection
    done = works[(works["status"] == "completed") & works["treatment"].isin(RESETTING)]
    key_w = np.select(
        [done["road_id"].notna(), done["bridge_id"].notna()], ["road", "bridge"], "water"
    ).astype(object)
    wid = done["road_id"].fillna(done["bridge_id"]).fillna(done["water_source_id"]).astype(int)
    resets = pd.DataFrame(
        {"k": key_w + ":" + wid.astype(str).to_numpy(), "reset": pd.to_datetime(done["actual_end"])}
    )
    probe = pd.DataFrame(
        {
            "k": a["asset"].to_numpy() + ":" + a["id"].astype(str).to_numpy(),
            "date": pd.to_datetime(ins["date"]),
            "i": np.arange(len(ins)),
        }
    )
    merged = pd.merge_asof(
        probe.sort_values("date"),
        resets.sort_values("reset"),
        left_on="date",
        right_on="reset",
        by="k",
        direction="backward",
    )
    merged = merged.sort_values("i")
    built = pd.to_datetime(a["year_built"].astype(int).astype(str) + "-07-01")
    since = merged["reset"].fillna(built).to_numpy()
    age = np.maximum(0.0, (probe["date"].to_numpy() - since) / np.timedelta64(365, "D"))
    n = len(ins)
    noise = rng.normal(0, 1, n)
    detail = a["detail"].to_numpy()
    kind_a = a["asset"].to_numpy()
    paved = (kind_a == "road") & np.isin(detail, PAVED)
    score = np.where(
        paved,
        np.clip(1.6 + 0.16 * age + 0.4 * noise, 0.8, 30.0),
        np.where(
            kind_a == "bridge",
            np.clip(np.round(9 - 0.09 * age - 1.5 * (detail == "timber") + 0.6 * noise), 0, 9),
            np.clip(5 - np.where(kind_a == "road", 0.25, 0.08) * age + 0.4 * noise, 1, 5),
        ),
    )
    scale = np.where(paved, "iri_m_per_km", np.where(kind_a == "bridge", "nbi_0_9", "score_1_5"))
    method = np.where(
        paved,
        np.where(rng.random(n) < 0.7, "iri_survey", "visual"),
        np.where(
            kind_a == "bridge",
            np.array(["visual", "detailed", "underwater", "drone"])[
                rng.choice(4, n, p=[0.6, 0.25, 0.05, 0.1])
            ],
            np.where(rng.random(n) < 0.9, "visual", "drone"),
        ),
    )

    def col(asset: str) -> pd.array:
        return pd.array(np.where(kind_a == asset, a["id"].to_numpy(), np.nan), dtype="Int64")

    out = pd.DataFrame(
        {
            "road_id": col("road"),
            "bridge_id": col("bridge"),
            "water_source_id": col("water"),
            "inspected_on": pd.to_datetime(ins["date"]).dt.date,
            "condition_score": np.round(score, 2),
            "condition_scale": scale,
            "method": method,
            "inspector": np.array(INSPECTORS, dtype=object)[rng.integers(0, len(INSPECTORS), n)],
            "notes": None,
        }
    )
    out = out.sort_values(
        ["inspected_on", "road_id", "bridge_id", "water_source_id"],
        kind="stable",
        na_position="last",
    ).reset_index(drop=True)
    out.insert(0, "id", np.arange(1, len(out) + 1))
    return out
