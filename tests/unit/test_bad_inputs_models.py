"""Bad model files and model/data mismatches: exit status 2 and one clear line from the CLI,
FaircardError from the Python API."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.preprocessing import StandardScaler

from faircard import FaircardError
from faircard.cli import main
from faircard.io.models import check_model, load_model, score_model


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")
    rng = np.random.default_rng(0)
    n = 120
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                       "y": rng.integers(0, 2, n), "g": rng.choice(["u", "v"], n),
                       "name": [f"p{i}" for i in range(n)]})
    df.to_csv(tmp / "data.csv", index=False)
    good = LogisticRegression().fit(df[["a", "b"]], df["y"])
    files = {}

    def put(name, raw):
        (tmp / name).write_bytes(raw)
        files[name] = tmp / name

    put("empty.joblib", b"")
    put("junk.pkl", bytes(range(256)) * 3)
    put("truncated.joblib", pickle.dumps(good)[:200])
    put("text.pkl", b"this is a readme, not a model\n")
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("schema.json", "{not json")
    put("junk.skops", zbuf.getvalue())
    put("zip.pkl", zbuf.getvalue())
    put("model.txt", pickle.dumps(good))
    put("regression.pkl", pickle.dumps(LinearRegression().fit(df[["a", "b"]], df["a"])))
    put("multiclass.pkl", pickle.dumps(LogisticRegression().fit(df[["a", "b"]],
                                                                rng.integers(0, 3, n))))
    put("scaler.pkl", pickle.dumps(StandardScaler().fit(df[["a", "b"]])))
    other = LogisticRegression().fit(pd.DataFrame({"a": df.a, "income": df.b}), df["y"])
    put("missing_feature.pkl", pickle.dumps(other))
    put("string_classes.pkl", pickle.dumps(LogisticRegression().fit(
        df[["a", "b"]], np.where(df["y"] == 1, "yes", "no"))))
    put("good.pkl", pickle.dumps(good))
    return tmp, files, df


CLI_CASES = {
    "empty file": ("empty.joblib", [], "empty"),
    "binary junk": ("junk.pkl", [], "not a pickle"),
    "truncated pickle": ("truncated.joblib", [], "could not be read"),
    "text renamed .pkl": ("text.pkl", [], "not a pickle"),
    "skops zip junk": ("junk.skops", [], "could not be read"),
    "zip renamed .pkl": ("zip.pkl", [], "zip archive"),
    "unknown extension": ("model.txt", [], "cannot open model file"),
    "regression model": ("regression.pkl", [], "binary classifiers"),
    "multiclass model": ("multiclass.pkl", [], "3 classes"),
    "estimator without predict": ("scaler.pkl", [], "does not make predictions"),
    "model missing features": ("missing_feature.pkl", [], "income"),
    "positive label unknown to model": ("string_classes.pkl", [], "positive label"),
    "missing model file": ("nope.pkl", [], "does not exist"),
    "personal data as sensitive": ("good.pkl", ["--sensitive", "name"], "personal data"),
    "model and score together": ("good.pkl", ["--score", "a"], "not both"),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_bad_models_exit_2_one_line(setup, case, capsys):
    tmp, files, _ = setup
    fname, extra, words = CLI_CASES[case]
    sensitive = [] if "--sensitive" in extra else ["--sensitive", "g"]
    code = main(["assess", str(tmp / "data.csv"), "--target", "y", *sensitive, *extra,
                 "--model", str(tmp / fname), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2, (case, err)
    assert len(err.splitlines()) == 1 and err.startswith("faircard: error: "), err
    assert words.lower() in err.lower(), err


def test_oversize_model_is_refused_before_reading(setup):
    tmp, files, _ = setup
    with pytest.raises(FaircardError, match="larger than"):
        load_model(files["good.pkl"], max_bytes=100)


def test_api_errors_are_faircard_errors(setup):
    tmp, files, df = setup
    m = load_model(files["good.pkl"])
    with pytest.raises(FaircardError, match="not in the dataset"):
        check_model(m, df.drop(columns=["b"]), pos_label=1)
    bad = df.assign(a=["text"] * len(df))
    with pytest.raises(FaircardError, match="could not score"):
        score_model(m, bad, pos_label=1)
