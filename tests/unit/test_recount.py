"""Scores on a grid (more than 100,000 distinct): the counts under another threshold or per-group
policy, derived from the grouped table and a recount of only the grid cells next to the new
thresholds, equal a fresh full count, scikit-learn's confusion matrix on group masks and
fairlearn's MetricFrame on the rows; thresholds on a cell's edge and one float either side."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
from sklearn.metrics import confusion_matrix

from faircard.decision import DecisionPolicy
from faircard.engine.derive import derivable
from faircard.engine.grouped import MAX_DISTINCT_SCORES, assess_grouped
from faircard.engine.recount import (
    grid_cells,
    recount_duckdb,
    recount_query,
    recountable,
    threshold_cells,
    windows,
)
from faircard.engine.sources import GRID_POINTS, _columns, count_duckdb
from faircard.spec import AssessmentSpec

N = 150_000
LO, HI = 0.0213, 0.9771  # the scores' range: the grid's origin and step come from it
STEP = (HI - LO) / GRID_POINTS  # as the count computes it
EDGES = [1, 2, 267, 2_500, 4_321, 7_000, 8_188, 9_999]
"""Cells whose lower edge a threshold sits on: the grid's arithmetic puts the edge of cells 2
and 8,188 in the cell below, and the float just below the edge of cell 267 in cell 267."""
SEXES = ["Female", "Male"]


def _edge(c: int) -> float:
    return LO + c * STEP  # the score the grid gives cell c


def _rows() -> pd.DataFrame:
    rng = np.random.default_rng(15)
    score = LO + (HI - LO) * rng.random(N)
    # rows on every threshold tried below, and one float either side of it
    ties = [f(_edge(c)) for c in EDGES for f in (lambda x: x, lambda x: np.nextafter(x, 0),
                                                  lambda x: np.nextafter(x, 1))]
    score[: len(ties) * 40] = np.repeat(ties, 40)
    score[-2:] = [LO, HI]
    sex = rng.choice(SEXES, N).astype(object)
    race = rng.choice(["A", "B", "C"], N, p=[0.6, 0.3, 0.1]).astype(object)
    y = (rng.random(N) < 0.2 + 0.5 * score).astype(float)
    frame = pd.DataFrame({"y": y, "score": score, "sex": sex, "race": race,
                          "age": rng.integers(18, 80, N).astype(float)})
    frame = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)  # ties spread out
    frame.loc[frame.index[:50], "race"] = None
    frame.loc[frame.index[50:80], "age"] = np.nan
    frame.loc[frame.index[80:110], "score"] = np.nan
    frame.loc[frame.index[110:125], "y"] = np.nan
    return frame


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return _rows()


@pytest.fixture(scope="module")
def parquet(rows, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("recount") / "rows.parquet"
    rows.to_parquet(path)
    return str(path)


def _spec(sensitive=("sex", "race", "age"), **kw) -> AssessmentSpec:
    return AssessmentSpec(target="y", score="score", sensitive=tuple(sensitive),
                          **{"threshold": 0.45, "n_boot": 0, **kw})


@pytest.fixture(scope="module")
def counted(parquet):
    """The grouped table counted at the first threshold (scores on the grid)."""
    return count_duckdb(parquet, _spec())


RULES = {
    **{f"edge_{c}": _edge(c) for c in EDGES},
    **{f"below_edge_{c}": np.nextafter(_edge(c), 0) for c in (2, 267, 4_321, 8_188)},
    **{f"above_edge_{c}": np.nextafter(_edge(c), 1) for c in (2, 267, 4_321, 8_188)},
    "lowest_score": LO, "highest_score": HI, "below_all": 0.0, "above_all": 1.5,
    "same_as_counted": 0.45,
}
POLICIES = {
    "per_group": DecisionPolicy.per_group("sex", {"Female": _edge(2_500),
                                                  "Male": np.nextafter(_edge(4_321), 1)}),
    "randomised": DecisionPolicy.per_group("sex", {"Female": _edge(2_500), "Male": 0.6},
                                           mix={"Female": (0.3, np.nextafter(_edge(7_000), 0))}),
    "per_race": DecisionPolicy.per_group(
        "race", {"A": np.nextafter(_edge(2_500), 0), "B": _edge(2_500), "C": 0.3,
                 "(missing)": _edge(9_999)}),
}


def _case(name: str) -> AssessmentSpec:
    if name in POLICIES:
        policy = POLICIES[name]
        return _spec(("sex", "race"), policy=policy)
    return _spec(("sex", "race"), threshold=float(RULES[name]))


def _sorted(g: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in g.columns if c not in ("__n", "__sq", "__ll")]
    return g.sort_values(keys, na_position="first").reset_index(drop=True)


def test_the_file_has_scores_on_a_grid(rows, counted):
    assert rows["score"].nunique() > MAX_DISTINCT_SCORES
    assert counted.score_step == STEP and counted.score_min == LO
    assert recountable(counted)
    cells = grid_cells(counted)
    assert cells.min() == 0 and cells.max() == GRID_POINTS
    # the thresholds tried include edges the grid's arithmetic puts in the cell below, and
    # floats below an edge that it puts in the cell above them
    assert [threshold_cells(counted, [_edge(c)])[0] for c in EDGES] == \
        [1, 1, 267, 2_500, 4_321, 7_000, 8_187, 9_999]
    assert threshold_cells(counted, [np.nextafter(_edge(267), 0)]) == [267]


@pytest.mark.parametrize("name", list(RULES) + list(POLICIES))
def test_recount_equals_a_fresh_count_and_the_oracles(rows, parquet, counted, name):
    spec = _case(name)
    assert derivable(_spec(), spec, bins_on_values=True, scores_kept=True)
    derived = recount_duckdb(parquet, counted, spec)
    fresh = count_duckdb(parquet, spec)
    a, b = _sorted(derived.grouped), _sorted(fresh.grouped)
    # counts exact; score sums up to the order DuckDB adds them in
    pd.testing.assert_frame_equal(a.drop(columns=["__sq", "__ll"]),
                                  b.drop(columns=["__sq", "__ll"]))
    np.testing.assert_allclose(a[["__sq", "__ll"]], b[["__sq", "__ll"]], rtol=1e-12)
    got, want = assess_grouped(derived, spec), assess_grouped(fresh, spec)
    pd.testing.assert_frame_equal(got.counts_frame(), want.counts_frame())
    pd.testing.assert_frame_equal(got.by_group, want.by_group, rtol=1e-12)
    pd.testing.assert_frame_equal(got.disparities, want.disparities, rtol=1e-12)
    assert (got.n_rows, got.n_dropped, got.cube.dropped_reasons) == \
        (want.n_rows, want.n_dropped, want.cube.dropped_reasons)
    _assert_confusion_matrices(got, rows, spec)
    if name in FAIRLEARN:
        _assert_fairlearn(got, rows, spec, FAIRLEARN[name])


FAIRLEARN = {"edge_8188": "sex", "below_edge_267": "sex", "per_race": "race"}
"""Cases also compared with fairlearn's MetricFrame (1-2 s each at 150,000 rows), by the
feature named."""


def _decisions(rows: pd.DataFrame, spec: AssessmentSpec) -> list[tuple[float, np.ndarray]]:
    """(probability, decisions) pairs whose mixture is the policy's decision of each row."""
    policy = spec.policy
    if policy.is_single:
        return [(1.0, (rows["score"] >= policy.threshold).to_numpy())]
    group = rows[policy.feature].fillna("(missing)")
    first = np.zeros(len(rows), dtype=bool)
    other = np.zeros(len(rows), dtype=bool)
    prob = np.ones(len(rows))
    for name, rule in policy.rules.items():
        mask = (group == name).to_numpy()
        first[mask] = rows["score"].to_numpy()[mask] >= rule.threshold
        if rule.is_randomized:
            other[mask] = rows["score"].to_numpy()[mask] >= rule.else_threshold
            prob[mask] = rule.probability
        else:
            other[mask] = first[mask]
    return [(prob, first), (1.0 - prob, other)]


