"""One pass over the rows when the first rows and the footers foretell what it needs.

The grouped query numbers each sensitive feature's values and the outcome's, and puts scores
on a grid across their range; so, written plainly, it waits for a pass that finds the range
and the row accounting and for one pass per feature that lists its values (together about a
third of the grouped query's own time at 10 million rows). Here those come from guesses
instead: the values that the first rows (:data:`~faircard.engine.sources.HEAD_ROWS`) hold, and
the score's range that the footers claim. The grouped query is then written so that it shows
whether the guesses were right: a value that is not listed (or a missing one) gets a key of
its own instead of a listed value's, and the rows it counts are compared with the row count.
They were right when every row was counted under a listed key, and the least and the greatest
claimed scores are scores of the rows (found among the first rows, or else looked for). The
counts are then those of the plain way, value for value; otherwise the plain way counts them
(the pass here is lost: a file whose groups first appear past its first rows, whose footers
claim a wider range, or that has missing values).

A single Parquet file's first rows, row count and footers are read by pyarrow and handed to
DuckDB as an Arrow table, whose columns DuckDB must type as it types the file's: the same
queries then give the same values (see :func:`arrow_head`). At 10 million rows this took 0.02 s
of CPU, against 0.1 s for DuckDB to copy the first rows into a table and query it. Other
sources, and a file pyarrow cannot read so, have their first rows copied by DuckDB.

Only for scores that go on the grid (more than :data:`~faircard.engine.grouped.
MAX_DISTINCT_SCORES` distinct values among the first rows): the grid cell is what needs the
range before the pass.
"""

from __future__ import annotations

import math
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import FaircardError
from ..spec import AssessmentSpec
from .grouped import MAX_DISTINCT_SCORES, GroupedCounts, positive_values
from .sql import MAX_CODED, Columns, _literal, _missing, _value, codable, quote

HEAD = "faircard_head"
"""The table (in the connection's own database) of the first rows' scores, outcomes and
features, read once; or the view of them over :data:`ROWS`."""
ROWS = "faircard_head_rows"
"""The first rows of a single Parquet file as pyarrow reads them (an Arrow table registered on
the connection)."""
HEAD_TEXT_BYTES = 256 * 2**20
TEXT_BYTES_PER_ROW = 1_000
"""The first rows of a text feature are read before its values' lengths are checked
(:func:`~faircard.engine.sources.check_text_lengths`) only when the footers claim each of its
column chunks holds at most :data:`HEAD_TEXT_BYTES` and at most this many bytes a row: the
3,000 values of 1 MB of a 184 KB file were otherwise read whole. The claim is a hint: it
chooses whether the lengths are checked first, and the values read are checked either way."""


def small_text_chunk(size: int | None, rows: int | None) -> bool:
    """Whether a text column chunk of ``size`` bytes (uncompressed, as a footer claims) over
    ``rows`` rows is small enough to read before its values' lengths are checked."""
    return size is not None and rows is not None and \
        size <= HEAD_TEXT_BYTES and size <= rows * TEXT_BYTES_PER_ROW


def head_queries(cols: Columns, head_rows: int, rows: str = "src") -> tuple[str, dict[str, str]]:
    """The statement that copies the first ``head_rows`` rows' columns of ``rows`` (the source
    ``src``, or :data:`ROWS`, then as a view) into :data:`HEAD`, and the queries then run at
    once, by name: over the first rows,
    ``head_score`` (the number of distinct scores, their least and greatest),
    ``head_targets`` (up to three outcome values) and ``head_values:F`` (up to MAX_CODED + 1
    values of the feature F, as the grouped query groups them); ``claimed``, the least and
    greatest score the footers claim (``src_footers``); ``rows``, the row count."""
    columns = [f"CAST({quote(cols.decision)} AS DOUBLE) AS __score",
               f"{quote(cols.target)} AS __target"]
    columns += [f"{_value(quote(f), cols.is_float.get(f, False))} AS __f{i}"
                for i, f in enumerate(cols.sensitive)]
    kind = "TABLE" if rows == "src" else "TEMP VIEW"
    copy = (f"CREATE OR REPLACE {kind} {HEAD} AS SELECT {', '.join(columns)} FROM {rows} "
            f"LIMIT {int(head_rows)}")
    name = str(cols.decision).replace("'", "''")
    queries = {
        "head_score": "SELECT COUNT(DISTINCT __score) AS score_distinct, MIN(__score) AS lo, "
                      f"MAX(__score) AS hi FROM {HEAD}",
        "head_targets": f"SELECT DISTINCT __target AS target FROM {HEAD} WHERE NOT "
                        f"{_missing('__target', cols.is_float.get(cols.target, False))} LIMIT 3",
        "claimed": "SELECT MIN(TRY_CAST(lo AS DOUBLE)) AS lo, MAX(TRY_CAST(hi AS DOUBLE)) AS hi"
                   f" FROM src_footers WHERE name = '{name}'",
        "rows": "SELECT COUNT(*) AS n FROM src",
    }
    for i, _ in enumerate(cols.sensitive):
        queries[f"head_values:{i}"] = (f"SELECT DISTINCT __f{i} AS value FROM {HEAD} "
                                       f"LIMIT {MAX_CODED + 1}")
    return copy, queries


