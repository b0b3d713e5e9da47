"""On a score grid the packed key adds the threshold flags to the grid cell (``cell + number of
thresholds reached``) instead of giving them bits of their own: the key's range, and DuckDB's
directly indexed table, is half as large for one threshold. Decoding must give back each row's
cell and flags exactly, for thresholds anywhere: on a cell's edge, one float either side of a
score, several in one cell, below and above every score."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from faircard.engine.sql import Coding, Columns, count_queries

STEP, ORIGIN = 0.1, 0.0


def _rows(thresholds: list[float]) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    scores = list(rng.uniform(0.0, 1.0, 400))
    for t in thresholds:  # each threshold, and the floats next to it
        scores += [t, np.nextafter(t, -np.inf), np.nextafter(t, np.inf)]
    scores += [0.0, 1.0, 0.3, 0.7, 0.1 * 3, 0.2, 0.5]  # cell edges and their rounding
    scores = [s for s in scores if 0.0 <= s <= 1.0]
    return pd.DataFrame({"y": rng.integers(0, 2, len(scores)).astype(np.int64),
                         "s": scores,
                         "g": rng.choice(["a", "b"], len(scores))})


def _expected(rows: pd.DataFrame, thresholds: list[float]) -> pd.DataFrame:
    """Each row's cell (the query's arithmetic, in NumPy) and flags, counted."""
    s = rows["s"].to_numpy()
    out = pd.DataFrame({"g": rows["g"], "y": rows["y"],
                        "cell": np.floor((s - ORIGIN) / STEP).astype(np.int64)})
    for k, t in enumerate(thresholds):
        out[f"p{k}"] = (s >= t).astype(np.int64)
    return out.value_counts().sort_index()


@pytest.mark.parametrize("thresholds", [
    [0.5],
    [0.3],                      # 0.3 / 0.1 rounds below 3: the edge and the flag disagree
    [0.45, 0.41, 0.49],         # three in one cell, not in increasing order
    [0.9, 0.2, -0.5, 1.7],      # below and above every score
    [0.1 * 3, 0.3, 0.7],        # 0.30000000000000004 and 0.3: two floats of one cell
])
def test_the_cell_and_flags_come_back_from_their_sum(thresholds):
    rows = _rows(thresholds)
    con = duckdb.connect()
    con.register("rows", rows)
    con.execute("CREATE VIEW src AS SELECT * FROM rows")
    cols = Columns("y", "s", ("g",), {"y": False, "s": True, "g": False}, True)
    coding = Coding({"g": ["a", "b"]}, [0, 1], len(thresholds), 12, grid=(STEP, ORIGIN),
                    thresholds=tuple(thresholds))
    assert coding.radices()[-1] == 12 + len(thresholds)
    query = count_queries(cols, thresholds=thresholds, score_step=STEP, score_origin=ORIGIN,
                          score_max=1.0, positives=[1], coding=coding)["grouped"]
    got = con.execute(query).fetchdf()
    parts = coding.decode(got["__key"].to_numpy())
    decoded = pd.DataFrame({"g": np.array(["a", "b"])[parts["g"]], "y": parts["__target"],
                            "cell": parts["__score_cell"],
                            **{f"p{k}": parts[f"__p{k}"] for k in range(len(thresholds))},
                            "count": got["__n"].to_numpy()})
    want = _expected(rows, thresholds)
    names = list(want.index.names)
    assert decoded.groupby(names)["count"].sum().sort_index().to_dict() == want.to_dict()
    assert len(decoded) == len(want)  # one key per (cell, flags): no two pairs share a key


def test_the_flags_keep_their_bits_without_a_grid():
    coding = Coding({"g": ["a", "b"]}, [0, 1], 2, None, grid=None, thresholds=(0.2, 0.4))
    assert not coding.folded
    assert coding.radices() == [2, 2, 4]
