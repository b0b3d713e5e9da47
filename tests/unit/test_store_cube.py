"""A record keeps the counts cube, so a read-only view can move the threshold: the what-if
figures at any threshold equal scikit-learn on group masks of the original rows, whether
pandas or DuckDB counted them; old records without a cube still open; a cube too large to keep
is left out with a sentence and the record is still made."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, precision_score, recall_score

from faircard.assess import assess_spec
from faircard.cube import cube_from_npz, cube_to_npz
from faircard.engine import assess_source
from faircard.errors import FaircardError
from faircard.governance import stored_cube as stored_cube_module
from faircard.governance.share import assessment_from_cells, cells_of
from faircard.governance.store import AuditStore
from faircard.governance.stored_cube import has_cube, stored_cube
from faircard.governance.what_if import cell_counts_at, what_if
from faircard.spec import AssessmentSpec

N = 3000
THRESHOLDS = (-0.5, 0.0, 0.25, 0.3701, 0.5, 0.731, 1.0, 1.5)
DATA_SHA = hashlib.sha256(b"rows").hexdigest()


def _rows(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], N)
    race = rng.choice(["A", "B", "C"], N, p=[0.6, 0.3, 0.1])
    y = (rng.random(N) < 0.3 + 0.15 * (sex == "Male")).astype(np.int64)
    score = np.clip(0.3 * y + rng.normal(0.35, 0.2, N), 0, 1)
    score[: N // 2] = np.round(score[: N // 2], 3)  # ties, and exact distinct scores
    frame = pd.DataFrame({"y": y, "score": score, "sex": sex, "race": race})
    frame.loc[frame.index[:25], "score"] = np.nan  # left out, and counted as left out
    return frame


SPEC = AssessmentSpec(target="y", score="score", sensitive=("sex", "race"), threshold=0.45,
                      n_boot=0, min_group_size=30)


@pytest.fixture(scope="module")
def rows():
    return _rows()


@pytest.fixture(scope="module")
def parquet(rows, tmp_path_factory):
    path = tmp_path_factory.mktemp("cube") / "rows.parquet"
    rows.to_parquet(path)
    return path


@pytest.fixture(scope="module", params=["pandas", "duckdb"])
def recorded(request, rows, parquet, tmp_path_factory):
    """(assessment, the cells read back from an audit store, the store's path)."""
    if request.param == "pandas":
        a = assess_spec(rows, SPEC)
    else:
        a = assess_source(str(parquet), SPEC, engine="duckdb")
        assert a.cube.engine["name"] == "duckdb"
    path = tmp_path_factory.mktemp("store") / "audit.db"
    with AuditStore(path) as store:
        rec = store.add(a, title="Loans", created_by="Ana Kim", dataset_name="rows.parquet",
                        dataset_sha256=DATA_SHA, cells=cells_of(a))
        assert store.problems(rec.id) == [] and store.verify().ok
        cells = store.cells(rec.id)
    return a, cells, path


def _oracle(rows: pd.DataFrame, feature: str, group: str, t: float) -> dict[str, float]:
    kept = rows.dropna(subset=["y", "score"])
    mask = np.ones(len(kept), dtype=bool)
    for f, g in zip(feature.split(" & "), group.split(" & "), strict=True):
        mask &= (kept[f] == g).to_numpy()
    y = kept["y"].to_numpy()[mask]
    pred = (kept["score"].to_numpy()[mask] >= t).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    nan = float("nan")
    return {
        "n": int(mask.sum()), "tn": tn, "fp": fp, "fn": fn, "tp": tp,
        "selection_rate": float(pred.mean()),
        "accuracy": accuracy_score(y, pred),
        "precision": precision_score(y, pred, zero_division=nan),
        "true_positive_rate": recall_score(y, pred, zero_division=nan),
        "false_positive_rate": 1 - recall_score(y, pred, pos_label=0, zero_division=nan),
        "false_negative_rate": 1 - recall_score(y, pred, zero_division=nan),
    }


def test_what_if_at_several_thresholds_equals_scikit_learn_on_group_masks(recorded, rows):
    _a, cells, _path = recorded
    cube = stored_cube(cells)
    assert cube is not None and cube.scores is not None and cube.scores.step is None
    checked = 0
    for t in THRESHOLDS:
        w = what_if(cube, t, intersection=True, min_group_size=30)
        assert set(w.by_group["feature"]) == {"sex", "race", "sex & race"}
        for row in w.by_group.to_dict("records"):
            expected = _oracle(rows, row["feature"], row["group"], t)
            for key, value in expected.items():
                assert row[key] == pytest.approx(value, rel=1e-12, nan_ok=True), \
                    (t, row["feature"], row["group"], key)
            checked += 1
        everybody = _oracle(rows, "sex", "Female", -1.0)["n"] + \
            _oracle(rows, "sex", "Male", -1.0)["n"]
        assert w.overall["count"] == everybody == N - 25
    assert checked == len(THRESHOLDS) * (2 + 3 + 6)


def _policy_oracle(rows: pd.DataFrame, feature: str, group: str, part: str,
                   rules: dict[str, tuple[float, float, float]]) -> dict[str, float]:
    """Each what-if figure of ``group`` under thresholds per group of ``part`` (``rules``:
    group -> (threshold, probability, else threshold)), by scikit-learn with sample weights:
    every row twice, decided positive with its probability and negative with the rest."""
    kept = rows.dropna(subset=["y", "score"])
    mask = np.ones(len(kept), dtype=bool)
    for f, g in zip(feature.split(" & "), group.split(" & "), strict=True):
        mask &= (kept[f] == g).to_numpy()
    key = kept[part.split(" & ")].astype(str).agg(" & ".join, axis=1).to_numpy()
    score = kept["score"].to_numpy()
    p = np.zeros(len(kept))
    for g, (t, prob, other) in rules.items():
        at = key == g
        p[at] = prob * (score[at] >= t) + (1 - prob) * (score[at] >= other)
    y = np.concatenate([kept["y"].to_numpy()[mask]] * 2)
    pred = np.repeat([1, 0], mask.sum())
    w = np.concatenate([p[mask], 1 - p[mask]])
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1], sample_weight=w).ravel()
    nan = float("nan")
    return {"n": int(mask.sum()), "tn": tn, "fp": fp, "fn": fn, "tp": tp,
            "selection_rate": float(np.average(pred, weights=w)),
            "accuracy": accuracy_score(y, pred, sample_weight=w),
            "precision": precision_score(y, pred, sample_weight=w, zero_division=nan),
            "true_positive_rate": recall_score(y, pred, sample_weight=w, zero_division=nan),
            "false_positive_rate": 1 - recall_score(y, pred, pos_label=0, sample_weight=w,
                                                    zero_division=nan),
            "false_negative_rate": 1 - recall_score(y, pred, sample_weight=w,
                                                    zero_division=nan)}


