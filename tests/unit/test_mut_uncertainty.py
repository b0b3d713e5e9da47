"""Hand-worked values and textbook references for faircard.uncertainty, written to kill
mutmut survivors. Expected figures come from the formulas in the literature or from scipy,
never from the implementation's own output."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact, norm

import faircard
from faircard import uncertainty as u
from tests.conftest import holm_once_per_hypothesis

Z90 = 1.6448536269514722  # standard normal quantile at 0.95 (two-sided 90%)


def _wilson_reference(k, n, z):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def test_wilson_at_ninety_percent_matches_the_formula():
    lo, hi = u.wilson_interval(np.array([3, 12]), np.array([20, 40]), confidence=0.9)
    for i, (k, n) in enumerate([(3, 20), (12, 40)]):
        want_lo, want_hi = _wilson_reference(k, n, Z90)
        assert lo[i] == pytest.approx(want_lo, abs=1e-12)
        assert hi[i] == pytest.approx(want_hi, abs=1e-12)


def test_wilson_default_confidence_is_95_percent_and_no_trials_is_nan():
    lo, hi = u.wilson_interval(np.array([4, 0]), np.array([10, 0]))
    want_lo, want_hi = _wilson_reference(4, 10, norm.ppf(0.975))
    assert (lo[0], hi[0]) == (pytest.approx(want_lo, abs=1e-12), pytest.approx(want_hi, abs=1e-12))
    assert np.isnan(lo[1]) and np.isnan(hi[1])


def test_wilson_stays_inside_zero_and_one():
    lo, hi = u.wilson_interval(np.array([0, 1]), np.array([1, 1]))
    assert lo[0] == 0.0 and hi[1] == 1.0
    assert 0 < hi[0] < 1 and 0 < lo[1] < 1
    # 0 of 21 and 16 of 16: the formula's rounding falls just outside [0, 1] at 95%
    lo, hi = u.wilson_interval(np.array([0, 16]), np.array([21, 16]))
    assert lo[0] == 0.0 and hi[1] == 1.0


def test_wilson_with_billions_of_trials_does_not_overflow():
    # 2e9 of 4e9 as integer counts: centre 0.5, half-width z * sqrt(0.25 / 4e9) to first order
    lo, hi = u.wilson_interval(np.array([2_000_000_000]), np.array([4_000_000_000]))
    half = 1.959963984540054 * math.sqrt(0.25 / 4e9)
    assert lo[0] == pytest.approx(0.5 - half, abs=1e-9)
    assert hi[0] == pytest.approx(0.5 + half, abs=1e-9)


def test_bootstrap_keeps_each_cell_size_and_pure_cells_stay_pure():
    cells = np.array([[10, 0, 0, 0], [0, 0, 0, 6], [0, 0, 0, 0], [30, 10, 40, 20],
                      [1, 0, 0, 0], [0, 0, 1, 0]], float)
    reps = u.bootstrap_cell_counts(cells, 400, np.random.default_rng(3))
    assert reps.shape == (400, 6, 4)
    np.testing.assert_array_equal(reps.sum(axis=2), np.tile([10, 6, 0, 100, 1, 1], (400, 1)))
    assert (reps[:, 0] == [10, 0, 0, 0]).all()
    assert (reps[:, 1] == [0, 0, 0, 6]).all()
    assert (reps[:, 2] == 0).all()
    # a cell of one person keeps that person's confusion cell
    assert (reps[:, 4] == [1, 0, 0, 0]).all()
    assert (reps[:, 5] == [0, 0, 1, 0]).all()
    # the mixed cell is drawn with the observed proportions (0.3, 0.1, 0.4, 0.2):
    # the mean of 400 draws of 100 lies within 0.01 of each proportion (sd 0.0025)
    np.testing.assert_allclose(reps[:, 3].mean(axis=0) / 100, [0.3, 0.1, 0.4, 0.2], atol=0.01)


def test_bootstrap_rounds_expected_counts_to_the_nearest_size():
    cells = np.array([[2.4, 2.4, 2.4, 2.6]])  # sums to 9.8, rounds to 10
    reps = u.bootstrap_cell_counts(cells, 5, np.random.default_rng(0))
    assert (reps.sum(axis=2) == 10).all()


@pytest.mark.parametrize("low, high, pct, want", [
    (0.02, 0.19, True, "2%-19%"),
    (0.02, 0.19, False, "0.02-0.19"),
    (None, 0.19, True, "n/a"),
    (0.02, None, True, "n/a"),
    (float("nan"), 0.19, True, "n/a"),
    (0.02, float("nan"), False, "n/a"),
])
def test_describe_interval(low, high, pct, want):
    assert u.describe_interval(low, high, pct) == want


def test_describe_interval_defaults_to_percent():
    assert u.describe_interval(0.5, 0.755) == "50%-76%"


def test_pair_between_has_no_gap_when_fewer_than_two_included_groups_are_defined():
    # three groups compared, but the metric is defined in one only (precision where only one
    # group has positive decisions): no pair, so NaN replicates and a NaN interval, as NumPy's
    # nanpercentile gives for all-NaN samples
    values = np.array([[0.2, np.nan, np.nan], [0.4, np.nan, np.nan], [0.3, np.nan, np.nan],
                       [0.5, np.nan, np.nan]])
    point = np.array([0.35, np.nan, np.nan])
    for included in (np.array([True, True, True]), np.array([True, False, True])):
        diff, ratio = u._pair_between(values, point, included)
        for got in (diff, ratio):
            assert got.dtype == np.float64 and got.shape == (len(values),)
            assert np.isnan(got).all()
            with pytest.warns(RuntimeWarning):  # "All-NaN slice encountered"
                want = np.nanpercentile(got, [5.0, 95.0])
            assert np.isnan(u._percentile(got, 0.9)).all() and np.isnan(want).all()


def test_percentile_takes_the_central_interval_and_skips_nan():
    samples = np.concatenate([np.arange(101.0), [np.nan, np.nan]])
    lo, hi = u._percentile(samples, 0.9)
    assert (lo, hi) == (pytest.approx(5.0), pytest.approx(95.0))
    lo, hi = u._percentile(np.arange(101.0).reshape(101, 1) * [1, 2], 0.5)
    np.testing.assert_allclose(lo, [25.0, 50.0])
    np.testing.assert_allclose(hi, [75.0, 150.0])


def test_two_proportion_p_is_nan_without_trials():
    assert math.isnan(u.two_proportion_p(0, 0, 3, 10))
    assert math.isnan(u.two_proportion_p(3, 10, 0, 0))
    assert math.isnan(u.two_proportion_p(3, 10, 0, -1))


def test_two_proportion_p_uses_the_z_test_when_every_expected_count_is_exactly_five():
    # 3/10 vs 7/10: pooled 0.5, expected counts all 5 -> z test, not Fisher
    z = (0.3 - 0.7) / math.sqrt(0.25 * (1 / 10 + 1 / 10))
    assert u.two_proportion_p(3, 10, 7, 10) == pytest.approx(2 * norm.sf(abs(z)), abs=1e-12)
    # one fewer success: an expected count 4.5 < 5 -> Fisher's exact test
    assert u.two_proportion_p(2, 10, 7, 10) == pytest.approx(
        fisher_exact([[2, 8], [7, 3]]).pvalue, abs=1e-12)


def test_two_proportion_p_fisher_when_only_the_failures_are_few():
    # 48/50 vs 40/50: pooled 0.88, expected failures 6 and 6 -> z; 49/50 vs 47/50: 2 -> Fisher
    assert u.two_proportion_p(49, 50, 47, 50) == pytest.approx(
        fisher_exact([[49, 1], [47, 3]]).pvalue, abs=1e-12)
    # the second group alone has few expected successes
    assert u.two_proportion_p(30, 60, 1, 6) == pytest.approx(
        fisher_exact([[30, 30], [1, 5]]).pvalue, abs=1e-12)


def test_holm_on_hand_worked_values():
    # sorted p: 0.01 (x4), 0.02 (x3), 0.03 (x2), 0.04 (x1) -> 0.04, 0.06, 0.06, 0.06
    np.testing.assert_allclose(u.holm(np.array([0.04, 0.01, np.nan, 0.03, 0.02])),
                               [0.06, 0.04, np.nan, 0.06, 0.06])
    # capped at 1
    np.testing.assert_allclose(u.holm(np.array([0.6, 0.7])), [1.0, 1.0])
    assert np.isnan(u.holm(np.array([np.nan, np.nan]))).all()
    assert u.holm(np.array([])).shape == (0,)
    # plain lists, integers and None are read as numbers and missing values
    np.testing.assert_allclose(u.holm([0, 1]), [0.0, 1.0])
    np.testing.assert_allclose(u.holm([0.02, None, 0.01]), [0.02, np.nan, 0.02])
    # a single p-value is its own adjustment
    np.testing.assert_allclose(u.holm([np.nan, 0.03]), [np.nan, 0.03])


# ------------------------------------------------------------------ estimate_uncertainty

def _rows(group, tn=0, fp=0, fn=0, tp=0):
    y = [0] * tn + [0] * fp + [1] * fn + [1] * tp
    p = [0] * tn + [1] * fp + [0] * fn + [1] * tp
    return pd.DataFrame({"g": group, "y": y, "p": p})


@pytest.fixture(scope="module")
def two_groups():
    return pd.concat([_rows("a", tn=40, fp=10, fn=10, tp=40),
                      _rows("b", tn=60, fp=10, fn=20, tp=10)], ignore_index=True)


def test_confidence_and_replicate_bounds(two_groups):
    kw = dict(target="y", prediction="p", sensitive="g")
    a = faircard.assess(two_groups, n_boot=0, confidence=0.5, **kw)
    assert a.uncertainty["confidence"] == 0.5
    for bad in (0.49, 1.0):
        with pytest.raises(faircard.FaircardError) as err:
            faircard.assess(two_groups, n_boot=0, confidence=bad, **kw)
        assert str(err.value) == "The confidence level must be between 0.5 and 1 (e.g. 0.95)."
    with pytest.raises(faircard.FaircardError) as err:
        faircard.assess(two_groups, n_boot=-1, **kw)
    assert str(err.value) == "The number of bootstrap replicates cannot be negative."


def test_wilson_only_summary_and_interval_values(two_groups):
    a = faircard.assess(two_groups, target="y", prediction="p", sensitive="g", n_boot=0,
                        confidence=0.9, random_state=5)
    s = a.uncertainty
    assert s["method"] == "wilson" and s["n_boot"] == 0 and s["random_state"] == 5
    assert s["criteria"] == {}
    rows = a.by_group.set_index(["group", "metric"])
    # b's true positive rate is 10 of 30 actual positives
    want = _wilson_reference(10, 30, Z90)
    got = rows.loc[("b", "true_positive_rate"), ["ci_low", "ci_high"]].to_numpy(float)
    np.testing.assert_allclose(got, want, atol=1e-12)
    # a's precision is 40 of 50 predicted positives
    got = rows.loc[("a", "precision"), ["ci_low", "ci_high"]].to_numpy(float)
    np.testing.assert_allclose(got, _wilson_reference(40, 50, Z90), atol=1e-12)
    # no bootstrap: balanced accuracy and the bootstrap columns have no interval
    assert np.isnan(rows.loc[("a", "balanced_accuracy"), "ci_low"])
    assert rows["boot_low"].isna().all()
    disp = a.disparities.set_index("metric")
    assert disp["difference_ci_low"].isna().all()
    # selection rate: a 50/100 vs b 20/100, a z test on the hand-worked pooled proportion
    pooled = 70 / 200
    z = (0.5 - 0.2) / math.sqrt(pooled * (1 - pooled) * (2 / 100))
    assert disp.loc["selection_rate", "p_value"] == pytest.approx(2 * norm.sf(z), rel=1e-9)
    assert disp.loc["selection_rate", "is_distinguishable"] is True


def test_bootstrap_summary_and_criteria(two_groups):
    a = faircard.assess(two_groups, target="y", prediction="p", sensitive="g", n_boot=300,
                        random_state=1)
    s = a.uncertainty
    assert s["method"] == "wilson+bootstrap" and s["n_boot"] == 300
    crit = s["criteria"]["g"]
    assert set(crit) == {"demographic_parity_difference", "demographic_parity_ratio",
                         "equalized_odds_difference", "equalized_odds_ratio",
                         "equal_opportunity_difference", "equal_opportunity_ratio",
                         "disparate_impact_ratio"}
    # point values by hand: selection 0.5 vs 0.2; TPR 0.8 vs 1/3; FPR 0.2 vs 1/7
    point = {"demographic_parity_difference": 0.3, "demographic_parity_ratio": 0.4,
             "equal_opportunity_difference": 0.8 - 1 / 3,
             "equal_opportunity_ratio": (1 / 3) / 0.8,
             "equalized_odds_difference": max(0.8 - 1 / 3, 0.2 - 1 / 7),
             "equalized_odds_ratio": min((1 / 3) / 0.8, (1 / 7) / 0.2),
             "disparate_impact_ratio": 0.4}
    for name, value in point.items():
        lo, hi = crit[name]
        assert lo < value < hi, name
        assert hi - lo < 0.6, name
    rows = a.by_group.set_index(["group", "metric"])
    for g in ("a", "b"):
        for metric in ("balanced_accuracy", "f1", "selection_rate"):
            lo, hi, blo, bhi, v = rows.loc[(g, metric),
                                           ["ci_low", "ci_high", "boot_low", "boot_high",
                                            "value"]]
            assert blo < v < bhi, (g, metric)
            if metric != "selection_rate":  # not a proportion: the bootstrap is the interval
                assert (lo, hi) == (blo, bhi)
    assert np.isnan(rows.loc[("a", "count"), "boot_low"])
    disp = a.disparities.set_index("metric")
    for metric in ("selection_rate", "f1"):
        d = disp.loc[metric]
        assert d["difference_ci_low"] < d["difference"] < d["difference_ci_high"]
        assert d["ratio_ci_low"] < d["ratio"] < d["ratio_ci_high"]


def test_adverse_decision_disparate_impact_interval_uses_favourable_rates(two_groups):
    a = faircard.assess(two_groups, target="y", prediction="p", sensitive="g", n_boot=300,
                        random_state=1, favorable_outcome="negative")
    lo, hi = a.uncertainty["criteria"]["g"]["disparate_impact_ratio"]
    # favourable rates 0.5 and 0.8: ratio 0.625 (the selection-rate ratio would be 0.4)
    assert lo < 0.625 < hi
    assert lo > 0.45


def test_a_small_group_is_left_out_of_the_bootstrap_comparison_unless_included():
    df = pd.concat([_rows("a", tn=40, fp=10, fn=10, tp=40),
                    _rows("b", tn=60, fp=10, fn=20, tp=10),
                    _rows("tiny", tn=1, tp=2)], ignore_index=True)
    kw = dict(target="y", prediction="p", sensitive="g", n_boot=200, random_state=0)
    out = faircard.assess(df, **kw)
    lo, hi = out.uncertainty["criteria"]["g"]["demographic_parity_difference"]
    assert lo < 0.3 < hi and hi < 0.5
    rows = out.by_group.set_index(["group", "metric"])
    assert rows.loc[("tiny", "balanced_accuracy"), "is_unreliable"]
    assert rows.loc[("tiny", "balanced_accuracy"), "reliability"] == \
        "only 3 people (fewer than 30)"
    assert not rows.loc[("a", "balanced_accuracy"), "is_unreliable"]
    assert rows.loc[("a", "balanced_accuracy"), "reliability"] == ""
    inc = faircard.assess(df, include_small_groups=True, **kw)
    lo, hi = inc.uncertainty["criteria"]["g"]["demographic_parity_difference"]
    # with tiny (selection rate 2/3) in, the largest gap is tiny vs b: 2/3 - 0.2
    assert lo < 2 / 3 - 0.2 < hi


def test_one_group_only_has_no_criteria_interval():
    df = _rows("a", tn=40, fp=10, fn=10, tp=40)
    a = faircard.assess(df, target="y", prediction="p", sensitive="g", n_boot=50)
    assert a.uncertainty["criteria"] == {}
    assert a.disparities["difference_ci_low"].isna().all()
    assert a.disparities["p_value"].isna().all()
    # no p-value: neither distinguishable nor not
    assert a.disparities["is_distinguishable"].isna().all()
    # the one group still has its interval
    rows = a.by_group.set_index("metric")
    lo, hi = _wilson_reference(50, 100, norm.ppf(0.975))
    assert rows.loc["selection_rate", "ci_low"] == pytest.approx(lo, abs=1e-12)
    assert rows.loc["selection_rate", "ci_high"] == pytest.approx(hi, abs=1e-12)


def test_interval_of_reads_one_row_and_nan_when_absent(two_groups):
    a = faircard.assess(two_groups, target="y", prediction="p", sensitive="g", n_boot=0)
    lo, hi = u.interval_of(a, "g", "b", "true_positive_rate")
    want = _wilson_reference(10, 30, norm.ppf(0.975))
    assert (lo, hi) == (pytest.approx(want[0], abs=1e-12), pytest.approx(want[1], abs=1e-12))
    assert type(lo) is float
    assert all(math.isnan(x) for x in u.interval_of(a, "g", "zzz", "true_positive_rate"))


def test_describe_interval_rounds_percentages_of_the_values_themselves():
    assert u.describe_interval(0.9, 0.95) == "90%-95%"


def test_two_proportion_p_with_a_single_trial_is_a_fisher_test():
    assert u.two_proportion_p(1, 1, 2, 10) == pytest.approx(
        fisher_exact([[1, 0], [2, 8]]).pvalue, abs=1e-12)
    assert u.two_proportion_p(2, 10, 1, 1) == pytest.approx(
        fisher_exact([[2, 8], [1, 0]]).pvalue, abs=1e-12)


@pytest.mark.parametrize("k1, n1, k2, n2", [
    (2, 10, 20, 40),   # pooled 0.44: first group's expected successes 4.4, the rest >= 5
    (8, 10, 20, 40),   # pooled 0.56: first group's expected failures 4.4, the rest >= 5
    (20, 40, 2, 10),   # pooled 0.44: second group's expected successes 4.4, the rest >= 5
    (20, 40, 8, 10),   # pooled 0.56: second group's expected failures 4.4, the rest >= 5
])
def test_one_expected_count_below_five_is_enough_for_fisher(k1, n1, k2, n2):
    assert u.two_proportion_p(k1, n1, k2, n2) == pytest.approx(
        fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue, abs=1e-12)


def test_fisher_takes_expected_counts_summed_just_below_a_half_as_the_half():
    # under a randomised rule an expected count of 3.5 can be summed as 3.4999999999999996;
    # it is taken as 3.5 and rounded half to even (4 of 10, 6 failures), as 3.5 itself and
    # 3.5000000000000004 are: one table whatever the order the rows were added in
    want = fisher_exact([[4, 6], [8, 2]]).pvalue
    for k1 in (np.nextafter(3.5, 0.0), 3.5, np.nextafter(3.5, 4.0)):
        assert u.two_proportion_p(float(k1), 10, 8, 10) == pytest.approx(want, abs=1e-12)
    # the other table is a real difference here, so a count rounded unsnapped would show
    assert abs(fisher_exact([[3, 7], [8, 2]]).pvalue - want) > 0.01


def test_equalized_odds_has_no_interval_when_only_one_group_has_actual_positives():
    # group b has no actual positives: its true positive rate is undefined, so the gap in
    # true positive rates, and with it equalized odds (the larger of the two gaps), is
    # unknown; its interval is undefined too, not the false positive rates' interval
    df = pd.concat([_rows("a", tn=40, fp=10, fn=10, tp=40), _rows("b", tn=70, fp=30)],
                   ignore_index=True)
    a = faircard.assess(df, target="y", prediction="p", sensitive="g", n_boot=60,
                        random_state=4)
    crit = a.uncertainty["criteria"]["g"]
    for name in ("equalized_odds_difference", "equalized_odds_ratio",
                 "equal_opportunity_difference", "equal_opportunity_ratio"):
        assert np.isnan(crit[name]).all(), name
    # the gaps both groups have are still intervals: selection 50/100 against 30/100
    lo, hi = crit["demographic_parity_difference"]
    assert np.isfinite([lo, hi]).all() and lo < 0.2 < hi


def test_few_people_behind_a_rate_over_everyone_is_only_flagged_by_the_group_size():
    # min_group_size 5: a group of 7 is not small; its selection rate rests on all 7 people
    # and is not flagged, its true positive rate rests on 3 actual positives and is
    df = pd.concat([_rows("a", tn=40, fp=10, fn=10, tp=40),
                    _rows("seven", tn=3, fp=1, fn=1, tp=2)], ignore_index=True)
    a = faircard.assess(df, target="y", prediction="p", sensitive="g", n_boot=0,
                        min_group_size=5)
    rows = a.by_group.set_index(["group", "metric"])
    assert not rows.loc[("seven", "selection_rate"), "is_unreliable"]
    assert rows.loc[("seven", "selection_rate"), "reliability"] == ""
    assert rows.loc[("seven", "true_positive_rate"), "reliability"] == \
        "only 3 actual positives behind this rate"


# ------------------------------------------- estimate_uncertainty against an independent resampling
# Two features and their intersection, a small group (c: 10 people under min_group_size 20)
# and an intersection cell without actual positives (c & x). The documented draw scheme: each
# intersection cell (sorted by feature values) keeps its size and its (TN, FP, FN, TP) are drawn
# with one ``rng.multinomial(sizes, proportions, size=(n_boot, n_cells))`` call of
# ``np.random.default_rng(random_state)``; a group's replicate is the sum of its cells'.

ORACLE_CELLS = {("a", "x"): (12, 5, 4, 14), ("a", "y"): (9, 3, 6, 10),
                ("b", "x"): (20, 2, 8, 5), ("b", "y"): (15, 6, 3, 9),
                ("c", "x"): (3, 1, 0, 0), ("c", "y"): (2, 2, 1, 1)}
ORACLE_MIN_SIZE = 20
ORACLE_BOOT = 40
ORACLE_LEVEL = 0.9
# metric -> (numerator, denominator) as functions of tn, fp, fn, tp; "people" is everyone
ORACLE_RATES = {
    "selection_rate": (lambda tn, fp, fn, tp: tp + fp, lambda tn, fp, fn, tp: tn + fp + fn + tp),
    "accuracy": (lambda tn, fp, fn, tp: tp + tn, lambda tn, fp, fn, tp: tn + fp + fn + tp),
    "prevalence": (lambda tn, fp, fn, tp: tp + fn, lambda tn, fp, fn, tp: tn + fp + fn + tp),
    "precision": (lambda tn, fp, fn, tp: tp, lambda tn, fp, fn, tp: tp + fp),
    "false_discovery_rate": (lambda tn, fp, fn, tp: fp, lambda tn, fp, fn, tp: tp + fp),
    "true_positive_rate": (lambda tn, fp, fn, tp: tp, lambda tn, fp, fn, tp: tp + fn),
    "false_negative_rate": (lambda tn, fp, fn, tp: fn, lambda tn, fp, fn, tp: tp + fn),
    "false_positive_rate": (lambda tn, fp, fn, tp: fp, lambda tn, fp, fn, tp: fp + tn),
    "true_negative_rate": (lambda tn, fp, fn, tp: tn, lambda tn, fp, fn, tp: fp + tn),
    "negative_predictive_value": (lambda tn, fp, fn, tp: tn, lambda tn, fp, fn, tp: tn + fn),
    "false_omission_rate": (lambda tn, fp, fn, tp: fn, lambda tn, fp, fn, tp: tn + fn),
}
ORACLE_DENOMINATOR = {"selection_rate": "people", "accuracy": "people", "prevalence": "people",
                      "precision": "predicted positives",
                      "false_discovery_rate": "predicted positives",
                      "true_positive_rate": "actual positives",
                      "false_negative_rate": "actual positives",
                      "false_positive_rate": "actual negatives",
                      "true_negative_rate": "actual negatives",
                      "negative_predictive_value": "predicted negatives",
                      "false_omission_rate": "predicted negatives"}


def _oracle_frame():
    parts = []
    for (g, h), (tn, fp, fn, tp) in ORACLE_CELLS.items():
        y = [0] * tn + [0] * fp + [1] * fn + [1] * tp
        p = [0] * tn + [1] * fp + [0] * fn + [1] * tp
        parts.append(pd.DataFrame({"g": g, "h": h, "y": y, "p": p}))
    # shuffled, so that the cell order is the module's business, not the row order's
    return pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=7)


def _nan_div(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / b, np.nan)


def _oracle_metric(metric, c):
    tn, fp, fn, tp = (np.asarray(c, float)[..., i] for i in range(4))
    if metric in ORACLE_RATES:
        num, den = ORACLE_RATES[metric]
        return _nan_div(num(tn, fp, fn, tp), den(tn, fp, fn, tp))
    if metric == "balanced_accuracy":
        return (_nan_div(tp, tp + fn) + _nan_div(tn, tn + fp)) / 2
    if metric == "f1":
        return _nan_div(2 * tp, 2 * tp + fp + fn)
    raise KeyError(metric)


def _oracle_percentile(samples, level):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(samples, [50 * (1 - level), 50 * (1 + level)], axis=0)


def _oracle_pair(values, point, included):
    """Per replicate, the gap between the two included groups furthest apart in the data
    (the first of tied ones), signed as observed: (higher minus lower, lower over higher)."""
    ok = [i for i in range(len(point)) if included[i] and not np.isnan(point[i])]
    if len(ok) < 2:
        nan = np.full(len(values), np.nan)
        return nan, nan
    low = min(ok, key=lambda i: (point[i], i))
    high = max(ok, key=lambda i: (point[i], -i))
    if low == high:
        high = ok[-1]
    with np.errstate(all="ignore"):
        ratio = values[:, low] / values[:, high]
    return values[:, high] - values[:, low], np.where(np.isfinite(ratio), ratio, np.nan)


def _oracle_gap(point, included):
    """(max - min, min / max) of the included defined values, NaN when none."""
    v = [x for x, inc in zip(point, included, strict=True) if inc and not np.isnan(x)]
    return (max(v) - min(v), min(v) / max(v) if max(v) else np.nan) if v else (np.nan, np.nan)


def _oracle_groups():
    """feature -> {group label: summed counts, and the list of its cells' positions}."""
    keys = sorted(ORACLE_CELLS)
    out = {"g": {}, "h": {}, "g & h": {}}
    for pos, (g, h) in enumerate(keys):
        for feature, label in (("g", g), ("h", h), ("g & h", f"{g} & {h}")):
            out[feature].setdefault(label, []).append(pos)
    return keys, out


# function-scoped on purpose: mutmut maps a test to the code it runs, and a module-scoped
# fixture's call would be counted for the first test only
@pytest.fixture(params=[("positive", False, 3), ("negative", True, 11)],
                ids=["favourable-positive", "adverse-with-small-groups"])
def oracle_case(request):
    favorable, include_small, seed = request.param
    a = faircard.assess(_oracle_frame(), target="y", prediction="p", sensitive=["g", "h"],
                        n_boot=ORACLE_BOOT, confidence=ORACLE_LEVEL, random_state=seed,
                        min_group_size=ORACLE_MIN_SIZE, include_small_groups=include_small,
                        favorable_outcome=favorable)
    keys, groups = _oracle_groups()
    cells = np.array([ORACLE_CELLS[k] for k in keys], float)
    sizes = cells.sum(axis=1).astype(np.int64)
    reps = np.random.default_rng(seed).multinomial(
        sizes, cells / sizes[:, None], size=(ORACLE_BOOT, len(sizes)))
    return a, favorable, include_small, seed, cells, groups, reps


def test_estimate_uncertainty_per_group_intervals_match_an_independent_resampling(oracle_case):
    from statsmodels.stats.proportion import proportion_confint

    a, favorable, include_small, seed, cells, groups, reps = oracle_case
    bg = a.by_group
    assert list(bg.columns[-6:]) == list(u.BY_GROUP_COLUMNS)
    seen = 0
    for i, row in enumerate(bg.itertuples()):
        positions = groups[row.feature][row.group]
        counts = cells[positions].sum(axis=0)
        n_people = int(counts.sum())
        small = n_people < ORACLE_MIN_SIZE
        lo, hi, blo, bhi = (bg.iloc[i][c] for c in ("ci_low", "ci_high", "boot_low", "boot_high"))
        if row.metric == "count":
            assert np.isnan([lo, hi, blo, bhi]).all()
        else:
            want_b = _oracle_percentile(_oracle_metric(row.metric, reps[:, positions].sum(axis=1)),
                                        ORACLE_LEVEL)
            np.testing.assert_allclose([blo, bhi], want_b, rtol=0, atol=1e-12, equal_nan=True,
                                       err_msg=f"{row.feature} {row.group} {row.metric}")
            if row.metric in ORACLE_RATES:
                num, den = ORACLE_RATES[row.metric]
                k, n = num(*counts), den(*counts)
                want = (np.array(proportion_confint(k, n, alpha=1 - ORACLE_LEVEL,
                                                    method="wilson"))
                        if n > 0 else np.array([np.nan, np.nan]))
                np.testing.assert_allclose([lo, hi], want, rtol=0, atol=1e-12, equal_nan=True,
                                           err_msg=f"{row.feature} {row.group} {row.metric}")
            else:
                np.testing.assert_array_equal([lo, hi], [blo, bhi])
            seen += 1
        # reliability: a small group first, then few people behind a rate (not everyone)
        if small:
            want_flag = f"only {n_people} people (fewer than {ORACLE_MIN_SIZE})"
        elif row.metric in ORACLE_RATES and ORACLE_DENOMINATOR[row.metric] != "people" \
                and ORACLE_RATES[row.metric][1](*counts) < u.MIN_DENOMINATOR:
            want_flag = (f"only {int(ORACLE_RATES[row.metric][1](*counts))} "
                         f"{ORACLE_DENOMINATOR[row.metric]} behind this rate")
        else:
            want_flag = ""
        assert bg.iloc[i]["reliability"] == want_flag, (row.feature, row.group, row.metric)
        assert bg.iloc[i]["is_unreliable"] == (want_flag != ""), (row.feature, row.group)
    assert seen == 11 * 13


def test_estimate_uncertainty_disparity_and_criteria_intervals_match_an_independent_resampling(
        oracle_case):
    a, favorable, include_small, seed, cells, groups, reps = oracle_case
    disp = a.disparities
    assert set(disp["feature"]) == {"g", "h", "g & h"}
    for feature, members in groups.items():
        labels = sorted(members)
        sizes = np.array([cells[members[g]].sum() for g in labels])
        included = np.ones(len(labels), bool) if include_small else sizes >= ORACLE_MIN_SIZE
        group_reps = np.stack([reps[:, members[g]].sum(axis=1) for g in labels], axis=1)
        rows = disp[disp["feature"] == feature]
        point_counts = np.stack([cells[members[g]].sum(axis=0) for g in labels])
        for _, d in rows.iterrows():
            values = _oracle_metric(d["metric"], group_reps)
            # the gap between the two groups furthest apart in the data, signed as observed
            worst, best = d["worst_group"], d["best_group"]
            if not (isinstance(worst, str) and isinstance(best, str)):
                diff = ratio = np.full(len(values), np.nan)
            elif worst == best:  # tied: any two tied groups (none in these cases)
                continue
            else:
                point = _oracle_metric(d["metric"], point_counts)
                i, j = labels.index(worst), labels.index(best)
                high, low = (i, j) if point[i] >= point[j] else (j, i)
                with np.errstate(all="ignore"):
                    diff, ratio = values[:, high] - values[:, low], values[:, low] / values[:, high]
                ratio = np.where(np.isfinite(ratio), ratio, np.nan)
            np.testing.assert_allclose(
                d[["difference_ci_low", "difference_ci_high", "ratio_ci_low",
                   "ratio_ci_high"]].to_numpy(float),
                np.concatenate([_oracle_percentile(diff, ORACLE_LEVEL),
                                _oracle_percentile(ratio, ORACLE_LEVEL)]),
                rtol=0, atol=1e-12, equal_nan=True, err_msg=f"{feature} {d['metric']}")
        # each criterion: the gap between the two groups it compares in the data, signed as
        # observed (the disparities' way), never the replicates' own max - min (>= 0)
        def pair(metric, flip=False, group_reps=group_reps, point_counts=point_counts,
                 included=included):
            values = _oracle_metric(metric, group_reps)
            point = _oracle_metric(metric, point_counts)
            if flip:
                values, point = 1 - values, 1 - point
            return _oracle_pair(values, point, included), _oracle_gap(point, included)

        (sr_d, sr_r), _ = pair("selection_rate")
        (_, di_r), _ = pair("selection_rate", flip=favorable == "negative")
        (tpr_d, tpr_r), (tpr_gap, tpr_ratio) = pair("true_positive_rate")
        (fpr_d, fpr_r), (fpr_gap, fpr_ratio) = pair("false_positive_rate")
        tpr_leads = np.isnan(fpr_gap) or (not np.isnan(tpr_gap) and tpr_gap >= fpr_gap)
        tpr_lowest = np.isnan(fpr_ratio) or (not np.isnan(tpr_ratio) and tpr_ratio <= fpr_ratio)
        want = {"demographic_parity_difference": sr_d,
                "demographic_parity_ratio": sr_r,
                "equalized_odds_difference": tpr_d if tpr_leads else fpr_d,
                "equalized_odds_ratio": tpr_r if tpr_lowest else fpr_r,
                "equal_opportunity_difference": tpr_d,
                "equal_opportunity_ratio": tpr_r,
                "disparate_impact_ratio": di_r}
        got = a.uncertainty["criteria"][feature]
        assert set(got) == set(want)
        for name, samples in want.items():
            assert all(type(x) is float for x in got[name])
            np.testing.assert_allclose(got[name], _oracle_percentile(samples, ORACLE_LEVEL),
                                       rtol=0, atol=1e-12, equal_nan=True,
                                       err_msg=f"{feature} {name}")
    s = a.uncertainty
    assert (s["method"], s["n_boot"], s["confidence"], s["random_state"]) == \
        ("wilson+bootstrap", ORACLE_BOOT, ORACLE_LEVEL, seed)
    assert s["test"] == ("Fisher's exact (small expected counts) or two-proportion z; "
                         "Holm-adjusted, a rate and its complement counted once")


def test_estimate_uncertainty_p_values_against_scipy_and_holm_against_statsmodels(oracle_case):
    from scipy.stats import fisher_exact as fisher

    a, favorable, include_small, seed, cells, groups, reps = oracle_case
    disp = a.disparities
    assert list(disp.columns[-7:]) == list(u.DISPARITY_COLUMNS)
    want_p = []
    for _, d in disp.iterrows():
        worst, best = d["worst_group"], d["best_group"]
        if d["metric"] not in ORACLE_RATES or not isinstance(worst, str) or worst == best:
            want_p.append(np.nan)
            continue
        num, den = ORACLE_RATES[d["metric"]]
        cw = cells[groups[d["feature"]][worst]].sum(axis=0)
        cb = cells[groups[d["feature"]][best]].sum(axis=0)
        k1, n1, k2, n2 = num(*cw), den(*cw), num(*cb), den(*cb)
        pooled = (k1 + k2) / (n1 + n2)
        expected = [n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)]
        if min(expected) < 5:
            want_p.append(fisher([[k1, n1 - k1], [k2, n2 - k2]]).pvalue)
        else:
            z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
            want_p.append(2 * norm.sf(abs(z)))
    want_p = np.array(want_p)
    np.testing.assert_allclose(disp["p_value"].to_numpy(float), want_p, rtol=1e-10, atol=0,
                               equal_nan=True)
    ok = ~np.isnan(want_p)
    assert ok.sum() >= 20 and (~ok).sum() >= 6  # balanced accuracy and F1 have no test
    want_adj = holm_once_per_hypothesis(disp)  # a rate and its complement count once
    np.testing.assert_allclose(disp["p_adjusted"].to_numpy(float), want_adj, rtol=1e-10,
                               equal_nan=True)
    want_dist = [None if np.isnan(p) else bool(p < 1 - ORACLE_LEVEL) for p in want_adj]
    assert disp["is_distinguishable"].tolist() == want_dist
    assert disp["is_distinguishable"].dtype == object


