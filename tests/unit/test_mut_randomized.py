"""Hand-worked geometry of faircard.randomized (hulls, mixes, objective weights), written to kill
mutmut survivors. The end-to-end search is checked against fairlearn's ThresholdOptimizer in
test_thresholds.py; these pin the pieces it is built from."""

from __future__ import annotations

import numpy as np
import pytest

from faircard import randomized as r


def test_upper_hull_keeps_the_concave_top_by_increasing_x():
    x = np.array([1.0, 0.0, 0.5, 0.5, 0.25, 0.75])
    y = np.array([1.0, 0.0, 0.8, 0.2, 0.3, 0.9])
    # (0.25, 0.3) is below the segment (0, 0)-(0.5, 0.8); (0.5, 0.2) shares x with a higher
    # point; (0.75, 0.9) lies exactly on the segment (0.5, 0.8)-(1, 1)
    hull = r._upper_hull(x, y)
    assert hull.tolist() == [1, 2, 0]
    assert hull.dtype == np.int64


def test_upper_hull_keeps_a_point_just_above_a_segment():
    x = np.array([0.0, 0.5, 1.0])
    y = np.array([0.0, 0.5 + 1e-6, 1.0])
    assert r._upper_hull(x, y).tolist() == [0, 1, 2]
    assert r._upper_hull(x, np.array([0.0, 0.5 - 1e-6, 1.0])).tolist() == [0, 2]
    assert r._upper_hull(np.array([0.3]), np.array([0.1])).tolist() == [0]


def test_upper_hull_of_a_rising_then_falling_curve():
    x = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    y = np.array([0.0, 0.5, 0.7, 0.7, 0.5, 0.0])
    # slopes 2.5, 1, 0, -1, -2.5 strictly decrease: concave already, all six points stay
    assert r._upper_hull(x, y).tolist() == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("target, want", [
    (0.0, (5, 5, 1.0)),     # below the first vertex: the first vertex alone
    (0.1, (5, 5, 1.0)),     # on the first vertex
    (0.3, (8, 8, 1.0)),     # on a vertex
    (0.5, (8, 2, 0.5)),     # halfway between 0.3 and 0.7
    (0.6, (8, 2, 0.25)),    # a quarter of the way from 0.7 back to 0.3
    (0.7, (2, 2, 1.0)),     # on the last vertex
    (0.2, (5, 8, 0.5)),
])
def test_mix_at(target, want):
    hx = np.array([0.1, 0.3, 0.7])
    hidx = np.array([5, 8, 2])
    a, b, w = r._mix_at(hx, hidx, target)
    assert (a, b) == want[:2]
    assert w == pytest.approx(want[2], abs=1e-12)
    assert type(a) is int and type(b) is int and type(w) is float


def _counts():
    # thresholds low to high; group 0 has 20 positives and 30 negatives, group 1 50 and 50
    return np.array([
        [[0, 30, 0, 20], [0, 50, 0, 50]],
        [[10, 20, 5, 15], [40, 10, 0, 50]],
        [[30, 0, 20, 0], [50, 0, 50, 0]],
    ])


@pytest.mark.parametrize("objective", ["accuracy", "balanced_accuracy", "cost"])
def test_gain_weights_reproduce_each_groups_share_of_the_objective(objective):
    c = _counts().astype(float)
    tn, fp, fn, tp = (c[..., i] for i in range(4))
    n = 150.0
    fp_cost, fn_cost = 2.0, 3.0
    share = {  # each group's additive share of the whole objective, straight from the counts
        "accuracy": (tp + tn) / n,
        "balanced_accuracy": (tp / 70 + tn / 80) / 2,
        "cost": -(fp * fp_cost + fn * fn_cost) / n,
    }[objective]
    a, b, k = r._gain_weights(_counts(), objective, fp_cost, fn_cost)
    tpr, fpr = tp / (tp + fn), fp / (fp + tn)
    np.testing.assert_allclose(a * tpr + b * fpr + k, share, atol=1e-12)


def test_balanced_accuracy_weights_without_any_positive_do_not_divide_by_zero():
    counts = np.array([[[0, 30, 0, 0], [0, 50, 0, 0]]])
    a, b, k = r._gain_weights(counts, "balanced_accuracy", 1.0, 1.0)
    np.testing.assert_allclose(a, [0.0, 0.0])
    np.testing.assert_allclose(b, [-30 / 160, -50 / 160])
    np.testing.assert_allclose(k, [30 / 160, 50 / 160])


