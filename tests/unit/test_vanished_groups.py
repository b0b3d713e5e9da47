"""A group all of whose rows lack an outcome or a decision is named, with how many rows it had
and why they were left out (counted by pandas on the raw table)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import faircard
from faircard.prepare import vanished_groups
from faircard.spec import AssessmentSpec, Binning


def _frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 300
    df = pd.DataFrame({"y": rng.integers(0, 2, n).astype(float), "s": rng.random(n),
                       "g": rng.choice(["A", "B", "C"], n), "age": rng.integers(18, 80, n)})
    return df


def _kept(df, spec):
    a = faircard.assess(df, target=spec.target, score=spec.score, sensitive=list(spec.sensitive),
                        bins=spec.bins, n_boot=0)
    return {gc.feature: gc.groups for gc in a.counts}


def test_a_group_whose_scores_are_all_missing_is_named_with_its_rows():
    df = _frame()
    df.loc[df.g == "B", "s"] = np.nan
    df.loc[df.index[:3], "y"] = np.nan  # rows without an outcome elsewhere: not a lost group
    spec = AssessmentSpec(target="y", score="s", sensitive=("g",))
    b = df[df.g == "B"]
    n_t = int(b["y"].isna().sum())
    lack = "a score" if n_t == 0 else f"an outcome ({n_t:,}) or a score ({len(b) - n_t:,})"
    assert vanished_groups(df, spec, _kept(df, spec)) == [
        f"g: 'B' has no row left: its {len(b):,} rows lack {lack}."]


def test_only_groups_with_no_row_left_are_named_and_bands_are_named_as_shown():
    df = _frame(1)
    df.loc[df.age >= 60, "y"] = np.nan  # the oldest band loses every row to a missing outcome
    df.loc[df.index[:5], "s"] = np.nan
    spec = AssessmentSpec(target="y", score="s", sensitive=("g", "age"),
                          bins={"age": Binning(edges=(18.0, 40.0, 60.0, 80.0),
                                          labels=("18-39", "40-59", "60-79"))})
    kept = _kept(df, spec)
    said = vanished_groups(df, spec, kept)
    assert len(said) == 1, said
    [band] = [g for g in pd.Series(spec.bins["age"].apply(df["age"])).unique()
              if g not in kept["age"]]
    n = int((df.age >= 60).sum())
    assert said == [f"age: '{band}' has no row left: its {n:,} rows lack an outcome."]


def test_nothing_is_said_when_every_group_keeps_a_row():
    df = _frame(2)
    df.loc[df.index[::7], "s"] = np.nan
    spec = AssessmentSpec(target="y", score="s", sensitive=("g",))
    assert vanished_groups(df, spec, _kept(df, spec)) == []


def test_each_reason_is_named_by_its_count_for_predictions_and_one_hot_groups():
    # 'race' is one-hot (race_A, race_B, race_C); a prediction, not a score, decides.
    # B's one row lacks a prediction; C's three rows lack an outcome (1) or a prediction (2);
    # 'sex' loses no group. Counted here by hand from the rows below.
    df = pd.DataFrame({
        "y": [1, 0, 1, 0, 1, None, 0, 1],
        "p": [1, 0, 0, 1, None, 1, None, None],
        "race_A": [1, 1, 1, 1, 0, 0, 0, 0],
        "race_B": [0, 0, 0, 0, 1, 0, 0, 0],
        "race_C": [0, 0, 0, 0, 0, 1, 1, 1],
        "sex": ["F", "M", "F", "M", "F", "M", "F", "M"],
    })
    spec = AssessmentSpec(target="y", prediction="p", sensitive=("race", "sex"))
    kept = _kept_prediction(df, spec)
    assert kept["race"] == ("A",)
    assert vanished_groups(df, spec, kept) == [
        "race: 'B' has no row left: its row lacks a prediction.",
        "race: 'C' has no row left: its 3 rows lack an outcome (1) or a prediction (2)."]
    # only a missing score: the reason is the score alone, whatever the outcomes
    scored = df.assign(s=[0.1, 0.9, 0.4, 0.6, np.nan, np.nan, np.nan, np.nan],
                       y=[1, 0, 1, 0, 1, 0, 0, 1])
    spec = AssessmentSpec(target="y", score="s", sensitive=("race",))
    assert vanished_groups(scored, spec, {"race": ("A",)}) == [
        "race: 'B' has no row left: its row lacks a score.",
        "race: 'C' has no row left: its 3 rows lack a score."]


def _kept_prediction(df, spec):
    a = faircard.assess(df, target=spec.target, prediction=spec.prediction,
                        sensitive=list(spec.sensitive), n_boot=0, min_group_size=1)
    return {gc.feature: gc.groups for gc in a.counts}
