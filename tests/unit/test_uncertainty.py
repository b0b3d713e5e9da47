"""Intervals: coverage by simulation, agreement with fairlearn's bootstrap, edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.metrics import metrics_from_counts
from faircard.uncertainty import (
    _pair_between,
    _percentile,
    bootstrap_cell_counts,
    holm,
    two_proportion_p,
    wilson_interval,
)
from tests.conftest import COMPLEMENTS, holm_once_per_hypothesis, make_dataset

D = 1500  # simulated datasets per scenario: Monte Carlo SE of a 95% coverage is about 0.6%


def _simulate_cells(rng, n, p_y, p_pred_given_y):
    """D datasets of one group: confusion counts [tn, fp, fn, tp] from known rates."""
    p = np.array([(1 - p_y) * (1 - p_pred_given_y[0]), (1 - p_y) * p_pred_given_y[0],
                  p_y * (1 - p_pred_given_y[1]), p_y * p_pred_given_y[1]])
    return rng.multinomial(n, p, size=D), p


@pytest.mark.parametrize("n", [40, 400])
def test_wilson_coverage_for_a_rate(n):
    rng = np.random.default_rng(1)
    cells, p = _simulate_cells(rng, n, 0.4, (0.2, 0.7))
    truth = p[1] + p[3]  # selection rate
    lo, hi = wilson_interval(cells[:, 1] + cells[:, 3], cells.sum(axis=1), 0.95)
    coverage = np.mean((lo <= truth) & (truth <= hi))
    assert 0.93 <= coverage <= 0.97, coverage


@pytest.mark.parametrize("n", [40, 400])
def test_bootstrap_coverage_for_a_rate(n):
    rng = np.random.default_rng(2)
    cells, p = _simulate_cells(rng, n, 0.5, (0.4, 0.6))
    truth = p[1] + p[3]
    reps = bootstrap_cell_counts(cells, 1000, rng)  # each dataset is one cell
    lo, hi = _percentile(metrics_from_counts(reps)["selection_rate"], 0.95)
    coverage = np.mean((lo <= truth) & (truth <= hi))
    assert 0.93 <= coverage <= 0.97, coverage


def test_bootstrap_coverage_for_a_difference_with_a_small_group():
    rng = np.random.default_rng(3)
    small, p1 = _simulate_cells(rng, 40, 0.4, (0.1, 0.6))
    large, p2 = _simulate_cells(rng, 400, 0.4, (0.3, 0.9))
    rates = np.array([p1[1] + p1[3], p2[1] + p2[3]])
    covered = []
    for d in range(D):
        cells = np.stack([small[d], large[d]])
        reps = bootstrap_cell_counts(cells, 400, rng)
        point = metrics_from_counts(cells)["selection_rate"]
        diff, _ = _pair_between(metrics_from_counts(reps)["selection_rate"], point,
                                np.array([True, True]))
        lo, hi = _percentile(diff, 0.95)
        # the gap as the interval signs it: the group higher in the data minus the other
        truth = rates[np.argmax(point)] - rates[np.argmin(point)]
        covered.append(lo <= truth <= hi)
    coverage = np.mean(covered)
    assert 0.93 <= coverage <= 0.97, coverage


def test_assess_bootstrap_intervals_cover_the_truth():
    """End to end through faircard.assess at 1,000 replicates: 400 groups drawn from the same
    known rates are 400 independent datasets in one call. The 95% bootstrap and Wilson
    intervals of each group must cover the true rate about 95% of the time (Monte Carlo SE of
    the coverage about 1.1%; the percentile bootstrap runs slightly narrow at 60 positives)."""
    rng = np.random.default_rng(11)
    n_groups, size = 400, 150
    g = np.repeat([f"g{i:03d}" for i in range(n_groups)], size)
    y = (rng.random(len(g)) < 0.4).astype(int)
    pred = (rng.random(len(g)) < np.where(y == 1, 0.7, 0.2)).astype(int)
    df = pd.DataFrame({"g": g, "y": y, "pred": pred})
    a = faircard.assess(df, target="y", prediction="pred", sensitive="g", n_boot=1000,
                        random_state=3)
    truth = {"selection_rate": 0.4 * 0.7 + 0.6 * 0.2, "true_positive_rate": 0.7,
             "false_positive_rate": 0.2, "accuracy": 0.4 * 0.7 + 0.6 * 0.8}
    bg = a.by_group
    for metric, true in truth.items():
        rows = bg[bg["metric"] == metric]
        assert len(rows) == n_groups
        for lo, hi in (("boot_low", "boot_high"), ("ci_low", "ci_high")):
            covered = ((rows[lo] <= true) & (true <= rows[hi])).mean()
            assert 0.915 <= covered <= 0.985, (metric, lo, covered)
        # the bootstrap and Wilson intervals of one group have about the same width
        ratio = ((rows["boot_high"] - rows["boot_low"]) / (rows["ci_high"] - rows["ci_low"]))
        assert 0.85 < ratio.median() < 1.1, (metric, ratio.median())


def test_wilson_matches_closed_form_reference():
    # Wilson (1927) for 0/10, 5/10 and 10/10 at 95%: endpoints from the formula with z=1.959964
    lo, hi = wilson_interval(np.array([0, 5, 10]), np.array([10, 10, 10]), 0.95)
    z = 1.959963984540054
    for k, low, high in zip([0, 5, 10], lo, hi, strict=True):
        p = k / 10
        c = (p + z * z / 20) / (1 + z * z / 10)
        h = z * np.sqrt(p * (1 - p) / 10 + z * z / 400) / (1 + z * z / 10)
        assert low == pytest.approx(max(c - h, 0), abs=1e-12)
        assert high == pytest.approx(min(c + h, 1), abs=1e-12)


def test_edge_cases_give_nan_not_errors():
    df = make_dataset(0, n=400, n_features=1)
    a = faircard.assess(df, target="y", prediction="pred", sensitive="sex", n_boot=200,
                        include_small_groups=True)
    rows = a.by_group.set_index(["group", "metric"])
    assert np.isnan(rows.loc[("nopos", "true_positive_rate"), "ci_low"])
    assert not np.isnan(rows.loc[("nopos", "false_positive_rate"), "ci_low"])
    assert rows.loc[("tiny", "accuracy"), "is_unreliable"]
    assert "fewer than 30" in rows.loc[("tiny", "accuracy"), "reliability"]
    single = faircard.assess(df.assign(one="x"), target="y", prediction="pred", sensitive="one",
                             n_boot=100)
    assert np.isnan(single.disparities["difference"]).all()


def test_seed_reproducibility_and_confidence_levels():
    df = make_dataset(1, n=600, n_features=1)
    run = [faircard.assess(df, target="y", prediction="pred", sensitive="sex", n_boot=300,
                           random_state=s, confidence=c) for s, c in [(7, 0.95), (7, 0.95),
                                                                      (8, 0.95), (7, 0.9),
                                                                      (7, 0.99)]]
    pd.testing.assert_frame_equal(run[0].by_group, run[1].by_group)
    assert not run[0].by_group["boot_low"].equals(run[2].by_group["boot_low"])
    w90 = (run[3].by_group["ci_high"] - run[3].by_group["ci_low"]).dropna()
    w95 = (run[0].by_group["ci_high"] - run[0].by_group["ci_low"]).dropna()
    w99 = (run[4].by_group["ci_high"] - run[4].by_group["ci_low"]).dropna()
    assert (w90 <= w95 + 1e-15).all() and (w95 <= w99 + 1e-15).all()
    with pytest.raises(faircard.FaircardError):
        faircard.assess(df, target="y", prediction="pred", sensitive="sex", confidence=1.5)


def test_p_values_and_holm():
    from scipy.stats import fisher_exact

    # small expected counts (pooled 7/16 of 8 = 3.5 < 5): Fisher's exact test
    assert two_proportion_p(1, 8, 6, 8) == pytest.approx(
        fisher_exact([[1, 7], [6, 2]]).pvalue, abs=1e-12)
    # large counts: pooled z test, checked against its textbook formula
    k1, n1, k2, n2 = 300, 1000, 360, 1000
    pool = (k1 + k2) / (n1 + n2)
    z = (k1 / n1 - k2 / n2) / np.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2))
    from scipy.stats import norm

    assert two_proportion_p(k1, n1, k2, n2) == pytest.approx(2 * norm.sf(abs(z)), abs=1e-12)
    # Holm on a known example: p = (0.01, 0.04, 0.03) -> (0.03, 0.06, 0.06)
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03, np.nan])),
                               [0.03, 0.06, 0.06, np.nan])


def test_json_carries_intervals_and_p_values():
    df = make_dataset(2, n=500, n_features=1)
    doc = faircard.assess(df, target="y", prediction="pred", sensitive="sex",
                          n_boot=200).to_dict()
    entry = doc["by_group"][0]
    assert "selection_rate_ci_low" in entry and "selection_rate_ci_high" in entry
    d = doc["disparities"][0]
    for key in ("difference_ci_low", "difference_ci_high", "ratio_ci_low", "ratio_ci_high",
                "p_value", "p_adjusted", "is_distinguishable"):
        assert key in d
    assert doc["uncertainty"]["n_boot"] == 200


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(0)
    for size in (1, 2, 5, 15, 60):
        p = rng.random(size) ** 3  # many small p-values
        p[rng.random(size) < 0.2] = np.nan
        p[: size // 3] = p[0]  # ties
        ok = ~np.isnan(p)
        ours = holm(p)
        assert np.isnan(ours[~ok]).all()
        if ok.any():
            np.testing.assert_allclose(ours[ok], multipletests(p[ok], method="holm")[1],
                                       rtol=0, atol=1e-15)


def test_assessment_p_values_match_independent_tests():
    """Each disparity's p-value (worst vs best group) against scipy's Fisher test or
    statsmodels' pooled z test on the raw rows, and the adjusted p-values against statsmodels'
    Holm over the distinct hypotheses (a rate and its complement counted once)."""
    from scipy.stats import fisher_exact
    from statsmodels.stats.proportion import proportions_ztest

    df = make_dataset(4, n=1200, n_features=2, with_missing=False)
    a = faircard.assess(df, target="y", prediction="pred", sensitive=["sex", "race"],
                        n_boot=0)
    disp = a.disparities
    inter = df["sex"].astype(str) + " & " + df["race"].astype(str)
    column = {"sex": df["sex"].astype(str), "race": df["race"].astype(str),
              "sex & race": inter}
    ratio_of = {  # metric -> (numerator mask, denominator mask) on rows
        "selection_rate": (df["pred"] == 1, np.ones(len(df), bool)),
        "true_positive_rate": (df["pred"] == 1, df["y"] == 1),
        "false_positive_rate": (df["pred"] == 1, df["y"] == 0),
        "accuracy": (df["pred"] == df["y"], np.ones(len(df), bool)),
    }
    checked = 0
    for _, row in disp.iterrows():
        if row["metric"] not in ratio_of or np.isnan(row["p_value"]):
            continue
        num, den = ratio_of[row["metric"]]
        kn = []
        for group in (row["worst_group"], row["best_group"]):
            mask = (column[row["feature"]] == group).to_numpy() & np.asarray(den)
            kn.append((int(np.asarray(num)[mask].sum()), int(mask.sum())))
        (k1, n1), (k2, n2) = kn
        pooled = (k1 + k2) / (n1 + n2)
        if min(n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)) < 5:
            expected = fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
        else:
            expected = proportions_ztest([k1, k2], [n1, n2])[1]
        assert row["p_value"] == pytest.approx(expected, rel=1e-9, abs=1e-12), row.to_dict()
        checked += 1
    assert checked >= 9
    p = disp["p_value"].to_numpy(dtype=float)
    ok = ~np.isnan(p)
    assert ok.sum() >= 10
    np.testing.assert_allclose(disp["p_adjusted"].to_numpy(dtype=float),
                               holm_once_per_hypothesis(disp), rtol=0, atol=1e-12)
    assert disp["p_adjusted"][~ok].isna().all()
    # Holm changed something here: skipping it would not go unnoticed
    assert (disp["p_adjusted"][ok] > disp["p_value"][ok] + 1e-6).any()


@pytest.mark.parametrize("shape", [(1000,), (1000, 7), (5, 3)])
@pytest.mark.parametrize("confidence", [0.95, 0.9, 0.5])
def test_percentile_equals_numpy_nanpercentile_with_and_without_nan(shape, confidence):
    import warnings

    rng = np.random.default_rng(len(shape) + int(100 * confidence))
    samples = rng.random(shape)
    q = [50 * (1 - confidence), 50 * (1 + confidence)]
    for data in (samples, np.where(rng.random(shape) < 0.1, np.nan, samples)):
        lo, hi = _percentile(data, confidence)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = np.nanpercentile(data, q, axis=0)
        np.testing.assert_array_equal(lo, want[0])
        np.testing.assert_array_equal(hi, want[1])


def test_a_rate_and_its_complement_are_one_hypothesis_with_one_adjusted_p_value():
    """TPR/FNR, FPR/TNR, precision/FDR and NPV/FOR compare the same counts of the same two
    groups: identical p-values, identical adjusted p-values, and each pair counts once in
    the Holm family (checked against statsmodels on the de-duplicated family)."""
    df = make_dataset(11, n=1500, n_features=2, with_missing=False)
    disp = faircard.assess(df, target="y", prediction="pred", sensitive=["sex", "race"],
                           n_boot=0).disparities
    pairs = 0
    for feature in pd.unique(disp["feature"]):
        rows = disp[disp["feature"] == feature].set_index("metric")
        for metric, other in COMPLEMENTS.items():
            a, b = rows.loc[metric], rows.loc[other]
            if np.isnan(a["p_value"]):
                continue
            assert {a["worst_group"], a["best_group"]} == {b["worst_group"], b["best_group"]}
            assert a["p_value"] == b["p_value"] and a["p_adjusted"] == b["p_adjusted"]
            pairs += 1
    assert pairs >= 8 * 3 // 2  # four pairs, both directions, three features (some may tie)
    want = holm_once_per_hypothesis(disp)
    np.testing.assert_allclose(disp["p_adjusted"].to_numpy(float), want, rtol=0, atol=1e-12)
    # counting every row would have been stricter somewhere: the de-duplication matters here
    from statsmodels.stats.multitest import multipletests

    p = disp["p_value"].to_numpy(float)
    ok = ~np.isnan(p)
    every_row = multipletests(p[ok], method="holm")[1]
    assert (want[ok] < every_row - 1e-9).any()


def _german_credit_shape() -> pd.DataFrame:
    """1,000 applicants like German credit's: 690 men and 310 women, 190 aged 25 or under,
    about 70% good outcomes, women approved less often than men."""
    cells = {("male", "over 25"): (560, 0.72, 0.74), ("male", "25 or under"): (130, 0.62, 0.66),
             ("female", "over 25"): (250, 0.68, 0.66), ("female", "25 or under"): (60, 0.60, 0.57)}
    rows = []
    for (sex, age), (n, p_good, p_approved) in cells.items():
        n_good = round(n * p_good)
        for y, m in ((1, n_good), (0, n - n_good)):
            k = round(m * (p_approved + (0.12 if y else -0.25)))
            rows += [(sex, age, y, 1)] * k + [(sex, age, y, 0)] * (m - k)
    return pd.DataFrame(rows, columns=["sex", "age", "y", "pred"])


def test_german_shaped_selection_gap_is_beyond_chance_exactly_when_statsmodels_says_so():
    """A selection-rate gap with a raw p-value near 0.003 among two features: Holm over the
    distinct hypotheses (statsmodels) puts it below 5%, so the product must not call it
    indistinguishable from parity (counting each complementary rate twice would have)."""
    from statsmodels.stats.multitest import multipletests

    from faircard.findings import findings

    df = _german_credit_shape()
    assert len(df) == 1000 and (df["sex"] == "female").sum() == 310
    a = faircard.assess(df, target="y", prediction="pred", sensitive=["sex", "age"],
                        intersection=False, n_boot=0)
    disp = a.disparities
    want = holm_once_per_hypothesis(disp)
    row = np.flatnonzero(((disp["feature"] == "sex")
                          & (disp["metric"] == "selection_rate")).to_numpy())[0]
    p = disp["p_value"].to_numpy(float)
    ok = ~np.isnan(p)
    every_row = np.full(len(p), np.nan)
    every_row[ok] = multipletests(p[ok], method="holm")[1]
    # the case this is about: chance ruled out once, not when complements count twice
    assert 0.001 < p[row] < 0.005 and want[row] < 0.05 <= every_row[row]
    assert disp["p_adjusted"].iloc[row] == pytest.approx(want[row], rel=1e-12)
    assert disp["is_distinguishable"].iloc[row] is True
    sentence = [s for s in findings(a) if s.startswith("sex: the share of people")]
    assert len(sentence) == 1
    assert ("not distinguishable from parity" in sentence[0]) == (want[row] >= 0.05)
    # and every other gap sentence follows statsmodels too
    for s in findings(a):
        for _, r in disp.dropna(subset=["p_value"]).iterrows():
            if s.startswith(f"{r['feature']}: the {r['metric'].replace('_', ' ')} is"):
                adj = want[disp.index.get_loc(r.name)]
                assert ("not distinguishable" in s) == (adj >= 0.05), s


def test_fisher_takes_expected_counts_rounded_not_truncated():
    """A randomised rule's expected counts (2.6 of 10 against 0.4 of 10: expected counts below
    5, so Fisher's exact test): the table is the counts rounded to whole people, each row
    summing to its group's size, as scipy computes it."""
    from scipy.stats import fisher_exact

    from faircard.uncertainty import two_proportion_p

    p = two_proportion_p(2.6, 10.0, 0.4, 10.0)
    assert p == pytest.approx(fisher_exact([[3, 7], [0, 10]]).pvalue, abs=1e-15)
    assert p != pytest.approx(fisher_exact([[2, 7], [0, 9]]).pvalue)  # truncated, as before
    # whole counts are unchanged
    assert two_proportion_p(3, 10, 0, 10) == p
    # a half summed in another order (one ulp either side) rounds the same way
    assert two_proportion_p(2.5, 10.0, 0.5, 10.0) == \
        two_proportion_p(np.nextafter(2.5, 0), 10.0, np.nextafter(0.5, 1), 10.0) == \
        two_proportion_p(np.nextafter(2.5, 3), 10.0, np.nextafter(0.5, 0), 10.0)


