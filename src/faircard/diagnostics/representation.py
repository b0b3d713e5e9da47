"""Who is in the evaluation data: each group's share against a reference population, each
group's base rate, and each column's missing values per group."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import FaircardError
from ..uncertainty import wilson_interval


def representation(group_codes: np.ndarray, groups: tuple[str, ...] | list[str], *,
                   feature: str, reference_shares: Mapping[str, float] | None = None,
                   reference_source: str = "", confidence: float = 0.95) -> pd.DataFrame:
    """Per group: ``feature, group, n, share, share_ci_low, share_ci_high, reference_share,
    share_difference, reference_source`` (Wilson intervals; difference = share - reference).
    A group of the reference population with no row in the data is listed last with ``n`` 0:
    that is the starkest under-representation (or a misspelt group, which then shows)."""
    ref = reference_shares or {}
    _check_shares(feature, ref)
    unknown = [g for g in ref if g not in set(groups)]
    groups = [*groups, *unknown]
    n = np.bincount(np.asarray(group_codes, dtype=np.int64), minlength=len(groups))
    total = n.sum()
    lo, hi = wilson_interval(n, np.full(len(n), total), confidence)
    rows = []
    for i, g in enumerate(groups):
        r = ref.get(g, np.nan) if ref else np.nan
        rows.append({"feature": feature, "group": g, "n": int(n[i]), "share": n[i] / total,
                     "share_ci_low": float(lo[i]), "share_ci_high": float(hi[i]),
                     "reference_share": float(r), "share_difference": n[i] / total - float(r),
                     "reference_source": reference_source if ref else ""})
    return pd.DataFrame(rows)


def _check_shares(feature: str, shares: Mapping[str, float]) -> None:
    values = [float(v) for v in shares.values()]
    if any(not 0 <= v <= 1 for v in values):
        raise FaircardError(f"Population shares of {feature} must be between 0 and 1 (13% is "
                            "0.13); correct the figures.")
    if sum(values) > 1 + 1e-6:
        raise FaircardError(f"The population shares of {feature} add up to {sum(values):.3f}; "
                            "shares of one population cannot add up to more than 1. Correct "
                            "the figures (13% is 0.13).")


def base_rates(y_true: np.ndarray, group_codes: np.ndarray, groups, *, feature: str,
               confidence: float = 0.95) -> pd.DataFrame:
    """Per group: ``feature, group, n, positives, base_rate, ci_low, ci_high`` of the true
    outcome (Wilson intervals)."""
    g = np.asarray(group_codes, dtype=np.int64)
    n = np.bincount(g, minlength=len(groups))
    pos = np.bincount(g, weights=np.asarray(y_true, dtype=np.float64), minlength=len(groups))
    lo, hi = wilson_interval(pos, n, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, pos / np.maximum(n, 1), np.nan)
    return pd.DataFrame({"feature": feature, "group": list(groups), "n": n,
                         "positives": pos.astype(np.int64), "base_rate": rate, "ci_low": lo,
                         "ci_high": hi})


def missing_by_group(data: pd.DataFrame, columns: list[str], group_codes: np.ndarray, groups,
                     *, feature: str) -> pd.DataFrame:
    """Share of missing values of each column within each group: ``feature, group, column,
    n, missing, missing_rate``; only columns with at least one missing value."""
    g = np.asarray(group_codes, dtype=np.int64)
    n = np.bincount(g, minlength=len(groups))
    rows = []
    for col in columns:
        miss = data[col].isna().to_numpy()
        if not miss.any():
            continue
        k = np.bincount(g, weights=miss.astype(np.float64), minlength=len(groups))
        for i, grp in enumerate(groups):
            rows.append({"feature": feature, "group": grp, "column": col, "n": int(n[i]),
                         "missing": int(k[i]),
                         "missing_rate": k[i] / n[i] if n[i] else np.nan})
    return pd.DataFrame(rows, columns=["feature", "group", "column", "n", "missing",
                                       "missing_rate"])
