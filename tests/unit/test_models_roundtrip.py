"""Common scikit-learn models load from joblib, pickle and skops and predict exactly as saved."""

from __future__ import annotations

import io
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from faircard.io.models import check_model, load_model, score_model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.choice(["x", "y", "z"], n)})
    y = ((X["a"] + (X["c"] == "x") + rng.normal(size=n)) > 0.5).astype(int)
    return X, y


def _models(X, y):
    num = X[["a", "b"]]
    pipe = Pipeline([
        ("pre", ColumnTransformer([("oh", OneHotEncoder(handle_unknown="ignore"), ["c"]),
                                   ("sc", StandardScaler(), ["a", "b"])])),
        ("clf", LogisticRegression()),
    ])
    return {
        "pipeline": pipe.fit(X, y),
        "forest": RandomForestClassifier(n_estimators=5, random_state=0).fit(num, y),
        "hgb": HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(num, y),
        "tree": DecisionTreeClassifier(max_depth=4, random_state=0).fit(num, y),
    }


def _dump(est, fmt):
    if fmt == "skops":
        return sio.dumps(est), "m.skops"
    if fmt == "pickle":
        return pickle.dumps(est), "m.pkl"
    buf = io.BytesIO()
    joblib.dump(est, buf)
    return buf.getvalue(), "m.joblib"


@pytest.mark.parametrize("fmt", ["joblib", "pickle", "skops"])
def test_models_roundtrip_identically(data, fmt):
    X, y = data
    for kind, est in _models(X, y).items():
        raw, name = _dump(est, fmt)
        m = load_model(raw, filename=name)
        assert m.format == fmt
        assert len(m.sha256) == 64
        cols = list(getattr(est, "feature_names_in_", X.columns))
        np.testing.assert_array_equal(m.predict_labels(X[cols]), est.predict(X[cols]),
                                      err_msg=kind)
        np.testing.assert_array_equal(m.predict_scores(X[cols], 1),
                                      est.predict_proba(X[cols])[:, 1], err_msg=kind)
        np.testing.assert_array_equal(m.predict_scores(X[cols], 0),
                                      est.predict_proba(X[cols])[:, 0], err_msg=kind)
        check = check_model(m, X, pos_label=1)
        assert check.positive_class_index == 1 and check.has_scores
        scored = score_model(m, X, pos_label=1)
        np.testing.assert_array_equal(scored["score"], est.predict_proba(X[cols])[:, 1])
