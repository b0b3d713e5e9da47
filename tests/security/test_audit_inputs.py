"""Untrusted datasets that reached past the checks of uploads and server paths: dates past the
year 9999, web pages saved as CSV, raw bytes, dates offered as scores, pandas' index metadata,
zero bytes deep in a CSV and Parquet dictionaries that expand a thousandfold. Each is one
sentence (or is read exactly as DuckDB reads it) on the Data page, through the upload reader
and through the command line's two engines."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from faircard.cli import main
from faircard.errors import FaircardError
from faircard.io import read_table
from tests.app.conftest import new, no_exception, small_frame, text_of
from tests.security.child_reader import read_in_child

N = 60
_RNG = np.random.default_rng(7)
BASE = {"outcome": _RNG.integers(0, 2, N), "score": _RNG.random(N).round(3),
        "g": np.array(["A", "B"])[_RNG.integers(0, 2, N)]}


def _parquet(table: pa.Table, **options) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, **options)
    return buf.getvalue()


def _cli(path, *args: str, engine: str = "duckdb") -> tuple[int, str]:
    from contextlib import redirect_stderr, redirect_stdout

    err, out = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(out):
        code = main(["assess", str(path), "--engine", engine, "--target", "outcome", "--quiet",
                     *args])
    return code, err.getvalue()


LATE = {"date32 'infinity'": pa.array([2**31 - 1] * N, pa.date32()),
        "date64 far future": pa.array([2**62] * N, pa.date64())}


@pytest.mark.parametrize("dates", LATE.values(), ids=list(LATE))
def test_dates_past_the_year_9999_are_named_with_their_column(dates, tmp_path):
    """The upload said 'year 5881580 is out of range', DuckDB 'Could not convert DATE
    (infinity) to microseconds', for a column that was not even chosen."""
    raw = _parquet(pa.table({**BASE, "ends": dates}))
    says = "Column 'ends' of 'd.parquet' holds dates past the year 9999"
    with pytest.raises(FaircardError, match=says):
        read_table(raw, filename="d.parquet")
    (tmp_path / "d.parquet").write_bytes(raw)
    for engine in ("pandas", "duckdb"):
        code, err = _cli(tmp_path / "d.parquet", "--score", "score", "--sensitive", "g",
                         engine=engine)
        assert code == 2 and says in err and err.count("\n") == 1, (engine, err)
    early = _parquet(pa.table({**BASE, "born": pa.array([-800_000] * N, pa.date32())}))
    with pytest.raises(FaircardError, match="'born' .* holds dates before the year 1"):
        read_table(early, filename="d.parquet")


PAGES = {"a saved web page": b"<!DOCTYPE html>\n<html lang='en'>\n<head><title>Loans</title>"
                             b"</head>\n<body><table><tr><td>1</td><td>0.5</td></tr></table>\n",
         "a bare table": b"<table>\n<tr><td>outcome</td><td>score</td></tr>\n</table>\n",
         "script with commas": b"  <html><script>var a=1,b=2;</script>\n1,2\n3,4\n",
         "a BOM then a page": b"\xef\xbb\xbf<html><body>a,b\n1,2\n</body></html>\n"}


@pytest.mark.parametrize("raw", PAGES.values(), ids=list(PAGES))
def test_a_web_page_saved_as_csv_is_said_to_be_one(raw, tmp_path):
    """It was read as a header alone ('no data rows') or as one column of tags."""
    with pytest.raises(FaircardError, match=r"'p.csv' is a web page \(HTML\), not a CSV file"):
        read_table(raw, filename="p.csv")
    (tmp_path / "p.csv").write_bytes(raw)
    code, err = _cli(tmp_path / "p.csv", "--score", "score", "--sensitive", "g")
    assert code == 2 and "is a web page (HTML)" in err, err


def test_xml_is_named_and_headers_that_begin_with_a_bracket_are_still_read():
    with pytest.raises(FaircardError, match="is an XML document, not a CSV file"):
        read_table(b"<?xml version='1.0'?>\n<rows><r a='1'/></rows>\n", filename="x.csv")
    frame = read_table(b"<=50K,score\n1,0.5\n0,0.25\n", filename="census.csv").frame
    assert list(frame.columns) == ["<=50K", "score"] and frame["score"].tolist() == [0.5, 0.25]
    frame = read_table(b"<id>,score\n1,0.5\n", filename="ids.csv").frame
    assert list(frame.columns) == ["<id>", "score"]


