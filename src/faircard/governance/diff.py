"""What changed between two assessments (a record and its baseline): per group, per fairness
criterion and overall, with intervals.

Both sides are assessment documents (``Assessment.to_dict()``, as the audit store keeps them),
so a diff needs no data. Each side keeps its own interval (Wilson for a group's rates,
bootstrap for a criterion, when the assessment computed them); the interval of the *change* is
the MOVER combination of the two (Newcombe's hybrid score interval when both sides are Wilson
intervals), which assumes the two assessments come from independent samples. On the same
dataset (same sha256) the change is the model's or the choices', not sampling noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import FaircardError
from .records import as_document

CRITERIA = ("demographic_parity_difference", "demographic_parity_ratio",
            "equalized_odds_difference", "equalized_odds_ratio",
            "equal_opportunity_difference", "equal_opportunity_ratio")
"""Criteria compared; for ``*_difference`` lower is fairer, for ``*_ratio`` higher is."""
GROUP_COLUMNS = ("feature", "group", "metric", "n_base", "n_new", "base", "new", "change",
                 "change_ci_low", "change_ci_high", "base_ci_low", "base_ci_high", "new_ci_low",
                 "new_ci_high")
CRITERIA_COLUMNS = ("feature", "criterion", "base", "new", "change", "regression",
                    "change_ci_low", "change_ci_high", "base_ci_low", "base_ci_high",
                    "new_ci_low", "new_ci_high")
OVERALL_COLUMNS = ("metric", "base", "new", "change")


@dataclass(frozen=True)
class AssessmentDiff:
    """Tidy tables of changes from ``base`` to ``new`` (``change = new - base``; NaN when
    either side is undefined).

    ``groups``: one row per feature x group x metric present on both sides; ``criteria``: one
    row per feature x criterion, with ``regression`` = how much less fair the new one is
    (positive: worse); ``overall``: the overall metrics. ``only_base``/``only_new``: features or
    groups found on one side only, as ``"feature: group"`` strings.
    """

    groups: pd.DataFrame
    criteria: pd.DataFrame
    overall: pd.DataFrame
    only_base: tuple[str, ...]
    only_new: tuple[str, ...]
    confidence: tuple[float | None, float | None] = (None, None)
    """The confidence level of each side's intervals (base, new), None when not stated."""

    def intervals_named(self) -> str:
        """The intervals of the changes in words: "95% intervals" when both sides' intervals
        have that level, else what the two levels are (a change's interval combines both)."""
        base, new = self.confidence
        if base is not None and base == new:
            return f"{100 * base:g}% intervals"
        said = ", ".join(f"{'the baseline' if i == 0 else 'this record'} at "
                         + ("an unstated level" if c is None else f"{100 * c:g}%")
                         for i, c in enumerate(self.confidence))
        return f"intervals (combining two levels: {said})"

    def worst_regression(self) -> pd.Series | None:
        """The criteria row that got most worse, or None when none is defined on both sides."""
        rows = self.criteria.dropna(subset=["regression"])
        return None if rows.empty else rows.loc[rows["regression"].idxmax()]

    def to_dict(self) -> dict[str, Any]:
        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [{k: _json(v) for k, v in row.items()} for row in frame.to_dict("records")]

        return {"groups": records(self.groups), "criteria": records(self.criteria),
                "overall": records(self.overall), "only_base": list(self.only_base),
                "only_new": list(self.only_new)}


