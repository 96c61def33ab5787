"""Layer styles: the symbology computed once from the maps' palette, written as QML and SLD."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text

from gis_registry import domain
from gis_registry.catalog import CATALOG
from gis_registry.errors import NotFound
from gis_registry.styles import palette
from gis_registry.styles.qml import label_expression, qml_document, rgba, rule_filter
from gis_registry.styles.sld import OGC, SLD, sld_document
from gis_registry.styles.symbology import (
    Rule,
    Symbol,
    all_styles,
    layer_style,
    legend_code,
    styled_layers,
)

pytestmark = pytest.mark.db  # the DPT palette is data: zoning_categories

S = f"{{{SLD}}}"
F = f"{{{OGC}}}"


def _qml_symbols(doc: bytes) -> tuple[list[ET.Element], dict[str, ET.Element]]:
    root = ET.fromstring(doc)
    renderer = root.find("renderer-v2")
    assert renderer is not None and renderer.get("type") == "RuleRenderer"
    rules = renderer.findall("rules/rule")
    symbols = {s.get("name", ""): s for s in renderer.findall("symbols/symbol")}
    return rules, symbols


def _option(layer: ET.Element, name: str) -> str | None:
    for option in layer.findall("Option/Option"):
        if option.get("name") == name:
            return option.get("value")
    return None


def test_every_spatial_layer_has_a_style_and_only_those(conn):
    spatial = [layer.id for layer in CATALOG.values() if layer.spatial]
    assert list(styled_layers()) == spatial
    assert {"water_points", "water_areas", "water_lines", "zoning_zones"} <= set(spatial)
    assert [s.layer for s in all_styles(conn)] == spatial
    with pytest.raises(NotFound, match="styled layers: districts.*zoning_zones"):
        layer_style(conn, "inspections")
    with pytest.raises(NotFound, match="no styled layer 'nowhere'"):
        layer_style(conn, "nowhere")
    with pytest.raises(NotFound, match=r"styles: default"):
        layer_style(conn, "roads", "fancy")


def test_zoning_colours_and_hatching_are_the_dpt_palette_in_qml_and_sld(conn):
    rows = (
        conn.execute(text("SELECT key, fill, stroke, hatch FROM zoning_categories"))
        .mappings()
        .all()
    )
    assert rows, "migrations seed the DPT categories"
    style = layer_style(conn, "zoning_zones")
    by_key = {r.where: r for r in style.rules}
    rules, symbols = _qml_symbols(qml_document(style))
    qml_rules = {rule.get("filter"): symbols[rule.get("symbol", "")] for rule in rules}
    sld = ET.fromstring(sld_document(style))
    sld_rules = {r.findtext(f"{S}Name"): r for r in sld.iter(f"{S}Rule")}
    for row in rows:
        rule = by_key[(("category", row["key"]),)]
        assert (rule.symbol.fill, rule.symbol.stroke) == (row["fill"], row["stroke"])
        assert rule.symbol.hatch == (row["hatch"] or None)
        opacity = palette.ZONE_HATCH_FILL_OPACITY if row["hatch"] else palette.ZONE_FILL_OPACITY
        layers = qml_rules[f"\"category\" = '{row['key']}'"].findall("layer")
        assert layers[0].get("class") == "SimpleFill"
        assert _option(layers[0], "color") == rgba(row["fill"], opacity)
        assert _option(layers[0], "outline_color") == rgba(row["stroke"])
        fills = [
            p.text
            for p in sld_rules[row["key"]].iter(f"{S}CssParameter")
            if p.get("name") == "fill"
        ]
        assert fills[0] == row["fill"]
        if row["hatch"]:
            assert layers[1].get("class") == "LinePatternFill"
            assert _option(layers[1], "color") == rgba(row["hatch"])
            hatch_line = layers[1].find("symbol/layer")
            assert hatch_line is not None and _option(hatch_line, "line_color") == rgba(
                row["hatch"]
            )
            strokes = [
                p.text
                for p in sld_rules[row["key"]].iter(f"{S}CssParameter")
                if p.get("name") == "stroke"
            ]
            assert row["hatch"] in strokes
            assert sld_rules[row["key"]].find(f".//{S}GraphicFill") is not None
        else:
            assert len(layers) == 1


def test_water_hazard_and_road_rules_follow_the_vocabularies(conn):
    for table, geometry in (("water_points", "point"), ("water_areas", "polygon")):
        style = layer_style(conn, table)
        assert style.geometry == geometry
        for key, term in domain.WATER_SOURCE_KIND_TERMS.items():
            rule = next(r for r in style.rules if r.where == (("kind", key),))
            assert rule.symbol.fill == term.colour and rule.label_th == term.th
        assert style.rules[-1].otherwise and rule_filter(style.rules[-1]) == "ELSE"
    lines = layer_style(conn, "water_lines")
    assert lines.geometry == "line"
    assert {r.symbol.stroke for r in lines.rules} >= {"#2b8cbe"}
    hazards = layer_style(conn, "hazard_areas")
    flood_high = next(r for r in hazards.rules if r.name == "flood_high")
    assert flood_high.symbol.fill == domain.HAZARD_COLOURS["flood"]["high"]
    assert rule_filter(flood_high) == "\"hazard_type\" = 'flood' AND \"severity\" = 'high'"
    roads = layer_style(conn, "roads")
    widths = {r.name: r.symbol.stroke_px for r in roads.rules}
    assert all(widths[k] == palette.ROAD_WIDTH_PX[k] for k in domain.ROAD_CLASSES)
    outline = layer_style(conn, "local_bodies").rules[0].symbol
    assert outline.fill is None and outline.dash == palette.LOCAL_BODY_DASH_PX


def test_the_maps_draw_with_the_same_palette():
    from gis_registry.maps import base, hazard, water, zoning

    assert base.ROAD_WIDTH_PX is palette.ROAD_WIDTH_PX
    assert water.source_colour is palette.source_colour
    assert hazard.hazard_colour is palette.hazard_colour
    assert zoning.FILL_OPACITY == palette.ZONE_FILL_OPACITY
    assert zoning.legend_code is legend_code
    assert legend_code("-", ["ส.10", "ส.2", ""]) == "ส.2, ส.10"


def test_sld_is_structurally_sld_1_0_with_thai_labels(conn):
    order = {"Name": 0, "Title": 1, "Filter": 2, "ElseFilter": 2, "MaxScaleDenominator": 3}
    for style in all_styles(conn):
        raw = sld_document(style)
        assert raw.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
        root = ET.fromstring(raw)
        assert root.tag == f"{S}StyledLayerDescriptor" and root.get("version") == "1.0.0"
        named = root.find(f"{S}NamedLayer")
        assert named is not None and named.findtext(f"{S}Name") == style.layer
        user = named.find(f"{S}UserStyle")
        assert user is not None
        assert [c.tag for c in user][:3] == [f"{S}Name", f"{S}Title", f"{S}FeatureTypeStyle"]
        assert style.title_th in (user.findtext(f"{S}Title") or "")
        for rule in user.iter(f"{S}Rule"):
            ranks = []
            for child in rule:
                name = child.tag.split("}")[1]
                ranks.append(order.get(name, 9))  # symbolizers after name, title, filter, scale
                assert child.tag.startswith((S, F))
                if name.endswith("Symbolizer"):
                    assert name in {
                        "PointSymbolizer",
                        "LineSymbolizer",
                        "PolygonSymbolizer",
                        "TextSymbolizer",
                    }
            assert ranks == sorted(ranks), [c.tag for c in rule]
            for css in rule.iter(f"{S}CssParameter"):
                if css.get("name") in ("fill", "stroke"):
                    assert (css.text or "").startswith("#") and len(css.text or "") == 7
        if style.label_fields:
            label = root.find(f".//{S}TextSymbolizer/{S}Label")
            assert label is not None
            assert [p.text for p in label.iter(f"{F}PropertyName")] == list(style.label_fields)
    zoning = sld_document(layer_style(conn, "zoning_zones")).decode("utf-8")
    assert "ที่อยู่อาศัยหนาแน่นน้อย" in zoning and "ย.1-ย.4" in zoning


def test_qml_labels_thai_and_english_in_a_thai_font(conn):
    style = layer_style(conn, "settlements")
    assert style.label_fields == ("name_th", "name_en")
    root = ET.fromstring(qml_document(style))
    assert root.get("labelsEnabled") == "1"
    text_style = root.find("labeling/settings/text-style")
    assert text_style is not None
    assert text_style.get("fontFamily") in ("Loma", "Garuda")
    assert text_style.get("isExpression") == "1"
    assert text_style.get("fieldName") == label_expression(("name_th", "name_en"))
    zoning = qml_document(layer_style(conn, "zoning_zones")).decode("utf-8")
    assert 'label="ย.1-ย.4 ที่อยู่อาศัยหนาแน่นน้อย / low-density residential"' in zoning
    # the same style writes the same bytes (stable rule keys: a diff shows real changes)
    assert qml_document(style) == qml_document(layer_style(conn, "settlements"))


def test_rule_and_colour_helpers():
    assert rgba("#FF8000", 0.5) == "255,128,0,128"
    with pytest.raises(ValueError, match="#rrggbb"):
        rgba("red")
    odd = Rule("x", "x", "x", Symbol("#000000", 1), where=(("name_th", "บ้าน'แม่"),))
    assert rule_filter(odd) == "\"name_th\" = 'บ้าน''แม่'"
    assert label_expression(("land_use_code",)) == '"land_use_code"'


def test_zoning_draws_the_plans_in_force_as_the_map(demo_conn):
    from datetime import date

    from gis_registry.analysis.zoning import in_force_sql

    today = date.today()
    in_force = tuple(
        demo_conn.execute(
            text(f"SELECT id FROM zoning_plans p WHERE {in_force_sql('p', 'd')} ORDER BY id"),
            {"d": today},
        ).scalars()
    )
    every = demo_conn.execute(text("SELECT count(*) FROM zoning_plans")).scalar_one()
    assert in_force and len(in_force) < every, "the demo holds an expired plan and its revision"
    style = layer_style(demo_conn, "zoning_zones")
    assert style.scope is not None and style.scope.values == in_force
    root = ET.fromstring(qml_document(style))
    scope_rule = root.find("renderer-v2/rules/rule")
    assert scope_rule is not None and scope_rule.get("symbol") is None
    assert scope_rule.get("filter") == f'"plan_id" IN ({", ".join(map(str, in_force))})'
    assert len(scope_rule.findall("rule")) == len(style.rules)
    text_style = root.find("labeling/settings/text-style")
    assert text_style is not None and "CASE WHEN" in (text_style.get("fieldName") or "")
    sld = ET.fromstring(sld_document(style))
    for rule in sld.iter(f"{S}Rule"):
        plans = {
            int(eq.findtext(f"{F}Literal") or 0)
            for eq in rule.iter(f"{F}PropertyIsEqualTo")
            if eq.findtext(f"{F}PropertyName") == "plan_id"
        }
        assert plans == set(in_force), rule.findtext(f"{S}Name")
    assert layer_style(demo_conn, "zoning_zones", as_of=date(1900, 1, 1)).scope is None
