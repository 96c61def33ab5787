"""Treatment rules, priorities, compliance rules and JSON/CSV output, without a database."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from gis_registry.analysis import compliance, output, programme
from gis_registry.errors import ValidationError


def _assets(**columns):
    base = {
        "asset_type": ["road"],
        "surface": ["asphalt"],
        "condition_class": ["fair"],
        "year_built": [2000],
        "length_m": [1000.0],
        "width_m": [6.0],
    }
    base.update(columns)
    return pd.DataFrame(base)


@pytest.mark.parametrize(
    ("columns", "rule", "cost"),
    [
        ({}, "T-R03", 1000 * 6 * 650),  # fair and 26 years old on 1 Oct 2026
        ({"year_built": [2010]}, "T-R02", 1000 * 6 * 250),  # fair, 16 years
        ({"surface": ["laterite"], "width_m": [None]}, "T-R06", 1000 * 5 * 90),  # default 5 m
        ({"condition_class": ["very_poor"]}, "T-R05", 1000 * 6 * 1200),
        ({"condition_class": ["good"], "year_built": [2020]}, None, None),  # nothing to do
        ({"condition_class": [None]}, None, None),  # never inspected
        ({"asset_type": ["bridge"], "surface": [None], "length_m": [30.0]}, "T-B01", 150_000),
        (
            {"asset_type": ["bridge"], "condition_class": ["poor"], "length_m": [30.0]},
            "T-B03",
            30 * 60_000,
        ),
    ],
)
def test_treatment_rules(columns, rule, cost):
    items = programme.treatments(_assets(**columns), programme.load_rules(), on=date(2026, 10, 1))
    if rule is None:
        assert items.empty
    else:
        assert items.iloc[0]["rule"] == rule
        assert items.iloc[0]["cost_thb"] == pytest.approx(cost)


def test_bad_rule_tables_are_refused():
    rules = programme.load_rules()
    rules.loc[0, "treatment"] = "paint"
    with pytest.raises(ValidationError, match="treatment"):
        programme.load_rules(rules)
    with pytest.raises(ValidationError, match="column missing"):
        compliance.load_rules(pd.DataFrame({"rule": ["x"]}))


def test_priority_weights_need_class_and_people():
    items = pd.DataFrame(
        {
            "condition_index": [10.0, 10.0, 90.0],
            "road_class": ["national", "local", "national"],
            "population_served": [1000.0, 1000.0, 1000.0],
            "criticality": [np.nan] * 3,
        }
    )
    p = programme.priority(items)
    assert p[0] > p[1] > p[2]
    assert ((p >= 0) & (p <= 100)).all()


def test_funding_body():
    assert programme.funding_body("pao", None) == "pao"
    assert programme.funding_body("sao", None) == "lgo"
    assert programme.funding_body(None, "DOH") == "doh"
    assert programme.funding_body(None, "EGAT") == "other"


def test_compliance_rule_lookup_by_key_or_english_name():
    rules = compliance.load_rules()
    assert compliance.slug("Open space, recreation, environment") == (
        "open_space_recreation_environment"
    )
    # the demo's key 'rural_agricultural' is matched through its English name
    rule = compliance.rule_for(rules, "landfill", "rural_agricultural", "rural and agricultural")
    assert rule["rule"] == "LF-02"
    assert compliance.rule_for(rules, "factory", "commercial", "commercial")["rule"] == "FA-01"
    assert compliance.rule_for(rules, "landfill", "unzoned", None)["rule"] == "LF-04"
    verdicts = pd.DataFrame({"verdict": ["allowed", "conditional", "unknown"]})
    assert compliance.overall_verdict(verdicts) == "unknown"


def test_json_keeps_thai_dates_and_nulls():
    frame = pd.DataFrame(
        {"name_th": ["บ้านเอ"], "on": [date(2026, 10, 1)], "x": [np.nan], "n": [np.int64(3)]}
    )
    text = output.to_json({"rows": output.records(frame), "fy": 2570})
    assert '"บ้านเอ"' in text and '"2026-10-01"' in text and '"x": null' in text
    assert '"n": 3' in text
    csv = output.to_csv(frame.assign(ids=[[1, 2]]))
    assert "บ้านเอ" in csv and "1|2" in csv
