"""Altair charts of the diagnostics (they draw the tidy tables; nothing is recomputed)."""

from __future__ import annotations

import altair as alt
import pandas as pd


def reliability_curves(bins: pd.DataFrame, feature: str) -> alt.LayerChart:
    """Observed positive rate against mean score per score bin, one line per group, with the
    diagonal of perfect calibration."""
    rows = bins[bins["feature"] == feature].copy()
    rows["group"] = rows["group"].astype(str)
    diagonal = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(
        strokeDash=[4, 3], color="#888").encode(x="x:Q", y="y:Q")
    lines = alt.Chart(rows).mark_line(point=True).encode(
        x=alt.X("mean_score:Q", title="mean score in the bin", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format=".1f")),
        y=alt.Y("observed_rate:Q", title="observed positive rate",
                scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%")),
        color=alt.Color("group:N", title=feature),
        tooltip=[alt.Tooltip("group:N"), alt.Tooltip("mean_score:Q", format=".3f"),
                 alt.Tooltip("observed_rate:Q", format=".1%"), alt.Tooltip("n:Q", format=",")],
    )
    return (diagonal + lines).properties(height=320)


def proxy_bars(proxies: pd.DataFrame, feature: str, top: int = 10) -> alt.LayerChart:
    """Cross-validated AUC of the columns that best tell one group of ``feature`` apart, with
    a line across its interval (``ci_low`` to ``ci_high``)."""
    rows = proxies[(proxies["sensitive_feature"] == feature)
                   & (proxies["measure"] == "cv_auc_one_group")]
    rows = rows.sort_values("value", ascending=False).head(top)
    base = alt.Chart(rows).encode(y=alt.Y("feature:N", sort="-x", title=None))
    bars = base.mark_bar().encode(
        x=alt.X("value:Q", title="cross-validated AUC (0.5 = no information)",
                scale=alt.Scale(domain=[0.5, 1], clamp=True), axis=alt.Axis(format=".2f")),
        tooltip=[alt.Tooltip("feature:N"), alt.Tooltip("group:N", title="best told apart"),
                 alt.Tooltip("value:Q", format=".3f", title="AUC"),
                 alt.Tooltip("ci_low:Q", format=".3f", title="interval from"),
                 alt.Tooltip("ci_high:Q", format=".3f", title="interval to")])
    spread = base.mark_rule(color="#333").encode(x="ci_low:Q", x2="ci_high:Q")
    return (bars + spread).properties(height=max(120, 24 * len(rows)))


def importance_bars(importance: pd.DataFrame, top: int = 15) -> alt.LayerChart:
    """Overall permutation importance per column (mean drop of the metric), with a line of
    plus and minus one standard deviation over the shuffles."""
    rows = importance[importance["group"] == "(all)"].sort_values("importance",
                                                                  ascending=False).head(top)
    rows = rows.assign(low=rows["importance"] - rows["importance_std"],
                       high=rows["importance"] + rows["importance_std"])
    what = "ROC AUC" if importance.attrs.get("metric") == "roc_auc" else "accuracy"
    base = alt.Chart(rows).encode(y=alt.Y("column:N", sort="-x", title=None))
    bars = base.mark_bar().encode(
        x=alt.X("importance:Q", title=f"drop in {what} when the column is shuffled",
                axis=alt.Axis(format=".3f")),
        tooltip=[alt.Tooltip("column:N"), alt.Tooltip("importance:Q", format=".4f"),
                 alt.Tooltip("importance_std:Q", format=".4f", title="standard deviation")])
    spread = base.mark_rule(color="#333").encode(x="low:Q", x2="high:Q")
    return (bars + spread).properties(height=max(120, 24 * len(rows)))
