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
FIRST_CHARS = ", ".join(f"'{c}'" for c in "0123456789+-.iI")
"""How a number (or an infinite one) can start: other values skip the regular expressions."""
TRAILING_CHARS = " \t"
"""The characters pandas allows after a number (a space and a tab)."""
# (a tab written as itself: DuckDB and Spark read backslashes in SQL text differently)


def cleaned(col: str) -> str:
    """The text column ``col`` (quoted) with the spaces after the delimiter skipped and the
    words for a missing value as NULL. (``ltrim`` only where a value starts with a space: it
    copies every value it is given, and a regular expression costs more still.)"""
    words = ", ".join("'" + w.replace("'", "''") + "'" for w in NA_WORDS)
    text = f"(CASE WHEN starts_with({col}, ' ') THEN ltrim({col}, ' ') ELSE {col} END)"
    return f"CASE WHEN {text} IN ({words}) THEN NULL ELSE {text} END"


def kinds_query(view: str, names: list[str]) -> str:
    """One row: per column ``j``, its values (``n{j}``), and how many are ``true``/``false``
    (``b{j}``), numbers (``f{j}``), integers (``i{j}``) and numbers written with a leading zero
    (``z{j}``, codes). ``view`` holds the cleaned columns.

    Each value is tested as few times as the answer needs (this query reads every row): the
    integer and leading-zero tests only on numbers, the infinite test only on what is not a
    plain number, neither on a value whose first character no number starts with, and the cheap ones with plain string functions: a number is an integer when
    it has no '.', 'e' or 'E' (and fits 64 bits); a number is written with a leading zero when,
    after its sign, a '0' is followed by a digit (:data:`CODE_PATTERN`)."""
    flags, parts = [], []
    for j, name in enumerate(names):
        v = quote(name)
        number = (f"CASE WHEN NOT (left({v}, 1) IN ({FIRST_CHARS})) THEN 0 "
                  f"WHEN regexp_matches({v}, '{NUMBER}') THEN 1 "
                  f"WHEN regexp_matches(lower({v}), '{INFINITE}') THEN 2 ELSE 0 END")
        flags += [f"{v} AS v{j}", f"{number} AS k{j}"]
        w = f"v{j}"
        integer = (f"CASE WHEN k{j} <> 1 OR contains({w}, '.') OR contains({w}, 'e') "
                   f"OR contains({w}, 'E') THEN 0 "
                   f"WHEN TRY_CAST(rtrim({w}, '{TRAILING_CHARS}') AS BIGINT) IS NULL THEN 0 "
                   f"ELSE 1 END")
        code = (f"CASE WHEN k{j} <> 1 THEN FALSE "
                f"WHEN starts_with({w}, '0') THEN (substring({w}, 2, 1) BETWEEN '0' AND '9') "
                f"WHEN starts_with({w}, '+0') OR starts_with({w}, '-0') "
                f"THEN (substring({w}, 3, 1) BETWEEN '0' AND '9') ELSE FALSE END")
        parts += [f"COUNT({w}) AS n{j}",
                  f"SUM(CASE WHEN length({w}) NOT IN (4, 5) THEN 0 "
                  f"WHEN lower({w}) IN ('true', 'false') THEN 1 ELSE 0 END) AS b{j}",
                  f"SUM(CASE WHEN k{j} > 0 THEN 1 ELSE 0 END) AS f{j}",
                  f"SUM({integer}) AS i{j}",
                  f"SUM(CASE WHEN {code} THEN 1 ELSE 0 END) AS z{j}"]
    return f"SELECT {', '.join(parts)} FROM (SELECT {', '.join(flags)} FROM {view}) AS flagged"


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
            expr = f"CAST(rtrim({v}, '{TRAILING_CHARS}') AS {kind})"
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
