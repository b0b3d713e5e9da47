"""Sources that count where the data lives: DuckDB over files, folders and globs; Spark over a
DataFrame or a catalog table. Both run the queries of :mod:`faircard.engine.sql` and return
:class:`~faircard.engine.grouped.GroupedCounts`; no row leaves the engine."""

from __future__ import annotations

import glob as globlib
import math
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import FaircardError, missing_column
from ..io.columns import column_names
from ..spec import AssessmentSpec
from . import footers, one_pass
from .csv_text import (
    cleaned_select,
    column_kinds,
    header_groups,
    kinds_query,
    na_list,
    typed_select,
)
from .grouped import (
    MAX_DISTINCT_SCORES,
    NOTHING_KEPT,
    GroupedCounts,
    policy_thresholds,
    positive_values,
)
from .sql import (
    MAX_CODED,
    Coding,
    Columns,
    codable,
    count_queries,
    exact_score_sums,
    grid_scores,
    quote,
    text_length_query,
    to_spark,
    values_query,
)

FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL", "FLOAT4", "FLOAT8", "DECIMAL")
NUMBER_TYPES = FLOAT_TYPES + ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                              "USMALLINT", "UINTEGER", "UBIGINT", "BOOLEAN", "INT", "LONG",
                              "SHORT", "BYTE")
HEAD_ROWS = 2 * MAX_DISTINCT_SCORES
"""First rows whose distinct scores, when more than :data:`MAX_DISTINCT_SCORES`, settle that
scores go on the grid without an estimate over every row."""
GRID_POINTS = 10_000
"""Grid cells across the score's range when scores are put on a grid (step 1e-4 on [0, 1])."""
MANY_FILES = 100
"""A Parquet source of more files than this, and of at most :data:`SMALL_TOTAL_BYTES` in all, is
first copied into one DuckDB table: DuckDB opens every file and reads its footer on every query
(about 0.2 ms a file), and counting makes several."""
SMALL_TOTAL_BYTES = 128 * 2 ** 20
PERFECT_HASH_BITS = 20
"""DuckDB counts into a directly indexed table (no hashing) when the packed key of the grouped
query has at most 2**20 possible values (the default allows 2**12): about 50 MB per thread."""


def _reader(path: str) -> str:
    """The DuckDB table function that reads ``path`` (a file, a glob or a folder)."""
    return _parquet_reader(*_parquet_source(path))


