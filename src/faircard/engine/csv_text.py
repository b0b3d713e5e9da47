"""CSV columns typed the way faircard's own CSV reader types them, for DuckDB and Spark.

Both engines read every CSV column as text; these queries (DuckDB's SQL, translated for Spark)
then apply the rule of :func:`faircard.io.tables.read_table` to each column's values:

* a value is missing when, after the spaces that follow a delimiter, it is one of
  :data:`~faircard.io.tables.NA_WORDS` (the empty value included);
* a column of ``true``/``false`` (any case) is boolean;
* a column of numbers is numeric (integers, or floats when any value is not a whole number),
  unless one of them is written with a leading zero (``01``, ``007``, ``00501``): such a column
  holds codes, and stays text, each value as written; so does a column of whole numbers one of
  which does not fit in 64 bits (an identifier such as ``99999999999999999999``). A number is
  what pandas' parser reads as one (:data:`PLAIN_NUMBER`, :data:`INFINITE`): ``1.``, ``.5``,
  ``1e5``, ``inf``, spaces and tabs around it, but not ``+-1``, ``1_000``, ``0x10`` or ``NAN``,
  which DuckDB's cast reads;
* anything else is text, each value as written (spaces after the delimiter skipped).

The rule is one test per value, :func:`value_class`; a column's type is decided by how many
of its values are of each class (:func:`kind_of`). Only one row of counts per column comes
back.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ..io.columns import column_names
from ..io.tables import NA_WORDS
from .sql import quote

SPACES = " \t\n\x0b\x0c\r"
"""The characters pandas skips before and after a number (C's ``isspace``; DuckDB's and Spark's
casts skip them too). The spaces after a delimiter are already skipped, so these matter for
tabs and quoted values. SQL text holds them as themselves (DuckDB and Spark read backslashes
in SQL text differently)."""
_S = f"[{SPACES}]"
_EXPONENT = "([eE][+-]?[0-9]+)?"
PLAIN_NUMBER = (f"^([+-]?((0|[1-9][0-9]*)([.][0-9]*)?|[.][0-9]+)"
                f"|{_S}+[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)){_EXPONENT}{_S}*$")
"""A number as pandas' CSV parser reads one, unless it is written with a leading zero: after
its sign, a '0' followed by a digit (``01``, ``007``, ``00501``; the test of
:data:`~faircard.io.tables.CODE_PATTERN`, which a value starting with a tab escapes: pandas
reads a tab followed by ``01`` as the number 1)."""
INFINITE = "^[+-]?(inf|infinity)$"
"""An infinite number, lower-cased (pandas reads no space around it)."""

NULL, BOOLEAN, INTEGER, LONG, NUMBER_OTHER, TEXT = range(6)
"""What one value is (:func:`value_class`): missing; ``true``/``false``; a whole number that
fits in 64 bits; a whole number that does not; any other number (not whole, or infinite);
anything else, a number written with a leading zero included (a code)."""
KIND_OF_NOTHING = "DOUBLE"
"""The type of a column with no value (pandas reads it as floats, all NaN)."""


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


def value_class(v: str) -> str:
    """The class of each value of the cleaned text column ``v`` (:data:`NULL` ... :data:`TEXT`):
    the one test of faircard's CSV rule. The kinds of the columns, and the checks of a kind
    guessed from the first rows, count these classes. A number is whole when it has no '.',
    'e' or 'E'; a whole number fits when the engine's 64-bit cast of it succeeds."""
    return (f"CASE WHEN {v} IS NULL THEN {NULL} "
            f"WHEN regexp_matches({v}, '{PLAIN_NUMBER}') THEN ("
            f"CASE WHEN contains({v}, '.') OR contains({v}, 'e') OR contains({v}, 'E') "
            f"THEN {NUMBER_OTHER} WHEN TRY_CAST({v} AS BIGINT) IS NULL THEN {LONG} "
            f"ELSE {INTEGER} END) "
            f"WHEN regexp_matches(lower({v}), '{INFINITE}') THEN {NUMBER_OTHER} "
            f"WHEN lower({v}) IN ('true', 'false') THEN {BOOLEAN} "
            f"ELSE {TEXT} END")


