"""CSV files typed once per process into a Parquet file that DuckDB then counts.

Typing a CSV column by faircard's rule (:mod:`faircard.engine.csv_text`) means testing every
value of every row; counting reads the rows four or five times (the row accounting, the
outcome values, each feature's values, the grouped table). Doing both on the text of the CSV
on every read cost twenty times a bare DuckDB count. So the rows are typed once per process
and written, in their order, to a Parquet file in a temporary folder (deleted when the process
ends), which every count reads. Counts are the same: the Parquet file holds exactly the typed
values each count used to compute.

The types are guessed from the first rows (:data:`GUESS_ROWS`), then one pass over the file
writes the copy while checking that every other value keeps its column's type, with the
cheapest test that is enough (:func:`checked_value`), on the values as read (the spaces after
a delimiter are skipped only for a value the cheap tests do not settle). A value that does not
stops the pass; then the types are counted from every row and the copy written again (two
more passes). A text column needs no check; one with few values in the first rows (at most
:data:`FEW_TEXTS`) is written through DuckDB's ENUM type of those values, which the Parquet
writer encodes without hashing each value (about 0.4 s of CPU less per column at 10 million
rows). Any other value stops that pass too (a group first seen past the first rows, a value
with spaces after the delimiter); the copy is then written with those columns as plain text
(one more pass).
"""

from __future__ import annotations

import atexit
import itertools
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from ..errors import FaircardError
from ..io.encodings import detected_note, utf8_copy
from .csv_text import (
    BOOLEAN,
    INTEGER,
    LONG,
    NUMBER_OTHER,
    TEXT,
    class_counts,
    cleaned,
    cleaned_select,
    column_kinds,
    header_names,
    kind_of,
    kinds_query,
    na_list,
    typed_select,
    typed_value,
    value_class,
)
from .sql import quote

MAX_SPILLS = 8
"""Typed copies kept at once; the oldest is deleted when a ninth is written."""
SPILL_MEMORY = "1GB"
"""DuckDB's memory limit while typing and writing a copy (it streams the rows)."""
GUESS_ROWS = 10_000
"""The first rows whose values give each column's type before the copy checks the others."""
GUESS_FAILED = "faircard: a CSV value does not have the type the first rows gave its column"
"""The error that stops a copy whose guessed types a later value contradicts."""
FEW_VALUES = 16
"""A column with at most this many distinct values in its first rows checks each other value
against them first (a match needs no other test)."""
FEW_TEXTS = 255
"""A text column with at most this many distinct values in its first rows is written as
DuckDB's ENUM of them (see the module's note)."""
CAST_SHORTCUT = ("+", "_", "n", "N")
"""Beyond pandas' numbers, DuckDB's cast to a double reads only values holding one of these
('+-1', '1_000', 'nan', ' inf', ...) or written with a leading zero: any other value it reads
is a number for pandas too (``tests/unit/test_csv_typing.py`` checks this on random text)."""

_SPILLS: OrderedDict[tuple, Path] = OrderedDict()
_LOCK = threading.Lock()
_FOLDER: list[Path] = []
_NUMBERS = itertools.count()


def _folder() -> Path:
    if not _FOLDER:
        folder = Path(tempfile.mkdtemp(prefix="faircard-csv-"))
        atexit.register(shutil.rmtree, folder, True)
        _FOLDER.append(folder)
    return _FOLDER[0]


def typed_parquet(read: str, files: list[Path], pattern: str) -> Path:
    """The Parquet file holding the rows of ``read`` (DuckDB's ``read_csv`` of every column as
    text) typed by faircard's CSV rule, written on the first call for these ``files`` (by
    name, size and modification time) and kept for the process."""
    key = (read, tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files))
    with _LOCK:
        if key in _SPILLS and _SPILLS[key].exists():
            _SPILLS.move_to_end(key)
            return _SPILLS[key]
        path = _folder() / f"typed-{next(_NUMBERS)}.parquet"
        _write(read, path, pattern)
        _SPILLS[key] = path
        while len(_SPILLS) > MAX_SPILLS:
            _, old = _SPILLS.popitem(last=False)
            old.unlink(missing_ok=True)
        return path


_READABLE: dict[tuple, tuple[Path, tuple[str, ...], str | None, bool]] = {}


def readable_csv(files: list[Path]) -> tuple[list[Path], tuple[str, ...]]:
    """The files an engine reads for the CSV ``files``, and what faircard says of their
    encodings: each file itself when it is UTF-8 (a zero byte refused as an upload refuses
    it), else a UTF-8 copy of it under its own name in the temporary folder, read from the
    encoding an upload of it detects (:func:`faircard.io.encodings.utf8_copy`), written once
    per process while the file keeps its size and time. An engine read every file as UTF-8,
    so a cp1252 file was refused by path and read on an upload."""
    entries = [_readable_entry(f) for f in files]
    return [e[0] for e in entries], tuple(n for e in entries for n in e[1])


