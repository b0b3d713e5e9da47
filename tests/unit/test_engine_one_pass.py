"""Scores on the grid counted by the grouped query alone (see :mod:`faircard.engine.one_pass`):
its guesses (the first rows' values, the footers' score range) are checked by its own counts,
and whenever one does not hold the rows are counted the plain way. Either way the counts are
those of the in-memory path, and scikit-learn's."""

from __future__ import annotations

import struct

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import faircard
import faircard.engine.one_pass as one_pass
from faircard.engine.grouped import assess_grouped
from faircard.engine.sources import count_duckdb
from faircard.engine.sql import Coding, Columns, count_queries
from faircard.spec import AssessmentSpec
from tests.unit.test_audit_engines import _counts, _oracle_counts, _with_footer

N = 210_000  # past the first 200,000 rows, whose 100,000+ distinct scores put them on a grid
SPEC = AssessmentSpec(target="y", score="s", sensitive=("g", "k"), threshold=0.4, n_boot=0)


def _rows(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": rng.integers(0, 2, N).astype(np.int8),
                         "s": rng.uniform(0.01, 0.99, N),
                         "g": rng.choice(["a", "b", "c"], N),
                         "k": rng.choice([1.5, 2.5], N)})


def _write(rows: pd.DataFrame, path) -> None:
    pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), path)


def recording(monkeypatch, owner, name: str) -> list:
    """What the function ``owner.name`` returns from now on, call by call."""
    seen, real = [], getattr(owner, name)
    monkeypatch.setattr(owner, name, lambda *a: seen.append(real(*a)) or seen[-1])
    return seen


@pytest.fixture
def alone(monkeypatch):
    """Whether each count was the grouped query's alone."""
    seen = recording(monkeypatch, one_pass, "count_in_one_pass")
    return lambda: [c is not None for c in seen]


def _check(path, spec: AssessmentSpec = SPEC):
    """The DuckDB assessment against the in-memory one and scikit-learn's counts."""
    got = assess_grouped(count_duckdb(str(path), spec), spec)
    rows = pd.read_parquet(path)
    expected = faircard.assess_spec(rows, spec)
    pd.testing.assert_frame_equal(got.counts_frame(), expected.counts_frame())
    assert got.cube.dropped_reasons == expected.cube.dropped_reasons
    kept = rows.dropna(subset=["y", "s"])
    kept = kept.assign(y=kept["y"].astype(int), g=kept["g"].fillna("(missing)"))
    assert _counts(got, "g") == _oracle_counts(kept, "g", (kept["s"] >= spec.policy.threshold)
                                               .astype(int))
    for key in ("brier_score", "log_loss"):
        assert got.overall[key] == pytest.approx(expected.overall[key], rel=1e-12)
    return got, expected


def test_the_grouped_query_alone_counts_as_the_plain_way(tmp_path, alone, monkeypatch):
    rows = _rows(1)
    rows.loc[5, "s"], rows.loc[N - 5, "s"] = 0.001, 0.999  # the greatest past the first rows
    _write(rows, tmp_path / "rows.parquet")
    got, expected = _check(tmp_path / "rows.parquet")
    assert alone() == [True]
    step = got.extras["engine"]["score_step"]
    assert step == (0.999 - 0.001) / 10_000
    monkeypatch.setattr(one_pass, "count_in_one_pass", lambda *a: None)  # the plain way
    plain = assess_grouped(count_duckdb(str(tmp_path / "rows.parquet"), SPEC), SPEC)
    pd.testing.assert_frame_equal(got.counts_frame(), plain.counts_frame())
    assert got.overall["roc_auc"] == plain.overall["roc_auc"]
    assert got.extras["engine"] == plain.extras["engine"]


@pytest.mark.parametrize("late", ["a group", "a missing group", "a missing outcome",
                                  "a NaN score", "a third outcome"])
