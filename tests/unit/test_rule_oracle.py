"""Every figure of the model card (JSON and Markdown) and of ``assess --json`` follows the
decision rule the card states: one threshold, one per group, or a randomised mix, with a
positive decision favourable or adverse.

The oracle reads only the rows and the rule as the card writes it, then counts with
scikit-learn on group masks (expected counts of a randomised rule: each row counted once as
decided positive with its probability as weight and once as decided negative with the rest)
and fairlearn's ``MetricFrame`` for the between-group criteria. Small synthetic data always
runs; COMPAS, Adult and German credit run when their files are present.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    confusion_matrix,
    log_loss,
    roc_auc_score,
)

import faircard
from faircard.card import build_card
from faircard.cli import main
from faircard.decision import DecisionPolicy
from faircard.render import render_markdown
from tests.conftest import make_dataset
from tests.policy_parts import written_probability

ROOT = Path(__file__).resolve().parents[2]
DATA_DIRS = [os.environ.get("FAIRCARD_DATA_DIR", ""), str(ROOT.parent / "shared" / "data"),
             "/work/shared/data"]
MISSING = "(missing)"


def data_file(name: str) -> Path:
    for d in DATA_DIRS:
        if d and (Path(d) / name).is_file():
            return Path(d) / name
    pytest.skip(f"{name} is not in any of {', '.join(d for d in DATA_DIRS if d)}")


# ------------------------------------------------------------------ the oracle


def labels_of(df: pd.DataFrame, partition: str) -> pd.Series:
    """Each row's group of ``partition`` ("race" or "sex & race"), missing values as a group."""
    cols = partition.split(" & ")
    parts = [df[c].astype(object).where(df[c].notna(), MISSING).astype(str) for c in cols]
    out = parts[0]
    for p in parts[1:]:
        out = out + " & " + p
    return out


def stated_probability(df: pd.DataFrame, decision: dict, score: str) -> np.ndarray:
    """P(positive decision) per row under the rule as the card states it."""
    s = df[score].to_numpy(dtype=np.float64)
    if "threshold" in decision:
        return (s >= decision["threshold"]).astype(np.float64)
    pol = decision["policy"]
    lab = labels_of(df, pol["feature"]).to_numpy()
    p = np.full(len(df), np.nan)
    for group, t in pol["thresholds"].items():
        m = lab == group
        p[m] = written_probability(s[m], t, (pol.get("mix") or {}).get(group))
    assert not np.isnan(p).any(), "the stated policy leaves rows without a rule"
    return p


def expanded(y: np.ndarray, p: np.ndarray):
    """Rows twice: decided positive (weight p) and negative (weight 1 - p)."""
    return (np.concatenate([y, y]), np.concatenate([np.ones(len(y)), np.zeros(len(y))]),
            np.concatenate([p, 1 - p]))


def sk_metrics(y: np.ndarray, p: np.ndarray, s: np.ndarray, probability: bool
               ) -> dict[str, float]:
    """Every metric of the rows ``y`` decided positive with probability ``p``; ``s``: their
    scores (``probability``: every score of the dataset lies in [0, 1])."""
    yy, dd, w = expanded(y, p)
    if not len(y):
        return {}
    tn, fp, fn, tp = confusion_matrix(yy, dd, labels=[0, 1], sample_weight=w).ravel()

    def ratio(a, b):
        return a / b if b > 1e-12 else np.nan

    tpr, tnr = ratio(tp, tp + fn), ratio(tn, tn + fp)
    return {
        "count": len(y),
        "selection_rate": float(np.average(dd, weights=w)),
        "accuracy": accuracy_score(yy, dd, sample_weight=w),
        "balanced_accuracy": (tpr + tnr) / 2,
        "precision": ratio(tp, tp + fp),
        "true_positive_rate": tpr,
        "false_positive_rate": ratio(fp, fp + tn),
        "true_negative_rate": tnr,
        "false_negative_rate": ratio(fn, fn + tp),
        "negative_predictive_value": ratio(tn, tn + fn),
        "false_discovery_rate": ratio(fp, fp + tp),
        "false_omission_rate": ratio(fn, fn + tn),
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
        "prevalence": float(np.mean(y)),
        "roc_auc": roc_auc_score(y, s) if 0 < y.sum() < len(y) else np.nan,
        "brier_score": brier_score_loss(y, s) if probability else np.nan,
        "log_loss": log_loss(y, s, labels=[0, 1]) if probability else np.nan,
    }


