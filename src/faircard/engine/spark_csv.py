"""The encodings Spark reads exactly as an upload decodes them.

An upload decodes a CSV file with Python's codec for the encoding it detects
(:mod:`faircard.io.encodings`); Spark decodes with Java's charset of the name it is given
(its CSV reader's ``encoding`` option). For the pairs below, every byte sequence Python's codec
decodes gives the same text in Java's (``tests/unit/test_spark_charsets.py`` compares them,
character by character, in the JVM of the Spark session): Spark reads such a file where it lies,
on any master, with the group names of its upload. Other pairs differ: Java's Shift_JIS reads
0x815C as U+2014 where Python reads U+2015, its GB18030 differs in 38 characters, Big5 in 5,
EUC-JP in 2; those files, and files mixing UTF-8 lines with another encoding, are read by Spark
from faircard's UTF-8 copy with a ``local`` master (the copy is on this machine's disk) and
refused on a cluster.
"""

from __future__ import annotations

import codecs

SPARK_CHARSETS = {
    **{f"cp125{i}": f"windows-125{i}" for i in range(9)},
    "iso8859-1": "ISO-8859-1",
    **{f"iso8859-{i}": f"ISO-8859-{i}" for i in (2, 4, 5, 6, 7, 8, 9, 13, 15)},
    "cp949": "x-windows-949",
    "euc_kr": "EUC-KR",
    "gb2312": "GB2312",
    "koi8-r": "KOI8-R",
    "koi8-u": "KOI8-U",
    "mac-roman": "x-MacRoman",
    "cp437": "IBM437",
    "cp850": "IBM850",
    "cp866": "IBM866",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16LE",
    "utf-16-be": "UTF-16BE",
    "utf-32": "UTF-32",
}
"""Python's codec name (``codecs.lookup(...).name``) -> the name of the Java charset that
decodes every byte sequence the codec decodes to the same text."""

STREAMED = frozenset({"UTF-16", "UTF-16LE", "UTF-16BE", "UTF-32"})
"""Charsets whose line ends are not the byte 0x0A: Spark's line reader cuts a file at that
byte before decoding, so these are read as one stream (``multiLine``)."""

JAVA_CHARSETS = "spark.sql.legacy.javaCharsets"
"""The Spark setting that lets its CSV reader use any Java charset; without it Spark 4 takes
only UTF-8, US-ASCII, ISO-8859-1, UTF-16 and UTF-32 (``INVALID_PARAMETER_VALUE.CHARSET`` for
windows-1252). faircard turns it on in its own session only."""


def spark_charset(encoding: str) -> str | None:
    """The Java charset Spark reads text in ``encoding`` (a Python codec name) with exactly
    as Python decodes it, or None when there is none."""
    try:
        return SPARK_CHARSETS.get(codecs.lookup(encoding).name)
    except LookupError:
        return None


def cluster_refusal(name: str, encoding: str, mixed: bool) -> str:
    """Why Spark on a cluster cannot read the CSV file ``name`` (detected as ``encoding``,
    mixed with UTF-8 lines when ``mixed``) as its upload reads it, in one sentence."""
    what = f"mixes UTF-8 lines with {encoding} lines, which Spark cannot read in one encoding" \
        if mixed else f"is {encoding} text, which Spark decodes otherwise than an upload for some characters"
    return (f"'{name}' {what}, so Spark on a cluster cannot read it as uploaded: save it as "
            "CSV UTF-8 or count it with DuckDB (--engine duckdb).")


__all__ = ["JAVA_CHARSETS", "SPARK_CHARSETS", "STREAMED", "cluster_refusal", "spark_charset"]