def _assert_confusion_matrices(got, rows, spec):
    kept = rows.dropna(subset=["y", "score"]).reset_index(drop=True)
    counts = got.counts_frame().set_index(["feature", "group"])
    y = kept["y"].astype(int).to_numpy()
    for feature in spec.sensitive:
        groups = kept[feature].fillna("(missing)")
        for group in groups.unique():
            mask = (groups == group).to_numpy()
            total = np.zeros(4)
            for weight, decided in _decisions(kept, spec):
                w = np.broadcast_to(weight, len(kept))[mask]
                if not w.any():  # a group that is not randomised
                    continue
                total += confusion_matrix(y[mask], decided[mask].astype(int), labels=[0, 1],
                                          sample_weight=w).ravel()
            tn, fp, fn, tp = total
            row = counts.loc[(feature, group)]
            np.testing.assert_allclose([row.tn, row.fp, row.fn, row.tp], [tn, fp, fn, tp],
                                       rtol=1e-12, err_msg=f"{feature}={group}")


def _assert_fairlearn(got, rows, spec, feature):
    kept = rows.dropna(subset=["y", "score"]).reset_index(drop=True)
    decided = _decisions(kept, spec)[0][1]  # a policy that is not randomised
    table = got.by_group_wide().set_index(["feature", "group"])
    mf = MetricFrame(metrics={"selection_rate": selection_rate,
                              "true_positive_rate": true_positive_rate,
                              "false_positive_rate": false_positive_rate},
                     y_true=kept["y"].astype(int).to_numpy(), y_pred=decided.astype(int),
                     sensitive_features=kept[feature].fillna("(missing)").to_numpy(str))
    for metric in mf.by_group.columns:
        for group, value in mf.by_group[metric].items():
            assert table.loc[(feature, group), metric] == pytest.approx(value, abs=1e-12), \
                (feature, group, metric)