def test_a_value_first_seen_past_the_first_rows_is_counted_the_plain_way(tmp_path, alone,
                                                                         late):
    rows = _rows(2)
    tail = rows.index[-3:]
    if late == "a group":
        rows.loc[tail, "g"] = "late"
    elif late == "a missing group":
        rows["g"] = rows["g"].astype(object)
        rows.loc[tail, "g"] = None
    elif late == "a missing outcome":
        rows["y"] = rows["y"].astype("Int8")
        rows.loc[tail, "y"] = pd.NA
    elif late == "a NaN score":
        rows.loc[tail, "s"] = np.nan
    else:
        rows.loc[tail, "y"] = 2
    _write(rows, tmp_path / "rows.parquet")
    if late == "a third outcome":
        with pytest.raises(faircard.FaircardError, match="3 different values"):
            count_duckdb(str(tmp_path / "rows.parquet"), SPEC)
    else:
        _check(tmp_path / "rows.parquet")
    assert alone() == [False]


def test_missing_feature_values_among_the_first_rows_are_listed(tmp_path, alone):
    rows = _rows(3)
    rows.loc[::50, "k"] = np.nan
    rows["g"] = rows["g"].astype(object)
    rows.loc[::70, "g"] = None
    _write(rows, tmp_path / "rows.parquet")
    got, _ = _check(tmp_path / "rows.parquet")
    assert alone() == [True]
    assert "(missing)" in set(got.counts_frame()["group"])


@pytest.mark.parametrize("claim", ["wider", "narrower"])
def test_a_claimed_score_range_that_is_not_the_rows_is_not_the_grid(tmp_path, alone, claim):
    """A footer claiming a least score below every row's (a grid of another step) or above
    some rows' (rows left out): the rows are counted the plain way, on their own range."""
    rows = _rows(4)
    rows.loc[5, "s"], rows.loc[6, "s"] = 0.001, 0.999
    _write(rows, tmp_path / "honest.parquet")
    _with_footer(tmp_path / "honest.parquet", tmp_path / "lying.parquet",
                 struct.pack("<d", 0.001), struct.pack("<d", 0.0005 if claim == "wider" else 0.5))
    got, _ = _check(tmp_path / "lying.parquet")
    assert alone() == [False]
    assert got.extras["engine"]["score_step"] == (0.999 - 0.001) / 10_000


def test_open_value_lists_number_listed_values_as_closed_ones_and_flag_the_others():
    """The packed key of a listed value is the same number with open lists; any value not
    listed (a missing one included) gets a key from ``unlisted_from`` on."""
    cols = Columns("y", "s", ("g", "k"), {"y": False, "s": True, "g": False, "k": True}, True)
    features = {"g": ["a", None, "b"], "k": [1.5, 2.5]}
    rows = pd.DataFrame({"y": [0, 1, 1, 0, 2, None, 1],
                         "s": [0.1, 0.5, 0.9, 0.3, 0.2, 0.4, 0.6],
                         "g": ["a", None, "b", "z", "a", "b", "a"],
                         "k": [1.5, 2.5, 2.5, 1.5, 1.5, 1.5, np.nan]})
    con = duckdb.connect()
    con.register("rows", rows)
    con.execute("CREATE VIEW src AS SELECT * FROM rows")
    keys = {}
    for open_sets in (False, True):
        coding = Coding(features, [0, 1], 1, 11, open_sets=open_sets)
        query = count_queries(cols, thresholds=[0.5], score_step=0.1, score_origin=0.0,
                              score_max=1.0, positives=[1], coding=coding)["grouped"]
        query = query.replace("GROUP BY __key", "GROUP BY ALL").replace(
            "SELECT ", "SELECT s, ", 1)
        keys[open_sets] = dict(con.execute(f"SELECT s, __key FROM ({query})").fetchall())
        if open_sets:
            unlisted = coding.unlisted_from()
    listed = [0.1, 0.5, 0.9]  # the rows whose values are all listed
    assert [keys[True][s] for s in listed] == [keys[False][s] for s in listed]
    assert all(keys[True][s] < unlisted for s in listed)
    # 'z', the outcome 2, a missing outcome, a NaN k (no missing value listed for k)
    assert all(keys[True][s] >= unlisted for s in (0.3, 0.2, 0.4, 0.6))
