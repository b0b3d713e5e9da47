"""Tables of an assessment as people read them, shared by the Disparities page and the shared
record view (so both show the same figures in the same form)."""

from __future__ import annotations

import json

import pandas as pd

from ..favorable import wording
from ..formatting import fmt_num, fmt_p


def group_table(a, feature: str, metrics: list[str]) -> pd.DataFrame:
    """One row per group of ``feature``: people, a note for small groups, and each metric as
    "value  [low-high]"."""
    wide = a.by_group[(a.by_group["feature"] == feature) & a.by_group["metric"].isin(metrics)]
    table = wide.assign(
        shown=[f"{fmt_num(v)}  [{fmt_num(lo)}-{fmt_num(hi)}]" if pd.notna(lo) else fmt_num(v)
               for v, lo, hi in zip(wide["value"], wide["ci_low"], wide["ci_high"], strict=True)]
    ).pivot(index="group", columns="metric", values="shown")
    sizes = a.by_group[(a.by_group["feature"] == feature) & (a.by_group["metric"] == "count")]
    table = table.reindex(index=list(sizes["group"]), columns=metrics)
    table.columns = [wording(a.spec.favorable_outcome).label(m) for m in metrics]
    table.insert(0, "people", sizes.set_index("group")["n"].map("{:,}".format))
    table.insert(1, "note", sizes.set_index("group")["is_small_group"].map(
        {True: "too small to trust", False: ""}))
    return table


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
    return pd.DataFrame({
        "metric": [wording(a.spec.favorable_outcome).label(m) for m in d["metric"]],
        "gap (max - min)": [f"{fmt_num(x)} [{fmt_num(lo)}-{fmt_num(hi)}]" for x, lo, hi in
                            zip(d["difference"], d["difference_ci_low"],
                                d["difference_ci_high"], strict=True)],
        "ratio (min / max)": d["ratio"].map(fmt_num),
        "worst group": d["worst_group"], "best group": d["best_group"],
        "gap to overall": d["difference_to_overall"].map(fmt_num),
        "adjusted p": d["p_adjusted"].map(fmt_p),
        "beyond chance": d["is_distinguishable"].map({True: "yes", False: "no", None: "n/a"}),
    })


DISPARITY_COLUMNS_HELP = {
    "gap (max - min)": "Largest minus smallest group value, with its 95% interval.",
    "gap to overall": "Largest distance of a group from the overall value.",
    "adjusted p": "Test of equal rates between the worst and best group, Holm-adjusted.",
    "beyond chance": "Whether the gap is distinguishable from parity at this sample size "
                     "(no: it could be chance).",
}
"""Column help of :func:`disparity_table`, so the short headers fit on screen."""