@pytest.mark.parametrize("part,rules", [
    ("race", {"A": (0.5, 1.0, 0.5), "B": (0.3701, 1.0, 0.3701), "C": (0.731, 1.0, 0.731)}),
    ("sex", {"Female": (0.4, 0.3, 0.55), "Male": (0.45, 1.0, 0.45)}),  # randomised
    ("sex & race", {f"{s} & {r}": (0.25 + 0.05 * i, 0.6 if i % 2 else 1.0, 0.5)
                    for i, (s, r) in enumerate((s, r) for s in ("Female", "Male")
                                               for r in ("A", "B", "C"))}),
], ids=["per race", "per sex, randomised", "per intersection, randomised"])
def test_what_if_of_a_per_group_policy_equals_scikit_learn(recorded, rows, part, rules):
    """The what-if under thresholds per group (plain or randomised, on a feature or on the
    intersection): every group of every grouping, against weighted scikit-learn."""
    from faircard.decision import DecisionPolicy

    cube = stored_cube(recorded[1])
    policy = DecisionPolicy.per_group(part, {g: r[0] for g, r in rules.items()},
                                      mix={g: r[1:] for g, r in rules.items() if r[1] < 1})
    w = what_if(cube, policy, intersection=True, min_group_size=30)
    assert w.threshold is None and w.policy == policy
    assert w.is_randomized == (part != "race")
    for row in w.by_group.to_dict("records"):
        expected = _policy_oracle(rows, row["feature"], row["group"], part, rules)
        for key, value in expected.items():
            assert row[key] == pytest.approx(value, rel=1e-9, nan_ok=True), \
                (part, row["feature"], row["group"], key)
    assert len(w.by_group) == 2 + 3 + 6
    if part == "race":  # whole rows: the counts are whole numbers
        assert all(isinstance(row["tp"], int) for row in w.by_group.to_dict("records"))


