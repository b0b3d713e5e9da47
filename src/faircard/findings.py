"""Plain-language findings from an Assessment: a few sentences a domain expert can act on.

They lead with the error rates that matter for the kind of decision: when a positive decision
is adverse (flagged as high risk), the false positive and false discovery rates (people wrongly
flagged), then the false negative rate; when it is favourable (a loan), the false negative rate
(people wrongly denied) and the rate of favourable decisions with the four-fifths rule.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .favorable import Wording, favorable_rate, wording
from .formatting import counted, fmt_disparate_impact, fmt_pct
from .metrics import LABELS
from .trivial import tells_nobody_apart, trivial_decision

LEAD_METRICS = {
    "positive": ("false_negative_rate", "selection_rate", "false_positive_rate"),
    "negative": ("false_positive_rate", "false_discovery_rate", "false_negative_rate",
                 "selection_rate"),
}
"""The order of the first findings for each ``favorable_outcome``."""

SMALL_GROUPS_LEAD = "Too small to trust"
"""How the sentence naming the small groups begins."""

MIN_GAP = 0.02
"""Gaps in an error rate below this (2 points) are not worth a sentence."""


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _error_clause(metric: str, group: str, words: Wording) -> str | None:
    """What a higher value of ``metric`` means for the people of ``group``."""
    if metric == "false_positive_rate":
        return f"people in '{group}' with a negative outcome are {words.false_positive} more often"
    if metric == "false_negative_rate":
        return f"people in '{group}' with a positive outcome are {words.false_negative} more often"
    if metric == "false_discovery_rate":
        return (f"more of the people {words.positive_decision} in '{group}' had a negative "
                f"outcome ({words.false_positive})")
    return None


GAP_METRICS = ("false_positive_rate", "false_negative_rate", "false_discovery_rate")
"""The metrics whose largest gap between groups gets a sentence: among the ``metrics`` given to
:func:`findings`, only these (in their order) change what it says."""


def findings(assessment, metrics: tuple[str, ...] | list[str] | None = None,
             max_items: int = 8) -> list[str]:
    """Sentences about the largest disparities, the four-fifths rule, uncertainty and small
    groups, ordered by importance for the assessment's kind of decision.

    ``metrics``: further metrics the user chose (their gaps follow the leading ones).
    """
    words = wording(assessment.spec.favorable_outcome)
    disp = assessment.disparities
    features = assessment.single_features or assessment.features
    order = list(LEAD_METRICS[words.favorable_outcome])
    for m in metrics or ():  # a metric chosen twice is still one sentence
        if m not in order and _error_clause(m, "", words):
            order.append(m)
    out: list[str] = []
    if trivial := trivial_decision(assessment):  # before any gap, which it makes meaningless
        out.append(trivial)
    # a feature whose groups are not compared has no gap to report, which is not parity
    out += [_not_compared(assessment, f) for f in features if _is_not_compared(assessment, f)]
    # nobody or everybody selected: the one gap left (in false discoveries) is the base rates'
    by_construction = bool(trivial) and tells_nobody_apart(assessment)
    for metric in order:
        if metric == "selection_rate":
            out += [s for f in features if (s := _four_fifths(assessment, f, words))
                    and not (trivial and "passes" in s)]  # no success to report
        elif by_construction:
            continue
        elif sentence := _largest_gap(disp, features, metric, words, assessment.by_group):
            out.append(sentence)
    bg = assessment.by_group
    small = bg[(bg["metric"] == "count") & bg["is_small_group"]]
    if not small.empty:
        names = ", ".join(f"'{g}' ({int(n):,})" for g, n in zip(small["group"], small["n"],
                                                               strict=True))
        how = ("They are compared all the same, as asked, though their figures are uncertain."
               if assessment.spec.include_small_groups
               else "They are shown but left out of comparisons.")
        out.append(f"{SMALL_GROUPS_LEAD} (fewer than {assessment.spec.min_group_size:,} people): "
                   f"{names}. {how}")
    if assessment.n_dropped:
        decision = "score" if assessment.spec.score else "prediction"
        out.append(counted(assessment.n_dropped, f"row had no outcome or {decision} and was",
                           f"rows had no outcome or {decision} and were") + " left out.")
    return out[:max_items]


def _is_not_compared(assessment, feature: str) -> bool:
    """Whether fewer than two groups of ``feature`` are compared (its criteria are all
    undefined for that reason)."""
    bg = assessment.by_group
    rows = bg[(bg["feature"] == feature) & (bg["metric"] == "count")]
    compared = rows if assessment.spec.include_small_groups else rows[~rows["is_small_group"]]
    return len(compared) < 2


def _not_compared(assessment, feature: str) -> str:
    bg = assessment.by_group
    rows = bg[(bg["feature"] == feature) & (bg["metric"] == "count")]
    if len(rows) < 2:
        why = (f"only one group ('{rows['group'].iloc[0]}')" if len(rows) else "no group")
    else:
        why = (f"fewer than two groups have at least {assessment.spec.min_group_size:,} "
               "people")
    return (f"{feature}: {why}, so no group is compared with another: nothing here shows "
            "whether the model treats groups alike.")


def _largest_gap(disp, features, metric: str, words: Wording, bg) -> str | None:
    rows = disp[(disp["metric"] == metric) & disp["feature"].isin(features)]
    rows = rows.dropna(subset=["difference"])
    if rows.empty:
        return None
    r = rows.sort_values("difference", ascending=False).iloc[0]
    if r["difference"] < MIN_GAP:
        return None
    return (f"{r['feature']}: the {LABELS[metric].lower()} is {fmt_pct(r['worst_value'])} for "
            f"'{r['worst_group']}' vs {fmt_pct(r['best_value'])} for '{r['best_group']}' "
            f"(a gap of {100 * r['difference']:.1f} points): "
            f"{_error_clause(metric, r['worst_group'], words)}.{_chance_clause(r)}"
            f"{_few_behind(bg, r['feature'], metric, (r['worst_group'], r['best_group']))}")


def _few_behind(bg, feature: str, metric: str, groups: tuple[str, str]) -> str:
    """A warning for each of the two groups whose rate rests on fewer than
    :data:`~faircard.uncertainty.MIN_DENOMINATOR` actual or predicted positives or negatives
    (a largest gap is often the work of such a rate)."""
    from .uncertainty import FEW_BEHIND

    rows = bg[(bg["feature"] == feature) & (bg["metric"] == metric)]
    out = ""
    for g in dict.fromkeys(groups):
        reason = rows.loc[rows["group"] == g, "reliability"]
        text = str(reason.iloc[0]) if len(reason) else ""
        if text.endswith(FEW_BEHIND):  # small groups have their own sentence
            out += (f" The rate of '{g}' rests on {text[:-len(FEW_BEHIND)]}, too few to "
                    "trust.")
    return out


def _chance_clause(disparity_row) -> str:
    """A warning when the gap's Holm-adjusted test cannot tell it from parity."""
    if disparity_row.get("is_distinguishable") is False:
        return " The gap is not distinguishable from parity at this sample size."
    return ""