def _parquet_source(path: str) -> tuple[str, bool]:
    """(the Parquet files DuckDB reads for ``path``, a file, a glob or a folder; whether they
    are faircard's typed copy of CSV files)."""
    p = Path(path)
    if p.is_dir():
        files = [f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")]
        kinds = {f.suffix.lower() for f in files}
        if not files:
            raise FaircardError(f"The folder '{path}' has no files.")
        if kinds <= {".parquet"}:
            return str(p / "**" / "*.parquet"), False
        if kinds <= {".csv"}:
            return _csv_copy(*_checked_csv(path)), True
        raise FaircardError(f"The folder '{path}' mixes file types ({', '.join(sorted(kinds))}); "
                            "give a glob such as 'folder/*.parquet'.")
    matches = globlib.glob(path, recursive=True) if any(c in path for c in "*?[") else \
        ([path] if p.exists() else [])
    if not matches:
        raise FaircardError(f"No file matches '{path}'.")
    suffix = Path(matches[0]).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return path, False
    if suffix in (".csv", ".tsv", ".txt"):
        return _csv_copy(*_checked_csv(path)), True
    raise not_parquet_or_csv(path, "DuckDB")


def not_parquet_or_csv(path: str, engine: str) -> FaircardError:
    """The error for a file, glob or folder ``path`` that ``engine`` cannot read by path."""
    return FaircardError(f"'{path}' is not a Parquet or CSV file; {engine} reads those (use "
                         "the pandas engine for Excel).")


def _checked_csv(path: str) -> tuple[str, Path]:
    """:func:`csv_source`, refusing a web page saved under a CSV name (DuckDB read it as one
    column of tags)."""
    from ..io.tables import refuse_markup_file

    pattern, first = csv_source(path)
    refuse_markup_file(first, first.name)
    return pattern, first


def _parquet_reader(pattern: str, copy: bool = False, *, statistics: str | None = None) -> str:
    """``read_parquet`` of ``pattern``: a user's files with hive partitions and columns
    matched by name, faircard's typed copy as it is.

    A Parquet file's footers hold each column's range without its NaN values, and DuckDB,
    unless told a float column can hold NaN, trusts them to drop ``isnan`` tests: a NaN score
    was then counted as a score. So it is told. ``statistics``: the ``column_statistics``
    that replace the footers' (see :mod:`faircard.engine.footers`). Columns are matched by
    name only across several files: over one file, DuckDB's ``union_by_name`` held three times
    the memory (2.9 GB against 1.0 GB to scan 3,000 values of 1 MB)."""
    several = any(c in pattern for c in "*?[")
    options = [] if copy else ["hive_partitioning = true"] + \
        (["union_by_name = true"] if several else [])
    options.append("can_have_nan = true")
    if statistics is not None:
        options.append(f"column_statistics = {statistics}")
    return f"read_parquet('{_esc(pattern)}'{''.join(', ' + o for o in options)})"


def parquet_names(path: str, read: list[str]) -> list[str] | None:
    """The names faircard gives the columns an engine ``read`` from the Parquet files at
    ``path`` (in its order), when faircard's rule for names
    (:func:`faircard.io.columns.column_names`) renames one of the files' columns and every
    file holds the same names in the same order (an engine puts hive partition columns after
    them); None otherwise. DuckDB kept ' g ' and numbered 'g', 'G' as 'g', 'G_1'."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted(_parquet_files(path))
    try:
        raw = pq.read_schema(files[0]).names if files else []
        if column_names(raw) == raw or len(read) < len(raw) or \
                any(pq.read_schema(f).names != raw for f in files[1:]):
            return None
    except (OSError, pa.ArrowException):  # the engine says what is wrong with a file
        return None
    return column_names(raw + list(read[len(raw):]))


def _name_view_columns(con, path: str) -> None:
    """The view ``src`` of ``con`` with its columns named as :func:`parquet_names` names them
    (unchanged when it does not)."""
    read = [r[0] for r in con.execute("DESCRIBE src").fetchall()]
    names = parquet_names(path, read)
    if names is None:
        return
    con.execute("ALTER VIEW src RENAME TO src_as_read")
    con.execute("CREATE VIEW src AS SELECT " + ", ".join(
        f"{quote(r)} AS {quote(n)}" for r, n in zip(read, names, strict=True))
        + " FROM src_as_read")


def _scan_names(path: str, types: dict[str, str]) -> dict[str, str]:
    """``types`` (DuckDB's names and types of the columns of the Parquet files at ``path``)
    keyed by the names the files hold, as ``column_statistics`` wants them: DuckDB names a
    column without a name by its position ('C3', '_1') but its scan knows it as '', and refused
    'C3' (a file an upload reads, its column named 'Unnamed: 3')."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted(_parquet_files(path))
    try:
        raw = pq.read_schema(files[0]).names if files else []
    except (OSError, pa.ArrowException):  # the engine says what is wrong with a file
        return types
    items = list(types.items())
    for i, name in enumerate(raw[:len(items)]):
        if name == "" and items[i][0] not in raw:
            items[i] = ("", items[i][1])
    return dict(items)


def _parquet_files(path: str) -> list[Path]:
    """The Parquet files DuckDB reads for ``path`` (a file, a glob or a folder)."""
    p = Path(path)
    if p.is_dir():
        return [f for f in p.rglob("*.parquet") if f.is_file() and not f.name.startswith(".")]
    if any(c in path for c in "*?["):
        return [Path(f) for f in globlib.glob(path, recursive=True) if Path(f).is_file()]
    return [p]


def _many_small_files(path: str) -> bool:
    """Whether the Parquet source ``path`` is more than :data:`MANY_FILES` files of at most
    :data:`SMALL_TOTAL_BYTES` in all (see :data:`MANY_FILES`)."""
    files = _parquet_files(path)
    if len(files) <= MANY_FILES:
        return False
    total = 0
    for f in files:
        total += f.stat().st_size
        if total > SMALL_TOTAL_BYTES:
            return False
    return True


def _csv_copy(pattern: str, first: str | Path) -> str:
    """The path of the typed Parquet copy through which DuckDB reads the CSV files of
    ``pattern`` as faircard's own reader reads a CSV (:func:`faircard.io.tables.read_table`):
    the delimiter it would sniff from the first file, every column read as text and typed by
    the values of every row with the rule of :mod:`faircard.engine.csv_text` (the same words
    for a missing value, spaces after a delimiter skipped, a code such as '01' kept as
    written). DuckDB's own sniffing decided from a sample of rows: '01' was text when the
    sample held it, the number 1 when not.

    The files are read twice, once per process (while they keep their sizes and times): once
    to type the columns, once to write the typed rows, in their order, to a Parquet file in a
    temporary folder, which every count then reads like any Parquet file (with its footers
    believed: faircard wrote them). Cleaning and typing text on every count cost far
    more than reading the file: 21 s instead of under a second at 1,000,000 rows."""
    from .csv_spill import typed_parquet

    files, first = _readable(pattern, first)
    return str(typed_parquet(csv_text_reader(pattern, first, files), files, pattern))


def _readable(pattern: str, first: str | Path) -> tuple[list[Path], Path]:
    """(the files an engine reads for the CSV files of ``pattern``, UTF-8 copies of those in
    another encoding: :func:`~faircard.engine.csv_spill.readable_csv`; the one it reads for
    ``first``)."""
    from .csv_spill import readable_csv

    originals = _csv_files(pattern)
    files, _ = readable_csv(originals)
    return files, dict(zip(originals, files, strict=True)).get(Path(first), Path(first))


def csv_notes(path: str) -> tuple[str, ...]:
    """What faircard says of the encodings of the CSV files at ``path`` read by an engine (none
    for Parquet files), as an upload says it."""
    csv = csv_source(str(path))
    if csv is None:
        return ()
    from .csv_spill import readable_csv  # not imported for Parquet files (3-5 ms)

    return readable_csv(_csv_files(csv[0]))[1]


def csv_text_reader(pattern: str, first: str | Path, files: list[Path] | None = None) -> str:
    """DuckDB's ``read_csv`` of ``pattern`` with every column as text, the delimiter
    faircard's reader sniffs from the file ``first``, the words for a missing value read as
    NULL (quoted or not, as pandas reads them) and the columns named by faircard's rule
    (:func:`faircard.io.columns.column_names`); files whose headers differ are read a group
    at a time and joined by name (:func:`~faircard.engine.csv_text.header_groups`).
    ``files``: the files to read instead of those of ``pattern`` (UTF-8 copies of some)."""
    delim = _delimiter(first)
    whole = files is None or files == _csv_files(pattern)  # the pattern names them all
    groups = header_groups(_csv_files(pattern) if files is None else files, delim)

    def read(names: list[str], files: list[Path]) -> str:
        where = f"'{_esc(pattern)}'" if len(groups) == 1 and whole else \
            "[" + ", ".join(f"'{_esc(str(f))}'" for f in files) + "]"
        named = f"names = [{', '.join(_literal(n) for n in names)}], " if names else ""
        return (f"read_csv({where}, header = true, {named}delim = '{_esc(delim)}', "
                f"all_varchar = true, nullstr = {na_list()})")

    if len(groups) <= 1:
        return read(*groups[0]) if groups else read([], [])
    return "(" + " UNION ALL BY NAME ".join(f"SELECT * FROM {read(*g)}" for g in groups) + \
        ") AS csv_rows"


def _literal(text: str) -> str:
    return "'" + _esc(text) + "'"


def _delimiter(first: str | Path) -> str:
    """The delimiter faircard's reader sniffs from the start of the file ``first``."""
    from ..io.tables import _sniff_delimiter

    with open(first, "rb") as fh:
        return _sniff_delimiter(fh.read(65536).decode("utf-8", errors="ignore"))


def _csv_files(pattern: str) -> list[Path]:
    if any(c in pattern for c in "*?["):
        return sorted(Path(f) for f in globlib.glob(pattern, recursive=True))
    return [Path(pattern)]


def csv_source(path: str) -> tuple[str, Path] | None:
    """(the pattern, the first file) of the CSV files at ``path`` (a file, glob or folder),
    or None when they are Parquet files."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        if files and {f.suffix.lower() for f in files} <= {".csv"}:
            return str(p / "**" / "*.csv"), files[0]
        return None
    matches = sorted(globlib.glob(path, recursive=True)) if any(c in path for c in "*?[") \
        else [path]
    if matches and Path(matches[0]).suffix.lower() in (".csv", ".tsv", ".txt"):
        return path, Path(matches[0])
    return None


def _esc(text: str) -> str:
    return text.replace("'", "''")


TEXT_EXAMPLES = 1000
"""Rows of a text score column read, in order, for the values its refusal names."""


def _text_examples(query) -> Any:
    """The values of a text score column that its refusal looks at, as an upload's
    (:func:`faircard.prepare.text_score_error`), given ``query``, which runs SQL and returns
    its rows: those of the first rows that may not be numbers (DuckDB's cast or faircard's CSV
    rule says so), else the first values."""
    from .csv_text import TEXT, value_class

    def examples(col: str) -> pd.Series:
        q = quote(col)
        where = f"{q} IS NOT NULL"
        for test in (f" AND (TRY_CAST({q} AS DOUBLE) IS NULL OR {value_class(q)} = {TEXT})",
                     ""):
            rows = query(f"SELECT {q} AS v FROM src WHERE {where}{test} "
                         f"LIMIT {TEXT_EXAMPLES}")
            text = pd.Series([str(r[0]) for r in rows], dtype=object)
            if test == "" or pd.to_numeric(text, errors="coerce").isna().any():
                return text
        return text
    return examples


def _columns(spec: AssessmentSpec, types: dict[str, str], examples=None) -> Columns:
    """The columns ``spec`` names, once they are in ``types`` and a score column holds
    numbers. ``examples``: a score column's text values, to name them (see
    :func:`_text_examples`)."""
    from ..prepare import nested_column_error, text_score_error

    decision = spec.score or spec.prediction
    for col, role in [(spec.target, "Target column"),
                      (decision, "Score column" if spec.score else "Prediction column"),
                      *[(s, "Sensitive feature") for s in spec.sensitive]]:
        if col not in types:
            raise missing_column(col, list(types), role)
        if is_nested_type(types[col]):  # DuckDB's casts and strlen would name it otherwise
            raise nested_column_error(role, col)
    # a column of a file with no value in any row has the type NULL: missing, not text
    kind = types[spec.score].upper() if spec.score else ""
    times = kind.startswith(("DATE", "TIME", "INTERVAL"))  # INTERVAL starts as INT does
    if spec.score and (times or not kind.startswith(NUMBER_TYPES + ('"NULL"',))):
        held = ("text values" if kind.startswith(("VARCHAR", "STRING", "TEXT")) else
                "dates or times" if times else f"values of type {types[spec.score]}")
        shown = examples(spec.score) if examples and held == "text values" else ()
        if len(shown):  # as an upload names them
            raise text_score_error(spec.score, shown)
        raise FaircardError(f"Score column '{spec.score}' has {held}; a score must be a "
                            "number. Choose a numeric column, or use it as a prediction column "
                            "instead.")
    is_float = {c: t.upper().startswith(FLOAT_TYPES) for c, t in types.items()}
    return Columns(spec.target, decision, tuple(spec.sensitive), is_float, spec.uses_score)


TEXT_TYPES = ("VARCHAR", "STRING", "TEXT")


def is_text_type(kind: str) -> bool:
    """Whether an engine's column type is text of one value (not a list of texts)."""
    return kind.upper().startswith(TEXT_TYPES) and not is_nested_type(kind)


def is_nested_type(kind: str) -> bool:
    """Whether a DuckDB (``DOUBLE[]``, ``STRUCT(...)``) or Spark (``ARRAY<...>``) type holds
    lists, records or maps rather than one value."""
    kind = kind.upper()
    return kind.endswith("]") or kind.startswith(("STRUCT", "MAP", "UNION", "ARRAY", "LIST"))


def text_features(cols: Columns, types: dict[str, str]) -> list[str]:
    """The sensitive features of ``cols`` that ``types`` (an engine's) holds as text: the
    columns whose values may be longer than a group's name may be."""
    return [f for f in cols.sensitive if is_text_type(types.get(f, ""))]


def check_text_lengths(query, features: list[str], *, spark: bool = False) -> None:
    """Refuses, as an upload does (:func:`faircard.prepare.group_name_too_long`), a text
    feature of ``features`` with a value of more than :data:`~faircard.prepare.MAX_GROUP_NAME`
    characters in any row of ``src``, before anything groups or lists its values. ``query``:
    runs SQL (DuckDB's dialect) and returns its rows. DuckDB gives the longest value in bytes
    without reading it (a quarter of the memory of counting its characters: 1.1 GB against 3
    GB for 3,000 values of 1 MB); its characters are counted only when bytes cannot settle it
    (a character takes one to four)."""
    from ..prepare import MAX_GROUP_NAME, group_name_too_long

    if not features:
        return
    row = query(text_length_query(features, spark=spark))[0]
    for i, f in enumerate(features):
        longest = row[i]
        if longest is None or longest <= MAX_GROUP_NAME:
            continue
        if spark or longest > 4 * MAX_GROUP_NAME or \
                query(f"SELECT bool_or(length({quote(f)}) > {MAX_GROUP_NAME}) FROM src")[0][0]:
            raise group_name_too_long(f)


def _small_text_chunks(con, features: list[str]) -> bool:
    """Whether the footers of the Parquet files of ``src`` claim, for each text feature of
    ``features``, column chunks small enough that reading the first rows' values is cheap
    (:func:`~faircard.engine.one_pass.small_text_chunk`). Only a hint: it chooses whether the
    lengths are checked before those rows are read, never what the check finds."""
    names = ", ".join(_literal(f) for f in features)
    rows = con.execute("SELECT name, bool_and(bytes IS NOT NULL AND bytes <= "
                       f"{one_pass.HEAD_TEXT_BYTES} AND bytes <= rows * "
                       f"{one_pass.TEXT_BYTES_PER_ROW}) FROM src_chunks WHERE name IN ({names}) "
                       "GROUP BY name").fetchall()
    return len(rows) == len(set(features)) and all(ok for _, ok in rows)


def check_long_text_duckdb(path: str, features) -> None:
    """:func:`check_text_lengths` of the text columns among ``features`` at ``path`` when the
    footers do not show them short (:func:`_small_text_chunks`), before anything else reads
    rows (the first rows of every column, in which personal data is looked for); else nothing
    (counting checks them)."""
    with duckdb_source(path) as (con, types):
        texts = [f for f in features if is_text_type(types.get(f, ""))]
        if texts and not _small_text_chunks(con, texts):
            check_text_lengths(lambda sql: con.execute(sql).fetchall(), texts)


def duration_kinds(path: str, spec: AssessmentSpec, types: dict[str, str]) -> dict[str, str]:
    """``types`` (an engine's column types for the Parquet files at ``path``) with a score
    column that pyarrow wrote as durations typed INTERVAL: DuckDB and Spark read Arrow's
    durations as plain 64-bit integers, and counted them as scores, which the upload refuses
    (:func:`faircard.prepare.prepare`: dates and times are never scores)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    kind = types.get(spec.score or "", "").upper()
    if not kind.startswith(("BIGINT", "LONG")) or csv_source(str(path)) is not None:
        return types
    for f in _parquet_files(str(path)):
        try:
            field = pq.read_schema(f).field(spec.score)
        except (KeyError, OSError, pa.ArrowException):  # not in this file, or unreadable
            continue
        if pa.types.is_duration(field.type):
            return types | {spec.score: "INTERVAL"}
    return types


def _all_kept(cols: Columns, facts: dict[str, Any], row) -> dict[str, Any] | None:
    """The ``stats`` row from the ``facts`` row when every row is kept (an outcome and a
    decision on each, none NaN), without the full row accounting; else None. ``row``: a query
    to a dict (for the distinct scores)."""
    n = int(facts["n_input"])
    if n == 0 or facts["n_target"] != n or facts["n_decision"] != n:
        return None
    for name, hi in ((cols.target, facts["target_max"]), (cols.decision, facts["decision_max"])):
        if cols.is_float.get(name) and isinstance(hi, float) and math.isnan(hi):
            return None  # a NaN (DuckDB's MAX puts NaN above every number)
    stats = {"n_input": n, "n_missing_target": 0, "n_missing_decision": 0}
    if not cols.uses_score:
        return stats
    lo, hi = float(facts["decision_min"]), float(facts["decision_max"])
    q = count_queries(cols, head_rows=HEAD_ROWS)
    # more distinct scores among the first rows than the limit settles it; else as ``stats``
    distinct = int(row(q["head_distinct"])["score_distinct"])
    if distinct <= MAX_DISTINCT_SCORES:
        distinct = int(row(q["distinct"])["score_distinct"] or 0)
    # + 0.0: a least score of 0 may be stored as -0.0 (as Parquet asks of writers)
    return stats | {"score_min": lo + 0.0, "score_max": hi + 0.0, "score_distinct": distinct,
                    "n_infinite": int(math.isinf(lo) or math.isinf(hi))}


WHOLE_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
               "UINTEGER", "UBIGINT", "BOOLEAN"}
"""Outcome types whose least and greatest values, one apart, are all the values there are."""


def _outcomes_in_range(con, type_name: str, facts: dict[str, Any]) -> pd.Series | None:
    """The outcome's distinct values when the ``facts`` row settles them, as the
    ``all_targets`` query returns them (same dtype), without reading the rows again: a
    whole-number or boolean outcome on every row whose greatest value is at most one above its
    least holds those two values (or the one) and no other. None otherwise."""
    lo, hi = facts["target_min"], facts["target_max"]
    n = int(facts["n_input"])
    if type_name.upper() not in WHOLE_TYPES or n == 0 or facts["n_target"] != n or \
            not isinstance(lo, bool | int) or not isinstance(hi, bool | int) or \
            int(hi) - int(lo) > 1:
        return None
    values = [lo] if lo == hi else [lo, hi]
    rows = ", ".join(f"(CAST({'TRUE' if v is True else 'FALSE' if v is False else int(v)} "
                     f"AS {type_name}))" for v in values)
    return con.execute(f"SELECT * FROM (VALUES {rows}) AS t(target)").fetchdf()["target"]


def _checked(stats: dict[str, Any]) -> dict[str, Any]:
    """The ``stats`` row, once it shows rows to assess (the sentences of the in-memory path:
    the positive label was otherwise looked for among no outcome at all)."""
    n = int(stats["n_input"] or 0)
    if n == 0:
        raise FaircardError("The dataset has no rows.")
    if n == int(stats["n_missing_target"] or 0) + int(stats["n_missing_decision"] or 0):
        raise FaircardError(NOTHING_KEPT)
    return stats


def _left_out(stats: dict[str, Any]) -> bool:
    """Whether the ``stats`` row counts rows left out (a missing outcome or decision)."""
    return bool(int(stats["n_missing_target"] or 0) + int(stats["n_missing_decision"] or 0))


def _fetch_all(con, queries: dict[str, str]) -> dict[str, Any]:
    """The results of small queries run at once, each on a cursor of ``con`` (a LIMIT query
    runs on one DuckDB thread): by query, a dict (``"row"``, NaN as None; ``"raw"``, NaN
    kept), a frame through ``fetchdf`` (``"df"``) or through Arrow (``"arrow"``)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(item: tuple[str, str]) -> tuple[str, Any]:
        query, kind = item
        cur = con.cursor()
        try:
            if kind == "row":
                return query, _row(cur.execute(query))
            if kind == "raw":  # NaN kept
                return query, _row(cur.execute(query), nan=True)
            if kind == "df":
                return query, cur.execute(query).fetchdf()
            return query, cur.sql(query).to_arrow_table().to_pandas()
        finally:
            cur.close()

    with ThreadPoolExecutor(max_workers=len(queries)) as pool:
        return dict(pool.map(one, queries.items()))


def _grid(stats: dict[str, Any]) -> tuple[float | None, float]:
    """(step, origin) of the score grid, or (None, 0) when exact scores are few enough."""
    lo, hi = stats.get("score_min"), stats.get("score_max")
    if lo is None or stats.get("score_distinct", 0) <= MAX_DISTINCT_SCORES or hi <= lo:
        return None, 0.0
    if not math.isfinite(hi - lo):  # the cells' arithmetic, (score - lo) / step, overflows
        raise FaircardError(
            f"Score column scores range from {lo:.3g} to {hi:.3g}, a span larger than a number "
            f"can hold, and they have more than {MAX_DISTINCT_SCORES:,} distinct values, which "
            "are counted on a grid across that span. Rescale the scores (to [0, 1], for "
            "example).")
    step = (hi - lo) / GRID_POINTS
    return step, float(lo)


def _coding(cols: Columns, spec: AssessmentSpec, stats: dict[str, Any], targets: pd.Series,
            run) -> tuple[Coding | None, dict[str, pd.Series]]:
    """The value sets the ``grouped`` query packs into one key, and each feature's values as
    the engine returns them (None and {} when a feature has more than :data:`MAX_CODED` values
    or values that are not plain numbers, text or booleans). ``run``: a query to a frame."""
    if not spec.uses_score:
        return None, {}
    values = {}
    for f in cols.sensitive:
        col = run(values_query(cols, f, MAX_CODED + 1))["value"]
        if len(col) > MAX_CODED:
            return None, {}
        values[f] = col.reset_index(drop=True)
    plain = {f: [_plain(v) for v in col.tolist()] for f, col in values.items()}
    outcomes = [_plain(v) for v in targets.tolist()]
    if not all(codable(v) for vs in [*plain.values(), outcomes] for v in vs):
        return None, {}
    coding = new_coding(plain, outcomes, spec, stats)
    return (coding, values) if coding.fits() else (None, {})


def new_coding(features: dict[str, list], outcomes: list, spec: AssessmentSpec,
               stats: dict[str, Any], open_sets: bool = False) -> Coding:
    """The :class:`Coding` of these value lists for ``spec``'s thresholds and the score grid
    of ``stats`` (if any): on a grid, cells 0 to GRID_POINTS, with the flags added to them."""
    step, origin = _grid(stats)
    thresholds = tuple(policy_thresholds(spec))
    if step is None:
        return Coding(features, outcomes, len(thresholds), None, open_sets)
    return Coding(features, outcomes, len(thresholds), GRID_POINTS + 2, open_sets,
                  grid=(step, origin), thresholds=thresholds)


def _plain(value):
    """A value of a fetched frame as a Python scalar (None for a missing one)."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    return value.item() if isinstance(value, np.generic) else value


def _grouped_query(cols: Columns, spec: AssessmentSpec, stats: dict[str, Any],
                   targets: pd.Series, coding: Coding | None = None) -> str:
    """The ``grouped`` query, once the row accounting (the score grid) and the outcome values
    (the positive label, for the score sums) are known."""
    if not spec.uses_score:
        return count_queries(cols)["grouped"]
    if stats.get("n_infinite"):
        raise FaircardError("The score column contains infinite values; remove them.")
    step, origin = _grid(stats)
    return count_queries(cols, thresholds=policy_thresholds(spec), score_step=step,
                         score_origin=origin, score_max=stats.get("score_max"),
                         positives=positive_values(targets, spec), coding=coding)["grouped"]


def _unpacked(grouped: pd.DataFrame, coding: Coding | None, values: dict[str, pd.Series],
              targets: pd.Series) -> pd.DataFrame:
    """The grouped table with one column per part of a packed key, as the unpacked query
    returns it: the features' and the outcome's values, the grid cell and the flags."""
    if coding is None:
        return grouped
    parts = coding.decode(grouped["__key"].to_numpy())
    # taken from the values' array: a tenth of the time of Series.take for text
    out = {f: pd.Series(values[f].array.take(parts[f])) for f in coding.features}
    out["__target"] = pd.Series(targets.array.take(parts["__target"]))
    if "__score_cell" in parts:
        out["__score_cell"] = parts["__score_cell"]
    else:
        out["__score"] = grouped["__score"].to_numpy()
    for k in range(coding.n_thresholds):
        out[f"__p{k}"] = parts[f"__p{k}"]
    for name in ("__n", "__sq", "__ll"):
        if name in grouped:  # exact scores: no sums yet (see _counted)
            out[name] = grouped[name].to_numpy()
    return pd.DataFrame(out)


def _positives(spec: AssessmentSpec, targets: pd.Series) -> list | None:
    """The outcome values that are the positive label, as the grouped query's sums take them
    (None without scores)."""
    return positive_values(targets, spec) if spec.uses_score else None


def _counted(stats, targets: pd.Series, grouped: pd.DataFrame, engine,
             notes: tuple[str, ...] = (), positives: list | None = None,
             dropped: pd.DataFrame | None = None) -> GroupedCounts:
    """The grouped counts of a source's grouped table. ``notes``: said of the source (see
    :class:`GroupedCounts`). ``positives``: the outcome values that
    are the positive label, by which the score sums of exact scores are computed here
    (:func:`~faircard.engine.sql.exact_score_sums`); a grid's come with the table."""
    step, origin = _grid(stats)
    if "__score_cell" in grouped:
        grouped["__score"] = grid_scores(grouped.pop("__score_cell"), step, origin)
    elif positives is not None and "__score" in grouped and "__sq" not in grouped:
        hit = grouped["__target"].isin(positives).to_numpy(dtype=bool) if positives else \
            np.zeros(len(grouped), dtype=bool)
        grouped["__sq"], grouped["__ll"] = exact_score_sums(
            grouped["__score"].to_numpy(dtype=np.float64), hit,
            grouped["__n"].to_numpy(dtype=np.int64))
    return GroupedCounts(
        grouped=grouped, targets=targets, n_input=int(stats["n_input"]),
        n_missing_target=int(stats["n_missing_target"] or 0),
        n_missing_decision=int(stats["n_missing_decision"] or 0),
        score_min=None if stats.get("score_min") is None else float(stats["score_min"]),
        score_max=None if stats.get("score_max") is None else float(stats["score_max"]),
        score_step=step, engine=engine, notes=notes, dropped=dropped)


