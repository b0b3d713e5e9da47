"""Hand-worked outputs of faircard.io.export (CSV formula neutraliser), written to kill mutmut
survivors; Python's csv reader is the oracle for the written text."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from faircard.io.export import csv_text, neutralise, neutralise_frame


@pytest.mark.parametrize("raw, want", [
    ("=1+1", "'=1+1"),
    ("+x", "'+x"),
    ("-x", "'-x"),
    ("@x", "'@x"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("=3", "'=3"),
    ("-e5", "'-e5"),
    ("-1e", "'-1e"),
    ("-", "'-"),
    ("-3", "-3"),
    ("+1.5e-2", "+1.5e-2"),
    ("-.5", "-.5"),
    ("-5.", "-5."),
    ("-2E+3", "-2E+3"),
    ("a=b", "a=b"),
    ("1e5", "1e5"),
    ("", ""),
])
def test_neutralise(raw, want):
    assert neutralise(raw) == want


@pytest.mark.parametrize("value", [-0.05, 3, None, b"=x"])
def test_neutralise_leaves_non_text_alone(value):
    assert neutralise(value) is value


def test_neutralise_frame_touches_text_columns_names_and_index_only():
    frame = pd.DataFrame({
        "obj": ["=a", "b"],
        "str": pd.array(["@c", "d"], dtype="string"),
        "cat": pd.Categorical(["+e", "f"]),
        "num": [-0.5, 1.0],
        "=name": ["g", "h"],
        7: ["-i", "j"],
    }, index=["=row", "ok"])
    out = neutralise_frame(frame)
    assert list(out["obj"]) == ["'=a", "b"]
    assert list(out["str"]) == ["'@c", "d"]
    assert list(out["cat"]) == ["'+e", "f"]
    assert list(out["num"]) == [-0.5, 1.0]
    assert out["num"].dtype == "float64"  # numbers stay numbers
    counts = neutralise_frame(pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}))["n"]
    assert counts.dtype == "Int64"  # nullable integers are left as they are
    assert list(out.columns) == ["obj", "str", "cat", "num", "'=name", 7]
    assert list(out[7]) == ["'-i", "j"]
    assert list(out.index) == ["'=row", "ok"]
    # the input is not modified
    assert list(frame["obj"]) == ["=a", "b"] and "=name" in frame.columns
    assert list(frame.index) == ["=row", "ok"]


def test_numeric_index_is_kept():
    out = neutralise_frame(pd.DataFrame({"a": ["=x"]}, index=[-3]))
    assert list(out.index) == [-3]


def test_csv_text_is_neutralised_crlf_and_a_carriage_return_stays_in_its_cell():
    frame = pd.DataFrame({"group": ["=HYPERLINK(1)", "a\rb"], "value": [-0.05, 0.5]},
                         index=["=i", "j"])
    text = csv_text(frame)
    assert text.startswith("group,value\r\n")
    assert text.endswith("\r\n") and text.count("\r\n") == 3
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["group", "value"], ["'=HYPERLINK(1)", "-0.05"], ["a\rb", "0.5"]]
    with_index = list(csv.reader(io.StringIO(csv_text(frame, index=True), newline="")))
    assert with_index[1] == ["'=i", "'=HYPERLINK(1)", "-0.05"]
