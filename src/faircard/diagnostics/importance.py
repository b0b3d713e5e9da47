"""Permutation importance of a model's input columns, overall and within each group.

How much worse the model does when one column's values are shuffled across rows (the link
between that column and the outcome broken, everything else kept): the metric on the data as
it is minus the metric on the shuffled copy, repeated with several shuffles (mean and
standard deviation). Per group, the same shuffled copies are scored on each group's rows, so a
column the model uses only for one group shows importance only in that group.

The model is any :class:`faircard.io.sandbox.ModelHandle`: an uploaded model only ever runs
in its sandboxed child process, and this module only receives its scores. The shuffled copies
are stacked into a few large batches, so the child is called a few times, not once per column
and repeat. On large data a random sample of rows (``max_rows``) is used; its size is reported.

The shuffles are scikit-learn's: with the same rows and ``seed`` as ``random_state``,
:func:`sklearn.inspection.permutation_importance` permutes every column identically, so the
overall figures are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from ..errors import FaircardError

METRICS = ("roc_auc", "accuracy")
DEFAULT_REPEATS = 5
DEFAULT_MAX_ROWS = 20_000
"""Rows scored per shuffled copy; above this a random sample of rows is used."""
BATCH_CELLS = 4_000_000
"""Shuffled copies are stacked until a batch holds about this many cells (one child call)."""
COLUMNS = ["feature", "group", "column", "metric", "n", "baseline", "importance",
           "importance_std", "rank"]


def auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC AUC of scores ``s`` for 0/1 labels ``y`` (ties count one half), NaN without both
    classes: the Mann-Whitney statistic from average ranks."""
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(s)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _shuffles(m: int, n_repeats: int, seed: int) -> list[np.ndarray]:
    """The row order of each repeat, as scikit-learn's permutation_importance draws them: one
    seed from ``RandomState(seed)``, then per repeat an in-place shuffle of an index applied
    to the previous repeat's column (so repeat ``r`` is the composition of ``r`` shuffles)."""
    col_seed = np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1)
    rng = np.random.RandomState(col_seed)
    idx = np.arange(m)
    current = np.arange(m)
    out = []
    for _ in range(n_repeats):
        rng.shuffle(idx)
        current = current[idx]
        out.append(current)
    return out


def sample_rows(n: int, max_rows: int, seed: int) -> np.ndarray:
    """Row positions used: all ``n`` rows, or ``max_rows`` of them drawn without replacement
    (in their original order)."""
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))


