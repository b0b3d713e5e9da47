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


def test_builders_give_altair_typed_channels(monkeypatch):
    """Every builder passes its channels as typed objects: a string, dict, alt.value or
    alt.condition makes Altair call ``from_dict``, which indexes its whole schema again each
    time (half of a chart's build). The Vega-Lite is what the strings wrote."""
    from altair.utils import schemapi

    calls = []
    from_dict = schemapi.SchemaBase.from_dict.__func__
    monkeypatch.setattr(schemapi.SchemaBase, "from_dict", classmethod(
        lambda cls, *a, **k: calls.append(cls.__name__) or from_dict(cls, *a, **k)))
    by_group = pd.DataFrame({"feature": "sex", "group": ["F", "M"], "metric": "accuracy",
                             "value": [0.7, 0.8], "ci_low": [0.6, 0.75], "ci_high": [0.8, 0.85],
                             "n": [10, 2000], "is_small_group": [True, False]})
    summary = pd.DataFrame({"feature": "sex", "group": ["F", "M"], "n": [10, 2000],
                            "prevalence": 0.3, "selection_rate": 0.4,
                            "is_small_group": [True, False]})
    curves = pd.DataFrame({"group": ["F", "M"] * 2, "threshold": [0.2, 0.2, 0.8, 0.8],
                           "false_positive_rate": [0.5, 0.4, 0.1, 0.2],
                           "true_positive_rate": [0.9, 0.8, 0.3, 0.4]})
    front = pd.DataFrame({"is_chosen": [True, False], "is_single_threshold": [False, True],
                          "feasible": [True, True], "disparity": [0.01, 0.1],
                          "objective_value": [0.7, 0.72], "tolerance": [0.01, np.nan]})
    hist = pd.DataFrame({"group": ["F", "M"], "outcome": "1", "bin_low": 0.0,
                         "bin_high": 0.1, "count": 3})
    models = pd.DataFrame({"model": ["a", "b"], "accuracy": [0.8, 0.7],
                           "demographic_parity_difference": [0.1, 0.2]})
    specs = {
        "metric_bars": _spec(charts.metric_bars(by_group, "accuracy", "sex", 0.75)),
        "group_sizes": _spec(charts.group_sizes(summary, "sex")),
        "rates_by_group": _spec(charts.rates_by_group(summary, "sex")),
        "roc_curves": _spec(charts.roc_curves(curves)),
        "tradeoff": _spec(charts.tradeoff(front, "accuracy")),
        "score_histograms": _spec(charts.score_histograms(hist, "sex")),
        "models_scatter": _spec(charts.models_scatter(models, "accuracy",
                                                      "demographic_parity_difference", "a")),
    }
    assert calls == []
    bars, errors, rule = (layer["encoding"] for layer in specs["metric_bars"]["layer"])
    assert bars["opacity"] == {"condition": {"test": "(datum.size === 'ok')", "value": 1.0},
                               "value": 0.35}
    assert errors["x2"] == {"field": "ci_high"} and errors["color"] == {"value": "#333"}
    assert rule["x"] == {"field": "overall", "type": "quantitative"}
    assert specs["group_sizes"]["encoding"]["color"] == {
        "condition": {"test": "datum.is_small_group", "value": "#c9c9c9"}, "value": "#4c78a8"}
    assert specs["rates_by_group"]["encoding"]["tooltip"][:2] == [
        {"field": "group", "type": "nominal"}, {"field": "rate", "type": "nominal"}]
    assert specs["roc_curves"]["encoding"]["order"] == {"field": "along",
                                                        "type": "quantitative"}
    assert specs["tradeoff"]["encoding"]["shape"] == {"field": "policy", "type": "nominal"}
    assert specs["score_histograms"]["encoding"]["x2"] == {"field": "bin_high"}
    points, names = (layer["encoding"] for layer in specs["models_scatter"]["layer"])
    assert points["color"]["condition"] == {"test": "datum.focus", "value": "#e45756"}
    assert names["text"] == {"field": "label", "type": "nominal"}


def _shown(value, tooltip: dict) -> str:
    """What a tooltip prints for ``value``: the text itself for a nominal field, else the
    value in its d3 format (".3f" is Python's ".3f")."""
    if tooltip["type"] == "nominal":
        return str(value)
    fmt = tooltip.get("format", "")
    return format(float(value), fmt[1:] if fmt.startswith(".") else "") if fmt else str(value)


def test_roc_tooltip_never_prints_two_different_thresholds_alike():
    """Thresholds 0.0001 apart (as a fine sweep of real scores has) read differently, and each
    reads as the number it is."""
    thresholds = [0.12341, 0.12349, 0.5, 0.50004, 0.7, float("inf")]
    curves = pd.DataFrame({"group": ["F"] * 6, "threshold": thresholds,
                           "false_positive_rate": [0.9, 0.8, 0.5, 0.4, 0.2, 0.0],
                           "true_positive_rate": [1.0, 0.95, 0.8, 0.7, 0.5, 0.0]})
    spec = _spec(charts.roc_curves(curves))
    tip = next(t for t in spec["encoding"]["tooltip"] if t.get("title") == "threshold"
               or t["field"] == "threshold")
    rows = next(iter(spec["datasets"].values()))
    shown = [_shown(r[tip["field"]], tip) for r in rows]
    assert len(set(shown)) == len(thresholds)
    # the threshold above every score (nobody decided positive) is said in words, not "inf"
    assert shown[-1] == "above every score"
    assert [float(s) for s in shown[:-1]] == thresholds[:-1]


def _svg(chart_or_spec) -> str:
    import vl_convert

    spec = chart_or_spec if isinstance(chart_or_spec, dict) else chart_or_spec.to_dict()
    return vl_convert.vegalite_to_svg(spec)


def test_bars_and_group_sizes_of_two_features_differ_only_in_their_data():
    """The chart of one metric (or of group sizes) for another feature is the same Vega-Lite
    with other data sets, so that a browser replaces its data instead of drawing it anew; the
    title it reads from them is drawn (vl-convert) exactly as the same title written in the
    chart."""
    from faircard.ui.tables import group_summary

    df = make_dataset(4, n=1500, n_features=2)
    a = faircard.assess(df, target="y", score="score", sensitive=["sex", "race"], n_boot=20)
    summary = group_summary(a)
    built = {f: (charts.metric_bars(a.by_group, "true_positive_rate", f,
                                    a.overall["true_positive_rate"], label="Recall"),
                 charts.group_sizes(summary, f)) for f in ("sex", "race")}
    specs = {f: [_spec(c) for c in pair] for f, pair in built.items()}
    for s_sex, s_race in zip(specs["sex"], specs["race"], strict=True):
        assert s_sex.pop("datasets") != s_race.pop("datasets")
        assert s_sex == s_race
    for f, (bars, sizes) in built.items():
        for chart, title in ((bars, f"Recall by {f}"), (sizes, f"Group sizes: {f}")):
            drawn = _svg(chart)
            assert f"aria-label=\"Title text '{title}'\"" in drawn
            assert drawn == _svg(chart.properties(title=title))
        values = a.by_group[(a.by_group["feature"] == f)
                            & (a.by_group["metric"] == "true_positive_rate")]
        drawn = _svg(bars)
        for g, v in zip(values["group"], values["value"], strict=True):
            if np.isnan(v):  # no bar for a group without a value
                assert f"; label: {g}; group: {g};" not in drawn
            else:
                assert f"Recall: {v:.2f}; label: {g}; group: {g};" in drawn