def count_duckdb(path: str, spec: AssessmentSpec, *, memory_limit: str = "4GB",
                 threads: int | None = None) -> GroupedCounts:
    """Grouped counts of ``spec`` over the Parquet/CSV file, glob or folder at ``path``."""
    early = one_pass.read_head_early(str(path), spec, HEAD_ROWS)
    with duckdb_source(path, memory_limit=memory_limit, threads=threads) as (con, types):
        cols = _columns(spec, duration_kinds(path, spec, types),
                        _text_examples(lambda q: con.execute(q).fetchall()))
        con.execute(f"SET perfect_ht_threshold = {PERFECT_HASH_BITS}")
        texts = text_features(cols, types)

        def query(sql: str) -> list:
            return con.execute(sql).fetchall()

        if texts and not (spec.uses_score and _small_text_chunks(con, texts)):
            check_text_lengths(query, texts)  # before any value is read
            texts = []
        if spec.uses_score:
            # the first rows' values are checked; a count that holds shows there are no others
            counted = one_pass.count_in_one_pass(con, cols, spec, str(path), types, early,
                                                 texts)
            if counted is not None:
                counted.notes = csv_notes(path)
                return counted
        check_text_lengths(query, texts)
        q = count_queries(cols, head_rows=HEAD_ROWS)
        small = {q["facts"]: "raw"}
        if types[cols.target].upper() not in WHOLE_TYPES:  # else facts may give them
            small[q["all_targets"]] = "df"
        if spec.uses_score:
            small[q["head_distinct"]] = "row"
            small |= {values_query(cols, f, MAX_CODED + 1): "arrow" for f in cols.sensitive}
        fetched = _fetch_all(con, small)  # small queries run at once, by query

        def run(query: str) -> pd.DataFrame:
            if query in fetched:
                return fetched.pop(query)
            return _arrow_frame(con, query)

        def row(query: str) -> dict[str, Any]:
            return fetched.pop(query) if query in fetched else _row(con.execute(query))

        facts = fetched.pop(q["facts"])
        stats = _all_kept(cols, facts, row)
        dropped = None
        if stats is None:  # rows left out (a missing or NaN outcome or decision), or none
            stats = _checked(_row(con.execute(q["stats"])))
            targets = con.execute(q["targets"]).fetchdf()["target"]
            if _left_out(stats):
                dropped = _arrow_frame(con, q["dropped"])
        else:  # every row kept, so the outcome values are those of the rows with one
            targets = _outcomes_in_range(con, types[cols.target], facts)
            if targets is None:
                targets = fetched.pop(q["all_targets"]) if q["all_targets"] in fetched \
                    else con.execute(q["all_targets"]).fetchdf()
                targets = targets["target"]
        coding, values = _coding(cols, spec, stats, targets, run)
        grouped = run(_grouped_query(cols, spec, stats, targets, coding))
        return _counted(stats, targets, _unpacked(grouped, coding, values, targets), "duckdb",
                        csv_notes(path), positives=_positives(spec, targets), dropped=dropped)


