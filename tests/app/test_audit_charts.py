"""The charts the pages send, drawn by a real Vega-Lite renderer (vl-convert): what a reader
sees, not only the rows behind it."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import vl_convert as vlc

from tests.app.conftest import coarse_two_groups, new, no_exception, seed_state, small_frame


def _svg(chart) -> str:
    """The SVG a real renderer draws for a chart the page sent (its Arrow data sets inline)."""
    spec = json.loads(chart.proto.spec)
    spec["datasets"] = {
        d.name: json.loads(pa.ipc.open_stream(io.BytesIO(d.data.data)).read_pandas()
                           .to_json(orient="records")) for d in chart.proto.datasets}
    return vlc.vegalite_to_svg(spec)


def _drawn_lines(chart) -> list[np.ndarray]:
    """The pixel vertices of each line the renderer draws for a chart the page sent."""
    svg = _svg(chart)
    paths = re.findall(r'<path[^>]*aria-roledescription="line mark"[^>]*\sd="([^"]+)"', svg)
    return [np.array(re.findall(r"(-?[\d.]+),(-?[\d.]+)", d), dtype=float) for d in paths]


def test_roc_curves_are_drawn_along_the_curve_without_zigzags():
    """Both rates only grow as the threshold falls, so a ROC curve drawn point to point never
    goes left or down. Drawn in the order of the false positive rate alone, every rise at a
    fixed false positive rate (a run of scores held only by positives) went to its top first
    and back down: 118 of the 321 segments of one group here."""
    df = small_frame(n=1200, seed=0)
    at = seed_state(new("app_pages/thresholds.py"), df=df, sensitive=("sex",))
    at.session_state["fc_data_digest"] = "audit-roc-drawn"
    at.run()
    no_exception(at)
    roc = next(c for c in at.get("vega_lite_chart") if "ROC curve" in c.proto.spec)
    lines = _drawn_lines(roc)
    assert len(lines) == df["sex"].nunique()
    for xy in lines:
        assert len(xy) > 100
        step = np.diff(xy, axis=0)
        assert (step[:, 0] >= -1e-6).all()  # never left
        assert (step[:, 1] <= 1e-6).all()   # never down (SVG's y grows downwards)


def _chart_rows(chart) -> pd.DataFrame:
    (data,) = chart.proto.datasets
    return pa.ipc.open_stream(io.BytesIO(data.data.data)).read_pandas()


def test_trade_off_never_draws_a_policy_that_misses_its_tolerance_as_meeting_it():
    """Scores 1-10 in two groups whose selection rates never come closer than 0.0125 (all
    pairs of per-group thresholds searched here by brute force): at the tolerances 0, 0.005
    and 0.01 no policy meets demographic parity, and the trade-off chart's point for each of
    them (the closest policy) is labelled as missing it, not as the per-group thresholds
    that meet theirs."""
    df = coarse_two_groups([25, 45, 55, 65, 55, 45, 35, 30, 25, 20])
    at = seed_state(new("app_pages/thresholds.py"), df=df, sensitive=("sex",))
    at.session_state["fc_data_digest"] = "audit-trade-off-misses"
    at.session_state["w_tradeoff_open"] = True
    at.run()
    no_exception(at)
    assert at.selectbox(key="w_constraint").value == "demographic_parity"
    chart = next(c for c in at.get("vega_lite_chart") if "Trade-off" in c.proto.spec)
    rows = _chart_rows(chart)
    searched = rows[~rows["is_single_threshold"] & ~rows["is_chosen"]]
    thresholds = np.arange(1, 12)  # every rule of each group: 11 selects nobody
    rate = {g: np.array([(df.risk_score[df.sex == g] >= t).mean() for t in thresholds])
            for g in ("Female", "Male")}
    gap = np.abs(rate["Female"][:, None] - rate["Male"][None, :])
    same_all_or_nothing = np.isin(rate["Female"], (0, 1))[:, None] & (
        rate["Female"][:, None] == rate["Male"][None, :])
    misses = {tol: not (gap[~same_all_or_nothing] <= tol + 1e-12).any()
              for tol in searched["tolerance"]}
    assert sorted(t for t, m in misses.items() if m) == [0.0, 0.005, 0.01]
    for tol, label in zip(searched["tolerance"], searched["policy"], strict=True):
        assert ("misses" in label) == misses[tol], (tol, label)


def test_models_chart_names_every_model_next_to_its_point():
    """Disparities with two models: the performance-vs-disparity chart names each model on the
    chart (it was only in the tooltip, so the points could not be told apart)."""
    df = small_frame(n=600, seed=8)
    df["score: first"] = df.pop("risk_score")
    df["score: second"] = (1 - df["score: first"]).round(4)
    at = seed_state(new("app_pages/disparities.py"), df=df, sensitive=("sex",))
    at.session_state["fc_data_digest"] = "audit-models-chart"
    at.session_state["fc_decision"] = "model"
    at.session_state["fc_model_columns"] = {"first": "score: first", "second": "score: second"}
    at.run()
    no_exception(at)
    chart = next(c for c in at.get("vega_lite_chart") if "performance vs disparity" in c.proto.spec)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", _svg(chart))
    assert {"first", "second"} <= set(texts), texts
