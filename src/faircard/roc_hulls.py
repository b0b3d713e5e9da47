"""Each group's candidate decisions for a randomised rule: the vertices of its ROC convex hull,
found from its rows sorted once, at any number of distinct scores.

Mixing thresholds mixes their confusion counts, so a randomised rule reaches the convex hull of
a group's (false positives, true positives) points and nothing else; every rate and objective a
search weighs is linear in those counts, so the best mix of any points is a mix of the hull's
vertices. A group's points are its counts at each of its own distinct scores (a threshold
between two of them decides as the higher one) and nobody selected; they form a path on which
both counts fall as the threshold rises, and the hull's vertices are the path's corners that
stay corners once the points between them are dropped. The counts are whole numbers (with a
grouped table's row counts, unless those are not), so whether a point turns left or right is
decided exactly. Memory and time follow the rows (one sort, then one group's path at a time),
never distinct scores x groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GroupPoints:
    """One group's candidate decisions: ``thresholds`` (m,), ascending, as a rule states them
    (a row is selected when its score is at or above), and the group's confusion counts
    ``[tn, fp, fn, tp]`` at each, (m, 4); both positives counts fall (or stay) from one to the
    next."""

    thresholds: np.ndarray
    counts: np.ndarray


def sweep_points(sw, thresholds: np.ndarray) -> list[GroupPoints]:
    """Every threshold of a sweep for each group (``thresholds``: the sweep's, as stated)."""
    t = np.asarray(thresholds, np.float64)
    return [GroupPoints(t, sw.counts[:, j]) for j in range(len(sw.groups))]


def hull_points(y_true, y_score, group, n_groups: int, stated, weight=None) -> list[GroupPoints]:
    """Each group's ROC-hull vertices, from its rows: ``stated(prev)`` (vectorised) gives the
    threshold a rule states for the decisions "score above ``prev``" (``prev`` -inf: everybody;
    the group's highest score: nobody in it). ``weight``: how many rows each entry stands for
    (counts are whole numbers, int64, when the weights are). A group with no rows has one
    point, everybody selected (of nobody). One group's path is held at a time."""
    y_score = np.asarray(y_score, np.float64)
    code = np.asarray(group, np.int64) * 2 + np.asarray(y_true, bool)
    small = code.astype(np.uint16) if 2 * n_groups <= 1 << 16 else code
    order = np.argsort(small, kind="stable")  # a radix sort for 16-bit codes
    bounds = np.searchsorted(code[order], np.arange(2 * n_groups + 1))
    scores = y_score[order]
    w = None if weight is None else np.asarray(weight, np.float64)[order]
    del order, small, code
    whole = w is None or np.array_equal(np.rint(w), w)
    out = []
    for j in range(n_groups):
        lo, mid, hi = (int(bounds[k]) for k in (2 * j, 2 * j + 1, 2 * j + 2))
        x, y, u = _path(scores[lo:hi], mid - lo, None if w is None else w[lo:hi])
        if w is not None and whole:
            x, y = np.rint(x).astype(np.int64), np.rint(y).astype(np.int64)
        idx = np.union1d(_chain(x, y, -1), _chain(x, y, 1))[::-1]  # by rising threshold
        fp, tp = x[idx], y[idx]
        counts = np.column_stack([x[-1] - fp, fp, y[-1] - tp, tp])
        # path point i is selected above u[m - 1 - i] (nobody: above the highest score)
        prev = np.r_[-np.inf, u][len(u) - idx]
        out.append(GroupPoints(np.asarray(stated(prev), np.float64), counts))
    return out


def _path(v: np.ndarray, n_neg: int, w: np.ndarray | None):
    """One group's path from nobody selected to everybody: false and true positives at each
    of its distinct scores by falling threshold, after (0, 0), and the distinct scores
    ascending. ``v``: its negatives' scores, then its positives' (sorted here, in place);
    ``w``: their row counts (None: one each)."""
    if w is None:
        v[:n_neg].sort()
        v[n_neg:].sort()
        order = np.argsort(v, kind="stable")  # merges the two sorted runs
        below = np.arange(len(v) + 1)  # rows before each position, by rising score
        is_pos = order >= n_neg
    else:
        order = np.argsort(v)
        below = np.r_[0.0, np.cumsum(w[order])]
        is_pos = np.where(order >= n_neg, w[order], 0.0)
    v = v[order]
    pos_below = np.r_[0, np.cumsum(is_pos)]
    starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]]) if len(v) else order
    tp = pos_below[-1] - pos_below[starts]  # at or above each distinct score
    fp = below[-1] - below[starts] - tp
    zero = np.zeros(1, fp.dtype)
    return np.r_[zero, fp[::-1]], np.r_[zero, tp[::-1]], v[starts]


def _chain(x: np.ndarray, y: np.ndarray, side: int) -> np.ndarray:
    """Indices of the upper (``side`` -1) or lower (+1) hull of a path ``x``, ``y`` (both
    non-decreasing along it): the points where it turns strictly right (upper) or left
    (lower), with both ends. A point that does not, with its neighbours, lies on or inside the
    hull; dropping every such point at once is safe (each is judged by points of the set), so
    passes drop them until few go, and a stack walk over the survivors finishes it."""
    keep = np.arange(len(x))
    while len(keep) > 2:
        xk, yk = x[keep], y[keep]
        dx, dy = np.diff(xk), np.diff(yk)
        turn = dx[:-1] * dy[1:] - dy[:-1] * dx[1:]
        held = np.r_[True, turn * side > 0, True]
        n_drop = len(keep) - int(held.sum())
        keep = keep[held]
        if n_drop * 16 < len(keep):
            break
    xs, ys = x[keep].tolist(), y[keep].tolist()
    stack: list[int] = []
    for i in range(len(xs)):
        while len(stack) >= 2:
            a, b = stack[-2], stack[-1]
            turn = (xs[b] - xs[a]) * (ys[i] - ys[b]) - (ys[b] - ys[a]) * (xs[i] - xs[b])
            if turn * side > 0:
                break
            stack.pop()
        stack.append(i)
    return keep[stack]