def _arrow_frame(con, query: str) -> pd.DataFrame:
    """The result of ``query`` through Arrow: a third of the time of fetchdf for the same
    frame."""
    return con.sql(query).to_arrow_table().to_pandas()


def sample_duckdb(path: str, n: int = 1000) -> pd.DataFrame:
    """The first ``n`` rows of the file, glob or folder at ``path`` (for checks such as
    personal-data detection that look at values, not counts)."""
    import duckdb

    con = duckdb.connect()
    try:
        pattern, copy = _parquet_source(str(path))
        reader = _parquet_reader(pattern, copy)
        sample = con.execute(f"SELECT * FROM {reader} LIMIT {int(n)}").fetchdf()
        names = None if copy else parquet_names(str(path), list(sample.columns))
        return sample if names is None else sample.set_axis(names, axis=1)
    except duckdb.ConversionException as exc:
        raise _unreadable_dates(con, reader, path) or FaircardError(
            f"DuckDB cannot read '{path}': {_first_line(exc)}") from None
    except duckdb.Error as exc:
        raise FaircardError(f"DuckDB cannot read '{path}': {_first_line(exc)}") from None
    finally:
        con.close()


def _unreadable_dates(con, reader: str, path: str) -> FaircardError | None:
    """The error naming a column of dates past the year 9999 or before the year 1 (DuckDB
    only said it could not convert 'DATE (infinity)'), or None."""
    from ..io.tables import dates_out_of_range

    kinds = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    for column, kind, *_ in kinds:
        if str(kind).upper() != "DATE":
            continue
        q = quote(column)
        late, early = con.execute(f"SELECT bool_or({q} > DATE '9999-12-31'), "
                                  f"bool_or({q} < DATE '0001-01-01') FROM {reader}").fetchone()
        if late or early:
            return dates_out_of_range(column, Path(path).name, late=bool(late))
    return None