def kinds_query(view: str, names: list[str]) -> str:
    """One row: per column ``j`` and class ``c`` of :func:`value_class`, how many of its values
    are of that class (``c{c}_{j}``; missing values are not counted). ``view`` holds the
    cleaned columns."""
    flags, parts = [], []
    for j, name in enumerate(names):
        flags.append(f"{value_class(quote(name))} AS k{j}")
        parts += [f"SUM(CASE WHEN k{j} = {c} THEN 1 ELSE 0 END) AS c{c}_{j}"
                  for c in range(BOOLEAN, TEXT + 1)]
    return f"SELECT {', '.join(parts)} FROM (SELECT {', '.join(flags)} FROM {view}) AS flagged"


def class_counts(row: dict, j: int) -> dict[int, int]:
    """How many values of column ``j`` are of each class, from the row of :func:`kinds_query`."""
    return {c: int(row[f"c{c}_{j}"] or 0) for c in range(BOOLEAN, TEXT + 1)}


def kind_of(counts: dict[int, int]) -> str:
    """A column's type ("BOOLEAN", "BIGINT", "DOUBLE" or "VARCHAR") from how many of its
    values are of each class (:func:`value_class`)."""
    n = sum(counts.values())
    if n == 0:
        return KIND_OF_NOTHING
    if counts[BOOLEAN] == n:
        return "BOOLEAN"
    whole = counts[INTEGER] + counts[LONG]
    if whole + counts[NUMBER_OTHER] == n:  # numbers, none written with a leading zero
        if whole == n:  # integers, or identifiers too long for 64 bits
            return "BIGINT" if counts[INTEGER] == n else "VARCHAR"
        return "DOUBLE"
    return "VARCHAR"


def column_kinds(row: dict, names: list[str]) -> dict[str, str]:
    """Each column's type from the row of :func:`kinds_query`."""
    return {name: kind_of(class_counts(row, j)) for j, name in enumerate(names)}


def typed_value(v: str, kind: str) -> str:
    """The cleaned text column ``v`` as the type ``kind`` of :func:`kind_of`."""
    if kind == "BOOLEAN":
        return f"lower({v}) = 'true'"
    if kind in ("BIGINT", "DOUBLE"):
        return f"CAST({v} AS {kind})"  # the cast skips the spaces around a number
    return v


def typed_select(view: str, kinds: dict[str, str], exprs: dict[str, str] | None = None) -> str:
    """The cleaned columns of ``view`` as the types ``kinds`` gives them (by
    :func:`typed_value`, or by the expression ``exprs`` gives a column)."""
    cols = [f"{(exprs or {}).get(name) or typed_value(quote(name), kind)} AS {quote(name)}"
            for name, kind in kinds.items()]
    return f"SELECT {', '.join(cols)} FROM {view}"


def cleaned_select(source: str, raw_names: list[str], names: list[str], *,
                   words_read: bool = False) -> str:
    """The text columns of ``source`` (a table or subquery), cleaned, under their ``names``
    (``words_read`` as :func:`cleaned`)."""
    cols = [f"{cleaned(quote(raw), words_read=words_read)} AS {quote(name)}"
            for raw, name in zip(raw_names, names, strict=True)]
    return f"SELECT {', '.join(cols)} FROM {source}"


def header_names(raw_names: list[str]) -> list[str]:
    """Column names as faircard's reader gives them (:func:`faircard.io.columns.column_names`)."""
    return column_names(raw_names)


def file_header(path: str | Path, delimiter: str) -> list[str]:
    """The names of the first line of the CSV file at ``path`` as written (quotes read, the
    spaces after a delimiter skipped, as pandas reads a header), read here: DuckDB and Spark
    number a name that repeats their own ways before faircard sees it."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        return next(csv.reader(fh, delimiter=delimiter, skipinitialspace=True), [])


def header_groups(files: list[Path], delimiter: str) -> list[tuple[list[str], list[Path]]]:
    """The CSV ``files`` grouped by their columns' names (:func:`file_header`, then
    :func:`header_names`): (names, files), in the order of their first file. An engine reads
    each group with these names, by position, and joins the groups by name (files whose
    columns are in another order, or that lack one, are read by name)."""
    groups: dict[tuple[str, ...], list[Path]] = {}
    for f in files:
        groups.setdefault(tuple(header_names(file_header(f, delimiter))), []).append(f)
    return [(list(names), members) for names, members in groups.items()]


__all__ = ["class_counts", "cleaned_select", "column_kinds", "file_header", "header_groups",
           "header_names", "kind_of",
           "kinds_query", "na_list", "typed_select", "typed_value", "value_class"]
