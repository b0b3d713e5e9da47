"""What a set of diagnostics was made for: the data, the outcome, the groups and the decision
rule, with each group's confusion counts under that rule.

A model card states one decision rule; the bias-sources checklist it carries must be evidence
about the same decisions. The command line writes the diagnostics and the card in two runs, so
the diagnostics' JSON says what they were made for and the card refuses evidence made for other
choices (:func:`check_made_for`), naming the first difference.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import FaircardError
from ..favorable import wording

COUNT_TOLERANCE = 1e-6
"""Counts agree within this (expected counts of a randomised policy are sums of floats)."""


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def decision_rule(spec) -> dict[str, Any]:
    """The decisions of ``spec`` as plain data: the policy (without how it was chosen, which
    does not change a decision), or ``{"kind": "predictions"}`` for a column of labels."""
    if spec.policy is None:
        return {"kind": "predictions"}
    rule = spec.policy.to_dict()
    rule.pop("chosen_for", None)
    return rule


def describe_rule(rule: dict[str, Any], favorable_outcome: str | None,
                  column: str | None = None) -> str:
    """A :func:`decision_rule` in words (``favorable_outcome``: what a positive decision is
    for the person, as ``spec.favorable_outcome``; ``column``: the column of predicted
    labels)."""
    if rule.get("kind") == "predictions":
        from ..models_assess import PREDICTION_COLUMN

        if column and column != PREDICTION_COLUMN:
            return f"the predicted labels in column '{column}'"
        return "the model's predicted labels" if column else "a column of predicted labels"
    from ..decision import DecisionPolicy

    text = DecisionPolicy.from_dict(rule).describe(
        positive=wording(favorable_outcome).positive_decision)
    return text[0].lower() + text[1:].rstrip(".")


def made_for(spec, pos_label: Any, counts: dict[str, dict[str, list[float]]],
             dataset_sha256: str | None = None) -> dict[str, Any]:
    """The choices the diagnostics of ``spec`` were made under, with ``counts``: per sensitive
    feature and group, the confusion counts ``[tn, fp, fn, tp]`` of its decisions (expected
    counts under a randomised policy)."""
    return {
        "dataset_sha256": dataset_sha256,
        "target": spec.target,
        "positive_label": _plain(pos_label),
        "favorable_outcome": spec.favorable_outcome,
        "sensitive_features": list(spec.sensitive),
        "bins": {k: b.to_dict() for k, b in spec.bins.items()},
        "min_group_size": int(spec.min_group_size),
        "include_small_groups": bool(spec.include_small_groups),
        "decision_rule": decision_rule(spec),
        "decision_column": spec.score or spec.prediction,
        "counts": {f: {str(g): [float(x) for x in c] for g, c in groups.items()}
                   for f, groups in counts.items()},
    }


def group_counts(y_true: np.ndarray, p_pred: np.ndarray, group: np.ndarray,
                 labels: tuple[str, ...]) -> dict[str, list[float]]:
    """``{group: [tn, fp, fn, tp]}`` from outcomes, probabilities of a positive decision (0/1
    unless randomised) and each row's group index into ``labels``."""
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(p_pred, dtype=np.float64)
    k = len(labels)
    cells = [(1 - y) * (1 - p), (1 - y) * p, y * (1 - p), y * p]
    sums = np.stack([np.bincount(group, weights=w, minlength=k) for w in cells], axis=1)
    return {str(g): [float(x) for x in sums[i]] for i, g in enumerate(labels)}


