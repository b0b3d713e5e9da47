"""Logging a recorded assessment to an MLflow run (``faircard record --mlflow``), where teams
already track their models: the assessment JSON, the model card and the fingerprint.

MLflow is optional (``pip install "faircard[mlflow]"``); the tracking server or store is
MLflow's usual ``MLFLOW_TRACKING_URI`` (or ``tracking_uri``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import FaircardError

EXPERIMENT = "faircard"
_METRIC_NAME = re.compile(r"[^\w\-. :/]")
"""Characters MLflow refuses in a metric name (replaced by "_")."""


def _metric_name(*parts: str) -> str:
    return _METRIC_NAME.sub("_", ".".join(parts))


def _decision(doc: Mapping[str, Any]) -> str:
    """The decision rule as a short run parameter: "score >= 0.500", or the feature a
    per-group policy sets its thresholds by (the rule itself is in assessment.json); a
    per-group policy was logged as "score >= None"."""
    from ..decision import DecisionPolicy
    from ..formatting import fmt_threshold

    if not doc.get("score"):
        return f"prediction {doc.get('prediction')}"
    policy = doc.get("policy")
    if policy is None:
        return f"score >= {fmt_threshold(doc.get('threshold'))}"
    policy = DecisionPolicy.from_dict(policy)
    if policy.is_single:
        return f"score >= {fmt_threshold(policy.threshold)}"
    return (f"score, {'randomised ' if policy.is_randomized else ''}thresholds per group of "
            f"{policy.feature} (see faircard/assessment.json)")


def log_assessment(doc: Mapping[str, Any], *, fingerprint: str, card_markdown: str,
                   record_id: int | None = None, store: str | None = None,
                   tracking_uri: str | None = None, experiment: str = EXPERIMENT,
                   run_name: str | None = None) -> str:
    """Log one assessment document to a new MLflow run and return the run's id.

    Artifacts ``faircard/assessment.json`` and ``faircard/model_card.md``; tags
    ``faircard.fingerprint`` (and ``faircard.record_id``, ``faircard.store`` when recorded);
    params: target, decision, sensitive features; metrics: the overall metrics and each
    feature's fairness criteria (``criteria.<feature>.<criterion>``). Group aggregates only.
    """
    try:
        import mlflow
    except ImportError:
        raise FaircardError("--mlflow needs MLflow: pip install \"faircard[mlflow]\".") from None
    try:
        if tracking_uri:
            mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_experiment(experiment)
        with mlflow.start_run(run_name=run_name) as run:
            mlflow.log_dict(dict(doc), "faircard/assessment.json")
            mlflow.log_text(card_markdown, "faircard/model_card.md")
            tags = {"faircard.fingerprint": fingerprint}
            if record_id is not None:
                tags["faircard.record_id"] = str(record_id)
            if store:
                tags["faircard.store"] = store
            mlflow.set_tags(tags)
            mlflow.log_params({"target": str(doc.get("target")), "decision": _decision(doc),
                               "sensitive_features": ", ".join(doc.get("sensitive_features")
                                                               or [])})
            metrics = {_metric_name("overall", k): float(v)
                       for k, v in (doc.get("overall") or {}).items()
                       if isinstance(v, int | float) and not isinstance(v, bool)}
            for feature, crit in (doc.get("criteria") or {}).items():
                for k, v in crit.items():
                    if isinstance(v, int | float) and not isinstance(v, bool):
                        metrics[_metric_name("criteria", str(feature), k)] = float(v)
            mlflow.log_metrics(metrics)
            return run.info.run_id
    except mlflow.exceptions.MlflowException as exc:
        raise FaircardError(f"MLflow refused the run: {str(exc).splitlines()[0]}") from None
