"""Engines that count next to the data: DuckDB for files and folders, Spark for clusters.

Rows never come back: a source runs a GROUP BY over the sensitive features, the outcome, the
decision and the score, and faircard turns that small table into the same per-cell counts the
in-memory path computes (see :mod:`faircard.engine.grouped`).
"""

from .grouped import assess_grouped
from .sql import count_queries

__all__ = ["assess_grouped", "count_queries"]
