"""What if the decision rule were another: counts and main metrics per group from a stored cube.

A read-only view of a record (the share link) can ask how the recorded model would decide under
the recorded decision policy (one threshold, or one per group, plain or randomised), at another
threshold for everyone, or at other thresholds per group, without the dataset: the record's
counts cube keeps every distinct (cell, outcome, score) with its number of rows, so the
confusion counts of every group under any such rule follow exactly (expected counts under a
randomised rule; up to the grid step when an engine put more than 100,000 distinct scores of a
cell on a grid). This never changes the record: its card and its approval state the recorded
decision rule.

Pure Python: no streamlit, no database.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..counts import aggregate_cells
from ..cube import Cube
from ..decision import DecisionPolicy
from ..errors import FaircardError
from ..metrics import metrics_from_counts
from ..trivial import trivial_decision

WHAT_IF_METRICS = ("selection_rate", "accuracy", "precision", "true_positive_rate",
                   "false_positive_rate", "false_negative_rate")
"""The metrics shown at a what-if threshold (count-derived, so exact from counts)."""
COUNT_COLUMNS = ("tn", "fp", "fn", "tp")


@dataclass(frozen=True)
class WhatIf:
    """Counts and metrics under ``policy`` (a score at or above its group's threshold is a
    positive decision).

    ``threshold``: the threshold of a rule for everyone (None for a per-group rule);
    ``by_group``: one row per group of every partition, columns ``feature, group, n,
    is_small_group, tn, fp, fn, tp`` and :data:`WHAT_IF_METRICS` (NaN when undefined; the
    counts are whole numbers, or expected counts under a randomised rule);
    ``overall``: the same figures over everybody; ``trivial``: the sentence saying the rule
    tells nobody apart (:func:`faircard.trivial.trivial_decision`), or None; ``grid_step``:
    the grid the scores were put on (None: exact scores)."""

    threshold: float | None
    by_group: pd.DataFrame
    overall: dict[str, float]
    trivial: str | None
    grid_step: float | None
    policy: DecisionPolicy | None = None

    @property
    def is_randomized(self) -> bool:
        """Whether the counts are expected values over a randomised rule."""
        return self.policy is not None and self.policy.is_randomized


def as_policy(rule: float | DecisionPolicy) -> DecisionPolicy:
    """``rule`` as a decision policy: a number is one threshold for everyone."""
    if isinstance(rule, DecisionPolicy):
        return rule
    try:
        t = float(rule)
    except (TypeError, ValueError):
        t = float("nan")
    if not np.isfinite(t):
        raise FaircardError(f"A threshold is a finite number; got {rule!r}.")
    return DecisionPolicy.single(t)


def cell_counts_at(cube: Cube, rule: float | DecisionPolicy) -> np.ndarray:
    """Each cell's counts ``[tn, fp, fn, tp]`` (float64, n_cells x 4) under ``rule`` (a
    threshold for everyone, or a :class:`~faircard.decision.DecisionPolicy`; expected counts
    under a randomised one), from the cube's scored entries."""
    sc = cube.scores
    if sc is None:
        raise FaircardError("This record's decisions are predicted labels, not scores, so "
                            "there is no threshold to move.")
    policy = as_policy(rule)
    group = groups = None
    if not policy.is_single:
        parts = {p.name: p for p in cube.partitions(True)}
        part = parts.get(policy.feature)
        if part is None:
            raise FaircardError(f"The decision rule sets thresholds per group of "
                                f"'{policy.feature}', which is not one of this record's "
                                f"groupings: {', '.join(parts)}.")
        group, groups = part.cell_to_group[sc.cell], part.groups
    p = policy.positive_probability(np.asarray(sc.y_score, np.float64), group, groups)
    code = sc.cell.astype(np.int64) * 4 + np.asarray(sc.y_true, bool).astype(np.int64) * 2
    weight = np.ones(len(p)) if sc.weight is None else np.asarray(sc.weight, np.float64)
    size = cube.n_cells * 4
    counts = (np.bincount(code + 1, weights=weight * p, minlength=size)
              + np.bincount(code, weights=weight * (1.0 - p), minlength=size))
    return counts.astype(np.float64).reshape(cube.n_cells, 4)


def what_if(cube: Cube, rule: float | DecisionPolicy, *, intersection: bool = True,
            min_group_size: int = 30, favorable_outcome: str = "positive") -> WhatIf:
    """The figures of ``rule`` (one threshold for everyone, or a decision policy) from
    ``cube`` (see :class:`WhatIf`); ``min_group_size`` marks small groups as the record's
    choices do."""
    policy = as_policy(rule)
    cells = cell_counts_at(cube, policy)

    def count(x: float) -> float | int:
        return float(x) if policy.is_randomized else int(round(x))

    rows = []
    for part in cube.partitions(intersection):
        counts = aggregate_cells(cells, part.cell_to_group, len(part.groups))
        vals = metrics_from_counts(counts)
        n = counts.sum(axis=1)
        for g, group in enumerate(part.groups):
            row = {"feature": part.name, "group": group, "n": int(round(n[g])),
                   "is_small_group": bool(n[g] < min_group_size)}
            row.update({k: count(counts[g, i]) for i, k in enumerate(COUNT_COLUMNS)})
            row.update({m: float(vals[m][g]) for m in WHAT_IF_METRICS})
            rows.append(row)
    by_group = pd.DataFrame(rows, columns=["feature", "group", "n", "is_small_group",
                                           *COUNT_COLUMNS, *WHAT_IF_METRICS])
    total = cells.sum(axis=0)
    vals = metrics_from_counts(total)
    overall = {"count": float(total.sum()),
               **{k: float(total[i]) for i, k in enumerate(COUNT_COLUMNS)},
               **{m: float(vals[m]) for m in WHAT_IF_METRICS}}
    trivial = trivial_decision({"overall": overall, "by_group": rows,
                                "favorable_outcome": favorable_outcome})
    return WhatIf(policy.threshold, by_group, overall, trivial, cube.scores.step, policy)
