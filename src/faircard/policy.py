"""Deterministic per-group thresholds under a fairness constraint, and the trade-off front.

Each group gets one threshold (no randomisation): a row is positive when its score is at or
above its group's threshold. The search works on each group's threshold sweep. For a candidate
level ``L`` of the constrained metric, every group independently takes the threshold that
maximises its share of the objective among those whose metric lies in ``[L, L + tolerance]``;
objectives (accuracy, balanced accuracy, expected cost) are sums over groups, so the best
policy for ``L`` is exact, and the best ``L`` is found by scanning all levels at once.
Equalized odds scans pairs of (TPR, FPR) levels. A policy is evaluated with the sweep's exact
counts at its thresholds (every chosen threshold is one of the sweep's).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .decision import (
    DecisionPolicy,
    left_out_record,
    mix_entry,
    shortest_between,
    threshold_above,
)
from .errors import FaircardError
from .favorable import wording
from .formatting import fmt_threshold, groups_with_sizes, mid_sentence
from .metrics import LABELS, UNDEFINED_REASONS, metrics_from_counts
from .thresholds import Sweep, grid_thresholds, sweep
from .trivial import decided_alone

CONSTRAINTS = {
    "none": (),
    "demographic_parity": ("selection_rate",),
    "equal_opportunity": ("true_positive_rate",),
    "false_positive_rate_parity": ("false_positive_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
    "equal_accuracy": ("accuracy",),
}
OBJECTIVES = ("accuracy", "balanced_accuracy", "cost")
TOLERANCES = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
"""Tolerances of the trade-off front (:func:`pareto_front`)."""
LEGAL_NOTE = (
    "Group-specific thresholds use the sensitive attribute at decision time. In some domains "
    "(for example credit and employment) treating people differently by a protected attribute "
    "may be unlawful; decide knowingly and take advice."
)


@dataclass
class Policy:
    """One threshold per group and what it achieves on the data it was chosen on."""

    feature: str
    thresholds: dict[str, float]
    constraint: str
    objective: str
    objective_value: float
    disparity: float
    tolerance: float
    feasible: bool
    costs: dict[str, Any] | None = None
    by_group: list[dict[str, Any]] = field(default_factory=list)
    summary: str = ""
    degenerate: bool = False
    """Every group (held to the constraint) gets the same all-positive or all-negative
    decision."""
    randomized: bool = False
    mix: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Randomised groups' rules beyond their first threshold, as
    :func:`~faircard.decision.mix_entry` writes them: {group: {"probability": p,
    "else_threshold": b}} (the group's threshold with probability p, else b), or
    {"probability": p, "else": [{"threshold": t, "probability": q}, ...], "everybody": r,
    "nobody": s} for a rule of more parts."""
    selection_rates: dict[str, float] = field(default_factory=dict)
    excluded_groups: list[str] = field(default_factory=list)
    """Groups smaller than ``min_group_size``, left out of the constraint."""
    min_group_size: int = 0
    favorable_outcome: str = "positive"

    def left_out(self) -> dict[str, int]:
        """The groups left out of the constraint as smaller than ``min_group_size``, with
        their sizes in people: {group: n}; empty without a constraint."""
        if self.constraint == "none":
            return {}
        sizes = {r["group"]: r["count"] for r in self.by_group}
        return {g: int(sizes[g]) for g in self.excluded_groups}

    def held_groups(self) -> list[str]:
        """The groups held to the constraint (every group when there is none)."""
        return [g for g in self.selection_rates
                if self.constraint == "none" or g not in self.excluded_groups]

    @property
    def group_only(self) -> bool:
        """Not degenerate, but every group held to the constraint gets an all-or-nothing
        decision (some everybody, others nobody): the decision depends on the group alone."""
        held = self.held_groups()
        return (not self.degenerate and len(held) > 1
                and all(min(r, 1 - r) <= 1e-12 for r in map(self.selection_rates.get, held)))

    @property
    def all_or_nothing_groups(self) -> dict[str, str]:
        """In a policy neither degenerate nor group-only, the groups whose decision is
        all-or-nothing: {group: "nobody" or "everybody"}. The model's scores do not decide
        for them, whatever gaps the policy closes."""
        if self.degenerate or self.group_only:
            return {}
        return {g: "nobody" if r <= 1e-12 else "everybody"
                for g, r in self.selection_rates.items() if min(r, 1 - r) <= 1e-12}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["thresholds"] = {g: float(t) for g, t in self.thresholds.items()}
        d["kind"] = "per_group"
        d["left_out"] = self.left_out()
        return d

    def decision_policy(self) -> DecisionPolicy:
        """The decision rule alone (what assess, the card and the app apply)."""
        return DecisionPolicy.per_group(
            self.feature, self.thresholds,
            mix=self.mix,
            chosen_for={"constraint": self.constraint, "objective": self.objective,
                        "tolerance": self.tolerance, **left_out_record(self.left_out(),
                                                                       self.min_group_size)})


def _gains(counts: np.ndarray, objective: str, totals: np.ndarray,
           fp_cost: float, fn_cost: float) -> np.ndarray:
    """Each group's additive share of the objective at each threshold, (K, G); larger = better."""
    tn, fp, fn, tp = (counts[..., i].astype(np.float64) for i in range(4))
    n_all, pos_all, neg_all = totals
    if objective == "accuracy":
        return (tp + tn) / n_all
    if objective == "balanced_accuracy":
        return (tp / max(pos_all, 1) + tn / max(neg_all, 1)) / 2
    return -(fp * fp_cost + fn * fn_cost) / n_all  # negative cost per decision


def _objective_value(counts: np.ndarray, objective: str, fp_cost: float, fn_cost: float) -> float:
    tot = counts.sum(axis=0)
    tn, fp, fn, tp = (float(x) for x in tot)
    n = tn + fp + fn + tp
    if objective == "accuracy":
        return (tp + tn) / n
    if objective == "balanced_accuracy":
        return (tp / max(tp + fn, 1) + tn / max(tn + fp, 1)) / 2
    return (fp * fp_cost + fn * fn_cost) / n  # cost per decision (lower is better)


def disparity_of(counts: np.ndarray, constraint: str) -> float:
    """Largest between-group gap of the constrained metric(s) at per-group counts (G, 4)."""
    metrics = CONSTRAINTS[constraint] or ("selection_rate",)
    vals = metrics_from_counts(counts)
    gaps = []
    for m in metrics:
        v = vals[m][~np.isnan(vals[m])]
        if v.size:  # an undefined rate (no positives, say) is no gap
            gaps.append(float(v.max() - v.min()))
    return max(gaps) if gaps else np.nan


