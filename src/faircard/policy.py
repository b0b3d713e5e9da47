"""Deterministic per-group thresholds under a fairness constraint, and the trade-off front.

Each group gets one threshold (no randomisation): a row is positive when its score is at or
above its group's threshold. The search works on each group's threshold sweep. For a candidate
level ``L`` of the constrained metric, every group independently takes the threshold that
maximises its share of the objective among those whose metric lies in ``[L, L + tolerance]``;
objectives (accuracy, balanced accuracy, expected cost) are sums over groups, so the best
policy for ``L`` is exact, and the best ``L`` is found by scanning all levels at once.
Equalized odds scans pairs of (TPR, FPR) levels. Results are re-evaluated on the rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .decision import DecisionPolicy
from .errors import FaircardError
from .metrics import metrics_from_counts
from .thresholds import Sweep, grid_thresholds, sweep

CONSTRAINTS = {
    "none": (),
    "demographic_parity": ("selection_rate",),
    "equal_opportunity": ("true_positive_rate",),
    "false_positive_rate_parity": ("false_positive_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
    "equal_accuracy": ("accuracy",),
}
OBJECTIVES = ("accuracy", "balanced_accuracy", "cost")
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

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["thresholds"] = {g: _json_float(t) for g, t in self.thresholds.items()}
        return d

    def decision_policy(self) -> DecisionPolicy:
        """The decision rule alone (what assess, the card and the app apply)."""
        return DecisionPolicy.per_group(
            self.feature, self.thresholds,
            chosen_for={"constraint": self.constraint, "objective": self.objective,
                        "tolerance": self.tolerance})


def _json_float(t: float) -> float | str:
    return "inf" if np.isinf(t) else float(t)


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
        gaps.append(float(v.max() - v.min()) if v.size else np.nan)
    return float(np.nanmax(gaps)) if gaps else np.nan


def _levels(values: np.ndarray, tol: float, n_max: int = 400) -> np.ndarray:
    """Candidate window starts: every attained value (and value - tol), thinned to n_max."""
    v = values[~np.isnan(values)]
    cand = np.unique(np.concatenate([v, v - tol]))
    cand = cand[(cand >= -tol) & (cand <= 1)]
    if len(cand) > n_max:
        cand = np.unique(np.quantile(cand, np.linspace(0, 1, n_max)))
    return cand


def _best_per_level(metric: np.ndarray, gains: np.ndarray, levels: np.ndarray, tol: float):
    """For each level, each group's best gain with metric in [L, L + tol]: (n_levels, G)."""
    # metric, gains: (K, G); result via broadcasting (n_levels, K, G) in chunks
    out_gain = np.full((len(levels), metric.shape[1]), -np.inf)
    out_idx = np.zeros((len(levels), metric.shape[1]), dtype=np.int64)
    chunk = max(1, int(4e7 // max(metric.size, 1)))
    for s in range(0, len(levels), chunk):
        lv = levels[s:s + chunk, None, None]
        ok = (metric[None] >= lv - 1e-12) & (metric[None] <= lv + tol + 1e-12)
        g = np.where(ok, gains[None], -np.inf)
        out_idx[s:s + chunk] = g.argmax(axis=1)
        out_gain[s:s + chunk] = g.max(axis=1)
    return out_gain, out_idx


def search(sw: Sweep, constraint: str, objective: str, tolerance: float,
           fp_cost: float = 1.0, fn_cost: float = 1.0) -> tuple[np.ndarray, bool]:
    """Indices into ``sw.thresholds`` (one per group) of the best policy, and feasibility."""
    if constraint not in CONSTRAINTS:
        raise FaircardError(f"Unknown constraint '{constraint}'. Choose one of: "
                            f"{', '.join(CONSTRAINTS)}.")
    if objective not in OBJECTIVES:
        raise FaircardError(f"Unknown objective '{objective}'. Choose one of: "
                            f"{', '.join(OBJECTIVES)}.")
    if not tolerance >= 0:
        raise FaircardError("The tolerance must be zero or a positive number, e.g. 0.01.")
    counts = sw.counts
    tot = counts[0].sum(axis=0)
    totals = np.array([tot.sum(), tot[2] + tot[3], tot[0] + tot[1]], dtype=np.float64)
    gains = _gains(counts, objective, totals, fp_cost, fn_cost)
    names = CONSTRAINTS[constraint]
    if not names:
        return gains.argmax(axis=0), True
    vals = metrics_from_counts(counts)
    if len(names) == 1:
        m = vals[names[0]]
        levels = _levels(m, tolerance)
        best_gain, best_idx = _best_per_level(m, gains, levels, tolerance)
        total = best_gain.sum(axis=1)
        if np.isfinite(total).any():
            i = int(np.argmax(total))
            return best_idx[i], True
        return None, False
    # equalized odds: pairs of TPR and FPR levels
    tpr, fpr = vals["true_positive_rate"], vals["false_positive_rate"]
    best = (-np.inf, None)
    for lt in _levels(tpr, tolerance, n_max=400):
        in_t = (tpr >= lt - 1e-12) & (tpr <= lt + tolerance + 1e-12)
        if not in_t.any(axis=0).all():
            continue
        g2 = np.where(in_t, gains, -np.inf)
        f2 = np.where(in_t, fpr, np.nan)
        levels = _levels(f2, tolerance, n_max=400)
        bg, bi = _best_per_level(np.where(in_t, fpr, np.inf), g2, levels, tolerance)
        total = bg.sum(axis=1)
        if np.isfinite(total).any():
            i = int(np.argmax(total))
            if total[i] > best[0]:
                best = (total[i], bi[i])
    if best[1] is None:
        return None, False
    return best[1], True


def choose_policy(y_true, y_score, group, groups, *, feature: str = "", constraint: str = "none",
                  objective: str = "accuracy", tolerance: float = 0.01, fp_cost: float = 1.0,
                  fn_cost: float = 1.0, volume: int | None = None,
                  n_thresholds: int = 1001) -> Policy:
    """The best deterministic per-group thresholds under ``constraint`` within ``tolerance``.

    When no policy meets the constraint, the closest one (smallest gap) is returned with
    ``feasible=False``.
    """
    y_true = np.asarray(y_true, bool)
    y_score = np.asarray(y_score, np.float64)
    group = np.asarray(group, np.int64)
    thresholds = grid_thresholds(y_score, n_thresholds)
    sw = sweep(y_true, y_score, group, groups, thresholds)
    idx, feasible = search(sw, constraint, objective, tolerance, fp_cost, fn_cost)
    if idx is None:
        idx = _closest(sw, constraint, objective, tolerance, fp_cost, fn_cost)
    chosen = {g: float(sw.thresholds[i]) for g, i in zip(groups, idx, strict=True)}
    return evaluate_policy(y_true, y_score, group, groups, chosen, feature=feature,
                           constraint=constraint, objective=objective, tolerance=tolerance,
                           fp_cost=fp_cost, fn_cost=fn_cost, volume=volume,
                           searched_feasible=feasible)


def _closest(sw, constraint, objective, tolerance, fp_cost, fn_cost):
    for tol in (tolerance * 2, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0):
        idx, ok = search(sw, constraint, objective, tol, fp_cost, fn_cost)
        if ok:
            return idx
    return search(sw, "none", objective, 0.0, fp_cost, fn_cost)[0]


def apply_policy(thresholds: dict[str, float], y_score, group, groups) -> np.ndarray:
    """Decisions of a policy: ``score >= threshold of the row's group``."""
    t = np.array([thresholds[g] for g in groups], dtype=np.float64)
    return np.asarray(y_score, np.float64) >= t[np.asarray(group, np.int64)]


def evaluate_policy(y_true, y_score, group, groups, thresholds: dict[str, float], *,
                    feature: str = "", constraint: str = "none", objective: str = "accuracy",
                    tolerance: float = 0.01, fp_cost: float = 1.0, fn_cost: float = 1.0,
                    volume: int | None = None, searched_feasible: bool = True) -> Policy:
    """Counts, metrics, objective and gap of a given policy on the rows (exact)."""
    from .counts import count_cells

    y_true = np.asarray(y_true, bool)
    y_pred = apply_policy(thresholds, y_score, group, groups)
    counts = count_cells(np.asarray(group, np.int64), y_true, y_pred, len(groups))
    vals = metrics_from_counts(counts)
    gap = disparity_of(counts, constraint)
    feasible = bool(searched_feasible and (constraint == "none" or gap <= tolerance + 1e-9))
    by_group = []
    for i, g in enumerate(groups):
        row = {"feature": feature, "group": g, "threshold": _json_float(thresholds[g])}
        for m, v in vals.items():
            row[m] = int(v[i]) if m == "count" else (None if np.isnan(v[i]) else float(v[i]))
        by_group.append(row)
    value = _objective_value(counts, objective, fp_cost, fn_cost)
    costs = {"fp": fp_cost, "fn": fn_cost, "volume": volume} if objective == "cost" or volume \
        else None
    policy = Policy(feature=feature, thresholds=dict(thresholds), constraint=constraint,
                    objective=objective, objective_value=float(value), disparity=float(gap),
                    tolerance=float(tolerance), feasible=feasible, costs=costs, by_group=by_group)
    policy.summary = describe(policy, counts, list(groups))
    return policy


def describe(policy: Policy, counts: np.ndarray, groups: list[str]) -> str:
    """Plain-language summary of a policy."""
    same = len({round(t, 12) for t in policy.thresholds.values()}) == 1
    if same:
        t = next(iter(policy.thresholds.values()))
        head = f"One threshold for everyone: {t:.3g}."
    else:
        head = "Thresholds per group: " + ", ".join(
            f"{g} {t:.3g}" for g, t in policy.thresholds.items()) + "."
    obj = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy",
           "cost": "expected cost per decision"}[policy.objective]
    text = f"{head} {obj.capitalize()}: {policy.objective_value:.3f}."
    if policy.constraint != "none":
        status = "meets" if policy.feasible else "cannot meet"
        text += (f" It {status} {policy.constraint.replace('_', ' ')} within "
                 f"{policy.tolerance:g} (largest gap {policy.disparity:.3f}).")
        if not policy.feasible:
            text += " This is the closest policy found."
    n = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        fn_per_1000 = 1000 * counts[:, 2] / n
        fp_per_1000 = 1000 * counts[:, 1] / n
    parts = [f"{g}: {a:.0f} wrongly denied and {b:.0f} wrongly approved"
             for g, a, b in zip(groups, fn_per_1000, fp_per_1000, strict=True)]
    text += " Per 1,000 people: " + "; ".join(parts) + "."
    if policy.costs:
        per = policy.objective_value if policy.objective == "cost" else \
            float((counts[:, 1].sum() * policy.costs["fp"] + counts[:, 2].sum() * policy.costs["fn"])
                  / n.sum())
        vol = policy.costs.get("volume")
        text += f" Expected cost {per:.2f} per decision"
        text += f", {per * vol:,.0f} for {vol:,} decisions." if vol else "."
    return text


def pareto_front(y_true, y_score, group, groups, *, constraint: str, objective: str = "accuracy",
                 tolerances=(0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2), chosen: Policy | None = None,
                 fp_cost: float = 1.0, fn_cost: float = 1.0):
    """Objective vs disparity over tolerances, plus the best single threshold (tidy frame)."""
    import pandas as pd

    rows = []
    for tol in tolerances:
        p = choose_policy(y_true, y_score, group, groups, constraint=constraint,
                          objective=objective, tolerance=tol, fp_cost=fp_cost, fn_cost=fn_cost)
        rows.append({"tolerance": tol, "objective_value": p.objective_value,
                     "disparity": p.disparity, "feasible": p.feasible,
                     "is_single_threshold": False, "is_chosen": False})
    single = best_single_threshold(y_true, y_score, group, groups, objective=objective,
                                   constraint=constraint, fp_cost=fp_cost, fn_cost=fn_cost)
    rows.append({"tolerance": np.nan, "objective_value": single.objective_value,
                 "disparity": single.disparity, "feasible": True, "is_single_threshold": True,
                 "is_chosen": False})
    if chosen is not None:
        rows.append({"tolerance": chosen.tolerance, "objective_value": chosen.objective_value,
                     "disparity": chosen.disparity, "feasible": chosen.feasible,
                     "is_single_threshold": False, "is_chosen": True})
    return pd.DataFrame(rows)


def best_single_threshold(y_true, y_score, group, groups, *, objective: str = "accuracy",
                          constraint: str = "none", fp_cost: float = 1.0,
                          fn_cost: float = 1.0) -> Policy:
    """The one threshold for everyone that optimises the objective (e.g. the cost-minimising
    threshold), evaluated with the constraint's gap."""
    y_score = np.asarray(y_score, np.float64)
    th = grid_thresholds(y_score)
    sw = sweep(np.asarray(y_true, bool), y_score, np.zeros(len(y_score), np.int64), ["all"], th)
    tot = sw.counts[0].sum(axis=0)
    totals = np.array([tot.sum(), tot[2] + tot[3], tot[0] + tot[1]], dtype=np.float64)
    i = int(_gains(sw.counts, objective, totals, fp_cost, fn_cost)[:, 0].argmax())
    t = float(th[i])
    return evaluate_policy(y_true, y_score, group, groups, {g: t for g in groups},
                           constraint=constraint, objective=objective, fp_cost=fp_cost,
                           fn_cost=fn_cost)