# A convex polygon counter-clockwise from (1, 1), as _polygon gives it: sweep indices 7, 3, 5, 2
SQUARE = (np.array([7, 3, 5, 2]), np.array([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0], [1.0, 0.0]]))


def _mixed(polygon, parts):
    idx, pts = polygon
    where = {int(k): pts[i] for i, k in enumerate(idx)}
    return sum(w * where[k] for k, w in parts)


@pytest.mark.parametrize("target, n_parts", [
    ([0.25, 0.5], 3),    # inside: three vertices
    ([0.0, 0.3], 2),     # on an edge away from the first vertex: two
    ([0.6, 0.6], 2),     # on the diagonal from the first vertex to the opposite one: two
    ([0.0, 0.0], 1),     # a vertex: itself
])
def test_parts_at_reach_a_point_of_the_polygon_exactly_with_at_most_three(target, n_parts):
    parts = [(k, w) for k, w in r._parts_at(SQUARE, np.array(target)) if w > 1e-15]
    assert len(parts) == n_parts
    assert all(type(k) is int and type(w) is float and 0 < w <= 1 for k, w in parts)
    assert sum(w for _, w in parts) == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(_mixed(SQUARE, parts), target, rtol=0, atol=1e-15)


def test_parts_at_on_a_segment_and_a_point():
    segment = (np.array([4, 9]), np.array([[1.0, 1.0], [0.0, 0.0]]))
    (a, wa), (b, wb) = r._parts_at(segment, np.array([0.25, 0.25]))
    assert (a, b) == (4, 9) and wa == pytest.approx(0.25) and wb == pytest.approx(0.75)
    assert r._parts_at((np.array([6]), np.array([[0.5, 0.5]])), np.array([0.5, 0.5])) == \
        [(6, 1.0)]


def test_polygon_is_the_convex_hull_counter_clockwise_from_everybody():
    # sweep points: everybody (1, 1), an inner point, two on the hull, nobody (0, 0), and an
    # undefined one; a repeated point
    x = np.array([1.0, 0.4, 0.1, 0.6, 0.0, np.nan, 0.1])
    y = np.array([1.0, 0.5, 0.6, 0.3, 0.0, 0.2, 0.6])
    ok = np.flatnonzero(~np.isnan(x))
    idx, pts, n_upper = r._polygon(ok, x, y)
    assert idx.tolist() in ([0, 2, 4, 3], [0, 6, 4, 3])
    assert n_upper == 3  # (1, 1), (0.1, 0.6), (0, 0): the upper hull, right to left
    np.testing.assert_allclose(pts, np.column_stack([x[idx], y[idx]]))


# ------------------------------------------------------------------ equalized odds, exactly

# Three groups over thresholds low -> high (everyone selected, one middle threshold, nobody).
# ROC points: A (0, 0), (0.1, 0.6), (1, 1); B (0, 0), (0.3, 0.7), (1, 1). B's hull is the
# lower one up to where the two cross, A's after: B = 7x/3 and A = 0.6 + 4(x - 0.1)/9 meet at
# x = 5/17, y = 35/51, which is off the 1/4000 grid. C is left out of the comparison.
EO_COUNTS = np.array([
    [[0, 10, 0, 5], [0, 10, 0, 10], [0, 100, 0, 5]],
    [[9, 1, 2, 3], [7, 3, 3, 7], [90, 10, 1, 4]],
    [[10, 0, 5, 0], [10, 0, 10, 0], [100, 0, 5, 0]],
])
KINK = np.array([5 / 17, 35 / 51])
LAST_VERTEX = np.array([0.3, 0.6 + 4 * 0.2 / 9])
"""The common hull's vertex nearest (1, 1): A's hull at B's vertex x = 0.3. B reaches it
exactly by mixing three of its points (two land 0.004 away at best)."""


def _eo(objective, fp_cost, fn_cost, included=(True, True, False), counts=EO_COUNTS):
    from faircard.metrics import metrics_from_counts
    from faircard.policy import _gains

    tot = counts[0].sum(axis=0)
    totals = np.array([tot.sum(), tot[2] + tot[3], tot[0] + tot[1]], dtype=np.float64)
    gains = _gains(counts, objective, totals, fp_cost, fn_cost)
    vals = metrics_from_counts(counts)
    return r._equalized_odds(*_by_group(counts, vals, gains), np.array(included), objective,
                             fp_cost, fn_cost, False), vals


