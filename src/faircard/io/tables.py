"""Read a dataset from CSV, Parquet or Excel into a DataFrame, with plain-language errors.

Uploads are untrusted: sizes are checked before parsing, Parquet metadata and Excel archives
are inspected before anything is materialised (workbooks are then opened in a child process
with time and memory limits) (rows, cells and decoded bytes are bounded by
:class:`TableLimits`), text encodings are measured rather than guessed in a fixed order, and
every parser failure becomes a :class:`~faircard.errors.FaircardError`.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import FaircardError
from .allocator import returning_freed_memory
from .columns import column_names
from .encodings import DETECT, ENCODING_CHOICES, decode_text
from .excel import compound_file_names, read_workbook
from .held import HeldBytes
from .limits import MAX_TABLE_BYTES, TableLimits, over_limit
from .parquet_pages import TooManyPages, declared_page_bytes

__all__ = ["DETECT", "ENCODING_CHOICES", "MAX_TABLE_BYTES", "HeldBytes", "TableLimits",
           "TableRead", "fingerprint", "load_table", "over_limit", "read_table"]

MAX_XLSX_UNCOMPRESSED = 1024**3
"""Largest total uncompressed size of an Excel archive (bytes)."""


@dataclass(frozen=True)
class TableRead:
    """A table read from a file, with how it was read."""

    frame: pd.DataFrame
    encoding: str | None = None
    """The text encoding used (None for Parquet and Excel)."""
    encoding_detected: bool = False
    """True when the encoding was measured, False when it was chosen."""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    """Sentences about things that were read but may be wrong (show them to the user)."""

MAX_XLSX_RATIO = 200
"""Largest compression ratio of one member of an Excel archive; real sheets stay far below."""

_DELIMITERS = ",;\t|"
_PARQUET_MAGIC = b"PAR1"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


def fingerprint(data: bytes | str | Path) -> str:
    """sha256 hex digest of file bytes (or of the file at a path)."""
    h = hashlib.sha256()
    if isinstance(data, bytes | bytearray | memoryview):
        h.update(data)
    else:
        with open(data, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def load_table(source: str | Path | bytes, **options: Any) -> pd.DataFrame:
    """Read a table from a path or from file bytes; only the frame (options and errors as
    :func:`read_table`)."""
    return read_table(source, **options).frame


def read_table(
    source: str | Path | bytes | HeldBytes,
    *,
    filename: str | None = None,
    max_bytes: int | None = None,
    encoding: str = DETECT,
    limits: TableLimits | None = None,
) -> TableRead:
    """Read a table from a path or from file bytes.

    The format comes from the file name's extension (``.csv``, ``.tsv``, ``.txt``, ``.parquet``,
    ``.xlsx``) and is confirmed from the content. Text files are UTF-8 (with or without BOM)
    or, with ``encoding="detect"``, whatever encoding decodes them best as measured by
    charset-normalizer (ties go to cp1252, then cp949/EUC-KR); lines of a file that mixes
    UTF-8 with another encoding are each decoded with their own, with a warning. The delimiter
    is sniffed. ``limits`` (default :meth:`TableLimits.from_env`) bound the file, the decoded
    text, rows and cells; ``max_bytes`` overrides the file size limit. Raises FaircardError
    for anything that cannot be read or is over a limit, naming the problem and the limit.

    A CSV file's bytes held compressed (:class:`HeldBytes`, as the app keeps an upload) are
    checked whole, then parsed from a stream that decompresses one block at a time: the file
    is not in memory next to the table being built. Other formats are decompressed whole.
    """
    limits = limits or TableLimits.from_env()
    if max_bytes is not None:
        limits = dataclasses.replace(limits, max_file_bytes=max_bytes)
    if isinstance(source, HeldBytes):
        name = filename or "upload"
        _check_size(source.size, name, limits.max_file_bytes)
        if _kind_by_name(name) == "csv" and not source.head(4).startswith(
                (_PARQUET_MAGIC, _ZIP_MAGIC, _OLE_MAGIC)):
            with returning_freed_memory():
                result = _read_csv(source, name, encoding, limits)
            return _checked(result, name, limits)
        source = source.read()
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
        name = filename or "upload"
    else:
        path = Path(source)
        name = filename or path.name
        if not path.exists():
            raise FaircardError(f"The file '{path}' does not exist. Check the path.")
        if path.is_dir():
            raise FaircardError(f"'{path}' is a folder; give the path of a data file.")
        size = path.stat().st_size
        _check_size(size, name, limits.max_file_bytes)
        raw = path.read_bytes()
    _check_size(len(raw), name, limits.max_file_bytes)
    _refuse_empty(raw, name)
    kind = _kind(name, raw)
    with returning_freed_memory():  # the peak stays near the table's own size
        if kind == "parquet":
            df, notes = _read_parquet(raw, name, limits)
            result = TableRead(df, warnings=tuple(notes))
        elif kind == "excel":
            df, notes = _read_excel(raw, name, limits)
            result = TableRead(df, warnings=tuple(notes))
        else:
            result = _read_csv(raw, name, encoding, limits)
    return _checked(result, name, limits)


def _checked(result: TableRead, name: str, limits: TableLimits) -> TableRead:
    _tidy_columns(result.frame, name)
    _check_shape(*result.frame.shape, name, limits)
    return result


def _refuse_empty(raw: bytes, name: str) -> None:
    if not raw or raw.isspace():  # what raw.strip() leaves nothing of, without copying it
        raise FaircardError(f"The file '{name}' is empty. Choose a file with a header row and data.")


def _kind_by_name(name: str) -> str | None:
    """"csv" for the extensions read as text (the content may still be another format)."""
    return "csv" if Path(name).suffix.lower() in _TEXT_EXTENSIONS else None


_TEXT_EXTENSIONS = (".csv", ".tsv", ".txt", "")


def _check_columns(cols: int, name: str, limits: TableLimits) -> None:
    if cols > limits.max_columns:
        raise over_limit(name, f"{cols:,} columns", "columns", f"{limits.max_columns:,} columns",
                         "FAIRCARD_MAX_COLUMNS")


def _check_shape(rows: int, cols: int, name: str, limits: TableLimits) -> None:
    _check_columns(cols, name, limits)
    if rows > limits.max_rows:
        raise over_limit(name, f"{rows:,} rows", "rows", f"{limits.max_rows:,} rows",
                         "FAIRCARD_MAX_ROWS")
    if rows * cols > limits.max_cells:
        raise over_limit(name, f"{rows * cols:,} cells ({rows:,} rows x {cols:,} columns)",
                         "cells", f"{limits.max_cells:,} cells", "FAIRCARD_MAX_CELLS")


def _check_size(size: int, name: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise FaircardError(
            f"The file '{name}' is {size / 1024**2:,.1f} MB, over this server's limit on file "
            f"size ({max_bytes / 1024**2:,.1f} MB). Use a sample or a Parquet file, or ask the "
            "administrator to raise FAIRCARD_MAX_FILE_MB."
        )


def _kind(name: str, raw: bytes) -> str:
    ext = Path(name).suffix.lower()
    if raw.startswith(_OLE_MAGIC) and "EncryptedPackage" in compound_file_names(raw):
        raise FaircardError(
            f"'{name}' is a workbook saved with a password (encrypted), which faircard cannot "
            "open. Save a copy without the password, or as CSV, and upload that."
        )
    if ext == ".xls" or raw.startswith(_OLE_MAGIC):
        raise FaircardError(
            f"'{name}' is an old-style Excel (.xls) file, which faircard does not read. "
            "Save it as .xlsx or CSV."
        )
    if ext in (".parquet", ".pq"):
        if not raw.startswith(_PARQUET_MAGIC):
            raise FaircardError(f"'{name}' is named like a Parquet file but is not one.")
        return "parquet"
    if ext in (".xlsx", ".xlsm"):
        if not raw.startswith(_ZIP_MAGIC):
            raise FaircardError(f"'{name}' is named like an Excel file but is not one.")
        return "excel"
    if ext in _TEXT_EXTENSIONS:
        if raw.startswith(_PARQUET_MAGIC):
            return "parquet"
        if raw.startswith(_ZIP_MAGIC):
            return "excel"
        return "csv"
    raise FaircardError(
        f"faircard cannot read '{name}': use a CSV, Parquet (.parquet) or Excel (.xlsx) file."
    )


def _sniff_delimiter(head: str) -> str:
    sample = "\n".join(head.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] > 0 else ","


NA_WORDS = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
            "1.#QNAN", "<NA>", "?", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
"""Every value a CSV reader of faircard takes for a missing one (pandas' default words and
'?'); DuckDB reads CSV files opened by path with the same list."""


CODE_PATTERN = "^[+-]?0[0-9]"
"""A value written with a leading zero (``01``, ``007``, ``00501``): a code, not a number. A
CSV column of numbers holding one is read as text, every value as written, so the region code
``01`` stays ``01`` (and ``1`` stays another group) whichever engine reads the file."""
_CODE_IN_TEXT = '(?m)(?:^|[,;\t|])[ ]*"?[+-]?0[0-9]'
"""A field written with a leading zero anywhere in a CSV text (RE2 syntax; a match never
spans a line)."""
_NEWLINE = re.compile(b"\n")
_SEARCH_PIECE = 64 << 20


def _holds_code(text) -> bool:
    """Whether the UTF-8 ``text`` (bytes or a view of them) holds a field written with a
    leading zero. Searched by RE2 through pyarrow, in linear time and with no copy of the
    text (on a 93 MB file: 0.7-1.6 s, where Python's ``re`` took 15-21 s), in pieces of 64 MiB
    or so that end at a line break: ``^`` at a piece's start is a line's start, and no piece
    nears RE2's 2 GiB limit."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(text)
    cuts = [0]
    while cuts[-1] < n:
        line = (_NEWLINE.search(text, cuts[-1] + _SEARCH_PIECE)
                if cuts[-1] + _SEARCH_PIECE < n else None)
        cuts.append(n if line is None else line.end())
    pieces = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(cuts) - 1,
        [None, pa.py_buffer(np.asarray(cuts, dtype=np.int64)), pa.py_buffer(text)])
    return bool(pc.any(pc.match_substring_regex(pieces, _CODE_IN_TEXT)).as_py())