def _json(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else math.nan


def mover_interval(base: float, base_low: float, base_high: float, new: float, new_low: float,
                   new_high: float) -> tuple[float, float]:
    """Interval of ``new - base`` from each side's estimate and interval (MOVER, Zou & Donner
    2008; with Wilson intervals this is Newcombe's hybrid score interval). NaN when an input
    is missing."""
    values = (base, base_low, base_high, new, new_low, new_high)
    if any(not math.isfinite(v) for v in values):
        return math.nan, math.nan
    change = new - base
    low = change - math.sqrt((new - new_low) ** 2 + (base_high - base) ** 2)
    high = change + math.sqrt((new_high - new) ** 2 + (base - base_low) ** 2)
    return low, high


def _interval(entry: Mapping[str, Any], key: str) -> tuple[float, float]:
    return _num(entry.get(f"{key}_ci_low")), _num(entry.get(f"{key}_ci_high"))


def _groups(base: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[pd.DataFrame, list, list]:
    def index(doc: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
        return {(str(e["feature"]), str(e["group"])): e for e in doc.get("by_group") or ()}

    left, right = index(base), index(new)
    metrics = [m for m in (base.get("overall") or {}) if m in (new.get("overall") or {})
               and m != "count"]
    rows = []
    for key in [k for k in left if k in right]:
        a, b = left[key], right[key]
        for metric in metrics:
            va, vb = _num(a.get(metric)), _num(b.get(metric))
            (la, ha), (lb, hb) = _interval(a, metric), _interval(b, metric)
            low, high = mover_interval(va, la, ha, vb, lb, hb)
            rows.append((*key, metric, a.get("n"), b.get("n"), va, vb, vb - va, low, high,
                         la, ha, lb, hb))
    only_base = [f"{f}: {g}" for f, g in left if (f, g) not in right]
    only_new = [f"{f}: {g}" for f, g in right if (f, g) not in left]
    return pd.DataFrame(rows, columns=list(GROUP_COLUMNS)), only_base, only_new


def _criteria_interval(doc: Mapping[str, Any], feature: str, criterion: str
                       ) -> tuple[float, float]:
    found = (((doc.get("uncertainty") or {}).get("criteria") or {}).get(feature) or {}) \
        .get(criterion)
    if isinstance(found, list | tuple) and len(found) == 2:
        return _num(found[0]), _num(found[1])
    return math.nan, math.nan


def _criteria(base: Mapping[str, Any], new: Mapping[str, Any]) -> pd.DataFrame:
    left, right = base.get("criteria") or {}, new.get("criteria") or {}
    rows = []
    for feature in [f for f in left if f in right]:
        for criterion in CRITERIA:
            va, vb = _num(left[feature].get(criterion)), _num(right[feature].get(criterion))
            la, ha = _criteria_interval(base, feature, criterion)
            lb, hb = _criteria_interval(new, feature, criterion)
            low, high = mover_interval(va, la, ha, vb, lb, hb)
            change = vb - va
            regression = change if criterion.endswith("_difference") else -change
            rows.append((feature, criterion, va, vb, change, regression, low, high,
                         la, ha, lb, hb))
    return pd.DataFrame(rows, columns=list(CRITERIA_COLUMNS))


def diff_assessments(base: Any, new: Any) -> AssessmentDiff:
    """The changes from the assessment ``base`` (e.g. a record's baseline) to ``new``: each an
    :class:`~faircard.assess.Assessment` or its ``to_dict()`` (as :meth:`AuditStore.assessment`
    returns it). Raises :class:`FaircardError` when they share no feature."""
    a, b = as_document(base), as_document(new)
    shared = [f for f in (a.get("criteria") or {}) if f in (b.get("criteria") or {})]
    if not shared:
        raise FaircardError(
            "The two assessments have no sensitive feature in common (the first has "
            f"{', '.join(a.get('criteria') or {}) or 'none'}, the second "
            f"{', '.join(b.get('criteria') or {}) or 'none'}), so there is nothing to compare."
        )
    groups, only_base, only_new = _groups(a, b)
    overall = [(m, _num(a["overall"][m]), _num(b["overall"][m]),
                _num(b["overall"][m]) - _num(a["overall"][m]))
               for m in a["overall"] if m in b["overall"]]
    return AssessmentDiff(groups=groups, criteria=_criteria(a, b),
                          overall=pd.DataFrame(overall, columns=list(OVERALL_COLUMNS)),
                          only_base=tuple(only_base), only_new=tuple(only_new),
                          confidence=(_confidence(a), _confidence(b)))


def _confidence(doc: Mapping[str, Any]) -> float | None:
    level = (doc.get("uncertainty") or {}).get("confidence")
    return float(level) if isinstance(level, int | float) and not isinstance(level, bool) \
        else None


def diff_records(store: Any, base_id: int | str, new_id: int | str) -> AssessmentDiff:
    """:func:`diff_assessments` of two records of an :class:`AuditStore`."""
    return diff_assessments(store.assessment(base_id), store.assessment(new_id))


def model_name_of(record: Any) -> str:
    """The name of what a record assessed: its model's name, or else its score or prediction
    column (how the app names an assessment without a model file)."""
    if record.models:
        return str(record.models[0]["name"])
    return str(record.spec.get("score") or record.spec.get("prediction") or "")


def default_baseline(records: Iterable[Any], name: str) -> int | None:
    """The id of the newest record whose model (or score or prediction column) is ``name``,
    the record a new assessment of it is naturally compared with; None when there is none."""
    same = [r.id for r in records if model_name_of(r) == name]
    return max(same) if same else None
