"""Each CSV value typed by DuckDB's copy as pandas' reader types it (faircard's reader, on
pandas' ``read_csv``, is the oracle): odd values that DuckDB's cast reads and pandas does not
(``+-1``, ``1_000``, ``NAN``, ``0x10``), values both read (``1.``, ``.5``, a tab before a
number), codes, long digit strings, and a value that changes a column's type far past the
first rows the copy guesses the types from."""

from __future__ import annotations

import csv
import io
import random

import duckdb
import numpy as np
import pandas as pd
import pytest

from faircard.engine import csv_spill
from faircard.engine.csv_spill import cast_shortcut, typed_parquet
from faircard.engine.csv_text import INTEGER, LONG, NUMBER_OTHER, kind_of, value_class
from faircard.engine.sources import csv_text_reader
from faircard.io.tables import NA_WORDS, read_table

ODD = [
    "+-1", "-+1", "1_000", "_1", "1e", "1e+", "e5", ".", "-", "+", "0x10", "0b1", "1d", "1.5f",
    "inf", "-Infinity", "+inf", "INF", "iNfInItY", "infinit", "inf\t", "\tinf", "NAN", "Nan",
    "+nan", "nan", "1.", ".5", "-.5", "+.5e-3", "1.e1", ".e1", "0.e1", "1E5", "1e-400", "1e400",
    "\u0661\u0662", "\uff11", "\u2212" + "1", "1,5", "1 000", "\t1", "1\t", "1\x0b", "\x0c1", "\n1",
    "1\r\n", "1 ", " 1", "1" * 30, "1" * 400 + ".0", "0" * 30 + "1.5", "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551616", "0", "-0", "+0", "00", "01", "+01", "-05", "\t01", "01.5", "00e1",
    "0e0", "0.0", "1.2.3", "true", "TRUE", "tRuE", "false", "yes", "t", "NA", " NA", "?",
]
"""Values beyond what a decision log usually holds (written by the csv module, quoted where
needed)."""
BEYOND_64_BITS = ("1" * 30, "18446744073709551616", "9223372036854775808")
"""Whole numbers beyond 64-bit integers, where pandas' reading depends on what else the
column holds and in which order (faircard's rule does not; see docs/scale.md): before a
decimal, pandas reads the first two as text, after one as floats; next to a missing value
it keeps the empty value as text."""
SPARK_ODD = ["+-1", "1_000", "inf", "inf\t", "1e400", "\t1", "1\t", "1\x0b", "\x0c1", "\t01"]
"""Odd values for Spark (the spaces around a number are new to the rule)."""
CONTEXTS = [[], ["1"], ["1.5"], ["", "2"]]
"""The other values of each value's column (a text makes any column text)."""


def _csv(columns: dict[str, list[str]]) -> str:
    rows = max(len(v) for v in columns.values())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(columns))
    for i in range(rows):
        writer.writerow([v[i] if i < len(v) else "" for v in columns.values()])
    return out.getvalue()


def _duckdb_copy(path) -> tuple[dict[str, str], pd.DataFrame]:
    """The column types and values of DuckDB's typed copy of the CSV file ``path``."""
    spill = typed_parquet(csv_text_reader(str(path), path), [path], str(path))
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{spill}')")
    types = {c: str(t) for c, t in zip(rel.columns, rel.types, strict=True)}
    return types, rel.df()


