"""Counts under another decision rule from a grouped table whose scores are on a grid, with a
recount of only the grid cells next to the new thresholds.

A grouped table with more than :data:`~faircard.engine.grouped.MAX_DISTINCT_SCORES` distinct
scores keeps each row's grid cell ``E(s) = FLOOR((s - origin) / step)`` instead of its score,
and the decision flags ``__p{k}`` (``s >= t_k``, exact) of the rule it was counted under. For
another rule with thresholds ``t_j``, the flag of a row follows from its cell, except near
``t_j``:

* ``E`` is monotone. The engine computes it with IEEE-754 double operations rounded to the
  nearest: a subtraction of ``origin`` and a division by ``step > 0`` keep the order of their
  operand (``a <= b`` gives ``fl(a - o) <= fl(b - o)``), and so does FLOOR. So ``s < t`` gives
  ``E(s) <= E(t)`` and ``s >= t`` gives ``E(s) >= E(t)``: a row in a cell above ``E(t)`` has
  ``s >= t`` (flag 1), a row in a cell below has ``s < t`` (flag 0). Only the cell ``E(t)``
  holds rows on both sides, whatever the rounding of ``(s - origin) / step``.
* Here ``c = FLOOR((t - origin) / step)`` is computed by Python with the same double
  operations, so ``c == E(t)``. The recount still takes the cells ``c - 1 .. c + 1``, so that an
  engine whose arithmetic differed from Python's by one cell (another rounding mode, a fused
  operation) would still decide every row exactly: cells ``>= c + 2`` are above ``E(t)`` and
  cells ``<= c - 2`` below it.

The rows of the cells next to some threshold are read again (:func:`recount_query`: a GROUP BY
of only those rows, with the exact comparison ``score >= t_j``) and replace those cells' rows,
with their counts and score sums; every other row takes its flags from its cell. Rows that only
the old rule told apart (its thresholds' cells, split by the old flags) are merged. The result
is the grouped table a full count under the new rule returns: the same rows, with counts equal
and score sums equal up to the order of the additions (DuckDB itself adds them in no fixed
order).

The query is written once in DuckDB's dialect and translated for Spark, as the full count is
(:func:`recount_duckdb`, :func:`recount_spark`).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from ..errors import FaircardError
from ..spec import AssessmentSpec
from .derive import SUMMED, derive_grouped
from .grouped import GroupedCounts, policy_thresholds, positive_values
from .sql import Columns, _literal, _missing, _score_sums, _value, grid_scores, quote, to_spark

_FLAG = re.compile(r"__p\d+$")


def grid_cells(counted: GroupedCounts) -> np.ndarray | None:
    """The grid cell of each row of a grouped table whose scores are on a grid (the inverse of
    :func:`~faircard.engine.sql.grid_scores`), or None when the table's scores are exact or a
    cell cannot be told from its score exactly (a step too fine for the scores' magnitude)."""
    g = counted.grouped
    if counted.score_step is None or "__score" not in g or counted.score_min is None:
        return None
    score = g["__score"].to_numpy(dtype=np.float64)
    cells = np.rint((score - counted.score_min) / counted.score_step).astype(np.int64)
    if not np.array_equal(grid_scores(cells, counted.score_step, counted.score_min), score):
        return None
    return cells


def recountable(counted: GroupedCounts) -> bool:
    """Whether another decision rule can be derived from ``counted`` (scores on a grid) with a
    recount of the cells next to its thresholds."""
    return grid_cells(counted) is not None


def threshold_cells(counted: GroupedCounts, thresholds: list[float]) -> list[int]:
    """The grid cell ``FLOOR((t - origin) / step)`` of each threshold, computed with the
    operations of the count query; clipped three cells beyond the scores' range (a threshold
    outside it decides every row from its cell)."""
    step, origin = counted.score_step, counted.score_min
    top = math.floor((counted.score_max - origin) / step)
    out = []
    for t in thresholds:
        x = (float(t) - origin) / step
        out.append(int(min(max(math.floor(x) if math.isfinite(x) else x, -3), top + 3)))
    return out


def windows(counted: GroupedCounts, cells: list[int]) -> list[tuple[int, int]]:
    """The ranges of grid cells to recount: ``c - 1 .. c + 1`` around each threshold's cell,
    merged, and only those that may hold rows (cells 0 to one past the cell of the highest
    score)."""
    top = math.floor((counted.score_max - counted.score_min) / counted.score_step) + 1
    out: list[list[int]] = []
    for c in sorted(cells):
        lo, hi = max(c - 1, 0), min(c + 1, top)
        if lo > hi:
            continue
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


def recount_query(cols: Columns, counted: GroupedCounts, spec: AssessmentSpec,
                  ranges: list[tuple[int, int]]) -> str:
    """The grouped query (DuckDB's dialect) of only the rows whose grid cell is in ``ranges``:
    one row per sensitive features' values, outcome, grid cell (``__score_cell``) and flag
    ``__p{k}`` (``score >= policy_thresholds(spec)[k]``), with ``__n``, ``__sq`` and ``__ll`` as
    the full count sums them. The cell is computed as the full count computes it; a range of
    scores one step wider on each side comes first, so that an engine can skip rows by the
    score alone (a superset: a cell's scores are within a tiny fraction of a step of it)."""
    step, origin = counted.score_step, counted.score_min
    t = quote(cols.target)
    d = f"CAST({quote(cols.decision)} AS DOUBLE)"
    keep = (f"NOT {_missing(t, cols.is_float.get(cols.target, False))} AND "
            f"NOT {_missing(quote(cols.decision), cols.is_float.get(cols.decision, False))}")
    cell = f"CAST(FLOOR(({d} - {_literal(origin)}) / {_literal(step)}) AS BIGINT)"
    near = " OR ".join(
        f"({d} BETWEEN {_literal(origin + (lo - 1) * step)} AND "
        f"{_literal(origin + (hi + 2) * step)})" for lo, hi in ranges)
    inside = " OR ".join(f"({cell} BETWEEN {lo} AND {hi})" for lo, hi in ranges)
    select = [f"{_value(quote(f), cols.is_float.get(f, False))} AS {quote(f)}"
              for f in cols.sensitive]
    select += [f"{t} AS __target", f"{cell} AS __score_cell"]
    select += [f"CASE WHEN {d} >= {_literal(x)} THEN 1 ELSE 0 END AS __p{k}"
               for k, x in enumerate(policy_thresholds(spec))]
    group = [quote(f) for f in cols.sensitive] + ["__target", "__score_cell"] + \
        [f"__p{k}" for k in range(len(policy_thresholds(spec)))]
    sums = _score_sums(t, d, positive_values(counted.targets, spec))
    return (f"SELECT {', '.join(select + ['COUNT(*) AS __n'] + sums)} FROM src "
            f"WHERE {keep} AND ({near}) AND ({inside}) GROUP BY {', '.join(group)}")


def replace_cells(counted: GroupedCounts, spec: AssessmentSpec, ranges: list[tuple[int, int]],
                  recounted: pd.DataFrame | None) -> GroupedCounts:
    """The grouped table of ``spec`` (its sensitive features among the table's, another
    decision rule) from ``counted``: the rows of the cells in ``ranges`` replaced by
    ``recounted`` (the rows of :func:`recount_query`, or None when ``ranges`` is empty), the
    flags of every other row from its cell."""
    base = derive_grouped(counted, spec.sensitive)
    g = base.grouped
    cells = grid_cells(base)
    if cells is None:
        raise ValueError("the grouped table does not keep its scores' grid cells")
    thresholds = policy_thresholds(spec)
    centre = threshold_cells(base, thresholds)
    old = [c for c in g.columns if _FLAG.match(str(c))]
    recount = np.zeros(len(g), dtype=bool)
    for lo, hi in ranges:
        recount |= (cells >= lo) & (cells <= hi)
    # the cells the old rule split (rows on both sides of an old threshold) merge again
    split = np.zeros(len(g), dtype=bool)
    for c in old:
        flag = g[c].to_numpy(dtype=np.int64)
        ones = np.bincount(cells, weights=flag, minlength=cells.max(initial=0) + 1)
        rows = np.bincount(cells, minlength=cells.max(initial=0) + 1)
        split |= ((ones > 0) & (ones < rows))[cells]
    flags = {f"__p{k}": (cells > c).astype(np.int64) for k, c in enumerate(centre)}
    features = list(spec.sensitive)
    keys = features + ["__target", "__score"] + list(flags)
    sums = [c for c in SUMMED if c in g.columns]
    rest = g.drop(columns=old).assign(**flags)[keys + sums]
    kept = rest[~recount & ~split]
    merged = rest[~recount & split]
    if len(merged):
        merged = merged.groupby(keys, dropna=False, sort=False, observed=True)[sums].sum() \
            .reset_index()
    parts = [kept, merged]
    if recounted is not None and len(recounted):
        new = recounted.copy()
        new["__score"] = grid_scores(new.pop("__score_cell"), base.score_step, base.score_min)
        for name in flags:
            new[name] = new[name].astype(np.int64)
        new["__n"] = new["__n"].astype(np.int64)
        parts.append(new[keys + sums])
    out = pd.concat([p for p in parts if len(p)] or [rest.iloc[:0]], ignore_index=True)
    order = features + ["__target"] + list(flags) + sums + ["__score"]
    return GroupedCounts(
        grouped=out[order], targets=base.targets, n_input=base.n_input,
        n_missing_target=base.n_missing_target, n_missing_decision=base.n_missing_decision,
        score_min=base.score_min, score_max=base.score_max, score_step=base.score_step,
        engine=base.engine, notes=base.notes, dropped=base.dropped)


def _recount(counted: GroupedCounts, spec: AssessmentSpec, cols: Columns, run) -> GroupedCounts:
    ranges = windows(counted, threshold_cells(counted, policy_thresholds(spec)))
    recounted = run(recount_query(cols, counted, spec, ranges)) if ranges else None
    return replace_cells(counted, spec, ranges, recounted)


def _check(counted: GroupedCounts, spec: AssessmentSpec) -> None:
    if not spec.uses_score:
        raise FaircardError("A decision rule is applied to a score column; this assessment "
                            f"uses the prediction column '{spec.prediction}'.")
    if not recountable(counted):
        raise ValueError("the grouped table does not keep its scores' grid cells")


def recount_duckdb(path: str, counted: GroupedCounts, spec: AssessmentSpec, *,
                   memory_limit: str = "4GB", threads: int | None = None) -> GroupedCounts:
    """The grouped counts of ``spec`` over the file, glob or folder at ``path``, from
    ``counted`` (the same data counted under another decision rule, scores on a grid; ``spec``'s
    sensitive features among its own) and a recount of the rows in the grid cells next to
    ``spec``'s thresholds: equal to ``count_duckdb(path, spec)``."""
    from .sources import _columns, duckdb_source

    _check(counted, spec)
    with duckdb_source(path, memory_limit=memory_limit, threads=threads) as (con, types):
        return _recount(counted, spec, _columns(spec, types),
                        lambda q: con.sql(q).to_arrow_table().to_pandas())


def recount_spark(frame: Any, counted: GroupedCounts, spec: AssessmentSpec) -> GroupedCounts:
    """:func:`recount_duckdb` for a PySpark DataFrame (of a catalog table: see
    :func:`~faircard.engine.sources.open_spark_table`): the same query, translated; equal to
    ``count_spark(frame, spec)``."""
    from .sources import (
        _columns,
        _spark_type,
        as_instants,
        footers_ignored,
        spark_errors,
        spark_instants,
    )

    _check(counted, spec)
    frame, instants = spark_instants(frame, spec.sensitive)
    with spark_errors(), footers_ignored(frame.sparkSession):
        cols = _columns(spec, {name: _spark_type(t) for name, t in frame.dtypes})
        frame.createOrReplaceTempView("src")
        return _recount(counted, spec, cols, lambda q: as_instants(
            frame.sparkSession.sql(to_spark(q)).toPandas(), instants))


__all__ = ["grid_cells", "recount_duckdb", "recount_query", "recount_spark", "recountable",
           "replace_cells", "threshold_cells", "windows"]
