"""Assess one or more loaded models on the same data (shared by the CLI and the app).

Each model scores the dataset (its feature columns taken by name); the assessment then uses the
model's score (decision ``score >= threshold``) or, for models without scores, its predicted
labels. Personal-data columns are flagged and may not serve as sensitive features.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .assess import Assessment, assess
from .errors import FaircardError
from .prepare import resolve_pos_label

SCORE_COLUMN = "__faircard_score__"
PREDICTION_COLUMN = "__faircard_prediction__"


@dataclass
class ModelResult:
    """One model's assessment with what is known about the model file."""

    name: str
    info: dict[str, Any]
    assessment: Assessment
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        doc = self.assessment.to_dict()
        return {
            **self.info,
            "name": self.name,
            "warnings": list(self.warnings),
            # the rule every figure was computed under: one threshold, or the per-group
            # policy (its threshold is then null)
            **{k: doc[k] for k in ("threshold", "policy", "n_rows", "n_dropped",
                                   "dropped_reasons", "overall", "by_group", "disparities",
                                   "criteria", "notes")},
        }


def model_info(model) -> dict[str, Any]:
    """Name, file fingerprint, format, type and classes of a loaded model, for reports."""
    return model.info()


def unique_name(name: str, taken) -> str:
    """``name``, or ``name (2)``, ``name (3)``... when it is already in ``taken``."""
    taken = set(taken)
    if name not in taken:
        return name
    k = 2
    while f"{name} ({k})" in taken:
        k += 1
    return f"{name} ({k})"


def model_decision(model, data: pd.DataFrame, *, target: str, pos_label: Any,
                   exclude: list[str], model_positive_class: Any = None):
    """Score ``data`` with ``model``: (column values, "score" or "prediction", ModelCheck).

    Scores are the probability (or decision function) of the model class that stands for
    ``pos_label``; a model without scores gives predictions in the target's labels.
    """
    from .io.models import check_model, score_model

    check = check_model(model, data, target=target, pos_label=pos_label,
                        model_positive_class=model_positive_class)
    scored = score_model(model, data, pos_label=pos_label, exclude=exclude,
                         model_positive_class=model_positive_class)
    if check.has_scores:
        return scored["score"].to_numpy(), "score", check
    classes = list(model.classes)
    positive = classes[check.positive_class_index]
    others = [v for v in pd.unique(data[target].dropna()) if v != pos_label]
    negative = others[0] if others else f"not {pos_label}"
    labels = np.where(scored["prediction"].to_numpy() == positive, pos_label, negative)
    return pd.Series(labels, index=data.index, dtype=object).to_numpy(), "prediction", check


def check_sensitive_not_personal(sensitive: list[str], flags) -> None:
    """Refuse a direct identifier (name, email, ...) as a sensitive feature."""
    flagged = {f.column: f for f in flags}
    for s in sensitive:
        if s in flagged:
            raise FaircardError(
                f"Column '{s}' looks like personal data ({flagged[s].kind}); it cannot be a "
                "sensitive feature because its values would appear in the report. Choose a "
                "group column such as sex, race or an age band."
            )


def assess_models(data: pd.DataFrame, models: list, *, target: str, sensitive: list[str],
                  threshold: float | None = None, pos_label: Any = None,
                  model_positive_class: Any = None, **options: Any) -> list[ModelResult]:
    """Score ``data`` with each loaded model and assess each the same way.

    Models are named by file name, made unique ("pipe.joblib", "pipe.joblib (2)").
    ``model_positive_class`` is the model class that stands for the positive outcome when the
    model's classes differ from the target's labels (default: the class equal to the positive
    label, else class 1 of a 0/1 or False/True model). ``options`` are further keyword
    arguments of :func:`faircard.assess` (bins, reference, min_group_size, ...).
    ``threshold`` None: each model's own cut, 0.5 on probabilities and 0 on a decision
    function (where the model's ``predict`` draws its line).
    """
    if target not in data.columns:
        from .errors import missing_column

        raise missing_column(target, data.columns, "Target column")
    pos = resolve_pos_label(data[target].dropna(), target, pos_label)
    results: list[ModelResult] = []
    for model in models:
        values, kind, check = model_decision(model, data, target=target, pos_label=pos,
                                             exclude=[target, *sensitive],
                                             model_positive_class=model_positive_class)
        frame = data.copy(deep=False)
        notes = []
        if kind == "score":
            frame[SCORE_COLUMN] = values
            cut = threshold
            if cut is None:  # the model's own cut (a policy, if given, decides instead)
                cut = 0.5 if model.facts.has_proba else 0.0
                if not model.facts.has_proba and options.get("policy") is None:
                    notes.append("The model gives no probabilities: its decision function is "
                                 "cut at 0, where the model's own predictions change.")
            decision = {"score": SCORE_COLUMN, "threshold": cut}
        else:
            frame[PREDICTION_COLUMN] = values
            decision = {"prediction": PREDICTION_COLUMN}
        result = assess(frame, target=target, sensitive=sensitive, pos_label=pos, **decision,
                        **options)
        result.notes.extend(notes)
        if check.class_mapping:
            result.notes.append(check.class_mapping)
        name = unique_name(model.name, [r.name for r in results])
        info = {**model_info(model), "name": name}
        results.append(ModelResult(name, info, result, list(model.warnings) + check.warnings))
    return results


def compare_models(results: list[ModelResult], metrics: list[str], feature: str | None = None,
                   criterion: str = "demographic_parity_difference") -> pd.DataFrame:
    """Side-by-side table: one row per model with overall metrics and one criterion.

    Columns ``model``, each metric in ``metrics``, and ``criterion`` for ``feature`` (default:
    the first sensitive feature).
    """
    rows = []
    for r in results:
        a = r.assessment
        f = feature or a.features[0]
        row = {"model": r.name}
        row.update({m: a.overall.get(m) for m in metrics})
        row[criterion] = a.criteria.get(f, {}).get(criterion)
        rows.append(row)
    return pd.DataFrame(rows)
