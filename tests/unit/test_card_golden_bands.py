"""A golden card with bands whose outside groups are present ('under 18', 'over 65') and an
intersection with an empty combination (no woman under 18), and every figure and sentence of
it checked against an outside computation: scikit-learn on group masks, statsmodels' Wilson
interval, two-proportion tests and Holm, and pandas' crosstab for the empty combination."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, confusion_matrix
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

import faircard
from faircard.card import build_card
from faircard.render import render_json, render_markdown
from faircard.spec import Binning
from tests.unit.test_card import FIXED, _golden

BANDS = Binning((18, 65), ("18-65",))
METRICS = ("selection_rate", "accuracy", "true_positive_rate", "false_positive_rate",
           "false_negative_rate")


def _bands_frame(n: int = 900, seed: int = 7) -> pd.DataFrame:
    """Ages 18-89, and 45 men aged 15-17: under the bands ('under 18'), over them ('over 65'),
    and no woman under 18 (one empty combination of sex and age)."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], n)
    age = rng.integers(18, 90, n).astype(float)
    young = np.flatnonzero(sex == "Male")[:45]
    age[young] = rng.integers(15, 18, len(young))
    y = (rng.random(n) < 0.35 + 0.1 * (sex == "Male") - 0.1 * (age > 65)).astype(int)
    s = np.clip(0.3 * y - 0.05 * (age > 65) + rng.normal(0.35, 0.18, n), 0, 1).round(3)
    return pd.DataFrame({"y": y, "s": s, "sex": sex, "age": age})


def _bands_card():
    a = faircard.assess(_bands_frame(), target="y", score="s", sensitive=["sex", "age"],
                        bins={"age": BANDS}, n_boot=200, random_state=0)
    return build_card(a, **FIXED)


def test_golden_bands_outside_groups_and_an_empty_combination():
    card = _bands_card()
    _golden("card_bands.md", render_markdown(card))
    _golden("card_bands.json", render_json(card))


def _band(age: float) -> str:
    return "under 18" if age < 18 else "over 65" if age > 65 else "18-65"


def _oracle_groups(df: pd.DataFrame) -> dict[tuple[str, str], np.ndarray]:
    """Row masks of every group, built from the rows (not from faircard)."""
    band = df["age"].map(_band)
    masks = {}
    for g in ("Female", "Male"):
        masks[("sex", g)] = (df["sex"] == g).to_numpy()
    for b in ("under 18", "18-65", "over 65"):
        masks[("age", b)] = (band == b).to_numpy()
    for g in ("Female", "Male"):
        for b in ("under 18", "18-65", "over 65"):
            mask = ((df["sex"] == g) & (band == b)).to_numpy()
            if mask.any():
                masks[("sex & age", f"{g} & {b}")] = mask
    return masks


def _rates(y: np.ndarray, pred: np.ndarray) -> dict[str, tuple[int, int]]:
    """(successes, trials) of each rate, from scikit-learn's confusion matrix."""
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    return {"selection_rate": (tp + fp, len(y)), "accuracy": (tp + tn, len(y)),
            "true_positive_rate": (tp, tp + fn), "false_positive_rate": (fp, fp + tn),
            "false_negative_rate": (fn, tp + fn), "precision": (tp, tp + fp),
            "negative_predictive_value": (tn, tn + fn), "prevalence": (tp + fn, len(y))}


PROPORTIONS = ("selection_rate", "accuracy", "precision", "true_positive_rate",
               "false_positive_rate", "negative_predictive_value", "prevalence")
"""The assessment's proportions up to a complement (TNR, FNR, FDR and FOR are complements)."""


def _p(k1, n1, k2, n2) -> float:
    """Fisher's exact test when an expected count is below 5, else a pooled z test."""
    pooled = (k1 + k2) / (n1 + n2)
    if min(n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)) < 5:
        return stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
    return proportions_ztest([k1, k2], [n1, n2])[1]


