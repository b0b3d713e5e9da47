"""Pre-fill the bias-sources checklist with what the diagnostics found, in plain sentences."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..formatting import counted, fmt_pct


def _ok(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def fill_checklist(d) -> None:
    """Write evidence sentences and a suggested status into each item of ``d.checklist``."""
    items = {i.source: i for i in d.checklist}
    from .core import PROXY_AUC_CONCERN, PSI_CONCERN

    # groups below the minimum size: named as small, left out of comparisons (as elsewhere)
    rep_n = d.representation
    small = set() if d.include_small_groups or not len(rep_n) else {
        (f, g) for f, g, n in zip(rep_n["feature"], rep_n["group"], rep_n["n"], strict=True)
        if n < d.min_group_size}

    def compared(frame, feature_col: str = "feature"):
        keep = [(f, g) not in small for f, g in zip(frame[feature_col], frame["group"],
                                                     strict=True)]
        return frame[np.asarray(keep, dtype=bool)] if len(frame) else frame

    # historical: base rates
    hist = items["historical"]
    for feature, t in d.base_rates.groupby("feature", sort=False) if len(d.base_rates) else []:
        t = compared(t[t["n"] > 0].dropna(subset=["base_rate"]))
        if len(t) < 2:
            continue
        lo, hi = t.loc[t["base_rate"].idxmin()], t.loc[t["base_rate"].idxmax()]
        apart = lo["ci_high"] < hi["ci_low"]
        hist.evidence.append(
            f"{feature}: the recorded positive outcome ranges from {fmt_pct(lo['base_rate'])} "
            f"('{lo['group']}') to {fmt_pct(hi['base_rate'])} ('{hi['group']}')"
            + ("; the intervals do not overlap." if apart else
               "; the intervals overlap."))
        if apart and hi["base_rate"] - lo["base_rate"] >= 0.05:
            hist.suggested_status = "concern"

    # representation
    rep = items["representation"]
    under = 0
    for _, r in d.representation.iterrows() if len(d.representation) else []:
        if r["n"] == 0:  # a group of the reference population that the data lacks
            rep.evidence.append(
                f"{r['feature']}: '{r['group']}' is {fmt_pct(r['reference_share'])} of the "
                f"reference population ({r['reference_source']}) but has no rows in the data.")
            rep.suggested_status = "concern"
            under += 1
            continue
        if _ok(r["reference_share"]) and r["reference_share"] > 0:
            ratio = r["share"] / r["reference_share"]
            if ratio < 0.8 and r["share_ci_high"] < r["reference_share"]:
                under += 1
                rep.evidence.append(
                    f"{r['feature']}: '{r['group']}' is {fmt_pct(r['share'])} of the data "
                    f"against {fmt_pct(r['reference_share'])} of the reference population "
                    f"({r['reference_source']}).")
                rep.suggested_status = "concern"
        if r["n"] < d.min_group_size:
            rep.evidence.append(f"{r['feature']}: '{r['group']}' has only "
                                f"{counted(int(r['n']), 'row', 'rows')}.")
            rep.suggested_status = "concern"
    compared_shares = d.representation["reference_share"].notna().any() \
        if len(d.representation) else False
    if compared_shares and not under:
        rep.evidence.append("No group's share of the data is below 80% of its share of the "
                            "reference population (beyond its 95% interval).")
    if len(d.representation) and not compared_shares:
        rep.evidence.append("No reference population was given, so shares were not compared.")

    # measurement: proxies
    meas = items["measurement"]
    top = d.top_proxies() if len(d.proxies) else []
    for _, r in top.iterrows() if len(top) else []:
        f = r["sensitive_feature"]
        others = [g for g in d.representation.loc[d.representation["feature"] == f, "group"]
                  if g != r["group"]] if len(d.representation) else []
        rest = f"'{others[0]}'" if len(others) == 1 else "the other groups"
        interval = (f" ({d.confidence:.0%} interval {r['ci_low']:.2f}-{r['ci_high']:.2f})"
                    if pd.notna(r.get("ci_low")) else "")
        meas.evidence.append(
            f"{f}: '{r['feature']}' alone tells '{r['group']}' apart from {rest} with a "
            f"cross-validated AUC of {r['value']:.2f}{interval}: it can stand in for {f}.")
        meas.suggested_status = "concern"
    if len(d.proxies) and not len(top):
        meas.evidence.append(f"No column predicts a sensitive feature with an AUC of "
                             f"{PROXY_AUC_CONCERN:.2f} or more.")

    imp = d.importance
    if imp is not None and len(imp):
        by_group = imp[imp["group"] != "(all)"]
        imp = pd.concat([imp[imp["group"] == "(all)"], compared(by_group)]) \
            if len(by_group) else imp
        _importance_evidence(imp, meas, items["aggregation"], top)

    # aggregation: the same score meaning different risks
    agg = items["aggregation"]
    gaps = d.calibration_gaps
    if len(gaps):
        sig = gaps[gaps["significant"]]
        for _, r in sig.sort_values("gap", ascending=False).head(3).iterrows():
            agg.evidence.append(
                f"{r['feature']}: at scores {r['bin_low']:.1f}-{r['bin_high']:.1f}, "
                f"{fmt_pct(r['high_rate'])} of '{r['high_group']}' have the positive outcome "
                f"against {fmt_pct(r['low_rate'])} of '{r['low_group']}': the same score means "
                "different risks.")
            agg.suggested_status = "concern"
        if sig.empty:
            agg.evidence.append("No score band shows groups with different observed rates "
                                "after correcting for the number of comparisons.")
    elif len(d.calibration):
        agg.evidence.append(f"No score band holds at least {GAP_MIN_ROWS} rows of two groups, "
                            "so whether the same score means the same risk was not compared.")

    # learning: worst subgroups
    learn = items["learning"]
    sub = d.subgroups
    if len(sub):
        sig = sub[sub["significant"]]
        for _, r in sig.head(3).iterrows():
            learn.evidence.append(
                f"{r['description']} ({counted(int(r['size']), 'row', 'rows')}): {r['metric'].replace('_', ' ')} "
                f"{fmt_pct(r['value'])} against {fmt_pct(r['rest_value'])} for everyone else "
                f"(adjusted p {_p(r['p_adjusted'])}).")
            learn.suggested_status = "concern"
        tried = int(sub.attrs.get("n_tested", len(sub)))
        if sig.empty:
            learn.evidence.append(
                ("The one subgroup tried does not differ" if tried == 1 else
                 f"None of the {tried:,} subgroups tried differs")
                + " from the rest after correcting for multiple testing.")
    else:
        learn.evidence.append("No subgroup could be compared with the rest: none has enough "
                              "rows with a defined rate.")

    # evaluation: calibration and missing values
    ev = items["evaluation"]
    cal = compared(d.calibration) if len(d.calibration) else d.calibration
    _calibration_evidence(cal, ev)
    _missing_evidence(compared(d.missing), ev)

    # deployment: drift
    dep = items["deployment"]
    if len(d.drift):
        overall = d.drift[d.drift["group"] == "(all)"]
        # within-group rows are of the first sensitive feature's groups
        first = d.representation["feature"].iloc[0] if len(d.representation) else ""
        drift = d.drift[[g == "(all)" or (first, g) not in small for g in d.drift["group"]]]
        big = drift[drift["psi"] > PSI_CONCERN]
        for _, r in big.head(3).iterrows():
            where = "overall" if r["group"] == "(all)" else f"within '{r['group']}'"
            lead = "" if r["group"] == "(all)" else f"{first}: "
            dep.evidence.append(f"{lead}'{r['column']}' shifted {where} (PSI {r['psi']:.2f}).")
            dep.suggested_status = "concern"
        if big.empty:
            dep.evidence.append(f"No column shifted by more than PSI {PSI_CONCERN:.2f} ("
                                + counted(len(overall), "column", "columns") + " compared).")
    else:
        dep.evidence.append("No reference (training) data was given, so drift was not checked.")


def _beyond_chance(ev, items: list, p_values, large, sentence) -> int:
    """Name as evidence (a concern) each of ``items`` that is ``large`` and whose p-value,
    Holm-adjusted across all ``items``, is below 5%, with ``sentence(item, adjusted p)``;
    return how many large ones chance explains."""
    from ..uncertainty import holm

    adjusted = holm(np.asarray(list(p_values), dtype=np.float64))
    chance = 0
    for item, p in zip(items, adjusted, strict=True):
        if not large(item):
            continue
        if not p < 0.05:
            chance += 1
            continue
        ev.evidence.append(sentence(item, p))
        ev.suggested_status = "concern"
    return chance


ECE_CONCERN = 0.05
"""An expected calibration error at or above this (and beyond chance) is named."""


def _calibration_evidence(cal: pd.DataFrame, ev) -> None:
    """Groups whose scores are off: an ECE of 0.05 or more whose calibration test,
    Holm-adjusted across the groups compared, is below 5% (a perfectly calibrated group of
    150 rows has an ECE near 0.1 by chance alone); the others are counted."""
    if not len(cal):
        return
    rows = [r for _, r in cal.iterrows()]
    chance = _beyond_chance(
        ev, rows, cal["calibration_p"], lambda r: r["ece"] >= ECE_CONCERN,
        lambda r, p: (f"{r['feature']}: scores of '{r['group']}' are off by {r['ece']:.3f} on "
                      f"average (expected calibration error; calibration test, adjusted p "
                      f"{_p(p)})."))
    if chance:
        ev.evidence.append(
            counted(chance, "group has", "groups have") + f" an expected calibration error of "
            f"{ECE_CONCERN} or more that chance alone explains at these group sizes "
            "(calibration test, Holm-adjusted): with few rows per score band, an error of this "
            "size arises even when the scores are the probabilities.")


MISSING_GAP = 0.05
"""A column whose share of missing values differs by this much between two groups (and
beyond chance) is named under evaluation bias."""


def _missing_evidence(miss: pd.DataFrame, ev) -> None:
    """Columns missing more often in one group than in another: the groups with the lowest
    and the highest share, compared by a two-proportion test Holm-adjusted across every
    feature and column compared, so that a gap of a few rows in a small group (0 of 32 against
    53 of 637) is not called a concern."""
    from ..uncertainty import two_proportion_p

    tested = []
    for (feature, column), t in miss.groupby(["feature", "column"], sort=False) \
            if len(miss) else []:
        t = t[t["n"] > 0]
        if len(t) < 2:
            continue
        lo, hi = t.loc[t["missing_rate"].idxmin()], t.loc[t["missing_rate"].idxmax()]
        tested.append((feature, column, lo, hi, two_proportion_p(
            hi["missing"], hi["n"], lo["missing"], lo["n"])))
    chance = _beyond_chance(
        ev, tested, [x[-1] for x in tested],
        lambda x: x[3]["missing_rate"] - x[2]["missing_rate"] >= MISSING_GAP,
        lambda x, p: (f"{x[0]}: '{x[1]}' is missing in {fmt_pct(x[2]['missing_rate'])} of the "
                      f"rows of '{x[2]['group']}' and {fmt_pct(x[3]['missing_rate'])} of those "
                      f"of '{x[3]['group']}' (adjusted p {_p(p)})."))
    if chance:
        ev.evidence.append(
            counted(chance, "more column has", "more columns have") + " a share of missing "
            f"values that differs by {100 * MISSING_GAP:.0f} points or more between two groups, "
            f"but not beyond chance at these group sizes (Holm-adjusted across the "
            f"{len(tested):,} comparisons).")


GAP_MIN_ROWS = 30
"""Rows a group needs in a score band for the band to compare it (see
:func:`.calibration.score_meaning_gaps`)."""
IMPORTANCE_GAP = 0.02
"""A column whose importance differs by this much between two groups of a feature (and by
more than twice the spread of the shuffles) is named under aggregation bias."""


def _importance_evidence(imp, meas, agg, top) -> None:
    """Sensitive features and proxies the model relies on (measurement), and columns it
    relies on much more for one group than for another (aggregation)."""
    what = "ROC AUC" if imp.attrs.get("metric") == "roc_auc" else "accuracy"
    overall = imp[imp["group"] == "(all)"].set_index("column")
    features = {str(f) for f in imp["feature"].dropna().unique()}
    proxies = set(top["feature"]) if len(top) else set()
    for column, r in overall.iterrows():
        relied = r["importance"] > 0 and r["importance"] > 2 * r["importance_std"]
        if not relied:
            continue
        if column in features:
            meas.evidence.append(
                f"The model uses {column} itself: shuffling it lowers its {what} by "
                f"{r['importance']:.3f} (sd {r['importance_std']:.3f}).")
            meas.suggested_status = "concern"
        elif column in proxies:
            meas.evidence.append(
                f"The model relies on '{column}', a likely proxy: shuffling it lowers its "
                f"{what} by {r['importance']:.3f} (sd {r['importance_std']:.3f}).")
    by_group = imp[imp["group"] != "(all)"]
    found = []
    for (feature, column), t in by_group.groupby(["feature", "column"], sort=False):
        t = t.dropna(subset=["importance"])
        if len(t) < 2:
            continue
        hi, lo = t.loc[t["importance"].idxmax()], t.loc[t["importance"].idxmin()]
        gap = hi["importance"] - lo["importance"]
        if gap >= IMPORTANCE_GAP and gap > 2 * (hi["importance_std"] + lo["importance_std"]):
            found.append((gap, feature, column, hi, lo))
    for _, feature, column, hi, lo in sorted(found, key=lambda x: -x[0])[:3]:
        agg.evidence.append(
            f"{feature}: the model relies on '{column}' more for '{hi['group']}' (shuffling it "
            f"lowers the {what} by {hi['importance']:.3f}) than for '{lo['group']}' "
            f"({lo['importance']:.3f}).")


def _p(p: float) -> str:
    return "< 0.0001" if p < 1e-4 else f"= {p:.4f}" if np.isfinite(p) else "n/a"
