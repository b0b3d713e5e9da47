"""Metrics and disparities derived from confusion counts; tidy DataFrames out.

All functions are vectorised over leading axes: ``counts[..., 4]`` in ``[tn, fp, fn, tp]``
order (see :mod:`faircard.counts`), so the same code serves one group, all groups, every
threshold of a sweep and every bootstrap replicate. Undefined values (0/0) are NaN; the reason
is available from :data:`UNDEFINED_REASONS`.
"""

from __future__ import annotations

import numpy as np

COUNT_METRICS = (
    "count",
    "selection_rate",
    "accuracy",
    "balanced_accuracy",
    "precision",
    "true_positive_rate",
    "false_positive_rate",
    "true_negative_rate",
    "false_negative_rate",
    "negative_predictive_value",
    "false_discovery_rate",
    "false_omission_rate",
    "f1",
    "prevalence",
)
SCORE_METRICS = ("roc_auc", "brier_score", "log_loss")
ALL_METRICS = COUNT_METRICS + SCORE_METRICS

DEFAULT_METRICS = (
    "selection_rate",
    "accuracy",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
)

LABELS = {
    "count": "Count",
    "selection_rate": "Selection rate",
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "precision": "Precision",
    "true_positive_rate": "True positive rate",
    "false_positive_rate": "False positive rate",
    "true_negative_rate": "True negative rate",
    "false_negative_rate": "False negative rate",
    "negative_predictive_value": "Negative predictive value",
    "false_discovery_rate": "False discovery rate",
    "false_omission_rate": "False omission rate",
    "f1": "F1 score",
    "prevalence": "Prevalence (base rate)",
    "roc_auc": "ROC AUC",
    "brier_score": "Brier score",
    "log_loss": "Log loss",
}

HIGHER_IS_BETTER: dict[str, bool | None] = {
    "count": None,
    "selection_rate": None,
    "prevalence": None,
    "accuracy": True,
    "balanced_accuracy": True,
    "precision": True,
    "true_positive_rate": True,
    "true_negative_rate": True,
    "negative_predictive_value": True,
    "f1": True,
    "roc_auc": True,
    "false_positive_rate": False,
    "false_negative_rate": False,
    "false_discovery_rate": False,
    "false_omission_rate": False,
    "brier_score": False,
    "log_loss": False,
}
"""Direction of each metric; None where neither direction is better in itself."""

UNDEFINED_REASONS = {
    "true_positive_rate": "no actual positives in this group",
    "false_negative_rate": "no actual positives in this group",
    "false_positive_rate": "no actual negatives in this group",
    "true_negative_rate": "no actual negatives in this group",
    "precision": "no predicted positives in this group",
    "false_discovery_rate": "no predicted positives in this group",
    "negative_predictive_value": "no predicted negatives in this group",
    "false_omission_rate": "no predicted negatives in this group",
    "f1": "no actual or predicted positives in this group",
    "balanced_accuracy": "needs both actual positives and actual negatives",
    "roc_auc": "needs both actual positives and actual negatives",
    "brier_score": "scores are not probabilities in [0, 1]",
    "log_loss": "scores are not probabilities in [0, 1]",
}


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return np.where(den == 0, np.nan, out)


def metrics_from_counts(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Every count-derived metric (keys of :data:`COUNT_METRICS`) from ``counts[..., 4]``."""
    c = np.asarray(counts)
    tn, fp, fn, tp = (c[..., i].astype(np.float64) for i in range(4))
    n = tn + fp + fn + tp
    pos = tp + fn
    neg = tn + fp
    tpr = _div(tp, pos)
    tnr = _div(tn, neg)
    return {
        # the number of people: under a randomised policy the expected counts add up to it
        # only up to rounding (2453.999... for 2454), and a count is a whole number
        "count": np.rint(n),
        "selection_rate": _div(tp + fp, n),
        "accuracy": _div(tp + tn, n),
        "balanced_accuracy": (tpr + tnr) / 2.0,
        "precision": _div(tp, tp + fp),
        "true_positive_rate": tpr,
        "false_positive_rate": _div(fp, neg),
        "true_negative_rate": tnr,
        "false_negative_rate": _div(fn, pos),
        "negative_predictive_value": _div(tn, tn + fn),
        "false_discovery_rate": _div(fp, tp + fp),
        "false_omission_rate": _div(fn, tn + fn),
        "f1": _div(2 * tp, 2 * tp + fp + fn),
        "prevalence": _div(pos, n),
    }


def metric_from_counts(name: str, counts: np.ndarray) -> np.ndarray:
    """One count-derived metric from ``counts[..., 4]``."""
    if name not in COUNT_METRICS:
        raise KeyError(name)
    return metrics_from_counts(counts)[name]


# ---------------------------------------------------------------- disparities


def between_groups(values: np.ndarray) -> tuple[float, float]:
    """(max - min, min / max) over groups, skipping NaN, as fairlearn's ``between_groups``;
    NaN for both when fewer than two values are defined. (fairlearn gives a gap of 0 and a
    ratio of 1 when one group alone has a value, for example a true positive rate where the
    other groups have no actual positives: nothing was compared, so that is not parity.)"""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size < 2:
        return np.nan, np.nan
    lo, hi = float(v.min()), float(v.max())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.float64(lo) / np.float64(hi)
    return hi - lo, float(ratio)


def to_overall(values: np.ndarray, overall: float) -> tuple[float, float]:
    """(max |g - overall|, min of g/overall folded below 1), as fairlearn's ``to_overall``."""
    v = np.asarray(values, dtype=np.float64)
    diff = np.abs(v - overall)
    diff = diff[~np.isnan(diff)]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = v / np.float64(overall)
        r = np.where(r > 1, 1.0 / r, r)
    r = r[~np.isnan(r)]
    return (float(diff.max()) if diff.size else np.nan, float(r.min()) if r.size else np.nan)


def has_worse_end(metric: str) -> bool:
    """Whether one end of ``metric`` is worse for people (an error rate, accuracy, the
    selection rate read through what a decision means), so its extreme groups are the worst
    and the best; the base rate (prevalence) and the count have no worse end: their extreme
    groups are only the lowest and the highest."""
    return metric == "selection_rate" or HIGHER_IS_BETTER.get(metric) is not None


def extreme_names(metric: str, worst: str, best: str) -> tuple[str, str]:
    """How the worst and best group of a disparity row are shown: as they are, or, for a
    metric without a worse end (:func:`has_worse_end`), marked as the lowest and highest."""
    if has_worse_end(metric):
        return worst, best
    return f"{worst} (lowest)", f"{best} (highest)"


def worst_and_best(values: np.ndarray, metric: str,
                   favorable_outcome: str = "positive") -> tuple[int | None, int | None]:
    """Indices of the worst and best group for ``metric`` (NaN skipped).

    The best group for the selection rate is the one that gets the most favourable decisions:
    the highest rate when a positive decision is favourable (``favorable_outcome="positive"``),
    the lowest when it is adverse (``"negative"``). For the other metrics with no better
    direction (prevalence, count) the lowest value is called worst.
    """
    v = np.asarray(values, dtype=np.float64)
    ok = np.flatnonzero(~np.isnan(v))
    if ok.size == 0:
        return None, None
    lo = int(ok[np.argmin(v[ok])])
    hi = int(ok[np.argmax(v[ok])])
    adverse_selection = metric == "selection_rate" and favorable_outcome == "negative"
    if HIGHER_IS_BETTER.get(metric) is False or adverse_selection:
        return hi, lo
    return lo, hi
