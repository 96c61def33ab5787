"""Each vocabulary is written once in ``gis_registry.domain`` with its labels and colours; the
tuples the schema, the migrations and the validation use are derived from it."""

import pytest

from gis_registry import domain

VOCABULARIES = [
    ("ROAD_CLASSES", "ROAD_CLASS_TERMS", False),
    ("SURFACES", "SURFACE_TERMS", False),
    ("BRIDGE_STRUCTURES", "BRIDGE_STRUCTURE_TERMS", False),
    ("BRIDGE_MATERIALS", "BRIDGE_MATERIAL_TERMS", False),
    ("WATER_SOURCE_KINDS", "WATER_SOURCE_KIND_TERMS", True),
    ("HAZARD_TYPES", "HAZARD_TYPE_TERMS", False),
    ("SEVERITIES", "SEVERITY_TERMS", False),
    ("TREATMENTS", "TREATMENT_TERMS", False),
    ("WORK_STATUSES", "WORK_STATUS_TERMS", False),
]


@pytest.mark.parametrize(("keys", "terms", "coloured"), VOCABULARIES)
def test_tuples_derive_from_the_labelled_vocabulary(keys, terms, coloured):
    table = getattr(domain, terms)
    assert getattr(domain, keys) == tuple(table)
    for term in table.values():
        assert term.th and term.en
        assert bool(term.colour) == coloured


def test_the_schema_lists_are_unchanged():
    # migrations wrote these lists into CHECK constraints: order and content must not drift
    assert domain.ROAD_CLASSES[:4] == ("special", "national", "rural", "local")
    assert domain.SURFACES == ("asphalt", "concrete", "laterite", "crushed_rock", "earth")
    assert domain.HAZARD_TYPES == ("flood", "landslide")
    assert domain.SEVERITIES == ("low", "medium", "high")


def test_hazard_colours_cover_every_type_and_severity():
    assert set(domain.HAZARD_COLOURS) == set(domain.HAZARD_TYPES)
    for colours in domain.HAZARD_COLOURS.values():
        assert tuple(colours) == domain.SEVERITIES


def test_labels():
    assert domain.label(domain.SURFACE_TERMS, "laterite") == "ลูกรัง / laterite"
    assert domain.label(domain.SURFACE_TERMS, None) == "–"
    assert domain.label(domain.SURFACE_TERMS, "gravel") == "gravel"
    assert domain.CONDITION_SCALE_TERMS["nbi_0_9"].bilingual == "NBI 0-9"
    assert set(domain.CONDITION_SCALE_TERMS) == set(domain.CONDITION_SCALES)
