"""Field mapping: columns, constants, value maps and derived fields, from YAML and flags."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from gis_registry.errors import GisRegistryError
from gis_registry.io.mapping import FieldMapping


def _tambons() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"ADM3_PCODE": ["TH521005"], "ADM3_TH": ["บ้านบอม"], "ADM3_EN": ["Ban Bom"], "X": [1]},
        geometry=[box(99.4, 18.0, 99.5, 18.1)],
        crs="EPSG:4326",
    )


def test_shipped_tambon_mapping_derives_codes_names_and_an_office_inside():
    mapping = FieldMapping.load("data/mappings/cod-ab-tambons.yaml")
    frame = _tambons().assign(ADM2_PCODE="TH5210")
    out = mapping.apply(frame)
    row = out.iloc[0]
    assert row["code"] == row["tambon_code"] == "521005"
    assert row["district_code"] == "5210"
    assert row["name_th"] == "องค์การบริหารส่วนตำบลบ้านบอม"
    assert row["kind"] == "sao"
    assert row["boundary"].contains(row["office"])
    assert "ADM3_PCODE" not in out.columns and "X" in out.columns  # extras stay, to be reported


def test_flags_win_over_the_file_and_value_maps_apply():
    mapping = FieldMapping(values={"surface": {"ลาดยาง": "asphalt", "ลูกรัง": "laterite"}})
    mapping = mapping.with_options(columns={"name_th": "ชื่อ"}, constants={"lanes": "2"})
    frame = pd.DataFrame({"ชื่อ": ["ถนนบ้านบอม"], "surface": [" ลูกรัง "]})
    out = mapping.apply(frame)
    assert out.loc[0, "name_th"] == "ถนนบ้านบอม"
    assert out.loc[0, "lanes"] == "2"
    assert out.loc[0, "surface"] == "laterite"


def test_derived_steps_strip_replace_multiply_default():
    mapping = FieldMapping(
        derived={
            "code": {"from": "P", "strip_prefix": "TH", "replace": {"-": ""}},
            "length_km": {"from": "L", "multiply": 1000},
            "name_en": {"from": "N", "default": "unnamed"},
        }
    )
    frame = pd.DataFrame({"P": ["TH52-01", None], "L": ["1.5", "x"], "N": [None, "Ban Bom"]})
    out = mapping.apply(frame)
    assert out["code"].tolist()[0] == "5201"
    assert out["length_km"].tolist()[0] == 1500
    assert out["name_en"].tolist() == ["unnamed", "Ban Bom"]


def test_a_mapping_naming_an_absent_column_is_refused_naming_it():
    mapping = FieldMapping(columns={"name_th": "NAME_T"})
    with pytest.raises(GisRegistryError, match="NAME_T.*does not have"):
        mapping.apply(pd.DataFrame({"NAME": ["x"]}))


@pytest.mark.parametrize(
    "text, message",
    [
        ("colums: {}", "unknown key"),
        ("derived: {code: {from: A, template: B}}", "exactly one of"),
        ("derived: {code: {from: A, reverse: true}}", "unknown: reverse"),
        ("columns: [a, b]", "must be a mapping"),
        ("columns: {a: b}\nconstants: {a: 1}", "field 'a' is in columns and constants"),
    ],
)
def test_malformed_mapping_files_are_refused(tmp_path, text, message):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GisRegistryError, match=message):
        FieldMapping.load(path)


def test_missing_mapping_file_is_one_line():
    with pytest.raises(GisRegistryError, match="mapping file not found"):
        FieldMapping.load("nowhere.yaml")


def test_point_on_surface_of_a_source_column():
    mapping = FieldMapping(derived={"office": {"point_on_surface": "geometry"}})
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[box(0, 0, 2, 2)], crs="EPSG:32647")
    out = mapping.apply(frame)
    assert out["office"].iloc[0].equals(Point(1, 1)) or box(0, 0, 2, 2).contains(
        out["office"].iloc[0]
    )
