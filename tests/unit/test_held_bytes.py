"""An upload's bytes held compressed: they come back exactly, and a table read from them is
the table read from the bytes themselves (same frame, encoding, warnings and refusals)."""

from __future__ import annotations

import codecs
import functools
import io

import numpy as np
import pandas as pd
import pytest

from faircard.errors import FaircardError
from faircard.io import read_table
from faircard.io.held import BLOCK, HeldBytes


@pytest.mark.parametrize("size", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 17])
def test_held_bytes_come_back_whole_as_a_stream_and_from_any_offset(size):
    raw = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    held = HeldBytes(raw)
    assert len(held) == size
    assert held.read() == raw
    assert held.head(10) == raw[:10]
    assert held.head(BLOCK + 5) == raw[:BLOCK + 5]
    for start in {0, 3, BLOCK - 1, BLOCK, BLOCK + 2, size}:
        stream = held.open(start)
        parts = []
        while part := stream.read(100_003):
            parts.append(part)
        assert b"".join(parts) == raw[start:]


def test_a_csv_compresses_to_a_fraction_of_its_size():
    n = 200_000
    rng = np.random.default_rng(0)
    raw = pd.DataFrame({"sex": rng.choice(["Female", "Male"], n), "score": rng.random(n).round(4),
                        "y": rng.integers(0, 2, n)}).to_csv(index=False).encode()
    assert HeldBytes(raw).compressed_size < 0.45 * len(raw)


@functools.cache
def _files() -> dict[str, bytes]:
    rng = np.random.default_rng(1)
    n = 250_000  # two blocks of the held copy, several chunks of the parser
    big = pd.DataFrame({"id": np.arange(n), "sex": rng.choice(["Female", "Male"], n),
                        "score": rng.random(n).round(5),
                        "late": ["1"] * (n - 1) + ["x"]})  # a type that changes at the end
    parquet = io.BytesIO()
    pd.DataFrame({"a": [1, 2]}).to_parquet(parquet)
    return {
        "plain.csv": b"a,b,c\n1,x,0.5\n2,y,0.25\n",
        "bom.csv": codecs.BOM_UTF8 + "a;b\n1;\xe9t\xe9\n2;\xfc\n".encode(),
        "legacy.csv": "a,b\n1,caf\xe9\n2,na\xefve\n".encode("cp1252"),
        "codes.csv": b"zip,v\n01,1\n2,2\n",
        "account.csv": b"acct,v\n99999999999999999999,1\n1,2\n",
        "empty.csv": b"",
        "blank.csv": b"  \n\t\r\n",
        "page.csv": b"<html><body>hello</body></html>",
        "ragged.csv": b"a,b\n1,2\n3,4,5\n",
        "binary.csv": bytes(range(256)) * 4,
        "parquet.csv": parquet.getvalue(),
        "data.parquet": parquet.getvalue(),
        "big.csv": big.to_csv(index=False).encode(),
        "big_bom.csv": codecs.BOM_UTF8 + big.to_csv(index=False).encode(),
        "big_legacy.csv": big.assign(sex=rng.choice(["caf\xe9", "Male"], n))
        .to_csv(index=False).encode("cp1252"),
    }


def _read(source, name: str, encoding: str):
    try:
        r = read_table(source, filename=name, encoding=encoding)
    except FaircardError as exc:
        return "refused", str(exc)
    return "read", r.frame, r.encoding, r.encoding_detected, r.warnings


_CASES = [(name, encoding) for name in _files() for encoding in ("detect", "utf-8", "cp1252")
          if not name.startswith("big") or encoding != "utf-8"]


@pytest.mark.parametrize(("name", "encoding"), _CASES)
def test_a_table_read_from_held_bytes_is_the_table_read_from_the_bytes(name, encoding):
    raw = _files()[name]
    expected, got = _read(raw, name, encoding), _read(HeldBytes(raw), name, encoding)
    assert got[0] == expected[0], (got[:2], expected[:2])
    if expected[0] == "refused":
        assert got == expected
    else:
        pd.testing.assert_frame_equal(got[1], expected[1])
        assert got[2:] == expected[2:]


def test_a_held_csv_is_the_table_pandas_reads():
    """pandas itself, reading the bytes (the column whose type changes at its end is text,
    every value as written, as faircard reads it)."""
    raw = _files()["big.csv"]
    pd.testing.assert_frame_equal(read_table(HeldBytes(raw), filename="big.csv").frame,
                                  pd.read_csv(io.BytesIO(raw), dtype={"late": object}))


def test_the_search_for_leading_zero_codes_finds_what_pythons_re_finds(monkeypatch):
    """The search (RE2 through pyarrow, over pieces that end at line breaks) against Python's
    own regular expressions, on 20,000 short texts of separators, spaces, quotes, signs,
    digits and line breaks, cut into pieces of 1 to 7 bytes (and as a view of the bytes)."""
    import re

    from faircard.io import tables

    oracle = re.compile(rb"(?:^|[,;\t|])[ ]*\"?[+-]?0[0-9]", re.MULTILINE)
    rng = np.random.default_rng(0)
    alphabet = np.frombuffer(b',;\t|\n \r"+-01a5', dtype=np.uint8)
    found = 0
    for _ in range(20_000):
        text = rng.choice(alphabet, int(rng.integers(0, 30))).tobytes()
        monkeypatch.setattr(tables, "_SEARCH_PIECE", int(rng.integers(1, 8)))
        expected = oracle.search(text) is not None
        found += expected
        assert tables._holds_code(text) == expected, text
        assert tables._holds_code(memoryview(b"xy" + text)[2:]) == expected, text
    assert 1_000 < found < 19_000  # both answers were tested often