def test_estimate_uncertainty_leaves_its_inputs_alone_and_follows_their_index():
    a = faircard.assess(_oracle_frame(), target="y", prediction="p", sensitive=["g", "h"],
                        n_boot=30, confidence=ORACLE_LEVEL, random_state=4,
                        min_group_size=ORACLE_MIN_SIZE)
    base = [c for c in a.disparities.columns if c not in u.DISPARITY_COLUMNS]
    bg = a.by_group.drop(columns=list(u.BY_GROUP_COLUMNS)).iloc[::-1]
    bg.index = bg.index + 1000
    disp = a.disparities[base].iloc[::-1]
    disp.index = disp.index * 3 + 7
    bg_before, disp_before = bg.copy(), disp.copy()
    out = u.estimate_uncertainty(a.cube, a.spec, a.counts, bg, disp, 30, ORACLE_LEVEL, 4)
    pd.testing.assert_frame_equal(bg, bg_before)
    pd.testing.assert_frame_equal(disp, disp_before)
    assert out.by_group.index.equals(bg.index)
    assert out.disparities.index.equals(disp.index)
    assert list(out.by_group.columns) == list(u.BY_GROUP_COLUMNS)
    assert list(out.disparities.columns) == list(u.DISPARITY_COLUMNS)
    want_bg = a.by_group[list(u.BY_GROUP_COLUMNS)].iloc[::-1].set_axis(bg.index)
    pd.testing.assert_frame_equal(out.by_group, want_bg)
    want_disp = a.disparities[list(u.DISPARITY_COLUMNS)].iloc[::-1].set_axis(disp.index)
    pd.testing.assert_frame_equal(out.disparities, want_disp)
    assert out.summary == a.uncertainty


