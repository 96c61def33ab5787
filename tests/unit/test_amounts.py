"""Amounts of THB as people write them: ``50m``, ``50,000,000``, ``5e7``."""

from __future__ import annotations

import pytest

from gis_registry.errors import ValidationError
from gis_registry.fiscal import AMOUNT_FORMS, parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50000000", 50_000_000),
        ("50m", 50_000_000),
        ("50M", 50_000_000),
        ("50,000,000", 50_000_000),
        ("5e7", 50_000_000),
        ("5E7", 50_000_000),
        ("1.5k", 1_500),
        ("1.5K", 1_500),
        ("2b", 2_000_000_000),
        ("2.25 m", 2_250_000),
        (" 12,500.50 ", 12_500.5),
        ("0", 0),
        ("1,000k", 1_000_000),
        (50_000_000, 50_000_000),
        (1.5e6, 1_500_000),
    ],
)
def test_amounts_people_write(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "fifty", "50x", "50mm", "5,0000", "50,000,00", "-5m", "m", "1e", "nan", "inf", "1e400"],
)
def test_a_wrong_amount_names_the_field_and_the_forms_accepted(text):
    with pytest.raises(ValidationError) as caught:
        parse_amount(text)
    message = str(caught.value)
    assert "budget_thb" in message and AMOUNT_FORMS in message
    assert "\n" not in message


def test_the_field_named_is_the_callers():
    with pytest.raises(ValidationError, match="field 'cost_thb'"):
        parse_amount("lots", field="cost_thb")
