"""A :class:`~gis_registry.styles.symbology.LayerStyle` as a QGIS style (QML, QGIS 3.22): a
rule-based renderer (one rule per legend entry, ``ELSE`` for the rest), simple fills with a
line pattern fill over them for DPT hatching, pixel sizes as the Folium maps', and labels in a
Thai-capable font. :func:`style_elements` is also what the QGIS project embeds per layer.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

from gis_registry.styles.symbology import LayerStyle, Rule, Scope, Symbol

QGIS_VERSION = "3.22.0"
# Thai-capable fonts of fonts-thai-tlwg (Debian), which QGIS falls back from when missing.
LABEL_FONT = "Loma"
LABEL_SIZE_PT = 9
LABEL_COLOUR = "#222222"
LABEL_HALO = "#ffffff"  # a halo so labels read over any fill
LABEL_HALO_OPACITY = 0.8
HATCH_ANGLE = 45  # as the maps' SVG patterns (rotate(45))
PX = "Pixel"


def rgba(colour: str, opacity: float = 1.0) -> str:
    """'#1f78b4' and an opacity as QGIS writes a colour: 'r,g,b,a' (0-255)."""
    value = colour.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"not a #rrggbb colour: '{colour}'")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(255 * max(0.0, min(1.0, opacity)))}"


def _options(parent: ET.Element, props: dict[str, str]) -> None:
    """Symbol layer properties as QGIS 3.22 writes them (``<Option type="Map">``)."""
    options = ET.SubElement(parent, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(options, "Option", name=key, type="QString", value=value)


def _symbol_layer(parent: ET.Element, cls: str, props: dict[str, str]) -> ET.Element:
    layer = ET.SubElement(
        parent, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"}
    )
    _options(layer, props)
    return layer


def _line_props(colour: str, width_px: float, dash: tuple[float, float] | None) -> dict[str, str]:
    props = {
        "line_color": rgba(colour),
        "line_width": f"{width_px:g}",
        "line_width_unit": PX,
        "line_style": "solid",
        "capstyle": "round",
        "joinstyle": "round",
        "use_custom_dash": "0",
    }
    if dash:
        props |= {
            "use_custom_dash": "1",
            "customdash": f"{dash[0]:g};{dash[1]:g}",
            "customdash_unit": PX,
        }
    return props


def _symbol(parent: ET.Element, name: str, geometry: str, s: Symbol) -> ET.Element:
    kind = {"point": "marker", "line": "line", "polygon": "fill"}[geometry]
    sym = ET.SubElement(
        parent,
        "symbol",
        {"type": kind, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    if kind == "line":
        _symbol_layer(sym, "SimpleLine", _line_props(s.stroke, s.stroke_px, s.dash))
    elif kind == "marker":
        _symbol_layer(
            sym,
            "SimpleMarker",
            {
                "name": "circle",
                "color": rgba(s.fill or s.stroke, s.fill_opacity),
                "outline_color": rgba(s.stroke),
                "outline_style": "solid",
                "outline_width": f"{s.stroke_px:g}",
                "outline_width_unit": PX,
                "size": f"{s.marker_px or 6:g}",
                "size_unit": PX,
                "scale_method": "diameter",
            },
        )
    elif s.fill is None:  # an outline only (boundaries): a line, which may be dashed
        _symbol_layer(sym, "SimpleLine", _line_props(s.stroke, s.stroke_px, s.dash))
    else:
        _symbol_layer(
            sym,
            "SimpleFill",
            {
                "color": rgba(s.fill, s.fill_opacity),
                "style": "solid",
                "outline_color": rgba(s.stroke),
                "outline_style": "solid",
                "outline_width": f"{s.stroke_px:g}",
                "outline_width_unit": PX,
                "joinstyle": "bevel",
            },
        )
        if s.hatch:
            hatch = _symbol_layer(
                sym,
                "LinePatternFill",
                {
                    "angle": f"{HATCH_ANGLE}",
                    "color": rgba(s.hatch),
                    "distance": f"{s.hatch_spacing_px:g}",
                    "distance_unit": PX,
                    "line_width": f"{s.hatch_px:g}",
                    "line_width_unit": PX,
                },
            )
            _symbol(hatch, f"@{name}@1", "line", Symbol(stroke=s.hatch, stroke_px=s.hatch_px))
    return sym


def quote_value(value: str) -> str:
    """A string literal of a QGIS expression ('it''s')."""
    return "'" + value.replace("'", "''") + "'"


def rule_filter(rule: Rule) -> str:
    """The QGIS expression choosing a rule's features ('ELSE' for the rest, '' for all)."""
    if rule.otherwise:
        return "ELSE"
    return " AND ".join(f'"{field}" = {quote_value(value)}' for field, value in rule.where)


