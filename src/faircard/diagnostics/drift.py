"""Drift between a reference (training) dataset and the evaluation data, per column.

Numeric columns: the population stability index (PSI) over the reference's deciles and the
two-sample Kolmogorov-Smirnov statistic with its p-value; categorical columns: PSI over the levels
and the Jensen-Shannon divergence (base 2, between 0 and 1). Computed overall and within each
group of a sensitive feature, and ranked by PSI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

PSI_EPS = 1e-4
"""Share given to an empty bin so PSI stays finite (a common convention)."""


def psi(expected_counts: np.ndarray, actual_counts: np.ndarray, eps: float = PSI_EPS) -> float:
    """Population stability index sum((a - e) * ln(a / e)) over bins of two count vectors
    (shares below ``eps`` are raised to ``eps``). NaN when either side is empty."""
    e = np.asarray(expected_counts, dtype=np.float64)
    a = np.asarray(actual_counts, dtype=np.float64)
    if e.sum() == 0 or a.sum() == 0:
        return float("nan")
    e = np.maximum(e / e.sum(), eps)
    a = np.maximum(a / a.sum(), eps)
    return float(((a - e) * np.log(a / e)).sum())


def js_divergence(p_counts: np.ndarray, q_counts: np.ndarray) -> float:
    """Jensen-Shannon divergence (base 2) of two count vectors over the same levels."""
    p = np.asarray(p_counts, dtype=np.float64)
    q = np.asarray(q_counts, dtype=np.float64)
    if p.sum() == 0 or q.sum() == 0:
        return float("nan")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(x: np.ndarray) -> float:
        nz = x > 0
        return float((x[nz] * np.log2(x[nz] / m[nz])).sum())

    return 0.5 * kl(p) + 0.5 * kl(q)


def ks_statistic(reference: np.ndarray, current: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical
    distribution functions (NaN values dropped)."""
    a = np.sort(np.asarray(reference, dtype=np.float64))
    b = np.sort(np.asarray(current, dtype=np.float64))
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size == 0 or b.size == 0:
        return float("nan")
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / a.size
    cdf_b = np.searchsorted(b, points, side="right") / b.size
    return float(np.abs(cdf_a - cdf_b).max())


def _numeric_drift(ref: np.ndarray, cur: np.ndarray) -> dict[str, float]:
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if ref.size == 0 or cur.size == 0:
        return {"psi": np.nan, "ks": np.nan, "ks_p_value": np.nan, "js": np.nan}
    inner = np.unique(np.quantile(ref, np.linspace(0, 1, 11)[1:-1]))
    e = np.bincount(np.searchsorted(inner, ref, side="right"), minlength=len(inner) + 1)
    a = np.bincount(np.searchsorted(inner, cur, side="right"), minlength=len(inner) + 1)
    ks = ks_statistic(ref, cur)
    p = float(stats.kstwo.sf(ks, round(ref.size * cur.size / (ref.size + cur.size))))
    return {"psi": psi(e, a), "ks": ks, "ks_p_value": p, "js": js_divergence(e, a)}


def _level_text(value) -> str:
    """A level as text, the same for 13, 13.0 and np.int64(13): a column of whole numbers
    turns float in a file where one value is missing, and must still match."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _level_counts(col: pd.Series) -> pd.Series:
    counts = col.value_counts(dropna=True)
    counts.index = [_level_text(v) for v in counts.index]
    return counts.groupby(level=0).sum()


def group_labels(col: pd.Series, binning) -> np.ndarray:
    """Each row's group, labelled (and banded) as the rest of faircard labels it."""
    from ..prepare import encode_feature

    if binning is not None:
        col = pd.Series(binning.apply(col), index=col.index)
    codes, labels = encode_feature(col, str(col.name))
    return np.asarray(labels, dtype=object)[codes]


def _categorical_drift(ref: pd.Series, cur: pd.Series) -> dict[str, float]:
    e, a = _level_counts(ref), _level_counts(cur)
    levels = e.index.union(a.index)
    e, a = e.reindex(levels, fill_value=0).to_numpy(), a.reindex(levels, fill_value=0).to_numpy()
    return {"psi": psi(e, a), "ks": np.nan, "ks_p_value": np.nan, "js": js_divergence(e, a)}


def column_drift(reference: pd.DataFrame, current: pd.DataFrame, columns: list[str], *,
                 sensitive: str | None = None, bins=None,
                 numeric_levels: int = 20) -> pd.DataFrame:
    """Drift of each column overall (``group`` = "(all)") and, with ``sensitive``, within each
    of its groups present in both datasets (banded by ``bins``, a
    :class:`~faircard.spec.Binning`, when given). Columns ``column, group, kind, psi, ks,
    ks_p_value, js, n_reference, n_current``, ranked by PSI (largest first)."""
    parts = [("(all)", reference, current)]
    if sensitive is not None:
        ref_groups = group_labels(reference[sensitive], bins)
        cur_groups = group_labels(current[sensitive], bins)
        for g in sorted(set(ref_groups) & set(cur_groups)):
            parts.append((g, reference[ref_groups == g], current[cur_groups == g]))
    rows = []
    for col in columns:
        numeric = (pd.api.types.is_numeric_dtype(reference[col])
                   and not pd.api.types.is_bool_dtype(reference[col])
                   and reference[col].nunique(dropna=True) > numeric_levels)
        for g, ref, cur in parts:
            if numeric:
                vals = _numeric_drift(pd.to_numeric(ref[col], errors="coerce").to_numpy(float),
                                      pd.to_numeric(cur[col], errors="coerce").to_numpy(float))
            else:
                vals = _categorical_drift(ref[col].dropna(), cur[col].dropna())
            rows.append({"column": col, "group": g, "kind": "numeric" if numeric else
                         "categorical", **vals, "n_reference": len(ref), "n_current": len(cur)})
    frame = pd.DataFrame(rows, columns=["column", "group", "kind", "psi", "ks", "ks_p_value", "js",
                                        "n_reference", "n_current"])
    return frame.sort_values("psi", ascending=False, kind="stable", na_position="last"
                             ).reset_index(drop=True)
