"""Putting datasets and models into the session (demo, uploads)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from ..decision import DecisionPolicy
from ..demo import demo_bins
from ..errors import FaircardError
from ..io.models import check_model, score_model
from ..privacy import detect_personal_data
from . import cache, state


def set_dataset(df: pd.DataFrame, name: str, digest: str) -> None:
    """Make ``df`` the dataset; earlier choices about another dataset are cleared."""
    if state.get(state.DATA_DIGEST) != digest:
        state.reset_after_data_change()
    state.put(state.DATA, df)
    state.put(state.DATA_NAME, name)
    state.put(state.DATA_DIGEST, digest)
    state.put(state.PII, detect_personal_data(df))


def load_demo_into_state() -> None:
    """The demo in one step: data, model, outcome, sensitive features and age bands."""
    demo = cache.demo()
    data = demo.data.drop(columns=[demo.score, demo.prediction])
    set_dataset(data, "demo_loans.csv (synthetic)", "demo")
    from ..io.models import LoadedModel

    model = LoadedModel(estimator=demo.model, name="demo logistic regression",
                        filename="demo model (built in)", sha256=_digest_of_model(demo.model),
                        format="built-in", model_type="Pipeline(LogisticRegression)")
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


def add_models(models: list) -> list[str]:
    """Check and score each model on the dataset; add a score column per model.

    Returns error messages for models that could not be used (the others are kept).
    """
    data = state.get(state.DATA)
    target = state.get(state.TARGET)
    pos = state.get(state.POS_LABEL)
    columns = dict(state.get(state.MODEL_COLUMNS))
    kept = [m for m in state.get(state.MODELS)]
    errors = []
    frame = data.copy(deep=False)
    for model in models:
        try:
            check = check_model(model, frame, target=target, pos_label=pos)
            scored = score_model(model, frame, pos_label=pos, exclude=[target])
        except FaircardError as exc:
            errors.append(f"{model.filename}: {exc}")
            continue
        col = f"score: {model.name}"
        if check.has_scores:
            frame[col] = scored["score"].to_numpy()
        else:
            col = f"prediction: {model.name}"
            frame[col] = np.asarray(scored["prediction"])
        columns[model.name] = col
        if model.sha256 not in {m.sha256 for m in kept}:
            kept.append(model)
    state.put(state.DATA, frame)
    digest = state.get(state.DATA_DIGEST).split("+")[0]
    state.put(state.DATA_DIGEST, "+".join([digest] + [m.sha256[:16] for m in kept]))
    state.put(state.MODELS, kept)
    state.put(state.MODEL_COLUMNS, columns)
    return errors
