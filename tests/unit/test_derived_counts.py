"""Counts of fewer sensitive features derived from counts already made equal a fresh count of
the rows: the same prepared arrays, metrics, criteria, intervals, sweeps and policies, for the
rows in memory and for a grouped table counted by DuckDB; and both equal fairlearn."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate

from faircard.assess import assess_prepared
from faircard.counts import SCORE_ORDER
from faircard.decision import DecisionPolicy
from faircard.engine.derive import derivable, derive_grouped, derive_prepared, scores_exact
from faircard.engine.grouped import assess_grouped
from faircard.engine.pandas_source import CUBE
from faircard.engine.sources import count_duckdb
from faircard.errors import FaircardError
from faircard.policy import choose_policy_from_sweep
from faircard.prepare import prepare
from faircard.spec import AssessmentSpec, Binning
from faircard.thresholds import sweep_assessment
from tests.conftest import make_dataset

BANDS = Binning((0, 1.5, 2.5, np.inf), ("1", "2", "3+"))


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    df = make_dataset(11, n=2500, n_features=3)  # a tiny group, a group without positives,
    df.loc[df.index[50:60], "band"] = np.nan   # missing race and band values
    df.loc[df.index[60:75], "score"] = np.nan  # rows left out for a missing score
    df.loc[df.index[75:80], "y"] = np.nan      # ... and for a missing outcome
    df["pred"] = df["pred"].where(df["score"].notna())
    return df


def _spec(sensitive, **kw) -> AssessmentSpec:
    base = dict(target="y", score="score", threshold=0.45, n_boot=0, min_group_size=30)
    base.update(kw)
    if "bins" in base:
        base["bins"] = {k: v for k, v in base["bins"].items() if k in sensitive}
    return AssessmentSpec(sensitive=tuple(sensitive), **base)


CHOICES = {
    "score": {"n_boot": 20},  # bootstrap intervals once; they read the same counts
    "prediction": {"score": None, "prediction": "pred"},
    "bands": {"bins": {"band": BANDS}},
    "per_group": {"policy": DecisionPolicy.per_group(
        "sex", {"female": 0.4, "male": 0.5, "non-binary": 0.45, "nopos": 0.5, "tiny": 0.6})},
    "randomised": {"policy": DecisionPolicy.per_group(
        "sex", {"female": 0.4, "male": 0.5, "non-binary": 0.45, "nopos": 0.5, "tiny": 0.6},
        mix={"male": (0.3, 0.6)})},
    "reference": {"reference": {"sex": "female", "race": "C"}},
}
SUBSETS = [("sex", "race"), ("race", "sex"), ("sex", "band"), ("sex",), ("race",)]


def _subsets(name):
    return [s for s in SUBSETS if "policy" not in CHOICES[name] or "sex" in s]


def _assert_same_prepared(a, b):
    for f in ("y_true", "y_pred", "p_pred", "y_score"):
        x, y = getattr(a, f), getattr(b, f)
        assert (x is None) == (y is None), f
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=f)
    assert a.index.features == b.index.features
    assert a.index.labels == b.index.labels
    np.testing.assert_array_equal(a.index.cell, b.index.cell)
    np.testing.assert_array_equal(a.index.cell_codes, b.index.cell_codes)
    assert (a.pos_label, a.n_input, a.n_dropped, a.dropped_reasons) == \
        (b.pos_label, b.n_input, b.n_dropped, b.dropped_reasons)


def _assert_same_assessment(a, b, rtol=0.0):
    ca, cb = a.counts_frame(), b.counts_frame()
    pd.testing.assert_frame_equal(ca, cb, check_exact=rtol == 0 and ca["tp"].dtype.kind == "i",
                                  rtol=max(rtol, 1e-12))
    cols = ["feature", "group", "metric", "n", "is_small_group", "reason", "reliability"]
    pd.testing.assert_frame_equal(a.by_group[cols], b.by_group[cols])
    num = [c for c in a.by_group.columns if c not in cols]
    np.testing.assert_allclose(a.by_group[num].to_numpy(float), b.by_group[num].to_numpy(float),
                               rtol=rtol, atol=rtol, equal_nan=True)
    da, db = a.to_dict(), b.to_dict()
    for key in da:
        if key in ("by_group", "overall", "disparities", "criteria", "uncertainty"):
            continue
        assert da[key] == db[key], key
    if rtol == 0:
        assert da == db
    else:
        pd.testing.assert_frame_equal(a.disparities, b.disparities, rtol=rtol)
        assert a.criteria.keys() == b.criteria.keys()
        for f in a.criteria:
            for k, v in a.criteria[f].items():
                w = b.criteria[f][k]
                assert v == (w if w is None else pytest.approx(w, rel=rtol, nan_ok=True)), (f, k)


def _assert_same_thresholds(a, b):
    if a.spec.score is None:
        return
    for feature in a.features:
        sa, sb = sweep_assessment(a, feature), sweep_assessment(b, feature)
        np.testing.assert_array_equal(sa.thresholds, sb.thresholds)
        np.testing.assert_array_equal(sa.counts, sb.counts)
        assert sa.groups == sb.groups
    # the per-group search is the slow part: once, on the first feature
    feature = a.features[0]
    sa, sb = sweep_assessment(a, feature), sweep_assessment(b, feature)
    pa = choose_policy_from_sweep(sa, feature=feature, constraint="demographic_parity")
    pb = choose_policy_from_sweep(sb, feature=feature, constraint="demographic_parity")
    assert dataclasses.asdict(pa) == dataclasses.asdict(pb)


@pytest.mark.parametrize("name", list(CHOICES))
def test_rows_in_memory_derived_equal_a_fresh_count(rows, name):
    wide = _spec(("race", "sex", "band"), **CHOICES[name])
    counted = prepare(rows, wide)
    assess_prepared(counted, wide)  # fills the memo a later derivation reads
    for sensitive in _subsets(name):
        spec = _spec(sensitive, **CHOICES[name])
        assert derivable(wide, spec, bins_on_values=False)
        derived = derive_prepared(counted, spec)
        if spec.score is not None:  # the scores are sorted once for every set of features
            assert derived.memo[SCORE_ORDER] is counted.memo[SCORE_ORDER]
        fresh = prepare(rows, spec)
        _assert_same_prepared(derived, fresh)
        a, b = assess_prepared(derived, spec), assess_prepared(fresh, spec)
        _assert_same_assessment(a, b)
        _assert_same_thresholds(a, b)


def _assert_equals_fairlearn_by_sex(got, rows, threshold):
    """``got``'s rates by sex equal fairlearn's MetricFrame on the rows kept at ``threshold``."""
    kept = rows.dropna(subset=["y", "score"])
    mf = MetricFrame(metrics={"selection_rate": selection_rate,
                              "true_positive_rate": true_positive_rate,
                              "false_positive_rate": false_positive_rate},
                     y_true=kept["y"].astype(int),
                     y_pred=(kept["score"] >= threshold).astype(int),
                     sensitive_features=kept["sex"])
    table = got.by_group_wide().set_index("group")
    positives = kept.groupby("sex")["y"].sum()
    for metric in mf.by_group.columns:
        for group, value in mf.by_group[metric].items():
            if metric == "true_positive_rate" and positives[group] == 0:
                value = np.nan  # 0/0: fairlearn says 0, faircard says undefined
            assert table.loc[group, metric] == pytest.approx(value, abs=1e-12, nan_ok=True)


def test_derived_counts_equal_fairlearn(rows):
    wide = _spec(("race", "sex", "band"))
    spec = _spec(("sex",))
    got = assess_prepared(derive_prepared(prepare(rows, wide), spec), spec)
    _assert_equals_fairlearn_by_sex(got, rows, 0.45)
    assert got.n_dropped == 20


def test_what_cannot_be_derived_is_counted_again():
    base = _spec(("sex", "race"), bins={})
    assert not derivable(base, _spec(("sex", "band")), bins_on_values=True)  # never counted
    assert not derivable(base, _spec(("sex",), threshold=0.5), bins_on_values=True)
    assert not derivable(base, _spec(("sex",), target="pred"), bins_on_values=True)
    banded = _spec(("sex", "band"), bins={"band": BANDS})
    plain = _spec(("sex", "band"))
    # rows already banded cannot be banded otherwise; a grouped table keeps the values
    assert not derivable(banded, plain, bins_on_values=False)
    assert derivable(banded, plain, bins_on_values=True)
    assert derivable(base, _spec(("race",), intersection=False, min_group_size=5, n_boot=0,
                                 reference={"race": "B"}), bins_on_values=False)


def test_a_policy_on_a_removed_feature_is_refused_as_in_a_fresh_count(rows):
    policy = {"policy": DecisionPolicy.per_group(
        "race", {"A": 0.4, "B": 0.5, "C": 0.45, "D": 0.5, "(missing)": 0.5})}
    with pytest.raises(FaircardError):
        _spec(("sex",), **policy)


@pytest.fixture(scope="module")
def parquet(rows, tmp_path_factory):
    path = tmp_path_factory.mktemp("derived") / "rows.parquet"
    rows.to_parquet(path)
    return str(path)


@pytest.mark.parametrize("name", ["score", "prediction", "bands", "randomised"])
def test_duckdb_grouped_table_derived_equals_a_fresh_count(parquet, name):
    wide = _spec(("race", "sex", "band"), **CHOICES[name])
    counted = count_duckdb(parquet, wide)
    for sensitive in _subsets(name):
        spec = _spec(sensitive, **CHOICES[name])
        assert derivable(wide, spec, bins_on_values=True)
        derived = derive_grouped(counted, spec.sensitive)
        assert derived.grouped["__n"].sum() == counted.grouped["__n"].sum()
        assert len(derived.grouped) < len(counted.grouped)
        a = assess_grouped(derived, spec)
        b = assess_grouped(count_duckdb(parquet, spec), spec)
        # score sums (Brier score, log loss) are added in another order than DuckDB adds them
        _assert_same_assessment(a, b, rtol=1e-12)
        _assert_same_thresholds(a, b)


def test_duckdb_bands_change_from_the_grouped_table(parquet):
    plain = _spec(("sex", "band"))
    banded = _spec(("sex", "band"), bins={"band": BANDS})
    a = assess_grouped(derive_grouped(count_duckdb(parquet, plain), banded.sensitive), banded)
    b = assess_grouped(count_duckdb(parquet, banded), banded)
    _assert_same_assessment(a, b, rtol=1e-12)


def test_wide_intersections_beyond_64_bits_derive_the_cells_of_a_fresh_count():
    rng = np.random.default_rng(3)
    n = 1000
    frame = pd.DataFrame({f"f{j}": rng.permutation(n) for j in range(7)})
    frame["y"] = rng.integers(0, 2, n)
    frame["score"] = rng.random(n)
    names = tuple(f"f{j}" for j in range(7))
    wide = _spec(names, intersection=False)
    counted = prepare(frame, wide)
    for sensitive in (names[1:], names[::-2], ("f6", "f0")):
        spec = _spec(sensitive, intersection=False)
        _assert_same_prepared(derive_prepared(counted, spec), prepare(frame, spec))


RULES = {  # another decision rule than the counted threshold of 0.45
    "lower": {"threshold": 0.3},
    "between_scores": {"threshold": 0.45 + 1e-9},
    "nobody": {"threshold": 2.0},
    "per_group": CHOICES["per_group"],
    "randomised": CHOICES["randomised"],
}


@pytest.mark.parametrize("name", list(RULES))
def test_rows_in_memory_decide_another_rule_as_a_fresh_count(rows, name):
    wide = _spec(("race", "sex", "band"), n_boot=20)
    counted = prepare(rows, wide)
    assess_prepared(counted, wide)  # keeps the cube (cells at 0.45) a derivation must not reuse
    assert CUBE in counted.memo
    for sensitive in (("race", "sex", "band"), ("sex",)):
        spec = _spec(sensitive, n_boot=20, **RULES[name])
        assert not derivable(wide, spec, bins_on_values=False)
        assert derivable(wide, spec, bins_on_values=False, scores_kept=True)
        derived = derive_prepared(counted, spec)
        fresh = prepare(rows, spec)
        _assert_same_prepared(derived, fresh)
        _assert_same_assessment(assess_prepared(derived, spec), assess_prepared(fresh, spec))


@pytest.mark.parametrize("name", list(RULES))
def test_duckdb_grouped_table_decides_another_rule_as_a_fresh_count(parquet, name):
    wide = _spec(("race", "sex", "band"))
    counted = count_duckdb(parquet, wide)
    assert scores_exact(counted)
    for sensitive in (("race", "sex", "band"), ("sex",)):
        spec = _spec(sensitive, **RULES[name])
        assert derivable(wide, spec, bins_on_values=True, scores_kept=True)
        a = assess_grouped(derive_grouped(counted, spec.sensitive, spec), spec)
        b = assess_grouped(count_duckdb(parquet, spec), spec)
        _assert_same_assessment(a, b, rtol=1e-12)


def test_another_threshold_from_the_counts_equals_fairlearn(rows, parquet):
    wide = _spec(("race", "sex"))
    spec = _spec(("sex",), threshold=0.3)
    for got in (assess_prepared(derive_prepared(prepare(rows, wide), spec), spec),
                assess_grouped(derive_grouped(count_duckdb(parquet, wide), spec.sensitive, spec),
                               spec)):
        _assert_equals_fairlearn_by_sex(got, rows, 0.3)


def test_scores_on_a_grid_do_not_decide_another_rule(parquet):
    wide = _spec(("sex",))
    counted = dataclasses.replace(count_duckdb(parquet, wide), score_step=1e-4)
    assert not scores_exact(counted)
    with pytest.raises(ValueError):
        derive_grouped(counted, ("sex",), _spec(("sex",), threshold=0.3))
    # a prediction column has no score to decide with
    pred = _spec(("sex",), score=None, prediction="pred")
    assert not derivable(pred, _spec(("sex",)), bins_on_values=True, scores_kept=True)
    assert not derivable(wide, _spec(("sex",), target="pred"), bins_on_values=True,
                         scores_kept=True)