def _bytes_frame() -> tuple[pa.Table, list[bytes]]:
    values = [b"\x00\xff", b"caf\xc3\xa9", b"\x80"]
    groups = [values[i % 3] for i in range(N)]
    return pa.table({**BASE, "b": pa.array(groups, pa.binary())}), groups


def test_groups_of_raw_bytes_are_counted_as_duckdb_counts_them(tmp_path):
    """A Parquet column of bytes that are not UTF-8 crashed the upload's personal-data check
    (UnicodeDecodeError); DuckDB already read it, showing each value as b'...'."""
    table, groups = _bytes_frame()
    path = tmp_path / "b.parquet"
    pq.write_table(table, path)
    results = {}
    for engine in ("pandas", "duckdb"):
        out = tmp_path / f"{engine}.json"
        code, err = _cli(path, "--score", "score", "--sensitive", "b", "--json", str(out),
                         engine=engine)
        assert code == 0, (engine, err)
        rows = json.loads(out.read_text())["by_group"]
        results[engine] = {r["group"]: (r["n"], r["selection_rate"]) for r in rows}
    assert results["pandas"] == results["duckdb"]
    scores = np.asarray(BASE["score"])
    for value in set(groups):  # oracle: the rows holding those bytes, counted here
        mask = np.array([g == value for g in groups])
        n, rate = results["pandas"][str(value)]
        assert n == mask.sum() and rate == pytest.approx((scores[mask] >= 0.5).mean())


def test_raw_bytes_upload_through_the_data_page_is_read():
    at = new("app_pages/data.py")
    at.run()
    table, _ = _bytes_frame()
    at.file_uploader(key="upload_data").upload("b.parquet", _parquet(table)).run()
    no_exception(at)
    assert not at.error and at.session_state["fc_data_name"] == "b.parquet"
    assert "b'\\x00\\xff'" in set(at.session_state["fc_data"]["b"])


TIMES = {"timestamp": pa.array(np.arange(N) * 10**15, pa.timestamp("us")),
         "duration": pa.array(np.arange(N), pa.duration("s")),
         "date": pa.array(np.arange(N, dtype=np.int32), pa.date32())}


@pytest.mark.parametrize("values", TIMES.values(), ids=list(TIMES))
def test_dates_and_durations_are_not_scores(values, tmp_path):
    """pandas turned a timestamp column into nanoseconds and assessed it as a score (everybody
    at or above 0.5: 'approved'); DuckDB called dates 'text values'."""
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({**BASE, "when": values}), path)
    engines = ["pandas"] + (["duckdb"] if not pa.types.is_duration(values.type) else [])
    for engine in engines:  # DuckDB reads a Parquet duration as the integer it is stored as
        code, err = _cli(path, "--score", "when", "--sensitive", "g", engine=engine)
        assert code == 2 and "Score column 'when' has dates or times" in err, (engine, err)


def test_columns_pandas_saved_as_the_index_are_kept():
    """pandas' metadata made a column the frame's index, and it vanished from the choices
    (DuckDB, opening the same file by path, showed it); metadata pandas could not apply made
    the file unreadable ('could not be read as Parquet: name')."""
    df = pd.DataFrame(BASE)
    buf = io.BytesIO()
    df.set_index("g").to_parquet(buf)
    frame = read_table(buf.getvalue(), filename="i.parquet").frame
    assert list(frame.columns) == ["outcome", "score", "g"]
    assert frame["g"].tolist() == df["g"].tolist()
    table = pa.table(BASE)
    for meta in (b'{"index_columns": ["score"], "columns": [], "column_indexes": []}',
                 b'{"index_columns": [{"kind": "range", "start": 0, "stop": 99999999999, '
                 b'"step": 1}], "columns": [], "column_indexes": []}', b"not json"):
        frame = read_table(_parquet(table.replace_schema_metadata({b"pandas": meta})),
                           filename="m.parquet").frame
        assert list(frame.columns) == ["outcome", "score", "g"], meta
        assert frame["score"].tolist() == list(BASE["score"]), meta


def test_a_zero_byte_deep_in_a_csv_is_named_with_its_line():
    """Past the first 64 KB a NUL byte went unseen: the score column became text."""
    raw = b"outcome,score\n" + b"1,0.5\n" * 20_000 + b"0,0\x00.25\n"
    with pytest.raises(FaircardError, match=r"Line 20,002 of 'n.csv' holds a zero byte"):
        read_table(raw, filename="n.csv")
    wide = "outcome,score\n1,0.5\n".encode("utf-16")  # zero bytes are UTF-16's own
    assert read_table(wide, filename="w.csv").frame["score"].tolist() == [0.5]


