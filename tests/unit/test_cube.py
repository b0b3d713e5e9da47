"""The counts cube is where every source meets: pandas counting rows in memory and DuckDB
counting a file give equal cubes (cells, labels, row accounting, scores per cell and outcome),
the cube an assessment keeps holds no row, and figures computed from a cube's scores equal
scikit-learn on the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

import faircard
from faircard.counts import score_metrics
from faircard.engine.grouped import cube_from_grouped
from faircard.engine.pandas_source import count_pandas
from faircard.engine.sources import count_duckdb
from faircard.spec import AssessmentSpec
from tests.unit.test_engines import SPECS as ENGINE_SPECS
from tests.unit.test_engines import _rows


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    frame = _rows(6000, seed=21, distinct=200)  # tied scores, missing values of each kind
    frame["pred"] = frame["pred"].where(frame["score"].notna())
    return frame


@pytest.fixture(scope="module")
def parquet(rows, tmp_path_factory):
    path = tmp_path_factory.mktemp("cube") / "rows.parquet"
    rows.to_parquet(path)
    return path


SPECS = {**ENGINE_SPECS,  # a score, a prediction, per-group and randomised rules, bands
         "features_reordered": AssessmentSpec(target="y", prediction="pred",
                                              sensitive=("race", "sex"), n_boot=0)}


def _histogram(scores) -> pd.DataFrame:
    """Rows per (cell, outcome, score): what a cube's scores say, however they are listed."""
    w = np.ones(len(scores.y_score), np.int64) if scores.weight is None else scores.weight
    table = pd.DataFrame({"cell": scores.cell, "y": scores.y_true, "score": scores.y_score,
                          "n": w})
    return table.groupby(["cell", "y", "score"], as_index=False)["n"].sum()


@pytest.mark.parametrize("name", list(SPECS))
def test_pandas_and_duckdb_give_the_same_cube(rows, parquet, name):
    spec = SPECS[name]
    mine = count_pandas(rows, spec)
    theirs = cube_from_grouped(count_duckdb(str(parquet), spec), spec)
    assert mine.index.features == theirs.index.features
    assert mine.index.labels == theirs.index.labels
    np.testing.assert_array_equal(mine.index.cell_codes, theirs.index.cell_codes)
    assert mine.is_randomized == theirs.is_randomized == name.startswith("randomised")
    if mine.is_randomized:  # expected counts: sums of probabilities in another order
        np.testing.assert_allclose(mine.cells, theirs.cells, rtol=1e-12)
    else:
        assert mine.cells.dtype == theirs.cells.dtype == np.int64
        np.testing.assert_array_equal(mine.cells, theirs.cells)
    assert (mine.pos_label, mine.n_input, mine.n_dropped, mine.dropped_reasons) == \
        (theirs.pos_label, theirs.n_input, theirs.n_dropped, theirs.dropped_reasons)
    # the row accounting is the frame's own
    kept = rows.dropna(subset=["y", spec.score or spec.prediction])
    assert mine.n_input == len(rows) and mine.n_dropped == len(rows) - len(kept)
    assert mine.cells.sum() == pytest.approx(len(kept), rel=1e-12)
    if spec.score is None:
        assert mine.scores is None and theirs.scores is None
        return
    assert (mine.scores.minimum, mine.scores.maximum) == \
        (theirs.scores.minimum, theirs.scores.maximum) == \
        (kept["score"].min(), kept["score"].max())
    pd.testing.assert_frame_equal(_histogram(mine.scores), _histogram(theirs.scores))
    for key in ("brier_score", "log_loss"):
        np.testing.assert_allclose(mine.scores.sums[key], theirs.scores.sums[key], rtol=1e-9)


def test_the_cube_an_assessment_keeps_holds_no_row(rows):
    a = faircard.assess(rows, target="y", score="score", sensitive=["sex", "race"], n_boot=0)
    cube = a.cube
    assert cube.index.cell.size == 0
    assert not hasattr(cube, "y_pred") and not hasattr(cube, "y_true")
    s = cube.scores
    assert s.by_score and np.all(np.diff(s.y_score) >= 0)  # sorted: no row order kept
    assert s.weight is None and len(s.y_score) == cube.cells.sum()
    # each cell's scored entries are its rows: as many as the cell's confusion counts
    np.testing.assert_array_equal(np.bincount(s.cell, minlength=cube.n_cells),
                                  cube.cells.sum(axis=1))
    np.testing.assert_array_equal(np.bincount(s.cell, weights=s.y_true,
                                              minlength=cube.n_cells),
                                  cube.cells[:, 2:].sum(axis=1))


def test_one_hot_columns_give_the_cube_of_the_decoded_feature(rows):
    spec = AssessmentSpec(target="y", score="score", sensitive=("race", "sex"), n_boot=0)
    kept = rows[rows["race"].notna()].reset_index(drop=True)
    onehot = kept.drop(columns=["race"]).join(
        pd.get_dummies(kept["race"], prefix="race").astype(np.int64))
    a, b = count_pandas(kept, spec), count_pandas(onehot, spec)
    assert a.index.labels == b.index.labels
    np.testing.assert_array_equal(a.cells, b.cells)
    pd.testing.assert_frame_equal(_histogram(a.scores), _histogram(b.scores))


@pytest.mark.parametrize("source", ["pandas", "duckdb"])
def test_score_metrics_of_a_cube_equal_sklearn_on_the_rows(rows, parquet, source):
    spec = SPECS["score"]
    cube = count_pandas(rows, spec) if source == "pandas" else \
        cube_from_grouped(count_duckdb(str(parquet), spec), spec)
    cube.memo.clear()  # from the cube's scores, not from what the engine computed
    parts = cube.partitions(True)
    got = score_metrics(cube, parts)
    kept = rows.dropna(subset=["y", "score"])
    kept = kept.assign(race=kept["race"].fillna("(missing)"))
    for p in parts:
        cols = list(p.features)
        for j, group in enumerate(p.groups):
            values = group.split(" & ")
            m = np.logical_and.reduce([kept[c].to_numpy() == v
                                       for c, v in zip(cols, values, strict=True)])
            y, s = kept["y"].to_numpy()[m], kept["score"].to_numpy()[m]
            assert got[p.name]["roc_auc"][j] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
            assert got[p.name]["brier_score"][j] == pytest.approx(brier_score_loss(y, s),
                                                                  rel=1e-9)
    assert got["overall"]["roc_auc"][0] == pytest.approx(
        roc_auc_score(kept["y"], kept["score"]), abs=1e-12)


SOURCES = {"counts.py", "assess.py", "engine/pandas_source.py", "engine/derive.py",
           "ui/cache.py", "diagnostics/core.py"}
"""Where rows may still be read: the sources and their caches (the pandas source, the rows an
upload keeps to derive fewer features, the engines' decoding), and the diagnostics, which look
at columns other than the sensitive features."""


def test_nothing_past_the_cube_imports_the_row_arrays():
    import ast
    from pathlib import Path

    src = Path(faircard.__file__).parent
    readers = []
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("prepare") \
                    and {a.name for a in node.names} & {"Prepared", "prepare"}:
                readers.append(rel)
    assert readers, "the check must see the sources that do read rows"
    assert set(readers) <= SOURCES, sorted(set(readers) - SOURCES)