_CELLS = 1 << 20
"""Level x group cells evaluated at once (about 8 MB per int64 array): the candidate levels
are searched in chunks of this many cells, so memory stays bounded however many levels a
sweep has (up to 1,002 thresholds times the number of groups)."""


def _levels(values: np.ndarray) -> np.ndarray:
    """Candidate window starts: every attained value. A policy meets a constraint within
    ``tol`` when its held groups' values lie in ``[L, L + tol]`` for ``L`` the lowest of
    them, an attained value, so the windows starting at attained values hold every policy
    that meets it: searching them all is exhaustive."""
    return np.unique(values[~np.isnan(values)])


def _windows(metric: np.ndarray, levels: np.ndarray, tol: float, order=None):
    """Each group's thresholds sorted by metric (NaN last; ``order`` if already known), and
    for each level the range ``[lo, hi)`` of that order whose metric lies in [L, L + tol]:
    (order (K, G), lo, hi (n_levels, G))."""
    if order is None:
        order = np.argsort(metric, axis=0, kind="stable")
    sorted_m = np.take_along_axis(metric, order, axis=0)
    n_valid = (~np.isnan(metric)).sum(axis=0)
    low, high = levels - 1e-12, levels + tol + 1e-12
    lo = np.zeros((len(levels), metric.shape[1]), dtype=np.int64)
    hi = np.zeros_like(lo)
    for j in range(metric.shape[1]):
        col = sorted_m[:n_valid[j], j]
        lo[:, j] = np.searchsorted(col, low, side="left")
        hi[:, j] = np.searchsorted(col, high, side="right")
    return order, lo, hi