def test_a_parquet_dictionary_that_expands_a_thousandfold_is_refused_before_it_does():
    """0.4 MB of Parquet, one 4 KB text value in a dictionary and a million indices to it:
    the footer counted the dictionary once, and reading it asked for 4 GB (on a server without
    a memory limit, the kernel kills the app). Read in a child with a memory limit, so that
    the old behaviour fails this test instead of the test run."""
    n = 1_000_000
    column = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array(["x" * 4096]))
    raw = _parquet(pa.table({"outcome": np.zeros(n, np.int8), "g": column}),
                   compression="zstd", store_schema=False)
    assert len(raw) < 500_000
    out = read_in_child(raw, "bomb.parquet")
    assert out.startswith("refused:"), out
    assert "column 'g'" in out and "FAIRCARD_MAX_DECODED_MB" in out
    # the same layout within the limit is read, every value whole
    small = pa.DictionaryArray.from_arrays(pa.array(np.arange(6, dtype=np.int32) % 2),
                                           pa.array(["x" * 4096, "y"]))
    frame = read_table(_parquet(pa.table({"outcome": [1, 0] * 3, "g": small}),
                                store_schema=False), filename="ok.parquet").frame
    assert frame["g"].tolist() == ["x" * 4096, "y"] * 3


def test_new_hostile_uploads_through_the_data_page_are_one_sentence():
    at = new("app_pages/data.py")
    at.run()
    at.file_uploader(key="upload_data").upload(
        "small.csv", small_frame(200).to_csv(index=False).encode()).run()
    before = at.session_state["fc_data"].copy()
    refused = {
        "d.parquet": (_parquet(pa.table({**BASE, "d": LATE["date32 'infinity'"]})),
                      "past the year 9999"),
        "p.csv": (PAGES["a saved web page"], "web page (HTML)"),
        "n.csv": (b"a,b\n" + b"1,2\n" * 20_000 + b"\x00\n", "zero byte"),
    }
    for name, (raw, says) in refused.items():
        at.file_uploader[0].upload(name, raw).run()
        no_exception(at)
        errors = [text_of(e) for e in at.error]
        assert len(errors) == 1 and says in errors[0], (name, errors)
        assert at.session_state["fc_data_name"] == "small.csv", name
        pd.testing.assert_frame_equal(at.session_state["fc_data"], before)


def test_server_paths_to_such_files_are_one_sentence(tmp_path, monkeypatch):
    """'Open a large dataset on the server' said 'DuckDB cannot read ...: Conversion Error:
    Could not convert DATE (infinity) to microseconds' and opened a web page as one column."""
    from faircard.engine.paths import DATA_DIRS_ENV

    pq.write_table(pa.table(BASE), tmp_path / "good.parquet")
    pq.write_table(pa.table({**BASE, "ends": LATE["date32 'infinity'"]}), tmp_path / "d.parquet")
    (tmp_path / "p.csv").write_bytes(PAGES["a saved web page"])
    monkeypatch.setenv(DATA_DIRS_ENV, str(tmp_path))
    at = new("app_pages/data.py")
    at.run()
    for path, says in (("good.parquet", None), ("d.parquet", "holds dates past the year 9999"),
                       ("p.csv", "is a web page (HTML)")):
        at.text_input(key="w_server_path").input(path)
        if at.button(key="open_server_path").disabled:
            at.run()
        at.button(key="open_server_path").click().run()
        no_exception(at)
        errors = [text_of(e) for e in at.error]
        if says is None:
            assert not errors
            continue
        assert len(errors) == 1 and says in errors[0], (path, errors)
        assert at.session_state["fc_data_name"] == "good.parquet", path


def test_a_huge_cell_is_previewed_short_and_kept_whole():
    """A 5 MB cell went to the browser whole in the Data page's preview (a cell of a few
    hundred MB is over Streamlit's message limit: the page never arrives)."""
    huge = "x" * 5_000_000
    raw = ("outcome,score,note\n" + "".join(f"{i % 2},0.{i % 9},n{i}\n" for i in range(40))
           + f"1,0.5,{huge}\n").encode()
    at = new("app_pages/data.py")
    at.run()
    at.file_uploader(key="upload_data").upload("h.csv", raw).run()
    no_exception(at)
    shown = at.dataframe[0].value
    cell = shown["note"].iloc[40]
    assert cell == "x" * 1000 + "… (5,000,000 characters)"
    assert shown["note"].iloc[0] == "n0"
    assert at.session_state["fc_data"]["note"].iloc[40] == huge  # the data keep every character
