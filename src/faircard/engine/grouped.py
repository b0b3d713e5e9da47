"""From a grouped table (one row per combination of feature values, outcome, score and decision,
with its row count) to the same assessment the in-memory path computes.

The labels of groups, the positive label and the comparison of outcomes follow
:mod:`faircard.prepare` exactly, applied to the distinct values instead of the rows, so a group is
named and ordered the same way whichever engine counted it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..assess import Assessment, assess_cube
from ..counts import aggregate_cells
from ..cube import Cube, ScoredCells, cells_only
from ..errors import FaircardError
from ..prepare import (
    GroupIndex,
    _normalise_labels,
    _normalise_scalar,
    build_group_index,
    resolve_pos_label,
    vanished_in_table,
    vanished_key,
)
from ..spec import AssessmentSpec

NOTHING_KEPT = "No row has both a target and a prediction/score value; nothing can be assessed."

MAX_DISTINCT_SCORES = 100_000
"""Above this many distinct scores, sweeps and AUC use scores on a grid (counts at the chosen
threshold stay exact)."""


@dataclass
class GroupedCounts:
    """What a source returns: the grouped table, the row accounting and the score's range."""

    grouped: pd.DataFrame
    targets: pd.Series
    n_input: int
    n_missing_target: int
    n_missing_decision: int
    score_min: float | None = None
    score_max: float | None = None
    score_step: float | None = None
    engine: str = ""
    notes: tuple[str, ...] = ()
    """What the source says of how it read the data (a CSV file's detected encoding)."""
    dropped: pd.DataFrame | None = None
    """The rows left out (the ``dropped`` query: the features' values, ``__no_target`` and
    ``__n``), when some were; None when none was or the source did not count them."""
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    """What :func:`cube_from_grouped` keeps of this table that no band edge changes (the
    combinations of feature values, the score ranks), so that new bands only merge them."""


def order_by_group_and_score(group: np.ndarray, by_score: np.ndarray,
                             n_groups: int) -> np.ndarray:
    """The order of rows by group, then score, then position (``np.lexsort((score, group))``),
    from ``by_score``, the rows' stable order by score alone: the group numbers (fewer than
    ``n_groups``) are sorted by radix when they fit 16 bits, so the scores are sorted once for
    every partition."""
    return by_score[np.argsort(group[by_score].astype(_small_int(n_groups)), kind="stable")]


def _small_int(n: int):
    """The integer type NumPy sorts by radix (16 bits) when values below ``n`` fit it."""
    return np.uint16 if n <= 2**16 else np.int64


