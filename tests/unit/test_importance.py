"""Permutation importance: against scikit-learn's permutation_importance (same shuffles), run
through the sandboxed model process, and on planted effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.inspection import permutation_importance as sk_permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score

import faircard
from faircard.demo import load_demo
from faircard.diagnostics import diagnose
from faircard.diagnostics import importance as imp
from faircard.io.models import load_model
from faircard.io.sandbox import InProcessModel


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    g = rng.choice(["u", "v"], n, p=[0.6, 0.4])
    logit = 2.0 * X["a"] + 0.7 * X["b"] - 0.3 * X["c"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X.assign(g=g, y=y)


@pytest.fixture(scope="module")
def fitted():
    data = _frame(900, 1)
    model = LogisticRegression().fit(data[["a", "b", "c", "d"]], data["y"])
    return data, model


def _groups(data):
    codes, labels = pd.factorize(data["g"], sort=True)
    return [("g", codes, tuple(labels))]


def _group_scorer(mask, metric):
    """A scikit-learn scorer that scores only the rows of ``mask`` (positions are kept by
    permutation_importance, so the mask stays aligned)."""
    def score(est, X, y):
        if metric == "roc_auc":
            return roc_auc_score(y[mask], est.predict_proba(X)[mask, 1])
        return accuracy_score(y[mask], est.predict(X)[mask])
    return score


def _check_against_sklearn(table, model, X, y, groups_col, n_repeats, seed, metric, tol):
    scoring = metric
    ours = table[table["group"] == "(all)"].set_index("column").loc[list(X.columns)]
    ref = sk_permutation_importance(model, X, y, scoring=scoring, n_repeats=n_repeats,
                                    random_state=seed)
    np.testing.assert_allclose(ours["importance"], ref.importances_mean, rtol=0, atol=tol)
    np.testing.assert_allclose(ours["importance_std"], ref.importances_std, rtol=0, atol=tol)
    for label in np.unique(groups_col):
        mask = np.asarray(groups_col == label)
        ref_g = sk_permutation_importance(model, X, y, scoring=_group_scorer(mask, metric),
                                          n_repeats=n_repeats, random_state=seed)
        mine = table[(table["feature"] == "g") & (table["group"] == label)]
        mine = mine.set_index("column").loc[list(X.columns)]
        assert (mine["n"] == mask.sum()).all()
        np.testing.assert_allclose(mine["importance"], ref_g.importances_mean, rtol=0, atol=tol)
        np.testing.assert_allclose(mine["importance_std"], ref_g.importances_std, rtol=0,
                                   atol=tol)


@pytest.mark.parametrize("metric", ["roc_auc", "accuracy"])
def test_equals_sklearn_permutation_importance_overall_and_per_group(fitted, metric):
    data, model = fitted
    X, y = data[["a", "b", "c", "d"]], data["y"].to_numpy()
    handle = InProcessModel(model, name="lr", filename="lr", sha256="0" * 64)
    table = imp.permutation_importance(handle, X, y, groups=_groups(data), metric=metric,
                                       n_repeats=4, seed=11)
    # same shuffles and the same metric on the same predictions: only the order of floating
    # point sums differs (rank sums here, sklearn's trapezoids), so 1e-12 is ample
    _check_against_sklearn(table, model, X, y, data["g"], 4, 11, metric, 1e-12)
    assert table.attrs["metric"] == metric and table.attrs["rows_used"] == len(X)


def test_sandboxed_model_gives_the_same_figures_in_few_batched_calls(fitted, monkeypatch):
    data, model = fitted
    X, y = data[["a", "b", "c", "d"]], data["y"].to_numpy()
    handle = load_model(sio.dumps(model), filename="lr.skops")
    try:
        assert handle.pid is not None  # the model lives in a child process
        # 1 + 4 columns x 5 repeats = 21 copies of 900 rows x 4 columns; 5 copies per batch
        monkeypatch.setattr(imp, "BATCH_CELLS", 5 * 900 * 4)
        calls = []
        real = handle._outputs
        monkeypatch.setattr(handle, "_outputs", lambda *a: calls.append(1) or real(*a))
        table = imp.permutation_importance(handle, X, y, groups=_groups(data), n_repeats=5,
                                           seed=3)
    finally:
        handle.close()
    assert table.attrs["model_calls"] == len(calls) == 5  # ceil(21 / 5), not 21
    # the child computes the same predict_proba in another process: identical up to BLAS
    # rounding of a 4-term dot product
    _check_against_sklearn(table, model, X, y, data["g"], 5, 3, "roc_auc", 1e-12)


def test_large_data_is_sampled_and_the_sample_is_reported(fitted):
    data, model = fitted
    big = _frame(5000, 2)
    X, y = big[["a", "b", "c", "d"]], big["y"].to_numpy()
    handle = InProcessModel(model, name="lr", filename="lr", sha256="0" * 64)
    table = imp.permutation_importance(handle, X, y, n_repeats=3, max_rows=1000, seed=5)
    assert table.attrs["rows_total"] == 5000 and table.attrs["rows_used"] == 1000
    rows = imp.sample_rows(5000, 1000, 5)
    assert len(np.unique(rows)) == 1000
    ref = sk_permutation_importance(model, X.iloc[rows], y[rows], scoring="roc_auc",
                                    n_repeats=3, random_state=5)
    np.testing.assert_allclose(table.set_index("column").loc[list(X.columns), "importance"],
                               ref.importances_mean, atol=1e-12, rtol=0)


class _Planted:
    """A scorer nobody fitted: ``x1`` matters a lot for everyone, ``x2`` a little, and ``x3``
    only for group "B" (its rows have ``g == 1``)."""

    classes_ = np.array([0, 1])
    feature_names_in_ = np.array(["x1", "x2", "x3", "g"], dtype=object)
    n_features_in_ = 4

    def predict_proba(self, X):
        z = 3 * X["x1"].to_numpy() + 0.3 * X["x2"].to_numpy() \
            + 2.5 * X["x3"].to_numpy() * (X["g"].to_numpy() == 1)
        p = 1 / (1 + np.exp(-z))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _planted_data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Inputs of :class:`_Planted` and outcomes drawn from its scores."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["x1", "x2", "x3"])
    X["g"] = rng.integers(0, 2, n)
    y = (rng.random(n) < _Planted().predict_proba(X)[:, 1]).astype(int)
    return X, y


def test_planted_column_ranks_first_and_a_one_group_column_matters_only_there():
    X, y = _planted_data(6000, 7)
    model = _Planted()
    handle = InProcessModel(model, name="planted", filename="planted", sha256="0" * 64)
    groups = [("group", X["g"].to_numpy(), ("A", "B"))]
    table = imp.permutation_importance(handle, X, y, groups=groups, n_repeats=5, seed=0)
    overall = table[table["group"] == "(all)"].set_index("column")
    assert overall["rank"].idxmin() == "x1"
    by = table[table["feature"] == "group"].set_index(["group", "column"])
    # shuffling x3 moves no score of group A, so its importance there is exactly zero
    assert by.loc[("A", "x3"), "importance"] == 0 and by.loc[("A", "x3"), "importance_std"] == 0
    assert by.loc[("B", "x3"), "importance"] > 0.05
    assert by.loc[("B", "x3"), "importance"] > 10 * by.loc[("B", "x3"), "importance_std"]
    assert by.loc[("A", "x1"), "rank"] == 1 and by.loc[("B", "x1"), "rank"] == 1


def test_diagnose_with_a_model_puts_importance_in_the_json():
    demo = load_demo(3000)
    data = demo.data
    handle = InProcessModel(demo.model, name="demo", filename="demo", sha256="0" * 64)
    d = diagnose(data, target=demo.target, score=demo.score, sensitive=["sex"],
                          model=handle, importance_repeats=2, n_boot=0, max_conditions=1)
    doc = d.to_dict()
    assert doc["importance_settings"]["n_repeats"] == 2
    assert {r["group"] for r in doc["importance"]} == {"(all)", *data["sex"].unique()}
    assert any("Permutation importance: the drop in ROC AUC" in n for n in doc["notes"])
    without = diagnose(data, target=demo.target, score=demo.score, sensitive=["sex"],
                                n_boot=0, max_conditions=1)
    assert without.to_dict()["importance"] is None
    assert any("needs the model itself" in n for n in without.notes)


def test_a_label_only_model_cannot_use_roc_auc():
    class Labels:
        classes_ = np.array([0, 1])
        feature_names_in_ = np.array(["x"], dtype=object)
        n_features_in_ = 1

        def predict(self, X):
            return (X["x"].to_numpy() > 0).astype(int)

    handle = InProcessModel(Labels(), name="labels", filename="labels", sha256="0" * 64)
    X = pd.DataFrame({"x": np.linspace(-1, 1, 50)})
    y = (X["x"] > 0).astype(int).to_numpy()
    with pytest.raises(faircard.FaircardError, match="accuracy, not ROC AUC"):
        imp.permutation_importance(handle, X, y, metric="roc_auc")
    table = imp.permutation_importance(handle, X, y, n_repeats=3)
    assert table.attrs["metric"] == "accuracy" and table["baseline"].iloc[0] == 1.0


def test_the_checklist_names_a_column_used_for_one_group_and_a_sensitive_input():
    X, y = _planted_data(4000, 8)
    model = _Planted()
    data = X.assign(score=model.predict_proba(X)[:, 1], y=y)
    handle = InProcessModel(model, name="planted", filename="planted", sha256="0" * 64)
    d = diagnose(data, target="y", score="score", sensitive="g", model=handle, n_boot=0,
                 max_conditions=1, importance_repeats=3)
    items = {i.source: i for i in d.checklist}
    aggregation = " ".join(items["aggregation"].evidence)
    # x3 moves no score of group 0, so its importance there is exactly zero
    assert "the model relies on 'x3' more for '1'" in aggregation
    assert "than for '0' (0.000)" in aggregation
    measurement = " ".join(items["measurement"].evidence)
    assert "The model uses g itself" in measurement


def test_a_model_that_fails_on_the_shuffled_copies_leaves_the_other_diagnostics():
    class Fragile(_Planted):
        """Scores the evaluation data, refuses anything larger (the stacked copies)."""

        def predict_proba(self, X):
            if len(X) > 4000:
                raise ValueError("too many rows for this model")
            return super().predict_proba(X)

    X, y = _planted_data(4000, 9)
    model = Fragile()
    data = X.assign(score=model.predict_proba(X)[:, 1], y=y)
    handle = InProcessModel(model, name="fragile", filename="fragile", sha256="0" * 64)
    d = diagnose(data, target="y", score="score", sensitive="g", model=handle, n_boot=0,
                 max_conditions=1)
    assert d.importance is None and len(d.calibration) and len(d.proxies)
    assert any(n.startswith("Permutation importance could not be computed: The model could "
                            "not score the dataset: too many rows") for n in d.notes)