def permutation_importance(model, X: pd.DataFrame, y_true: np.ndarray, *,
                           groups: Sequence[tuple[str, np.ndarray, Sequence[str]]] = (),
                           metric: str | None = None, positive_index: int = 1,
                           threshold: float | None = None, n_repeats: int = DEFAULT_REPEATS,
                           max_rows: int = DEFAULT_MAX_ROWS, seed: int = 0,
                           progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Permutation importance of every column of ``X`` for ``model``.

    ``X`` holds the model's input columns (n rows); ``y_true`` the outcomes as 0/1 (1 = the
    model class at ``positive_index``). ``groups`` lists ``(feature, codes, labels)``: per
    sensitive feature, each row's group code (an index into ``labels``, -1 for none).
    ``metric`` is ``"roc_auc"`` (the default for a model with scores: how well its scores rank
    the outcome) or ``"accuracy"`` (the default for a model that gives labels only; with
    scores, the decision is ``score >= threshold``, 0.5 for probabilities and 0 for a decision
    function by default). Importance is the metric on the data minus the metric with the
    column shuffled, per repeat; the table gives the mean over ``n_repeats`` and the standard
    deviation (population, as scikit-learn's ``importances_std``).

    Returns one row per scope (overall: ``feature`` None and ``group`` "(all)"; then each group
    of each feature) and column, with ``n`` rows scored, the ``baseline`` metric, ``importance``,
    ``importance_std`` and ``rank`` within the scope (1 = most important). ``attrs`` hold
    ``metric``, ``n_repeats``, ``rows_total``, ``rows_used``, ``seed`` and ``model_calls``.
    ``progress(done, total)`` counts shuffled copies scored.
    """
    if metric is None:
        metric = "roc_auc" if model.has_scores else "accuracy"
    if metric not in METRICS:
        raise FaircardError(f"Importance metric '{metric}' is not one of: {', '.join(METRICS)}.")
    if metric == "roc_auc" and not model.has_scores:
        raise FaircardError(f"The model '{model.name}' gives labels only, so its importance is "
                            "measured with accuracy, not ROC AUC.")
    if n_repeats < 1 or max_rows < 2:
        raise FaircardError("Importance needs at least one repeat and two rows.")
    n = len(X)
    if len(y_true) != n:
        raise FaircardError("The outcomes and the model's input rows differ in number.")
    if n < 2 or X.shape[1] == 0:
        raise FaircardError("Importance needs at least two rows and one input column.")
    rows = sample_rows(n, max_rows, seed)
    Xs = X.iloc[rows].reset_index(drop=True)
    y = np.asarray(y_true)[rows].astype(np.int8)
    m = len(rows)
    scopes: list[tuple[Any, str, np.ndarray]] = [(None, "(all)", np.arange(m))]
    for feature, codes, labels in groups:
        codes = np.asarray(codes)[rows]
        for k, label in enumerate(labels):
            scopes.append((feature, str(label), np.flatnonzero(codes == k)))
    columns = list(Xs.columns)
    shuffles = _shuffles(m, n_repeats, seed)
    # copy 0 is the data as it is; then every column under every shuffle
    copies: list[tuple[int | None, int | None]] = [(None, None)]
    copies += [(c, r) for c in range(len(columns)) for r in range(n_repeats)]
    values = np.empty((len(copies), len(scopes)))
    per_batch = max(1, BATCH_CELLS // max(1, m * len(columns)))
    calls = 0
    report = progress or (lambda done, total: None)
    report(0, len(copies))
    for start in range(0, len(copies), per_batch):
        batch = copies[start:start + per_batch]
        out = _predict(model, _stack(Xs, columns, batch, shuffles), metric, positive_index,
                       threshold)
        calls += 1
        for j in range(len(batch)):
            seg = out[j * m:(j + 1) * m]
            for s, (_, _, where) in enumerate(scopes):
                values[start + j, s] = _score(metric, y[where], seg[where])
        report(start + len(batch), len(copies))
    baseline = values[0]
    drops = baseline[None, :] - values[1:].reshape(len(columns), n_repeats, len(scopes))
    records = []
    for s, (feature, group, where) in enumerate(scopes):
        for c, name in enumerate(columns):
            records.append({"feature": feature, "group": group, "column": name,
                            "metric": metric, "n": int(len(where)),
                            "baseline": float(baseline[s]),
                            "importance": float(drops[c, :, s].mean()),
                            "importance_std": float(drops[c, :, s].std())})
    table = pd.DataFrame(records, columns=COLUMNS[:-1])
    scope_key = table["feature"].fillna("") + "\x00" + table["group"]
    table["rank"] = table.groupby(scope_key, sort=False)["importance"].rank(
        ascending=False, method="min").astype("Int64")
    table.attrs.update(metric=metric, n_repeats=int(n_repeats), rows_total=int(n),
                       rows_used=int(m), seed=int(seed), model_calls=calls)
    return table


def _stack(X: pd.DataFrame, columns: list, batch: list[tuple[int | None, int | None]],
           shuffles: list[np.ndarray]) -> pd.DataFrame:
    """The copies of ``batch`` one under the other: copy ``(c, r)`` is ``X`` with column ``c``
    in the row order of shuffle ``r``. Column dtypes are kept (``Series.take``)."""
    m = len(X)
    base = np.tile(np.arange(m), len(batch))
    order = {}
    for j, (c, r) in enumerate(batch):
        if c is None:
            continue
        idx = order.setdefault(c, base.copy())
        idx[j * m:(j + 1) * m] = shuffles[r]
    data = {}
    for c, name in enumerate(columns):
        data[name] = X.iloc[:, c].take(order.get(c, base)).reset_index(drop=True)
    return pd.DataFrame(data, columns=X.columns)


def _predict(model, X: pd.DataFrame, metric: str, positive_index: int,
             threshold: float | None) -> np.ndarray:
    if model.has_scores:
        scores = model.predict_scores(X, positive_index)
        if metric == "roc_auc":
            return scores
        cut = threshold if threshold is not None else (0.5 if model.facts.has_proba else 0.0)
        return (scores >= cut).astype(np.int8)
    labels = model.predict_labels(X)
    positive = model.classes[positive_index]
    return np.fromiter((v == positive for v in labels), dtype=np.int8, count=len(labels))


def _score(metric: str, y: np.ndarray, out: np.ndarray) -> float:
    if len(y) == 0:
        return float("nan")
    if metric == "roc_auc":
        return auc(y, out)
    return float((out == y).mean())
