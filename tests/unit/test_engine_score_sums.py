"""The score sums of the grouped query, row by row on a grid (with exact scores, n times the
term of each grouped row): ``__ll`` is the log of the probability the
clipped score gives to the outcome (scikit-learn clips to [eps, 1 - eps]), the same double as
Python's ``math.log`` of it, whichever side of the clip the query writes (it leaves out a side
that no score it keeps reaches), and the same as the clip written with GREATEST and LEAST."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, log_loss

import faircard
from faircard.engine import sources
from faircard.engine.grouped import assess_grouped
from faircard.engine.sql import EPS, _score_sums, exact_score_sums
from faircard.spec import AssessmentSpec

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


def test_the_logs_argument_is_the_probability_of_the_outcome_to_the_last_bit():
    """``|1 - y - p|`` (the query's argument) is exactly ``p`` for a positive outcome and the
    double ``1 - p`` for a negative one, for every clipped score: random ones, the floats next
    to 0.5 and the clip bounds."""
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(EPS, 1 - EPS, 200_000), rng.uniform(0.49, 0.51, 10_000),
                        10.0 ** rng.uniform(-15.6, 0, 10_000), [EPS, 1 - EPS, 0.5]])
    p = p[(p >= EPS) & (p <= 1 - EPS)]
    con = duckdb.connect()
    con.register("t", pd.DataFrame({"p": p}))
    for y in (0.0, 1.0):
        got = con.execute(f"SELECT p, ABS(1 - CAST({y} AS DOUBLE) - p) AS q FROM t").fetchnumpy()
        assert len(got["p"]) == len(p)
        assert np.array_equal(got["q"], got["p"] if y else 1 - got["p"])
        assert np.array_equal(np.abs(1 - y - p), 1 - y + (2 * y - 1) * p)


def test_a_nan_score_is_clipped_as_greatest_and_least_clip_it():
    con = duckdb.connect()
    got = con.execute(f"SELECT {_score_sums('y', 's', [1])[1]} FROM "
                      "(SELECT 1 AS y, CAST('NaN' AS DOUBLE) AS s)").fetchone()[0]
    assert got == math.log(1 - EPS)


@pytest.mark.parametrize("n", [1, 3, 1000])
def test_exact_scores_sums_are_n_times_the_query_s_term_at_the_clip_bounds(n):
    # exact scores: the grouped query reads no logarithm; each grouped row's sums are n times
    # the term the query adds row by row (the same double up to the rounding of n additions)
    con = duckdb.connect()
    rows = [(i, y, float(s)) for i, (y, s) in enumerate((y, s) for y in (0, 1) for s in EDGES)]
    con.execute("CREATE TABLE t (i INTEGER, y INTEGER, s DOUBLE)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    sums = _score_sums("y", "s", [1])
    got = con.execute(f"SELECT i, {', '.join(sums)} FROM t, range({n}) GROUP BY i "
                      "ORDER BY i").fetchall()
    y = np.array([r[1] for r in rows], dtype=bool)
    s = np.array([r[2] for r in rows])
    sq, ll = exact_score_sums(s, y, np.full(len(rows), n))
    np.testing.assert_allclose(sq, [r[1] for r in got], rtol=1e-13, atol=0)
    np.testing.assert_allclose(ll, [r[2] for r in got], rtol=1e-13, atol=0)
    # and n times the clipped log scikit-learn takes, to the last bits when n is 1
    want = np.array([_expected(int(a), b) for a, b in zip(y, s, strict=True)])
    np.testing.assert_allclose(ll, n * want, rtol=4e-16 if n == 1 else 1e-15, atol=0)
    assert (ll < 0).all() and np.isfinite(ll).all()  # the clip holds at 0 and 1


def _two_groups(n: int, scores: np.ndarray, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(np.int64)
    return pd.DataFrame({"y": y, "score": rng.choice(scores, n) if len(scores) < n else scores,
                         "g": rng.choice(np.array(["a", "b"], dtype=object), n)})


@pytest.mark.parametrize("kind", ["exact", "grid"])
def test_brier_and_log_loss_by_duckdb_equal_scikit_learn_on_exact_and_grid_scores(
        tmp_path, kind):
    # exact: few distinct scores, the clip bounds among them (sums from the grouped table);
    # grid: more than 100,000 distinct scores, 0 and 1 among them (sums row by row)
    if kind == "exact":
        scores = np.array([0.0, 1e-17, EPS / 2, EPS, 0.3, 0.5, 0.7, 1 - EPS, 1 - EPS / 2, 1.0])
        frame = _two_groups(5000, scores, 1)
    else:
        rng = np.random.default_rng(2)
        scores = np.clip(rng.normal(0.5, 0.3, 210_000), 0, 1)
        frame = _two_groups(210_000, scores, 2)
    path = tmp_path / f"{kind}.parquet"
    frame.to_parquet(path)
    spec = AssessmentSpec(target="y", score="score", sensitive=("g",), threshold=0.5,
                          n_boot=0, min_group_size=0)
    queries = []
    real = sources._arrow_frame
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sources, "_arrow_frame", lambda con, q: queries.append(q) or real(con, q))
        counted = sources.count_duckdb(str(path), spec)
    grouped = [q for q in queries if "COUNT(*) AS __n" in q]
    assert len(grouped) == 1
    assert ("LN(" in grouped[0]) == (kind == "grid") == (counted.score_step is not None)
    a = assess_grouped(counted, spec)
    wide = a.by_group_wide()
    for g, rows in frame.groupby("g"):
        got = wide[(wide["feature"] == "g") & (wide["group"] == g)].iloc[0]
        y, s = rows["y"].to_numpy(), rows["score"].to_numpy()
        np.testing.assert_allclose(got["brier_score"], brier_score_loss(y, s), rtol=1e-12)
        np.testing.assert_allclose(got["log_loss"], log_loss(y, s, labels=[0, 1]), rtol=1e-12)
    np.testing.assert_allclose(a.overall["log_loss"], log_loss(frame["y"], frame["score"]),
                               rtol=1e-12)
    plain = faircard.assess(frame, target="y", score="score", sensitive=["g"], threshold=0.5,
                            n_boot=0, min_group_size=0)
    for metric in ("brier_score", "log_loss"):
        np.testing.assert_allclose(a.overall[metric], plain.overall[metric], rtol=1e-12)
