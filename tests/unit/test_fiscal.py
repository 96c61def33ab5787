from datetime import date

import pytest

from gis_registry.fiscal import fiscal_year, fiscal_year_bounds, format_thai_date, to_be, to_ce


def test_fiscal_year_boundary_30_september_1_october():
    assert fiscal_year(date(2026, 9, 30)) == 2569
    assert fiscal_year(date(2026, 10, 1)) == 2570
    assert fiscal_year(date(2025, 10, 1)) == 2569
    assert fiscal_year(date(2026, 1, 1)) == 2569


def test_bounds_round_trip():
    start, end = fiscal_year_bounds(2569)
    assert (start, end) == (date(2025, 10, 1), date(2026, 9, 30))
    assert fiscal_year(start) == fiscal_year(end) == 2569


def test_buddhist_era_conversion():
    assert to_be(2026) == 2569 and to_ce(2569) == 2026


def test_ce_year_refused_as_fiscal_year():
    with pytest.raises(ValueError, match="Buddhist Era"):
        fiscal_year_bounds(2026)


def test_thai_date():
    assert format_thai_date(date(2026, 10, 1)) == "1 ตุลาคม 2569"
    assert format_thai_date(date(2026, 10, 1), abbreviated=True) == "1 ต.ค. 2569"
