"""Bounds on what reading one table may cost: file size, decoded bytes, rows and cells."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import FaircardError

MAX_TABLE_BYTES = 1024**3
"""Default largest dataset file accepted (bytes); see :class:`TableLimits`."""


@dataclass(frozen=True)
class TableLimits:
    """Bounds on what one table may cost, checked before (or while) it is materialised.

    ``max_file_bytes``: size of the file; ``max_decoded_bytes``: text after decoding (CSV) or
    uncompressed data (Parquet, Excel); ``max_rows``, ``max_cells`` (rows x columns) and
    ``max_columns``.
    The defaults fit a 2-core, 24 GiB server with a few concurrent users; change them with the
    environment variables ``FAIRCARD_MAX_FILE_MB``, ``FAIRCARD_MAX_DECODED_MB``,
    ``FAIRCARD_MAX_ROWS``, ``FAIRCARD_MAX_CELLS``, ``FAIRCARD_MAX_COLUMNS``,
    ``FAIRCARD_MAX_EXCEL_SECONDS`` and ``FAIRCARD_MAX_EXCEL_MB`` (see
    :meth:`from_env`).
    """

    max_file_bytes: int = MAX_TABLE_BYTES
    max_decoded_bytes: int = 2 * 1024**3
    max_rows: int = 20_000_000
    max_cells: int = 200_000_000
    max_columns: int = 10_000
    """A CSV's columns cost time before its rows do (pandas reads a header of 10,000 names in
    about a second, of 100,000 in 13 s; a 14 MB file of 1,000,000 columns took 210 s and
    3.3 GB), and the app offers every column in its choices."""

    max_excel_seconds: int = 300
    """CPU and wall-clock time the child process reading a workbook may take (seconds)."""
    max_excel_mb: int = 4096
    """Memory the child process reading a workbook may use (MB): openpyxl keeps a Python
    object per cell, shared string and cell format, several times the XML's size."""

    ENV = {"max_file_bytes": ("FAIRCARD_MAX_FILE_MB", 1024**2),
           "max_decoded_bytes": ("FAIRCARD_MAX_DECODED_MB", 1024**2),
           "max_rows": ("FAIRCARD_MAX_ROWS", 1),
           "max_cells": ("FAIRCARD_MAX_CELLS", 1),
           "max_columns": ("FAIRCARD_MAX_COLUMNS", 1),
           "max_excel_seconds": ("FAIRCARD_MAX_EXCEL_SECONDS", 1),
           "max_excel_mb": ("FAIRCARD_MAX_EXCEL_MB", 1)}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TableLimits:
        """Limits from environment variables (MB for sizes), defaults for the ones not set."""
        env = os.environ if environ is None else environ
        values = {}
        for attr, (var, unit) in cls.ENV.items():
            text = env.get(var, "").strip().replace("_", "")
            if not text:
                continue
            try:
                number = int(text)
            except ValueError:
                raise FaircardError(f"{var} must be a whole number; it is '{text}'.") from None
            if number <= 0:
                raise FaircardError(f"{var} must be positive; it is {number}.")
            values[attr] = number * unit
        return cls(**values)


def over_limit(name: str, found: str, what: str, limit: str, variable: str) -> FaircardError:
    """The error for a table over one of the :class:`TableLimits`, naming the limit."""
    return FaircardError(
        f"'{name}' has {found}, over this server's limit on {what} ({limit}); it was not "
        f"loaded. Use a sample of the data, or ask the administrator to raise {variable}."
    )
