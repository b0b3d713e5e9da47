"""AUC and the scored entries of a grouped table summed in histograms over the scores' ranks
equal scikit-learn, and the sorted computation they replace when the table is small enough."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import faircard.engine.grouped as grouped
from faircard.engine.grouped import assess_grouped, auc_and_ties, auc_from_ranks
from faircard.engine.sources import count_duckdb
from faircard.spec import AssessmentSpec


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_from_ranks_equals_scikit_learn_and_the_sorted_sums(seed):
    rng = np.random.default_rng(seed)
    n, n_groups = 3_000, 4
    score = rng.integers(0, 40, n) / 40  # many ties
    y = rng.random(n) < 0.4
    weight = rng.integers(1, 6, n)
    group = rng.integers(0, n_groups, n)
    group[:5] = 3
    y[group == 3] = True  # a group with one outcome only: NaN
    distinct, rank = np.unique(score, return_inverse=True)
    auc, ties = auc_from_ranks(group, rank, y, weight, n_groups, len(distinct))
    sorted_auc, sorted_ties = auc_and_ties(group, score, y, weight, n_groups)
    np.testing.assert_allclose(auc, sorted_auc, rtol=1e-15, equal_nan=True)
    np.testing.assert_allclose(ties, sorted_ties, rtol=1e-15, equal_nan=True)
    for g in range(n_groups - 1):
        rows = group == g
        assert auc[g] == pytest.approx(roc_auc_score(y[rows], score[rows],
                                                     sample_weight=weight[rows]), abs=1e-12)
    assert np.isnan(auc[3]) and np.isnan(ties[3])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    rng = np.random.default_rng(4)
    out = {}
    for name, n, distinct in [("exact", 30_000, 500), ("grid", 120_000, None)]:
        y = (rng.random(n) < 0.35).astype(np.int64)
        score = np.clip(0.3 * y + rng.normal(0.4, 0.2, n), 0, 1)
        if distinct:
            score = np.round(score * distinct) / distinct
        frame = pd.DataFrame({"y": y, "score": score, "sex": rng.choice(["F", "M"], n),
                              "band": rng.choice(["a", "b", "c"], n)})
        out[name] = tmp_path_factory.mktemp(name) / "rows.parquet"
        frame.to_parquet(out[name])
    return out


@pytest.mark.parametrize("name", ["exact", "grid"])
def test_histograms_and_sorting_give_the_same_cube(files, monkeypatch, name):
    spec = AssessmentSpec(target="y", score="score", sensitive=("sex", "band"), threshold=0.5,
                          n_boot=0)
    counted = count_duckdb(str(files[name]), spec)
    assert (counted.score_step is None) == (name == "exact")
    dense = assess_grouped(counted, spec)
    monkeypatch.setattr(grouped, "DENSE_ENTRIES", 0)
    sorted_ = assess_grouped(counted, spec)
    a, b = dense.cube.scores, sorted_.cube.scores
    for field in ("y_true", "y_score", "cell", "weight"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    pd.testing.assert_frame_equal(dense.by_group, sorted_.by_group, rtol=1e-14)
    assert dense.extras["engine"] == sorted_.extras["engine"]


def test_grid_ranks_without_a_sort_equal_the_sorted_ranks(files, monkeypatch):
    spec = AssessmentSpec(target="y", score="score", sensitive=("sex", "band"), threshold=0.5,
                          n_boot=0)
    counted = count_duckdb(str(files["grid"]), spec)
    score = counted.grouped["__score"].to_numpy()
    distinct, rank = grouped._grid_ranks(score, counted.score_step, counted.score_min)
    want_distinct, want_rank = np.unique(score, return_inverse=True)
    np.testing.assert_array_equal(distinct, want_distinct)
    np.testing.assert_array_equal(rank, want_rank.reshape(-1))
    assert grouped._grid_ranks(score + 1e-9, counted.score_step, counted.score_min) is None
    by_grid = assess_grouped(counted, spec)
    monkeypatch.setattr(grouped, "_grid_ranks", lambda *a: None)
    pd.testing.assert_frame_equal(by_grid.by_group, assess_grouped(counted, spec).by_group)
