"""Excel workbooks are opened in a child process with CPU-time, memory and wall-clock limits.

openpyxl parses the whole shared-string table and style sheet of a workbook before its first
sheet, keeping a Python object per entry, at about 0.4 MB of XML a second: a 3.4 MB upload
whose styles.xml held 100 MB of cell formats took 197 s and 1.6 GB of memory, a 19 MB one with
100 MB of unused shared strings 266 s (load average 7 on 2 cores), all before a single cell
was read; the limits on decoded bytes (1 GB for a workbook) allowed ten times that. So the
server never parses a workbook itself: a short-lived child (``python -I``, a minimal
environment) loads it once, checks the extent of its first sheet, reads that sheet with pandas
and sends the columns back as plain arrays (``numpy`` arrays without pickle, text and mixed
columns as JSON); the parent rebuilds the same frame. Running out of time or memory is a
sentence naming ``FAIRCARD_MAX_EXCEL_SECONDS`` or ``FAIRCARD_MAX_EXCEL_MB``.

Formulas are never computed: a cell's value is the result Excel saved with the file (pandas
opens workbooks with ``data_only``), and a formula saved without a result reads as missing.
External links are not loaded.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR")
_HERE = str(Path(__file__).resolve())
_RENDER_WORKER = str(Path(__file__).resolve().parents[1] / "render_worker.py")
# the child loads this file alone: importing the faircard package would cost scikit-learn
_BOOT = ("import sys, importlib.util as u; "
         "s = u.spec_from_file_location('faircard_excel_child', sys.argv[1]); "
         "m = u.module_from_spec(s); s.loader.exec_module(m); sys.exit(m.child_main())")


def read_workbook(raw: bytes, name: str, limits: Any) -> tuple[Any, list[str]]:
    """The first sheet of the workbook ``raw`` as pandas reads it, read in a child process,
    and notes on what was left out (other sheets) or is not what Excel shows (a hidden sheet).

    ``limits`` is a :class:`~faircard.io.limits.TableLimits`. Raises FaircardError for a
    workbook over a limit, one the child could not read, or one that cost more than
    ``limits.max_excel_seconds`` or ``limits.max_excel_mb``."""
    from ..errors import FaircardError
    from .limits import over_limit

    job = {"max_rows": limits.max_rows, "max_columns": limits.max_columns,
           "max_cells": limits.max_cells, "cpu_s": limits.max_excel_seconds,
           "memory_mb": limits.max_excel_mb, "render_worker": _RENDER_WORKER}
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    stdin = json.dumps(job).encode() + b"\n" + raw
    cost = (f"Save the sheet as CSV or Parquet, or ask the administrator to raise "
            f"FAIRCARD_MAX_EXCEL_SECONDS or FAIRCARD_MAX_EXCEL_MB (now {limits.max_excel_seconds:,}"
            f" s and {limits.max_excel_mb:,} MB).")
    too_costly = FaircardError(
        f"Opening '{name}' as a workbook needed more than this server's limit on time or "
        f"memory, so it was not loaded (a workbook can hold far more than its sheet shows). "
        + cost)
    try:
        proc = subprocess.run([sys.executable, "-I", "-c", _BOOT, _HERE], input=stdin,
                              capture_output=True, timeout=limits.max_excel_seconds + 5,
                              env=env, close_fds=True)
    except subprocess.TimeoutExpired:
        raise too_costly from None
    head, _, body = proc.stdout.partition(b"\n")
    try:
        reply = json.loads(head)
    except ValueError:
        reply = None
    if proc.returncode != 0 or not isinstance(reply, dict):
        if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL) \
                or b"MemoryError" in proc.stderr:
            raise too_costly  # out of CPU time, or of memory outside Python's own handler
        raise FaircardError(f"'{name}' could not be read as Excel: the workbook reader stopped "
                            f"(exit {proc.returncode}).")
    if "over" in reply:
        raise over_limit(name, **reply["over"])
    if "costly" in reply:
        raise too_costly
    if "error" in reply:
        raise FaircardError(f"'{name}' could not be read as Excel: {reply['error']}")
    return _frame(reply, body), sheet_notes(name, reply["sheets"])


def sheet_notes(name: str, sheets: list[list[str]]) -> list[str]:
    """Sentences on the sheets of a workbook (``[title, state]`` each, in the workbook's
    order) when faircard reads only the first: which one, which were left out, and whether
    the one read is hidden in Excel."""
    if not sheets:
        return []
    (title, state), others = sheets[0], [t for t, _ in sheets[1:]]
    notes = []
    if others:
        shown = ", ".join(f"'{t}'" for t in others[:5]) + (
            f" and {len(others) - 5} more" if len(others) > 5 else "")
        notes.append(f"'{name}' has {len(sheets)} sheets; faircard read the first, '{title}', "
                     f"and left out {shown}. To use another sheet, save it alone as its own "
                     "file or move it first.")
    if state != "visible":
        notes.append(f"The sheet read, '{title}', is hidden in Excel ({state}): check that it "
                     "holds the data you meant.")
    return notes


def compound_file_names(raw: bytes) -> set[str]:
    """The names in the directory of a compound file (the container of old .xls workbooks,
    and of .xlsx workbooks saved with a password, whose content is then a stream named
    ``EncryptedPackage``); an empty set for anything else. Reads the directory's chain of
    sectors through the file's first FAT sectors, each sector at most once."""
    import struct

    if len(raw) < 512 or not raw.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return set()
    shift = struct.unpack_from("<H", raw, 0x1E)[0]
    if shift not in (9, 12):
        return set()
    size = 1 << shift

    def sector(n: int) -> int | None:  # offset of sector n, if the file holds it whole
        at = (n + 1) * size
        return at if at + size <= len(raw) else None

    fat: list[int] = []
    for n in struct.unpack_from("<109I", raw, 0x4C):
        at = sector(n) if n < 0xFFFFFFFA else None
        if at is not None:
            fat.extend(struct.unpack_from(f"<{size // 4}I", raw, at))
    names: set[str] = set()
    n, seen = struct.unpack_from("<I", raw, 0x30)[0], set()
    while n < 0xFFFFFFFA and n not in seen and (at := sector(n)) is not None:
        seen.add(n)
        for entry in range(at, at + size, 128):
            length = struct.unpack_from("<H", raw, entry + 64)[0]
            if 2 <= length <= 64:
                names.add(raw[entry:entry + length - 2].decode("utf-16-le", "replace"))
        n = fat[n] if n < len(fat) else 0xFFFFFFFE
    return names