def test_estimate_uncertainty_unseeded_summary_and_wilson_only_types():
    a = faircard.assess(_oracle_frame(), target="y", prediction="p", sensitive=["g"],
                        n_boot=3, random_state=None, min_group_size=ORACLE_MIN_SIZE)
    assert a.uncertainty["random_state"] is None and a.uncertainty["n_boot"] == 3
    w = faircard.assess(_oracle_frame(), target="y", prediction="p", sensitive=["g"],
                        n_boot=0, min_group_size=ORACLE_MIN_SIZE)
    s = w.uncertainty
    assert type(s["n_boot"]) is int and type(s["confidence"]) is float
    assert s["method"] == "wilson" and s["criteria"] == {}
    assert w.by_group["is_unreliable"].dtype == bool
    assert w.by_group[["boot_low", "boot_high"]].isna().all().all()
    d = w.disparities
    assert d[["difference_ci_low", "difference_ci_high", "ratio_ci_low",
              "ratio_ci_high"]].isna().all().all()


def _one_feature(**groups):
    return pd.concat([_rows(g, **c) for g, c in groups.items()], ignore_index=True)


def test_estimate_uncertainty_reads_the_counted_cells_only():
    a = faircard.assess(_oracle_frame(), target="y", prediction="p", sensitive=["g", "h"],
                        n_boot=20, min_group_size=ORACLE_MIN_SIZE)
    assert a.cube.index.cell.size == 0 and a.cube.scores is None  # no row in the cube
    bg = a.by_group.drop(columns=list(u.BY_GROUP_COLUMNS))
    disp = a.disparities.drop(columns=list(u.DISPARITY_COLUMNS))
    out = u.estimate_uncertainty(a.cube, a.spec, a.counts, bg, disp, 20, 0.95, 0)
    pd.testing.assert_frame_equal(out.by_group, a.by_group[list(u.BY_GROUP_COLUMNS)])


