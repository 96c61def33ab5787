"""Condition index and classes on the three scales, without a database."""

import numpy as np
import pytest

from gis_registry.analysis.condition import condition_class, condition_index


@pytest.mark.parametrize(
    ("score", "scale", "cls"),
    [
        (5, "score_1_5", "good"),
        (4, "score_1_5", "good"),
        (3, "score_1_5", "fair"),
        (2, "score_1_5", "poor"),
        (1, "score_1_5", "very_poor"),
        (9, "nbi_0_9", "good"),
        (7, "nbi_0_9", "good"),
        (6, "nbi_0_9", "fair"),
        (5, "nbi_0_9", "fair"),
        (4, "nbi_0_9", "poor"),
        (2, "nbi_0_9", "poor"),
        (1, "nbi_0_9", "very_poor"),
        # DOH roughness bands: good < 2.5 <= fair < 3.5 <= poor < 5 <= very poor
        (2.4, "iri_m_per_km", "good"),
        (2.5, "iri_m_per_km", "fair"),
        (3.4, "iri_m_per_km", "fair"),
        (3.5, "iri_m_per_km", "poor"),
        (4.9, "iri_m_per_km", "poor"),
        (5.0, "iri_m_per_km", "very_poor"),
        (25, "iri_m_per_km", "very_poor"),
    ],
)
def test_classes_agree_across_scales(score, scale, cls):
    index = condition_index([score], [scale])
    assert condition_class(index)[0] == cls


def test_index_range_and_missing():
    index = condition_index(
        [1, 5, 0, 9, 0, 30, None],
        ["score_1_5"] * 2 + ["nbi_0_9"] * 2 + ["iri_m_per_km"] * 2 + [None],
    )
    assert index[:6].tolist() == [0, 100, 0, 100, 100, 0]
    assert np.isnan(index[6]) and condition_class(index)[6] is None


def test_classes_carry_their_labels_and_colours():
    # the map legend and colours come from here; nothing else defines them
    from gis_registry.analysis.condition import CLASS_TERMS, CLASSES, UNKNOWN, UNKNOWN_TERM

    assert tuple(CLASS_TERMS) == CLASSES == ("good", "fair", "poor", "very_poor")
    assert UNKNOWN not in CLASSES and UNKNOWN_TERM.colour
    colours = [t.colour for t in CLASS_TERMS.values()] + [UNKNOWN_TERM.colour]
    assert all(c and c.startswith("#") for c in colours) and len(set(colours)) == len(colours)
