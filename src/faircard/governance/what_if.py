"""What if the threshold were another: counts and main metrics per group from a stored cube.

A read-only view of a record (the share link) can ask how the recorded model would decide at
another single threshold, for everyone, without the dataset: the record's counts cube keeps
every distinct (cell, outcome, score) with its number of rows, so the confusion counts of
every group at any threshold follow exactly (up to the grid step when an engine put more than
100,000 distinct scores of a cell on a grid). This never changes the record: its card and its
approval state the recorded decision rule.

Pure Python: no streamlit, no database.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..counts import aggregate_cells
from ..cube import Cube
from ..errors import FaircardError
from ..metrics import metrics_from_counts
from ..trivial import trivial_decision

WHAT_IF_METRICS = ("selection_rate", "accuracy", "precision", "true_positive_rate",
                   "false_positive_rate", "false_negative_rate")
"""The metrics shown at a what-if threshold (count-derived, so exact from counts)."""
COUNT_COLUMNS = ("tn", "fp", "fn", "tp")


@dataclass(frozen=True)
class WhatIf:
    """Counts and metrics at ``threshold`` (a score at or above it is a positive decision).

    ``by_group``: one row per group of every partition, columns ``feature, group, n,
    is_small_group, tn, fp, fn, tp`` and :data:`WHAT_IF_METRICS` (NaN when undefined);
    ``overall``: the same figures over everybody; ``trivial``: the sentence saying the rule
    tells nobody apart (:func:`faircard.trivial.trivial_decision`), or None; ``grid_step``:
    the grid the scores were put on (None: exact scores)."""

    threshold: float
    by_group: pd.DataFrame
    overall: dict[str, float]
    trivial: str | None
    grid_step: float | None


def cell_counts_at(cube: Cube, threshold: float) -> np.ndarray:
    """Each cell's counts ``[tn, fp, fn, tp]`` (float64, n_cells x 4) when a score at or
    above ``threshold`` is a positive decision, from the cube's scored entries."""
    sc = cube.scores
    if sc is None:
        raise FaircardError("This record's decisions are predicted labels, not scores, so "
                            "there is no threshold to move.")
    t = float(threshold)
    if not np.isfinite(t):
        raise FaircardError(f"A threshold is a finite number; got {threshold!r}.")
    positive = np.asarray(sc.y_score) >= t
    code = sc.cell.astype(np.int64) * 4 + np.asarray(sc.y_true, bool).astype(np.int64) * 2 \
        + positive.astype(np.int64)
    weight = None if sc.weight is None else np.asarray(sc.weight, np.float64)
    counts = np.bincount(code, weights=weight, minlength=cube.n_cells * 4)
    return counts.astype(np.float64).reshape(cube.n_cells, 4)


def what_if(cube: Cube, threshold: float, *, intersection: bool = True,
            min_group_size: int = 30, favorable_outcome: str = "positive") -> WhatIf:
    """The figures of one threshold for everyone, from ``cube`` (see :class:`WhatIf`);
    ``min_group_size`` marks small groups as the record's choices do."""
    cells = cell_counts_at(cube, threshold)
    rows = []
    for part in cube.partitions(intersection):
        counts = aggregate_cells(cells, part.cell_to_group, len(part.groups))
        vals = metrics_from_counts(counts)
        n = counts.sum(axis=1)
        for g, group in enumerate(part.groups):
            row = {"feature": part.name, "group": group, "n": int(round(n[g])),
                   "is_small_group": bool(n[g] < min_group_size)}
            row.update({k: int(round(counts[g, i])) for i, k in enumerate(COUNT_COLUMNS)})
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
    return WhatIf(float(threshold), by_group, overall, trivial, cube.scores.step)