def test_every_figure_of_the_bands_golden_is_true():
    df = _bands_frame()
    card = json.loads(render_json(_bands_card()))
    md = render_markdown(_bands_card())
    y = df["y"].to_numpy()
    pred = (df["s"] >= 0.5).astype(int).to_numpy()
    masks = _oracle_groups(df)
    q = card["quantitative"]

    # the groups, and their order: outside the bands first and last, the empty one absent
    assert card["factors"]["groups"] == {
        "sex": ["Female", "Male"], "age": ["under 18", "18-65", "over 65"],
        "sex & age": ["Female & 18-65", "Female & over 65", "Male & under 18",
                      "Male & 18-65", "Male & over 65"]}
    assert [(r["feature"], r["group"]) for r in q["by_group"]] == list(masks)

    # each group's size, rates (scikit-learn on the mask) and Wilson intervals (statsmodels)
    counts = {}
    for row in q["by_group"]:
        mask = masks[(row["feature"], row["group"])]
        assert row["n"] == mask.sum()
        rates = counts[(row["feature"], row["group"])] = _rates(y[mask], pred[mask])
        assert row["values"]["accuracy"] == pytest.approx(
            accuracy_score(y[mask], pred[mask]), abs=1e-12)
        for m in METRICS:
            k, n = rates[m]
            assert row["values"][m] == pytest.approx(k / n, abs=1e-12), (row["group"], m)
            lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
            assert row["intervals"][m] == pytest.approx([lo, hi], abs=1e-12), (row["group"], m)
    whole = _rates(y, pred)
    for m in METRICS:
        assert q["overall"][m] == pytest.approx(whole[m][0] / whole[m][1], abs=1e-12)

    # criteria and the disparity table: over every group of the feature
    for feature in ("sex", "age", "sex & age"):
        rate = {m: {g: k / n for (f, g), r in counts.items() if f == feature
                    for k, n in [r[m]]} for m in METRICS}
        sel, tpr, fpr = rate["selection_rate"], rate["true_positive_rate"], rate[
            "false_positive_rate"]
        crit = q["criteria"][feature]
        spread = {m: max(v.values()) - min(v.values()) for m, v in rate.items()}
        share = {m: min(v.values()) / max(v.values()) for m, v in rate.items()}
        assert crit["demographic_parity_difference"] == pytest.approx(spread["selection_rate"],
                                                                      abs=1e-12)
        assert crit["demographic_parity_ratio"] == pytest.approx(share["selection_rate"],
                                                                 abs=1e-12)
        assert crit["disparate_impact_ratio"] == pytest.approx(share["selection_rate"],
                                                               abs=1e-12)
        assert crit["passes_four_fifths"] is bool(share["selection_rate"] >= 0.8)
        assert crit["equal_opportunity_difference"] == pytest.approx(
            max(tpr.values()) - min(tpr.values()), abs=1e-12)
        assert crit["equalized_odds_difference"] == pytest.approx(
            max(spread["true_positive_rate"], spread["false_positive_rate"]), abs=1e-12)
        assert crit["equalized_odds_ratio"] == pytest.approx(
            min(share["true_positive_rate"], share["false_positive_rate"]), abs=1e-12)
        rows = [d for d in q["disparities"] if d["feature"] == feature]
        assert [d["metric"] for d in rows] == list(METRICS)
        for d in rows:
            values = rate[d["metric"]]
            assert d["difference"] == pytest.approx(spread[d["metric"]], abs=1e-12)
            assert d["ratio"] == pytest.approx(share[d["metric"]], abs=1e-12)
            assert {d["worst_group"], d["best_group"]} == {max(values, key=values.get),
                                                           min(values, key=values.get)}
        assert sel and fpr

    # adjusted p-values: the card's five metrics are among the assessment's proportions, and
    # Holm runs over all of them: per feature, the test of the highest against the lowest
    # group of each proportion (a rate and its complement are one hypothesis; statsmodels)
    family = {}
    for feature in ("sex", "age", "sex & age"):
        for metric in PROPORTIONS:
            kn = {g: r[metric] for (f, g), r in counts.items() if f == feature}
            value = {g: k / n for g, (k, n) in kn.items()}
            hi, lo = max(value, key=value.get), min(value, key=value.get)
            family[(feature, metric, frozenset((hi, lo)))] = _p(*kn[hi], *kn[lo])
    holm = dict(zip(family, multipletests(list(family.values()), method="holm")[1],
                    strict=True))
    for d in q["disparities"]:
        metric = "true_positive_rate" if d["metric"] == "false_negative_rate" else d["metric"]
        key = (d["feature"], metric, frozenset((d["worst_group"], d["best_group"])))
        assert d["p_adjusted"] == pytest.approx(holm[key], abs=1e-12), key
        assert d["is_distinguishable"] is bool(holm[key] < 0.05)

    # the notes: which groups lie outside the bands, and which combination is empty
    table = pd.crosstab(df["sex"], df["age"].map(_band))
    empty = [f"{g} & {b}" for g in table.index for b in ("under 18", "18-65", "over 65")
             if table.loc[g].get(b, 0) == 0]
    assert empty == ["Female & under 18"]
    assert card["caveats"]["automatic"][-2:] == [
        "Some values of 'age' lie outside its bands: they are shown as 'under 18' and "
        "'over 65', not as missing.",
        f"No one in {len(empty)} of the 6 combinations of sex & age, so they are not shown: "
        f"{empty[0]}."]
    assert "No one in 1 of the 6 combinations of sex &amp; age" in md

    # the findings' figures (rates from the masks, intervals from statsmodels)
    def pct(feature, group, metric):
        k, n = counts[(feature, group)][metric]
        return f"{100 * k / n:.1f}%"

    k, n = counts[("age", "over 65")]["selection_rate"]
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    ratio = (k / n) / np.divide(*counts[("age", "18-65")]["selection_rate"])
    assert (f"age: the share of people approved is {pct('age', 'over 65', 'selection_rate')} "
            f"in 'over 65' vs {pct('age', '18-65', 'selection_rate')} in '18-65' "
            f"({ratio:.2f}x); this fails the four-fifths rule. With {n} people in 'over 65', "
            f"that share's interval is {100 * lo:.0f}%-{100 * hi:.0f}%.") in q["findings"]
    assert q["findings"][0].startswith(
        f"age: the false negative rate is {pct('age', 'over 65', 'false_negative_rate')} for "
        f"'over 65' vs {pct('age', '18-65', 'false_negative_rate')} for '18-65'")