def _ranking(gains: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(thresholds by rank, rank of each threshold) per group: best gain first, the lower
    index first among equal gains."""
    n, n_groups = gains.shape
    by_rank = np.argsort(-gains, axis=0, kind="stable")
    rank = np.empty_like(by_rank)
    rank[by_rank, np.arange(n_groups)] = np.arange(n)[:, None]
    return by_rank, rank


def _best_in_windows(gains: np.ndarray, windows, ranking=None,
                     excluded: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per level and group, the best gain in the window and its threshold index (the lowest
    index among equal gains, as ``argmax`` over thresholds gives; -inf at index 0 when the
    window has no finite gain), by a sparse table of range minima of the thresholds' ranks.
    ``excluded`` (K, G): thresholds left out, as if their gain were -inf."""
    order, lo, hi = windows
    n, n_groups = gains.shape
    cols = np.arange(n_groups)
    by_rank, rank = _ranking(gains) if ranking is None else ranking
    if excluded is not None:
        rank = np.where(excluded, n, rank)
    table = [rank[order, cols]]
    width = 1
    while 2 * width <= n:
        prev = table[-1]
        table.append(np.minimum(prev[:-width], prev[width:]))
        width *= 2
    size = hi - lo
    some = size > 0
    k = np.floor(np.log2(np.maximum(size, 1))).astype(np.int64)
    best_rank = np.full(lo.shape, n, dtype=np.int64)
    col = np.broadcast_to(cols, lo.shape)
    for level in np.unique(k[some]):
        at = some & (k == level)
        best_rank[at] = np.minimum(table[level][lo[at], col[at]],
                                   table[level][hi[at] - (1 << level), col[at]])
    best = by_rank[np.minimum(best_rank, n - 1), col]
    gain = np.where(best_rank < n, gains[best, col], -np.inf)
    return gain, np.where(np.isfinite(gain), best, 0)


def _best_per_level(metric: np.ndarray, gains: np.ndarray, levels: np.ndarray, tol: float):
    """For each level, each group's best gain with metric in [L, L + tol]: (n_levels, G)."""
    return _best_in_windows(gains, _windows(metric, levels, tol))


def _trivial(counts: np.ndarray) -> np.ndarray:
    """Per threshold and group: 0 a real choice, 1 nobody selected, 2 everybody selected."""
    sel = counts[..., 1] + counts[..., 3]
    n = counts.sum(axis=-1)
    return np.where(sel == 0, 1, np.where(sel == n, 2, 0))


def _fix_degenerate(best_gain, best_idx, alternatives, trivial, included) -> None:
    """Where every included group got the same all-or-nothing decision, move the one group
    that costs least to its best other choice (in place; -inf when it has none).
    ``alternatives``: (gain, index) per level and group of the best choice that is not
    "nobody selected", then of the best that is not "everybody selected": a real choice or
    the opposite all-or-nothing decision both end the degeneracy."""
    if not included.any():
        return
    cols = np.arange(best_idx.shape[1])
    kinds = trivial[best_idx, cols]
    inc = kinds[:, included]
    degenerate = (inc > 0).all(axis=1) & (inc == inc[:, :1]).all(axis=1)
    if not degenerate.any():
        return
    everybody = (inc[:, :1] == 2)
    (g1, i1), (g2, i2) = alternatives
    nt_gain, nt_idx = np.where(everybody, g2, g1), np.where(everybody, i2, i1)
    # only an included group can end the degeneracy (when none can, its -inf ends the level)
    cols = np.flatnonzero(included)
    with np.errstate(invalid="ignore"):  # -inf - -inf: a level no policy reaches anyway
        j = cols[(nt_gain[:, cols] - best_gain[:, cols]).argmax(axis=1)]
    rows = np.flatnonzero(degenerate)
    best_gain[rows, j[rows]] = nt_gain[rows, j[rows]]
    best_idx[rows, j[rows]] = nt_idx[rows, j[rows]]


def _not_kind(gains: np.ndarray, trivial: np.ndarray,
              several: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``gains`` without "nobody selected", and without "everybody selected" (-inf there).
    With one group (not ``several``) the opposite all-or-nothing decision is degenerate too,
    so both leave out every all-or-nothing choice."""
    if not several:
        real = np.where(trivial > 0, -np.inf, gains)
        return real, real
    return np.where(trivial == 1, -np.inf, gains), np.where(trivial == 2, -np.inf, gains)


def _best_with_rules(metric, gains, levels, tol, trivial, included, allow_degenerate, *,
                     order=None, rankings=None, excluded=None, held=None, windows=None):
    """:func:`_best_per_level` with groups outside ``held`` (default ``included``)
    unconstrained and, unless ``allow_degenerate``, no policy in which every ``included`` group
    gets the same all-or-nothing decision. ``excluded`` (K, G): thresholds left out (gain
    -inf); ``order`` (of ``metric``) and ``rankings`` (of ``gains`` and of the two
    :func:`_not_kind` gains) when already known; ``windows`` as :func:`_windows` gives them,
    instead of ``metric``, ``levels`` and ``tol``."""
    if windows is None:
        windows = _windows(metric, levels, tol, order)
    rank_all, *rank_alt = rankings or (None, None, None)
    bg, bi = _best_in_windows(gains, windows, rank_all, excluded)
    allowed = gains if excluded is None else np.where(excluded, -np.inf, gains)
    free = ~(included if held is None else held)
    if free.any():
        bg[:, free] = allowed[:, free].max(axis=0)
        bi[:, free] = allowed[:, free].argmax(axis=0)
    if not allow_degenerate:
        alternatives = []
        several = included.sum() > 1
        for other, other_allowed, rank in zip(_not_kind(gains, trivial, several),
                                              _not_kind(allowed, trivial, several), rank_alt,
                                              strict=True):
            ag, ai = _best_in_windows(other, windows, rank, excluded)
            if free.any():
                ag[:, free] = other_allowed[:, free].max(axis=0)
                ai[:, free] = other_allowed[:, free].argmax(axis=0)
            alternatives.append((ag, ai))
        _fix_degenerate(bg, bi, alternatives, trivial, included)
    return bg, bi


def search(sw: Sweep, constraint: str, objective: str, tolerance: float,
           fp_cost: float = 1.0, fn_cost: float = 1.0, included: np.ndarray | None = None,
           allow_degenerate: bool = False) -> tuple[np.ndarray, bool]:
    """Indices into ``sw.thresholds`` (one per group) of the best policy, and feasibility.

    Only groups in ``included`` (bool per group; default all) are held to the constraint.
    Unless ``allow_degenerate``, policies in which every included group gets the same
    all-positive or all-negative decision are never returned.
    """
    check_choices(constraint, objective, tolerance)
    counts = sw.counts
    n_groups = counts.shape[1]
    included = np.ones(n_groups, bool) if included is None else np.asarray(included, bool)
    if not included.any():
        included = np.ones(n_groups, bool)
    trivial = _trivial(counts)
    tot = counts[0].sum(axis=0)
    totals = np.array([tot.sum(), tot[2] + tot[3], tot[0] + tot[1]], dtype=np.float64)
    gains = _gains(counts, objective, totals, fp_cost, fn_cost)
    names = CONSTRAINTS[constraint]
    if not names:
        anything = np.zeros_like(gains)
        bg, bi = _best_with_rules(anything, gains, np.zeros(1), 0.0, trivial,
                                  np.zeros(n_groups, bool), allow_degenerate)
        if not allow_degenerate:  # "every group" when nothing is constrained
            _fix_degenerate(bg, bi, [(o.max(axis=0)[None], o.argmax(axis=0)[None])
                                     for o in _not_kind(gains, trivial, n_groups > 1)],
                            trivial, np.ones(n_groups, bool))
        return (bi[0], True) if np.isfinite(bg[0]).all() else (None, False)
    vals = metrics_from_counts(counts)
    several = included.sum() > 1
    rankings = (_ranking(gains), *(_ranking(o) for o in _not_kind(gains, trivial, several)))
    rules = (trivial, included, allow_degenerate)
    if len(names) == 1:
        m = vals[names[0]]
        held = _held(m, included)
        if not held.any():  # undefined in every group: the constraint cannot be checked
            return None, False
        _, idx = _best_level(m, gains, _levels_of(m, held), tolerance, *rules,
                                 order=np.argsort(m, axis=0, kind="stable"),
                                 rankings=rankings, held=held)
        return (idx, True) if idx is not None else (None, False)
    tpr, fpr = vals["true_positive_rate"], vals["false_positive_rate"]
    held_t, held_f = _held(tpr, included), _held(fpr, included)
    if not (held_t.any() or held_f.any()):
        return None, False
    return _equalized_odds(tpr, fpr, gains, tolerance, rules, rankings, held_t, held_f)


def _ranges(metric: np.ndarray, levels: np.ndarray, tol: float, held: np.ndarray):
    """For a rate that never rises with the threshold (a true or false positive rate), each
    level's and group's range ``[lo, hi)`` of threshold indices whose rate lies in
    ``[L, L + tol]`` (every index for groups not ``held``): (lo, hi), (n_levels, G)."""
    lo = np.zeros((len(levels), metric.shape[1]), dtype=np.int64)
    hi = np.full_like(lo, metric.shape[0])
    for j in np.flatnonzero(held):
        rising = -metric[:, j]
        lo[:, j] = np.searchsorted(rising, -(levels + tol + 1e-12), side="left")
        hi[:, j] = np.searchsorted(rising, -(levels - 1e-12), side="right")
    return lo, hi


def _equalized_odds(tpr, fpr, gains, tol, rules, rankings, held_t, held_f):
    """The best policy with the held groups' TPRs within ``tol`` and their FPRs within
    ``tol``, exhaustively: every pair of levels (L_t, L_f), each an attained rate (the
    lowest of its policy's). Both rates fall as the threshold rises, so each group's window
    of a pair is a range of threshold indices (the intersection of the TPR and the FPR
    range). TPR levels are taken from the highest upper bound down (each group's best gain
    in its TPR range alone), until no bound is above the best policy found; a TPR level is
    skipped when the groups' FPR spans in their TPR ranges are more than ``tol`` apart."""
    n, n_groups = gains.shape
    identity = np.broadcast_to(np.arange(n)[:, None], (n, n_groups))
    t_levels = _levels_of(tpr, held_t)
    t_lo, t_hi = _ranges(tpr, t_levels, tol, held_t)
    bound = np.concatenate([
        _best_in_windows(gains, (identity, t_lo[i], t_hi[i]), rankings[0])[0].sum(axis=1)
        for i in _slices(len(t_levels), n_groups)])
    # FPR spans of the held groups within their TPR ranges (FPR falls with the index)
    f_cols = np.flatnonzero(held_f)
    top = np.where(t_hi > t_lo, 0.0, np.nan)[:, f_cols]
    if f_cols.size:
        top_f = fpr[np.minimum(t_lo[:, f_cols], n - 1), f_cols] + top
        low_f = fpr[np.maximum(t_hi[:, f_cols] - 1, 0), f_cols] + top
        start, stop = np.max(low_f, axis=1) - tol, np.min(top_f, axis=1)
        bound[~(start <= stop + 1e-12)] = -np.inf  # also NaN: an empty range
    else:
        start, stop = np.full(len(t_levels), -np.inf), np.full(len(t_levels), np.inf)
    best = (-np.inf, None)
    lo_parts, hi_parts, cells, budget = [], [], 0, _BLOCK * n_groups
    for i in np.argsort(-bound, kind="stable"):
        if not bound[i] > best[0]:
            break
        if f_cols.size:
            inside = np.concatenate([fpr[t_lo[i, j]:t_hi[i, j], j] for j in f_cols])
            f_levels = np.unique(inside[(inside >= start[i] - 1e-12) & (inside <= stop[i] + 1e-12)])
        else:
            f_levels = np.zeros(1)
        f_lo, f_hi = _ranges(fpr, f_levels, tol, held_f)
        lo = np.maximum(f_lo, t_lo[i])
        lo_parts.append(lo)
        hi_parts.append(np.maximum(lo, np.minimum(f_hi, t_hi[i])))
        cells += lo.size
        if cells >= budget:  # batches double up to _CELLS cells
            best = _better(best, gains, identity, lo_parts, hi_parts, rules, rankings)
            lo_parts, hi_parts, cells, budget = [], [], 0, min(2 * budget, _CELLS)
    if lo_parts:
        best = _better(best, gains, identity, lo_parts, hi_parts, rules, rankings)
    return (best[1], True) if best[1] is not None else (None, False)


def _better(best, gains, identity, lo_parts, hi_parts, rules, rankings):
    """``best`` (total gain, indices) or the best policy of the stacked index ranges if
    that is better."""
    windows = (identity, np.concatenate(lo_parts), np.concatenate(hi_parts))
    held = np.ones(gains.shape[1], bool)  # the ranges already leave groups not held free
    bg, bi = _best_with_rules(None, gains, None, None, *rules, rankings=rankings, held=held,
                              windows=windows)
    total = bg.sum(axis=1)
    i = int(np.argmax(total))
    return (float(total[i]), bi[i]) if total[i] > best[0] else best


def _held(metric: np.ndarray, included: np.ndarray) -> np.ndarray:
    """Groups held to a metric: the included groups for which it is defined. A rate is
    undefined at every threshold or at none (a true positive rate without positives), and,
    as in :func:`disparity_of`, an undefined rate is no gap."""
    return included & ~np.isnan(metric).all(axis=0)


def _levels_of(metric: np.ndarray, held: np.ndarray) -> np.ndarray:
    """:func:`_levels` of the held groups' values; one level (unused) when none is held
    (equalized odds with one rate undefined in every group)."""
    return _levels(metric[:, held]) if held.any() else np.zeros(1)


def _slices(n_levels: int, n_groups: int):
    """Consecutive slices of ``n_levels`` levels of at most :data:`_CELLS` level x group
    cells each."""
    step = max(1, _CELLS // max(n_groups, 1))
    for start in range(0, n_levels, step):
        yield slice(start, start + step)


_BLOCK = 64
"""Consecutive levels bounded together by :func:`_best_level`."""


def _best_level(metric, gains, levels, tol, trivial, included, allow_degenerate, *, order,
                rankings, held) -> tuple[float, np.ndarray | None]:
    """The best policy over every level by :func:`_best_with_rules` (same arguments), or
    (-inf, None) when no level has one: (total gain, threshold index per group).

    Exhaustive, by branch and bound: the levels are cut into blocks of :data:`_BLOCK`
    consecutive levels, and every window of a block lies inside the block's wide window
    ``[first level, last level + tol]``, whose groups' best gains (no other rule) bound the
    block's policies from above. Blocks are searched from the highest bound down, in batches
    that double from one block up to :data:`_CELLS` level x group cells, until no bound is
    above the best policy found."""
    n_groups = metric.shape[1]
    free = ~held
    starts = np.arange(0, len(levels), _BLOCK)
    first = levels[starts]
    wide = levels[np.minimum(starts + _BLOCK, len(levels)) - 1] - first + tol
    bound = np.concatenate([
        _best_in_windows(gains, _windows(metric, first[part], wide[part], order),
                         rankings[0])[0] for part in _slices(len(starts), n_groups)])
    bound[:, free] = gains[:, free].max(axis=0)
    bound = bound.sum(axis=1)
    best = (-np.inf, None)
    queue = list(np.argsort(-bound, kind="stable"))
    n_blocks = 1
    while queue and bound[queue[0]] > best[0]:
        batch = []
        while queue and bound[queue[0]] > best[0] and len(batch) < n_blocks:
            batch.append(levels[starts[queue[0]]:starts[queue.pop(0)] + _BLOCK])
        n_blocks = min(2 * n_blocks, max(1, _CELLS // (_BLOCK * n_groups)))
        bg, bi = _best_with_rules(metric, gains, np.concatenate(batch), tol, trivial, included,
                                  allow_degenerate, order=order, rankings=rankings, held=held)
        total = bg.sum(axis=1)
        i = int(np.argmax(total))
        if total[i] > best[0]:
            best = (float(total[i]), bi[i])
    return best


def check_choices(constraint: str, objective: str, tolerance: float) -> None:
    """A known constraint and objective and a tolerance >= 0 (else a FaircardError)."""
    if constraint not in CONSTRAINTS:
        raise FaircardError(f"Unknown constraint '{constraint}'. Choose one of: "
                            f"{', '.join(CONSTRAINTS)}.")
    if objective not in OBJECTIVES:
        raise FaircardError(f"Unknown objective '{objective}'. Choose one of: "
                            f"{', '.join(OBJECTIVES)}.")
    if not tolerance >= 0:
        raise FaircardError("The tolerance must be zero or a positive number, e.g. 0.01.")


def included_groups(group: np.ndarray, n_groups: int, min_group_size: int,
                    include_small_groups: bool) -> np.ndarray:
    """Groups held to the constraint: those with at least ``min_group_size`` rows."""
    return included_of(np.bincount(np.asarray(group, np.int64), minlength=n_groups),
                       min_group_size, include_small_groups)


def included_of(sizes: np.ndarray, min_group_size: int, include_small_groups: bool) -> np.ndarray:
    """Groups held to the constraint, from the groups' sizes (G,)."""
    if include_small_groups:
        return np.ones(len(sizes), bool)
    return np.asarray(sizes) >= min_group_size


def choose_policy(y_true, y_score, group, groups, *, feature: str = "", constraint: str = "none",
                  objective: str = "accuracy", tolerance: float = 0.01, fp_cost: float = 1.0,
                  fn_cost: float = 1.0, volume: int | None = None,
                  n_thresholds: int = 1001, min_group_size: int = 30,
                  include_small_groups: bool = False, allow_degenerate: bool = False,
                  randomized: bool = False, favorable_outcome: str = "positive") -> Policy:
    """The best per-group thresholds under ``constraint`` within ``tolerance``.

    Deterministic by default; ``randomized`` allows each group to mix thresholds (and
    everybody or nobody) with stated probabilities (see :mod:`faircard.randomized`). Groups smaller than
    ``min_group_size`` are left out of the constraint (named in the result) unless
    ``include_small_groups``. Policies in which every group gets the same all-positive or
    all-negative decision are never returned unless ``allow_degenerate``. When no policy
    meets the constraint, the best of those with the smallest largest gap any policy reaches
    is returned with ``feasible=False``.
    """
    check_choices(constraint, objective, tolerance)
    y_score = np.asarray(y_score, np.float64)
    sw = sweep(np.asarray(y_true, bool), y_score, np.asarray(group, np.int64), groups,
               grid_thresholds(y_score, n_thresholds))
    return choose_policy_from_sweep(
        sw, feature=feature, constraint=constraint, objective=objective, tolerance=tolerance,
        fp_cost=fp_cost, fn_cost=fn_cost, volume=volume, min_group_size=min_group_size,
        include_small_groups=include_small_groups, allow_degenerate=allow_degenerate,
        randomized=randomized, favorable_outcome=favorable_outcome)


def choose_policy_from_sweep(sw: Sweep, *, feature: str = "", constraint: str = "none",
                             objective: str = "accuracy", tolerance: float = 0.01,
                             fp_cost: float = 1.0, fn_cost: float = 1.0,
                             volume: int | None = None, min_group_size: int = 30,
                             include_small_groups: bool = False, allow_degenerate: bool = False,
                             randomized: bool = False,
                             favorable_outcome: str = "positive") -> Policy:
    """:func:`choose_policy` from a threshold sweep of the scores (no rows): the policy is
    chosen among the sweep's thresholds and evaluated with the sweep's exact counts at them.
    ``sw.thresholds`` must end with +inf after the highest score, as
    :func:`~faircard.thresholds.grid_thresholds` and ``exact_thresholds`` give."""
    check_choices(constraint, objective, tolerance)
    groups = list(sw.groups)
    included = included_of(group_sizes(sw), min_group_size, include_small_groups)
    rules = dict(constraint=constraint, objective=objective, fp_cost=fp_cost, fn_cost=fn_cost,
                 included=included)
    common = dict(feature=feature, constraint=constraint, objective=objective,
                  tolerance=tolerance, fp_cost=fp_cost, fn_cost=fn_cost, volume=volume,
                  min_group_size=min_group_size, included=included,
                  favorable_outcome=favorable_outcome)
    mixed = _randomized(sw, tolerance, allow_degenerate, rules, common) if randomized else None
    idx, feasible = search(sw, tolerance=tolerance, allow_degenerate=allow_degenerate, **rules)
    if idx is None:
        if mixed is not None and mixed.feasible and (allow_degenerate or not mixed.degenerate):
            return mixed  # no deterministic policy meets it, so none ranks above this one
        idx = _closest(sw, tolerance, allow_degenerate, **rules)
    finite = finite_thresholds(sw)
    chosen = {g: float(finite[i]) for g, i in zip(groups, idx, strict=True)}
    counts = sw.counts[np.asarray(idx), np.arange(len(groups))]
    best = policy_from_counts(counts, groups, chosen, searched_feasible=feasible,
                              candidates=len(sw.thresholds), **common)
    # a deterministic policy is a randomised one with probability 1: keep the better
    sign = -1.0 if objective == "cost" else 1.0
    if mixed is not None and _rank(mixed, sign, allow_degenerate) > _rank(best, sign,
                                                                          allow_degenerate):
        best = mixed
    return best


def _randomized(sw: Sweep, tolerance: float, allow_degenerate: bool, rules: dict,
                common: dict) -> Policy | None:
    """The best randomised policy (:func:`~faircard.randomized.search_points`) as a
    :class:`Policy`, or None when that search finds none. Its parts are the vertices of each
    group's ROC hull among all its distinct scores (:func:`decision_points`)."""
    from .randomized import search_points

    found = search_points(sw.groups, decision_points(sw), tolerance=tolerance,
                          allow_degenerate=allow_degenerate, **rules)
    if found is None:
        return None
    group_rules, mixed_counts = found
    return policy_from_counts(
        mixed_counts, list(sw.groups), {g: r.threshold for g, r in group_rules.items()},
        mix={g: mix_entry(r) for g, r in group_rules.items() if r.is_randomized}, **common)


def decision_points(sw: Sweep) -> list:
    """Each group's candidate points for a randomised rule
    (:class:`~faircard.roc_hulls.GroupPoints`): the vertices of its ROC hull among all its
    distinct scores when the sweep's rows are known, at any number of them (a grid of
    quantiles can miss a vertex); else every threshold of the sweep. A vertex's threshold is
    the sweep's own when the sweep tells every distinct score apart; otherwise the shortest
    number above the group's score below it that decides as the next distinct score does."""
    from .roc_hulls import hull_points, sweep_points

    if sw.rows is None:
        return sweep_points(sw, finite_thresholds(sw))
    y_true, y_score, group, weight = sw.rows
    distinct = np.unique(y_score)
    if len(sw.thresholds) > len(distinct) and np.array_equal(
            np.searchsorted(sw.thresholds, distinct, side="right"),
            np.arange(1, len(distinct) + 1)):
        stated = finite_thresholds(sw)

        def state(prev: np.ndarray) -> np.ndarray:
            return stated[np.searchsorted(sw.thresholds, prev, side="right")]
    else:
        top = float(distinct[-1]) if len(distinct) else 0.0
        nobody = shortest_between(top, threshold_above(top))

        def state(prev: np.ndarray) -> np.ndarray:
            k = np.searchsorted(distinct, prev, side="right")
            return np.array([shortest_between(float(p), float(distinct[i]))
                             if i < len(distinct) else nobody
                             for p, i in zip(prev.tolist(), k.tolist(), strict=True)])
    return hull_points(y_true, y_score, group, len(sw.groups), state, weight=weight)


def group_sizes(sw: Sweep) -> np.ndarray:
    """Rows per group of a sweep, (G,)."""
    return sw.counts[0].sum(axis=-1)


def finite_thresholds(sw: Sweep) -> np.ndarray:
    """The sweep's thresholds with +inf (nobody selected) replaced by a short number above
    the highest score and every finite threshold, which selects nobody too. (A grid's highest
    threshold may lie below the highest score: 0.7 selects the same people as 0.75.)"""
    finite = sw.thresholds[np.isfinite(sw.thresholds)]
    tops = [float(x) for x in (*finite, sw.max_score) if x is not None]
    above = threshold_above(max(tops)) if tops else 1.0
    return np.where(np.isfinite(sw.thresholds), sw.thresholds, above)


def _rank(p: Policy, sign: float, allow_degenerate: bool) -> tuple:
    """Better policies rank higher: one that meets the constraint (and is not degenerate,
    unless allowed) by its objective; otherwise the closest to meeting it (the smaller
    largest gap), then the objective. What is returned when nothing meets the constraint is
    then the closest policy found, as the page and the CLI say."""
    if p.feasible and (allow_degenerate or not p.degenerate):
        return (True, sign * p.objective_value, 0.0)
    gap = p.disparity if np.isfinite(p.disparity) else np.inf
    return (False, -gap, sign * p.objective_value)


CLOSEST_PRECISION = 1e-6
"""How far above the smallest reachable gap the policy returned when none meets the
constraint may lie (the bisection over the tolerance stops there)."""


def _closest(sw, tolerance, allow_degenerate, **rules):
    """When no policy meets the constraint within ``tolerance``: the best policy (by the
    objective) among those whose largest gap is the smallest any policy reaches, to within
    :data:`CLOSEST_PRECISION`. Whether some policy meets the constraint at a tolerance only
    grows with it (each window widens), so the smallest such tolerance is found by bisection,
    started from the first of a few widening tolerances that some policy meets."""
    lo, hi, best = tolerance, None, None
    for tol in sorted({tolerance * 2, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0}):
        if tol <= lo:
            continue
        idx, ok = search(sw, tolerance=tol, allow_degenerate=allow_degenerate, **rules)
        if ok:
            hi, best = tol, idx
            break
        lo = tol
    if best is not None:
        while hi - lo > CLOSEST_PRECISION:
            mid = (lo + hi) / 2
            idx, ok = search(sw, tolerance=mid, allow_degenerate=allow_degenerate, **rules)
            if ok:
                hi, best = mid, idx
            else:
                lo = mid
        return best
    rules["constraint"] = "none"
    idx, ok = search(sw, tolerance=0.0, allow_degenerate=allow_degenerate, **rules)
    if ok:
        return idx
    # only all-or-nothing decisions exist (for example every score is the same)
    return search(sw, tolerance=0.0, allow_degenerate=True, **rules)[0]


def apply_policy(thresholds: dict[str, float], y_score, group, groups) -> np.ndarray:
    """Decisions of a policy: ``score >= threshold of the row's group``."""
    t = np.array([thresholds[g] for g in groups], dtype=np.float64)
    return np.asarray(y_score, np.float64) >= t[np.asarray(group, np.int64)]


def evaluate_policy(y_true, y_score, group, groups, thresholds: dict[str, float], *,
                    feature: str = "", constraint: str = "none", objective: str = "accuracy",
                    tolerance: float = 0.01, fp_cost: float = 1.0, fn_cost: float = 1.0,
                    volume: int | None = None, searched_feasible: bool = True,
                    mix: dict[str, Any] | None = None,
                    min_group_size: int = 0, include_small_groups: bool = False,
                    favorable_outcome: str = "positive") -> Policy:
    """Counts, metrics, objective and gap of a given policy on the rows (exact; for a
    randomised policy, ``mix`` = {group: (probability, else_threshold)} or {group: entry as
    :func:`~faircard.decision.mix_entry` writes it}, expected values)."""
    y_true = np.asarray(y_true, bool)
    group = np.asarray(group, np.int64)
    rule = DecisionPolicy.per_group(feature or "group", thresholds, mix=mix)
    p_pos = rule.positive_probability(y_score, group, list(groups))
    counts = expected_counts(group, y_true, p_pos, len(groups))
    sizes = np.bincount(group, minlength=len(groups))
    return policy_from_counts(
        counts, list(groups), thresholds, feature=feature, constraint=constraint,
        objective=objective, tolerance=tolerance, fp_cost=fp_cost, fn_cost=fn_cost,
        volume=volume, searched_feasible=searched_feasible, mix=mix,
        min_group_size=min_group_size,
        included=included_of(sizes, min_group_size, include_small_groups),
        favorable_outcome=favorable_outcome)


def policy_from_counts(counts: np.ndarray, groups: list[str], thresholds: dict[str, float], *,
                       included: np.ndarray, feature: str = "", constraint: str = "none",
                       objective: str = "accuracy", tolerance: float = 0.01,
                       fp_cost: float = 1.0, fn_cost: float = 1.0, volume: int | None = None,
                       searched_feasible: bool = True,
                       mix: dict[str, Any] | None = None,
                       min_group_size: int = 0,
                       favorable_outcome: str = "positive",
                       candidates: int | None = None) -> Policy:
    """The :class:`Policy` of ``thresholds`` (and ``mix``) from its confusion counts
    ``[tn, fp, fn, tp]`` per group (G, 4; expected counts for a randomised policy), with the
    groups held to the constraint in ``included`` (bool, G). ``candidates``: how many
    thresholds per group the search chose among (what its "closest" claim is about)."""
    rule = DecisionPolicy.per_group(feature or "group", thresholds, mix=mix)
    vals = metrics_from_counts(counts)
    included = np.asarray(included, bool)
    if not included.any():
        included = np.ones(len(groups), bool)
    gap = disparity_of(counts[included], constraint)
    # without a constraint no group is held to it: degenerate is then about every group, as
    # in the search
    sel = vals["selection_rate"] if constraint == "none" else vals["selection_rate"][included]
    degenerate = bool(np.all(sel == 0) or np.all(sel == 1))
    # 1e-6: a randomised mix lands on its target rates up to rounding
    feasible = bool(searched_feasible and (constraint == "none" or gap <= tolerance + 1e-6))
    by_group = []
    for i, g in enumerate(groups):
        row = {"feature": feature, "group": g, "threshold": float(thresholds[g])}
        if rule.rules[g].is_randomized:
            row.update(mix_entry(rule.rules[g]))
        row["in_constraint"] = bool(included[i])
        for m, v in vals.items():
            row[m] = int(round(v[i])) if m == "count" else (None if np.isnan(v[i]) else float(v[i]))
        by_group.append(row)
    value = _objective_value(counts, objective, fp_cost, fn_cost)
    costs = {"fp": fp_cost, "fn": fn_cost, "volume": volume} if objective == "cost" or volume \
        else None
    policy = Policy(feature=feature, thresholds=dict(thresholds), constraint=constraint,
                    objective=objective, objective_value=float(value), disparity=float(gap),
                    tolerance=float(tolerance), feasible=feasible, costs=costs, by_group=by_group,
                    degenerate=degenerate, randomized=rule.is_randomized,
                    mix={g: mix_entry(r) for g, r in rule.rules.items() if r.is_randomized},
                    selection_rates={g: float(v) for g, v in
                                     zip(groups, vals["selection_rate"], strict=True)},
                    excluded_groups=[g for g, inc in zip(groups, included, strict=True)
                                     if not inc],
                    min_group_size=int(min_group_size),
                    favorable_outcome=wording(favorable_outcome).favorable_outcome)
    policy.summary = describe(policy, counts, list(groups), searched=not searched_feasible,
                              candidates=candidates)
    return policy


def expected_counts(group: np.ndarray, y_true: np.ndarray, p_pos: np.ndarray,
                    n_groups: int) -> np.ndarray:
    """Confusion counts ``[tn, fp, fn, tp]`` per group (G, 4) when each row is a positive
    decision with probability ``p_pos`` (exact counts for 0/1; expected counts otherwise)."""
    base = np.asarray(group, np.int64) * 4 + (np.asarray(y_true, np.int64) << 1)
    size = n_groups * 4
    out = np.bincount(base + 1, weights=p_pos, minlength=size)
    out += np.bincount(base, weights=1.0 - p_pos, minlength=size)
    out = out.reshape(n_groups, 4)
    rounded = np.rint(out)
    return rounded.astype(np.int64) if np.array_equal(rounded, out) else out


def unchecked(constraint: str) -> str:
    """The sentence for a ``constraint`` whose rates are undefined in every group held to it
    (equal opportunity where none of them has actual positives): its gap is n/a, so it is
    neither met nor missed ("largest gap nan" said nothing)."""
    rates = CONSTRAINTS[constraint]
    named = " and ".join(mid_sentence(LABELS[m]) for m in rates)
    why = "; ".join(dict.fromkeys(UNDEFINED_REASONS[m].removesuffix(" in this group")
                                  for m in rates))
    return (f"It cannot be held to {constraint.replace('_', ' ')}: the {named} "
            f"{'is' if len(rates) == 1 else 'are'} undefined in every group held to it "
            f"({why}), so its largest gap is n/a and no policy meets or misses it.")


def describe(policy: Policy, counts: np.ndarray, groups: list[str], *,
             searched: bool = False, candidates: int | None = None) -> str:
    """Plain-language summary of a policy, in the words of its ``favorable_outcome``.
    ``searched``: the policy is what the search returned when no policy met the constraint
    (else a policy that misses it only "does not meet" it); ``candidates``: how many
    thresholds per group that search chose among (its claims are about those alone)."""
    words = wording(policy.favorable_outcome)
    # a randomised policy is never "one threshold for everyone", even when every group's
    # first threshold is the same (its groups mix it with others, or some do not mix at all)
    same = not policy.randomized and len({round(t, 12) for t in policy.thresholds.values()}) == 1
    if same:
        t = next(iter(policy.thresholds.values()))
        head = f"One threshold for everyone: {fmt_threshold(t)}."
    else:  # every group's threshold, those of groups too small to compare marked so
        head = "Thresholds per group: " + ", ".join(
            f"{g} {fmt_threshold(t)}" + (f" (fewer than {policy.min_group_size:,} people: "
                                         "not compared)" if g in policy.excluded_groups else "")
            for g, t in policy.thresholds.items()) + "."
    obj = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy",
           "cost": "expected cost per decision"}[policy.objective]
    if policy.randomized:
        rules = DecisionPolicy.per_group(policy.feature or "group", policy.thresholds,
                                         mix=policy.mix).rules
        head = ("Randomised: people with the same score in the same group may get different "
                "decisions; " + "; ".join(
                    f"group {g}: {rules[g].describe_mix(words.positive_decision)}"
                    for g in policy.mix) + ". " + head
                + " Figures are expected values over the randomisation.")
    text = f"{head} {obj.capitalize()}: {policy.objective_value:.3f}."
    if policy.degenerate:
        everyone = all(policy.selection_rates[g] == 1 for g in policy.held_groups())
        # a flag is never a selection
        verb = words.positive_decision if words.is_adverse else "selected"
        text += (" Degenerate: every group gets the same decision ("
                 + ("everybody" if everyone else "nobody") + f" is {verb}).")
    elif policy.group_only:
        text += (" Every group gets an all-or-nothing decision ("
                 + "; ".join(f"{g}: {'everybody' if policy.selection_rates[g] > 0.5 else 'nobody'}"
                             f" {words.positive_decision}" for g in policy.held_groups())
                 + "): who is " + words.positive_decision + " depends on the group alone, not "
                 "on the model's scores.")
    if policy.constraint != "none" and np.isnan(policy.disparity):
        text += " " + unchecked(policy.constraint)
    elif policy.constraint != "none":
        status = "meets" if policy.feasible else "cannot meet" if searched else "does not meet"
        text += (f" It {status} {policy.constraint.replace('_', ' ')} within "
                 f"{policy.tolerance:g} (largest gap {policy.disparity:.3f}).")
        if not policy.feasible and searched:
            among = "the" if candidates is None else f"the {candidates:,}"
            text += (" No non-trivial policy (one that does not give every group the same "
                     "all-or-nothing decision) with one threshold per group, each among "
                     f"{among} candidate thresholds searched, meets it; this is the one "
                     "closest to meeting it (no such policy has a smaller largest gap)."
                     if not policy.degenerate else " This is the closest policy found.")
    if kinds := policy.all_or_nothing_groups:
        sizes = dict(zip(groups, counts.sum(axis=1).tolist(), strict=True))
        clause = decided_alone(kinds, sizes, words.positive_decision, quote=False)
        text += f" {clause[0].upper()}{clause[1:]}."
    n = counts.sum(axis=1)
    sizes = dict(zip(groups, np.rint(n).astype(np.int64).tolist(), strict=True))
    if policy.excluded_groups and policy.constraint != "none":
        text += (f" Left out of the constraint as smaller than {policy.min_group_size:,} people: "
                 + groups_with_sizes({g: sizes[g] for g in policy.excluded_groups}) + ".")
    with np.errstate(invalid="ignore", divide="ignore"):
        fn_per_1000 = 1000 * counts[:, 2] / n
        fp_per_1000 = 1000 * counts[:, 1] / n
    # a group too small to compare keeps its figures (the table shows them) with its size and
    # that mark, so that nothing reads them as a gap measured against the others
    small = set(policy.excluded_groups)
    parts = [f"{g}{' (too few to compare)' if g in small else ''}: "
             f"{a:.0f} {words.false_negative} and {b:.0f} {words.false_positive}"
             for g, a, b in zip(groups, fn_per_1000, fp_per_1000, strict=True)]
    text += " Per 1,000 people: " + "; ".join(parts) + "."
    if policy.costs:
        per = policy.objective_value if policy.objective == "cost" else \
            float((counts[:, 1].sum() * policy.costs["fp"] + counts[:, 2].sum() * policy.costs["fn"])
                  / n.sum())
        vol = policy.costs.get("volume")
        total = per * vol if vol else None
        # a total shown as a whole number only when rounding it moves it by under 0.5%
        shown = None if total is None else (f"{total:,.0f}" if abs(total) >= 100
                                            else f"{total:,.2f}")
        if policy.objective == "cost":  # its cost per decision was stated above
            text += f" Expected cost for {vol:,} decisions: {shown}." if vol else ""
        else:
            text += f" Expected cost {per:.3f} per decision"
            text += f", {shown} for {vol:,} decisions." if vol else "."
    return text


def pareto_front(y_true, y_score, group, groups, *, constraint: str, objective: str = "accuracy",
                 tolerances=TOLERANCES, chosen: Policy | None = None,
                 fp_cost: float = 1.0, fn_cost: float = 1.0, **rules):
    """Objective vs disparity over tolerances, plus the best single threshold (tidy frame).
    ``rules``: ``min_group_size``, ``include_small_groups``, ``allow_degenerate`` and
    ``randomized`` as for :func:`choose_policy`."""
    y_score = np.asarray(y_score, np.float64)
    sw = sweep(np.asarray(y_true, bool), y_score, np.asarray(group, np.int64), groups,
               grid_thresholds(y_score))
    return pareto_front_from_sweep(sw, constraint=constraint, objective=objective,
                                   tolerances=tolerances, chosen=chosen, fp_cost=fp_cost,
                                   fn_cost=fn_cost, **rules)


def pareto_front_from_sweep(sw: Sweep, *, constraint: str, objective: str = "accuracy",
                            tolerances=TOLERANCES, chosen: Policy | None = None,
                            fp_cost: float = 1.0, fn_cost: float = 1.0,
                            min_group_size: int = 30, include_small_groups: bool = False,
                            allow_degenerate: bool = False, randomized: bool = False):
    """:func:`pareto_front` from a threshold sweep of the scores (no rows). Every point is
    searched under the same rules as the chosen policy (small groups, degenerate and
    randomised policies), so the point at the chosen tolerance is the chosen policy."""
    import pandas as pd

    rows = []
    for tol in tolerances:
        p = choose_policy_from_sweep(sw, constraint=constraint, objective=objective,
                                     tolerance=tol, fp_cost=fp_cost, fn_cost=fn_cost,
                                     min_group_size=min_group_size,
                                     include_small_groups=include_small_groups,
                                     allow_degenerate=allow_degenerate, randomized=randomized)
        rows.append({"tolerance": tol, "objective_value": p.objective_value,
                     "disparity": p.disparity, "feasible": p.feasible,
                     "is_single_threshold": False, "is_chosen": False})
    single = best_single_from_sweep(sw, objective=objective, constraint=constraint,
                                    fp_cost=fp_cost, fn_cost=fn_cost,
                                    included=included_of(group_sizes(sw), min_group_size,
                                                         include_small_groups),
                                    allow_degenerate=allow_degenerate)
    rows.append({"tolerance": np.nan, "objective_value": single.objective_value,
                 "disparity": single.disparity, "feasible": True, "is_single_threshold": True,
                 "is_chosen": False})
    return with_chosen(pd.DataFrame(rows), chosen)


def with_chosen(front, chosen: Policy | None):
    """The trade-off front with a row for the chosen policy added (a new frame)."""
    import pandas as pd

    if chosen is None:
        return front.copy()
    row = {"tolerance": chosen.tolerance, "objective_value": chosen.objective_value,
           "disparity": chosen.disparity, "feasible": chosen.feasible,
           "is_single_threshold": False, "is_chosen": True}
    return pd.concat([front, pd.DataFrame([row])], ignore_index=True)


def best_single_threshold(y_true, y_score, group, groups, *, objective: str = "accuracy",
                          constraint: str = "none", fp_cost: float = 1.0,
                          fn_cost: float = 1.0) -> Policy:
    """The one threshold for everyone that optimises the objective (e.g. the cost-minimising
    threshold), evaluated with the constraint's gap."""
    y_score = np.asarray(y_score, np.float64)
    sw = sweep(np.asarray(y_true, bool), y_score, np.asarray(group, np.int64), groups,
               grid_thresholds(y_score))
    return best_single_from_sweep(sw, objective=objective, constraint=constraint,
                                  fp_cost=fp_cost, fn_cost=fn_cost)


def best_single_from_sweep(sw: Sweep, *, objective: str = "accuracy", constraint: str = "none",
                           fp_cost: float = 1.0, fn_cost: float = 1.0,
                           included: np.ndarray | None = None,
                           allow_degenerate: bool = True) -> Policy:
    """:func:`best_single_threshold` among the thresholds of a sweep (no rows): the sweep's
    counts summed over groups are those of everyone at each threshold. The constraint's gap
    is measured over the ``included`` groups (default: all). Unless ``allow_degenerate``, a
    threshold at which every group held to the constraint (every group without one) gets
    the same all-or-nothing decision is passed over while any other exists, as the per-group
    search passes such policies over."""
    groups = list(sw.groups)
    included = np.ones(len(groups), bool) if included is None else np.asarray(included, bool)
    total = sw.counts.sum(axis=1)
    tot = total[0]
    totals = np.array([tot.sum(), tot[2] + tot[3], tot[0] + tot[1]], dtype=np.float64)
    gains = _gains(total[:, None, :], objective, totals, fp_cost, fn_cost)[:, 0]
    if not allow_degenerate:
        held = included if constraint != "none" and included.any() else np.ones(len(groups), bool)
        kinds = _trivial(sw.counts)[:, held]
        degenerate = (kinds > 0).all(axis=1) & (kinds == kinds[:, :1]).all(axis=1)
        if not degenerate.all():  # (every threshold is when every score is the same)
            gains = np.where(degenerate, -np.inf, gains)
    i = int(gains.argmax())
    t = float(finite_thresholds(sw)[i])
    return policy_from_counts(sw.counts[i], groups, {g: t for g in groups}, included=included,
                              constraint=constraint, objective=objective, fp_cost=fp_cost,
                              fn_cost=fn_cost)
