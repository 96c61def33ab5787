"""Vocabularies and rules of the registry, shared by the schema (CHECK constraints), the
validation of writes, the demo generator and the analyses. Change them here, then write a
migration: the database enforces the same lists.
"""

from __future__ import annotations

import re

PROVINCE_CODE = "52"
PROVINCE_ABBR_TH = "ลป"  # DRR and local highway code prefix for Lampang

LOCAL_BODY_KINDS = (
    "pao",  # องค์การบริหารส่วนจังหวัด
    "city_municipality",  # เทศบาลนคร
    "town_municipality",  # เทศบาลเมือง
    "subdistrict_municipality",  # เทศบาลตำบล
    "sao",  # องค์การบริหารส่วนตำบล (อบต.)
)

ROAD_CLASSES = (
    "special",  # special highway (motorway), DOH
    "national",  # national highway, DOH
    "rural",  # rural highway, DRR
    "local",  # local highway, registered by an LGO
    "concession",
    "unregistered",  # tracks and roads not (yet) on any register
)
AGENCIES = ("DOH", "DRR", "RID", "DWR", "DGR", "PWA", "EGAT", "other")
SURFACES = ("asphalt", "concrete", "laterite", "crushed_rock", "earth")
ALL_WEATHER_SURFACES = ("asphalt", "concrete", "crushed_rock")

BRIDGE_STRUCTURES = ("slab", "girder", "truss", "arch", "suspension", "box_culvert", "pipe_culvert")
BRIDGE_MATERIALS = ("reinforced_concrete", "prestressed_concrete", "steel", "timber", "masonry")

WATER_SOURCE_KINDS = (
    "reservoir",  # อ่างเก็บน้ำ
    "weir",  # ฝาย
    "check_dam",  # ฝายชะลอน้ำ
    "pond",  # สระ, หนอง
    "groundwater_well",  # บ่อบาดาล
    "shallow_well",  # บ่อตื้น
    "village_water_supply",  # ประปาหมู่บ้าน
    "canal",  # คลอง, ลำเหมือง
)

HAZARD_TYPES = ("flood", "landslide")
SEVERITIES = ("low", "medium", "high")

# Condition scales: (min, max, higher_is_better). Declared on every inspection.
CONDITION_SCALES: dict[str, tuple[float, float, bool]] = {
    "score_1_5": (1, 5, True),  # 5 = very good, 1 = failed (visual rating)
    "nbi_0_9": (0, 9, True),  # US NBI-style bridge rating, 9 = excellent
    "iri_m_per_km": (0, 30, False),  # roughness; DOH bands good < 2.5 < fair < 3.5 < poor < 5
}
INSPECTION_METHODS = ("visual", "iri_survey", "detailed", "underwater", "drone")

TREATMENTS = ("routine", "periodic", "rehabilitation", "reconstruction", "new_construction")
FUNDING_BODIES = ("pao", "lgo", "central_subsidy", "drr", "doh", "dwr", "other")
WORK_STATUSES = ("planned", "approved", "in_progress", "completed", "cancelled")

# Road code patterns by legal class (Highway Act B.E. 2535 numbering).
ROAD_CODE_PATTERNS: dict[str, str] = {
    "special": r"^[0-9]{1,2}$",
    "national": r"^[0-9]{1,4}$",
    "rural": r"^ลป\.[0-9]{4}$",
    "local": r"^ลป\.ถ\.\s?[0-9]{1,3}-[0-9]{4}$",
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
