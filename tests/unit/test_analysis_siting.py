"""The greedy maximal covering, without a database."""

import numpy as np

from gis_registry.analysis.siting import greedy_cover


def test_greedy_cover_takes_largest_gain_and_stops_when_nothing_left():
    # candidate 0 covers villages 0,1 (10+10); candidate 1 covers 1,2 (10+25); candidate 2: 2
    cand = np.array([0, 0, 1, 1, 2])
    vill = np.array([0, 1, 1, 2, 2])
    weights = np.array([10.0, 10.0, 25.0])
    steps = greedy_cover(cand, vill, weights, 3, 5)
    assert [(c, g) for c, g, _ in steps] == [(1, 35.0), (0, 10.0)]
    assert sorted(steps[0][2].tolist()) == [1, 2]


def test_ties_go_to_the_first_candidate():
    steps = greedy_cover(np.array([0, 1]), np.array([0, 0]), np.array([5.0]), 2, 1)
    assert steps[0][0] == 0
