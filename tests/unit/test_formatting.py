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


@pytest.mark.parametrize("t, shown", [(0.5, "0.500"), (5, "5.000"), (0.12345, "0.12345"),
                                      (0.0005, "0.0005"), (-1.25, "-1.250"), (math.nan, "n/a")])
def test_thresholds_have_three_decimals_or_as_many_as_state_them_exactly(t, shown):
    assert fmt_threshold(t) == shown


def test_a_written_threshold_reads_back_as_the_same_number():
    rng = np.random.default_rng(0)
    for t in np.concatenate([rng.random(200), rng.normal(0, 50, 200), [1e-9, 123456.789]]):
        assert float(fmt_threshold(t)) == t


def test_short_threshold_keeps_the_decisions_in_fewer_digits():
    from faircard.decision import short_threshold

    rng = np.random.default_rng(1)
    s = rng.random(500).round(4)
    for t in rng.random(200):
        below = s[s < t]
        short = short_threshold(t, below.max() if len(below) else -np.inf)
        assert np.array_equal(s >= short, s >= t)
        assert len(fmt_threshold(short)) <= len(fmt_threshold(t))
    assert short_threshold(0.35, 0.2) == 0.35  # three decimals (typed by a person): kept


def test_grid_thresholds_are_short_and_make_the_quantiles_decisions():
    from faircard.thresholds import grid_thresholds

    rng = np.random.default_rng(2)
    s = rng.random(5000)
    grid = grid_thresholds(s, 301)
    assert np.all(np.diff(grid) > 0) and grid[-1] == np.inf
    q = np.unique(np.quantile(s, np.linspace(0, 1, 301)))
    # the same sets of decisions as the quantiles, in the same order
    chosen = [np.flatnonzero(s >= t).tolist() for t in grid[:-1]]
    assert chosen == [np.flatnonzero(s >= t).tolist() for t in q]
    # above the lowest score (nothing is below it, so it stays as it is): 0.xxxxxx at most here
    assert max(len(fmt_threshold(t)) for t in grid[1:-1]) < 10


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


def test_an_interval_reaching_below_zero_reads_as_two_bounds():
    """A gap's interval can start below 0; with a hyphen "[-0.004-0.103]" reads as a range
    between two negative numbers."""
    from faircard.formatting import fmt_interval

    assert fmt_interval(-0.0041, 0.1034) == "[-0.004, 0.103]"
    assert fmt_interval(-0.2, -0.05, digits=2) == "[-0.20, -0.05]"
    assert fmt_interval(float("nan"), 0.5) == "[n/a, 0.500]"
