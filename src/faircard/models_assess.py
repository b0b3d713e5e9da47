"""Assess one or more loaded models on the same data (shared by the CLI and the app).

Each model scores the dataset (its feature columns taken by name); the assessment then uses the
model's score (decision ``score >= threshold``) or, for models without scores, its predicted
labels. Personal-data columns are flagged and may not serve as sensitive features.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
            **{k: doc[k] for k in ("threshold", "overall", "by_group", "disparities", "criteria",
                                   "notes")},
        }


def model_info(model) -> dict[str, Any]:
    """Name, file fingerprint, format and type of a loaded model, for reports."""
    return {
        "name": model.name,
        "file": model.filename,
        "sha256": model.sha256,
        "format": model.format,
        "type": model.model_type,
        "sklearn_version_saved": model.sklearn_version_saved,
    }


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
                  threshold: float = 0.5, pos_label: Any = None,
                  **options: Any) -> list[ModelResult]:
    """Score ``data`` with each loaded model and assess each the same way.

    ``options`` are further keyword arguments of :func:`faircard.assess` (bins, reference,
    min_group_size, ...).
    """
    from .io.models import check_model, score_model

    if target not in data.columns:
        from .errors import missing_column

        raise missing_column(target, data.columns, "Target column")
    pos = resolve_pos_label(data[target].dropna(), target, pos_label)
    results = []
    seen: dict[str, int] = {}
    for model in models:
        check = check_model(model, data, target=target, pos_label=pos)
        scored = score_model(model, data, pos_label=pos, exclude=[target, *sensitive])
        frame = data.copy(deep=False)
        if check.has_scores:
            frame[SCORE_COLUMN] = scored["score"].to_numpy()
            decision = {"score": SCORE_COLUMN, "threshold": threshold}
        else:
            frame[PREDICTION_COLUMN] = scored["prediction"].to_numpy()
            decision = {"prediction": PREDICTION_COLUMN}
        result = assess(frame, target=target, sensitive=sensitive, pos_label=pos, **decision,
                        **options)
        name = model.name
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} ({seen[name]})"
        results.append(ModelResult(name, model_info(model), result,
                                   list(model.warnings) + list(check.warnings)))
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