# ---------------------------------------------------------------- the columns, both ways

_TEXT_TAGS = {str: "s", bool: "b", int: "i", float: "f", dt.datetime: "dt", dt.date: "d",
              dt.time: "t", dt.timedelta: "td"}


def _encode(value: Any) -> Any:
    """One cell of a text or mixed column as JSON: text as itself, missing as None, anything
    else as [tag, value]."""
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        return value
    if kind is float and math.isnan(value):
        return ["nan", 0]
    if kind.__name__ == "Timestamp":  # pandas' datetime, written as Python's
        value, kind = value.to_pydatetime(), dt.datetime
    if kind.__module__ == "numpy":  # a numpy scalar in an object column
        value = value.item()
        kind = type(value)
    tag = _TEXT_TAGS.get(kind)
    if tag is None:
        raise ValueError(f"a cell holds a value of type {kind.__name__}")
    if tag == "td":
        return [tag, [value.days, value.seconds, value.microseconds]]
    if tag in ("dt", "d", "t"):
        return [tag, value.isoformat()]
    return [tag, value]


def _decode(item: Any) -> Any:
    if item is None or isinstance(item, str):
        return item
    tag, value = item
    if tag == "nan":
        return float("nan")
    if tag == "td":
        return dt.timedelta(days=value[0], seconds=value[1], microseconds=value[2])
    if tag == "dt":
        return dt.datetime.fromisoformat(value)
    if tag == "d":
        return dt.date.fromisoformat(value)
    if tag == "t":
        return dt.time.fromisoformat(value)
    return {"b": bool, "i": int, "f": float}[tag](value)


def _columns(frame: Any) -> tuple[dict, bytes]:
    """``frame`` as a JSON header and the bytes of its numeric columns (``.npy``, no pickle)."""
    import numpy as np

    meta: dict[str, Any] = {"names": [_encode(c) for c in frame.columns], "columns": [],
                            "rows": len(frame)}
    blobs = io.BytesIO()
    for i in range(frame.shape[1]):
        col = frame.iloc[:, i]
        dtype = str(col.dtype)
        values = col.to_numpy()
        if values.dtype.kind in "biufcmM":
            start = blobs.tell()
            np.save(blobs, values, allow_pickle=False)
            meta["columns"].append({"dtype": dtype, "npy": [start, blobs.tell()]})
        else:
            meta["columns"].append({"dtype": dtype,
                                    "cells": [_encode(v) for v in values.tolist()]})
    return meta, blobs.getvalue()


def _frame(meta: dict, body: bytes) -> Any:
    import numpy as np
    import pandas as pd

    from .columns import column_names

    data = {}
    for i, col in enumerate(meta["columns"]):
        if "npy" in col:
            start, end = col["npy"]
            values = np.load(io.BytesIO(body[start:end]), allow_pickle=False)
            data[i] = pd.Series(values, dtype=col["dtype"])
        else:
            cells = np.empty(meta["rows"], dtype=object)
            cells[:] = [_decode(c) for c in col["cells"]]
            data[i] = pd.Series(cells, dtype=col["dtype"] if col["dtype"] != "object" else object)
    frame = pd.DataFrame(data, index=pd.RangeIndex(meta["rows"]))
    frame.columns = [_decode(c) for c in meta["names"]]
    written = [_decode(c) for c in meta["written"]]
    if len(written) <= frame.shape[1]:  # columns past the first row's last name have none
        frame.columns = column_names(written + [None] * (frame.shape[1] - len(written)))
    return frame


# ---------------------------------------------------------------- child side


