"""Every number format faircard shows, against Python's own formatting of exact values and
against the claim the text makes (a value written as failing a minimum reads below it).
Written to kill mutmut survivors of :mod:`faircard.formatting`."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from faircard.formatting import (
    counted,
    fmt_against,
    fmt_disparate_impact,
    fmt_int,
    fmt_num,
    fmt_pct,
    fmt_probability,
    groups_with_sizes,
    is_missing,
)


@pytest.mark.parametrize(("value", "missing"), [(None, True), (math.nan, True),
                                                (np.float64("nan"), True), (0.0, False),
                                                (0, False), ("nan", False), (math.inf, False)])
def test_what_is_missing(value, missing):
    assert is_missing(value) is missing


def test_numbers():
    assert fmt_num(0.5) == "0.500" and fmt_num(0.5, 1) == "0.5" and fmt_num(2.0, 0) == "2"
    assert fmt_num(1234567) == "1,234,567"  # counts stay whole, with separators
    assert fmt_num(True) == "yes" and fmt_num(False) == "no"
    assert fmt_num(None) == "n/a" and fmt_num(math.nan) == "n/a"
    assert fmt_num(np.float64(0.125), 2) == "0.12"  # half to even, as Python rounds 0.125


def test_percentages_and_counts():
    assert fmt_pct(0.125) == "12.5%" and fmt_pct(0.5, 0) == "50%" and fmt_pct(1) == "100.0%"
    assert fmt_pct(0.0625, 2) == "6.25%"
    assert fmt_pct(None) == "n/a" and fmt_pct(math.nan) == "n/a"
    assert fmt_int(1234.0) == "1,234" and fmt_int(7) == "7"
    assert fmt_int(None) == "n/a" and fmt_int(math.nan) == "n/a"


@pytest.mark.parametrize(("n", "text"), [(0, "0 rows were"), (1, "1 row was"),
                                         (2, "2 rows were"), (1234, "1,234 rows were")])
def test_counted_words_agree_with_the_count(n, text):
    assert counted(n, "row was", "rows were") == text


@pytest.mark.parametrize(("value", "limit", "upper", "digits"),
                         [(0.7998, 0.8, False, 3), (0.7998, 0.8, False, 2),
                          (0.79999, 0.8, False, 3), (0.1001, 0.1, True, 3),
                          (0.10004, 0.1, True, 2), (0.100049999, 0.1, True, 3),
                          (0.7999999999999, 0.8, False, 3),
                          (0.5, 0.8, False, 3)])
def test_a_failing_value_is_written_on_the_failing_side(value, limit, upper, digits):
    text = fmt_against(value, limit, False, digits, upper=upper)
    written = Fraction(text)
    assert (written > Fraction(str(limit))) if upper else (written < Fraction(str(limit)))
    # as few decimals as that takes, never fewer than asked
    decimals = len(text.split(".")[1])
    assert decimals >= digits
    shorter = f"{value:.{decimals - 1}f}"
    if decimals > digits:
        assert not ((float(shorter) > limit) if upper else (float(shorter) < limit))
    assert abs(float(text) - value) <= 0.5 * 10 ** -decimals + 1e-15


def test_passing_or_undefined_values_keep_their_digits():
    assert fmt_against(0.85, 0.8, True) == "0.850"
    assert fmt_against(0.7998, 0.8, None, 2) == "0.80"  # no verdict to agree with
    assert fmt_against(None, 0.8, False) == "n/a" and fmt_against(math.nan, 0.8, False) == "n/a"
    assert fmt_against(0.05, 0.1, True, upper=True) == "0.050"


def test_the_disparate_impact_ratio_is_written_as_its_verdict_reads():
    assert fmt_disparate_impact({"disparate_impact_ratio": 0.7998,
                                 "passes_four_fifths": False}) == "0.7998"
    assert fmt_disparate_impact({"disparate_impact_ratio": 0.7998,
                                 "passes_four_fifths": False}, 2) == "0.7998"
    assert fmt_disparate_impact({"disparate_impact_ratio": 0.8004,
                                 "passes_four_fifths": True}) == "0.800"
    assert fmt_disparate_impact({"disparate_impact_ratio": 0.70001,
                                 "passes_four_fifths": False}, 2) == "0.70"
    assert fmt_disparate_impact({}) == "n/a"


@pytest.mark.parametrize("t", [1e-10, 2.5e-20, 1.2345678e-7])
def test_tiny_thresholds_are_written_so_they_read_back_exactly(t):
    from faircard.formatting import fmt_threshold

    text = fmt_threshold(t)
    assert float(text) == t, text


def test_groups_are_named_with_their_sizes_in_people():
    assert groups_with_sizes({"c": 4, "d": 1, "e": 1000.0}) == \
        "c (4 people), d (1 person), e (1,000 people)"
    assert groups_with_sizes({}) == ""


def test_a_probability_too_small_for_sixteen_decimals_is_written_in_full():
    # 1e-20 with 3 to 16 decimals reads 0: it is written as Python writes the number itself
    assert fmt_probability(1e-20) == "1e-20" and float(fmt_probability(1e-20)) == 1e-20
    assert fmt_probability(0.0002) == "0.0002" and fmt_probability(0.25) == "0.250"
