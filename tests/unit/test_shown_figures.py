"""Figures and sentences as shown to a reader (CLI text, findings, card in Markdown, HTML and
JSON) checked against the rows, computed here with plain fractions and scikit-learn."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.card import build_card
from faircard.findings import findings
from faircard.render import render_html, render_markdown


def _two_groups(n: int, selected: dict[str, int]) -> pd.DataFrame:
    rows = [(g, int(i < k), int(i % 2 == 0)) for g, k in selected.items() for i in range(n)]
    return pd.DataFrame(rows, columns=["g", "pred", "y"])


@pytest.fixture(scope="module", params=["positive", "negative"])
def just_failing(request):
    """Favourable shares 0.3999 and 0.5 out of 10,000 each: a ratio of 0.7998, which fails."""
    fav = request.param
    n = 10_000
    selected = {"A": 5_000, "B": 3_999} if fav == "positive" else {"A": 5_000, "B": 6_001}
    df = _two_groups(n, selected)
    shares = {g: Fraction(k if fav == "positive" else n - k, n) for g, k in selected.items()}
    ratio = min(shares.values()) / max(shares.values())
    assert ratio < Fraction(4, 5)
    a = faircard.assess(df, target="y", prediction="pred", sensitive="g", n_boot=0,
                        favorable_outcome=fav)
    return a, float(ratio)


def _numbers_stated_as_failing(text: str) -> list[float]:
    pats = [r"\(([0-9.]+)x\); this fails the four-fifths rule",
            r"fail the four-fifths rule \(disparate impact ratio ([0-9.]+)\)",
            r"disparate impact ratio ([0-9.]+) \(four-fifths rule: FAILS\)",
            r"\| ([0-9.]+) \| fails \|",
            r'<td class="num">([0-9.]+)</td><td>fails</td>']
    return [float(x) for p in pats for x in re.findall(p, text)]


def test_a_failing_four_fifths_ratio_is_never_written_as_0_8(just_failing):
    a, ratio = just_failing
    assert a.criteria["g"]["passes_four_fifths"] is False
    assert a.criteria["g"]["disparate_impact_ratio"] == pytest.approx(ratio, abs=1e-12)
    card = build_card(a)
    texts = {"findings": "\n".join(findings(a)), "markdown": render_markdown(card),
             "html": render_html(card)}
    for where, text in texts.items():
        shown = _numbers_stated_as_failing(text)
        assert shown, f"no failing four-fifths ratio found in the {where}"
        assert all(x < 0.8 for x in shown), (where, shown)


def test_the_cli_states_a_failing_ratio_below_0_8(just_failing):
    from faircard.commands.assess_cmd import summary_text

    a, _ = just_failing
    shown = _numbers_stated_as_failing(summary_text(a))
    assert shown and all(x < 0.8 for x in shown), shown


def test_the_shares_of_a_failing_finding_fail_the_rule_as_written(just_failing):
    a, _ = just_failing
    [sentence] = [s for s in findings(a) if "four-fifths" in s]
    low, high = (float(x) for x in re.findall(r"([0-9.]+)% in '", sentence))
    assert "fails" in sentence and low < 0.8 * high, sentence
