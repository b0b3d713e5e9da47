"""Groups whose names read alike ("Male", "male", "Male ", a full-width "Ｆ") are separate
groups of the data: the notes on groups say so, name them with their spaces visible, and a
card that leaves small groups out does not name those."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

import faircard
from faircard.card import build_card
from faircard.group_notes import alike_groups

NAMES = ["Male", "male", "Male ", "Female", "\uff26emale", "Other"]


def _frame(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    g = np.array(NAMES, dtype=object)[rng.integers(0, len(NAMES), n)]
    g[:3] = "Tiny"
    g[3:5] = " tiny"
    return pd.DataFrame({"y": rng.integers(0, 2, n), "s": rng.random(n), "sex": g})


def test_sets_of_names_that_read_alike_are_found_by_what_a_reader_sees():
    nfd = unicodedata.normalize("NFD", "Zoë")
    got = alike_groups(["Zoë", nfd, "Zoe", "A  b", "a b", "(missing)", "(Missing)", "x"])
    assert got == [["Zoë", nfd], ["A  b", "a b"]]  # "Zoe" is another name; missing is not
    assert alike_groups(["Female", "Male", "Other"]) == []


def test_the_notes_name_each_set_and_the_card_leaving_small_groups_out_does_not():
    a = faircard.assess(_frame(), target="y", score="s", sensitive="sex", n_boot=0)
    shown = set(a.by_group["group"])
    assert {"Male", "male", "Male ", "Tiny", " tiny"} <= shown  # separate groups indeed
    note = next(n for n in a.group_notes if "letter case" in n)
    assert note.startswith("In 'sex', 7 groups whose names differ only by spaces, letter case "
                           "or Unicode form are counted as separate groups: ")
    for names in (["'Female'", "'\uff26emale'"], ["'Male'", "'Male '", "'male'"],
                  ["' tiny'", "'Tiny'"]):
        assert all(n in note for n in names), (names, note)
    shown_card = build_card(a, suppress_small_groups=False)
    assert note in shown_card.caveats["automatic"]
    hidden_card = build_card(a, suppress_small_groups=True)
    stated = " ".join(hidden_card.caveats["automatic"])
    assert "'Tiny'" not in stated and "' tiny'" not in stated
    assert "In 'sex', 7 groups whose names differ only by spaces, letter case or Unicode form " \
           "are counted as separate groups." in stated


def test_data_without_such_names_gets_no_such_note():
    df = _frame()
    df["sex"] = df["sex"].str.strip().str.lower().map({"male": "M", "female": "F"}).fillna("O")
    a = faircard.assess(df, target="y", score="s", sensitive="sex", n_boot=0)
    assert not any("letter case" in n for n in a.group_notes)
