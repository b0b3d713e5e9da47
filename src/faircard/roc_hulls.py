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
decided exactly. Memory and time follow the rows (one sort), never distinct scores x groups.
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
    the group's highest score: nobody in it). ``weight``: how many rows each entry stands for.
    A group with no rows has one point, everybody selected (of nobody)."""
    paths = list(_paths(y_true, y_score, group, n_groups, weight))
    dtype = np.int64 if all(x.dtype.kind == "i" for x, _y, _p in paths) else np.float64
    x = np.concatenate([p[0] for p in paths]).astype(dtype)
    y = np.concatenate([p[1] for p in paths]).astype(dtype)
    starts = np.cumsum([0] + [len(p[0]) for p in paths])
    first, last = np.zeros(len(x), bool), np.zeros(len(x), bool)
    first[starts[:-1]] = True
    last[starts[1:] - 1] = True
    # a point where the path turns right can only be on the upper hull, left the lower;
    # straight, on neither (one pass for both, the rest on far fewer points)
    ends = first | last
    turn = np.zeros(len(x), dtype)
    dx, dy = np.diff(x), np.diff(y)
    turn[1:-1] = dx[:-1] * dy[1:] - dy[:-1] * dx[1:]
    del dx, dy
    keep = np.union1d(*(_chain(x, y, first, last, np.flatnonzero(ends | (turn * side > 0)),
                               side) for side in (-1, 1)))
    out = []
    for j, (_x, _y, prev) in enumerate(paths):
        lo, hi = starts[j], starts[j + 1]
        idx = keep[(keep >= lo) & (keep < hi)][::-1]  # by rising threshold
        fp, tp = x[idx], y[idx]
        counts = np.column_stack([x[hi - 1] - fp, fp, y[hi - 1] - tp, tp]).astype(dtype)
        out.append(GroupPoints(np.asarray(stated(prev[idx - lo]), np.float64), counts))
    return out


def _paths(y_true, y_score, group, n_groups: int, weight):
    """Per group, its path from nobody selected to everybody: false and true positives at
    each of its distinct scores by falling threshold, after (0, 0), and the score just below
    each point (-inf for everybody; a group without rows has that point alone). Rows are
    split by group and outcome with a counting sort, each part's scores are sorted on their
    own, and the two sorted parts of a group merged."""
    y_score = np.asarray(y_score, np.float64)
    code = np.asarray(group, np.int64) * 2 + np.asarray(y_true, bool)
    small = code.astype(np.uint16) if 2 * n_groups <= 1 << 16 else code
    order = np.argsort(small, kind="stable")  # a radix sort for 16-bit codes
    bounds = np.searchsorted(code[order], np.arange(2 * n_groups + 1))
    scores = y_score[order]
    w = None if weight is None else np.asarray(weight, np.float64)[order]
    del order, small, code
    for j in range(n_groups):
        lo, mid, hi = (int(bounds[k]) for k in (2 * j, 2 * j + 1, 2 * j + 2))
        v = scores[lo:hi]  # the group's negatives, then its positives
        if w is None:
            v[:mid - lo].sort()
            v[mid - lo:].sort()
            order = np.argsort(v, kind="stable")  # merges the two sorted runs
            below = np.arange(hi - lo + 1)  # rows before each position, by rising score
        else:
            order = np.argsort(v)
            below = np.r_[0.0, np.cumsum(w[lo:hi][order])]
        v = v[order]
        is_pos = order >= mid - lo
        pos_below = np.r_[0, np.cumsum(is_pos if w is None else w[lo:hi][order] * is_pos)]
        starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]]) if len(v) else order
        tp = pos_below[-1] - pos_below[starts]  # at or above each distinct score
        fp = below[-1] - below[starts] - tp
        if w is not None and np.array_equal(np.rint(fp), fp) and \
                np.array_equal(np.rint(tp), tp):
            fp, tp = np.rint(fp).astype(np.int64), np.rint(tp).astype(np.int64)
        zero = np.zeros(1, fp.dtype)  # by falling threshold, after nobody selected
        yield (np.concatenate([zero, fp[::-1]]), np.concatenate([zero, tp[::-1]]),
               np.concatenate([v[starts][::-1], [-np.inf]]))


def _chain(x: np.ndarray, y: np.ndarray, first: np.ndarray, last: np.ndarray,
           keep: np.ndarray, side: int) -> np.ndarray:
    """Indices of the upper (``side`` -1) or lower (+1) hull of each path in ``x``, ``y``
    (paths one after another, each from ``first`` to ``last``, both coordinates non-decreasing
    along it), among the points ``keep`` (ascending, holding every hull vertex): those where
    the path turns strictly right (upper) or left (lower). A point that does not, with its
    neighbours, lies on or inside the hull; dropping every such point at once is safe (each
    is judged by points of the set), so passes drop them until few go, and a stack walk over
    each path's survivors finishes it."""
    ends = first[keep] | last[keep]
    while len(keep) > 2:
        xk, yk = x[keep], y[keep]
        dx, dy = np.diff(xk), np.diff(yk)
        turn = dx[:-1] * dy[1:] - dy[:-1] * dx[1:]
        held = np.ones(len(keep), bool)
        held[1:-1] = ends[1:-1] | (turn * side > 0)
        n_drop = len(keep) - int(held.sum())
        keep, ends = keep[held], ends[held]
        if n_drop * 16 < len(keep):
            break
    out: list[int] = []
    xs, ys, ks = x[keep].tolist(), y[keep].tolist(), keep.tolist()
    for i, k in enumerate(ks):
        if first[k]:
            stack = [i]
        else:
            while len(stack) >= 2:
                a, b = stack[-2], stack[-1]
                turn = (xs[b] - xs[a]) * (ys[i] - ys[b]) - (ys[b] - ys[a]) * (xs[i] - xs[b])
                if turn * side <= 0:
                    stack.pop()
                else:
                    break
            stack.append(i)
        if last[k]:
            out.extend(ks[m] for m in stack)
    return np.asarray(out, np.int64)