def fairlearn_criteria(labels, y, p, included, favorable):
    """Between-group criteria over ``included`` groups (``labels``: each row's group) with
    fairlearn's MetricFrame."""
    yy, dd, w = expanded(y, p)
    lab = np.concatenate([labels] * 2)
    # rows alike in group, outcome and decision added up into one weighted row (fairlearn
    # weighs them the same way; it is slow on tens of thousands of rows)
    rows = pd.DataFrame({"g": lab, "y": yy, "d": dd, "w": w})
    rows = rows[rows["g"].isin(included)].groupby(["g", "y", "d"], as_index=False)["w"].sum()
    lab, yy, dd, w = (rows[c].to_numpy() for c in ("g", "y", "d", "w"))
    keep = np.ones(len(rows), dtype=bool)

    def tpr(y_true, y_pred, sample_weight):
        pos = y_true == 1
        return np.average(y_pred[pos], weights=sample_weight[pos])

    def fpr(y_true, y_pred, sample_weight):
        neg = y_true == 0
        return np.average(y_pred[neg], weights=sample_weight[neg])

    mf = MetricFrame(metrics={"sr": selection_rate, "tpr": tpr, "fpr": fpr},
                     y_true=yy[keep], y_pred=dd[keep], sensitive_features=lab[keep],
                     sample_params={k: {"sample_weight": w[keep]} for k in ("sr", "tpr",
                                                                              "fpr")})
    diff, low, high = mf.difference(), mf.group_min(), mf.group_max()
    fav = 1 - mf.by_group["sr"] if favorable == "negative" else mf.by_group["sr"]
    return {
        "demographic_parity_difference": diff["sr"],
        "demographic_parity_ratio": low["sr"] / high["sr"],
        "equal_opportunity_difference": diff["tpr"],
        "equalized_odds_difference": max(diff["tpr"], diff["fpr"]),
        "disparate_impact_ratio": fav.min() / fav.max(),
    }


def close(a, b) -> bool:
    a = np.nan if a is None else float(a)
    return bool(np.isclose(a, b, rtol=0, atol=1e-9, equal_nan=True))


def check_card(card, df, target_y, score) -> None:
    """Every value of the card's JSON against the oracle under the card's stated rule."""
    d = card.to_dict()
    p = stated_probability(df, d["metrics"]["decision"], score)
    q = d["quantitative"]
    fav = d["metrics"]["favorable_outcome"]
    s = df[score].to_numpy(dtype=np.float64)
    prob = bool(s.min() >= 0 and s.max() <= 1)
    overall = sk_metrics(target_y, p, s, prob)
    for m, v in q["overall"].items():
        assert close(v, overall[m]), ("overall", m, v, overall[m])
    sizes = {}
    labels = {f: labels_of(df, f).to_numpy() for f in q["criteria"]}
    for row in q["by_group"]:
        mask = labels[row["feature"]] == row["group"]
        assert row["n"] == mask.sum(), (row["feature"], row["group"])
        sizes[(row["feature"], row["group"])] = row["n"]
        expect = sk_metrics(target_y[mask], p[mask], s[mask], prob)
        for m, v in row["values"].items():
            assert close(v, expect[m]), (row["feature"], row["group"], m, v, expect[m])
    for feature, crit in q["criteria"].items():
        included = [g for (f, g), n in sizes.items() if f == feature and n >= q["min_group_size"]]
        if len(included) < 2:
            continue
        expect = fairlearn_criteria(labels[feature], target_y, p, included, fav)
        for k, v in expect.items():
            assert close(crit[k], v), (feature, k, crit[k], v)
        assert crit["passes_four_fifths"] == (expect["disparate_impact_ratio"] >= 0.8)
    # the Markdown shows the same figures, to its three decimals
    md = render_markdown(card)
    for row in q["by_group"]:
        cells = _md_row(md, row["feature"], row["group"])
        for met, cell in zip(d["metrics"]["shown"], cells[2:], strict=True):
            v = row["values"][met]
            shown = cell.split(" ")[0]
            assert shown == "n/a" if v is None else abs(float(shown) - v) <= 5e-4 + 1e-12, \
                (row["group"], met, cell, v)


