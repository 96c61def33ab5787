"""Coordination of maintenance budgets across bodies: for one Thai fiscal year, what each
funding body (the PAO, the LGOs, DOH, DRR, ...) has to maintain and what it has already
programmed, in total and per LGO.

The PAO coordinates plans and budgets with the LGOs and the national agencies (its mission's
coordinating role); its own programme (:func:`gis_registry.analysis.programme.work_programme`)
only spends its own budget. This view sets every body's backlog beside the works already
programmed, so overlaps and gaps show.

- The **backlog** of a body is the candidate treatments it pays for
  (:func:`gis_registry.analysis.programme.candidates`; payer by
  :func:`~gis_registry.analysis.programme.funding_body`, PAO support included): the same items,
  and so the same totals, as that body's work programme's ``backlog_thb``.
- The **programmed works** are the year's maintenance works on roads and bridges that are not
  cancelled (planned, approved, in progress or completed), under the funding body the works
  record (which may be a central subsidy).
- The LGO of a candidate or a work is the LGO its asset lies in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection

from gis_registry import domain
from gis_registry.analysis._frames import frame
from gis_registry.analysis.condition import LGO_OF
from gis_registry.analysis.programme import PROGRAMMED, candidates, fiscal_year_span
from gis_registry.fiscal import fiscal_year_bounds

FIGURES = ("backlog_items", "backlog_thb", "programmed_works", "programmed_thb")

_WORKS_SQL = f"""
SELECT w.id AS work_id, w.funding_body, w.cost_thb,
       {LGO_OF.format(point="coalesce(ST_LineInterpolatePoint(r.geom, 0.5), b.geom)")}
           AS local_body_id
FROM maintenance_works w
LEFT JOIN roads r ON r.id = w.road_id
LEFT JOIN bridges b ON b.id = w.bridge_id
WHERE w.fiscal_year = :fy AND w.status = ANY(CAST(:statuses AS text[]))
  AND (w.road_id IS NOT NULL OR w.bridge_id IS NOT NULL)
"""
_LGOS_SQL = """
SELECT id AS local_body_id, code AS local_body_code, name_th AS local_body_th,
       name_en AS local_body_en, district_code
FROM local_bodies WHERE kind <> 'pao'
"""


@dataclass
class Coordination:
    """Backlog and programmed works of every funding body in one fiscal year.

    Attributes
    ----------
    fiscal_year : Thai fiscal year (BE)
    as_of : condition as inspected up to this day
    by_funding_body : one row per funding body (every body of ``domain.FUNDING_BODIES``)
    by_local_body : one row per LGO and funding body with a backlog or programmed works
    """

    fiscal_year: int
    as_of: date
    by_funding_body: pd.DataFrame
    by_local_body: pd.DataFrame

    def summary(self) -> dict:
        """Totals over every body, JSON-ready."""
        starts, ends = fiscal_year_bounds(self.fiscal_year)
        t = self.by_funding_body
        return {
            "fiscal_year": self.fiscal_year,
            "starts": starts.isoformat(),
            "ends": ends.isoformat(),
            "condition_as_of": self.as_of.isoformat(),
            "funding_bodies": int((t[["backlog_items", "programmed_works"]].sum(axis=1) > 0).sum()),
            "local_bodies": int(self.by_local_body["local_body_id"].nunique()),
            "backlog_items": int(t["backlog_items"].sum()),
            "backlog_thb": round(float(t["backlog_thb"].sum()), 2),
            "programmed_works": int(t["programmed_works"].sum()),
            "programmed_thb": round(float(t["programmed_thb"].sum()), 2),
        }


def coordination(
    conn: Connection,
    *,
    fiscal_year: int,
    as_of: date | None = None,
    rules: pd.DataFrame | str | Path | None = None,
) -> Coordination:
    """Every funding body's backlog and programmed works in ``fiscal_year``, per LGO.

    Parameters
    ----------
    conn : an open connection
    fiscal_year : Thai fiscal year in BE (a CE year is refused)
    as_of : condition as known on this date (default: the earlier of today and the last day
        of the fiscal year, as the programme's); ages are counted on the year's first day
    rules : treatment rule table replacing the packaged one (as the programme's)

    Returns
    -------
    Coordination
        ``by_funding_body`` and ``by_local_body`` with ``backlog_items``, ``backlog_thb``,
        ``programmed_works`` and ``programmed_thb``.
    """
    starts, ends = fiscal_year_span(fiscal_year, layer="coordination")
    as_of = as_of or min(date.today(), ends)
    # Criticality only ranks; the backlog does not depend on it (and it costs a network build).
    items = candidates(conn, as_of=as_of, on=starts, rules=rules, criticality=False)
    works = frame(conn, _WORKS_SQL, {"fy": int(fiscal_year), "statuses": list(PROGRAMMED)})
    backlog = pd.DataFrame(
        {
            "funding_body": items["funding_body"],
            "local_body_id": items["local_body_id"],
            "backlog_items": 1,
            "backlog_thb": items["cost_thb"].astype(float),
        }
    )
    programmed = pd.DataFrame(
        {
            "funding_body": works["funding_body"] if len(works) else pd.Series(dtype=object),
            "local_body_id": works["local_body_id"] if len(works) else pd.Series(dtype=float),
            "programmed_works": 1,
            "programmed_thb": works["cost_thb"].astype(float) if len(works) else 0.0,
        }
    )
    rows = pd.concat([backlog, programmed], ignore_index=True)
    for col in FIGURES:
        rows[col] = rows[col].fillna(0)
    return Coordination(
        fiscal_year=int(fiscal_year),
        as_of=as_of,
        by_funding_body=_by_funding_body(rows),
        by_local_body=_by_local_body(conn, rows),
    )


def _totals(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = rows.groupby(keys, dropna=False)[list(FIGURES)].sum().reset_index()
    out["backlog_items"] = out["backlog_items"].astype(int)
    out["programmed_works"] = out["programmed_works"].astype(int)
    return out.round({"backlog_thb": 2, "programmed_thb": 2})


def _by_funding_body(rows: pd.DataFrame) -> pd.DataFrame:
    """Every funding body, in ``domain.FUNDING_BODIES`` order, zeros included, named."""
    out = _totals(rows, ["funding_body"]).set_index("funding_body")
    out = out.reindex(list(domain.FUNDING_BODIES), fill_value=0).reset_index()
    out.insert(1, "name_th", [domain.FUNDING_BODY_TERMS[b].th for b in out["funding_body"]])
    out.insert(2, "name_en", [domain.FUNDING_BODY_TERMS[b].en for b in out["funding_body"]])
    return out


def _by_local_body(conn: Connection, rows: pd.DataFrame) -> pd.DataFrame:
    """One row per LGO and funding body, LGOs by code, bodies in ``FUNDING_BODIES`` order."""
    out = _totals(rows, ["local_body_id", "funding_body"])
    lgos = frame(conn, _LGOS_SQL)
    out = lgos.merge(out, on="local_body_id", how="right")
    order = {b: i for i, b in enumerate(domain.FUNDING_BODIES)}
    out["_order"] = out["funding_body"].map(order)
    out = out.sort_values(["local_body_code", "_order"], na_position="last")
    return out.drop(columns="_order").reset_index(drop=True)
