"""``faircard.assess``: from a table and column choices to one tidy :class:`Assessment`.

The assessment is computed once; charts, tables, the model card and the CLI read from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .counts import GroupCounts, count_by_group, counts_frame, score_metrics
from .cube import Cube
from .decision import DecisionPolicy
from .errors import FaircardError
from .favorable import favorable_rate, wording
from .formatting import counted
from .group_notes import group_notes
from .metrics import (
    ALL_METRICS,
    COUNT_METRICS,
    SCORE_METRICS,
    UNDEFINED_REASONS,
    between_groups,
    metrics_from_counts,
    to_overall,
    worst_and_best,
)
from .prepare import Prepared, check_intersection_size
from .spec import AssessmentSpec, Binning
from .uncertainty import estimate_uncertainty

SCHEMA_VERSION = 1
FOUR_FIFTHS = 0.8
"""Lowest selection-rate ratio that passes; compared with 1e-9 of slack so that 0.6 / 0.75
(0.7999999999999999 in floating point) passes, as it does on paper."""

RANDOMIZED_P_NOTE = (
    "Under a randomised rule the counts are expected values, so the p-values of the "
    "differences between groups are approximate: they test the expected counts as if they had "
    "been observed, leaving out the variation the randomisation itself adds, and where "
    "Fisher's exact test is used (a count expected under equal proportions below 5) it takes "
    "each count rounded to a whole person, so it is not exact there.")

BY_GROUP_BASE = ("feature", "group", "metric", "value", "n", "is_small_group", "reason",
                 "difference_to_reference", "ratio_to_reference")
"""The columns of ``Assessment.by_group`` before the intervals'."""
TEXT_COLUMNS = ("feature", "group", "metric", "reason")

DISPARITY_BASE_COLUMNS = (
    "feature", "metric", "difference", "ratio", "difference_to_overall", "ratio_to_overall",
    "worst_group", "best_group", "worst_value", "best_value", "reference_group",
    "excluded_groups",
)

CRITERIA = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "disparate_impact_ratio",
)


