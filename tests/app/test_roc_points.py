"""The Thresholds page's ROC chart draws fewer points than there are thresholds swept, never a
different curve: the point of each group at every threshold swept (its rates computed here on
the group's mask) lies within ``tables.ROC_TOLERANCE`` of the line drawn, every drawn point is
the true (false positive rate, true positive rate) pair at its threshold, and the CSV offered
next to it holds every threshold swept."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import faircard
from faircard.thresholds import sweep_assessment
from faircard.ui.tables import ROC_TOLERANCE, roc_drawn, roc_points_csv
from tests.app.conftest import new, no_exception, seed_state, small_frame


def _off_line(points: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """For each point, its distance to the line through the drawn points (in their order):
    to the nearest of its segments."""
    a, b = drawn[:-1][None, :, :], drawn[1:][None, :, :]
    p = points[:, None, :]
    ab = b - a
    length = (ab ** 2).sum(axis=2)
    t = np.clip(((p - a) * ab).sum(axis=2) / np.where(length > 0, length, 1), 0, 1)
    nearest = a + t[:, :, None] * ab
    return np.sqrt(((p - nearest) ** 2).sum(axis=2)).min(axis=1)


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
                                   "true_positive_rate", "label", "threshold_text"]
    # the tooltip's threshold, written with the digits that state it exactly
    # (the point above every score, nobody decided positive, in words)
    finite = np.isfinite(drawn["threshold"])
    assert [float(t) for t in drawn.loc[finite, "threshold_text"]] == \
        list(drawn.loc[finite, "threshold"])
    assert (drawn.loc[~finite, "threshold_text"] == "above every score").all()
    assert (~finite).sum() == drawn["group"].nunique()
    assert (drawn["label"] == drawn["group"]).all()  # short names are drawn as they are
    for g in ("A", "B", "C"):
        part = df[df["race"] == g]
        y, s = part["outcome"].to_numpy(), part["risk_score"].to_numpy()
        every = np.array([_rates(y, s, t) for t in swept])
        mine = drawn[drawn["group"] == g]
        assert 2 <= len(mine) < len(swept) / 2  # far fewer points than thresholds
        xy = mine[["false_positive_rate", "true_positive_rate"]].to_numpy()
        assert _off_line(every, xy).max() <= ROC_TOLERANCE + 1e-12
        for t, x, yy in mine[["threshold", "false_positive_rate",
                              "true_positive_rate"]].itertuples(index=False):
            if np.isfinite(t):
                assert (x, yy) == pytest.approx(_rates(y, s, t), abs=1e-12)
    # every threshold's point, one click away; written on the click, not on every rerun
    (button,) = [b for b in at.get("download_button") if b.proto.label == "ROC points (CSV)"]
    assert button.proto.deferred_file_id


@pytest.mark.parametrize("seed", [0, 1])
def test_drawn_points_keep_both_ends_and_lie_on_the_curve(seed):
    rng = np.random.default_rng(seed)
    k = 3000
    rows = []
    for g, smooth in (("a", True), ("b|c", False)):
        x = np.sort(rng.random(k))[::-1]
        y = np.sqrt(x) if smooth else np.sort(rng.random(k))[::-1]
        rows.append(pd.DataFrame({"feature": "f", "group": g, "threshold": np.arange(k) / k,
                                  "false_positive_rate": x, "true_positive_rate": y,
                                  "precision": rng.random(k), "recall": y}))
    curves = pd.concat(rows, ignore_index=True)
    drawn = roc_drawn(curves)
    for g, part in curves.groupby("group"):
        mine = drawn[drawn["group"] == g]
        assert mine["threshold"].iloc[0] == part["threshold"].iloc[0]
        assert mine["threshold"].iloc[-1] == part["threshold"].iloc[-1]
        assert mine["threshold"].is_monotonic_increasing  # along the curve, in its order
        xy = mine[["false_positive_rate", "true_positive_rate"]].to_numpy()
        every = part[["false_positive_rate", "true_positive_rate"]].to_numpy()
        assert _off_line(every, xy).max() <= ROC_TOLERANCE + 1e-12
        assert len(mine) < (60 if g == "a" else k)  # a smooth curve needs a few dozen
        # the drawn rows are rows of the curve, unchanged
        merged = mine.merge(part, on=list(mine.columns), how="left", indicator=True)
        assert (merged["_merge"] == "both").all()


def test_roc_points_csv_holds_every_thresholds_point():
    """The download next to the chart (made on click): one row per threshold swept and group,
    with both rates, precision and recall as computed on the group's mask."""
    df = small_frame(n=3000, seed=7)
    a = faircard.assess(df, target="outcome", score="risk_score", sensitive="race", n_boot=0)
    sw = sweep_assessment(a, "race")
    rows = pd.read_csv(io.StringIO(roc_points_csv(sw, "race")))
    for g in ("A", "B", "C"):
        part = df[df["race"] == g]
        y, s = part["outcome"].to_numpy(), part["risk_score"].to_numpy()
        mine = rows[rows["group"] == g]
        assert sorted(mine["threshold"]) == pytest.approx(sorted(sw.thresholds))
        for t, x, yy, p, r in mine[["threshold", "false_positive_rate", "true_positive_rate",
                                    "precision", "recall"]].itertuples(index=False):
            if not np.isfinite(t):
                continue
            pred = s >= t
            assert (x, yy) == pytest.approx(_rates(y, s, t), abs=1e-9)
            assert r == pytest.approx(pred[y == 1].mean(), abs=1e-9)
            if pred.any():
                assert p == pytest.approx(y[pred].mean(), abs=1e-9)
