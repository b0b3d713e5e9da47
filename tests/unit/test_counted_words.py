"""Sentences that count things agree with their count: one row "was" left out, one group
"has" fewer people than the minimum, one value "is" undefined (the counts themselves are taken
from the rows with pandas)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.card import build_card
from faircard.findings import findings


def _one_of_each() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"g": ["a"] * 120 + ["b"] * 120 + ["c"] * 6,
                       "y": rng.integers(0, 2, 246).astype(float),
                       "s": rng.random(246).round(2)})
    df.loc[df["g"] == "c", "y"] = 0.0  # no positives in c: its true positive rate is 0/0
    df.loc[5, "y"] = np.nan  # one row without an outcome
    return df


def test_sentences_about_one_thing_are_singular():
    df = _one_of_each()
    assert df["y"].isna().sum() == 1
    sizes = df["g"].value_counts()
    assert (sizes < 30).sum() == 1
    a = faircard.assess(df, target="y", score="s", sensitive="g", n_boot=0)
    card = build_card(a, metrics=["selection_rate", "true_positive_rate"])
    undefined = [r["values"]["true_positive_rate"] for r in card.quantitative["by_group"]]
    assert sum(v is None for v in undefined) == 1
    text = " ".join(a.notes + findings(a) + card.caveats["automatic"])
    for wrong in ("1 rows", "1 group(s)", "1 per-group values are"):
        assert wrong not in text, text
    assert "1 row was left out (1 with a missing target)." in a.notes or \
        any(n.startswith("1 row was left out") for n in a.notes), a.notes
    assert "'g': 1 group with fewer than 30 rows is left out of comparisons: c." in a.notes
    assert "1 row had no outcome or score and was left out." in findings(a)
    caveats = card.caveats["automatic"]
    assert "1 group has fewer than 30 people and is shown but not compared." in caveats
    assert any(c.startswith("1 per-group value is undefined") for c in caveats), caveats
    assert "1 row without an outcome or decision was left out." in caveats


def test_sentences_about_several_things_keep_their_plural():
    df = _one_of_each()
    df.loc[6, "y"] = np.nan
    a = faircard.assess(df, target="y", score="s", sensitive="g", n_boot=0)
    assert any(n.startswith("2 rows were left out") for n in a.notes), a.notes
    assert "2 rows without an outcome or decision were left out." in \
        build_card(a).caveats["automatic"]


def test_a_card_that_leaves_small_groups_out_names_them_nowhere():
    """With small groups left out of the card, no part of it names them (the findings said
    "'Tinygroup' (3). They are shown but left out of comparisons." while the card left them
    out); the caveat counts them."""
    from faircard.render import render_html, render_json, render_markdown
    from tests.conftest import make_dataset

    df = make_dataset(9, n=500, with_missing=False)
    df["sex"] = df["sex"].replace({"tiny": "Tinygroup", "nopos": "Nopositive"})
    sizes = df["sex"].value_counts()
    small = sorted(sizes[sizes < 30].index)
    assert small == ["Nopositive", "Tinygroup"]
    a = faircard.assess(df, target="y", score="score", sensitive="sex", n_boot=0)
    card = build_card(a, suppress_small_groups=True)
    for text in (render_markdown(card), render_html(card, charts={}), render_json(card)):
        for name in small:
            assert name not in text
    assert any("left out of this card" in c for c in card.caveats["automatic"])
    shown = build_card(a)  # shown, they are named as too small
    assert "'Tinygroup' (3)" in " ".join(shown.quantitative["findings"])


def test_small_groups_asked_into_the_comparisons_are_not_said_to_be_left_out():
    """With small groups included in the comparisons (--include-small-groups), the gaps span
    them (fairlearn's demographic parity difference over every group), so neither the findings
    nor the card's caveats may say they are left out of comparisons."""
    from fairlearn.metrics import demographic_parity_difference

    from tests.conftest import make_dataset

    df = make_dataset(9, n=500, with_missing=False)
    for include in (True, False):
        a = faircard.assess(df, target="y", score="score", sensitive="sex", n_boot=0,
                            include_small_groups=include)
        sizes = df["sex"].value_counts()
        kept = df[df["sex"].map(sizes) >= (0 if include else 30)]
        dpd = demographic_parity_difference(kept["y"], kept["score"] >= 0.5,
                                            sensitive_features=kept["sex"])
        assert a.criteria["sex"]["demographic_parity_difference"] == pytest.approx(dpd)
        said = " ".join(findings(a) + build_card(a).caveats["automatic"])
        left_out = "left out of comparisons" in said or "not compared" in said
        assert left_out == (not include), said
        if include:
            assert "'tiny' (3)" in said and "compared" in said


def test_a_card_that_leaves_small_groups_out_names_them_nowhere_even_in_notes_and_gaps():
    """Left-out small groups were still named by the note on empty combinations ('No one in
    ... Tinygroup & over 60'), by the note on values outside the bands, and, when the small
    groups are compared all the same, as a gap's worst or best group."""
    from faircard.render import render_html, render_json, render_markdown
    from faircard.spec import Binning

    rng = np.random.default_rng(4)
    n = 600
    df = pd.DataFrame({"sex": rng.choice(["Female", "Male"], n),
                       "age": rng.integers(20, 60, n).astype(float),
                       "y": rng.integers(0, 2, n), "score": rng.random(n)})
    df.loc[:3, "sex"] = "Tinygroup"          # 4 people: below 30, and not in every age band
    df.loc[:3, "age"] = 30
    df.loc[4:6, "age"] = 75                  # 3 people over every band: a small group
    df.loc[:3, "score"] = 0.99               # the highest selection rate: the 'best' group
    bins = {"age": Binning(edges=(18, 40, 65), labels=("18-39", "40-64"))}
    for include in (False, True):
        a = faircard.assess(df, target="y", score="score", sensitive=["sex", "age"],
                            bins=bins, n_boot=0, include_small_groups=include)
        by = a.by_group[a.by_group["metric"] == "count"]
        small = set(by.loc[by["is_small_group"], "group"].astype(str))
        # the oracle: pandas' group sizes
        sizes = pd.concat([df["sex"].value_counts(),
                           pd.cut(df["age"], [-np.inf, 18, 40, 65, np.inf], right=False)
                           .value_counts()])
        assert {"Tinygroup"} <= small and sizes["Tinygroup"] == 4
        notes = " ".join(a.group_notes)
        assert "Tinygroup &" in notes and "over 65" in notes  # the assessment names them
        card = build_card(a, suppress_small_groups=True)
        for text in (render_markdown(card), render_html(card, charts={}), render_json(card)):
            assert "Tinygroup" not in text
            assert "over 65" not in text
        assert any(c.startswith("No one in ") for c in card.caveats["automatic"])
        if include:  # the gaps still span the left-out groups, without naming them
            rates = df.assign(sel=df["score"] >= 0.5).groupby("sex")["sel"].mean()
            assert rates.idxmax() == "Tinygroup"
            row = [d for d in card.quantitative["disparities"]
                   if d["feature"] == "sex" and d["metric"] == "selection_rate"][0]
            assert row["best_group"] == "(a group left out of this card)"
            assert row["difference"] == pytest.approx(rates.max() - rates.min())
