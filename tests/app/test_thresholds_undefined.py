"""Undefined values on the Thresholds page: a rate with nobody in its denominator is shown as
"n/a" with the reason, as everywhere else in the product, never as "None" (Streamlit's grid
draws a missing cell as its ``placeholder``, "None" when none is given) or "NaN"; the charts'
tooltips, read from what a real Vega-Lite renderer (vl-convert) draws, say so too."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import vl_convert as vlc
from sklearn.metrics import confusion_matrix, recall_score

from tests.app.conftest import new, no_exception, seed_state, small_frame, text_of

NOT_SHOWN = re.compile(r"\bNone\b|\bnan\b|\bNaN\b|\binf\b|Infinity")
RATES = ("true_positive_rate", "false_positive_rate", "false_negative_rate", "precision")


def _frame() -> pd.DataFrame:
    """Three groups of 'race': C has no actual positives, B no actual negatives."""
    df = small_frame(n=1200, seed=3)
    df.loc[df.race == "C", "outcome"] = 0
    df.loc[df.race == "B", "outcome"] = 1
    return df


def _undefined_by_sklearn(df: pd.DataFrame, thresholds: dict[str, float]) -> set:
    """(group, metric) of every rate of the page's tables that is 0/0, from scikit-learn's
    confusion matrix on each group's mask (no faircard code)."""
    out = set()
    for g, t in thresholds.items():
        part = df[df.race == g]
        tn, fp, fn, tp = confusion_matrix(part.outcome, part.risk_score >= t,
                                          labels=[0, 1]).ravel()
        for m, den in zip(RATES, (tp + fn, fp + tn, tp + fn, tp + fp), strict=True):
            if den == 0:
                out.add((g, m))
    return out


def _undefined_shown(table: pd.DataFrame) -> set:
    return {(g, m) for g in table.index for m in RATES if pd.isna(table.loc[g, m])}


def _grid(at, policy: bool):
    """The table at the slider's threshold, or the per-group policy's (it has thresholds)."""
    (element,) = [d for d in at.dataframe if ("threshold" in d.value.columns) == policy]
    return element


def _page_text(at) -> list[str]:
    return [text_of(e) for kind in ("markdown", "info", "warning", "error", "success",
                                    "caption") for e in getattr(at, kind)]


def _drawn_labels(chart) -> list[str]:
    """What a real renderer says of each mark of a chart the page sent (Vega-Lite writes the
    tooltip's text into each mark's aria-label)."""
    spec = json.loads(chart.proto.spec)
    spec["datasets"] = {
        d.name: json.loads(pa.ipc.open_stream(io.BytesIO(d.data.data)).read_pandas()
                           .to_json(orient="records")) for d in chart.proto.datasets}
    return re.findall(r'aria-label="([^"]*)"', vlc.vegalite_to_svg(spec))


@pytest.mark.parametrize("randomized", [False, True])
def test_undefined_rates_are_shown_as_na_with_the_reason(randomized):
    df = _frame()
    at = seed_state(new("app_pages/thresholds.py"), df, sensitive=("race",))
    at.session_state["fc_data_digest"] = f"thr-undefined-{randomized}"
    at.session_state["w_randomized"] = randomized
    at.run()
    no_exception(at)
    t = at.slider(key="w_thr_slider").value
    single = _grid(at, False)
    want = _undefined_by_sklearn(df, dict.fromkeys("ABC", t))
    assert want == {("C", "true_positive_rate"), ("C", "false_negative_rate"),
                    ("B", "false_positive_rate")}
    assert _undefined_shown(single.value) == want
    policy = _grid(at, True)
    if not randomized:  # a randomised rule's counts are expected values: checked above only
        thresholds = policy.value["threshold"].to_dict()
        assert _undefined_shown(policy.value) == _undefined_by_sklearn(df, thresholds)
    else:
        assert policy.value["rule"].str.contains("probability").any()
    for grid in (single, policy):  # what the grid draws in an empty cell
        assert grid.proto.placeholder == "n/a"
    captions = [text_of(c) for c in at.caption]
    reasons = [c for c in captions if c.startswith("n/a: undefined.")]
    assert len(reasons) == 2, captions
    for said in reasons:
        assert ("C: true positive rate and false negative rate (no actual positives in this "
                "group)") in said
        assert "B: false positive rate (no actual negatives in this group)" in said
        assert "A:" not in said
    bad = [s for s in _page_text(at) if NOT_SHOWN.search(s)]
    assert not bad, bad


