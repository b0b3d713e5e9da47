"""A model that asks for more threads than its sandbox holds still scores: every ``n_jobs``
of an uploaded model is set to 1 in the child (the same predictions).

Found: a random forest saved with ``n_jobs`` equal to its 400 trees asked the child for 400
threads of 8 MB of stack each, beyond its 2 GB of address space, and the upload failed with
"AttributeError: 'DummyProcess' object has no attribute 'terminate'"."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from faircard.io.models import load_model
from tests.security.model_payloads import frame


def _forest(n_jobs: int) -> Pipeline:
    df = frame(400)
    model = Pipeline([("scale", StandardScaler()), ("forest", RandomForestClassifier(
        n_estimators=400, max_depth=2, random_state=0))]).fit(df[["a", "b", "c"]], df["y"])
    model.set_params(forest__n_jobs=n_jobs)
    return model


@pytest.mark.parametrize("fmt", ["skops", "pkl"])
def test_a_forest_asking_for_a_thread_per_tree_scores_as_scikit_learn_does(fmt):
    model = _forest(400)
    raw = sio.dumps(model) if fmt == "skops" else pickle.dumps(model)
    handle = load_model(raw, filename=f"forest.{fmt}")
    try:
        X = frame(300, seed=1)[["a", "b", "c"]]
        got = handle.predict_scores(X, 1)
    finally:
        handle.close()
    expected = _forest(1).predict_proba(X)[:, 1]  # the oracle, on one thread
    np.testing.assert_array_equal(got, expected)
