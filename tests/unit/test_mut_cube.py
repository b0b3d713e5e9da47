"""The counts cube a record keeps, its archive and the what-if threshold read from it, held to
independent computations: the what-if figures against scikit-learn on group masks of the rows,
the archive's arrays against NumPy's own ``.npz`` reader and hand-counted (cell, outcome, score)
entries, and every check of a stored cube against an archive crafted here to break exactly
that check (it must be refused, and its neighbour that keeps to the bound must not be); written
to kill mutmut survivors."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, precision_score, recall_score

from faircard.assess import assess_spec
from faircard.cube import CUBE_FORMAT, CUBE_VERSION, cube_from_npz, cube_to_npz
from faircard.errors import FaircardError
from faircard.governance import stored_cube as sc_mod
from faircard.governance.records import summary_of
from faircard.governance.share import cells_of
from faircard.governance.what_if import COUNT_COLUMNS, WHAT_IF_METRICS, cell_counts_at, what_if
from faircard.spec import AssessmentSpec

NAN = float("nan")


def _rows() -> pd.DataFrame:
    """Group sizes chosen around the default minimum of 30: sex F 30 rows, M 29 rows, X 41;
    scores on a 0.05 grid (ties), with one -0.0 next to 0.0 in the same cell."""
    rng = np.random.default_rng(11)
    sex = np.array(["F"] * 30 + ["M"] * 29 + ["X"] * 41)
    band = rng.choice(["lo", "hi"], len(sex))
    y = (rng.random(len(sex)) < 0.4 + 0.2 * (sex == "M")).astype(np.int64)
    score = np.round(np.clip(0.3 * y + rng.normal(0.35, 0.2, len(sex)), 0, 1) * 20) / 20
    return pd.DataFrame({"y": y, "score": score, "sex": sex, "band": band})


SPEC = AssessmentSpec(target="y", score="score", sensitive=("sex", "band"), threshold=0.5,
                      n_boot=0)


@pytest.fixture(scope="module")
def rows():
    return _rows()


@pytest.fixture(scope="module")
def assessment(rows):
    return assess_spec(rows, SPEC)


@pytest.fixture(scope="module")
def stored(assessment):
    return cube_from_npz(cube_to_npz(assessment.cube))


def _oracle(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    return {"tn": tn, "fp": fp, "fn": fn, "tp": tp, "selection_rate": pred.mean() if len(y) else NAN,
            "accuracy": accuracy_score(y, pred),
            "precision": precision_score(y, pred, zero_division=NAN),
            "true_positive_rate": recall_score(y, pred, zero_division=NAN),
            "false_positive_rate": 1 - recall_score(y, pred, pos_label=0, zero_division=NAN),
            "false_negative_rate": 1 - recall_score(y, pred, zero_division=NAN)}


# -- what if: another threshold ------------------------------------------------------------------

@pytest.mark.parametrize("t", [0.0, 0.35, 0.5, 0.55, 1.0, 1.01])
def test_what_if_defaults_equal_scikit_learn_on_group_masks(t, rows, stored):
    w = what_if(stored, t)  # defaults: intersection, groups under 30 small, positive favourable
    assert w.threshold == t and type(w.threshold) is float and w.grid_step is None
    assert list(w.by_group.columns) == ["feature", "group", "n", "is_small_group",
                                        *COUNT_COLUMNS, *WHAT_IF_METRICS]
    pred = (rows["score"].to_numpy() >= t).astype(int)
    y = rows["y"].to_numpy()
    seen = []
    for r in w.by_group.to_dict("records"):
        mask = np.ones(len(rows), bool)
        for f, g in zip(r["feature"].split(" & "), r["group"].split(" & "), strict=True):
            mask &= rows[f].to_numpy() == g
        assert r["n"] == mask.sum() and type(r["n"]) is int
        assert r["is_small_group"] is bool(mask.sum() < 30)
        for k, v in _oracle(y[mask], pred[mask]).items():
            assert r[k] == pytest.approx(v, nan_ok=True, rel=1e-12), (t, r["group"], k)
        seen.append((r["feature"], r["group"]))
    assert {f for f, _ in seen} == {"sex", "band", "sex & band"}
    everybody = _oracle(y, pred)
    assert w.overall["count"] == len(rows)
    for k, v in everybody.items():
        assert w.overall[k] == pytest.approx(v, nan_ok=True, rel=1e-12), k
    assert set(w.overall) == {"count", *COUNT_COLUMNS, *WHAT_IF_METRICS}


def test_a_group_of_exactly_the_minimum_size_is_not_small(stored):
    small = dict(zip(what_if(stored, 0.5).by_group["group"],
                     what_if(stored, 0.5).by_group["is_small_group"], strict=True))
    assert small["F"] is False and small["M"] is True and small["X"] is False
    flags = what_if(stored, 0.5, min_group_size=41, intersection=False).by_group
    assert set(flags["feature"]) == {"sex", "band"}
    assert dict(zip(flags["group"], flags["is_small_group"], strict=True))["X"] is False
    assert dict(zip(flags["group"], flags["is_small_group"], strict=True))["F"] is True


def test_what_if_names_a_trivial_rule_in_the_favourable_words(stored):
    assert what_if(stored, 1.01).trivial.startswith(
        "The decision rule tells nobody apart: nobody is approved (0 of 100)")
    flagged = what_if(stored, 0.0, favorable_outcome="negative").trivial
    assert "everybody is flagged (all of 100)" in flagged
    assert what_if(stored, 0.5).trivial is None


@pytest.mark.parametrize("bad", [NAN, float("inf"), -float("inf")])
def test_a_threshold_that_is_not_a_finite_number_is_a_sentence(bad, stored):
    with pytest.raises(FaircardError, match="A threshold is a finite number; got"):
        cell_counts_at(stored, bad)


def test_the_counts_at_a_threshold_are_whole_rows_per_cell_in_floats(assessment, stored, rows):
    sc = assessment.cube.scores
    for cube in (assessment.cube, stored):  # one entry per row, or weighted distinct entries
        got = cell_counts_at(cube, 0.45)
        assert got.dtype == np.float64 and got.shape == (cube.n_cells, 4)
        code = sc.cell * 4 + sc.y_true * 2 + (sc.y_score >= 0.45)
        assert np.array_equal(got, np.bincount(code, minlength=cube.n_cells * 4).reshape(-1, 4))


def test_what_if_reports_the_grid_step_of_the_scores(stored):
    grid = dataclasses.replace(stored, scores=dataclasses.replace(stored.scores, step=0.05))
    assert what_if(grid, 0.5).grid_step == 0.05
    back = cube_from_npz(cube_to_npz(grid))
    assert back.scores.step == 0.05 and type(back.scores.step) is float


# -- the record's cube entry and its decoding -----------------------------------------------------

def _message(fn, *args, **kw) -> str:
    with pytest.raises(FaircardError) as err:
        fn(*args, **kw)
    return str(err.value)


def test_a_cube_of_exactly_the_bound_is_kept_and_one_byte_more_is_left_out(assessment,
                                                                           monkeypatch):
    blob = cube_to_npz(assessment.cube)
    monkeypatch.setattr(sc_mod, "MAX_CUBE_BYTES", len(blob))
    entry, note = sc_mod.cube_entry(assessment.cube)
    assert note == "" and entry == {"encoding": "npz+base64", "bytes": len(blob),
                                    "data": base64.b64encode(blob).decode("ascii")}
    monkeypatch.setattr(sc_mod, "MAX_CUBE_BYTES", len(blob) - 1)
    assert sc_mod.cube_entry(assessment.cube) == (None, sc_mod.too_large(len(blob)))


def test_the_sentence_for_a_cube_too_large_gives_both_sizes_in_megabytes(monkeypatch):
    # 12,350,010 bytes are 12.35001 MB (12.4 to one decimal), 11.5 MB rounds to 12
    monkeypatch.setattr(sc_mod, "MAX_CUBE_BYTES", 11_500_000)
    assert sc_mod.too_large(12_350_010) == (
        "The counts cube is 12.4 MB compressed; a record keeps at most 12 MB, so this record "
        "keeps its counts at the recorded decision rule without the cube, and its share link "
        "cannot show another threshold. Fewer distinct scores (for example scores rounded to "
        "four decimals) or fewer groups make the cube smaller.")


@pytest.mark.parametrize("cells, expected", [
    (None, False), ([("cube", 1)], False), ({}, False), ({"cube": None}, False),
    ({"cube": {}}, True), ({"cube": "x"}, True)])
def test_has_cube_reads_only_a_document_with_a_cube(cells, expected):
    assert sc_mod.has_cube(cells) is expected


@pytest.mark.parametrize("entry", [
    "npz", ["npz+base64"], {"encoding": "npz", "data": ""}, {"data": "UEsFBg=="},
    {"encoding": "npz+base64", "data": b"UEsFBg=="}, {"encoding": "npz+base64"}])
def test_a_cube_entry_of_another_form_is_a_sentence(entry):
    assert _message(sc_mod.stored_cube, {"cube": entry}) == (
        "This record's counts cube is not in a form this faircard reads (expected "
        "npz+base64); upgrade faircard to open it.")


def test_the_text_of_a_stored_cube_is_bounded_by_the_base64_of_the_byte_bound(monkeypatch):
    # base64 of n bytes is 4 * ceil(n / 3) characters: 300 bytes -> 400, 301 -> 404
    for bound, most in ((300, 400), (301, 404)):
        monkeypatch.setattr(sc_mod, "MAX_CUBE_BYTES", bound)
        at_most = {"cube": {"encoding": "npz+base64", "data": "A" * most}}
        assert "not a NumPy archive" in _message(sc_mod.stored_cube, at_most)
        more = {"cube": {"encoding": "npz+base64", "data": "A" * (most + 4)}}
        assert _message(sc_mod.stored_cube, more) == (
            f"This record's counts cube is larger than the {bound:,} bytes a record keeps; it "
            "was not written by faircard.")


@pytest.mark.parametrize("data", ["!!!!", "UEsFBg=", "UEsF Bg=="])
def test_a_stored_cube_that_is_not_base64_is_a_sentence(data):
    assert _message(sc_mod.stored_cube, {"cube": {"encoding": "npz+base64", "data": data}}) == \
        "This record's counts cube is damaged (not base64)."


def test_a_stored_cube_is_read_within_the_unpacked_bound(assessment, monkeypatch):
    entry, _ = sc_mod.cube_entry(assessment.cube)
    back = sc_mod.stored_cube({"cube": entry})
    assert np.array_equal(back.cells, assessment.cube.cells)
    unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(cube_to_npz(
        assessment.cube))).infolist())
    monkeypatch.setattr(sc_mod, "MAX_CUBE_UNPACKED", unpacked)
    assert sc_mod.stored_cube({"cube": entry}).n_input == assessment.cube.n_input
    monkeypatch.setattr(sc_mod, "MAX_CUBE_UNPACKED", unpacked - 1)
    assert f"it unpacks to more than {unpacked - 1:,} bytes" in \
        _message(sc_mod.stored_cube, {"cube": entry})


# -- verify: the cube gives the record's figures --------------------------------------------------

@pytest.fixture(scope="module")
def record(assessment):
    """(per-cell document, summary) as a record stores them, through JSON."""
    return (json.loads(json.dumps(cells_of(assessment))),
            json.loads(json.dumps(summary_of(assessment))))


def _problem(record, change_cells=None, change_summary=None) -> str:
    cells, summary = json.loads(json.dumps(record[0])), json.loads(json.dumps(record[1]))
    if change_cells:
        change_cells(cells)
    if change_summary:
        change_summary(summary)
    return sc_mod.cube_problem(cells, summary)


def _with_cube(change):
    """A change of the stored cube itself (re-encoded, as with the hash recomputed)."""
    def apply(cells):
        cube = change(sc_mod.stored_cube(cells))
        cells["cube"] = sc_mod.cube_entry(cube)[0]
    return apply


def test_the_recorded_cube_gives_its_record(record):
    assert _problem(record) == ""
    assert sc_mod.cube_problem({"cube": None}, {}) == ""
    assert sc_mod.cube_problem(None, {}) == ""


def _set(key, value):
    return lambda d: d.__setitem__(key, value)


def _scale_counts(factor):
    def apply(cells):
        cells["counts"] = (np.asarray(cells["counts"], np.float64) * factor).tolist()
    return apply


def _zero_count(value):
    def apply(cells):
        counts = np.asarray(cells["counts"], np.float64)
        i, j = np.argwhere(counts == 0)[0]
        cells["counts"][i][j] = value
    return apply


def _overall(metric, value):
    return lambda s: s["overall"].__setitem__(metric, value)


@pytest.mark.parametrize("change_cells, change_summary, why", [
    (_set("features", ["band", "sex"]), None, "other groups"),
    (lambda c: c["labels"]["sex"].reverse(), None, "other groups"),
    (lambda c: c["labels"]["band"].append("mid"), None, "other groups"),
    (lambda c: c["cell_codes"].reverse(), None, "other cells"),
    (lambda c: c["cell_codes"].pop(), None, "other cells"),
    (_scale_counts(1 + 1e-8), None, "other per-cell counts"),
    (lambda c: c["counts"].pop(), None, "other per-cell counts"),
    (lambda c: c.__setitem__("n_input", c["n_input"] + 1), None, "other row accounting"),
    (lambda c: c.__setitem__("n_dropped", 1), None, "other row accounting"),
    (None, lambda s: s.__setitem__("n_rows", s["n_rows"] + 1), "other row accounting"),
    (None, lambda s: s.__setitem__("n_dropped", 1), "other row accounting"),
    (None, _overall("accuracy", 0.5), "another overall accuracy"),
    (None, _overall("count", 99), "another overall count"),
    (None, _overall("f1", None), "another overall f1"),
    (None, lambda s: s.__setitem__("overall", None), "another overall count"),
    (None, lambda s: s.pop("n_rows"), "'n_rows'"),
    (lambda c: c.pop("spec"), None, "'spec'"),
    (lambda c: c.__setitem__("n_input", None), None, "int() argument"),
    (lambda c: c["counts"][0].__setitem__(0, None), None, "other per-cell counts"),
    (_zero_count(5e-9), None, "other per-cell counts"),  # 0 is held to 1e-9
])
def test_a_record_whose_cube_gives_other_figures_names_what_differs(record, change_cells,
                                                                    change_summary, why):
    problem = _problem(record, change_cells, change_summary)
    assert problem.startswith("its stored counts cube does not give its recorded figures (")
    assert problem.endswith("): the cube was changed after it was recorded")
    if why.startswith("other") or why.startswith("another"):  # faircard's own reason: exactly
        assert f"figures ({why}): the cube" in problem
    else:
        assert why in problem


def test_figures_rounded_to_twelve_digits_still_verify(record):
    def round12(summary):
        summary["overall"] = {k: (None if v is None else float(f"{v:.12g}"))
                              for k, v in summary["overall"].items()}
    assert _problem(record, None, round12) == ""
    assert _problem(record, _scale_counts(1 + 1e-10)) == ""
    assert "another overall accuracy" in _problem(
        record, None, _overall("accuracy", record[1]["overall"]["accuracy"] * (1 + 1e-7)))


def _move_score(cube):
    """One negative outcome's score moved across the recorded threshold (0.5): every cell keeps
    its rows, the decisions differ."""
    s = cube.scores
    i = int(np.flatnonzero(~s.y_true & (s.y_score < 0.4))[0])
    score = s.y_score.copy()
    score[i] = 0.9
    return dataclasses.replace(cube, scores=dataclasses.replace(s, y_score=score))


def _move_outcome(cube):
    s = cube.scores
    y = s.y_true.copy()
    y[0] = not y[0]
    return dataclasses.replace(cube, scores=dataclasses.replace(s, y_true=y))


def _move_cell(cube):
    s = cube.scores
    cell = s.cell.copy()
    cell[cell == 0] = 1
    return dataclasses.replace(cube, scores=dataclasses.replace(s, cell=cell))


@pytest.mark.parametrize("change, why", [
    (_move_score, "other decisions under the recorded rule"),
    (_move_outcome, "other rows per cell"),
    (_move_cell, "other rows per cell"),
    (lambda c: dataclasses.replace(c, cells=c.cells + 1), "other per-cell counts"),
    (lambda c: dataclasses.replace(c, n_dropped=3), "other row accounting"),
])
def test_a_rewritten_cube_is_found(record, change, why):
    assert why in _problem(record, _with_cube(change))


def test_a_cube_on_a_grid_is_not_held_to_exact_decisions(record):
    grid = _with_cube(lambda c: dataclasses.replace(
        _move_score(c), scores=dataclasses.replace(_move_score(c).scores, step=0.05)))
    assert _problem(record, grid) == ""


def test_an_unreadable_cube_is_named(record):
    broken = {"encoding": "npz+base64", "data": "!!!!"}
    assert _problem(record, _set("cube", broken)) == (
        "its stored counts cube cannot be read: This record's counts cube is damaged "
        "(not base64).")


POLICIES = {
    "per group": {"feature": "sex", "thresholds": {"F": 0.35, "M": 0.6, "X": 0.5}},
    "per cell": {"feature": "sex & band", "thresholds": {
        f"{s} & {b}": 0.3 + 0.05 * i for i, (s, b) in enumerate(
            (s, b) for s in "FMX" for b in ("hi", "lo"))}},
    "randomised": {"feature": "sex", "thresholds": {"F": 0.35, "M": 0.6, "X": 0.5},
                   "mix": {"F": {"probability": 0.3, "else_threshold": 0.6}}},
}


def _moved_across(cube, feature, group, low, high):
    """One negative outcome of ``group`` with a score in [low, high) moved to ``high``."""
    s = cube.scores
    part = {p.name: p for p in cube.partitions(True)}[feature]
    of = part.cell_to_group[s.cell] == part.groups.index(group)
    i = int(np.flatnonzero(of & ~s.y_true & (s.y_score >= low) & (s.y_score < high))[0])
    score = s.y_score.copy()
    score[i] = high
    return dataclasses.replace(cube, scores=dataclasses.replace(s, y_score=score))


@pytest.mark.parametrize("name, moved", [
    ("per group", ("sex", "F", 0.0, 0.35)),       # across F's threshold, under everybody else's
    ("per group", ("sex", "M", 0.5, 0.6)),
    ("per cell", ("sex & band", "M & lo", 0.0, 0.45)),
    ("randomised", ("sex", "F", 0.35, 0.6)),      # across F's other threshold: 0.7 of a row
])
def test_records_under_per_group_rules_verify_and_a_moved_score_is_found(name, moved, rows):
    spec = dataclasses.replace(SPEC, policy=POLICIES[name])
    a = assess_spec(rows, spec)
    cells = json.loads(json.dumps(cells_of(a)))
    summary = json.loads(json.dumps(summary_of(a)))
    assert sc_mod.cube_problem(cells, summary) == ""
    _with_cube(lambda c: _moved_across(c, *moved))(cells)
    assert "figures (other decisions under the recorded rule): the cube" in \
        sc_mod.cube_problem(cells, summary)


def test_a_record_on_predicted_labels_is_held_to_its_counts_only(rows):
    data = rows.assign(pred=(rows["score"] >= 0.5).astype(int))
    a = assess_spec(data, AssessmentSpec(target="y", prediction="pred", sensitive=("sex",),
                                         n_boot=0))
    cells, summary = cells_of(a), summary_of(a)
    assert sc_mod.stored_cube(cells).scores is None and sc_mod.cube_problem(cells, summary) == ""
    cells["counts"][0][0] += 1
    assert "other per-cell counts" in sc_mod.cube_problem(cells, summary)


# -- the archive ----------------------------------------------------------------------------------

def _members(blob: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _header(blob: bytes) -> dict:
    return json.loads(bytes(_members(blob)["header"]).decode("utf-8"))


def test_the_archive_holds_one_entry_per_distinct_cell_outcome_and_score(assessment, rows):
    cube = assessment.cube
    m = _members(cube_to_npz(cube))
    assert set(m) == {"header", "cells", "cell_codes", "entry_cell", "entry_y",
                      "entry_score_planes", "entry_weight", "sum_brier_score", "sum_log_loss"}
    # by hand: pandas groups the rows by (cell, outcome, score)
    s = cube.scores
    frame = pd.DataFrame({"cell": s.cell, "y": s.y_true.astype(int), "score": s.y_score})
    counted = frame.groupby(["cell", "y", "score"]).size().reset_index(name="rows")
    assert m["entry_cell"].dtype == np.int32 and m["entry_y"].dtype == np.uint8
    assert m["entry_weight"].dtype == np.int64  # whole rows are kept as integers
    assert m["entry_cell"].tolist() == counted["cell"].tolist()
    assert m["entry_y"].tolist() == counted["y"].tolist()
    assert m["entry_weight"].tolist() == counted["rows"].tolist()
    planes = m["entry_score_planes"]
    assert planes.shape == (8, len(counted)) and planes.dtype == np.uint8
    bits = np.cumsum(np.ascontiguousarray(planes.T).view("<u8").reshape(-1), dtype=np.uint64)
    assert bits.view(np.float64).tolist() == counted["score"].tolist()
    assert m["cells"].dtype == np.int64 and np.array_equal(m["cells"], cube.cells)
    assert np.array_equal(m["cell_codes"], cube.index.cell_codes)
    for k in ("brier_score", "log_loss"):
        assert np.array_equal(m[f"sum_{k}"], s.sums[k])
    header = _header(cube_to_npz(cube))
    assert header == {
        "format": CUBE_FORMAT, "version": CUBE_VERSION, "features": ["sex", "band"],
        "labels": {f: list(cube.index.labels[f]) for f in ("sex", "band")},
        "pos_label": 1, "n_input": len(rows), "n_dropped": 0, "dropped_reasons": {},
        "engine": header["engine"],
        "scores": {"minimum": float(rows["score"].min()), "maximum": float(rows["score"].max()),
                   "step": None}}
    assert type(header["pos_label"]) is int


def _cube_of(score, y, cell, weight=None, **kw):
    """A one-feature cube of three cells with the given scored entries."""
    from faircard.cube import Cube, ScoredCells
    from faircard.prepare import GroupIndex

    score, y, cell = np.asarray(score, np.float64), np.asarray(y, bool), np.asarray(cell)
    index = GroupIndex(("g",), {"g": ("a", "b", "c")}, np.zeros(0, np.int64),
                       np.array([[0], [1], [2]]))
    w = np.ones(len(score)) if weight is None else np.asarray(weight, np.float64)
    counts = np.zeros((3, 4))
    np.add.at(counts, (cell, y * 2 + (score >= 0.5)), w)
    scores = ScoredCells(y, score, cell, None if weight is None else w,
                         minimum=float(score.min()), maximum=float(score.max()))
    return Cube(index=index, cells=counts if weight is not None and (w % 1).any()
                else counts.astype(np.int64), pos_label=kw.pop("pos_label", 1),
                n_input=len(score), n_dropped=0, dropped_reasons={}, scores=scores, **kw)


def test_signed_zeros_stay_apart_and_equal_scores_are_summed():
    cube = _cube_of([0.0, -0.0, 0.0, 0.5, 0.5, 0.5, 0.25],
                    [0, 0, 0, 1, 1, 0, 1], [2, 2, 2, 0, 0, 0, 1])
    back = cube_from_npz(cube_to_npz(cube)).scores
    got = sorted(zip(back.cell.tolist(), back.y_true.tolist(), back.y_score.tolist(),
                     np.signbit(back.y_score).tolist(), back.weight.tolist(), strict=True))
    assert got == [(0, False, 0.5, False, 1.0), (0, True, 0.5, False, 2.0),
                   (1, True, 0.25, False, 1.0),
                   (2, False, 0.0, False, 2.0), (2, False, -0.0, True, 1.0)]
    assert back.weight.dtype == np.float64 and back.cell.dtype == np.int64


def test_fractional_weights_are_kept_as_they_are():
    cube = _cube_of([0.1, 0.9, 0.1], [0, 1, 0], [0, 1, 0], weight=[0.5, 2.25, 1.5])
    m = _members(cube_to_npz(cube))
    assert m["entry_weight"].dtype == np.float64
    assert m["entry_weight"].tolist() == [2.0, 2.25]
    assert m["cells"].dtype == np.float64
    back = cube_from_npz(cube_to_npz(cube))
    assert back.is_randomized and np.array_equal(back.cells, cube.cells)
    assert back.scores.sums is None


def test_the_engine_keeps_plain_values_only_and_numpy_scalars_as_plain():
    cube = _cube_of([0.2, 0.7], [0, 1], [0, 1], pos_label=np.int64(7),
                    engine={"name": "duckdb", "step": np.float64(0.5), "rows": np.int64(3),
                            "exact": np.bool_(True), "none": None, "list": [1, 2],
                            "arr": np.arange(2), 5: "five"})
    header = _header(cube_to_npz(cube))
    assert header["engine"] == {"name": "duckdb", "step": 0.5, "rows": 3, "exact": True,
                                "none": None, "5": "five"}
    assert header["pos_label"] == 7
    back = cube_from_npz(cube_to_npz(cube))
    assert back.engine == header["engine"] and back.pos_label == 7


def test_an_empty_scored_cube_round_trips():
    from faircard.cube import ScoredCells

    cube = _cube_of([0.2], [0], [0])
    empty = dataclasses.replace(cube, scores=ScoredCells(
        np.zeros(0, bool), np.zeros(0), np.zeros(0, np.int64), None, minimum=0.0, maximum=1.0))
    back = cube_from_npz(cube_to_npz(empty))
    assert len(back.scores.y_score) == 0 and (back.scores.minimum, back.scores.maximum) == (0, 1)


def test_what_if_on_predicted_labels_says_there_is_no_threshold(rows):
    data = rows.assign(pred=(rows["score"] >= 0.5).astype(int))
    a = assess_spec(data, AssessmentSpec(target="y", prediction="pred", sensitive=("sex",),
                                         n_boot=0))
    assert _message(what_if, sc_mod.stored_cube(cells_of(a)), 0.5) == (
        "This record's decisions are predicted labels, not scores, so there is no threshold "
        "to move.")


def test_a_rule_that_decides_by_group_alone_is_named():
    # a's two people both score above 0.5, b's and c's below: the decision follows the group
    cube = cube_from_npz(cube_to_npz(_cube_of([0.9, 0.8, 0.1, 0.2, 0.3], [1, 0, 0, 1, 0],
                                              [0, 0, 1, 1, 2])))
    w = what_if(cube, 0.5, min_group_size=1)
    assert w.overall["selection_rate"] == 0.4
    assert w.trivial == ("The decision rule gives every group of 'g' an all-or-nothing decision "
                         "('a': everybody approved; 'b': nobody approved; 'c': nobody "
                         "approved): who is approved depends on the group alone, not on the "
                         "model's scores.")
    assert what_if(cube, 0.15, min_group_size=1).trivial is None  # b split


def test_what_if_of_a_cube_without_cells_has_the_named_columns():
    from faircard.cube import Cube, ScoredCells
    from faircard.prepare import GroupIndex

    empty = Cube(index=GroupIndex(("g",), {"g": ()}, np.zeros(0, np.int64),
                                  np.zeros((0, 1), np.int64)),
                 cells=np.zeros((0, 4), np.int64), pos_label=1, n_input=0, n_dropped=0,
                 dropped_reasons={}, scores=ScoredCells(np.zeros(0, bool), np.zeros(0),
                                                        np.zeros(0, np.int64), None, 0.0, 1.0))
    w = what_if(cube_from_npz(cube_to_npz(empty)), 0.5)
    assert w.by_group.empty and list(w.by_group.columns) == [
        "feature", "group", "n", "is_small_group", *COUNT_COLUMNS, *WHAT_IF_METRICS]
    assert w.overall["count"] == 0


def _more_rows_of(outcome: bool):
    def change(cube):
        s = cube.scores
        w = s.weight.copy()
        w[int(np.flatnonzero(s.y_true == outcome)[0])] += 2
        return dataclasses.replace(cube, scores=dataclasses.replace(s, weight=w))
    return change


@pytest.mark.parametrize("outcome", [False, True])
def test_more_rows_of_one_outcome_alone_are_found(record, outcome):
    assert "figures (other rows per cell)" in _problem(record, _with_cube(_more_rows_of(outcome)))


@pytest.mark.parametrize("last", [0, 1])
def test_a_last_cell_with_one_outcome_only_verifies(last):
    # the last cell (group c) has outcome ``last`` only: no entries of the other outcome
    rng = np.random.default_rng(5)
    g = np.repeat(["a", "b", "c"], 20)
    y = np.where(g == "c", last, rng.integers(0, 2, 60))
    frame = pd.DataFrame({"y": y, "score": rng.random(60).round(2), "g": g})
    a = assess_spec(frame, AssessmentSpec(target="y", score="score", sensitive=("g",),
                                          n_boot=0))
    assert a.cube.index.labels["g"][-1] == "c"
    cells, summary = cells_of(a), summary_of(a)
    assert sc_mod.cube_problem(cells, summary) == ""
    _with_cube(_more_rows_of(bool(last)))(cells)
    assert "other rows per cell" in sc_mod.cube_problem(cells, summary)


def test_a_record_with_undefined_overall_figures_verifies(rows):
    # above every score nobody is selected: precision and f1 are undefined (recorded as None)
    a = assess_spec(rows, AssessmentSpec(target="y", score="score", sensitive=("sex", "band"),
                                         threshold=1.01, n_boot=0))
    cells, summary = cells_of(a), json.loads(json.dumps(summary_of(a)))
    assert summary["overall"]["precision"] is None
    assert sc_mod.cube_problem(cells, summary) == ""


# -- hostile archives: each check of the reader, broken on its own ------------------------------

def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)
    return out.getvalue()


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return out.getvalue()


def _npy(array: np.ndarray, version=None) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array(out, array, version=version, allow_pickle=False)
    return out.getvalue()


@pytest.fixture(scope="module")
def members(assessment):
    return _members(cube_to_npz(assessment.cube))


def _refusal(blob: bytes) -> str:
    message = _message(cube_from_npz, blob)
    assert message.startswith("The stored counts cube cannot be read (")
    assert message.endswith("); it was damaged or written by something other than faircard.")
    return message


def test_a_repeated_member_is_refused(members):
    parts = [(f"{k}.npy", _npy(v)) for k, v in members.items()]
    with pytest.warns(UserWarning, match="Duplicate name"):
        blob = _zip([*parts, parts[1]])
    assert "(unexpected parts repeated)" in _refusal(blob)


def test_big_endian_and_version_2_arrays_are_read_as_the_same_numbers(members, assessment):
    parts = [(f"{k}.npy", _npy(v.astype(v.dtype.newbyteorder(">")) if v.dtype.itemsize > 1
                               else v, version=(2, 0))) for k, v in members.items()]
    back = cube_from_npz(_zip(parts))
    assert back.cells.dtype == np.int64 and np.array_equal(back.cells, assessment.cube.cells)
    assert back.scores.cell.dtype == np.int64 and back.scores.weight.dtype == np.float64
    ref = cube_from_npz(_npz(members))
    for k in ("y_true", "y_score", "cell", "weight"):
        assert np.array_equal(getattr(back.scores, k), getattr(ref.scores, k)), k


@pytest.mark.parametrize("name, array, version, says", [
    ("cells", np.asfortranarray(np.ones((4, 4), np.int64)), None,
     "'cells' holds int64, not i8 or f8"),
    ("entry_weight", np.zeros(3, [("a", "<i8")]), None, "'entry_weight' holds"),
    ("entry_y", np.zeros(3, "<U1"), None, "'entry_y' holds <U1"),
    ("cells", np.ones((6, 4), np.int64), (3, 0), "'cells': array format (3, 0)"),
])
def test_an_array_of_another_kind_is_refused(members, name, array, version, says):
    parts = [(f"{k}.npy", _npy(array, version) if k == name else _npy(v))
             for k, v in members.items()]
    assert says in _refusal(_zip(parts))


@pytest.mark.parametrize("cut", [8, 1])
def test_an_array_that_holds_other_bytes_than_its_header_says_is_refused(members, cut):
    raw = _npy(members["entry_weight"])
    parts = [(f"{k}.npy", raw[:-cut] if k == "entry_weight" else _npy(v))
             for k, v in members.items()]
    n = len(members["entry_weight"])
    body = 8 * n - cut
    assert f"'entry_weight' says ({n},) but holds {body:,} bytes" in _refusal(_zip(parts))
    longer = [(f"{k}.npy", raw + b"\0" * 8 if k == "entry_weight" else _npy(v))
              for k, v in members.items()]
    assert f"but holds {8 * n + 8:,} bytes" in _refusal(_zip(longer))


def test_a_member_that_is_no_array_is_refused(members):
    parts = [(f"{k}.npy", b"\x93NUMPY" if k == "header" else _npy(v)) for k, v in members.items()]
    assert "'header':" in _refusal(_zip(parts))


def _header_with(members, **changes) -> dict[str, np.ndarray]:
    header = json.loads(bytes(members["header"]).decode("utf-8"))
    header.update(changes)
    return {**members, "header": np.frombuffer(json.dumps(header).encode(), np.uint8)}


def test_a_cube_of_another_format_or_version_is_refused(members):
    assert "(not a faircard counts cube)" in _refusal(_npz(_header_with(members, format="x")))
    assert _message(cube_from_npz, _npz(_header_with(members, version=2))) == (
        "This counts cube is in version 2; this faircard reads version 1. Upgrade faircard to "
        "open it.")
    for header in (b"[1, 2]", b'{"format": "faircard-cube", "version": 1}', b"\xff\xfe"):
        _refusal(_npz({**members, "header": np.frombuffer(header, np.uint8)}))


def _with(members, **arrays):
    return _npz({**members, **arrays})


@pytest.mark.parametrize("change, why", [
    (lambda m: {"cell_codes": m["cell_codes"][:-1]}, "the cells and their codes do not match"),
    (lambda m: {"cell_codes": m["cell_codes"][:, :1]}, "the cells and their codes do not match"),
    (lambda m: {"cells": m["cells"].reshape(-1)}, "the cells and their codes do not match"),
    (lambda m: {"cells": np.where(np.arange(m["cells"].size).reshape(m["cells"].shape) == 5,
                                  np.nan, m["cells"].astype(float))},
     "counts must be finite and not negative"),
    (lambda m: {"cells": np.where(m["cells"] == m["cells"].max(), np.inf,
                                  m["cells"].astype(float))},
     "counts must be finite and not negative"),
    (lambda m: {"cells": m["cells"] - (m["cells"] == m["cells"].max())},
     None),  # one count less is read (the verification compares it with the record)
    (lambda m: {"cells": np.where(m["cells"] == m["cells"].max(), -1, m["cells"])},
     "counts must be finite and not negative"),
    (lambda m: {"cell_codes": m["cell_codes"] - (m["cell_codes"] == 0)},
     "a cell of 'sex' has no label"),
    (lambda m: {"cell_codes": m["cell_codes"] + (m["cell_codes"] == m["cell_codes"].max(axis=0))
                * np.array([0, 1])}, "a cell of 'band' has no label"),
    (lambda m: {"entry_y": m["entry_y"][:-1]}, "the scored entries do not match"),
    (lambda m: {"entry_weight": m["entry_weight"][:-1]}, "the scored entries do not match"),
    (lambda m: {"entry_score_planes": m["entry_score_planes"][:7]},
     "the scored entries do not match"),
    (lambda m: {"entry_score_planes": m["entry_score_planes"][:, :-1]},
     "the scored entries do not match"),
    (lambda m: {"entry_cell": m["entry_cell"] - (m["entry_cell"] == 0)},
     "an entry names no cell or outcome"),
    (lambda m: {"entry_cell": np.where(m["entry_cell"] == m["entry_cell"].max(),
                                       len(m["cells"]), m["entry_cell"]).astype(np.int32)},
     "an entry names no cell or outcome"),
    (lambda m: {"entry_y": (m["entry_y"] * 2).astype(np.uint8)},
     "an entry names no cell or outcome"),
    (lambda m: {"entry_weight": np.where(np.arange(len(m["entry_weight"])) == 3, 0,
                                         m["entry_weight"])},
     "scores and rows must be finite, rows positive"),
    (lambda m: {"entry_weight": np.where(np.arange(len(m["entry_weight"])) == 3, np.inf,
                                         m["entry_weight"].astype(float))},
     "scores and rows must be finite, rows positive"),
    (lambda m: {"entry_score_planes": _planes_with(m, 3, np.nan)},
     "scores and rows must be finite, rows positive"),
    (lambda m: {"entry_score_planes": _planes_with(m, 0, -np.inf)},
     "scores and rows must be finite, rows positive"),
    (lambda m: {"sum_log_loss": m["sum_log_loss"][:-1]},
     "the score sums do not match the cells"),
    (lambda m: {"sum_brier_score": m["sum_brier_score"][:, None]},
     "the score sums do not match the cells"),
])
def test_an_archive_that_breaks_one_rule_is_refused_with_it(members, change, why):
    blob = _with(members, **change(members))
    if why is None:
        cube_from_npz(blob)
    else:
        assert f"({why})" in _refusal(blob)


def _planes_with(m, i, value):
    from faircard.cube import _score_planes

    bits = np.cumsum(np.ascontiguousarray(m["entry_score_planes"].T).view("<u8").reshape(-1),
                     dtype=np.uint64).view(np.float64).copy()
    bits[i] = value
    return _score_planes(bits)


def test_one_score_sum_alone_is_not_read(members):
    only = {k: v for k, v in members.items() if k != "sum_log_loss"}
    assert cube_from_npz(_npz(only)).scores.sums is None
    both = cube_from_npz(_npz(members)).scores.sums
    assert set(both) == {"brier_score", "log_loss"}


def test_a_cube_without_scores_needs_no_entries(members):
    header = _header_with(members, scores=None)
    plain = {k: header[k] for k in ("header", "cells", "cell_codes")}
    back = cube_from_npz(_npz(plain))
    assert back.scores is None and back.n_input == 100


def test_rows_left_out_are_kept_with_their_reasons(rows):
    data = rows.assign(score=rows["score"].where(rows.index % 7 != 3))
    a = assess_spec(data, SPEC)
    back = cube_from_npz(cube_to_npz(a.cube))
    assert back.n_dropped == data["score"].isna().sum() == 14
    assert back.dropped_reasons == a.cube.dropped_reasons
    assert sum(back.dropped_reasons.values()) == 14
    assert back.n_input == len(data)


def test_counts_codes_and_sums_of_narrower_types_are_written_as_64_bits():
    cube = _cube_of([0.2, 0.7, 0.4], [0, 1, 1], [0, 1, 2])
    sums = {"brier_score": np.array([0.04, 0.09, 0.36], np.float32),
            "log_loss": np.array([0.2, 0.3, 0.9], np.float32)}
    narrow = dataclasses.replace(
        cube, cells=cube.cells.astype(np.int32),
        index=dataclasses.replace(cube.index, cell_codes=cube.index.cell_codes.astype(np.int16)),
        scores=dataclasses.replace(cube.scores, sums=sums))
    m = _members(cube_to_npz(narrow))
    assert m["cells"].dtype == np.int64 and m["cell_codes"].dtype == np.int64
    assert m["sum_brier_score"].dtype == m["sum_log_loss"].dtype == np.float64
    assert np.array_equal(cube_from_npz(cube_to_npz(narrow)).scores.sums["log_loss"],
                          sums["log_loss"].astype(np.float64))
    back = cube_from_npz(cube_to_npz(narrow))
    assert np.array_equal(back.cells, cube.cells) and back.cells.dtype == np.int64
    assert np.array_equal(back.index.cell_codes, cube.index.cell_codes)


def test_two_unexpected_members_are_both_named(members):
    assert "(unexpected parts extra, more)" in _refusal(
        _npz({**members, "more": np.zeros(1), "extra": np.zeros(1)}))


def test_group_names_outside_ascii_are_kept_as_utf8_text():
    cube = _cube_of([0.2, 0.7, 0.4], [0, 1, 1], [0, 1, 2])
    named = dataclasses.replace(cube, index=dataclasses.replace(
        cube.index, labels={"g": ("Latiné", "Ελλάδα", "c|d")}))
    header = bytes(_members(cube_to_npz(named))["header"])
    assert "Latiné".encode() in header and "Ελλάδα".encode() in header
    assert cube_from_npz(cube_to_npz(named)).index.labels == {"g": ("Latiné", "Ελλάδα", "c|d")}


def test_a_member_of_several_megabytes_is_read_whole():
    # 200,000 distinct scores: each score plane and the entries' cells pass 1 MiB
    rng = np.random.default_rng(2)
    n = 200_000
    score = rng.permutation(n) / n
    cube = _cube_of(score, score > 0.3, rng.integers(0, 3, n))
    blob = cube_to_npz(cube)
    sizes = {i.filename: i.file_size for i in zipfile.ZipFile(io.BytesIO(blob)).infolist()}
    assert sizes["entry_score_planes.npy"] > 1 << 20
    back = cube_from_npz(blob)
    order = np.lexsort((score, cube.scores.cell * 2 + cube.scores.y_true))
    assert np.array_equal(back.scores.y_score, score[order])
    assert np.array_equal(back.scores.cell, cube.scores.cell[order])


def test_a_stored_cube_holds_no_rows(assessment):
    back = cube_from_npz(cube_to_npz(assessment.cube))
    assert back.index.cell.dtype == np.int64 and back.index.cell.shape == (0,)
