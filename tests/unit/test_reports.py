"""Report: the tables a caller gets are theirs to change; the report's answer stays."""

import pandas as pd

from gis_registry.analysis.reports import Report


def test_a_table_handed_out_is_a_copy():
    report = Report("t", {"n": 1}, {"sites": pd.DataFrame({"id": [1, 2]})}, main="sites")
    mine = report.table("sites")
    mine["note"] = "added by a notebook"
    assert list(report.frame.columns) == ["id"]
    assert report.to_dict()["sites"] == [{"id": 1}, {"id": 2}]
