"""Hand-worked behaviour of faircard.decision (the decision policy), written to kill mutmut
survivors: exact rules, bounds on both sides, the words a user reads and the JSON form."""

from __future__ import annotations

import json

import numpy as np
import pytest

from faircard.decision import DecisionPolicy, GroupRule, load_policy, threshold_above
from faircard.errors import FaircardError


def _message(fn, *args, **kw) -> str:
    with pytest.raises(FaircardError) as err:
        fn(*args, **kw)
    return str(err.value)


# ------------------------------------------------------------------ GroupRule

def test_a_plain_rule_is_deterministic():
    r = GroupRule(0.5)
    assert (r.threshold, r.probability, r.else_threshold) == (0.5, 1.0, None)
    assert r.is_randomized is False
    assert r.to_dict() == {"threshold": 0.5}
    assert type(r.threshold) is float


def test_a_randomised_rule_mixes_two_thresholds():
    r = GroupRule(0.5, 0.25, 0.7)
    assert r.is_randomized is True
    assert r.to_dict() == {"threshold": 0.5, "probability": 0.25, "else_threshold": 0.7}
    # scores 0.4 .. 0.8: first rule 0,1,1,1,1; other rule 0,0,0,1,1
    got = r.positive_probability(np.array([0.4, 0.5, 0.6, 0.7, 0.8]))
    np.testing.assert_allclose(got, [0.0, 0.25, 0.25, 1.0, 1.0])
    assert got.dtype == np.float64


def test_a_deterministic_rule_decides_at_or_above_its_threshold():
    got = GroupRule(0.5).positive_probability(np.array([0.49, 0.5, 0.51]))
    assert got.tolist() == [0.0, 1.0, 1.0] and got.dtype == np.float64


def test_probability_bounds_on_both_sides():
    assert GroupRule(0.5, 0.0, 0.7).is_randomized
    assert GroupRule(0.5, 0.0, 0.7).probability == 0.0
    assert GroupRule(0.5, 1.0, 0.7).else_threshold is None
    assert _message(GroupRule, 0.5, 1.01, 0.7) == \
        "A probability must lie between 0 and 1; got 1.01."
    assert _message(GroupRule, 0.5, -0.01, 0.7) == \
        "A probability must lie between 0 and 1; got -0.01."


def test_a_randomised_rule_needs_its_other_threshold():
    assert _message(GroupRule, 0.5, 0.3) == ("A randomised group rule needs the threshold used "
                                             "otherwise (else_threshold).")


def test_a_mix_of_a_threshold_with_itself_is_deterministic():
    r = GroupRule(0.5, 0.3, 0.5)
    assert (r.probability, r.else_threshold, r.is_randomized) == (1.0, None, False)


def test_numbers_are_checked():
    assert GroupRule("0.25").threshold == 0.25
    assert _message(GroupRule, True) == "The threshold must be a number; got True."
    assert _message(GroupRule, "abc") == "The threshold must be a number; got 'abc'."
    assert _message(GroupRule, None) == "The threshold must be a number; got None."
    assert _message(GroupRule, float("nan")) == (
        "The threshold must be a finite number; got nan. To select nobody, use a number above "
        "every score.")
    assert _message(GroupRule, 0.5, 0.5, float("inf")).startswith(
        "The else threshold must be a finite number; got inf.")
    assert _message(GroupRule, 0.5, "x", 0.7) == "The probability must be a number; got 'x'."


# ------------------------------------------------------------------ DecisionPolicy

def test_single_threshold_policy():
    p = DecisionPolicy.single(0.5)
    assert p.is_single and not p.is_randomized
    assert p.thresholds == {}
    assert p.to_dict() == {"kind": "single", "threshold": 0.5}
    assert p.describe(positive="flagged") == ("One threshold for everyone: a score at or "
                                              "above 0.500 is a positive decision.")
    assert p.describe(digits=1, positive="flagged") == ("One threshold for everyone: a score at or above 0.5 is a "
                                    "positive decision.")
    np.testing.assert_array_equal(p.positive_probability([0.49, 0.5]), [0.0, 1.0])
    assert p.decide([0.49, 0.5, 0.9]).tolist() == [False, True, True]
    assert DecisionPolicy.single("0.5").threshold == 0.5


def test_a_policy_is_either_single_or_per_group():
    both = ("A decision policy has either one threshold for everyone or one threshold per "
            "group, not both.")
    assert _message(DecisionPolicy, threshold=0.5, feature="g") == both
    assert _message(DecisionPolicy, threshold=0.5, rules={"a": 0.4}) == both
    neither = ("A per-group decision policy needs the feature its groups belong to and a "
               "threshold for each group.")
    assert _message(DecisionPolicy) == neither
    assert _message(DecisionPolicy, feature="g") == neither
    assert _message(DecisionPolicy, rules={"a": 0.4}) == neither
    assert _message(DecisionPolicy, threshold=float("inf")).startswith(
        "The threshold must be a finite number")


