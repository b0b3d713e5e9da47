"""Changes between a record and its baseline: per group and per criterion with intervals
(checked against statsmodels' Newcombe interval and fairlearn), faircard diff, and the gate's
--baseline/--max-regression."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from fairlearn.metrics import demographic_parity_difference
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

import faircard
from faircard.cli import main
from faircard.errors import FaircardError
from faircard.governance.diff import diff_assessments, mover_interval
from faircard.governance.gate import GateRules, evaluate_gate
from tests.conftest import make_dataset

OPTS = ["--target", "y", "--prediction", "pred", "--sensitive", "sex"]


def _data(seed, unfair=0.0):
    df = make_dataset(seed, n=800, n_features=1, with_missing=False, tiny_group=False,
                      no_positive_group=False)
    if unfair:  # deny some women who would have been selected
        rng = np.random.default_rng(seed + 100)
        hit = (df["sex"] == "female") & (df["pred"] == 1) & (rng.random(len(df)) < unfair)
        df.loc[hit, "pred"] = 0
    return df


def _assess(df):
    return faircard.assess(df, target="y", prediction="pred", sensitive="sex", n_boot=0)


@pytest.mark.parametrize("k1,n1,k2,n2", [(30, 100, 20, 100), (5, 17, 12, 40), (0, 25, 3, 30),
                                          (50, 50, 48, 60)])
def test_mover_with_wilson_intervals_is_newcombes_interval(k1, n1, k2, n2):
    lo1, hi1 = proportion_confint(k1, n1, method="wilson")
    lo2, hi2 = proportion_confint(k2, n2, method="wilson")
    got = mover_interval(k2 / n2, lo2, hi2, k1 / n1, lo1, hi1)  # change = p1 - p2
    want = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    assert got == pytest.approx(want, abs=1e-12)
    assert all(math.isnan(v) for v in mover_interval(0.1, math.nan, 0.2, 0.3, 0.2, 0.4))


def test_group_changes_match_group_masks_and_newcombe():
    base_df, new_df = _data(1), _data(2, unfair=0.3)
    result = diff_assessments(_assess(base_df), _assess(new_df).to_dict())
    rows = result.groups[result.groups["metric"] == "selection_rate"].set_index("group")
    for group in ("female", "male", "non-binary"):
        k1, n1 = int(new_df.loc[new_df["sex"] == group, "pred"].sum()), \
            int((new_df["sex"] == group).sum())
        k0, n0 = int(base_df.loc[base_df["sex"] == group, "pred"].sum()), \
            int((base_df["sex"] == group).sum())
        row = rows.loc[group]
        assert (row["n_base"], row["n_new"]) == (n0, n1)
        assert row["change"] == pytest.approx(k1 / n1 - k0 / n0, abs=1e-12)
        want = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff")
        assert (row["change_ci_low"], row["change_ci_high"]) == pytest.approx(want, abs=1e-9)
    # the criterion's change is fairlearn's demographic parity difference, new minus base
    crit = result.criteria.set_index("criterion").loc["demographic_parity_difference"]
    dpd = [demographic_parity_difference(d["y"], d["pred"], sensitive_features=d["sex"])
           for d in (base_df, new_df)]
    assert crit["change"] == pytest.approx(dpd[1] - dpd[0], abs=1e-12)
    assert crit["regression"] == pytest.approx(dpd[1] - dpd[0], abs=1e-12) and dpd[1] > dpd[0]
    ratio = result.criteria.set_index("criterion").loc["demographic_parity_ratio"]
    assert ratio["regression"] == pytest.approx(-ratio["change"]) and ratio["regression"] > 0
    assert result.worst_regression()["criterion"] in {"demographic_parity_ratio",
                                                      "demographic_parity_difference",
                                                      "equalized_odds_ratio",
                                                      "equalized_odds_difference",
                                                      "equal_opportunity_ratio",
                                                      "equal_opportunity_difference"}
    json_doc = result.to_dict()
    assert len(json_doc["groups"]) == len(result.groups) and json_doc["only_new"] == []


def test_criteria_intervals_are_combined_from_the_bootstrap():
    base = faircard.assess(_data(1), target="y", prediction="pred", sensitive="sex",
                           n_boot=100).to_dict()
    new = faircard.assess(_data(2), target="y", prediction="pred", sensitive="sex",
                          n_boot=100).to_dict()
    row = diff_assessments(base, new).criteria.iloc[0]
    b = base["uncertainty"]["criteria"]["sex"][row["criterion"]]
    n = new["uncertainty"]["criteria"]["sex"][row["criterion"]]
    assert (row["base_ci_low"], row["base_ci_high"]) == tuple(b)
    assert (row["change_ci_low"], row["change_ci_high"]) == pytest.approx(
        mover_interval(row["base"], *b, row["new"], *n))
    assert row["change_ci_low"] <= row["change"] <= row["change_ci_high"]


def test_nothing_in_common_is_an_error():
    df = _data(1)
    by_sex = _assess(df)
    df["band"] = np.where(np.arange(len(df)) % 2, "a", "b")
    by_band = faircard.assess(df, target="y", prediction="pred", sensitive="band", n_boot=0)
    with pytest.raises(FaircardError, match="no sensitive feature in common"):
        diff_assessments(by_sex, by_band)


def test_gate_max_regression_against_a_baseline():
    base, worse = _assess(_data(1)), _assess(_data(1, unfair=0.4))
    diff = diff_assessments(base, worse)
    worst = float(diff.criteria["regression"].max())
    assert worst > 0.05
    strict = GateRules.from_mapping({"max_regression": worst - 1e-3})
    loose = GateRules.from_mapping({"max_regression": worst + 1e-3})
    check = evaluate_gate(worse, strict, baseline=base).checks[0]
    assert (check.name, check.feature, check.passed) == ("regression", "sex", False)
    assert check.value == pytest.approx(worst) and "less fair than the baseline" in \
        check.explanation
    assert evaluate_gate(worse, loose, baseline=base).passed
    assert evaluate_gate(base, strict, baseline=worse).passed  # an improvement passes
    with pytest.raises(FaircardError, match="--baseline ID"):
        evaluate_gate(worse, strict)
    with pytest.raises(FaircardError, match="cannot be negative"):
        GateRules.from_mapping({"max_regression": -0.1})


def _fairlearn_worst_regression(base_df, new_df) -> float:
    """The largest loss of fairness over the six criteria, computed by fairlearn."""
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_ratio,
        equalized_odds_difference,
        equalized_odds_ratio,
        true_positive_rate,
    )

    def criteria(d):
        args = (d["y"], d["pred"])
        kw = {"sensitive_features": d["sex"]}
        tpr = MetricFrame(metrics=true_positive_rate, y_true=d["y"], y_pred=d["pred"], **kw)
        return {"dpd": (demographic_parity_difference(*args, **kw), 1),
                "dpr": (demographic_parity_ratio(*args, **kw), -1),
                "eod": (equalized_odds_difference(*args, **kw), 1),
                "eor": (equalized_odds_ratio(*args, **kw), -1),
                "eopd": (tpr.difference(), 1), "eopr": (tpr.ratio(), -1)}

    before, after = criteria(base_df), criteria(new_df)
    return max(sign * (after[k][0] - before[k][0]) for k, (_, sign) in before.items())


def test_diff_and_gate_commands(tmp_path, capsys):
    store = str(tmp_path / "audit.db")
    fair, unfair = tmp_path / "v1.csv", tmp_path / "v2.csv"
    _data(1).to_csv(fair, index=False)
    _data(1, unfair=0.4).to_csv(unfair, index=False)
    for path, extra in ((fair, []), (unfair, ["--baseline", "1"])):
        assert main(["record", str(path), *OPTS, "--author", "alice", "--store", store,
                     "--bootstrap", "0", *extra]) == 0
    capsys.readouterr()
    assert main(["diff", "2", "--store", store]) == 0
    out = capsys.readouterr().out
    assert out.startswith("record 1 -> record 2")
    assert re.search(r"sex: demographic_parity_difference\s+\S+ -> \S+  change \+0\.\d{4} "
                     r"\(less fair\)\n", out)
    assert re.search(r"sex = female: selection_rate .*\(n=\d+\) .* change -0\.\d{4} \[", out)
    assert main(["diff", "1", "--store", store]) == 2
    assert "names no baseline" in capsys.readouterr().err
    gate = ["gate", str(unfair), *OPTS, "--bootstrap", "0", "--store", store, "--baseline", "1"]
    assert main([*gate, "--max-regression", "0.01"]) == 1
    shown = re.search(r"FAIL \[sex\] regression = ([0-9.]+) ", capsys.readouterr().out)
    assert float(shown.group(1)) == pytest.approx(_fairlearn_worst_regression(
        _data(1), _data(1, unfair=0.4)), abs=5e-4)
    assert main([*gate, "--max-regression", "0.9"]) == 0
    assert main(["gate", str(unfair), *OPTS, "--store", store, "--max-regression", "0.1"]) == 2
    assert "go together" in capsys.readouterr().err


def test_diff_says_which_way_each_criterion_moved(tmp_path, capsys):
    """A ratio that rises is fairer, a difference that rises is less fair: each criterion's
    line says which, judged here with fairlearn's own criteria of the two datasets."""
    from fairlearn.metrics import demographic_parity_ratio

    store = str(tmp_path / "audit.db")
    frames = {"unfair": _data(1, unfair=0.4), "fair": _data(1)}
    for name, df in frames.items():  # record 1 is the unfair one, record 2 the fair one
        path = tmp_path / f"{name}.csv"
        df.to_csv(path, index=False)
        assert main(["record", str(path), *OPTS, "--author", "alice", "--store", store,
                     "--bootstrap", "0"]) == 0
    capsys.readouterr()
    assert main(["diff", "1", "2", "--store", store]) == 0
    out = capsys.readouterr().out
    assert "regression > 0" not in out  # the lines show the change, not the regression

    def moved(crit, value):
        line = re.search(rf"sex: {crit} .*change ([+-]0\.\d{{4}}).*\((fairer|less fair)\)\n",
                         out)
        assert line, (crit, out)
        assert float(line.group(1)) == pytest.approx(value, abs=5e-5)
        return line.group(2)

    def dp(fn, df):
        return fn(df["y"], df["pred"], sensitive_features=df["sex"])

    d_dpr = dp(demographic_parity_ratio, frames["fair"]) - dp(demographic_parity_ratio,
                                                              frames["unfair"])
    d_dpd = dp(demographic_parity_difference, frames["fair"]) - dp(
        demographic_parity_difference, frames["unfair"])
    assert d_dpr > 0 and d_dpd < 0  # the fair data are fairer by both
    assert moved("demographic_parity_ratio", d_dpr) == "fairer"
    assert moved("demographic_parity_difference", d_dpd) == "fairer"


