"""Diagnostics against oracles nobody here wrote (scipy, scikit-learn, statsmodels, direct
formulas) and planted effects that must be found and ranked first."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score

from faircard.diagnostics import diagnose
from faircard.diagnostics.association import (
    auc_from_counts,
    correlation_ratio,
    cramers_v,
    fold_of_rows,
    proxy_auc,
)
from faircard.diagnostics.calibration import calibration_by_group, calibration_table
from faircard.diagnostics.drift import js_divergence, ks_statistic, psi
from faircard.diagnostics.encode import code_column
from faircard.diagnostics.subgroups import search_subgroups


def test_cramers_v_uncorrected_matches_scipy():
    rng = np.random.default_rng(1)
    t = rng.integers(0, 60, size=(4, 3))
    assert cramers_v(t, corrected=False) == pytest.approx(
        stats.contingency.association(t, method="cramer"), abs=1e-12)


def bias_corrected_v(table) -> float:
    """Bergsma's bias-corrected Cramér's V of a contingency table, from scipy's chi-square."""
    chi2 = stats.chi2_contingency(table, correction=False)[0]
    n = table.sum()
    r, k = table.shape
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    rc, kc = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    return float(np.sqrt(phi2 / min(rc - 1, kc - 1)))


def test_cramers_v_bias_corrected_matches_the_formula():
    rng = np.random.default_rng(2)
    a = rng.choice(list("abc"), 500)
    b = np.where(rng.random(500) < 0.3, a, rng.choice(list("abcd"), 500))
    table = pd.crosstab(a, b).to_numpy()
    assert cramers_v(table) == pytest.approx(bias_corrected_v(table), abs=1e-12)


def test_correlation_ratio_matches_the_direct_computation():
    rng = np.random.default_rng(3)
    g = rng.integers(0, 4, 1000)
    v = rng.normal(g * 0.3, 1.0)
    frame = pd.DataFrame({"g": g, "v": v})
    means = frame.groupby("g")["v"].transform("mean")
    direct = np.sqrt(((means - v.mean()) ** 2).sum() / ((v - v.mean()) ** 2).sum())
    assert correlation_ratio(g, v) == pytest.approx(direct, abs=1e-12)


def test_auc_from_counts_matches_sklearn_with_ties():
    rng = np.random.default_rng(4)
    y = rng.random(2000) < 0.3
    s = np.round(rng.random(2000) * 0.5 + 0.3 * y, 1)
    values = np.unique(s)
    pos = np.array([(y & (s == v)).sum() for v in values])
    neg = np.array([(~y & (s == v)).sum() for v in values])
    assert auc_from_counts(values, pos, neg) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_proxy_auc_matches_out_of_fold_encoding_scored_by_sklearn():
    rng = np.random.default_rng(5)
    n = 3000
    group = rng.integers(0, 3, n)
    column = np.where(rng.random(n) < 0.4, group, rng.integers(0, 5, n))
    fold = fold_of_rows(n, 5, 0)
    frame = pd.DataFrame({"x": column, "g": group, "fold": fold})
    got = proxy_auc(column, 5, group, 3, n_folds=5, seed=0)
    for c in range(3):
        score = np.empty(n)
        for f in range(5):
            train = frame[frame["fold"] != f]
            hits = (train["g"] == c).groupby(train["x"]).sum().reindex(range(5), fill_value=0)
            sizes = train.groupby("x").size().reindex(range(5), fill_value=0)
            enc = (hits + (train["g"] == c).mean()) / (sizes + 1)  # the other folds' prior
            held = frame["fold"].to_numpy() == f
            score[held] = enc.to_numpy()[column[held]]
        assert got[c] == pytest.approx(roc_auc_score(group == c, score), abs=1e-12)


