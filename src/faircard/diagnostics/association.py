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

from dataclasses import dataclass

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


def _placements(s: np.ndarray, p: np.ndarray, q: np.ndarray):
    """Tied scores merged: (values, inverse, positives, negatives, v10, v01, auc) where v10 is
    each value's placement among the negatives (share below, ties one half) and v01 its
    placement among the positives (share above, ties one half); NaN auc without either."""
    uniq, inv = np.unique(s, return_inverse=True)
    pos = np.bincount(inv, weights=p, minlength=len(uniq))
    neg = np.bincount(inv, weights=q, minlength=len(uniq))
    m, n = pos.sum(), neg.sum()
    if m == 0 or n == 0:
        return uniq, inv, pos, neg, None, None, float("nan")
    v10 = (np.cumsum(neg) - neg + 0.5 * neg) / n
    v01 = (m - np.cumsum(pos) + 0.5 * pos) / m
    return uniq, inv, pos, neg, v10, v01, float((v10 * pos).sum() / m)


def auc_delong_from_counts(scores: np.ndarray, pos: np.ndarray,
                           neg: np.ndarray) -> tuple[float, float]:
    """ROC AUC of a score with few distinct values (as :func:`auc_from_counts`) and DeLong's
    variance of it: the placements' sample variances, var(V10)/m + var(V01)/n (DeLong, DeLong
    and Clarke-Pearson 1988; ties count one half). NaN variance with fewer than two positives
    or negatives."""
    s = np.asarray(scores, dtype=np.float64)
    _, _, p, q, v10, v01, auc = _placements(s, np.asarray(pos, np.float64),
                                            np.asarray(neg, np.float64))
    m, n = p.sum(), q.sum()
    if v10 is None or m < 2 or n < 2:
        return auc, float("nan")
    s10 = float((p * (v10 - auc) ** 2).sum() / (m - 1))
    s01 = float((q * (v01 - auc) ** 2).sum() / (n - 1))
    return auc, s10 / m + s01 / n


