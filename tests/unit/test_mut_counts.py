"""faircard.counts against outside oracles, written to kill mutmut survivors.

Confusion counts are checked with scikit-learn's ``confusion_matrix`` on each cell's or group's
mask, expected counts under a randomised policy with ``confusion_matrix`` weighted by each
row's probability, and score statistics with ``roc_auc_score``, ``brier_score_loss`` and
``log_loss``. Small cases are worked out by hand in comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, confusion_matrix, log_loss, roc_auc_score

from faircard import counts as c
from faircard.engine.pandas_source import cube_of
from faircard.prepare import GroupIndex, Prepared


def _cm(y, pred, w=None):
    """[tn, fp, fn, tp] by scikit-learn."""
    return confusion_matrix(y, pred, labels=[False, True], sample_weight=w).ravel()


def _index(codes_by_feature, labels):
    """A GroupIndex of rows given each row's group index within each feature."""
    codes = np.column_stack(codes_by_feature)
    cells, cell = np.unique(codes, axis=0, return_inverse=True)
    return GroupIndex(tuple(labels), dict(labels), cell.reshape(-1).astype(np.int64), cells)


def _prepared(seed=0, n=300, score=True, randomised=False):
    rng = np.random.default_rng(seed)
    sex = rng.integers(0, 2, n)
    race = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    y = rng.random(n) < 0.3 + 0.2 * sex
    s = np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0, 1).round(2)
    index = _index([sex, race], {"sex": ("F", "M"), "race": ("A", "B", "C")})
    p = rng.choice([0.0, 0.25, 0.6, 1.0], n) if randomised else None
    pred = s >= 0.5 if p is None else p >= 0.5
    return Prepared(y, pred, s if score else None, index, True, n, 0, {}, p), sex, race


# ------------------------------------------------------------------------- counting


def test_count_cells_equal_sklearn_per_cell_and_empty_cells_are_zero():
    cell = np.array([0, 0, 1, 2, 1, 0, 2, 2])
    y = np.array([1, 0, 1, 1, 0, 0, 0, 1], bool)
    pred = np.array([1, 1, 0, 1, 0, 0, 1, 1], bool)
    got = c.count_cells(cell, y, pred, 5)  # cells 3 and 4 have no rows
    assert got.shape == (5, 4) and got.dtype == np.int64
    for k in range(3):
        assert got[k].tolist() == _cm(y[cell == k], pred[cell == k]).tolist()
    assert got[3:].tolist() == [[0, 0, 0, 0]] * 2
    # cell 0: (y, pred) = (1,1), (0,1), (0,0) -> tn 1, fp 1, fn 0, tp 1
    assert got[0].tolist() == [1, 1, 0, 1]


def test_prepared_cells_count_decisions():
    prep, sex, race = _prepared(1)
    got = c.prepared_cells(prep)
    assert got.shape == (6, 4)
    for k in range(6):
        m = prep.index.cell == k
        assert got[k].tolist() == _cm(prep.y_true[m], prep.y_pred[m]).tolist()


def test_prepared_cells_under_a_randomised_policy_are_expected_counts():
    prep, sex, race = _prepared(2, randomised=True)
    got = c.prepared_cells(prep)
    assert got.shape == (6, 4) and got.dtype == np.float64
    y, p = prep.y_true, prep.p_pred
    # each row is a positive decision with weight p and a negative one with weight 1 - p
    yy, pp = np.concatenate([y, y]), np.concatenate([np.ones_like(y), np.zeros_like(y)])
    ww = np.concatenate([p, 1 - p])
    cc = np.concatenate([prep.index.cell, prep.index.cell])
    for k in range(6):
        m = cc == k
        np.testing.assert_allclose(got[k], _cm(yy[m], pp[m], ww[m]), rtol=0, atol=1e-12)
    # every row counts once in total
    np.testing.assert_allclose(got.sum(axis=1), np.bincount(prep.index.cell), atol=1e-12)


def test_prepared_cells_under_a_randomised_policy_keep_empty_trailing_cells():
    y = np.array([1, 0, 1], bool)
    p = np.array([0.25, 0.5, 1.0])
    index = GroupIndex(("g",), {"g": ("a", "b", "c")}, np.array([0, 0, 1]),
                       np.array([[0], [1], [2]]))
    prep = Prepared(y, p >= 0.5, None, index, True, 3, 0, {}, p)
    got = c.prepared_cells(prep)
    # cell 0: a positive at 0.25 (fn 0.75, tp 0.25), a negative at 0.5 (tn 0.5, fp 0.5);
    # cell 1: a positive at 1 (tp 1); cell 2 has no rows
    assert got.tolist() == [[0.5, 0.5, 0.75, 0.25], [0, 0, 0, 1.0], [0, 0, 0, 0]]