def test_what_if_of_the_recorded_rule_gives_the_recorded_counts(recorded):
    a, cells, _path = recorded
    cube = stored_cube(cells)
    w = what_if(cube, a.spec.policy)
    assert w.threshold == SPEC.threshold
    assert np.array_equal(cell_counts_at(cube, a.spec.policy), a.cube.cells)


def test_a_policy_on_groups_the_record_does_not_have_is_a_sentence(recorded):
    from faircard.decision import DecisionPolicy

    cube = stored_cube(recorded[1])
    with pytest.raises(FaircardError, match="per group of 'age', which is not one of this "
                                            "record's groupings: sex, race, sex & race"):
        what_if(cube, DecisionPolicy.per_group("age", {"young": 0.5}))
    with pytest.raises(FaircardError, match="no threshold for the group 'B'"):
        what_if(cube, DecisionPolicy.per_group("race", {"A": 0.5, "C": 0.5}))


def test_the_stored_cube_gives_the_recorded_counts_and_accounting(recorded):
    a, cells, _path = recorded
    cube = stored_cube(cells)
    assert np.array_equal(cell_counts_at(cube, SPEC.threshold), a.cube.cells)
    assert (cube.n_input, cube.n_dropped, cube.dropped_reasons) == (
        a.cube.n_input, a.cube.n_dropped, a.cube.dropped_reasons)
    assert cube.index.labels == a.cube.index.labels
    assert np.array_equal(cube.index.cell_codes, a.cube.index.cell_codes)
    for k in ("brier_score", "log_loss"):
        np.testing.assert_allclose(cube.scores.sums[k], a.cube.scores.sums[k], rtol=1e-12)


def test_trivial_policies_are_said_to_be_trivial(recorded):
    cube = stored_cube(recorded[1])
    assert "nobody is approved" in what_if(cube, 1.5).trivial
    flagged = what_if(cube, -0.5, favorable_outcome="negative")
    assert "everybody is flagged" in flagged.trivial
    assert what_if(cube, 0.5).trivial is None


def test_a_cube_round_trips_exactly_through_its_archive(rows):
    cube = assess_spec(rows, SPEC).cube
    back = cube_from_npz(cube_to_npz(cube))
    # one entry per distinct (cell, outcome, score): far fewer than rows for rounded scores
    assert len(back.scores.y_score) < len(cube.scores.y_score)
    assert back.scores.weight.sum() == len(cube.scores.y_score)
    for t in (*THRESHOLDS, *np.unique(cube.scores.y_score)[::97]):
        positive = cube.scores.y_score >= t
        code = cube.scores.cell * 4 + cube.scores.y_true * 2 + positive
        direct = np.bincount(code, minlength=cube.n_cells * 4).reshape(-1, 4)
        assert np.array_equal(cell_counts_at(back, t), direct), t
    assert (back.scores.minimum, back.scores.maximum) == (cube.scores.minimum,
                                                          cube.scores.maximum)


def test_a_prediction_column_keeps_a_cube_without_scores(rows, tmp_path):
    data = rows.assign(pred=(rows["score"] >= 0.5).astype(int))
    spec = AssessmentSpec(target="y", prediction="pred", sensitive=("sex",), n_boot=0)
    a = assess_spec(data, spec)
    cube = stored_cube(cells_of(a))
    assert cube.scores is None and np.array_equal(cube.cells, a.cube.cells)
    with pytest.raises(FaircardError, match="predicted labels"):
        what_if(cube, 0.5)


def test_an_old_record_without_a_cube_still_opens(rows, tmp_path):
    a = assess_spec(rows, SPEC)
    old = cells_of(a)
    del old["cube"]  # as recorded before records kept the cube
    with AuditStore(tmp_path / "a.db") as store:
        with_cells = store.add(a, title="old", created_by="Ana Kim", dataset_name="r.csv",
                               dataset_sha256=DATA_SHA, cells=old)
        bare = store.add(a, title="older", created_by="Ana Kim", dataset_name="r.csv",
                         dataset_sha256=DATA_SHA)
        assert store.verify().ok
        for rec in (with_cells, bare):
            assert store.problems(rec.id) == []
            assert not has_cube(store.cells(rec.id)) and stored_cube(store.cells(rec.id)) is None
        assert assessment_from_cells(store.cells(with_cells.id)).overall == \
            pytest.approx(a.overall, nan_ok=True)


