"""Calibration by group: does one score mean the same risk in every group?

Per group and per score bin (``n_bins`` equal-width bins on [0, 1], the same binning as
scikit-learn's ``calibration_curve(strategy="uniform")``): rows, mean score, observed positive
rate. From these: the expected calibration error (ECE, the row-weighted mean gap between mean
score and observed rate), calibration-in-the-large (mean score minus observed rate) and the Brier
score. An ECE has no interval here: it is biased upward (about 0.1 for a perfectly calibrated
group of 100 rows), so a bootstrap of the bins' counts centres above the estimate, and its
percentile interval left out the estimate itself for 11 of 40 perfectly calibrated groups of
about 1,500 rows. Whether a group's ECE is more than chance is :func:`calibration_p`'s to say.

Groups are then compared bin by bin: where two groups with enough rows in the same bin have
different observed rates (two-proportion tests, Holm-adjusted), the same score means different
risks for them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..uncertainty import holm, two_proportion_p


def score_bins(y_score: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index of each score, as in scikit-learn's ``calibration_curve`` (uniform)."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], np.asarray(y_score, dtype=np.float64)).astype(np.int64)


def calibration_table(y_true, y_score, group, groups, n_bins: int = 10) -> pd.DataFrame:
    """One row per group x non-empty bin: ``group, bin, bin_low, bin_high, n, mean_score,
    observed_rate, positives``."""
    y = np.asarray(y_true, dtype=np.float64)
    s = np.asarray(y_score, dtype=np.float64)
    g = np.asarray(group, dtype=np.int64)
    b = score_bins(s, n_bins)
    key = g * n_bins + b
    size = len(groups) * n_bins
    n = np.bincount(key, minlength=size)
    pos = np.bincount(key, weights=y, minlength=size)
    ssum = np.bincount(key, weights=s, minlength=size)
    rows = []
    for k in np.flatnonzero(n):
        gi, bi = divmod(int(k), n_bins)
        rows.append({"group": groups[gi], "bin": bi, "bin_low": bi / n_bins,
                     "bin_high": (bi + 1) / n_bins, "n": int(n[k]),
                     "mean_score": ssum[k] / n[k], "observed_rate": pos[k] / n[k],
                     "positives": int(round(pos[k]))})
    return pd.DataFrame(rows, columns=["group", "bin", "bin_low", "bin_high", "n", "mean_score",
                                       "observed_rate", "positives"])


def calibration_p(observed: np.ndarray, expected: np.ndarray, variance: np.ndarray) -> float:
    """p-value of "each score is the probability of the positive outcome", from one group's
    score bins: the sum over bins of (positives - sum of scores)^2 / sum of s(1 - s), which is
    chi-square with as many degrees of freedom as bins when the scores are calibrated (the
    Hosmer-Lemeshow statistic of a model judged on data it was not fitted on, with each
    bin's exact variance). A bin whose scores are all 0 or 1 counts only if it is wrong."""
    from scipy import stats

    observed, expected, variance = (np.asarray(x, dtype=np.float64)
                                    for x in (observed, expected, variance))
    used = variance > 0
    if ((~used) & (np.abs(observed - expected) > 1e-9)).any():
        return 0.0  # a score of exactly 0 or 1 with the other outcome
    if not used.any():
        return 1.0
    statistic = float((((observed - expected) ** 2)[used] / variance[used]).sum())
    return float(stats.chi2.sf(statistic, int(used.sum())))


def _ece(n: np.ndarray, pos: np.ndarray, mean_score: np.ndarray) -> np.ndarray:
    """ECE from one group's bin arrays (rows, positives and mean score per bin)."""
    total = n.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, pos / np.maximum(n, 1), 0.0)
        return (n * np.abs(mean_score - rate)).sum(axis=-1) / total


