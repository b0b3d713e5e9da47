"""A sensitive feature's values name its groups: one longer than ``MAX_GROUP_NAME`` characters,
in any row (kept or left out), is refused with the same sentence by an upload (pandas), DuckDB
and Spark, and DuckDB checks it before reading the values (a 184 KB Parquet file of 3,000
values of 1 MB took 112 s and 7.2 GB before it gave up; the figures after are in
docs/performance.md). At the limit, every engine counts the same groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import faircard
import faircard.engine.one_pass as one_pass
import faircard.engine.sources as sources
from faircard.engine import assess_source
from faircard.engine.grouped import assess_grouped
from faircard.errors import FaircardError
from faircard.prepare import MAX_GROUP_NAME
from faircard.spec import AssessmentSpec

SPEC = AssessmentSpec(target="y", score="s", sensitive=("g",), n_boot=0)
REFUSAL = (f"Sensitive feature 'g' has values of more than {MAX_GROUP_NAME:,} characters, too "
           "long to name a group; choose a column of categories such as sex, race or an age "
           "band.")


def _rows(names: list[str], n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": rng.integers(0, 2, n), "s": rng.random(n),
                         "g": [names[i % len(names)] for i in range(n)]})


def _parquet(rows: pd.DataFrame, path) -> str:
    pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), path, compression="zstd")
    return str(path)


def _refusals(path: str, spark=None) -> list[str]:
    """The refusal each engine gives (or 'counted' with the groups, sorted)."""
    out = []
    counters = [lambda: faircard.assess_spec(pd.read_parquet(path), SPEC),
                lambda: assess_source(path, SPEC, engine="duckdb")]
    if spark is not None:
        from faircard.engine.sources import count_spark

        counters.append(lambda: assess_grouped(count_spark(spark.read.parquet(path), SPEC),
                                               SPEC))
    for count in counters:
        try:
            a = count()
        except FaircardError as exc:
            out.append(str(exc))
        else:
            out.append("counted " + repr(sorted(a.counts[0].groups)))
    return out


# one character past the limit, in one byte or in two (DuckDB measures bytes, then characters)
@pytest.mark.parametrize("char", ["x", "é"])
def test_a_value_one_character_past_the_limit_is_refused_alike(tmp_path, char):
    at = char * MAX_GROUP_NAME
    path = _parquet(_rows(["A", "B", at]), tmp_path / "at.parquet")
    assert _refusals(path) == ["counted " + repr(sorted(["A", "B", at]))] * 2
    path = _parquet(_rows(["A", "B", at + char]), tmp_path / "past.parquet")
    assert _refusals(path) == [REFUSAL] * 2


def test_a_long_value_in_a_row_left_out_is_refused_alike(tmp_path):
    """Only the row left out (its score is missing) holds the long value: the upload, which
    names the groups of rows left out too, refuses it as DuckDB does."""
    rows = _rows(["A", "B"])
    rows.loc[7, "g"] = "x" * (MAX_GROUP_NAME + 1)
    rows.loc[7, "s"] = np.nan
    assert _refusals(_parquet(rows, tmp_path / "left_out.parquet")) == [REFUSAL] * 2


def test_long_values_are_checked_before_duckdb_reads_them(tmp_path, monkeypatch):
    """Values of 100,000 characters: the footers' sizes say so, so neither pyarrow nor DuckDB
    reads the first rows before the lengths are checked (by one query over every row)."""
    path = _parquet(_rows([f"{i:03d}" + "x" * 100_000 for i in range(40)], n=400),
                    tmp_path / "long.parquet")
    heads = []
    real = one_pass.count_in_one_pass
    monkeypatch.setattr(one_pass, "count_in_one_pass",
                        lambda *a: heads.append(1) or real(*a))
    with pytest.raises(FaircardError) as got:
        assess_source(path, SPEC, engine="duckdb")
    assert str(got.value) == REFUSAL and heads == []
    cols = sources.Columns("y", "s", ("g",), {}, True)
    assert one_pass.arrow_head(path, cols, 1000) is None  # the early reading is not started


def test_short_values_are_checked_among_the_first_rows_without_another_pass(tmp_path,
                                                                              monkeypatch):
    """Category names: the first rows' values are checked, and the one pass that counts the
    rows shows they are all the values there are; no query measures every row."""
    n = 210_000  # scores on the grid: the one pass applies
    rows = _rows(["Female", "Male", "Other"], n=n)
    path = _parquet(rows, tmp_path / "short.parquet")
    measured = []
    real = sources.check_text_lengths
    monkeypatch.setattr(sources, "check_text_lengths",
                        lambda q, f, **k: measured.append(list(f)) or real(q, f, **k))
    a = assess_source(path, SPEC, engine="duckdb")
    assert [f for f in measured if f] == []
    expected = faircard.assess_spec(rows, SPEC)
    pd.testing.assert_frame_equal(a.counts_frame(), expected.counts_frame())


def test_a_long_value_past_the_first_rows_is_found(tmp_path):
    """The first 200,000 rows hold short names; a later row's long one makes the one pass
    fail (it is not listed), and the plain way measures every row first."""
    n = 210_000
    rows = _rows(["Female", "Male"], n=n)
    rows.loc[205_000, "g"] = "y" * (MAX_GROUP_NAME + 1)
    path = _parquet(rows, tmp_path / "late.parquet")
    assert _refusals(path) == [REFUSAL] * 2


def test_the_cli_refuses_before_counting_many_groups(tmp_path, capsys):
    """The upload's many-groups question comes after the lengths, as DuckDB asks it after
    counting: both refuse 60 long names with the sentence on lengths."""
    from faircard.cli import main

    path = _parquet(_rows([f"{i:02d}" + "x" * MAX_GROUP_NAME for i in range(60)]),
                    tmp_path / "many.parquet")
    for engine in ("pandas", "duckdb"):
        code = main(["assess", path, "--engine", engine, "--target", "y", "--score", "s",
                     "--sensitive", "g", "--bootstrap", "0"])
        assert code == 2
        assert REFUSAL in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_refuses_alike(tmp_path, spark):
    at = "é" * MAX_GROUP_NAME
    path = _parquet(_rows(["A", at]), tmp_path / "at.parquet")
    assert _refusals(path, spark) == ["counted " + repr(sorted(["A", at]))] * 3
    rows = _rows(["A", "B"])
    rows.loc[3, "g"] = at + "é"
    rows.loc[3, "y"] = None
    assert _refusals(_parquet(rows, tmp_path / "past.parquet"), spark) == [REFUSAL] * 3
