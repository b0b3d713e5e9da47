"""Several models side by side (``faircard assess --model A --model B``): each model's figures
are those of its own scores under the decision rule the output states, counted by
scikit-learn on group masks; the comparison table holds each model's own figures."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix
from sklearn.tree import DecisionTreeClassifier

from faircard.cli import main
from faircard.decision import DecisionPolicy
from faircard.demo import load_demo
from faircard.models_assess import assess_models, compare_models

FEATURES = ["income", "debt_to_income", "credit_history_years", "prior_defaults"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("models_oracle")
    data = load_demo(3000).data.drop(columns=["score", "approved"])
    data.to_csv(tmp / "loans.csv", index=False)
    models = {
        "logreg.skops": LogisticRegression(max_iter=2000).fit(data[FEATURES], data["repaid"]),
        "tree.skops": DecisionTreeClassifier(max_depth=4, random_state=0).fit(
            data[FEATURES], data["repaid"]),
    }
    for name, m in models.items():
        (tmp / name).write_bytes(sio.dumps(m))
    policy = {"policy": {"feature": "sex", "thresholds": {"Female": 0.55, "Male": 0.62}}}
    (tmp / "policy.json").write_text(json.dumps(policy))
    return tmp, data, models


def _rule(doc_entry):
    """The decision rule a model's JSON states: (feature, {group: threshold}) or a number."""
    if doc_entry.get("policy") and doc_entry["policy"].get("kind") == "per_group":
        return doc_entry["policy"]["feature"], doc_entry["policy"]["thresholds"]
    assert doc_entry["threshold"] is not None, "the JSON states no decision rule"
    return None, doc_entry["threshold"]


def _decide(data, scores, rule):
    feature, t = rule
    if feature is None:
        return scores >= t
    groups = data[feature].astype(str).to_numpy()
    return scores >= np.array([t[g] for g in groups])


def _oracle(y, d):
    tn, fp, fn, tp = confusion_matrix(y, d, labels=[0, 1]).ravel()
    return {"selection_rate": d.mean(), "accuracy": accuracy_score(y, d),
            "true_positive_rate": tp / (tp + fn), "false_positive_rate": fp / (fp + tn)}


def test_each_model_follows_the_rule_its_json_states(files, tmp_path, capsys):
    """Under a per-group policy each model's entry states the policy (its threshold is
    null), and applying it to the model's scores gives its figures."""
    tmp, data, models = files
    out = tmp_path / "models.json"
    rule = ["--policy", str(tmp / "policy.json")]
    code = main(["assess", str(tmp / "loans.csv"), "--target", "repaid", "--sensitive", "sex",
                 "--sensitive", "race", "--model", str(tmp / "logreg.skops"), "--model",
                 str(tmp / "tree.skops"), "--favorable", "negative", "--bootstrap", "0",
                 "--json", str(out), "--quiet", *rule])
    assert code == 0, capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert [m["name"] for m in doc["models"]] == list(models)
    y = data["repaid"].to_numpy()
    for entry in doc["models"]:
        scores = models[entry["name"]].predict_proba(data[FEATURES])[:, 1]
        d = _decide(data, scores, _rule(entry))
        assert entry["overall"]["selection_rate"] == pytest.approx(d.mean(), abs=1e-12)
        for row in entry["by_group"]:
            cols = row["feature"].split(" & ")
            mask = (data[cols].astype(str).agg(" & ".join, axis=1) == row["group"]).to_numpy()
            for m, v in _oracle(y[mask], d[mask]).items():
                assert row[m] == pytest.approx(v, abs=1e-12), (entry["name"], row["group"], m)
            # adverse: the favourable rate is the share not flagged
            assert row["favorable_rate"] == pytest.approx(1 - d[mask].mean(), abs=1e-12)


def test_the_side_by_side_table_holds_each_models_own_figures(files):
    tmp, data, models = files
    from faircard.io.models import load_model

    loaded = [load_model(str(tmp / name)) for name in models]
    policy = DecisionPolicy.from_dict(json.loads((tmp / "policy.json").read_text()))
    results = assess_models(data, loaded, target="repaid", sensitive=["sex"], policy=policy,
                            n_boot=0)
    table = compare_models(results, ["accuracy", "selection_rate"])
    y = data["repaid"].to_numpy()
    sex = data["sex"].astype(str)
    for (name, model), row in zip(models.items(), table.itertuples(), strict=True):
        d = _decide(data, model.predict_proba(data[FEATURES])[:, 1],
                    ("sex", policy.thresholds))
        assert row.model == name
        assert row.accuracy == pytest.approx(accuracy_score(y, d), abs=1e-12)
        rates = pd.Series(d).groupby(sex.to_numpy()).mean()
        assert row.demographic_parity_difference == pytest.approx(rates.max() - rates.min(),
                                                                  abs=1e-12)


def test_a_model_without_probabilities_is_judged_by_its_own_decisions(files, tmp_path, capsys):
    """A model with a decision function and no probabilities (a linear SVM) decides positive
    where its decision function is above 0. Without --threshold, its figures are those of its
    own predictions (scikit-learn's ``predict``), not of the function cut at 0.5; an explicit
    --threshold is kept."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    tmp, data, _ = files
    svm = make_pipeline(StandardScaler(), LinearSVC(random_state=0)).fit(data[FEATURES],
                                                                         data["repaid"])
    (tmp_path / "svm.skops").write_bytes(sio.dumps(svm))
    y = data["repaid"].to_numpy()
    for rule, decided in (([], svm.predict(data[FEATURES]) == 1),
                          (["--threshold", "0.5"], svm.decision_function(data[FEATURES]) >= 0.5)):
        out = tmp_path / "svm.json"
        code = main(["assess", str(tmp / "loans.csv"), "--target", "repaid", "--sensitive",
                     "sex", "--model", str(tmp_path / "svm.skops"), "--bootstrap", "0",
                     "--json", str(out), "--quiet", *rule])
        assert code == 0, capsys.readouterr().err
        doc = json.loads(out.read_text())
        assert doc["threshold"] == (0.5 if rule else 0.0)
        said = any("decision function is cut at 0" in n for n in doc["notes"])
        assert said == (not rule), doc["notes"]
        assert doc["overall"]["selection_rate"] == pytest.approx(decided.mean(), abs=1e-12)
        for row in doc["by_group"]:
            mask = (data["sex"] == row["group"]).to_numpy()
            for m, v in _oracle(y[mask], decided[mask]).items():
                assert row[m] == pytest.approx(v, abs=1e-12), (rule, row["group"], m)
