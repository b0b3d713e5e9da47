"""Every metric of every group equals scikit-learn / fairlearn MetricFrame on the group mask."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    selection_rate,
)
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)

import faircard
from faircard.spec import MISSING_GROUP
from tests.conftest import make_dataset

NAN = np.nan


def _prec(y, p):
    return precision_score(y, p, zero_division=NAN)


def _tpr(y, p):
    return recall_score(y, p, zero_division=NAN)


def _tnr(y, p):
    return recall_score(y, p, pos_label=0, zero_division=NAN)


def _npv(y, p):
    return precision_score(y, p, pos_label=0, zero_division=NAN)


# oracle functions: scikit-learn / fairlearn, with NaN for 0/0 (faircard never reports 0 there)
ORACLE = {
    "count": count,
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "precision": _prec,
    "true_positive_rate": _tpr,
    "false_positive_rate": lambda y, p: 1 - _tnr(y, p),
    "true_negative_rate": _tnr,
    "false_negative_rate": lambda y, p: 1 - _tpr(y, p),
    "negative_predictive_value": _npv,
    "false_discovery_rate": lambda y, p: 1 - _prec(y, p),
    "false_omission_rate": lambda y, p: 1 - _npv(y, p),
    "f1": lambda y, p: f1_score(y, p, zero_division=NAN),
    "prevalence": lambda y, p: float(np.mean(y)),
}


def _both_classes(y) -> bool:
    return len(np.unique(y)) == 2


def _balanced(y, p):
    return balanced_accuracy_score(y, p) if _both_classes(y) else NAN


def _label(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _sensitive_frame(df, cols):
    out = pd.DataFrame(index=df.index)
    for c in cols:
        s = df[c].astype(object)
        out[c] = [MISSING_GROUP if pd.isna(v) else _label(v) for v in s]
    return out


def _mf(df, cols, metrics, y_pred):
    return MetricFrame(
        metrics=metrics,
        y_true=df["y"].to_numpy(),
        y_pred=y_pred,
        sensitive_features=_sensitive_frame(df, cols),
    )


def _ours(assessment, feature):
    wide = assessment.by_group_wide()
    return wide[wide["feature"] == feature].set_index("group")


def _key(idx) -> str:
    return " & ".join(idx) if isinstance(idx, tuple) else str(idx)


CASES = [(seed, nf) for seed in range(4) for nf in (1, 2, 3)]


@pytest.mark.parametrize("seed,n_features", CASES)
def test_count_metrics_match_sklearn_and_fairlearn(seed, n_features):
    df = make_dataset(seed, n=300 + 150 * seed, n_features=n_features)
    cols = df.attrs["sensitive"]
    a = faircard.assess(df, target="y", prediction="pred", sensitive=cols,
                        include_small_groups=True)
    partitions = [[c] for c in cols] + ([cols] if len(cols) > 1 else [])
    metrics = dict(ORACLE, balanced_accuracy=_balanced)
    for part in partitions:
        feature = " & ".join(part)
        mf = _mf(df, part, metrics, df["pred"].to_numpy())
        ours = _ours(a, feature)
        theirs = mf.by_group
        theirs = theirs[theirs["count"].fillna(0) > 0]  # MetricFrame also lists empty combos
        assert len(ours) == len(theirs), feature
        for idx, row in theirs.iterrows():
            g = _key(idx)
            for m in metrics:
                np.testing.assert_allclose(ours.loc[g, m], row[m], rtol=0, atol=1e-12,
                                           err_msg=f"{feature}/{g}/{m}")
        for m in metrics:
            np.testing.assert_allclose(a.overall[m], mf.overall[m], rtol=0, atol=1e-12,
                                       err_msg=f"overall/{m}")


@pytest.mark.parametrize("seed,n_features", CASES)
def test_differences_and_ratios_match_metricframe(seed, n_features):
    df = make_dataset(seed, n=400, n_features=n_features)
    cols = df.attrs["sensitive"]
    a = faircard.assess(df, target="y", prediction="pred", sensitive=cols,
                        include_small_groups=True)
    metrics = {k: v for k, v in ORACLE.items() if k != "count"}
    disp = a.disparities.set_index(["feature", "metric"])
    partitions = [[c] for c in cols] + ([cols] if len(cols) > 1 else [])
    for part in partitions:
        feature = " & ".join(part)
        mf = _mf(df, part, metrics, df["pred"].to_numpy())
        for m in metrics:
            row = disp.loc[(feature, m)]
            for ours, theirs in [
                (row["difference"], mf.difference(method="between_groups")[m]),
                (row["ratio"], mf.ratio(method="between_groups")[m]),
                (row["difference_to_overall"], mf.difference(method="to_overall")[m]),
                (row["ratio_to_overall"], mf.ratio(method="to_overall")[m]),
            ]:
                np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12,
                                           err_msg=f"{feature}/{m}")


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_features", [1, 2])
def test_criteria_match_fairlearn_functions(seed, n_features):
    # fairlearn's criterion functions report 0 (not NaN) for undefined rates, so use data
    # where every group has both classes and both decisions
    df = make_dataset(seed, n=3000, n_features=n_features, tiny_group=False,
                      no_positive_group=False, with_missing=False)
    cols = df.attrs["sensitive"]
    cells = df.groupby(cols, observed=True)
    assert (cells["y"].nunique() == 2).all() and (cells["pred"].nunique() == 2).all()
    a = faircard.assess(df, target="y", prediction="pred", sensitive=cols,
                        include_small_groups=True)
    feature = " & ".join(cols)
    sf = _sensitive_frame(df, cols)
    y, p = df["y"].to_numpy(), df["pred"].to_numpy()
    crit = a.criteria[feature]
    for name, fn in [
        ("demographic_parity_difference", demographic_parity_difference),
        ("demographic_parity_ratio", demographic_parity_ratio),
        ("equalized_odds_difference", equalized_odds_difference),
        ("equalized_odds_ratio", equalized_odds_ratio),
        ("equal_opportunity_difference", equal_opportunity_difference),
        ("equal_opportunity_ratio", equal_opportunity_ratio),
    ]:
        expected = fn(y, p, sensitive_features=sf if len(cols) > 1 else sf[cols[0]])
        np.testing.assert_allclose(crit[name], expected, rtol=0, atol=1e-12, err_msg=name)
    assert crit["passes_four_fifths"] == (crit["demographic_parity_ratio"] >= 0.8)


@pytest.mark.parametrize("seed", range(5))
def test_score_metrics_match_sklearn(seed):
    df = make_dataset(seed, n=500, n_features=2)
    cols = df.attrs["sensitive"]
    a = faircard.assess(df, target="y", score="score", threshold=0.5, sensitive=cols,
                        include_small_groups=True)
    sf = _sensitive_frame(df, cols)
    for part in [[cols[0]], [cols[1]], cols]:
        feature = " & ".join(part)
        ours = _ours(a, feature)
        keys = sf[part].astype(str).agg(" & ".join, axis=1)
        for g, rows in df.groupby(keys):
            y, s = rows["y"].to_numpy(), rows["score"].to_numpy()
            if _both_classes(y):
                np.testing.assert_allclose(ours.loc[g, "roc_auc"], roc_auc_score(y, s),
                                           rtol=0, atol=1e-12)
            else:
                assert np.isnan(ours.loc[g, "roc_auc"])
            np.testing.assert_allclose(ours.loc[g, "brier_score"], brier_score_loss(y, s),
                                       rtol=0, atol=1e-12)
            np.testing.assert_allclose(ours.loc[g, "log_loss"], log_loss(y, s, labels=[0, 1]),
                                       rtol=0, atol=1e-12)
            # the decision is score >= threshold
            np.testing.assert_allclose(ours.loc[g, "selection_rate"], np.mean(s >= 0.5),
                                       rtol=0, atol=1e-12)
    y, s = df["y"].to_numpy(), df["score"].to_numpy()
    np.testing.assert_allclose(a.overall["roc_auc"], roc_auc_score(y, s), atol=1e-12, rtol=0)
    np.testing.assert_allclose(a.overall["log_loss"], log_loss(y, s), atol=1e-12, rtol=0)


def test_undefined_metrics_are_nan_with_reason(small_df):
    a = faircard.assess(small_df, target="y", prediction="pred", sensitive="sex",
                        include_small_groups=True)
    rows = a.by_group[(a.by_group["group"] == "nopos")].set_index("metric")
    assert np.isnan(rows.loc["true_positive_rate", "value"])
    assert rows.loc["true_positive_rate", "reason"] == "no actual positives in this group"
    assert np.isnan(rows.loc["balanced_accuracy", "value"])
    assert rows.loc["accuracy", "reason"] == ""
    doc = a.to_dict()
    entry = next(e for e in doc["by_group"] if e["group"] == "nopos")
    assert entry["true_positive_rate"] is None
    assert "true_positive_rate" in entry["undefined"]


def test_string_labels_and_categorical_features():
    rng = np.random.default_rng(3)
    n = 500
    df = pd.DataFrame({
        "income": rng.choice([">50K", "<=50K"], size=n),
        "guess": rng.choice([">50K", "<=50K"], size=n),
        "sex": pd.Categorical(rng.choice(["F", "M"], size=n)),
    })
    a = faircard.assess(df, target="income", prediction="guess", sensitive="sex")
    y = (df["income"] == ">50K").to_numpy()
    p = (df["guess"] == ">50K").to_numpy()
    assert a.cube.pos_label == ">50K"
    for g in ["F", "M"]:
        m = (df["sex"] == g).to_numpy()
        got = _ours(a, "sex").loc[g]
        assert got["accuracy"] == pytest.approx(accuracy_score(y[m], p[m]), abs=1e-12)
        assert got["true_positive_rate"] == pytest.approx(recall_score(y[m], p[m]), abs=1e-12)
