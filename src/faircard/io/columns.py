"""One rule for the names of a table's columns, whichever way the table is read (uploaded, or
counted where it lies by DuckDB or Spark), applied to the names the file holds:

* the spaces around a name are removed;
* a column without a name is ``Unnamed: i``, ``i`` its position counted from 0 (as pandas
  names it);
* a name that an earlier column already has, ignoring case, is numbered: ``g``, ``g.1``,
  ``g.2``, with the first number that gives a name no column of the file has, ignoring case.

Case is ignored because DuckDB and Spark do not tell ``Sex`` from ``sex``: the second is
``sex.1`` everywhere. Each engine numbered in its own way before (pandas ``g.1``, DuckDB
``g_1``, Spark ``g1``), so a feature chosen on an upload was not in the same file read by path.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["column_names"]


def column_names(raw: Iterable[object]) -> list[str]:
    """The names faircard gives the columns whose names in the file are ``raw`` (in order;
    a missing name may be None, NaN or empty)."""
    stripped = [_text(r).strip() for r in raw]
    stripped = [s or f"Unnamed: {i}" for i, s in enumerate(stripped)]
    held = {s.casefold() for s in stripped}
    given: set[str] = set()
    out = []
    for name in stripped:
        if name.casefold() in given:
            k = 1
            while f"{name}.{k}".casefold() in held | given:
                k += 1
            name = f"{name}.{k}"
        given.add(name.casefold())
        out.append(name)
    return out


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)