@dataclass
class Assessment:
    """Per-group metrics, disparities and fairness criteria of one model on one dataset.

    ``by_group`` is tidy (one row per feature x group x metric, columns ``feature, group,
    metric, value, n, is_small_group, reason, difference_to_reference, ratio_to_reference``
    and the interval columns :data:`~faircard.uncertainty.BY_GROUP_COLUMNS`);
    ``disparities`` has one row per feature x metric (with
    :data:`~faircard.uncertainty.DISPARITY_COLUMNS`); ``criteria`` maps each feature to its
    fairness criteria. Values are floats (NaN when undefined or not computed; a ratio to a
    reference group whose value is 0 is undefined). The columns are
    the same whether or not bootstrap intervals were asked for.
    """

    spec: AssessmentSpec
    cube: Cube
    """The counts every figure here was computed from (see :mod:`faircard.cube`)."""
    counts: list[GroupCounts]
    metrics: tuple[str, ...]
    overall: dict[str, float]
    by_group: pd.DataFrame
    disparities: pd.DataFrame
    criteria: dict[str, dict[str, Any]]
    reference_groups: dict[str, str]
    notes: list[str] = field(default_factory=list)
    uncertainty: dict[str, Any] = field(default_factory=dict)
    """How the intervals were computed (method, n_boot, confidence) and the criteria's
    bootstrap intervals, ``{feature: {criterion: [low, high]}}``."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Facts about how the assessment was produced (for example the counting engine)."""

    @property
    def n_rows(self) -> int:
        """Rows in the input table."""
        return self.cube.n_input

    @property
    def n_dropped(self) -> int:
        """Rows left out because the target or the prediction/score was missing."""
        return self.cube.n_dropped

    @property
    def features(self) -> list[str]:
        """Partition names: each sensitive feature, then the intersection if any."""
        return [gc.feature for gc in self.counts]

    @property
    def partition_features(self) -> dict[str, tuple[str, ...]]:
        """Each partition name mapped to the sensitive features it crosses."""
        return {gc.feature: gc.features for gc in self.counts}

    @property
    def group_notes(self) -> list[str]:
        """Combinations of groups with nobody in them and values outside their bands."""
        return group_notes(self.cube.index, self.spec)

    @property
    def single_features(self) -> list[str]:
        """Partition names of the sensitive features on their own (no intersection)."""
        return [gc.feature for gc in self.counts if len(gc.features) == 1]

    def counts_frame(self) -> pd.DataFrame:
        """Tidy confusion counts: feature, group, n, tp, fp, tn, fn."""
        return counts_frame(self.counts)

    def by_group_wide(self) -> pd.DataFrame:
        """One row per feature x group, one column per metric (plus n and is_small_group)."""
        info = self.by_group.drop_duplicates(["feature", "group"]).set_index(["feature", "group"])
        wide = self.by_group.pivot(index=["feature", "group"], columns="metric", values="value")
        wide = wide.reindex(index=info.index, columns=list(self.metrics))
        wide["count"] = wide["count"].astype(np.int64)
        wide.insert(0, "n", info["n"])
        wide.insert(1, "is_small_group", info["is_small_group"])
        wide = wide.reset_index()
        wide.columns.name = None
        return wide

    def to_dict(self) -> dict[str, Any]:
        """The JSON document written by ``faircard assess --json`` (NaN as None)."""
        spec = self.spec
        by_group = []
        for (feature, group), rows in self.by_group.groupby(["feature", "group"], sort=False):
            entry: dict[str, Any] = {
                "feature": feature,
                "group": group,
                "n": int(rows["n"].iloc[0]),
                "is_small_group": bool(rows["is_small_group"].iloc[0]),
            }
            undefined = {}
            for m, v, r in zip(rows["metric"], rows["value"], rows["reason"], strict=True):
                entry[m] = int(v) if m == "count" else _num(v)
                if r:
                    undefined[m] = r
            for m, lo, hi in zip(rows["metric"], rows["ci_low"], rows["ci_high"], strict=True):
                entry[f"{m}_ci_low"] = _num(lo)
                entry[f"{m}_ci_high"] = _num(hi)
            sr = rows[rows["metric"] == "selection_rate"].iloc[0]
            entry["favorable_rate"] = _num(favorable_rate(sr["value"], spec.favorable_outcome))
            # one minus an interval swaps its ends
            ends = ("ci_high", "ci_low") if spec.favorable_outcome == "negative" else \
                ("ci_low", "ci_high")
            entry["favorable_rate_ci_low"], entry["favorable_rate_ci_high"] = (
                _num(favorable_rate(sr[c], spec.favorable_outcome)) for c in ends)
            entry["undefined"] = undefined
            entry["unreliable"] = {m: r for m, r in zip(rows["metric"], rows["reliability"],
                                                        strict=True) if r}
            by_group.append(entry)
        disparities = [
            {k: _jsonable(v) for k, v in row.items()}
            for row in self.disparities.to_dict(orient="records")
        ]
        criteria = {
            f: {k: _jsonable(v) for k, v in crit.items()} for f, crit in self.criteria.items()
        }
        return {
            "schema_version": SCHEMA_VERSION,
            "n_rows": self.n_rows,
            "n_dropped": self.n_dropped,
            "dropped_reasons": dict(self.cube.dropped_reasons),
            "target": spec.target,
            "prediction": spec.prediction,
            "score": spec.score,
            "pos_label": _jsonable(self.cube.pos_label),
            "favorable_outcome": spec.favorable_outcome,
            "sensitive_features": list(spec.sensitive),
            "features": self.features,
            "bins": {k: b.to_dict() for k, b in spec.bins.items()},
            "threshold": spec.to_dict()["threshold"],
            "policy": spec.policy.to_dict() if spec.policy is not None else None,
            "min_group_size": spec.min_group_size,
            "include_small_groups": spec.include_small_groups,
            "reference_groups": dict(self.reference_groups),
            "overall": {
                m: int(v) if m == "count" else _num(v) for m, v in self.overall.items()
            },
            "by_group": by_group,
            "disparities": disparities,
            "criteria": criteria,
            "notes": list(self.notes),
            "uncertainty": _jsonable_tree(self.uncertainty),
        }