def test_aggregate_cells_sums_cells_into_groups_and_keeps_the_dtype():
    values = np.array([[1, 2, 3, 4], [10, 20, 30, 40], [100, 200, 300, 400]])
    got = c.aggregate_cells(values, np.array([1, 0, 1]), 3)
    assert got.dtype == values.dtype
    assert got.tolist() == [[10, 20, 30, 40], [101, 202, 303, 404], [0, 0, 0, 0]]
    flat = c.aggregate_cells(np.array([0.5, 0.25, 2.0]), np.array([0, 0, 1]), 2)
    assert flat.dtype == np.float64 and flat.tolist() == [0.75, 2.0]


def test_group_counts_name_size_and_features_must_be_a_tuple():
    gc = c.GroupCounts(("race", "sex"), ("A & F",), np.array([[1, 2, 3, 4]]))
    assert gc.feature == "race & sex"
    assert gc.n.tolist() == [10]
    with pytest.raises(TypeError) as err:
        c.GroupCounts(["race"], ("A",), np.array([[1, 2, 3, 4]]))
    assert str(err.value) == "GroupCounts.features must be a tuple of feature names"


@pytest.mark.parametrize("intersection", [True, False])
def test_count_by_group_equals_sklearn_on_each_groups_mask(intersection):
    prep, sex, race = _prepared(3)
    out = c.count_by_group(cube_of(prep), intersection)
    assert [gc.features for gc in out] == [("sex",), ("race",)] + (
        [("sex", "race")] if intersection else [])
    y, pred = prep.y_true, prep.y_pred
    for gc, codes in zip(out[:2], (sex, race), strict=True):
        for j, name in enumerate(gc.groups):
            assert gc.counts[j].tolist() == _cm(y[codes == j], pred[codes == j]).tolist(), name
    if intersection:
        inter = out[2]
        assert inter.groups == ("F & A", "F & B", "F & C", "M & A", "M & B", "M & C")
        for j, name in enumerate(inter.groups):
            a, b = name.split(" & ")
            m = (sex == "FM".index(a)) & (race == "ABC".index(b))
            assert inter.counts[j].tolist() == _cm(y[m], pred[m]).tolist(), name


def test_counts_frame_is_one_row_per_group_with_named_counts():
    gcs = [c.GroupCounts(("sex",), ("F", "M"), np.array([[1, 2, 3, 4], [5, 6, 7, 8]])),
           c.GroupCounts(("race", "sex"), ("A & F",), np.array([[9, 10, 11, 12]]))]
    fr = c.counts_frame(gcs)
    assert list(fr.columns) == ["feature", "group", "n", "tp", "fp", "tn", "fn"]
    assert fr.index.tolist() == [0, 1, 2]
    assert fr.values.tolist() == [["sex", "F", 10, 4, 2, 1, 3], ["sex", "M", 26, 8, 6, 5, 7],
                                  ["race & sex", "A & F", 42, 12, 10, 9, 11]]


# --------------------------------------------------------------- score statistics


def test_score_sums_per_cell_equal_sklearn_times_the_cell_size():
    prep, sex, race = _prepared(4)
    s = prep.y_score.copy()
    s[:4] = [0.0, 1.0, 0.0, 1.0]  # log loss clips these to machine epsilon
    prep.y_true[:4] = [True, False, False, True]
    prep = Prepared(prep.y_true, prep.y_pred, s, prep.index, True, len(s), 0, {})
    sums = c.score_sums(prep)
    assert set(sums) == {"brier_score", "log_loss"}
    for k in range(6):
        m = prep.index.cell == k
        y = prep.y_true[m]
        assert sums["brier_score"][k] == pytest.approx(m.sum() * brier_score_loss(y, s[m]),
                                                       rel=1e-12)
        assert sums["log_loss"][k] == pytest.approx(
            m.sum() * log_loss(y, s[m], labels=[False, True]), rel=1e-12)
    # the first row: a positive scored exactly 0 costs -log(eps) = 52 log 2
    one = Prepared(np.array([True]), np.array([False]), np.array([0.0]),
                   GroupIndex(("g",), {"g": ("a", "b")}, np.array([0]), np.array([[0], [1]])),
                   True, 1, 0, {})
    got = c.score_sums(one)
    assert got["log_loss"].tolist() == pytest.approx([52 * np.log(2), 0.0], rel=1e-12)
    assert got["brier_score"].tolist() == [1.0, 0.0]