def fold_of_rows(n: int, n_folds: int, seed: int) -> np.ndarray:
    """A fold number for each of ``n`` rows, balanced and shuffled with ``seed``."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(n) % n_folds).astype(np.int64)


def _held_out(column_codes: np.ndarray, n_levels: int, sensitive_codes: np.ndarray,
              n_groups: int, n_folds: int, seed: int, smoothing: float):
    """(counts[f, level, group] of the rows, score[f, level, c]): the score a held-out row of
    fold f at that level gets for group c, from the other folds only."""
    x = np.asarray(column_codes, dtype=np.int64)
    y = np.asarray(sensitive_codes, dtype=np.int64)
    fold = fold_of_rows(len(x), n_folds, seed)
    counts = np.bincount((fold * n_levels + x) * n_groups + y,
                         minlength=n_folds * n_levels * n_groups
                         ).reshape(n_folds, n_levels, n_groups).astype(np.float64)
    train = counts.sum(axis=0)[None] - counts  # (f, level, group): the other folds
    train_rows = train.sum(axis=2)  # (f, level)
    # the prior too comes from the other folds only: no held-out label is used
    prior = train.sum(axis=1) / np.maximum(train_rows.sum(axis=1), 1.0)[:, None]  # (f, group)
    score = (train + smoothing * prior[:, None, :]) / (train_rows + smoothing)[:, :, None]
    return counts, score


def held_out_scores(column_codes: np.ndarray, n_levels: int, sensitive_codes: np.ndarray,
                    n_groups: int, *, n_folds: int = 5, seed: int = 0,
                    smoothing: float = 1.0) -> np.ndarray:
    """Each row's held-out score for each group, shape (n_rows, n_groups): what
    :func:`proxy_auc` ranks (for checking it row by row)."""
    _, score = _held_out(column_codes, n_levels, sensitive_codes, n_groups, n_folds, seed,
                         smoothing)
    fold = fold_of_rows(len(column_codes), n_folds, seed)
    return score[fold, np.asarray(column_codes, dtype=np.int64)]


@dataclass(frozen=True)
class ProxyAUC:
    """The cross-validated one-vs-rest AUC of each group (``auc``, shape (n_groups,)) and their
    mean (``macro``), each with a normal-approximation interval at ``confidence`` from DeLong's
    variance of the held-out scores' AUC (``low``/``high``, ``macro_low``/``macro_high``;
    clipped to [0, 1]; NaN where undefined). The held-out scores are taken as given: the
    variation of encoding them from other folds is not in the interval."""

    auc: np.ndarray
    low: np.ndarray
    high: np.ndarray
    macro: float
    macro_low: float
    macro_high: float
    confidence: float


def proxy_auc_intervals(column_codes: np.ndarray, n_levels: int, sensitive_codes: np.ndarray,
                        n_groups: int, *, n_folds: int = 5, seed: int = 0,
                        smoothing: float = 1.0, confidence: float = 0.95) -> ProxyAUC:
    """:func:`proxy_auc` with intervals (see :class:`ProxyAUC`). The mean's variance adds up
    each row's DeLong influence on every group's AUC (the groups' AUCs share their rows, so
    they are not independent); for one group this is DeLong's variance itself."""
    from scipy import stats

    counts, score = _held_out(column_codes, n_levels, sensitive_codes, n_groups, n_folds, seed,
                              smoothing)
    cells = counts.reshape(-1, n_groups)  # (f * level, group): rows of each cell
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    auc = np.full(n_groups, np.nan)
    half = np.full(n_groups, np.nan)
    influence = np.zeros_like(cells)  # each cell's rows' summed influence on the mean
    used = 0
    for c in range(n_groups):
        pos = cells[:, c]
        neg = cells.sum(axis=1) - pos
        _, inv, p, q, v10, v01, a = _placements(score[:, :, c].ravel(), pos, neg)
        if v10 is None:
            continue
        auc[c] = a
        m, n = p.sum(), q.sum()
        if m < 2 or n < 2:
            continue
        var = float((p * (v10 - a) ** 2).sum() / (m - 1) / m
                    + (q * (v01 - a) ** 2).sum() / (n - 1) / n)
        half[c] = z * np.sqrt(var)
        # a row of group c moves this AUC by (v10 - a) / sqrt(m (m - 1)), any other row by
        # (v01 - a) / sqrt(n (n - 1)): their squares add up to the variance above
        member = (v10[inv] - a) / np.sqrt(m * (m - 1))
        other = (v01[inv] - a) / np.sqrt(n * (n - 1))
        influence += np.where(np.arange(n_groups) == c, member[:, None], other[:, None])
        used += 1
    low, high = np.clip(auc - half, 0, 1), np.clip(auc + half, 0, 1)
    macro = float(np.nanmean(auc)) if np.isfinite(auc).any() else float("nan")
    if used and used == np.isfinite(auc).sum():
        macro_half = z * float(np.sqrt((cells * (influence / used) ** 2).sum()))
        macro_low, macro_high = max(macro - macro_half, 0.0), min(macro + macro_half, 1.0)
    else:
        macro_low = macro_high = float("nan")
    return ProxyAUC(auc, low, high, macro, macro_low, macro_high, float(confidence))


def proxy_auc(column_codes: np.ndarray, n_levels: int, sensitive_codes: np.ndarray,
              n_groups: int, *, n_folds: int = 5, seed: int = 0,
              smoothing: float = 1.0) -> np.ndarray:
    """Cross-validated one-vs-rest AUC of predicting each sensitive group from one coded column
    (see the module docstring), shape (n_groups,); NaN for a group with no members or no
    non-members. Their mean is the macro AUC."""
    return proxy_auc_intervals(column_codes, n_levels, sensitive_codes, n_groups,
                               n_folds=n_folds, seed=seed, smoothing=smoothing).auc


def table_of(a_codes: np.ndarray, na: int, b_codes: np.ndarray, nb: int) -> np.ndarray:
    """Contingency table of two coded columns (a thin alias kept for readability)."""
    return contingency(a_codes, b_codes, na, nb)