def _read_csv(source: bytes | HeldBytes, name: str, encoding: str,
              limits: TableLimits) -> TableRead:
    """Read a CSV file from its bytes, or from its bytes held compressed: those are checked
    whole (encoding, markup, leading-zero codes), then every reference to the whole text is
    dropped before the parse, which reads a stream decompressing one block at a time."""
    held = source if isinstance(source, HeldBytes) else None
    raw = held.read() if held is not None else source
    if held is not None:
        _refuse_empty(raw, name)
    decoded = decode_text(raw, name, encoding, limits.max_decoded_bytes,
                          keep_bom=held is not None)
    text = memoryview(decoded.data)[decoded.bom:] if decoded.bom else decoded.data
    head = bytes(text[:65536]).decode("utf-8", errors="ignore")
    _refuse_markup(head, name)
    sep = _sniff_delimiter(head)
    codes_found = _holds_code(text) if held is not None else None
    notes = list(decoded.warnings)
    used, detected = decoded.encoding, decoded.detected
    if held is None:
        def opener():
            return io.BytesIO(text)

        def has_codes() -> bool:
            return _holds_code(text)
    else:
        if decoded.data is raw:  # the held bytes are the text (UTF-8), after any BOM
            start = decoded.bom

            def opener():
                return held.open(start)
        else:  # transcoded: the UTF-8 text is held instead
            again = HeldBytes(text)

            def opener():
                return again.open()

        def has_codes() -> bool:
            return codes_found
        del raw, text, decoded  # the file is not in memory during the parse
    # index_col=False: rows with one more field than the header (a delimiter at the end of
    # every line) would otherwise make the first column the index and shift every value one
    # column to the left, outcomes read as scores
    options = dict(sep=sep, skipinitialspace=True, na_values=list(NA_WORDS),
                   keep_default_na=False, encoding="utf-8", index_col=False)
    _check_columns(_header_width(opener(), sep, name), name, limits)
    try:
        # the header's names as written, named by faircard's rule (pandas numbers a repeated
        # name its own way): no word for a missing value in a header
        header = pd.read_csv(opener(), header=None, nrows=1, dtype=str,
                             **(options | {"na_values": []}))
        options |= {"names": column_names(header.iloc[0].tolist()), "header": 0}
        n_cols = max(header.shape[1], 1)
        # stop parsing one row past a limit, so a huge file is refused without being loaded
        nrows = min(limits.max_rows, limits.max_cells // n_cols) + 1
        df = _parse_csv(opener, nrows, options, name)
        df = _keep_codes(df, opener, has_codes, nrows, options)
        df = _keep_long_integers(df, opener, nrows, options)
    except FaircardError:
        raise
    except pd.errors.EmptyDataError:
        raise FaircardError(f"'{name}' has no columns. Check that it has a header row.") from None
    except pd.errors.ParserError as exc:
        raise FaircardError(_ragged_message(str(exc), name)) from None
    except (ValueError, csv.Error) as exc:
        raise FaircardError(f"'{name}' could not be read as CSV: {_first_line(exc)}") from None
    if df.shape[1] == 1 and df.shape[0] > 0:
        if sep == "," and not _looks_single_column(head):
            raise FaircardError(
                f"'{name}' was read as a single column; check its delimiter (comma, semicolon, "
                "tab)."
            )
        notes.append(
            f"'{name}' was read as a single column ('{str(df.columns[0])[:60]}'). If it has "
            "several columns, its delimiter is probably not one of comma, semicolon, tab or "
            "'|': save it again as CSV."
        )
    return TableRead(df, used, detected, tuple(notes))


_MARKUP = re.compile(r"\s*<(!doctype\s+html|html|\?xml|!--|[a-z][a-z0-9-]*[\s/>])",
                     re.IGNORECASE)


def refuse_markup_file(path: str | Path, name: str) -> None:
    """:func:`_refuse_markup` on the first 64 KB of the file at ``path``."""
    with open(path, "rb") as fh:
        _refuse_markup(fh.read(65536).decode("utf-8", errors="ignore"), name)


def _refuse_markup(head: str, name: str) -> None:
    """A web page or an XML document saved under a CSV name is said to be one (it was read as
    a header alone, or as one column of tags)."""
    m = _MARKUP.match(head.lstrip("\ufeff"))
    if m is None:
        return
    tag = m.group(1).rstrip("/> \t\r\n").lower()
    if tag[0].isalpha() and tag != "html" and f"</{tag}" not in head.lower():
        return  # a header such as '<id>,score' with no closing tag is a CSV header
    if m.group(1).lower().startswith("?xml") and "<html" not in head[:4096].lower():
        raise FaircardError(
            f"'{name}' is an XML document, not a CSV file. Export the table as CSV, Parquet or "
            "Excel and upload that.")
    raise FaircardError(
        f"'{name}' is a web page (HTML), not a CSV file: it was probably saved from a browser "
        "instead of downloaded. Download the data file itself, or export the table as CSV, and "
        "upload that.")


def _header_width(raw_stream, sep: str, name: str = "the file") -> int:
    """How many names the header has (``raw_stream``: the text as a binary stream), counted by
    the csv module in milliseconds (pandas takes seconds per 10,000 columns to read a header);
    0 when it cannot tell (pandas then says what is wrong).

    A name longer than the csv module's limit on a field (131,072 characters) is refused: a
    quote opened in the header and never closed, or a file without line breaks, makes the
    whole file one name, and a 286 MB header name took 27 s and 3 GB to read (load average
    11 on 2 cores), then stood in every list of columns."""
    stream = io.TextIOWrapper(raw_stream, encoding="utf-8", errors="replace", newline="")
    try:
        return len(next(csv.reader(stream, delimiter=sep), []))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise FaircardError(
                f"The header row of '{name}' holds a column name longer than "
                f"{csv.field_size_limit():,} characters. Check the first line: a double quote "
                "opened there and never closed, or a file without line breaks, reads as one "
                "long name.") from None
        return 0


def _parse_csv(opener, nrows: int, options: dict, name: str = "the file") -> pd.DataFrame:
    """Parse the text ``opener()`` streams, in chunks (pandas' low-memory mode keeps the peak near the frame's own size).

    Chunks can disagree on a column's type; those columns are read again as text, which is
    what a single-pass parse gives for them. Rows with values beyond the header's last name
    are refused (pandas would drop those values).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.DtypeWarning)
        warnings.simplefilter("always", pd.errors.ParserWarning)
        df = pd.read_csv(opener(), nrows=nrows, low_memory=True, **options)
    mixed = [w for w in caught if issubclass(w.category, pd.errors.DtypeWarning)]
    if any(issubclass(w.category, pd.errors.ParserWarning)
           and "loss of data" in str(w.message) for w in caught):
        raise FaircardError(
            f"Rows of '{name}' have more values than its header has names "
            f"({df.shape[1]}), so some values belong to no column. Add the missing names to "
            "the header row, or remove the extra delimiters, and upload again.")
    for w in caught:
        if not issubclass(w.category, pd.errors.DtypeWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if mixed:
        positions = sorted({int(i) for w in mixed
                            for i in re.findall(r"\d+", str(w.message).split(")")[0])})
        names = [df.columns[i] for i in positions if i < df.shape[1]]
        df = pd.read_csv(opener(), nrows=nrows, low_memory=True,
                         dtype={c: object for c in names}, **options)
    return df


def _keep_codes(df: pd.DataFrame, opener, has_codes, nrows: int,
                options: dict) -> pd.DataFrame:
    """``df`` with its numeric columns that hold a code with a leading zero (see
    :data:`CODE_PATTERN`) read again as text (from ``opener()``), every value as written.
    ``has_codes()`` says whether the file holds such a value anywhere; most files have none
    and are not read again."""
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])
               and not pd.api.types.is_bool_dtype(df[c])]
    if not numeric or not has_codes():
        return df
    numeric_names = set(numeric)
    positions = [i for i, c in enumerate(df.columns) if c in numeric_names]
    found: set[int] = set()
    for chunk in pd.read_csv(opener(), nrows=nrows, usecols=positions, dtype=str,
                             chunksize=1 << 18, **options):
        for k, i in enumerate(positions):
            if i not in found and chunk.iloc[:, k].str.contains(
                    CODE_PATTERN, regex=True, na=False).any():
                found.add(i)
    codes = sorted(found)
    if codes:
        again = pd.read_csv(opener(), nrows=nrows, usecols=codes, dtype=str, **options)
        for k, i in enumerate(codes):
            df.isetitem(i, again.iloc[:, k])
    return df


def _keep_long_integers(df: pd.DataFrame, opener, nrows: int,
                        options: dict) -> pd.DataFrame:
    """``df`` with its columns of whole numbers one of which does not fit in 64 bits (pandas
    reads them as unsigned integers, or as Python integers in an object column) read again as
    text, every value as written: such a column holds identifiers (an account number such as
    ``99999999999999999999``), and DuckDB and Spark read it as text too."""
    dtypes = list(df.dtypes)  # once: df.dtypes builds a Series of every column
    long = [i for i, dtype in enumerate(dtypes)
            if str(dtype) == "uint64"
            or (pd.api.types.is_object_dtype(dtype)
                and pd.api.types.infer_dtype(df.iloc[:, i], skipna=True) == "integer")]
    if long:
        again = pd.read_csv(opener(), nrows=nrows, usecols=long, dtype=str, **options)
        for k, i in enumerate(long):
            df.isetitem(i, again.iloc[:, k])
    return df


def _looks_single_column(text: str) -> bool:
    first = text.splitlines()[0] if text else ""
    return not any(d in first for d in _DELIMITERS)


def _ragged_message(msg: str, name: str) -> str:
    # pandas: "Error tokenizing data. C error: Expected 3 fields in line 4, saw 5"
    import re

    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
    if m:
        expected, line, saw = m.groups()
        return (
            f"Line {line} of '{name}' has {saw} fields but the header has {expected}. "
            "Fix that line (a stray delimiter or an unquoted comma) and upload again."
        )
    # pandas: "... C error: EOF inside string starting at row 1001" (rows from 0, the header
    # and blank lines included, a quoted value spanning lines counted once)
    m = re.search(r"EOF inside string starting at row (\d+)", msg)
    if m:
        return (
            f"Row {int(m.group(1)) + 1:,} of '{name}' (the header is row 1) opens a double "
            "quote that is never closed, so the rest of the file would be one value. Close "
            "the quote, or write a quote inside a value as two (\"\"), and upload again."
        )
    return f"'{name}' could not be read as CSV: {_first_line(msg)}"


def _first_line(exc: object) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _read_parquet(raw: bytes, name: str, limits: TableLimits) -> tuple[pd.DataFrame, list[str]]:
    """Check the file's metadata against the limits, then read only flat columns.

    Rows, cells and uncompressed size come from the footer, so a small file that expands to
    billions of values is refused before anything is decoded. Nested columns (lists, structs,
    maps) cannot be outcomes, scores or groups; they are left out with a note.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(io.BytesIO(raw))
        meta = pf.metadata
        schema = pf.schema_arrow
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise FaircardError(f"'{name}' could not be read as Parquet: {_first_line(exc)}") from None
    _check_shape(meta.num_rows, len(schema), name, limits)
    expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if expanded > limits.max_decoded_bytes:
        raise over_limit(name, f"{expanded / 1024**2:,.0f} MB of uncompressed data",
                         "decoded bytes", f"{limits.max_decoded_bytes / 1024**2:,.0f} MB",
                         "FAIRCARD_MAX_DECODED_MB")
    _check_pages(raw, meta, name, limits)
    fields = list(schema)
    is_flat = [not (pa.types.is_nested(f.type) or pa.types.is_dictionary(f.type)
                    and pa.types.is_nested(f.type.value_type)) for f in fields]
    nested = [f.name for f, ok in zip(fields, is_flat, strict=True) if not ok]
    flat = [f.name for f, ok in zip(fields, is_flat, strict=True) if ok]
    notes = []
    if nested:
        shown = ", ".join(f"'{c}'" for c in nested[:10]) + ("..." if len(nested) > 10 else "")
        notes.append(f"Column(s) {shown} of '{name}' hold lists or records, which cannot be an "
                     "outcome, a score or a group; they were left out.")
    if not flat:
        raise FaircardError(f"'{name}' has no column of plain values (numbers, text, dates); "
                            "faircard needs one column per value.")
    # text stored as a dictionary: a few bytes in the file can stand for the same long value
    # in every row (12 KB made 20 GB), and the footer's sizes count the dictionary once
    with_dictionary = set()
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        with_dictionary |= {group.column(j).path_in_schema for j in range(meta.num_columns)
                            if group.column(j).has_dictionary_page}
    leaf = _first_leaves(fields, meta.num_columns, name)
    coded = [i for i, (f, ok) in enumerate(zip(fields, is_flat, strict=True))
             if ok and f.name in with_dictionary and _is_text(f.type)]
    try:
        if coded:
            pf = pq.ParquetFile(io.BytesIO(raw), read_dictionary=[leaf[i] for i in coded])
        # by position: pyarrow finds columns asked for by name by matching each name against
        # every column, so 1,000 columns named 'g' asked for a million (43 s) and 10,000 for
        # a hundred million; and two columns of the same name read as a dictionary were
        # refused ('Field "g" exists 2 times')
        kept = [i for i, ok in enumerate(is_flat) if ok]
        table = pf.reader.read_all(column_indices=[leaf[i] for i in kept])
        at = {i: k for k, i in enumerate(kept)}
        table = _decode_dictionaries(table, [at[i] for i in coded], name, limits)
    except FaircardError:
        raise
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise FaircardError(f"'{name}' could not be read as Parquet: {_first_line(exc)}") from None
    _check_dates(table, name)
    return _arrow_to_pandas(_bytes_as_text(table)), notes


def _check_pages(raw: bytes, meta, name: str, limits: TableLimits) -> None:
    """Refuses a file whose pages decompress to more than the limit on decoded bytes, going
    by the pages' own headers: the footer's sizes, checked above, are not bound to them, and
    a 3 KB file whose footer said 0 bytes decoded to 50 MB."""
    try:
        expanded = declared_page_bytes(raw, meta, limits.max_decoded_bytes)
    except TooManyPages as exc:
        raise FaircardError(f"'{name}' is cut into {exc}, too many to check; faircard reads "
                            "Parquet files written with fewer, larger pages (any Parquet "
                            "writer's defaults).") from None
    if expanded > limits.max_decoded_bytes:
        limit = f"{limits.max_decoded_bytes / 1024**2:,.0f} MB"
        raise over_limit(name, f"more than {limit} of data once its pages are decompressed "
                         "(its footer states less)", "decoded bytes", limit,
                         "FAIRCARD_MAX_DECODED_MB")


def _bytes_as_text(table):
    """``table`` with its columns of raw bytes as text written as DuckDB shows them
    (``b'\\x00\\xff'``): bytes that are not UTF-8 made every later step that reads values as
    text fail (a group of such bytes crashed the personal-data check)."""
    import pyarrow as pa

    for i, col in enumerate(table.schema):
        kind = col.type
        if isinstance(kind, pa.ExtensionType):
            continue  # e.g. UUIDs, which pandas shows in their own form
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or \
                pa.types.is_fixed_size_binary(kind) or pa.types.is_binary_view(kind):
            text = pa.array([None if v is None else str(v) for v in table.column(i).to_pylist()],
                            pa.large_string())
            table = table.set_column(i, pa.field(col.name, pa.large_string()), text)
    return table


def _is_text(kind) -> bool:
    import pyarrow as pa

    return (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind)
            or pa.types.is_large_binary(kind))


