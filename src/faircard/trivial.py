"""Decision rules that tell nobody apart: nobody or everybody selected, or each group all-or-nothing.

Under such a rule every gap in selection and error rates between groups is zero or undefined by
construction, so the fairness criteria look perfect while the model is not used at all (or
only the group is). faircard never presents such a rule as a success: findings, the model card,
the pages and the CI gate say what the rule does instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .favorable import wording

_EPS = 1e-12
"""Rates within this of 0 or 1 are all-or-nothing (weighted sums may differ in the last bit)."""


def _rate(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _kind(rate: float | None) -> str | None:
    """"nobody" (rate 0), "everybody" (rate 1) or None (a real choice or undefined)."""
    if rate is None:
        return None
    if rate <= _EPS:
        return "nobody"
    if rate >= 1 - _EPS:
        return "everybody"
    return None


def decided_alone(kinds: Mapping[str, str], sizes: Mapping[str, float], verb: str, *,
                  quote: bool = True) -> str:
    """The clause naming groups that a rule gives one decision whatever their score:
    ``kinds`` {group: "nobody" or "everybody"}, ``sizes`` {group: people}, e.g. "nobody is
    flagged in 'A' and 'B' (6,787 people): each gets the same decision there, so the scores
    tell none of them apart" (names in quotes unless ``quote`` is false)."""
    said = []
    for kind in ("nobody", "everybody"):
        names = [f"'{g}'" if quote else str(g) for g, k in kinds.items() if k == kind]
        if names:
            said.append(f"{kind} is {verb} in "
                        + (names[0] if len(names) == 1 else
                           ", ".join(names[:-1]) + " and " + names[-1]))
    people = sum(sizes[g] for g in kinds)
    return ("; ".join(said) + f" ({people:,.0f} {'person' if people == 1 else 'people'}): each "
            "gets the same decision there, so the scores tell none of them apart")


def _parts(assessment: Any) -> tuple[Mapping[str, Any], list[Mapping[str, Any]], str]:
    """(overall metrics, per-group rows with feature/group/n/is_small_group/selection_rate,
    favourable outcome) of an Assessment or of its JSON document."""
    if hasattr(assessment, "by_group"):
        # the selection rates' rows only (one per feature x group, in by_group_wide's order):
        # pivoting every metric took most of a page's check
        by_group = assessment.by_group
        rates = by_group[by_group["metric"] == "selection_rate"]
        rows = rates[["feature", "group", "n", "is_small_group", "value"]].rename(
            columns={"value": "selection_rate"}).to_dict("records")
        return assessment.overall, rows, assessment.spec.favorable_outcome
    return (assessment.get("overall") or {}, list(assessment.get("by_group") or ()),
            assessment.get("favorable_outcome") or "positive")


def _trivial(assessment: Any) -> tuple[str, Any, str] | None:
    """How the rule fails to tell people apart: ("nobody" or "everybody", the number of
    people, the verb), or ("group", (feature, [(group, kind), ...]), the verb); None when it
    tells them apart."""
    overall, rows, favorable = _parts(assessment)
    verb = wording(favorable).positive_decision
    kind = _kind(_rate(overall.get("selection_rate")))
    if kind is not None:
        return kind, _rate(overall.get("count")), verb
    features: dict[str, list[tuple[str, str | None]]] = {}
    for row in rows:
        if row.get("is_small_group"):
            continue
        features.setdefault(str(row.get("feature")), []).append(
            (str(row.get("group")), _kind(_rate(row.get("selection_rate")))))
    for feature, groups in features.items():
        if len(groups) > 1 and all(k is not None for _, k in groups):
            return "group", (feature, groups), verb
    return None


def tells_nobody_apart(assessment: Any) -> bool:
    """True when nobody, or everybody, gets the positive decision overall: every gap in
    selection and error rates is then zero or undefined by construction, and the gaps in
    precision and its complement only mirror the groups' base rates."""
    found = _trivial(assessment)
    return found is not None and found[0] != "group"


def trivial_decision(assessment: Any) -> str | None:
    """A sentence saying how the assessment's decision rule fails to tell people apart, or
    None when it does tell them apart.

    Trivial: nobody or everybody gets the positive decision overall, or, for some feature,
    every group that is compared (not a small group) gets an all-or-nothing decision, so the
    decision depends on the group alone."""
    found = _trivial(assessment)
    if found is None:
        return None
    kind, detail, verb = found
    if kind != "group":
        people = f" ({'0' if kind == 'nobody' else 'all'} of {detail:,.0f})" if detail else ""
        return (f"The decision rule tells nobody apart: {kind} is {verb}{people}. Every gap "
                "in selection and error rates between groups is then zero or undefined by "
                "construction, and the gaps in accuracy and precision only mirror how common "
                "the positive outcome is in each group: none of this says anything about "
                "fairness.")
    feature, groups = detail
    each = "; ".join(f"'{g}': {k} {verb}" for g, k in groups)
    return (f"The decision rule gives every group of '{feature}' an all-or-nothing "
            f"decision ({each}): who is {verb} depends on the group alone, not on the "
            "model's scores.")


def trivial_label(assessment: Any) -> str:
    """A few words for a table of several models: what a rule that tells nobody apart does
    ("nobody approved", "each group of 'sex' all or nothing"), and that its gaps mean nothing;
    empty for a rule that tells people apart."""
    found = _trivial(assessment)
    if found is None:
        return ""
    kind, detail, verb = found
    what = f"{kind} {verb}" if kind != "group" else \
        f"each group of '{detail[0]}' all or nothing"
    return f"{what}: its gaps say nothing about fairness"


def all_or_nothing(assessment: Any, feature: str) -> bool:
    """True when every compared group of ``feature`` (not a small group) gets an all-or-nothing
    decision (nobody or everybody): its four-fifths rule then passes or fails by construction,
    which says nothing about the model, so it is not reported as passed."""
    _, rows, _ = _parts(assessment)
    kinds = [_kind(_rate(r.get("selection_rate"))) for r in rows
             if str(r.get("feature")) == feature and not r.get("is_small_group")]
    return bool(kinds) and all(k is not None for k in kinds)
