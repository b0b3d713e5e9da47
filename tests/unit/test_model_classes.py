"""Model classes vs the target's labels, and models that share a file name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.metrics import recall_score
from sklearn.tree import DecisionTreeClassifier

from faircard.cli import main

FEATURES = ["age", "education_num", "hours_per_week"]
ADULT = Path("/work/shared/data/adult.data")
ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
                 "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
                 "hours_per_week", "native_country", "income"]


def adult_like(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Adult-shaped data: an ``income`` target of '>50K' / '<=50K' and a ``sex`` column."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age": rng.integers(17, 90, n),
        "education_num": rng.integers(1, 17, n),
        "hours_per_week": rng.integers(1, 99, n),
        "sex": rng.choice(["Female", "Male"], n),
    })
    logit = 0.04 * (df.age - 40) + 0.3 * (df.education_num - 10) + 0.5 * (df.sex == "Male") - 1
    df["income"] = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), ">50K", "<=50K")
    return df


def _run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _assess_tree(tmp_path: Path, tree, capsys):
    """``faircard assess adult.csv --target income --sensitive sex --model tree.skops``."""
    (tmp_path / "tree.skops").write_bytes(sio.dumps(tree))
    code, out, err = _run(["assess", tmp_path / "adult.csv", "--target", "income",
                           "--sensitive", "sex", "--model", tmp_path / "tree.skops",
                           "--json", tmp_path / "a.json"], capsys)
    doc = json.loads((tmp_path / "a.json").read_text()) if code == 0 else None
    return code, out, err, doc


def _tree(df: pd.DataFrame, labels=(0, 1)) -> DecisionTreeClassifier:
    y = np.where(df["income"] == ">50K", labels[1], labels[0])
    return DecisionTreeClassifier(max_depth=4, random_state=0).fit(df[FEATURES], y)


def _check_against_sklearn(doc: dict, df: pd.DataFrame, decided: np.ndarray) -> None:
    """Selection rate and TPR per sex equal scikit-learn on the group masks."""
    y_true = (df["income"] == ">50K").to_numpy()
    rows = {r["group"]: r for r in doc["by_group"] if r["feature"] == "sex"}
    for group in ("Female", "Male"):
        mask = (df["sex"] == group).to_numpy()
        assert rows[group]["selection_rate"] == pytest.approx(decided[mask].mean())
        assert rows[group]["true_positive_rate"] == pytest.approx(
            recall_score(y_true[mask], decided[mask]))


@pytest.mark.parametrize("labels", [(0, 1), (False, True)])
def test_zero_one_model_against_text_labels_scores_without_a_flag(tmp_path, capsys, labels):
    df = adult_like()
    df.to_csv(tmp_path / "adult.csv", index=False)
    tree = _tree(df, labels)
    code, out, err, doc = _assess_tree(tmp_path, tree, capsys)
    assert code == 0, err
    assert doc["pos_label"] == ">50K"
    assert any("counted as the positive outcome '>50K'" in n for n in doc["notes"])
    assert "counted as the positive outcome" in out
    decided = tree.predict_proba(df[FEATURES])[:, 1] >= 0.5
    _check_against_sklearn(doc, df, decided)

    # the mapping can be turned around
    code, _, err = _run(["assess", tmp_path / "adult.csv", "--target", "income",
                         "--sensitive", "sex", "--model", tmp_path / "tree.skops",
                         "--model-positive-class", str(labels[0]), "--json",
                         tmp_path / "b.json"], capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "b.json").read_text())
    _check_against_sklearn(doc, df, tree.predict_proba(df[FEATURES])[:, 0] >= 0.5)


def test_unrelated_classes_ask_for_the_mapping(tmp_path, capsys):
    df = adult_like()
    df.to_csv(tmp_path / "adult.csv", index=False)
    (tmp_path / "t.skops").write_bytes(sio.dumps(_tree(df, ("low", "high"))))
    base = ["assess", tmp_path / "adult.csv", "--target", "income", "--sensitive", "sex",
            "--model", tmp_path / "t.skops", "--quiet"]
    code, _, err = _run(base, capsys)
    assert code == 2 and "--model-positive-class" in err and len(err.strip().splitlines()) == 1
    code, _, err = _run([*base, "--model-positive-class", "nope"], capsys)
    assert code == 2 and "'nope'" in err and "'high' and 'low'" in err, err
    code, _, err = _run([*base, "--model-positive-class", "high"], capsys)
    assert code == 0, err


def test_models_with_the_same_name_are_all_kept(tmp_path, capsys):
    df = adult_like()
    df.to_csv(tmp_path / "adult.csv", index=False)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    shallow = DecisionTreeClassifier(max_depth=1, random_state=0).fit(
        df[FEATURES], df["income"] == ">50K")
    deep = _tree(df)
    (a / "pipe.joblib").write_bytes(_joblib(shallow))
    (b / "pipe.joblib").write_bytes(_joblib(deep))
    (a / "pipe.skops").write_bytes(sio.dumps(deep))
    code, _, err = _run(["assess", tmp_path / "adult.csv", "--target", "income", "--sensitive",
                         "sex", "--model", a / "pipe.joblib", "--model", b / "pipe.joblib",
                         "--model", a / "pipe.skops", "--json", tmp_path / "m.json",
                         "--quiet"], capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "m.json").read_text())
    assert [m["name"] for m in doc["models"]] == ["pipe.joblib", "pipe.joblib (2)", "pipe.skops"]
    rates = [m["overall"]["selection_rate"] for m in doc["models"]]
    assert rates[0] == pytest.approx((shallow.predict_proba(df[FEATURES])[:, 1] >= 0.5).mean())
    assert rates[1] == pytest.approx((deep.predict_proba(df[FEATURES])[:, 1] >= 0.5).mean())
    assert rates[2] == rates[1]
    assert rates[0] != rates[1]


def _joblib(est) -> bytes:
    import io

    import joblib

    buf = io.BytesIO()
    joblib.dump(est, buf)
    return buf.getvalue()


@pytest.mark.skipif(not ADULT.exists(), reason="the UCI Adult file is not on this machine")
def test_real_adult_with_a_zero_one_tree(tmp_path, capsys):
    raw = ADULT.read_text()
    (tmp_path / "adult.csv").write_text(", ".join(ADULT_COLUMNS) + "\n" + raw)
    df = pd.read_csv(tmp_path / "adult.csv", skipinitialspace=True).dropna(subset=["income"])
    tree = _tree(df.assign(income=df["income"].str.strip()))
    code, out, err, doc = _assess_tree(tmp_path, tree, capsys)
    assert code == 0, err
    assert any("counted as the positive outcome" in n for n in doc["notes"])
