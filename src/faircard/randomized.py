"""Randomised per-group thresholds (opt-in): each group mixes two thresholds.

A group's rule is "threshold a with probability p, else b". Mixing two thresholds mixes their
confusion counts linearly, so every rate with a fixed denominator (selection rate, true and
false positive rates, accuracy) and every additive objective of the mix is the same mix of
the two thresholds' values. The reachable (metric, objective) points of a group are therefore
the upper concave hull of its threshold sweep; for equalized odds, its ROC convex hull. This is
the construction of Hardt, Price and Srebro (2016) that fairlearn's ``ThresholdOptimizer`` uses;
here every figure is an exact expected value and the rule is stated per group.
"""

from __future__ import annotations

import numpy as np

from .metrics import metrics_from_counts
from .thresholds import Sweep

_EPS = 1e-12
WALK_SEGMENTS = 10_000_000
"""How many (segment, candidate point) pairs the equalized-odds search examines, at most,
going down the candidate points for one whose mixes meet the tolerance: every candidate on
scores with few distinct values (deciles: 121 segments a group), the best two or three on a
1,001-point grid (where two thresholds land close to any point, so the first candidate meets
all but the smallest tolerances). The first candidate is always examined."""


def _upper_hull(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the upper concave hull of points (x, y), by increasing x."""
    order = np.lexsort((-y, x))
    hull: list[int] = []
    for i in order:
        if hull and abs(x[hull[-1]] - x[i]) <= _EPS:
            continue  # same x, lower y (sorted by -y within x)
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            cross = (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a])
            if cross >= -_EPS:  # b is on or below the segment a-i
                hull.pop()
            else:
                break
        hull.append(int(i))
    return np.asarray(hull, dtype=np.int64)


def _mix_at(hx: np.ndarray, hidx: np.ndarray, target: float) -> tuple[int, int, float]:
    """Two sweep indices and the probability of the first whose mix has metric ``target``."""
    j = int(np.clip(np.searchsorted(hx, target, side="left"), 0, len(hx) - 1))
    if j == 0 or abs(hx[j] - target) <= _EPS:
        return int(hidx[j]), int(hidx[j]), 1.0
    a, b = j - 1, j
    w = (hx[b] - target) / (hx[b] - hx[a])
    return int(hidx[a]), int(hidx[b]), float(w)


def _gain_weights(counts: np.ndarray, objective: str, fp_cost: float, fn_cost: float):
    """Per group (a, b, c): the group's objective share is ``a * tpr + b * fpr + c``."""
    tot = counts[0]  # (G, 4) at the lowest threshold; positives and negatives per group
    pos = (tot[:, 2] + tot[:, 3]).astype(np.float64)
    neg = (tot[:, 0] + tot[:, 1]).astype(np.float64)
    n = pos.sum() + neg.sum()
    if objective == "accuracy":
        return pos / n, -neg / n, neg / n
    if objective == "balanced_accuracy":
        p_all, n_all = max(pos.sum(), 1), max(neg.sum(), 1)
        return pos / (2 * p_all), -neg / (2 * n_all), neg / (2 * n_all)
    return pos * fn_cost / n, -neg * fp_cost / n, -pos * fn_cost / n


def search_randomized(sw: Sweep, thresholds: np.ndarray, *, constraint: str, objective: str,
                      tolerance: float, fp_cost: float, fn_cost: float, included: np.ndarray,
                      allow_degenerate: bool = False):
    """The best randomised policy, or None when none was found.

    ``thresholds`` are the finite thresholds of the sweep. Returns ``(thresholds, mix)``:
    {group: threshold} and {group: (probability of that threshold, else_threshold)}.
    """
    from .policy import CONSTRAINTS, _gains

    counts = sw.counts
    tot = counts[0].sum(axis=0)
    totals = np.array([tot.sum(), tot[2] + tot[3], tot[0] + tot[1]], dtype=np.float64)
    gains = _gains(counts, objective, totals, fp_cost, fn_cost)
    names = CONSTRAINTS[constraint]
    vals = metrics_from_counts(counts)
    sel = vals["selection_rate"]
    n_groups = counts.shape[1]
    if not included.any():
        included = np.ones(n_groups, bool)
    if len(names) == 2:
        picks = _equalized_odds(counts, vals, gains, sel, included, objective, fp_cost,
                                fn_cost, allow_degenerate, tolerance)
    elif len(names) == 1:
        picks = _one_metric(vals[names[0]], gains, sel, included, tolerance, allow_degenerate)
    else:
        return None
    if picks is None:
        return None
    chosen, mix = {}, {}
    for g, (a, b, w) in zip(sw.groups, picks, strict=True):
        if w <= _EPS:
            a, w = b, 1.0
        chosen[g] = float(thresholds[a])
        if a != b and w < 1 - _EPS:
            mix[g] = (w, float(thresholds[b]))
    return chosen, mix


def _one_metric(metric, gains, sel, included, tol, allow_degenerate):
    """Each group on the upper hull of (metric, gain), all metrics in a window [L, L + tol]."""
    n_groups = metric.shape[1]
    hulls = []
    for j in range(n_groups):
        ok = np.flatnonzero(~np.isnan(metric[:, j]))
        if not ok.size:
            return None
        h = ok[_upper_hull(metric[ok, j], gains[ok, j])]
        hulls.append((metric[h, j], gains[h, j], sel[h, j], h))
    cand = np.unique(np.concatenate(
        [np.concatenate([hx, hx - tol]) for j, (hx, *_rest) in enumerate(hulls) if included[j]]))
    total = np.zeros(len(cand))
    targets = np.zeros((len(cand), n_groups))
    sel_at = np.zeros((len(cand), n_groups))
    for j, (hx, hy, hs, _h) in enumerate(hulls):
        peak = hx[int(np.argmax(hy))]
        if included[j]:
            lo = np.maximum(cand, hx[0])
            hi = np.minimum(cand + tol, hx[-1])
            empty = lo > hi + _EPS
            t = np.clip(peak, lo, np.maximum(lo, hi))
            v = np.where(empty, -np.inf, np.interp(t, hx, hy))
        else:
            t = np.full(len(cand), peak)
            v = np.full(len(cand), hy.max())
        total += v
        targets[:, j] = t
        sel_at[:, j] = np.interp(t, hx, hs)
    if not allow_degenerate:
        s = sel_at[:, included]
        degenerate = np.all(s <= _EPS, axis=1) | np.all(s >= 1 - _EPS, axis=1)
        total = np.where(degenerate, -np.inf, total)
    if not np.isfinite(total).any():
        return None
    i = int(np.argmax(total))
    return [_mix_at(hx, h, targets[i, j]) for j, (hx, _hy, _hs, h) in enumerate(hulls)]


def _equalized_odds(counts, vals, gains, sel, included, objective, fp_cost, fn_cost,
                    allow_degenerate, tolerance=0.0):
    """One common (FPR, TPR) point for the included groups: the best point of the
    intersection of their ROC hulls that each group gets within ``tolerance`` of the others
    by mixing two thresholds (a point inside a group's hull may need three, so the mix of two
    lands near it, not on it). When no candidate point does, the one whose mixes lie closest
    together."""
    tpr, fpr = vals["true_positive_rate"], vals["false_positive_rate"]
    n_groups = tpr.shape[1]
    a, b, _c = _gain_weights(counts, objective, fp_cost, fn_cost)
    hulls = {}
    for j in np.flatnonzero(included):
        ok = np.flatnonzero(~np.isnan(tpr[:, j]) & ~np.isnan(fpr[:, j]))
        if not ok.size:
            return None
        h = ok[_upper_hull(fpr[ok, j], tpr[ok, j])]
        hulls[j] = (fpr[h, j], tpr[h, j])
    # the upper edge of the intersection is the lowest hull; its best point is at a vertex of
    # some hull or where two hulls cross, so those are the candidates (between two of them
    # every hull is a line, so a sign change of two hulls' difference finds every crossing).
    # Nothing else: when the best is a corner (nobody or everybody), the best point of an
    # edge to it lies as near the corner as a grid of candidates went (everybody flagged with
    # probability 0.9998), not at any policy that tells people apart
    xs = np.unique(np.concatenate([hx for hx, _ in hulls.values()]))
    ys = np.vstack([np.interp(xs, hx, hy) for hx, hy in hulls.values()])
    keys = list(hulls)
    extra = []
    for p in range(len(keys)):
        for q in range(p + 1, len(keys)):
            d = ys[p] - ys[q]
            k = np.flatnonzero(np.sign(d[:-1]) * np.sign(d[1:]) < 0)
            extra.append(xs[k] + (xs[k + 1] - xs[k]) * d[k] / (d[k] - d[k + 1]))
    if extra:
        xs = np.unique(np.concatenate([xs, *extra]))
        ys = np.vstack([np.interp(xs, hx, hy) for hx, hy in hulls.values()])
    u = ys.min(axis=0)
    inc = np.asarray(keys)
    score = a[inc].sum() * u + b[inc].sum() * xs
    if not allow_degenerate:
        score = np.where(((xs <= _EPS) & (u <= _EPS)) | ((xs >= 1 - _EPS) & (u >= 1 - _EPS)),
                         -np.inf, score)
    if not np.isfinite(score).any():
        return None
    # best candidate first; the first whose mixes meet the tolerance wins
    pairs = {j: _pairs(fpr[:, j], tpr[:, j]) for j in keys}
    per_point = sum(p[3].size for p in pairs.values())
    best, closest = None, np.inf
    for n_seen, i in enumerate(np.argsort(-score, kind="stable")):
        if not np.isfinite(score[i]) or (best is not None
                                         and n_seen * per_point > WALK_SEGMENTS):
            break
        target = np.array([xs[i], u[i]])
        mixes = {j: _nearest_mix(pairs[j], target) for j in keys}
        at = np.array([m[3] for m in mixes.values()])
        gap = float(np.ptp(at, axis=0).max())
        if gap < closest - _EPS:
            best, closest = mixes, gap
        if gap <= tolerance + 1e-9:
            break
    picks = []
    for j in range(n_groups):
        if not included[j]:
            k = int(np.argmax(gains[:, j]))
            picks.append((k, k, 1.0))
            continue
        picks.append(best[j][:3])
    return picks


def _pairs(x: np.ndarray, y: np.ndarray):
    """The distinct defined (FPR, TPR) points of a group's sweep, their sweep indices and every
    segment between two of them, for :func:`_nearest_mix`."""
    ok = np.flatnonzero(~np.isnan(x) & ~np.isnan(y))
    pts = np.column_stack([x[ok], y[ok]])
    pts, first = np.unique(pts, axis=0, return_index=True)
    idx = ok[first]
    if len(pts) > 1100:  # keep the pair search small (a 1,001-point grid is never thinned)
        keep = np.unique(np.linspace(0, len(pts) - 1, 1100).round().astype(int))
        pts, idx = pts[keep], idx[keep]
    pa = pts[:, None, :]
    d = pts[None, :, :] - pa  # (n, n, 2) segment i -> j
    return idx, pa, d, (d ** 2).sum(axis=-1)


def _nearest_mix(pairs, target: np.ndarray) -> tuple[int, int, float, np.ndarray]:
    """Two sweep points whose mix lands nearest ``target`` in the (FPR, TPR) plane, the
    probability of the first, and the (FPR, TPR) point the mix reaches."""
    idx, pa, d, length2 = pairs
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ((target - pa) * d).sum(axis=-1) / length2
    t = np.where(length2 > 0, np.clip(t, 0.0, 1.0), 0.0)
    near = pa + t[..., None] * d
    dist = ((near - target) ** 2).sum(axis=-1)
    i, j = np.unravel_index(int(np.argmin(dist)), dist.shape)
    w = 1.0 - float(t[i, j])  # probability of point i
    return int(idx[i]), int(idx[j]), w, near[i, j]


def _two_point_mix(x: np.ndarray, y: np.ndarray, target: np.ndarray) -> tuple[int, int, float]:
    """Two sweep points whose mix lands nearest ``target`` in the (FPR, TPR) plane, and the
    probability of the first."""
    return _nearest_mix(_pairs(x, y), target)[:3]