def test_only_the_cells_next_to_a_threshold_are_read_again(rows, parquet, counted):
    """The recount reads the rows of three cells per threshold: as many rows as NumPy puts in
    those cells with the count's arithmetic, a sliver of the file."""
    import duckdb

    from faircard.engine.sources import _reader

    spec = _case("per_group")
    cells = threshold_cells(counted, [_edge(2_500), np.nextafter(_edge(4_321), 1)])
    ranges = windows(counted, cells)
    assert ranges == [(c - 1, c + 1) for c in cells]
    con = duckdb.connect()
    con.execute(f"CREATE VIEW src AS SELECT * FROM {_reader(parquet)}")
    types = {r[0]: str(r[1]) for r in con.execute("DESCRIBE src").fetchall()}
    recounted = con.sql(recount_query(_columns(spec, types), counted, spec, ranges)).df()
    kept = rows.dropna(subset=["y", "score"])
    cell = np.floor((kept["score"].to_numpy() - LO) / STEP)
    near = sum(((cell >= lo) & (cell <= hi)).sum() for lo, hi in ranges)
    assert recounted["__n"].sum() == near
    assert near < len(kept) / 100  # six cells of 10,000, and the rows placed on the edges


def test_features_removed_and_a_new_rule_at_once(parquet, counted):
    spec = _spec(("race",), threshold=float(np.nextafter(_edge(7_000), 0)))
    derived = recount_duckdb(parquet, counted, spec)
    fresh = count_duckdb(parquet, spec)
    pd.testing.assert_frame_equal(assess_grouped(derived, spec).counts_frame(),
                                  assess_grouped(fresh, spec).counts_frame())
    pd.testing.assert_frame_equal(_sorted(derived.grouped).drop(columns=["__sq", "__ll"]),
                                  _sorted(fresh.grouped).drop(columns=["__sq", "__ll"]))


def test_four_byte_scores_on_a_grid(rows, tmp_path):
    """A FLOAT score column is compared and gridded as a double, in the recount as in the
    count."""
    path = tmp_path / "float32.parquet"
    rows.astype({"score": np.float32}).to_parquet(path)
    counted = count_duckdb(str(path), _spec(("sex",)))
    assert recountable(counted)
    edge = float(np.float32(_edge(4_321)))  # a score the file holds
    for t in (edge, np.nextafter(edge, 0), 0.7):
        spec = _spec(("sex",), threshold=float(t))
        got = assess_grouped(recount_duckdb(str(path), counted, spec), spec)
        want = assess_grouped(count_duckdb(str(path), spec), spec)
        pd.testing.assert_frame_equal(got.counts_frame(), want.counts_frame())


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_recounts_the_same_cells(spark, parquet, counted):
    from faircard.engine.recount import recount_spark
    from faircard.engine.sources import count_spark

    frame = spark.read.parquet(parquet)
    base = count_spark(frame, _spec())
    assert recountable(base) and base.score_step == counted.score_step
    spec = _case("randomised")  # thresholds on an edge and a float below another
    got = recount_spark(frame, base, spec)
    fresh = count_spark(frame, spec)
    pd.testing.assert_frame_equal(_sorted(got.grouped).drop(columns=["__sq", "__ll"]),
                                  _sorted(fresh.grouped).drop(columns=["__sq", "__ll"]))
    pd.testing.assert_frame_equal(
        assess_grouped(got, spec).counts_frame(),
        assess_grouped(recount_duckdb(parquet, counted, spec), spec).counts_frame())
