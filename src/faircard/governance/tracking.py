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
            decision = (f"score >= {doc.get('threshold')}" if doc.get("score")
                        else f"prediction {doc.get('prediction')}")
            mlflow.log_params({"target": str(doc.get("target")), "decision": decision,
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
