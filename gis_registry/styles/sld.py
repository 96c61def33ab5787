"""A :class:`~gis_registry.styles.symbology.LayerStyle` as OGC SLD 1.0 (Styled Layer
Descriptor), for clients that read SLD rather than QML (QGIS reads both; GeoServer, OpenLayers
and others SLD). UTF-8, Thai labels as is; hatching as a graphic fill of diagonal lines, the
way QGIS writes its line pattern fills to SLD.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gis_registry.styles.qml import (
    HATCH_ANGLE,
    LABEL_COLOUR,
    LABEL_FONT,
    LABEL_HALO,
    LABEL_HALO_OPACITY,
    LABEL_SIZE_PT,
)
from gis_registry.styles.symbology import LayerStyle, Scope, Symbol

SLD = "http://www.opengis.net/sld"
OGC = "http://www.opengis.net/ogc"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA = "http://www.opengis.net/sld http://schemas.opengis.net/sld/1.0.0/StyledLayerDescriptor.xsd"
ET.register_namespace("sld", SLD)
ET.register_namespace("ogc", OGC)
ET.register_namespace("xlink", XLINK)
ET.register_namespace("xsi", XSI)


def _s(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{SLD}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def _css(parent: ET.Element, name: str, value: str) -> None:
    _s(parent, "CssParameter", value, name=name)


def _fill(parent: ET.Element, colour: str, opacity: float) -> None:
    fill = _s(parent, "Fill")
    _css(fill, "fill", colour)
    if opacity < 1:
        _css(fill, "fill-opacity", f"{opacity:g}")


def _stroke(
    parent: ET.Element, colour: str, width_px: float, dash: tuple[float, float] | None
) -> None:
    stroke = _s(parent, "Stroke")
    _css(stroke, "stroke", colour)
    _css(stroke, "stroke-width", f"{width_px:g}")
    if dash:
        _css(stroke, "stroke-dasharray", f"{dash[0]:g} {dash[1]:g}")


def _symbolizers(rule_el: ET.Element, geometry: str, s: Symbol) -> None:
    """The symbolizers of one rule, in the order SLD 1.0 draws them (fill, hatch, outline)."""
    if geometry == "point":
        graphic = _s(_s(rule_el, "PointSymbolizer"), "Graphic")
        mark = _s(graphic, "Mark")
        _s(mark, "WellKnownName", "circle")
        _fill(mark, s.fill or s.stroke, s.fill_opacity)
        _stroke(mark, s.stroke, s.stroke_px, None)
        _s(graphic, "Size", f"{s.marker_px or 6:g}")
        return
    if geometry == "line" or s.fill is None:
        _stroke(_s(rule_el, "LineSymbolizer"), s.stroke, s.stroke_px, s.dash)
        return
    polygon = _s(rule_el, "PolygonSymbolizer")
    _fill(polygon, s.fill, s.fill_opacity)
    _stroke(polygon, s.stroke, s.stroke_px, s.dash)
    if s.hatch:
        hatch = _s(_s(_s(rule_el, "PolygonSymbolizer"), "Fill"), "GraphicFill")
        graphic = _s(hatch, "Graphic")
        mark = _s(graphic, "Mark")
        _s(mark, "WellKnownName", "horline")
        _stroke(mark, s.hatch, s.hatch_px, None)
        _s(graphic, "Size", f"{s.hatch_spacing_px:g}")
        _s(graphic, "Rotation", f"{HATCH_ANGLE}")


def _equal(parent: ET.Element, field: str, value: str) -> None:
    equal = ET.SubElement(parent, f"{{{OGC}}}PropertyIsEqualTo")
    ET.SubElement(equal, f"{{{OGC}}}PropertyName").text = field
    ET.SubElement(equal, f"{{{OGC}}}Literal").text = value


def _filter(rule_el: ET.Element, where: tuple[tuple[str, str], ...], scope: Scope | None) -> None:
    """``<ogc:Filter>``: the rule's equalities and, with a scope, its field in its values."""
    if not where and scope is None:
        return
    flt = ET.SubElement(rule_el, f"{{{OGC}}}Filter")
    terms = len(where) + (1 if scope is not None else 0)
    parent = ET.SubElement(flt, f"{{{OGC}}}And") if terms > 1 else flt
    for field, value in where:
        _equal(parent, field, value)
    if scope is not None:
        within = ET.SubElement(parent, f"{{{OGC}}}Or") if len(scope.values) > 1 else parent
        for allowed in scope.values:
            _equal(within, scope.field, str(allowed))


def _label_rule(fts: ET.Element, style: LayerStyle) -> None:
    """One rule labelling every feature: Thai name, then English, one a line."""
    rule_el = _s(fts, "Rule")
    _s(rule_el, "Name", "labels")
    _s(rule_el, "Title", "ป้ายชื่อ / Labels")
    _filter(rule_el, (), style.scope)
    if style.label_min_scale:
        _s(rule_el, "MaxScaleDenominator", f"{style.label_min_scale:g}")
    text = _s(rule_el, "TextSymbolizer")
    label = _s(text, "Label")
    previous: ET.Element | None = None
    for i, name in enumerate(style.label_fields):
        prop = ET.SubElement(label, f"{{{OGC}}}PropertyName")
        prop.text = name
        if i and previous is not None:
            previous.tail = "\n"
        previous = prop
    font = _s(text, "Font")
    _css(font, "font-family", LABEL_FONT)
    _css(font, "font-size", str(LABEL_SIZE_PT))
    halo = _s(text, "Halo")
    _s(halo, "Radius", "1")
    _fill(halo, LABEL_HALO, LABEL_HALO_OPACITY)
    _fill(text, LABEL_COLOUR, 1.0)


def sld_document(style: LayerStyle) -> bytes:
    """The style as an SLD 1.0 document (UTF-8, with its XML declaration)."""
    root = ET.Element(
        f"{{{SLD}}}StyledLayerDescriptor",
        {"version": "1.0.0", f"{{{XSI}}}schemaLocation": SCHEMA},
    )
    named = _s(root, "NamedLayer")
    _s(named, "Name", style.layer)
    user = _s(named, "UserStyle")
    _s(user, "Name", style.name)
    _s(user, "Title", style.title)
    fts = _s(user, "FeatureTypeStyle")
    for rule in style.rules:
        rule_el = _s(fts, "Rule")
        _s(rule_el, "Name", rule.name)
        _s(rule_el, "Title", rule.label)
        if rule.otherwise:  # the features no other rule takes (a scope's outside included)
            _s(rule_el, "ElseFilter")
        else:
            _filter(rule_el, rule.where, style.scope)
        _symbolizers(rule_el, style.geometry, rule.symbol)
    if style.label_fields:
        _label_rule(fts, style)
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"