def test_estimate_uncertainty_with_one_replicate_reports_that_replicate():
    df = _one_feature(a=dict(tn=20, fp=10, fn=5, tp=15), b=dict(tn=25, fp=5, fn=10, tp=10))
    a = faircard.assess(df, target="y", prediction="p", sensitive="g", n_boot=1,
                        random_state=2, min_group_size=10)
    assert a.uncertainty["method"] == "wilson+bootstrap" and a.uncertainty["n_boot"] == 1
    cells = np.array([[20, 10, 5, 15], [25, 5, 10, 10]], float)
    rep = np.random.default_rng(2).multinomial([50, 50], cells / 50, size=(1, 2))[0]
    rows = a.by_group.set_index(["group", "metric"])
    for i, g in enumerate(("a", "b")):
        want = _oracle_metric("selection_rate", rep[i])
        assert rows.loc[(g, "selection_rate"), "boot_low"] == pytest.approx(want, abs=1e-12)
        assert rows.loc[(g, "selection_rate"), "boot_high"] == pytest.approx(want, abs=1e-12)


def test_estimate_uncertainty_columns_not_computed_are_float_nan():
    a = faircard.assess(_rows("a", tn=40, fp=10, fn=10, tp=40), target="y", prediction="p",
                        sensitive="g", n_boot=0)
    for col in ("difference_ci_low", "difference_ci_high", "ratio_ci_low", "ratio_ci_high",
                "p_value", "p_adjusted"):
        assert a.disparities[col].dtype == np.float64, col
        assert a.disparities[col].isna().all(), col
    assert a.disparities["is_distinguishable"].isna().all()


