"""Policies chosen from a threshold sweep (no rows) and counts at any threshold from sorted
scores: the same figures as counting the rows, checked with scikit-learn on group masks."""

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from faircard import policy
from faircard.policy import (
    CONSTRAINTS,
    best_single_from_sweep,
    best_single_threshold,
    choose_policy,
    choose_policy_from_sweep,
    evaluate_policy,
    pareto_front,
    pareto_front_from_sweep,
)
from faircard.thresholds import grid_thresholds, sort_scores, sweep

GROUPS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(7)
    n = 3000
    group = rng.choice(3, size=n, p=[0.6, 0.395, 0.005])  # "c" is smaller than 30 rows
    y = rng.random(n) < np.array([0.3, 0.45, 0.5])[group]
    score = np.clip(0.3 * y + rng.normal(0.35 + 0.05 * group, 0.2), 0, 1).round(3)
    return y, score, group


def _sklearn_counts(y, decided, group):
    return np.array([confusion_matrix(y[group == g], decided[group == g],
                                      labels=[False, True]).ravel()
                     for g in range(len(GROUPS))])


def _exhaustive(metric, gains, levels, tol):
    """Each level's best gain and its first threshold index, scanning every threshold."""
    lv = levels[:, None, None]
    ok = (metric[None] >= lv - 1e-12) & (metric[None] <= lv + tol + 1e-12)
    g = np.where(ok, gains[None], -np.inf)
    return g.max(axis=1), g.argmax(axis=1)


def test_window_search_equals_an_exhaustive_scan():
    rng = np.random.default_rng(3)
    for _ in range(300):
        k, g = int(rng.integers(1, 60)), int(rng.integers(1, 5))
        metric = rng.integers(0, 8, (k, g)) / 7.0  # many ties
        metric[rng.random((k, g)) < 0.1] = np.nan
        metric[rng.random((k, g)) < 0.05] = np.inf
        gains = rng.integers(0, 5, (k, g)) / 4.0
        gains[rng.random((k, g)) < 0.2] = -np.inf
        levels = np.unique(rng.integers(-1, 9, 10) / 7.0)
        tol = float(rng.choice([0.0, 0.01, 0.2, 0.5]))
        got = policy._best_per_level(metric, gains, levels, tol)
        want = _exhaustive(metric, gains, levels, tol)
        assert np.array_equal(got[0], want[0])
        assert np.array_equal(got[1], want[1])
        # thresholds left out (equalized odds: outside the TPR window) as if never offered
        out = rng.random((k, g)) < 0.3
        got = policy._best_in_windows(gains, policy._windows(metric, levels, tol), excluded=out)
        want = _exhaustive(np.where(out, np.inf, metric), np.where(out, -np.inf, gains), levels,
                           tol)
        assert np.array_equal(got[0], want[0])
        assert np.array_equal(got[1], want[1])


@pytest.mark.parametrize("randomized", [False, True])
@pytest.mark.parametrize("constraint", list(CONSTRAINTS))
def test_policy_from_sweep_has_the_figures_of_its_rows(rows, constraint, randomized):
    y, score, group = rows
    sw = sweep(y, score, group, GROUPS, grid_thresholds(score))
    chosen = choose_policy_from_sweep(sw, feature="g", constraint=constraint, tolerance=0.02,
                                      objective="balanced_accuracy", randomized=randomized)
    on_rows = evaluate_policy(y, score, group, GROUPS, chosen.thresholds, feature="g",
                              constraint=constraint, tolerance=0.02, mix=chosen.mix or None,
                              objective="balanced_accuracy", min_group_size=30)
    assert chosen.excluded_groups == on_rows.excluded_groups == ["c"]
    assert chosen.feasible == on_rows.feasible
    assert chosen.objective_value == pytest.approx(on_rows.objective_value, abs=1e-12)
    assert chosen.disparity == pytest.approx(on_rows.disparity, abs=1e-12, nan_ok=True)
    for mine, theirs in zip(chosen.by_group, on_rows.by_group, strict=True):
        assert mine == pytest.approx(theirs, abs=1e-12, nan_ok=True)
    if not chosen.randomized:
        t = np.array([chosen.thresholds[g] for g in GROUPS])[group]
        counts = _sklearn_counts(y, score >= t, group)
        assert [r["count"] for r in chosen.by_group] == list(counts.sum(axis=1))
        rates = counts[:, [1, 3]].sum(axis=1) / counts.sum(axis=1)
        assert [r["selection_rate"] for r in chosen.by_group] == pytest.approx(rates)
    # the row-taking entry point is the same search
    assert choose_policy(y, score, group, GROUPS, feature="g", constraint=constraint,
                         tolerance=0.02, objective="balanced_accuracy",
                         randomized=randomized).to_dict() == chosen.to_dict()


def test_front_and_best_single_threshold_from_sweep(rows):
    y, score, group = rows
    sw = sweep(y, score, group, GROUPS, grid_thresholds(score))
    front = pareto_front_from_sweep(sw, constraint="equal_opportunity", objective="cost",
                                    fp_cost=1.0, fn_cost=3.0)
    assert front.equals(pareto_front(y, score, group, GROUPS, constraint="equal_opportunity",
                                     objective="cost", fp_cost=1.0, fn_cost=3.0))
    best = best_single_from_sweep(sw, objective="cost", fp_cost=1.0, fn_cost=3.0)
    assert best.to_dict() == best_single_threshold(y, score, group, GROUPS, objective="cost",
                                                   fp_cost=1.0, fn_cost=3.0).to_dict()
    # the lowest cost per decision over the grid, counted by scikit-learn
    grid = grid_thresholds(score)
    costs = []
    for t in grid[::10]:
        tn, fp, fn, tp = confusion_matrix(y, score >= t, labels=[False, True]).ravel()
        costs.append((fp + 3.0 * fn) / len(y))
    assert best.objective_value <= min(costs) + 1e-12
    t = next(iter(best.thresholds.values()))
    tn, fp, fn, tp = confusion_matrix(y, score >= t, labels=[False, True]).ravel()
    assert best.objective_value == pytest.approx((fp + 3.0 * fn) / len(y))


def test_counts_at_any_threshold_from_sorted_scores(rows):
    y, score, group = rows
    sorted_scores = sort_scores(y, score, group, GROUPS)
    rng = np.random.default_rng(1)
    candidates = np.concatenate([rng.uniform(-0.1, 1.1, 20), score[:20], [np.inf, -np.inf]])
    for _ in range(30):
        t = rng.choice(candidates, size=3)
        decided = score >= t[group]
        got = sorted_scores.counts_at(t)
        assert got.dtype == np.int64
        assert np.array_equal(got, _sklearn_counts(y, decided, group))


def test_counts_at_a_threshold_from_weighted_distinct_scores(rows):
    y, score, group = rows
    key = np.stack([group, y.astype(int), score], axis=1)
    distinct, weight = np.unique(key, axis=0, return_counts=True)
    weighted = sort_scores(distinct[:, 1].astype(bool), distinct[:, 2],
                           distinct[:, 0].astype(int), GROUPS, weight=weight)
    plain = sort_scores(y, score, group, GROUPS)
    for t in (0.0, 0.25, 0.351, 0.5, 0.9, 2.0):
        assert np.array_equal(weighted.counts_at([t] * 3), plain.counts_at([t] * 3))
