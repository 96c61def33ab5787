"""The text output a person reads, on the demo province (seed 52): a summary first, then
tables that fit a terminal, rounded, cut at --limit; a route merged by road; amounts as people
write them; flags shown as flags. (--json stays the machine's: tests/api/test_contract.py.)"""

from __future__ import annotations

import json
import re
from itertools import groupby

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from gis_registry.cli import app
from tests.fixtures.servers import database_url

pytestmark = pytest.mark.db

DAY = "2026-06-01"
PROGRAMME = ("maintenance", "programme", "--fiscal-year", "2570", "--budget-thb", "50000000")
RAW_FLOAT = re.compile(r"\d\.\d{6,}")  # 0.7586206896551724: a figure nobody rounded


@pytest.fixture(scope="module")
def demo(demo_engine):
    """The demo's URL, two LGO codes far apart and a point inside a zone."""
    url = database_url(demo_engine)
    with demo_engine.connect() as conn:
        city = conn.execute(
            text("SELECT code FROM local_bodies WHERE kind = 'city_municipality'")
        ).scalar_one()
        far = conn.execute(  # an SAO of another district: a route of many segments
            text("SELECT max(code) FROM local_bodies WHERE kind = 'sao'")
        ).scalar_one()
        point = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(z.geom) AS c "
                "FROM zoning_zones z JOIN zoning_plans p ON p.id = z.plan_id "
                "WHERE p.expiry_date > :day ORDER BY z.id LIMIT 1) s"
            ),
            {"day": DAY},
        ).one()
    return {"url": url, "city": city, "far": far, "point": point}


@pytest.fixture()
def cli(demo, monkeypatch):
    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", demo["url"])
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, (args, result.output)
        return result

    return invoke


def _lines(result) -> list[str]:
    return result.stdout.splitlines()


def _table(lines: list[str], heading: str) -> list[str]:
    """The rows of the table under its heading (after the summary)."""
    after = lines.index("")
    pattern = re.compile(rf"{re.escape(heading)}[ ,:(]")
    start = next(i for i, line in enumerate(lines) if i > after and pattern.match(line))
    assert set(lines[start + 2]) == {"─"}, lines[start : start + 3]
    rows = []
    for line in lines[start + 3 :]:
        if not line.strip() or line.startswith("… "):
            break
        rows.append(line)
    return rows


def _summary_label(label: str, lines: list[str]) -> bool:
    """Whether the summary (the lines before the first blank one) shows ``label``."""
    summary = lines[1 : lines.index("")] if "" in lines else lines[1:]
    return any(re.search(rf"(^|\s){re.escape(label)}\s", line) for line in summary)


def test_the_programme_fits_a_screen_and_begins_with_its_summary(cli):
    lines = _lines(cli(*PROGRAMME))
    data = json.loads(cli(*PROGRAMME, "--json").stdout)
    assert len(lines) <= 60 and max(len(line) for line in lines) <= 120
    assert lines[0] == "work programme"
    for label in ("fiscal year", "budget", "funded", "remaining", "backlog", "deferred items"):
        assert _summary_label(label, lines), label
    assert "50,000,000 THB" in "\n".join(lines[:10]) and "2570" in lines[1]
    funded = _table(lines, "funded")
    assert len(funded) == min(data["funded_items"], 20)
    assert f"{data['funded'][0]['cost_thb']:,.0f}" in funded[0]
    deferred = _table(lines, "deferred")
    assert len(deferred) == min(data["deferred_items"], 10)
    assert any(line.startswith(f"… {data['deferred_items'] - 10:,} more") for line in lines)
    assert _table(lines, "by funding body")
    assert not RAW_FLOAT.search("\n".join(lines))


def _report_commands(demo) -> list[tuple[str, ...]]:
    lon, lat = demo["point"]
    square = (
        f"POLYGON(({lon - 0.002} {lat - 0.002},{lon + 0.002} {lat - 0.002},"
        f"{lon + 0.002} {lat + 0.002},{lon - 0.002} {lat + 0.002},{lon - 0.002} {lat - 0.002}))"
    )
    return [
        ("coverage", "water", "--distance-m", "1000"),
        ("coverage", "water", "--distance-m", "1000", "--by", "village"),
        ("coverage", "roads"),
        ("coverage", "roads", "--by", "density"),
        ("siting", "water", "--n", "3"),
        ("zoning", "at", str(lon), str(lat), "--on", DAY),
        ("zoning", "parcel", square, "--on", DAY),
        ("zoning", "areas", "--by", "local_body", "--on", DAY),
        ("zoning", "check", "--asset", "landfill", "--geom", square, "--on", DAY),
        ("hazard", "exposure"),
        ("maintenance", "condition", "--as-of", DAY),
        ("maintenance", "condition", "--by", "asset", "--as-of", DAY),
        ("maintenance", "overdue", "--as-of", DAY),
        PROGRAMME,
        ("maintenance", "history"),
        ("maintenance", "history", "--table", "backlog"),
        ("maintenance", "history", "--by", "local_body", "--table", "trend"),
    ]