def test_reliability_flags_at_exactly_the_minimum_group_size_and_denominator():
    # "edge": exactly 30 people (the minimum) and exactly 10 actual positives
    # (MIN_DENOMINATOR): neither is flagged; "under": 29 people and 9 actual negatives: both are
    df = _one_feature(big=dict(tn=40, fp=10, fn=10, tp=40),
                      edge=dict(tn=15, fp=5, fn=4, tp=6),
                      under=dict(tn=5, fp=4, fn=10, tp=10))
    a = faircard.assess(df, target="y", prediction="p", sensitive="g", n_boot=0,
                        min_group_size=30)
    assert u.MIN_DENOMINATOR == 10
    rows = a.by_group.set_index(["group", "metric"])
    assert not rows.loc[("edge", "true_positive_rate"), "is_unreliable"]
    assert rows.loc[("edge", "true_positive_rate"), "reliability"] == ""
    assert not rows.loc[("edge", "balanced_accuracy"), "is_unreliable"]
    assert rows.loc[("under", "balanced_accuracy"), "reliability"] == \
        "only 29 people (fewer than 30)"
    b = faircard.assess(df, target="y", prediction="p", sensitive="g", n_boot=0,
                        min_group_size=29)
    rows = b.by_group.set_index(["group", "metric"])
    assert rows.loc[("under", "true_positive_rate"), "reliability"] == ""
    assert rows.loc[("under", "false_positive_rate"), "reliability"] == \
        "only 9 actual negatives behind this rate"


