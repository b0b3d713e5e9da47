"""Tables of an assessment as people read them, shared by the Disparities page and the shared
record view (so both show the same figures in the same form)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ..favorable import wording
from ..formatting import fmt_interval, fmt_level, fmt_num, fmt_p, mid_sentence
from ..metrics import UNDEFINED_REASONS, extreme_names


def group_table(a, feature: str, metrics: list[str]) -> pd.DataFrame:
    """One row per group of ``feature``: people, a note for small groups, and each metric as
    "value  [low, high]"."""
    wide = a.by_group[(a.by_group["feature"] == feature) & a.by_group["metric"].isin(metrics)]
    table = wide.assign(
        shown=[f"{fmt_num(v)}  {fmt_interval(lo, hi)}" if pd.notna(lo) else fmt_num(v)
               for v, lo, hi in zip(wide["value"], wide["ci_low"], wide["ci_high"], strict=True)]
    ).pivot(index="group", columns="metric", values="shown")
    sizes = a.by_group[(a.by_group["feature"] == feature) & (a.by_group["metric"] == "count")]
    table = table.reindex(index=list(sizes["group"]), columns=metrics)
    table.columns = [wording(a.spec.favorable_outcome).label(m) for m in metrics]
    table.insert(0, "people", sizes.set_index("group")["n"].map("{:,}".format))
    table.insert(1, "note", sizes.set_index("group")["is_small_group"].map(
        {True: "too small to trust", False: ""}))
    return table


UNDEFINED_CELL = "n/a"
"""What a table's cell shows for an undefined value (``st.dataframe(placeholder=...)``: a
number column keeps its numbers, and an empty cell reads "n/a", never "None")."""


def undefined_note(table: pd.DataFrame, metrics: list[str], favorable_outcome: str,
                   most: int = 10) -> str:
    """Why the cells of ``table`` (one row per group, a column per metric of ``metrics``) that
    are undefined (NaN or None) show n/a: "n/a: undefined. C: true positive rate and false
    negative rate (no actual positives in this group)." ("" when no cell is), the first
    ``most`` groups named and the others counted."""
    label = wording(favorable_outcome).label
    said = []
    for g, row in table[metrics].iterrows():
        by_reason: dict[str, list[str]] = {}
        for m in metrics:
            if pd.isna(row[m]):
                by_reason.setdefault(UNDEFINED_REASONS.get(m, "undefined"), []).append(
                    mid_sentence(label(m)))
        if by_reason:
            said.append(f"{g}: " + "; ".join(
                (ms[0] if len(ms) == 1 else f"{', '.join(ms[:-1])} and {ms[-1]}")
                + f" ({reason})" for reason, ms in by_reason.items()))
    if not said:
        return ""
    more = len(said) - most
    tail = f"; and {more:,} other {'group' if more == 1 else 'groups'}" if more > 0 else ""
    return f"{UNDEFINED_CELL}: undefined. " + "; ".join(said[:most]) + tail + "."


def intervals_caption(a) -> str:
    """What the group and disparity tables' brackets are, at the level ``a`` was assessed at
    (a record assessed with ``--confidence 0.9`` has 90% intervals)."""
    return (f"Brackets are {fmt_level(a.spec.confidence)} intervals: each group's value and each "
            "gap between groups, at the level this assessment was computed at.")


def _versus_reference(difference: float, ratio: float) -> str:
    """"+d (rx)"; a ratio to a reference value of 0 is undefined and says so."""
    if pd.isna(difference):
        return "n/a"
    shown = f"{'+' if difference >= 0 else ''}{fmt_num(difference)}"
    if pd.isna(ratio):  # the difference exists, so the reference's value is 0
        return f"{shown} (ratio n/a: the reference's value is 0)"
    return f"{shown} ({fmt_num(ratio)}x)"


def reference_table(a, feature: str, metrics: list[str]) -> pd.DataFrame:
    """One row per group of ``feature`` (in the order of :func:`group_table`): each metric's
    difference from, and ratio to, the reference group, as "+d (rx)"."""
    reference = a.reference_groups.get(feature)
    vs = a.by_group[(a.by_group["feature"] == feature) & a.by_group["metric"].isin(metrics)]
    vs = vs.assign(shown=[
        "reference" if g == reference else _versus_reference(d, r)
        for g, d, r in zip(vs["group"], vs["difference_to_reference"], vs["ratio_to_reference"],
                           strict=True)
    ]).pivot(index="group", columns="metric", values="shown")
    sizes = a.by_group[(a.by_group["feature"] == feature) & (a.by_group["metric"] == "count")]
    vs = vs.reindex(index=list(sizes["group"]), columns=metrics)
    vs.columns = [wording(a.spec.favorable_outcome).label(m) for m in metrics]
    return vs


def group_summary(a) -> pd.DataFrame:
    """One row per group of every feature: people, base rate, selection rate, small or not
    (the Sensitive features page's table and charts)."""
    # the two rates' rows (one per feature x group each, in the same order), not a pivot of
    # every metric
    by_group = a.by_group
    base, chosen = (by_group[by_group["metric"] == m].reset_index(drop=True)
                    for m in ("prevalence", "selection_rate"))
    return pd.DataFrame({"feature": chosen["feature"], "group": chosen["group"],
                         "n": chosen["n"], "prevalence": base["value"],
                         "selection_rate": chosen["value"],
                         "is_small_group": chosen["is_small_group"]})


ROC_TOLERANCE = 0.002
"""How far (in rate, both axes being rates) a point of a ROC curve may lie from the line drawn
through the points kept: under a pixel on the Thresholds page's chart."""


def _segment_distance(x, y, ax: float, ay: float, bx: float, by: float) -> np.ndarray:
    """The distance of each point (x, y) to the segment from (ax, ay) to (bx, by)."""
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    if length == 0:
        return np.hypot(x - ax, y - ay)
    t = np.clip(((x - ax) * dx + (y - ay) * dy) / length, 0.0, 1.0)
    return np.hypot(x - (ax + t * dx), y - (ay + t * dy))


def _kept_along(x: np.ndarray, y: np.ndarray, tolerance: float) -> np.ndarray:
    """Which points of the path (x, y) to keep so that every point lies within ``tolerance``
    of the path through the kept ones: the first and the last, and, between two kept points,
    the farthest point from the segment joining them while it lies farther than ``tolerance``
    (Ramer-Douglas-Peucker)."""
    keep = np.zeros(len(x), dtype=bool)
    if len(x) == 0:
        return keep
    keep[[0, -1]] = True
    todo = [(0, len(x) - 1)]
    while todo:
        i, j = todo.pop()
        if j - i < 2:
            continue
        d = _segment_distance(x[i + 1:j], y[i + 1:j], x[i], y[i], x[j], y[j])
        k = int(np.argmax(d))
        if d[k] > tolerance:
            m = i + 1 + k
            keep[m] = True
            todo += [(i, m), (m, j)]
    return keep


def roc_drawn(curves: pd.DataFrame, tolerance: float = ROC_TOLERANCE) -> pd.DataFrame:
    """The points of ``curves`` (``thresholds.roc_pr_curves``) that the ROC chart draws, with
    the columns it shows: per group in threshold order, the points that shape the line, so that
    every point left out lies within ``tolerance`` of the line drawn (under a pixel: the curve
    looks the same). A smooth curve then needs a few dozen points instead of one per
    threshold; each point drawn is a threshold's own, unchanged."""
    c = curves.dropna(subset=["false_positive_rate", "true_positive_rate"])
    keep = []
    for _, part in c.groupby("group", sort=False):
        kept = _kept_along(part["false_positive_rate"].to_numpy(dtype=np.float64),
                           part["true_positive_rate"].to_numpy(dtype=np.float64), tolerance)
        keep.extend(part.index[kept])
    return c.loc[keep, ["group", "threshold", "false_positive_rate", "true_positive_rate"]]


def roc_points_csv(sw, feature: str) -> str:
    """Every ROC and precision-recall point of a partition's sweep ``sw``, one per threshold
    and group, as CSV (the download next to the ROC chart)."""
    from ..io.export import csv_text
    from ..thresholds import roc_pr_curves

    return csv_text(roc_pr_curves(sw, feature))


def bar_keys(a, feature: str) -> dict[str, str]:
    """For each metric of ``a``, a key naming what ``charts.metric_bars(a.by_group, metric,
    feature, ...)`` draws: the digest of its rows' drawn columns. Another assessment of the
    same figures (another reference group) gives the same keys, so its charts are those made
    before, and a rerun looks a chart up by its key instead of hashing its rows."""
    import hashlib

    from ..charts import BAR_COLUMNS

    rows = a.by_group[a.by_group["feature"] == feature]
    drawn = pd.util.hash_pandas_object(rows[[c for c in BAR_COLUMNS if c in rows.columns]],
                                       index=False).to_numpy()
    metric = rows["metric"].to_numpy()
    return {m: hashlib.sha256(drawn[metric == m].tobytes()).hexdigest()
            for m in dict.fromkeys(metric)}


def every_metric(a) -> list[str]:
    """The metrics a page can show for ``a`` (all but the group size)."""
    return [m for m in a.metrics if m != "count"]


def metric_columns(table: pd.DataFrame, a, metrics: list[str], keep=()) -> pd.DataFrame:
    """The columns ``keep`` and those of ``metrics`` (in their order) of a table made for
    :func:`every_metric` (:func:`group_table`, :func:`reference_table`): choosing metrics then
    picks columns instead of making the table again."""
    label = wording(a.spec.favorable_outcome).label
    return table.reindex(columns=[*keep, *(label(m) for m in metrics)])


def metric_rows(table: pd.DataFrame, a, metrics: list[str]) -> pd.DataFrame:
    """The rows of ``metrics`` of a :func:`disparity_table` made for :func:`every_metric`, in
    the table's order."""
    label = wording(a.spec.favorable_outcome).label
    return table[table["metric"].isin({label(m) for m in metrics})].reset_index(drop=True)


def assessment_json(a) -> str:
    """The assessment as the JSON the Disparities page offers for download."""
    return json.dumps(a.to_dict(), indent=2, default=str)


def by_group_csv(a) -> str:
    """The per-group metrics, one row per group, as the CSV the Disparities page offers."""
    from ..io.export import csv_text

    return csv_text(a.by_group_wide())


def disparity_table(a, feature: str, metrics: list[str]) -> pd.DataFrame:
    """One row per metric: difference and ratio between groups with intervals, worst and best
    group, difference to overall, adjusted p-value."""
    d = a.disparities[(a.disparities["feature"] == feature) & a.disparities["metric"].isin(metrics)]
    tied = (d["worst_value"] == d["best_value"]).to_numpy()  # all equal: no worst or best group
    # a base rate's lowest group is not its "worst": marked as the lowest and highest
    named = [extreme_names(m, w, b) if isinstance(w, str) else ("", "")
             for m, w, b in zip(d["metric"], d["worst_group"], d["best_group"], strict=True)]
    return pd.DataFrame({
        "metric": [wording(a.spec.favorable_outcome).label(m) for m in d["metric"]],
        # without the bootstrap (too many combinations) a gap has no interval, not "n/a"
        "gap (max - min)": [f"{fmt_num(x)} {fmt_interval(lo, hi)}" if a.spec.n_boot > 0
                            else fmt_num(x) for x, lo, hi in
                            zip(d["difference"], d["difference_ci_low"],
                                d["difference_ci_high"], strict=True)],
        "ratio (min / max)": d["ratio"].map(fmt_num),
        "worst group": pd.Series([n[0] for n in named], index=d.index, dtype=object)
        .where(~tied, ""),
        "best group": pd.Series([n[1] for n in named], index=d.index, dtype=object)
        .where(~tied, ""),
        "gap to overall": d["difference_to_overall"].map(fmt_num),
        "adjusted p": d["p_adjusted"].map(fmt_p),
        "beyond chance": d["is_distinguishable"].map({True: "yes", False: "no", None: "n/a"}),
    })


DISPARITY_COLUMNS_HELP = {
    "gap (max - min)": "Largest minus smallest group value, with its 95% interval (from the "
                       "bootstrap, when it was computed).",
    "gap to overall": "Largest distance of a group from the overall value.",
    "adjusted p": ("Test of equal rates between the worst and best group, Holm-adjusted "
                   "(a rate and its complement are one test, counted once)."),
    "beyond chance": "Whether the gap is distinguishable from parity at this sample size "
                     "(no: it could be chance).",
}
"""Column help of :func:`disparity_table`, so the short headers fit on screen."""
