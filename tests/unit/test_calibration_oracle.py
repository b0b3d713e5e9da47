"""Calibration by group against scikit-learn: the reliability curve of each group is
``calibration_curve(strategy="uniform")`` on its rows (scores on the bin edges included), the
expected calibration error is the row-weighted gap of that curve, and the Brier score is
``brier_score_loss``."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from faircard.diagnostics.calibration import calibration_by_group, calibration_table


@pytest.mark.parametrize("n_bins", [5, 10])
def test_calibration_by_group_matches_scikit_learn(n_bins):
    rng = np.random.default_rng(4)
    n = 3000
    group = rng.choice(3, n, p=[0.5, 0.35, 0.15])
    # scores on every edge of the bins (0, 0.1, 0.2, ..., 1) and in between, with ties
    s = np.r_[np.linspace(0, 1, 11), rng.choice(np.linspace(0, 1, 101), n - 11)]
    y = (rng.random(n) < np.clip(s + 0.1 * (group == 1), 0, 1)).astype(int)
    groups = ["a", "b", "c"]
    table = calibration_table(y, s, group, groups, n_bins)
    summary = calibration_by_group(y, s, group, groups, n_bins=n_bins).set_index(
        "group")
    for i, g in enumerate(groups):
        m = group == i
        observed, predicted = calibration_curve(y[m], s[m], n_bins=n_bins, strategy="uniform")
        t = table[table["group"] == g]
        assert t["observed_rate"].to_numpy() == pytest.approx(observed, abs=1e-12)
        assert t["mean_score"].to_numpy() == pytest.approx(predicted, abs=1e-12)
        assert t["n"].sum() == m.sum()
        weights = t["n"].to_numpy() / m.sum()
        assert summary.loc[g, "ece"] == pytest.approx(
            float(np.sum(weights * np.abs(observed - predicted))), abs=1e-12)
        assert summary.loc[g, "brier_score"] == pytest.approx(brier_score_loss(y[m], s[m]),
                                                              abs=1e-12)
        assert summary.loc[g, "calibration_in_the_large"] == pytest.approx(
            s[m].mean() - y[m].mean(), abs=1e-12)


def test_no_calibration_error_interval_leaves_out_its_own_estimate():
    """ECE is biased upward, so a bootstrap of the bins' counts centres above the estimate: its
    percentile interval left out the estimate of perfectly calibrated groups (the scores are
    the probabilities) about a quarter of the time. Any interval shown must hold its estimate."""
    for seed in range(10):
        rng = np.random.default_rng(seed)
        s = rng.uniform(0, 1, 3000)
        y = (rng.uniform(0, 1, 3000) < s).astype(float)
        summary = calibration_by_group(y, s, rng.integers(0, 2, 3000), ["a", "b"])
        assert len(summary) == 2 and summary["ece"].between(0, 0.1).all()
        if {"ece_ci_low", "ece_ci_high"} <= set(summary.columns):
            assert (summary["ece_ci_low"] <= summary["ece"]).all(), summary
            assert (summary["ece"] <= summary["ece_ci_high"]).all(), summary