def _by_group(counts, vals, gains):
    """A sweep's counts, metrics and gains (K, G, ...) as the search takes them: per group."""
    groups = range(counts.shape[1])
    return ([counts[:, j] for j in groups], [{k: v[:, j] for k, v in vals.items()}
                                              for j in groups], [gains[:, j] for j in groups])


def _point(vals, j, parts):
    fpr, tpr = vals["false_positive_rate"][:, j], vals["true_positive_rate"][:, j]
    assert sum(w for _, w in parts) == pytest.approx(1.0, abs=1e-12)
    return np.array([sum(w * fpr[k] for k, w in parts), sum(w * tpr[k] for k, w in parts)])


@pytest.mark.parametrize("objective, fp_cost, fn_cost", [
    # accuracy over A and B: a TPR point is worth 15/35, an FPR point costs 20/35, slope 4/3,
    # between B's 7/3 and A's 4/9 around the kink, so the best common point is the kink
    # (the costs do not count for accuracy; were they used, fn 10x fp would move the point)
    ("accuracy", 1.0, 10.0),
    # cost with fn twice fp: slope 20 / (2 * 15) = 2/3, also between
    ("cost", 1.0, 2.0),
])
def test_equalized_odds_meets_at_the_exact_crossing_of_two_hulls(objective, fp_cost, fn_cost):
    picks, vals = _eo(objective, fp_cost, fn_cost)
    for j in (0, 1):
        np.testing.assert_allclose(_point(vals, j, picks[j]), KINK, rtol=0, atol=1e-9)
    # the left-out group keeps its own best threshold: 100 correct of 105 with nobody selected
    assert picks[2] == [(2, 1.0)]


def test_equalized_odds_with_an_included_group_without_positives_finds_nothing():
    counts = EO_COUNTS.copy()
    counts[:, 2] = [[0, 100, 0, 0], [90, 10, 0, 0], [100, 0, 0, 0]]
    picks, _ = _eo("accuracy", 1.0, 1.0, included=(True, True, True), counts=counts)
    assert picks is None


@pytest.mark.parametrize("allow, corner", [(False, False), (True, True)])
def test_equalized_odds_refuses_the_everyone_corner_unless_allowed(allow, corner):
    # misses cost 10x false alarms: slope 20 / (10 * 15) = 2/15, below both hulls' last
    # slopes (4/9 and 3/7), so the best common point is (1, 1), everyone selected
    from faircard.metrics import metrics_from_counts
    from faircard.policy import _gains

    counts = EO_COUNTS
    tot = counts[0].sum(axis=0)
    totals = np.array([tot.sum(), tot[2] + tot[3], tot[0] + tot[1]], dtype=np.float64)
    gains = _gains(counts, "cost", totals, 1.0, 10.0)
    vals = metrics_from_counts(counts)
    picks = r._equalized_odds(*_by_group(counts, vals, gains), np.array([True, True, False]),
                              "cost", 1.0, 10.0, allow)
    for j in (0, 1):
        point = _point(vals, j, picks[j])
        if corner:
            np.testing.assert_allclose(point, [1.0, 1.0], atol=1e-12)
        else:  # the common hull's last vertex before the corner (A's hull at x = 0.3), not
            # a point as near the corner as a grid of candidates went (x = 0.99975 before)
            np.testing.assert_allclose(point, LAST_VERTEX, rtol=0, atol=1e-12)


# ------------------------------------------------------------------ one metric in a window

# Metric (e.g. the selection rate) and each group's gain at three thresholds.
# Group 0: (0, 0.2), (0.5, 0.5), (1, 0.3), peak at 0.5; group 2 (left out): peak at 0.6.
M0 = [0.0, 0.5, 1.0]
G0 = [0.2, 0.5, 0.3]
M2, G2 = [0.0, 0.6, 1.0], [0.1, 0.3, 0.2]


def _one(m1, g1, tol=0.1, included=(True, True, False)):
    metric = np.column_stack([M0, m1, M2])
    gains = np.column_stack([G0, g1, G2])
    return r._one_metric(list(metric.T), list(gains.T), list(metric.T), np.array(included),
                         tol, False)


