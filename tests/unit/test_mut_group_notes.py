"""The notes on groups, in full, on small tables built here: values outside the bands, values
that are not numbers in a banded column (listed as written, in the order shown, the rest
counted), and combinations with nobody in them (from ``itertools.product`` of the groups
present). Written to kill mutmut survivors of :mod:`faircard.group_notes`."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.group_notes import group_notes
from faircard.prepare import build_group_index
from faircard.spec import AssessmentSpec, Binning

BANDS = Binning((18, 25, 40, 65), ("18-24", "25-39", "40-65"))


def _assess(ages, sensitive=("sex", "age"), intersection=True, sex=None):
    n = len(ages)
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"age": ages, "y": rng.integers(0, 2, n), "pred": rng.integers(0, 2, n),
                       "sex": sex if sex is not None else rng.choice(["F", "M"], n)})
    spec = AssessmentSpec(target="y", prediction="pred", sensitive=tuple(sensitive), n_boot=0,
                          bins={"age": BANDS}, intersection=intersection)
    return faircard.assess_spec(df, spec), df


@pytest.mark.parametrize("n_texts", [10, 13])
def test_values_that_are_not_numbers_are_listed_as_written(n_texts):
    texts = [f"code{i}" for i in range(n_texts)]
    ages = [str(a) for a in range(10, 80)] * 4 + texts * 30 + [None] * 20
    a, df = _assess(ages)  # an unbinned feature first: the banded one is still read
    listed = sorted(texts)[:10]  # shown in the groups' order: text sorted as Python sorts it
    more = f" (and {n_texts - 10} more)" if n_texts > 10 else ""
    notes = a.group_notes
    assert ("Some values of 'age' lie outside its bands: they are shown as 'under 18' and "
            "'over 65', not as missing.") in notes
    assert ("Some values of 'age' are not numbers, so no band holds them: they are shown as "
            "they are written, " + ", ".join(f"'{t}'" for t in listed) + more
            + ", not as missing.") in notes


def test_one_feature_has_no_combinations():
    ages = [str(a) for a in range(20, 30)] * 20  # only '18-24' and '25-39' are present
    a, _ = _assess(ages, sensitive=("age",))
    assert not any("combinations" in s for s in a.group_notes)


def test_every_empty_combination_is_named():
    ages = [str(a) for a in (20, 30, 50)] * 60
    sex = ["F", "M", "X"] * 60  # F only 20, M only 30, X only 50
    a, df = _assess(ages, sex=sex)
    present = {(s, b) for s, b in zip(sex, ("18-24", "25-39", "40-65") * 60, strict=True)}
    groups = (["F", "M", "X"], ["18-24", "25-39", "40-65"])
    empty = [f"{s} & {b}" for s, b in itertools.product(*groups) if (s, b) not in present]
    assert ("No one in 6 of the 9 combinations of sex & age, so they are not shown: "
            + ", ".join(empty) + ".") in a.group_notes


def test_the_note_on_names_that_read_alike_lists_sets_and_counts_the_rest():
    # twelve sets: 'a', 'A' and 'a ' (three names), then 'b'/'B' ... 'l'/'L' (two each);
    # ten are listed, the last two counted; 3 + 11 * 2 = 25 groups in all
    letters = "abcdefghijkl"
    names = ["a", "A", "a "] + [x for c in letters[1:] for x in (c, c.upper())]
    df = pd.DataFrame({"y": [1, 0] * len(names), "s": [0.5] * (2 * len(names)),
                       "sex": names * 2})
    spec = AssessmentSpec(target="y", score="s", sensitive=("sex",))
    [note] = group_notes(build_group_index(df, spec), spec)
    sets = ["'A', 'a' and 'a '"] + [f"'{c.upper()}' and '{c}'" for c in letters[1:10]]
    assert note == ("In 'sex', 25 groups whose names differ only by spaces, letter case or "
                    "Unicode form are counted as separate groups: " + "; ".join(sets)
                    + " (and 2 more sets). If they are the same people, correct the data.")


def test_ten_sets_of_names_that_read_alike_are_all_listed_with_nothing_counted():
    letters = "abcdefghij"
    names = [x for c in letters for x in (c, c.upper())]
    df = pd.DataFrame({"y": [1, 0] * len(names), "s": [0.5] * (2 * len(names)),
                       "sex": names * 2})
    spec = AssessmentSpec(target="y", score="s", sensitive=("sex",))
    [note] = group_notes(build_group_index(df, spec), spec)
    assert note.endswith(" and 'j'. If they are the same people, correct the data.")
    assert note.startswith("In 'sex', 20 groups whose names") and "more" not in note