def _md_row(md: str, feature: str, group: str) -> list[str]:
    section = md.split(f"### By {_md_escape(feature)}\n", 1)[1].split("\n### ", 1)[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == _md_escape(group):
            return cells
    raise AssertionError(f"no row for {group!r} under {feature!r}")


def _md_escape(text: str) -> str:
    return text.replace("&", "&amp;")


# ------------------------------------------------------------------ rules on synthetic data


def _policies(df: pd.DataFrame) -> dict[str, DecisionPolicy]:
    groups = sorted(df["sex"].astype(str).unique())
    ts = {g: round(0.3 + 0.1 * i, 2) for i, g in enumerate(groups)}
    mix = {groups[0]: (0.37, 0.55), groups[1]: (0.8123456, 0.2)}
    return {
        "single": DecisionPolicy.single(0.45),
        "per_group": DecisionPolicy.per_group("sex", ts),
        "randomised": DecisionPolicy.per_group("sex", ts, mix=mix),
    }


@pytest.mark.parametrize("favorable", ["positive", "negative"])
@pytest.mark.parametrize("rule", ["single", "per_group", "randomised"])
def test_card_figures_follow_the_stated_rule_on_synthetic_data(rule, favorable):
    df = make_dataset(11, n=700)
    policy = _policies(df)[rule]
    a = faircard.assess(df, target="y", score="score", sensitive=["sex", "race"],
                        policy=policy, favorable_outcome=favorable, n_boot=0)
    card = build_card(a, metrics=list(a.metrics))
    assert card.to_dict()["metrics"]["decision"].get("threshold", 0.45) == 0.45
    check_card(card, df, df["y"].to_numpy(), "score")


@pytest.mark.parametrize("rule", ["single", "randomised"])
def test_assessment_counts_are_whole_people_under_every_rule(rule, tmp_path):
    """``count`` is the number of people of a group (and of all rows), whatever the rule: a
    randomised rule's expected counts add up to it only up to rounding, and the JSON must not
    cut 2453.999... down to 2453."""
    rng = np.random.default_rng(0)
    n = 3000
    df = pd.DataFrame({"g": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
                       "h": rng.choice(["x", "y", "z", "w"], n),
                       "s": rng.integers(1, 11, n), "y": rng.integers(0, 2, n)})
    policy = DecisionPolicy.single(5) if rule == "single" else DecisionPolicy.per_group(
        "g", {"a": 7, "b": 6, "c": 5},
        mix={"a": (0.9513386361431759, 6), "b": (0.010718789407314045, 5),
             "c": (0.7761571841851495, 4)})
    doc = faircard.assess(df, target="y", score="s", sensitive=["g", "h"], policy=policy,
                          n_boot=0).to_dict()
    data, policy_file = tmp_path / "d.csv", tmp_path / "policy.json"
    df.to_csv(data, index=False)
    policy_file.write_text(json.dumps(policy.to_dict()))
    assert doc["overall"]["count"] == n
    for row in doc["by_group"]:
        size = (labels_of(df, row["feature"]) == row["group"]).sum()
        assert row["count"] == row["n"] == size, (row["feature"], row["group"])
    # the CSV writes people as whole numbers too ("2454", not "2454.0")
    path = tmp_path / "by_group.csv"
    assert main(["assess", str(data), "--target", "y", "--score", "s", "--sensitive", "g",
                 "--sensitive", "h", "--policy", str(policy_file), "--bootstrap", "0",
                 "--csv", str(path)]) == 0
    written = pd.read_csv(path, dtype=str)
    for row in written.itertuples():
        size = (labels_of(df, row.feature) == row.group).sum()
        assert row.n == row.count == str(size), (row.feature, row.group, row.n, row.count)


# ------------------------------------------------------------------ the real datasets


def _compas():
    df = pd.read_csv(data_file("compas-scores-two-years.csv"))
    return df[["race", "sex", "decile_score", "two_year_recid"]], "two_year_recid", \
        "decile_score", ["race", "sex"]


def _adult():
    cols = ("age workclass fnlwgt education education_num marital_status occupation "
            "relationship race sex capital_gain capital_loss hours_per_week native_country "
            "income").split()
    df = pd.read_csv(data_file("adult.data"), header=None, names=cols, skipinitialspace=True)
    df["y"] = (df["income"] == ">50K").astype(int)
    # a transparent score in [0, 1]: years of education, rounded (ties on purpose)
    df["score"] = (df["education_num"] / 16).round(3)
    return df[["race", "sex", "score", "y"]], "y", "score", ["race", "sex"]


def _german():
    df = pd.read_csv(data_file("german.data"), sep=" ", header=None)
    out = pd.DataFrame({
        "sex": df[8].map({"A91": "male", "A93": "male", "A94": "male", "A92": "female",
                          "A95": "female"}),
        "age": np.where(df[12] > 25, "over 25", "25 or under"),
        "y": (df[20] == 1).astype(int),
        # the loan's duration in months, shorter read as safer
        "score": 1 - df[1] / 72,
    })
    return out, "y", "score", ["sex", "age"]


REAL = {"compas": _compas, "adult": _adult, "german": _german}


@pytest.mark.parametrize("name", list(REAL))
def test_card_figures_follow_the_stated_rule_on_real_data(name):
    df, target, score, sensitive = REAL[name]()
    s = df[score]
    feature = sensitive[0]
    groups = sorted(df[feature].astype(str).unique())
    qs = np.quantile(s, [0.3, 0.45, 0.6, 0.7, 0.5, 0.55, 0.65])
    ts = {g: float(qs[i % len(qs)]) for i, g in enumerate(groups)}
    mix = {groups[0]: (0.3, float(qs[1])), groups[-1]: (0.6, float(qs[4]))}
    favorable = "negative" if name == "compas" else "positive"
    for policy in (DecisionPolicy.single(float(qs[2])), DecisionPolicy.per_group(feature, ts),
                   DecisionPolicy.per_group(feature, ts, mix=mix)):
        a = faircard.assess(df, target=target, score=score, sensitive=sensitive,
                            policy=policy, favorable_outcome=favorable, n_boot=0)
        check_card(build_card(a), df, df[target].to_numpy(), score)
        doc = a.to_dict()
        assert doc["overall"]["count"] == len(df)
        assert all(r["count"] == r["n"] for r in doc["by_group"])


def test_markdown_rule_is_the_rule_of_the_figures():
    """The rule the Markdown card writes out, read back from the text, gives its figures."""
    df = make_dataset(5, n=500)
    policy = _policies(df)["per_group"]
    a = faircard.assess(df, target="y", score="score", sensitive="sex", policy=policy,
                        n_boot=0)
    md = render_markdown(build_card(a))
    stated = re.search(r"Thresholds per group of sex: (.*?)\.(?: |$)", md, re.M).group(1)
    ts = {}
    for part in stated.split("; "):  # a small group's threshold is followed by its mark
        g, t = re.sub(r" \((?:fewer than \d+ people: [a-z ]+)\)$", "", part).rsplit(" ", 1)
        ts[g] = float(t)
    p = stated_probability(df, {"policy": {"feature": "sex", "thresholds": ts}}, "score")
    y = df["y"].to_numpy()
    for row in build_card(a).to_dict()["quantitative"]["by_group"]:
        mask = (df["sex"].astype(str) == row["group"]).to_numpy()
        expect = sk_metrics(y[mask], p[mask], df["score"].to_numpy()[mask], True)
        for m, v in row["values"].items():
            assert close(v, expect[m])
