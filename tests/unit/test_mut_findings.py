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


def _missed(missed: dict[str, int], positives: int = 1000) -> pd.DataFrame:
    """Each group: ``positives`` people with a positive outcome, of whom ``missed[g]`` get a
    negative decision, and as many with a negative outcome, half of them selected."""
    parts = []
    for g, m in missed.items():
        i = pd.Series(range(positives))
        parts += [pd.DataFrame({"g": g, "y": 1, "pred": (i >= m).astype(int)}),
                  pd.DataFrame({"g": g, "y": 0, "pred": (i % 2).astype(int)})]
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize(("missed_b", "stated"), [(325, True), (315, False)])
def test_gaps_under_two_points_get_no_sentence(missed_b, stated):
    # false negative rates 30.0% and 32.5% (a gap of 2.5 points) or 31.5% (1.5 points)
    df = _missed({"A": 300, "B": missed_b})
    a = faircard.assess(df, target="y", prediction="pred", sensitive="g", n_boot=0)
    sentences = [s for s in findings(a) if "false negative rate" in s]
    assert bool(sentences) is stated
    if stated:
        assert sentences[0].startswith(f"g: the false negative rate is {missed_b / 10:.1f}% for "
                                       "'B' vs 30.0% for 'A' (a gap of 2.5 points)")


@pytest.mark.parametrize("favorable", ["positive", "negative"])
def test_the_interval_of_the_lower_share_is_wilsons(favorable):
    from statsmodels.stats.proportion import proportion_confint

    # favourable shares: A 60 of 100, B 30 of 100 (selected, or not flagged)
    spec = ({"A": (100, 60), "B": (100, 30)} if favorable == "positive"
            else {"A": (100, 40), "B": (100, 70)})
    a, _ = _groups(spec, favorable)
    lo, hi = proportion_confint(30, 100, alpha=0.05, method="wilson")
    sentence = _rule_sentence(a)
    assert f" With 100 people in 'B', that share's interval is {100 * lo:.0f}%-{100 * hi:.0f}%." \
        in sentence, sentence


def test_the_interval_is_stated_below_a_thousand_people_only():
    for n, stated in ((999, True), (1000, False)):
        a, _ = _groups({"A": (n, n // 2), "B": (n, n // 4)})
        assert ("that share's interval is" in _rule_sentence(a)) is stated


def test_shares_exactly_four_fifths_apart_are_shown_plainly():
    # 36 of 100 against 45 of 100 is exactly 4/5: it passes, though 0.36 / 0.45 is
    # 0.7999999999999999 in binary floating point
    a = _two_groups(100, {"A": 45, "B": 36})
    assert a.criteria["g"]["passes_four_fifths"] is True
    sentence = _rule_sentence(a)
    assert "is 36.0% in 'B' vs 45.0% in 'A' (0.80x); this passes the four-fifths rule" \
        in sentence


def test_a_ratio_passing_within_the_rules_tolerance_gets_plain_shares():
    from faircard.findings import _shares_as_judged

    # 0.39999999996 / 0.5 is 0.79999999992: below 4/5, passed within assess's 1e-9 tolerance
    # for rounding; no number of decimals can show it passing, so none are added
    assert _shares_as_judged(0.39999999996, 0.5, True) == (f"{39.999999996:.1f}%", "50.0%")
    # the same shares judged as failing get the decimals that show it
    low, high = (Fraction(x[:-1]) for x in _shares_as_judged(0.39999999996, 0.5, False))
    assert low < RULE * high


def test_a_gap_of_exactly_two_points_is_stated():
    a = faircard.assess(_missed({"A": 0, "B": 20}), target="y", prediction="pred",
                        sensitive="g", n_boot=0)
    assert any(s.startswith("g: the false negative rate is 2.0% for 'B' vs 0.0% for 'A' (a gap "
                            "of 2.0 points)") for s in findings(a))


@pytest.mark.parametrize("missing", [1, 3])
def test_rows_left_out_are_counted(missing):
    i = pd.Series(range(200))
    df = pd.DataFrame({"g": (i % 2).map({0: "A", 1: "B"}), "y": (i % 3 == 0).astype(float),
                       "pred": (i % 5 < 2).astype(int)})
    df.loc[df.index[:missing], "y"] = np.nan
    a = faircard.assess(df, target="y", prediction="pred", sensitive="g", n_boot=0)
    want = ("1 row had no outcome or prediction and was left out." if missing == 1 else
            f"{missing} rows had no outcome or prediction and were left out.")
    assert findings(a)[-1] == want


def test_each_feature_has_its_own_four_fifths_sentence():
    i = pd.Series(range(400))
    df = pd.DataFrame({"sex": (i % 2).map({0: "F", 1: "M"}),
                       "age": (i % 4 < 2).map({True: "young", False: "old"}),
                       "y": (i % 3 == 0).astype(int)})
    df["pred"] = ((df["sex"] == "M") & (i % 8 < 6) | (df["age"] == "old") & (i % 8 < 1)).astype(int)
    a = faircard.assess(df, target="y", prediction="pred", sensitive=["sex", "age"], n_boot=0,
                        intersection=False)
    rules = {s.split(":")[0]: s for s in findings(a, max_items=50) if "four-fifths" in s}
    for feature in ("sex", "age"):
        share = df.groupby(feature)["pred"].mean()
        low, high = share.idxmin(), share.idxmax()
        assert f"in '{low}' vs " in rules[feature] and f"in '{high}' (" in rules[feature]
        assert rules[feature].startswith(f"{feature}: the share of people approved is "
                                         f"{100 * share[low]:.1f}%")
