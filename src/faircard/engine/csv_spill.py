"""CSV files typed once per process into a Parquet file that DuckDB then counts.

Typing a CSV column by faircard's rule (:mod:`faircard.engine.csv_text`) means testing every
value of every row; counting reads the rows four or five times (the row accounting, the
outcome values, each feature's values, the grouped table). Doing both on the text of the CSV
on every read cost twenty times a bare DuckDB count. So the files are read twice, once per
process: a pass that types the columns, then a pass that writes the typed rows, in their
order, to a Parquet file in a temporary folder (deleted when the process ends). Counts are
the same: the Parquet file holds exactly the typed values each count used to compute.
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
from .csv_text import cleaned_select, column_kinds, header_names, kinds_query, typed_select

MAX_SPILLS = 8
"""Typed copies kept at once; the oldest is deleted when a ninth is written."""
SPILL_MEMORY = "1GB"
"""DuckDB's memory limit while typing and writing a copy (it streams the rows)."""

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


def _write(read: str, path: Path, pattern: str) -> None:
    import duckdb

    from .sources import _first_line, _row

    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{SPILL_MEMORY}'")
        raw = [str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {read}").fetchall()]
        names = header_names(raw)
        clean = f"({cleaned_select(read, raw, names, words_read=True)}) AS clean"
        kinds = column_kinds(_row(con.execute(kinds_query(clean, names))), names)
        target = str(path).replace("'", "''")
        con.execute(f"COPY ({typed_select(clean, kinds)}) TO '{target}' (FORMAT parquet)")
    except duckdb.Error as exc:
        path.unlink(missing_ok=True)
        raise FaircardError(f"DuckDB cannot read '{pattern}': {_first_line(exc)}") from None
    finally:
        con.close()


__all__ = ["typed_parquet"]
