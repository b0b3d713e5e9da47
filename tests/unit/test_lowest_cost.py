"""The exact lowest-cost single threshold against a brute force over every distinct score,
with confusion counts from scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from faircard.thresholds import cost_curve, lowest_cost_threshold, sort_scores


def _brute(y, s, fp_cost, fn_cost, weight=None):
    u = np.unique(s)
    best = None
    for t in np.append(u, np.inf):
        tn, fp, fn, tp = confusion_matrix(y, s >= t, labels=[0, 1],
                                          sample_weight=weight).ravel()
        c = (fp_cost * fp + fn_cost * fn) / (tn + fp + fn + tp)
        if best is None or c < best - 1e-15:
            best = c
    return best


def _cost_of(y, s, t, fp_cost, fn_cost, weight=None):
    tn, fp, fn, tp = confusion_matrix(y, s >= t, labels=[0, 1], sample_weight=weight).ravel()
    return (fp_cost * fp + fn_cost * fn) / (tn + fp + fn + tp)


@pytest.mark.parametrize("seed, fp_cost, fn_cost", [(0, 1.0, 1.0), (1, 3.0, 1.0),
                                                     (2, 1.0, 5.0), (3, 0.25, 0.0)])
def test_equals_the_brute_force_over_every_distinct_score(seed, fp_cost, fn_cost):
    rng = np.random.default_rng(seed)
    n = 700
    y = rng.integers(0, 2, n)
    s = np.clip(rng.normal(0.3 + 0.3 * y, 0.2), 0, 1).round(rng.integers(2, 6))
    g = rng.integers(0, 3, n)
    r = lowest_cost_threshold(cost_curve(sort_scores(y, s, g, ["a", "b", "c"])),
                              fp_cost, fn_cost)
    best = _brute(y, s, fp_cost, fn_cost)
    assert r.cost_per_decision == pytest.approx(best, abs=1e-12)
    # the threshold as stated (short form) has exactly that cost, and the share it selects
    assert _cost_of(y, s, r.threshold, fp_cost, fn_cost) == pytest.approx(best, abs=1e-12)
    assert r.selected_share == pytest.approx((s >= r.threshold).mean(), abs=1e-12)


def test_weighted_rows_count_as_many_rows():
    rng = np.random.default_rng(5)
    n = 300
    y = rng.integers(0, 2, n)
    s = rng.random(n).round(2)
    w = rng.integers(1, 6, n)
    r = lowest_cost_threshold(cost_curve(sort_scores(y, s, np.zeros(n, int), ["all"],
                                                     weight=w)), 2.0, 1.0)
    rows_y, rows_s = np.repeat(y, w), np.repeat(s, w)
    assert r.cost_per_decision == pytest.approx(_brute(rows_y, rows_s, 2.0, 1.0), abs=1e-12)


def test_trivial_choices_are_flagged_on_both_sides():
    y = np.array([0, 0, 1, 1, 0, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8, 0.9, 0.2])  # the highest score is a negative
    curve = cost_curve(sort_scores(y, s, np.zeros(6, int), ["all"]))
    nobody = lowest_cost_threshold(curve, 10.0, 1.0)
    assert nobody.degenerate and nobody.selected_share == 0.0 and (s >= nobody.threshold).sum() == 0
    everybody = lowest_cost_threshold(curve, 0.0, 10.0)
    assert everybody.degenerate and everybody.selected_share == 1.0
    assert (s >= everybody.threshold).all()
    middle = lowest_cost_threshold(curve, 1.0, 1.0)
    assert not middle.degenerate
