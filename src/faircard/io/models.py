"""Load uploaded scikit-learn models without running untrusted code, check them, score data.

Untrusted bytes are opened, checked and run in a sandboxed child process
(:mod:`faircard.io.sandbox`); pickle and joblib files resolve only an exact allowlist of
globals (:mod:`faircard.io.allowlist`), and ``.skops`` files only skops' defaults plus a fixed
list. This process never holds the model object: it gets plain facts and numeric predictions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import FaircardError
from .sandbox import InProcessModel, Limits, ModelHandle, SandboxedModel

LoadedModel = ModelHandle
"""Any loaded model: :class:`SandboxedModel` for files, :class:`InProcessModel` for the demo."""

__all__ = ["InProcessModel", "Limits", "LoadedModel", "ModelCheck", "ModelHandle",
           "SandboxedModel", "check_model", "load_model", "model_inputs", "positive_class",
           "score_model"]

MAX_MODEL_BYTES = 500 * 1024**2
_PICKLE_EXT = {".joblib", ".pkl", ".pickle", ".sav"}
_ZIP = b"PK\x03\x04"
_COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x5d\x00\x00", b"ZF", b"\x28\xb5\x2f\xfd",
               b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda")


@dataclass
class ModelCheck:
    """What :func:`check_model` found out about a model and a dataset."""

    feature_names: list[str]
    missing_features: list[str]
    positive_class_index: int | None
    has_scores: bool
    is_binary: bool
    warnings: list[str] = field(default_factory=list)
    class_mapping: str | None = None
    """Set when a model class stands for a positive label it is not equal to (a sentence)."""


def _detect_format(name: str, raw: bytes) -> str:
    ext = Path(name).suffix.lower()
    if ext == ".skops":
        if not raw.startswith(_ZIP):
            raise FaircardError(f"'{name}' is named like a skops file but is not one.")
        return "skops"
    if ext in _PICKLE_EXT:
        if raw.startswith(_ZIP):
            raise FaircardError(
                f"'{name}' is a zip archive, not a pickle; if it is a skops file, name it .skops."
            )
        if not (raw[:1] == b"\x80" or raw.startswith(_COMPRESSED)):
            if raw[:1] in (b"(", b"c", b"]", b"}", b"I", b"N", b"S", b"V"):
                # protocols 0 and 1 (Python 2's default) start with an opcode, not 0x80
                raise FaircardError(
                    f"'{name}' looks like a pickle of protocol 0 or 1, which faircard does not "
                    "open. Save the model again with skops (recommended) or joblib."
                )
            raise FaircardError(
                f"'{name}' is not a pickle or joblib file (it does not start like one)."
            )
        return "pickle" if ext in {".pkl", ".pickle"} else "joblib"
    raise FaircardError(
        f"faircard cannot open model file '{name}': use .skops (recommended), .joblib or .pkl."
    )


def load_model(
    source: str | Path | bytes,
    *,
    filename: str | None = None,
    allow_unsafe_pickle: bool = False,
    timeout_s: float = 60.0,
    memory_limit_mb: int = 2048,
    max_bytes: int = MAX_MODEL_BYTES,
    limits: Limits | None = None,
) -> SandboxedModel:
    """Open a model file (path or bytes) in a sandboxed child process and keep it there.

    The returned handle holds the file's bytes and plain facts about the model (type, classes,
    feature names, scikit-learn version); predictions are made by the child. ``allow_unsafe_pickle``
    opens pickle/joblib the ordinary way, running any code the file contains (still inside
    the child): only for trusted local files (a warning is recorded).
    """
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
        name = filename or "model"
    else:
        path = Path(source)
        name = filename or path.name
        if not path.is_file():
            raise FaircardError(f"The model file '{path}' does not exist. Check the path.")
        if path.stat().st_size > max_bytes:
            raise FaircardError(
                f"The model file '{name}' is larger than {max_bytes / 1024**2:,.0f} MB; "
                "faircard does not open it."
            )
        raw = path.read_bytes()
    if len(raw) > max_bytes:
        raise FaircardError(
            f"The model file '{name}' is larger than {max_bytes / 1024**2:,.0f} MB; "
            "faircard does not open it."
        )
    if not raw:
        raise FaircardError(f"The model file '{name}' is empty.")
    fmt = _detect_format(name, raw)
    unsafe = allow_unsafe_pickle and fmt != "skops"
    if limits is None:
        limits = Limits(memory_mb=int(memory_limit_mb), load_timeout_s=float(timeout_s))
    model = SandboxedModel(raw, fmt=fmt, filename=name, sha256=hashlib.sha256(raw).hexdigest(),
                           unsafe=unsafe, limits=limits)
    if model.sklearn_version_saved is None and fmt != "skops":
        import sklearn

        # scikit-learn warns on unpickling only when the versions differ
        model.facts.sklearn_version_saved = sklearn.__version__
    if unsafe:
        model.warnings.insert(0, "Loaded with --allow-unsafe-pickle: any code in this file was run.")
    return model


# ---------------------------------------------------------------- checks and scoring


def _same_label(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a).strip() == str(b).strip()


def _is_zero_one(classes: list) -> bool:
    try:
        return sorted(float(c) for c in classes) == [0.0, 1.0]
    except (TypeError, ValueError):
        return False


def positive_class(classes: list, pos_label: Any, *, filename: str = "the model",
                   model_positive_class: Any = None) -> tuple[int, str | None]:
    """Which of the model's two ``classes`` stands for the positive outcome ``pos_label``.

    Returns (index into ``classes``, note or None). The class equal to ``pos_label`` is used;
    a model of 0/1 (or False/True) scored against other labels counts class 1 as positive and
    says so; ``model_positive_class`` chooses the class explicitly.
    """
    shown = f"{classes[0]!r} and {classes[1]!r}"
    if model_positive_class is not None:
        hits = [i for i, c in enumerate(classes) if _same_label(c, model_positive_class)]
        if not hits:
            raise FaircardError(
                f"The model class {model_positive_class!r} chosen as the positive outcome is not "
                f"one of the classes of '{filename}', which predicts {shown}; choose one of those."
            )
        i = hits[0]
        if pos_label is None or _same_label(classes[i], pos_label):
            return i, None
        return i, (f"'{filename}' predicts {shown}; its class {classes[i]!r} is counted as the "
                   f"positive outcome {pos_label!r} (as chosen).")
    if pos_label is None:
        return 1, None
    hits = [i for i, c in enumerate(classes) if _same_label(c, pos_label)]
    if hits:
        return hits[0], None
    if _is_zero_one(classes):
        i = [j for j, c in enumerate(classes) if float(c) == 1.0][0]
        return i, (f"'{filename}' predicts {shown} while the outcome is labelled differently; "
                   f"its class {classes[i]!r} is counted as the positive outcome {pos_label!r}. "
                   "Choose the other class if that is wrong (Data page, or "
                   "--model-positive-class).")
    raise FaircardError(
        f"The model '{filename}' predicts {shown}, but the positive label is {pos_label!r}; "
        f"say which model class means {pos_label!r} (on the Data page, or with "
        "--model-positive-class)."
    )


def check_model(model: ModelHandle, data: pd.DataFrame, *, target: str | None = None,
                pos_label: Any = None, model_positive_class: Any = None) -> ModelCheck:
    """Check that ``model`` is a binary classifier that can score ``data``.

    Raises FaircardError when it is not an estimator, predicts more than two classes or
    numbers (regression), lacks feature columns, or no model class can stand for the positive
    label (see :func:`positive_class`).
    """
    facts = model.facts
    if not facts.has_predict:
        raise FaircardError(
            f"'{model.filename}' holds a {facts.model_type}, which does not make predictions; "
            "upload a trained classifier."
        )
    classes = facts.classes
    if classes is None:
        raise FaircardError(
            f"'{model.filename}' holds a {facts.model_type}, which predicts numbers rather than "
            "classes; faircard supports binary classifiers for now."
        )
    if len(classes) != 2:
        shown = ", ".join(repr(c) for c in classes[:6])
        raise FaircardError(
            f"faircard supports binary classifiers for now; '{model.filename}' predicts "
            f"{len(classes)} classes: {shown}."
        )
    names = list(facts.feature_names or [])
    missing = [c for c in names if c not in data.columns]
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10
                                            else "")
        raise FaircardError(
            f"The model needs columns that are not in the dataset: {shown}. Upload the data the "
            "model was built for."
        )
    pos_index, mapping = positive_class(classes, pos_label, filename=model.filename,
                                        model_positive_class=model_positive_class)
    notes = []
    if facts.sklearn_version_saved:
        import sklearn

        if facts.sklearn_version_saved != sklearn.__version__:
            notes.append(
                f"The model was saved with scikit-learn {facts.sklearn_version_saved}; this "
                f"computer has {sklearn.__version__}. Predictions may differ slightly."
            )
    if target is not None and target in names:
        notes.append(f"The model uses the target column '{target}' as a feature.")
    return ModelCheck(names, missing, pos_index, model.has_scores, True, notes, mapping)


def model_inputs(model: ModelHandle, data: pd.DataFrame,
                 exclude: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
    """The columns of ``data`` the model reads: by name (``feature_names_in_``), or all
    columns except ``exclude`` when the model does not name them and their number matches."""
    names = model.facts.feature_names
    if names:
        return data[list(names)]
    cols = [c for c in data.columns if c not in set(exclude)]
    n_in = model.facts.n_features_in
    if n_in is not None and n_in != len(cols):
        raise FaircardError(
            f"The model expects {n_in} feature columns but does not name them, and the "
            f"dataset has {len(cols)} other columns; save the model after fitting it on a "
            "DataFrame so faircard can pick its columns by name."
        )
    return data[cols]


def score_model(model: ModelHandle, data: pd.DataFrame, *, pos_label: Any,
                exclude: tuple[str, ...] | list[str] = (),
                model_positive_class: Any = None) -> pd.DataFrame:
    """Predicted labels and positive-class scores for every row of ``data``.

    Feature columns are chosen by :func:`model_inputs`. Returns a frame indexed like ``data``
    with ``score`` (probability or decision function of the model class that stands for
    ``pos_label``; NaN when the model has no scores) and ``prediction`` (the model's class;
    for a model with scores, the class its score favours at 0.5 for probabilities, 0 for a
    decision function). The model runs once: for scores when it has them, else for labels.
    """
    check = check_model(model, data, pos_label=pos_label,
                        model_positive_class=model_positive_class)
    X = model_inputs(model, data, exclude)
    pos = int(check.positive_class_index)
    if model.has_scores:
        score = model.predict_scores(X, pos)
        classes = np.asarray(model.classes, dtype=object)
        cut = 0.5 if model.facts.has_proba else 0.0
        pred = np.where(score >= cut, classes[pos], classes[1 - pos])
    else:
        pred = model.predict_labels(X)
        score = np.full(len(X), np.nan)
    return pd.DataFrame({"prediction": pred, "score": score}, index=data.index)
