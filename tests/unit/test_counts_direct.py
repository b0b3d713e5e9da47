"""The engine's score statistics called directly, against scikit-learn: ROC AUC per group with
ties, one-class groups, groups with no rows and more groups than a 16-bit integer holds;
Brier score and log loss only for probabilities. (Written from the mutation-testing report.)"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import faircard
from faircard.counts import auc_by_group, is_probability


def _sklearn_auc(y, s, g, n_groups):
    out = np.full(n_groups, np.nan)
    for k in range(n_groups):
        m = g == k
        if m.any() and 0 < y[m].sum() < m.sum():
            out[k] = roc_auc_score(y[m], s[m])
    return out


@pytest.mark.parametrize("with_order", [False, True])
def test_auc_by_group_matches_sklearn_with_ties_and_empty_groups(with_order):
    rng = np.random.default_rng(4)
    n, n_groups = 3000, 7  # groups 5 and 6 get no rows; group 4 has one class only
    g = rng.integers(0, 5, n)
    y = (rng.random(n) < 0.4).astype(int)
    y[g == 4] = 0
    s = np.round(0.3 * y + rng.random(n), 1)  # many ties
    lowest = np.flatnonzero(g == 0)[np.argmin(s[g == 0])]
    y[lowest], s[lowest] = 1, -1.0  # group 0's lowest score is a positive
    order = np.argsort(s, kind="stable") if with_order else None
    ours = auc_by_group(y, s, g, n_groups, order)
    assert ours.shape == (n_groups,)
    np.testing.assert_allclose(ours, _sklearn_auc(y, s, g, n_groups), rtol=0, atol=1e-12)
    assert np.isnan(ours[4]) and np.isnan(ours[5:]).all()


def test_auc_by_group_with_more_groups_than_int16_holds():
    n_groups = 2**15 + 40
    g = np.repeat(np.arange(n_groups), 2)
    y = np.tile([0, 1], n_groups)
    # the positive scores higher in even groups and lower in odd ones
    s = np.where((g % 2 == 0) == (y == 1), 0.9, 0.1) + g * 1e-7
    auc = auc_by_group(y, s, g, n_groups)
    np.testing.assert_array_equal(auc, np.where(np.arange(n_groups) % 2 == 0, 1.0, 0.0))


@pytest.mark.parametrize("scores, expected", [
    ([0.0, 0.5, 1.0], True), ([0.2, 0.3], True), ([-0.01, 0.5], False), ([0.5, 1.01], False),
    ([0.5, 1.5], False), ([-1.0, 2.0], False), ([], False), ([1, 5, 10], False),
])
def test_is_probability_at_its_bounds(scores, expected):
    assert is_probability(np.asarray(scores, dtype=float)) is expected


def test_brier_and_log_loss_only_for_probabilities():
    from sklearn.metrics import brier_score_loss, log_loss

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"y": rng.integers(0, 2, 400), "g": rng.choice(["a", "b"], 400)})
    df["p"] = rng.random(400)
    df["decile"] = rng.integers(1, 11, 400)
    prob = faircard.assess(df, target="y", score="p", sensitive="g", n_boot=0)
    deciles = faircard.assess(df, target="y", score="decile", threshold=5, sensitive="g",
                              n_boot=0)
    for name in ("a", "b"):
        m = df["g"] == name
        bg = prob.by_group.set_index(["group", "metric"])["value"]
        assert bg[(name, "brier_score")] == pytest.approx(
            brier_score_loss(df.y[m], df.p[m]), abs=1e-12)
        assert bg[(name, "log_loss")] == pytest.approx(log_loss(df.y[m], df.p[m]), abs=1e-12)
        nb = deciles.by_group.set_index(["group", "metric"])["value"]
        assert np.isnan(nb[(name, "brier_score")]) and np.isnan(nb[(name, "log_loss")])
        assert not np.isnan(nb[(name, "roc_auc")])
    assert np.isnan(deciles.overall["brier_score"]) and np.isnan(deciles.overall["log_loss"])
