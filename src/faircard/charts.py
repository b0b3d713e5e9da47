"""Altair chart builders. They take the tidy frames of an Assessment and never recompute."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .formatting import fmt_num, fmt_threshold
from .metrics import LABELS
from .safe_text import short_labels, visible

_PALETTE = "tableau10"
UNDEFINED = "n/a"
# Channels are given as typed objects (alt.X2, alt.ColorValue, alt.Tooltip, ...), never as
# strings, dicts, alt.value or alt.condition: Altair turns those into objects with
# ``from_dict``, which indexes its whole schema again on every call (about half of the time
# of building a chart). The Vega-Lite written is the same.
RATE_AXIS = {"format": ".2f", "tickCount": 5, "labelOverlap": "greedy", "labelFlush": True}
"""Axis settings for values in [0, 1]: five ticks with two decimals, so labels never overlap
when a chart is shrunk into the PDF card."""


def _padded_domain(values: pd.Series, pad: float = 0.1) -> list[float]:
    """[low, high] around ``values`` with ``pad`` of their range on each side (at least 0.01),
    so that every point lies inside the plot and the axis has room for several ticks."""
    v = pd.to_numeric(values, errors="coerce").dropna()
    if v.empty:
        return [0.0, 1.0]
    lo, hi = float(v.min()), float(v.max())
    margin = max((hi - lo) * pad, 0.01)
    return [lo - margin, hi + margin]


def _with_labels(frame: pd.DataFrame, column: str = "group") -> pd.DataFrame:
    """``frame`` with ``column`` as text and ``label``: what the chart draws of it (long names
    end in an ellipsis, names that would read alike are numbered; tooltips keep ``column``)."""
    frame = frame.copy()
    frame["label"] = frame[column].astype(str).map(short_labels(frame[column].astype(str).unique()))
    frame[column] = frame[column].astype(str).map(visible)  # in tooltips: controls as escapes
    return frame


def _short(name: str) -> str:
    return short_labels([name])[str(name)]


BAR_COLUMNS = ("group", "value", "n", "is_small_group", "ci_low", "ci_high")
"""The columns of ``by_group`` that :func:`metric_bars` draws (equal values in them draw the
same chart, whatever the reference group)."""


def _bar_rows(by_group: pd.DataFrame, metric: str, feature: str) -> pd.DataFrame:
    """The rows :func:`metric_bars` draws: one per group of ``feature``, with its label and
    whether it is large enough to trust (``size``)."""
    rows = by_group[(by_group["feature"] == feature) & (by_group["metric"] == metric)]
    rows = _with_labels(rows[[c for c in BAR_COLUMNS if c in rows.columns]])
    rows["size"] = rows["is_small_group"].map({True: "too small to trust", False: "ok"})
    return rows


def _bar_layers(data, label: str, intervals: bool, overall) -> list:
    """The layers of one metric's bars drawn from ``data`` (the rows of :func:`_bar_rows`, or
    the name of a data set of them): bars, error bars when ``intervals``, and a rule at the
    overall value drawn from ``overall`` (a frame or a data set's name with column
    ``overall``; None: no rule)."""
    base = alt.Chart(data).encode(
        y=alt.Y("label:N", sort=None, title=None),
    )
    bars = base.mark_bar().encode(
        x=alt.X("value:Q", title=label, axis=alt.Axis(**RATE_AXIS)),
        color=alt.Color("label:N", legend=None, scale=alt.Scale(scheme=_PALETTE)),
        opacity=alt.OpacityValue(0.35, condition={"test": alt.datum.size == "ok", "value": 1.0}),
        tooltip=[alt.Tooltip("group:N"), alt.Tooltip("value:Q", format=".3f", title=label),
                 alt.Tooltip("n:Q", format=","), alt.Tooltip("size:N", title="group size")],
    )
    layers = [bars]
    if intervals:
        layers.append(base.mark_errorbar(ticks=True).encode(
            x=alt.X("ci_low:Q", title=label), x2=alt.X2("ci_high:Q"), color=alt.ColorValue("#333"),
        ))
    if overall is not None:
        layers.append(alt.Chart(overall).mark_rule(strokeDash=[4, 3], color="#444").encode(
            x=alt.X("overall:Q"), tooltip=[alt.Tooltip("overall:Q", format=".3f")]))
    return layers


def _has_intervals(rows: pd.DataFrame) -> bool:
    return "ci_low" in rows.columns and bool(rows["ci_low"].notna().any())


def metric_bars(by_group: pd.DataFrame, metric: str, feature: str,
                overall: float | None = None, label: str | None = None) -> alt.LayerChart:
    """Bars of one metric per group (with error bars when ``ci_low``/``ci_high`` exist) and a
    rule at the overall value. Small groups are drawn pale. ``label`` names the metric
    (default: its usual name).

    The rows are the data set ``bars`` (the rule's value ``overall``), which also holds the
    title ("<label> by <feature>") that the chart reads from it: the charts of one metric for
    two features differ only in their data, so a browser showing one draws the other by
    replacing its data instead of building the chart again."""
    rows = _bar_rows(by_group, metric, feature)
    label = label or LABELS.get(metric, metric)
    rows["title"] = f"{label} by {_short(feature)}"
    datasets = {"bars": _records(rows)}
    rule = None
    if overall is not None and pd.notna(overall):
        datasets["overall"] = [{"overall": float(overall)}]
        rule = alt.NamedData("overall")
    chart = alt.layer(*_bar_layers(alt.NamedData("bars"), label, _has_intervals(rows), rule)
                      ).properties(title=_title_of("bars"), height=alt.Step(26), width=420)
    chart["datasets"] = datasets  # set, not through properties(): it validated every value
    return chart


def _records(frame: pd.DataFrame) -> list[dict]:
    """The rows of ``frame`` as JSON values (a missing value is null)."""
    rows = frame.to_dict("records")
    missing = [c for c in frame.columns if frame[c].isna().any()]
    for row in rows:
        for c in missing:
            if pd.isna(row[c]):
                row[c] = None
    return rows


def _title_of(dataset: str) -> alt.TitleParams:
    """A title read from the column ``title`` of the named data set ``dataset`` (empty until
    the browser has inserted the data set)."""
    rows = f"data({dataset!r})"
    return alt.TitleParams(alt.ExprRef(f"length({rows}) ? {rows}[0].title : ''"))


def group_sizes(summary: pd.DataFrame, feature: str) -> alt.Chart:
    """Group sizes with base rate and predicted positive rate in the tooltip.

    ``summary`` has columns feature, group, n, prevalence, selection_rate, is_small_group.
    The rows are the data set ``sizes``, which also holds the title that the chart reads
    from it (as :func:`metric_bars`: two features' charts differ only in their data)."""
    rows = _with_labels(summary[summary["feature"] == feature])
    rows["title"] = f"Group sizes: {_short(feature)}"
    chart = alt.Chart(alt.NamedData("sizes")).mark_bar().encode(
        x=alt.X("n:Q", title="people in the group"),
        y=alt.Y("label:N", sort=None, title=None),
        color=alt.ColorValue("#4c78a8", condition={"test": alt.datum.is_small_group,
                                                   "value": "#c9c9c9"}),
        tooltip=[alt.Tooltip("group:N"), alt.Tooltip("n:Q", format=","),
                 alt.Tooltip("prevalence:Q", format=".1%", title="base rate (actual positives)"),
                 alt.Tooltip("selection_rate:Q", format=".1%", title="predicted positive rate")],
    ).properties(title=_title_of("sizes"), height=alt.Step(24), width=420)
    chart["datasets"] = {"sizes": _records(rows)}
    return chart


def rates_by_group(summary: pd.DataFrame, feature: str) -> alt.Chart:
    """Base rate next to predicted positive rate, per group."""
    rows = summary[summary["feature"] == feature][["group", "prevalence", "selection_rate"]]
    long = rows.melt("group", var_name="rate", value_name="value")
    long["rate"] = long["rate"].map({"prevalence": "base rate (actual)",
                                     "selection_rate": "predicted positive rate"})
    long = _with_labels(long)
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("value:Q", axis=alt.Axis(format="%"), title=None),
        y=alt.Y("rate:N", title=None),
        row=alt.Row("label:N", title=None,
                    header=alt.Header(labelAngle=0, labelAlign="left")),
        color=alt.Color("rate:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("group:N"), alt.Tooltip("rate:N"),
                 alt.Tooltip("value:Q", format=".1%")],
    ).properties(width=360, height=alt.Step(14))


def models_scatter(table: pd.DataFrame, performance: str, disparity: str,
                   focus: str | None = None) -> alt.Chart:
    """Performance vs disparity, one point per model (``table`` has model + both columns)."""
    t = _with_labels(table, "model")
    t["focus"] = t["model"] == focus if focus else False
    base = alt.Chart(t).encode(
        x=alt.X(f"{disparity}:Q", title=disparity.replace("_", " "),
                axis=alt.Axis(format=".3f", tickCount=5, labelOverlap="greedy")),
        y=alt.Y(f"{performance}:Q", title=LABELS.get(performance, performance),
                scale=alt.Scale(domain=_padded_domain(t[performance])),
                axis=alt.Axis(format=".3f", tickCount=5)),
    )
    points = base.mark_circle(size=160).encode(
        color=alt.ColorValue("#4c78a8", condition={"test": alt.datum.focus, "value": "#e45756"}),
        tooltip=[alt.Tooltip("model:N"), alt.Tooltip(f"{performance}:Q", format=".3f",
                                        title=LABELS.get(performance, performance)),
                 alt.Tooltip(f"{disparity}:Q", format=".3f", title=disparity.replace("_", " "))],
    )
    # each point says which model it is (not only on hover)
    names = base.mark_text(align="left", dx=10, fontSize=12).encode(text=alt.Text("label:N"))
    return alt.layer(points, names).properties(title="Models: performance vs disparity",
                                               width=420, height=260)


def roc_curves(curves: pd.DataFrame) -> alt.Chart:
    """ROC curve per group (tidy frame from ``thresholds.roc_pr_curves``)."""
    c = _with_labels(curves.dropna(subset=["false_positive_rate", "true_positive_rate"]))
    # the curve's first point, nobody decided positive, is the sweep's threshold above every
    # score (infinite): said so, not "inf"
    c["threshold_text"] = [fmt_threshold(t) if np.isfinite(t) else "above every score"
                           for t in c["threshold"]]
    # drawn along the curve: both rates only grow along it, so their sum orders its points
    # (ordered by the false positive rate alone, a rise at a fixed false positive rate kept
    # the rows' threshold order and was drawn from its top down, a zigzag; Vega-Lite does
    # not order a line by two fields)
    return alt.Chart(c).transform_calculate(
        along="datum.false_positive_rate + datum.true_positive_rate",
    ).mark_line().encode(
        x=alt.X("false_positive_rate:Q", title="False positive rate"),
        y=alt.Y("true_positive_rate:Q", title="True positive rate"),
        color=alt.Color("label:N", title="group", scale=alt.Scale(scheme=_PALETTE)),
        order=alt.Order("along:Q"),
        # a threshold written with the digits that state it exactly (fmt_threshold): at
        # three decimals two thresholds 0.0001 apart read the same
        tooltip=[alt.Tooltip("group:N"), alt.Tooltip("threshold_text:N", title="threshold"),
                 alt.Tooltip("false_positive_rate:Q", format=".3f"),
                 alt.Tooltip("true_positive_rate:Q", format=".3f")],
    ).properties(title="ROC curve per group", width=360, height=300)


def tradeoff(front: pd.DataFrame, objective: str) -> alt.Chart:
    """Objective vs disparity over tolerances, marking the single threshold and the choice."""
    f = front.copy()
    # the single threshold is held to no tolerance, and a gap undefined in every group has no
    # value: said in words, never as "null" or "NaN"
    f["tolerance_text"] = np.where(
        f["is_single_threshold"].astype(bool),
        f"{UNDEFINED} (one threshold for everyone, held to no constraint)",
        [fmt_num(t) for t in f["tolerance"]])
    f["disparity_text"] = [fmt_num(d) if np.isfinite(d) else
                           f"{UNDEFINED} (undefined in every group)"
                           for d in f["disparity"].astype(float)]
    # a tolerance no policy meets gives the closest policy: drawn apart, never as meeting it
    f["policy"] = np.where(f["is_chosen"], "chosen policy",
                           np.where(f["is_single_threshold"], "one threshold for all",
                                    np.where(f["feasible"].astype(bool), "per-group thresholds",
                                             "closest, misses tolerance")))
    return alt.Chart(f).mark_point(filled=True, size=120).encode(
        x=alt.X("disparity:Q", title="largest gap between groups",
                axis=alt.Axis(format=".3f", tickCount=6, labelOverlap="greedy")),
        y=alt.Y("objective_value:Q", title=objective.replace("_", " "),
                scale=alt.Scale(domain=_padded_domain(f["objective_value"])),
                axis=alt.Axis(format=".3f", tickCount=6)),
        color=alt.Color("policy:N", title=None, legend=alt.Legend(orient="right")),
        shape=alt.Shape("policy:N"),
        tooltip=[alt.Tooltip("policy:N"), alt.Tooltip("tolerance_text:N", title="tolerance"),
                 alt.Tooltip("objective_value:Q", format=".3f", title=objective.replace("_", " ")),
                 alt.Tooltip("disparity_text:N", title="largest gap")],
    ).properties(title="Trade-off: objective vs disparity", width=360, height=300)


def score_histograms(hist: pd.DataFrame, feature: str) -> alt.Chart:
    """Score distributions per group, split by outcome, from a tidy histogram frame
    (``group, outcome, bin_low, bin_high, count``; see
    :func:`faircard.governance.share.score_histograms`)."""
    return alt.Chart(_with_labels(hist)).mark_bar(opacity=0.7).encode(
        x=alt.X("bin_low:Q", bin="binned", title="score"), x2=alt.X2("bin_high:Q"),
        y=alt.Y("count:Q", title="people", stack=None),
        color=alt.Color("outcome:N", title="actual outcome"),
        row=alt.Row("label:N", title=None),
        tooltip=[alt.Tooltip("group:N"), alt.Tooltip("outcome:N"),
                 alt.Tooltip("bin_low:Q", format=".2f"), alt.Tooltip("bin_high:Q", format=".2f"),
                 alt.Tooltip("count:Q")],
    ).properties(title=f"Scores by {_short(feature)}", height=80, width=420)
