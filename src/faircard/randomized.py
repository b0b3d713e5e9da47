"""Randomised per-group thresholds (opt-in): each group mixes as many thresholds as it needs.

A group's rule is "threshold a with probability p, b with probability q, ...", where the parts
may also give everybody or nobody of the group a positive decision. Mixing thresholds mixes
their confusion counts linearly, so every rate with a fixed denominator (selection rate, true
and false positive rates, accuracy) and every additive objective of the mix is the same mix of
the parts' values. The reachable (metric, objective) points of a group are therefore the upper
concave hull of its threshold sweep (two parts reach any of them); for equalized odds, the
convex hull of its ROC points, where a point inside needs three (any point of a convex polygon
lies in a triangle of its vertices). This is the construction of Hardt, Price and Srebro (2016)
that fairlearn's ``ThresholdOptimizer`` uses (it mixes two thresholds with the constant
decision); here every figure is an exact expected value and the rule is stated per group.
"""

from __future__ import annotations

import numpy as np

from .decision import GroupRule
from .metrics import metrics_from_counts
from .roc_hulls import GroupPoints, sweep_points
from .thresholds import Sweep

_EPS = 1e-12
_LP_MARGIN = 1e-9
"""The relaxed equalized-odds search asks the solver for gaps this much below the tolerance,
so that its rounding cannot carry the recomputed gap above the tolerance."""


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


def search_randomized(sw: Sweep, thresholds: np.ndarray, **kwargs):
    """:func:`search_points` over every threshold of a sweep (``thresholds``: its finite
    thresholds, as stated)."""
    return search_points(sw.groups, sweep_points(sw, thresholds), **kwargs)


def search_points(groups, points: list[GroupPoints], *, constraint: str, objective: str,
                  tolerance: float, fp_cost: float, fn_cost: float, included: np.ndarray,
                  allow_degenerate: bool = False):
    """The best randomised policy mixing each group's candidate points, or None when none was
    found.

    ``points``: per group, its candidate thresholds and counts (every threshold of a sweep, or
    only its ROC hull's vertices: the best mix is a mix of those). Returns ``(rules, counts)``:
    {group: :class:`~faircard.decision.GroupRule`} and the policy's expected confusion counts
    ``[tn, fp, fn, tp]`` per group (G, 4), from the counts at the rules' parts. In a rule of
    several parts, a part that gives everybody (nobody) in the group a positive decision is
    stated as everybody (nobody).
    """
    from .policy import CONSTRAINTS, _gains

    counts = [p.counts for p in points]
    tot = np.sum([c[0] for c in counts], axis=0)  # every point's counts add up to the group's
    totals = np.array([tot.sum(), tot[2] + tot[3], tot[0] + tot[1]], dtype=np.float64)
    gains = [_gains(c, objective, totals, fp_cost, fn_cost) for c in counts]
    names = CONSTRAINTS[constraint]
    vals = [_rates(c) if len(names) == 2 else metrics_from_counts(c) for c in counts]
    sel = [v["selection_rate"] for v in vals]
    n_groups = len(counts)
    if not included.any():
        included = np.ones(n_groups, bool)
    if len(names) == 2:
        picks = _equalized_odds(counts, vals, gains, included, objective, fp_cost, fn_cost,
                                allow_degenerate, tolerance)
    elif len(names) == 1:
        pairs = _one_metric([v[names[0]] for v in vals], gains, sel, included, tolerance,
                            allow_degenerate)
        picks = None if pairs is None else [[(a, w), (b, 1.0 - w)] for a, b, w in pairs]
    else:
        return None
    if picks is None:
        return None
    rules = {}
    out = np.zeros((n_groups, 4), dtype=np.float64)
    for j, (g, parts) in enumerate(zip(groups, picks, strict=True)):
        parts = [(int(k), float(w)) for k, w in parts if w > _EPS]
        total = sum(w for _, w in parts)
        parts = [(k, w / total) for k, w in parts]
        for k, w in parts:
            out[j] += w * counts[j][k]
        rules[g] = _rule_of(parts, sel[j], points[j].thresholds)
    rounded = np.rint(out)
    return rules, (rounded.astype(np.int64) if np.array_equal(rounded, out) else out)


def _rates(counts: np.ndarray) -> dict[str, np.ndarray]:
    """The selection, true positive and false positive rates (m,) of a group's counts (NaN
    where undefined), as :func:`~faircard.metrics.metrics_from_counts` gives them, without
    the other metrics (a sweep at every distinct score is long)."""
    tn, fp, fn, tp = (counts[..., i].astype(np.float64) for i in range(4))
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"selection_rate": (tp + fp) / (tn + fp + fn + tp),
                "true_positive_rate": tp / (tp + fn),
                "false_positive_rate": fp / (fp + tn)}


