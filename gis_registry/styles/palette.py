"""The colours, widths and opacities the registry draws its layers with: the one place the
Folium maps (:mod:`gis_registry.maps`), the served styles (QML, SLD) and the QGIS project read
them from.

The vocabularies' own colours stay where they are defined and are only looked up here: water
source kinds in :data:`gis_registry.domain.WATER_SOURCE_KIND_TERMS`, hazard levels in
:data:`gis_registry.domain.HAZARD_COLOURS`, condition classes in
:data:`gis_registry.analysis.condition.CLASS_TERMS`, and the DPT land-use palette (fill,
stroke, hatch) in the ``zoning_categories`` table (it is data: a province's plan may add a
category). No module imports anything heavy, so the CLI and the API can read it cheaply.
"""

from __future__ import annotations

from gis_registry import domain

# Line width (px) of a road by its class (``domain.ROAD_CLASSES``): the bigger road, the wider.
ROAD_WIDTH_PX: dict[str, float] = {
    "special": 7,
    "national": 6,
    "concession": 5,
    "rural": 4.5,
    "local": 3,
    "unregistered": 2,
}
ROAD_WIDTH_DEFAULT_PX = 3.0  # a class the vocabulary does not know (yet)
ROAD_LINE = "#555555"  # a road drawn by class only (the condition legend's width swatches)

# Zones: DPT colours, a little see-through so the basemap's streets show; hatched zones denser.
ZONE_FILL_OPACITY = 0.75
ZONE_HATCH_FILL_OPACITY = 0.9
ZONE_STROKE_PX = 1.2
ZONE_HATCH_SPACING_PX = 8.0
ZONE_HATCH_WIDTH_PX = 2.5

# Boundaries: districts dark and thick, LGOs grey and dashed, neither filled.
DISTRICT_LINE = "#222222"
DISTRICT_WIDTH_PX = 3.0
LOCAL_BODY_LINE = "#555555"
LOCAL_BODY_WIDTH_PX = 1.5
LOCAL_BODY_DASH_PX = (5.0, 4.0)

OTHER_SOURCE = "#3182bd"  # a water source kind the vocabulary does not know (yet)
WATER_FILL_OPACITY = 0.8
WATER_LINE_PX = 2.0
WATER_MARKER_PX = 10.0  # a point's circle diameter (the water map's CircleMarker radius 5)

OTHER_HAZARD = "#4292c6"  # a hazard type or severity the vocabulary does not know (yet)
HAZARD_FILL_OPACITY = 0.45
HAZARD_LINE_PX = 1.0

RIVER_LINE = "#6baed6"
RIVER_WIDTH_PX = 1.5
VILLAGE = "#444444"
VILLAGE_MARKER_PX = 6.0
BRIDGE = "#000000"
BRIDGE_MARKER_PX = 8.0
# The condition map's bridges: circles of radius 7 (diameter 14) with a black outline of weight 2.
CONDITION_BRIDGE_MARKER_PX = 14.0
CONDITION_BRIDGE_LINE = "#000000"
CONDITION_BRIDGE_LINE_PX = 2.0


def source_colour(kind: str) -> str:
    """Map colour of a water source kind (``domain.WATER_SOURCE_KIND_TERMS``)."""
    term = domain.WATER_SOURCE_KIND_TERMS.get(kind)
    return term.colour if term and term.colour else OTHER_SOURCE


def hazard_colour(hazard_type: str, severity: str) -> str:
    """Fill colour of a hazard area by type and severity (``domain.HAZARD_COLOURS``)."""
    return domain.HAZARD_COLOURS.get(hazard_type, {}).get(severity, OTHER_HAZARD)


def condition_colour(condition: str) -> str:
    """Map colour of a condition class (``analysis.condition.CLASS_TERMS``), or of the
    never-inspected (``analysis.condition.UNKNOWN``), as the condition map draws them."""
    # here, not at the top: the analysis imports numpy and pandas, this module nothing heavy
    from gis_registry.analysis.condition import CLASS_TERMS, UNKNOWN, UNKNOWN_TERM

    term = UNKNOWN_TERM if condition == UNKNOWN else CLASS_TERMS[condition]
    assert term.colour is not None  # every condition class has its map colour
    return term.colour


def road_width(road_class: str | None) -> float:
    """Line width (px) of a road of ``road_class``."""
    return ROAD_WIDTH_PX.get(road_class or "", ROAD_WIDTH_DEFAULT_PX)
