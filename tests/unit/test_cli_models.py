"""`faircard assess --model`: one model keeps the top-level shape, several give a models list."""

from __future__ import annotations

import io
import json
import pickle

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.tree import DecisionTreeClassifier

import faircard
from faircard.cli import main
from faircard.demo import load_demo


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("models")
    demo = load_demo(4000)
    data = demo.data.drop(columns=["score", "approved"])
    data.insert(1, "full_name", [f"Person {i}" for i in range(len(data))])
    data.to_csv(tmp / "loans.csv", index=False)
    (tmp / "logreg.skops").write_bytes(sio.dumps(demo.model))
    feats = ["income", "debt_to_income", "credit_history_years", "prior_defaults"]
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(data[feats], data["repaid"])
    buf = io.BytesIO()
    joblib.dump(tree, buf)
    (tmp / "tree.joblib").write_bytes(buf.getvalue())
    return tmp, demo, data, tree, feats


def test_single_model_matches_assessing_its_scores(files, capsys):
    tmp, demo, data, _, _ = files
    out = tmp / "one.json"
    code = main(["assess", str(tmp / "loans.csv"), "--target", "repaid", "--sensitive", "sex",
                 "--model", str(tmp / "logreg.skops"), "--json", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert doc["model"]["format"] == "skops" and len(doc["model"]["sha256"]) == 64
    assert doc["personal_data_columns"] == [{"column": "full_name", "kind": "name"}]
    assert "Person 1" not in out.read_text()
    frame = data.assign(s=demo.model.predict_proba(data)[:, 1])
    expected = faircard.assess(frame, target="repaid", score="s", sensitive="sex").to_dict()
    assert doc["overall"] == pytest.approx(expected["overall"], nan_ok=True)
    assert doc["criteria"] == expected["criteria"]


def test_several_models_side_by_side(files, capsys):
    tmp, _, data, tree, feats = files
    out = tmp / "two.json"
    code = main(["assess", str(tmp / "loans.csv"), "--target", "repaid", "--sensitive", "sex",
                 "--sensitive", "race", "--model", str(tmp / "logreg.skops"),
                 "--model", str(tmp / "tree.joblib"), "--json", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0
    assert "== model: logreg" in stdout and "== model: tree" in stdout
    doc = json.loads(out.read_text())
    assert [m["name"] for m in doc["models"]] == ["logreg.skops", "tree.joblib"]
    tree_entry = doc["models"][1]
    assert tree_entry["format"] == "joblib" and tree_entry["type"] == "DecisionTreeClassifier"
    for key in ("overall", "by_group", "disparities", "criteria"):
        assert key in tree_entry
    sel = np.mean(tree.predict_proba(data[feats])[:, 1] >= 0.5)
    assert tree_entry["overall"]["selection_rate"] == pytest.approx(sel, abs=1e-12)


def test_unsafe_flag_warns(files, capsys, tmp_path):
    tmp, _, data, tree, _ = files
    (tmp_path / "t.pkl").write_bytes(pickle.dumps(tree))
    code = main(["assess", str(tmp / "loans.csv"), "--target", "repaid", "--sensitive", "sex",
                 "--model", str(tmp_path / "t.pkl"), "--allow-unsafe-pickle", "--quiet"])
    assert code == 0
    assert "allow-unsafe-pickle" in capsys.readouterr().err


def test_several_models_each_say_how_many_rows_were_left_out_and_why(files, capsys, tmp_path):
    """Rows without an outcome are left out of every model's assessment; each model's entry
    says how many and why, as the one-model document does at its top level."""
    src, _, data, _, _ = files
    holed = data.copy()
    holed["repaid"] = holed["repaid"].astype(float)
    holed.loc[holed.index[:7], "repaid"] = np.nan
    holed.to_csv(tmp_path / "holed.csv", index=False)
    out = tmp_path / "two.json"
    code = main(["assess", str(tmp_path / "holed.csv"), "--target", "repaid", "--sensitive",
                 "sex", "--model", str(src / "logreg.skops"), "--model",
                 str(src / "tree.joblib"), "--json", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    doc = json.loads(out.read_text())
    missing = int(holed["repaid"].isna().sum())
    one = faircard.assess(holed.assign(s=0.5), target="repaid", score="s", sensitive="sex")
    assert one.n_dropped == missing == 7
    for entry in doc["models"]:
        assert entry["n_dropped"] == missing
        assert entry["n_rows"] == len(holed)  # rows read, the dropped ones among them
        assert entry["dropped_reasons"] == dict(one.cube.dropped_reasons)