def test_diff_states_the_level_of_each_sides_brackets(tmp_path, capsys):
    """Record 1 assessed at 90%, record 2 at 95%: the command's brackets were headed
    '[interval]' with no level, as if both sides were alike; it now names each side's level,
    and the first record's bracket of a group's selection rate is statsmodels' Wilson
    interval at 90%."""
    import json

    store = str(tmp_path / "audit.db")
    df = _data(4)
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    for level in ("0.9", "0.95"):
        assert main(["record", str(path), *OPTS, "--author", "alice", "--store", store,
                     "--bootstrap", "0", "--confidence", level]) == 0
    capsys.readouterr()
    assert main(["diff", "1", "2", "--store", store]) == 0
    out = capsys.readouterr().out
    assert out.startswith("record 1 -> record 2 (change = new - base; in brackets: intervals, "
                          "record 1's at 90%, record 2's at 95% and each change's combining "
                          "both)\n"), out
    female = df[df["sex"] == "female"]
    lo, hi = proportion_confint(int(female["pred"].sum()), len(female), alpha=0.1,
                                method="wilson")
    assert f"sex = female: selection_rate  {female['pred'].mean():.4f} [{lo:.4f}, {hi:.4f}]" \
        in out, out
    assert main(["diff", "1", "2", "--store", store, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["confidence"] == {"base": 0.9, "new": 0.95}
    assert main(["diff", "1", "1", "--store", store]) == 0
    assert "in brackets: 90% intervals)" in capsys.readouterr().out.splitlines()[0]
