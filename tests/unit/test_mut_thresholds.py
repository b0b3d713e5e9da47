"""faircard.thresholds against outside oracles, written to kill mutmut survivors.

Counts are checked with scikit-learn's ``confusion_matrix`` on each group's mask, AUCs with
``roc_auc_score``, quantiles with ``np.quantile`` on the expanded rows, and every cost search
by trying every rule by brute force. Short thresholds are worked out by hand in comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix, roc_auc_score

from faircard import thresholds as th
from faircard.assess import assess
from faircard.errors import FaircardError


def _cm(y, pred, w=None):
    """[tn, fp, fn, tp] by scikit-learn."""
    return confusion_matrix(y, pred, labels=[False, True], sample_weight=w).ravel()


def _data(seed=0, n=240, n_groups=3, decimals=2):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, n_groups, n)
    y = rng.random(n) < 0.4 + 0.1 * g
    s = np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0, 1).round(decimals)
    return y, s, g, [f"g{j}" for j in range(n_groups)]


# ------------------------------------------------------------------ thresholds and quantiles


def test_exact_thresholds_are_the_distinct_scores_then_infinity():
    got = th.exact_thresholds(np.array([0.3, 0.1, 0.3, 0.7]))
    assert got.tolist() == [0.1, 0.3, 0.7, np.inf]


def test_grid_thresholds_are_the_shortest_numbers_with_the_quantiles_decisions():
    # quantiles at 0, .25, .5, .75, 1 (linear): 0.11, 0.305, 0.445, 0.615, 0.9; the highest
    # score below each: none, 0.11, 0.37, 0.52, 0.52, and the lowest at or above it: 0.11,
    # 0.37, 0.52, 0.9, 0.9; the shortest decimal in (below, at or above]: 0.11 (nothing
    # below), 0.3, 0.5, 0.9, 0.9. 0.615 and 0.9 both select 0.9 alone: one candidate.
    got = th.grid_thresholds(np.array([0.52, 0.11, 0.9, 0.37]), n=5)
    assert got.tolist() == [0.11, 0.3, 0.5, 0.9, np.inf]


def test_a_quantile_that_is_a_score_is_shortened_against_the_score_below_it():
    # n=2: quantiles 0.1 and 0.123456 (both scores). Below 0.123456 lies 0.1, so the
    # shortest number in (0.1, 0.123456] is 0.12; a score equal to the quantile is not below it.
    got = th.grid_thresholds(np.array([0.123456, 0.1]), n=2)
    assert got.tolist() == [0.1, 0.12, np.inf]


def test_default_grid_has_1001_quantiles_with_their_decisions():
    rng = np.random.default_rng(4)
    s = rng.random(5000)  # distinct scores: every quantile is distinct
    got = th.grid_thresholds(s)
    q = np.quantile(s, np.linspace(0, 1, 1001))
    assert len(got) == 1002 and got[-1] == np.inf
    assert np.all(np.diff(got) > 0)
    for t, want in zip(got[:-1], q, strict=True):
        assert np.array_equal(s >= t, s >= want)


def test_weighted_grid_equals_the_grid_of_the_expanded_rows():
    rng = np.random.default_rng(7)
    values = np.unique(rng.integers(0, 400, 60) / 397.0)
    weight = rng.integers(1, 9, len(values))
    rows = np.repeat(values, weight)
    for n in (5, 41, 101, 1001):
        want = th.grid_thresholds(rows, n=n)
        got = th.grid_thresholds(values, n=n, weight=weight)
        assert np.array_equal(got, want), n
        # the same set of decisions as the quantiles (two quantiles may decide alike), or,
        # with no more distinct scores than n, as every distinct score
        q = np.quantile(rows, np.linspace(0, 1, n)) if len(values) > n else values
        assert {(rows >= t).tobytes() for t in got[:-1]} == {(rows >= v).tobytes() for v in q}
        assert (len(got) == len(values) + 1) == (len(values) <= n)


def test_a_grid_keeps_every_distinct_score_when_there_are_at_most_n():
    """A quantile grid skips scores where they are sparse (735 thresholds for 942 distinct
    scores, below) and a skipped score can be a vertex of a group's ROC hull; with at most n
    distinct scores the grid is every one of them."""
    rng = np.random.default_rng(12)
    s = np.clip(rng.normal(0.45, 0.2, 4000), 0, 1).round(3)
    distinct = np.unique(s)
    assert len(distinct) <= 1001
    got = th.grid_thresholds(s)
    assert len(got) == len(distinct) + 1 and got[-1] == np.inf
    assert [(s >= t).sum() for t in got[:-1]] == [(s >= v).sum() for v in distinct]


@pytest.mark.parametrize("case", range(60))
def test_row_quantiles_equal_numpy_on_the_expanded_rows_bit_for_bit(case):
    rng = np.random.default_rng(100 + case)
    k = int(rng.integers(1, 12))
    values = np.sort(rng.choice(rng.random(40) * rng.choice([1.0, 10.0, 0.001]), k,
                                replace=False))
    perm = rng.permutation(k)  # values need not arrive sorted
    weight = rng.integers(1, 6, k)
    q = np.concatenate([np.linspace(0, 1, int(rng.integers(2, 30))), rng.random(7),
                        [0.5, 0.25, 0.75, 1.0]])
    rows = np.repeat(values, weight)
    got = th._row_quantiles(values[perm], weight[perm], q)
    assert np.array_equal(got, np.quantile(rows, q))


def test_row_quantiles_of_a_single_row_and_of_two_rows():
    q = np.array([0.0, 0.3, 0.5, 0.7, 1.0])
    assert th._row_quantiles(np.array([0.42]), np.array([1]), q).tolist() == [0.42] * 5
    # two rows 1 and 3: linear interpolation 1 + 2q
    assert th._row_quantiles(np.array([3.0, 1.0]), np.array([1, 1]), q) == \
        pytest.approx([1.0, 1.6, 2.0, 2.4, 3.0], abs=1e-15)


# ------------------------------------------------------------------------------ sweeps


def _check_sweep(sw, y, s, g, w=None):
    """Every threshold by direct masks; every fifth one and both ends by scikit-learn."""
    k, n_groups = sw.counts.shape[:2]
    assert sw.counts.dtype == np.int64
    wt = np.ones(len(y), np.int64) if w is None else np.asarray(w)
    for j, t in enumerate(sw.thresholds):
        for grp in range(n_groups):
            m = g == grp
            pred = s >= t
            want = [wt[m & ~y & ~pred].sum(), wt[m & ~y & pred].sum(),
                    wt[m & y & ~pred].sum(), wt[m & y & pred].sum()]
            assert sw.counts[j, grp].tolist() == want, (t, grp)
            if j % 5 == 0 or j == k - 1:
                assert want == _cm(y[m], s[m] >= t, None if w is None else w[m]).tolist()


def test_sweep_counts_equal_sklearn_at_thresholds_equal_to_scores():
    y, s, g, groups = _data(1)
    t = np.array([-1.0, 0.0, 0.2, 0.35, s[0], s[5], 0.7, 1.0, np.inf])
    got = th.sweep_counts(y, s, g, len(groups), np.sort(t))
    assert got.shape == (len(t), 3, 4)
    _check_sweep(th.Sweep(np.sort(t), tuple(groups), got), y, s, g)


def test_exact_and_grid_sweeps_equal_sklearn_at_every_threshold():
    y, s, g, groups = _data(2, n=150)
    ex = th.sweep(y, s, g, groups, exact=True)
    assert ex.thresholds.tolist() == np.append(np.unique(s), np.inf).tolist()
    assert ex.groups == tuple(groups)
    _check_sweep(ex, y, s, g)
    grid = th.sweep(y.astype(int), s.tolist(), g.tolist(), groups)
    assert np.array_equal(grid.thresholds, th.grid_thresholds(s))
    _check_sweep(grid, y, s, g)
    given = th.sweep(y, s, g, groups, thresholds=[0.25, 0.5])
    assert given.thresholds.tolist() == [0.25, 0.5]
    _check_sweep(given, y, s, g)


def test_weighted_sweep_equals_sklearn_with_sample_weight_and_the_expanded_rows():
    y, s, g, groups = _data(3, n=120)
    w = np.random.default_rng(3).integers(1, 7, len(y))
    sw = th.sweep(y, s, g, groups, weight=w)
    rows = th.sweep(np.repeat(y, w), np.repeat(s, w), np.repeat(g, w), groups)
    assert np.array_equal(sw.thresholds, rows.thresholds)
    _check_sweep(sw, y, s, g, w)
    assert np.array_equal(sw.counts, rows.counts)
    # float weights that are whole numbers are rounded, not truncated (2.9999999 -> 3)
    wf = w - 1e-9
    got = th.sweep_counts(y, s, g, 3, sw.thresholds, weight=wf)
    assert np.array_equal(got, sw.counts)


def test_sweep_metrics_overall_and_frame():
    y, s, g, groups = _data(5, n=90, n_groups=2)
    sw = th.sweep(y, s, g, groups, thresholds=[0.3, 0.5, np.inf])
    m = sw.metrics()
    ov = sw.overall()
    for j, t in enumerate(sw.thresholds):
        tn, fp, fn, tp = _cm(y, s >= t)
        assert ov["selection_rate"][j] == pytest.approx((fp + tp) / len(y), abs=1e-15)
        assert ov["count"][j] == len(y)
        for grp in range(2):
            tn, fp, fn, tp = _cm(y[g == grp], s[g == grp] >= t)
            assert m["accuracy"][j, grp] == pytest.approx((tn + tp) / (g == grp).sum())
    fr = sw.frame(["accuracy", "precision"], feature="sex")
    assert list(fr.columns) == ["threshold", "feature", "group", "accuracy", "precision"]
    assert fr["threshold"].tolist() == [0.3, 0.3, 0.5, 0.5, np.inf, np.inf]
    assert fr["group"].tolist() == ["g0", "g1"] * 3
    assert set(fr["feature"]) == {"sex"}
    for r in fr.itertuples():
        mask = g == groups.index(r.group)
        tn, fp, fn, tp = _cm(y[mask], s[mask] >= r.threshold)
        assert r.accuracy == pytest.approx((tn + tp) / mask.sum())
    full = sw.frame()
    assert list(full.columns) == ["threshold", "feature", "group", *m]
    assert set(full["feature"]) == {""}
    assert len(full) == 6


def test_roc_pr_curves_are_the_rates_of_each_group():
    y, s, g, groups = _data(6, n=80, n_groups=2)
    sw = th.sweep(y, s, g, groups, exact=True)
    cur = th.roc_pr_curves(sw, feature="race")
    assert list(cur.columns) == ["feature", "group", "threshold", "false_positive_rate",
                                 "true_positive_rate", "precision", "recall"]
    assert set(cur["feature"]) == {"race"}
    assert len(cur) == 2 * len(sw.thresholds)
    for r in cur.itertuples():
        mask = g == groups.index(r.group)
        tn, fp, fn, tp = _cm(y[mask], s[mask] >= r.threshold)
        assert r.false_positive_rate == pytest.approx(fp / (fp + tn))
        assert r.true_positive_rate == pytest.approx(tp / (tp + fn))
        assert r.recall == pytest.approx(tp / (tp + fn))
        if tp + fp:
            assert r.precision == pytest.approx(tp / (tp + fp))
        else:
            assert np.isnan(r.precision)
    assert set(th.roc_pr_curves(sw)["feature"]) == {""}


def test_auc_from_an_exact_sweep_equals_sklearn_per_group():
    y, s, g, groups = _data(8, n=300, decimals=1)  # many ties
    auc = th.auc_from_sweep(th.sweep(y, s, g, groups, exact=True))
    assert auc.shape == (3,)
    for j in range(3):
        assert auc[j] == pytest.approx(roc_auc_score(y[g == j], s[g == j]), abs=1e-12)
    # a perfectly separating score has AUC 1, a reversed one 0
    y2 = np.array([0, 0, 1, 1, 0, 1], bool)
    s2 = np.array([0.1, 0.2, 0.8, 0.9, 0.7, 0.3])
    g2 = np.array([0, 0, 0, 0, 1, 1])
    assert th.auc_from_sweep(th.sweep(y2, s2, g2, ["a", "b"], exact=True)).tolist() == [1.0, 0.0]


# -------------------------------------------------------------------- sorted scores


def _brute_counts(y, s, g, thresholds, w=None):
    w = np.ones(len(y)) if w is None else np.asarray(w, float)
    out = []
    for grp, t in enumerate(thresholds):
        m = g == grp
        out.append(_cm(y[m], s[m] >= t, w[m]))
    return np.array(out)


def test_sort_scores_segments_are_each_group_and_outcome_ascending():
    y = np.array([1, 0, 1, 0, 0, 1], bool)
    s = np.array([0.9, 0.4, 0.2, 0.1, 0.8, 0.5])
    g = np.array([1, 0, 0, 0, 1, 1])
    ss = th.sort_scores(y, s, g, ["a", "b"])
    # segments: (a, neg) 0.1 0.4 | (a, pos) 0.2 | (b, neg) 0.8 | (b, pos) 0.5 0.9
    assert ss.scores.tolist() == [0.1, 0.4, 0.2, 0.8, 0.5, 0.9]
    assert ss.bounds.tolist() == [0, 2, 3, 4, 6]
    assert ss.groups == ("a", "b")
    assert ss.cumulative is None
    ws = th.sort_scores(y, s, g, ["a", "b"], weight=[1, 2, 3, 4, 5, 6])
    # weights in the same order: 4 2 | 3 | 5 | 6 1
    assert ws.cumulative.tolist() == [0, 4, 6, 9, 14, 20, 21]


@pytest.mark.parametrize("seed", range(4))
def test_counts_at_per_group_thresholds_equal_sklearn(seed):
    y, s, g, groups = _data(20 + seed, n=100)
    ss = th.sort_scores(y, s, g, groups)
    rng = np.random.default_rng(seed)
    for _ in range(15):
        t = rng.choice(np.append(s, [-1.0, 2.0, 0.5]), 3)
        got = ss.counts_at(t)
        assert got.dtype == np.int64
        assert got.tolist() == _brute_counts(y, s, g, t).tolist()


def test_counts_at_with_whole_and_fractional_weights():
    y, s, g, groups = _data(30, n=80)
    w = np.random.default_rng(30).integers(1, 5, len(y))
    t = [0.3, s[1], 0.55]
    whole = th.sort_scores(y, s, g, groups, weight=w).counts_at(t)
    assert whole.dtype == np.int64
    assert whole.tolist() == _brute_counts(y, s, g, t, w).tolist()
    frac = th.sort_scores(y, s, g, groups, weight=w * 0.5).counts_at(t)
    assert frac.dtype == np.float64
    np.testing.assert_allclose(frac, _brute_counts(y, s, g, t, w * 0.5), rtol=0, atol=1e-12)


def test_largest_below_is_the_highest_score_strictly_below():
    y, s, g, groups = _data(40, n=60)
    ss = th.sort_scores(y, s, g, groups)
    for t in [-1.0, s.min(), 0.3, 0.5, s[3], s.max(), 5.0]:
        below = s[s < t]
        want = below.max() if below.size else -np.inf
        assert ss.largest_below(t) == want, t
    # a group with no rows at all
    one = th.sort_scores([True, False], [0.2, 0.6], [1, 1], ["empty", "b"])
    assert one.largest_below(0.6) == 0.2
    assert one.largest_below(0.2) == -np.inf


# -------------------------------------------------------------------------- costs


def test_costs_at_weigh_false_positives_and_false_negatives():
    counts = np.array([[5, 2, 3, 1], [0, 4, 1, 9]])
    assert th.costs_at(counts, 2.0, 7.0).tolist() == [2 * 2 + 3 * 7, 4 * 2 + 1 * 7]


def _brute_curve(y, s, w):
    uniq = np.unique(s)
    rules = np.append(uniq, np.inf)
    neg = [w[(~y) & (s < t)].sum() for t in rules]
    pos = [w[y & (s < t)].sum() for t in rules]
    return uniq, np.array(neg), np.array(pos)


@pytest.mark.parametrize("weighted", [False, True])
def test_cost_curve_counts_everyone_below_each_rule(weighted):
    y, s, g, groups = _data(50, n=70, decimals=1)
    w = np.random.default_rng(50).integers(1, 4, len(y)) if weighted else np.ones(len(y))
    cur = th.cost_curve(th.sort_scores(y, s, g, groups, weight=w if weighted else None))
    uniq, neg, pos = _brute_curve(y, s, w.astype(float))
    assert cur.scores.tolist() == uniq.tolist()
    assert cur.neg_below.tolist() == neg.tolist()
    assert cur.pos_below.tolist() == pos.tolist()


def test_cost_curve_of_no_rows_and_its_threshold_is_refused():
    empty = th.sort_scores(np.array([], bool), np.array([]), np.array([], int), ["a"])
    cur = th.cost_curve(empty)
    assert cur.scores.size == 0
    assert cur.neg_below.tolist() == [0.0] and cur.pos_below.tolist() == [0.0]
    with pytest.raises(ValueError, match="no rows"):
        th.lowest_cost_threshold(cur, 1.0, 1.0)
    none = th.cost_curve(th.SortedScores((), np.array([]), np.array([0])))
    assert none.scores.size == 0 and none.neg_below.tolist() == [0.0]


def _lowest(y, s, fp_cost, fn_cost, w=None):
    w = np.ones(len(y)) if w is None else np.asarray(w, float)
    th_s = th.sort_scores(y, s, np.zeros(len(y), int), ["all"], weight=None if w is None else w)
    return th.lowest_cost_threshold(th.cost_curve(th_s), fp_cost, fn_cost)


def test_lowest_cost_threshold_hand_worked():
    y = np.array([0, 0, 1, 1], bool)
    s = np.array([0.2, 0.45678, 0.61234, 0.9])
    # costs (FP + FN) at 0.2, 0.45678, 0.61234, 0.9, nobody: 2, 1, 0, 1, 2 -> 0.61234,
    # written as the shortest number above 0.45678: 0.6
    best = _lowest(y, s, 1.0, 1.0)
    assert (best.threshold, best.cost_per_decision, best.selected_share) == (0.6, 0.0, 0.5)
    assert not best.degenerate
    # a positive 0.23456, a negative 0.5, a positive 0.8, false negatives 10x dearer: costs
    # at 0.23456, 0.5, 0.8, nobody: 1, 11, 10, 20 -> select everybody at the lowest score,
    # kept as it is (nothing below it to shorten against)
    y2, s2 = np.array([1, 0, 1], bool), np.array([0.23456, 0.5, 0.8])
    cheap = _lowest(y2, s2, 1.0, 10.0)
    assert (cheap.threshold, cheap.selected_share) == (0.23456, 1.0)
    assert cheap.cost_per_decision == pytest.approx(1 / 3)
    assert cheap.degenerate
    # false positives 10x dearer: 1 positive missed at 0.8 (cost 1) beats 10 at 0.23456;
    # the shortest number in (0.5, 0.8] is 0.8
    dear = _lowest(y2, s2, 10.0, 1.0)
    assert (dear.threshold, dear.selected_share) == (0.8, pytest.approx(1 / 3))
    assert dear.cost_per_decision == pytest.approx(1 / 3)


def test_lowest_cost_threshold_selects_nobody_above_the_highest_score():
    # every row negative: selecting nobody costs 0; the shortest number above 0.9 with two
    # significant digits is 0.91
    best = _lowest(np.array([0, 0, 0], bool), np.array([0.3, 0.5, 0.9]), 1.0, 1.0)
    assert (best.threshold, best.cost_per_decision, best.selected_share) == (0.91, 0.0, 0.0)
    assert best.degenerate


def test_lowest_cost_ties_go_to_the_lowest_threshold():
    # negatives 0.3, 0.7 and a positive 0.5: costs at 0.3, 0.5, 0.7, nobody: 2, 1, 2, 1;
    # 0.5 and nobody tie and 0.5 (shortest in (0.3, 0.5]) is chosen
    best = _lowest(np.array([0, 1, 0], bool), np.array([0.3, 0.5, 0.7]), 1.0, 1.0)
    assert best.threshold == 0.5
    assert best.cost_per_decision == pytest.approx(1 / 3)
    assert best.selected_share == pytest.approx(2 / 3)


@pytest.mark.parametrize("seed", range(6))
def test_lowest_cost_equals_exhaustive_search(seed):
    rng = np.random.default_rng(60 + seed)
    n = int(rng.integers(5, 60))
    y = rng.random(n) < 0.4
    s = np.clip(0.3 * y + rng.normal(0.4, 0.2, n), 0, 1).round(int(rng.integers(1, 5)))
    w = rng.integers(1, 5, n).astype(float)
    fp_cost, fn_cost = float(rng.integers(1, 6)), float(rng.integers(1, 6))
    best = _lowest(y, s, fp_cost, fn_cost, w)
    rules = np.append(np.unique(s), np.inf)
    costs = [fp_cost * w[(~y) & (s >= t)].sum() + fn_cost * w[y & (s < t)].sum()
             for t in rules]
    k = int(np.argmin(costs))
    assert best.cost_per_decision == pytest.approx(costs[k] / w.sum(), abs=1e-12)
    assert np.array_equal(s >= best.threshold, s >= rules[k])
    assert best.selected_share == pytest.approx(w[s >= rules[k]].sum() / w.sum(), abs=1e-12)
    assert np.isfinite(best.threshold)


def test_degenerate_only_when_nobody_or_everybody_is_selected():
    assert th.LowestCost(0.5, 0.1, 0.0).degenerate
    assert th.LowestCost(0.5, 0.1, 1.0).degenerate
    assert not th.LowestCost(0.5, 0.1, 0.25).degenerate


# -------------------------------------------------------------------- from an assessment


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(9)
    n = 400
    sex = rng.choice(["F", "M"], n)
    race = rng.choice(["A", "B", "C"], n)
    y = (rng.random(n) < 0.35 + 0.1 * (sex == "M")).astype(int)
    score = np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0, 1).round(3)
    return pd.DataFrame({"y": y, "score": score, "pred": (score >= 0.5).astype(int),
                         "sex": sex, "race": race})


def _check_partition(got, frame, column):
    groups = sorted(frame[column].unique())
    assert list(got.groups) == groups
    y = frame["y"].to_numpy() == 1
    s = frame["score"].to_numpy()
    g = frame[column].map({v: i for i, v in enumerate(groups)}).to_numpy()
    return y, s, g


@pytest.fixture(scope="module")
def scored(frame):
    return assess(frame, target="y", score="score", sensitive=["sex", "race"], n_boot=0)


def test_sweep_and_sorted_scores_of_an_assessment_by_feature(scored, frame):
    first = th.sweep_assessment(scored)
    y, s, g = _check_partition(first, frame, "sex")
    assert np.array_equal(first.thresholds, th.grid_thresholds(s))
    _check_sweep(first, y, s, g)
    race = th.sweep_assessment(scored, "race", exact=True)
    y, s, g = _check_partition(race, frame, "race")
    assert race.thresholds.tolist() == np.append(np.unique(s), np.inf).tolist()
    _check_sweep(race, y, s, g)
    srt = th.sort_assessment_scores(scored, "race")
    assert srt.cumulative is None
    assert srt.counts_at([0.4, 0.5, 0.6]).tolist() == \
        _brute_counts(y, s, g, [0.4, 0.5, 0.6]).tolist()
    y, s, g = _check_partition(th.sort_assessment_scores(scored), frame, "sex")


def test_thresholds_of_predicted_labels_are_refused(frame):
    labels = assess(frame, target="y", prediction="pred", sensitive=["sex"], n_boot=0)
    with pytest.raises(FaircardError, match="need a score column"):
        th.sweep_assessment(labels)
    with pytest.raises(FaircardError, match="need a score column"):
        th.sort_assessment_scores(labels)


def test_an_engines_grouped_table_sweeps_like_its_rows(frame, tmp_path):
    from faircard.engine import assess_source
    from faircard.spec import AssessmentSpec

    path = tmp_path / "rows.parquet"
    frame.to_parquet(path)
    spec = AssessmentSpec(target="y", score="score", sensitive=("sex", "race"), n_boot=0)
    counted = assess_source(str(path), spec, engine="duckdb")
    assert counted.cube.scores.weight is not None  # one entry per distinct score
    got = th.sweep_assessment(counted, "race")
    y, s, g = _check_partition(got, frame, "race")
    assert np.array_equal(got.thresholds, th.grid_thresholds(s))
    _check_sweep(got, y, s, g)
    srt = th.sort_assessment_scores(counted)
    y, s, g = _check_partition(srt, frame, "sex")
    assert srt.cumulative is not None
    assert srt.counts_at([0.45, 0.5]).tolist() == _brute_counts(y, s, g, [0.45, 0.5]).tolist()


# ------------------------------------------------------- written from the survivors


def test_grid_of_half_precision_scores_is_computed_in_double_precision():
    # float16 scores 1 and 1.0009765625 (adjacent float16 numbers), n=3: the middle quantile
    # in float64 is 1.00048828125, above 1, so it selects what 1.0009765625 selects: the
    # shortest number in (1, 1.0009765625], 1.0009, for both. In float16 the middle quantile
    # would round to 1 and select everybody.
    got = th.grid_thresholds(np.array([1.0, 1.0009765625], np.float16), n=3)
    assert got.tolist() == [1.0, 1.0009, np.inf]


def test_row_quantiles_at_exactly_half_way_use_numpys_upper_form():
    # a + (b - a) / 2 and b - (b - a) / 2 differ by one ulp for these two; numpy takes the
    # second at gamma >= 0.5
    a, b = 0.00011787382052072793, 0.05590408668801394
    assert a + (b - a) * 0.5 != b - (b - a) * 0.5
    q = np.array([0.5])
    assert th._row_quantiles(np.array([b, a]), np.array([1, 1]), q)[0] == \
        np.quantile([a, b], 0.5)
    rows = [a, a, b, b]  # (4 - 1) * 0.5 = 1.5: half way between the two middle rows
    assert th._row_quantiles(np.array([a, b]), np.array([2, 2]), q)[0] == np.quantile(rows, 0.5)


def test_whole_number_thresholds_given_are_kept_as_floats():
    y, s, g, groups = _data(10, n=30)
    sw = th.sweep(y, s * 10, g, groups, thresholds=[2, 4, 6])
    assert sw.thresholds.dtype == np.float64
    _check_sweep(sw, y, s * 10, g)


def test_sorted_scores_with_many_groups_in_small_integer_codes():
    # 200 groups coded as uint8: 2 * code + outcome must not wrap around at 256
    n_groups = 200
    g = np.repeat(np.arange(n_groups, dtype=np.uint8), 2)
    y = np.tile([False, True], n_groups)
    s = np.tile([0.3, 0.7], n_groups)
    ss = th.sort_scores(y, s, g, [str(j) for j in range(n_groups)])
    got = ss.counts_at(np.full(n_groups, 0.5))
    assert got.tolist() == [[1, 0, 0, 1]] * n_groups


def test_refusal_of_predicted_labels_says_what_is_needed(frame):
    labels = assess(frame, target="y", prediction="pred", sensitive=["sex"], n_boot=0)
    with pytest.raises(FaircardError) as err:
        th.sweep_assessment(labels)
    assert str(err.value) == ("Thresholds need a score column (or a model with scores), not "
                              "predicted labels.")


def test_sweep_of_the_intersection_partition(scored, frame):
    got = th.sweep_assessment(scored, "sex & race", exact=True)
    assert got.groups == ("F & A", "F & B", "F & C", "M & A", "M & B", "M & C")
    y, s = frame["y"].to_numpy() == 1, frame["score"].to_numpy()
    g = np.array([got.groups.index(f"{a} & {b}")
                  for a, b in zip(frame["sex"], frame["race"], strict=True)])
    _check_sweep(got, y, s, g)


def test_lowest_cost_of_a_single_row():
    # one negative at 0.3: selecting it costs 1, nobody costs 0 -> above 0.3 with two
    # significant digits: 0.31
    best = _lowest(np.array([False]), np.array([0.3]), 1.0, 1.0)
    assert (best.threshold, best.cost_per_decision, best.selected_share) == (0.31, 0.0, 0.0)


def test_no_rows_error_message():
    cur = th.cost_curve(th.sort_scores(np.array([], bool), np.array([]), np.array([], int),
                                       ["a"]))
    with pytest.raises(ValueError, match=r"^no rows to choose a threshold on$"):
        th.lowest_cost_threshold(cur, 1.0, 1.0)


def test_lowest_cost_threshold_is_shortened_against_the_score_just_below():
    # negatives 0.05, 0.505; positives 0.51234, 0.9: costs at 0.05, 0.505, 0.51234, 0.9,
    # nobody: 2, 1, 0, 1, 2. The shortest number in (0.505, 0.51234] is 0.51 (0.5 would also
    # select 0.505).
    best = _lowest(np.array([0, 0, 1, 1], bool), np.array([0.05, 0.505, 0.51234, 0.9]), 1.0,
                   1.0)
    assert best.threshold == 0.51
    assert best.cost_per_decision == 0.0 and best.selected_share == 0.5


def test_a_sweep_keeps_the_highest_score_it_swept():
    # the policy search writes "nobody selected" above this score, so it must be the true max
    rng = np.random.default_rng(11)
    s = rng.random(300)
    y = rng.random(300) < 0.4
    g = rng.integers(0, 3, 300)
    sw = th.sweep(y, s, g, ["a", "b", "c"], thresholds=[0.2, 0.5])
    assert sw.max_score == float(np.max(s))
    # no rows at all: nothing to be above, and no error
    empty = th.sweep(np.array([], bool), np.array([]), np.array([], np.int64), ["a"],
                     thresholds=[0.5])
    assert empty.max_score is None
    assert empty.counts.sum() == 0
