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


def test_between_ignores_excluded_groups_per_replicate():
    values = np.array([[0.2, 0.5, 0.9], [0.4, 0.1, 0.0], [np.nan, 0.5, 0.3]])
    diff, ratio = u._between(values, np.array([True, True, False]))
    np.testing.assert_allclose(diff, [0.3, 0.3, 0.0])
    np.testing.assert_allclose(ratio, [0.4, 0.25, 1.0])
    diff, ratio = u._between(values, np.array([False, False, False]))
    assert np.isnan(diff).all() and np.isnan(ratio).all()
    # every included group at 0: ratio 0/0 is NaN, without a warning (warnings fail tests)
    diff, ratio = u._between(np.array([[0.0, 0.0, 0.5]]), np.array([True, True, False]))
    assert diff[0] == 0.0 and np.isnan(ratio[0])


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
