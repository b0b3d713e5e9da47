"""A single Parquet file's first rows, row count and footers read by pyarrow for the one pass
(see :mod:`faircard.engine.one_pass`): DuckDB types pyarrow's columns as it types the file's,
so the same queries over them give the same guesses, and the counts are those of pandas and
of DuckDB's own reading of the first rows. A column DuckDB would type otherwise, and a file
DuckDB reads with columns from its folders' names, have their first rows read by DuckDB."""

from __future__ import annotations

import decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import faircard
import faircard.engine.one_pass as one_pass
from faircard.engine.grouped import assess_grouped
from faircard.engine.sources import count_duckdb
from faircard.spec import AssessmentSpec
from tests.unit.test_engine_one_pass import recording
from tests.unit.test_engine_types import _feature, _target

N = 210_000  # past the first 200,000 rows, whose distinct scores put them on a grid


@pytest.fixture
def heads(monkeypatch):
    """Which way each count went: pyarrow's first rows (or None), and whether the grouped
    query alone counted the rows."""
    return {"arrow": recording(monkeypatch, one_pass, "_arrow_head"),
            "one_pass": recording(monkeypatch, one_pass, "count_in_one_pass")}


def _rows(kinds: tuple[str, str, str, str], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"f": _feature(rng.integers(0, 3, N), kinds[0], rng.random(N) < 0.1),
                          "h": _feature(rng.integers(-1, 2, N), kinds[1], rng.random(N) < 0.1),
                          "y": _target(rng.random(N) < 0.4, kinds[2])})
    if kinds[3].startswith("int"):  # distinct whole numbers
        frame["s"] = pd.Series(rng.permutation(N)).astype(kinds[3])
    else:
        frame["s"] = pd.Series(rng.random(N)).astype(kinds[3])
    return frame


def _spec(frame: pd.DataFrame) -> AssessmentSpec:
    threshold = 100_000.0 if frame["s"].dtype.kind == "i" else 0.5
    return AssessmentSpec(target="y", score="s", sensitive=("f", "h"), threshold=threshold,
                          n_boot=0, min_group_size=0)


def _assessed(path, spec: AssessmentSpec):
    return assess_grouped(count_duckdb(str(path), spec), spec)


def _same(a, b, auc_error: float = 0.0) -> None:
    """The same counts and score metrics (``auc_error``: the AUC's bound on the grid, against
    exact scores)."""
    pd.testing.assert_frame_equal(a.counts_frame(), b.counts_frame())
    assert (a.n_rows, a.n_dropped) == (b.n_rows, b.n_dropped)
    assert abs(a.overall["roc_auc"] - b.overall["roc_auc"]) <= auc_error
    for key in ("brier_score", "log_loss"):
        assert a.overall[key] == pytest.approx(b.overall[key], rel=1e-12, nan_ok=True), key


@pytest.mark.parametrize("kinds", [("str", "category", "int8", "float64"),
                                   ("float32", "Int64", "str", "float32"),
                                   ("bool", "int64", "bool", "int64"),
                                   ("category", "float64", "Int64", "int32")])
def test_pyarrow_s_first_rows_give_the_counts_of_pandas_and_of_duckdb_s(tmp_path, heads,
                                                                       monkeypatch, kinds):
    frame = _rows(kinds, seed=sum(map(len, kinds)))
    path = tmp_path / "rows.parquet"
    frame.to_parquet(path)
    spec = _spec(frame)
    got = _assessed(path, spec)
    assert heads["arrow"][0] is not None and heads["one_pass"][0] is not None
    _same(got, faircard.assess_spec(pd.read_parquet(path), spec),
          got.extras["engine"]["auc_error_bound"])
    # DuckDB's first rows (4-byte scores counted the plain way: DuckDB gives their footers'
    # range as decimals, such as 0.1, which no 4-byte score is; pyarrow gives the numbers)
    monkeypatch.setattr(one_pass, "_arrow_head", lambda *a: None)
    by_duckdb = _assessed(path, spec)
    assert (heads["one_pass"][1] is not None) == (kinds[3] != "float32")
    _same(got, by_duckdb)
    assert got.extras["engine"] == by_duckdb.extras["engine"]


