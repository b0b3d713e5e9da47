"""Tables written for spreadsheets (CSV) that cannot attack the person who opens them.

A spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, a tab or carriage return) as a formula: a group named ``=HYPERLINK("http://...")``
would become a live link, or worse. Text cells (and column names) that start so are prefixed
with a single quote, which spreadsheets show as text. Numbers stay numbers: -0.05 in a numeric
column is written as -0.05, and text that is just a number ("-3", "+1.5e-2") is left alone.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """One cell: text a spreadsheet would run as a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START) \
            and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


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

