"""What the Thresholds page shows, as values: the per-group table and confusion matrices at the
slider's threshold, the cheapest single threshold, the per-group policy and its trade-off
chart, each compared with scikit-learn on group masks and with faircard's core called on its
own (faircard.assess, choose_policy), and the optimum checked by exhaustive search."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, precision_score, recall_score

import faircard
from faircard.policy import choose_policy
from tests.app.conftest import new, no_exception, seed_state, small_frame


def _sklearn_rates(y, pred) -> dict[str, float]:
    """Every rate the page's table shows, from scikit-learn on one group's mask."""
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    return {"count": len(y), "selection_rate": float(np.mean(pred)),
            "accuracy": accuracy_score(y, pred),
            "true_positive_rate": recall_score(y, pred, zero_division=np.nan),
            "false_positive_rate": fp / (fp + tn),
            "false_negative_rate": fn / (fn + tp),
            "precision": precision_score(y, pred, zero_division=np.nan)}


def _by_sklearn(df, thresholds: dict[str, float], feature="sex") -> dict[str, dict]:
    out = {}
    for g, t in thresholds.items():
        part = df[df[feature] == g]
        out[g] = _sklearn_rates(part.outcome.to_numpy(), (part.risk_score >= t).astype(int))
    return out


def _assert_table(table: pd.DataFrame, want: dict[str, dict], columns) -> None:
    assert set(table.index) == set(want)
    for g, vals in want.items():
        for c in columns:
            if np.isnan(vals[c]):
                assert pd.isna(table.loc[g, c]), (g, c)
            else:
                assert table.loc[g, c] == pytest.approx(vals[c], abs=1e-12), (g, c)


def _coarse_frame(n=1000, seed=7) -> pd.DataFrame:
    """Scores on a 0.01 grid (at most 101 distinct values), so that the page's 1,001-point
    threshold grid holds every distinct score and the exhaustive search below is exact."""
    df = small_frame(n=n, seed=seed)
    df["risk_score"] = df["risk_score"].round(2)
    return df


def _candidates(s: np.ndarray) -> np.ndarray:
    """Every distinct decision rule of one group: each distinct score, and above them all."""
    u = np.unique(s)
    return np.append(u, u[-1] + 1.0)


def _exhaustive(df, constraint_metric: str, tolerance: float, feature="sex"):
    """Best overall accuracy over every pair of per-group thresholds (two groups) whose gap in
    ``constraint_metric`` is within ``tolerance``, without degenerate pairs (both groups all
    selected or both none). Plain masks over every candidate; no faircard code."""
    groups = sorted(df[feature].unique())
    assert len(groups) == 2
    per = []
    for g in groups:
        part = df[df[feature] == g]
        y, s = part.outcome.to_numpy(), part.risk_score.to_numpy()
        t = _candidates(s)
        pred = s[None, :] >= t[:, None]
        correct = (pred == y[None, :].astype(bool)).sum(axis=1)
        metric = {"true_positive_rate": pred[:, y == 1].mean(axis=1),
                  "selection_rate": pred.mean(axis=1)}[constraint_metric]
        per.append((t, correct, metric, pred.mean(axis=1)))
    (t0, c0, m0, s0), (t1, c1, m1, s1) = per
    total = c0[:, None] + c1[None, :]
    ok = np.abs(m0[:, None] - m1[None, :]) <= tolerance + 1e-12
    degenerate = ((s0[:, None] == 0) & (s1[None, :] == 0)) | ((s0[:, None] == 1)
                                                              & (s1[None, :] == 1))
    total = np.where(ok & ~degenerate, total, -1)
    return total.max() / len(df)


def _chart_data(element) -> pd.DataFrame:
    """The data behind a Vega-Lite chart the page drew (Arrow IPC in the message)."""
    (dataset,) = element.proto.datasets
    return pa.ipc.open_stream(io.BytesIO(dataset.data.data)).read_pandas()


def _seed(df, digest: str, **state):
    at = seed_state(new("app_pages/thresholds.py"), df=df, sensitive=("sex",))
    at.session_state["fc_data_digest"] = digest
    at.session_state["w_tradeoff_open"] = True  # the trade-off chart, drawn while open
    for k, v in state.items():
        at.session_state[k] = v
    return at


@pytest.mark.parametrize("t", [0.6, 0.4137])
def test_slider_table_and_confusion_matrices_equal_sklearn_and_assess(t):
    df = small_frame()
    at = _seed(df, "thr-values-slider", w_cm_open=True)  # the confusion matrices opened
    at.run()
    at.slider(key="w_thr_slider").set_value(t).run()
    no_exception(at)
    want = _by_sklearn(df, {"Female": t, "Male": t})
    table = at.dataframe[0].value
    _assert_table(table, want, ["count", "selection_rate", "accuracy", "true_positive_rate",
                                "false_positive_rate", "false_negative_rate", "precision"])
    # faircard.assess on its own at the same threshold
    a = faircard.assess(df, target="outcome", score="risk_score", threshold=t,
                        sensitive="sex", n_boot=0)
    wide = a.by_group_wide().set_index("group")
    for g in want:
        for m in ("selection_rate", "accuracy", "true_positive_rate", "false_positive_rate"):
            assert table.loc[g, m] == pytest.approx(wide.loc[g, m], abs=1e-12)
    # each group's confusion matrix at the same threshold: a row per group
    cm = at.dataframe[1].value
    assert list(cm.index) == ["Female", "Male"]
    for g in cm.index:
        part = df[df.sex == g]
        tn, fp, fn, tp = confusion_matrix(part.outcome, (part.risk_score >= t).astype(int),
                                          labels=[0, 1]).ravel()
        assert (cm.loc[g, "actual no, predicted no"], cm.loc[g, "actual no, predicted yes"],
                cm.loc[g, "actual yes, predicted no"], cm.loc[g, "actual yes, predicted yes"]) \
            == (tn, fp, fn, tp), g


def test_cheapest_single_threshold_and_costs_equal_an_exhaustive_search():
    df = _coarse_frame()
    at = _seed(df, "thr-values-coarse-cost")
    at.run()
    at.number_input(key="w_fp_cost").set_value(3.0).run()
    at.number_input(key="w_fn_cost").set_value(1.0).run()
    at.slider(key="w_thr_slider").set_value(0.5).run()
    no_exception(at)
    y, s = df.outcome.to_numpy(), df.risk_score.to_numpy()
    cands = _candidates(s)
    cost = np.array([(3.0 * ((s >= t) & (y == 0)).sum() + ((s < t) & (y == 1)).sum()) / len(y)
                     for t in cands])
    best = cost.min()
    shown = next(i.value for i in at.info if "lowest expected cost" in i.value)
    t_shown = float(shown.split("lowest expected cost is ")[1].split()[0])
    per = float(shown.split("(")[1].split()[0])
    assert "among every distinct score" in shown
    assert per == pytest.approx(best, abs=5e-4)  # shown with three decimals
    # the stated threshold, applied as written, has that cost
    assert (3.0 * ((s >= t_shown) & (y == 0)).sum() + ((s < t_shown) & (y == 1)).sum()) \
        / len(y) == pytest.approx(best, abs=1e-12)
    # the costs paragraph at the slider's threshold: per 1,000 people and the expected cost
    para = next(m.value for m in at.markdown if "Per 1,000 people" in m.value).replace("\\", "")
    for g in ("Female", "Male"):
        part = df[df.sex == g]
        pred = part.risk_score >= 0.5
        fn = 1000 * ((~pred) & (part.outcome == 1)).sum() / len(part)
        fp = 1000 * (pred & (part.outcome == 0)).sum() / len(part)
        assert f"{g}: {fn:.0f} wrongly denied and {fp:.0f} wrongly approved" in para
    at_half = cost[np.searchsorted(cands, 0.5)]
    assert f"Expected cost per decision: {at_half:.3f}." in para
    assert f"Expected cost for 1,000 decisions: {1000 * at_half:,.0f}." in para
    assert para.count("Expected cost") == 2  # the cost per decision is stated once


@pytest.mark.parametrize("constraint, metric", [("equal_opportunity", "true_positive_rate"),
                                                ("demographic_parity", "selection_rate")])
def test_per_group_policy_equals_core_sklearn_and_the_exhaustive_optimum(constraint, metric):
    df = _coarse_frame()
    at = _seed(df, f"thr-values-coarse-{constraint}")
    at.run()
    at.selectbox(key="w_constraint").set_value(constraint).run()
    at.number_input(key="w_tolerance").set_value(0.02).run()
    no_exception(at)
    table = at.dataframe[-1].value
    thresholds = table["threshold"].to_dict()
    # the core on its own, with the page's inputs
    codes, groups = pd.factorize(df.sex, sort=True)
    core = choose_policy(df.outcome, df.risk_score, codes, list(groups), feature="sex",
                         constraint=constraint, tolerance=0.02)
    assert thresholds == pytest.approx(core.thresholds, abs=0)
    # scikit-learn on the masks of the thresholds shown
    want = _by_sklearn(df, thresholds)
    _assert_table(table, want, ["count", "selection_rate", "accuracy", "true_positive_rate",
                                "false_positive_rate", "false_negative_rate", "precision"])
    gap = abs(want["Female"][metric] - want["Male"][metric])
    assert gap <= 0.02 + 1e-12
    accuracy = sum(want[g]["accuracy"] * want[g]["count"] for g in want) / len(df)
    assert accuracy == pytest.approx(_exhaustive(df, metric, 0.02), abs=1e-12)
    said = next(x.value for x in at.success).replace("\\", "")
    assert f"Accuracy: {accuracy:.3f}." in said
    assert f"meets {constraint.replace('_', ' ')} within 0.02 (largest gap {gap:.3f})" in said
    # the trade-off chart: the chosen point is the policy above; every per-group point is the
    # exhaustive optimum at its tolerance; the single threshold is the best single one
    front = _chart_data(at.get("vega_lite_chart")[-1])
    chosen = front[front.policy == "chosen policy"].iloc[0]
    assert chosen.objective_value == pytest.approx(accuracy, abs=1e-12)
    assert chosen.disparity == pytest.approx(gap, abs=1e-12)
    for _, point in front[front.policy == "per-group thresholds"].iterrows():
        optimum = _exhaustive(df, metric, point.tolerance)
        if not point.feasible:  # the closest policy, drawn with its true gap
            assert optimum < 0 and point.disparity > point.tolerance, point.tolerance
            continue
        assert point.disparity <= point.tolerance + 1e-12
        assert point.objective_value == pytest.approx(optimum, abs=1e-12), point.tolerance
    single = front[front.policy == "one threshold for all"].iloc[0]
    s = df.risk_score.to_numpy()
    best_single = max(accuracy_score(df.outcome, s >= t) for t in _candidates(s))
    assert single.objective_value == pytest.approx(best_single, abs=1e-12)
    # "Use this policy" puts exactly these thresholds in force
    at.button(key="use_policy").click().run()
    no_exception(at)
    assert at.session_state["fc_policy"].thresholds == pytest.approx(thresholds, abs=0)


@pytest.mark.parametrize("min_size, left_out", [(30, True), (15, False)])
def test_trade_off_follows_the_pages_minimum_group_size(min_size, left_out):
    """A group of 20 people is left out of the constraint below the page's minimum size and
    kept in above it; the trade-off chart's point at the page's tolerance is then the chosen
    policy itself, under the same rule."""
    df = _coarse_frame(n=1200, seed=11)
    df.loc[df.index[:20], "sex"] = "Other"
    at = _seed(df, f"thr-values-small-group-{min_size}", fc_min_group_size=min_size)
    at.run()
    at.selectbox(key="w_constraint").set_value("equal_opportunity").run()
    at.number_input(key="w_tolerance").set_value(0.02).run()
    no_exception(at)
    said = " ".join(x.value for x in [*at.success, *at.error]).replace("\\", "")
    assert (f"Left out of the constraint as smaller than {min_size} people: Other (20 people)."
            in said) \
        is left_out
    warned = " ".join(x.value for x in at.warning).replace("\\", "")
    assert (f"Not held to the constraint, as smaller than {min_size} people: Other (20 people)."
            in warned) is left_out
    # its threshold is stated (the rule applies it), marked as the summary marks it
    mark = f"fewer than {min_size} people: not compared"
    assert (f" ({mark})" in said and "; Other (too few to compare): " in said) is left_out
    table = next(d.value for d in at.dataframe
                 if {"threshold", "note"} <= set(d.value.columns))
    assert table.loc["Other", "note"] == (mark if left_out else "")
    assert (table.drop(index="Other")["note"] == "").all()
    assert np.isfinite(table.loc["Other", "threshold"])
    front = _chart_data(at.get("vega_lite_chart")[-1])
    chosen = front[front.policy == "chosen policy"].iloc[0]
    same = front[(front.policy == "per-group thresholds") & (front.tolerance == 0.02)].iloc[0]
    assert (same.objective_value, same.disparity) == pytest.approx(
        (chosen.objective_value, chosen.disparity), abs=1e-12)


def test_a_cheapest_threshold_that_selects_everybody_is_said_to_be_trivial():
    df = _coarse_frame()
    at = _seed(df, "thr-values-coarse-trivial")
    at.run()
    at.number_input(key="w_fp_cost").set_value(0.0).run()
    at.number_input(key="w_fn_cost").set_value(1.0).run()
    no_exception(at)
    shown = next(w.value for w in at.warning if "lowest expected cost" in w.value)
    assert "selects everybody" in shown
    t_shown = float(shown.split("lowest expected cost is ")[1].split()[0])
    assert (df.risk_score.to_numpy() >= t_shown).all()
    assert not any("lowest expected cost" in i.value for i in at.info)


def test_other_groups_share_the_first_ones_thresholds_and_cheapest_threshold():
    """The page sweeps each partition at the thresholds found for the first one and searches
    the cheapest single threshold once for everyone: both equal what each partition gives on
    its own, and the note under other groups equals the exhaustive search."""
    from faircard.thresholds import (
        cost_curve,
        lowest_cost_threshold,
        sort_assessment_scores,
        sweep_assessment,
    )
    from faircard.ui import cache

    df = small_frame(n=3000, seed=11)  # continuous scores: a quantile grid, not every score
    a = faircard.assess(df, target="outcome", score="risk_score", sensitive=["sex", "race"],
                        n_boot=0)
    digest = "shared-grid"
    for feature in ("race", "sex"):  # the second partition first, then the first
        kept, own = cache.sweep_for(digest, a, feature), sweep_assessment(a, feature)
        np.testing.assert_array_equal(kept.thresholds, own.thresholds)
        np.testing.assert_array_equal(kept.counts, own.counts)
        assert cache.lowest_cost_for(digest, a, 3.0, 1.0) == lowest_cost_threshold(
            cost_curve(sort_assessment_scores(a, feature)), 3.0, 1.0)

    at = seed_state(new("app_pages/thresholds.py"), df=_coarse_frame(), sensitive=("sex", "race"))
    at.session_state["fc_data_digest"] = "shared-cost"
    at.run()
    at.number_input(key="w_fp_cost").set_value(3.0).run()
    at.selectbox(key="w_thr_feature").set_value("race").run()
    no_exception(at)
    y, s = (_coarse_frame()[c].to_numpy() for c in ("outcome", "risk_score"))
    best = min((3.0 * ((s >= t) & (y == 0)).sum() + ((s < t) & (y == 1)).sum()) / len(y)
               for t in _candidates(s))
    shown = next(i.value for i in at.info if "lowest expected cost" in i.value)
    t_shown = float(shown.split("lowest expected cost is ")[1].split()[0])
    assert (3.0 * ((s >= t_shown) & (y == 0)).sum() + ((s < t_shown) & (y == 1)).sum()) \
        / len(y) == pytest.approx(best, abs=1e-12)