def count_rows_duckdb(path: str) -> int:
    """Rows in the file, glob or folder at ``path`` (Parquet: from the files' footers)."""
    import duckdb

    con = duckdb.connect()
    try:
        return int(con.execute(f"SELECT COUNT(*) FROM {_reader(str(path))}").fetchone()[0])
    except duckdb.Error as exc:
        raise FaircardError(f"DuckDB cannot read '{path}': {_first_line(exc)}") from None
    finally:
        con.close()


def count_spark(source: Any, spec: AssessmentSpec, *, spark: Any = None,
                path: str | None = None) -> GroupedCounts:
    """Grouped counts of ``spec`` over a PySpark DataFrame, or a catalog table named
    ``"db.table"`` (with ``spark``, a SparkSession). ``path``: the files the DataFrame was
    read from, if any (their Parquet schemas tell durations from integers)."""
    if isinstance(source, str):
        if spark is None:
            raise FaircardError("A Spark table name needs a Spark session.")
        frame = open_spark_table(spark, source)
    else:
        frame = source
        spark = frame.sparkSession
    frame, instants = spark_instants(frame, spec.sensitive)
    with spark_errors(), footers_ignored(spark):
        types = {name: _spark_type(t) for name, t in frame.dtypes}
        view = "src"
        frame.createOrReplaceTempView(view)
        cols = _columns(spec, types if path is None else duration_kinds(path, spec, types),
                        _text_examples(lambda q: spark.sql(to_spark(q)).collect()))
        check_text_lengths(lambda sql: [tuple(r) for r in spark.sql(to_spark(sql)).collect()],
                           text_features(cols, types), spark=True)
        q = count_queries(cols)
        stats = _checked(spark.sql(to_spark(q["stats"])).collect()[0].asDict())
        targets = pd.Series([r["target"] for r in spark.sql(to_spark(q["targets"])).collect()])

        def run(query: str) -> pd.DataFrame:
            return spark.sql(to_spark(query)).toPandas()

        dropped = as_instants(run(q["dropped"]), instants) if _left_out(stats) else None

        coding, values = _coding(cols, spec, stats, targets, run)
        grouped = _unpacked(run(_grouped_query(cols, spec, stats, targets, coding)), coding,
                            values, targets)
    return _counted(stats, targets, as_instants(grouped, instants), "spark",
                    () if path is None else csv_notes(path),
                    positives=_positives(spec, targets), dropped=dropped)