def count_in_one_pass(con, cols: Columns, spec: AssessmentSpec, path: str | None = None,
                      types: dict[str, str] | None = None,
                      early: Future | None = None, texts=()) -> GroupedCounts | None:
    """The grouped counts of ``spec`` over the view ``src`` of the connection ``con`` in one
    pass over the rows, or None when the guesses do not hold (then nothing is known).
    ``path``: the source's path, whose first rows pyarrow reads when it is a single Parquet
    file whose columns DuckDB types as ``types`` (the view's column types) in Arrow too;
    ``early``: that reading, already started (:func:`read_head_early`); ``texts``: the
    features whose values' lengths are checked among the first rows (a count that holds has
    no other value; :func:`faircard.prepare.check_group_names` refuses a long one)."""
    from ..prepare import check_group_names
    from .sources import (
        HEAD_ROWS,
        _arrow_frame,
        _counted,
        _grouped_query,
        _plain,
        _unpacked,
        new_coding,
    )

    got = None
    if path is not None and types is not None:
        got = _arrow_head(con, cols, path, types, HEAD_ROWS, early)
    if got is None:
        got = _duckdb_head(con, cols, HEAD_ROWS)
    head, n = got["head_score"], int(got["rows"]["n"])
    lo, hi = _claimed_range(got["claimed"])
    targets = got["head_targets"]["target"]
    values = {f: got[f"head_values:{i}"]["value"].reset_index(drop=True)
              for i, f in enumerate(cols.sensitive)}
    for f in texts:
        check_group_names(values[f].tolist(), f)
    if n == 0 or int(head["score_distinct"] or 0) <= MAX_DISTINCT_SCORES or lo is None or \
            not lo < hi or not math.isfinite(hi - lo) or len(targets) > 2 or \
            any(len(v) > MAX_CODED for v in values.values()):
        return None
    plain = {f: [_plain(v) for v in col.tolist()] for f, col in values.items()}
    outcomes = [_plain(v) for v in targets.tolist()]
    if not all(codable(v) for vs in [*plain.values(), outcomes] for v in vs):
        return None
    try:
        positive_values(targets, spec)  # the positive label, as the plain way finds it
    except FaircardError:
        return None  # the plain way says why, from every row
    stats = {"n_input": n, "n_missing_target": 0, "n_missing_decision": 0, "score_min": lo,
             "score_max": hi, "score_distinct": int(head["score_distinct"]), "n_infinite": 0}
    coding = new_coding(plain, outcomes, spec, stats, open_sets=True)
    if not coding.fits():
        return None
    grouped = _arrow_frame(con, _grouped_query(cols, spec, stats, targets, coding))
    keys = grouped["__key"].to_numpy()
    if int(grouped["__n"].sum()) != n or (keys >= coding.unlisted_from()).any():
        return None  # a row left out (its score outside the range, or missing), or unlisted
    if not _found(con, cols, lo, head["lo"]) or not _found(con, cols, hi, head["hi"]):
        return None  # the claimed range is wider than the scores': another grid
    return _counted(stats, targets, _unpacked(grouped, coding, values, targets), "duckdb")