def auc_and_ties(group: np.ndarray, score: np.ndarray, y: np.ndarray, weight: np.ndarray,
                 n_groups: int, order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per group, from weighted (score, outcome) rows: the ROC AUC (ties count one half) and the
    largest change of it that ties can hide (half the share of (positive, negative) pairs with
    the same score; on a grid, the pairs that share a cell). NaN for a group without both
    outcomes. ``order``: the rows sorted by group and score, when already known.

    One pass over the runs of equal (group, score), all groups at once: with whole-number
    weights every sum is of integers and halves, so it is exact (below 2**53)."""
    if order is None:
        order = np.lexsort((score, group))
    g, s, yy = group[order], score[order], y[order]
    w = weight[order].astype(np.float64)
    new = np.empty(len(g), dtype=bool)
    new[:1] = True
    new[1:] = (g[1:] != g[:-1]) | (s[1:] != s[:-1])
    run = np.cumsum(new) - 1
    pos = np.bincount(run, weights=np.where(yy, w, 0.0))
    neg = np.bincount(run, weights=np.where(yy, 0.0, w))
    run_group = g[new]
    before = np.cumsum(neg) - neg  # negatives in earlier runs, of any group
    first = np.searchsorted(run_group, np.arange(n_groups))
    start = np.append(before, 0.0)[first]  # ... before each group's first run
    below = before - start[run_group]  # negatives of the same group with a lower score
    p = np.bincount(run_group, weights=pos, minlength=n_groups)
    q = np.bincount(run_group, weights=neg, minlength=n_groups)
    won = np.bincount(run_group, weights=(below + 0.5 * neg) * pos, minlength=n_groups)
    tied = np.bincount(run_group, weights=pos * neg, minlength=n_groups)
    both = (p > 0) & (q > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.where(both, won / (p * q), np.nan),
                np.where(both, 0.5 * tied / (p * q), np.nan))


DENSE_ENTRIES = 1 << 21
"""Largest groups x distinct scores table that AUC and the scored entries are summed in
(histograms, no sort); beyond it they sort the grouped rows."""


def auc_from_ranks(group: np.ndarray, rank: np.ndarray, y: np.ndarray, weight: np.ndarray,
                   n_groups: int, n_ranks: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`auc_and_ties` from each row's ``rank`` among the ``n_ranks`` distinct scores
    (ascending): per group, histograms of positives and negatives over the ranks, and the
    negatives below each rank by a cumulative sum; the same whole-number sums, without a sort
    (``n_groups * n_ranks`` entries)."""
    return _auc_from_histograms(*_rank_histograms(group, rank, y, weight, n_groups, n_ranks))


def _rank_histograms(group: np.ndarray, rank: np.ndarray, y: np.ndarray, weight: np.ndarray,
                     n_groups: int, n_ranks: int) -> tuple[np.ndarray, np.ndarray]:
    """(positives, negatives): per group (rows) and rank (columns), the weights of the rows."""
    w = weight.astype(np.float64)
    at = group.astype(np.int64) * n_ranks + rank
    size = n_groups * n_ranks
    pos = np.bincount(at, weights=np.where(y, w, 0.0), minlength=size).reshape(n_groups, -1)
    neg = np.bincount(at, weights=np.where(y, 0.0, w), minlength=size).reshape(n_groups, -1)
    return pos, neg


def _auc_from_histograms(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    below = np.cumsum(neg, axis=1) - neg
    p, q = pos.sum(axis=1), neg.sum(axis=1)
    won = (pos * (below + 0.5 * neg)).sum(axis=1)
    tied = (pos * neg).sum(axis=1)
    both = (p > 0) & (q > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.where(both, won / (p * q), np.nan),
                np.where(both, 0.5 * tied / (p * q), np.nan))


def _grid_ranks(score: np.ndarray, step: float, origin: float):
    """(distinct scores, ranks) of scores on the grid ``origin + cell * step`` without a sort:
    the cells used, in order; None when a score is not such a grid point or two cells give
    the same score (then a sort decides)."""
    cell = np.rint((score - origin) / step).astype(np.int64)
    if len(cell) == 0 or cell.min() < 0 or cell.max() > 4 * DENSE_ENTRIES or \
            not np.array_equal(origin + cell.astype(np.float64) * step, score):
        return None
    used = np.flatnonzero(np.bincount(cell))
    distinct = origin + used.astype(np.float64) * step
    if not (np.diff(distinct) > 0).all():
        return None
    place = np.empty(used[-1] + 1, dtype=np.int64)
    place[used] = np.arange(len(used))
    return distinct, place[cell]


class _Ranked:
    """The grouped rows' scores as ranks among their distinct values (one sort), and the AUC
    of any grouping of the rows by histograms when the table is small enough, else by
    sorting (see :data:`DENSE_ENTRIES`)."""

    def __init__(self, score: np.ndarray, y: np.ndarray, weight: np.ndarray,
                 step: float | None = None, origin: float = 0.0):
        self.score, self.y, self.weight = score, y, weight
        ranks = _grid_ranks(score, step, origin) if step else None
        self.distinct, self.rank = ranks if ranks else np.unique(score, return_inverse=True)
        self.rank = self.rank.reshape(-1).astype(np.int64)
        self._by_score = None
        self._cell_histograms: tuple[np.ndarray, tuple] | None = None

    @property
    def by_score(self) -> np.ndarray:
        """The rows' stable order by score."""
        if self._by_score is None:
            self._by_score = np.argsort(self.rank, kind="stable")
        return self._by_score

    def dense(self, n_groups: int) -> bool:
        return n_groups * len(self.distinct) <= DENSE_ENTRIES

    def auc(self, group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
        if self.dense(n_groups):
            return auc_from_ranks(group, self.rank, self.y, self.weight, n_groups,
                                  len(self.distinct))
        order = order_by_group_and_score(group, self.by_score, n_groups)
        return auc_and_ties(group, self.score, self.y, self.weight, n_groups, order)

    def auc_of_cells(self, cell: np.ndarray, n_cells: int, cell_to_group: np.ndarray,
                     n_groups: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`auc` of the grouping that puts the rows of cell ``c`` (``cell``: each row's)
        in group ``cell_to_group[c]``: with histograms, the cells' are computed once and added
        up per group (whole numbers: the same sums as the rows')."""
        if not (self.dense(n_cells) and self.dense(n_groups)):
            return self.auc(cell_to_group[cell], n_groups)
        return _auc_of_groups(self.histograms(cell, n_cells), cell_to_group, n_groups)

    def histograms(self, cell: np.ndarray, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
        """(positives, negatives) per cell and rank, kept for the last ``cell`` array (read
        once: another session's cube may set them meanwhile)."""
        kept = self._cell_histograms
        if kept is None or kept[0] is not cell:
            kept = (cell, _rank_histograms(cell, self.rank, self.y, self.weight, n_cells,
                                           len(self.distinct)))
            self._cell_histograms = kept
        return kept[1]


def _auc_of_groups(histograms: tuple[np.ndarray, np.ndarray], cell_to_group: np.ndarray,
                   n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`auc_from_ranks` of groups of cells from the cells' rank histograms, added up per
    group (whole numbers: the same sums as the rows')."""
    return _auc_from_histograms(*(_rows_by_group(per_cell, cell_to_group, n_groups)
                                  for per_cell in histograms))


def _rows_by_group(per_cell: np.ndarray, cell_to_group: np.ndarray,
                   n_groups: int) -> np.ndarray:
    """The rows of ``per_cell`` (one per cell) added up per group: whole numbers, so the sums
    are exact in any order. Added in place rather than as a product with a matrix of 0s and 1s,
    which NumPy hands to a threaded BLAS (14 ms of CPU for 10 cells by 10,001 scores, against
    under 2 ms); a few hundred rows one by one, a whole row at a time (160 rows by 10,001
    scores: 2 ms of CPU, against 24 ms for ``np.add.at``)."""
    out = np.zeros((n_groups, per_cell.shape[1]))
    if len(cell_to_group) > 512:
        np.add.at(out, cell_to_group, per_cell)
        return out
    for i, j in enumerate(cell_to_group.tolist()):
        out[j] += per_cell[i]
    return out


def assess_grouped(counted: GroupedCounts, spec: AssessmentSpec,
                   cube: Cube | None = None) -> Assessment:
    """The assessment of ``spec`` from a source's grouped counts (no rows). ``cube``: the
    cube :func:`cube_from_grouped` made of them for a spec that differs from ``spec`` at most
    in what the cube does not hold (reference groups, minimum group size, intervals), which the
    app keeps instead of making it again for each of those choices."""
    if cube is None:
        cube = cube_from_grouped(counted, spec)
    result = assess_cube(cube, spec)
    result.extras["engine"] = dict(cube.engine)
    result.notes.extend(counted.notes)
    if counted.score_step is not None:
        result.notes.append(
            f"Scores have more than {MAX_DISTINCT_SCORES:,} distinct values, so ROC AUC was "
            f"computed on a grid of step {counted.score_step:.3g}; it may differ from the exact "
            f"value by at most {cube.engine['auc_error_bound']:.2g}. Counts at the threshold "
            "are exact.")
    return result


def cube_from_grouped(counted: GroupedCounts, spec: AssessmentSpec) -> Cube:
    """The counts cube of ``spec`` from a source's grouped table: groups labelled, the positive
    label found and the decision rule applied as :mod:`faircard.prepare` does on rows."""
    g = counted.grouped
    n_kept = int(g["__n"].sum()) if len(g) else 0
    if n_kept == 0:
        raise FaircardError(NOTHING_KEPT)
    pos_label = resolve_pos_label(counted.targets, spec.target, spec.pos_label)
    y = counted.memo.get(("y", repr(pos_label)))
    if y is None:
        target_norm = _normalise_labels(g["__target"])
        y = (target_norm == _normalise_scalar(pos_label, target_norm)).to_numpy(dtype=bool)
        counted.memo[("y", repr(pos_label))] = y
    weight = g["__n"].to_numpy(dtype=np.int64)
    values = _value_cells(counted, spec.sensitive)
    if values is None:
        index = build_group_index(g[list(spec.sensitive)].reset_index(drop=True), spec)
    else:  # the bands of the distinct combinations of values, given to their rows
        combo, combos = values
        small = build_group_index(combos, spec)
        index = GroupIndex(tuple(spec.sensitive), small.labels, small.cell[combo],
                           small.cell_codes)
    # a decision that does not depend on the groups is counted once per combination of values
    # (whole rows), and the cells of any bands add those up
    rule = (spec.prediction,) if not spec.uses_score else \
        (float(spec.policy.threshold),) if spec.policy.is_single else None
    per_combination = values is not None and rule is not None
    key = ("combination_cells", repr(pos_label), rule, tuple(spec.sensitive))
    if per_combination and key in counted.memo:
        counts = counted.memo[key]
    else:
        p_pred = _decisions(counted, spec, pos_label, index)
        unit, n_units = (combo, len(combos)) if per_combination else (index.cell, index.n_cells)
        base = unit * 4 + (y.astype(np.int64) << 1)
        size = n_units * 4
        counts = (np.bincount(base + 1, weights=weight * p_pred, minlength=size)
                  + np.bincount(base, weights=weight * (1.0 - p_pred), minlength=size))
        if not (spec.uses_score and spec.policy.is_randomized):
            counts = np.rint(counts).astype(np.int64)  # whole rows: exact integers
        counts = counts.reshape(n_units, 4)
        if per_combination:
            counted.memo[key] = counts
    cells = np.rint(_rows_by_group(counts.astype(np.float64), small.cell, index.n_cells)).astype(
        np.int64) if per_combination else counts
    memo: dict[Any, Any] = {}
    row_free = cells_only(index)
    partitions = row_free.partitions(spec.intersection)
    scores = None
    facts: dict[str, Any] = {"name": counted.engine, "grouped_rows": len(g),
                             "score_step": counted.score_step}
    if spec.uses_score:
        if counted.score_min is None:
            raise FaircardError(f"Score column '{spec.score}' has no values.")
        # one sort for every partition
        ranked = counted.memo.get(("ranked", repr(pos_label)))
        if ranked is None:
            ranked = _Ranked(g["__score"].to_numpy(dtype=np.float64), y, weight,
                             counted.score_step, counted.score_min)
            counted.memo[("ranked", repr(pos_label))] = ranked
        memo[("score_metrics", spec.intersection)], bound = _score_metrics(
            g, ranked, index, partitions, counted, memo,
            None if values is None else (values[0], small.cell))
        # sweeps, policies and the Thresholds page read the scores from the grouped table
        y_true, y_score, cell, n = _scored_entries(ranked, index, memo.pop("cell_histograms",
                                                                           None))
        sums = memo.pop("score_sums")
        prob = counted.score_min >= 0 and counted.score_max <= 1
        scores = ScoredCells(y_true, y_score, cell, n, minimum=counted.score_min,
                             maximum=counted.score_max, sums=sums if prob else None,
                             step=counted.score_step)
        if counted.score_step is not None:
            facts["auc_error_bound"] = float(np.nanmax(bound)) if np.isfinite(bound).any() \
                else 0.0
    reasons = {"missing target": counted.n_missing_target,
               ("missing score" if spec.uses_score else "missing prediction"):
               counted.n_missing_decision}
    if counted.dropped is not None:  # named by the source's rows left out
        d = counted.dropped
        memo[vanished_key(spec)] = vanished_in_table(
            d, d["__no_target"].to_numpy() == 1, d["__n"].to_numpy(), spec, index.labels)
    return Cube(index=row_free, cells=cells, pos_label=pos_label, n_input=counted.n_input,
                n_dropped=counted.n_input - n_kept,
                dropped_reasons={k: int(v) for k, v in reasons.items() if v},
                scores=scores, engine=facts, memo=memo)


def _decisions(counted: GroupedCounts, spec: AssessmentSpec, pos_label,
               index: GroupIndex) -> np.ndarray:
    """The probability of a positive decision of each grouped row."""
    g = counted.grouped
    if spec.uses_score:
        return policy_probability(g, spec, index)
    target_norm = _normalise_labels(g["__target"])
    pred_norm = _normalise_labels(g["__prediction"])
    from ..prepare import _check_label_spaces

    _check_label_spaces(pred_norm, target_norm, spec.prediction, spec.target)
    return (pred_norm == _normalise_scalar(pos_label, target_norm)).to_numpy(dtype=np.float64)


def _value_cells(counted: GroupedCounts, features: tuple[str, ...]):
    """(combination, combinations): the number of each grouped row's combination of the
    values of ``features`` and one row of the table per combination (in that numbering), kept
    with the table, so that a group index of any bands is built on the combinations and given
    to the rows by a gather: the same labels and cells as built on the rows, since both see
    the same distinct values. None when a feature's values cannot be told apart by hashing
    (lists or records: the rows' index says why)."""
    key = ("values", tuple(features))
    if key not in counted.memo:
        g = counted.grouped
        combined = np.zeros(len(g), dtype=np.int64)
        try:
            for f in features:
                codes, uniques = pd.factorize(g[f], use_na_sentinel=True)
                if g[f].dtype == object and len({type(u) for u in uniques}) > 1:
                    raise TypeError  # 1 and 1.0 hash alike but are two groups' labels
                size = len(uniques) + 1  # a missing value (-1) is a code of its own
                if combined.max(initial=0) >= 2**62 // size:
                    raise OverflowError
                combined = combined * size + (codes.astype(np.int64) + 1)
        except (TypeError, OverflowError):
            counted.memo[key] = None
            return None
        first, combo = _distinct_codes(combined)
        combos = g[list(features)].iloc[first].reset_index(drop=True)
        counted.memo[key] = (combo.astype(np.int32 if len(first) < 2**31 else np.int64), combos)
    return counted.memo[key]


def _distinct_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, inverse) of ``np.unique(codes, return_index=True, return_inverse=True)`` for
    non-negative integer codes: the position of each distinct code's first row, in increasing
    order of the codes, and each row's number among them. When the codes span no more than
    the rows, a count per code and a running minimum do it in linear time (182,000 rows in no
    order, as Spark or a hash aggregate returns them: 1 ms of CPU against 10 ms for the sort)."""
    n = len(codes)
    top = int(codes.max(initial=0)) + 1
    if n == 0 or top > max(n, 1 << 16):
        _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        return first, inverse.reshape(-1)
    present = np.flatnonzero(np.bincount(codes, minlength=top))
    number = np.zeros(top, dtype=np.int64)
    number[present] = np.arange(len(present))
    inverse = number[codes]
    first = np.full(len(present), n, dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(n, dtype=np.int64))
    return first, inverse


def _scored_entries(ranked: _Ranked, index: GroupIndex, hist=None):
    """(y_true, y_score, cell, weight) with one entry per distinct (cell, outcome, score): the
    grouped rows that differ only in the decision columns are merged (in the order of cell,
    outcome and score). ``hist``: the cells' (positives, negatives) per rank, when known."""
    key = index.cell * 2 + ranked.y
    weight, n_ranks = ranked.weight, len(ranked.distinct)
    if ranked.dense(index.n_cells * 2):  # summed in a table of (cell, outcome) x score
        n = np.stack([hist[1], hist[0]], axis=1).reshape(-1) if hist is not None else \
            np.bincount(key * n_ranks + ranked.rank, weights=weight.astype(np.float64),
                        minlength=index.n_cells * 2 * n_ranks)
        at = np.flatnonzero(n)  # every grouped row counts at least one row
        k, r = np.divmod(at, n_ranks)
        return ((k & 1).astype(bool), ranked.distinct[r], k >> 1,
                np.rint(n[at]).astype(np.int64))
    score = ranked.score
    order = order_by_group_and_score(key, ranked.by_score, index.n_cells * 2)
    k, s = key[order], score[order]
    new = np.empty(len(k), dtype=bool)
    new[:1] = True
    new[1:] = (k[1:] != k[:-1]) | (s[1:] != s[:-1])
    first = np.flatnonzero(new)
    n = np.add.reduceat(weight[order], first) if len(k) else weight[:0]
    return ((k[first] & 1).astype(bool), s[first], k[first] >> 1, n.astype(np.int64))


def positive_values(targets: pd.Series, spec: AssessmentSpec) -> list:
    """The outcome values, as the source holds them (``targets``: its distinct values), that
    are the positive label: the values :func:`assess_grouped` takes for positive."""
    pos_label = resolve_pos_label(targets, spec.target, spec.pos_label)
    norm = _normalise_labels(targets)
    hits = (norm == _normalise_scalar(pos_label, norm)).to_numpy(dtype=bool)
    return [v.item() if isinstance(v, np.generic) else v
            for v, hit in zip(targets.tolist(), hits, strict=True) if hit]


def policy_thresholds(spec: AssessmentSpec) -> list[float]:
    """Every threshold the spec's decision policy can apply (one column each in the query)."""
    policy = spec.policy
    if policy.is_single:
        return [float(policy.threshold)]
    out = []
    for rule in policy.rules.values():
        for t in rule.finite_thresholds:  # everybody and nobody need no column
            if float(t) not in out:
                out.append(float(t))
    return out


def policy_probability(g: pd.DataFrame, spec: AssessmentSpec, index: GroupIndex) -> np.ndarray:
    """Probability of a positive decision per grouped row under the spec's policy, from the
    query's ``__p{k}`` columns (``score >= threshold k``): exact for every threshold."""
    thresholds = policy_thresholds(spec)
    at = {t: g[f"__p{k}"].to_numpy(dtype=np.float64) for k, t in enumerate(thresholds)}
    policy = spec.policy
    if policy.is_single:
        return at[float(policy.threshold)]
    parts = {p.name: p for p in index.partitions(True)}
    part = parts.get(policy.feature)
    if part is None:
        raise FaircardError(f"The decision policy sets thresholds per group of "
                            f"'{policy.feature}', which is not one of the sensitive features.")
    policy.check_groups(part.groups)
    group = part.cell_to_group[index.cell]
    out = np.zeros(len(g), dtype=np.float64)
    for j, name in enumerate(part.groups):
        rule = policy.rules[name]
        rows = group == j
        first = at[float(rule.threshold)][rows]
        if rule.else_threshold is not None:
            other = at[float(rule.else_threshold)][rows]
            out[rows] = rule.probability * first + (1.0 - rule.probability) * other
        elif rule.is_randomized:
            mixed = rule.probability * first
            for t, q in rule.others:  # -inf: everybody; +inf: nobody
                mixed = mixed + q * (at[float(t)][rows] if np.isfinite(t) else float(t < 0))
            out[rows] = mixed
        else:
            out[rows] = first
    return out


def _score_metrics(g: pd.DataFrame, ranked: _Ranked, index: GroupIndex, partitions, counted,
                   memo: dict, combos: tuple[np.ndarray, np.ndarray] | None = None):
    """roc_auc, brier_score and log_loss per group of each partition and overall, and the
    largest AUC change the score grid can hide (empty when scores are exact). ``ranked``: the
    grouped rows' scores, outcomes and weights. ``combos``: each row's combination of values
    and each combination's cell; the score histograms of the combinations (whole numbers)
    are then made once per table and added up per group, whatever the bands."""
    w = g["__n"].to_numpy(dtype=np.float64)
    prob = counted.score_min >= 0 and counted.score_max <= 1
    # per grouped row: sum (y - s)^2 and minus the log of the probability given to the outcome
    sq, ll = g["__sq"].to_numpy(float), -g["__ll"].to_numpy(float)
    n_cells = index.n_cells
    cell_n = np.bincount(index.cell, weights=w, minlength=n_cells)
    sums = {"brier_score": np.bincount(index.cell, weights=sq, minlength=n_cells),
            "log_loss": np.bincount(index.cell, weights=ll, minlength=n_cells)}
    memo["score_sums"] = sums  # the cube keeps them per cell (a record stores them)
    out: dict[str, dict[str, np.ndarray]] = {}
    bounds = []
    hist = None
    if combos is not None and ranked.dense(len(combos[1])):
        # the combinations' histograms (once per table) summed per cell: whole numbers
        combo, combo_cell = combos
        hist = tuple(_rows_by_group(h, combo_cell, n_cells)
                     for h in ranked.histograms(combo, len(combo_cell)))
        memo["cell_histograms"] = hist
    for p in partitions:
        n_groups = len(p.groups)
        auc, ties = ranked.auc_of_cells(index.cell, n_cells, p.cell_to_group, n_groups) \
            if hist is None else _auc_of_groups(hist, p.cell_to_group, n_groups)
        res = {"roc_auc": auc}
        bounds.append(ties)
        n_g = aggregate_cells(cell_n, p.cell_to_group, n_groups)
        for key in ("brier_score", "log_loss"):
            res[key] = aggregate_cells(sums[key], p.cell_to_group, n_groups) / n_g if prob \
                else np.full(n_groups, np.nan)
        out[p.name] = res
    everyone = np.zeros(n_cells, dtype=np.int64)
    auc, ties = ranked.auc_of_cells(index.cell, n_cells, everyone, 1) if hist is None else \
        _auc_of_groups(hist, everyone, 1)
    overall = {"roc_auc": auc}
    bounds.append(ties)
    total = w.sum()
    for key in ("brier_score", "log_loss"):
        overall[key] = np.array([sums[key].sum() / total if prob else np.nan])
    out["overall"] = overall
    bound = np.concatenate(bounds) if counted.score_step is not None else np.array([])
    return out, bound