def _first_leaves(fields: list, n_leaves: int, name: str) -> list[int]:
    """The index of each top-level field's first leaf column in a Parquet file (a list, map
    or record spans several), counted from the fields' types; the file's ``n_leaves`` must
    agree."""
    import pyarrow as pa

    first, at = [], 0
    for f in fields:
        first.append(at)
        stack = [f.type]
        while stack:  # no recursion: a schema may nest a thousand levels
            kind = stack.pop()
            if isinstance(kind, pa.ExtensionType):
                stack.append(kind.storage_type)
            elif pa.types.is_dictionary(kind):
                stack.append(kind.value_type)
            elif pa.types.is_map(kind):
                stack += [kind.key_type, kind.item_type]
            elif pa.types.is_struct(kind):
                stack += [kind.field(j).type for j in range(kind.num_fields)]
            elif hasattr(kind, "value_type"):  # list, large list, fixed-size list, list view
                stack.append(kind.value_type)
            else:
                at += 1
    if at != n_leaves:
        raise FaircardError(f"'{name}' could not be read as Parquet: its schema describes "
                            f"{at:,} columns and its data {n_leaves:,}.")
    return first


def _decode_dictionaries(table, coded: list[int], name: str, limits: TableLimits):
    """``table`` with the columns at positions ``coded`` (read as dictionaries) as plain text
    again, once the size they expand to, counted exactly from the dictionaries and their
    indices, is known to be within the limit on decoded bytes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not coded:
        return table
    wanted = set(coded)
    size = sum(c.nbytes for i, c in enumerate(table.columns) if i not in wanted)
    for i in coded:
        for chunk in table.column(i).chunks:
            lengths = pc.binary_length(chunk.dictionary).cast(pa.int64())
            size += (pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0) + 4 * len(chunk)
            if size > limits.max_decoded_bytes:
                raise over_limit(name, f"more than {limits.max_decoded_bytes / 1024**2:,.0f} MB "
                                 "of data once its values are written out (column "
                                 f"'{table.schema[i].name}')", "decoded bytes",
                                 f"{limits.max_decoded_bytes / 1024**2:,.0f} MB",
                                 "FAIRCARD_MAX_DECODED_MB")
    for i in coded:
        col = table.schema[i]
        if pa.types.is_dictionary(col.type):
            plain = table.column(i).cast(col.type.value_type)
            table = table.set_column(i, pa.field(col.name, col.type.value_type), plain)
    return table


_DAYS_1 = -719_162     # 0001-01-01, in days since 1970-01-01
_DAYS_9999 = 2_932_896  # 9999-12-31


def _check_dates(table, name: str) -> None:
    """Refuse a date column with a date Python cannot hold (before the year 1 or past 9999,
    such as the 'infinity' some databases write), naming the column: pyarrow only said
    'year 5881580 is out of range'."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for col, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_date32(col.type):
            days = column.cast(pa.int32())
        elif pa.types.is_date64(col.type):
            days = pc.floor(pc.divide(column.cast(pa.int64()).cast(pa.float64()), 86_400_000))
        else:
            continue
        low, high = pc.min_max(days).values()
        if low.as_py() is None:
            continue
        if high.as_py() > _DAYS_9999 or low.as_py() < _DAYS_1:
            raise dates_out_of_range(col.name, name, late=high.as_py() > _DAYS_9999)


