"""A rule that tells nobody apart, on assessment documents written here (the form the gate and
records read): where "nobody" and "everybody" end (a rate that is 0 or 1 up to the last bit of
a sum of fractional counts is all-or-nothing, one person in a million is a real choice), what
the sentence says in full, and which groups the per-group check looks at."""

from __future__ import annotations

import math

import pytest

from faircard.trivial import _EPS, trivial_decision

EXPLANATION = ("Every gap in selection and error rates between groups is then zero or undefined "
               "by construction, and the gaps in accuracy and precision only mirror how common "
               "the positive outcome is in each group: none of this says anything about "
               "fairness.")


def _doc(rate: float, count=1_000_000, by_group=(), **extra) -> dict:
    return {"overall": {"selection_rate": rate, "count": count}, "by_group": list(by_group),
            "favorable_outcome": "positive", **extra}


def _row(group, rate, small=False, feature="sex") -> dict:
    return {"feature": feature, "group": group, "selection_rate": rate, "is_small_group": small}


def test_rates_off_by_the_last_bit_of_a_sum_are_all_or_nothing():
    everyone = sum([0.1] * 10)  # ten expected counts of 0.1 selected out of a total of 1
    assert everyone != 1.0 and math.isclose(everyone, 1.0)
    assert "everybody is approved" in trivial_decision(_doc(everyone / 1.0))
    nobody = 0.1 + 0.2 - 0.3  # what is left of three fractional counts that cancel
    assert 0 < nobody < 1e-15
    assert "nobody is approved" in trivial_decision(_doc(nobody))


def test_the_tolerance_is_inclusive_at_both_ends():
    # "within _EPS of 0 or 1" includes a rate exactly that far
    assert "nobody is approved" in trivial_decision(_doc(_EPS))
    assert "everybody is approved" in trivial_decision(_doc(1 - _EPS))


@pytest.mark.parametrize("rate", [1 / 1_000_000, 1 - 1 / 1_000_000])
def test_one_person_in_a_million_is_a_real_choice(rate):
    assert trivial_decision(_doc(rate)) is None


@pytest.mark.parametrize(("rate", "who", "share"), [(0.0, "nobody", "0"), (1.0, "everybody", "all")])
def test_the_overall_sentence_in_full(rate, who, share):
    assert trivial_decision(_doc(rate, count=12_345)) == (
        f"The decision rule tells nobody apart: {who} is approved ({share} of 12,345). "
        + EXPLANATION)
    # without a (usable) count the sentence names no number rather than a wrong one
    for count in (None, float("nan"), 0):
        assert trivial_decision(_doc(rate, count=count)) == (
            f"The decision rule tells nobody apart: {who} is approved. " + EXPLANATION)


def test_a_document_without_the_setting_speaks_of_approvals():
    doc = _doc(1.0, count=10)
    del doc["favorable_outcome"]
    assert "everybody is approved (all of 10)" in trivial_decision(doc)


def test_the_per_group_check_reads_the_documents_groups():
    rows = [_row("tiny", 0.5, small=True), _row("F", 0.0), _row("M", 1.0),
            _row("a", 0.3, feature="age"), _row("b", 0.6, feature="age")]
    sentence = trivial_decision(_doc(0.5, by_group=rows, favorable_outcome="negative"))
    # the small group listed first is skipped, not the end of the list
    assert sentence == ("The decision rule gives every group of 'sex' an all-or-nothing "
                        "decision ('F': nobody flagged; 'M': everybody flagged): who is flagged "
                        "depends on the group alone, not on the model's scores.")


def test_one_compared_group_is_no_comparison():
    # 'A' (compared) all approved, the small group 'B' mixed: nothing is compared between groups
    rows = [_row("A", 1.0), _row("B", 0.4, small=True)]
    assert trivial_decision(_doc(0.97, by_group=rows)) is None
    assert trivial_decision(_doc(0.97, by_group=[*rows, _row("C", 1.0)])) is not None