def test_per_group_policy_reads_words_and_json():
    p = DecisionPolicy.per_group("race", {"A": 0.4, "B": 0.52},
                                 chosen_for={"constraint": "equal_opportunity"})
    assert not p.is_single and not p.is_randomized
    assert p.feature == "race"
    assert p.thresholds == {"A": 0.4, "B": 0.52}
    assert p.describe(positive="approved") == "Thresholds per group of race: A 0.400; B 0.520."
    assert p.describe(2, positive="approved") == "Thresholds per group of race: A 0.40; B 0.52."
    assert p.to_dict() == {"kind": "per_group", "feature": "race",
                           "thresholds": {"A": 0.4, "B": 0.52}, "randomized": False,
                           "chosen_for": {"constraint": "equal_opportunity"}}
    # groups coded per row: 0 = A, 1 = B
    got = p.positive_probability([0.45, 0.45, 0.52, 0.3], [0, 1, 1, 0], ("A", "B"))
    assert got.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert p.decide([0.45, 0.45], [0, 1], ["A", "B"]).tolist() == [True, False]


def test_rules_given_as_numbers_or_mappings_and_group_labels_as_text():
    p = DecisionPolicy(feature=3, rules={1: 0.4, "b": {"threshold": 0.6, "probability": 0.5,
                                                       "else_threshold": 0.2}})
    assert p.feature == "3"
    assert list(p.rules) == ["1", "b"]
    assert p.rules["b"] == GroupRule(0.6, 0.5, 0.2)
    assert _message(DecisionPolicy, feature="g", rules={"a": {"probability": 0.5}}) == \
        "The rule of group 'a' has no threshold."
    assert _message(DecisionPolicy, feature="g", rules={"a": "x"}) == \
        "The threshold of group 'a' must be a number; got 'x'."
    assert _message(DecisionPolicy, feature="g", rules={"a": {"threshold": None}}) == \
        "The threshold of group 'a' must be a number; got None."


def test_randomised_policy_words_json_and_expected_values():
    p = DecisionPolicy.per_group("g", {"a": 0.4, "b": 0.6}, mix={"b": (0.25, 0.2)})
    assert p.is_randomized
    assert p.describe(positive="approved") == (
        "Randomised: people with the same score in the same group may get different decisions, "
        "and the figures are expected values over the randomisation. Thresholds per group of g: "
        "a 0.400; group b: threshold 0.600 with probability 0.250, else 0.200.")
    d = p.to_dict()
    assert d == {"kind": "per_group", "feature": "g", "thresholds": {"a": 0.4, "b": 0.6},
                 "randomized": True, "mix": {"b": {"probability": 0.25, "else_threshold": 0.2}}}
    assert DecisionPolicy.from_dict(d) == p
    got = p.positive_probability([0.5, 0.5, 0.7], [0, 1, 1], ["a", "b"])
    np.testing.assert_allclose(got, [1.0, 0.75, 1.0])
    assert _message(p.decide, [0.5], [0], ["a", "b"]) == (
        "A randomised policy has no fixed decision for every row; use its probabilities "
        "(expected values) instead.")


def test_a_per_group_policy_needs_the_groups_of_each_row():
    p = DecisionPolicy.per_group("race", {"A": 0.4})
    want = ("This policy sets thresholds per group of 'race'; the groups of each row are needed "
            "to apply it.")
    assert _message(p.positive_probability, [0.5]) == want
    assert _message(p.positive_probability, [0.5], [0]) == want
    assert _message(p.positive_probability, [0.5], groups=["A"]) == want


def test_missing_groups_are_named():
    p = DecisionPolicy.per_group("race", {f"g{i}": 0.5 for i in range(12)})
    missing = [f"m{i}" for i in range(11)]
    msg = _message(p.check_groups, ["g0", *missing])
    assert msg == (
        "The decision policy has no threshold for the groups "
        + ", ".join(repr(m) for m in missing[:10]) + " of 'race' (it has thresholds for "
        + ", ".join(repr(f"g{i}") for i in range(10)) + "). Choose the policy again on these "
        "data, or add those groups to the policy file.")
    assert _message(p.check_groups, ["g0", "m0"]).startswith(
        "The decision policy has no threshold for the group 'm0' of 'race'")
    p.check_groups(["g0", "g11"])  # every group known: no error


# ------------------------------------------------------------------ from_dict / load_policy

