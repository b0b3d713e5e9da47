"""CSV columns typed the way faircard's own CSV reader types them, for DuckDB and Spark.

Both engines read every CSV column as text; these queries (DuckDB's SQL, translated for Spark)
then apply the rule of :func:`faircard.io.tables.read_table` to each column's values:

* a value is missing when, after the spaces that follow a delimiter, it is one of
  :data:`~faircard.io.tables.NA_WORDS` (the empty value included);
* a column of ``true``/``false`` (any case) is boolean;
* a column of numbers is numeric (integers, or floats when any value is not a whole number),
  unless one of them is written with a leading zero (``01``, ``007``, ``00501``): such a column
  holds codes, and stays text, each value as written; so does a column of whole numbers one of
  which does not fit in 64 bits (an identifier such as ``99999999999999999999``);
* anything else is text, each value as written (spaces after the delimiter skipped).

Rows are read once to type the columns; only one row of counts per column comes back.

Each value is tested as few times as the answer needs (the typing reads every row): the
regular expressions only on values whose first character can start a number, the infinite
test only on what is not a plain number, the others on numbers only and with plain string
functions: a number is whole when it has no '.', 'e' or 'E'; it is written with a leading zero
when, after its sign, a '0' is followed by a digit (:data:`~faircard.io.tables.CODE_PATTERN`).
"""

from __future__ import annotations

from ..io.tables import NA_WORDS
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


def na_list() -> str:
    """:data:`~faircard.io.tables.NA_WORDS` as a SQL list of text literals."""
    return "[" + ", ".join("'" + w.replace("'", "''") + "'" for w in NA_WORDS) + "]"


def cleaned(col: str, *, words_read: bool = False) -> str:
    """The text column ``col`` (quoted) with the spaces after the delimiter skipped and the
    words for a missing value as NULL. ``words_read``: the reader already read the words as
    NULL (DuckDB's ``nullstr``), so only values starting with a space are looked at.
    (``ltrim`` only where a value starts with a space: it copies every value it is given.)"""
    words = na_list()[1:-1]  # the same literals, without the list's brackets
    text = f"ltrim({col}, ' ')"
    spaced = f"CASE WHEN {text} IN ({words}) THEN NULL ELSE {text} END"
    if words_read:
        return f"CASE WHEN starts_with({col}, ' ') THEN {spaced} ELSE {col} END"
    return (f"CASE WHEN starts_with({col}, ' ') THEN {spaced} "
            f"WHEN {col} IN ({words}) THEN NULL ELSE {col} END")


def number_kind(v: str) -> str:
    """1 for a number, 2 for an infinite one, else 0 (``v``: a cleaned text column)."""
    return (f"CASE WHEN NOT (left({v}, 1) IN ({FIRST_CHARS})) THEN 0 "
            f"WHEN regexp_matches({v}, '{NUMBER}') THEN 1 "
            f"WHEN regexp_matches(lower({v}), '{INFINITE}') THEN 2 ELSE 0 END")


def whole_kind(v: str, k: str) -> str:
    """For a number ``v`` of :func:`number_kind` ``k``: 2 when it is whole and fits in 64 bits,
    1 when it is whole and does not, else 0."""
    return (f"CASE WHEN {k} <> 1 OR contains({v}, '.') OR contains({v}, 'e') "
            f"OR contains({v}, 'E') THEN 0 "
            f"WHEN TRY_CAST(rtrim({v}, '{TRAILING_CHARS}') AS BIGINT) IS NULL THEN 1 ELSE 2 END")


def is_code(v: str, k: str) -> str:
    """Whether the number ``v`` of :func:`number_kind` ``k`` is written with a leading zero."""
    return (f"CASE WHEN {k} <> 1 THEN FALSE "
            f"WHEN starts_with({v}, '0') THEN (substring({v}, 2, 1) BETWEEN '0' AND '9') "
            f"WHEN starts_with({v}, '+0') OR starts_with({v}, '-0') "
            f"THEN (substring({v}, 3, 1) BETWEEN '0' AND '9') ELSE FALSE END")


def is_boolean(v: str) -> str:
    return (f"CASE WHEN length({v}) NOT IN (4, 5) THEN FALSE "
            f"ELSE lower({v}) IN ('true', 'false') END")


def kinds_query(view: str, names: list[str]) -> str:
    """One row: per column ``j``, its values (``n{j}``), and how many are ``true``/``false``
    (``b{j}``), numbers (``f{j}``), whole numbers (``w{j}``), whole numbers that fit in 64 bits
    (``i{j}``) and numbers written with a leading zero (``z{j}``, codes). ``view`` holds the
    cleaned columns."""
    flags, parts = [], []
    for j, name in enumerate(names):
        flags += [f"{quote(name)} AS v{j}", f"{number_kind(quote(name))} AS k{j}"]
        v, k = f"v{j}", f"k{j}"
        whole = whole_kind(v, k)
        parts += [f"COUNT({v}) AS n{j}",
                  f"SUM(CASE WHEN {is_boolean(v)} THEN 1 ELSE 0 END) AS b{j}",
                  f"SUM(CASE WHEN {k} > 0 THEN 1 ELSE 0 END) AS f{j}",
                  f"SUM(CASE WHEN ({whole}) > 0 THEN 1 ELSE 0 END) AS w{j}",
                  f"SUM(CASE WHEN ({whole}) = 2 THEN 1 ELSE 0 END) AS i{j}",
                  f"SUM(CASE WHEN {is_code(v, k)} THEN 1 ELSE 0 END) AS z{j}"]
    return f"SELECT {', '.join(parts)} FROM (SELECT {', '.join(flags)} FROM {view}) AS flagged"


def column_kinds(row: dict, names: list[str]) -> dict[str, str]:
    """Each column's type ("BOOLEAN", "BIGINT", "DOUBLE" or "VARCHAR") from the row of
    :func:`kinds_query` (a column with no value is read as floats, all NaN, as pandas reads
    it)."""
    out = {}
    for j, name in enumerate(names):
        n, b, f, w, i, z = (int(row[f"{k}{j}"] or 0) for k in "nbfwiz")
        if n == 0:
            out[name] = "DOUBLE"
        elif b == n:
            out[name] = "BOOLEAN"
        elif f == n and z == 0:
            if w == n:  # whole numbers: integers, or identifiers too long for 64 bits
                out[name] = "BIGINT" if i == n else "VARCHAR"
            else:
                out[name] = "DOUBLE"
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


def cleaned_select(source: str, raw_names: list[str], names: list[str], *,
                   words_read: bool = False) -> str:
    """The text columns of ``source`` (a table or subquery), cleaned, under their ``names``
    (``words_read`` as :func:`cleaned`)."""
    cols = [f"{cleaned(quote(raw), words_read=words_read)} AS {quote(name)}"
            for raw, name in zip(raw_names, names, strict=True)]
    return f"SELECT {', '.join(cols)} FROM {source}"


def header_names(raw_names: list[str]) -> list[str]:
    """Column names as faircard's reader gives them: surrounding spaces removed, unless that
    would give two columns one name."""
    names = [raw.strip() or raw for raw in raw_names]
    return names if len(set(names)) == len(names) else list(raw_names)


__all__ = ["cleaned_select", "column_kinds", "header_names", "kinds_query",
           "na_list", "typed_select"]