def test_a_disparity_is_distinguishable_only_below_the_significance_level():

    df = _one_feature(a=dict(tn=28, fp=25, fn=25, tp=37), b=dict(tn=16, fp=34, fn=29, tp=8))
    kw = dict(target="y", prediction="p", sensitive="g", n_boot=0)
    first = faircard.assess(df, **kw)
    p = first.disparities["p_value"].to_numpy(float)
    ok = ~np.isnan(p)
    adjusted = first.disparities["p_adjusted"].to_numpy(float)
    np.testing.assert_allclose(adjusted, holm_once_per_hypothesis(first.disparities),
                               rtol=1e-12)
    # a level whose alpha is exactly one of the adjusted p-values, in floating point
    exact = [q for q in adjusted[ok] if 0 < q <= 0.5 and 1 - (1 - q) == q]
    if not exact:  # the last bits of scipy's p-values may differ between its versions
        pytest.skip(f"no adjusted p-value here is exactly 1 - (1 - q): {adjusted[ok]}")
    q = exact[0]
    a = faircard.assess(df, confidence=1 - q, **kw)
    got = a.disparities["p_adjusted"].to_numpy(float)
    flags = a.disparities["is_distinguishable"].tolist()
    for value, flag in zip(got, flags, strict=True):
        assert flag is (None if np.isnan(value) else bool(value < q))
    assert any(value == q and flag is False for value, flag in zip(got, flags, strict=True))
    assert any(flag is True for flag in flags)


