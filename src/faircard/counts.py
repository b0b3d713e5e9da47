"""The engine: per-group confusion counts (and score sums) from one vectorised pass.

Rows are first counted per intersection cell of the sensitive features (one ``np.bincount``
over ``cell * 4 + 2 * y_true + y_pred``); every single feature's groups are sums of cells.
Cells are columns ``[tn, fp, fn, tp]``, so index ``2 * y_true + y_pred`` addresses them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cube import Cube
from .prepare import Partition, Prepared, partition_name

CELL_NAMES = ("tn", "fp", "fn", "tp")
SCORE_ORDER = "score_order"
"""Key of ``Prepared.memo`` holding the stable argsort of the scores (shared by the rows of
fewer sensitive features derived from them)."""
TN, FP, FN, TP = 0, 1, 2, 3


def count_cells(cell: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, n_cells: int) -> np.ndarray:
    """Confusion counts per intersection cell: int64 array of shape (n_cells, 4)."""
    code = cell * 4 + (y_true.astype(np.int64) << 1) + y_pred.astype(np.int64)
    return np.bincount(code, minlength=n_cells * 4).reshape(n_cells, 4)


def prepared_cells(prepared: Prepared) -> np.ndarray:
    """Confusion counts per intersection cell of ``prepared`` (n_cells, 4).

    Under a randomised decision policy each row counts as a positive decision with its
    probability, so the counts are expected values over the randomisation (float64).
    """
    index = prepared.index
    if prepared.p_pred is None:
        return count_cells(index.cell, prepared.y_true, prepared.y_pred, index.n_cells)
    base = index.cell * 4 + (prepared.y_true.astype(np.int64) << 1)
    size = index.n_cells * 4
    p = prepared.p_pred
    out = np.bincount(base + 1, weights=p, minlength=size)
    out += np.bincount(base, weights=1.0 - p, minlength=size)
    return out.reshape(index.n_cells, 4)


def aggregate_cells(cell_values: np.ndarray, cell_to_group: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum cell-level values (n_cells, ...) into groups (n_groups, ...)."""
    out = np.zeros((n_groups,) + cell_values.shape[1:], dtype=cell_values.dtype)
    np.add.at(out, cell_to_group, cell_values)
    return out


@dataclass(frozen=True)
class GroupCounts:
    """Confusion counts of one partition: ``counts[g] = [tn, fp, fn, tp]`` for group ``g``."""

    features: tuple[str, ...]
    """The sensitive features of the partition (one, or several for an intersection)."""
    groups: tuple[str, ...]
    counts: np.ndarray

    def __post_init__(self) -> None:
        if not isinstance(self.features, tuple):
            raise TypeError("GroupCounts.features must be a tuple of feature names")

    @property
    def feature(self) -> str:
        """The partition's display name (``"race & sex"`` for an intersection)."""
        return partition_name(self.features)

    @property
    def n(self) -> np.ndarray:
        """People per group. Under a randomised policy the counts are expected counts whose
        sum is the whole number of people only up to rounding (21.999999999999996 for 22,
        depending on the order of the additions), so it is rounded back."""
        n = self.counts.sum(axis=1)
        return np.rint(n) if n.dtype.kind == "f" else n


def count_by_group(cube: Cube, intersection: bool = True) -> list[GroupCounts]:
    """Counts for each sensitive feature and (with two or more) their intersection: sums of
    the cube's cells."""
    return [
        GroupCounts(p.features, p.groups,
                    aggregate_cells(cube.cells, p.cell_to_group, len(p.groups)))
        for p in cube.partitions(intersection)
    ]


