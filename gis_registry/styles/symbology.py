"""Each layer's symbology as plain data, computed once: the rules (which features, drawn how,
labelled what in the legend), the label of each feature (Thai and English) and the layer's
group. The QML and SLD writers (:mod:`gis_registry.styles.qml`, :mod:`gis_registry.styles.sld`)
and the QGIS project (:mod:`gis_registry.styles.project`) only translate it.

Colours come from :mod:`gis_registry.styles.palette` and the vocabularies it reads; the DPT
land-use colours and hatching from the ``zoning_categories`` table, which is why
:func:`layer_style` takes a connection.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import Connection, text

from gis_registry import domain
from gis_registry.catalog import CATALOG, Layer
from gis_registry.errors import NotFound
from gis_registry.styles import palette

GeometryKind = Literal["point", "line", "polygon"]
DEFAULT_STYLE = "default"

_KINDS: dict[str, GeometryKind] = {
    "POINT": "point",
    "MULTIPOINT": "point",
    "LINESTRING": "line",
    "MULTILINESTRING": "line",
    "POLYGON": "polygon",
    "MULTIPOLYGON": "polygon",
}


@dataclass(frozen=True)
class Symbol:
    """How one class of features is drawn. Sizes are screen pixels, as the Folium maps'.

    ``fill`` None draws the outline only; ``hatch`` (a colour) lays parallel lines over the fill;
    ``dash`` is (dash, gap) in px; ``marker_px`` is a point's circle diameter.
    """

    stroke: str
    stroke_px: float
    fill: str | None = None
    fill_opacity: float = 1.0
    hatch: str | None = None
    hatch_spacing_px: float = palette.ZONE_HATCH_SPACING_PX
    hatch_px: float = palette.ZONE_HATCH_WIDTH_PX
    dash: tuple[float, float] | None = None
    marker_px: float | None = None


@dataclass(frozen=True)
class Rule:
    """One legend entry: the features whose ``where`` fields equal the values (every feature
    when ``where`` is empty; the features no other rule takes when ``otherwise``)."""

    name: str  # stable id (the category key), ASCII
    label_th: str
    label_en: str
    symbol: Symbol
    where: tuple[tuple[str, str], ...] = ()
    otherwise: bool = False

    @property
    def label(self) -> str:
        """'ถนน / Roads' (once when both are the same)."""
        return (
            self.label_th
            if self.label_th == self.label_en
            else f"{self.label_th} / {self.label_en}"
        )


@dataclass(frozen=True)
class Group:
    """A group of layers in a QGIS project's layer tree."""

    key: str
    title_th: str
    title_en: str

    @property
    def title(self) -> str:
        """'ขอบเขตการปกครอง · Boundaries'."""
        return f"{self.title_th} · {self.title_en}"


GROUPS: dict[str, Group] = {
    g.key: g
    for g in (
        # the condition snapshot (gis_registry.styles.condition), over the network it colours
        Group("condition", "สภาพทางและสะพาน", "Condition"),
        Group("villages", "หมู่บ้าน", "Villages"),
        Group("network", "โครงข่ายคมนาคม", "Network"),
        Group("water", "แหล่งน้ำ", "Water"),
        Group("hazards", "พื้นที่เสี่ยงภัย", "Hazards"),
        Group("planning", "ผังเมือง", "Planning"),
        Group("boundaries", "ขอบเขตการปกครอง", "Boundaries"),
    )
}  # in drawing order from the top: points over lines over areas over outlines
LAYER_GROUPS: dict[str, str] = {
    "districts": "boundaries",
    "local_bodies": "boundaries",
    "settlements": "villages",
    "rivers": "water",
    "roads": "network",
    "bridges": "network",
    "water_points": "water",
    "water_areas": "water",
    "water_lines": "water",
    "zoning_zones": "planning",
    "hazard_areas": "hazards",
}
OTHER_GROUP = Group("other", "อื่น ๆ", "Other")


