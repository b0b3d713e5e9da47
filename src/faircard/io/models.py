"""Load uploaded scikit-learn models without running untrusted code, check them, score data.

Untrusted bytes are opened in a child process with a memory limit and a timeout; pickle and
joblib files resolve only an exact allowlist of globals (:mod:`faircard.io.allowlist`), and
``.skops`` files only skops' defaults plus a fixed list. The loaded object comes back to this
process through the same restricted unpickler.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import FaircardError
from .safe_pickle import RefusedGlobal, as_faircard_error, restricted_loads
from .validate import validate_estimator

MAX_MODEL_BYTES = 500 * 1024**2
_PICKLE_EXT = {".joblib", ".pkl", ".pickle", ".sav"}
_ZIP = b"PK\x03\x04"
_COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x5d\x00\x00", b"ZF", b"\x28\xb5\x2f\xfd",
               b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda")


@dataclass
class LoadedModel:
    """A model file opened by :func:`load_model`."""

    estimator: Any
    name: str
    filename: str
    sha256: str
    format: str
    model_type: str
    sklearn_version_saved: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class ModelCheck:
    """What :func:`check_model` found out about a model and a dataset."""

    feature_names: list[str]
    missing_features: list[str]
    positive_class_index: int | None
    has_scores: bool
    is_binary: bool
    warnings: list[str] = field(default_factory=list)


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
            raise FaircardError(
                f"'{name}' is not a pickle or joblib file (it does not start like one)."
            )
        return "pickle" if ext in {".pkl", ".pickle"} else "joblib"
    raise FaircardError(
        f"faircard cannot open model file '{name}': use .skops (recommended), .joblib or .pkl."
    )


def _model_type(est: Any) -> str:
    name = type(est).__name__
    steps = getattr(est, "steps", None)
    if steps:
        return f"{name}({type(steps[-1][1]).__name__})"
    return name


def load_model(
    source: str | Path | bytes,
    *,
    filename: str | None = None,
    allow_unsafe_pickle: bool = False,
    timeout_s: float = 60.0,
    memory_limit_mb: int = 2048,
    max_bytes: int = MAX_MODEL_BYTES,
) -> LoadedModel:
    """Open a model file (path or bytes) safely.

    ``allow_unsafe_pickle`` loads pickle/joblib the ordinary way, running any code the file
    contains: only for trusted local files (a warning is recorded).
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
    sha = hashlib.sha256(raw).hexdigest()
    if allow_unsafe_pickle and fmt != "skops":
        result = _load_unsafe(raw, name)
    else:
        result = _load_in_child(raw, fmt, name, timeout_s, memory_limit_mb)
    est = result["estimator"]
    if not (allow_unsafe_pickle and fmt != "skops"):
        validate_estimator(est)
    saved = result.get("sklearn_version_saved")
    if saved is None and fmt != "skops" and hasattr(est, "get_params"):
        import sklearn

        saved = sklearn.__version__  # scikit-learn warns on unpickling when versions differ
    notes = list(result.get("warnings") or [])
    if allow_unsafe_pickle and fmt != "skops":
        notes.insert(0, "Loaded with --allow-unsafe-pickle: any code in this file was run.")
    return LoadedModel(
        estimator=est,
        name=Path(name).stem,
        filename=name,
        sha256=sha,
        format=fmt,
        model_type=_model_type(est),
        sklearn_version_saved=saved,
        warnings=notes,
    )


def _load_unsafe(raw: bytes, name: str) -> dict[str, Any]:
    import io

    import joblib

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # operator opt-in (allow_unsafe_pickle=True): trusted local files only
            est = joblib.load(io.BytesIO(raw))  # runs any code in the file, by design here
    except Exception as exc:  # any failure of a trusted file is reported plainly
        raise FaircardError(f"The model file '{name}' could not be read: {exc}") from None
    saved = next((str(w.message.original_sklearn_version) for w in caught
                  if hasattr(w.message, "original_sklearn_version")), None)
    return {"estimator": est, "warnings": [str(w.message).splitlines()[0] for w in caught],
            "sklearn_version_saved": saved}


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    pkg_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = pkg_root + os.pathsep + env.get("PYTHONPATH", "")
    # one thread per BLAS pool keeps the child's address space small and predictable
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    return env


def _load_in_child(raw: bytes, fmt: str, name: str, timeout_s: float, memory_mb: int):
    cmd = [sys.executable, "-m", "faircard.io._load_worker", fmt, str(int(memory_mb))]
    try:
        proc = subprocess.run(cmd, input=raw, capture_output=True, timeout=timeout_s,
                              env=_child_env(), check=False)
    except subprocess.TimeoutExpired:
        raise FaircardError(
            f"The model file '{name}' took longer than {timeout_s:g} s to open and was stopped."
        ) from None
    out = proc.stdout
    if out.startswith(b"OK"):
        try:
            return restricted_loads(out[2:])
        except RefusedGlobal as exc:
            raise as_faircard_error(exc) from None
    if out.startswith(b"ERmemory") or (not out and proc.returncode in (-9, 137)):
        raise FaircardError(
            f"The model file '{name}' needed more than {memory_mb:,} MB of memory to open and "
            "was stopped."
        )
    if out.startswith(b"ER"):
        msg = out[2:].decode("utf-8", "replace")
        if msg.startswith("The model file asks"):
            raise FaircardError(msg)
        raise FaircardError(f"The model file '{name}' could not be read ({_gist(msg)}).")
    err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    raise FaircardError(
        f"The model file '{name}' could not be opened ({_gist(err[-1] if err else 'no output')})."
    )


