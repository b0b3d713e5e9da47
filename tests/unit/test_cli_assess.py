"""`faircard assess`: the JSON document, the summary, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.cli import main
from tests.conftest import make_dataset


@pytest.fixture
def data_csv(tmp_path):
    df = make_dataset(1, n=500, n_features=2)
    df["race"] = df["race"].astype(object)
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    return path


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_schema_and_agreement_with_python_api(data_csv, tmp_path, capsys):
    out = tmp_path / "a.json"
    code, stdout, _ = _run(["assess", data_csv, "--target", "y", "--score", "score",
                            "--threshold", "0.5", "--sensitive", "sex", "--sensitive", "race",
                            "--json", out, "--csv", tmp_path / "a.csv"], capsys)
    assert code == 0
    assert "Fairness criteria" in stdout and "sex & race" in stdout
    doc = json.loads(out.read_text())
    for key in ["schema_version", "n_rows", "n_dropped", "target", "sensitive_features",
                "threshold", "overall", "by_group", "disparities", "criteria"]:
        assert key in doc
    assert doc["schema_version"] == 1
    assert doc["sensitive_features"] == ["sex", "race"]
    assert {d["feature"] for d in doc["by_group"]} == {"sex", "race", "sex & race"}
    assert any(" & " in d["group"] for d in doc["by_group"] if d["feature"] == "sex & race")
    for d in doc["disparities"]:
        assert {"feature", "metric", "difference", "ratio", "worst_group", "best_group"} <= set(d)
    for crit in doc["criteria"].values():
        assert {"demographic_parity_difference", "equalized_odds_ratio"} <= set(crit)
    # strict JSON: no NaN tokens
    assert "NaN" not in out.read_text()
    # the Python API gives exactly the same document
    api = faircard.assess(pd.read_csv(data_csv), target="y", score="score",
                          sensitive=["sex", "race"]).to_dict()
    assert json.loads(json.dumps(api, allow_nan=True).replace("NaN", "null")) == doc
    wide = pd.read_csv(tmp_path / "a.csv")
    assert {"feature", "group", "n", "selection_rate"} <= set(wide.columns)


def test_missing_values_form_a_group_and_dropped_rows_are_counted(tmp_path, capsys):
    df = pd.DataFrame({"y": [1, 0, 1, None, 0, 1], "p": [1, 0, None, 1, 0, 1],
                       "g": ["a", None, "a", "b", "b", None]})
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "a.json"
    code, _, _ = _run(["assess", path, "--target", "y", "--prediction", "p", "--sensitive", "g",
                       "--min-group-size", "0", "--json", out], capsys)
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["n_rows"] == 6 and doc["n_dropped"] == 2
    groups = {d["group"]: d["count"] for d in doc["by_group"]}
    assert groups == {"a": 1, "b": 1, "(missing)": 2}


def test_decile_scores_with_threshold_five(tmp_path, capsys):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"two_year_recid": rng.integers(0, 2, 400),
                       "decile_score": rng.integers(1, 11, 400),
                       "race": rng.choice(["A", "B"], 400)})
    path = tmp_path / "c.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "a.json"
    code, _, _ = _run(["assess", path, "--target", "two_year_recid", "--score", "decile_score",
                       "--threshold", "5", "--sensitive", "race", "--json", out], capsys)
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["overall"]["selection_rate"] == pytest.approx(np.mean(df["decile_score"] >= 5))
    assert doc["overall"]["brier_score"] is None  # deciles are not probabilities


def test_bins_and_reference_options(tmp_path, capsys):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"y": rng.integers(0, 2, 600), "p": rng.integers(0, 2, 600),
                       "age": rng.integers(18, 90, 600)})
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "a.json"
    code, _, err = _run(["assess", path, "--target", "y", "--prediction", "p", "--sensitive",
                         "age", "--bins", "age=18,25,40,65,inf:18-24,25-39,40-64,65+",
                         "--reference", "age=40-64", "--json", out], capsys)
    assert code == 0, err
    doc = json.loads(out.read_text())
    assert [d["group"] for d in doc["by_group"]] == ["18-24", "25-39", "40-64", "65+"]
    assert doc["reference_groups"] == {"age": "40-64"}
    sizes = {d["group"]: d["n"] for d in doc["by_group"]}
    assert sizes["18-24"] == int(((df.age >= 18) & (df.age < 25)).sum())


def _bad_cases(tmp_path):
    rng = np.random.default_rng(2)
    n = 100
    good = pd.DataFrame({"y": rng.integers(0, 2, n), "p": rng.integers(0, 2, n),
                         "s": rng.random(n), "g": rng.choice(["a", "b"], n),
                         "multi": rng.integers(0, 4, n), "word": rng.choice(["lo", "hi"], n),
                         "txt": rng.choice(["yes", "no"], n)})
    path = tmp_path / "good.csv"
    good.to_csv(path, index=False)
    allnan = good.assign(y=np.nan)
    allnan_path = tmp_path / "allnan.csv"
    allnan.to_csv(allnan_path, index=False)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 4)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("y,p,g\n1,0,a\n0,1,b,extra,more\n")
    base = ["--target", "y", "--sensitive", "g"]
    return {
        "missing file": [tmp_path / "nope.csv", *base, "--prediction", "p"],
        "empty file": [empty, *base, "--prediction", "p"],
        "binary junk": [junk, *base, "--prediction", "p"],
        "ragged csv": [ragged, *base, "--prediction", "p"],
        "unknown target": [path, "--target", "label", "--sensitive", "g", "--prediction", "p"],
        "unknown sensitive": [path, "--target", "y", "--sensitive", "gender", "--prediction", "p"],
        "unknown score": [path, *base, "--score", "prob"],
        "non-binary target": [path, "--target", "multi", "--sensitive", "g", "--prediction", "p"],
        "scores as text": [path, *base, "--score", "word"],
        "predictions not in label space": [path, "--target", "txt", "--sensitive", "g",
                                           "--prediction", "p"],
        "positive label absent": [path, *base, "--prediction", "p", "--pos-label", "7"],
        "no decision column": [path, *base],
        "prediction and score": [path, *base, "--prediction", "p", "--score", "s"],
        "threshold not a number": [path, *base, "--score", "s", "--threshold", "high"],
        "sensitive equals target": [path, "--target", "y", "--sensitive", "y",
                                    "--prediction", "p"],
        "unknown reference group": [path, *base, "--prediction", "p", "--reference", "g=zzz"],
        "bad bins": [path, *base, "--prediction", "p", "--bins", "g=3,1"],
        "bins for non-sensitive": [path, *base, "--prediction", "p", "--bins", "s=0,1"],
        "no target values": [allnan_path, *base, "--prediction", "p"],
        "unwritable json": [path, *base, "--prediction", "p", "--json", "/proc/x/y.json"],
    }


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    cases = _bad_cases(tmp_path)
    assert len(cases) >= 20
    for name, argv in cases.items():
        code, _, err = _run(["assess", *argv], capsys)
        assert code == 2, name
        lines = err.strip().splitlines()
        assert len(lines) == 1, (name, err)
        assert lines[0].startswith("faircard: error: "), (name, err)
        assert "Traceback" not in err


def test_console_script_runs_as_a_program(data_csv):
    proc = subprocess.run([sys.executable, "-m", "faircard.cli", "assess", str(data_csv),
                           "--target", "nope", "--sensitive", "sex", "--prediction", "pred"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("faircard: error: Target column 'nope'")
    assert math.isfinite(len(proc.stdout))
