"""Each group's ROC and precision-recall points from an exact sweep are scikit-learn's
roc_curve and precision_recall_curve on the group's rows, at every threshold they give."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import precision_recall_curve, roc_curve

from faircard.thresholds import roc_pr_curves, sweep


@pytest.mark.parametrize("seed, decimals", [(0, 2), (1, 4)])
def test_roc_and_pr_points_equal_sklearn_per_group(seed, decimals):
    rng = np.random.default_rng(seed)
    n = 3000
    g = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    y = rng.random(n) < np.array([0.3, 0.5, 0.4])[g]
    s = np.clip(0.3 * y + rng.normal(0.4, 0.2, n), 0, 1).round(decimals)  # ties at 2 decimals
    groups = ["a", "b", "c"]
    curves = roc_pr_curves(sweep(y, s, g, groups, exact=True), "f")
    for j, name in enumerate(groups):
        mine = curves[curves.group == name].set_index("threshold")
        fpr, tpr, at = roc_curve(y[g == j], s[g == j], drop_intermediate=False)
        assert len(at) == len(np.unique(s[g == j])) + 1
        # scikit-learn's first threshold (nobody positive) is +inf, as the sweep's last
        rows = mine.loc[at]
        np.testing.assert_array_equal(rows.false_positive_rate.to_numpy(), fpr)
        np.testing.assert_array_equal(rows.true_positive_rate.to_numpy(), tpr)
        precision, recall, at = precision_recall_curve(y[g == j], s[g == j],
                                                       drop_intermediate=False)
        rows = mine.loc[at]  # its last point (recall 0, precision 1) has no threshold
        np.testing.assert_allclose(rows.precision.to_numpy(), precision[:-1], rtol=0, atol=1e-15)
        np.testing.assert_allclose(rows.recall.to_numpy(), recall[:-1], rtol=0, atol=1e-15)
        # with nobody positive, precision is undefined (n/a), not scikit-learn's made-up 1
        assert np.isnan(mine.loc[np.inf, "precision"])
