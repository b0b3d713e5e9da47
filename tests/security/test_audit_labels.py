"""Pathological group, feature and model names on charts: a 50,000-character name is drawn as
its start and an ellipsis (the whole name stays in the tooltip), and names that would read
alike once drawn (the same first characters, spaces, Unicode forms) stay apart."""

from __future__ import annotations

import json
import time
import unicodedata

import pandas as pd
import pytest

from faircard import charts
from faircard.render_worker import run_job
from faircard.safe_text import LABEL_CHARS, short_labels

HUGE = "x" * 50_000
# the same first 200 characters; spaces, composed/decomposed "é", full-width "Ａ"
NAMES = [HUGE, "p" * 200 + "one", "p" * 200 + "two", "A", "A ", " A", "A  B", "A B",
         "caf\u00e9", "cafe\u0301", "\uff21", "1", "1.0", "\U0001f600", "\u202eevil"]


def _looks(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _frames():
    n = len(NAMES)
    by_group = pd.DataFrame({"feature": "f" * 20_000, "group": NAMES, "metric": "selection_rate",
                             "value": [0.1 + i / (2 * n) for i in range(n)], "n": 100,
                             "is_small_group": False, "ci_low": 0.05, "ci_high": 0.9})
    summary = pd.DataFrame({"feature": "f" * 20_000, "group": NAMES, "n": 100,
                            "prevalence": 0.3, "selection_rate": 0.4, "is_small_group": False})
    curves = pd.DataFrame({"group": NAMES * 2, "threshold": [0.2] * n + [0.8] * n,
                           "false_positive_rate": [0.5] * n + [0.1] * n,
                           "true_positive_rate": [0.9] * n + [0.3] * n})
    hist = pd.DataFrame({"group": NAMES, "outcome": "1", "bin_low": 0.0, "bin_high": 0.1,
                         "count": 3})
    models = pd.DataFrame({"model": NAMES, "accuracy": 0.8,
                           "demographic_parity_difference": 0.1})
    feature = "f" * 20_000
    return {
        "metric_bars": charts.metric_bars(by_group, "selection_rate", feature, 0.3),
        "group_sizes": charts.group_sizes(summary, feature),
        "rates_by_group": charts.rates_by_group(summary, feature),
        "roc_curves": charts.roc_curves(curves),
        "score_histograms": charts.score_histograms(hist, feature),
        "models_scatter": charts.models_scatter(models, "accuracy",
                                                "demographic_parity_difference"),
    }


def _walk(node, key):
    if isinstance(node, dict):
        if key in node:
            yield node[key]
        for v in node.values():
            yield from _walk(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)


_DRAWN = ("x", "y", "color", "row", "column", "text", "shape", "detail")


def _drawn_and_tooltips(spec: dict) -> tuple[set[str], set[str]]:
    """The nominal fields a chart draws (axes, facets, legends, text) and those only its
    tooltips show."""
    drawn, tips = set(), set()
    for enc in _walk(spec, "encoding"):
        for channel, d in enc.items():
            items = d if isinstance(d, list) else [d]
            for item in items:
                if isinstance(item, str):
                    item = {"field": item.split(":")[0]}
                if not isinstance(item, dict) or "field" not in item:
                    continue
                if channel == "tooltip":
                    tips.add(item["field"])
                elif channel in _DRAWN and item.get("type", "nominal") == "nominal":
                    drawn.add(item["field"])
    return drawn, tips


@pytest.mark.parametrize("name", ["metric_bars", "group_sizes", "rates_by_group", "roc_curves",
                                  "score_histograms", "models_scatter"])
def test_charts_draw_short_distinct_labels_and_keep_whole_names_in_tooltips(name):
    spec = json.loads(_frames()[name].to_json())
    drawn, tips = _drawn_and_tooltips(spec)
    rows = [r for data in spec["datasets"].values() for r in data]
    labels = drawn - {"rate", "outcome"}  # the fields other than names that these draw
    assert labels, drawn
    for field in labels:
        values = {str(r[field]) for r in rows if field in r}
        assert max(len(v) for v in values) <= LABEL_CHARS + 6, (field, max(map(len, values)))
        # one label per name, and no two that a reader would take for the same
        assert len({_looks(v) for v in values}) == len(NAMES), sorted(values)
    whole = {str(r[f]) for r in rows for f in tips if f in r}
    assert HUGE in whole and "A " in whole and "cafe\u0301" in whole
    # titles written in the spec, and those a chart reads from its data (metric_bars and
    # group_sizes: the feature's name is in them)
    titles = [t for t in _walk(spec, "title") if isinstance(t, str)] + \
        [str(r["title"]) for r in rows if "title" in r]
    for title in titles:
        assert len(title) <= LABEL_CHARS + 40, len(title)
    if name in ("metric_bars", "group_sizes"):
        assert any("ff…" in t for t in titles), titles


def test_short_labels_keep_names_that_fit_and_number_only_those_that_read_alike():
    labels = short_labels(["Female", "Male", "A", "A ", "x" * 61, "x" * 60 + "y", "B (1)", "B"])
    assert labels["Female"] == "Female" and labels["Male"] == "Male"
    assert labels["A"] != labels["A "] and _looks(labels["A"]) != _looks(labels["A "])
    assert labels["x" * 61].endswith("… (1)") and labels["x" * 60 + "y"].endswith("… (2)")
    assert labels["B (1)"] == "B (1)" and labels["B"] == "B"  # nothing to tell apart
    assert len({_looks(v) for v in labels.values()}) == len(labels)


def test_a_chart_image_of_a_fifty_thousand_character_group_is_drawn_at_once():
    """It took 35 s in the chart renderer (vl-convert measures every character it draws)."""
    spec = _frames()["metric_bars"].to_json()
    start = time.perf_counter()
    png = run_job("charts", {"specs": [spec], "scale": 1}, timeout_s=20)["png"]
    assert png and time.perf_counter() - start < 10
