"""When no per-group policy meets the constraint, the policy returned is the one closest to
meeting it: its largest gap is the smallest any non-trivial policy reaches (an exhaustive
search over every pair of thresholds, counted here with NumPy), and the summary says so."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from faircard import policy as P


def _rows():
    """Group a: 100 people, half scored 0.3 and half 0.7 (selection rates 1, 0.5 or 0).
    Group b: 2,500 people, 749 scored 0.9 and the rest 0.1 (rates 1, 0.2996 or 0)."""
    s = np.concatenate([np.repeat([0.3, 0.7], 50), np.repeat([0.1, 0.9], [1751, 749])])
    g = np.repeat([0, 1], [100, 2500])
    rng = np.random.default_rng(3)
    y = rng.random(len(s)) < s
    return y, s, g


def _smallest_gap(s, g):
    """The smallest gap in selection rate over every pair of per-group thresholds that does
    not give both groups the same all-or-nothing decision."""
    best = np.inf
    cuts = [np.append(np.unique(s[g == j]), np.inf) for j in (0, 1)]
    for ta, tb in itertools.product(*cuts):
        ra, rb = (s[g == 0] >= ta).mean(), (s[g == 1] >= tb).mean()
        if ra == rb and ra in (0.0, 1.0):
            continue
        best = min(best, abs(ra - rb))
    return best


@pytest.mark.parametrize("tolerance", [0.0, 0.1, 0.2])
def test_the_policy_returned_when_none_meets_the_constraint_has_the_smallest_gap(tolerance):
    y, s, g = _rows()
    smallest = _smallest_gap(s, g)
    assert smallest == pytest.approx(0.2004)  # 0.5 against 0.2996: above every tolerance here
    p = P.choose_policy(y, s, g, ["a", "b"], constraint="demographic_parity",
                        tolerance=tolerance, min_group_size=0)
    assert not p.feasible
    rates = [(s[g == j] >= p.thresholds[name]).mean() for j, name in enumerate("ab")]
    assert abs(rates[0] - rates[1]) == pytest.approx(smallest, abs=P.CLOSEST_PRECISION)
    assert p.disparity == pytest.approx(smallest, abs=P.CLOSEST_PRECISION)
    assert "closest to meeting it" in p.summary