def dates_out_of_range(column: str, name: str, late: bool = True) -> FaircardError:
    """The error for a column of dates past the year 9999 (``late``) or before the year 1."""
    when = "past the year 9999" if late else "before the year 1"
    return FaircardError(
        f"Column '{column}' of '{name}' holds dates {when} (such as the 'infinity' date some "
        "databases write), which faircard cannot read: it reads dates from the year 1 to 9999. "
        "Correct those dates, or save the file without that column, and try again.")


def _arrow_to_pandas(table) -> pd.DataFrame:
    """``table`` as a frame with every column of the file. pandas' own metadata in the file
    may make columns the frame's index (they would vanish from the choices): they are made
    columns again, in the file's order; metadata pandas cannot apply is ignored."""
    try:
        frame = table.to_pandas()
    except Exception:  # metadata written by hand (or another tool) that pandas cannot apply
        frame = table.replace_schema_metadata(None).to_pandas()
    index = frame.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return frame
    index.names = [n if n is not None else f"__index_level_{i}__"
                   for i, n in enumerate(index.names)]
    frame = frame.reset_index(allow_duplicates=True)
    at: dict[Any, list[int]] = {}
    for i, c in enumerate(frame.columns):
        at.setdefault(c, []).append(i)
    order = [at[c].pop(0) for c in table.column_names if at.get(c)]
    taken = set(order)
    return frame.iloc[:, order + [i for i in range(frame.shape[1]) if i not in taken]]


def _read_excel(raw: bytes, name: str, limits: TableLimits) -> tuple[pd.DataFrame, list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            total = 0
            for info in zf.infolist():
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > MAX_XLSX_RATIO or total > min(MAX_XLSX_UNCOMPRESSED,
                                                         limits.max_decoded_bytes):
                    raise FaircardError(
                        f"'{name}' expands to far more data than a spreadsheet should "
                        f"({total / 1024**2:,.0f} MB or more); it was not opened. "
                        "Export the sheet as CSV instead."
                    )
            if "xl/workbook.xml" not in zf.namelist():
                raise FaircardError(f"'{name}' is a zip archive but not an Excel workbook.")
    except zipfile.BadZipFile:
        raise FaircardError(f"'{name}' is damaged or not an Excel file.") from None
    return read_workbook(raw, name, limits)


def _tidy_columns(df: pd.DataFrame, name: str) -> pd.DataFrame:
    if df.shape[1] == 0:
        raise FaircardError(f"'{name}' has no columns.")
    if df.shape[0] == 0:
        raise FaircardError(f"'{name}' has a header but no data rows.")
    df.columns = column_names(df.columns)
    return df
