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
    taken = {s.casefold() for s in stripped}  # the file's names, then every name given
    given: set[str] = set()
    # a number refused for a name stays refused (both sets only grow), so the search for the
    # next one starts where the last ended: 10,000 columns named 'g' are named in one pass
    # (a new search from 1 through a union of the sets built at every step took 13 s for
    # 1,000 such columns and hours for 10,000: a 20 KB upload held the server)
    next_number: dict[str, int] = {}
    out = []
    for name in stripped:
        key = name.casefold()
        if key in given:
            k = next_number.get(key, 1)
            while f"{key}.{k}" in taken:
                k += 1
            next_number[key] = k + 1
            name = f"{name}.{k}"
            key = name.casefold()
        given.add(key)
        taken.add(key)
        out.append(name)
    return out


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)
