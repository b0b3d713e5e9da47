"""Per-group policies within a tolerance against fairlearn's ThresholdOptimizer relaxed to the
same tolerance (its ``tol``): the randomised policy reaches its expected accuracy and meets the
constraint by the rows, and no deterministic policy beats it.

ThresholdOptimizer takes each group's rate (selection rate, true or false positive rate) on a
grid of ``grid_size + 1`` values (1,001 by default); faircard takes it anywhere on the group's
hull, so it is never below fairlearn, and above it by as much as the grid's step costs (up to
0.00016 on the rows below). With a grid of 100,001 values fairlearn comes within 0.000002 of
faircard, from below: the bound these tests hold both to (docs/methods.md)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import BaseEstimator, ClassifierMixin

from faircard.policy import choose_policy


class _Scores(ClassifierMixin, BaseEstimator):
    """A 'model' whose score is the first column."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0]


def _rows(seed=3, n=5000):
    rng = np.random.default_rng(seed)
    g = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    y = rng.random(n) < np.array([0.3, 0.5, 0.4])[g]
    s = np.clip(0.3 * y + np.array([0.0, 0.1, -0.05])[g] + rng.normal(0.35, 0.18, n),
                0, 1).round(2)
    return y, s, g, ["a", "b", "c"]


RATES = {"demographic_parity": lambda p, y, m: p[m].mean(),
         "equal_opportunity": lambda p, y, m: p[m & y].mean(),
         "false_positive_rate_parity": lambda p, y, m: p[m & ~y].mean()}
THEIRS = {"demographic_parity": "demographic_parity",
          "equal_opportunity": "true_positive_rate_parity",
          "false_positive_rate_parity": "false_positive_rate_parity"}


FINE_GRID = 100_000
"""ThresholdOptimizer's ``grid_size`` at which its rates are 0.00001 apart."""
FINE = 1e-5
"""How far faircard's exact optimum may lie above ThresholdOptimizer on that grid (measured:
at most 0.0000017 on these seeds and tolerances; 0.00018 on the default grid)."""


@pytest.mark.parametrize("tol", [0.0, 0.01, 0.05])
@pytest.mark.parametrize("constraint", list(RATES))
def test_relaxed_constraint_matches_threshold_optimizer(constraint, tol):
    y, s, g, groups = _rows()
    theirs_accuracy = _their_accuracy(y, s, g, groups, THEIRS[constraint], tol or None)
    fine = _their_accuracy(y, s, g, groups, THEIRS[constraint], tol or None, FINE_GRID)
    mixed = choose_policy(y, s, g, groups, feature="g", constraint=constraint, tolerance=tol,
                          randomized=True, min_group_size=0)
    assert mixed.feasible
    # never below fairlearn: its policy is one of those faircard searches
    assert mixed.objective_value >= theirs_accuracy - 1e-12, (mixed.objective_value,
                                                               theirs_accuracy)
    assert mixed.objective_value >= fine - 1e-12, (mixed.objective_value, fine)
    # and above it only by its grid's step: on a fine grid fairlearn all but reaches it
    assert mixed.objective_value - fine <= FINE, (mixed.objective_value, fine)
    # by the rows, under the rule stated
    p = mixed.decision_policy().positive_probability(s, g, groups)
    rates = [RATES[constraint](p, y, g == j) for j in range(3)]
    assert max(rates) - min(rates) <= tol + 1e-9
    assert np.mean(y * p + ~y * (1 - p)) == pytest.approx(mixed.objective_value, abs=1e-12)
    # randomising can only help: one threshold per group stays below the randomised optimum
    one_each = choose_policy(y, s, g, groups, constraint=constraint, tolerance=tol,
                             min_group_size=0)
    if one_each.feasible:
        assert one_each.objective_value <= fine + FINE


def _deciles(seed, n=3000):
    """Four groups scored 1-10 (as COMPAS deciles): few thresholds, so a point inside a group's
    ROC hull is often not on a segment between two of its thresholds."""
    rng = np.random.default_rng(seed)
    g = rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1])
    y = rng.random(n) < np.array([0.5, 0.4, 0.35, 0.45])[g]
    s = np.clip(np.round(rng.normal(4.5 + 2.2 * y + np.array([0.8, 0, -0.5, 0.3])[g], 2.0)),
                1, 10)
    return y, s, g, ["a", "b", "c", "d"]


def _their_accuracy(y, s, g, groups, constraints, tol=None, grid_size=1000):
    X = pd.DataFrame({"score": s})
    to = ThresholdOptimizer(estimator=_Scores().fit(X, y), constraints=constraints,
                            objective="accuracy_score", prefit=True, predict_method="predict",
                            tol=tol, grid_size=grid_size)
    labels = np.array(groups)[g]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to.fit(X, y.astype(int), sensitive_features=labels)
        theirs = to._pmf_predict(X, sensitive_features=labels)[:, 1]
    return float(np.mean(y * theirs + ~y * (1 - theirs)))


@pytest.mark.parametrize("seed", [3, 5])
def test_randomised_equalized_odds_meets_a_small_tolerance(seed):
    """The best common point of the groups' ROC hulls may need three parts in a group (two
    landed 0.0053 and 0.0058 apart here); with up to three each group reaches it exactly, and
    the tolerance lets the groups' points part by up to 0.005."""
    y, s, g, groups = _deciles(seed)
    tol = 0.005
    mixed = choose_policy(y, s, g, groups, feature="g", constraint="equalized_odds",
                          tolerance=tol, randomized=True, min_group_size=0)
    assert mixed.feasible and mixed.randomized
    # by the rows, under the rule stated
    p = mixed.decision_policy().positive_probability(s, g, groups)
    tpr = [p[(g == j) & y].mean() for j in range(4)]
    fpr = [p[(g == j) & ~y].mean() for j in range(4)]
    assert max(np.ptp(tpr), np.ptp(fpr)) <= tol + 1e-9
    assert np.mean(y * p + ~y * (1 - p)) == pytest.approx(mixed.objective_value, abs=1e-12)
    # fairlearn does not relax equalized odds, but each of its halves relaxed to the same
    # tolerance allows more, so its accuracy (on a fine grid, all but exact) bounds the
    # policy's from above
    for half in ("true_positive_rate_parity", "false_positive_rate_parity"):
        assert mixed.objective_value <= _their_accuracy(y, s, g, groups, half, tol,
                                                        FINE_GRID) + FINE
    # a policy that tells people apart in every group, not one near a corner
    assert all(0.05 < r < 0.95 for r in mixed.selection_rates.values())
