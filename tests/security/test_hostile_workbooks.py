"""Workbooks that cost far more to open than their sheet shows, and what a workbook's cells
become once read in the child process.

openpyxl parses a workbook's whole style sheet and shared-string table before its first sheet,
keeping a Python object per entry. Measured before workbooks were opened in a child (load
average 7 on 2 cores): a 3.4 MB upload whose styles.xml held 100 MB of cell formats took 197 s
and 1.6 GB of the server's memory, a 19 MB one with 100 MB of shared strings no cell used took
266 s and 0.95 GB, and both were then read as two-row tables."""

from __future__ import annotations

import datetime as dt
import io
import random
import subprocess
import time
import zipfile

import openpyxl
import pandas as pd
import pytest

from faircard.errors import FaircardError
from faircard.io import TableLimits, read_table
from tests.security.compound_files import compound_file


def _small_book() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["group", "outcome"])
    book.active.append(["A", 1])
    book.active.append(["B", 0])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _with(raw: bytes, change: dict, add: dict | None = None) -> bytes:
    """``raw`` (a zip) with members passed through ``change`` and members ``add`` added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as zin, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info.filename, change.get(info.filename, lambda d: d)(data))
        for member, data in (add or {}).items():
            zout.writestr(member, data)
    return out.getvalue()


def _random_elements(template: bytes, n_bytes: int, top: int) -> bytes:
    """Copies of ``template`` (with a %d) to ``n_bytes``, numbers random so the archive's
    compression ratio stays far below the ratio a zip bomb is refused at."""
    rnd = random.Random(0)
    parts, size = [], 0
    while size < n_bytes:
        parts.append(template % rnd.randrange(top))
        size += len(parts[-1])
    return b"".join(parts)


def styles_bomb(n_bytes: int) -> bytes:
    """A two-row workbook whose style sheet holds ``n_bytes`` of cell formats."""
    formats = _random_elements(b'<xf numFmtId="%d" fontId="0" fillId="0" borderId="0"/>',
                               n_bytes, 160)

    def grow(xml: bytes) -> bytes:
        at = xml.index(b">", xml.index(b"<cellXfs")) + 1
        return xml[:at] + formats + xml[at:]
    return _with(_small_book(), {"xl/styles.xml": grow})


def strings_bomb(n_bytes: int) -> bytes:
    """A two-row workbook with a shared-string table of ``n_bytes`` that no cell uses."""
    strings = _random_elements(b"<si><t>%d</t></si>", n_bytes, 10**6)
    table = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats'
             b'.org/spreadsheetml/2006/main">' + strings + b"</sst>")
    kind = b"spreadsheetml.sharedStrings+xml"
    return _with(_small_book(), {
        "[Content_Types].xml": lambda x: x.replace(
            b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.' + kind + b'"/></Types>'),
        "xl/_rels/workbook.xml.rels": lambda x: x.replace(
            b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.'
            b'org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            b"</Relationships>")},
        {"xl/sharedStrings.xml": table})


@pytest.mark.parametrize("build", [styles_bomb, strings_bomb], ids=["styles", "shared strings"])
@pytest.mark.parametrize("limit", ["FAIRCARD_MAX_EXCEL_SECONDS", "FAIRCARD_MAX_EXCEL_MB"])
def test_a_workbook_costing_more_than_the_limits_is_refused_in_one_sentence(build, limit,
                                                                              monkeypatch):
    """12 MB of formats or strings: about 25 s and 200 MB of openpyxl objects each time it
    was parsed (twice, before). With 3 s or 150 MB allowed it is refused within the limit."""
    raw = build(12 << 20)
    assert len(raw) < 3 << 20
    monkeypatch.setenv(limit, "3" if limit.endswith("SECONDS") else "150")
    start = time.perf_counter()
    with pytest.raises(FaircardError) as refused:
        read_table(raw, filename="b.xlsx")
    assert time.perf_counter() - start < 30
    message = str(refused.value)
    assert "needed more than this server's limit on time or memory" in message
    assert limit in message and "\n" not in message


def test_the_server_process_never_parses_a_workbook(monkeypatch):
    """openpyxl is not used in the process that serves the app: a workbook is read by a child,
    which gives back its columns as arrays and JSON (never a pickle)."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("openpyxl opened a workbook in the server process")
    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    monkeypatch.setattr(openpyxl.reader.excel, "load_workbook", refuse)
    frame = read_table(_small_book(), filename="s.xlsx").frame
    assert frame.to_dict("list") == {"group": ["A", "B"], "outcome": [1, 0]}


