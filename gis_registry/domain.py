"""Vocabularies and rules of the registry, shared by the schema (CHECK constraints), the
validation of writes, the demo generator, the analyses and the maps. Change them here, then
write a migration: the database enforces the same lists.

A vocabulary with labels is written once, as a ``*_TERMS`` dict of key -> :class:`Term` (Thai
and English label, map colour where it has one); the tuple of its keys under the old name
(``SURFACES`` etc.) is derived from it, in the same order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple


class Term(NamedTuple):
    """How one key of a vocabulary is shown: Thai and English labels, and its map colour."""

    th: str
    en: str
    colour: str | None = None

    @property
    def bilingual(self) -> str:
        """'ลาดยาง / asphalt' ('NBI 0-9' once when both labels are the same)."""
        return self.th if self.th == self.en else f"{self.th} / {self.en}"


def label(terms: Mapping[str, Term], key: str | None) -> str:
    """'ลาดยาง / asphalt' for a key of a vocabulary ('–' for None, the key itself if unknown)."""
    if key is None:
        return "–"
    term = terms.get(key)
    return term.bilingual if term else key


PROVINCE_CODE = "52"
PROVINCE_ABBR_TH = "ลป"  # DRR and local highway code prefix for Lampang

LOCAL_BODY_KIND_TERMS: dict[str, Term] = {
    "pao": Term("องค์การบริหารส่วนจังหวัด", "provincial administrative organization"),  # อบจ.
    "city_municipality": Term("เทศบาลนคร", "city municipality"),
    "town_municipality": Term("เทศบาลเมือง", "town municipality"),
    "subdistrict_municipality": Term("เทศบาลตำบล", "subdistrict municipality"),
    "sao": Term("องค์การบริหารส่วนตำบล", "subdistrict administrative organization"),  # อบต.
}
LOCAL_BODY_KINDS = tuple(LOCAL_BODY_KIND_TERMS)

ROAD_CLASS_TERMS: dict[str, Term] = {
    "special": Term("ทางหลวงพิเศษ", "special highway"),  # motorway, DOH
    "national": Term("ทางหลวงแผ่นดิน", "national highway"),  # DOH
    "rural": Term("ทางหลวงชนบท", "rural highway"),  # DRR
    "local": Term("ทางหลวงท้องถิ่น", "local highway"),  # registered by an LGO
    "concession": Term("ทางหลวงสัมปทาน", "concession highway"),
    "unregistered": Term("ทางที่ยังไม่ลงทะเบียน", "unregistered road"),  # on no register (yet)
}
ROAD_CLASSES = tuple(ROAD_CLASS_TERMS)
AGENCIES = ("DOH", "DRR", "RID", "DWR", "DGR", "PWA", "EGAT", "other")
SURFACE_TERMS: dict[str, Term] = {
    "asphalt": Term("ลาดยาง", "asphalt"),
    "concrete": Term("คอนกรีต (คสล.)", "reinforced concrete"),
    "laterite": Term("ลูกรัง", "laterite"),
    "crushed_rock": Term("หินคลุก", "crushed rock"),
    "earth": Term("ดิน", "earth"),
}
SURFACES = tuple(SURFACE_TERMS)
ALL_WEATHER_SURFACES = ("asphalt", "concrete", "crushed_rock")

BRIDGE_STRUCTURE_TERMS: dict[str, Term] = {
    "slab": Term("แผ่นพื้น", "slab"),
    "girder": Term("คาน", "girder"),
    "truss": Term("โครงถัก", "truss"),
    "arch": Term("โค้ง", "arch"),
    "suspension": Term("แขวน", "suspension"),
    "box_culvert": Term("ท่อเหลี่ยม", "box culvert"),
    "pipe_culvert": Term("ท่อกลม", "pipe culvert"),
}
BRIDGE_STRUCTURES = tuple(BRIDGE_STRUCTURE_TERMS)
BRIDGE_MATERIAL_TERMS: dict[str, Term] = {
    "reinforced_concrete": Term("คอนกรีตเสริมเหล็ก", "reinforced concrete"),
    "prestressed_concrete": Term("คอนกรีตอัดแรง", "prestressed concrete"),
    "steel": Term("เหล็ก", "steel"),
    "timber": Term("ไม้", "timber"),
    "masonry": Term("ก่ออิฐ/หิน", "masonry"),
}
BRIDGE_MATERIALS = tuple(BRIDGE_MATERIAL_TERMS)

WATER_SOURCE_KIND_TERMS: dict[str, Term] = {
    "reservoir": Term("อ่างเก็บน้ำ", "reservoir", "#08519c"),
    "weir": Term("ฝาย", "weir", "#3182bd"),
    "check_dam": Term("ฝายชะลอน้ำ", "check dam", "#6baed6"),
    "pond": Term("สระ/หนอง", "pond", "#41b6c4"),
    "groundwater_well": Term("บ่อบาดาล", "groundwater well", "#54278f"),
    "shallow_well": Term("บ่อตื้น", "shallow well", "#9e9ac8"),
    "village_water_supply": Term("ประปาหมู่บ้าน", "village water supply", "#006d2c"),
    "canal": Term("คลอง/ลำเหมือง", "canal", "#2b8cbe"),
    "groundwater_bank": Term("ธนาคารน้ำใต้ดิน", "groundwater bank", "#8c6bb1"),
}
WATER_SOURCE_KINDS = tuple(WATER_SOURCE_KIND_TERMS)

HAZARD_TYPE_TERMS: dict[str, Term] = {
    "flood": Term("พื้นที่น้ำท่วม", "flood-prone"),
    "landslide": Term("ดินถล่ม", "landslide"),
}
HAZARD_TYPES = tuple(HAZARD_TYPE_TERMS)
SEVERITY_TERMS: dict[str, Term] = {
    "low": Term("ต่ำ", "low"),
    "medium": Term("ปานกลาง", "medium"),
    "high": Term("สูง", "high"),
}
SEVERITIES = tuple(SEVERITY_TERMS)
# A hazard area's colour: blues for water, browns for earth, darker for more severe.
HAZARD_COLOURS: dict[str, dict[str, str]] = {
    "flood": {"low": "#9ecae1", "medium": "#4292c6", "high": "#08306b"},
    "landslide": {"low": "#fdd0a2", "medium": "#fd8d3c", "high": "#a63603"},
}

# Condition scales: (min, max, higher_is_better). Declared on every inspection.
CONDITION_SCALES: dict[str, tuple[float, float, bool]] = {
    "score_1_5": (1, 5, True),  # 5 = very good, 1 = failed (visual rating)
    "nbi_0_9": (0, 9, True),  # US NBI-style bridge rating, 9 = excellent
    "iri_m_per_km": (0, 30, False),  # roughness; DOH bands good < 2.5 < fair < 3.5 < poor < 5
}
CONDITION_SCALE_TERMS: dict[str, Term] = {
    "score_1_5": Term("คะแนน 1-5", "score 1-5"),
    "nbi_0_9": Term("NBI 0-9", "NBI 0-9"),
    "iri_m_per_km": Term("IRI m/km", "IRI m/km"),
}
INSPECTION_METHODS = ("visual", "iri_survey", "detailed", "underwater", "drone")

TREATMENT_TERMS: dict[str, Term] = {
    "routine": Term("บำรุงรักษาปกติ", "routine"),
    "periodic": Term("บำรุงรักษาตามกำหนด", "periodic"),
    "rehabilitation": Term("บูรณะ", "rehabilitation"),
    "reconstruction": Term("ก่อสร้างใหม่แทนของเดิม", "reconstruction"),
    "new_construction": Term("ก่อสร้างใหม่", "new construction"),
}
TREATMENTS = tuple(TREATMENT_TERMS)
# Who pays for a work: the PAO, the LGO, a central-government subsidy or a national agency.
FUNDING_BODY_TERMS: dict[str, Term] = {
    "pao": Term("องค์การบริหารส่วนจังหวัด (อบจ.)", "Provincial Administrative Organization (PAO)"),
    "lgo": Term("องค์กรปกครองส่วนท้องถิ่น (อปท.)", "local government (LGO)"),
    "central_subsidy": Term("เงินอุดหนุนจากรัฐบาล", "central government subsidy"),
    "drr": Term("กรมทางหลวงชนบท (ทช.)", "Department of Rural Roads (DRR)"),
    "doh": Term("กรมทางหลวง (ทล.)", "Department of Highways (DOH)"),
    "dwr": Term("กรมทรัพยากรน้ำ (ทน.)", "Department of Water Resources (DWR)"),
    "other": Term("อื่น ๆ", "other"),
}
FUNDING_BODIES = tuple(FUNDING_BODY_TERMS)
WORK_STATUS_TERMS: dict[str, Term] = {
    "planned": Term("แผน", "planned"),
    "approved": Term("อนุมัติแล้ว", "approved"),
    "in_progress": Term("กำลังดำเนินการ", "in progress"),
    "completed": Term("แล้วเสร็จ", "completed"),
    "cancelled": Term("ยกเลิก", "cancelled"),
}
WORK_STATUSES = tuple(WORK_STATUS_TERMS)

# Road code patterns by legal class (Highway Act B.E. 2535 numbering). Rural (DRR) and local
# codes start with the province's Thai abbreviation (ลป Lampang, ชม Chiang Mai, นน Nan): any
# one to three Thai consonants, so a registry serves whichever province imports its roads.
ROAD_CODE_PATTERNS: dict[str, str] = {
    "special": r"^[0-9]{1,2}$",
    "national": r"^[0-9]{1,4}$",
    "rural": r"^[ก-ฮ]{1,3}\.[0-9]{4}$",
    "local": r"^[ก-ฮ]{1,3}\.ถ\.\s?[0-9]{1,3}-[0-9]{4}$",
}


def road_code_problem(road_class: str, code: str | None) -> str | None:
    """Why ``code`` is not a valid code for ``road_class``, or None when it is."""
    pattern = ROAD_CODE_PATTERNS.get(road_class)
    if pattern is None:
        return None
    if not code:
        return f"a {road_class} road needs a road code"
    if not re.match(pattern, code):
        examples = {
            "special": "7",
            "national": "1035",
            "rural": "ลป.4007",
            "local": "ลป.ถ. 1-0023",
        }
        return (
            f"'{code}' is not a valid {road_class} road code "
            f"(expected e.g. '{examples[road_class]}', pattern {pattern})"
        )
    return None


def local_road_code(lgo_seq: int, route: int) -> str:
    """Local highway code, e.g. ``local_road_code(1, 23) == 'ลป.ถ. 1-0023'``."""
    return f"{PROVINCE_ABBR_TH}.ถ. {lgo_seq}-{route:04d}"


# Water sources are held in one table per geometry type (migration 0008), so that every table
# has a typed geometry column: table -> (PostGIS type, GeoJSON types it takes, what it holds).
WATER_GEOMETRIES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "water_points": ("POINT", ("Point",), "points (wells, ponds, village water supplies, ...)"),
    "water_areas": ("MULTIPOLYGON", ("Polygon", "MultiPolygon"), "areas (reservoirs, ...)"),
    "water_lines": ("LINESTRING", ("LineString",), "lines (canals)"),
}
