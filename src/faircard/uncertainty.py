"""Confidence intervals, tests of "no difference" and small-group flags, computed from counts.

* Per-group rates get a Wilson score interval (closed form) and, with ``n_boot > 0``, a
  percentile bootstrap interval.
* The bootstrap resamples **counts**, never rows: each intersection cell keeps its size and
  its four confusion cells are redrawn from a multinomial with the observed proportions. Every
  coarser group is a sum of cells, so group sizes stay fixed (a stratified bootstrap). The cost
  depends on the number of cells and replicates, not on the number of rows.
* Differences, ratios and fairness criteria get percentile bootstrap intervals; each disparity
  gets a test of "no difference" between its worst and best group (Fisher's exact test when an
  expected count is below 5, otherwise a pooled two-proportion z test), Holm-adjusted across
  the distinct hypotheses among the feature x metric rows: a rate and its complement (true
  positive and false negative rate, false positive and true negative rate, precision and false
  discovery rate, negative predictive value and false omission rate) compare the same counts of
  the same two groups, so they are one hypothesis, counted once, and share one adjusted p-value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .counts import FN, FP, TN, TP
from .favorable import favorable_rate
from .metrics import metrics_from_counts

# metric -> (numerator cells, denominator cells) for the metrics that are proportions
PROPORTIONS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "selection_rate": ((TP, FP), (TN, FP, FN, TP)),
    "accuracy": ((TP, TN), (TN, FP, FN, TP)),
    "prevalence": ((TP, FN), (TN, FP, FN, TP)),
    "precision": ((TP,), (TP, FP)),
    "false_discovery_rate": ((FP,), (TP, FP)),
    "true_positive_rate": ((TP,), (TP, FN)),
    "false_negative_rate": ((FN,), (TP, FN)),
    "false_positive_rate": ((FP,), (FP, TN)),
    "true_negative_rate": ((TN,), (FP, TN)),
    "negative_predictive_value": ((TN,), (TN, FN)),
    "false_omission_rate": ((FN,), (TN, FN)),
}
DENOMINATOR_WORDS = {
    (TN, FP, FN, TP): "people",
    (TP, FP): "predicted positives",
    (TP, FN): "actual positives",
    (FP, TN): "actual negatives",
    (TN, FN): "predicted negatives",
}
MIN_DENOMINATOR = 10
"""Fewest actual/predicted positives or negatives behind a rate before it is called unreliable."""
FEW_BEHIND = " behind this rate"
"""How the reason of a rate resting on too few positives or negatives ends ("only 8
predicted positives behind this rate")."""


def wilson_interval(successes, trials, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for proportions ``successes / trials`` (arrays; NaN if trials=0)."""
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    lo = np.where(n > 0, np.clip(centre - half, 0, 1), np.nan)
    hi = np.where(n > 0, np.clip(centre + half, 0, 1), np.nan)
    return lo, hi


def bootstrap_cell_counts(cells: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Replicates of cell counts, shape (n_boot, n_cells, 4): each cell's size is kept and its
    confusion cells are drawn from a multinomial with the observed proportions."""
    n = np.rint(cells.sum(axis=1)).astype(np.int64)  # expected counts still sum to each size
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n[:, None] > 0, cells / np.maximum(n, 1)[:, None], 0.25)
    return rng.multinomial(n, p, size=(n_boot, len(n)))


def group_replicates(reps: np.ndarray, cell_to_group: np.ndarray, n_groups: int) -> np.ndarray:
    """Replicates of cell counts (n_boot, n_cells, 4) summed over each group's cells: shape
    (n_boot, n_groups, 4). Summed a slice of replicates at a time (about 32 MB each), without a
    cells x groups table (10,000 cells x 1,000 groups held 80 MB, 100,000 cells 800 MB)."""
    sizes = np.bincount(cell_to_group, minlength=n_groups)
    present = np.flatnonzero(sizes)
    order = np.argsort(cell_to_group, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes[present])[:-1]]).astype(np.intp)
    out = np.zeros((reps.shape[0], n_groups, reps.shape[2]), dtype=reps.dtype)
    step = max(1, 2**22 // max(1, reps.shape[1] * reps.shape[2]))
    for i in range(0, reps.shape[0], step):
        out[i:i + step, present] = np.add.reduceat(reps[i:i + step][:, order], starts, axis=1)
    return out


def describe_interval(low: float, high: float, pct: bool = True) -> str:
    """An interval in words: "2%-19%" (or "0.02-0.19")."""
    if low is None or high is None or np.isnan(low) or np.isnan(high):
        return "n/a"
    if pct:
        return f"{100 * low:.0f}%-{100 * high:.0f}%"
    return f"{low:.2f}-{high:.2f}"


def _pair_between(values: np.ndarray, point: np.ndarray,
                  included: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per replicate: the difference and ratio between the two included groups that are
    furthest apart in the data (``point``: the lowest and the highest value, the first group of
    each when several tie, as the disparity row names them; when every value ties, the first
    and the last group), signed as observed (the higher minus the lower, the lower over the
    higher). Unlike the replicates' own max - min, whose percentiles lie above a gap near 0,
    its interval holds the gap and reaches below 0 when the order of the two could be chance,
    as the p-value of the same two groups says. NaN when fewer than two values are defined."""
    ok = np.flatnonzero(included & ~np.isnan(point))
    if len(ok) < 2:
        nan = np.full(len(values), np.nan)
        return nan, nan
    low, high = ok[np.argmin(point[ok])], ok[np.argmax(point[ok])]
    if low == high:  # every value the same: still two different groups
        high = ok[-1]
    with np.errstate(all="ignore"):
        ratio = values[:, low] / values[:, high]
    # a replicate whose higher group is at 0 has no ratio (x / 0), as the point ratio would not
    ratio[~np.isfinite(ratio)] = np.nan
    return values[:, high] - values[:, low], ratio


def _equalized_odds_pair(point: dict[str, np.ndarray], included: np.ndarray, tpr, fpr):
    """Per replicate: the equalized odds difference and ratio as the pair of groups behind
    the criterion's value in the data compare them (the true positive rates' pair when their
    gap is the larger, or their ratio the smaller, else the false positive rates')."""
    from .metrics import between_groups

    t_d, t_r = between_groups(np.where(included, point["true_positive_rate"], np.nan))
    f_d, f_r = between_groups(np.where(included, point["false_positive_rate"], np.nan))
    if np.isnan(t_d) or np.isnan(f_d):  # one of the two gaps is unknown: so is the criterion
        nan = np.full(len(tpr[0]), np.nan)
        return nan, nan
    diff = tpr[0] if t_d >= f_d else fpr[0]  # both gaps known (above)
    ratio = tpr[1] if np.isnan(f_r) or (not np.isnan(t_r) and t_r <= f_r) else fpr[1]
    return diff, ratio


def _linear_percentiles(samples: np.ndarray, q: list[float]) -> np.ndarray:
    """``np.percentile(samples, q, axis=0)`` (NumPy's default, linear interpolation) of samples
    without NaN, from one sort: the same order statistics and the same arithmetic as NumPy
    (its index ``(n - 1) * q / 100``, the last value above the range, and its two-sided
    interpolation), so the same numbers, in about a third of the time for 1,000 replicates
    (NumPy partitions, then gathers and interpolates through a general path that costs more
    than the sort; an interval is wanted for each of a hundred-odd metrics and criteria).
    Shape ``(len(q),) + samples.shape[1:]``."""
    n = samples.shape[0]
    ordered = np.sort(samples, axis=0)
    virtual = (n - 1) * (np.asarray(q, dtype=np.float64) / 100)
    below, after = np.floor(virtual), np.floor(virtual) + 1
    top = virtual >= n - 1  # NumPy takes the last value there (index -1)
    below[top], after[top] = -1, -1
    bottom = virtual < 0
    below[bottom], after[bottom] = 0, 0
    gamma = (virtual - below).reshape((len(virtual),) + (1,) * (samples.ndim - 1))
    a, b = ordered[below.astype(np.intp)], ordered[after.astype(np.intp)]
    diff = b - a
    # from the nearer end, as NumPy interpolates (b - diff * (1 - t) when t >= 0.5)
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def _percentile(samples: np.ndarray, confidence: float, axis: int = 0):
    import warnings

    q = [50 * (1 - confidence), 50 * (1 + confidence)]
    if not np.isnan(samples).any():  # the same values; NumPy's nan version loops per column
        lo, hi = _linear_percentiles(np.moveaxis(samples, axis, 0), q)
        return lo, hi
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanpercentile(samples, q, axis=axis)
    return lo, hi


def _whole(count: float) -> int:
    """An expected count rounded to a whole person, the same whatever order its rows were
    summed in: snapped to 9 decimals first, so a count of 2.5 summed as 2.4999999999999996
    or 2.5000000000000004 rounds the same way (half to even)."""
    return round(round(float(count), 9))


def two_proportion_p(k1: float, n1: float, k2: float, n2: float) -> float:
    """p-value of "equal proportions": Fisher's exact test when any expected count is below 5,
    otherwise the pooled two-proportion z test. NaN when a group has no trials.

    Under a randomised decision rule the counts are expected values, not whole people. The z
    test takes them as they are; Fisher's exact test is defined on whole counts only and takes
    them rounded to the nearest whole person (each group's successes and failures rounded
    separately), which is what the assessment's note says. (Truncating them, as before, lost
    up to a person per cell: 2.6 of 10 became 2 of 9.)"""
    if n1 <= 0 or n2 <= 0:
        return np.nan
    pooled = (k1 + k2) / (n1 + n2)
    expected = np.array([n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)])
    if (expected < 5).any():
        table = [[_whole(k1), _whole(n1 - k1)], [_whole(k2), _whole(n2 - k2)]]
        return float(stats.fisher_exact(table).pvalue)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (k1 / n1 - k2 / n2) / se
    return float(2 * stats.norm.sf(abs(z)))


def hypothesis_key(feature, metric: str, worst, best) -> tuple | None:
    """What a disparity's test compares: the feature, the two groups (unordered) and the
    proportion up to its complement (its denominator cells and the unordered split of them
    into numerator and rest). A rate and its complement get the same key; ``None`` for a
    metric that is not a proportion."""
    if metric not in PROPORTIONS:
        return None
    num, den = PROPORTIONS[metric]
    rest = tuple(c for c in den if c not in num)
    return (feature, frozenset((worst, best)), tuple(sorted(den)),
            frozenset((tuple(sorted(num)), tuple(sorted(rest)))))


def holm_by_hypothesis(p: np.ndarray, keys) -> np.ndarray:
    """Holm-adjusted p-values where rows sharing a key are one hypothesis: each key is counted
    once in the family (with its first row's p-value) and every row of it gets the same adjusted
    p-value. Rows whose key is ``None`` are their own hypothesis; NaN stays NaN."""
    p = np.asarray(p, dtype=np.float64)
    first: dict = {}
    owner = np.arange(len(p))
    for i, key in enumerate(keys):
        if key is None or np.isnan(p[i]):
            continue
        owner[i] = first.setdefault(key, i)
    unique = np.flatnonzero(owner == np.arange(len(p)))
    family = np.full(len(p), np.nan)
    family[unique] = p[unique]
    return holm(family)[owner]


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN entries stay NaN and do not count)."""
    p = np.asarray(p, dtype=np.float64)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adj, 1.0)
    return out


BY_GROUP_COLUMNS = ("ci_low", "ci_high", "boot_low", "boot_high", "is_unreliable",
                    "reliability")
"""Columns every ``Assessment.by_group`` carries (NaN/empty where not computed)."""
DISPARITY_COLUMNS = ("difference_ci_low", "difference_ci_high", "ratio_ci_low", "ratio_ci_high",
                     "p_value", "p_adjusted", "is_distinguishable")
"""Columns every ``Assessment.disparities`` carries (NaN/None where not computed)."""


@dataclass(frozen=True)
class Intervals:
    """Uncertainty of an assessment, aligned row by row with its tidy tables.

    ``by_group`` has the :data:`BY_GROUP_COLUMNS` for every row of the assessment's
    ``by_group`` (same index); ``disparities`` has the :data:`DISPARITY_COLUMNS` for every row
    of its ``disparities``; ``summary`` describes the method and holds the criteria intervals.
    """

    by_group: pd.DataFrame
    disparities: pd.DataFrame
    summary: dict[str, Any]


def estimate_uncertainty(cube, spec, counts, by_group: pd.DataFrame,
                         disparities: pd.DataFrame, n_boot: int = 1000,
                         confidence: float = 0.95, random_state: int | None = 0) -> Intervals:
    """Intervals, p-values and reliability flags for the per-group metrics and disparities,
    from the cells of ``cube`` (a :class:`~faircard.cube.Cube`).

    ``ci_low``/``ci_high`` are Wilson intervals for proportions and bootstrap intervals for
    balanced accuracy and F1 (NaN for those when ``n_boot == 0``); ``boot_low``/``boot_high``
    are the bootstrap intervals (NaN when ``n_boot == 0``); ``is_unreliable``/``reliability``
    flag rates resting on few people. Disparities get ``difference_ci_low/high``,
    ``ratio_ci_low/high`` (bootstrap), ``p_value``, ``p_adjusted`` (Holm) and
    ``is_distinguishable``. Nothing passed in is modified.
    """
    from .errors import FaircardError

    if not 0.5 <= confidence < 1:
        raise FaircardError("The confidence level must be between 0.5 and 1 (e.g. 0.95).")
    if n_boot < 0:
        raise FaircardError("The number of bootstrap replicates cannot be negative.")
    index = cube.index
    cells = cube.cells
    partitions = {p.features: p for p in index.partitions(spec.intersection)}
    rng = np.random.default_rng(random_state)
    reps = bootstrap_cell_counts(cells, n_boot, rng) if n_boot > 0 else None

    bg = by_group
    metrics = tuple(pd.unique(bg["metric"]))
    ci_low = np.full(len(bg), np.nan)
    ci_high = np.full(len(bg), np.nan)
    boot_low = np.full(len(bg), np.nan)
    boot_high = np.full(len(bg), np.nan)
    unreliable = np.zeros(len(bg), dtype=bool)
    reliability = np.array([""] * len(bg), dtype=object)
    disp = pd.DataFrame({"feature": disparities["feature"], "metric": disparities["metric"],
                         "worst_group": disparities["worst_group"],
                         "best_group": disparities["best_group"]}, index=disparities.index)
    # columns as arrays, compared and filled in NumPy (pandas' per-call cost dominated here)
    bg_feature, bg_metric = bg["feature"].to_numpy(), bg["metric"].to_numpy()
    bg_group, bg_value = bg["group"].to_numpy(), bg["value"].to_numpy(dtype=float)
    d_feature, d_metric = disp["feature"].to_numpy(), disp["metric"].to_numpy()
    d_worst, d_best = disp["worst_group"].to_numpy(), disp["best_group"].to_numpy()
    d_values = {col: np.full(len(disp), np.nan) for col in (
        "difference_ci_low", "difference_ci_high", "ratio_ci_low", "ratio_ci_high", "p_value")}
    criteria_ci: dict[str, dict[str, list[float]]] = {}

    for gc in counts:
        part = partitions[gc.features]
        rows_f = bg_feature == gc.feature
        n_groups = len(gc.groups)
        group_pos = {g: i for i, g in enumerate(gc.groups)}
        boot_vals = None
        if reps is not None:
            boot_vals = metrics_from_counts(group_replicates(reps, part.cell_to_group,
                                                             n_groups))
        small = gc.n < spec.min_group_size
        included = np.ones(n_groups, bool) if spec.include_small_groups else ~small
        for metric in metrics:
            sel = np.flatnonzero(rows_f & (bg_metric == metric))
            if len(sel) == 0:
                continue
            g_idx = np.array([group_pos[g] for g in bg_group[sel]])
            if metric in PROPORTIONS:
                num_cells, den_cells = PROPORTIONS[metric]
                k = gc.counts[:, list(num_cells)].sum(axis=1)
                n = gc.counts[:, list(den_cells)].sum(axis=1)
                lo, hi = wilson_interval(k, n, confidence)
                ci_low[sel], ci_high[sel] = lo[g_idx], hi[g_idx]
                words = DENOMINATOR_WORDS[den_cells]
                few = n < MIN_DENOMINATOR
                for s, g in zip(sel, g_idx, strict=True):
                    if small[g]:
                        unreliable[s] = True
                        reliability[s] = (f"only {int(gc.n[g])} people (fewer than "
                                          f"{spec.min_group_size})")
                    elif few[g] and words != "people":
                        unreliable[s] = True
                        reliability[s] = f"only {int(n[g])} {words}{FEW_BEHIND}"
            elif small.any():
                for s, g in zip(sel, g_idx, strict=True):
                    if small[g]:
                        unreliable[s] = True
                        reliability[s] = (f"only {int(gc.n[g])} people (fewer than "
                                          f"{spec.min_group_size})")
            if boot_vals is not None and metric in boot_vals and metric != "count":
                blo, bhi = _percentile(boot_vals[metric], confidence)
                boot_low[sel], boot_high[sel] = blo[g_idx], bhi[g_idx]
                if metric not in PROPORTIONS:
                    ci_low[sel], ci_high[sel] = blo[g_idx], bhi[g_idx]
            # disparity row of this feature x metric
            if metric == "count":
                continue
            drow = np.flatnonzero((d_feature == gc.feature) & (d_metric == metric))
            if len(drow) == 0:
                continue
            d = drow[0]
            if boot_vals is not None and metric in boot_vals and included.sum() >= 2:
                point = np.full(n_groups, np.nan)
                point[g_idx] = bg_value[sel]
                diff_b, ratio_b = _pair_between(boot_vals[metric], point, included)
                d_values["difference_ci_low"][d], d_values["difference_ci_high"][d] = \
                    _percentile(diff_b, confidence)
                d_values["ratio_ci_low"][d], d_values["ratio_ci_high"][d] = \
                    _percentile(ratio_b, confidence)
            worst, best = d_worst[d], d_best[d]
            named = isinstance(worst, str) and isinstance(best, str)
            if metric in PROPORTIONS and named and worst != best:
                num_cells, den_cells = PROPORTIONS[metric]
                w, b = group_pos[worst], group_pos[best]
                k = gc.counts[:, list(num_cells)].sum(axis=1)
                n = gc.counts[:, list(den_cells)].sum(axis=1)
                d_values["p_value"][d] = two_proportion_p(k[w], n[w], k[b], n[b])
        if boot_vals is not None and included.sum() >= 2:
            # each criterion's interval is that of the gap between the two groups it compares
            # in the data, signed as observed, as for the disparities: the replicates' own
            # max - min lies above 0 by construction, so its interval never held a gap of 0
            # (parity) however likely it was
            point = metrics_from_counts(gc.counts)
            fav = spec.favorable_outcome
            sr = _pair_between(boot_vals["selection_rate"], point["selection_rate"], included)
            tpr = _pair_between(boot_vals["true_positive_rate"], point["true_positive_rate"],
                                included)
            fpr = _pair_between(boot_vals["false_positive_rate"],
                                point["false_positive_rate"], included)
            di = _pair_between(favorable_rate(boot_vals["selection_rate"], fav),
                               favorable_rate(point["selection_rate"], fav), included)
            eo_d, eo_r = _equalized_odds_pair(point, included, tpr, fpr)
            criteria_ci[gc.feature] = {
                name: [float(x) for x in _percentile(samples, confidence)]
                for name, samples in [
                    ("demographic_parity_difference", sr[0]),
                    ("demographic_parity_ratio", sr[1]),
                    ("equalized_odds_difference", eo_d),
                    ("equalized_odds_ratio", eo_r),
                    ("equal_opportunity_difference", tpr[0]),
                    ("equal_opportunity_ratio", tpr[1]),
                    ("disparate_impact_ratio", di[1]),
                ]
            }

    for col, values in d_values.items():
        disp[col] = values
    alpha = 1 - confidence
    # a rate and its complement are one hypothesis: counted once, one adjusted p-value
    keys = [hypothesis_key(f, m, w, b) if isinstance(w, str) and isinstance(b, str) else None
            for f, m, w, b in zip(d_feature, d_metric, d_worst, d_best, strict=True)]
    d_values["p_value"] = _shared_p(d_values["p_value"], keys)
    disp["p_value"] = d_values["p_value"]
    disp["p_adjusted"] = holm_by_hypothesis(disp["p_value"].to_numpy(), keys)
    disp["is_distinguishable"] = pd.Series(
        [None if np.isnan(p) else bool(p < alpha) for p in disp["p_adjusted"].to_numpy()],
        index=disp.index, dtype=object)
    out_bg = pd.DataFrame({"ci_low": ci_low, "ci_high": ci_high, "boot_low": boot_low,
                           "boot_high": boot_high, "is_unreliable": unreliable,
                           "reliability": reliability}, index=bg.index)
    summary = {
        "method": "wilson+bootstrap" if n_boot > 0 else "wilson",
        "n_boot": int(n_boot),
        "confidence": float(confidence),
        "random_state": random_state,
        "test": ("Fisher's exact (small expected counts) or two-proportion z; Holm-adjusted, "
                 "a rate and its complement counted once"),
        "criteria": criteria_ci,
    }
    return Intervals(out_bg[list(BY_GROUP_COLUMNS)], disp[list(DISPARITY_COLUMNS)], summary)


def _shared_p(p: np.ndarray, keys) -> np.ndarray:
    """The p-value of each key's first row on every row of that key (the two tables of a rate
    and its complement are mirror images; one p-value keeps them identical to the last bit)."""
    out = np.array(p, dtype=np.float64)
    first: dict = {}
    for i, key in enumerate(keys):
        if key is not None and not np.isnan(out[i]):
            out[i] = out[first.setdefault(key, i)]
    return out


def interval_of(assessment, feature: str, group: str, metric: str) -> tuple[float, float]:
    """The (ci_low, ci_high) of one group's metric, NaN when absent."""
    bg = assessment.by_group
    row = bg[(bg["feature"] == feature) & (bg["group"] == group) & (bg["metric"] == metric)]
    if row.empty:
        return np.nan, np.nan
    return float(row["ci_low"].iloc[0]), float(row["ci_high"].iloc[0])


