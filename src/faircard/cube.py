"""The counts cube: the one object between a table's rows and everything faircard computes.

A source (pandas in memory, DuckDB over files, Spark over a cluster) reads the rows once and
returns a :class:`Cube`. Metrics, disparities, intervals, sweeps, policies, cards and records
read only the cube, so they give the same numbers whichever source counted. The cube holds:

* the cells: each combination of the sensitive features' groups (labels per feature, and each
  cell's group in every feature), with its confusion counts ``[tn, fp, fn, tp]`` under the
  decision rule (expected counts, float, under a randomised rule);
* for a score column, :class:`ScoredCells`: each cell's scores per outcome as (cell, outcome,
  score, rows) entries, which is what a sweep, ROC AUC and a score histogram need, plus the
  per-cell sums behind the Brier score and log loss;
* the row accounting: rows read, rows left out and why, and the positive label.

No other column, no row order and no row identity: a cube cannot be joined back to people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .prepare import GroupIndex, Partition


@dataclass(frozen=True)
class ScoredCells:
    """The scores of every cell, per outcome, as weighted entries.

    Entry ``i`` says that ``weight[i]`` rows (one when ``weight`` is None) of cell ``cell[i]``
    with outcome ``y_true[i]`` have the score ``y_score[i]``. Entries are ascending by score when
    ``by_score`` is true (an in-memory source: one entry per row kept); an engine that counted
    next to the data gives one entry per distinct (cell, outcome, score), in no set order.
    ``minimum``/``maximum`` are the scores' range over the rows kept (also when a record keeps
    no entries); ``sums`` the per-cell sums of the squared error and of the log-loss terms
    (probabilities only, else None); ``step`` the grid on which an engine put more than
    100,000 distinct scores (None: exact scores).
    """

    y_true: np.ndarray
    y_score: np.ndarray
    cell: np.ndarray
    weight: np.ndarray | None
    minimum: float
    maximum: float
    sums: dict[str, np.ndarray] | None = None
    by_score: bool = False
    step: float | None = None

    @property
    def is_probability(self) -> bool:
        """True when every score lies in [0, 1] (Brier score and log loss need probabilities)."""
        return self.minimum >= 0.0 and self.maximum <= 1.0

    def rows_per_cell(self, n_cells: int) -> np.ndarray:
        """Rows with a score in each cell (float64, n_cells)."""
        return np.bincount(self.cell, weights=self.weight,
                           minlength=n_cells).astype(np.float64)


@dataclass
class Cube:
    """Counts of one table under one set of choices (see the module docstring).

    ``index`` names the cells (its ``cell_codes`` and ``labels``; it holds no rows);
    ``cells`` (n_cells x 4) the confusion counts; ``scores`` is None for a prediction column.
    ``engine`` says how the rows were counted (name, grid step, ...); ``memo`` keeps what is
    computed from the cube once (per-group score metrics), so another reference group or
    minimum group size does not recompute it.
    """

    index: GroupIndex
    cells: np.ndarray
    pos_label: Any
    n_input: int
    n_dropped: int
    dropped_reasons: dict[str, int]
    scores: ScoredCells | None = None
    engine: dict[str, Any] = field(default_factory=dict)
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_cells(self) -> int:
        return self.index.n_cells

    @property
    def is_randomized(self) -> bool:
        """True when the counts are expected values over a randomised decision rule."""
        return bool(np.issubdtype(np.asarray(self.cells).dtype, np.floating))

    def partitions(self, intersection: bool = True) -> list[Partition]:
        """Each sensitive feature, then (with two or more) their intersection."""
        return self.index.partitions(intersection)


def cells_only(index: GroupIndex) -> GroupIndex:
    """``index`` without its rows: the cells' labels and codes only."""
    return GroupIndex(index.features, index.labels, np.zeros(0, dtype=np.int64),
                      index.cell_codes)


__all__ = ["Cube", "ScoredCells", "cells_only"]
