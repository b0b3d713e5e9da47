"""What a loaded estimator is and what it predicts, as plain data.

These functions run the model's own code, so for uploaded files they run only inside the
sandboxed child (:mod:`faircard.io._load_worker`); the built-in demo model, which faircard
builds itself, uses them in-process. Everything they return is plain data: JSON-able
descriptions and numeric arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SCORES = "scores"
LABELS = "labels"


def _plain(value: Any) -> Any:
    """A JSON-able scalar for a class label (numbers, booleans and text stay as they are)."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def model_type(est: Any) -> str:
    """``LogisticRegression`` or ``Pipeline(LogisticRegression)``."""
    name = type(est).__name__
    steps = getattr(est, "steps", None)
    if isinstance(steps, list) and steps and isinstance(steps[-1], tuple) and len(steps[-1]) == 2:
        return f"{name}({type(steps[-1][1]).__name__})"
    return name


def describe(est: Any) -> dict[str, Any]:
    """The facts the parent needs about ``est``, as plain data."""
    classes = getattr(est, "classes_", None)
    names = getattr(est, "feature_names_in_", None)
    n_in = getattr(est, "n_features_in_", None)
    return {
        "type": model_type(est),
        "has_predict": hasattr(est, "predict"),
        "has_proba": hasattr(est, "predict_proba"),
        "has_decision": hasattr(est, "decision_function"),
        "classes": None if classes is None else [_plain(c) for c in np.asarray(classes).ravel()],
        "feature_names": None if names is None else [str(c) for c in np.asarray(names).ravel()],
        "n_features_in": None if n_in is None else int(n_in),
    }


def outputs(est: Any, X: Any, what: str, positive_index: int) -> np.ndarray:
    """``scores`` (float64: probability of class ``positive_index``, or the signed decision
    function) or ``labels`` (int8: index of the predicted class in ``classes_``), one per row."""
    n = len(X)
    if what == LABELS:
        pred = np.asarray(est.predict(X))
        classes = np.asarray(est.classes_)
        if pred.shape[:1] != (n,):
            raise ValueError(f"predict returned {pred.shape[0] if pred.ndim else 0} values "
                             f"for {n} rows")
        index = np.full(n, -1, dtype=np.int8)
        for i, c in enumerate(classes.ravel()[:2]):
            index[pred == c] = i
        if (index < 0).any():
            raise ValueError("predict returned values that are not among the model's classes")
        return index
    if hasattr(est, "predict_proba"):
        proba = np.asarray(est.predict_proba(X), dtype=np.float64)
        if proba.ndim != 2 or proba.shape[0] != n or proba.shape[1] <= positive_index:
            raise ValueError(f"predict_proba returned an array of shape {proba.shape} for {n} rows")
        return np.ascontiguousarray(proba[:, positive_index])
    d = np.asarray(est.decision_function(X), dtype=np.float64).ravel()
    if d.shape != (n,):
        raise ValueError(f"decision_function returned {d.size} values for {n} rows")
    return d if positive_index == 1 else -d