def test_one_metric_window_trades_the_two_peaks():
    # group 1: (0, 0.3), (0.2, 0.4), (1, 0.1), peak at 0.2. Peaks 0.3 apart, window 0.1:
    # with the window [L, L + 0.1], group 0 sits at L + 0.1 and group 1 at L; the sum rises
    # with L (0.6 - 0.375 per unit) until group 0 reaches its peak at L = 0.4:
    # gains 0.5 + (0.4 - 0.375 * 0.2) = 0.825
    picks = _one([0.0, 0.2, 1.0], [0.3, 0.4, 0.1])
    assert picks[0] == (1, 1, 1.0)                       # group 0 at 0.5
    a, b, w = picks[1]                                   # group 1 at 0.4 = 0.75*0.2 + 0.25*1
    assert (a, b) == (1, 2) and w == pytest.approx(0.75, abs=1e-12)
    assert picks[2] == (1, 1, 1.0)                       # the left-out group at its own peak


def test_one_metric_window_stays_inside_each_groups_reach():
    # group 1 only reaches metric 0.3: (0, 0.3), (0.2, 0.4), (0.3, 0.35). Windows from 0.4 up
    # are empty for it. Best: L = 0.3, group 0 at 0.4 (0.44), group 1 at 0.3 (0.35): 0.79,
    # against 0.78 at L = 0.2
    picks = _one([0.0, 0.2, 0.3], [0.3, 0.4, 0.35])
    a, b, w = picks[0]                                   # 0.4 = 0.2 * 0 + 0.8 * 0.5
    assert (a, b) == (0, 1) and w == pytest.approx(0.2, abs=1e-12)
    assert picks[1] == (2, 2, 1.0)


# ------------------------------------------------------------------ the search, end to end

THRESHOLDS = np.array([0.1, 0.5, 0.9])


def _search(included, constraint="equalized_odds", objective="accuracy", fp=1.0, fn=10.0,
            allow=False, counts=EO_COUNTS):
    from faircard.thresholds import Sweep

    sw = Sweep(thresholds=THRESHOLDS, groups=("A", "B", "C"), counts=counts)
    return _stated(r.search_randomized(sw, THRESHOLDS, constraint=constraint,
                                       objective=objective, tolerance=0.0, fp_cost=fp,
                                       fn_cost=fn, included=np.array(included),
                                       allow_degenerate=allow), counts)


def _stated(found, counts):
    """(first threshold per group, the randomised groups' rules) of a search's result, after
    checking that its counts are those of the rules it states."""
    if found is None:
        return None
    rules, got = found
    for j, rule in enumerate(rules.values()):
        want = sum(q * counts[_index(t), j] for t, q in rule.parts)
        np.testing.assert_allclose(got[j], want, rtol=0, atol=1e-12)
    return ({g: rule.threshold for g, rule in rules.items()},
            {g: rule for g, rule in rules.items() if rule.is_randomized})


def _index(t):
    """The sweep index of a rule's threshold: everybody is the lowest, nobody the highest."""
    return 0 if t == -np.inf else len(THRESHOLDS) - 1 if t == np.inf \
        else THRESHOLDS.tolist().index(t)


def _rule_point(counts, chosen, mix, g, j):
    """The expected (FPR, TPR) of group j under its stated rule."""
    from faircard.metrics import metrics_from_counts

    vals = metrics_from_counts(counts)
    fpr, tpr = vals["false_positive_rate"][:, j], vals["true_positive_rate"][:, j]
    parts = mix[g].parts if g in mix else ((chosen[g], 1.0),)
    return np.array([sum(q * fpr[_index(t)] for t, q in parts),
                     sum(q * tpr[_index(t)] for t, q in parts)])


def test_search_states_each_groups_rule_and_meets_at_the_crossing():
    chosen, mix = _search([True, True, False])
    assert set(chosen) == {"A", "B", "C"} and set(mix) == {"A", "B"}
    for j, g in enumerate(("A", "B")):
        assert len(mix[g].parts) in (2, 3) and mix[g].threshold == chosen[g]
        assert all(0 < q < 1 for _, q in mix[g].parts)
        np.testing.assert_allclose(_rule_point(EO_COUNTS, chosen, mix, g, j), KINK, atol=1e-12)
    assert chosen["C"] == 0.9  # nobody selected: 100 of 105 right, its best on its own


def test_search_with_no_group_included_compares_them_all():
    everyone = _search([True, True, True])
    assert _search([False, False, False]) == everyone
    # with C in, the search differs from the one that leaves C out
    assert everyone != _search([True, True, False])


