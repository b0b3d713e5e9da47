"""A search for the subgroups that fare worst, including ones nobody named.

Every conjunction of up to ``max_conditions`` conditions ``column == level`` over the given
coded columns (numeric columns banded by quantiles) is a candidate subgroup. For each column
combination the confusion counts of all its subgroups come from one ``bincount`` over the rows;
each subgroup is compared with the rest of the data (two-proportion test) and the p-values are
Holm-adjusted across every subgroup tried, so a subgroup is reported only when chance is an
unlikely explanation even after looking at all of them.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from ..uncertainty import holm, two_proportion_p
from .encode import Coded

SUBGROUP_METRICS = {
    # metric: (numerator cells, denominator cells) over (tn, fp, fn, tp)
    "error_rate": ((1, 2), (0, 1, 2, 3)),
    "selection_rate": ((1, 3), (0, 1, 2, 3)),
    "false_positive_rate": ((1,), (0, 1)),
    "false_negative_rate": ((2,), (2, 3)),
}


def _cells(codes: list[np.ndarray], sizes: list[int], conf: np.ndarray) -> np.ndarray:
    """Confusion counts (n_subgroups, 4) of every level combination of the given columns."""
    key = np.zeros(len(conf), dtype=np.int64)
    for c, s in zip(codes, sizes, strict=True):
        key = key * s + c
    total = int(np.prod(sizes))
    return np.bincount(key * 4 + conf, minlength=total * 4).reshape(total, 4)


def proportion_p_values(k1, n1, k2, n2) -> np.ndarray:
    """Vectorised :func:`faircard.uncertainty.two_proportion_p`: the pooled z test, and
    Fisher's exact test where an expected count is below 5."""
    k1, n1, k2, n2 = (np.asarray(x, dtype=np.float64) for x in (k1, n1, k2, n2))
    pooled = (k1 + k2) / (n1 + n2)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = np.where(se > 0, (k1 / n1 - k2 / n2) / np.where(se > 0, se, 1), 0.0)
    p = 2 * stats.norm.sf(np.abs(z))
    expected = np.stack([n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)])
    for i in np.flatnonzero((expected < 5).any(axis=0)):
        p[i] = two_proportion_p(k1[i], n1[i], k2[i], n2[i])
    return p


def search_subgroups(columns: list[Coded], y_true: np.ndarray, y_pred: np.ndarray, *,
                     metric: str = "error_rate", max_conditions: int = 3,
                     min_size: int = 30, alpha: float = 0.05, worse: str = "higher",
                     max_cells: int = 2_000_000) -> pd.DataFrame:
    """Subgroups (conjunctions of conditions) whose ``metric`` differs from the rest.

    A conjunction that selects exactly the same rows as one of its parts (one condition fewer)
    is left out as redundant. Returns every other subgroup tried with at least ``min_size``
    rows and a defined metric. Significant subgroups come first, the worst first: ``worse``
    says which direction is worse for the people in it ("higher" for error rates, "lower" for
    the selection rate of a favourable decision, "either"). Columns: ``conditions`` (tuple of
    (column, level)),
    ``description``, ``size``, ``metric``, ``value``, ``rest_value``, ``difference``,
    ``p_value``, ``p_adjusted``, ``significant``. ``attrs["n_tested"]`` is the number of
    subgroups the correction covers.
    """
    if metric not in SUBGROUP_METRICS:
        raise ValueError(f"unknown subgroup metric {metric!r}")
    num_idx, den_idx = SUBGROUP_METRICS[metric]
    conf = (2 * np.asarray(y_true, dtype=np.int64) + np.asarray(y_pred, dtype=np.int64))
    # cell order (tn, fp, fn, tp) = 2*y + p
    overall = np.bincount(conf, minlength=4)
    if worse not in ("higher", "lower", "either"):
        raise ValueError(f"worse must be higher, lower or either, not {worse!r}")
    frames = []
    for k in range(1, max_conditions + 1):
        for combo in combinations(columns, k):
            sizes = [c.n_levels for c in combo]
            if int(np.prod(sizes)) > max_cells:
                continue
            cells = _cells([c.codes for c in combo], sizes, conf)
            size = cells.sum(axis=1)
            num = cells[:, list(num_idx)].sum(axis=1)
            den = cells[:, list(den_idx)].sum(axis=1)
            rest_num = overall[list(num_idx)].sum() - num
            rest_den = overall[list(den_idx)].sum() - den
            keep = (size >= min_size) & (den > 0) & (rest_den > 0)
            # redundant: the same rows as a part with one condition fewer
            tensor = size.reshape(sizes)
            for axis in range(k if k > 1 else 0):
                parent = np.broadcast_to(tensor.sum(axis=axis, keepdims=True), tensor.shape)
                keep &= (parent != tensor).reshape(-1)
            ok = np.flatnonzero(keep)
            if not ok.size:
                continue
            levels = np.unravel_index(ok, sizes)
            label_cols = [np.asarray(c.labels, dtype=object)[lv] for c, lv in zip(combo, levels,
                                                                                  strict=True)]
            names = [c.name for c in combo]
            conditions = [tuple(zip(names, labs, strict=True)) for labs in zip(*label_cols,
                                                                              strict=True)]
            frames.append(pd.DataFrame({
                "conditions": conditions,
                "description": [" and ".join(f"{c} = {v}" for c, v in cond)
                                for cond in conditions],
                "size": size[ok].astype(np.int64), "metric": metric,
                "value": num[ok] / den[ok], "rest_value": rest_num[ok] / rest_den[ok],
                "difference": num[ok] / den[ok] - rest_num[ok] / rest_den[ok],
                "p_value": proportion_p_values(num[ok], den[ok], rest_num[ok], rest_den[ok]),
            }))
    columns_out = ["conditions", "description", "size", "metric", "value", "rest_value",
                   "difference", "p_value"]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=columns_out)
    frame["p_adjusted"] = holm(frame["p_value"].to_numpy(dtype=np.float64)) if len(frame) \
        else np.array([], dtype=np.float64)
    frame["significant"] = frame["p_adjusted"] < alpha
    sign = {"higher": 1.0, "lower": -1.0}.get(worse)
    frame["badness"] = frame["difference"].abs() if sign is None else sign * frame["difference"]
    frame = frame.sort_values(["significant", "badness"], ascending=[False, False],
                              kind="stable").drop(columns="badness")
    frame = frame.reset_index(drop=True)
    frame.attrs["n_tested"] = len(frame)
    return frame
