"""Randomised policies take each group's ROC-hull vertices from its rows, at any number of
distinct scores: the vertices against scipy's Qhull on every point of the group, the policies
against the same search over a sweep at every distinct score (what faircard did while distinct
scores x groups stayed within 1,000,000), and beyond that size against fairlearn's
ThresholdOptimizer, which the 1,001-quantile grid used there trailed."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.spatial import ConvexHull

from faircard.policy import choose_policy, decision_points, finite_thresholds
from faircard.randomized import search_points, search_randomized
from faircard.roc_hulls import hull_points
from faircard.thresholds import exact_thresholds, grid_thresholds, sweep
from tests.policy_parts import written_probability
from tests.unit.test_policy_tolerance_oracle import _their_accuracy


def _rows(seed, n, n_groups=4, digits=None, deciles=False):
    rng = np.random.default_rng(seed)
    g = rng.choice(n_groups, n, p=rng.dirichlet(np.full(n_groups, 4.0)))
    y = rng.random(n) < rng.uniform(0.15, 0.6, n_groups)[g]
    raw = 0.3 * y + rng.uniform(-0.1, 0.1, n_groups)[g] + rng.normal(0.35, 0.2, n)
    s = np.clip(np.round(raw * 10), 0, 10) if deciles else np.clip(raw, 0, 1)
    if digits is not None:
        s = s.round(digits)
    return y, s, g, [f"g{j}" for j in range(n_groups)]


def _all_points(y, s, g, j, weight=None):
    """Every (false positives, true positives) point of group j, by brute force: one per
    distinct score of the group, and nobody selected."""
    m = g == j
    w = np.ones(len(s)) if weight is None else np.asarray(weight, float)
    pts = [(0.0, 0.0)] + [(w[m & ~y & (s >= t)].sum(), w[m & y & (s >= t)].sum())
                          for t in np.unique(s[m])]
    return np.array(pts)


def _qhull_vertices(points):
    """The set of hull vertices by Qhull, or both ends when the points lie on one line."""
    uniq = np.unique(points, axis=0)
    try:
        return {tuple(p) for p in uniq[ConvexHull(uniq).vertices]}
    except Exception:  # every point on one line (Qhull refuses): its two ends
        order = np.lexsort((uniq[:, 1], uniq[:, 0]))
        return {tuple(uniq[order[0]]), tuple(uniq[order[-1]])}


@pytest.mark.parametrize("seed, digits, deciles", [(0, 2, False), (1, None, False),
                                                    (2, None, True), (3, 3, False)])
def test_hull_vertices_are_qhulls_on_every_point_of_the_group(seed, digits, deciles):
    y, s, g, groups = _rows(seed, 3000, digits=digits, deciles=deciles)
    points = hull_points(y, s, g, len(groups), lambda prev: prev)
    for j in range(len(groups)):
        every = _all_points(y, s, g, j)
        got = points[j]
        assert {(float(fp), float(tp)) for fp, tp in got.counts[:, [1, 3]]} == \
            _qhull_vertices(every)
        # by rising threshold, the counts of the group's people at each
        assert np.all(np.diff(got.counts[:, 1]) <= 0) and np.all(np.diff(got.counts[:, 3]) <= 0)
        assert np.all(got.counts.sum(axis=1) == (g == j).sum())
        # the threshold handed to the wording is the group's score just below the point
        for prev, (_tn, fp, _fn, tp) in zip(got.thresholds, got.counts, strict=True):
            m = g == j
            assert fp == (m & ~y & (s > prev)).sum() and tp == (m & y & (s > prev)).sum()


def test_hull_vertices_of_a_grouped_table_weigh_each_entry_by_its_rows():
    y, s, g, groups = _rows(4, 2000, digits=2)
    keys, weight = np.unique(np.column_stack([s, g, y]), axis=0, return_counts=True)
    ys, ss, gs = keys[:, 2].astype(bool), keys[:, 0], keys[:, 1].astype(int)
    grouped = hull_points(ys, ss, gs, len(groups), lambda prev: prev, weight=weight)
    rows = hull_points(y, s, g, len(groups), lambda prev: prev)
    for a, b in zip(grouped, rows, strict=True):
        np.testing.assert_array_equal(a.counts, b.counts)
        np.testing.assert_array_equal(a.thresholds, b.thresholds)
        assert a.counts.dtype == np.int64
    # row counts that are not whole numbers stay as they are, and the hull follows them
    half = hull_points(ys, ss, gs, len(groups), lambda prev: prev, weight=weight * 0.5)
    for j, a in enumerate(half):
        assert a.counts.dtype == np.float64
        assert {tuple(p) for p in a.counts[:, [1, 3]]} == \
            _qhull_vertices(_all_points(ys, ss, gs, j, weight * 0.5))


def test_a_group_without_rows_has_one_point_everybody_of_nobody():
    y, s, g, _groups = _rows(5, 500, n_groups=2)
    points = hull_points(y, s, g, 3, lambda prev: prev)
    assert points[2].thresholds.tolist() == [-np.inf]
    assert points[2].counts.tolist() == [[0, 0, 0, 0]]
    assert len(points[0].thresholds) >= 2 and len(points[1].thresholds) >= 2


def _full_sweep_policy(y, s, g, groups, **kwargs):
    """The randomised search over every distinct score of a sweep (no hull taken first):
    group rules whose thresholds are raw scores, and expected counts."""
    sw = sweep(y, s, g, groups, exact_thresholds(s))
    included = np.ones(len(groups), bool)
    return search_randomized(sw, finite_thresholds(sw), included=included, **kwargs)


def _same_rules(ours, theirs, s):
    """Each group's rule decides as the full search's: the same probabilities, each part's
    threshold selecting the same scores."""
    assert list(ours) == list(theirs)
    for name in ours:
        a, b = ours[name].parts, theirs[name].parts
        assert len(a) == len(b), (name, a, b)
        for (t0, p0), (t1, p1) in zip(a, b, strict=True):
            assert p0 == pytest.approx(p1, abs=1e-12)
            np.testing.assert_array_equal(s >= t0, s >= t1)


CHOICES = [("equalized_odds", 0.0, "accuracy"), ("equalized_odds", 0.01, "cost"),
           ("demographic_parity", 0.0, "accuracy"), ("equal_opportunity", 0.01, "accuracy"),
           ("false_positive_rate_parity", 0.002, "balanced_accuracy"),
           ("equal_accuracy", 0.01, "accuracy")]


@pytest.mark.parametrize("constraint, tol, objective", CHOICES)
@pytest.mark.parametrize("seed, digits, deciles", [(6, 2, False), (7, None, False),
                                                    (8, None, True)])
def test_search_over_hull_vertices_is_the_search_over_every_score(constraint, tol, objective,
                                                                 seed, digits, deciles):
    y, s, g, groups = _rows(seed, 4000, digits=digits, deciles=deciles)
    kwargs = dict(constraint=constraint, tolerance=tol, objective=objective, fp_cost=1.0,
                  fn_cost=3.0, allow_degenerate=False)
    sw = sweep(y, s, g, groups, grid_thresholds(s))
    ours = search_points(sw.groups, decision_points(sw), included=np.ones(len(groups), bool),
                         **kwargs)
    theirs = _full_sweep_policy(y, s, g, groups, **kwargs)
    assert ours is not None and theirs is not None
    np.testing.assert_allclose(ours[1], theirs[1], rtol=0, atol=1e-9)
    _same_rules(ours[0], theirs[0], s)


def _objective(counts, objective):
    tn, fp, fn, tp = np.asarray(counts, float).sum(axis=0)
    if objective == "accuracy":
        return (tp + tn) / (tn + fp + fn + tp)
    if objective == "balanced_accuracy":
        return (tp / (tp + fn) + tn / (tn + fp)) / 2
    return (fp * 1.0 + fn * 3.0) / (tn + fp + fn + tp)


def test_hulls_need_no_sweep_at_every_score_and_keep_its_policy_beyond_a_million_cells():
    """220,000 continuous scores in five groups: 1.1 million score x group cells, above the
    1,000,000 within which faircard swept every distinct score (above them it mixed the
    1,001-quantile grid's hull vertices, which trailed ThresholdOptimizer). The hulls hold a
    few hundred points per group, and the policy is the full sweep's, to the last digit, and
    at least as accurate as ThresholdOptimizer's (which the grid's trailed by 0.00011)."""
    y, s, g, groups = _rows(9, 220_000, n_groups=5)
    assert len(np.unique(s)) * len(groups) > 1_000_000
    sw = sweep(y, s, g, groups, grid_thresholds(s))
    points = decision_points(sw)
    assert sum(len(p.thresholds) for p in points) < 2_000
    for tol in (0.0, 0.002):
        policy = choose_policy(y, s, g, groups, feature="g", constraint="equalized_odds",
                               tolerance=tol, randomized=True, min_group_size=0)
        rules, counts = _full_sweep_policy(y, s, g, groups, constraint="equalized_odds",
                                           tolerance=tol, objective="accuracy", fp_cost=1.0,
                                           fn_cost=1.0, allow_degenerate=False)
        assert policy.objective_value == pytest.approx(_objective(counts, "accuracy"),
                                                       abs=1e-12), tol
        _same_rules(policy.decision_policy().rules, rules, s)
        # as written in its JSON, applied to the rows
        doc = json.loads(json.dumps(policy.decision_policy().to_dict()))
        p = np.zeros(len(y))
        for j, name in enumerate(groups):
            p[g == j] = written_probability(s[g == j], doc["thresholds"][name],
                                            (doc.get("mix") or {}).get(name))
        assert np.mean(np.where(y, p, 1 - p)) == pytest.approx(policy.objective_value,
                                                               abs=1e-12)
        if tol == 0.0:  # fairlearn meets equalized odds exactly, on a grid of 1,001 FPRs
            theirs = _their_accuracy(y, s, g, groups, "equalized_odds")
            assert policy.objective_value >= theirs - 1e-12, (policy.objective_value, theirs)