def _duckdb_head(con, cols: Columns, head_rows: int) -> dict[str, Any]:
    """The results of :func:`head_queries`, by name, over the first rows DuckDB copies."""
    from .sources import _fetch_all

    copy, queries = head_queries(cols, head_rows)
    con.execute(copy)
    kinds = {name: "arrow" if name.startswith("head_values:") else
             "df" if name == "head_targets" else "raw" for name in queries}
    fetched = _fetch_all(con, {queries[name]: kind for name, kind in kinds.items()})
    con.execute(f"DROP TABLE {HEAD}")
    return {name: fetched[queries[name]] for name in queries}


def single_parquet_file(path: str) -> bool:
    """Whether DuckDB reads ``path`` as one Parquet file, with no column taken from its
    folders' names (no glob, no folder named ``key=value``)."""
    p = Path(path)
    return p.suffix.lower() == ".parquet" and not any(c in str(path) for c in "*?[") and \
        p.is_file() and not any("=" in part for part in p.parent.parts)


def arrow_head(path: str, cols: Columns, head_rows: int):
    """(the first ``head_rows`` rows of the Parquet file ``path``, with the columns ``cols``
    reads, as a pyarrow Table; its row count; the least and greatest score its footers claim,
    as :func:`_claimed_range` takes them; :func:`_score_summary` of the first rows' scores) as
    pyarrow reads them, or None when pyarrow cannot. Read page by page: only the first rows'
    pages are read. The summary is made here, on the thread that reads (see
    :func:`read_head_early`): sorting 200,000 scores took 0.015-0.025 s, which the main
    thread no longer waits for after opening DuckDB."""
    names = list(dict.fromkeys([cols.decision, cols.target, *cols.sensitive]))
    try:
        with pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20) as pf:
            if any(pf.schema_arrow.get_field_index(name) < 0 for name in names):
                return None  # not a column of the file, or a name two columns share
            if not _small_head_text(pf, names, head_rows):
                return None  # its lengths are checked first (see HEAD_TEXT_BYTES)
            batches, n = [], 0
            for batch in pf.iter_batches(batch_size=head_rows, columns=names,
                                         use_threads=False):
                batches.append(batch)
                n += batch.num_rows
                if n >= head_rows:
                    break
            table = pa.Table.from_batches(batches, schema=batches[0].schema) \
                .slice(0, head_rows) if batches else None
            meta = pf.metadata
            rows = meta.num_rows
            claim = _claimed_by_footers(meta, cols.decision)
    except (pa.ArrowException, OSError, ValueError):
        return None
    if table is None or table.column_names != names:
        return None
    return table, rows, claim, _score_summary(table.column(cols.decision))


def _small_head_text(pf, names: list[str], head_rows: int) -> bool:
    """Whether the footers of the Parquet file ``pf`` claim small chunks
    (:func:`small_text_chunk`) for its text columns among ``names`` in the row groups that
    hold the first ``head_rows`` rows."""
    meta = pf.metadata
    schema = pf.schema_arrow
    text = {i for i in range(meta.num_columns) if meta.schema.column(i).path in names and
            _is_text(schema.field(meta.schema.column(i).path).type)}
    rows = 0
    for r in range(meta.num_row_groups):
        group = meta.row_group(r)
        if not all(small_text_chunk(group.column(i).total_uncompressed_size, group.num_rows)
                   for i in text):
            return False
        rows += group.num_rows
        if rows >= head_rows:
            break
    return True


def _is_text(kind) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or \
        pa.types.is_binary(kind) or pa.types.is_large_binary(kind)


def _claimed_by_footers(meta, name: str) -> dict[str, Any]:
    """The least and greatest value of the column ``name`` that the row groups' statistics of
    a file's metadata ``meta`` claim (None where none does)."""
    found = [i for i in range(meta.num_columns) if meta.schema.column(i).path == name]
    los, his = [], []
    for r in range(meta.num_row_groups if len(found) == 1 else 0):
        stats = meta.row_group(r).column(found[0]).statistics
        if stats is None or not stats.has_min_max:
            continue
        for out, v in ((los, stats.min), (his, stats.max)):
            if isinstance(v, int | float) and not isinstance(v, bool):
                out.append(float(v))
    return {"lo": min(los) if los else None, "hi": max(his) if his else None}


