"""How strongly a column stands in for a sensitive feature.

Three measures, each computed from counts:

* Cramér's V with Bergsma's bias correction, for categorical (or banded) columns;
* the correlation ratio (eta), for numeric columns: the share of the column's spread that lies
  between the sensitive groups;
* the cross-validated AUC of predicting the sensitive attribute from the column alone: the column
  (banded when numeric) is encoded by the group frequencies seen in the other folds, and the
  held-out rows are scored (one-vs-rest, macro average over groups). 0.5 means the column carries
  no information about the attribute; 1.0 means it reveals it.
"""

from __future__ import annotations

import numpy as np

from .encode import contingency


def cramers_v(table: np.ndarray, corrected: bool = True) -> float:
    """Cramér's V of a contingency table (rows x columns of counts); NaN when undefined.

    ``corrected`` applies Bergsma's (2013) small-sample correction to phi squared and to the
    table's dimensions.
    """
    t = np.asarray(table, dtype=np.float64)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    n = t.sum()
    r, k = t.shape
    if n <= 1 or r < 2 or k < 2:
        return float("nan")
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / n
    chi2 = float(((t - expected) ** 2 / expected).sum())
    phi2 = chi2 / n
    if not corrected:
        return float(np.sqrt(phi2 / min(r - 1, k - 1)))
    phi2c = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    rc = r - (r - 1) ** 2 / (n - 1)
    kc = k - (k - 1) ** 2 / (n - 1)
    denom = min(kc - 1, rc - 1)
    if denom <= 0:
        return float("nan")
    return float(np.sqrt(phi2c / denom))


def correlation_ratio(groups: np.ndarray, values: np.ndarray) -> float:
    """Correlation ratio eta of numeric ``values`` across integer ``groups`` (NaN values
    ignored): sqrt(between-group sum of squares / total sum of squares)."""
    v = np.asarray(values, dtype=np.float64)
    g = np.asarray(groups, dtype=np.int64)
    ok = np.isfinite(v)
    v, g = v[ok], g[ok]
    if v.size < 2:
        return float("nan")
    n_g = np.bincount(g)
    s_g = np.bincount(g, weights=v)
    mean = v.mean()
    present = n_g > 0
    between = float((s_g[present] ** 2 / n_g[present]).sum() - v.size * mean**2)
    total = float(((v - mean) ** 2).sum())
    if total <= 0:
        return float("nan")
    return float(np.sqrt(np.clip(between / total, 0.0, 1.0)))


def auc_from_counts(scores: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> float:
    """ROC AUC of a score that takes a few distinct values, from the positives and negatives at
    each value (ties count one half). NaN without positives or negatives."""
    s = np.asarray(scores, dtype=np.float64)
    p = np.asarray(pos, dtype=np.float64)
    q = np.asarray(neg, dtype=np.float64)
    order = np.argsort(s, kind="stable")
    s, p, q = s[order], p[order], q[order]
    uniq, inv = np.unique(s, return_inverse=True)
    p = np.bincount(inv, weights=p, minlength=len(uniq))
    q = np.bincount(inv, weights=q, minlength=len(uniq))
    n_pos, n_neg = p.sum(), q.sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    neg_below = np.cumsum(q) - q
    return float(((neg_below + 0.5 * q) * p).sum() / (n_pos * n_neg))


def fold_of_rows(n: int, n_folds: int, seed: int) -> np.ndarray:
    """A fold number for each of ``n`` rows, balanced and shuffled with ``seed``."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(n) % n_folds).astype(np.int64)


def proxy_auc(column_codes: np.ndarray, n_levels: int, sensitive_codes: np.ndarray,
              n_groups: int, *, n_folds: int = 5, seed: int = 0,
              smoothing: float = 1.0) -> np.ndarray:
    """Cross-validated one-vs-rest AUC of predicting each sensitive group from one coded column
    (see the module docstring), shape (n_groups,); NaN for a group with no members or no
    non-members. Their mean is the macro AUC."""
    x = np.asarray(column_codes, dtype=np.int64)
    y = np.asarray(sensitive_codes, dtype=np.int64)
    fold = fold_of_rows(len(x), n_folds, seed)
    # counts[f, level, group]
    counts = np.bincount((fold * n_levels + x) * n_groups + y,
                         minlength=n_folds * n_levels * n_groups
                         ).reshape(n_folds, n_levels, n_groups).astype(np.float64)
    total = counts.sum(axis=0)
    aucs = np.full(n_groups, np.nan)
    for c in range(n_groups):
        if total[:, c].sum() == 0 or total[:, c].sum() == total.sum():
            continue
        scores, pos, neg = [], [], []
        for f in range(n_folds):
            train = total - counts[f]
            # the prior too comes from the other folds only: no held-out label is used
            prior = train[:, c].sum() / max(train.sum(), 1.0)
            p_c = (train[:, c] + smoothing * prior) / (train.sum(axis=1) + smoothing)
            scores.append(p_c)
            pos.append(counts[f][:, c])
            neg.append(counts[f].sum(axis=1) - counts[f][:, c])
        aucs[c] = auc_from_counts(np.concatenate(scores), np.concatenate(pos),
                                  np.concatenate(neg))
    return aucs


def table_of(a_codes: np.ndarray, na: int, b_codes: np.ndarray, nb: int) -> np.ndarray:
    """Contingency table of two coded columns (a thin alias kept for readability)."""
    return contingency(a_codes, b_codes, na, nb)