def counts_frame(group_counts: list[GroupCounts]) -> pd.DataFrame:
    """Tidy table of counts: feature, group, n, tp, fp, tn, fn."""
    frames = []
    for gc in group_counts:
        c = gc.counts
        frames.append(
            pd.DataFrame(
                {
                    "feature": gc.feature,
                    "group": list(gc.groups),
                    "n": c.sum(axis=1),
                    "tp": c[:, TP],
                    "fp": c[:, FP],
                    "tn": c[:, TN],
                    "fn": c[:, FN],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- score-based statistics


def is_probability(y_score: np.ndarray) -> bool:
    """True when every score lies in [0, 1] (Brier score and log loss need probabilities)."""
    return bool(y_score.size) and float(y_score.min()) >= 0.0 and float(y_score.max()) <= 1.0


def score_sums(prepared: Prepared) -> dict[str, np.ndarray]:
    """Per-cell sums for the additive score metrics: squared error and log loss terms."""
    y = prepared.y_true.astype(np.float64)
    s = prepared.y_score
    cell = prepared.index.cell
    n_cells = prepared.index.n_cells
    sq = (y - s) ** 2
    eps = np.finfo(np.float64).eps  # scikit-learn's log_loss clips to machine epsilon
    p = np.clip(s, eps, 1 - eps)
    ll = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return {
        "brier_score": np.bincount(cell, weights=sq, minlength=n_cells),
        "log_loss": np.bincount(cell, weights=ll, minlength=n_cells),
    }


def auc_by_group(y_true: np.ndarray, y_score: np.ndarray, group: np.ndarray, n_groups: int,
                 order: np.ndarray | None = None) -> np.ndarray:
    """ROC AUC per group by the Mann-Whitney statistic with mid-ranks for ties.

    ``order`` may pass a precomputed stable argsort of ``y_score`` to share one sort across
    partitions. Groups without both classes get NaN.
    """
    if order is None:
        order = np.argsort(y_score, kind="stable")
    g_sorted = group[order]
    dtype = np.int16 if n_groups < 2**15 else np.int64  # small ints sort by radix
    within = np.argsort(g_sorted.astype(dtype), kind="stable")
    idx = order[within]
    g = group[idx]
    s = y_score[idx]
    y = y_true[idx]
    n = len(idx)
    sizes = np.bincount(g, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    # runs of equal (group, score) share the mean of their 1-based positions
    brk = np.empty(n, dtype=bool)
    brk[0] = True
    brk[1:] = (g[1:] != g[:-1]) | (s[1:] != s[:-1])
    run_start = np.flatnonzero(brk)
    run_end = np.append(run_start[1:], n)
    run_mid = (run_start + 1 + run_end) / 2.0
    run_id = np.cumsum(brk) - 1
    rank = run_mid[run_id] - starts[g]
    n_pos = np.bincount(g, weights=y, minlength=n_groups)
    n_neg = sizes - n_pos
    r_pos = np.bincount(g, weights=rank * y, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (r_pos - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
    auc[(n_pos == 0) | (n_neg == 0)] = np.nan
    return auc


def score_metrics(cube: Cube, partitions: list[Partition]) -> dict[str, dict[str, np.ndarray]]:
    """roc_auc, brier_score and log_loss per group for each partition, plus ``"overall"``,
    from the cube's scored cells.

    Brier score and log loss are NaN everywhere when the scores are not probabilities.
    Returns ``{partition name: {metric: values per group}}``.
    """
    sc = cube.scores
    n_cells = cube.n_cells
    if sc.by_score:  # already ascending: the stable order of the scores is the identity
        order = np.arange(len(sc.y_score))
    else:
        order = np.argsort(sc.y_score, kind="stable")
    sums = sc.sums if sc.is_probability else None
    cell_n = sc.rows_per_cell(n_cells)

    def auc(group: np.ndarray, n_groups: int) -> np.ndarray:
        if sc.weight is None:
            return auc_by_group(sc.y_true, sc.y_score, group, n_groups, order)
        from .engine.grouped import auc_and_ties, order_by_group_and_score

        return auc_and_ties(group, sc.y_score, sc.y_true, sc.weight, n_groups,
                            order_by_group_and_score(group, order, n_groups))[0]

    out: dict[str, dict[str, np.ndarray]] = {}
    for p in partitions:
        n_groups = len(p.groups)
        res = {"roc_auc": auc(p.cell_to_group[sc.cell], n_groups)}
        n_g = aggregate_cells(cell_n, p.cell_to_group, n_groups)
        for key in ("brier_score", "log_loss"):
            if sums is None:
                res[key] = np.full(n_groups, np.nan)
            else:
                res[key] = aggregate_cells(sums[key], p.cell_to_group, n_groups) / n_g
        out[p.name] = res
    overall = {"roc_auc": auc(np.zeros(len(sc.y_score), dtype=np.int64), 1)}
    total = cell_n.sum()
    for key in ("brier_score", "log_loss"):
        overall[key] = np.array([sums[key].sum() / total]) if sums is not None \
            else np.array([np.nan])
    out["overall"] = overall
    return out
