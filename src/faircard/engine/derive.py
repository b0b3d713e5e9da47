"""Counts of fewer sensitive features from counts already made, without reading the rows again.

Removing a sensitive feature (or choosing a subset of features already counted, in any order)
merges the intersection cells that differ only in the removed features. Everything else about a
row (its outcome, its score, its decision, whether it was left out for a missing outcome or
score) does not depend on the sensitive features, and a missing value in a sensitive feature is
a group of its own, never a reason to leave a row out. So the derived counts equal a fresh count
of the subset: the same groups, labels, cells, row accounting and sufficient statistics.

Two sources are derived here:

* the arrays the in-memory path keeps (:class:`~faircard.prepare.Prepared`): the rows keep
  their outcome, score and decision, only their cell is renumbered;
* the grouped table a source engine returns (:class:`~faircard.engine.grouped.GroupedCounts`):
  its rows are summed over the removed features' columns.

Another decision rule is derived from the exact scores these keep. A grouped table whose scores
are on a grid reads the rows of the grid cells next to the new thresholds again
(:mod:`faircard.engine.recount`).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..counts import SCORE_ORDER, aggregate_cells
from ..prepare import GroupIndex, Prepared, policy_probabilities
from ..spec import AssessmentSpec
from .grouped import GroupedCounts, policy_thresholds
from .pandas_source import CUBE

_FREE = ("sensitive", "bins", "intersection", "reference", "min_group_size",
         "include_small_groups", "n_boot", "confidence", "random_state")
"""Choices that do not change which rows are kept, their outcome, score or decision rule."""

SUMMED = ("__n", "__sq", "__ll")
"""Columns of a grouped table that add up when its rows are merged."""
_INTERNAL = re.compile(r"__(target|score|prediction|p\d+|n|sq|ll)$")


_RULE = ("threshold", "policy")
"""The decision rule of a score: another one is derived when the counts keep every score."""


def _rest(spec: AssessmentSpec, free: tuple[str, ...] = _FREE) -> dict[str, Any]:
    d = spec.to_dict()
    return {k: v for k, v in d.items() if k not in free}


def derivable(counted: AssessmentSpec, spec: AssessmentSpec, *, bins_on_values: bool,
              scores_kept: bool = False) -> bool:
    """True when the counts made for ``counted`` hold those of ``spec``: the same outcome and
    decision column, and ``spec``'s sensitive features among ``counted``'s; the same decision
    rule, unless ``scores_kept`` (the counts keep every exact score, so the decision of each
    row under another threshold or per-group policy follows from them).

    ``bins_on_values``: the counts keep each feature's values (a grouped table), so its bands
    can change; otherwise (rows already banded) each kept feature's bands must be the same.
    """
    free = _FREE + _RULE if scores_kept and counted.uses_score and spec.uses_score else _FREE
    if not set(spec.sensitive) <= set(counted.sensitive) or \
            _rest(counted, free) != _rest(spec, free):
        return False
    if bins_on_values:
        return True
    return all(counted.bins.get(f) == spec.bins.get(f) for f in spec.sensitive)


def derive_index(index: GroupIndex, features: tuple[str, ...]) -> tuple[GroupIndex, np.ndarray]:
    """The index of ``features`` (a subset of ``index.features``, in any order) and, for each
    old cell, its new cell. Cells are numbered as :func:`~faircard.prepare.build_group_index`
    numbers them: non-empty cells in the order of their combined code."""
    cols = [index.features.index(f) for f in features]
    # distinct rows of the kept codes, in lexicographic order (the first feature slowest): the
    # order of the combined code, and right whatever the number of possible cells
    codes, old_to_new = np.unique(index.cell_codes[:, cols], axis=0, return_inverse=True)
    codes = codes.astype(np.int64)
    old_to_new = old_to_new.astype(np.int64).reshape(-1)
    cell = old_to_new[index.cell] if index.cell.size else index.cell
    new = GroupIndex(tuple(features), {f: index.labels[f] for f in features}, cell, codes)
    return new, old_to_new


def derive_prepared(prepared: Prepared, spec: AssessmentSpec) -> Prepared:
    """The arrays :func:`~faircard.prepare.prepare` builds for ``spec`` from those built for a
    spec with more sensitive features (see :func:`derivable`): no row of the table is read."""
    index, old_to_new = derive_index(prepared.index, spec.sensitive)
    y_pred, p_pred = prepared.y_pred, None
    if prepared.y_score is not None:
        p = policy_probabilities(spec.policy, prepared.y_score, index, spec.intersection)
        y_pred = p >= 0.5
        p_pred = p if spec.policy.is_randomized else None
    memo: dict = {}
    if SCORE_ORDER in prepared.memo:  # the same scores: the same order
        memo[SCORE_ORDER] = prepared.memo[SCORE_ORDER]
    base = prepared.memo.get(CUBE)  # the cube already counted from these rows
    if base is not None and p_pred is None and prepared.p_pred is None and \
            np.array_equal(y_pred, prepared.y_pred):  # the same decisions: the same cells
        memo["cells"] = aggregate_cells(base.cells, old_to_new, index.n_cells)  # exact
    return Prepared(y_true=prepared.y_true, y_pred=y_pred, p_pred=p_pred,
                    y_score=prepared.y_score, index=index, pos_label=prepared.pos_label,
                    n_input=prepared.n_input, n_dropped=prepared.n_dropped,
                    dropped_reasons=dict(prepared.dropped_reasons), memo=memo)


def scores_exact(counted: GroupedCounts) -> bool:
    """Whether a grouped table keeps every exact score (not scores on a grid)."""
    return counted.score_step is None and "__score" in counted.grouped


def derive_grouped(counted: GroupedCounts, features: tuple[str, ...],
                   rule: AssessmentSpec | None = None) -> GroupedCounts:
    """The grouped table of ``features`` (a subset of the counted features) from one with more:
    rows that differ only in the removed features' values are merged and their counts and
    score sums added. A missing value stays a value of its own.

    ``rule``: a spec whose decision rule may differ from the counted one; its decision columns
    (``__p{k}``, ``score >= threshold k``) are then computed from the exact scores the table
    keeps, as the query computes them (only when the scores are not on a grid)."""
    g = counted.grouped
    if rule is not None and rule.uses_score:
        if counted.score_step is not None or "__score" not in g:
            raise ValueError("scores on a grid do not decide another threshold")
        old = [c for c in g.columns if re.fullmatch(r"__p\d+", str(c))]
        score = g["__score"].to_numpy(dtype=np.float64)
        g = g.drop(columns=old).assign(**{
            f"__p{k}": (score >= t).astype(np.int64)
            for k, t in enumerate(policy_thresholds(rule))})
    keep = set(features)
    removed = [c for c in g.columns if c not in keep and not _INTERNAL.match(str(c))]
    if not removed and g is counted.grouped:
        return counted
    keys = [c for c in g.columns if c not in removed and c not in SUMMED]
    sums = [c for c in SUMMED if c in g.columns]
    merged = (g.groupby(keys, dropna=False, sort=False, observed=True)[sums].sum()
              .reset_index()) if len(g) and removed else g.drop(columns=removed)
    return GroupedCounts(
        grouped=merged, targets=counted.targets, n_input=counted.n_input,
        n_missing_target=counted.n_missing_target, n_missing_decision=counted.n_missing_decision,
        score_min=counted.score_min, score_max=counted.score_max,
        score_step=counted.score_step, engine=counted.engine,
        notes=counted.notes, dropped=counted.dropped)


__all__ = ["derivable", "derive_grouped", "derive_index", "derive_prepared", "scores_exact"]
