"""Local bodies by name (no database): the tiers of :func:`match_local_body`."""

from __future__ import annotations

import pytest

from gis_registry.errors import AmbiguousName, NotFound
from gis_registry.queries.places import check_kind, match_local_body, normalise, split_kind

# Names as the demo (and the DOPA register) write them: a district's seat often has both a
# subdistrict municipality and an SAO of the same tambon name.
ROWS = [
    ("52", "องค์การบริหารส่วนจังหวัดลำปาง", "Lampang Provincial Administrative Organization"),
    ("520101", "เทศบาลนครลำปาง", "Nakhon Lampang City Municipality"),
    ("520102", "เทศบาลเมืองเขลางค์นคร", "Khelang Nakhon Town Municipality"),
    ("520110", "องค์การบริหารส่วนตำบลพระบาท", "Phra Bat SAO"),
    ("520301", "เทศบาลตำบลเกาะคา", "Ko Kha Subdistrict Municipality"),
    ("520306", "องค์การบริหารส่วนตำบลเกาะคา", "Ko Kha SAO"),
    ("520307", "องค์การบริหารส่วนตำบลนาแก้ว", "Na Kaeo SAO"),
]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("520306", "520306"),
        (" 520306 ", "520306"),
        ("Ko Kha SAO", "520306"),
        ("  ko   KHA sao ", "520306"),
        ("Ko Kha Subdistrict Administrative Organization", "520306"),
        ("Ko Kha Subdistrict Municipality", "520301"),
        ("Ko Kha municipality", "520301"),
        ("องค์การบริหารส่วนตำบลเกาะคา", "520306"),
        ("อบต.เกาะคา", "520306"),
        ("อบต. เกาะคา", "520306"),
        ("อบต เกาะคา", "520306"),
        ("ทต.เกาะคา", "520301"),
        ("Nakhon Lampang City Municipality", "520101"),
        ("Nakhon Lampang", "520101"),  # without its kind
        ("Lampang", "52"),  # the PAO's English name without its kind
        ("Khelang", "520102"),  # the start of a name, at a word boundary
        ("Phra Bat", "520110"),
        ("นาแก้ว", "520307"),
    ],
)
def test_a_code_or_a_unique_name_gives_the_code(value, code):
    assert match_local_body(value, ROWS) == code


@pytest.mark.parametrize(
    ("value", "codes"),
    [
        ("Ko Kha", {"520301", "520306"}),
        ("เกาะคา", {"520301", "520306"}),
        ("ลำปาง", {"52", "520101"}),  # the PAO and the city municipality
        ("Ko", {"520301", "520306"}),
    ],
)
def test_an_ambiguous_name_lists_every_candidate(value, codes):
    with pytest.raises(AmbiguousName) as caught:
        match_local_body(value, ROWS)
    exc = caught.value
    assert isinstance(exc, NotFound)  # the API answers it with a 4xx like any unknown name
    assert {c["code"] for c in exc.candidates} == codes
    for c in exc.candidates:
        assert c["code"] in str(exc) and c["name_th"] in str(exc) and c["name_en"] in str(exc)
        assert c["code"] in exc.listing() and c["name_th"] in exc.listing()


def test_an_unknown_name_suggests_the_closest():
    with pytest.raises(NotFound, match="no local body with code 'Ko Ka SAO'") as caught:
        match_local_body("Ko Ka SAO", ROWS)
    assert not isinstance(caught.value, AmbiguousName)
    assert "520306 Ko Kha SAO" in str(caught.value)
    with pytest.raises(NotFound, match="520306"):
        match_local_body("องค์การบริหารส่วนตำบลเกาะคาา", ROWS)
    with pytest.raises(NotFound) as nothing_close:
        match_local_body("zzzz", ROWS)
    assert "closest" not in str(nothing_close.value)


def test_a_code_never_loses_to_a_name():
    rows = [*ROWS, ("Ko Kha SAO", "ชื่อ", "Some Other SAO")]  # a code that reads as a name
    assert match_local_body("Ko Kha SAO", rows) == "Ko Kha SAO"


def test_names_are_compared_normalised():
    assert normalise("  Ko\tKha   SAO ") == "ko kha sao"
    assert split_kind(normalise("Ko Kha SAO")) == ("ko kha", frozenset({"sao"}))
    assert split_kind(normalise("เทศบาลเมืองเขลางค์นคร"))[0] == "เขลางค์นคร"
    assert split_kind("st. mary") == ("st. mary", None)


def test_kinds_by_key_short_name_or_term():
    assert check_kind("town") == "town_municipality"
    assert check_kind("Town municipality") == "town_municipality"
    assert check_kind("SAO") == "sao"
    from gis_registry.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match="choose one of pao, city .*sao"):
        check_kind("village")