def spark_instants(frame: Any, features) -> tuple[Any, tuple[str, ...]]:
    """``frame`` with each of ``features`` that Spark holds as instants (its TIMESTAMP, a time
    zone's) as whole microseconds since 1970-01-01 UTC, and their names (for
    :func:`as_instants`). Spark hands instants back as its session's wall times without the
    offset, so the same Parquet column gave other group names than an upload's; a number of
    microseconds is the instant whatever the session's zone."""
    from pyspark.sql import functions as F

    names = tuple(f for f, t in frame.dtypes if f in features and t == "timestamp")
    for f in names:
        frame = frame.withColumn(f, F.unix_micros(F.col("`" + f.replace("`", "``") + "`")))
    return frame, names


def as_instants(table: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """``table`` with its columns ``names`` (microseconds since 1970 UTC, from
    :func:`spark_instants`) as instants in UTC, as DuckDB and pandas give them."""
    for f in names:
        if f in table:
            table[f] = pd.to_datetime(pd.to_numeric(table[f]), unit="us", utc=True)
    return table


@contextmanager
def spark_errors():
    """Spark's own errors while it reads and counts (a corrupt file, a path it cannot read,
    ...) as a :class:`FaircardError` with Spark's first line, not a Java stack trace."""
    try:
        yield
    except Exception as exc:
        message = _spark_message(exc)
        if message is None:
            raise
        raise FaircardError(f"Spark cannot read or count the data: {message}") from None


SPARK_PUSHDOWN = ("spark.sql.parquet.filterPushdown", "spark.sql.orc.filterPushdown")
"""Spark settings that skip a file's row groups by the statistics its footer claims: with a
footer claiming scores in [2, 3] for a row group of scores in [0, 1], the grid's range filter
skipped the row group's rows uncounted (50,000 of 150,000 rows gone without a reason)."""


@contextmanager
def footers_ignored(spark: Any):
    """Spark reading every row group while faircard counts, whatever footers claim (the
    session's own settings are restored after)."""
    before = {key: spark.conf.get(key, None) for key in SPARK_PUSHDOWN}
    for key in SPARK_PUSHDOWN:
        spark.conf.set(key, "false")
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def _spark_message(exc: BaseException) -> str | None:
    """The first line of a Spark error (of the Java exception behind a Py4J error), or None
    when ``exc`` is not Spark's."""
    try:
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException
    except ImportError:
        return None
    if isinstance(exc, Py4JJavaError):
        try:
            return _first_line(Exception(exc.java_exception.toString()))
        except Exception:  # the JVM is gone: Py4J's own first line
            return _first_line(exc)
    return _first_line(exc) if isinstance(exc, PySparkException) else None


def read_csv_spark(spark: Any, path: str, pattern: str, first: Path):
    """The DataFrame of the CSV files at ``path`` (a file, glob or folder; ``pattern`` and
    ``first`` as :func:`csv_source` gives them) read by Spark as faircard's own reader reads a
    CSV: every column as text, then typed by every row's values with the rule of
    :mod:`faircard.engine.csv_text` (Spark's inferSchema knows neither the words for a missing
    value nor codes such as '01'). A file in another encoding than UTF-8 is read where it lies
    in the encoding an upload detects when Spark decodes it as the upload does
    (:mod:`faircard.engine.spark_csv`; ``spark`` then needs Java's charsets:
    :data:`~faircard.engine.spark_csv.JAVA_CHARSETS`), else from faircard's UTF-8 copy with a
    ``local`` master, else it is refused. A file with line ends within quotes is read as one
    stream (:class:`~faircard.engine.spark_csv.LineEnds`)."""
    from .csv_spill import csv_encodings
    from .spark_csv import STREAMED, cluster_refusal, line_ends, spark_charset, stream_refusal

    originals = _csv_files(pattern)
    files, first = _readable(pattern, first)  # UTF-8 text on this machine: names, delimiter
    local = str(spark.sparkContext.master).startswith("local")
    read: dict[Path, tuple[Path, str | None, bool]] = {}  # what Spark reads, in what, streamed
    for original, text, (encoding, mixed) in zip(originals, files, csv_encodings(originals),
                                                 strict=True):
        charset = None if encoding is None or mixed else spark_charset(encoding)
        ends = line_ends(text)
        streamed = charset in STREAMED or ends.quoted
        if streamed and not ends.alike:
            raise FaircardError(stream_refusal(original.name, encoding if charset in STREAMED
                                               else None))
        if encoding is None or charset is not None:
            read[text] = (original, charset, streamed)
        elif local:
            read[text] = (text, None, streamed)
        else:
            raise FaircardError(cluster_refusal(original.name, encoding, mixed))
    delim = _delimiter(first)

    def reader(charset: str | None, streamed: bool):  # a new one each: options change it
        r = (spark.read.option("header", True).option("inferSchema", False)
             .option("sep", delim).option("escape", '"').option("multiLine", streamed))
        return r if charset is None else r.option("encoding", charset)

    groups = header_groups(files, delim)
    if len(groups) == 1 and all(read[t] == (o, None, False) for o, t in zip(originals, files,
                                                                             strict=True)):
        one = reader(None, False)
        if Path(path).is_dir():
            one = one.option("recursiveFileLookup", True).option("pathGlobFilter", "*.csv")
        frames = [one.csv(str(path)).toDF(*groups[0][0])]
    else:  # Spark reads the files of a glob by position: each header's files on their own
        frames = []
        for names, members in groups:
            by_kind: dict[tuple[str | None, bool], list[str]] = {}
            for f in members:
                by_kind.setdefault(read[f][1:], []).append(str(read[f][0]))
            frames += [reader(*kind).csv(paths).toDF(*names)
                       for kind, paths in by_kind.items()]
    raw_frame = frames[0]
    for frame in frames[1:]:
        raw_frame = raw_frame.unionByName(frame, allowMissingColumns=True)
    names = list(raw_frame.columns)
    raw_frame.createOrReplaceTempView("faircard_raw_csv")
    clean = f"({cleaned_select('faircard_raw_csv', names, names)}) AS clean"
    row = spark.sql(to_spark(kinds_query(clean, names))).collect()[0].asDict()
    return spark.sql(to_spark(typed_select(clean, column_kinds(row, names))))


def check_spark_partitions(frame: Any, path: str):
    """``frame``, Spark's reading of the Parquet folder at ``path``, once the values Spark took
    from its hive folder names (``race=Black/``) are those the names hold; else a
    :class:`FaircardError`. Spark reads each ``%XX`` of a name as one character, so the
    UTF-8 bytes that writers such as pyarrow escape came back as other text (``%C3%A9``, é,
    as 'Ã©'), and it reads codes as numbers, so ``k=01`` and ``k=1`` became one group (DuckDB
    and faircard's reader keep such codes as written). Only folders this machine can list
    are checked (a cluster's storage is not)."""
    import os
    import re
    from urllib.parse import unquote

    root = Path(path)
    if not root.is_dir():
        return frame
    numeric = {name for name, kind in frame.dtypes if kind not in ("string", "date", "timestamp")}
    for _, dirs, _ in os.walk(root):
        for name in dirs:
            key, eq, value = name.partition("=")
            if not eq:
                continue
            by_spark = re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), value)
            if by_spark != unquote(value, errors="replace"):
                raise FaircardError(
                    f"Spark reads the folder name '{name}' as {key} = '{by_spark}', not "
                    f"'{unquote(value, errors='replace')}' as it was written. Count this folder "
                    "with DuckDB (--engine duckdb), or name its folders without escaped "
                    "characters.")
            if unquote(key) in numeric and re.fullmatch(r"[+-]?0\d+", unquote(value)):
                raise FaircardError(
                    f"Spark reads the folder name '{name}' as the number "
                    f"{int(unquote(value))}, so '{key}' codes written with a leading zero "
                    "and without it would be one group. Count this folder with DuckDB "
                    "(--engine duckdb), which keeps such codes as written.")
    return frame


