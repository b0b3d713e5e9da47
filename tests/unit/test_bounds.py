"""Every bound tested on both sides: the minimum group size, the denominators behind a rate that
is called unreliable, the four-fifths rule at exactly 0.8 and gate limits at exactly the limit.

Datasets are built cell by cell so the counts at each bound are exact."""

from __future__ import annotations

import pandas as pd
import pytest

import faircard
from faircard.governance.gate import GateRules, evaluate_gate
from faircard.uncertainty import MIN_DENOMINATOR

MIN = 30


def _rows(group: str, tn: int = 0, fp: int = 0, fn: int = 0, tp: int = 0) -> pd.DataFrame:
    """Rows of one group with exactly these confusion counts (y = outcome, p = decision)."""
    y = [0] * tn + [0] * fp + [1] * fn + [1] * tp
    p = [0] * tn + [1] * fp + [0] * fn + [1] * tp
    return pd.DataFrame({"g": group, "y": y, "p": p})


def _assess(*parts: pd.DataFrame, **kw) -> faircard.Assessment:
    kw.setdefault("n_boot", 0)
    return faircard.assess(pd.concat(parts, ignore_index=True), target="y", prediction="p",
                           sensitive="g", **kw)


def _flags(a, metric: str) -> dict[str, tuple[bool, str]]:
    rows = a.by_group[a.by_group["metric"] == metric]
    return {g: (bool(u), str(r)) for g, u, r in
            zip(rows["group"], rows["is_unreliable"], rows["reliability"], strict=True)}


# -- minimum group size: n == min is not small, n == min - 1 is --------------------------------

def test_min_group_size_on_both_sides():
    a = _assess(_rows("at_min", tn=10, fp=5, fn=5, tp=MIN - 20),
                _rows("below_min", tn=10, fp=5, fn=5, tp=MIN - 21),
                _rows("large", tn=60, fp=20, fn=20, tp=100), min_group_size=MIN)
    small = a.by_group.groupby("group")["is_small_group"].first()
    n = a.by_group.groupby("group")["n"].first()
    assert (n["at_min"], n["below_min"]) == (MIN, MIN - 1)
    assert not small["at_min"] and small["below_min"] and not small["large"]
    flags = _flags(a, "selection_rate")
    assert flags["at_min"] == (False, "")
    assert flags["below_min"] == (True, f"only {MIN - 1} people (fewer than {MIN})")
    # the small group is left out of every comparison; the one at the minimum is in
    for _, row in a.disparities.iterrows():
        assert "below_min" not in (row["worst_group"], row["best_group"])
    sr = a.disparities.set_index("metric").loc["selection_rate"]
    # selection rates: at_min 15/30 = 0.5, large 120/200 = 0.6, below_min 14/29 (left out)
    assert sr["worst_group"] == "at_min" and sr["best_group"] == "large"
    assert sr["difference"] == pytest.approx(0.1, abs=1e-12)


def test_min_group_size_is_the_users_choice_on_both_sides():
    parts = [_rows("a", tn=20, fp=10, fn=10, tp=10), _rows("b", tn=30, fp=10, fn=5, tp=5)]
    assert not _assess(*parts, min_group_size=50).by_group["is_small_group"].any()
    assert _assess(*parts, min_group_size=51).by_group["is_small_group"].all()


# -- unreliable-rate denominators: MIN_DENOMINATOR is reliable, one fewer is not --------------

@pytest.mark.parametrize("metric, words, cells", [
    ("true_positive_rate", "actual positives", lambda k: dict(tn=100, tp=k)),
    ("precision", "predicted positives", lambda k: dict(tn=100, tp=k)),
    ("false_positive_rate", "actual negatives", lambda k: dict(tn=k, tp=100)),
    ("negative_predictive_value", "predicted negatives", lambda k: dict(tn=k, tp=100)),
])
def test_unreliable_rate_denominator_on_both_sides(metric, words, cells):
    k = MIN_DENOMINATOR
    a = _assess(_rows("at", **cells(k)), _rows("below", **cells(k - 1)))
    flags = _flags(a, metric)
    assert flags["at"] == (False, "")
    assert flags["below"] == (True, f"only {k - 1} {words} behind this rate")
    # the same groups' rates over all people are reliable: the groups are large
    assert _flags(a, "selection_rate") == {"at": (False, ""), "below": (False, "")}


def test_the_reliability_bound_is_ten():
    assert MIN_DENOMINATOR == 10


# -- the four-fifths rule at exactly 0.8 -------------------------------------------------------

@pytest.mark.parametrize("selected_a, selected_b, n, passes", [
    (600, 750, 1000, True),    # 0.6 / 0.75 is 0.7999999999999999 in floating point
    (40, 50, 100, True),       # 0.4 / 0.5 is exactly 0.8
    (80, 100, 100, True),
    (599, 750, 1000, False),   # 0.7987
    (39, 50, 100, False),      # 0.78
])
def test_four_fifths_rule_at_exactly_the_bound(selected_a, selected_b, n, passes):
    half = n // 2

    def group(name, selected):  # selected decisions split evenly over both outcomes
        pos = min(selected, half)
        return _rows(name, tn=half - (selected - pos), fp=selected - pos, fn=half - pos, tp=pos)

    a = _assess(group("A", selected_a), group("B", selected_b))
    crit = a.criteria["g"]
    assert crit["demographic_parity_ratio"] == pytest.approx(selected_a / selected_b, abs=1e-12)
    assert crit["passes_four_fifths"] is passes
    # the gate's four-fifths limit agrees with the assessment at the bound
    gate = evaluate_gate(a, GateRules.from_mapping({"min_demographic_parity_ratio": 0.8}))
    assert gate.passed is passes


# -- gate limits at exactly the limit ----------------------------------------------------------

@pytest.fixture(scope="module")
def gated():
    # A: selection rate 0.3, TPR 0.5, FPR 1/6; B: 0.6, 1.0, 1/3; overall accuracy 0.75, FPR 0.25
    return _assess(_rows("A", tn=50, fp=10, fn=20, tp=20), _rows("B", tn=40, fp=20, fn=0, tp=40))


@pytest.mark.parametrize("key, value_of", [
    ("max_demographic_parity_difference", lambda a: a.criteria["g"]["demographic_parity_difference"]),
    ("min_demographic_parity_ratio", lambda a: a.criteria["g"]["demographic_parity_ratio"]),
    ("max_equalized_odds_difference", lambda a: a.criteria["g"]["equalized_odds_difference"]),
    ("min_equal_opportunity_ratio", lambda a: a.criteria["g"]["equal_opportunity_ratio"]),
    ("min_accuracy", lambda a: a.overall["accuracy"]),
    ("max_false_positive_rate", lambda a: a.overall["false_positive_rate"]),
])
def test_gate_limit_at_exactly_the_limit_passes_and_just_beyond_fails(gated, key, value_of):
    value = float(value_of(gated))
    # the limit written as a person would write it (0.15, not 0.15000000000000002)
    exact = round(value, 6)
    assert exact == pytest.approx(value, abs=1e-12)
    beyond = exact - 1e-6 if key.startswith("max_") else exact + 1e-6
    assert evaluate_gate(gated, GateRules.from_mapping({key: exact})).passed
    result = evaluate_gate(gated, GateRules.from_mapping({key: beyond}))
    assert not result.passed, (key, value, beyond)
