"""Putting datasets and models into the session (demo, uploads)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from ..decision import DecisionPolicy
from ..demo import demo_bins
from ..errors import FaircardError
from ..io import fingerprint
from ..io.held import HeldBytes
from ..models_assess import model_decision, unique_name
from ..privacy import detect_personal_data
from . import cache, state


def take_upload(upload) -> dict:
    """The file in the dataset uploader, taken over from it: {"name", "digest", "held"}.

    Streamlit keeps an uploaded file's bytes (in its upload manager, shared with the widget's
    state) and hands every run that draws the uploader a deep copy of them. The copy is
    closed at once; the bytes Streamlit keeps are fingerprinted and kept compressed
    (:class:`~faircard.io.held.HeldBytes`, about a quarter of a CSV's size), then Streamlit
    lets them go: the file leaves its upload manager (as Streamlit does itself for chat input
    files) and the widget's state is deleted. The uploader is drawn empty from the next run on,
    so no run copies the file again, and a CSV is parsed from the compressed copy a block at
    a time: the file's bytes are not in memory next to the table read from them.
    """
    key = state.upload_widget()
    upload.close()
    raw = st.session_state[key].getvalue()
    digest = fingerprint(raw)
    held = HeldBytes(raw)
    del raw
    _release_upload(key, upload.file_id)
    state.put(state.UPLOAD_ROUND, int(state.get(state.UPLOAD_ROUND)) + 1)
    return {"name": upload.name, "digest": digest, "held": held}


def _release_upload(key: str, file_id: str) -> None:
    """Streamlit forgets the uploaded file ``file_id`` of the uploader ``key``."""
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    # only the in-memory manager can remove one file (Streamlit checks the same way)
    if ctx is not None and isinstance(ctx.uploaded_file_mgr, MemoryUploadedFileManager):
        ctx.uploaded_file_mgr.remove_file(session_id=ctx.session_id, file_id=file_id)
    del st.session_state[key]


def set_dataset(df: pd.DataFrame, name: str, digest: str, source: dict | None = None) -> None:
    """Make ``df`` the dataset; earlier choices about another dataset are cleared. With
    ``source`` ({"path", "rows"}), ``df`` is the first rows of a dataset counted where it
    lives."""
    upload = state.get(state.UPLOAD)
    if upload is not None and digest.split("@")[0].split("+")[0] != upload["digest"]:
        state.put(state.UPLOAD, None)  # another dataset replaces the uploaded file
    if state.get(state.DATA_DIGEST) != digest:
        state.reset_after_data_change()
    state.put(state.SOURCE, source)
    state.put(state.DATA, df)
    state.put(state.DATA_NAME, name)
    state.put(state.DATA_DIGEST, digest)
    state.put(state.PII, detect_personal_data(df))


def load_demo_into_state() -> None:
    """The demo in one step: data, model, outcome, sensitive features and age bands."""
    demo = cache.demo()
    data = demo.data.drop(columns=[demo.score, demo.prediction])
    set_dataset(data, "demo_loans.csv (synthetic)", "demo")
    from ..io.models import InProcessModel

    # built by faircard itself, so it is trusted to run in this process
    model = InProcessModel(demo.model, name="demo logistic regression",
                           filename="demo model (built in)", sha256=_digest_of_model(demo.model))
    state.put(state.TARGET, demo.target)
    state.put(state.POS_LABEL, 1)
    state.put(state.DECISION, "model")
    state.set_policy(DecisionPolicy.single(demo.threshold), chosen=False)
    add_models([model])
    state.put(state.SENSITIVE, ["sex", "race", "age"])
    state.put(state.BINS, demo_bins())
    state.put(state.IS_DEMO, True)
    for widget in [k for k in st.session_state if str(k).startswith("w_")]:
        del st.session_state[widget]


def _digest_of_model(model) -> str:
    import pickle

    return hashlib.sha256(pickle.dumps(model)).hexdigest()


def _score_into(frame: pd.DataFrame, model, target: str, pos: Any, chosen: Any) -> dict:
    """Score ``frame`` with ``model`` into its column; returns what was scored, with the note
    about which model class stands for the positive outcome."""
    values, kind, check = model_decision(model, frame, target=target, pos_label=pos,
                                         exclude=[target], model_positive_class=chosen)
    own = state.get(state.MODEL_COLUMNS).get(model.name)
    # never over a column of the file that happens to bear the name
    col = unique_name(f"{kind}: {model.name}", [c for c in frame.columns if c != own])
    frame[col] = values
    state.get(state.MODEL_COLUMNS)[model.name] = col
    return {"key": (target, repr(pos), repr(chosen)), "note": check.class_mapping,
            "positive_class": model.classes[check.positive_class_index]}


def _notes_on_decision_functions(models: list, scored: dict) -> None:
    """A model without probabilities is scored by its decision function, which it cuts at 0 to
    make its own predictions; 0.5 on that scale is a rule the model never uses. When every model
    that gives scores is of that kind and nobody has set the threshold, the threshold becomes 0;
    each such model's note says so, or says that one threshold cannot suit both scales."""
    scoring = [m for m in models if m.has_scores and m.name in scored]
    functions = [m for m in scoring if not m.facts.has_proba]
    if not functions:
        return
    mixed = len(functions) < len(scoring)
    policy = state.policy()
    if (not mixed and not state.get(state.POLICY_CHOSEN) and policy.is_single
            and policy.threshold == 0.5):
        policy = DecisionPolicy.single(0.0)
        state.set_policy(policy, chosen=False)
    if mixed:
        tail = ("; the one threshold also applies to the other models' probabilities, so at "
                "most one scale is judged where its model draws its line.")
    elif policy.is_single and policy.threshold == 0:
        tail = "; the threshold is 0 for that reason."
    else:
        tail = "; the decision rule in force is read on that scale, not as a probability."
    for m in functions:
        entry = dict(scored[m.name])
        sentence = (f"{m.name} gives no probabilities: its score is its decision function, "
                    "which the model cuts at 0 to make its own predictions")
        sentence += tail
        if sentence not in (entry.get("note") or ""):
            entry["note"] = " ".join(x for x in (entry.get("note"), sentence) if x)
        scored[m.name] = entry


def add_models(models: list) -> list[str]:
    """Check and score each model on the dataset; add a score column per model.

    A model whose file name is already taken gets a distinct one ("pipe.joblib (2)"); the same
    file twice is kept once. Returns error messages for models that could not be used (the
    others are kept).
    """
    data = state.get(state.DATA)
    target = state.get(state.TARGET)
    pos = state.get(state.POS_LABEL)
    state.put(state.MODEL_COLUMNS, dict(state.get(state.MODEL_COLUMNS)))
    scored = dict(state.get(state.MODEL_SCORED))
    kept = list(state.get(state.MODELS))
    errors = []
    frame = data.copy(deep=False)
    for model in models:
        if model.sha256 in {m.sha256 for m in kept}:
            continue
        model = model.renamed(unique_name(model.name, [m.name for m in kept]))
        try:
            scored[model.name] = _score_into(frame, model, target, pos, None)
        except FaircardError as exc:
            errors.append(f"{model.filename}: {exc}")
            continue
        kept.append(model)
    _notes_on_decision_functions(kept, scored)
    state.put(state.DATA, frame)
    digest = state.get(state.DATA_DIGEST).split("+")[0]
    state.put(state.DATA_DIGEST, "+".join([digest] + [m.sha256[:16] for m in kept]))
    state.put(state.MODELS, kept)
    state.put(state.MODEL_SCORED, scored)
    return errors


def rescore_models() -> list[str]:
    """Score again every model whose column was made for another target, positive label or
    model class than the ones chosen now. Returns error messages (those models' columns are
    removed until the choice is fixed)."""
    target = state.get(state.TARGET)
    pos = state.get(state.POS_LABEL)
    chosen = state.get(state.MODEL_CLASSES)
    scored = dict(state.get(state.MODEL_SCORED))
    stale = [m for m in state.get(state.MODELS)
             if scored.get(m.name, {}).get("key")
             != (target, repr(pos), repr(chosen.get(m.name)))]
    if not stale or target is None:
        return []
    frame = state.get(state.DATA).copy(deep=False)
    columns = dict(state.get(state.MODEL_COLUMNS))
    state.put(state.MODEL_COLUMNS, columns)
    errors = []
    for model in stale:
        old = columns.pop(model.name, None)
        if old is not None and old in frame.columns:
            frame = frame.drop(columns=[old])
        scored.pop(model.name, None)
        try:
            scored[model.name] = _score_into(frame, model, target, pos, chosen.get(model.name))
        except FaircardError as exc:
            errors.append(f"{model.name}: {exc}")
    state.put(state.DATA, frame)
    _notes_on_decision_functions(list(state.get(state.MODELS)), scored)
    state.put(state.MODEL_SCORED, scored)
    return errors


SAMPLE_ROWS = 10_000
"""Rows of a server dataset read to offer its columns and values (every figure is counted
over all rows)."""


def open_server_dataset(text: str, progress) -> None:
    """Open the dataset at the server path ``text`` (inside the folders the operator allows):
    its first rows for choosing columns, its row count and its sha256; nothing else is read
    until the counts are asked for. ``progress(label)`` reports each step."""
    from ..engine.paths import resolve_data_path, sha256_of_files
    from ..engine.sources import count_rows_duckdb, sample_duckdb

    path = resolve_data_path(text)
    if Path(path).is_file() and Path(path).suffix.lower() == ".xlsx":
        # DuckDB and Spark read no workbook: it is read as its upload is (the sandboxed
        # reader, an upload's limits) and assessed in memory
        from ..io.tables import read_table

        progress("Reading the workbook...")
        table = read_table(path)
        set_dataset(table.frame, text.strip(), sha256_of_files(path))
        state.put(state.DATA_READ, {"encoding": None, "detected": False,
                                    "warnings": list(table.warnings)})
        return
    progress("Reading the first rows...")
    sample = sample_duckdb(path, SAMPLE_ROWS)
    progress("Counting the rows...")
    rows = count_rows_duckdb(path)
    if rows == 0:
        raise FaircardError(f"'{text.strip()}' has no data rows. Choose a file with a header "
                            "row and data.")
    progress("Fingerprinting the files (sha256)...")
    sha = sha256_of_files(path)
    set_dataset(sample, text.strip(), sha, source={"path": path, "rows": rows})