def calibration_by_group(y_true, y_score, group, groups, *,
                         n_bins: int = 10) -> pd.DataFrame:
    """Per group: ``group, n, ece, calibration_p, mean_score,
    observed_rate, calibration_in_the_large, brier_score``. ``calibration_p`` is the p-value
    of "the scores are the probabilities" (:func:`calibration_p`): an ECE is above 0 by chance
    alone (about 0.1 for a perfectly calibrated group of 100 rows), the test says whether it
    is more than chance."""
    y = np.asarray(y_true, dtype=np.float64)
    s = np.asarray(y_score, dtype=np.float64)
    g = np.asarray(group, dtype=np.int64)
    table = calibration_table(y, s, g, groups, n_bins)
    n_g = np.bincount(g, minlength=len(groups))
    sq = np.bincount(g, weights=(s - y) ** 2, minlength=len(groups))
    # per group and bin: observed positives against the scores' expected count and variance
    key = g * n_bins + score_bins(s, n_bins)
    cells = len(groups) * n_bins
    observed = np.bincount(key, weights=y, minlength=cells).reshape(len(groups), n_bins)
    expected = np.bincount(key, weights=s, minlength=cells).reshape(len(groups), n_bins)
    variance = np.bincount(key, weights=s * (1 - s), minlength=cells).reshape(len(groups),
                                                                              n_bins)
    ys = np.bincount(g, weights=y, minlength=len(groups))
    ss = np.bincount(g, weights=s, minlength=len(groups))
    out = []
    for i, name in enumerate(groups):
        t = table[table["group"] == name]
        if n_g[i] == 0:
            continue
        n = t["n"].to_numpy(dtype=np.float64)
        pos = t["positives"].to_numpy(dtype=np.float64)
        ms = t["mean_score"].to_numpy(dtype=np.float64)
        ece = float(_ece(n, pos, ms))
        mean_s, rate = ss[i] / n_g[i], ys[i] / n_g[i]
        out.append({"group": name, "n": int(n_g[i]), "ece": ece,
                    "calibration_p": calibration_p(observed[i], expected[i], variance[i]),
                    "mean_score": float(mean_s),
                    "observed_rate": float(rate),
                    "calibration_in_the_large": float(mean_s - rate),
                    "brier_score": float(sq[i] / n_g[i])})
    return pd.DataFrame(out)


def score_meaning_gaps(table: pd.DataFrame, *, min_n: int = 30,
                       alpha: float = 0.05) -> pd.DataFrame:
    """Bins in which groups' observed rates differ: for every bin, the group pair with the
    largest gap among groups with at least ``min_n`` rows there, and its two-proportion
    p-value. Every pair of such groups in every bin is a hypothesis tested, so the p-values are
    Holm-adjusted across all of them (adjusting across bins only, the largest gap of six groups
    was "significant" in four datasets of pure noise out of ten). Columns ``bin_low, bin_high,
    low_group, low_rate, high_group, high_rate, gap, p_value, p_adjusted, significant``."""
    rows, every, reported = [], [], []
    for _, t in table[table["n"] >= min_n].groupby("bin"):
        if len(t) < 2:
            continue
        ranked = t.sort_values("observed_rate", kind="stable")  # two rows even if all equal
        lo, hi = ranked.iloc[0], ranked.iloc[-1]
        for i, a in enumerate(t.index):
            for b in t.index[i + 1:]:
                if {a, b} == {lo.name, hi.name}:
                    reported.append(len(every))
                every.append(two_proportion_p(t.at[a, "positives"], t.at[a, "n"],
                                              t.at[b, "positives"], t.at[b, "n"]))
        rows.append({"bin_low": float(t["bin_low"].iloc[0]),
                     "bin_high": float(t["bin_high"].iloc[0]), "low_group": lo["group"],
                     "low_rate": float(lo["observed_rate"]), "high_group": hi["group"],
                     "high_rate": float(hi["observed_rate"]),
                     "gap": float(hi["observed_rate"] - lo["observed_rate"]),
                     "p_value": two_proportion_p(hi["positives"], hi["n"], lo["positives"],
                                                 lo["n"])})
    frame = pd.DataFrame(rows, columns=["bin_low", "bin_high", "low_group", "low_rate",
                                        "high_group", "high_rate", "gap", "p_value"])
    adjusted = holm(np.asarray(every, dtype=np.float64))
    frame["p_adjusted"] = adjusted[reported] if reported else np.array([], dtype=np.float64)
    frame["significant"] = frame["p_adjusted"] < alpha
    return frame
