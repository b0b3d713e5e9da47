"""The pages on real data (ProPublica's COMPAS file), read through AppTest and checked against
scikit-learn on group masks, fairlearn, statsmodels' Wilson intervals and brute force. Skipped
when the data folder is absent (set FAIRCARD_REAL_DATA to another folder)."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score
from statsmodels.stats.proportion import proportion_confint

from faircard.decision import DecisionPolicy
from tests.app.conftest import new, no_exception, seed_state
from tests.app.test_card_values import _table
from tests.app.test_policy_flow import _carry

DATA = Path(os.environ.get("FAIRCARD_REAL_DATA", "/work/shared/data"))
COMPAS = DATA / "compas-scores-two-years.csv"
pytestmark = pytest.mark.skipif(not COMPAS.exists(), reason="real datasets not available")

METRICS = {"Selection rate (share flagged)": selection_rate, "Accuracy": accuracy_score,
           "True positive rate": true_positive_rate,
           "False positive rate": false_positive_rate,
           "False negative rate": false_negative_rate}
MIN_SIZE = 30


@pytest.fixture(scope="module")
def compas() -> pd.DataFrame:
    df = pd.read_csv(COMPAS)
    # the usual reading: a decile score of 5 or more flags a person as higher risk (adverse)
    return df[["two_year_recid", "decile_score", "race", "sex"]].rename(
        columns={"two_year_recid": "outcome", "decile_score": "risk_score"})


def _seed(page: str, df: pd.DataFrame, policy: DecisionPolicy):
    at = seed_state(new(page), df=df, sensitive=("race", "sex"))
    at.session_state["fc_data_digest"] = "audit-compas"
    at.session_state["fc_favorable"] = "negative"
    at.session_state["fc_policy"] = policy
    return at


def _frame(df, pred) -> MetricFrame:
    return MetricFrame(metrics=dict(METRICS), y_true=df.outcome, y_pred=pred,
                       sensitive_features=df.race)


def _compared(df) -> pd.Series:
    return df.race.map(df.race.value_counts()) >= MIN_SIZE


def test_disparities_page_on_compas_equals_sklearn_fairlearn_and_wilson(compas):
    df = compas
    at = _seed("app_pages/disparities.py", df, DecisionPolicy.single(5.0))
    at.run()
    no_exception(at)
    assert at.selectbox(key="w_feature").value == "race"
    pred = (df.risk_score >= 5).astype(int)
    table = at.dataframe[0].value
    for g, part in df.groupby("race"):
        p = pred[part.index]
        assert table.loc[g, "people"] == f"{len(part):,}"
        assert (table.loc[g, "note"] != "") == (len(part) < MIN_SIZE)
        y = part.outcome
        for label, (k, n) in {
            "Selection rate (share flagged)": (p.sum(), len(p)),
            "Accuracy": ((p == y).sum(), len(p)),
            "True positive rate": ((p & y).sum(), y.sum()),
            "False positive rate": ((p & (1 - y)).sum(), (1 - y).sum()),
            "False negative rate": (((1 - p) & y).sum(), y.sum()),
        }.items():
            lo, hi = proportion_confint(k, n, method="wilson")
            assert table.loc[g, label] == f"{k / n:.3f}  [{lo:.3f}, {hi:.3f}]", (g, label)
    # against the largest group, African-American
    by = _frame(df, pred).by_group
    vs = at.dataframe[1].value
    assert (vs.loc["African-American"] == "reference").all()
    for g in by.index.drop("African-American"):
        for label in METRICS:
            d, r = by.loc[g, label] - by.loc["African-American", label], \
                by.loc[g, label] / by.loc["African-American", label]
            assert vs.loc[g, label] == f"{'+' if d >= 0 else ''}{d:.3f} ({r:.3f}x)"
    # the criteria compare the groups of 30 people or more (Native American has 18)
    big = _compared(df)
    y, p, s = df.outcome[big], pred[big], df.race[big]
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Parity difference"] == f"{demographic_parity_difference(y, p, sensitive_features=s):.3f}"
    assert tiles["Parity ratio"] == f"{demographic_parity_ratio(y, p, sensitive_features=s):.3f}"
    assert tiles["Equalized odds"] == f"{equalized_odds_difference(y, p, sensitive_features=s):.3f}"
    not_flagged = 1 - p
    di = demographic_parity_ratio(y, not_flagged, sensitive_features=s)
    assert tiles["Disparate impact ratio"] == f"{di:.3f}"
    assert tiles["Four-fifths rule"] == ("passes" if di >= 0.8 else "fails")
    assert any("'Native American' (18)" in m.value.replace("\\", "") for m in at.markdown)


def _best_equal_opportunity(df, tolerance):
    """Brute force over every per-group threshold of the compared groups (scores 1-10; 11
    flags nobody), the small group at its most accurate threshold: the most accurate policy
    whose gap in true positive rates is within ``tolerance``, not all groups flagged alike
    all-or-nothing. Returns (accuracy, thresholds)."""
    ts = np.arange(1, 12)
    big = sorted(g for g, n in df.race.value_counts().items() if n >= MIN_SIZE)
    stats = {}
    for g, part in df.groupby("race"):
        s, y = part.risk_score.to_numpy(), part.outcome.to_numpy()
        stats[g] = np.array([[((s >= t) & (y == 1)).sum() / (y == 1).sum(),
                              ((s >= t) == y).sum(), (s >= t).mean()] for t in ts])
    small = {g: int(np.argmax(v[:, 1])) for g, v in stats.items() if g not in big}
    combos = np.array(list(itertools.product(range(len(ts)), repeat=len(big))))
    tpr = np.stack([stats[g][combos[:, k], 0] for k, g in enumerate(big)], 1)
    rate = np.stack([stats[g][combos[:, k], 2] for k, g in enumerate(big)], 1)
    right = sum(stats[g][combos[:, k], 1] for k, g in enumerate(big)) + sum(
        stats[g][i, 1] for g, i in small.items())
    alike = (rate.max(1) == 0) | (rate.min(1) == 1)
    ok = (tpr.max(1) - tpr.min(1) <= tolerance) & ~alike
    best = int(np.flatnonzero(ok)[np.argmax(right[ok])])
    chosen = {g: float(ts[combos[best, k]]) for k, g in enumerate(big)}
    chosen.update({g: float(ts[i]) for g, i in small.items()})
    return right[best] / len(df), chosen


def test_per_group_policy_on_compas_and_the_card_under_it(compas):
    """Equal opportunity within 0.05 on race: the search's thresholds and accuracy equal a
    brute-force search; after "Use this policy" the card states those thresholds and every
    figure of its race and sex tables is fairlearn's under them."""
    df = compas
    at = _seed("app_pages/thresholds.py", df, DecisionPolicy.single(5.0))
    at.run()
    at.selectbox(key="w_constraint").set_value("equal_opportunity").run()
    at.number_input(key="w_tolerance").set_value(0.05).run()
    no_exception(at)
    accuracy, thresholds = _best_equal_opportunity(df, 0.05)
    (summary,) = [s.value.replace("\\", "") for s in at.success]
    assert f"Accuracy: {accuracy:.3f}. It meets equal opportunity within 0.05" in summary
    shown = at.dataframe[-1].value["threshold"].to_dict()
    assert shown == pytest.approx(thresholds)
    at.button(key="use_policy").click().run()
    no_exception(at)

    card = _carry(at, "app_pages/model_card.py")
    card.run()
    no_exception(card)
    preview = "\n".join(m.value for m in card.markdown)
    stated = re.search(r"Thresholds per group of race: (.+?)\. It was chosen", preview).group(1)
    note = f" (fewer than {MIN_SIZE} people: not compared)"
    parts = [p.removesuffix(note) for p in stated.split("; ")]
    assert {g: float(t) for g, t in (p.rsplit(" ", 1) for p in parts)} == \
        pytest.approx(thresholds)
    # The groups marked as not compared are exactly the groups under the small-group bound.
    marked = {p.removesuffix(note).rsplit(" ", 1)[0] for p in stated.split("; ") if p.endswith(note)}
    sizes = df.race.value_counts()
    assert marked == {g for g in thresholds if sizes[g] < MIN_SIZE}
    pred = (df.risk_score >= df.race.map(thresholds)).astype(int)
    for feature in ("race", "sex"):
        mf = MetricFrame(metrics=dict(METRICS), y_true=df.outcome, y_pred=pred,
                         sensitive_features=df[feature])
        rows = {r["Group"]: r for r in _table(preview, f"### By {feature}")}
        assert set(rows) == set(mf.by_group.index)
        for g, row in rows.items():
            n = int((df[feature] == g).sum())
            assert row["People"] == f"{n:,}" + (" (small)" if n < MIN_SIZE else "")
            for label in METRICS:
                assert row[label].split()[0] == f"{mf.by_group.loc[g, label]:.3f}", (g, label)
    overall = {r["Metric"]: r["Value"] for r in _table(preview, "### Overall")}
    for label, fn in METRICS.items():
        assert overall[label] == f"{fn(df.outcome, pred):.3f}"