def _rule_of(parts: list[tuple[int, float]], sel: np.ndarray, thresholds: np.ndarray) -> GroupRule:
    """The group rule of ``parts`` ((sweep index, probability), adding up to 1): thresholds
    by falling probability, then everybody, then nobody. One part is its threshold alone;
    with no part that is a threshold of the scores, nobody is stated as its threshold (a
    number above every score), so that the rule has one."""
    if len(parts) == 1:
        return GroupRule(float(thresholds[parts[0][0]]))
    named = [(-np.inf if sel[k] >= 1 - _EPS else np.inf if sel[k] <= _EPS
              else float(thresholds[k]), w, k) for k, w in parts]
    finite = sorted((x for x in named if np.isfinite(x[0])), key=lambda x: -x[1])
    if not finite:  # everybody and nobody: nobody by its threshold
        finite = [(float(thresholds[k]), w, k) for t, w, k in named if t > 0] or \
            [(float(thresholds[named[0][2]]), *named[0][1:])]
    used = {k for _t, _w, k in finite}
    rest = sorted((x for x in named if x[2] not in used), key=lambda x: x[0])
    (t0, w0, _k), *others = finite + rest
    return GroupRule(t0, w0, None, tuple((t, w) for t, w, _k in others))



def _one_metric(metric, gains, sel, included, tol, allow_degenerate):
    """Each group on the upper hull of (metric, gain), all metrics in a window [L, L + tol].
    ``metric``, ``gains``, ``sel``: per group, its values at each of its points."""
    n_groups = len(metric)
    hulls = []
    for j in range(n_groups):
        m, gj = metric[j], gains[j]
        ok = np.flatnonzero(~np.isnan(m))
        if not ok.size:
            return None
        h = ok[_upper_hull(m[ok], gj[ok])]
        hulls.append((m[h], gj[h], sel[j][h], h))
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


def _equalized_odds(counts, vals, gains, included, objective, fp_cost, fn_cost,
                    allow_degenerate, tolerance=0.0):
    """Each group's parts ((sweep index, probability) lists) of the best policy whose held
    groups' true and false positive rates lie within ``tolerance`` of each other, or None.

    At one common (FPR, TPR) point (gap 0): the best point of the intersection of the held
    groups' ROC hulls, which each group reaches exactly by mixing at most three of its
    points. With a tolerance above 0, the groups' points may differ: the best such policy
    is a linear programme over the mixes of each group's hull vertices (:func:`_relaxed`),
    used when it is better than the common point and not all-or-nothing for every group
    (unless allowed). ``counts``, ``vals``, ``gains``: per group, at each of its points."""
    tpr = [v["true_positive_rate"] for v in vals]
    fpr = [v["false_positive_rate"] for v in vals]
    n_groups = len(counts)
    a, b, _c = _gain_weights(np.array([[c[0] for c in counts]]), objective, fp_cost, fn_cost)
    hulls, polygons = {}, {}
    for j in np.flatnonzero(included):
        ok = np.flatnonzero(~np.isnan(tpr[j]) & ~np.isnan(fpr[j]))
        if not ok.size:
            return None
        idx, pts, n_upper = _polygon(ok, fpr[j], tpr[j])
        polygons[j] = (idx, pts)
        hulls[j] = (pts[n_upper - 1::-1, 0], pts[n_upper - 1::-1, 1])
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
    best = None
    if np.isfinite(score).any():
        i = int(np.argmax(score))
        target = np.array([xs[i], u[i]])
        best = {j: _parts_at(polygons[j], target) for j in keys}
    if tolerance > 0:
        relaxed = _relaxed(polygons, gains, tolerance)
        if relaxed is not None and (allow_degenerate or not _all_or_nothing(relaxed, counts)) \
                and _within(relaxed, fpr, tpr, tolerance) \
                and (best is None or _gain(relaxed, gains) > _gain(best, gains) + _EPS):
            best = relaxed
    if best is None:
        return None
    picks = []
    for j in range(n_groups):
        if not included[j]:
            picks.append([(int(np.argmax(gains[j])), 1.0)])
        else:
            picks.append(best[j])
    return picks


def _polygon(ok: np.ndarray, x: np.ndarray, y: np.ndarray):
    """A group's ROC hull as a convex polygon: its vertices' sweep indices and (FPR, TPR)
    points, counter-clockwise from the vertex nearest (1, 1) (everybody selected), and how
    many of them, from the first, make its upper hull (right to left)."""
    # both rates fall (or stay) as the threshold rises, so equal points are neighbours
    xo, yo = x[ok], y[ok]
    first = np.flatnonzero(np.r_[True, (np.diff(xo) != 0) | (np.diff(yo) != 0)])
    pts = np.column_stack([xo[first], yo[first]])
    ring = None
    if len(pts) >= 3:
        from scipy.spatial import ConvexHull, QhullError

        try:
            ring = ConvexHull(pts).vertices  # counter-clockwise in two dimensions
        except QhullError:  # every point on one line
            ring = None
    if ring is None:  # a point, or a segment: its two ends
        ends = np.lexsort((pts[:, 1], pts[:, 0]))
        ring = np.unique(ends[[0, -1]])
    ring = np.roll(ring, -int(np.argmax(pts[ring, 0] + pts[ring, 1])))
    xr, yr = pts[ring, 0], pts[ring, 1]
    # the upper hull runs from the first vertex to the leftmost one (the highest of them)
    left = np.flatnonzero(xr <= xr.min() + _EPS)
    n_upper = int(left[np.argmax(yr[left])]) + 1
    return ok[first[ring]], np.column_stack([xr, yr]), n_upper


