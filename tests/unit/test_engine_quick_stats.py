"""When every row of a Parquet file has an outcome and a score, the grouped query alone counts
scores on the grid (its guesses, from the first rows and the footers, checked by its own
counts), and one pass over those two columns gives DuckDB the row accounting and the score's
range for exact scores. Files with NaN or missing outcomes or scores are counted with the full
row accounting, and every file gives the counts pandas and scikit-learn give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import confusion_matrix, roc_auc_score

import faircard
import faircard.engine.sources as sources
from faircard.engine.grouped import assess_grouped
from faircard.engine.sources import count_duckdb
from faircard.errors import FaircardError
from faircard.spec import AssessmentSpec

SPEC = AssessmentSpec(target="y", score="score", sensitive=("sex", "race"), threshold=0.45,
                      n_boot=0)


def _rows(n: int, seed: int, distinct: int | None = 1000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], n)
    y = (rng.random(n) < 0.3 + 0.1 * (sex == "Male")).astype(np.float64)
    score = np.clip(0.35 * y + rng.normal(0.35, 0.2, n), 0, 1)
    if distinct:
        score = np.round(score * distinct) / distinct
    return {"y": y, "score": score, "sex": sex,
            "race": rng.choice(["A", "B", "C"], n, p=[0.6, 0.3, 0.1])}


def _write(path, columns: dict[str, np.ndarray], **kwargs) -> None:
    """NumPy arrays as Parquet columns as they are: a NaN stays a NaN (pandas would write a
    missing value instead), which the footers' statistics leave out."""
    pq.write_table(pa.table({k: pa.array(v) for k, v in columns.items()}), path, **kwargs)


