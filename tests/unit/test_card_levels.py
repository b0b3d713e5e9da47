"""The card says what its brackets are, at the level they were computed at, and the bracketed
figures are the intervals at that level (statsmodels' Wilson interval as the oracle)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

import faircard
from faircard.card import build_card
from faircard.render import render_html, render_markdown


def _frame(n=700, seed=11):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"group": rng.choice(["A", "B"], n, p=[0.6, 0.4]),
                       "score": rng.random(n).round(3)})
    df["outcome"] = (rng.random(n) < 0.2 + 0.6 * df["score"]).astype(int)
    return df


@pytest.mark.parametrize("confidence, said", [(0.9, "90%"), (0.95, "95%"), (0.975, "97.5%")])
def test_the_card_states_the_level_of_its_brackets(confidence, said):
    """A card assessed at 90% showed its brackets with no level, so a reader took them for
    the usual 95%; it now says 'Figures in brackets are 90% intervals.' in Markdown and HTML,
    and each group's selection rate's brackets are statsmodels' Wilson interval at 90%."""
    df = _frame()
    a = faircard.assess(df, target="outcome", score="score", threshold=0.5, sensitive="group",
                        n_boot=0, confidence=confidence)
    card = build_card(a)
    md, html = render_markdown(card), render_html(card)
    sentence = f"Figures in brackets are {said} intervals."
    assert sentence in md and f"<p>{sentence}</p>" in html
    for g, rows in df.groupby("group"):
        lo, hi = proportion_confint(int((rows["score"] >= 0.5).sum()), len(rows),
                                    alpha=1 - confidence, method="wilson")
        line = next(x for x in md.splitlines() if x.startswith(f"| {g} | {len(rows):,} |"))
        first = re.search(r"\[([0-9.]+)-([0-9.]+)\]", line)
        assert (first.group(1), first.group(2)) == (f"{lo:.3f}", f"{hi:.3f}"), (line, lo, hi)


def test_a_proxys_interval_level_is_written_to_its_last_digit():
    """A proxy's interval at 97.5% was named a '98% interval' in the card (a level nobody
    chose); both renderers now write '97.5% interval'."""
    df = _frame()
    a = faircard.assess(df, target="outcome", score="score", threshold=0.5, sensitive="group",
                        n_boot=0, confidence=0.975)
    proxy = {"sensitive_feature": "group", "feature": "postcode", "group": "B", "value": 0.91,
             "ci_low": 0.88, "ci_high": 0.94, "confidence": 0.975}
    card = build_card(a, proxies=[proxy])
    for text in (render_markdown(card), render_html(card)):
        assert "(cross-validated AUC 0.910, 97.5% interval 0.880-0.940)" in text
        assert "98%" not in text
