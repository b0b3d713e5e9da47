"""Engines that count next to the data: DuckDB for files and folders, Spark for clusters.

Rows never come back: a source runs a GROUP BY over the sensitive features, the outcome, the
decision and the score, and faircard turns that small table into the same per-cell counts the
in-memory path computes (see :mod:`faircard.engine.grouped`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import FaircardError
from ..spec import AssessmentSpec
from .grouped import assess_grouped
from .sql import count_queries

ENGINES = ("auto", "pandas", "duckdb", "spark")


def choose_engine(path: str | None, engine: str = "auto") -> str:
    """The engine for ``path``: as asked, or with "auto" DuckDB for Parquet files, globs and
    folders and pandas for the rest (CSV and Excel go through faircard's own reader, which
    detects encodings and delimiters)."""
    if engine not in ENGINES:
        raise FaircardError(f"Unknown engine '{engine}'. Choose one of: {', '.join(ENGINES)}.")
    if engine != "auto":
        return engine
    if path is None:
        return "spark"
    p = Path(path)
    if p.is_dir() or any(c in path for c in "*?[") or p.suffix.lower() == ".parquet":
        return "duckdb"
    return "pandas"


def assess_source(path: str | None, spec: AssessmentSpec, *, engine: str,
                  spark_master: str = "local[*]", spark_table: str | None = None,
                  spark: Any = None):
    """The assessment of ``spec`` counted by DuckDB (``path``) or Spark (``path`` read by Spark,
    or the catalog table ``spark_table``); only counts come back."""
    if engine == "duckdb":
        from .sources import count_duckdb

        if path is None:
            raise FaircardError("DuckDB reads a file, glob or folder: give DATA.")
        return assess_grouped(count_duckdb(path, spec), spec)
    if engine == "spark":
        from .sources import count_spark

        frame = spark_frame(path, spark_master=spark_master, spark_table=spark_table,
                            spark=spark)
        return assess_grouped(count_spark(frame, spec, path=None if spark_table else path),
                              spec)
    raise FaircardError(f"The {engine} engine does not count next to the data.")


def spark_frame(path: str | None, *, spark_master: str = "local[*]",
                spark_table: str | None = None, spark: Any = None):
    """The PySpark DataFrame of the catalog table ``spark_table``, or of the Parquet or CSV
    file, glob or folder at ``path`` (read by Spark, wherever its master runs)."""
    session = spark or _spark_session(spark_master)
    if spark_table:
        from .sources import open_spark_table

        return open_spark_table(session, spark_table)
    if path is None:
        raise FaircardError("Spark reads a file, glob or folder (give DATA) or a catalog table "
                            "(give --spark-table DB.TABLE).")
    from .sources import (
        check_spark_parquet_types,
        check_spark_partitions,
        csv_source,
        names_differ_in_case,
        not_parquet_or_csv,
        own_session,
        parquet_names,
        read_csv_spark,
        spark_errors,
    )
    from .spark_csv import JAVA_CHARSETS

    csv = csv_source(str(path))
    local = Path(path)
    if csv is None and local.is_file() and local.suffix.lower() not in (".parquet", ".pq"):
        raise not_parquet_or_csv(str(path), "Spark")  # Spark said it found no Parquet footer
    if csv is None:
        check_spark_parquet_types(str(path))
    # read and counted in a session of faircard's own, which tells case apart when the
    # files hold names differing only in case, and reads CSV text in Java's charsets, without
    # changing the settings for others
    cased = csv is None and names_differ_in_case(str(path))
    own = own_session(session, {"spark.sql.caseSensitive": "true"} if cased else
                      {JAVA_CHARSETS: "true"} if csv else None)
    with spark_errors():
        if csv is None:
            frame = own.read.parquet(path)
            names = parquet_names(str(path), list(frame.columns))
            return check_spark_partitions(frame if names is None else frame.toDF(*names),
                                          str(path))
        return read_csv_spark(own, str(path), *csv)


def _spark_session(master: str):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise FaircardError("Spark is not installed: pip install 'faircard[spark]'.") from None
    return (SparkSession.builder.master(master).appName("faircard")
            .config("spark.ui.enabled", "false").getOrCreate())


__all__ = ["ENGINES", "assess_grouped", "assess_source", "choose_engine", "count_queries",
           "spark_frame"]