def assert_typed_as_pandas(path) -> None:
    """Every column of DuckDB's copy of ``path`` has pandas' type and values: integers
    (floats when pandas must hold a missing value among them), floats, booleans or text,
    missing where pandas reads a missing value."""
    frame = read_table(path).frame
    types, copy = _duckdb_copy(path)
    assert list(types) == list(frame.columns)
    for name in frame.columns:
        col, kind, got = frame[name], types[name], copy[name]
        missing = col.isna().to_numpy()
        where = f"column {name!r}: {col.tolist()[:4]} vs {got.tolist()[:4]} ({kind})"
        present = col[~missing]
        assert np.array_equal(got.isna().to_numpy(), missing), where
        if pd.api.types.is_bool_dtype(col) or (
                len(present) and present.map(lambda x: isinstance(x, (bool, np.bool_))).all()):
            assert kind == "BOOLEAN", where
        elif col.dtype == np.int64:
            assert kind == "BIGINT", where
        elif col.dtype == np.float64:
            assert kind == "DOUBLE" or (kind == "BIGINT" and missing.any()), where
            # pandas holds integers with a missing value as floats
            assert np.array_equal(col.to_numpy()[~missing],
                                  got.to_numpy()[~missing].astype(np.float64)), where
            continue
        else:
            assert kind == "VARCHAR" and present.map(type).eq(str).all(), where
        assert list(present) == list(got[~missing]), where


@pytest.mark.parametrize("guess_rows", [1, csv_spill.GUESS_ROWS])
def test_odd_values_are_typed_as_pandas_reads_them(tmp_path, monkeypatch, guess_rows):
    """One column per odd value and context, the odd value first or last. With one row to
    guess from, a context value contradicts many guesses (the copy stops and every row types
    the columns)."""
    monkeypatch.setattr(csv_spill, "GUESS_ROWS", guess_rows)
    for j, context in enumerate(CONTEXTS):
        columns = {}
        for i, value in enumerate(ODD):
            if value in BEYOND_64_BITS and context in (["1.5"], ["", "2"]):
                continue
            columns[f"c{i}"] = [value, *context]
            if guess_rows == 1 and context:
                columns[f"r{i}"] = [*context, value]  # the odd value last
        path = tmp_path / f"odd{j}.csv"
        path.write_text(_csv(columns))
        assert_typed_as_pandas(path)


def test_a_value_on_the_last_of_many_rows_changes_the_type(tmp_path):
    """200,000 rows (20 times the rows the copy guesses from); the last value of two columns changes their type (to text for '+-1',
    which DuckDB's cast reads as -1; to floats for '0.5'), far past the rows the copy guesses
    from: the copy stops and types every column from every row, as pandas does."""
    n = 200_000
    rng = np.random.default_rng(7)
    columns = pd.DataFrame({
        "plus_minus": rng.integers(-99, 100, n).astype(str).astype(object),
        "decimal": rng.integers(0, 2, n).astype(str).astype(object),
        "plain": np.char.mod("%.4f", rng.random(n)).astype(object)})
    columns.loc[n - 1, "plus_minus"] = "+-1"
    columns.loc[n - 1, "decimal"] = "0.5"
    path = tmp_path / "late.csv"
    columns.to_csv(path, index=False)
    assert _duckdb_copy(path)[0] == {"plus_minus": "VARCHAR", "decimal": "DOUBLE",
                                     "plain": "DOUBLE"}
    assert_typed_as_pandas(path)


def test_numbers_only_the_full_test_accepts_keep_the_guessed_type(tmp_path):
    """Numbers written in every way pandas reads, far past the first rows: the copy keeps the
    types it guessed (no value contradicts them) and the values are pandas' own."""
    n = 30_000
    rng = np.random.default_rng(3)
    odd = ["+1", "\t2", "1e5", "-0", "3.", ".25", "+.5E-3", "1e400", "-inf", "Infinity", "7\t"]
    score = [f"{x:.6f}" for x in rng.random(n)]
    whole = [str(x) for x in rng.integers(-5, 5, n)]
    for k, value in enumerate(odd):
        score[n - 1 - k] = value
    for k, value in enumerate(["+4", "\t5", "-0", "6 "]):
        whole[n - 1 - k] = value
    path = tmp_path / "numbers.csv"
    path.write_text(_csv({"score": score, "whole": whole}))
    assert _duckdb_copy(path)[0] == {"score": "DOUBLE", "whole": "BIGINT"}
    assert_typed_as_pandas(path)


