"""Worst and best groups follow each metric's direction: for error rates and losses the highest
value is the worst; for accuracy-like metrics the lowest is. The directions are written out here,
from the metrics' definitions, not read from faircard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import faircard

LOWER_IS_BETTER = {"false_positive_rate", "false_negative_rate", "false_discovery_rate",
                   "false_omission_rate", "brier_score", "log_loss"}
HIGHER_IS_BETTER = {"accuracy", "balanced_accuracy", "precision", "true_positive_rate",
                    "true_negative_rate", "negative_predictive_value", "f1", "roc_auc"}


@pytest.fixture(scope="module")
def assessment():
    """Three groups whose scores separate the outcome well ("sharp"), fairly ("fair") and
    poorly ("blurred"): every error rate is ordered sharp < fair < blurred."""
    rng = np.random.default_rng(8)
    parts = []
    for group, noise in (("sharp", 0.08), ("fair", 0.2), ("blurred", 0.4)):
        y = (rng.random(800) < 0.45).astype(int)
        s = np.clip(np.where(y == 1, 0.7, 0.3) + rng.normal(0, noise, 800), 0.001, 0.999)
        parts.append(pd.DataFrame({"g": group, "y": y, "s": s}))
    df = pd.concat(parts, ignore_index=True)
    return faircard.assess(df, target="y", score="s", sensitive="g", n_boot=0)


@pytest.mark.parametrize("metric", sorted(LOWER_IS_BETTER | HIGHER_IS_BETTER))
def test_worst_and_best_follow_the_metrics_direction(assessment, metric):
    bg = assessment.by_group
    values = bg[bg["metric"] == metric].set_index("group")["value"]
    row = assessment.disparities.set_index("metric").loc[metric]
    if metric in LOWER_IS_BETTER:
        worst, best = values.idxmax(), values.idxmin()
    else:
        worst, best = values.idxmin(), values.idxmax()
    assert (row["worst_group"], row["best_group"]) == (worst, best)
    assert (worst, best) == ("blurred", "sharp")  # the data is built this way
    assert row["worst_value"] == values[worst] and row["best_value"] == values[best]


def test_selection_rate_worst_is_the_group_selected_least():
    a = faircard.assess(pd.DataFrame({"g": ["a"] * 50 + ["b"] * 50, "y": [0, 1] * 50,
                                      "p": [1] * 10 + [0] * 40 + [1] * 30 + [0] * 20}),
                        target="y", prediction="p", sensitive="g", n_boot=0)
    row = a.disparities.set_index("metric").loc["selection_rate"]
    assert (row["worst_group"], row["best_group"]) == ("a", "b")
