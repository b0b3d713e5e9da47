"""New band edges of a numeric sensitive feature, on a grouped table counted by DuckDB: the
cube made from the table (whose combinations of values and score ranks it keeps from the
bands made before) equals the cube of a fresh table, the cube built on every grouped row, and
the assessment of the rows counted in memory; for random edges, edges outside the values'
range, missing values and a band nobody is in."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from faircard.assess import assess_prepared
from faircard.engine import grouped as grouped_mod
from faircard.engine.grouped import GroupedCounts, assess_grouped, cube_from_grouped
from faircard.engine.sources import count_duckdb
from faircard.prepare import prepare
from faircard.spec import AssessmentSpec, Binning


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 4000
    tenure = rng.integers(0, 30, n).astype(float)
    tenure[rng.random(n) < 0.03] = np.nan  # missing values: a group of their own
    y = (rng.random(n) < 0.4).astype(float)
    score = np.round(np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0, 1), 3)
    score[:20] = np.nan  # rows left out for a missing score
    y[20:30] = np.nan    # ... and for a missing outcome
    return pd.DataFrame({
        "y": y, "score": score, "tenure": tenure,
        "sex": rng.choice(np.array(["f", "m", "x"], dtype=object), n, p=[0.45, 0.45, 0.1]),
        "race": pd.Categorical(rng.choice(["A", "B", "C"], n))})


@pytest.fixture(scope="module")
def parquet(rows, tmp_path_factory):
    path = tmp_path_factory.mktemp("bands") / "rows.parquet"
    rows.to_parquet(path)
    return str(path)


def _banding(edges) -> Binning:
    edges = tuple(float(e) for e in edges)
    return Binning(edges, tuple(f"b{i}" for i in range(len(edges) - 1)))


def _random_edges(rng) -> tuple:
    k = int(rng.integers(1, 6))
    inner = np.sort(rng.choice(np.arange(-3, 34), size=k + 1, replace=False) + 0.5)
    return tuple(inner)


EDGES = [(-np.inf, 10, 20, np.inf),       # every value in a band
         (-5, 3.2, 3.7, 12, 100),          # edges outside the range; nobody in [3.2, 3.7)
         (5, 15),                          # values below and above the only band
         (0, 1, 2, 29, np.inf)]


def _spec(bins: Binning, **kw) -> AssessmentSpec:
    return AssessmentSpec(target="y", sensitive=("sex", "tenure", "race"), score="score",
                          threshold=0.45, n_boot=0, min_group_size=20,
                          bins={"tenure": bins}, **kw)


def _assert_same_cube(a, b):
    assert a.index.features == b.index.features and a.index.labels == b.index.labels
    np.testing.assert_array_equal(a.index.cell_codes, b.index.cell_codes)
    np.testing.assert_array_equal(a.cells, b.cells)
    for f in ("y_true", "y_score", "cell", "weight"):
        np.testing.assert_array_equal(getattr(a.scores, f), getattr(b.scores, f), err_msg=f)
    for key in ("brier_score", "log_loss"):
        np.testing.assert_array_equal(a.scores.sums[key], b.scores.sums[key])
    assert a.memo.keys() == b.memo.keys()
    for key, parts in a.memo.items():
        if isinstance(parts, list):  # the sentences naming groups with no row left
            assert parts == b.memo[key], key
            continue
        for name, metrics in parts.items():
            for metric, values in metrics.items():
                np.testing.assert_array_equal(values, b.memo[key][name][metric],
                                              err_msg=f"{name} {metric}")


def _fresh(counted: GroupedCounts) -> GroupedCounts:
    return dataclasses.replace(counted)  # a table of its own: nothing kept


def _row_by_row(counted: GroupedCounts) -> GroupedCounts:
    """The table with nothing kept, told to build the group index on every grouped row."""
    fresh = _fresh(counted)
    for n in range(1, 4):
        for features in itertools.permutations(("sex", "tenure", "race"), n):
            fresh.memo[("values", features)] = None
    return fresh


@pytest.mark.parametrize("seed", range(4))
def test_new_bands_from_the_kept_values_equal_a_fresh_count(rows, parquet, seed):
    rng = np.random.default_rng(seed)
    edges = EDGES + [_random_edges(rng) for _ in range(3)]
    counted = count_duckdb(parquet, _spec(_banding(edges[0])))
    for e in edges:
        spec = _spec(_banding(e))
        cube = cube_from_grouped(counted, spec)  # kept values and ranks from the bands before
        _assert_same_cube(cube, cube_from_grouped(_fresh(counted), spec))
        _assert_same_cube(cube, cube_from_grouped(_row_by_row(counted), spec))
        # the rows counted in memory: counts exact, score sums up to the order of additions
        a = assess_grouped(counted, spec, cube=cube)
        b = assess_prepared(prepare(rows, spec), spec)
        pd.testing.assert_frame_equal(a.counts_frame(), b.counts_frame())
        cols = ["feature", "group", "metric", "n", "is_small_group"]
        pd.testing.assert_frame_equal(a.by_group[cols], b.by_group[cols])
        np.testing.assert_allclose(a.by_group["value"].to_numpy(float),
                                   b.by_group["value"].to_numpy(float), rtol=1e-12,
                                   equal_nan=True)
    assert ("ranked", repr(cube.pos_label)) in counted.memo  # one sort of the scores


def test_auc_per_band_equals_scikit_learn(rows, parquet):
    bins = _banding((-5, 3.2, 3.7, 12, 100))
    counted = count_duckdb(parquet, _spec(_banding((0, 10, np.inf))))
    cube_from_grouped(counted, _spec(_banding((0, 10, np.inf))))
    cube = cube_from_grouped(counted, _spec(bins))
    kept = rows.dropna(subset=["y", "score"])
    band = pd.Series(bins.apply(kept["tenure"]), index=kept.index).astype(str)
    auc = cube.memo[("score_metrics", True)]["tenure"]["roc_auc"]
    labels = cube.index.labels["tenure"]
    assert "b1" not in labels  # [3.2, 3.7): nobody, so no group
    checked = 0
    for j, label in enumerate(labels):
        part = kept[band == label]
        if part["y"].nunique() == 2:
            assert auc[j] == pytest.approx(roc_auc_score(part["y"], part["score"]), abs=1e-12)
            checked += 1
    assert checked >= 3


def test_unhashable_values_build_the_index_on_the_rows():
    g = pd.DataFrame({"f": [[1], [2]], "__target": [0, 1], "__n": [1, 1]})
    counted = GroupedCounts(grouped=g, targets=pd.Series([0, 1]), n_input=2,
                            n_missing_target=0, n_missing_decision=0)
    assert grouped_mod._value_cells(counted, ("f",)) is None


def test_scores_on_a_grid_new_bands_equal_the_cube_of_every_grouped_row(tmp_path):
    rng = np.random.default_rng(8)
    n = 150_000
    y = (rng.random(n) < 0.35).astype(np.int64)
    frame = pd.DataFrame({
        "y": y, "score": np.clip(0.3 * y + rng.normal(0.4, 0.2, n), 0, 1),
        "tenure": rng.integers(0, 16, n),
        "sex": rng.choice(np.array(["f", "m"], dtype=object), n),
        "race": rng.choice(np.array(["A", "B", "C"], dtype=object), n)})
    path = tmp_path / "grid.parquet"
    frame.to_parquet(path)
    counted = count_duckdb(str(path), _spec(_banding((0, 5, 10, np.inf))))
    assert counted.score_step is not None  # more distinct scores than the table keeps
    for e in [(0, 5, 10, np.inf), (-1, 2, 5, 10, 99), (3.5, 7.5), (0, 15, 16, 30)]:
        spec = _spec(_banding(e))
        cube = cube_from_grouped(counted, spec)
        _assert_same_cube(cube, cube_from_grouped(_row_by_row(counted), spec))
        b = assess_prepared(prepare(frame, spec), spec)
        pd.testing.assert_frame_equal(assess_grouped(counted, spec, cube=cube).counts_frame(),
                                      b.counts_frame())


def test_values_of_mixed_types_build_the_index_on_the_rows():
    g = pd.DataFrame({"f": pd.Series([1, 1.0, "1"], dtype=object), "__target": [0, 1, 1],
                      "__n": [1, 1, 1]})
    counted = GroupedCounts(grouped=g, targets=pd.Series([0, 1]), n_input=3,
                            n_missing_target=0, n_missing_decision=0)
    assert grouped_mod._value_cells(counted, ("f",)) is None
    g2 = g.assign(f=pd.Series(["a", None, "b"], dtype=object))
    combo, combos = grouped_mod._value_cells(dataclasses.replace(counted, grouped=g2), ("f",))
    assert combo.tolist() == [1, 0, 2] and combos["f"].isna().tolist() == [True, False, False]


def test_distinct_codes_equal_numpy_unique_on_narrow_and_wide_codes():
    # the combinations of a grouped table's values are numbered by a count per code when the
    # codes span no more than the rows (grouped._distinct_codes), else by np.unique's sort
    rng = np.random.default_rng(3)
    for n, top in [(1, 1), (5, 3), (1000, 7), (1000, 900), (1000, 10**7), (200_000, 18)]:
        codes = rng.integers(0, top, n).astype(np.int64)
        first, inverse = grouped_mod._distinct_codes(codes)
        _, want_first, want_inverse = np.unique(codes, return_index=True, return_inverse=True)
        np.testing.assert_array_equal(first, want_first)
        np.testing.assert_array_equal(inverse, want_inverse.reshape(-1))
    first, inverse = grouped_mod._distinct_codes(np.zeros(0, dtype=np.int64))
    assert len(first) == 0 and len(inverse) == 0
