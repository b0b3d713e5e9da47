"""CSV columns typed the way faircard's own CSV reader types them, for DuckDB and Spark.

Both engines read every CSV column as text; these queries (DuckDB's SQL, translated for Spark)
then apply the rule of :func:`faircard.io.tables.read_table` to each column's values:

* a value is missing when, after the spaces that follow a delimiter, it is one of
  :data:`~faircard.io.tables.NA_WORDS` (the empty value included);
* a column of ``true``/``false`` (any case) is boolean;
* a column of numbers is numeric (integers, or floats when any value is not a whole number),
  unless one of them is written with a leading zero (``01``, ``007``, ``00501``): such a column
  holds codes, and stays text, each value as written;
* anything else is text, each value as written (spaces after the delimiter skipped).

Rows are read once to type the columns; only one row of counts per column comes back.
"""

from __future__ import annotations

from ..io.tables import CODE_PATTERN, NA_WORDS
from .sql import quote

NUMBER = "^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?[ \t]*$"
"""A number as pandas' CSV parser reads one (trailing spaces and tabs allowed)."""
INFINITE = "^[+-]?(inf|infinity)[ \t]*$"
"""An infinite number, lower-cased."""
INTEGER = "^[+-]?[0-9]+[ \t]*$"
TRAILING = "[ \t]+$"
# (a tab written as itself: DuckDB and Spark read backslashes in SQL text differently)


def cleaned(col: str) -> str:
    """The text column ``col`` (quoted) with the spaces after the delimiter skipped and the
    words for a missing value as NULL."""
    words = ", ".join("'" + w.replace("'", "''") + "'" for w in NA_WORDS)
    text = f"regexp_replace({col}, '^ +', '')"
    return f"CASE WHEN {text} IN ({words}) THEN NULL ELSE {text} END"


def kinds_query(view: str, names: list[str]) -> str:
    """One row: per column ``j``, its values (``n{j}``), and how many are ``true``/``false``
    (``b{j}``), numbers (``f{j}``), integers (``i{j}``) and codes with a leading zero
    (``z{j}``). ``view`` holds the cleaned columns."""
    parts = []
    for j, name in enumerate(names):
        v = quote(name)
        number = f"(regexp_matches({v}, '{NUMBER}') OR regexp_matches(lower({v}), '{INFINITE}'))"
        integer = (f"(regexp_matches({v}, '{INTEGER}') AND "
                   f"TRY_CAST(regexp_replace({v}, '{TRAILING}', '') AS BIGINT) IS NOT NULL)")
        parts += [f"COUNT({v}) AS n{j}",
                  f"SUM(CASE WHEN lower({v}) IN ('true', 'false') THEN 1 ELSE 0 END) AS b{j}",
                  f"SUM(CASE WHEN {number} THEN 1 ELSE 0 END) AS f{j}",
                  f"SUM(CASE WHEN {integer} THEN 1 ELSE 0 END) AS i{j}",
                  f"SUM(CASE WHEN regexp_matches({v}, '{CODE_PATTERN}') THEN 1 ELSE 0 END) "
                  f"AS z{j}"]
    return f"SELECT {', '.join(parts)} FROM {view}"


def column_kinds(row: dict, names: list[str]) -> dict[str, str]:
    """Each column's type ("BOOLEAN", "BIGINT", "DOUBLE" or "VARCHAR") from the row of
    :func:`kinds_query`."""
    out = {}
    for j, name in enumerate(names):
        n, b, f, i, z = (int(row[f"{k}{j}"] or 0) for k in "nbfiz")
        if n == 0:
            out[name] = "DOUBLE"  # pandas reads a column with no value as floats (all NaN)
        elif b == n:
            out[name] = "BOOLEAN"
        elif f == n and z == 0:
            out[name] = "BIGINT" if i == n else "DOUBLE"
        else:
            out[name] = "VARCHAR"
    return out


def typed_select(view: str, kinds: dict[str, str]) -> str:
    """The cleaned columns of ``view`` as the types ``kinds`` gives them."""
    cols = []
    for name, kind in kinds.items():
        v = quote(name)
        if kind == "BOOLEAN":
            expr = f"CASE WHEN {v} IS NULL THEN NULL ELSE lower({v}) = 'true' END"
        elif kind in ("BIGINT", "DOUBLE"):
            expr = f"CAST(regexp_replace({v}, '{TRAILING}', '') AS {kind})"
        else:
            expr = v
        cols.append(f"{expr} AS {v}")
    return f"SELECT {', '.join(cols)} FROM {view}"


def cleaned_select(source: str, raw_names: list[str], names: list[str]) -> str:
    """The text columns of ``source`` (a table or subquery), cleaned, under their ``names``."""
    cols = [f"{cleaned(quote(raw))} AS {quote(name)}"
            for raw, name in zip(raw_names, names, strict=True)]
    return f"SELECT {', '.join(cols)} FROM {source}"


def header_names(raw_names: list[str]) -> list[str]:
    """Column names as faircard's reader gives them: surrounding spaces removed, unless that
    would give two columns one name."""
    names = [raw.strip() or raw for raw in raw_names]
    return names if len(set(names)) == len(names) else list(raw_names)


__all__ = ["cleaned_select", "column_kinds", "header_names", "kinds_query", "typed_select"]
