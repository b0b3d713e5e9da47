"""Threshold sweeps from one pass: per-group counts at every threshold, ROC and PR curves.

Each row gets the number of thresholds at or below its score (``np.searchsorted``); one
``np.bincount`` over (that index, group, label) and a reverse cumulative sum give the
confusion counts of every group at every threshold. A row is predicted positive at threshold
``t`` when ``score >= t``, the rule of ``faircard assess --threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .metrics import metrics_from_counts


def exact_thresholds(y_score: np.ndarray) -> np.ndarray:
    """Every distinct score, ascending, then +inf (nobody selected)."""
    return np.append(np.unique(y_score), np.inf)


def grid_thresholds(y_score: np.ndarray, n: int = 1001) -> np.ndarray:
    """``n`` thresholds at quantiles of the scores (plus +inf), distinct and ascending."""
    q = np.quantile(y_score, np.linspace(0, 1, n))
    return np.append(np.unique(q), np.inf)


def sweep_counts(y_true: np.ndarray, y_score: np.ndarray, group: np.ndarray, n_groups: int,
                 thresholds: np.ndarray) -> np.ndarray:
    """Confusion counts ``[tn, fp, fn, tp]`` at every threshold for every group.

    ``thresholds`` ascending (float64, K); returns int64 (K, n_groups, 4).
    """
    t = np.asarray(thresholds, dtype=np.float64)
    k = len(t)
    idx = np.searchsorted(t, y_score, side="right")  # rows positive at t_j iff idx > j
    code = (idx * n_groups + group) * 2 + y_true.astype(np.int64)
    hist = np.bincount(code, minlength=(k + 1) * n_groups * 2).reshape(k + 1, n_groups, 2)
    # selected at t_j: rows with idx >= j + 1 -> reverse cumulative sum over idx
    selected = np.cumsum(hist[::-1], axis=0)[::-1][1:]  # (k, G, 2)
    totals = hist.sum(axis=0)  # (G, 2)
    tp = selected[..., 1]
    fp = selected[..., 0]
    fn = totals[None, :, 1] - tp
    tn = totals[None, :, 0] - fp
    return np.stack([tn, fp, fn, tp], axis=-1)


@dataclass(frozen=True)
class Sweep:
    """Counts of every group (and overall) at every threshold."""

    thresholds: np.ndarray
    groups: tuple[str, ...]
    counts: np.ndarray
    """(K, G, 4) per group; overall is ``counts.sum(axis=1)``."""

    def metrics(self) -> dict[str, np.ndarray]:
        """Every count metric, each (K, G)."""
        return metrics_from_counts(self.counts)

    def overall(self) -> dict[str, np.ndarray]:
        """Every count metric of all rows, each (K,)."""
        return metrics_from_counts(self.counts.sum(axis=1))

    def frame(self, metrics: list[str] | None = None, feature: str = "") -> pd.DataFrame:
        """Tidy: threshold, feature, group, and one column per metric."""
        vals = self.metrics()
        keys = metrics or list(vals)
        k, g = self.counts.shape[:2]
        out = pd.DataFrame({
            "threshold": np.repeat(self.thresholds, g),
            "feature": feature,
            "group": np.tile(np.array(self.groups, dtype=object), k),
        })
        for m in keys:
            out[m] = vals[m].reshape(-1)
        return out


def sweep(y_true, y_score, group, groups, thresholds=None, exact: bool = False) -> Sweep:
    """Sweep thresholds (exact: every distinct score; default: a 1,001-point quantile grid)."""
    y_score = np.asarray(y_score, dtype=np.float64)
    if thresholds is None:
        thresholds = exact_thresholds(y_score) if exact else grid_thresholds(y_score)
    counts = sweep_counts(np.asarray(y_true, bool), y_score, np.asarray(group, np.int64),
                          len(groups), np.asarray(thresholds, np.float64))
    return Sweep(np.asarray(thresholds, np.float64), tuple(groups), counts)


def sweep_assessment(assessment, feature: str | None = None, exact: bool = False) -> Sweep:
    """The sweep of an assessment's scores for one partition (default: the first feature)."""
    prepared = assessment.prepared
    if prepared.y_score is None:
        from .errors import FaircardError

        raise FaircardError("Thresholds need a score column (or a model with scores), not "
                            "predicted labels.")
    parts = {p.name: p for p in prepared.index.partitions(assessment.spec.intersection)}
    part = parts[feature or assessment.features[0]]
    group = part.cell_to_group[prepared.index.cell]
    return sweep(prepared.y_true, prepared.y_score, group, part.groups, exact=exact)


def roc_pr_curves(sw: Sweep, feature: str = "") -> pd.DataFrame:
    """ROC and precision-recall points per group (tidy), from an exact or grid sweep."""
    m = sw.metrics()
    k, g = sw.counts.shape[:2]
    return pd.DataFrame({
        "feature": feature,
        "group": np.tile(np.array(sw.groups, dtype=object), k),
        "threshold": np.repeat(sw.thresholds, g),
        "false_positive_rate": m["false_positive_rate"].reshape(-1),
        "true_positive_rate": m["true_positive_rate"].reshape(-1),
        "precision": m["precision"].reshape(-1),
        "recall": m["true_positive_rate"].reshape(-1),
    })


def auc_from_sweep(sw: Sweep) -> np.ndarray:
    """ROC AUC per group by the trapezoid rule over the sweep (exact with an exact sweep)."""
    m = sw.metrics()
    fpr = np.vstack([np.ones(len(sw.groups)), m["false_positive_rate"]])
    tpr = np.vstack([np.ones(len(sw.groups)), m["true_positive_rate"]])
    # thresholds ascend, so rates descend; integrate from (0,0) to (1,1)
    fpr, tpr = fpr[::-1], tpr[::-1]
    fpr = np.vstack([np.zeros(len(sw.groups)), fpr])
    tpr = np.vstack([np.zeros(len(sw.groups)), tpr])
    return np.trapezoid(tpr, fpr, axis=0)


def costs_at(counts: np.ndarray, fp_cost: float, fn_cost: float) -> np.ndarray:
    """Total cost ``fp * fp_cost + fn * fn_cost`` of counts ``[..., 4]``."""
    return counts[..., 1] * fp_cost + counts[..., 2] * fn_cost
