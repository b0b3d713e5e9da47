"""``faircard diagnose`` end to end on a generated dataset."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faircard.cli import main


@pytest.fixture
def planted_csv(tmp_path):
    rng = np.random.default_rng(3)
    n = 3000
    race = rng.choice(["A", "B"], n, p=[0.7, 0.3])
    zone = np.where(rng.random(n) < 0.8, race, rng.choice(["A", "B"], n))
    score = rng.random(n)
    y = (rng.random(n) < score).astype(int)
    frame = pd.DataFrame({"y": y, "score": score, "race": race, "zone": [f"z{v}" for v in zone],
                          "full_name": [f"Person {i}" for i in range(n)],
                          "other_model": (score > 0.3).astype(int)})
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


def test_diagnose_writes_every_section(planted_csv, tmp_path, capsys):
    out = tmp_path / "d.json"
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"measurement": {"status": "concern", "note": "zone"}}))
    code = main(
                ["diagnose", str(planted_csv), "--target", "y", "--score", "score",
                 "--sensitive", "race", "--exclude", "other_model",
                 "--reference-share", "race=A:0.5,B:0.5", "--checklist", str(answers),
                 "--json", str(out)])
    assert code == 0
    doc = json.loads(out.read_text())
    for key in ("representation", "proxies", "calibration", "importance", "drift",
                "subgroups", "checklist"):
        assert key in doc
    features = {p["feature"] for p in doc["proxies"]}
    assert "zone" in features
    assert "full_name" not in features and "other_model" not in features
    top = [p for p in doc["proxies"] if p["measure"] == "cv_auc"][0]
    assert top["feature"] == "zone" and top["sensitive_feature"] == "race"
    rep = {r["group"]: r for r in doc["representation"]}
    assert rep["A"]["reference_share"] == 0.5
    assert rep["A"]["share"] == pytest.approx(
        (pd.read_csv(planted_csv)["race"] == "A").mean())
    measurement = next(i for i in doc["checklist"] if i["source"] == "measurement")
    assert measurement["status"] == "concern" and measurement["note"] == "zone"
    printed = capsys.readouterr().out
    assert "measurement bias" in printed and "full_name" in printed  # named as left out


@pytest.mark.parametrize("args, message", [
    (["--reference-share", "race=A:1.5"], "between 0 and 1"),
    (["--reference-share", "race"], "must look like"),
    (["--sensitive", "full_name"], "personal data"),
])
def test_diagnose_input_errors_end_in_one_line(planted_csv, capsys, args, message):
    base = ["diagnose", str(planted_csv), "--target", "y", "--score", "score"]
    if "--sensitive" not in args:
        base += ["--sensitive", "race"]
    assert main(base + args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    tmp = tmp_path_factory.mktemp("diagnose_model")
    rng = np.random.default_rng(4)
    n = 1200
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    frame["race"] = rng.choice(["A", "B"], n, p=[0.6, 0.4])
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-2 * frame["a"] - frame["b"]))).astype(int)
    model = LogisticRegression().fit(frame[["a", "b", "c"]], frame["y"])
    frame.to_csv(tmp / "data.csv", index=False)
    (tmp / "lr.skops").write_bytes(sio.dumps(model))
    return tmp, frame, model


def test_diagnose_with_a_model_file_reports_importance_like_sklearn(model_files, capsys):
    from sklearn.inspection import permutation_importance

    tmp, frame, model = model_files
    out = tmp / "d.json"
    code = main(["diagnose", str(tmp / "data.csv"), "--target", "y", "--model",
                 str(tmp / "lr.skops"), "--sensitive", "race", "--importance-repeats", "3",
                 "--seed", "9", "--json", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    doc = json.loads(out.read_text())
    assert doc["importance_settings"] == {"metric": "roc_auc", "n_repeats": 3,
                                          "rows_total": 1200, "rows_used": 1200, "seed": 9,
                                          "model_calls": 1}
    overall = {r["column"]: r for r in doc["importance"] if r["group"] == "(all)"}
    ref = permutation_importance(model, frame[["a", "b", "c"]], frame["y"], scoring="roc_auc",
                                 n_repeats=3, random_state=9)
    for col, mean, sd in zip("abc", ref.importances_mean, ref.importances_std, strict=True):
        assert overall[col]["importance"] == pytest.approx(mean, abs=1e-12)
        assert overall[col]["importance_std"] == pytest.approx(sd, abs=1e-12)
    assert overall["a"]["rank"] == 1
    assert {r["group"] for r in doc["importance"]} == {"(all)", "A", "B"}
    # the model's scores are the decisions diagnosed: calibration is computed from them
    assert doc["calibration"] and "Permutation importance (drop in ROC AUC" in printed.out


def test_diagnose_refuses_a_malicious_model_in_one_line(model_files, capsys):
    import os
    import pickle

    tmp, _, _ = model_files
    marker = tmp / "pwned"

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    evil = tmp / "evil.pkl"
    evil.write_bytes(pickle.dumps(Payload()))
    code = main(["diagnose", str(tmp / "data.csv"), "--target", "y", "--model", str(evil),
                 "--sensitive", "race"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "does not allow" in err and not marker.exists()


def test_diagnose_takes_a_model_or_a_column_not_both(model_files, capsys):
    tmp, _, _ = model_files
    code = main(["diagnose", str(tmp / "data.csv"), "--target", "y", "--model",
                 str(tmp / "lr.skops"), "--score", "a", "--sensitive", "race"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "not allowed with argument" in err and len(err.splitlines()) == 1


def test_card_takes_the_checklist_and_proxies_from_diagnose_json(planted_csv, tmp_path, capsys):
    from faircard.card import ModelCard

    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"measurement": {"status": "concern",
                                                   "note": "zone <b>is</b> race"}}))
    diag = tmp_path / "diag.json"
    common = ["--target", "y", "--score", "score", "--sensitive", "race"]
    assert main(["diagnose", str(planted_csv), *common, "--exclude", "other_model",
                 "--checklist", str(answers), "--json", str(diag), "--quiet"]) == 0
    out = tmp_path / "card"
    assert main(["card", str(planted_csv), *common, "--bootstrap", "0", "--out", str(out),
                 "--formats", "md,json", "--diagnostics", str(diag)]) == 0, \
        capsys.readouterr().err
    md = (out / "model_card.md").read_text()
    assert "| Measurement bias | concern | concern | zone &lt;b&gt;is&lt;/b&gt; race |" in md
    caveats = md[md.index("## Caveats"):]
    assert "'zone' alone tells" in caveats
    card = ModelCard.from_json((out / "model_card.json").read_text())
    doc = json.loads(diag.read_text())
    assert card.ethical_considerations["bias_sources"] == doc["checklist"]
    assert card.caveats["proxies"] == doc["top_proxies"] and doc["top_proxies"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"checklist": "no"}))
    assert main(["card", str(planted_csv), *common, "--bootstrap", "0", "--out", str(out),
                 "--formats", "md", "--diagnostics", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "not a file written by 'faircard diagnose --json'" in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("favorable", ["positive", "negative"])
def test_diagnose_ranks_subgroups_by_selection_rate_as_the_decision_means(tmp_path, capsys,
                                                                          favorable):
    rng = np.random.default_rng(5)
    n = 3000
    region = rng.choice(["north", "south", "east"], n)
    rate = np.select([region == "north", region == "south"], [0.2, 0.8], 0.5)
    frame = pd.DataFrame({"y": rng.integers(0, 2, n), "race": rng.choice(["A", "B"], n),
                          "region": region, "flag": (rng.random(n) < rate).astype(int)})
    frame.to_csv(tmp_path / "d.csv", index=False)
    code = main(["diagnose", str(tmp_path / "d.csv"), "--target", "y", "--prediction", "flag",
                 "--sensitive", "race", "--subgroup-metric", "selection_rate",
                 "--max-conditions", "1", "--favorable", favorable, "--quiet",
                 "--json", str(tmp_path / "out.json")])
    assert code == 0
    doc = json.loads((tmp_path / "out.json").read_text())
    rates = frame.groupby("region")["flag"].mean()
    worst = rates.idxmin() if favorable == "positive" else rates.idxmax()
    assert doc["subgroups"][0]["conditions"] == [{"column": "region", "level": worst}]