def test_the_first_rows_summary_of_pyarrow_is_duckdb_s(tmp_path):
    """Distinct scores (0.0 and -0.0 one score), least and greatest, as DuckDB counts them."""
    import duckdb

    scores = np.concatenate([[0.0, -0.0, 1.0], np.round(np.linspace(0, 1, 5_000), 3)])
    for column in (pa.chunked_array([scores]), pa.chunked_array([scores.astype(np.float32)]),
                   pa.chunked_array([np.arange(-5, 900, dtype=np.int64)])):
        ours = one_pass._score_summary(column)
        con = duckdb.connect()
        con.register("t", pa.table({"s": column}))
        theirs = con.execute("SELECT COUNT(DISTINCT CAST(s AS DOUBLE)), MIN(CAST(s AS DOUBLE)),"
                             " MAX(CAST(s AS DOUBLE)) FROM t").fetchone()
        assert (ours["score_distinct"], ours["lo"], ours["hi"]) == theirs
    assert one_pass._score_summary(pa.chunked_array([[0.5, None]])) is None
    assert one_pass._score_summary(pa.chunked_array([[0.5, float("nan")]])) is None
    assert one_pass._score_summary(pa.chunked_array(
        [pa.array([decimal.Decimal("0.5")], pa.decimal128(4, 2))])) is None


def _odd_file(path, column: str) -> pd.DataFrame:
    """Rows with a half-precision feature, or an INT96 timestamp beside the others: DuckDB
    reads them from the file as FLOAT and TIMESTAMP, but refuses pyarrow's half floats and
    types its timestamps TIMESTAMP_NS."""
    frame = _rows(("str", "int8", "int8", "float64"), seed=5)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if column == "a half float":
        table = table.append_column("x", pa.array(np.tile(np.float16([0.5, 1.5]), N // 2)))
    else:
        table = table.append_column("x", pa.array(np.full(N, np.datetime64("2020-01-01"),
                                                          dtype="datetime64[ns]")))
    pq.write_table(table, path, use_deprecated_int96_timestamps=True)
    return frame


@pytest.mark.parametrize("column", ["a half float", "an INT96 timestamp"])
def test_a_column_duckdb_types_otherwise_from_arrow_has_its_first_rows_read_by_duckdb(
        tmp_path, heads, monkeypatch, column):
    _odd_file(tmp_path / "rows.parquet", column)
    spec = AssessmentSpec(target="y", score="s", sensitive=("f", "x"), threshold=0.5,
                          n_boot=0, min_group_size=0)
    got = _assessed(tmp_path / "rows.parquet", spec)
    assert heads["arrow"] == [None]
    if column == "a half float":  # DuckDB's first rows list its values: still one pass
        assert heads["one_pass"][0] is not None
    monkeypatch.setattr(one_pass, "count_in_one_pass", lambda *a: None)  # the plain way
    _same(got, _assessed(tmp_path / "rows.parquet", spec))


def test_a_file_in_a_folder_named_key_value_has_its_first_rows_read_by_duckdb(tmp_path, heads):
    """DuckDB takes the column ``k`` from the folder's name, which pyarrow does not read."""
    frame = _rows(("str", "int8", "int8", "float64"), seed=6)
    folder = tmp_path / "k=7"
    folder.mkdir()
    frame.to_parquet(folder / "rows.parquet")
    spec = AssessmentSpec(target="y", score="s", sensitive=("f", "k"), threshold=0.5,
                          n_boot=0, min_group_size=0)
    got = _assessed(folder / "rows.parquet", spec)
    assert not one_pass.single_parquet_file(str(folder / "rows.parquet"))
    assert heads["arrow"] == [None] and heads["one_pass"][0] is not None
    _same(got, faircard.assess_spec(frame.assign(k=7), spec),
          got.extras["engine"]["auc_error_bound"])
