"""The findings' sentences on small assessments built here, whose figures are plain fractions
of counts (``Fraction``), read back from the sentence exactly as written. Written to kill
mutmut survivors of :mod:`faircard.findings`."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.findings import findings

RULE = Fraction(4, 5)


def _two_groups(n: int, selected: dict[str, int], **kw):
    """Groups of ``n`` people, ``selected[g]`` of them given a positive decision; outcomes
    alternate, so every group has positives and negatives."""
    rows = [(g, int(i < k), int(i % 2 == 0)) for g, k in selected.items() for i in range(n)]
    df = pd.DataFrame(rows, columns=["g", "pred", "y"])
    return faircard.assess(df, target="y", prediction="pred", sensitive="g", n_boot=0, **kw)


def _rule_sentence(a) -> str:
    [sentence] = [s for s in findings(a) if "four-fifths" in s]
    return sentence


def _shares_written(sentence: str) -> tuple[Fraction, Fraction]:
    low, high = re.findall(r"is ([0-9.]+)% in '[^']+' vs ([0-9.]+)% in '", sentence)[0]
    return Fraction(low), Fraction(high)


@pytest.mark.parametrize(("low", "high"), [(2436, 3046), (2440, 3051), (3599, 4500)])
def test_shares_of_a_failing_rule_fail_it_as_written(low, high):
    """2,436 of 10,000 against 3,046 of 10,000 is a ratio of 0.79974: it fails, yet the shares
    rounded to one decimal, 24.4% and 30.5%, are exactly four-fifths apart and would pass."""
    assert Fraction(low, high) < RULE
    a = _two_groups(10_000, {"A": high, "B": low})
    assert a.criteria["g"]["passes_four_fifths"] is False
    sentence = _rule_sentence(a)
    assert "this fails the four-fifths rule" in sentence
    shown_low, shown_high = _shares_written(sentence)
    assert shown_low < RULE * shown_high, sentence


@pytest.mark.parametrize(("low", "high"), [(2413, 3016), (2415, 3018), (3600, 4500)])
def test_shares_of_a_passing_rule_pass_it_as_written(low, high):
    """2,413 against 3,016 (of 10,000 each) is a ratio of 0.80007: it passes, yet the shares
    rounded to one decimal, 24.1% and 30.2%, are a ratio of 0.798."""
    assert Fraction(low, high) >= RULE
    a = _two_groups(10_000, {"A": high, "B": low})
    assert a.criteria["g"]["passes_four_fifths"] is True
    sentence = _rule_sentence(a)
    assert "this passes the four-fifths rule" in sentence
    shown_low, shown_high = _shares_written(sentence)
    assert shown_low >= RULE * shown_high, sentence
    # and each share is its count over 10,000, to the decimals shown
    for shown, count in ((shown_low, low), (shown_high, high)):
        assert abs(shown - Fraction(100 * count, 10_000)) <= Fraction(1, 20)


def _groups(spec: dict[str, tuple[int, int]], favorable="positive", **kw):
    """``spec[g] = (people, selected)``; outcomes alternate within each group."""
    rows = [(g, int(i < k), int(i % 2 == 0)) for g, (n, k) in spec.items() for i in range(n)]
    df = pd.DataFrame(rows, columns=["g", "pred", "y"])
    kw.setdefault("n_boot", 0)
    return faircard.assess(df, target="y", prediction="pred", sensitive="g",
                           favorable_outcome=favorable, **kw), df


def test_small_groups_are_named_with_their_sizes():
    a, _ = _groups({"A": (100, 60), "B": (100, 30), "C": (10, 5), "D": (12, 3)})
    assert findings(a)[-1] == ("Too small to trust (fewer than 30 people): 'C' (10), 'D' (12). "
                               "They are shown but left out of comparisons.")
    big, _ = _groups({"A": (100, 60), "B": (100, 30)})
    assert not any("Too small" in s for s in findings(big))


@pytest.mark.parametrize(("favorable", "verb", "wrongly"), [("positive", "approved",
                                                            "wrongly approved"),
                                                           ("negative", "flagged",
                                                            "wrongly flagged")])
def test_a_chosen_error_rate_follows_the_leading_ones(favorable, verb, wrongly):
    from sklearn.metrics import precision_score

    # A: half positives, its first 80 selected; B: three in four positives, its first 40
    i = pd.Series(range(100))
    df = pd.concat([pd.DataFrame({"g": "A", "y": (i % 2 == 0).astype(int),
                                  "pred": (i < 80).astype(int)}),
                    pd.DataFrame({"g": "B", "y": (i % 4 != 0).astype(int),
                                  "pred": (i < 40).astype(int)})], ignore_index=True)
    a = faircard.assess(df, target="y", prediction="pred", sensitive="g", n_boot=0,
                        favorable_outcome=favorable)
    fdr = {g: 1 - precision_score(df["y"][df["g"] == g], df["pred"][df["g"] == g])
           for g in ("A", "B")}
    base = findings(a, max_items=50)
    chosen = findings(a, metrics=["accuracy", "false_discovery_rate", "false_positive_rate",
                                  "false_discovery_rate"], max_items=50)
    extra = [s for s in chosen if s not in base]
    if favorable == "negative":  # already a leading metric: nothing is added
        assert extra == [] and chosen == base
        [sentence] = [s for s in chosen if "false discovery rate" in s]
    else:
        [sentence] = extra  # once, and accuracy (no error clause) adds nothing
        assert chosen == [*base, sentence] or chosen.index(sentence) == 3
    hi, lo = max(fdr, key=fdr.get), min(fdr, key=fdr.get)
    assert sentence == (f"g: the false discovery rate is {100 * fdr[hi]:.1f}% for '{hi}' vs "
                        f"{100 * fdr[lo]:.1f}% for '{lo}' (a gap of "
                        f"{100 * (fdr[hi] - fdr[lo]):.1f} points): more of the people {verb} in "
                        f"'{hi}' had a negative outcome ({wrongly}).")


def test_at_most_eight_findings_by_default():
    rng = np.random.default_rng(5)
    n = 3000
    df = pd.DataFrame({"y": rng.integers(0, 2, n)})
    score = rng.random(n)
    for j in range(10):  # ten features whose groups are selected at different rates
        df[f"f{j}"] = rng.choice(["a", "b"], n)
        score = score + 0.3 * (df[f"f{j}"] == "a")
    df["pred"] = (score + 0.3 * df["y"] > 2.0).astype(int)
    a = faircard.assess(df, target="y", prediction="pred",
                        sensitive=[f"f{j}" for j in range(10)], n_boot=0, intersection=False)
    every = findings(a, max_items=100)
    assert len(every) > 8
    assert findings(a) == every[:8]


def test_an_undefined_ratio_gets_no_four_fifths_sentence():
    # flagged: everybody; the favourable share (not flagged) is 0 in both groups: 0/0
    a, _ = _groups({"A": (100, 100), "B": (100, 100)}, "negative")
    assert a.criteria["g"]["passes_four_fifths"] is None
    assert not any("four-fifths" in s for s in findings(a))


def test_the_gap_sentence_ends_with_the_chance_warning_or_nothing():
    clear, _ = _groups({"A": (1000, 750), "B": (1000, 250)})
    sentence = _rule_sentence(clear)
    assert clear.disparities.set_index("metric").loc["selection_rate",
                                                     "is_distinguishable"] is True
    assert sentence.endswith("this fails the four-fifths rule.")
    unclear, _ = _groups({"A": (40, 12), "B": (40, 8)})
    assert unclear.criteria["g"]["passes_four_fifths"] is False
    sentence = _rule_sentence(unclear)
    assert "this fails the four-fifths rule. With 40 people in 'B'" in sentence
    assert sentence.endswith("%. The gap is not distinguishable from parity at this sample "
                             "size.")