def label_expression(fields: tuple[str, ...], scope: Scope | None = None) -> str:
    """The label of a feature: its fields one a line (Thai, then English), empty ones left out;
    none outside the style's scope."""
    parts = [f'"{f}"' for f in fields]
    if len(parts) == 1:
        label = parts[0]
    else:  # concat_ws-like: a missing English name leaves no empty line under the Thai one
        label = (
            "array_to_string(array_filter(array(" + ", ".join(parts) + "), @element <> ''), '\\n')"
        )
    if scope is None:
        return label
    return f"CASE WHEN {scope_filter(scope)} THEN {label} END"


def scope_filter(scope: Scope) -> str:
    """The QGIS expression of a style's scope: ``"plan_id" IN (3, 5)``."""
    return f'"{scope.field}" IN ({", ".join(str(v) for v in scope.values)})'


def renderer_element(style: LayerStyle) -> ET.Element:
    """``<renderer-v2 type="RuleRenderer">``: one rule and one symbol per legend entry."""
    renderer = ET.Element(
        "renderer-v2",
        {
            "type": "RuleRenderer",
            "symbollevels": "0",
            "enableorderby": "0",
            "forceraster": "0",
            "referencescale": "-1",
        },
    )
    rules = ET.SubElement(renderer, "rules", key=_key(style.layer, "root"))
    symbols = ET.SubElement(renderer, "symbols")
    parent = rules
    if style.scope is not None:  # a rule without symbol: its children draw only within it
        parent = ET.SubElement(
            rules,
            "rule",
            {
                "key": _key(style.layer, "scope"),
                "filter": scope_filter(style.scope),
                "label": style.scope.label,
            },
        )
    for i, rule in enumerate(style.rules):
        attrs = {"key": _key(style.layer, rule.name), "symbol": str(i), "label": rule.label}
        expression = rule_filter(rule)
        if expression:
            attrs["filter"] = expression
        ET.SubElement(parent, "rule", attrs)
        _symbol(symbols, str(i), style.geometry, rule.symbol)
    return renderer


def labeling_element(style: LayerStyle) -> ET.Element | None:
    """``<labeling type="simple">``: Thai and English names in :data:`LABEL_FONT`, haloed."""
    if not style.label_fields:
        return None
    labeling = ET.Element("labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutType="simple")
    text_style = ET.SubElement(
        settings,
        "text-style",
        {
            "fieldName": label_expression(style.label_fields, style.scope),
            "isExpression": "1",
            "fontFamily": LABEL_FONT,
            "fontSize": str(LABEL_SIZE_PT),
            "fontSizeUnit": "Point",
            "textColor": rgba(LABEL_COLOUR),
            "textOpacity": "1",
            "multilineHeight": "1",
        },
    )
    ET.SubElement(
        text_style,
        "text-buffer",
        {
            "bufferDraw": "1",
            "bufferSize": "1",
            "bufferSizeUnits": "MM",
            "bufferColor": rgba(LABEL_HALO),
            "bufferOpacity": f"{LABEL_HALO_OPACITY:g}",
        },
    )
    ET.SubElement(settings, "text-format", {"multilineAlign": "1", "wrapChar": ""})
    # QgsPalLayerSettings.Placement: around the point, along the line, over the centroid
    placement = {"point": "0", "line": "2", "polygon": "1"}[style.geometry]
    ET.SubElement(settings, "placement", {"placement": placement, "dist": "1"})
    scale = style.label_min_scale
    ET.SubElement(
        settings,
        "rendering",
        {
            "scaleVisibility": "1" if scale else "0",
            "scaleMin": f"{scale:g}" if scale else "0",
            "scaleMax": "0",
            "obstacle": "1",
            "drawLabels": "1",
        },
    )
    return labeling


def style_elements(style: LayerStyle) -> list[ET.Element]:
    """The renderer and labeling elements of a layer (a QML's, a project layer's)."""
    out = [renderer_element(style)]
    labeling = labeling_element(style)
    if labeling is not None:
        out.append(labeling)
    return out


def qml_document(style: LayerStyle) -> bytes:
    """The style as a QML file (UTF-8, Thai as is)."""
    root = ET.Element(
        "qgis",
        {
            "version": QGIS_VERSION,
            "styleCategories": "Symbology|Labeling",
            "labelsEnabled": "1" if style.label_fields else "0",
        },
    )
    root.extend(style_elements(style))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n").encode()


def _key(layer: str, name: str) -> str:
    """A stable rule key (QGIS wants braces): the same style gives the same file."""
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"gis-registry:{layer}:{name}")) + "}"