def child_main() -> int:
    import importlib.util

    header = sys.stdin.buffer.readline()
    job = json.loads(header)
    spec = importlib.util.spec_from_file_location("faircard_render_limits", job["render_worker"])
    worker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worker)
    worker._limit(int(job["cpu_s"]), int(job["memory_mb"]))
    raw = sys.stdin.buffer.read()
    body = b""
    try:
        result, body = _read(raw, job)
    except RecursionError:
        result = {"error": "its XML is nested too deeply"}
    except Exception as exc:  # openpyxl and pandas raise many types for damaged workbooks
        if _out_of_memory(exc, int(job["memory_mb"])):
            result = {"costly": True}
        else:
            text = str(exc).strip().splitlines()
            result = {"error": (text[0] if text else type(exc).__name__)[:200]}
    sys.stdout.buffer.write(json.dumps(result, ensure_ascii=True).encode() + b"\n" + body)
    return 0


def _out_of_memory(exc: BaseException, memory_mb: int) -> bool:
    """Whether ``exc`` comes from the memory limit: a MemoryError, or what native code raises
    when an allocation fails (expat's 'out of memory', a SystemError without an exception set),
    or any failure once the process has used most of its memory."""
    import resource

    if isinstance(exc, MemoryError | SystemError) or "out of memory" in str(exc).lower():
        return True
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    return peak_mb > 0.75 * memory_mb


def _read(raw: bytes, job: dict) -> tuple[dict, bytes]:
    import openpyxl
    import pandas as pd

    # read-only: sheets are streamed when read; opened once, for the extent and for pandas
    book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True,
                                  keep_links=False)
    sheets = [[str(ws.title), str(ws.sheet_state)] for ws in book.worksheets]
    if book.worksheets:
        with book.worksheets[0]._get_source() as src:  # the sheet pandas reads (the first)
            over = _over_extent(*sheet_extent(src), job)
        if over:
            book.close()
            return {"over": over}, b""
    with pd.ExcelFile(book, engine="openpyxl") as first:
        frame = first.parse(nrows=job["max_rows"] + 1)
        # the first row's names as written (pandas numbers a repeated name its own way)
        header = first.parse(header=None, nrows=1)
    meta, body = _columns(frame)
    meta["written"] = [_encode(v) for v in header.iloc[0].tolist()] if len(header) else []
    meta["sheets"] = sheets
    return meta, body


def _over_extent(last_row: int, widest: int, job: dict) -> dict | None:
    """The arguments of ``over_limit`` for a first sheet whose table would be over the limits
    (pandas pads every row to the widest one: a 6 KB workbook with one value in cell
    XFD1048576 became 1,048,576 rows of 16,384 cells and took the server down), else None."""
    from openpyxl.utils import get_column_letter

    rows = last_row - 1  # the first row is the header
    if not (widest > job["max_columns"] or rows > job["max_rows"]
            or rows * widest > job["max_cells"]):
        return None
    found = (f"values as far as row {last_row:,} and column {get_column_letter(widest)}, so "
             f"its table is {rows:,} rows x {widest:,} columns")
    if widest > job["max_columns"]:
        what, limit, variable = "columns", f"{job['max_columns']:,} columns", "FAIRCARD_MAX_COLUMNS"
    elif rows > job["max_rows"]:
        what, limit, variable = "rows", f"{job['max_rows']:,} rows", "FAIRCARD_MAX_ROWS"
    else:
        what, limit, variable = "cells", f"{job['max_cells']:,} cells", "FAIRCARD_MAX_CELLS"
    return {"found": found, "what": what, "limit": limit, "variable": variable}


def sheet_extent(src) -> tuple[int, int]:
    """(last row, last column) holding a value, 1-based, of a worksheet's XML read from the
    file object ``src``. Rows and cells without a reference follow the previous one, as Excel
    and openpyxl read them. A sheet has no document type: one (entities) is refused."""
    import pyexpat

    from openpyxl.utils.cell import column_index_from_string

    at = {"row": 0, "col": 0, "last_row": 0, "widest": 0}
    columns: dict[str, int] = {}

    def start(tag: str, attrs: dict) -> None:
        local = tag.rpartition(" ")[2]
        if local == "c":
            ref = attrs.get("r")
            if not ref:
                at["col"] += 1
                return
            letters = ref.rstrip("0123456789")
            if letters not in columns:
                columns[letters] = column_index_from_string(letters)
            at["col"] = columns[letters]
            if len(letters) < len(ref):
                at["row"] = int(ref[len(letters):])
        elif local in ("v", "is"):  # the cell holds a value (a formula alone has none)
            at["last_row"] = max(at["last_row"], at["row"])
            at["widest"] = max(at["widest"], at["col"])
        elif local == "row":
            at["row"] = int(attrs.get("r") or at["row"] + 1)
            at["col"] = 0

    def doctype(*_args) -> None:
        raise ValueError("the sheet declares a document type, which a workbook never has")

    parser = pyexpat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = doctype
    parser.ParseFile(src)
    return at["last_row"], at["widest"]
