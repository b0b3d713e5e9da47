"""DuckDB and Spark count next to the data and give the same assessment as pandas, which
itself equals fairlearn's MetricFrame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate

import faircard
from faircard.decision import DecisionPolicy
from faircard.engine.grouped import assess_grouped
from faircard.engine.sources import count_duckdb
from faircard.errors import FaircardError
from faircard.spec import AssessmentSpec, Binning

N = 100_000


def _rows(n: int = N, seed: int = 5, distinct: int | None = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], n)
    race = rng.choice(["A", "B", "C", "D"], n, p=[0.5, 0.3, 0.15, 0.05]).astype(object)
    age = rng.integers(17, 90, n).astype(float)
    y = (rng.random(n) < 0.3 + 0.1 * (sex == "Male")).astype(np.int64)
    score = np.clip(0.35 * y + rng.normal(0.35, 0.2, n), 0, 1)
    if distinct:
        score = np.round(score * distinct) / distinct
    frame = pd.DataFrame({"y": y, "score": score, "pred": (score >= 0.5).astype(np.int64),
                          "sex": sex, "race": race, "age": age})
    frame.loc[frame.index[:40], "race"] = None
    frame.loc[frame.index[40:70], "score"] = np.nan
    frame.loc[frame.index[70:90], "age"] = np.nan
    frame.loc[frame.index[90:95], "y"] = np.nan
    return frame


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("engines") / "rows.parquet"
    _rows().to_parquet(path)
    return path


SPECS = {
    "score": AssessmentSpec(target="y", score="score", sensitive=("sex", "race"), threshold=0.45,
                            n_boot=200),
    "prediction": AssessmentSpec(target="y", prediction="pred", sensitive=("sex", "race"),
                                 n_boot=200),
    "per_group": AssessmentSpec(
        target="y", score="score", sensitive=("sex", "race"), n_boot=200,
        policy=DecisionPolicy.per_group("race", {"A": 0.4, "B": 0.5, "C": 0.55, "D": 0.45,
                                                 "(missing)": 0.5})),
    "randomised": AssessmentSpec(
        target="y", score="score", sensitive=("sex", "race"), n_boot=0,
        policy=DecisionPolicy.per_group("sex", {"Female": 0.4, "Male": 0.5},
                                        mix={"Female": (0.3, 0.6)})),
    # three parts in one group, a threshold and nobody in the other
    "randomised_parts": AssessmentSpec(
        target="y", score="score", sensitive=("sex", "race"), n_boot=0,
        policy=DecisionPolicy.per_group(
            "sex", {"Female": 0.4, "Male": 0.5},
            mix={"Female": {"probability": 0.5, "else": [{"threshold": 0.6, "probability": 0.3}],
                            "everybody": 0.2},
                 "Male": {"probability": 0.6, "else": [], "nobody": 0.4}})),
    "bins": AssessmentSpec(target="y", score="score", sensitive=("sex", "age"),
                           bins={"age": Binning((18, 30, 50, np.inf), ("18-29", "30-49", "50+"))},
                           n_boot=0),
    # ages 17..89 fall below and above these bands: their own groups on every engine
    "bins_outside": AssessmentSpec(target="y", score="score", sensitive=("sex", "age"),
                                   bins={"age": Binning((25, 40, 65), ("25-39", "40-65"))},
                                   n_boot=0),
}


def _same(a, b):
    ca, cb = a.counts_frame(), b.counts_frame()
    if ca["tp"].dtype.kind == "f":  # expected counts of a randomised policy
        assert ca[["feature", "group"]].equals(cb[["feature", "group"]])
        cols = ["n", "tp", "fp", "tn", "fn"]
        np.testing.assert_allclose(ca[cols].to_numpy(float), cb[cols].to_numpy(float),
                                   rtol=1e-12)
    else:
        assert ca.equals(cb)
    assert a.n_rows == b.n_rows and a.n_dropped == b.n_dropped
    assert a.cube.dropped_reasons == b.cube.dropped_reasons
    m = a.by_group.merge(b.by_group, on=["feature", "group", "metric"], validate="1:1")
    assert len(m) == len(a.by_group) == len(b.by_group)
    for col in ("value", "ci_low", "ci_high"):
        np.testing.assert_allclose(m[f"{col}_x"], m[f"{col}_y"], rtol=1e-12, atol=1e-12,
                                   equal_nan=True)
    da, db = a.to_dict(), b.to_dict()
    for key in ("criteria", "overall", "reference_groups", "pos_label", "notes"):
        assert _rounded(da[key]) == _rounded(db[key]), key


def _rounded(v):
    if isinstance(v, dict):
        return {k: _rounded(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_rounded(x) for x in v]
    return round(v, 10) if isinstance(v, float) else v


@pytest.mark.parametrize("name", list(SPECS))
def test_duckdb_equals_pandas(parquet, name):
    spec = SPECS[name]
    expected = faircard.assess_spec(pd.read_parquet(parquet), spec)
    got = assess_grouped(count_duckdb(str(parquet), spec), spec)
    _same(expected, got)


@pytest.mark.parametrize("name", ["score", "per_group", "randomised", "bins"])
def test_the_packed_key_gives_the_grouped_table_of_one_column_per_part(parquet, monkeypatch,
                                                                        name):
    """Numbering the features' and outcome's values, the flags and the grid cell into one key
    (with missing values and a float feature) gives the same grouped table as grouping by each
    column, which the query does when a feature has too many values to number."""
    import faircard.engine.sources as sources

    spec = SPECS[name]
    codings = []
    unpack = sources._unpacked
    monkeypatch.setattr(sources, "_unpacked",
                        lambda g, coding, *a: codings.append(coding) or unpack(g, coding, *a))
    packed = count_duckdb(str(parquet), spec).grouped
    monkeypatch.setattr(sources, "MAX_CODED", 0)
    plain = count_duckdb(str(parquet), spec).grouped
    assert codings[0] is not None and codings[1] is None
    keys = [c for c in plain.columns if c not in ("__n", "__sq", "__ll")]
    assert list(packed.columns) == list(plain.columns)
    a = packed.sort_values(keys).reset_index(drop=True)
    b = plain.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(a.drop(columns=["__sq", "__ll"]),
                                  b.drop(columns=["__sq", "__ll"]), check_dtype=False)
    np.testing.assert_allclose(a[["__sq", "__ll"]], b[["__sq", "__ll"]], rtol=1e-12)


def test_a_feature_with_more_values_than_are_numbered_is_grouped_by_its_values(tmp_path):
    rows = _rows(30_000, seed=17, distinct=None)
    rows["income"] = np.round(np.random.default_rng(3).lognormal(10, 1, len(rows)))
    assert rows["income"].nunique() > 1_000
    path = tmp_path / "income.parquet"
    rows.to_parquet(path)
    spec = AssessmentSpec(target="y", score="score", sensitive=("sex", "income"), n_boot=50,
                          bins={"income": Binning((0, 20_000, 50_000, np.inf),
                                                  ("<20k", "20-50k", "50k+"))})
    _same(faircard.assess_spec(rows, spec), assess_grouped(count_duckdb(str(path), spec), spec))


def test_duckdb_equals_fairlearn(parquet):
    spec = SPECS["score"]
    got = assess_grouped(count_duckdb(str(parquet), spec), spec).by_group_wide()
    rows = pd.read_parquet(parquet).dropna(subset=["y", "score"])
    y_pred = (rows["score"] >= spec.threshold).astype(int)
    mf = MetricFrame(metrics={"selection_rate": selection_rate,
                              "true_positive_rate": true_positive_rate,
                              "false_positive_rate": false_positive_rate},
                     y_true=rows["y"].astype(int), y_pred=y_pred, sensitive_features=rows["sex"])
    sex = got[got["feature"] == "sex"].set_index("group")
    for metric in mf.by_group.columns:
        for group, value in mf.by_group[metric].items():
            assert sex.loc[group, metric] == pytest.approx(value, abs=1e-12)


def test_folder_and_glob_give_the_same_numbers(tmp_path):
    rows = _rows(20_000, seed=8)
    folder = tmp_path / "parts"
    for i in range(4):
        part = rows.iloc[i * 5000:(i + 1) * 5000]
        d = folder / f"batch={i}"
        d.mkdir(parents=True)
        part.to_parquet(d / "part.parquet")
    spec = SPECS["score"]
    expected = faircard.assess_spec(rows.reset_index(drop=True), spec)
    _same(expected, assess_grouped(count_duckdb(str(folder), spec), spec))
    _same(expected, assess_grouped(count_duckdb(str(folder / "*" / "*.parquet"), spec), spec))


def test_many_distinct_scores_use_a_grid_with_exact_counts_and_a_bounded_auc(tmp_path):
    rows = _rows(150_000, seed=9, distinct=None)
    path = tmp_path / "continuous.parquet"
    rows.to_parquet(path)
    spec = SPECS["score"]
    expected = faircard.assess_spec(rows, spec)
    got = assess_grouped(count_duckdb(str(path), spec), spec)
    assert expected.counts_frame().equals(got.counts_frame())
    engine = got.extras["engine"]
    assert engine["score_step"] is not None and engine["score_step"] <= 1e-4
    bound = engine["auc_error_bound"]
    auc = lambda a: a.by_group[a.by_group["metric"] == "roc_auc"]["value"].to_numpy()  # noqa: E731
    gap = np.nanmax(np.abs(auc(expected) - auc(got)))
    assert gap <= bound + 1e-12
    assert any("grid" in note for note in got.notes)


def test_grid_auc_equals_scikit_learn_on_the_grid_cells_and_its_bound_counts_tied_pairs(
        tmp_path):
    """On the score grid, each group's AUC is scikit-learn's AUC of the rows' grid-cell
    numbers, and the error bound is half the largest share of (positive, negative) pairs that
    share a cell, counted here pair class by pair class."""
    from sklearn.metrics import roc_auc_score

    rows = _rows(150_000, seed=11, distinct=None)
    path = tmp_path / "continuous.parquet"
    rows.to_parquet(path)
    spec = SPECS["score"]
    got = assess_grouped(count_duckdb(str(path), spec), spec)
    kept = rows.dropna(subset=["y", "score"]).copy()
    lo, hi = kept["score"].min(), kept["score"].max()
    step = (hi - lo) / 10_000
    assert got.extras["engine"]["score_step"] == pytest.approx(step, rel=1e-15)
    kept["cell"] = np.floor((kept["score"] - lo) / step)
    kept["race"] = kept["race"].fillna("(missing)")
    kept["sex & race"] = kept["sex"] + " & " + kept["race"]
    auc = got.by_group[got.by_group["metric"] == "roc_auc"].set_index(["feature", "group"])
    worst = 0.0
    for feature in ("sex", "race", "sex & race"):
        for group, part in kept.groupby(feature):
            ours = auc.loc[(feature, group), "value"]
            assert ours == pytest.approx(roc_auc_score(part["y"], part["cell"]), abs=1e-12)
            per_cell = part.groupby("cell")["y"].agg(["sum", "count"])
            tied = (per_cell["sum"] * (per_cell["count"] - per_cell["sum"])).sum()
            n_pos = part["y"].sum()
            worst = max(worst, 0.5 * tied / (n_pos * (len(part) - n_pos)))
    assert got.overall["roc_auc"] == pytest.approx(roc_auc_score(kept["y"], kept["cell"]),
                                                   abs=1e-12)
    assert got.extras["engine"]["auc_error_bound"] == pytest.approx(worst, rel=1e-12)


@pytest.mark.parametrize("labels", [(" >50K", "<=50K "), (True, False), (1.0, 0.0), ("yes", "no")],
                         ids=["padded-text", "bool", "float", "yes-no"])
def test_brier_and_log_loss_sums_find_the_positive_label_as_pandas_does(tmp_path, labels):
    """The score sums compare each row's outcome with the positive label inside the query;
    whatever the target's type (text with stray spaces, booleans, floats), the Brier score and
    log loss equal scikit-learn's and the pandas path's."""
    from sklearn.metrics import brier_score_loss, log_loss

    rows = _rows(20_000, seed=13, distinct=None).dropna(subset=["y"])
    positive, negative = labels
    rows["outcome"] = np.where(rows["y"] == 1, positive, negative)
    if isinstance(positive, bool):
        rows["outcome"] = rows["outcome"].astype(bool)
    path = tmp_path / "labels.parquet"
    rows.to_parquet(path)
    spec = AssessmentSpec(target="outcome", score="score", sensitive=("sex",), n_boot=0)
    got = assess_grouped(count_duckdb(str(path), spec), spec)
    _same(faircard.assess_spec(rows.reset_index(drop=True), spec), got)
    kept = rows.dropna(subset=["score"])
    y = (kept["y"] == 1).to_numpy()
    assert got.overall["brier_score"] == pytest.approx(brier_score_loss(y, kept["score"]),
                                                       abs=1e-12)
    assert got.overall["log_loss"] == pytest.approx(log_loss(y, kept["score"]), abs=1e-12)


def test_duckdb_input_errors_are_sentences(tmp_path, parquet):
    with pytest.raises(FaircardError, match="Sensitive feature 'gender' is not in the dataset"):
        count_duckdb(str(parquet), AssessmentSpec(target="y", score="score",
                                                  sensitive=("gender",)))
    text = tmp_path / "text.parquet"
    pd.DataFrame({"y": [0, 1], "score": ["a", "b"], "sex": ["F", "M"]}).to_parquet(text)
    with pytest.raises(FaircardError, match="has text values"):
        count_duckdb(str(text), AssessmentSpec(target="y", score="score", sensitive=("sex",)))
    with pytest.raises(FaircardError, match="No file matches"):
        count_duckdb(str(tmp_path / "nothing-*.parquet"),
                     AssessmentSpec(target="y", score="score", sensitive=("sex",)))


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
@pytest.mark.parametrize("name", ["score", "bins_outside"])
def test_spark_equals_duckdb_and_pandas(spark, parquet, name):
    spec = SPECS[name]
    expected = faircard.assess_spec(pd.read_parquet(parquet), spec)
    from faircard.engine.sources import count_spark

    got = assess_grouped(count_spark(spark.read.parquet(str(parquet)), spec), spec)
    _same(expected, got)


def test_cli_engines_write_the_same_assessment(parquet, tmp_path):
    import json

    from faircard.cli import main

    base = ["assess", str(parquet), "--target", "y", "--score", "score", "--sensitive", "sex",
            "--sensitive", "race", "--bootstrap", "100", "--quiet"]
    docs = {}
    for engine in ("pandas", "duckdb", "auto"):
        out = tmp_path / f"{engine}.json"
        assert main(base + ["--engine", engine, "--json", str(out)]) == 0
        docs[engine] = json.loads(out.read_text())
    assert _rounded(docs["pandas"]) == _rounded(docs["duckdb"]) == _rounded(docs["auto"])
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(SPECS["per_group"].policy.to_dict()))
    for engine in ("pandas", "duckdb"):
        out = tmp_path / f"policy-{engine}.json"
        assert main(base + ["--engine", engine, "--policy", str(policy), "--json", str(out)]) == 0
        docs[engine] = json.loads(out.read_text())
    assert _rounded(docs["pandas"]) == _rounded(docs["duckdb"])
    assert docs["duckdb"]["by_group"] != json.loads((tmp_path / "auto.json").read_text())[
        "by_group"]


def test_cli_refuses_models_with_a_counting_engine(parquet, tmp_path, capsys):
    from faircard.cli import main

    model = tmp_path / "m.skops"
    model.write_bytes(b"not a model")
    code = main(["assess", str(parquet), "--target", "y", "--score", "score", "--sensitive",
                 "sex", "--engine", "duckdb", "--model", str(model)])
    assert code == 2
    assert "--engine pandas" in capsys.readouterr().err


def test_counting_engines_keep_the_input_refusals(tmp_path, capsys):
    """Personal data as a sensitive feature, and a feature with more than 50 groups, are
    refused with DuckDB as they are when the rows are read here."""
    from faircard.cli import main

    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({"y": rng.integers(0, 2, n), "score": rng.random(n),
                          "full_name": [f"Person {i}" for i in range(n)],
                          "zip": rng.integers(0, 60, n).astype(str)})
    path = tmp_path / "people.parquet"
    frame.to_parquet(path)
    base = ["assess", str(path), "--target", "y", "--score", "score", "--bootstrap", "0",
            "--engine", "duckdb", "--quiet"]
    assert main(base + ["--sensitive", "full_name"]) == 2
    err = capsys.readouterr().err
    assert "personal data" in err and "Person 1" not in err
    assert main(base + ["--sensitive", "zip"]) == 2
    assert "--allow-many-groups" in capsys.readouterr().err
    assert main(base + ["--sensitive", "zip", "--allow-many-groups"]) == 0


@pytest.fixture(scope="module")
def float32_parquet(tmp_path_factory):
    """4-byte float scores, some exactly 0 and 1, a threshold that lies between two of them."""
    rows = _rows(20_000, seed=9, distinct=None)
    rows.loc[rows.index[100:400], "score"] = 0.45  # stored as 0.44999998807907104
    rows["score"] = rows["score"].astype(np.float32)
    path = tmp_path_factory.mktemp("float32") / "rows.parquet"
    rows.to_parquet(path)
    return path


FLOAT32_SPEC = AssessmentSpec(target="y", score="score", sensitive=("sex", "race"),
                              threshold=0.45, n_boot=0)


def _float32_oracle(path, spec):
    from sklearn.metrics import confusion_matrix, log_loss

    rows = pd.read_parquet(path).dropna(subset=["y", "score"])
    score = rows["score"].to_numpy(np.float64)  # the stored 4-byte values, exactly
    assert ((score > 0.449999) & (score < 0.45)).any()  # a value rounding 0.45 would select
    assert (score == 1.0).any() and (score == 0.0).any()
    y, pred = rows["y"].astype(int), (score >= spec.threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    return (tp, fp, tn, fn), log_loss(y, score)  # clipped to the float64 eps, as faircard does


def test_four_byte_float_scores_are_compared_as_pandas_compares_them(float32_parquet):
    spec = FLOAT32_SPEC
    expected = faircard.assess_spec(pd.read_parquet(float32_parquet), spec)
    got = assess_grouped(count_duckdb(str(float32_parquet), spec), spec)
    _same(expected, got)
    (tp, fp, tn, fn), loss = _float32_oracle(float32_parquet, spec)
    overall = got.counts_frame().query("feature == 'sex'")[["tp", "fp", "tn", "fn"]].sum()
    assert tuple(overall) == (tp, fp, tn, fn)
    assert got.overall["log_loss"] == pytest.approx(loss, rel=1e-9)


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_compares_four_byte_float_scores_as_pandas_does(spark, float32_parquet):
    from faircard.engine.sources import count_spark

    spec = FLOAT32_SPEC
    expected = faircard.assess_spec(pd.read_parquet(float32_parquet), spec)
    got = assess_grouped(count_spark(spark.read.parquet(str(float32_parquet)), spec), spec)
    _same(expected, got)


def test_duckdb_puts_ages_outside_the_bands_in_their_own_groups_as_pandas_cut_does(parquet):
    spec = SPECS["bins_outside"]
    rows = pd.read_parquet(parquet).dropna(subset=["y", "score"])
    band = pd.cut(rows["age"], [-np.inf, 25, 40, 65, np.inf], right=False,
                  labels=["under 25", "25-39", "40-65", "over 65"]).astype(object)
    band[rows["age"] == 65] = "40-65"  # the top edge belongs to the last band
    expected = band.where(rows["age"].notna(), "(missing)").value_counts()
    got = assess_grouped(count_duckdb(str(parquet), spec), spec).counts_frame()
    got = got[got["feature"] == "age"].set_index("group")["n"]
    assert {k: int(v) for k, v in got.items()} == {k: int(v) for k, v in expected.items()}
