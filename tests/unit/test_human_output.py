"""The text output's building blocks, without a database: figures rounded for people, tables
that fit their width whatever the names, flags shown as flags. (A route's roads and worst
surface are the library's: tests/db/test_route_summary.py.)"""

from __future__ import annotations

import math
from datetime import date

import pytest
from rich.cells import cell_len

from gis_registry.cli._human import (
    Col,
    fmt,
    listing,
    render,
    rows_limit,
    summary_pairs,
)

LONG_TH = "ทางหลวงแผ่นดินหมายเลข 1035 (ลำปาง - แจ้ห่ม - วังเหนือ) ช่วงที่ยาวมากเป็นพิเศษ"


@pytest.mark.parametrize(
    ("value", "kind", "name", "text"),
    [
        (0.7586206896551724, "auto", "share_villages_covered", "75.9 %"),
        (49_997_267.5, "auto", "funded_thb", "49,997,268"),
        (99_811.419, "km", "length_m", "99.81"),
        (1234.56, "auto", "distance_m", "1,235"),
        (2570, "auto", "fiscal_year", "2570"),
        (date(2025, 1, 23), "auto", "inspected_on", "23 ม.ค. 2568"),
        ("2026-10-01", "auto", "starts", "1 ต.ค. 2569"),
        (math.nan, "auto", "distance_m", "-"),
        (None, "thb", "cost_thb", "-"),
        (True, "auto", "along_roads", "yes"),
        ("very_poor", "term", "condition_class", "very poor"),
        (4855.6, "min", "time_s", "80.9"),
        (12345, "auto", "households", "12,345"),
    ],
)
def test_figures_are_rounded_for_people(value, kind, name, text):
    assert fmt(value, kind, name) == text


def test_the_summary_says_a_share_with_its_count_and_units_with_values():
    pairs = dict(
        summary_pairs(
            {
                "distance_m": 1000.0,
                "kinds": None,
                "villages_covered": 704,
                "share_villages_covered": 0.7586206896551724,
                "budget_thb": 50_000_000.0,
                "intervals_days": {"road": 365, "water_source": 365},
                "candidates_given": None,
            }
        )
    )
    assert pairs == {
        "distance": "1,000 m",
        "kinds": "all",
        "villages covered": "704 (75.9 %)",
        "budget": "50,000,000 THB",
        "intervals": "road 365 days, water source 365 days",
    }


@pytest.mark.parametrize("width", [100, 80, 60])
def test_a_table_fits_its_width_and_cuts_names_not_figures(width):
    rows = [
        {"code": f"ลป.ถ. {i}-0001", "name_th": LONG_TH, "cost_thb": 12_345_678.9, "share": 0.5}
        for i in range(30)
    ]
    cols = (
        Col("code", "code", "text", 16),
        Col("name_th", "name", "text", 60),
        Col("cost_thb", "cost THB", "thb"),
        Col("share", "share %", "pct"),
    )
    text = render(listing(rows, cols, heading="items", limit=5, width=width), width=width)
    lines = text.splitlines()
    assert max(cell_len(line) for line in lines) <= width
    assert lines[0] == "items: first 5 of 30"
    body = lines[3:-1]
    assert len(body) == 5 and all("12,345,679" in line and "50.0 %" in line for line in body)
    assert all("…" in line for line in body)  # the long name, cut
    assert lines[-1] == "… 25 more (use --limit N or --all)"


def test_all_rows_when_asked_and_an_empty_list_says_none():
    rows = [{"n": i} for i in range(3)]
    text = render(listing(rows, (Col("n", "n", "int"),), heading="all", limit=None, width=100))
    assert text.splitlines()[0] == "all (3)" and "more" not in text
    empty = render(listing([], (Col("n", "n", "int"),), heading="nothing", limit=5, width=100))
    assert empty.strip() == "nothing: none"


def test_rows_limit():
    assert rows_limit(None, False) == 20
    assert rows_limit(None, False, 10) == 10
    assert rows_limit(5, False, 10) == 5
    assert rows_limit(5, True) is None


def test_a_report_without_a_view_prints_its_summary_then_the_columns_that_fit():
    import pandas as pd

    from gis_registry.analysis.reports import Report
    from gis_registry.cli._human import render_report

    rows = pd.DataFrame(
        {
            "funding_body": ["pao", "lgo", "doh"] * 10,
            "local_body_id": range(30),
            "local_body_th": [LONG_TH] * 30,
            "local_body_en": ["Somewhere SAO"] * 30,
            "backlog_thb": [1_234_567.891] * 30,
            "planned_thb": [7_654_321.0] * 30,
            "share_planned": [0.123456] * 30,
            "items": [12] * 30,
            "road_km": [12.3456] * 30,
            "first_works_on": [date(2026, 10, 1)] * 30,
        }
    )
    report = Report(
        "a report nobody chose columns for",
        {"fiscal_year": 2570, "backlog_thb": 37_037_036.7, "bodies": 3},
        {"by_body": rows},
        main="by_body",
    )
    lines = render_report(report, limit=4).splitlines()
    assert lines[0] == "a report nobody chose columns for"
    assert "2570" in lines[1] and "37,037,037 THB" in "\n".join(lines[1:3])
    assert max(cell_len(line) for line in lines) <= 100
    header = next(line for line in lines if line.startswith("funding body"))
    assert "local body en" not in header and "local body id" not in header  # said in Thai
    row = lines[lines.index(header) + 2]
    assert "1,234,568" in row and "12.3 %" in row and "1 ต.ค. 2569" in row
    assert lines[-1] == "… 26 more (use --limit N or --all)"


def test_the_command_line_loads_the_text_output_only_to_print():
    """Every command module is imported at start-up (``gis-registry --help``): the text output,
    its columns and the heavy libraries are imported by the functions that use them, never
    when the command line loads."""
    import subprocess
    import sys

    heavy = [
        "gis_registry.cli._human",
        "rich.table",
        "socket",
        "pandas",
        "numpy",
        "sqlalchemy",
        "folium",
    ]
    probe = (
        f"import sys, gis_registry.cli; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "", f"imported at start-up: {loaded}"