def test_auc_by_group_hand_worked_with_ties_across_groups():
    # group 0: negatives 0.2, 0.5; positives 0.5, 0.9 -> pairs (pos > neg): 0.5>0.2 (1),
    # 0.5=0.5 (1/2), 0.9>0.2 (1), 0.9>0.5 (1) -> 3.5 / 4. Group 1: negative 0.5, positive 0.1
    # and 0.5 -> 0 + 1/2 over 2 -> 0.25. Group 1's 0.5 ties with group 0's, but ranks are
    # within each group.
    y = np.array([0, 1, 0, 1, 1, 1, 0], bool)
    s = np.array([0.2, 0.5, 0.5, 0.9, 0.1, 0.5, 0.5])
    g = np.array([0, 0, 0, 0, 1, 1, 1])
    got = c.auc_by_group(y, s, g, 3)
    assert got[:2].tolist() == [3.5 / 4, 0.25]
    assert np.isnan(got[2])
    shuffled = np.random.default_rng(0).permutation(len(y))
    got2 = c.auc_by_group(y[shuffled], s[shuffled], g[shuffled], 2)
    assert got2.tolist() == [3.5 / 4, 0.25]


def test_auc_by_group_is_nan_for_one_class_groups_only():
    y = np.array([1, 1, 0, 0, 1, 0], bool)
    s = np.array([0.3, 0.8, 0.1, 0.4, 0.6, 0.2])
    g = np.array([0, 0, 1, 1, 2, 2])
    got = c.auc_by_group(y, s, g, 3)
    assert np.isnan(got[0]) and np.isnan(got[1])
    assert got[2] == 1.0


def _sk_auc(y, s):
    return roc_auc_score(y, s) if 0 < y.sum() < len(y) else np.nan


@pytest.mark.parametrize("probability", [True, False])
def test_score_metrics_per_partition_and_overall_equal_sklearn(probability):
    prep, sex, race = _prepared(5, n=200)
    if not probability:
        prep = Prepared(prep.y_true, prep.y_pred, prep.y_score * 10 - 2, prep.index, True,
                        200, 0, {})
    parts = prep.index.partitions(True)
    out = c.score_metrics(cube_of(prep), parts)
    assert list(out) == ["sex", "race", "sex & race", "overall"]
    y, s = prep.y_true, prep.y_score
    for p in parts:
        row_group = p.cell_to_group[prep.index.cell]
        res = out[p.name]
        assert set(res) == {"roc_auc", "brier_score", "log_loss"}
        for j, name in enumerate(p.groups):
            m = row_group == j
            assert res["roc_auc"][j] == pytest.approx(_sk_auc(y[m], s[m]), abs=1e-12), name
            if probability:
                assert res["brier_score"][j] == pytest.approx(brier_score_loss(y[m], s[m]),
                                                              rel=1e-12)
                assert res["log_loss"][j] == pytest.approx(
                    log_loss(y[m], s[m], labels=[False, True]), rel=1e-12)
            else:
                assert np.isnan(res["brier_score"][j]) and np.isnan(res["log_loss"][j])
    ov = out["overall"]
    assert ov["roc_auc"].tolist() == pytest.approx([roc_auc_score(y, s)], abs=1e-12)
    if probability:
        assert ov["brier_score"].tolist() == pytest.approx([brier_score_loss(y, s)], rel=1e-12)
        assert ov["log_loss"].tolist() == pytest.approx([log_loss(y, s)], rel=1e-12)
    else:
        assert ov["brier_score"].shape == (1,) and np.isnan(ov["brier_score"][0])
        assert ov["log_loss"].shape == (1,) and np.isnan(ov["log_loss"][0])


def test_score_metrics_of_some_partitions_only():
    prep, sex, race = _prepared(6, n=120)
    race_part = prep.index.partitions(False)[1]
    out = c.score_metrics(cube_of(prep), [race_part])
    assert list(out) == ["race", "overall"]
    for j in range(3):
        m = race == j
        assert out["race"]["brier_score"][j] == pytest.approx(
            brier_score_loss(prep.y_true[m], prep.y_score[m]), rel=1e-12)


