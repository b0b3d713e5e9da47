"""The Thresholds page's ROC chart draws fewer points than there are thresholds swept, never a
different curve: the point of each group at every threshold swept (its rates computed here on
the group's mask) lies within ``tables.ROC_STEP`` of a drawn point, every drawn point is the
true (false positive rate, true positive rate) pair at its threshold, and the CSV offered next
to it holds every threshold swept."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import faircard
from faircard.thresholds import sweep_assessment
from faircard.ui.tables import ROC_STEP, roc_drawn
from tests.app.conftest import new, no_exception, seed_state, small_frame


def _near(points: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """For each point, the L1 distance to the nearest drawn point."""
    return np.abs(points[:, None, :] - drawn[None, :, :]).sum(axis=2).min(axis=1)


def _rates(y: np.ndarray, s: np.ndarray, t: float) -> tuple[float, float]:
    pred = s >= t
    return float(pred[y == 0].mean()), float(pred[y == 1].mean())


def _chart_rows(at) -> pd.DataFrame:
    roc = next(c for c in at.get("vega_lite_chart") if "ROC curve" in c.proto.spec)
    (data,) = roc.proto.datasets
    return pa.ipc.open_stream(io.BytesIO(data.data.data)).read_pandas()


def test_roc_chart_draws_every_groups_curve_within_a_step():
    df = small_frame(n=4000, seed=5)
    at = seed_state(new("app_pages/thresholds.py"), df=df, sensitive=("race",))
    at.session_state["fc_data_digest"] = "roc-points"
    at.run()
    no_exception(at)
    drawn = _chart_rows(at)
    a = faircard.assess(df, target="outcome", score="risk_score", sensitive="race", n_boot=0)
    swept = sweep_assessment(a, "race").thresholds
    assert list(drawn.columns) == ["group", "threshold", "false_positive_rate",
                                   "true_positive_rate", "label"]
    assert (drawn["label"] == drawn["group"]).all()  # short names are drawn as they are
    for g in ("A", "B", "C"):
        part = df[df["race"] == g]
        y, s = part["outcome"].to_numpy(), part["risk_score"].to_numpy()
        every = np.array([_rates(y, s, t) for t in swept])
        mine = drawn[drawn["group"] == g]
        assert 2 <= len(mine) < len(swept) / 2  # far fewer points than thresholds
        xy = mine[["false_positive_rate", "true_positive_rate"]].to_numpy()
        assert _near(every, xy).max() < ROC_STEP
        for t, x, yy in mine[["threshold", "false_positive_rate",
                              "true_positive_rate"]].itertuples(index=False):
            if np.isfinite(t):
                assert (x, yy) == pytest.approx(_rates(y, s, t), abs=1e-12)
    assert at.get("download_button")  # every threshold's point, one click away
    assert any(b.proto.label == "ROC points (CSV)" for b in at.get("download_button"))


@pytest.mark.parametrize("seed", [0, 1])
def test_drawn_points_keep_both_ends_and_are_a_step_apart(seed):
    rng = np.random.default_rng(seed)
    k = 3000
    rows = []
    for g in ("a", "b|c"):
        x = np.sort(rng.random(k))[::-1]
        y = np.sort(rng.random(k))[::-1]
        rows.append(pd.DataFrame({"feature": "f", "group": g, "threshold": np.arange(k) / k,
                                  "false_positive_rate": x, "true_positive_rate": y,
                                  "precision": rng.random(k), "recall": y}))
    curves = pd.concat(rows, ignore_index=True)
    drawn = roc_drawn(curves)
    for g, part in curves.groupby("group"):
        mine = drawn[drawn["group"] == g]
        assert mine["threshold"].iloc[0] == part["threshold"].iloc[0]
        assert mine["threshold"].iloc[-1] == part["threshold"].iloc[-1]
        xy = mine[["false_positive_rate", "true_positive_rate"]].to_numpy()
        assert (np.abs(np.diff(xy[:-1], axis=0)).sum(axis=1) >= ROC_STEP).all()
        assert len(mine) <= 2 / ROC_STEP + 2
        every = part[["false_positive_rate", "true_positive_rate"]].to_numpy()
        assert _near(every, xy).max() < ROC_STEP
        # the drawn rows are rows of the curve, unchanged
        merged = mine.merge(part, on=list(mine.columns), how="left", indicator=True)
        assert (merged["_merge"] == "both").all()