def _sklearn_counts(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per group of sex and of race: n, tp, fp, tn, fn from scikit-learn's confusion matrix on
    the rows with a finite score and an outcome."""
    kept = frame[np.isfinite(frame["score"]) & frame["y"].notna()]
    out = []
    for feature in ("sex", "race"):
        for group, part in kept.groupby(feature):
            tn, fp, fn, tp = confusion_matrix(part["y"] == 1, part["score"] >= threshold,
                                              labels=[False, True]).ravel()
            out.append((feature, group, len(part), tp, fp, tn, fn))
    return pd.DataFrame(out, columns=["feature", "group", "n", "tp", "fp", "tn", "fn"])


def _check(path, frame: pd.DataFrame, spec: AssessmentSpec = SPEC):
    """The DuckDB assessment of ``path`` against pandas (``frame`` as read) and scikit-learn."""
    got = assess_grouped(count_duckdb(str(path), spec), spec)
    expected = faircard.assess_spec(frame, spec)
    pd.testing.assert_frame_equal(got.counts_frame(), expected.counts_frame())
    assert (got.n_rows, got.n_dropped) == (expected.n_rows, expected.n_dropped)
    assert got.cube.dropped_reasons == expected.cube.dropped_reasons
    ours = got.counts_frame()
    ours = ours[ours["feature"] != "sex & race"].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, _sklearn_counts(frame, spec.policy.threshold),
                                  check_dtype=False)
    for key in ("brier_score", "log_loss"):
        assert got.overall[key] == pytest.approx(expected.overall[key], rel=1e-12), key
    return got, expected


@pytest.fixture
def spy(monkeypatch):
    """Which way each count went: whether the grouped query alone counted the rows (its
    guesses held), and whether every row was kept (the row accounting from one pass over the
    outcome and the score)."""
    import faircard.engine.one_pass as one_pass
    from tests.unit.test_engine_one_pass import recording

    return {"quick": recording(monkeypatch, sources, "_all_kept"),
            "one_pass": recording(monkeypatch, one_pass, "count_in_one_pass")}


def _alone(seen) -> list[bool]:
    return [counted is not None for counted in seen["one_pass"]]


def test_a_file_without_missing_values_is_counted_in_one_pass(tmp_path, spy):
    rows = _rows(20_000, seed=1)
    path = tmp_path / "clean.parquet"
    _write(path, rows)
    got, _ = _check(path, pd.read_parquet(path))
    assert spy["quick"][0] is not None and _alone(spy) == [False]  # exact scores
    assert got.overall["roc_auc"] == pytest.approx(roc_auc_score(rows["y"], rows["score"]),
                                                   abs=1e-12)


def test_many_distinct_scores_among_the_first_rows_put_them_on_the_grid(tmp_path, spy):
    rows = _rows(150_000, seed=2, distinct=None)
    path = tmp_path / "continuous.parquet"
    _write(path, rows)
    got, expected = _check(path, pd.read_parquet(path))
    assert _alone(spy) == [True] and spy["quick"] == []
    step = got.extras["engine"]["score_step"]
    assert step == (rows["score"].max() - rows["score"].min()) / 10_000 and step <= 1e-4
    gap = abs(got.overall["roc_auc"] - expected.overall["roc_auc"])
    assert gap <= got.extras["engine"]["auc_error_bound"] + 1e-12


@pytest.mark.parametrize("distinct", [1000, None], ids=["exact-scores", "grid"])
def test_nan_scores_are_counted_as_missing(tmp_path, spy, distinct):
    rows = _rows(150_000, seed=3, distinct=distinct)
    rows["score"][::97] = np.nan
    path = tmp_path / "nan-scores.parquet"
    _write(path, rows)
    frame = pd.read_parquet(path)
    assert frame["score"].isna().sum() == len(range(0, 150_000, 97))
    got, _ = _check(path, frame)
    # NaN is not missing for the footers, whose ranges leave it out: the grouped query's
    # guesses do not hold (rows left out), so the full row accounting counts them
    assert spy["quick"] == [None] and _alone(spy) == [False]
    assert got.cube.dropped_reasons == {"missing score": len(range(0, 150_000, 97))}


def test_nan_outcomes_whose_scores_widen_the_range_are_counted_on_the_kept_rows_grid(
        tmp_path, spy):
    """The footers' range includes the scores of rows left out for a NaN outcome; the grid is
    that of the rows kept, as the full row accounting finds it."""
    rows = _rows(150_000, seed=4, distinct=None)
    rows["y"][:50] = np.nan
    rows["score"][:50] = -3.0  # only on rows without an outcome
    path = tmp_path / "nan-outcomes.parquet"
    _write(path, rows)
    got, _ = _check(path, pd.read_parquet(path))
    assert spy["quick"] == [None] and _alone(spy) == [False]
    kept = rows["score"][50:]
    assert got.extras["engine"]["score_step"] == (kept.max() - kept.min()) / 10_000
    assert got.cube.dropped_reasons == {"missing target": 50}


def test_missing_values_go_straight_to_the_full_row_accounting(tmp_path, spy):
    frame = pd.DataFrame(_rows(5_000, seed=5))
    frame.loc[:9, "score"] = None
    path = tmp_path / "nulls.parquet"
    frame.to_parquet(path)  # pandas writes missing values, which the footers count
    _check(path, pd.read_parquet(path))
    assert spy["quick"] == [None] and _alone(spy) == [False]


def test_a_file_without_statistics_in_its_footers_gives_the_same_counts(tmp_path, spy):
    rows = _rows(20_000, seed=6)
    rows["score"][5] = np.nan
    path = tmp_path / "no-statistics.parquet"
    _write(path, rows, write_statistics=False)
    _check(path, pd.read_parquet(path))
    assert spy["quick"] == [None] and _alone(spy) == [False]


@pytest.mark.parametrize("outcome", [1.0, np.nan, None], ids=["kept", "nan-outcome",
                                                               "missing-outcome"])
@pytest.mark.parametrize("score", [np.inf, -np.inf])
def test_infinite_scores_are_refused_as_in_memory(tmp_path, outcome, score):
    """Even on a row left out for its outcome, as pandas refuses them."""
    rows = {k: v.tolist() for k, v in _rows(5_000, seed=7).items()}
    rows["score"][3], rows["y"][3] = score, outcome
    path = tmp_path / "inf.parquet"
    pq.write_table(pa.table(rows), path)
    with pytest.raises(FaircardError, match="infinite"):
        faircard.assess_spec(pd.read_parquet(path), SPEC)
    with pytest.raises(FaircardError, match="infinite"):
        count_duckdb(str(path), SPEC)


def test_a_prediction_column_with_nan_is_counted_as_missing(tmp_path, spy):
    rows = _rows(10_000, seed=8)
    rows["pred"] = (rows["score"] >= 0.5).astype(np.float64)
    rows["pred"][::50] = np.nan
    path = tmp_path / "pred.parquet"
    _write(path, rows)
    spec = AssessmentSpec(target="y", prediction="pred", sensitive=("sex", "race"), n_boot=0)
    got = assess_grouped(count_duckdb(str(path), spec), spec)
    expected = faircard.assess_spec(pd.read_parquet(path), spec)
    pd.testing.assert_frame_equal(got.counts_frame(), expected.counts_frame())
    assert got.cube.dropped_reasons == expected.cube.dropped_reasons == {
        "missing prediction": 200}
    assert spy["quick"] == [None] and spy["one_pass"] == []  # no score


def test_nan_feature_values_are_the_missing_group_as_in_memory(tmp_path):
    rows = _rows(10_000, seed=9)
    rows["age"] = np.random.default_rng(9).choice([25.0, 40.0, np.nan], 10_000)
    path = tmp_path / "nan-feature.parquet"
    _write(path, rows)
    spec = AssessmentSpec(target="y", score="score", sensitive=("age",), n_boot=0)
    frame = pd.read_parquet(path)
    got = assess_grouped(count_duckdb(str(path), spec), spec)
    expected = faircard.assess_spec(frame, spec)
    pd.testing.assert_frame_equal(got.counts_frame(), expected.counts_frame())
    missing = got.counts_frame().set_index("group").loc["(missing)", "n"]
    assert missing == frame["age"].isna().sum() > 0


def test_outcome_values_only_on_rows_left_out_do_not_count(tmp_path, spy):
    """A third outcome value on rows whose score is NaN: the footers' outcome values include
    it and cannot name a positive label; the rows kept have two values, as in memory."""
    rows = _rows(10_000, seed=10)
    rows["y"][:7] = 2.0
    rows["score"][:7] = np.nan
    path = tmp_path / "third-outcome.parquet"
    _write(path, rows)
    _check(path, pd.read_parquet(path))
    assert spy["quick"] == [None] and _alone(spy) == [False]


def test_a_positive_label_only_on_rows_left_out_is_asked_for_as_in_memory(tmp_path):
    rows = {"f": np.array(["a", "b", "a", "b"]), "y": np.array([0.0, 0.0, 0.0, 1.0]),
            "score": np.array([0.2, 0.7, 0.4, np.nan])}
    path = tmp_path / "rows.parquet"
    _write(path, rows)
    spec = AssessmentSpec(target="y", score="score", sensitive=("f",), n_boot=0,
                          min_group_size=0)
    with pytest.raises(FaircardError, match="only has the value 0") as in_memory:
        faircard.assess_spec(pd.read_parquet(path), spec)
    with pytest.raises(FaircardError) as counted:
        assess_grouped(count_duckdb(str(path), spec), spec)
    assert str(counted.value) == str(in_memory.value)