def _same_label(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def _favourable_text(value: str) -> str:
    return "adverse" if wording(value).is_adverse else "favourable"


def check_made_for(theirs: Any, assessment, dataset_sha256: str | None, source: str) -> None:
    """Raise :class:`FaircardError` unless the diagnostics described by ``theirs`` (the
    ``made_for`` of their JSON) were made for the data, outcome, groups and decisions of
    ``assessment``. ``source`` names the diagnostics in the message, as a plural subject ("The
    diagnostics 'd.json'")."""
    rerun = ("Run 'faircard diagnose' again with the card's data and options, so that the "
             "checklist's evidence is about the decisions the card states.")
    if not isinstance(theirs, dict):
        raise FaircardError(f"{source} do not say which data and decision rule they were made "
                            f"for (written by an older faircard). {rerun}")
    spec = assessment.spec
    ours = made_for(spec, assessment.cube.pos_label, {}, dataset_sha256)

    def differ(what: str, there: Any, here: Any, why: str = "") -> FaircardError:
        return FaircardError(f"{source} were made for other choices than this card ({what}: "
                             f"{there} there, {here} here){why}. {rerun}")

    if theirs.get("dataset_sha256") and dataset_sha256 \
            and theirs["dataset_sha256"] != dataset_sha256:
        raise differ("the dataset's sha256", theirs["dataset_sha256"][:12] + "...",
                     dataset_sha256[:12] + "...")
    if theirs.get("target") != ours["target"]:
        raise differ("the outcome column", repr(theirs.get("target")), repr(ours["target"]))
    if not _same_label(theirs.get("positive_label"), ours["positive_label"]):
        raise differ("the positive outcome", repr(theirs.get("positive_label")),
                     repr(ours["positive_label"]))
    if theirs.get("favorable_outcome") != ours["favorable_outcome"]:
        raise differ("a positive decision", _favourable_text(str(theirs.get(
            "favorable_outcome"))), _favourable_text(ours["favorable_outcome"]))
    if list(theirs.get("sensitive_features") or []) != ours["sensitive_features"]:
        raise differ("the sensitive features", ", ".join(map(str, theirs.get(
            "sensitive_features") or [])) or "none", ", ".join(ours["sensitive_features"]))
    if (theirs.get("bins") or {}) != ours["bins"]:
        raise differ("the bands", theirs.get("bins") or "none", ours["bins"] or "none")
    if theirs.get("min_group_size") != ours["min_group_size"]:
        raise differ("the minimum group size", theirs.get("min_group_size"),
                     ours["min_group_size"])
    if bool(theirs.get("include_small_groups")) != ours["include_small_groups"]:
        raise differ("comparing small groups", "on" if theirs.get("include_small_groups")
                     else "off", "on" if ours["include_small_groups"] else "off")
    if theirs.get("decision_rule") != ours["decision_rule"]:
        try:
            # the favourable outcome is the same on both sides (checked above)
            there = describe_rule(theirs.get("decision_rule") or {}, ours["favorable_outcome"])
        except FaircardError:
            there = "another rule"
        raise differ("the decision rule", f"'{there}'",
                     f"'{describe_rule(ours['decision_rule'], ours['favorable_outcome'])}'")
    _check_counts(theirs.get("counts"), assessment, differ)


def _check_counts(theirs: Any, assessment, differ) -> None:
    """The same decisions: every group's confusion counts agree (another score column or
    model under the same rule decides differently)."""
    if not isinstance(theirs, dict):
        raise differ("the decisions", "not recorded", "counted")
    words = wording(assessment.spec.favorable_outcome)
    for gc in assessment.counts:
        if len(gc.features) != 1:
            continue
        there = theirs.get(gc.feature)
        if not isinstance(there, dict):
            raise differ("the decisions", f"not counted for '{gc.feature}'", "counted")
        for g, c_here in zip(gc.groups, gc.counts, strict=True):
            c_there = there.get(str(g))
            ok = isinstance(c_there, list) and len(c_there) == 4 and all(
                isinstance(x, int | float) and math.isclose(float(x), float(y),
                                                            rel_tol=COUNT_TOLERANCE,
                                                            abs_tol=COUNT_TOLERANCE)
                for x, y in zip(c_there, c_here, strict=True))
            if not ok:
                raise differ(f"the decisions in '{gc.feature}' group '{g}'",
                             _said(c_there, words), _said(list(c_here), words),
                             ": another score column, model or dataset decides differently")


def _said(c: Any, words) -> str:
    """Counts ``[tn, fp, fn, tp]`` in words: people, decisions and outcomes."""
    if not isinstance(c, list) or len(c) != 4:
        return "not counted"
    tn, fp, fn, tp = (float(x) for x in c)
    return (f"{fp + tp:,.0f} of {tn + fp + fn + tp:,.0f} people {words.positive_decision}, "
            f"{fn + tp:,.0f} with the positive outcome")