def test_a_randomised_rule_says_how_its_p_values_take_expected_counts():
    from faircard.assess import RANDOMIZED_P_NOTE
    from faircard.decision import DecisionPolicy

    df = make_dataset(3, n=400, n_features=1, tiny_group=False, no_positive_group=False)
    groups = sorted(df["sex"].unique())
    mixed = DecisionPolicy.per_group("sex", {g: 0.5 for g in groups},
                                     mix={groups[0]: (0.3, 0.7)})
    a = faircard.assess(df, target="y", score="score", sensitive="sex", policy=mixed, n_boot=0)
    assert RANDOMIZED_P_NOTE in a.notes
    from faircard.card import build_card

    assert RANDOMIZED_P_NOTE in build_card(a).caveats["automatic"]
    plain = faircard.assess(df, target="y", score="score", sensitive="sex", n_boot=0,
                            policy=DecisionPolicy.per_group("sex", {g: 0.5 for g in groups}))
    assert RANDOMIZED_P_NOTE not in plain.notes


@pytest.mark.parametrize("n, small", [(400, False), (24, True)])
def test_a_randomised_rules_p_values_are_the_approximation_its_note_states(n, small):
    """The note says the p-values test the expected counts as if observed (statsmodels' z
    test, or scipy's Fisher test of the counts rounded to whole people when an expected count
    is below 5), and that this leaves out the randomisation's own variation: drawing the
    rule's decisions again changes the counts that one application would observe."""
    from scipy.stats import fisher_exact
    from statsmodels.stats.proportion import proportions_ztest

    from faircard.assess import RANDOMIZED_P_NOTE
    from faircard.decision import DecisionPolicy

    assert "p-values of the differences between groups are approximate" in RANDOMIZED_P_NOTE
    assert "rounded to a whole person, so it is not exact there" in RANDOMIZED_P_NOTE
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"g": np.repeat(["a", "b"], n // 2), "score": rng.random(n),
                       "y": rng.integers(0, 2, n)})
    # a: its threshold with probability 0.35, else a higher one; few selected when small
    t_a, else_a, t_b = (0.3, 0.95, 0.99) if small else (0.3, 0.8, 0.6)
    rule = DecisionPolicy.per_group("g", {"a": t_a, "b": t_b}, mix={"a": (0.35, else_a)})
    a = faircard.assess(df, target="y", score="score", sensitive="g", policy=rule, n_boot=0,
                        min_group_size=5)
    assert RANDOMIZED_P_NOTE in a.notes
    s = df["score"].to_numpy()
    prob = np.where(df["g"] == "a", 0.35 * (s >= t_a) + 0.65 * (s >= else_a), 1.0 * (s >= t_b))
    k = [prob[(df["g"] == g).to_numpy()].sum() for g in ("a", "b")]
    sizes = [n // 2, n // 2]
    row = a.disparities[(a.disparities["metric"] == "selection_rate")].iloc[0]
    pooled = sum(k) / n
    expected = np.array([[m * pooled, m * (1 - pooled)] for m in sizes])
    assert bool((expected < 5).any()) is small
    if small:
        want = fisher_exact([[round(k[0]), sizes[0] - round(k[0])],
                             [round(k[1]), sizes[1] - round(k[1])]]).pvalue
    else:
        want = proportions_ztest(k, sizes)[1]
    assert row["p_value"] == pytest.approx(want, rel=1e-9) and 0 < want < 1
    # one application of the rule draws its decisions: the count it observes varies
    draws = (rng.random((200, n)) < prob).astype(int)[:, (df["g"] == "a").to_numpy()].sum(1)
    assert draws.std() > 1 and not np.allclose(draws, k[0])


def test_percentile_from_one_sort_equals_numpy_on_ties_infinities_and_small_samples():
    # the intervals come from one sort (uncertainty._linear_percentiles), not NumPy's own
    # percentile: the same numbers whatever the samples hold
    rng = np.random.default_rng(15)
    kinds = {
        "uniform": lambda n, k: rng.random((n, k)),
        "ties": lambda n, k: np.round(rng.random((n, k)) * 3) / 3,
        "infinite": lambda n, k: np.where(rng.random((n, k)) < 0.1,
                                          rng.choice([np.inf, -np.inf], (n, k)),
                                          rng.random((n, k))),
        "huge": lambda n, k: rng.normal(size=(n, k)) * 1e300,
        "constant": lambda n, k: np.full((n, k), 0.3),
    }
    checked = 0
    for name, make in kinds.items():
        for n in (1, 2, 3, 7, 40, 1000):
            for confidence in (0.5, 0.8, 0.95, 0.999999):
                samples = make(n, 3)
                q = [50 * (1 - confidence), 50 * (1 + confidence)]
                with np.errstate(invalid="ignore"):
                    lo, hi = _percentile(samples, confidence)
                    want = np.percentile(samples, q, axis=0)
                    one_lo, one_hi = _percentile(samples[:, 0], confidence)  # one metric's
                np.testing.assert_array_equal(lo, want[0], err_msg=f"{name} n={n}")
                np.testing.assert_array_equal(hi, want[1], err_msg=f"{name} n={n}")
                assert np.array_equal([one_lo, one_hi], want[:, 0], equal_nan=True)
                checked += 1
    assert checked == 5 * 6 * 4
