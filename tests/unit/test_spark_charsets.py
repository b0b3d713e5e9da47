"""Spark reads a CSV file in another encoding than UTF-8 where it lies only in a Java charset
that decodes every character as Python's codec (the upload's) does: each pair of
:data:`faircard.engine.spark_csv.SPARK_CHARSETS` is compared on every byte sequence the codec
decodes, in the JVM of the shared Spark session."""

from __future__ import annotations

import codecs
from types import SimpleNamespace

import pytest

from faircard.engine.sources import csv_source, read_csv_spark
from faircard.engine.spark_csv import SPARK_CHARSETS, spark_charset
from faircard.errors import FaircardError


def _characters(codec: str) -> bytes:
    """Every character ``codec`` decodes, of one or two bytes (a two-byte sequence whose
    first byte is a character on its own is two characters), each as 'A' + bytes + 'B' on a
    line of its own."""
    out = []
    for raw in [bytes([b]) for b in range(256)] + [bytes([a, b]) for a in range(0x80, 256)
                                                   for b in range(256)]:
        if raw in (b"\n", b"\r") or (len(raw) == 2 and _decodes(raw[:1], codec)):
            continue
        if _decodes(raw, codec):
            out.append(b"A" + raw + b"B\n")
    return b"".join(out)


def _decodes(raw: bytes, codec: str) -> bool:
    try:
        raw.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _first_difference(python: str, java: str) -> str:
    for a, b in zip(python.split("\n"), java.split("\n"), strict=False):
        if a != b:
            return f"{a!r} in Python, {b!r} in Java"
    return "a different length"


def _every_code_point() -> str:
    return "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)


def test_spark_decodes_every_character_of_its_charsets_as_the_upload_does(spark):
    java = spark._jvm.java.lang.String
    for codec, charset in SPARK_CHARSETS.items():
        if codec.startswith("utf-"):
            text = _every_code_point()
            wide = codec.replace("-le", "").replace("-be", "")
            marked = {"utf-16": [codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
                                 codecs.BOM_UTF16_BE + text.encode("utf-16-be")],
                      "utf-32": [codecs.BOM_UTF32_LE + text.encode("utf-32-le"),
                                 codecs.BOM_UTF32_BE + text.encode("utf-32-be")]}
            for raw in marked.get(codec, [text.encode(codec)]):
                assert raw.decode(wide if codec in marked else codec) == text
                assert java(bytearray(raw), charset) == text, codec
            continue
        raw = _characters(codec)
        python = raw.decode(codec)
        assert len(python) > 3 * 200, codec  # every byte of 0x20-0x7e at least
        by_java = java(bytearray(raw), charset)
        assert by_java == python, f"{codec}: {_first_difference(python, by_java)}"


def test_the_encodings_spark_decodes_otherwise_are_read_from_copies(spark):
    """Shift_JIS, Big5 and GB18030, which an upload may detect, differ in Java: such files
    are not read by Spark where they lie."""
    java = spark._jvm.java.lang.String
    for codec, charset in (("shift_jis", "Shift_JIS"), ("big5", "Big5"),
                           ("gb18030", "GB18030")):
        raw = _characters(codec)
        assert java(bytearray(raw), charset) != raw.decode(codec)
        assert spark_charset(codec) is None
    assert spark_charset("latin-1") == "ISO-8859-1"
    assert spark_charset("windows-1252") == "windows-1252"  # a Python alias of cp1252


@pytest.mark.parametrize("encoding, mixed", [("shift_jis", False), ("cp1252", True)])
def test_spark_on_a_cluster_refuses_only_what_it_cannot_read_as_uploaded(
        tmp_path, encoding, mixed):
    """On a cluster the UTF-8 copy on this machine's disk cannot be read: Shift_JIS text, and
    a file mixing UTF-8 lines with cp1252 ones, are refused in one sentence before Spark
    reads anything."""
    names = ["東京都", "大阪府", "名古屋"]
    text = "y,s,g\n" + "".join(f"{i % 2},0.{i},{names[i % 3]}\n" for i in range(30))
    path = tmp_path / "t.csv"
    if mixed:
        text = text.replace("東京都", "Café").replace("大阪府", "Zoë").replace("名古屋", "Ærø")
        path.write_bytes(text.encode(encoding) + "1,0.5,Müller\n".encode())
    else:
        path.write_bytes(text.encode(encoding))
    cluster = SimpleNamespace(sparkContext=SimpleNamespace(master="spark://head:7077"))
    with pytest.raises(FaircardError) as caught:
        read_csv_spark(cluster, str(path), *csv_source(str(path)))
    what = ("mixes UTF-8 lines with cp1252 lines, which Spark cannot read in one encoding"
            if mixed else "is shift_jis text, which Spark decodes otherwise than an upload "
            "for some characters")
    assert str(caught.value) == (f"'t.csv' {what}, so Spark on a cluster cannot read it as "
                                 "uploaded: save it as CSV UTF-8 or count it with DuckDB "
                                 "(--engine duckdb).")


def test_line_ends_within_quotes_are_found_across_chunks(tmp_path, monkeypatch):
    """:func:`faircard.engine.spark_csv.line_ends` on random CSV text read 7 bytes at a time,
    against what Python's csv module reads back: a value holding a line end, and rows ending
    in more than one way (or a \\r within quotes)."""
    import csv
    import io
    import random

    from faircard.engine import spark_csv

    monkeypatch.setattr(spark_csv, "_CHUNK", 7)
    rng = random.Random(5)
    for case in range(300):
        rows, ends = [], []
        for _ in range(rng.randint(1, 6)):
            rows.append([rng.choice(["a", "bc", "", '"q""x"', '"m\nn"', '"r\r\ns"', '","'])
                         for _ in range(3)])
            ends.append(rng.choice(["\n"] * 6 + ["\r\n", "\r"]))
        if rng.random() < 0.5:
            ends = [ends[0]] * len(ends)
        text = "".join(",".join(r) + e for r, e in zip(rows, ends, strict=True))
        path = tmp_path / f"{case}.csv"
        path.write_bytes(text.encode())
        read = list(csv.reader(io.StringIO(text, newline="")))
        assert len(read) == len(rows)
        quoted = any("\n" in v or "\r" in v for r in read for v in r)
        alike = len(set(ends)) == 1 and not any("\r" in v for r in read for v in r)
        assert spark_csv.line_ends(path) == spark_csv.LineEnds(quoted, alike), text
