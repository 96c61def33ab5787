"""Thai and English labels and map colours of the registry's vocabularies."""

from __future__ import annotations

SURFACES = {
    "asphalt": ("ลาดยาง", "asphalt"),
    "concrete": ("คอนกรีต (คสล.)", "reinforced concrete"),
    "laterite": ("ลูกรัง", "laterite"),
    "crushed_rock": ("หินคลุก", "crushed rock"),
    "earth": ("ดิน", "earth"),
}
ROAD_CLASSES = {
    "special": ("ทางหลวงพิเศษ", "special highway"),
    "national": ("ทางหลวงแผ่นดิน", "national highway"),
    "rural": ("ทางหลวงชนบท", "rural highway"),
    "local": ("ทางหลวงท้องถิ่น", "local highway"),
    "concession": ("ทางหลวงสัมปทาน", "concession highway"),
    "unregistered": ("ทางที่ยังไม่ลงทะเบียน", "unregistered road"),
}
ROAD_WIDTH_PX = {
    "special": 7,
    "national": 6,
    "concession": 5,
    "rural": 4.5,
    "local": 3,
    "unregistered": 2,
}
CONDITION_CLASSES = {
    "good": ("ดี", "good", "#1a9850"),
    "fair": ("พอใช้", "fair", "#e6b800"),
    "poor": ("เสีย", "poor", "#f46d43"),
    "very_poor": ("เสียมาก", "very poor", "#a50026"),
    "unknown": ("ยังไม่สำรวจ", "not inspected", "#9e9e9e"),
}
BRIDGE_STRUCTURES = {
    "slab": ("แผ่นพื้น", "slab"),
    "girder": ("คาน", "girder"),
    "truss": ("โครงถัก", "truss"),
    "arch": ("โค้ง", "arch"),
    "suspension": ("แขวน", "suspension"),
    "box_culvert": ("ท่อเหลี่ยม", "box culvert"),
    "pipe_culvert": ("ท่อกลม", "pipe culvert"),
}
BRIDGE_MATERIALS = {
    "reinforced_concrete": ("คอนกรีตเสริมเหล็ก", "reinforced concrete"),
    "prestressed_concrete": ("คอนกรีตอัดแรง", "prestressed concrete"),
    "steel": ("เหล็ก", "steel"),
    "timber": ("ไม้", "timber"),
    "masonry": ("ก่ออิฐ/หิน", "masonry"),
}
WATER_SOURCE_KINDS = {
    "reservoir": ("อ่างเก็บน้ำ", "reservoir", "#08519c"),
    "weir": ("ฝาย", "weir", "#3182bd"),
    "check_dam": ("ฝายชะลอน้ำ", "check dam", "#6baed6"),
    "pond": ("สระ/หนอง", "pond", "#41b6c4"),
    "groundwater_well": ("บ่อบาดาล", "groundwater well", "#54278f"),
    "shallow_well": ("บ่อตื้น", "shallow well", "#9e9ac8"),
    "village_water_supply": ("ประปาหมู่บ้าน", "village water supply", "#006d2c"),
    "canal": ("คลอง/ลำเหมือง", "canal", "#2b8cbe"),
}
TREATMENTS = {
    "routine": ("บำรุงรักษาปกติ", "routine"),
    "periodic": ("บำรุงรักษาตามกำหนด", "periodic"),
    "rehabilitation": ("บูรณะ", "rehabilitation"),
    "reconstruction": ("ก่อสร้างใหม่แทนของเดิม", "reconstruction"),
    "new_construction": ("ก่อสร้างใหม่", "new construction"),
}
WORK_STATUSES = {
    "planned": ("แผน", "planned"),
    "approved": ("อนุมัติแล้ว", "approved"),
    "in_progress": ("กำลังดำเนินการ", "in progress"),
    "completed": ("แล้วเสร็จ", "completed"),
    "cancelled": ("ยกเลิก", "cancelled"),
}
HAZARD_TYPES = {"flood": ("พื้นที่น้ำท่วม", "flood-prone"), "landslide": ("ดินถล่ม", "landslide")}
SEVERITIES = {
    "low": ("ต่ำ", "low", "#9ecae1"),
    "medium": ("ปานกลาง", "medium", "#4292c6"),
    "high": ("สูง", "high", "#08306b"),
}
LANDSLIDE_SEVERITIES = {"low": "#fdd0a2", "medium": "#fd8d3c", "high": "#a63603"}
SCALES = {
    "score_1_5": "คะแนน 1-5 / score 1-5",
    "nbi_0_9": "NBI 0-9",
    "iri_m_per_km": "IRI m/km",
}


def bilingual(table: dict, key: str | None) -> str:
    """'ลาดยาง / asphalt' for a vocabulary key (the key itself when unknown)."""
    if key is None:
        return "–"
    entry = table.get(key)
    return f"{entry[0]} / {entry[1]}" if entry else key


# Condition class of a score on its scale, in SQL (scales from gis_registry.domain):
# IRI by DOH roughness bands; the 1-5 visual score and the 0-9 NBI rating by their halves.
CONDITION_CLASS_SQL = """CASE
  WHEN {scale} IS NULL THEN 'unknown'
  WHEN {scale} = 'iri_m_per_km' THEN CASE WHEN {score} < 2.5 THEN 'good'
       WHEN {score} < 3.5 THEN 'fair' WHEN {score} < 5 THEN 'poor' ELSE 'very_poor' END
  WHEN {scale} = 'score_1_5' THEN CASE WHEN {score} >= 4 THEN 'good'
       WHEN {score} >= 3 THEN 'fair' WHEN {score} >= 2 THEN 'poor' ELSE 'very_poor' END
  WHEN {scale} = 'nbi_0_9' THEN CASE WHEN {score} >= 7 THEN 'good'
       WHEN {score} >= 5 THEN 'fair' WHEN {score} >= 3 THEN 'poor' ELSE 'very_poor' END
  ELSE 'unknown' END"""
