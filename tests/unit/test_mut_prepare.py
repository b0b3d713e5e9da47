"""faircard.prepare, the boundary where a table and the user's choices become clean arrays:
hand-worked rows in, the arrays, groups, dropped-row counts and sentences a user reads out.
Written to kill mutmut survivors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from faircard.decision import DecisionPolicy
from faircard.errors import FaircardError
from faircard.prepare import (
    MAX_GROUPS_PER_FEATURE,
    GroupIndex,
    Partition,
    build_group_index,
    encode_feature,
    partition_name,
    policy_probabilities,
    prepare,
    resolve_pos_label,
)
from faircard.spec import AssessmentSpec


def _message(fn, *args, **kw) -> str:
    with pytest.raises(FaircardError) as err:
        fn(*args, **kw)
    return str(err.value)


def _spec(**kw):
    kw.setdefault("target", "y")
    kw.setdefault("sensitive", ("sex",))
    if "prediction" not in kw:
        kw.setdefault("score", "s")
    return AssessmentSpec(**kw)


# ------------------------------------------------------------------ the columns

def test_the_table_and_its_columns_are_checked_first():
    df = pd.DataFrame({"y": [1, 0], "s": [0.2, 0.8], "sex": ["F", "M"], "p": [1, 0]})
    assert _message(prepare, df.to_dict(), _spec()) == \
        "The data must be a table (a pandas DataFrame)."
    assert _message(prepare, df.iloc[:0], _spec()) == "The dataset has no rows."
    assert _message(prepare, df, _spec(target="outcome")) == (
        "Target column 'outcome' is not in the dataset. Choose one of: p, s, sex, y.")
    assert _message(prepare, df, _spec(score="risk")) == (
        "Score column 'risk' is not in the dataset. Choose one of: p, s, sex, y.")
    assert _message(prepare, df, _spec(prediction="pred")) == (
        "Prediction column 'pred' is not in the dataset. Choose one of: p, s, sex, y.")
    assert _message(prepare, df, _spec(sensitive=("sex", "race"))) == (
        "Sensitive feature 'race' is not in the dataset. Choose one of: p, s, sex, y.")


def test_rows_without_an_outcome_or_a_decision_are_dropped_and_counted():
    df = pd.DataFrame({"y": [1, None, 0, 1, None, 0],
                       "s": [0.9, 0.1, None, 0.4, None, 0.6],
                       "sex": ["F", "M", "F", None, "M", "F"]})
    p = prepare(df, _spec(threshold=0.5))
    # row 1: no target; row 2: no score; row 4: neither (counted once, as missing target)
    assert p.n_input == 6 and p.n_dropped == 3
    assert p.dropped_reasons == {"missing target": 2, "missing score": 1}
    assert p.y_true.tolist() == [True, True, False]
    assert p.y_true.dtype == bool
    assert p.y_score.tolist() == [0.9, 0.4, 0.6]
    assert p.y_score.dtype == np.float64 and p.y_score.flags["C_CONTIGUOUS"]
    assert p.y_pred.tolist() == [True, False, True] and p.y_pred.dtype == bool
    assert p.p_pred is None
    # the kept rows' groups: F, (missing), F
    assert p.index.labels["sex"] == ("F", "(missing)")
    assert p.index.cell.tolist() == [0, 1, 0]
    assert p.pos_label == 1


def test_predictions_use_the_target_labels_and_missing_ones_are_dropped():
    df = pd.DataFrame({"y": ["yes", "no", "yes", "no"], "p": [" yes", None, "no", "yes "],
                       "sex": ["F", "M", "F", "M"]})
    p = prepare(df, _spec(prediction="p"))
    assert p.dropped_reasons == {"missing prediction": 1} and p.n_dropped == 1
    assert p.pos_label == "yes"
    # labels are compared without surrounding spaces
    assert p.y_true.tolist() == [True, True, False]
    assert p.y_pred.tolist() == [True, False, True]
    assert p.y_score is None and p.p_pred is None
    assert p.y_true.dtype == bool and p.y_pred.dtype == bool
    gap = pd.DataFrame({"y": [None, "no", "yes"], "p": ["yes", "no", None],
                        "sex": ["F", "M", "F"]})
    q = prepare(gap, _spec(prediction="p", pos_label="yes"))
    # row 0 has no target, row 2 no prediction: only row 1 is kept
    assert q.dropped_reasons == {"missing target": 1, "missing prediction": 1}
    assert q.y_true.tolist() == [False] and q.y_pred.tolist() == [False]
    nothing = pd.DataFrame({"y": [None, 1.0], "s": [0.5, None], "sex": ["F", "M"]})
    assert _message(prepare, nothing, _spec()) == (
        "No row has both a target and a prediction/score value; nothing can be assessed.")


def test_a_table_with_nothing_dropped_keeps_every_row_in_order():
    df = pd.DataFrame({"y": [True, False, True], "p": [False, False, True],
                       "sex": ["b", "a", "b"]})
    p = prepare(df, _spec(prediction="p"))
    assert p.n_dropped == 0 and p.dropped_reasons == {} and p.n_input == 3
    assert p.pos_label is True
    assert p.y_true.tolist() == [True, False, True] and p.y_pred.tolist() == [False, False, True]
    assert p.index.labels["sex"] == ("a", "b") and p.index.cell.tolist() == [1, 0, 1]


def test_predicted_labels_the_target_never_takes_are_refused():
    df = pd.DataFrame({"y": [1, 0, 1, 0], "p": [1, 2, 0, 3], "sex": ["F"] * 4})
    assert _message(prepare, df, _spec(prediction="p")) == (
        "Prediction column 'p' has values 2.0, 3.0 that the target 'y' never takes (0.0, 1.0); "
        "predictions must use the target's labels.")
    # eleven distinct numbers look like a score
    scores = pd.DataFrame({"y": [1, 0] * 5 + [1], "p": [i / 10 for i in range(11)],
                           "sex": ["F"] * 11})
    assert _message(prepare, scores, _spec(prediction="p")).endswith(
        "predictions must use the target's labels. It looks like a score; use it as the score "
        "column with a threshold.")
    ten = pd.DataFrame({"y": [1, 0] * 5, "p": [i / 10 for i in range(10)], "sex": ["F"] * 10})
    assert _message(prepare, ten, _spec(prediction="p")).endswith("the target's labels.")
    # at most five of the values the target never takes are named
    many = pd.DataFrame({"y": ["a", "b"] * 4, "p": ["a", "b", "c", "d", "e", "f", "g", "h"],
                         "sex": ["F"] * 8})
    assert "has values 'c', 'd', 'e', 'f', 'g' that the target 'y' never takes" in \
        _message(prepare, many, _spec(prediction="p", pos_label="a"))
    # a target with one value accepts any prediction
    one = pd.DataFrame({"y": [1, 1], "p": [0, 1], "sex": ["F", "M"]})
    assert prepare(one, _spec(prediction="p", pos_label=1)).y_pred.tolist() == [False, True]


# ------------------------------------------------------------------- the scores

def test_scores_are_numbers():
    base = {"y": [1, 0, 1, 0], "sex": ["F"] * 4}
    flags = prepare(pd.DataFrame({**base, "s": [True, False, True, True]}), _spec())
    assert flags.y_score.tolist() == [1.0, 0.0, 1.0, 1.0]
    # numbers written as text are no score: DuckDB and Spark refuse a text column too
    text = pd.DataFrame({**base, "s": ["0.25", "0.75", None, "1"]})
    assert _message(prepare, text, _spec()) == (
        "Score column 's' has numbers written as text such as '0.25', '0.75', '1'; a score "
        "must be a column of numbers. Store them as numbers in the file, or use it as a "
        "prediction column instead.")
    mixed = pd.DataFrame({**base, "s": pd.Series([0.25, "0.75", None, 1], dtype=object)})
    assert "such as '0.75';" in _message(prepare, mixed, _spec())  # an Excel cell as text
    words = pd.DataFrame({**base, "s": ["low", "0.5", "high", "mid"]})
    assert _message(prepare, words, _spec()) == (
        "Score column 's' has text values such as 'low', 'high', 'mid'; a score must be a "
        "number. Choose a numeric column, or use it as a prediction column instead.")
    four = pd.DataFrame({**base, "s": ["a", "b", "c", "d"]})
    assert "such as 'a', 'b', 'c';" in _message(prepare, four, _spec())
    for bad in (np.inf, -np.inf):
        df = pd.DataFrame({**base, "s": [0.1, bad, 0.3, 0.4]})
        assert _message(prepare, df, _spec()) == \
            "Score column 's' contains infinite values; remove them."
    for values, dtype, kept in (([0.5, None, 0.7, 0.1], "Float64", [0.5, 0.7, 0.1]),
                                ([1, None, 0, 1], "Int64", [1.0, 0.0, 1.0]),
                                ([True, None, False, True], "boolean", [1.0, 0.0, 1.0])):
        nullable = prepare(pd.DataFrame({**base, "s": pd.array(values, dtype=dtype)}), _spec())
        assert nullable.y_score.tolist() == kept and nullable.y_score.dtype == np.float64
        assert nullable.dropped_reasons == {"missing score": 1}


DATES = ("Score column 's' has dates or times; a score must be a number. Choose a numeric "
         "column, or use it as a prediction column instead.")


@pytest.mark.parametrize("values", [
    pd.to_datetime(["2024-01-01", "2024-02-01", None, "2024-03-01"]),
    pd.to_timedelta(["1D", "2h", None, "3min"]),
    pd.to_datetime(["2024-01-01 10:00+01:00", None, "2024-01-02 10:00+01:00", None]),
    pd.period_range("2024-01", periods=4, freq="M"),
    # dates as Python objects (an Excel column of dates), a missing one among them
    pd.Series([dt.date(2024, 1, 1), None, dt.date(2024, 1, 3), dt.date(2024, 1, 4)],
              dtype=object),
    pd.Series([dt.time(9, 30), dt.time(10, 0), None, dt.time(11, 0)], dtype=object),
], ids=["datetime", "duration", "instant", "period", "date-objects", "time-objects"])
def test_dates_and_times_are_no_score(values):
    # pandas reads them as counts of nanoseconds, which would pass as scores
    df = pd.DataFrame({"y": [1, 0, 1, 0], "sex": ["F"] * 4, "s": values})
    assert _message(prepare, df, _spec()) == DATES


def test_a_column_of_number_objects_without_text_is_a_score():
    # an object column of numbers (an Excel column with empty cells, as None or NaN) is read
    # as numbers
    df = pd.DataFrame({"y": [1, 0, 1, 0, 1], "sex": ["F"] * 5,
                       "s": pd.Series([0.25, None, 1, np.nan, 0.5], dtype=object)})
    p = prepare(df, _spec())
    assert p.y_score.dtype == np.float64 and p.y_score.tolist() == [0.25, 1.0, 0.5]
    assert p.n_dropped == 2


def test_values_that_are_neither_numbers_nor_text_are_named():
    # a Parquet column of bytes: no text, and no number either
    df = pd.DataFrame({"y": [1, 0, 1, 0, 1], "sex": ["F"] * 5,
                       "s": pd.Series([b"x", 0.5, b"y", b"z", b"w"], dtype=object)})
    shown = ", ".join(repr(str(v)) for v in (b"x", b"y", b"z"))
    assert _message(prepare, df, _spec()) == (
        f"Score column 's' has text values such as {shown}; a score must be a number. Choose "
        "a numeric column, or use it as a prediction column instead.")


def test_labels_the_target_never_takes_are_named_in_numeric_order():
    # 10 before 3 in the rows, 3 before 10 in the sentence (not "10.0, 3.0" as text sorts)
    df = pd.DataFrame({"y": [1, 0, 1, 0], "p": [10, 1, 3, 0], "sex": ["F"] * 4})
    assert _message(prepare, df, _spec(prediction="p")).startswith(
        "Prediction column 'p' has values 3.0, 10.0 that the target 'y' never takes (0.0, 1.0)")
    words = pd.DataFrame({"y": ["yes", "no"] * 2, "p": ["yes", "z", "maybe", "no"],
                          "sex": ["F"] * 4})
    assert _message(prepare, words, _spec(prediction="p", pos_label="yes")).startswith(
        "Prediction column 'p' has values 'maybe', 'z' that the target 'y' never takes "
        "('no', 'yes')")


def test_an_instant_is_named_in_utc_with_its_offset():
    col = pd.Series(pd.to_datetime(["2024-03-01 10:00:00+01:00", "2024-03-01 12:00:00+01:00",
                                    "2024-03-01 10:00:00+01:00"]))
    codes, labels = encode_feature(col, "t")
    assert labels == ("2024-03-01 09:00:00+00:00", "2024-03-01 11:00:00+00:00")
    assert codes.tolist() == [0, 1, 0]


def test_a_single_threshold_decides_at_or_above_it():
    df = pd.DataFrame({"y": [1, 0, 1, 0], "s": [0.49, 0.5, 0.51, 0.2], "sex": ["F"] * 4})
    assert prepare(df, _spec(threshold=0.5)).y_pred.tolist() == [False, True, True, False]


def test_per_group_and_randomised_policies_decide_by_each_row_group():
    df = pd.DataFrame({"y": [1, 0, 1, 0], "s": [0.4, 0.4, 0.6, 0.6],
                       "sex": ["F", "M", "F", "M"], "race": ["a", "a", "b", "b"]})
    rule = DecisionPolicy.per_group("sex", {"F": 0.3, "M": 0.5})
    p = prepare(df, _spec(sensitive=("sex", "race"), policy=rule))
    assert p.y_pred.tolist() == [True, False, True, True] and p.p_pred is None
    mixed = DecisionPolicy.per_group("sex", {"F": 0.3, "M": 0.5}, mix={"M": (0.25, 0.3)})
    q = prepare(df, _spec(sensitive=("sex", "race"), policy=mixed))
    # M at 0.4: 0.5 with probability 0.25 (not selected), else 0.3 (selected): 0.75
    assert q.p_pred.tolist() == [1.0, 0.75, 1.0, 1.0]
    assert q.y_pred.tolist() == [True, True, True, True]
    half = DecisionPolicy.per_group("sex", {"F": 0.3, "M": 0.5}, mix={"M": (0.5, 0.3)})
    # a probability of exactly one half is a positive decision
    assert prepare(df, _spec(sensitive=("sex", "race"), policy=half)).y_pred.tolist() == \
        [True, True, True, True]
    below = DecisionPolicy.per_group("sex", {"F": 0.3, "M": 0.5}, mix={"M": (0.51, 0.3)})
    assert prepare(df, _spec(sensitive=("sex", "race"), policy=below)).y_pred.tolist() == \
        [True, False, True, True]
    # thresholds per intersection group, even when the intersection is not assessed
    idx = build_group_index(df, _spec(sensitive=("sex", "race")))
    cross = DecisionPolicy.per_group("sex & race", {"F & a": 0.5, "M & a": 0.3, "F & b": 0.7,
                                                    "M & b": 0.5})
    got = policy_probabilities(cross, df["s"].to_numpy(), idx, intersection=False)
    assert got.tolist() == [0.0, 1.0, 0.0, 1.0]
    other = DecisionPolicy.per_group("age", {"young": 0.5})
    assert _message(policy_probabilities, other, df["s"].to_numpy(), idx) == (
        "The decision policy sets thresholds per group of 'age', which is not one of the "
        "sensitive features.")
    by_race = DecisionPolicy.per_group("race", {"a": 0.5, "b": 0.5})
    assert policy_probabilities(by_race, df["s"].to_numpy(), idx,
                                intersection=False).tolist() == [0.0, 0.0, 1.0, 1.0]


def test_policy_probabilities_of_a_single_threshold():
    idx = GroupIndex(("sex",), {"sex": ("F",)}, np.zeros(3, np.int64), np.zeros((1, 1), np.int64))
    got = policy_probabilities(DecisionPolicy.single(0.5), np.array([0.2, 0.5, 0.9]), idx)
    assert got.tolist() == [0.0, 1.0, 1.0]


# ------------------------------------------------------------------ the positive label

@pytest.mark.parametrize("values,positive", [
    ([0, 1, 1], 1), ([1.0, 0.0], 1.0), ([True, False], True), (["no", "yes"], "yes"),
    (["N", "Y"], "Y"), (["f", "t"], "t"), (["negative", "positive"], "positive"),
    (["neg", "pos"], "pos"), (["0", "1"], "1"), (["false", "true"], "true"),
    ([" No", "YES "], "YES "), (["<=50K", ">50K"], ">50K"), ([">50K", "<=50K"], ">50K"),
    (["<50K", ">50K"], ">50K"), ([-1, 1], 1), ([1.0, -1.0], 1.0), (["-1", "1"], "1"),
])
def test_the_positive_label_is_found_for_common_pairs(values, positive):
    got = resolve_pos_label(pd.Series(values), "y")
    assert got == positive and type(got) is type(positive)


@pytest.mark.parametrize("values", [["a", "b"], [">=50K", "<50K"], [">5", ">6"],
                                    ["yes", "true"], ["<1", "<2"], [2, 3], ["yes", "maybe"],
                                    ["maybe", "no"]])
def test_an_unclear_positive_label_must_be_chosen(values):
    shown = " and ".join(repr(v) for v in values)
    assert _message(resolve_pos_label, pd.Series(values), "y") == (
        f"faircard cannot tell which value of 'y' is the positive outcome (found {shown}). "
        "Choose the positive label (CLI: --pos-label).")


def test_a_target_with_more_values_is_named_when_prepared():
    df = pd.DataFrame({"outcome": ["a", "b", "c"], "s": [0.1, 0.2, 0.3], "sex": ["F"] * 3})
    assert _message(prepare, df, _spec(target="outcome")).startswith(
        "Target column 'outcome' has 3 different values;")


def test_a_target_needs_two_values():
    assert _message(resolve_pos_label, pd.Series(["a", "b", "c", "a", None, "d"]), "y") == (
        "Target column 'y' has 4 different values; faircard assesses yes/no decisions and "
        "needs a target with two values. Choose another column or recode it.")
    # one value: a positive word is the positive label, a negative one needs the user
    assert resolve_pos_label(pd.Series(["yes", "yes"]), "y") == "yes"
    assert resolve_pos_label(pd.Series([1, 1]), "y") == 1
    assert _message(resolve_pos_label, pd.Series([0, 0]), "y") == (
        "Target column 'y' only has the value 0; give the positive label explicitly "
        "(e.g. --pos-label 1).")
    assert "cannot tell which value of 'y'" in _message(resolve_pos_label,
                                                        pd.Series(["maybe"]), "y")


def test_a_positive_label_given_explicitly_must_occur():
    target = pd.Series([0, 1, 0])
    got = resolve_pos_label(target, "y", "1")  # compared as a number
    assert got == 1 and type(got) is int
    assert resolve_pos_label(target, "y", 0) == 0
    assert resolve_pos_label(pd.Series(["a", "b"]), "y", " b ") == "b"
    assert _message(resolve_pos_label, target, "y", 2) == (
        "The positive label 2 does not occur in target column 'y' (values: 0, 1). "
        "Choose one of those.")
    assert _message(resolve_pos_label, pd.Series(["a", "b"]), "y", "c") == (
        "The positive label 'c' does not occur in target column 'y' (values: 'a', 'b'). "
        "Choose one of those.")
    # nobody has the positive outcome in this sample: still assessable
    assert resolve_pos_label(pd.Series([0, 0]), "y", 1) == 1
    assert resolve_pos_label(pd.Series(["no"]), "y", "yes") == "yes"
    df = pd.DataFrame({"y": [0, 0, 0], "s": [0.1, 0.6, 0.9], "sex": ["F", "M", "F"]})
    p = prepare(df, _spec(pos_label=1))
    assert p.y_true.tolist() == [False, False, False] and p.pos_label == 1
    words = pd.DataFrame({"y": ["bad", "good", "good"], "s": [0.1, 0.6, 0.9],
                          "sex": ["F", "M", "F"]})
    assert prepare(words, _spec(pos_label="good")).y_true.tolist() == [False, True, True]


# ------------------------------------------------------------------ groups

def test_encoding_sorts_values_naturally_and_puts_missing_last():
    codes, labels = encode_feature(pd.Series([10, 2, None, 2, 1.0]), "age")
    assert labels == ("1", "2", "10", "(missing)")
    assert codes.tolist() == [2, 1, 3, 1, 0] and codes.dtype == np.int64
    codes, labels = encode_feature(pd.Series(["b", "a", "b"]), "sex")
    assert labels == ("a", "b") and codes.tolist() == [1, 0, 1]
    codes, labels = encode_feature(pd.Series([1.5, 0.25]), "x")
    assert labels == ("0.25", "1.5") and codes.tolist() == [1, 0]
    # values that cannot be compared sort by their text
    codes, labels = encode_feature(pd.Series([3, "b", "a", 20], dtype=object), "x")
    assert labels == ("20", "3", "a", "b") and codes.tolist() == [1, 3, 2, 0]
    # a value that prints like another keeps its type
    codes, labels = encode_feature(pd.Series([1, "1", 1], dtype=object), "x")
    assert labels == ("1 (int)", "1 (str)") and codes.tolist() == [0, 1, 0]
    # a real group called "(missing)" keeps its name; the missing values get another
    codes, labels = encode_feature(pd.Series(["(missing)", None, "a"]), "x")
    assert labels == ("(missing)", "a", "(missing) ") and codes.tolist() == [0, 2, 1]
    codes, labels = encode_feature(pd.Series([np.int64(4), np.int64(3)]), "x")
    assert labels == ("3", "4")
    codes, labels = encode_feature(pd.Series([None, None], dtype=object), "x")
    assert labels == ("(missing)",) and codes.tolist() == [0, 0]


def test_categories_keep_their_order_and_unused_ones_are_dropped():
    col = pd.Series(pd.Categorical(["low", None, "high", "low"],
                                   categories=["low", "mid", "high"], ordered=True))
    codes, labels = encode_feature(col, "band")
    assert labels == ("low", "high", "(missing)") and codes.tolist() == [0, 2, 1, 0]
    assert codes.dtype == np.int64
    empty = pd.Series(pd.Categorical([None, None], categories=["a"]))
    codes, labels = encode_feature(empty, "band")
    assert labels == ("(missing)",) and codes.tolist() == [0, 0]
    numbers = pd.Series(pd.Categorical([2, 1, 2]))
    codes, labels = encode_feature(numbers, "n")
    assert labels == ("1", "2") and codes.tolist() == [1, 0, 1]
    first = pd.Series(pd.Categorical(["c", "a"], categories=["a", "b", "c"]))
    codes, labels = encode_feature(first, "band")
    assert labels == ("a", "c") and codes.tolist() == [1, 0]


def test_too_many_groups_are_refused_at_the_limit_plus_one():
    ok = pd.Series(np.arange(MAX_GROUPS_PER_FEATURE))
    assert len(encode_feature(ok, "id")[1]) == MAX_GROUPS_PER_FEATURE
    over = pd.Series(np.arange(MAX_GROUPS_PER_FEATURE + 1))
    assert _message(encode_feature, over, "id") == (
        "Sensitive feature 'id' has 1,001 different values; that is too many groups to compare "
        "(limit 1000). Bin it into bands or choose a categorical column.")
    assert _message(encode_feature, pd.Series([], dtype=float), "x") == (
        "Sensitive feature 'x' has no values in the rows assessed.")


def _index(df, *features):
    return build_group_index(df, _spec(sensitive=features))


def test_intersection_cells_are_the_non_empty_combinations():
    df = pd.DataFrame({"y": [1] * 5, "s": [0.5] * 5, "sex": ["M", "F", "M", "F", "M"],
                       "race": ["b", "a", "a", "a", "b"]})
    idx = _index(df, "sex", "race")
    assert idx.features == ("sex", "race")
    assert idx.labels == {"sex": ("F", "M"), "race": ("a", "b")}
    # cells in code order: (F, a), (M, a), (M, b); (F, b) is empty
    assert idx.cell_codes.tolist() == [[0, 0], [1, 0], [1, 1]]
    assert idx.cell.tolist() == [2, 0, 1, 0, 2] and idx.cell.dtype == np.int64
    assert idx.n_cells == 3
    sex, race, both = idx.partitions()
    assert (sex.features, sex.groups, sex.cell_to_group.tolist()) == (("sex",), ("F", "M"),
                                                                      [0, 1, 1])
    assert (race.name, race.cell_to_group.tolist()) == ("race", [0, 0, 1])
    assert both.features == ("sex", "race") and both.name == "sex & race"
    assert both.groups == ("F & a", "M & a", "M & b")
    assert both.cell_to_group.tolist() == [0, 1, 2] and both.cell_to_group.dtype == np.int64
    assert sex.cell_to_group.dtype == np.int64 and race.cell_to_group.dtype == np.int64
    assert [p.name for p in idx.partitions(intersection=False)] == ["sex", "race"]
    assert [p.name for p in _index(df, "sex").partitions()] == ["sex"]
    kept = idx.take(np.array([True, False, False, True, True]))
    assert kept.cell.tolist() == [2, 0, 2] and kept.cell_codes is idx.cell_codes
    assert kept.labels == idx.labels and kept.features == idx.features


def test_many_possible_cells_give_the_same_index_as_few():
    # 3 features of 20 values over 30 rows: 8,000 possible cells, more than 4 per row
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": [1] * 30, "s": [0.5] * 30,
                       **{f: rng.integers(0, 20, 30) for f in ("a", "b", "c")}})
    idx = _index(df, "a", "b", "c")
    # an independent count: the distinct (a, b, c) triples in sorted order of the codes
    codes = np.stack([[idx.labels[f].index(str(v)) for v in df[f]] for f in ("a", "b", "c")],
                     axis=1)
    triples = sorted({tuple(r) for r in codes.tolist()})
    assert idx.cell_codes.tolist() == [list(t) for t in triples]
    assert [triples[c] for c in idx.cell] == [tuple(r) for r in codes.tolist()]
    # the dense path (few possible cells) numbers cells the same way
    small = _index(df.assign(b=df["b"] % 2, c=0), "a", "b", "c")
    codes = np.stack([[small.labels[f].index(str(v)) for v in df.assign(b=df["b"] % 2, c=0)[f]]
                      for f in ("a", "b", "c")], axis=1)
    triples = sorted({tuple(r) for r in codes.tolist()})
    assert small.cell_codes.tolist() == [list(t) for t in triples]
    assert [triples[c] for c in small.cell] == [tuple(r) for r in codes.tolist()]


@pytest.mark.parametrize("n_features,n_values", [(7, 1000), (8, 256)])
def test_a_product_of_sizes_beyond_64_bits_is_not_wrapped_around(n_features, n_values):
    # 1000 ** 7 possible cells do not fit in 64 bits (each row's cells were then decoded into
    # the wrong groups); 256 ** 8 = 2 ** 64 is 0 in 64-bit integers. Only the rows' own cells
    # exist, and each row keeps its own codes.
    rng = np.random.default_rng(1)
    cols = {f"f{k}": rng.permutation(n_values) for k in range(n_features)}
    df = pd.DataFrame({"y": [1] * n_values, "s": [0.5] * n_values, **cols})
    idx = _index(df, *cols)
    assert idx.n_cells == n_values and sorted(idx.cell.tolist()) == list(range(n_values))
    assert idx.cell.dtype == np.int64 and idx.cell_codes.dtype == np.int64
    assert idx.features == tuple(cols)
    assert idx.labels == {f: tuple(str(v) for v in range(n_values)) for f in cols}
    # each feature's labels are its values in order, so a value's code is the value itself
    assert idx.cell_codes[idx.cell].tolist() == np.stack(list(cols.values()), axis=1).tolist()
    # cells are numbered in the order of their codes, the first feature slowest
    assert idx.cell_codes.tolist() == sorted(idx.cell_codes.tolist())


def test_a_sensitive_feature_with_too_many_values_is_named():
    df = pd.DataFrame({"y": [1] * 1001, "s": [0.5] * 1001, "zip": np.arange(1001)})
    assert _message(_index, df, "zip").startswith("Sensitive feature 'zip' has 1,001 different")


def test_binned_and_one_hot_features_become_groups():
    from faircard.spec import Binning

    df = pd.DataFrame({"y": [1, 0, 1], "s": [0.2, 0.5, 0.9], "age": [19, 40, 70],
                       "race_a": [1, 0, 0], "race_b": [0, 1, 1]})
    spec = AssessmentSpec(target="y", score="s", sensitive=("age", "race"),
                          bins={"age": Binning((0, 30, 60, 120), ("young", "middle", "old"))})
    idx = build_group_index(df, spec)
    assert idx.labels["age"] == ("young", "middle", "old")
    assert idx.labels["race"] == ("a", "b")
    assert idx.cell_codes.tolist() == [[0, 0], [1, 1], [2, 1]]
    p = prepare(df, spec)
    assert p.index.labels["race"] == ("a", "b") and p.index.cell.tolist() == [0, 1, 2]
    nested = pd.DataFrame({"y": [1, 0], "s": [0.1, 0.2], "sex": [["F"], ["M"]]})
    assert _message(build_group_index, nested, _spec()) == (
        "Sensitive feature 'sex' holds lists or records, not one value per person; choose a "
        "column such as sex, race or an age band.")


def test_names_of_partitions():
    assert partition_name(("sex",)) == "sex"
    assert partition_name(["race", "sex"]) == "race & sex"
    p = Partition(("race", "sex"), ("a & F",), np.zeros(1, np.int64))
    assert p.name == "race & sex"
