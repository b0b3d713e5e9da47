"""A Parquet source's footer statistics are never acted on while DuckDB counts.

Whoever writes a Parquet file writes its footer: each column's least and greatest value and
whether it holds missing values, per row group. DuckDB's optimizer takes them as facts. With a
footer claiming every score >= 0.6, ``score >= 0.5`` became TRUE for every row; claiming no
missing outcome, ``outcome IS NULL`` became FALSE; it even answered ``MAX(score)`` from the
footer without reading a row.

So a user's Parquet files are read with every column's statistics replaced by statistics that
claim nothing (``read_parquet``'s ``column_statistics``, :func:`unclaimed`): a float column may
hold any number, NaN or a missing value, any other column any value of its type or a missing
one. The optimizer then knows only what a query itself implies, which holds whatever the
footers say: the grouped query's score filter bounds its grid cell, and CASE expressions number
its other parts, so DuckDB still counts into a directly indexed table (its perfect hash
aggregate). Filters are not pushed into the scan (:data:`IGNORED`), where each row group's own
statistics would skip its rows.
"""

from __future__ import annotations

IGNORED = "filter_pushdown"
"""DuckDB's optimizer that would push filters into the Parquet scan, which skips row groups by
the statistics of their footers (not replaced by :func:`unclaimed`)."""

_FLOATS = {"DOUBLE", "FLOAT", "REAL", "FLOAT4", "FLOAT8"}


def unclaimed(types: dict[str, str]) -> str | None:
    """The ``column_statistics`` argument of ``read_parquet`` that claims nothing about any of
    the columns ``types`` (name to DuckDB type): from minus infinity to NaN (above every
    number) for a float column, so that a filter on it gives the range it keeps; no range for
    the others; a missing value possible in every column. None without columns."""
    if not types:
        return None
    entries = []
    for name, type_name in types.items():
        stats = "MAP {'min': '-Infinity', 'max': 'NaN'}" if type_name.upper() in _FLOATS \
            else "MAP {}"
        key = str(name)
        if '"' in key:  # DuckDB reads such a key as a quoted path ('"a"."b"'): quote it so
            key = '"' + key.replace('"', '""') + '"'  # (a column 'say "yes"' was refused)
        entries.append(f"'{key.replace(chr(39), chr(39) * 2)}': {stats}")
    return "MAP {" + ", ".join(entries) + "}"