@dataclass(frozen=True)
class Scope:
    """The features a style draws: ``field`` in ``values``, with a legend label."""

    field: str
    values: tuple[int, ...]
    label_th: str
    label_en: str

    @property
    def label(self) -> str:
        """'ผังที่มีผลบังคับใช้ / plans in force'."""
        return f"{self.label_th} / {self.label_en}"


@dataclass(frozen=True)
class LayerStyle:
    """A layer's style: what a QML or SLD file says, and how the project labels the layer."""

    layer: str
    name: str
    title_th: str
    title_en: str
    geometry: GeometryKind
    rules: tuple[Rule, ...]
    label_fields: tuple[str, ...]  # labelled "th\nen" (the fields the layer has, in order)
    group: Group
    label_min_scale: float = 0.0  # 1:n beyond which labels are hidden (0: always)
    # Only the features whose field takes one of the values are drawn and labelled (the zones
    # of the plans in force, as the zoning map: an expired plan and its revision cover the
    # same land); None: every feature.
    scope: Scope | None = None

    @property
    def title(self) -> str:
        """'ถนน · Roads'."""
        return f"{self.title_th} · {self.title_en}"


def geometry_kind(layer: Layer) -> GeometryKind:
    """Point, line or polygon: how the layer's primary geometry is drawn."""
    kind = _KINDS.get(layer.geometry_type or "")
    if kind is None:
        raise NotFound(f"layer '{layer.id}' has no single geometry type to style")
    return kind


def _label_fields(layer: Layer, *preferred: str) -> tuple[str, ...]:
    return tuple(f for f in preferred if f in layer.properties)


def legend_code(category_codes: str | None, zone_codes: Iterable[str]) -> str:
    """The code a legend shows for a land-use category.

    The category's own range (``ย.1-ย.4``) when it has one; a category whose range is not
    set (``-`` or empty in ``zoning_categories``: DPT gives residential conservation,
    special-purpose industrial, education, religious and open space no range of its own) shows
    the codes its zones carry instead (``ย.อ.``, ``ส.2``), sorted, rather than a dash.
    """
    own = (category_codes or "").strip()
    if own and own != "-":
        return own
    carried = sorted({c.strip() for c in zone_codes if c and c.strip()}, key=_natural)
    return ", ".join(carried) or own


