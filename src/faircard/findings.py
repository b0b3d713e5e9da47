"""Plain-language findings from an Assessment: 3-6 sentences a domain expert can act on."""

from __future__ import annotations

import math

from .formatting import fmt_pct
from .metrics import LABELS

_RATE_WORDS = {
    "selection_rate": "receive a positive decision",
    "true_positive_rate": "are correctly given a positive decision when they deserve one",
    "false_positive_rate": "wrongly receive a positive decision",
    "false_negative_rate": "are wrongly denied a positive decision",
    "accuracy": "are classified correctly",
}


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def findings(assessment, metrics: tuple[str, ...] | list[str] | None = None,
             max_items: int = 6) -> list[str]:
    """Sentences about the largest disparities, the four-fifths rule, uncertainty and small
    groups, ordered by importance."""
    out: list[str] = []
    disp = assessment.disparities
    bg = assessment.by_group
    features = assessment.single_features or assessment.features
    for feature in features:
        crit = assessment.criteria.get(feature, {})
        row = disp[(disp["feature"] == feature) & (disp["metric"] == "selection_rate")]
        if row.empty or _nan(row["ratio"].iloc[0]):
            continue
        r = row.iloc[0]
        low, high = r["worst_group"], r["best_group"]
        rule = crit.get("passes_four_fifths")
        verdict = ("this fails the four-fifths rule" if rule is False
                   else "this passes the four-fifths rule")
        sentence = (f"{feature}: '{low}' {_RATE_WORDS['selection_rate']} at {r['ratio']:.2f}x the "
                    f"rate of '{high}' ({fmt_pct(r['worst_value'])} vs "
                    f"{fmt_pct(r['best_value'])}); {verdict}.")
        sentence += _uncertainty_clause(bg, feature, low, "selection_rate", r)
        out.append(sentence)
    chosen = [m for m in (metrics or ()) if m in _RATE_WORDS and m != "selection_rate"]
    for metric in chosen or ["false_negative_rate", "false_positive_rate"]:
        rows = disp[(disp["metric"] == metric) & disp["feature"].isin(features)]
        rows = rows.dropna(subset=["difference"])
        if rows.empty:
            continue
        r = rows.sort_values("difference", ascending=False).iloc[0]
        if r["difference"] < 0.02:
            continue
        out.append(
            f"{r['feature']}: the {LABELS[metric].lower()} is {fmt_pct(r['worst_value'])} for "
            f"'{r['worst_group']}' vs {fmt_pct(r['best_value'])} for '{r['best_group']}' "
            f"(a gap of {100 * r['difference']:.1f} points): people in '{r['worst_group']}' "
            f"{_RATE_WORDS[metric]} more often."
            if metric in ("false_positive_rate", "false_negative_rate")
            else f"{r['feature']}: the {LABELS[metric].lower()} ranges from "
                 f"{fmt_pct(r['worst_value'])} ('{r['worst_group']}') to "
                 f"{fmt_pct(r['best_value'])} ('{r['best_group']}')."
        )
    small = bg[(bg["metric"] == "count") & bg["is_small_group"]]
    if not small.empty:
        names = ", ".join(f"'{g}' ({int(n)})" for g, n in zip(small["group"], small["n"],
                                                               strict=True))
        out.append(f"Too small to trust (fewer than {assessment.spec.min_group_size} people): "
                   f"{names}. They are shown but left out of comparisons.")
    if assessment.n_dropped:
        out.append(f"{assessment.n_dropped:,} rows had no outcome or prediction and were left "
                   "out.")
    return out[:max_items]


def _uncertainty_clause(bg, feature, group, metric, disparity_row) -> str:
    clause = ""
    row = bg[(bg["feature"] == feature) & (bg["group"] == group) & (bg["metric"] == metric)]
    if not row.empty and not _nan(row["ci_low"].iloc[0]) and row["n"].iloc[0] < 1000:
        clause = (f" With {int(row['n'].iloc[0]):,} people in '{group}', its interval is "
                  f"{fmt_pct(row['ci_low'].iloc[0], 0)}-{fmt_pct(row['ci_high'].iloc[0], 0)}.")
    dist = disparity_row.get("is_distinguishable") if hasattr(disparity_row, "get") else None
    if dist is False:
        clause += " The gap is not distinguishable from parity at this sample size."
    return clause
