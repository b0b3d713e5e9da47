"""Chart specifications: readable axes (enough ticks, fixed decimals, no overlapping labels),
every point inside the plot, no raw floats in tooltips."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

import faircard
from faircard import charts
from faircard.policy import pareto_front
from tests.conftest import make_dataset


def _spec(chart) -> dict:
    return json.loads(chart.to_json())


def _encodings(spec):
    """Every encoding block of a (layered) Vega-Lite spec."""
    layers = spec.get("layer", [spec])
    return [layer.get("encoding", {}) for layer in layers]


def test_tradeoff_axis_has_room_and_every_point_is_inside():
    df = make_dataset(8, n=2000, n_features=1, tiny_group=False, no_positive_group=False)
    codes, groups = np.unique(df["sex"].to_numpy(), return_inverse=True)
    front = pareto_front(df["y"], df["score"], groups, list(codes),
                         constraint="demographic_parity")
    spec = _spec(charts.tradeoff(front, "accuracy"))
    y = spec["encoding"]["y"]
    lo, hi = y["scale"]["domain"]
    values = front["objective_value"]
    assert lo < values.min() and values.max() < hi
    assert y["axis"]["tickCount"] >= 5 and y["axis"]["format"] == ".3f"
    assert spec["encoding"]["x"]["axis"]["format"] == ".3f"
    assert spec["encoding"]["color"]["legend"]["orient"] == "right"
    assert all(t.get("format") == ".3f" for t in spec["encoding"]["tooltip"]
               if t.get("type") == "quantitative")


def test_a_flat_front_still_gets_a_readable_range():
    front = pd.DataFrame({"tolerance": [0.0, 0.01], "objective_value": [0.7, 0.7],
                          "disparity": [0.0, 0.01], "feasible": [True, True],
                          "is_single_threshold": [False, True], "is_chosen": [False, False]})
    lo, hi = _spec(charts.tradeoff(front, "accuracy"))["encoding"]["y"]["scale"]["domain"]
    assert hi - lo >= 0.02 and lo < 0.7 < hi


def test_metric_bars_axis_does_not_crowd_the_pdf():
    df = make_dataset(9, n=800, n_features=1)
    a = faircard.assess(df, target="y", score="score", sensitive="sex", n_boot=0)
    spec = _spec(charts.metric_bars(a.by_group, "false_positive_rate", "sex", 0.2,
                                    label="False positive rate"))
    [bars] = [e for e in _encodings(spec) if "opacity" in e]
    axis = bars["x"]["axis"]
    assert axis["tickCount"] <= 5 and axis["format"] == ".2f" and axis["labelOverlap"]


def test_models_scatter_formats_numbers():
    table = pd.DataFrame({"model": ["a", "b"], "accuracy": [0.712345678, 0.70111111],
                          "demographic_parity_difference": [0.0312345, 0.0898765]})
    spec = _spec(charts.models_scatter(table, "accuracy", "demographic_parity_difference", "a"))
    [enc] = [e for e in _encodings(spec) if "tooltip" in e]
    assert enc["x"]["axis"]["format"] == ".3f" and enc["y"]["axis"]["format"] == ".3f"
    lo, hi = enc["y"]["scale"]["domain"]
    assert lo < 0.70111111 and 0.712345678 < hi
    assert all(t.get("format") == ".3f" for t in enc["tooltip"][1:])
