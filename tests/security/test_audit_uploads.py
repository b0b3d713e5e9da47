"""Hostile and malformed dataset uploads through the Data & model page: each is refused with
one sentence (never a traceback) and the dataset in use stays as it was; files that read
without error hold exactly the values written in them."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from faircard.errors import FaircardError
from faircard.io import read_table
from tests.app.conftest import new, no_exception, small_frame, text_of
from tests.security.child_reader import read_in_child


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _workbook(rows: list[list], far_cell: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    if far_cell:
        book.active[far_cell] = 1
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in files.items():
            z.writestr(k, v)
    return buf.getvalue()


GOOD_PARQUET = _parquet(pa.table({"outcome": [1, 0], "score": [0.5, 0.2], "sex": ["F", "M"]}))
GOOD_XLSX = _workbook([["outcome", "score"], [1, 0.5], [0, 0.2]])

REFUSED = {  # file name, bytes, words the sentence must contain
    "only a header": ("h.csv", b"outcome,risk_score,sex\n", "no data rows"),
    "an unclosed quote": ("q.csv", b'outcome,sex\n1,"F\n0,M\n',
                           "Row 2 of 'q.csv' (the header is row 1) opens a double quote"),
    "more values than names": ("m.csv", b"outcome,sex\n1,F,x\n0,M,y\n", "more values than"),
    "a NUL byte": ("n.csv", b"outcome,sex\n1,F\x00\n", "binary"),
    "HTML named .csv": ("p.csv", b"<html><body><p>hi</p></body></html>", "is a web page (HTML)"),
    "a truncated Parquet file": ("t.parquet", GOOD_PARQUET[:len(GOOD_PARQUET) // 2],
                                 "could not be read as Parquet"),
    "Parquet magic only": ("m.parquet", b"PAR1PAR1", "could not be read as Parquet"),
    "Parquet of zero rows": ("z.parquet", _parquet(pa.table({"a": pa.array([], pa.int64())})),
                             "no data rows"),
    "Parquet of lists only": ("l.parquet", _parquet(pa.table({"a": [[1], [2]]})),
                              "no column of plain values"),
    "a date past year 9999": ("d.parquet", _parquet(pa.table({
        "a": pa.array([2**31 - 1], pa.date32()), "b": [1]})), "Column 'a' of 'd.parquet' holds "
        "dates past the year 9999"),
    "a truncated workbook": ("t.xlsx", GOOD_XLSX[:len(GOOD_XLSX) // 2], "damaged"),
    "an empty zip": ("e.xlsx", _zip({}), "not one"),
    "a zip without a workbook": ("w.xlsx", _zip({"word/document.xml": b"<x/>"}),
                                 "not an Excel workbook"),
    "a broken workbook.xml": ("b.xlsx", _zip({"xl/workbook.xml": b"<not xml"}),
                              "could not be read as Excel"),
    "a workbook of a header only": ("h.xlsx", _workbook([["outcome", "sex"]]), "no data rows"),
    "a zip bomb": ("z.xlsx", _zip({"xl/workbook.xml": b"<a/>", "xl/s.xml": b"0" * 50_000_000}),
                   "expands to far more data"),
    "one value in the last cell of a sheet": ("x.xlsx", _workbook([["a"], [1]], "XFD1048576"),
                                               "row 1,048,576 and column XFD"),
    "an old .xls named .xlsx": ("o.xlsx", b"\xd0\xcf\x11\xe0" + b"\0" * 600, "old-style Excel"),
}


def test_every_malformed_upload_is_one_sentence_and_keeps_the_dataset():
    df = small_frame()
    at = new("app_pages/data.py")
    at.run()
    at.file_uploader(key="upload_data").upload("small.csv", df.to_csv(index=False).encode(),
                                               "text/csv").run()
    no_exception(at)
    before = at.session_state["fc_data"].copy()
    for what, (name, raw, says) in REFUSED.items():
        at.file_uploader[0].upload(name, raw).run()
        no_exception(at)
        errors = [text_of(e) for e in at.error]
        assert len(errors) == 1 and says in errors[0], (what, errors)
        assert "Traceback" not in errors[0] and "\n" not in errors[0].strip(), (what, errors)
        assert at.session_state["fc_data_name"] == "small.csv", what
        pd.testing.assert_frame_equal(at.session_state["fc_data"], before)
        assert at.session_state["fc_target"] == "outcome", what


def test_the_file_dropped_after_a_refused_one_is_read():
    """The run that refused a file drew the uploader still holding it, and the next run drew a
    new, empty uploader: the next file the user dropped was ignored without a word."""
    at = new("app_pages/data.py")
    at.run()
    at.file_uploader(key="upload_data").upload("bad.csv", b"outcome,sex\n").run()
    no_exception(at)
    assert [text_of(e) for e in at.error] == ["'bad.csv' has a header but no data rows."]
    assert at.file_uploader[0].value is None  # drawn empty, the error still shown
    at.file_uploader[0].upload("good.csv", small_frame().to_csv(index=False).encode()).run()
    no_exception(at)
    assert at.session_state["fc_data_name"] == "good.csv" and not at.error
    at.run()
    assert not at.error  # the refusal is not shown again


def test_a_delimiter_at_the_end_of_every_line_shifts_no_column():
    """pandas took the first column for the row index when every row had one more field than
    the header: outcomes were read as scores and scores as groups, without a word."""
    raw = b"outcome,risk_score,sex\n1,0.9,F,\n0,0.1,M,\n1,0.7,M,\n"
    frame = read_table(raw, filename="t.csv").frame
    assert list(frame.columns) == ["outcome", "risk_score", "sex"]
    assert frame["outcome"].tolist() == [1, 0, 1]
    assert frame["risk_score"].tolist() == [0.9, 0.1, 0.7]
    assert frame["sex"].tolist() == ["F", "M", "M"]


def test_rows_wider_than_the_header_are_refused_not_cut():
    with pytest.raises(FaircardError, match=r"more values than its header has names \(2\)"):
        read_table(b"outcome,sex\n1,F,extra\n0,M,more\n", filename="t.csv")


def test_a_sheet_with_one_far_cell_is_refused_before_it_is_built():
    """A 6 KB workbook with a value in XFD1048576: pandas padded a million rows to 16,384
    cells each and the server was killed for memory. Run in a child with a memory limit, so
    that the old behaviour fails this test instead of killing the test run."""
    raw = _workbook([["outcome", "sex"], [1, "F"]], "XFD1048576")
    assert len(raw) < 10_000
    out = read_in_child(raw, "far.xlsx")
    assert out.startswith("refused:"), out
    assert "row 1,048,576 and column XFD" in out and "FAIRCARD_MAX_COLUMNS" in out


@pytest.mark.parametrize("cell, corner, limit", [
    ("ZZ900", "row 900 and column ZZ", "FAIRCARD_MAX_CELLS"),
    ("A5000", "row 5,000 and column B", "FAIRCARD_MAX_ROWS"),  # B: the header's width
    ("C5", None, None)])
def test_sheet_extent_limits_name_the_cell_and_the_limit(cell, corner, limit, monkeypatch):
    monkeypatch.setenv("FAIRCARD_MAX_ROWS", "1000")
    monkeypatch.setenv("FAIRCARD_MAX_CELLS", "100000")
    raw = _workbook([["a", "b"], [1, 2]], cell)
    if limit is None:
        frame = read_table(raw, filename="w.xlsx").frame
        assert frame.shape == (4, 3) and frame.iloc[3, 2] == 1
        return
    with pytest.raises(FaircardError, match=f"as far as {corner}, .*{limit}"):
        read_table(raw, filename="w.xlsx")


def test_odd_but_readable_files_hold_what_was_written():
    cases = {
        "bom.csv": (b"\xef\xbb\xbfoutcome,sex\n1,F\n0,M\n", ["outcome", "sex"]),
        "cr.csv": (b"outcome,sex\r1,F\r0,M\r", ["outcome", "sex"]),
        "dup.csv": (b"a,a,a.1\n1,2,3\n", None),
        "dup.xlsx": (_workbook([["a", "a"], [1, 2]]), ["a", "a.1"]),
        "dup.parquet": (_parquet(pa.Table.from_arrays([pa.array([1]), pa.array([2])],
                                                      names=["a", "a"])), ["a", "a.1"]),
    }
    for name, (raw, columns) in cases.items():
        frame = read_table(raw, filename=name).frame
        assert not frame.columns.duplicated().any(), name
        if columns:
            assert list(frame.columns) == columns, name
    formulas = _workbook([["a", "b"], [1, "=1+1"], ['=HYPERLINK("http://evil.example")', 2]])
    frame = read_table(formulas, filename="f.xlsx").frame
    # formulas are never computed or fetched: without a cached value a cell reads as missing
    assert frame["a"].iloc[0] == 1 and frame["b"].iloc[1] == 2
    assert frame["a"].isna().iloc[1] and frame["b"].isna().iloc[0]


def test_a_column_of_the_file_named_like_a_models_column_is_offered_and_kept():
    """The Data page hid every column whose name began with 'score: ' (faircard's names for
    models' columns), and a model named like one wrote its scores over the file's column."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    df = small_frame()
    theirs = df["risk_score"].to_numpy()[::-1].copy()
    df["score: lr.skops"] = theirs
    at = new("app_pages/data.py")
    at.run()
    at.file_uploader(key="upload_data").upload("d.csv", df.to_csv(index=False).encode()).run()
    no_exception(at)
    assert "score: lr.skops" in at.selectbox(key="w_score").options
    model = LogisticRegression().fit(df[["risk_score", "age"]], df["outcome"])
    at.radio(key="w_decision").set_value("model").run()
    at.file_uploader(key="upload_models").upload("lr.skops", sio.dumps(model)).run()
    no_exception(at)
    data = at.session_state["fc_data"]
    assert np.array_equal(data["score: lr.skops"].to_numpy(), theirs)
    col = at.session_state["fc_model_columns"]["lr.skops"]
    assert col != "score: lr.skops"
    assert np.allclose(data[col], model.predict_proba(df[["risk_score", "age"]])[:, 1])


@pytest.mark.parametrize("protocol", [0, 1])
def test_an_old_protocol_pickle_is_named_as_such(protocol):
    """It was called 'not a pickle or joblib file', which it is."""
    import pickle

    from sklearn.linear_model import LogisticRegression

    from faircard.io.models import load_model

    df = small_frame(200)
    raw = pickle.dumps(LogisticRegression().fit(df[["risk_score"]], df["outcome"]),
                       protocol=protocol)
    with pytest.raises(FaircardError, match="pickle of protocol 0 or 1.*skops"):
        load_model(raw, filename="old.pkl", allow_unsafe_pickle=False)
