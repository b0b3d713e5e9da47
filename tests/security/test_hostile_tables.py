"""Hostile dataset files: text in unexpected Unicode encodings, very wide tables, spreadsheets
that expand or reach out, and every one of them read through the same function as an upload.

Each is made here at test time. What must never happen: a file is read wrongly without a word
(columns named "\\x00a\\x00"), the server spends minutes or gigabytes on a small file, or a
parser's exception reaches the user instead of a sentence naming the problem.
"""

from __future__ import annotations

import codecs
import io
import time

import pandas as pd
import pytest

from faircard.errors import FaircardError
from faircard.io.tables import read_table

TEXT = "group,outcome,score\nA,1,0.5\nB\u00e9,0,0.25\n"
EXPECTED = pd.DataFrame({"group": ["A", "B\u00e9"], "outcome": [1, 0], "score": [0.5, 0.25]})


@pytest.mark.parametrize("raw", [
    TEXT.encode("utf-32"), codecs.BOM_UTF32_BE + TEXT.encode("utf-32-be"),
    TEXT.encode("utf-16"), codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    TEXT.encode("utf-16-le"), TEXT.encode("utf-16-be"),
    codecs.BOM_UTF8 + TEXT.encode(),
], ids=["utf-32 BOM", "utf-32-be BOM", "utf-16 BOM", "utf-16-be BOM", "utf-16-le no BOM",
        "utf-16-be no BOM", "utf-8 BOM"])
def test_unicode_encodings_are_read_as_what_they_are(raw):
    frame = read_table(raw, filename="d.csv").frame
    pd.testing.assert_frame_equal(frame, EXPECTED)


@pytest.mark.parametrize("raw, says", [
    (TEXT.encode("utf-32") + b"\x00", "not utf-32 text"),
    (TEXT.encode("utf-16") + b"\x00", "not utf-16 text"),
    (codecs.BOM_UTF16_LE + b"a\x00,\x00\x00\xd8b\x00\n\x001\x00", "not utf-16 text"),
    (b"\x00" * 4096, "binary file"),
], ids=["utf-32 cut", "utf-16 odd length", "utf-16 lone surrogate", "zeros"])
def test_broken_unicode_is_one_sentence(raw, says):
    with pytest.raises(FaircardError, match=says):
        read_table(raw, filename="d.csv")


# -- very wide tables ------------------------------------------------------------------------------

def _wide_csv(n_columns: int) -> bytes:
    return (",".join(f"c{i}" for i in range(n_columns)) + "\n"
            + ",".join("1" for _ in range(n_columns)) + "\n").encode()


def test_a_csv_of_a_million_columns_is_refused_at_once():
    # it took 210 s and 3.3 GB before the header was counted first
    start = time.perf_counter()
    with pytest.raises(FaircardError, match=r"has 1,000,000 columns, over this server's limit "
                                            r"on columns \(10,000 columns\).*MAX_COLUMNS"):
        read_table(_wide_csv(1_000_000), filename="wide.csv")
    assert time.perf_counter() - start < 10


def test_the_column_limit_counts_quoted_names_and_follows_the_environment(monkeypatch):
    header = b'"a,1","b\nsecond line",c\n1,2,3\n'
    assert read_table(header, filename="d.csv").frame.shape == (1, 3)
    monkeypatch.setenv("FAIRCARD_MAX_COLUMNS", "2")
    with pytest.raises(FaircardError, match="has 3 columns"):
        read_table(header, filename="d.csv")
    monkeypatch.setenv("FAIRCARD_MAX_COLUMNS", "20")
    assert read_table(_wide_csv(20), filename="w.csv").frame.shape == (1, 20)
    with pytest.raises(FaircardError, match="has 21 columns"):
        read_table(_wide_csv(21), filename="w.csv")


def test_the_column_limit_holds_for_parquet_files(monkeypatch):
    buf = io.BytesIO()
    pd.DataFrame({f"c{i}": [1] for i in range(21)}).to_parquet(buf)
    monkeypatch.setenv("FAIRCARD_MAX_COLUMNS", "20")
    with pytest.raises(FaircardError, match="has 21 columns"):
        read_table(buf.getvalue(), filename="wide.parquet")


# -- spreadsheets whose XML expands or reaches out -----------------------------------------------

def _workbook_with_sheet(transform) -> bytes:
    """A real one-sheet workbook with its sheet XML passed through ``transform``."""
    import zipfile

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["group", "outcome"])
    wb.active.append(["A", 1])
    good = io.BytesIO()
    wb.save(good)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good.getvalue())) as zin, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = transform(data)
            zout.writestr(info.filename, data)
    return out.getvalue()


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY l0 "lol">'
          + b"".join(b'<!ENTITY l%d "%s">' % (k, b"&l%d;" % (k - 1) * 10) for k in range(1, 10))
          + b"]>")
XXE = b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY e SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize("prolog, entity", [(LAUGHS, b"&l9;"), (XXE, b"&e;")],
                         ids=["a billion laughs", "external entity /etc/passwd"])
def test_spreadsheet_entities_neither_expand_nor_read_files(prolog, entity):
    raw = _workbook_with_sheet(lambda xml: prolog + xml.replace(b"<v>1</v>",
                                                                b"<v>" + entity + b"</v>"))
    start = time.perf_counter()
    with pytest.raises(FaircardError, match="could not be read as Excel"):
        read_table(raw, filename="d.xlsx")
    assert time.perf_counter() - start < 10