def _four_fifths(assessment, feature: str, words: Wording) -> str | None:
    """The group with the fewest favourable decisions against the one with the most."""
    disp = assessment.disparities
    crit = assessment.criteria.get(feature, {})
    row = disp[(disp["feature"] == feature) & (disp["metric"] == "selection_rate")]
    ratio = crit.get("disparate_impact_ratio")
    if row.empty or _nan(ratio) or row["worst_group"].iloc[0] is None:
        return None
    r = row.iloc[0]
    fav = words.favorable_outcome
    low, high = r["worst_group"], r["best_group"]
    rule = crit.get("passes_four_fifths")
    verdict = ("this fails the four-fifths rule" if rule is False
               else "this passes the four-fifths rule")
    # "'B' is not flagged at 0.67x the rate of 'A'" can be read as a negation; the share of
    # people given the favourable decision cannot.
    shares = _shares_as_judged(favorable_rate(r["worst_value"], fav),
                               favorable_rate(r["best_value"], fav), rule)
    where = (f"{shares[0]} in '{low}' vs {shares[1]} in '{high}'" if low != high
             else f"{shares[0]} in every group compared")  # tied: worst and best are one
    sentence = (f"{feature}: the share of people {words.favorable_decision} is {where} "
                f"({fmt_disparate_impact(crit, 2)}x); {verdict}.")
    return sentence + _uncertainty_clause(assessment.by_group, feature, low, r, words)


def _shares_as_judged(low: float, high: float, passes: bool | None) -> tuple[str, str]:
    """Two favourable shares as percentages, with more decimals when the rounded ones, read
    exactly as written, would give the four-fifths rule the other verdict (39.99% vs 50.0%,
    not 40.0% vs 50.0%, for shares that fail; 24.13% vs 30.16%, not 24.1% vs 30.2%, for ones
    that pass)."""
    from .assess import FOUR_FIFTHS

    rule = Fraction(str(FOUR_FIFTHS))  # the rule as written (4/5), not its binary double
    if passes is not None and passes != (Fraction(low) >= rule * Fraction(high)):
        passes = None  # passed within the rule's tolerance for rounding: no decimals show it
    for digits in range(1, 13):
        shown = fmt_pct(low, digits), fmt_pct(high, digits)
        if passes is None or (Fraction(shown[0][:-1]) >= rule * Fraction(shown[1][:-1])) \
                == passes:
            return shown
    return shown


def _uncertainty_clause(bg, feature, group, disparity_row, words: Wording) -> str:
    clause = ""
    row = bg[(bg["feature"] == feature) & (bg["group"] == group)
             & (bg["metric"] == "selection_rate")]
    if not row.empty and not _nan(row["ci_low"].iloc[0]) and row["n"].iloc[0] < 1000:
        ends = sorted(favorable_rate(row[c].iloc[0], words.favorable_outcome)
                      for c in ("ci_low", "ci_high"))
        clause = (f" With {int(row['n'].iloc[0]):,} people in '{group}', that share's interval is "
                  f"{fmt_pct(ends[0], 0)}-{fmt_pct(ends[1], 0)}.")
    return clause + _chance_clause(disparity_row)
