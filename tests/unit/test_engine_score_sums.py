"""The score sums of the grouped query, row by row: ``__ll`` is the log of the probability the
clipped score gives to the outcome (scikit-learn clips to [eps, 1 - eps]), the same double as
Python's ``math.log`` of it, whichever side of the clip the query writes (it leaves out a side
that no score it keeps reaches), and the same as the clip written with GREATEST and LEAST."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest

from faircard.engine.sql import EPS, _score_sums

EDGES = [0.0, 5e-324, 1e-300, 1e-17, EPS / 2, np.nextafter(EPS, 0), EPS, np.nextafter(EPS, 1),
         1e-9, 0.25, 0.5, 0.75, 1 - 1e-9, np.nextafter(1 - EPS, 0), 1 - EPS, 1 - EPS / 2, 1.0]
RANGES = [None, (0.0, 1.0), (EPS, 1 - EPS), (0.25, 0.75), (EPS, 1.0), (0.0, 1 - EPS)]


def _expected(y: int, s: float) -> float:
    p = min(max(s, EPS), 1 - EPS)
    return math.log(p if y else 1 - p)


@pytest.mark.parametrize("kept", RANGES)
def test_the_log_of_each_row_is_python_s_log_of_the_clipped_score(kept):
    con = duckdb.connect()
    rows = [(i, y, s) for i, (y, s) in enumerate((y, float(s)) for y in (0, 1) for s in EDGES)
            if kept is None or kept[0] <= s <= kept[1]]
    con.execute("CREATE TABLE t (i INTEGER, y INTEGER, s DOUBLE)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    ours = _score_sums("y", "s", [1], kept)
    plain = "GREATEST(LEAST(s, CAST('0.9999999999999998' AS DOUBLE)), " \
            "CAST('2.220446049250313e-16' AS DOUBLE))"
    got = con.execute(f"SELECT i, {', '.join(ours)}, SUM(LN(1 - y + (2 * y - 1) * {plain})) "
                      "FROM t GROUP BY i ORDER BY i").fetchall()
    assert len(got) == len(rows) > 0
    for (i, y, s), (j, sq, ll, by_least) in zip(rows, got, strict=True):
        assert i == j
        assert ll == _expected(y, s) == by_least, (y, s, kept)
        assert sq == (y - s) ** 2
    if kept is not None and kept[0] >= EPS and kept[1] <= 1 - EPS:
        assert "CASE" not in ours[1]  # no kept score is clipped: no clip


def test_a_nan_score_is_clipped_as_greatest_and_least_clip_it():
    con = duckdb.connect()
    got = con.execute(f"SELECT {_score_sums('y', 's', [1])[1]} FROM "
                      "(SELECT 1 AS y, CAST('NaN' AS DOUBLE) AS s)").fetchone()[0]
    assert got == math.log(1 - EPS)
