"""Hand-worked values for faircard.metrics, written to kill mutmut survivors.

Every expected figure below is worked out by hand from the confusion counts (tn, fp, fn, tp)
as a fraction, not copied from the implementation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from faircard import metrics as m

# tn=50, fp=10, fn=5, tp=35: 100 rows, 40 actual positives, 60 actual negatives, 45 selected.
WORKED = np.array([50, 10, 5, 35])
EXPECTED = {
    "count": 100.0,
    "selection_rate": 45 / 100,
    "accuracy": 85 / 100,
    "balanced_accuracy": (35 / 40 + 50 / 60) / 2,
    "precision": 35 / 45,
    "true_positive_rate": 35 / 40,
    "false_positive_rate": 10 / 60,
    "true_negative_rate": 50 / 60,
    "false_negative_rate": 5 / 40,
    "negative_predictive_value": 50 / 55,
    "false_discovery_rate": 10 / 45,
    "false_omission_rate": 5 / 55,
    "f1": 70 / 85,
    "prevalence": 40 / 100,
}


def test_every_count_metric_equals_the_hand_worked_fraction():
    out = m.metrics_from_counts(WORKED)
    assert set(out) == set(m.COUNT_METRICS)
    for name, want in EXPECTED.items():
        assert float(out[name]) == pytest.approx(want, rel=1e-12), name
        assert float(m.metric_from_counts(name, WORKED)) == pytest.approx(want, rel=1e-12)


def test_integer_counts_give_float_results_that_do_not_truncate():
    out = m.metrics_from_counts(np.array([1, 1, 1, 1], dtype=np.int64))
    assert out["count"].dtype == np.float64
    assert float(out["accuracy"]) == 0.5
    assert float(out["balanced_accuracy"]) == 0.5


def test_leading_axes_are_kept_and_each_cell_is_its_own_group():
    cube = np.array([[[50, 10, 5, 35], [0, 0, 3, 1]],
                     [[2, 2, 0, 0], [0, 0, 0, 0]]])
    out = m.metrics_from_counts(cube)
    assert out["true_positive_rate"].shape == (2, 2)
    assert out["true_positive_rate"][0, 0] == pytest.approx(35 / 40)
    assert out["true_positive_rate"][0, 1] == pytest.approx(1 / 4)
    assert out["false_positive_rate"][1, 0] == pytest.approx(2 / 4)
    assert np.isnan(out["true_positive_rate"][1, 0])
    assert out["count"][1, 1] == 0.0
    for name in m.COUNT_METRICS:
        if name != "count":
            assert np.isnan(out[name][1, 1]), name


def test_a_group_without_positives_has_nan_not_zero_for_positive_side_rates():
    out = m.metrics_from_counts(np.array([5, 0, 0, 0]))
    for name in ("true_positive_rate", "false_negative_rate", "precision",
                 "false_discovery_rate", "f1", "balanced_accuracy"):
        assert np.isnan(out[name]), name
    assert float(out["true_negative_rate"]) == 1.0
    assert float(out["false_positive_rate"]) == 0.0
    assert float(out["negative_predictive_value"]) == 1.0
    assert float(out["false_omission_rate"]) == 0.0
    assert float(out["selection_rate"]) == 0.0
    assert float(out["accuracy"]) == 1.0
    assert float(out["prevalence"]) == 0.0


def test_f1_is_zero_not_nan_when_positives_exist_but_none_is_found():
    out = m.metrics_from_counts(np.array([4, 0, 3, 0]))
    assert float(out["f1"]) == 0.0
    assert float(out["true_positive_rate"]) == 0.0
    assert np.isnan(out["precision"])


def test_division_by_zero_is_nan_even_with_a_nonzero_numerator():
    out = m._div(np.array([3.0, 0.0, 1.0]), np.array([0.0, 0.0, 4.0]))
    assert np.isnan(out[0]) and np.isnan(out[1])
    assert out[2] == 0.25


def test_unknown_or_score_metric_is_refused_by_name():
    for name in ("roc_auc", "no_such_metric"):
        with pytest.raises(KeyError) as err:
            m.metric_from_counts(name, WORKED)
        assert err.value.args == (name,)


def test_between_groups_difference_and_ratio_skip_nan():
    diff, ratio = m.between_groups(np.array([0.2, np.nan, 0.5]))
    assert diff == pytest.approx(0.3)
    assert ratio == pytest.approx(0.4)
    assert type(diff) is float and type(ratio) is float


def test_between_groups_edges():
    assert all(math.isnan(x) for x in m.between_groups(np.array([np.nan, np.nan])))
    assert all(math.isnan(x) for x in m.between_groups(np.array([])))
    diff, ratio = m.between_groups(np.array([0.0, 0.5]))
    assert (diff, ratio) == (0.5, 0.0)
    diff, ratio = m.between_groups(np.array([0.0, 0.0]))
    assert diff == 0.0 and math.isnan(ratio)
    # one value alone is compared with nothing: no gap of 0, no ratio of 1 (fairlearn's)
    assert all(math.isnan(x) for x in m.between_groups(np.array([0.25])))
    assert all(math.isnan(x) for x in m.between_groups(np.array([np.nan, 0.25, np.nan])))


def test_to_overall_folds_ratios_above_one():
    diff, ratio = m.to_overall(np.array([0.2, 0.5, np.nan]), 0.4)
    assert diff == pytest.approx(0.2)   # |0.2 - 0.4|
    assert ratio == pytest.approx(0.5)  # 0.2/0.4 = 0.5; 0.5/0.4 = 1.25 folded to 0.8
    diff, ratio = m.to_overall(np.array([0.5]), 0.4)
    assert diff == pytest.approx(0.1)
    assert ratio == pytest.approx(0.8)
    assert type(diff) is float and type(ratio) is float


def test_to_overall_edges():
    assert all(math.isnan(x) for x in m.to_overall(np.array([np.nan]), 0.4))
    # overall 0: a positive group is infinitely far, folded to ratio 0; a zero group is 0/0.
    diff, ratio = m.to_overall(np.array([0.2, 0.0]), 0.0)
    assert diff == pytest.approx(0.2)
    assert ratio == 0.0
    diff, ratio = m.to_overall(np.array([0.0]), 0.0)
    assert diff == 0.0 and math.isnan(ratio)


VALUES = np.array([0.3, np.nan, 0.1, 0.5])  # lowest at 2, highest at 3


@pytest.mark.parametrize("metric,favorable,want", [
    ("accuracy", "positive", (2, 3)),
    ("true_positive_rate", "negative", (2, 3)),
    ("false_positive_rate", "positive", (3, 2)),
    ("log_loss", "positive", (3, 2)),
    ("selection_rate", "positive", (2, 3)),
    ("selection_rate", "negative", (3, 2)),
    ("prevalence", "negative", (2, 3)),
    ("count", "positive", (2, 3)),
    ("not_a_metric", "positive", (2, 3)),
])
def test_worst_and_best_follow_the_direction(metric, favorable, want):
    got = m.worst_and_best(VALUES, metric, favorable)
    assert got == want
    assert all(type(i) is int for i in got)


def test_worst_and_best_default_is_favourable_positive_and_nan_only_gives_none():
    assert m.worst_and_best(VALUES, "selection_rate") == (2, 3)
    assert m.worst_and_best(np.array([np.nan, np.nan]), "accuracy") == (None, None)


def test_plain_lists_with_none_are_read_as_missing_values():
    # None (a missing value from JSON or an object column) is NaN, and skipped like NaN
    diff, ratio = m.between_groups([0.2, None, 0.5])
    assert diff == pytest.approx(0.3) and ratio == pytest.approx(0.4)
    diff, ratio = m.to_overall([0.2, None, 0.5], 0.4)
    assert diff == pytest.approx(0.2) and ratio == pytest.approx(0.5)
    assert m.worst_and_best([0.3, None, 0.1], "accuracy") == (2, 0)


def test_between_groups_of_values_below_zero_divides_without_a_warning():
    # the filterwarnings setting turns a RuntimeWarning into a failure
    diff, ratio = m.between_groups(np.array([-0.5, 0.0]))
    assert diff == 0.5
    assert ratio == -np.inf
