"""Tables written for spreadsheets (CSV) that cannot attack the person who opens them.

A spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, a tab or carriage return) as a formula: a group named ``=HYPERLINK("http://...")``
would become a live link, or worse. Text cells (and column names) that start so are prefixed
with a single quote, which spreadsheets show as text. Numbers stay numbers: -0.05 in a numeric
column is written as -0.05, and text that is just a number ("-3", "+1.5e-2") is left alone.

A cell also starts after a semicolon, a tab or a line break inside the text: Excel set to a
locale whose list separator is ';' (Germany, France, ...) splits each line of a ``.csv`` at
semicolons and honours a double quote only at the start of a field, so the text
``x;=cmd|' /C calc'!A0;`` in the second column became the cell ``=cmd|' /C calc'!A0``. The
part after such a character gets the quote as well (``x;'=cmd|...``).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_CELL_BREAK = re.compile(r"([;\t\r\n])")
"""Where a spreadsheet may start a new cell inside one written cell (see the module docstring)."""


def _quoted(part: str, starts: tuple[str, ...]) -> str:
    # a field that begins with double quotes (or spaces) is read from after them
    lead = len(part) - len(part.lstrip(' "'))
    body = part[lead:]
    if body.startswith(starts) and not _PLAIN_NUMBER.fullmatch(body.rstrip(' "')):
        return part[:lead] + "'" + body
    return part


def neutralise(value: Any) -> Any:
    """One cell: text a spreadsheet would run as a formula gets a ``'`` where the formula
    would start: at the beginning, and after a semicolon, tab or line break inside it."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        value = "'" + value
    if not _CELL_BREAK.search(value):
        return value
    parts = _CELL_BREAK.split(value)
    # parts alternate: text, break, text, ...; the first text was handled above
    return "".join(p if i == 0 or i % 2 else _quoted(p, FORMULA_START[:4])
                   for i, p in enumerate(parts))


def _is_text(dtype: Any) -> bool:
    # pandas 3 gives text columns and labels its own string dtype rather than object
    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype | pd.CategoricalDtype)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell, column name and index label neutralised."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if _is_text(s.dtype):
            out[col] = s.astype(object).map(neutralise)
    out.columns = [neutralise(c) if isinstance(c, str) else c for c in out.columns]
    if _is_text(out.index.dtype):
        out.index = out.index.map(neutralise)
    return out


def csv_text(frame: pd.DataFrame, *, index: bool = False) -> str:
    """``frame`` as CSV text, neutralised, with CRLF line ends (RFC 4180): the csv writer
    quotes a cell holding any character of the line end, so a carriage return inside a
    group name cannot start a new row."""
    return neutralise_frame(frame).to_csv(index=index, lineterminator="\r\n")

