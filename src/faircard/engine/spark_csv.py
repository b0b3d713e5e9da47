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
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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


@dataclass(frozen=True)
class LineEnds:
    """What Spark needs to know of a CSV file's line ends (:func:`line_ends`)."""

    quoted: bool
    """A line end lies within quotes: Spark's line reader cut such a value, and its row, in
    two ('"b\\nc"' read as the group 'b', the rest as a row of its own), so the file is read
    as one stream (``multiLine``), as an upload reads it. (A quote within a value, 'a"b',
    counts as an opening quote here: such a file is read as one stream too, which reads it
    alike.)"""
    alike: bool
    """Every line end outside quotes is of one kind (\\n, \\r\\n or \\r) and no quoted
    value holds a \\r: Spark reading a stream takes the first line's end for every line (a
    file whose first line ended in \\n and others in \\r\\n gave 'b\\r' for 'b') and made a
    quoted \\r\\n a \\n."""


_CHUNK = 8 << 20


def line_ends(path: str | Path) -> LineEnds:
    """The :class:`LineEnds` of the UTF-8 CSV file at ``path`` (quotes are '"', a doubled one
    an escaped one), read a chunk at a time (about 1 ms of CPU per MB without quotes and \\r,
    6 ms with quotes on every line); kept while the file keeps its size and time."""
    stat = Path(path).stat()
    return _line_ends(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _line_ends(path: str, mtime: int, size: int) -> LineEnds:
    parity, before = 0, 0
    quoted = quoted_cr = False
    lf = crlf = cr = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            if not parity and before != 13 and b'"' not in chunk and b"\r" not in chunk:
                lf += chunk.count(b"\n")
                before = chunk[-1]
                continue
            a = np.frombuffer(chunk, np.uint8)
            quotes = np.flatnonzero(a == 34)
            ends = np.flatnonzero((a == 10) | (a == 13))
            inside = ((np.searchsorted(quotes, ends) + parity) & 1).astype(bool)
            quoted |= bool(inside.any())
            quoted_cr |= bool((a[ends[inside]] == 13).any())
            out = ends[~inside]
            out_cr = a[out] == 13
            after_cr = ~out_cr & (np.where(out > 0, a[np.maximum(out - 1, 0)], before) == 13)
            crlf += int(np.count_nonzero(after_cr))
            lf += int(np.count_nonzero(~out_cr)) - int(np.count_nonzero(after_cr))
            cr += int(np.count_nonzero(out_cr)) - int(np.count_nonzero(after_cr))
            parity = (parity + len(quotes)) & 1
            before = int(a[-1])
    return LineEnds(quoted, (lf > 0) + (crlf > 0) + (cr > 0) <= 1 and not quoted_cr)


def stream_refusal(name: str, encoding: str | None) -> str:
    """Why Spark cannot read the CSV file ``name`` as its upload reads it when it must read
    it as one stream (see :class:`LineEnds`)."""
    why = f"its text is {encoding}" if encoding else "a quoted value in it spans lines"
    return (f"Spark cannot read '{name}' as uploaded: {why}, so Spark reads it as one stream, "
            "where line ends of more than one kind (\\n, \\r\\n, \\r) or a \\r within quotes "
            "change its values. Save it with one kind of line end, or upload it.")


__all__ = ["JAVA_CHARSETS", "SPARK_CHARSETS", "STREAMED", "LineEnds", "cluster_refusal",
           "line_ends", "spark_charset", "stream_refusal"]
