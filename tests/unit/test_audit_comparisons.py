"""What faircard says when there is nothing to compare: a rate that only one group has, a
feature with one group, a rule that selects everybody. Checked against scikit-learn on group
masks and fairlearn's MetricFrame, which do not decide what faircard should say, only what the
numbers are."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_positive_rate
from sklearn.metrics import recall_score

import faircard
from faircard.findings import findings
from faircard.governance.gate import GateRules, evaluate_gate


def _frame(seed: int = 0, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    s = rng.random(n)
    return pd.DataFrame({"g": rng.choice(["A", "B"], n), "s": s,
                         "y": (rng.random(n) < s).astype(int)})


@pytest.fixture(scope="module")
def no_positives_in_b():
    """Group B has no actual positives: its true positive rate is undefined."""
    df = _frame()
    df.loc[df["g"] == "B", "y"] = 0
    return df


def test_a_rate_that_one_group_alone_has_is_no_gap(no_positives_in_b):
    """The true positive rate exists for 'A' only (scikit-learn: recall of 'B' is undefined).
    fairlearn calls the gap 0 and the ratio 1; faircard called it that too, and its equal
    opportunity criterion 0 (parity), with an interval and the name of neither group: nothing
    was compared. Now the gap, ratio, criterion and intervals are undefined, and equalized odds
    (the worse of two gaps, one unknown) too; the false positive rates, which both groups have,
    keep fairlearn's gap."""
    df = no_positives_in_b
    a = faircard.assess(df, target="y", score="s", sensitive="g", n_boot=200)
    pred = (df["s"] >= 0.5).astype(int)
    recall = {g: recall_score(df.loc[m, "y"], pred[m], zero_division=np.nan)
              for g, m in df.groupby("g").groups.items()}
    assert not math.isnan(recall["A"]) and math.isnan(recall["B"])
    bg = a.by_group[(a.by_group["metric"] == "true_positive_rate")].set_index("group")
    assert bg.loc["A", "value"] == pytest.approx(recall["A"], abs=1e-12)
    assert math.isnan(bg.loc["B", "value"])

    tpr = a.disparities.set_index("metric").loc["true_positive_rate"]
    assert math.isnan(tpr["difference"]) and math.isnan(tpr["ratio"])
    assert pd.isna(tpr["worst_group"]) and pd.isna(tpr["best_group"])
    assert math.isnan(tpr["difference_ci_low"]) and math.isnan(tpr["difference_ci_high"])
    crit = a.criteria["g"]
    for name in ("equal_opportunity_difference", "equal_opportunity_ratio",
                 "equalized_odds_difference", "equalized_odds_ratio"):
        assert math.isnan(crit[name]), name
        assert all(math.isnan(x) for x in a.uncertainty["criteria"]["g"][name]), name

    mf = MetricFrame(metrics={"fpr": false_positive_rate}, y_true=df["y"], y_pred=pred,
                     sensitive_features=df["g"])
    fpr = a.disparities.set_index("metric").loc["false_positive_rate"]
    assert fpr["difference"] == pytest.approx(mf.difference()["fpr"], abs=1e-12)
    assert fpr["ratio"] == pytest.approx(mf.ratio()["fpr"], abs=1e-12)


def test_the_gate_fails_an_equal_opportunity_nobody_could_compute(no_positives_in_b):
    """The gate passed 'equal_opportunity_difference = 0 ... the true positive rates of every
    compared group are 0.788' although 'B' has none; it now fails as undefined and says
    which group lacks the rate and why."""
    a = faircard.assess(no_positives_in_b, target="y", score="s", sensitive="g", n_boot=0)
    rules = GateRules(limits={"max_equal_opportunity_difference": 0.1,
                              "min_equal_opportunity_ratio": 0.8,
                              "max_equalized_odds_difference": 0.5})
    result = evaluate_gate(a.to_dict(), rules)
    assert not result.passed
    checks = {c.name: c for c in result.checks if c.feature == "g"}
    for name in ("equal_opportunity_difference", "equal_opportunity_ratio",
                 "equalized_odds_difference"):
        assert checks[name].value is None and not checks[name].passed, name
        assert checks[name].explanation == (
            "undefined: true_positive_rate is defined in only one compared group (undefined "
            "in 'B': no actual positives in this group)"), name