def test_from_dict_reads_the_thresholds_document():
    doc = {"policy": {"feature": "g", "thresholds": {"a": 0.3, "b": 0.7},
                      "mix": {"a": {"probability": 0.5, "else_threshold": 0.1}}},
           "constraint": "ignored outside policy"}
    p = DecisionPolicy.from_dict(doc)
    assert p.rules["a"] == GroupRule(0.3, 0.5, 0.1) and p.rules["b"] == GroupRule(0.7)
    assert p.chosen_for == {}
    q = DecisionPolicy.from_dict({"feature": "g", "thresholds": {"a": 0.3},
                                  "constraint": "demographic_parity", "objective": "accuracy",
                                  "tolerance": 0.05, "chosen_for": {"note": "x"}})
    assert q.chosen_for == {"constraint": "demographic_parity", "objective": "accuracy",
                            "tolerance": 0.05, "note": "x"}
    assert DecisionPolicy.from_dict({"policy": "not a mapping", "threshold": 0.2}).threshold == 0.2


def test_from_dict_single_threshold_including_zero():
    assert DecisionPolicy.from_dict({"threshold": 0}) == DecisionPolicy.single(0.0)
    assert DecisionPolicy.from_dict({"threshold": 0.4, "thresholds": {}}).threshold == 0.4
    assert DecisionPolicy.from_dict({"kind": "single", "threshold": 0.5}).to_dict() == \
        {"kind": "single", "threshold": 0.5}


def test_from_dict_refusals():
    assert _message(DecisionPolicy.from_dict, [0.5]) == "A decision policy must be a JSON object."
    assert _message(DecisionPolicy.from_dict, {"thresholds": [0.5]}) == \
        "The policy's 'thresholds' must map each group to a number."
    assert _message(DecisionPolicy.from_dict, {"feature": "g", "thresholds": {"a": 0.5},
                                               "mix": [1]}) == \
        "The policy's 'mix' must map groups to their randomisation."
    neither = ("This file is not a decision policy: it has neither 'thresholds' (one per group) "
               "nor 'threshold'. Use the file written by 'faircard thresholds --json' or "
               "downloaded from the Thresholds page.")
    assert _message(DecisionPolicy.from_dict, {}) == neither
    assert _message(DecisionPolicy.from_dict, {"threshold": None}) == neither


def test_load_policy_reads_a_file_and_refuses_bad_ones(tmp_path):
    good = tmp_path / "p.json"
    good.write_text(json.dumps({"threshold": 0.3}), encoding="utf-8")
    assert load_policy(good) == DecisionPolicy.single(0.3)
    assert load_policy(str(good)) == DecisionPolicy.single(0.3)
    missing = tmp_path / "none.json"
    assert _message(load_policy, missing) == f"The policy file '{missing}' does not exist."
    assert _message(load_policy, tmp_path) == f"The policy file '{tmp_path}' does not exist."
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    msg = _message(load_policy, bad)
    assert msg.startswith(f"The policy file '{bad}' is not valid JSON (") and msg.endswith(").")
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"threshold": 0.3, "x": "\xe9"}')
    assert _message(load_policy, latin).startswith(f"The policy file '{latin}' is not valid JSON")


def test_load_policy_size_limit_on_both_sides(tmp_path):
    body = '{"threshold": 0.3}'
    at = tmp_path / "at.json"
    at.write_text(body + " " * (5_000_000 - len(body)), encoding="utf-8")
    assert at.stat().st_size == 5_000_000
    assert load_policy(at).threshold == 0.3
    over = tmp_path / "over.json"
    over.write_text(body + " " * (5_000_001 - len(body)), encoding="utf-8")
    assert _message(load_policy, over) == \
        f"The policy file '{over}' is larger than 5 MB; is it the right file?"


# ------------------------------------------------------------------ threshold_above

@pytest.mark.parametrize("x, want", [
    (0.731, 0.74),       # two digits: 0.73 + 0.01
    (1.0, 1.1),          # 1 + 0.1
    (0.0, 0.01),         # zero: 10**-2
    (95.0, 96.0),        # 95 + 1
    (-0.5, -0.49),       # -0.50 + 0.01
    (123456.0, 130000.0),  # 1.2e5 + 1e4
    (0.999, 1.1),        # rounds to 1, then 1 + 0.1
])
def test_threshold_above_hand_worked(x, want):
    assert threshold_above(x) == want


@pytest.mark.parametrize("x, want", [
    (1e10, 1.1e10),      # 1.0e10 + 1e9
    (1e-10, 1.1e-10),    # 1.0e-10 + 1e-11
])
def test_threshold_above_far_from_one(x, want):
    assert threshold_above(x) == want


def test_chosen_for_is_the_policys_own_copy():
    source = {"constraint": "equal_opportunity"}
    p = DecisionPolicy(threshold=0.5, chosen_for=source)
    source["tolerance"] = 0.1
    assert p.chosen_for == {"constraint": "equal_opportunity"}
    assert DecisionPolicy(threshold=0.5, chosen_for=None).chosen_for == {}


def test_from_dict_names_the_group_whose_threshold_is_wrong():
    assert _message(DecisionPolicy.from_dict, {"feature": "g", "thresholds": {"a": "x"}}) == \
        "The threshold of group 'a' must be a number; got 'x'."
