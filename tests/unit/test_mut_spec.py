"""faircard.spec.Binning (named bands of a numeric sensitive feature) against pandas.cut: each
value's band, the groups of values outside every band ("under X", "over Y") and of text that is
not a number, the sentences and the checks of a binning, and its JSON form. Written to kill
mutmut survivors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faircard.errors import FaircardError
from faircard.spec import Binning


def _oracle(values, edges, labels):
    """Band names by pandas.cut over [edges[i], edges[i + 1]) (the top edge in the last band),
    values outside every band named "under <first edge>" / "over <last edge>", NaN missing."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    cut = pd.cut(v, bins=list(edges), right=False, labels=list(labels)).astype(object)
    out = np.asarray(cut, dtype=object)
    out[v == edges[-1]] = labels[-1]
    out[v < edges[0]] = f"under {edges[0]:g}"
    out[v > edges[-1]] = f"over {edges[-1]:g}"
    out[np.isnan(v)] = np.nan
    return out


CASES = {
    "closed bands": ((18, 30, 50, 65), ("18-29", "30-49", "50-65"),
                     [17.999, 18, 18.5, 29.999, 30, 49, 50, 64.9, 65, 65.001, 90, -3, np.nan]),
    "open at the top": ((0, 1.5, 2.5, np.inf), ("1", "2", "3+"),
                        [-0.5, 0, 1, 1.5, 2, 2.5, 3, 1e9, np.inf, np.nan]),
    "open at both ends": ((-np.inf, 0, np.inf), ("negative", "zero or more"),
                          [-np.inf, -1e300, -0.0, 0, 1e-300, np.inf, np.nan]),
    "one band": ((2.5, 7.25), ("mid",), [2.4, 2.5, 7.25, 7.26, 5]),
}


@pytest.mark.parametrize("case", CASES)
def test_bands_are_those_of_pandas_cut_and_outside_values_form_their_own_groups(case):
    edges, labels, values = CASES[case]
    b = Binning(edges, labels)
    got = b.apply(pd.Series(values))
    want = _oracle(values, b.edges, b.labels)
    assert [None if pd.isna(x) else x for x in got] == \
        [None if pd.isna(x) else x for x in want]
    # categories: below, the bands in order, above
    assert list(got.categories) == [*b.outside_labels[:1], *labels, b.outside_labels[1]]


def test_bands_of_integer_nullable_and_text_number_columns():
    b = Binning((18, 30, 50), ("young", "older"))
    for values in (pd.Series([10, 18, 30, 50, 51], dtype="int64"),
                   pd.Series([10, 18, None, 50, 51], dtype="Int64"),
                   pd.Series(["10", "18", "30", "50", "51"], dtype=object)):
        got = b.apply(values)
        want = _oracle(values, b.edges, b.labels)
        assert [None if pd.isna(x) else x for x in got] == \
            [None if pd.isna(x) else x for x in want]
    assert list(b.apply(pd.Series([], dtype=float))) == []


def test_names_of_the_outside_groups():
    b = Binning((18, 65.5), ("adult",))
    assert b.outside_labels == ("under 18", "over 65.5")
    # a band already called so: the outside group's name says what it is
    c = Binning((0, 18, 65, 120), ("under 18", "18-64", "over 65"))
    assert c.outside_labels == ("under 0", "over 120")
    d = Binning((18, 65, 120), ("under 18", "over 120"))
    assert d.outside_labels == ("under 18 (outside the bands)", "over 120 (outside the bands)")
    assert list(d.apply(pd.Series([10, 20, 70, 130]))) == \
        ["under 18 (outside the bands)", "under 18", "over 120", "over 120 (outside the bands)"]
    assert Binning((1e6, 2e6), ("m",)).outside_labels == ("under 1e+06", "over 2e+06")


def test_sentence_on_values_outside_the_bands():
    text = ("a value that is not a number (such as 'unknown') forms a group of its own, named "
            "as written; only empty values are '(missing)'.")
    assert Binning((18, 30, 65), ("young", "older")).describe_outside() == (
        "Known values are never counted as missing: values under 18 form the group 'under 18'; "
        "values over 65 form the group 'over 65'; " + text)
    assert Binning((0, 1.5, np.inf), ("a", "b")).describe_outside() == (
        "Known values are never counted as missing: values under 0 form the group 'under 0'; "
        + text)
    assert Binning((-np.inf, 2.5), ("low",)).describe_outside() == (
        "Known values are never counted as missing: values over 2.5 form the group 'over 2.5'; "
        + text)
    assert Binning((-np.inf, 0, np.inf), ("a", "b")).describe_outside() == \
        "Known values are never counted as missing: " + text


def test_text_that_is_not_a_number_is_a_group_named_as_written():
    b = Binning((18, 40, 65), ("adult", "senior"))
    values = pd.Series(["unknown", " ", "", "12", None, "n/a", "under 18", "senior", "70",
                        "unknown", 40], index=range(5, 16), dtype=object)
    got = b.apply(values)
    assert [None if pd.isna(x) else x for x in got] == [
        "unknown", None, None, "under 18", None, "n/a", "under 18 (as written)",
        "senior (as written)", "over 65", "unknown", "senior"]
    assert list(got.categories) == ["under 18", "adult", "senior", "over 65", "n/a",
                                    "senior (as written)", "under 18 (as written)", "unknown"]
    assert b.text_label("over 65") == "over 65 (as written)"
    assert b.text_label("unknown") == "unknown"
    # numbers only: no text group
    assert list(b.apply(pd.Series([20.0, np.nan])).categories) == \
        ["under 18", "adult", "senior", "over 65"]


@pytest.mark.parametrize("edges, labels, words", [
    ((18,), (), "A binning needs at least two edges (one band)."),
    ((), (), "A binning needs at least two edges (one band)."),
    ((18, 18, 30), ("a", "b"), "Bin edges must increase strictly; got 18, 18, 30."),
    ((30, 18.5), ("a",), "Bin edges must increase strictly; got 30, 18.5."),
    ((0, 10, 5, 20), ("a", "b", "c"), "Bin edges must increase strictly; got 0, 10, 5, 20."),
    ((0, 10, 20), ("a",), "There are 2 bands but 1 names; give one name per band."),
    ((0, 10), ("a", "b"), "There are 1 bands but 2 names; give one name per band."),
    ((0, 10, 20), ("a", "a"), "Band names must be different from each other."),
])
def test_a_binning_is_checked_with_a_sentence(edges, labels, words):
    with pytest.raises(FaircardError) as e:
        Binning(edges, labels)
    assert str(e.value) == words


def test_edges_are_floats_and_names_text():
    b = Binning((0, 10, np.inf), (1, 2))
    assert b.edges == (0.0, 10.0, np.inf) and all(type(e) is float for e in b.edges)
    assert b.labels == ("1", "2") and all(type(x) is str for x in b.labels)
    assert list(b.apply(pd.Series([5, 50]))) == ["1", "2"]


def test_a_binning_round_trips_through_json_with_infinite_edges():
    b = Binning((-np.inf, 0, 2.5, np.inf), ("neg", "low", "high"))
    d = b.to_dict()
    assert d == {"edges": ["-inf", 0.0, 2.5, "inf"], "labels": ["neg", "low", "high"]}
    assert all(type(e) is float for e in d["edges"][1:3])
    back = Binning.from_dict(json.loads(json.dumps(d)))
    assert back == b
    assert Binning.from_dict(Binning((1, 2), ("x",)).to_dict()) == Binning((1.0, 2.0), ("x",))
