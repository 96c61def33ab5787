"""A summary of what the registry holds (what `make demo` prints until the API serves it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

from gis_registry.db.tables import LAYERS
from gis_registry.fiscal import fiscal_year, format_thai_date

_FIGURES = {
    "local bodies by kind": "SELECT kind, count(*) FROM local_bodies GROUP BY kind ORDER BY 2 DESC",
    "road km by class": "SELECT road_class, round(sum(length_m)::numeric / 1000, 1) FROM roads "
    "GROUP BY 1 ORDER BY 2 DESC",
    "road km by surface": "SELECT surface, round(sum(length_m)::numeric / 1000, 1) FROM roads "
    "GROUP BY 1 ORDER BY 2 DESC",
    "water sources by kind": "SELECT kind, count(*) FROM water_sources GROUP BY 1 ORDER BY 2 DESC",
    "works THB by fiscal year (BE)": "SELECT fiscal_year, to_char(sum(cost_thb), "
    "'FM999,999,999,990') FROM maintenance_works "
    "GROUP BY 1 ORDER BY 1",
}


def registry_summary(engine: Engine) -> dict[str, dict[str, Any]]:
    """Row counts per layer and headline figures, in plain Python values."""
    from datetime import date

    today = date.today()
    out: dict[str, dict[str, Any]] = {
        "registry": {
            "today": f"{today.isoformat()} ({format_thai_date(today)})",
            "current fiscal year (BE)": fiscal_year(today),
        }
    }
    with engine.connect() as conn:
        out["rows per layer"] = {
            name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in LAYERS  # identifiers from the table registry, not from input
        }
        totals = conn.execute(
            text(
                "SELECT coalesce(sum(population), 0), coalesce(sum(households), 0) FROM settlements"
            )
        ).one()
        out["people"] = {"population": int(totals[0]), "households": int(totals[1])}
        for title, sql in _FIGURES.items():
            out[title] = {str(k): v for k, v in conn.execute(text(sql)).all()}
    return out
