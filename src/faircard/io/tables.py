"""Read a dataset from CSV, Parquet or Excel into a DataFrame, with plain-language errors.

Uploads are untrusted: sizes are checked before parsing, Excel archives are inspected for
decompression bombs before they are opened, and every parser failure becomes a
:class:`~faircard.errors.FaircardError`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from pathlib import Path

import pandas as pd

from ..errors import FaircardError

MAX_TABLE_BYTES = 2 * 1024**3
"""Largest dataset file accepted (bytes)."""

MAX_XLSX_UNCOMPRESSED = 1024**3
"""Largest total uncompressed size of an Excel archive (bytes)."""

MAX_XLSX_RATIO = 200
"""Largest compression ratio of one member of an Excel archive; real sheets stay far below."""

_CSV_ENCODINGS = ("utf-8-sig", "cp949", "cp1252")
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


def load_table(
    source: str | Path | bytes,
    *,
    filename: str | None = None,
    max_bytes: int = MAX_TABLE_BYTES,
) -> pd.DataFrame:
    """Read a table from a path or from file bytes.

    The format comes from the file name's extension (``.csv``, ``.tsv``, ``.txt``, ``.parquet``,
    ``.xlsx``) and is confirmed from the content. CSV files may be UTF-8 (with or without BOM),
    cp949/EUC-KR or cp1252; the delimiter is sniffed. Raises FaircardError for anything that
    cannot be read, naming the problem.
    """
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
        _check_size(size, name, max_bytes)
        raw = path.read_bytes()
    _check_size(len(raw), name, max_bytes)
    if not raw.strip():
        raise FaircardError(f"The file '{name}' is empty. Choose a file with a header row and data.")

    kind = _kind(name, raw)
    if kind == "parquet":
        df = _read_parquet(raw, name)
    elif kind == "excel":
        df = _read_excel(raw, name)
    else:
        df = _read_csv(raw, name)
    return _tidy_columns(df, name)


def _check_size(size: int, name: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise FaircardError(
            f"The file '{name}' is {size / 1024**2:,.0f} MB, over the limit of "
            f"{max_bytes / 1024**2:,.0f} MB. Use a sample or a Parquet file."
        )


def _kind(name: str, raw: bytes) -> str:
    ext = Path(name).suffix.lower()
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
    if ext in (".csv", ".tsv", ".txt", ""):
        if raw.startswith(_PARQUET_MAGIC):
            return "parquet"
        if raw.startswith(_ZIP_MAGIC):
            return "excel"
        return "csv"
    raise FaircardError(
        f"faircard cannot read '{name}': use a CSV, Parquet (.parquet) or Excel (.xlsx) file."
    )


def _decode(raw: bytes, name: str) -> str:
    head = raw[:65536]
    if b"\x00" in head:
        raise FaircardError(
            f"'{name}' looks like a binary file, not text. Upload a CSV, Parquet or Excel file."
        )
    for enc in _CSV_ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise FaircardError(
        f"'{name}' is not in a text encoding faircard knows (UTF-8, cp949/EUC-KR, cp1252). "
        "Save it as CSV UTF-8."
    )


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text[:65536].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] > 0 else ","


def _read_csv(raw: bytes, name: str) -> pd.DataFrame:
    text = _decode(raw, name)
    sep = _sniff_delimiter(text)
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            skipinitialspace=True,
            na_values=["?", "NA", "N/A", "NaN", "nan", "null", "NULL", ""],
            keep_default_na=True,
            low_memory=False,
        )
    except pd.errors.EmptyDataError:
        raise FaircardError(f"'{name}' has no columns. Check that it has a header row.") from None
    except pd.errors.ParserError as exc:
        raise FaircardError(_ragged_message(str(exc), name)) from None
    except (ValueError, csv.Error) as exc:
        raise FaircardError(f"'{name}' could not be read as CSV: {_first_line(exc)}") from None
    if df.shape[1] == 1 and sep == "," and df.shape[0] > 0 and not _looks_single_column(text):
        raise FaircardError(
            f"'{name}' was read as a single column; check its delimiter (comma, semicolon, tab)."
        )
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
    return f"'{name}' could not be read as CSV: {_first_line(msg)}"


def _first_line(exc: object) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _read_parquet(raw: bytes, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(raw))
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise FaircardError(f"'{name}' could not be read as Parquet: {_first_line(exc)}") from None


def _read_excel(raw: bytes, name: str) -> pd.DataFrame:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            total = 0
            for info in zf.infolist():
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > MAX_XLSX_RATIO or total > MAX_XLSX_UNCOMPRESSED:
                    raise FaircardError(
                        f"'{name}' expands to far more data than a spreadsheet should "
                        f"({total / 1024**2:,.0f} MB or more); it was not opened. "
                        "Export the sheet as CSV instead."
                    )
            if "xl/workbook.xml" not in zf.namelist():
                raise FaircardError(f"'{name}' is a zip archive but not an Excel workbook.")
    except zipfile.BadZipFile:
        raise FaircardError(f"'{name}' is damaged or not an Excel file.") from None
    try:
        return pd.read_excel(io.BytesIO(raw), engine="openpyxl")
    except FaircardError:
        raise
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise FaircardError(f"'{name}' could not be read as Excel: {_first_line(exc)}") from None


def _tidy_columns(df: pd.DataFrame, name: str) -> pd.DataFrame:
    if df.shape[1] == 0:
        raise FaircardError(f"'{name}' has no columns.")
    if df.shape[0] == 0:
        raise FaircardError(f"'{name}' has a header but no data rows.")
    cols = [str(c).strip() for c in df.columns]
    seen: dict[str, int] = {}
    unique = []
    for c in cols:
        if c in seen:
            seen[c] += 1
            unique.append(f"{c}.{seen[c]}")
        else:
            seen[c] = 0
            unique.append(c)
    df.columns = unique
    return df