def test_findings_say_that_a_feature_of_one_group_compares_nothing():
    """With one group, findings said nothing at all (an empty list reads as no problem)."""
    a = faircard.assess(_frame().assign(g="A"), target="y", score="s", sensitive="g",
                        n_boot=0)
    assert findings(a)[0] == ("g: only one group ('A'), so no group is compared with another: "
                              "nothing here shows whether the model treats groups alike.")


def test_findings_say_that_groups_too_small_to_compare_compare_nothing():
    df = _frame()
    df.loc[df.index[:20], "g"] = "C"
    a = faircard.assess(df, target="y", score="s", sensitive="g", n_boot=0,
                        min_group_size=300)
    assert ("g: fewer than two groups have at least 300 people, so no group is compared with "
            "another: nothing here shows whether the model treats groups alike.") in findings(a)


@pytest.mark.parametrize("favorable", ["positive", "negative"])
def test_a_rule_that_selects_everybody_reports_no_gap(favorable):
    """A constant score selects everybody: the false discovery rate of each group is then one
    minus its base rate, and findings reported its gap as a finding right after saying that the
    rule tells nobody apart."""
    df = _frame(seed=3)
    df["y"] = (df["g"] == "A") | (np.arange(len(df)) % 3 == 0)
    df["y"] = df["y"].astype(int)
    a = faircard.assess(df.assign(s=0.7), target="y", score="s", sensitive="g", n_boot=0,
                        favorable_outcome=favorable)
    said = findings(a, ["false_positive_rate", "false_negative_rate", "false_discovery_rate"])
    assert said[0].startswith("The decision rule tells nobody apart: everybody is ")
    assert not any("rate is" in s and "gap of" in s for s in said), said


def test_rows_left_out_for_a_missing_score_say_score():
    df = _frame()
    df.loc[df.index[:4], "s"] = np.nan
    a = faircard.assess(df, target="y", score="s", sensitive="g", n_boot=0)
    assert findings(a)[-1] == "4 rows had no outcome or score and were left out."


@pytest.mark.parametrize("favorable", ["positive", "negative"])
def test_intervals_of_differences_and_ratios_agree_with_statsmodels(favorable):
    """The bootstrap intervals of a gap and a ratio between two large groups agree with the
    closed-form intervals of statsmodels (Wald for the difference, log for the ratio) to a
    few thousandths; the disparate impact ratio's is that of the favourable shares."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    rng = np.random.default_rng(11)
    n = 6000
    g = np.where(np.arange(n) < n // 2, "A", "B")
    y = (rng.random(n) < np.where(g == "A", 0.45, 0.35)).astype(int)
    pred = (rng.random(n) < np.where(y == 1, 0.7, 0.2) + np.where(g == "A", 0.08, 0.0))
    df = pd.DataFrame({"g": g, "y": y, "pred": pred.astype(int)})
    a = faircard.assess(df, target="y", prediction="pred", sensitive="g", n_boot=4000,
                        favorable_outcome=favorable)
    d = a.disparities.set_index("metric")
    for metric, rows in (("selection_rate", df),
                         ("true_positive_rate", df[df["y"] == 1]),
                         ("false_positive_rate", df[df["y"] == 0])):
        k = rows.groupby("g")["pred"].sum()
        m = rows.groupby("g")["pred"].size()
        hi, lo = (k / m).idxmax(), (k / m).idxmin()
        wald = confint_proportions_2indep(k[hi], m[hi], k[lo], m[lo], method="wald",
                                          compare="diff")
        log = confint_proportions_2indep(k[lo], m[lo], k[hi], m[hi], method="log",
                                         compare="ratio")
        row = d.loc[metric]
        assert row[["difference_ci_low", "difference_ci_high"]].to_numpy(float) == \
            pytest.approx(wald, abs=0.004), metric
        assert row[["ratio_ci_low", "ratio_ci_high"]].to_numpy(float) == \
            pytest.approx(log, abs=0.006), metric
    k = df.groupby("g")["pred"].sum()
    if favorable == "negative":  # the favourable decision is the negative one
        k = df.groupby("g").size() - k
    m = df.groupby("g").size()
    lo, hi = (k / m).idxmin(), (k / m).idxmax()
    log = confint_proportions_2indep(k[lo], m[lo], k[hi], m[hi], method="log", compare="ratio")
    assert a.criteria["g"]["disparate_impact_ratio"] == pytest.approx(
        (k[lo] / m[lo]) / (k[hi] / m[hi]), abs=1e-12)
    assert a.uncertainty["criteria"]["g"]["disparate_impact_ratio"] == pytest.approx(
        log, abs=0.006)
