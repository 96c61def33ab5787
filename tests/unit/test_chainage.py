"""Chainage (กม. 688+210): written as engineers write it, stored in metres (issue 14)."""

from __future__ import annotations

import pandas as pd
import pytest

from gis_registry.chainage import format_chainage, on_road, parse_chainage
from gis_registry.db.tables import bridges
from gis_registry.validation import validate_frame, validate_record


@pytest.mark.parametrize(
    ("text", "metres"),
    [
        ("กม. 688+210", 688_210.0),
        ("กม.688+210", 688_210.0),
        ("km 12+005", 12_005.0),
        ("0+450.5", 450.5),
        ("688210", 688_210.0),
        (1500, 1500.0),
    ],
)
def test_parse_the_written_forms(text, metres):
    assert parse_chainage(text) == metres


@pytest.mark.parametrize("text", ["กม. 688+2100", "688 km", "12+34+5", "กม."])
def test_a_wrong_chainage_names_the_forms(text):
    with pytest.raises(ValueError, match="กม. 688\\+210"):
        parse_chainage(text)


def test_format_and_place():
    assert format_chainage(688_210.4) == "กม. 688+210"
    assert format_chainage(5.0) == "กม. 0+005"
    assert format_chainage(None) == "" and format_chainage(float("nan")) == ""
    assert on_road("1", 612_300.0) == "1 กม. 612+300"
    assert on_road("ลป.4007", None) == "ลป.4007"


def test_imports_and_writes_take_the_written_form():
    clean, problems = validate_record(bridges, {"chainage_m": "กม. 12+340"}, ref=1, partial=True)
    assert not problems and clean["chainage_m"] == 12_340.0
    _, problems = validate_record(bridges, {"chainage_m": "km twelve"}, ref=7, partial=True)
    assert problems and problems[0][:2] == (7, "chainage_m") and "กม. 688+210" in problems[0][2]
    _, problems = validate_record(bridges, {"chainage_m": -5}, ref=8, partial=True)
    assert problems and problems[0][1] == "chainage_m"
    frame = pd.DataFrame({"chainage_m": ["กม. 1+200", "300", None, "x+1"]})
    out, problems = validate_frame(bridges, frame, resolved_later=set(bridges.columns.keys()))
    assert list(out["chainage_m"][:2]) == [1200.0, 300.0] and pd.isna(out["chainage_m"][2])
    assert [(p[0], p[1]) for p in problems] == [(3, "chainage_m")]