def _classes(con, values: list[str]) -> list[int]:
    return [r[0] for r in con.execute(
        f"SELECT {value_class('v')} FROM (SELECT unnest(?) AS v, generate_subscripts(?, 1) AS i)"
        " ORDER BY i", [values, values]).fetchall()]


def _fuzz(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = "0123456789+-.eE_nNaiIfFxXbd \t\x0b\u0661"
    found = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7))) for _ in range(n)}
    return sorted(v for v in found if v.lstrip(" ") == v and v not in NA_WORDS)


def test_value_class_agrees_with_pandas_on_random_text(tmp_path):
    """Random short texts of digits, signs, dots, exponents, underscores, letters of
    inf/nan/hex and spaces, each alone in a column read by pandas: the type faircard's rule
    gives a column of that one value is pandas' type."""
    values = _fuzz(11, 3000)
    path = tmp_path / "fuzz.csv"
    path.write_text(_csv({f"c{i}": [v] for i, v in enumerate(values)}))
    frame = read_table(path).frame
    con = duckdb.connect()
    for value, cls, (_, col) in zip(values, _classes(con, values), frame.items(), strict=True):
        kind = kind_of({c: int(c == cls) for c in range(1, 6)})
        want = {"int64": "BIGINT", "float64": "DOUBLE", "bool": "BOOLEAN"}.get(
            str(col.dtype), "VARCHAR")
        assert kind == want, (value, cls, col.tolist())


def test_the_cast_shortcut_accepts_only_numbers_of_pandas():
    """The cheap test of a guessed double (DuckDB's cast, none of CAST_SHORTCUT, no leading
    zero) accepts only what value_class calls a number without a leading zero, on random text
    and on the odd values: a value it accepts is never typed differently than pandas would."""
    values = _fuzz(12, 20000) + ODD
    con = duckdb.connect()
    shortcut = f"{cast_shortcut('v')} AND TRY_CAST(v AS DOUBLE) IS NOT NULL"
    accepted = [r[0] for r in con.execute(
        f"SELECT {shortcut} FROM (SELECT unnest(?) AS v, generate_subscripts(?, 1) AS i) "
        "ORDER BY i", [values, values]).fetchall()]
    classes = _classes(con, values)
    wrong = [(v, c) for v, a, c in zip(values, accepted, classes, strict=True)
             if a and c not in (INTEGER, LONG, NUMBER_OTHER)]
    assert not wrong
    assert sum(accepted) > 500  # it does accept the usual numbers


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_types_the_odd_values_as_pandas_reads_them(spark, tmp_path):
    """Spark applies the same rule (its own regular expressions and casts): odd values alone
    and next to an integer give pandas' type and values (values on one line: Spark's CSV
    reader does not read line breaks inside quotes)."""
    from faircard.engine.sources import csv_source, read_csv_spark

    columns = {}
    for i, value in enumerate(SPARK_ODD):
        columns[f"a{i}"] = [value]
        columns[f"b{i}"] = [value, "1"]
    path = tmp_path / "odd.csv"
    path.write_text(_csv(columns))
    frame = read_table(path).frame
    got = read_csv_spark(spark, str(path), *csv_source(str(path))).toPandas()
    kinds = {"int64": "BIGINT", "float64": "DOUBLE", "bool": "BOOLEAN"}
    for name in frame.columns:
        col, other = frame[name], got[name]
        where = f"column {name!r}: {col.tolist()} vs {other.tolist()}"
        missing = col.isna().to_numpy()
        assert np.array_equal(other.isna().to_numpy(), missing), where
        present = [x for x, m in zip(col, missing, strict=True) if not m]
        shown = [x for x, m in zip(other, missing, strict=True) if not m]
        want = kinds.get(str(col.dtype), "VARCHAR")
        if want == "VARCHAR" and present and all(isinstance(x, bool) for x in present):
            want = "BOOLEAN"
        if want in ("BIGINT", "DOUBLE"):
            assert [float(x) for x in shown] == [float(x) for x in present], where
        else:
            assert shown == present and all(type(a) is type(b) for a, b in
                                            zip(shown, present, strict=True)), where