def _gist(msg: str) -> str:
    msg = " ".join(str(msg).split())
    if "UntrustedTypesFoundException" in msg or "Untrusted types found" in msg:
        return "it contains types faircard does not trust: " + msg.split(":", 2)[-1].strip()[:300]
    return msg[:300]


# ---------------------------------------------------------------- checks and scoring


def _same_label(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a).strip() == str(b).strip()


def check_model(model: LoadedModel, data: pd.DataFrame, *, target: str | None = None,
                pos_label: Any = None) -> ModelCheck:
    """Check that ``model`` is a binary classifier that can score ``data``.

    Raises FaircardError when it is not an estimator, predicts more than two classes or
    numbers (regression), lacks feature columns, or does not know the positive label.
    """
    est = model.estimator
    if not hasattr(est, "predict"):
        raise FaircardError(
            f"'{model.filename}' holds a {type(est).__name__}, which does not make predictions; "
            "upload a trained classifier."
        )
    classes = getattr(est, "classes_", None)
    if classes is None:
        raise FaircardError(
            f"'{model.filename}' holds a {model.model_type}, which predicts numbers rather than "
            "classes; faircard supports binary classifiers for now."
        )
    classes = list(np.asarray(classes).tolist())
    if len(classes) != 2:
        shown = ", ".join(repr(c) for c in classes[:6])
        raise FaircardError(
            f"faircard supports binary classifiers for now; '{model.filename}' predicts "
            f"{len(classes)} classes: {shown}."
        )
    names = [str(c) for c in getattr(est, "feature_names_in_", [])]
    missing = [c for c in names if c not in data.columns]
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10
                                            else "")
        raise FaircardError(
            f"The model needs columns that are not in the dataset: {shown}. Upload the data the "
            "model was built for."
        )
    pos_index = None
    if pos_label is not None:
        hits = [i for i, c in enumerate(classes) if _same_label(c, pos_label)]
        if not hits:
            raise FaircardError(
                f"The model predicts {classes[0]!r} and {classes[1]!r}, but the positive label "
                f"is {pos_label!r}; choose a positive label the model knows."
            )
        pos_index = hits[0]
    notes = []
    if model.sklearn_version_saved:
        import sklearn

        if model.sklearn_version_saved != sklearn.__version__:
            notes.append(
                f"The model was saved with scikit-learn {model.sklearn_version_saved}; this "
                f"computer has {sklearn.__version__}. Predictions may differ slightly."
            )
    if target is not None and target in names:
        notes.append(f"The model uses the target column '{target}' as a feature.")
    has_scores = hasattr(est, "predict_proba") or hasattr(est, "decision_function")
    return ModelCheck(names, missing, pos_index, has_scores, True, notes)


def score_model(model: LoadedModel, data: pd.DataFrame, *, pos_label: Any,
                exclude: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
    """Predicted labels and positive-class scores for every row of ``data``.

    Feature columns are taken by name (``feature_names_in_``); a model without names gets all
    columns except ``exclude`` when their number matches ``n_features_in_``. Returns a frame
    indexed like ``data`` with ``prediction`` and ``score`` (NaN when the model has no scores).
    """
    est = model.estimator
    check = check_model(model, data, pos_label=pos_label)
    if check.feature_names:
        X = data[check.feature_names]
    else:
        cols = [c for c in data.columns if c not in set(exclude)]
        n_in = getattr(est, "n_features_in_", None)
        if n_in is not None and n_in != len(cols):
            raise FaircardError(
                f"The model expects {n_in} feature columns but does not name them, and the "
                f"dataset has {len(cols)} other columns; save the model after fitting it on a "
                "DataFrame so faircard can pick its columns by name."
            )
        X = data[cols]
    pos = check.positive_class_index if check.positive_class_index is not None else 1
    try:
        pred = est.predict(X)
        if hasattr(est, "predict_proba"):
            score = np.asarray(est.predict_proba(X))[:, pos]
        elif hasattr(est, "decision_function"):
            d = np.asarray(est.decision_function(X), dtype=float)
            score = d if pos == 1 else -d
        else:
            score = np.full(len(X), np.nan)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        first = " ".join(str(exc).split())[:300]
        raise FaircardError(f"The model could not score the dataset: {first}") from None
    return pd.DataFrame({"prediction": pred, "score": np.asarray(score, dtype=float)},
                        index=data.index)