def names_differ_in_case(path: str) -> bool:
    """Whether a Parquet file at ``path`` holds two names that differ only in case ('g',
    'G'): Spark ignoring case (``spark.sql.caseSensitive`` off, its default) takes them for
    one column and refused the file ('[COLUMN_ALREADY_EXISTS] The column `g` already
    exists'), where an upload and DuckDB name them 'g' and 'G.1'
    (:func:`faircard.io.columns.column_names`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for f in sorted(_parquet_files(path)):
        try:
            names = pq.read_schema(f).names
        except (OSError, pa.ArrowException):
            continue  # Spark says what is wrong with it
        if len({name.lower() for name in names}) < len(names):
            return True
    return False


def own_session(spark: Any, settings: dict[str, str] | None = None):
    """A Spark session of faircard's own on ``spark``'s SparkContext (Spark's
    ``newSession``: its own SQL settings and temporary views, the same cluster and cache),
    holding ``spark``'s settings, then ``settings``. What faircard sets to read and count
    (case told apart, footers not believed) and the views it names are never seen by others
    using ``spark``, which ``getOrCreate`` shares within a process; a new session alone
    would have lost the settings made on ``spark`` after it started (its time zone, ...)."""
    child = spark.newSession()
    for key, value in spark.conf.getAll.items():
        if child.conf.get(key, None) != value:
            try:
                child.conf.set(key, value)
            except Exception as exc:  # a setting fixed for the whole SparkContext
                if _spark_message(exc) is None:
                    raise
    for key, value in (settings or {}).items():
        child.conf.set(key, value)
    return child


def check_spark_parquet_types(path: str) -> None:
    """Refuses, with a sentence, Parquet files at ``path`` (a local folder or glob) that hold
    a column with different types in different files: Spark takes each column's type from one
    file and failed with a Java error on reading the others (whole numbers in one file,
    decimals in another), where DuckDB reads them together. Files this machine cannot list
    (a cluster's storage) are not checked."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def plain(kind):
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        return {pa.large_string(): pa.string(), pa.large_binary(): pa.binary()}.get(kind, kind)

    files = sorted(_parquet_files(path)) if Path(path).is_dir() or \
        any(c in path for c in "*?[") else []
    seen: dict[str, tuple[Any, Path]] = {}
    for f in files:
        try:
            schema = pq.read_schema(f)
        except (OSError, pa.ArrowException):
            continue  # Spark says what is wrong with it
        for field in schema:
            kind = plain(field.type)
            first = seen.setdefault(field.name, (kind, f))
            if first[0] != kind:
                raise FaircardError(
                    f"Spark cannot read the files of '{path}' together: column "
                    f"'{field.name}' holds {first[0]} in '{first[1].name}' and {kind} in "
                    f"'{f.name}', and Spark reads a column with one type in every file. Count "
                    "them with DuckDB (--engine duckdb), which reads them together, or write "
                    "the files with one type per column.")


def open_spark_table(spark: Any, name: str):
    """The DataFrame of the table ``name`` ("db.table") of ``spark``'s catalog."""
    try:
        return spark.table(name)
    except Exception as exc:  # Spark raises its own analysis errors
        raise FaircardError(f"Spark cannot open table '{name}': {_first_line(exc)}") from None


def personal_data_spark(frame: Any, rows: int = 1000) -> list:
    """Personal-data flags of a PySpark DataFrame, judged as :func:`faircard.privacy.
    detect_personal_data` judges rows: by column name, then for text columns by the values of
    a sample (the first non-missing values among the first ``rows`` rows, as DuckDB samples).
    Spark counts the values matching each pattern; only those counts come back."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from ..privacy import _SAMPLE, CONTENT_JAVA, content_flag, name_flag

    flags, text = [], []
    for name, kind in frame.dtypes:
        flag = name_flag(name)
        if flag is not None:
            flags.append(flag)
        elif kind == "string":
            text.append(name)
    if not text:
        return flags
    cols = [F.col("`" + name.replace("`", "``") + "`") for name in text]
    head = frame.select(*[c.alias(f"c{j}") for j, c in enumerate(cols)]).limit(int(rows)) \
        .withColumn("_row", F.monotonically_increasing_id())
    upto = Window.orderBy("_row").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    ranked = head.select(*[
        x for j in range(len(text)) for x in (
            F.when(F.col(f"c{j}").isNotNull(),
                   F.sum(F.col(f"c{j}").isNotNull().cast("int")).over(upto)).alias(f"r{j}"),
            F.regexp_replace(F.col(f"c{j}"), r"(?U)^\s+|\s+$", "").alias(f"v{j}"))])
    counts = []
    for j in range(len(text)):
        kept = F.col(f"r{j}") <= _SAMPLE
        counts.append(F.sum(F.when(kept, 1).otherwise(0)).alias(f"n{j}"))
        counts += [F.sum(F.when(kept & F.col(f"v{j}").rlike(p), 1).otherwise(0)).alias(f"m{j}_{k}")
                   for k, p in enumerate(CONTENT_JAVA)]
    got = ranked.agg(*counts).collect()[0].asDict()
    for j, name in enumerate(text):
        flag = content_flag(name, int(got[f"n{j}"] or 0),
                            [int(got[f"m{j}_{k}"] or 0) for k in range(len(CONTENT_JAVA))])
        if flag is not None:
            flags.append(flag)
    return sorted(flags, key=lambda f: list(frame.columns).index(f.column))


def digest_spark(frame: Any, label: str) -> str:
    """sha256 that names the rows of a Spark DataFrame without bringing them here: of
    ``label``, the schema, the row count and two sums, over the rows, of per-row hashes that
    Spark computes (xxhash64 and murmur3 of every column). Order-independent: the same rows in
    another order or partitioning give the same digest; a changed value changes it."""
    import hashlib

    from pyspark.sql import functions as F

    cols = [F.col("`" + name.replace("`", "``") + "`") for name in frame.columns]
    row = frame.agg(F.count(F.lit(1)), F.sum(F.xxhash64(*cols).cast("decimal(20,0)")),
                    F.sum(F.hash(*cols).cast("decimal(20,0)"))).collect()[0]
    text = f"spark\n{label}\n{frame.schema.json()}\n{row[0]}\n{row[1]}\n{row[2]}"
    return hashlib.sha256(text.encode()).hexdigest()


def _spark_type(t: str) -> str:
    return {"double": "DOUBLE", "float": "FLOAT", "int": "INTEGER", "bigint": "BIGINT",
            "smallint": "SMALLINT", "tinyint": "TINYINT", "boolean": "BOOLEAN",
            "string": "VARCHAR"}.get(t, t.upper())


def _row(cursor, *, nan: bool = False) -> dict[str, Any]:
    """The first row of ``cursor`` by column name (a NaN as None, unless ``nan``)."""
    names = [d[0] for d in cursor.description]
    values = cursor.fetchall()[0]  # to the end: DuckDB refuses new work on an unfinished one
    out = dict(zip(names, values, strict=True))
    if nan:
        return out
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextmanager
def duckdb_source(path: str, *, memory_limit: str = "4GB", threads: int | None = None):
    """A DuckDB connection with the view ``src`` over the file, glob or folder at ``path``, and
    the view's column types by name (closed on leaving). The view ``src_footers`` gives each
    column's range by the footers (``name``, ``lo``, ``hi`` as text, one row per row group),
    for guesses that a count checks."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{_esc(memory_limit)}'")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        # every query reads the files' footers: parsed once (this connection's own database)
        con.execute("SET parquet_metadata_cache = true")
        try:
            pattern, copy = _parquet_source(str(path))
            # each column's range by the footers of each row group, for guesses that are
            # checked (see one_pass.py)
            footer_ranges = ("SELECT path_in_schema AS name, stats_min_value AS lo, "
                             f"stats_max_value AS hi FROM parquet_metadata('{_esc(pattern)}')")
            # each column chunk's size as the footers claim it (a hint, see one_pass.py)
            chunk_sizes = ("SELECT path_in_schema AS name, total_uncompressed_size AS bytes, "
                           "row_group_num_rows AS rows FROM "
                           f"parquet_metadata('{_esc(pattern)}')")
            if copy:  # the typed copy of a CSV file faircard wrote: its footers hold
                con.execute(f"CREATE VIEW src AS SELECT * FROM {_parquet_reader(pattern, True)}")
            elif _many_small_files(str(path)):
                # read once into DuckDB's own table, whose statistics DuckDB computes itself
                con.execute("CREATE TABLE faircard_rows AS SELECT * FROM "
                            f"{_parquet_reader(pattern)}")
                con.execute("CREATE VIEW src AS SELECT * FROM faircard_rows")
                footer_ranges = "SELECT '' AS name, '' AS lo, '' AS hi WHERE false"
                chunk_sizes = "SELECT '' AS name, 0 AS bytes, 0 AS rows WHERE false"
            else:  # a user's Parquet files: their footers are claims (see footers.py)
                reader = _parquet_reader(pattern)
                names = {r[0]: str(r[1]) for r in
                         con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
                reader = _parquet_reader(pattern, statistics=footers.unclaimed(
                    _scan_names(str(path), names)))
                con.execute(f"CREATE VIEW src AS SELECT * FROM {reader}")
                con.execute(f"SET disabled_optimizers = '{footers.IGNORED}'")
            con.execute(f"CREATE VIEW src_footers AS {footer_ranges}")
            con.execute(f"CREATE VIEW src_chunks AS {chunk_sizes}")
            if not copy:
                _name_view_columns(con, str(path))
            types = {r[0]: str(r[1]) for r in con.execute("DESCRIBE src").fetchall()}
        except duckdb.Error as exc:
            raise FaircardError(f"DuckDB cannot read '{path}': {_first_line(exc)}") from None
        try:
            yield con, types
        except duckdb.Error as exc:  # a file that breaks on reading (corrupt pages, ...)
            raise FaircardError(f"DuckDB cannot read '{path}': {_first_line(exc)}") from None
    finally:
        con.close()