def test_trade_off_and_roc_tooltips_say_what_has_no_value():
    """The trade-off's single threshold is held to no tolerance: its tooltip said
    "tolerance: null"; the ROC curve's first point, the threshold above every score, said
    "threshold: inf"."""
    at = seed_state(new("app_pages/thresholds.py"), _frame(), sensitive=("race",))
    at.session_state["fc_data_digest"] = "thr-undefined-tooltips"
    at.session_state["w_tradeoff_open"] = True
    at.run()
    no_exception(at)
    trade = next(c for c in at.get("vega_lite_chart") if "Trade-off" in c.proto.spec)
    labels = _drawn_labels(trade)
    single = [s for s in labels if "policy: one threshold for all;" in s]
    assert len(single) == 1, labels
    assert "tolerance: n/a (one threshold for everyone, held to no constraint);" in single[0]
    searched = [s for s in labels if "policy: per-group thresholds;" in s]
    assert searched and all(re.search(r"tolerance: 0\.\d{3};", s) for s in searched), labels
    roc = next(c for c in at.get("vega_lite_chart") if "ROC curve" in c.proto.spec)
    drawn = _drawn_labels(roc)
    assert any("threshold: above every score" in s for s in drawn), drawn[:5]
    bad = [s for s in labels + drawn if NOT_SHOWN.search(s)]
    assert not bad, bad[:5]


@pytest.mark.parametrize("randomized", [False, True])
def test_a_constraint_undefined_in_every_group_held_to_it_is_said_so(randomized):
    """Equal opportunity when no group held to it (A and B; C is too small to be held) has an
    actual positive: every true positive rate it compares is 0/0 (scikit-learn's recall is
    undefined on each mask), so the summary said "largest gap nan" and that no policy could
    meet it, where there is nothing to meet."""
    df = _frame()
    df = df[(df.race != "C") | (df.index < 120)].copy()
    df.loc[df.race != "C", "outcome"] = 0
    assert (df.race == "C").sum() < 30 < (df.race == "B").sum()
    for g in ("A", "B"):
        part = df[df.race == g]
        assert np.isnan(recall_score(part.outcome, part.risk_score >= 0.5,
                                     zero_division=np.nan))
    at = seed_state(new("app_pages/thresholds.py"), df, sensitive=("race",))
    at.session_state["fc_data_digest"] = f"thr-undefined-constraint-{randomized}"
    at.session_state["w_randomized"] = randomized
    at.session_state["w_constraint"] = "equal_opportunity"
    at.session_state["w_tradeoff_open"] = True
    at.run()
    no_exception(at)
    # no point of the trade-off has a gap to be drawn at: said, instead of empty axes
    assert not [c for c in at.get("vega_lite_chart") if "Trade-off" in c.proto.spec]
    assert [i for i in at.info if text_of(i).startswith(
        "No trade-off to draw: every policy's largest gap is n/a. It cannot be held to equal "
        "opportunity")]
    said = [text_of(e) for kind in ("error", "warning", "success") for e in getattr(at, kind)
            if "Thresholds per group" in text_of(e) or "Randomised" in text_of(e)]
    assert len(said) == 1, said
    assert ("It cannot be held to equal opportunity: the true positive rate is undefined in "
            "every group held to it (no actual positives), so its largest gap is n/a and no "
            "policy meets or misses it.") in said[0]
    assert "meets equal" not in said[0] and "closest" not in said[0]
    bad = [s for s in _page_text(at) if NOT_SHOWN.search(s)]
    assert not bad, bad