def test_frame_of_assessed_counts_matches_pandas_crosstab():
    # end to end through assess: the counts table equals pandas' own tally of the rows
    import faircard

    rng = np.random.default_rng(7)
    df = pd.DataFrame({"y": rng.integers(0, 2, 150), "g": rng.choice(["x", "y", "z"], 150),
                       "pred": rng.integers(0, 2, 150)})
    a = faircard.assess(df, target="y", prediction="pred", sensitive="g", n_boot=0)
    fr = c.counts_frame(a.counts).set_index("group")
    tab = pd.crosstab(df["g"], [df["y"], df["pred"]])
    for grp in ("x", "y", "z"):
        assert fr.loc[grp, "tn"] == tab.loc[grp, (0, 0)]
        assert fr.loc[grp, "fp"] == tab.loc[grp, (0, 1)]
        assert fr.loc[grp, "fn"] == tab.loc[grp, (1, 0)]
        assert fr.loc[grp, "tp"] == tab.loc[grp, (1, 1)]
        assert fr.loc[grp, "n"] == (df["g"] == grp).sum()


# ------------------------------------------------------- written from the survivors


def test_auc_by_group_ties_at_the_lowest_scores_share_their_rank():
    # the two lowest scores (0.1, a positive and a negative) are tied: pairs (pos, neg) are
    # (0.1, 0.1) 1/2, (0.1, 0.3) 0, (0.5, 0.1) 1, (0.5, 0.3) 1 -> 2.5 / 4
    y = np.array([1, 0, 1, 0], bool)
    s = np.array([0.1, 0.1, 0.5, 0.3])
    g = np.zeros(4, np.int64)
    assert c.auc_by_group(y, s, g, 1).tolist() == [0.625]
    assert roc_auc_score(y, s) == 0.625
    y2, s2 = y[::-1].copy(), s[::-1].copy()  # the negative first among the tied
    assert c.auc_by_group(y2, s2, g, 1).tolist() == [0.625]


def test_score_metrics_with_a_cell_left_without_rows():
    # GroupIndex.take keeps the cells' numbering, so the last cell may have no rows left;
    # each single feature's groups still have rows
    prep, sex, race = _prepared(8, n=200)
    keep = prep.index.cell != prep.index.n_cells - 1  # drop every row of the last cell (M & C)
    index = prep.index.take(keep)
    sub = Prepared(prep.y_true[keep], prep.y_pred[keep], prep.y_score[keep], index, True,
                   int(keep.sum()), 0, {})
    parts = index.partitions(False)
    out = c.score_metrics(cube_of(sub), parts)
    y, s = sub.y_true, sub.y_score
    for p in parts:
        row_group = p.cell_to_group[index.cell]
        for j, name in enumerate(p.groups):
            m = row_group == j
            assert out[p.name]["brier_score"][j] == pytest.approx(brier_score_loss(y[m], s[m]),
                                                                  rel=1e-12), name
    assert c.prepared_cells(sub)[-1].tolist() == [0, 0, 0, 0]


def test_count_by_group_includes_the_intersection_unless_asked_not_to():
    prep, sex, race = _prepared(9, n=60)
    assert [gc.feature for gc in c.count_by_group(cube_of(prep))] == ["sex", "race", "sex & race"]


def test_group_sizes_under_a_randomised_policy_are_whole_numbers_of_people():
    # expected counts weighted by each row's probability (scikit-learn); their sum per group
    # is the number of people only up to rounding, which GroupCounts.n must not show
    rng = np.random.default_rng(7)
    off_whole = 0
    for _ in range(20):
        groups = rng.choice(["A", "B", "C"], size=rng.integers(20, 60))
        y = rng.random(groups.size) < 0.4
        p = rng.random(groups.size)
        names = tuple(sorted(set(groups)))
        expected = np.array([
            _cm(np.r_[y[groups == g], y[groups == g]],
                np.r_[np.zeros((groups == g).sum(), bool), np.ones((groups == g).sum(), bool)],
                np.r_[1 - p[groups == g], p[groups == g]])
            for g in names])
        sizes = pd.Series(groups).value_counts().reindex(list(names)).to_numpy()
        off_whole += int((expected.sum(axis=1) != sizes).any())
        n = c.GroupCounts(("g",), names, expected).n
        assert n.tolist() == sizes.tolist()
    assert off_whole > 0  # the rounding was needed in some of these cases
