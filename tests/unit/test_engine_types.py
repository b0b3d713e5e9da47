"""Whatever the column types of a Parquet file, DuckDB counts what pandas counts: the same
groups with the same labels, the same confusion counts and the same score metrics (property
test over the types a decision log comes with)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import faircard
from faircard.engine.grouped import assess_grouped
from faircard.engine.sources import count_duckdb
from faircard.errors import FaircardError
from faircard.spec import AssessmentSpec

FEATURE_TYPES = ["str", "category", "int8", "int64", "Int64", "float32", "float64", "bool"]
TARGET_TYPES = ["int8", "int64", "float64", "bool", "str", "Int64"]
SCORE_TYPES = ["float32", "float64", "int32", "int64"]


def _feature(codes: np.ndarray, kind: str, missing: np.ndarray) -> pd.Series:
    values = pd.Series(codes)
    if kind == "str":
        out = values.map(lambda c: f"g{c}").astype(object)
    elif kind == "category":
        out = values.map(lambda c: f"c{c}").astype("category")
    elif kind == "bool":
        return values.astype(bool)  # no missing value in a plain bool column
    elif kind == "Int64":
        out = values.astype("Int64")
    elif kind.startswith("float"):
        out = (values * 1.5).astype(kind)
    else:
        return values.astype(kind)
    return out.mask(missing) if kind != "category" else out.cat.add_categories([]).mask(missing)


def _target(y: np.ndarray, kind: str) -> pd.Series:
    if kind == "str":
        return pd.Series(np.where(y, "yes", "no"), dtype=object)
    if kind == "bool":
        return pd.Series(y.astype(bool))
    return pd.Series(y.astype(np.int64)).astype(kind)


@st.composite
def tables(draw):
    n = draw(st.integers(5, 80))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    kinds = (draw(st.sampled_from(FEATURE_TYPES)), draw(st.sampled_from(FEATURE_TYPES)),
             draw(st.sampled_from(TARGET_TYPES)), draw(st.sampled_from(SCORE_TYPES)))
    frame = pd.DataFrame({
        "f": _feature(rng.integers(0, 3, n), kinds[0], rng.random(n) < 0.1),
        "h": _feature(rng.integers(-1, 2, n), kinds[1], rng.random(n) < 0.1),
        "y": _target(rng.random(n) < 0.4, kinds[2]),
    })
    if kinds[3].startswith("int"):
        score = pd.Series(rng.integers(0, 11, n)).astype(kinds[3])
        threshold = float(draw(st.integers(0, 11)))
    else:
        raw = np.round(rng.random(n), draw(st.sampled_from([1, 2, 7])))
        raw[rng.random(n) < 0.1] = np.nan
        score = pd.Series(raw).astype(kinds[3])
        # a threshold on a stored value, or one its 4-byte rounding would cross
        picks = [float(v) for v in raw[~np.isnan(raw)][:3]] + [0.45, 0.1, 0.0]
        threshold = draw(st.sampled_from(picks))
    frame["score"] = score
    return frame, threshold, kinds


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(tables())
def test_duckdb_counts_what_pandas_counts_whatever_the_column_types(tmp_path, case):
    frame, threshold, kinds = case
    path = tmp_path / "rows.parquet"
    frame.to_parquet(path)
    spec = AssessmentSpec(target="y", score="score", sensitive=("f", "h"), threshold=threshold,
                          n_boot=0, min_group_size=0)
    try:
        expected = faircard.assess_spec(pd.read_parquet(path), spec)
    except FaircardError:  # refused in memory: refused where the data lives
        with pytest.raises(FaircardError):
            assess_grouped(count_duckdb(str(path), spec), spec)
        return
    got = assess_grouped(count_duckdb(str(path), spec), spec)
    ca, cb = expected.counts_frame(), got.counts_frame()
    pd.testing.assert_frame_equal(ca, cb, obj=f"counts {kinds} at {threshold!r}")
    assert (expected.n_rows, expected.n_dropped) == (got.n_rows, got.n_dropped)
    for key in ("roc_auc", "brier_score", "log_loss"):
        a, b = expected.overall.get(key), got.overall.get(key)
        assert (a is None) == (b is None), key
        if a is not None:
            assert a == pytest.approx(b, rel=1e-9, abs=1e-12, nan_ok=True), (key, kinds)


SPARK_CASES = [  # (feature f, feature h, target, score): every type above at least once
    ("category", "Int64", "str", "float32"),
    ("float32", "bool", "bool", "float64"),
    ("int8", "str", "Int64", "int32"),
    ("float64", "int64", "float64", "int64"),
]


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_counts_what_pandas_counts_whatever_the_column_types(spark, tmp_path):
    from faircard.engine.sources import count_spark

    rng = np.random.default_rng(12)
    n = 400
    for j, kinds in enumerate(SPARK_CASES):
        frame = pd.DataFrame({
            "f": _feature(rng.integers(0, 3, n), kinds[0], rng.random(n) < 0.1),
            "h": _feature(rng.integers(-1, 2, n), kinds[1], rng.random(n) < 0.1),
            "y": _target(rng.random(n) < 0.4, kinds[2])})
        if kinds[3].startswith("int"):
            frame["score"] = pd.Series(rng.integers(0, 11, n)).astype(kinds[3])
            threshold = 5.0
        else:
            raw = np.round(rng.random(n), 2)
            raw[:20] = 0.45  # a 4-byte float rounds it below 0.45
            raw[20:30] = np.nan
            frame["score"] = pd.Series(raw).astype(kinds[3])
            threshold = 0.45
        path = tmp_path / f"rows{j}.parquet"
        frame.to_parquet(path)
        spec = AssessmentSpec(target="y", score="score", sensitive=("f", "h"),
                              threshold=threshold, n_boot=0, min_group_size=0)
        expected = faircard.assess_spec(pd.read_parquet(path), spec)
        got = assess_grouped(count_spark(spark.read.parquet(str(path)), spec), spec)
        pd.testing.assert_frame_equal(expected.counts_frame(), got.counts_frame(),
                                      obj=f"counts {kinds}")
        for key in ("roc_auc", "brier_score", "log_loss"):
            assert expected.overall[key] == pytest.approx(got.overall[key], rel=1e-9,
                                                          nan_ok=True), (key, kinds)


def test_the_positive_label_is_found_among_the_rows_kept_as_in_memory(tmp_path):
    """Found by the property test above: when every positive outcome is on a row left out (its
    score is missing), pandas asks for the positive label; DuckDB used to find it among the
    rows left out and assess."""
    frame = pd.DataFrame({"f": ["a", "b", "a", "b"], "h": [1, 1, 2, 2], "y": [0, 0, 0, 1],
                          "score": [0.2, 0.7, 0.4, np.nan]})
    path = tmp_path / "rows.parquet"
    frame.to_parquet(path)
    spec = AssessmentSpec(target="y", score="score", sensitive=("f",), n_boot=0,
                          min_group_size=0)
    with pytest.raises(FaircardError, match="only has the value 0") as in_memory:
        faircard.assess_spec(frame, spec)
    with pytest.raises(FaircardError) as counted:
        assess_grouped(count_duckdb(str(path), spec), spec)
    assert str(counted.value) == str(in_memory.value)


OUTCOME_RANGES = [("int8", [0, 1]), ("int8", [3, 4]), ("int16", [-1, 0]), ("int32", [7]),
                  ("int64", [2 ** 62, 2 ** 62 + 1]), ("uint8", [254, 255]),
                  ("uint64", [2 ** 64 - 2, 2 ** 64 - 1]), ("bool", [False, True]),
                  ("bool", [True]), ("int8", [0, 2]), ("int64", [0, 1, 2]),
                  ("float64", [0.0, 1.0])]


@pytest.mark.parametrize(("dtype", "values"), OUTCOME_RANGES)
def test_outcome_values_settled_by_their_range_are_those_the_rows_hold(tmp_path, dtype, values):
    """A whole-number or boolean outcome whose least and greatest values are one apart holds
    exactly those: the values (and dtype) the query over the rows returns; any other outcome
    is left to that query."""
    from faircard.engine import sources
    from faircard.engine.sql import count_queries

    y = pd.Series(np.resize(np.array(values, dtype=dtype), 50))
    path = tmp_path / "rows.parquet"
    pd.DataFrame({"y": y, "s": np.linspace(0, 1, 50), "g": ["a", "b"] * 25}).to_parquet(path)
    with sources.duckdb_source(str(path)) as (con, types):
        cols = sources._columns(AssessmentSpec(target="y", score="s", sensitive=("g",)), types)
        q = count_queries(cols)
        facts = sources._row(con.execute(q["facts"]), nan=True)
        settled = sources._outcomes_in_range(con, types["y"], facts)
        queried = con.execute(q["all_targets"]).fetchdf()["target"]
    if dtype.startswith("float") or max(values) - min(values) > 1:
        assert settled is None
        return
    assert settled is not None
    pd.testing.assert_series_equal(settled.sort_values(ignore_index=True),
                                   queried.sort_values(ignore_index=True))
    assert sorted(settled.tolist()) == sorted(set(y.tolist()))


@pytest.mark.parametrize("values", [[0, 1], [0, 2], [1, 2], [False, True]])
def test_whole_number_outcomes_count_as_in_memory(tmp_path, values):
    """Counted by DuckDB (outcome values from the range or from the rows) as pandas counts."""
    rng = np.random.default_rng(3)
    n = 400
    data = pd.DataFrame({"y": np.array(values)[rng.integers(0, len(values), n)],
                         "s": rng.random(n), "g": rng.choice(["a", "b", "c"], n)})
    path = tmp_path / "rows.parquet"
    data.to_parquet(path)
    spec = AssessmentSpec(target="y", score="s", sensitive=("g",), threshold=0.5,
                          pos_label=values[-1])
    got = assess_grouped(count_duckdb(str(path), spec), spec)
    want = faircard.assess(data, target="y", score="s", sensitive=["g"], threshold=0.5,
                           pos_label=values[-1], n_boot=0)
    pd.testing.assert_frame_equal(got.counts_frame(), want.counts_frame())
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    wide = got.by_group_wide().set_index(["feature", "group"]).loc["g"]
    for name, rows in data.groupby("g"):
        y_true = (rows["y"] == values[-1]).to_numpy()
        assert wide.loc[name, "brier_score"] == pytest.approx(
            brier_score_loss(y_true, rows["s"]), rel=1e-9)
        assert wide.loc[name, "log_loss"] == pytest.approx(
            log_loss(y_true, rows["s"], labels=[False, True]), rel=1e-9)
        assert wide.loc[name, "roc_auc"] == pytest.approx(roc_auc_score(y_true, rows["s"]),
                                                          rel=1e-12)