# ------------------------------------------- Holm over distinct hypotheses (de-duplicated)

def _family_holm(p, keys):
    """statsmodels' Holm over the de-duplicated family: each key counted once, with the p-value
    of its first row whose p-value is a number; rows without a key (None) each their own
    hypothesis; NaN rows stay NaN and do not count."""
    from statsmodels.stats.multitest import multipletests

    owner, family = [], {}
    for i, (pi, k) in enumerate(zip(p, keys, strict=True)):
        if np.isnan(pi):
            owner.append(None)
            continue
        k = ("row", i) if k is None else ("key", k)
        family.setdefault(k, pi)
        owner.append(k)
    names = list(family)
    adj = dict(zip(names, multipletests([family[k] for k in names], method="holm")[1],
                   strict=True)) if names else {}
    return np.array([np.nan if k is None else adj[k] for k in owner])


def test_a_rate_and_its_complement_are_one_hypothesis_and_nothing_else_is():
    from tests.conftest import COMPLEMENTS

    rates = list(u.PROPORTIONS)
    for a in rates:
        for b in rates:
            same = a == b or COMPLEMENTS.get(a) == b
            assert (u.hypothesis_key("sex", a, "f", "m") == u.hypothesis_key("sex", b, "m", "f")) \
                == same, (a, b)
    key = u.hypothesis_key("sex", "precision", "f", "m")
    assert key == u.hypothesis_key("sex", "false_discovery_rate", "m", "f")
    assert key != u.hypothesis_key("race", "precision", "f", "m")
    assert key != u.hypothesis_key("sex", "precision", "f", "x")
    assert hash(key) == hash(u.hypothesis_key("sex", "false_discovery_rate", "m", "f"))
    for metric in ("balanced_accuracy", "f1", "count", "roc_auc"):
        assert u.hypothesis_key("sex", metric, "f", "m") is None


@pytest.mark.parametrize("seed", range(6))
def test_holm_over_distinct_hypotheses_equals_statsmodels_on_the_de_duplicated_family(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 14))
    pool = [("f", "tpr"), ("f", "fpr"), ("g", "tpr"), ("g", "sel")]
    keys = [None if rng.random() < 0.3 else pool[rng.integers(len(pool))] for _ in range(n)]
    p = rng.choice([0.001, 0.01, 0.02, 0.04, 0.3, 0.8], n) * rng.uniform(0.9, 1.1, n)
    p[rng.random(n) < 0.2] = np.nan
    got = u.holm_by_hypothesis(p, keys)
    np.testing.assert_allclose(got, _family_holm(p, keys), rtol=1e-12, equal_nan=True)


def test_holm_over_distinct_hypotheses_by_hand():
    from statsmodels.stats.multitest import multipletests

    # rows 0 and 2 share a key: the family is {0.01 (key a), 0.04 (None), 0.03 (key b)}; row 2's
    # own p-value 0.5 is not counted, and it gets key a's adjusted value
    p = np.array([0.01, 0.04, 0.5, 0.03, np.nan])
    keys = ["a", None, "a", "b", "b"]
    want = multipletests([0.01, 0.04, 0.03], method="holm")[1]
    np.testing.assert_allclose(u.holm_by_hypothesis(p, keys),
                               [want[0], want[1], want[0], want[2], np.nan])
    # a key's first row without a p-value does not own it: the next row does
    p = np.array([np.nan, 0.02, 0.02, 0.01])
    keys = ["a", "a", None, None]
    want = multipletests([0.02, 0.02, 0.01], method="holm")[1]
    np.testing.assert_allclose(u.holm_by_hypothesis(p, keys), [np.nan, *want])
    # rows without a key are never merged, even with equal p-values
    np.testing.assert_allclose(u.holm_by_hypothesis([0.02, 0.02], [None, None]),
                               multipletests([0.02, 0.02], method="holm")[1])
    assert u.holm_by_hypothesis(np.array([]), []).shape == (0,)
    np.testing.assert_allclose(u.holm_by_hypothesis([None, 0.02, 0.01], ["a", "a", None]),
                               [np.nan, *multipletests([0.02, 0.01], method="holm")[1]])
    assert np.isnan(u.holm_by_hypothesis([np.nan, np.nan], ["a", "a"])).all()


def test_rows_of_one_hypothesis_share_its_first_p_value():
    p = np.array([0.2, np.nan, 0.3, 0.25, 0.5, 0.7, 0.9])
    keys = ["a", "a", "a", None, "b", None, "b"]
    got = u._shared_p(p, keys)
    np.testing.assert_array_equal(got, [0.2, np.nan, 0.2, 0.25, 0.5, 0.7, 0.5])
    assert got.dtype == np.float64
    assert p[2] == 0.3  # the input is left alone
    # the first row with a number owns the key
    np.testing.assert_array_equal(u._shared_p([np.nan, 0.4, 0.1], ["k", "k", "k"]),
                                  [np.nan, 0.4, 0.4])
    np.testing.assert_array_equal(u._shared_p([1, 0], [None, None]), [1.0, 0.0])
    # p-values from an object column: None is a missing p-value, as for holm
    np.testing.assert_array_equal(u._shared_p([None, 0.3, 0.1], ["k", "k", "k"]),
                                  [np.nan, 0.3, 0.3])


