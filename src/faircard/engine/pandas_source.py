"""The in-memory source: a pandas DataFrame counted into a :class:`~faircard.cube.Cube`.

The rows are checked and encoded once by :func:`faircard.prepare.prepare` (missing values,
positive label, one-hot features, bands, the decision rule), then counted: confusion counts
per cell and, for a score, the scores per cell and outcome with exact values, sorted once.
After this nothing reads the table again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..counts import SCORE_ORDER, is_probability, prepared_cells, score_sums
from ..cube import Cube, ScoredCells, cells_only
from ..prepare import Prepared, prepare
from ..spec import AssessmentSpec

CUBE = "cube"
"""Key of ``Prepared.memo`` holding the cube counted from those rows."""


def count_pandas(data: pd.DataFrame, spec: AssessmentSpec) -> Cube:
    """The cube of ``spec`` over the rows of ``data`` (raises
    :class:`~faircard.errors.FaircardError` for problems with the columns)."""
    return cube_of(prepare(data, spec))


def cube_of(prepared: Prepared) -> Cube:
    """The cube of rows already checked and encoded (kept with them: rows of fewer sensitive
    features derived from them share their sort of the scores)."""
    cube = prepared.memo.get(CUBE)
    if cube is None:
        cube = prepared.memo[CUBE] = _count(prepared)
    return cube


def _count(prepared: Prepared) -> Cube:
    scores = None
    if prepared.y_score is not None:
        s = prepared.y_score
        order = prepared.memo.get(SCORE_ORDER)
        if order is None:
            order = prepared.memo[SCORE_ORDER] = np.argsort(s, kind="stable")
        prob = is_probability(s)
        scores = ScoredCells(
            y_true=prepared.y_true[order], y_score=s[order], cell=prepared.index.cell[order],
            weight=None, minimum=float(s.min()), maximum=float(s.max()),
            sums=score_sums(prepared) if prob else None, by_score=True)
    cells = prepared.memo.get("cells")  # derived from the cube of more features, or counted
    if cells is None:
        cells = prepared_cells(prepared)
    return Cube(index=cells_only(prepared.index), cells=cells,
                pos_label=prepared.pos_label, n_input=prepared.n_input,
                n_dropped=prepared.n_dropped, dropped_reasons=dict(prepared.dropped_reasons),
                scores=scores, engine={"name": "pandas"})


__all__ = ["CUBE", "count_pandas", "cube_of"]