def _natural(code: str) -> list[Any]:
    """Sort key reading the numbers in a code as numbers (ส.2 before ส.10)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", code)]


def _zoning_rules(conn: Connection) -> tuple[Rule, ...]:
    """One rule per DPT land-use category, in the plan's legend order, hatched where DPT
    hatches (the colours are the ``zoning_categories`` rows the zoning map draws with)."""
    rows = conn.execute(
        text(
            "SELECT c.key, c.codes, c.name_th, c.name_en, c.fill, c.stroke, c.hatch, "
            "array_remove(array_agg(DISTINCT z.land_use_code), NULL) AS zone_codes "
            "FROM zoning_categories c LEFT JOIN zoning_zones z ON z.category = c.key "
            "GROUP BY c.key ORDER BY c.sort_order, c.key"
        )
    ).mappings()
    rules = []
    for r in rows:
        hatched = bool(r["hatch"])
        codes = legend_code(r["codes"], r["zone_codes"])
        prefix = f"{codes} " if codes and codes != "-" else ""
        rules.append(
            Rule(
                name=r["key"],
                label_th=f"{prefix}{r['name_th']}",
                label_en=r["name_en"],
                symbol=Symbol(
                    stroke=r["stroke"],
                    stroke_px=palette.ZONE_STROKE_PX,
                    fill=r["fill"],
                    fill_opacity=(
                        palette.ZONE_HATCH_FILL_OPACITY if hatched else palette.ZONE_FILL_OPACITY
                    ),
                    hatch=r["hatch"] or None,
                ),
                where=(("category", r["key"]),),
            )
        )
    return tuple(rules)


def _water_rules(kind: GeometryKind) -> tuple[Rule, ...]:
    rules = []
    for key, term in domain.WATER_SOURCE_KIND_TERMS.items():
        colour = palette.source_colour(key)
        rules.append(
            Rule(key, term.th, term.en, _water_symbol(kind, colour), where=(("kind", key),))
        )
    rules.append(
        Rule(
            "other",
            "อื่น ๆ",
            "other",
            _water_symbol(kind, palette.OTHER_SOURCE),
            otherwise=True,
        )
    )
    return tuple(rules)


def _water_symbol(kind: GeometryKind, colour: str) -> Symbol:
    if kind == "line":
        return Symbol(stroke=colour, stroke_px=palette.WATER_LINE_PX)
    return Symbol(
        stroke=colour,
        stroke_px=palette.WATER_LINE_PX if kind == "polygon" else 1.0,
        fill=colour,
        fill_opacity=palette.WATER_FILL_OPACITY,
        marker_px=palette.WATER_MARKER_PX if kind == "point" else None,
    )


def _hazard_rules() -> tuple[Rule, ...]:
    rules = []
    for hazard, kind in domain.HAZARD_TYPE_TERMS.items():
        for severity, level in domain.SEVERITY_TERMS.items():
            colour = palette.hazard_colour(hazard, severity)
            rules.append(
                Rule(
                    f"{hazard}_{severity}",
                    f"{kind.th} {level.th}",
                    f"{kind.en}, {level.en}",
                    Symbol(
                        stroke=colour,
                        stroke_px=palette.HAZARD_LINE_PX,
                        fill=colour,
                        fill_opacity=palette.HAZARD_FILL_OPACITY,
                    ),
                    where=(("hazard_type", hazard), ("severity", severity)),
                )
            )
    rules.append(
        Rule(
            "other",
            "อื่น ๆ",
            "other",
            Symbol(
                stroke=palette.OTHER_HAZARD,
                stroke_px=palette.HAZARD_LINE_PX,
                fill=palette.OTHER_HAZARD,
                fill_opacity=palette.HAZARD_FILL_OPACITY,
            ),
            otherwise=True,
        )
    )
    return tuple(rules)


def _road_rules() -> tuple[Rule, ...]:
    rules = [
        Rule(
            key,
            term.th,
            term.en,
            Symbol(stroke=palette.ROAD_LINE, stroke_px=palette.road_width(key)),
            where=(("road_class", key),),
        )
        for key, term in domain.ROAD_CLASS_TERMS.items()
    ]
    rules.append(
        Rule(
            "other",
            "อื่น ๆ",
            "other",
            Symbol(stroke=palette.ROAD_LINE, stroke_px=palette.road_width(None)),
            otherwise=True,
        )
    )
    return tuple(rules)


def _single(layer: Layer, symbol: Symbol) -> tuple[Rule, ...]:
    return (Rule(layer.id, layer.title_th, layer.title, symbol),)


def _rules(conn: Connection, layer: Layer, kind: GeometryKind) -> tuple[Rule, ...]:
    """The rules of a layer: by the field the maps colour it by, else one symbol."""
    if layer.id == "zoning_zones":
        return _zoning_rules(conn)
    if layer.id == "hazard_areas":
        return _hazard_rules()
    if layer.id == "roads":
        return _road_rules()
    if "kind" in layer.properties and layer.id.startswith("water_"):
        return _water_rules(kind)
    if layer.id == "districts":
        return _single(layer, Symbol(palette.DISTRICT_LINE, palette.DISTRICT_WIDTH_PX))
    if layer.id == "local_bodies":
        return _single(
            layer,
            Symbol(
                palette.LOCAL_BODY_LINE,
                palette.LOCAL_BODY_WIDTH_PX,
                dash=palette.LOCAL_BODY_DASH_PX,
            ),
        )
    if layer.id == "bridges":
        return _single(
            layer,
            Symbol("#ffffff", 1.0, fill=palette.BRIDGE, marker_px=palette.BRIDGE_MARKER_PX),
        )
    if layer.id == "rivers":
        return _single(layer, Symbol(palette.RIVER_LINE, palette.RIVER_WIDTH_PX))
    # villages and any layer added later: small grey points, thin grey lines, grey outlines
    return _single(
        layer,
        Symbol(
            palette.VILLAGE,
            1.0,
            fill=palette.VILLAGE if kind == "point" else None,
            marker_px=palette.VILLAGE_MARKER_PX if kind == "point" else None,
        ),
    )


def zoning_scope(conn: Connection, day: date) -> Scope | None:
    """The zones a zoning style draws: those of the plans in force on ``day``
    (:func:`gis_registry.analysis.zoning.in_force_sql`, as the zoning map); None (every
    zone) when no plan is in force, so that a registry of expired plans still shows them."""
    from gis_registry.analysis.zoning import in_force_sql

    ids = conn.execute(
        text(f"SELECT id FROM zoning_plans p WHERE {in_force_sql('p', 'day')} ORDER BY id"),
        {"day": day},
    ).scalars()
    values = tuple(int(i) for i in ids)
    if not values:
        return None
    return Scope(
        "plan_id",
        values,
        f"ผังที่มีผลบังคับใช้ ณ {day.isoformat()}",
        f"plans in force on {day.isoformat()}",
    )


def layer_style(
    conn: Connection,
    layer_id: str,
    style_id: str = DEFAULT_STYLE,
    *,
    as_of: date | None = None,
) -> LayerStyle:
    """The style of one layer.

    Parameters
    ----------
    conn : an open connection (the zoning palette is read from ``zoning_categories``)
    layer_id : a spatial layer of :data:`gis_registry.catalog.CATALOG`
    style_id : the style's id (each layer has one, ``default``)
    as_of : zoning: draw the zones of the plans in force on this day (default today)

    Returns
    -------
    LayerStyle

    Raises
    ------
    NotFound
        An unknown layer, a layer without geometry, or an unknown style; the message names the
        layers or styles there are.
    """
    layer = CATALOG.get(layer_id)
    if layer is None or not layer.spatial:
        raise NotFound(
            f"no styled layer '{layer_id}' (styled layers: {', '.join(styled_layers())})"
        )
    if style_id != DEFAULT_STYLE:
        raise NotFound(f"no style '{style_id}' for layer '{layer_id}' (styles: {DEFAULT_STYLE})")
    kind = geometry_kind(layer)
    if layer.id == "zoning_zones":
        labels = _label_fields(layer, "land_use_code")
    else:
        labels = _label_fields(layer, "name_th", "name_en")
    return LayerStyle(
        layer=layer.id,
        name=style_id,
        title_th=layer.title_th,
        title_en=layer.title,
        geometry=kind,
        rules=_rules(conn, layer, kind),
        label_fields=labels,
        group=GROUPS.get(LAYER_GROUPS.get(layer.id, ""), OTHER_GROUP),
        # villages and water points are dense: names only when zoomed in to a district or so
        label_min_scale=100_000.0 if kind == "point" else 0.0,
        scope=zoning_scope(conn, as_of or date.today()) if layer.id == "zoning_zones" else None,
    )


def styled_layers() -> tuple[str, ...]:
    """Every layer with a style: the spatial layers of the catalogue, in catalogue order."""
    return tuple(layer.id for layer in CATALOG.values() if layer.spatial)


def style_ids(layer_id: str) -> tuple[str, ...]:
    """The styles of a layer (empty for a layer without geometry or an unknown one)."""
    return (DEFAULT_STYLE,) if layer_id in styled_layers() else ()


def all_styles(conn: Connection, *, as_of: date | None = None) -> list[LayerStyle]:
    """The default style of every styled layer, in catalogue order (``as_of``: see
    :func:`layer_style`)."""
    return [layer_style(conn, layer_id, as_of=as_of) for layer_id in styled_layers()]