def test_a_rate_and_its_complement_show_one_p_value_to_the_last_bit():
    """Fisher's test of a table and of its mirror image (successes and failures swapped) can
    differ in the last bit; a rate and its complement are one hypothesis and show one p-value,
    the rate's own, and one adjusted p-value."""
    df = _one_feature(a=dict(tn=20, fp=5, fn=10, tp=0), b=dict(tn=18, fp=9, fn=4, tp=6))
    own, mirror = fisher_exact([[0, 10], [6, 4]]).pvalue, fisher_exact([[10, 0], [4, 6]]).pvalue
    if own == mirror:  # the last bits of scipy's p-values may differ between its versions
        pytest.skip("scipy gives the table and its mirror the same p-value here")
    a = faircard.assess(df, target="y", prediction="p", sensitive="g", n_boot=0,
                        min_group_size=0)
    d = a.disparities.set_index("metric")
    for rate, complement in (("true_positive_rate", "false_negative_rate"),
                             ("false_positive_rate", "true_negative_rate"),
                             ("precision", "false_discovery_rate"),
                             ("negative_predictive_value", "false_omission_rate")):
        assert d.loc[rate, "p_value"] == d.loc[complement, "p_value"], rate
        assert d.loc[rate, "p_adjusted"] == d.loc[complement, "p_adjusted"], rate
    assert d.loc["true_positive_rate", "p_value"] in (own, mirror)


def test_the_same_two_group_names_under_two_features_are_two_hypotheses():
    """Features g and h both have groups x and y: their rows of one metric compare different
    people, so each keeps its own p-value (scipy on its own table) and counts in Holm's family
    (statsmodels over the distinct hypotheses)."""
    rows = []
    for gx, hx, c in (("x", "x", dict(tn=12, fp=3, fn=2, tp=9)),
                      ("x", "y", dict(tn=5, fp=8, fn=6, tp=4)),
                      ("y", "x", dict(tn=9, fp=2, fn=7, tp=3)),
                      ("y", "y", dict(tn=4, fp=6, fn=1, tp=11))):
        part = _rows(gx, **c)
        part["h"] = hx
        rows.append(part)
    df = pd.concat(rows, ignore_index=True)
    a = faircard.assess(df, target="y", prediction="p", sensitive=["g", "h"], n_boot=0,
                        min_group_size=0, intersection=False)
    d = a.disparities.set_index(["feature", "metric"])
    for feature in ("g", "h"):  # true positive rates of x and y, counted from the rows
        sub = df[df[feature] == "x"], df[df[feature] == "y"]
        k = [int(((s["y"] == 1) & (s["p"] == 1)).sum()) for s in sub]
        n = [int((s["y"] == 1).sum()) for s in sub]
        pooled = sum(k) / sum(n)
        if min(min(x * pooled, x * (1 - pooled)) for x in n) < 5:
            want = fisher_exact([[k[0], n[0] - k[0]], [k[1], n[1] - k[1]]]).pvalue
        else:
            z = (k[0] / n[0] - k[1] / n[1]) / math.sqrt(pooled * (1 - pooled)
                                                      * (1 / n[0] + 1 / n[1]))
            want = 2 * norm.sf(abs(z))
        assert d.loc[(feature, "true_positive_rate"), "p_value"] == pytest.approx(want, rel=1e-12)
    assert d.loc[("g", "true_positive_rate"), "p_value"] != \
        pytest.approx(d.loc[("h", "true_positive_rate"), "p_value"])
    np.testing.assert_allclose(a.disparities["p_adjusted"].to_numpy(float),
                               holm_once_per_hypothesis(a.disparities), rtol=1e-12,
                               equal_nan=True)


def _tpr_gap_case(cells, n_boot, seed):
    """The true positive rate's disparity row of one feature with groups of these cells
    (tn, fp, fn, tp), the groups' rates, and their replicates by a NumPy resampling written
    here (one multinomial draw per group and replicate, seeded as the assessment)."""
    df = _one_feature(**{g: dict(zip(("tn", "fp", "fn", "tp"), c, strict=True))
                         for g, c in cells.items()})
    a = faircard.assess(df, target="y", prediction="p", sensitive="g", n_boot=n_boot,
                        confidence=ORACLE_LEVEL, random_state=seed, min_group_size=0)
    counts = np.array(list(cells.values()), float)
    sizes = counts.sum(axis=1).astype(np.int64)
    reps = np.random.default_rng(seed).multinomial(sizes, counts / sizes[:, None],
                                                   size=(n_boot, len(cells)))
    return (a.disparities.set_index("metric").loc["true_positive_rate"],
            _oracle_metric("true_positive_rate", counts),
            _oracle_metric("true_positive_rate", reps))


def _assert_gap_interval(d, tpr, high, low):
    want = np.concatenate([_oracle_percentile(tpr[:, high] - tpr[:, low], ORACLE_LEVEL),
                           _oracle_percentile(tpr[:, low] / tpr[:, high], ORACLE_LEVEL)])
    np.testing.assert_allclose(d[["difference_ci_low", "difference_ci_high", "ratio_ci_low",
                                  "ratio_ci_high"]].to_numpy(float), want, rtol=0, atol=1e-12)


def test_the_interval_of_a_gap_is_that_of_the_two_groups_the_row_names_when_groups_tie():
    """b and c tie at the highest true positive rate (0.6), a is lowest: the row names a and
    b (the first of the tied groups, as for an untied maximum), and its p-value compares a
    and b; the interval of the gap and of the ratio is that of b against a too."""
    d, point, tpr = _tpr_gap_case({"a": (30, 10, 12, 8), "b": (25, 15, 8, 12),
                                   "c": (20, 5, 16, 24)}, n_boot=60, seed=5)
    assert (d["worst_group"], d["best_group"]) == ("a", "b")
    assert point[1] == point[2] > point[0]  # the tie
    _assert_gap_interval(d, tpr, high=1, low=0)


@pytest.mark.parametrize("names", [("a", "b"), ("a", "b", "c")])
def test_the_interval_of_a_gap_of_zero_is_that_of_the_first_and_the_last_group(names):
    """Every group has a true positive rate of 0.4: the gap is 0 and any two groups are the
    furthest apart; the interval is that of the last group against the first (never of a
    group against itself, which would be [0, 0])."""
    base = [(30, 10, 12, 8), (25, 15, 6, 4), (20, 5, 18, 12)]
    d, point, tpr = _tpr_gap_case(dict(zip(names, base, strict=False)), n_boot=50, seed=9)
    assert np.all(point == 0.4)
    _assert_gap_interval(d, tpr, high=-1, low=0)
    assert d["difference_ci_low"] < 0 < d["difference_ci_high"]