def _num(v: Any) -> float | int | None:
    if v is None:
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    f = float(v)
    return None if math.isnan(f) else f


def _jsonable_tree(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable_tree(x) for k, x in v.items()}
    return _jsonable(v)


def _jsonable(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, str) or v is None:
        return v
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return _num(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def assess(
    data: pd.DataFrame,
    *,
    target: str,
    sensitive: str | list[str] | tuple[str, ...],
    prediction: str | None = None,
    score: str | None = None,
    threshold: float = 0.5,
    pos_label: Any = None,
    reference: dict[str, str] | None = None,
    bins: dict[str, Binning] | None = None,
    intersection: bool = True,
    min_group_size: int = 30,
    include_small_groups: bool = False,
    n_boot: int = 1000,
    confidence: float = 0.95,
    random_state: int | None = 0,
    policy: DecisionPolicy | dict | None = None,
    favorable_outcome: str = "positive",
) -> Assessment:
    """Assess one model's decisions on ``data`` across the ``sensitive`` features.

    Give either ``prediction`` (a column of predicted labels) or ``score`` (real-valued; the
    decision is ``score >= threshold``, or the rule of ``policy``: a
    :class:`~faircard.decision.DecisionPolicy`, its dict, or the document written by
    ``faircard thresholds --json``, for example one threshold per group). Intervals: Wilson for rates, plus ``n_boot``
    bootstrap replicates of the counts (seeded by ``random_state``) for every metric,
    difference, ratio and criterion, at level ``confidence``. ``favorable_outcome``:
    ``"positive"`` when a positive decision is good for the person (a loan), ``"negative"``
    when it is bad (flagged as high risk); the favourable rate, the disparate impact ratio, the
    four-fifths rule and the best/worst groups follow it. Returns an :class:`Assessment`;
    raises
    :class:`~faircard.errors.FaircardError` for problems with the input.
    """
    spec = AssessmentSpec(
        target=target,
        sensitive=sensitive if isinstance(sensitive, str) else tuple(sensitive),
        prediction=prediction,
        score=score,
        threshold=threshold,
        pos_label=pos_label,
        reference=reference or {},
        bins=bins or {},
        intersection=intersection,
        min_group_size=min_group_size,
        include_small_groups=include_small_groups,
        n_boot=n_boot,
        confidence=confidence,
        random_state=random_state,
        policy=policy,
        favorable_outcome=favorable_outcome,
    )
    return assess_spec(data, spec)


def assess_spec(data: pd.DataFrame, spec: AssessmentSpec) -> Assessment:
    """:func:`assess` with the choices given as an :class:`AssessmentSpec`: the rows of
    ``data`` are counted into a cube (:mod:`faircard.engine.pandas_source`), then assessed."""
    from .engine.pandas_source import count_pandas

    return assess_cube(count_pandas(data, spec), spec)


def assess_prepared(prepared: Prepared, spec: AssessmentSpec) -> Assessment:
    """The assessment of rows already checked and encoded by :func:`~faircard.prepare.prepare`
    (the app keeps them to derive fewer sensitive features): counted into their cube once."""
    from .engine.pandas_source import cube_of

    return assess_cube(cube_of(prepared), spec)


def assess_cube(cube: Cube, spec: AssessmentSpec, *, recorded: bool = False) -> Assessment:
    """The assessment of ``spec`` from a source's counts cube (no row is read). ``recorded``:
    the cube a record keeps, assessed as it was recorded, so the limits on an intersection's
    groups and on cells (:func:`~faircard.prepare.check_intersection_size`), which new
    assessments meet, do not apply."""
    if not recorded and len(cube.index.features) > 1:
        check_intersection_size(cube.index.features, cube.n_cells, spec.intersection,
                                spec.n_boot)
    partitions = cube.partitions(spec.intersection)
    memo = cube.memo
    key = ("counts", spec.intersection)
    if key not in memo:
        memo[key] = count_by_group(cube, spec.intersection)
    counts = memo[key]
    use_score = cube.scores is not None
    metric_names = ALL_METRICS if use_score else COUNT_METRICS
    notes: list[str] = []
    if spec.policy is not None and spec.policy.is_randomized:
        notes.append(spec.policy.describe(
            positive=wording(spec.favorable_outcome).positive_decision))
        notes.append(RANDOMIZED_P_NOTE)
    if cube.n_dropped:
        detail = ", ".join(f"{v:,} with {k}" for k, v in cube.dropped_reasons.items())
        notes.append(f"{counted(cube.n_dropped, 'row was', 'rows were')} left out ({detail}).")
    notes.extend(group_notes(cube.index, spec))
    score_vals = None
    if use_score:
        key = ("score_metrics", spec.intersection)
        if key not in memo:
            memo[key] = score_metrics(cube, partitions)
        score_vals = memo[key]
    if use_score and not cube.scores.is_probability:
        notes.append(
            "Scores are not probabilities in [0, 1], so Brier score and log loss are not reported."
        )

    total = np.array([gc.counts for gc in counts[:1]]).sum(axis=(0, 1))
    overall_vals = metrics_from_counts(total)
    overall = {m: float(overall_vals[m]) for m in COUNT_METRICS}
    if score_vals is not None:
        for m in SCORE_METRICS:
            overall[m] = float(score_vals["overall"][m][0])

    reference_groups: dict[str, str] = {}
    columns: dict[str, list] = {name: [] for name in BY_GROUP_BASE}
    disparity_rows = []
    criteria: dict[str, dict[str, Any]] = {}
    for gc in counts:
        vals = metrics_from_counts(gc.counts)
        if score_vals is not None:
            vals.update(score_vals[gc.feature])
        n = gc.n
        small = n < spec.min_group_size
        ref = _reference_group(gc, spec.reference.get(gc.feature))
        reference_groups[gc.feature] = gc.groups[ref]
        included = np.ones(len(gc.groups), dtype=bool) if spec.include_small_groups else ~small
        excluded = [g for g, inc in zip(gc.groups, included, strict=True) if not inc]
        enough = included.sum() >= 2
        for m in metric_names:
            v = np.asarray(vals[m], dtype=np.float64)
            reasons = _reasons(m, v)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio_ref = v / v[ref]
            # one frame at the end, from the columns of every feature x metric
            for name, part in (
                ("feature", [gc.feature] * len(v)),
                ("group", list(gc.groups)),
                ("metric", [m] * len(v)),
                ("value", v),
                ("n", n.astype(np.int64)),  # people: rounded back under a randomised rule
                ("is_small_group", small),
                ("reason", reasons),
                ("difference_to_reference", v - v[ref]),
                # a ratio to a reference value of 0 is undefined (NaN), never infinite
                ("ratio_to_reference", np.where(np.isnan(v) | (v[ref] == 0), np.nan, ratio_ref)),
            ):
                columns[name].append(part)
            if m == "count":
                continue
            vi = np.where(included, v, np.nan)
            if enough:
                diff, ratio = between_groups(vi)
                d_over, r_over = to_overall(vi, overall.get(m, np.nan))
                # one group alone with a value has nobody to be worse or better than
                worst, best = (worst_and_best(vi, m, spec.favorable_outcome)
                               if np.count_nonzero(~np.isnan(vi)) >= 2 else (None, None))
            else:
                diff = ratio = d_over = r_over = np.nan
                worst = best = None
            disparity_rows.append(
                {
                    "feature": gc.feature,
                    "metric": m,
                    "difference": diff,
                    "ratio": ratio,
                    "difference_to_overall": d_over,
                    "ratio_to_overall": r_over,
                    "worst_group": None if worst is None else gc.groups[worst],
                    "best_group": None if best is None else gc.groups[best],
                    "worst_value": np.nan if worst is None else float(v[worst]),
                    "best_value": np.nan if best is None else float(v[best]),
                    "reference_group": gc.groups[ref],
                    "excluded_groups": excluded,
                }
            )
        criteria[gc.feature] = _criteria(vals, included if enough else None,
                                         spec.favorable_outcome)
        if not enough:
            notes.append(
                f"'{gc.feature}': fewer than two groups have at least {spec.min_group_size:,} rows, "
                "so groups are not compared."
            )
        elif excluded:
            notes.append(
                f"'{gc.feature}': "
                + counted(len(excluded), f"group with fewer than {spec.min_group_size:,} rows is",
                          f"groups with fewer than {spec.min_group_size:,} rows are")
                + f" left out of comparisons: {', '.join(excluded[:5])}"
                + ("..." if len(excluded) > 5 else "")
                + "."
            )

    by_group = pd.DataFrame({
        name: [x for part in parts for x in part] if name in TEXT_COLUMNS
        else np.concatenate(parts) for name, parts in columns.items()})
    disparities = pd.DataFrame(disparity_rows, columns=DISPARITY_BASE_COLUMNS)
    intervals = estimate_uncertainty(cube, spec, counts, by_group, disparities, spec.n_boot,
                                     spec.confidence, spec.random_state)
    return Assessment(
        spec=spec,
        cube=cube,
        counts=counts,
        metrics=tuple(metric_names),
        overall=overall,
        by_group=pd.concat([by_group, intervals.by_group], axis=1),
        disparities=pd.concat([disparities, intervals.disparities], axis=1),
        criteria=criteria,
        reference_groups=reference_groups,
        notes=notes,
        uncertainty=intervals.summary,
    )


def _reasons(metric: str, values: np.ndarray) -> list[str]:
    reason = UNDEFINED_REASONS.get(metric, "undefined")
    return [reason if np.isnan(x) else "" for x in values]


def _reference_group(gc: GroupCounts, chosen: str | None) -> int:
    if chosen is None:
        return int(np.argmax(gc.n))
    if chosen not in gc.groups:
        shown = ", ".join(gc.groups[:20])
        raise FaircardError(
            f"Reference group '{chosen}' does not exist in '{gc.feature}'. Choose one of: {shown}."
        )
    return gc.groups.index(chosen)


def _criteria(vals: dict[str, np.ndarray], included: np.ndarray | None,
              favorable_outcome: str = "positive") -> dict[str, Any]:
    """Fairness criteria over the included groups. ``disparate_impact_ratio`` is the lowest
    favourable rate over the highest (the share *not* flagged when a positive decision is
    adverse); the four-fifths rule holds when it is at least 0.8."""
    if included is None:
        out = {c: np.nan for c in CRITERIA}
        out["passes_four_fifths"] = None
        return out

    def pick(m: str) -> np.ndarray:
        return np.where(included, np.asarray(vals[m], dtype=np.float64), np.nan)

    sr_d, sr_r = between_groups(pick("selection_rate"))
    tpr_d, tpr_r = between_groups(pick("true_positive_rate"))
    fpr_d, fpr_r = between_groups(pick("false_positive_rate"))
    _, di_r = between_groups(favorable_rate(pick("selection_rate"), favorable_outcome))
    # equalized odds is the worse of the two gaps: with one of them unknown (no two compared
    # groups have actual positives, or actual negatives) the other is only a bound on it
    return {
        "demographic_parity_difference": sr_d,
        "demographic_parity_ratio": sr_r,
        "equalized_odds_difference": max(tpr_d, fpr_d)
        if not (np.isnan(tpr_d) or np.isnan(fpr_d))
        else np.nan,
        # a ratio of 0 / 0 (both groups at 0) leaves the other ratio, as before
        "equalized_odds_ratio": float(np.nanmin([tpr_r, fpr_r]))
        if not (np.isnan(tpr_d) or np.isnan(fpr_d) or (np.isnan(tpr_r) and np.isnan(fpr_r)))
        else np.nan,
        "equal_opportunity_difference": tpr_d,
        "equal_opportunity_ratio": tpr_r,
        "disparate_impact_ratio": di_r,
        "passes_four_fifths": None if np.isnan(di_r) else bool(di_r >= FOUR_FIFTHS - 1e-9),
    }