def csv_encodings(files: list[Path]) -> list[tuple[str | None, bool]]:
    """For each of the CSV ``files``, the encoding an upload of it detects (a Python codec
    name; None for UTF-8) and whether it mixes UTF-8 lines with lines in that encoding (as
    :func:`readable_csv` found them)."""
    return [(e[2], e[3]) for e in map(_readable_entry, files)]


def _readable_entry(f: Path) -> tuple[Path, tuple[str, ...], str | None, bool]:
    stat = f.stat()
    key = (str(f), stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        entry = _READABLE.get(key)
        if entry is None or not entry[0].exists():
            folder = _folder() / f"text-{next(_NUMBERS)}"
            folder.mkdir()
            decoded = utf8_copy(f, f.name, folder / f.name)
            entry = (f, (), None, False) if decoded is None else (
                folder / f.name, (detected_note(f.name, decoded.encoding), *decoded.warnings),
                decoded.encoding, bool(decoded.warnings))
            _READABLE[key] = entry
    return entry


def _no_leading_zero(v: str) -> str:
    """``v`` does not start with a '0' (after a '-') followed by a digit: ``v`` does not sort,
    byte by byte, between '00' and '0:' (':' follows '9')."""
    return (f"NOT (({v} >= '00' AND {v} < '0:') OR ({v} >= '-00' AND {v} < '-0:'))")


def cast_shortcut(v: str) -> str:
    """A condition on ``v`` under which a value DuckDB's cast to a double reads is a number
    not written with a leading zero for pandas too: ``v`` holds none of
    :data:`CAST_SHORTCUT` and does not start with a '0' (after a '-') followed by a digit."""
    odd = " OR ".join(f"contains({v}, '{c}')" for c in CAST_SHORTCUT)
    return f"NOT ({odd}) AND {_no_leading_zero(v)}"


def checked_value(v: str, kind: str, allowed: tuple[int, ...], values: list[str]) -> str:
    """The text column ``v`` as read (some or all of the words for a missing value read as
    NULL) as the type ``kind``, every value that is not missing being of one of the
    ``allowed`` classes (:func:`value_class`) once cleaned (:func:`cleaned`), else the query
    stops with :data:`GUESS_FAILED`. Cheaper tests come first, each enough on its own: one of
    the ``values`` already seen (cleaned values); for a double, a value DuckDB's cast reads
    that :func:`cast_shortcut` lets through and that does not start with a space (pandas
    skips the spaces after a delimiter before looking for a leading zero); then
    :func:`value_class` itself, on the cleaned value."""
    fail = f"error('{GUESS_FAILED}')"
    c = cleaned(v)  # the words for a missing value too: the reader may not know them all
    classes = ", ".join(str(k) for k in allowed) or "NULL"
    full = (f"CASE WHEN {c} IS NULL THEN CAST(NULL AS {kind}) "
            f"WHEN ({value_class(c)}) IN ({classes}) THEN {typed_value(c, kind)} ELSE {fail} END")
    branches = [f"WHEN {v} IS NULL THEN CAST(NULL AS {kind})"]
    if values:
        branches.append(f"WHEN {v} IN ({', '.join(_literal(x) for x in values)}) "
                        f"THEN {typed_value(v, kind)}")
    if kind == "DOUBLE" and NUMBER_OTHER in allowed:
        # a value the cast does not read goes on to the full test (a word for a missing value)
        full = (f"COALESCE(CASE WHEN NOT starts_with({v}, ' ') AND {cast_shortcut(v)} "
                f"THEN TRY_CAST({v} AS DOUBLE) END, {full})")
    return f"CASE {' '.join(branches)} ELSE {full} END"


def enum_value(v: str, values: list[str]) -> str:
    """The text column ``v`` as read, as DuckDB's ENUM of ``values`` (the cleaned values of
    its first rows): any other value (a missing one aside) stops the query with a conversion
    error naming the ENUM."""
    return f"CAST({v} AS ENUM({', '.join(_literal(x) for x in values)}))"


def _new_text(exc: Exception) -> bool:
    """Whether ``exc`` is :func:`enum_value`'s error: a text not among the first rows'."""
    import duckdb

    return isinstance(exc, duckdb.ConversionException) and " to ENUM(" in str(exc)


def guessed_kinds(row: dict, names: list[str]
                  ) -> tuple[dict[str, str], dict[str, tuple[int, ...]]]:
    """(each column's type, the classes of value that keep it) guessed from the row of
    :func:`kinds_query` on the first rows. A column's guessed type is its type when every
    other value is of one of its classes (:func:`checked_value`); a column made text by a
    code, a text or ``true`` next to a number has no classes: it needs no check."""
    kinds, allowed = {}, {}
    for j, name in enumerate(names):
        counts = class_counts(row, j)
        kinds[name] = kind_of(counts)
        n = sum(counts.values())
        if counts[TEXT] or 0 < counts[BOOLEAN] < n:
            continue
        if n == 0:  # no value yet: any value changes the type
            allowed[name] = ()
        elif counts[BOOLEAN]:
            allowed[name] = (BOOLEAN,)
        elif counts[NUMBER_OTHER]:
            allowed[name] = (INTEGER, LONG, NUMBER_OTHER)
        elif counts[LONG]:
            allowed[name] = (INTEGER, LONG)
        else:
            allowed[name] = (INTEGER,)
    return kinds, allowed


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _few_values(con, table: str, names: list[str], limit: int) -> dict[str, list[str]]:
    """The distinct values of each column ``names`` of ``table`` that has at most ``limit``
    (counted in Python: DuckDB gives each DISTINCT its own large table)."""
    if not names:
        return {}
    rows = con.execute(f"SELECT {', '.join(quote(n) for n in names)} FROM {table}").fetchall()
    out = {}
    for j, name in enumerate(names):
        seen: set = set()
        for r in rows:
            if r[j] is not None:
                seen.add(r[j])
                if len(seen) > limit:
                    break
        if 0 < len(seen) <= limit:
            out[name] = sorted(seen)
    return out


def _reading_words(read: str, words: list[str]) -> str | None:
    """``read`` reading only ``words`` as NULL (None when ``read`` does not name the words
    of :func:`~faircard.engine.csv_text.na_list`)."""
    every = f"nullstr = {na_list()}"
    if every not in read:
        return None
    return read.replace(every, "nullstr = [" + ", ".join(_literal(w) for w in words) + "]")


def _write(read: str, path: Path, pattern: str) -> None:
    import duckdb

    from .sources import _first_line, _row

    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{SPILL_MEMORY}'")
        raw = [str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {read}").fetchall()]
        names = header_names(raw)
        clean = f"({cleaned_select(read, raw, names, words_read=True)}) AS clean"
        target = str(path).replace("'", "''")
        plain = _reading_words(read, [""])  # the first rows with every other word as written
        con.execute(f"CREATE TEMP TABLE first_read AS SELECT * FROM {plain or read} "
                    f"LIMIT {GUESS_ROWS}")
        con.execute("CREATE TEMP TABLE first_rows AS "
                    f"{cleaned_select('first_read', raw, names, words_read=plain is None)}")
        kinds, allowed = guessed_kinds(_row(con.execute(kinds_query("first_rows", names))), names)
        seen = _few_values(con, "first_rows", list(allowed), FEW_VALUES)
        # text columns written as an ENUM: not those whose first rows have spaces after the
        # delimiter (the ENUM holds the values as cleaned, and every row would miss it)
        spaced = _row(con.execute("SELECT " + ", ".join(
            f"bool_or(starts_with({quote(r)}, ' ')) AS s{j}" for j, r in enumerate(raw))
            + " FROM first_read"))
        text = [n for n in names if n not in allowed]
        texts = _few_values(con, "first_rows", [n for j, n in enumerate(names)
                                                if n in text and not spaced[f"s{j}"]],
                            FEW_TEXTS)
        checked = {name: checked_value(quote(name), kinds[name], classes, seen.get(name, []))
                   for name, classes in allowed.items()}
        # comparing every value with the words for a missing value costs the reader about
        # 0.12 s of CPU per column at 10 million rows: when every text column is an ENUM,
        # the reader knows only the words its first rows hold (any other misses the ENUM)
        fast = read
        if plain is not None and set(text) <= set(texts):
            values = ", ".join(quote(r) for r in raw)
            held = [r[0] for r in con.execute(
                f"SELECT DISTINCT v FROM (SELECT unnest([{values}]) AS v FROM first_read) "
                f"WHERE v IN ({na_list()[1:-1]})").fetchall()]
            fast = _reading_words(read, sorted({*held, ""}))

        def copy(enums: dict[str, list[str]], reader: str) -> None:
            # the values as read, under faircard's names (each expression cleans what it must)
            exprs = {name: checked.get(name) or (
                enum_value(quote(name), enums[name]) if name in enums
                else cleaned(quote(name), words_read=True)) for name in names}
            renamed = ", ".join(f"{quote(r)} AS {quote(n)}" for r, n in zip(raw, names,
                                                                             strict=True))
            source = f"(SELECT {renamed} FROM {reader}) AS as_read"
            con.execute(f"COPY ({typed_select(source, kinds, exprs)}) TO '{target}' "
                        "(FORMAT parquet)")

        try:
            try:
                copy(texts, fast)
            except duckdb.Error as exc:
                if not (texts and _new_text(exc)):
                    raise
                path.unlink(missing_ok=True)  # a text past the first rows: plain text
                copy({}, read)
        except duckdb.Error as exc:
            if GUESS_FAILED not in str(exc):
                raise
            # a later value changes a column's type: type every column from every row
            path.unlink(missing_ok=True)
            kinds = column_kinds(_row(con.execute(kinds_query(clean, names))), names)
            con.execute(f"COPY ({typed_select(clean, kinds)}) TO '{target}' (FORMAT parquet)")
    except duckdb.Error as exc:
        path.unlink(missing_ok=True)
        raise FaircardError(f"DuckDB cannot read '{pattern}': {_first_line(exc)}") from None
    finally:
        con.close()


__all__ = ["csv_encodings", "readable_csv", "typed_parquet"]