def test_every_report_begins_with_its_summary_and_fits(cli, demo):
    for args in _report_commands(demo):
        lines = _lines(cli(*args))
        data = json.loads(cli(*args, "--json").stdout)
        assert max(len(line) for line in lines) <= 120, args
        assert len(lines) <= 80, (args, len(lines))
        # the title, then the summary: the options asked and the figures, before any table
        first_table = next(i for i, line in enumerate(lines) if line and set(line) == {"─"})
        tables = [
            k for k, v in data.items() if isinstance(v, list) and v and isinstance(v[0], dict)
        ]
        scalar = [k for k, v in data.items() if k not in tables and v is not None]
        summary = "\n".join(lines[1 : first_table - 2])
        words = [k.removeprefix("share_").split("_")[0] for k in scalar if k != "n"]
        assert words and all(w in summary for w in words), (args, words, summary)
        assert not RAW_FLOAT.search("\n".join(lines)), args


def test_limit_and_all_choose_the_rows(cli):
    base = ("coverage", "water", "--distance-m", "1000", "--by", "village")
    villages = json.loads(cli(*base, "--json").stdout)["villages"]
    default = _lines(cli(*base))
    assert len(_table(default, "villages")) == 20
    assert f"… {villages - 20:,} more (use --limit N or --all)" in default
    seven = _lines(cli(*base, "--limit", "7"))
    assert len(_table(seven, "villages")) == 7
    assert seven[-1] == f"… {villages - 7:,} more (use --limit N or --all)"
    everything = _lines(cli(*base, "--all"))
    assert len(_table(everything, "villages")) == villages
    assert not any(line.startswith("… ") for line in everything)
    top = _lines(cli("connectivity", "critical", "--bridges-only", "--top", "3"))
    assert len(_table(top, "closures")) == 3


def test_the_route_is_grouped_by_road(cli, demo):
    args = ("route", demo["city"], demo["far"])
    data = json.loads(cli(*args, "--json").stdout)
    lines = _lines(cli(*args))
    runs = [code or "-" for code, _ in groupby(s["code"] for s in data["segments"])]
    roads = _table(lines, "roads driven")
    assert len(roads) == len(runs) < len(data["segments"])
    assert [row.split("  ")[0].strip() for row in roads] == runs
    assert len(_table(lines, "bridges crossed")) == len(data["bridges"])
    summary = "\n".join(lines[: lines.index("")])
    assert f"{data['length_m'] / 1000:,.2f} km" in summary
    assert f"{data['time_s'] / 60:,.1f} min" in summary
    for label in ("bridges crossed", "worst surface", "restrictions", "lowest load limit"):
        assert label in summary
    assert max(len(line) for line in lines) <= 120
    # a long route's roads are cut at --limit like every list
    assert len(runs) > 2
    two = _lines(cli(*args, "--limit", "2"))
    assert len(_table(two, "roads driven")) == 2
    assert f"… {len(runs) - 2:,} more (use --limit N or --all)" in two
    everything = _lines(cli(*args, "--limit", "2", "--all"))
    assert len(_table(everything, "roads driven")) == len(runs)


def test_amounts_as_people_write_them(cli, demo, monkeypatch):
    exact = json.loads(cli(*PROGRAMME, "--json").stdout)
    for written in ("50m", "50M", "50,000,000", "5e7"):
        args = [*PROGRAMME[:-1], written, "--json"]
        assert json.loads(cli(*args).stdout) == exact, written
    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", demo["url"])
    wrong = CliRunner().invoke(app, [*PROGRAMME[:-1], "50 millions"])
    assert wrong.exit_code == 1
    message = wrong.stderr.strip()
    assert "\n" not in message and "Traceback" not in message
    assert "budget_thb" in message and "50m" in message and "50,000,000" in message


@pytest.mark.parametrize(
    "command",
    [
        ("coverage", "water"),
        ("maintenance", "programme"),
        ("route",),
        ("connectivity", "critical"),
        ("network", "check"),
        ("users", "list"),
        ("import",),
    ],
)
def test_help_shows_flags_as_flags(command):
    result = CliRunner().invoke(app, [*command, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output and "<float>" not in result.output
    assert "--json" in result.output or "--dry-run" in result.output or "--help" in result.output
