"""Threshold sweeps from one pass: per-group counts at every threshold, ROC and PR curves.

Each row gets the number of thresholds at or below its score (``np.searchsorted``); one
``np.bincount`` over (that index, group, label) and a reverse cumulative sum give the
confusion counts of every group at every threshold. A row is predicted positive at threshold
``t`` when ``score >= t``, the rule of ``faircard assess --threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .metrics import metrics_from_counts


def exact_thresholds(y_score: np.ndarray) -> np.ndarray:
    """Every distinct score, ascending, then +inf (nobody selected)."""
    return np.append(np.unique(y_score), np.inf)


def grid_thresholds(y_score: np.ndarray, n: int = 1001, weight=None) -> np.ndarray:
    """``n`` thresholds at quantiles of the scores (plus +inf), distinct and ascending (every
    distinct score when there are at most ``n``: quantiles skip some of them where scores are
    sparse, and those can be vertices of a group's ROC hull). Each is
    the shortest decimal number that makes the same decisions as its quantile on these scores
    (0.452 rather than 0.45237...), so that a policy chosen among them can be written down
    exactly and applied as written.

    ``weight``: how many rows each score stands for (a grouped table); the quantiles are then
    those of the rows, computed as ``np.quantile`` computes them on the rows."""
    y_score = np.asarray(y_score, np.float64)
    distinct = np.unique(y_score)
    if len(distinct) <= n:  # every distinct score: no grid of n quantiles tells more apart
        return np.append(_short_same_decisions(distinct, y_score), np.inf)
    q = np.linspace(0, 1, n)
    quantiles = np.quantile(y_score, q) if weight is None else \
        _row_quantiles(y_score, np.asarray(weight), q)
    return np.append(_short_same_decisions(np.unique(quantiles), y_score), np.inf)


def _short_same_decisions(q: np.ndarray, y_score: np.ndarray) -> np.ndarray:
    """Each threshold of ``q`` (ascending) as the shortest number with its decisions on
    ``y_score`` (distinct and ascending): one per distinct set of decisions, so two quantiles
    between the same two scores (2.2 and 3 on whole-number scores) are one candidate, 3."""
    from .decision import shortest_between

    # the highest score below each threshold and the lowest at or above it: scores below q[j]
    # fall in bins 0..j
    k = np.searchsorted(q, y_score, side="right")
    top = np.full(len(q) + 1, -np.inf)
    np.maximum.at(top, k, y_score)
    low = np.maximum.accumulate(top)[:len(q)]
    bottom = np.full(len(q) + 1, np.inf)
    np.minimum.at(bottom, k, y_score)  # bin j + 1 holds the scores in [q[j], q[j + 1])
    high = np.minimum.accumulate(bottom[::-1])[::-1][1:]
    # the same decisions as q[j] are made by any number in (low, high]; above every score,
    # by q[j] itself
    high = np.where(np.isfinite(high), high, q)
    return np.unique([shortest_between(lo, hi)
                      for lo, hi in zip(low.tolist(), high.tolist(), strict=True)])


def _row_quantiles(values: np.ndarray, weight: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(rows, q)`` (linear method) of the rows that ``values`` with their row
    counts ``weight`` stand for, without building the rows."""
    order = np.argsort(values, kind="stable")
    xs = values[order]
    ends = np.cumsum(np.asarray(weight, np.int64)[order])  # row i is xs[searchsorted(ends, i)]
    n = int(ends[-1])
    virtual = (n - 1) * q
    before = np.floor(virtual).astype(np.intp)
    after = before + 1
    top = virtual >= n - 1
    before[top] = n - 1
    after[top] = n - 1
    gamma = virtual - before
    a = xs[np.searchsorted(ends, before, side="right")]
    b = xs[np.searchsorted(ends, after, side="right")]
    # numpy's interpolation, term for term, so the thresholds are bit-for-bit the same
    diff = b - a
    out = a + diff * gamma
    upper = gamma >= 0.5
    out[upper] = (b - diff * (1 - gamma))[upper]
    return out


def sweep_counts(y_true: np.ndarray, y_score: np.ndarray, group: np.ndarray, n_groups: int,
                 thresholds: np.ndarray, weight=None) -> np.ndarray:
    """Confusion counts ``[tn, fp, fn, tp]`` at every threshold for every group.

    ``thresholds`` ascending (float64, K); ``weight``: rows each entry stands for (default
    one); returns int64 (K, n_groups, 4).
    """
    t = np.asarray(thresholds, dtype=np.float64)
    k = len(t)
    idx = np.searchsorted(t, y_score, side="right")  # rows positive at t_j iff idx > j
    code = (idx * n_groups + group) * 2 + y_true.astype(np.int64)
    hist = np.bincount(code, weights=None if weight is None else np.asarray(weight, np.float64),
                       minlength=(k + 1) * n_groups * 2)
    hist = np.rint(hist).astype(np.int64).reshape(k + 1, n_groups, 2)
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
    max_score: float | None = None
    """The highest score swept (None when unknown): a threshold above it selects nobody."""
    rows: tuple | None = field(default=None, repr=False, compare=False)
    """``(y_true, y_score, group, weight)`` it was counted from, when known (randomised
    policies take each group's ROC-hull vertices among all its distinct scores from them)."""

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


def sweep(y_true, y_score, group, groups, thresholds=None, exact: bool = False,
          weight=None) -> Sweep:
    """Sweep thresholds (exact: every distinct score; default: a 1,001-point quantile grid).
    ``weight``: how many rows each entry stands for (a grouped table; default one each)."""
    y_score = np.asarray(y_score, dtype=np.float64)
    if thresholds is None:
        thresholds = exact_thresholds(y_score) if exact else grid_thresholds(y_score,
                                                                             weight=weight)
    y_true, group = np.asarray(y_true, bool), np.asarray(group, np.int64)
    counts = sweep_counts(y_true, y_score, group, len(groups),
                          np.asarray(thresholds, np.float64), weight)
    return Sweep(np.asarray(thresholds, np.float64), tuple(groups), counts,
                 float(y_score.max()) if y_score.size else None,
                 rows=(y_true, y_score, group, weight))


def sweep_assessment(assessment, feature: str | None = None, exact: bool = False,
                     thresholds: np.ndarray | None = None) -> Sweep:
    """The sweep of an assessment's scores for one partition (default: the first feature),
    from its counts cube (exact scores, or an engine's grid). ``thresholds``: those of its
    sweep of another partition, which are the same (every partition holds the same scores),
    instead of finding them again."""
    y_true, y_score, group, groups, weight = _scored_rows(assessment, feature)
    return sweep(y_true, y_score, group, groups, thresholds=thresholds, exact=exact,
                 weight=weight)


def sort_assessment_scores(assessment, feature: str | None = None) -> SortedScores:
    """:class:`SortedScores` of an assessment's scores for one partition (default: the first
    feature)."""
    y_true, y_score, group, groups, weight = _scored_rows(assessment, feature)
    return sort_scores(y_true, y_score, group, groups, weight=weight)


def _scored_rows(assessment, feature: str | None):
    """(y_true, y_score, group, groups, weight) of one partition of an assessment, from its
    cube's scored cells (weight None when each entry is one row)."""
    scores = assessment.cube.scores
    if scores is None:
        from .errors import FaircardError

        raise FaircardError("Thresholds need a score column (or a model with scores), not "
                            "predicted labels.")
    parts = {p.name: p for p in assessment.cube.partitions(assessment.spec.intersection)}
    part = parts[feature or assessment.features[0]]
    return (scores.y_true, scores.y_score, part.cell_to_group[scores.cell], part.groups,
            scores.weight)


@dataclass(frozen=True)
class SortedScores:
    """Each group's scores, sorted separately for negative and positive outcomes, so that the
    confusion counts at any threshold take one binary search per group and outcome instead of
    a pass over the rows. Segment ``2 * g + y`` (group ``g``, outcome ``y``) is
    ``scores[bounds[2g+y]:bounds[2g+y+1]]``; ``cumulative`` holds the running total of the
    rows' weights (from 0, one longer than ``scores``), or is None when every row counts once.
    """

    groups: tuple[str, ...]
    scores: np.ndarray
    bounds: np.ndarray
    cumulative: np.ndarray | None = None

    def largest_below(self, threshold: float) -> float:
        """The highest score of any group below ``threshold`` (-inf when there is none)."""
        out = -np.inf
        for j in range(len(self.bounds) - 1):
            a, b = int(self.bounds[j]), int(self.bounds[j + 1])
            i = a + int(np.searchsorted(self.scores[a:b], threshold, side="left"))
            if i > a:
                out = max(out, float(self.scores[i - 1]))
        return out

    def counts_at(self, thresholds) -> np.ndarray:
        """Counts ``[tn, fp, fn, tp]`` per group (G, 4) when group ``g`` decides positive at
        ``score >= thresholds[g]`` (int64; float when weights are not whole numbers)."""
        n_groups = len(self.groups)
        out = np.zeros((n_groups, 4), dtype=np.float64)
        for g in range(n_groups):
            t = float(thresholds[g])
            for y in (0, 1):
                a, b = int(self.bounds[2 * g + y]), int(self.bounds[2 * g + y + 1])
                i = a + int(np.searchsorted(self.scores[a:b], t, side="left"))
                total, above = (b - a, b - i) if self.cumulative is None else (
                    self.cumulative[b] - self.cumulative[a], self.cumulative[b] - self.cumulative[i])
                out[g, 3 if y else 1] = above
                out[g, 2 if y else 0] = total - above
        rounded = np.rint(out)
        return rounded.astype(np.int64) if np.array_equal(rounded, out) else out


def sort_scores(y_true, y_score, group, groups, weight=None) -> SortedScores:
    """:class:`SortedScores` of rows (``weight``: how many rows each one stands for, e.g. the
    row counts of a grouped table; default one each). Sorts once: O(n log n)."""
    y_score = np.asarray(y_score, dtype=np.float64)
    segment = np.asarray(group, np.int64) * 2 + np.asarray(y_true, bool).astype(np.int64)
    order = np.lexsort((y_score, segment))
    bounds = np.searchsorted(segment[order], np.arange(2 * len(groups) + 1), side="left")
    cumulative = None
    if weight is not None:
        cumulative = np.concatenate(([0.0], np.cumsum(np.asarray(weight, np.float64)[order])))
    return SortedScores(tuple(groups), y_score[order], bounds, cumulative)


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


@dataclass(frozen=True)
class CostCurve:
    """Everyone's confusion counts at every distinct decision rule of one threshold for all:
    ``scores`` are the distinct scores ascending; at rule ``k`` (score >= ``scores[k]``, or
    nobody for ``k == len(scores)``) the negatives and positives below the threshold number
    ``neg_below[k]`` and ``pos_below[k]``."""

    scores: np.ndarray
    neg_below: np.ndarray
    pos_below: np.ndarray


def cost_curve(sorted_scores: SortedScores) -> CostCurve:
    """:class:`CostCurve` of the rows held by ``sorted_scores`` (all groups together)."""
    s = sorted_scores
    pieces, negs, poss = [], [], []
    for j in range(len(s.bounds) - 1):
        a, b = int(s.bounds[j]), int(s.bounds[j + 1])
        w = np.ones(b - a) if s.cumulative is None else np.diff(s.cumulative[a:b + 1])
        pieces.append(s.scores[a:b])
        (poss if j % 2 else negs).append(w)
        (negs if j % 2 else poss).append(np.zeros(b - a))
    values = np.concatenate(pieces) if pieces else np.empty(0)
    uniq, inverse = np.unique(values, return_inverse=True)
    neg = np.bincount(inverse, weights=np.concatenate(negs) if negs else None,
                      minlength=len(uniq))
    pos = np.bincount(inverse, weights=np.concatenate(poss) if poss else None,
                      minlength=len(uniq))
    return CostCurve(uniq, np.concatenate(([0.0], np.cumsum(neg))),
                     np.concatenate(([0.0], np.cumsum(pos))))


@dataclass(frozen=True)
class LowestCost:
    """The single threshold with the lowest expected cost among every distinct decision rule."""

    threshold: float
    cost_per_decision: float
    selected_share: float

    @property
    def degenerate(self) -> bool:
        """Nobody or everybody is selected."""
        return self.selected_share in (0.0, 1.0)


def lowest_cost_threshold(curve: CostCurve, fp_cost: float, fn_cost: float) -> LowestCost:
    """The threshold (written in as few digits as make the same decisions) whose total cost
    ``fp_cost * FP + fn_cost * FN`` is lowest over every distinct score and the rule that selects
    nobody; among equal costs, the lowest threshold."""
    from .decision import short_threshold, threshold_above

    negatives, positives = curve.neg_below[-1], curve.pos_below[-1]
    n = negatives + positives
    if n <= 0:
        raise ValueError("no rows to choose a threshold on")
    cost = fp_cost * (negatives - curve.neg_below) + fn_cost * curve.pos_below
    k = int(np.argmin(cost))
    if k == len(curve.scores):
        t = threshold_above(float(curve.scores[-1]))
    else:
        t = short_threshold(float(curve.scores[k]),
                            float(curve.scores[k - 1]) if k else -np.inf)
    selected = n - curve.neg_below[k] - curve.pos_below[k]
    return LowestCost(t, float(cost[k] / n), float(selected / n))