def test_what_a_workbook_holds_arrives_as_pandas_reads_it():
    """Text, numbers, whole numbers with a gap, mixed columns, dates, times, durations,
    booleans, formulas (their saved result; none saved: missing) and headers that are not
    text come back with the dtypes and Python types pandas gives them in-process."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["text", "number", "whole", "mixed", "date", "time", "flag", "duration", 5,
                  dt.datetime(2020, 1, 1)])
    sheet.append(["a", 1.5, 1, "x", dt.datetime(2020, 1, 2, 3, 4, 5), dt.time(1, 2, 3), True,
                  dt.timedelta(days=1, seconds=3), 1, 2])
    sheet.append([None, None, 2, 3, dt.datetime(1900, 3, 1), None, False, None, None, None])
    sheet.append(["c", 2.5, None, dt.datetime(2021, 5, 6), None, dt.time(23, 59), None,
                  dt.timedelta(0), 3, 4])
    sheet.append(['=HYPERLINK("http://evil.example")', "é😀", 3, True, dt.date(2020, 1, 1),
                  None, True, None, 1.5, "t"])
    buf = io.BytesIO()
    book.save(buf)
    got = read_table(buf.getvalue(), filename="e.xlsx").frame
    expected = pd.read_excel(io.BytesIO(buf.getvalue()), engine="openpyxl")
    expected.columns = [str(c) for c in expected.columns]
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    for column in got.columns:
        assert [type(v) for v in got[column]] == [type(v) for v in expected[column]], column
    assert got["text"].isna().iloc[3]  # a formula without a saved result is missing


def test_the_excel_limits_follow_the_environment():
    limits = TableLimits.from_env({"FAIRCARD_MAX_EXCEL_SECONDS": "20",
                                   "FAIRCARD_MAX_EXCEL_MB": "1_000"})
    assert (limits.max_excel_seconds, limits.max_excel_mb) == (20, 1000)
    with pytest.raises(FaircardError, match="FAIRCARD_MAX_EXCEL_MB must be positive"):
        TableLimits.from_env({"FAIRCARD_MAX_EXCEL_MB": "0"})


PASSWORD = {"EncryptionInfo": b"\4\0\4\0" + b"\0" * 4092, "EncryptedPackage": b"\0" * 8192}


@pytest.mark.parametrize("name", ["locked.xlsx", "locked.xls", "locked.csv"])
def test_a_workbook_saved_with_a_password_is_said_to_be_one(name):
    """Such a workbook is a compound file holding an 'EncryptedPackage' stream (libmagic: 'CDFV2
    Encrypted'); it was called an old-style .xls file, which it is not."""
    raw = compound_file(PASSWORD)
    assert subprocess.run(["file", "-b", "-"], input=raw, capture_output=True,
                          check=True).stdout.startswith(b"CDFV2 Encrypted")
    with pytest.raises(FaircardError, match=rf"^'{name}' is a workbook saved with a password "
                                            r"\(encrypted\), which faircard cannot open\."):
        read_table(raw, filename=name)


@pytest.mark.parametrize("raw", [
    compound_file({"Workbook": b"\x09\x08" + b"\0" * 4094}),
    compound_file(PASSWORD)[:1024],  # the directory sector cut off
], ids=["an .xls workbook", "cut short"])
def test_other_compound_files_are_old_style_workbooks(raw):
    with pytest.raises(FaircardError, match="is an old-style Excel"):
        read_table(raw, filename="old.xlsx")


def test_a_directory_chain_in_a_loop_is_read_once():
    whole = compound_file(PASSWORD)
    looped = whole[:512] + b"\xfd\xff\xff\xff" + b"\x01\0\0\0" * 127 + whole[1024:]
    start = time.perf_counter()
    with pytest.raises(FaircardError, match="saved with a password"):
        read_table(looped, filename="loop.xlsx")
    assert time.perf_counter() - start < 5


def test_the_sheet_read_is_named_with_the_sheets_left_out_and_whether_it_is_hidden():
    """faircard reads a workbook's first sheet, as pandas does; a workbook whose first sheet is
    hidden (a lookup table, say) was read without a word, while Excel opens on another sheet."""
    book = openpyxl.Workbook()
    book.active.title = "lookup"
    book.active.append(["code", "label"])
    book.active.append([1, "x"])
    book.active.sheet_state = "hidden"
    for title in ("people", "notes"):
        sheet = book.create_sheet(title)
        sheet.append(["outcome", "sex"])
        sheet.append([1, "F"])
    book.active = 1
    buf = io.BytesIO()
    book.save(buf)
    read = read_table(buf.getvalue(), filename="three.xlsx")
    assert list(read.frame.columns) == ["code", "label"]
    assert read.warnings == (
        "'three.xlsx' has 3 sheets; faircard read the first, 'lookup', and left out 'people', "
        "'notes'. To use another sheet, save it alone as its own file or move it first.",
        "The sheet read, 'lookup', is hidden in Excel (hidden): check that it holds the data "
        "you meant.")
    assert read_table(_small_book(), filename="one.xlsx").warnings == ()