def test_search_defaults_to_refusing_the_corners():
    from faircard.thresholds import Sweep

    sw = Sweep(thresholds=THRESHOLDS, groups=("A", "B", "C"), counts=EO_COUNTS)
    chosen, mix = _stated(r.search_randomized(
        sw, THRESHOLDS, constraint="equalized_odds", objective="cost", tolerance=0.0,
        fp_cost=1.0, fn_cost=10.0, included=np.array([True, True, False])), EO_COUNTS)
    for j, g in enumerate(("A", "B")):
        point = _rule_point(EO_COUNTS, chosen, mix, g, j)
        np.testing.assert_allclose(point, LAST_VERTEX, rtol=0, atol=1e-12)
    # B reaches it with three parts: everybody, and its middle threshold and nobody
    assert [t for t, _ in mix["B"].parts] == [0.5, -np.inf, np.inf]
    corner, corner_mix = _search([True, True, False], objective="cost", allow=True)
    assert corner["A"] == corner["B"] == 0.1 and corner_mix == {}


def test_upper_hull_drops_a_lower_point_at_the_last_x():
    x = np.array([0.0, 1.0, 1.0])
    y = np.array([0.0, 1.0, 0.5])
    assert r._upper_hull(x, y).tolist() == [0, 1]


def test_balanced_accuracy_weights_with_exactly_one_positive_and_one_negative():
    counts = np.array([[[0, 1, 0, 1], [0, 0, 0, 0]]])
    a, b, k = r._gain_weights(counts, "balanced_accuracy", 1.0, 1.0)
    np.testing.assert_allclose(a, [0.5, 0.0])   # 1 / (2 * 1)
    np.testing.assert_allclose(b, [-0.5, 0.0])
    np.testing.assert_allclose(k, [0.5, 0.0])


@pytest.mark.parametrize("gains, allow, want", [
    # best for both groups: nobody selected (degenerate); the best real window is [0.4, 0.5]
    # with both at 0.4 (gain 0.5 - 0.3 * 0.4 = 0.38 each), 0.4 = 0.2 * 0 + 0.8 * 0.5
    ([0.5, 0.35, 0.1], False, (0, 1, 0.2)),
    ([0.5, 0.35, 0.1], True, (0, 0, 1.0)),
    # best for both: everyone selected; the best real window is [0.5, 0.6], both at 0.6
    # (gain 0.35 + 0.3 * 0.1 = 0.38 each; 0.6 = 0.8 * 0.5 + 0.2 * 1)
    ([0.1, 0.35, 0.5], False, (1, 2, 0.8)),
    ([0.1, 0.35, 0.5], True, (2, 2, 1.0)),
])
def test_one_metric_refuses_nobody_or_everyone_unless_allowed(gains, allow, want):
    metric = np.column_stack([[0.0, 0.5, 1.0]] * 2)
    g = np.column_stack([gains] * 2)
    picks = r._one_metric(list(metric.T), list(g.T), list(metric.T), np.array([True, True]),
                          0.1, allow)
    for a, b, w in picks:
        assert (a, b) == want[:2] and w == pytest.approx(want[2], abs=1e-12)


def test_search_with_the_first_group_left_out_still_sets_every_group():
    chosen, mix = _search([False, True, True])
    assert list(chosen) == ["A", "B", "C"]
    assert "A" not in mix


def test_search_left_out_group_takes_its_own_best_balanced_accuracy():
    # balanced accuracy over all 20 positives and 120 negatives; C at its three thresholds:
    # (5/20 + 0) / 2 = 0.125, (4/20 + 90/120) / 2 = 0.475, (0 + 100/120) / 2 = 0.417
    chosen, mix = _search([True, True, False], objective="balanced_accuracy")
    assert chosen["C"] == 0.5 and "C" not in mix


def test_search_one_metric_with_no_group_included_compares_them_all():
    everyone = _search([True, True, True], constraint="demographic_parity")
    assert everyone is not None
    assert _search([False, False, False], constraint="demographic_parity") == everyone


def test_search_one_metric_allows_everyone_selected_when_asked():
    # misses cost 10x false alarms: selecting everyone in A and B costs 10 + 10 false alarms,
    # cheaper than any equal selection rate with misses; C left out is best at 0.5
    # (costs 100, 20 and 50 at its three thresholds)
    chosen, mix = _search([True, True, False], constraint="demographic_parity",
                          objective="cost", allow=True)
    assert chosen == {"A": 0.1, "B": 0.1, "C": 0.5} and mix == {}
