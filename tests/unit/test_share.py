"""A record's per-cell document rebuilds the assessment without the rows: same figures as the
author's, and the same as scikit-learn on group masks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, log_loss, recall_score, roc_auc_score

import faircard
from faircard.errors import FaircardError
from faircard.governance.share import assessment_from_cells, cells_of, score_histograms
from tests.conftest import make_dataset


@pytest.fixture(scope="module")
def data():
    return make_dataset(11, n=2500)


@pytest.fixture(scope="module")
def original(data):
    return faircard.assess(data, target="y", score="score", sensitive=["sex", "race"],
                           n_boot=100, random_state=7)


@pytest.fixture(scope="module")
def stored(original):
    # through JSON, as the audit store keeps it
    return json.loads(json.dumps(cells_of(original)))


def test_the_document_holds_group_aggregates_only(stored, data):
    assert sum(sum(c) for c in stored["counts"]) == stored["n_input"] - stored["n_dropped"]

    def lists(value):
        if isinstance(value, dict):
            for v in value.values():
                yield from lists(v)
        elif isinstance(value, list):
            yield value
            for v in value:
                yield from lists(v)

    # nothing is as long as a column of the data: one entry per cell, group or bin at most
    longest = max(len(x) for x in lists(stored))
    assert longest == len(stored["counts"]) < len(data) / 50
    assert set(stored) == {"format", "version", "spec", "pos_label", "n_input", "n_dropped",
                           "dropped_reasons", "features", "labels", "cell_codes", "counts",
                           "scores", "cube"}


def test_rebuilt_assessment_equals_the_authors(original, stored):
    rebuilt = assessment_from_cells(stored)
    assert rebuilt.to_dict() == original.to_dict()
    cols = ["feature", "group", "metric", "value", "ci_low", "ci_high", "n", "is_small_group"]
    pd.testing.assert_frame_equal(rebuilt.by_group[cols].reset_index(drop=True),
                                  original.by_group[cols].reset_index(drop=True))


def test_rebuilt_figures_match_scikit_learn_on_group_masks(data, stored):
    rebuilt = assessment_from_cells(stored)
    df = data.dropna(subset=["y", "score", "sex"])
    bg = rebuilt.by_group
    checked = []
    for group in bg[bg["feature"] == "sex"]["group"].unique():
        m = df["sex"].astype(str) == group
        y, s = df.loc[m, "y"].astype(int), df.loc[m, "score"]
        pred = (s >= 0.5).astype(int)
        if y.nunique() < 2:  # rates and AUC are undefined there (checked elsewhere)
            continue
        checked.append(group)

        def value(metric, group=group):
            return bg[(bg["feature"] == "sex") & (bg["group"] == group)
                      & (bg["metric"] == metric)]["value"].iloc[0]

        assert value("true_positive_rate") == pytest.approx(recall_score(y, pred))
        assert value("selection_rate") == pytest.approx(pred.mean())
        assert value("roc_auc") == pytest.approx(roc_auc_score(y, s))
        assert value("brier_score") == pytest.approx(brier_score_loss(y, s))
        assert value("log_loss") == pytest.approx(log_loss(y, s))
    assert len(checked) >= 3


def test_histograms_count_every_scored_person(data, stored):
    hist = score_histograms(stored, "sex")
    df = data.dropna(subset=["y", "score", "sex"])
    assert hist["count"].sum() == len(df)
    for group, rows in hist.groupby("group"):
        expected, _ = np.histogram(df.loc[df["sex"].astype(str) == group, "score"],
                                   bins=stored["scores"]["bin_edges"])
        got = rows.groupby(["bin_low"])["count"].sum().to_numpy()
        assert (got == expected).all(), group


def test_predictions_only_and_bad_documents():
    df = make_dataset(4, n=600)
    a = faircard.assess(df, target="y", prediction="pred", sensitive="sex", n_boot=0)
    doc = json.loads(json.dumps(cells_of(a)))
    assert doc["scores"] is None
    assert assessment_from_cells(doc).to_dict() == a.to_dict()
    assert score_histograms(doc, "sex").empty
    with pytest.raises(FaircardError, match="no per-cell counts"):
        assessment_from_cells(None)
    with pytest.raises(FaircardError, match="version 9"):
        assessment_from_cells({**doc, "version": 9})
    with pytest.raises(FaircardError, match="damaged"):
        assessment_from_cells({**doc, "counts": [[1, 2]]})


def test_a_randomised_policy_keeps_its_expected_counts():
    """Expected counts of a randomised policy are fractions: the read-only view shows them as
    the author saw them (they were cut to whole numbers), and whole-row counts stay whole."""
    from faircard.decision import DecisionPolicy

    df = make_dataset(5, n=900)
    policy = DecisionPolicy.per_group("sex", {g: 0.5 for g in df["sex"].unique()},
                                      mix={sorted(df["sex"].unique())[0]: (0.37, 0.6)})
    a = faircard.assess(df, target="y", score="score", sensitive="sex", policy=policy,
                        n_boot=0)
    doc = json.loads(json.dumps(cells_of(a)))
    assert any(x != round(x) for row in doc["counts"] for x in row)
    rebuilt = assessment_from_cells(doc)
    pd.testing.assert_frame_equal(rebuilt.counts_frame(), a.counts_frame())
    # rates from the same counts; score sums added per cell may differ in the last digit
    pd.testing.assert_frame_equal(rebuilt.by_group_wide(), a.by_group_wide(), rtol=1e-12)
    single = json.loads(json.dumps(cells_of(faircard.assess(df, target="y", score="score",
                                                            sensitive="sex", n_boot=0))))
    with pytest.raises(FaircardError, match="damaged"):
        assessment_from_cells({**single, "counts": [[x + 0.5 for x in row]
                                                    for row in single["counts"]]})
    with pytest.raises(FaircardError, match="damaged"):
        assessment_from_cells({**single, "counts": [[-x for x in row]
                                                    for row in single["counts"]]})