def test_psi_hand_worked():
    # shares (0.5, 0.5) -> (0.25, 0.75): (0.25-0.5) ln(0.5) + (0.75-0.5) ln(1.5)
    expected = -0.25 * np.log(0.5) + 0.25 * np.log(1.5)
    assert psi([50, 50], [25, 75]) == pytest.approx(expected, abs=1e-12)
    assert psi([10, 10, 0], [10, 10, 0]) == pytest.approx(0.0, abs=1e-12)


def test_ks_and_js_match_scipy():
    rng = np.random.default_rng(6)
    a, b = rng.normal(0, 1, 700), rng.normal(0.2, 1.1, 900)
    ref = stats.ks_2samp(a, b, method="asymp")
    assert ks_statistic(a, b) == pytest.approx(ref.statistic, abs=1e-12)
    from faircard.diagnostics.drift import _numeric_drift

    assert _numeric_drift(a, b)["ks_p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    p, q = np.array([10, 20, 30, 0]), np.array([5, 5, 40, 10])
    assert js_divergence(p, q) == pytest.approx(jensenshannon(p, q, base=2) ** 2, abs=1e-12)


def test_calibration_bins_match_sklearn_calibration_curve():
    rng = np.random.default_rng(7)
    n = 4000
    group = rng.integers(0, 2, n)
    s = rng.random(n)
    s[:5] = [0.1, 0.2, 0.5, 0.0, 1.0]  # scores on bin edges
    y = rng.random(n) < np.where(group == 1, s, s ** 2)
    table = calibration_table(y, s, group, ["a", "b"], n_bins=10)
    for gi, name in enumerate(["a", "b"]):
        m = group == gi
        prob_true, prob_pred = calibration_curve(y[m], s[m], n_bins=10, strategy="uniform")
        t = table[table["group"] == name]
        np.testing.assert_allclose(t["observed_rate"], prob_true, atol=1e-12)
        np.testing.assert_allclose(t["mean_score"], prob_pred, atol=1e-12)
    cal = calibration_by_group(y, s, group, ["a", "b"])
    for gi in range(2):
        m = group == gi
        assert cal["brier_score"][gi] == pytest.approx(brier_score_loss(y[m], s[m]), abs=1e-12)


def test_representation_intervals_match_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    from faircard.diagnostics.representation import representation

    codes = np.repeat([0, 1, 2], [70, 25, 5])
    rep = representation(codes, ("a", "b", "c"), feature="f",
                         reference_shares={"a": 0.6, "b": 0.3, "c": 0.1})
    for i, k in enumerate([70, 25, 5]):
        lo, hi = proportion_confint(k, 100, alpha=0.05, method="wilson")
        assert rep["share_ci_low"][i] == pytest.approx(lo, abs=1e-12)
        assert rep["share_ci_high"][i] == pytest.approx(hi, abs=1e-12)
    assert rep["share_difference"][2] == pytest.approx(0.05 - 0.1)


def _planted(seed: int, n: int = 6000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluation and reference data with a planted proxy, a drift within one group, a
    miscalibrated group and a subgroup with many errors."""
    rng = np.random.default_rng(seed)
    race = rng.choice(["A", "B", "C"], n, p=[0.5, 0.3, 0.2])
    proxy = np.where(rng.random(n) < 0.7, race, rng.choice(["A", "B", "C"], n))
    proxy = np.array([f"zone-{v}" for v in proxy])
    colour = rng.choice(["red", "green", "blue"], n)
    shape = rng.choice(["square", "circle"], n)
    x = rng.normal(0, 1, n)
    score = rng.random(n)
    y = rng.random(n) < score
    y[race == "C"] = rng.random((race == "C").sum()) < score[race == "C"] ** 3  # miscalibrated
    bad = (colour == "red") & (shape == "circle")
    flip = bad & (rng.random(n) < 0.45)
    y[flip] = ~(score[flip] >= 0.5)  # errors planted in one subgroup
    data = pd.DataFrame({"y": y.astype(int), "score": score, "race": race, "zone": proxy,
                         "colour": colour, "shape": shape, "x": x})
    ref = data.sample(frac=1.0, random_state=seed).reset_index(drop=True).copy()
    ref["x"] = rng.normal(0, 1, n)
    data.loc[data["race"] == "B", "x"] += 1.5  # drift within group B only
    return data, ref


def test_planted_effects_are_found_and_ranked_first():
    data, ref = _planted(11)
    d = diagnose(data, target="y", score="score", sensitive=["race"], reference_data=ref,
                 n_boot=100)
    auc = d.proxies[d.proxies["measure"] == "cv_auc"]
    assert auc.sort_values("value", ascending=False)["feature"].iloc[0] == "zone"
    assert d.top_proxies()["feature"].tolist()[:1] == ["zone"]
    within = d.drift[d.drift["group"] != "(all)"]
    top = within.iloc[0]
    assert (top["column"], top["group"]) == ("x", "B")
    worst = d.calibration.sort_values("ece", ascending=False).iloc[0]
    assert worst["group"] == "C"
    first = d.subgroups.iloc[0]
    assert bool(first["significant"])
    assert set(first["conditions"]) == {("colour", "red"), ("shape", "circle")}
    items = {i.source: i for i in d.checklist}
    for source in ("measurement", "deployment", "evaluation", "learning"):
        assert items[source].suggested_status == "concern", source
    assert "zone" in " ".join(items["measurement"].evidence)


def test_subgroup_search_on_pure_noise_rarely_reports_anything():
    """With every subgroup's p-value Holm-adjusted, pure noise yields a finding in at most
    about 5% of datasets."""
    found = 0
    sims = 200
    for seed in range(sims):
        rng = np.random.default_rng(1000 + seed)
        n = 1500
        cols = [code_column(pd.Series(rng.choice(list("abcd"), n)), f"c{j}") for j in range(4)]
        cols.append(code_column(pd.Series(rng.normal(size=n)), "num"))
        y = rng.random(n) < 0.4
        p = rng.random(n) < 0.4
        res = search_subgroups(cols, y, p, max_conditions=2, min_size=30)
        found += bool(res["significant"].any())
    rate = found / sims
    print(f"pure-noise datasets with a reported subgroup: {found}/{sims} = {rate:.3f}")
    assert rate <= 0.08


def test_redundant_conjunctions_are_left_out():
    rng = np.random.default_rng(12)
    n = 800
    a = rng.choice(["x", "y"], n)
    b = np.where(a == "x", "p", rng.choice(["p", "q"], n))  # a == x implies b == p
    cols = [code_column(pd.Series(a), "a"), code_column(pd.Series(b), "b")]
    y, p = rng.random(n) < 0.5, rng.random(n) < 0.5
    res = search_subgroups(cols, y, p, max_conditions=2, min_size=10)
    assert (("a", "x"), ("b", "p")) not in set(res["conditions"])
    assert (("a",  "x"),) in set(res["conditions"])


def test_a_randomised_policy_is_named_where_subgroups_count_the_likelier_decision():
    from faircard.decision import DecisionPolicy
    from faircard.diagnostics.core import RANDOMISED_NOTE, diagnose_spec
    from faircard.spec import AssessmentSpec

    rng = np.random.default_rng(3)
    n = 600
    df = pd.DataFrame({"g": rng.choice(["a", "b"], n), "x": rng.normal(size=n),
                       "y": rng.integers(0, 2, n), "s": rng.random(n)})
    base = AssessmentSpec(target="y", sensitive=("g",), score="s")
    plain = diagnose_spec(df, base)
    assert RANDOMISED_NOTE not in plain.notes
    mixed = DecisionPolicy.per_group("g", {"a": 0.4, "b": 0.6}, mix={"b": (0.3, 0.2)})
    result = diagnose_spec(df, replace(base, policy=mixed))
    assert RANDOMISED_NOTE in result.notes
    deterministic = DecisionPolicy.per_group("g", {"a": 0.4, "b": 0.6})
    assert RANDOMISED_NOTE not in diagnose_spec(df, replace(base, policy=deterministic)).notes