def read_head_early(path: str, spec: AssessmentSpec, head_rows: int) -> Future | None:
    """:func:`arrow_head` of the columns ``spec`` names, started on a thread of its own (None
    when ``path`` is not a single Parquet file, or without scores): pyarrow reads the first
    rows while DuckDB opens the file and types its columns, each on one core (about 0.02 s
    each at 10 million rows). What it reads is a guess either way: the counts check it."""
    if not spec.uses_score or not single_parquet_file(path):
        return None
    names = Columns(spec.target, spec.score, tuple(spec.sensitive), {}, True)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(arrow_head, path, names, head_rows)
    finally:
        pool.shutdown(wait=False)  # the thread ends with its one task


def _arrow_head(con, cols: Columns, path: str, types: dict[str, str],
                head_rows: int, early: Future | None = None) -> dict[str, Any] | None:
    """The results of :func:`head_queries`, by name, over the first rows of a single Parquet
    file as pyarrow reads them (:func:`arrow_head`, or ``early``, its reading of the same
    columns already started), or None when it is not one, pyarrow cannot read it, or DuckDB
    types a column of pyarrow's otherwise than the file's."""
    import duckdb

    from .sources import _arrow_frame, _row

    if not single_parquet_file(path):
        return None
    read = early.result() if early is not None else arrow_head(path, cols, head_rows)
    if read is None:
        return None
    table, rows, claim, summary = read
    try:
        con.register(ROWS, table)
        typed = {r[0]: str(r[1]) for r in con.execute(f"DESCRIBE {ROWS}").fetchall()}
        if any(typed.get(name) != types.get(name) for name in table.column_names):
            return None  # the same values need the same types
        view, queries = head_queries(cols, head_rows, ROWS)
        con.execute(view)
        got = {"rows": {"n": rows}, "claimed": claim, "head_score": summary}
        if got["head_score"] is None:  # not plain numbers: as DuckDB casts them
            got["head_score"] = _row(con.execute(queries["head_score"]), nan=True)
        got["head_targets"] = con.execute(queries["head_targets"]).fetchdf()
        for i, _ in enumerate(cols.sensitive):
            got[f"head_values:{i}"] = _arrow_frame(con, queries[f"head_values:{i}"])
        return got
    except duckdb.Error:
        return None
    finally:
        con.execute(f"DROP VIEW IF EXISTS {HEAD}")
        con.unregister(ROWS)


def _score_summary(column) -> dict[str, Any] | None:
    """The ``head_score`` row (distinct scores, least, greatest) of an Arrow column of whole
    or floating numbers without a missing value, as DuckDB gives it for the scores cast to
    doubles (equal numbers are one score, 0.0 and -0.0 included); None for other columns."""
    kind = column.type
    if column.null_count or not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        return None
    scores = column.to_numpy().astype(np.float64)  # each value rounded to the nearest double
    if len(scores) == 0 or np.isnan(scores).any():
        return None
    return {"score_distinct": int(len(np.unique(scores))), "lo": float(scores.min()),
            "hi": float(scores.max())}


def _claimed_range(claim: dict[str, Any]) -> tuple[float | None, float]:
    """(least, greatest) score the footers claim, as numbers (None when they do not say)."""
    lo, hi = claim.get("lo"), claim.get("hi")
    if not all(isinstance(v, float) and math.isfinite(v) for v in (lo, hi)):
        return None, 0.0
    # + 0.0: a least score of 0 may be stored as -0.0 (as Parquet asks of writers)
    return float(lo) + 0.0, float(hi) + 0.0


def _found(con, cols: Columns, score: float, in_head: Any) -> bool:
    """Whether some row has the score ``score`` (among the first rows when ``in_head``, their
    least or greatest score, is it; else looked for, stopping at the first)."""
    if isinstance(in_head, int | float) and float(in_head) == score:
        return True
    d = f"CAST({quote(cols.decision)} AS DOUBLE)"
    found = con.execute(f"SELECT 1 FROM src WHERE {d} = {_literal(score)} LIMIT 1").fetchall()
    return bool(found)


__all__ = ["count_in_one_pass", "head_queries"]
