"""Whether the statistics of a Parquet source's footers may be believed while DuckDB counts.

Whoever writes a Parquet file writes its footer: each column's least and greatest value and
whether it holds missing values, per row group. DuckDB's optimizer takes them as facts. With a
footer claiming every score >= 0.6, ``score >= 0.5`` became TRUE for every row; claiming no
missing outcome, ``outcome IS NULL`` became FALSE. So for a user's files the optimizations that
act on statistics are off (:data:`UNTRUSTED`), and the grouped query then hashes its keys
instead of indexing them directly (about half again its time).

They come back on (:data:`BELIEVED`: filters are still not pushed into the scan, so no row group
is skipped by its footer) when the rows bear out what DuckDB takes from the footers for every
column the count reads: :func:`claims` asks DuckDB for the statistics its optimizer would use
(``stats()``, the whole source's, merged over row groups and files), and :func:`hold` compares
them with what the rows hold, measured with the optimizations off: the least and greatest
value, whether a value is missing, whether one is present. Each claim is a bound: a claim the
rows stay inside is true whatever it is, so the optimizer cannot change a count with it.
Anything this module does not know how to check (another kind of statistic, a type it does not
compare) counts as a claim not borne out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

UNTRUSTED = "statistics_propagation,filter_pushdown"
"""DuckDB's optimizers that act on a Parquet file's footers as facts (each column's null count
and range, per file and per row group): off while the footers are not borne out."""
BELIEVED = "filter_pushdown"
"""Off once the footers' statistics are borne out by the rows: row groups are still all read
(a footer's per-row-group claims are not checked one by one)."""



def distrusted(con) -> bool:
    """Whether the connection ``con`` has the optimizations of :data:`UNTRUSTED` off (DuckDB
    gives its setting back in its own order)."""
    setting = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0]
    return set(UNTRUSTED.split(",")) <= {s.strip() for s in str(setting).split(",")}


_KNOWN = {"min", "max", "has_null", "has_no_null", "has_unicode"}
_COMPARED = (bool, int, float, str, Decimal)


@dataclass(frozen=True)
class Seen:
    """What the rows hold in one column: whether a value is missing (NULL; a float column's
    NaN is a value here, as for DuckDB's statistics), whether one is present, and the least and
    greatest present value in DuckDB's order (NaN above every number); ``ascii``: whether every
    text value is ASCII, None when not known."""

    has_null: bool
    has_value: bool
    lo: Any = None
    hi: Any = None
    ascii: bool | None = None


def seen_in_values(values: list, *, nan_as_null: bool) -> Seen:
    """What a column holds from the full list of its distinct values (``None`` for a missing
    one). ``nan_as_null``: the list shows a NaN as ``None`` (a float column's values as the
    grouped query groups them), so ``None`` may be a NaN; it then counts as both."""
    present = [v for v in values if not _missing(v)]
    nulls = len(present) < len(values)
    if nulls and nan_as_null:
        present.append(math.nan)
    if not present:
        return Seen(has_null=nulls, has_value=False)
    ordered = sorted(present, key=_order)
    text = [v for v in present if isinstance(v, str)]
    return Seen(has_null=nulls, has_value=True, lo=ordered[0], hi=ordered[-1],
                ascii=all(v.isascii() for v in text))


def seen_in_aggregates(n_rows: int, n_values: int, lo: Any, hi: Any) -> Seen:
    """What a column holds from COUNT(*), COUNT(column), MIN(column) and MAX(column) of the
    rows (DuckDB's MIN and MAX order NaN above every number)."""
    return Seen(has_null=n_values < n_rows, has_value=n_values > 0, lo=lo, hi=hi)


def claims(con, columns: list[str]) -> dict[str, dict] | None:
    """The statistics DuckDB's optimizer takes for each column of the view ``src`` (on the
    connection ``con``) from the footers, by column; None when the source has no row to ask
    them from. Asked with statistics propagation on (the setting is restored after)."""
    from .sql import quote

    before = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0]
    con.execute(f"SET disabled_optimizers = '{BELIEVED}'")
    try:
        names = list(dict.fromkeys(columns))
        select = ", ".join(f"stats({quote(c)})" for c in names)
        rows = con.execute(f"SELECT {select} FROM src LIMIT 1").fetchall()
    finally:
        con.execute(f"SET disabled_optimizers = '{before}'")
    if not rows:
        return None
    return dict(zip(names, rows[0], strict=True))


def hold(claimed: dict[str, Any] | None, seen: dict[str, Seen] | None) -> bool:
    """Whether every column's claimed statistics (from :func:`claims`) are borne out by what
    the rows hold (``seen``, by column; a column not in ``seen`` is not checked, so every
    column the count reads must be there). False without claims or without ``seen``."""
    if claimed is None or not seen:
        return False
    return all(name in claimed and _holds(claimed[name], s) for name, s in seen.items())


def _holds(claim: Any, seen: Seen) -> bool:
    if claim is None:  # no statistics: the optimizer has nothing to act on
        return True
    if not isinstance(claim, dict) or not set(claim) <= _KNOWN:
        return False
    if seen.has_null and claim.get("has_null") is not True:
        return False
    if seen.has_value and claim.get("has_no_null") is not True:
        return False
    if claim.get("has_unicode") is False and seen.ascii is not True:
        return False
    if not seen.has_value:
        return True
    lo, hi = claim.get("min"), claim.get("max")
    if lo is not None and not _at_most(lo, seen.lo):
        return False
    return hi is None or _at_most(seen.hi, hi)


def _at_most(a: Any, b: Any) -> bool:
    """``a <= b`` in DuckDB's order (NaN above every number, equal to itself); False for values
    of types not compared here or of different kinds."""
    if not (isinstance(a, _COMPARED) and isinstance(b, _COMPARED)):
        return False
    if isinstance(a, str) != isinstance(b, str):
        return False
    return _order(a) <= _order(b)


def _order(value: Any):
    if isinstance(value, float) and math.isnan(value):
        return (1, 0)
    return (0, value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