def _parts_at(polygon, target: np.ndarray) -> list[tuple[int, float]]:
    """At most three of the polygon's vertices and their probabilities, whose mix is
    ``target`` (a point of the polygon): a triangle of the fan from the first vertex that
    holds it, by barycentric coordinates (a point on an edge needs two, a vertex one)."""
    idx, pts = polygon
    if len(pts) == 1:
        return [(int(idx[0]), 1.0)]
    if len(pts) == 2:
        d = pts[1] - pts[0]
        t = float(np.clip(np.dot(target - pts[0], d) / np.dot(d, d), 0.0, 1.0))
        return [(int(idx[0]), 1.0 - t), (int(idx[1]), t)]
    e1 = pts[1:-1] - pts[0]
    e2 = pts[2:] - pts[0]
    d = target - pts[0]
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        l1 = (d[0] * e2[:, 1] - d[1] * e2[:, 0]) / det
        l2 = (e1[:, 0] * d[1] - e1[:, 1] * d[0]) / det
    weights = np.column_stack([1.0 - l1 - l2, l1, l2])
    worst = np.where(det > 0, weights.min(axis=1), -np.inf)
    i = int(np.argmax(worst))
    w = np.clip(weights[i], 0.0, None)
    w = w / w.sum()
    return [(int(idx[0]), float(w[0])), (int(idx[i + 1]), float(w[1])),
            (int(idx[i + 2]), float(w[2]))]


def _point(parts, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.array([sum(w * x[k] for k, w in parts), sum(w * y[k] for k, w in parts)])


def _gain(picks: dict, gains: list) -> float:
    return float(sum(w * gains[j][k] for j, parts in picks.items() for k, w in parts))


def _within(picks: dict, fpr: list, tpr: list, tolerance: float) -> bool:
    """Whether the groups' mixes lie within ``tolerance`` of each other in both rates."""
    at = np.array([_point(parts, fpr[j], tpr[j]) for j, parts in picks.items()])
    return bool(np.ptp(at, axis=0).max() <= tolerance)


def _all_or_nothing(picks: dict, counts: list) -> bool:
    """Whether every group's mix gives everybody, or every group's nobody, a positive
    decision."""
    sel = []
    for j, parts in picks.items():
        c = sum(w * counts[j][k] for k, w in parts)
        sel.append((c[1] + c[3]) / c.sum())
    sel = np.asarray(sel)
    return bool(np.all(sel <= _EPS) or np.all(sel >= 1 - _EPS))


def _relaxed(polygons: dict, gains: list, tolerance: float):
    """The best mixes of the groups' hull vertices whose (FPR, TPR) points lie within
    ``tolerance`` of each other in both rates, by a linear programme (HiGHS): per group,
    one weight per vertex (at least 0, adding up to 1); two more variables, the lowest FPR
    and TPR allowed, L_f and L_t, with every group's rates in [L, L + tolerance]. Each
    group's point is then reached by at most three vertices (:func:`_parts_at`). None when
    the solver finds no solution."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    keys = list(polygons)
    sizes = [len(polygons[j][0]) for j in keys]
    n_w = sum(sizes)
    tol = max(tolerance - _LP_MARGIN, 0.0)
    cost = np.zeros(n_w + 2)
    eq_r, eq_c, ub_r, ub_c, ub_v = [], [], [], [], []
    start = 0
    for g, j in enumerate(keys):
        idx, pts = polygons[j]
        cols = np.arange(start, start + len(idx))
        cost[cols] = -gains[j][idx]
        eq_r += [g] * len(idx)
        eq_c += cols.tolist()
        for r, (coord, lower) in enumerate(((0, n_w), (1, n_w + 1))):
            # rate - L <= tol and L - rate <= 0
            ub_r += [4 * g + 2 * r] * (len(idx) + 1) + [4 * g + 2 * r + 1] * (len(idx) + 1)
            ub_c += cols.tolist() + [lower] + cols.tolist() + [lower]
            ub_v += pts[:, coord].tolist() + [-1.0] + (-pts[:, coord]).tolist() + [1.0]
        start += len(idx)
    n_rows = 4 * len(keys)
    a_ub = coo_matrix((ub_v, (ub_r, ub_c)), shape=(n_rows, n_w + 2)).tocsr()
    b_ub = np.tile([tol, 0.0], 2 * len(keys))
    a_eq = coo_matrix((np.ones(n_w), (eq_r, eq_c)), shape=(len(keys), n_w + 2)).tocsr()
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(len(keys)),
                  bounds=[(0, 1)] * (n_w + 2), method="highs",
                  options={"primal_feasibility_tolerance": 1e-10,
                           "dual_feasibility_tolerance": 1e-10})
    if res.status != 0:
        return None
    out, start = {}, 0
    for j, size in zip(keys, sizes, strict=True):
        idx, pts = polygons[j]
        w = np.clip(res.x[start:start + size], 0.0, None)
        out[j] = _parts_at(polygons[j], (w / w.sum()) @ pts)
        start += size
    return out

