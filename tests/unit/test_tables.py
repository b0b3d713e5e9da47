"""Reading CSV (encodings, delimiters), Parquet and Excel, and refusing bad files clearly."""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
import pandas as pd
import pytest

from faircard import FaircardError, load_table
from faircard.io import fingerprint

FRAME = pd.DataFrame({"성별": ["남", "여", "여"], "y": [1, 0, 1], "score": [0.2, 0.9, 0.5]})


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr"])
def test_csv_encodings(encoding):
    raw = FRAME.to_csv(index=False).encode(encoding)
    df = load_table(raw, filename="data.csv")
    assert list(df.columns) == ["성별", "y", "score"]
    assert df["성별"].tolist() == ["남", "여", "여"]


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_csv_delimiters_are_sniffed(sep):
    raw = FRAME.to_csv(index=False, sep=sep).encode()
    df = load_table(raw, filename="data.csv")
    pd.testing.assert_frame_equal(df, FRAME, check_dtype=False)


def test_comma_space_delimiter_and_question_mark_missing():
    raw = b"age, workclass, class\n39, State-gov, <=50K\n50, ?, >50K\n"
    df = load_table(raw, filename="adult.csv")
    assert df["workclass"].isna().tolist() == [False, True]
    assert df["class"].tolist() == ["<=50K", ">50K"]


def test_parquet_and_excel_roundtrip(tmp_path):
    p = tmp_path / "d.parquet"
    FRAME.to_parquet(p)
    pd.testing.assert_frame_equal(load_table(p), FRAME)
    x = tmp_path / "d.xlsx"
    FRAME.to_excel(x, index=False)
    pd.testing.assert_frame_equal(load_table(x), FRAME, check_dtype=False)


def test_duplicate_column_names_are_made_unique():
    df = load_table(b"a,b,a\n1,2,3\n", filename="d.csv")
    assert list(df.columns) == ["a", "b", "a.1"]


def test_fingerprint_is_sha256(tmp_path):
    import hashlib

    p = tmp_path / "x.csv"
    p.write_bytes(b"a,b\n1,2\n")
    assert fingerprint(p) == fingerprint(b"a,b\n1,2\n") == hashlib.sha256(b"a,b\n1,2\n").hexdigest()


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 * 1024**2))
    return buf.getvalue()


def _zip_claiming_2gb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    raw = bytearray(buf.getvalue())
    # patch the central directory entry's uncompressed size to 2 GiB
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24 : cd + 28] = struct.pack("<I", 2 * 1024**3 - 1)
    return bytes(raw)


BAD_TABLES = {
    "empty": (b"", "d.csv", "empty"),
    "whitespace only": (b"  \n\n ", "d.csv", "empty"),
    "header only": (b"a,b,c\n", "d.csv", "no data rows"),
    "binary junk": (bytes(range(256)) * 8, "d.csv", "binary"),
    "ragged rows": (b"a,b,c\n1,2,3\n4,5,6,7,8\n", "d.csv", "has 5 fields"),
    "fake parquet": (b"this is not parquet", "d.parquet", "not"),
    "damaged parquet": (b"PAR1" + b"\x00junk" * 20, "d.parquet", "Parquet"),
    "fake xlsx": (b"hello, world", "d.xlsx", "not"),
    "zip that is not a workbook": (None, "d.xlsx", "not an Excel workbook"),
    "zip bomb renamed .xlsx": (None, "bomb.xlsx", "expands to far more"),
    "2 GB claim in a zip header": (None, "claim.xlsx", "expands to far more"),
    "old xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "d.xls", ".xls"),
    "unknown extension": (b"a,b\n1,2\n", "d.json", "cannot read"),
}


def _bytes_for(case: str, raw: bytes | None) -> bytes:
    if case == "zip bomb renamed .xlsx":
        return _zip_bomb()
    if case == "2 GB claim in a zip header":
        return _zip_claiming_2gb()
    if case == "zip that is not a workbook":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("readme.txt", "hi")
        return buf.getvalue()
    return raw


@pytest.mark.parametrize("case", list(BAD_TABLES))
def test_bad_tables_give_one_clear_sentence(case):
    raw, name, words = BAD_TABLES[case]
    with pytest.raises(FaircardError) as info:
        load_table(_bytes_for(case, raw), filename=name)
    msg = str(info.value)
    assert words.lower() in msg.lower(), msg
    assert "\n" not in msg and "Traceback" not in msg


def test_size_limit_is_checked_before_parsing(tmp_path):
    with pytest.raises(FaircardError, match="limit on file size"):
        load_table(b"a,b\n" + b"1,2\n" * 1000, filename="d.csv", max_bytes=100)


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(FaircardError, match="does not exist"):
        load_table(tmp_path / "nope.csv")
    with pytest.raises(FaircardError, match="folder"):
        load_table(tmp_path)


def test_numbers_stay_numbers():
    df = load_table(b"y,s\n1,0.25\n0,0.75\n", filename="d.csv")
    assert df["s"].dtype == np.float64


@pytest.mark.parametrize("case", list(BAD_TABLES))
def test_bad_tables_through_the_cli(case, tmp_path, capsys):
    from faircard.cli import main

    raw, name, words = BAD_TABLES[case]
    path = tmp_path / name
    path.write_bytes(_bytes_for(case, raw))
    code = main(["assess", str(path), "--target", "y", "--prediction", "p", "--sensitive", "g"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("faircard: error: ")
    assert words.lower() in err.lower(), err
