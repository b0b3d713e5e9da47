"""Number formats shown on screen and in cards: p-values, thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest

import faircard
from faircard.formatting import fmt_p, fmt_threshold
from faircard.policy import choose_policy
from tests.conftest import make_dataset


@pytest.mark.parametrize("p, shown", [(0.0, "< 0.0001"), (1e-300, "< 0.0001"),
                                      (9.9e-5, "< 0.0001"), (1e-4, "0.0001"),
                                      (0.03125, "0.0312"), (1.0, "1.0000"),
                                      (math.nan, "n/a"), (None, "n/a")])
def test_tiny_p_values_are_not_shown_as_zero(p, shown):
    assert fmt_p(p) == shown


@pytest.mark.parametrize("t, shown", [(0.5, "0.500"), (5, "5.000"), (0.12345, "0.123"),
                                      (0.0005, "0.001"), (-1.25, "-1.250"), (math.nan, "n/a")])
def test_thresholds_always_have_three_decimals(t, shown):
    assert fmt_threshold(t) == shown


def test_policy_summaries_use_the_threshold_format():
    df = make_dataset(4, n=1500, n_features=1, tiny_group=False, no_positive_group=False)
    codes, groups = np.unique(df["sex"].to_numpy(), return_inverse=True)
    policy = choose_policy(df["y"], df["score"], groups, list(codes), feature="sex",
                           constraint="demographic_parity", tolerance=0.05)
    for g, t in policy.thresholds.items():
        assert f"{g} {fmt_threshold(t)}" in policy.summary or \
            f"everyone: {fmt_threshold(t)}" in policy.summary


def test_cards_show_tiny_p_values_as_below_the_floor():
    from faircard.card import build_card
    from faircard.render import render_markdown

    df = make_dataset(5, n=4000, n_features=1, tiny_group=False, no_positive_group=False)
    a = faircard.assess(df, target="y", score="score", sensitive="sex", n_boot=0)
    assert (a.disparities["p_adjusted"] < 1e-4).any()  # the male/female base rates differ
    md = render_markdown(build_card(a, generated_at="x", versions={}))
    table = md.split("### Disparities")[1].split("###")[0]
    p_cells = [line.rstrip(" |").rsplit("|", 1)[-1].strip()
               for line in table.splitlines() if line.startswith("| sex")]
    assert p_cells and "&lt; 0.0001" in p_cells
    assert all(c == "&lt; 0.0001" or float(c) >= 1e-4 for c in p_cells)