def test_a_cube_too_large_is_left_out_with_a_sentence_and_the_record_is_made(rows, tmp_path,
                                                                             monkeypatch):
    a = assess_spec(rows, SPEC)
    size = len(cube_to_npz(a.cube))
    monkeypatch.setattr(stored_cube_module, "MAX_CUBE_BYTES", size - 1)
    cells = cells_of(a)
    assert cells["cube"] is None
    note = cells["cube_note"]
    assert f"{size / 1e6:,.1f} MB compressed" in note and "cannot show another threshold" in note
    with AuditStore(tmp_path / "a.db") as store:
        rec = store.add(a, title="big", created_by="Ana Kim", dataset_name="r.csv",
                        dataset_sha256=DATA_SHA, cells=cells)
        assert rec.has_cells and store.problems(rec.id) == []
        assert stored_cube(store.cells(rec.id)) is None
        assert store.cells(rec.id)["cube_note"] == note


def test_the_cli_says_when_a_cube_is_left_out(rows, tmp_path, monkeypatch, capsys):
    from faircard.cli import main as cli_main

    monkeypatch.setattr(stored_cube_module, "MAX_CUBE_BYTES", 100)
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    rc = cli_main(["record", str(path), "--target", "y", "--score", "score", "--sensitive",
                   "sex", "--author", "Ana Kim", "--store", str(tmp_path / "a.db")])
    out = capsys.readouterr().out
    assert rc == 0 and "record 1 (draft)" in out
    assert "note: The counts cube is" in out and "cannot show another threshold" in out


POLICY_SPECS = {
    "per group": AssessmentSpec(target="y", score="score", sensitive=("sex", "race"), n_boot=0,
                                policy={"feature": "race",
                                        "thresholds": {"A": 0.4, "B": 0.5, "C": 0.55}}),
    "per cell": AssessmentSpec(target="y", score="score", sensitive=("sex", "race"), n_boot=0,
                               policy={"feature": "sex & race", "thresholds": {
                                   f"{s} & {r}": 0.3 + 0.05 * i for i, (s, r) in enumerate(
                                       (s, r) for s in ("Female", "Male") for r in "ABC")}}),
    "randomised": AssessmentSpec(target="y", score="score", sensitive=("sex", "race"), n_boot=0,
                                 policy={"feature": "sex",
                                         "thresholds": {"Female": 0.4, "Male": 0.5},
                                         "mix": {"Female": {"probability": 0.3,
                                                            "else_threshold": 0.6}}}),
    "no intersection": AssessmentSpec(target="y", score="score", sensitive=("sex", "race"),
                                      n_boot=0, intersection=False, threshold=0.4),
}


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
@pytest.mark.parametrize("name", list(POLICY_SPECS))
def test_records_under_every_kind_of_rule_verify_with_their_cube(name, engine, rows, parquet,
                                                                  tmp_path):
    spec = POLICY_SPECS[name]
    a = assess_spec(rows, spec) if engine == "pandas" else \
        assess_source(str(parquet), spec, engine="duckdb")
    with AuditStore(tmp_path / "a.db") as store:
        store.add(a, title=name, created_by="Ana Kim", dataset_name="rows.parquet",
                  dataset_sha256=DATA_SHA, cells=cells_of(a))
        assert store.problems(1) == [] and store.verify().ok
        cube = stored_cube(store.cells(1))
    assert np.allclose(cube.cells, a.cube.cells, rtol=0, atol=1e-9)


@pytest.mark.parametrize("written", [1.5, "1", 1.0, True])
def test_cell_codes_that_are_not_whole_numbers_are_refused(recorded, written):
    """A cell code is a whole number: 1.5 or "1" (or 1.0, or true) is not read as 1, neither
    when the cube is checked against the record nor when the share view draws the cells."""
    from faircard.governance.records import summary_of
    from faircard.governance.stored_cube import cube_problem

    a, cells, _path = recorded
    codes = [list(row) for row in cells["cell_codes"]]
    i, j = next((i, j) for i, row in enumerate(codes) for j, c in enumerate(row) if c == 1)
    codes[i][j] = written
    bad = {**cells, "cell_codes": codes}
    assert cube_problem(cells, summary_of(a)) == ""
    assert "cell codes" in cube_problem(bad, summary_of(a))
    with pytest.raises(FaircardError, match="cell codes"):
        assessment_from_cells(bad)
