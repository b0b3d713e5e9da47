"""Group rules of more than two parts: how they are written, read back and stated, and that a
rule of one threshold mixed with one other is written exactly as before (so records and
policy files of earlier versions keep their fingerprints).

``data/store_randomised_before.sqlite3`` and ``data/randomised_policy_before.json`` were
written by faircard when a group mixed two thresholds at most (``faircard thresholds
--constraint equal_opportunity --tolerance 0 --randomized --json`` then ``faircard record
--policy`` on ``data/left_out_small.csv``): the record still verifies and the same command
finds the same fingerprint."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from faircard.cli import main
from faircard.decision import DecisionPolicy, GroupRule, load_policy, mix_entry
from faircard.errors import FaircardError
from faircard.governance import AuditStore
from tests.policy_parts import written_probability

DATA = Path(__file__).parent / "data"
OLD_STORE = DATA / "store_randomised_before.sqlite3"
OLD_POLICY = DATA / "randomised_policy_before.json"
OLD_FINGERPRINT = "c4f81b444aa9ad12e469ad4dd138365374ec3ae275411cd538b40196e59681b0"
THREE = {"probability": 0.5, "else": [{"threshold": 0.6, "probability": 0.3}], "everybody": 0.2}


def test_two_thresholds_are_written_as_before_however_given():
    before = {"kind": "per_group", "feature": "sex", "thresholds": {"F": 0.4, "M": 0.5},
              "randomized": True, "mix": {"F": {"probability": 0.3, "else_threshold": 0.6}}}
    for mix in ({"F": (0.3, 0.6)}, {"F": {"probability": 0.3, "else_threshold": 0.6}},
                {"F": {"probability": 0.3, "else": [{"threshold": 0.6, "probability": 0.7}]}}):
        got = DecisionPolicy.per_group("sex", {"F": 0.4, "M": 0.5}, mix=mix).to_dict()
        assert json.dumps(got, sort_keys=True) == json.dumps(before, sort_keys=True)
    rule = GroupRule(0.4, 0.3, None, ((0.6, 0.7),))
    assert rule == GroupRule(0.4, 0.3, 0.6) and rule.others == ()
    assert rule.describe_mix("flagged") == "threshold 0.400 with probability 0.300, else 0.600"


def test_a_rule_of_three_parts_round_trips_and_an_old_reader_refuses_it():
    policy = DecisionPolicy.per_group("sex", {"F": 0.4, "M": 0.5},
                                      mix={"F": THREE, "M": {"probability": 0.6, "else": [],
                                                             "nobody": 0.4}})
    doc = json.loads(json.dumps(policy.to_dict(), allow_nan=False))
    assert doc["mix"] == {"F": THREE, "M": {"probability": 0.6, "else": [], "nobody": 0.4}}
    assert DecisionPolicy.from_dict(doc) == policy
    # a reader of two-threshold rules finds a probability below 1 and no else_threshold,
    # which it refuses ("needs the threshold used otherwise"), instead of misreading the rule
    assert all(m["probability"] < 1 and "else_threshold" not in m for m in doc["mix"].values())
    rule = policy.rules["F"]
    assert rule.parts == ((0.4, 0.5), (0.6, 0.3), (-math.inf, 0.2))
    assert mix_entry(rule) == THREE
    assert rule.finite_thresholds == (0.4, 0.6)


def test_a_rule_of_parts_decides_as_its_parts_say():
    s = np.array([-5.0, 0.1, 0.4, 0.5, 0.6, 0.9, 7.0])
    policy = DecisionPolicy.per_group("sex", {"F": 0.4, "M": 0.5},
                                      mix={"F": THREE, "M": {"probability": 0.6, "else": [],
                                                             "nobody": 0.4}})
    got_f = policy.rules["F"].positive_probability(s)
    np.testing.assert_allclose(got_f, [0.2, 0.2, 0.7, 0.7, 1.0, 1.0, 1.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(got_f, written_probability(s, 0.4, THREE), atol=1e-15)
    got_m = policy.rules["M"].positive_probability(s)
    np.testing.assert_allclose(got_m, [0, 0, 0, 0.6, 0.6, 0.6, 0.6], rtol=0, atol=1e-15)
    group = np.array([0, 1, 0, 1, 0, 1, 0])
    np.testing.assert_allclose(policy.positive_probability(s, group, ["F", "M"]),
                               np.where(group == 0, got_f, got_m))
    with pytest.raises(FaircardError, match="randomised policy has no fixed decision"):
        policy.decide(s, group, ["F", "M"])


def test_the_rule_is_stated_part_by_part():
    policy = DecisionPolicy.per_group("sex", {"F": 0.4, "M": 0.5},
                                      mix={"F": THREE, "M": {"probability": 0.6, "else": [],
                                                             "nobody": 0.4}})
    assert policy.rules["F"].describe_mix("flagged") == (
        "threshold 0.400 with probability 0.500, 0.600 with probability 0.300, everybody "
        "flagged with probability 0.200")
    assert policy.rules["M"].describe_mix("flagged") == (
        "threshold 0.500 with probability 0.600, nobody flagged with probability 0.400")
    for positive in ("flagged", "approved"):  # the decision's own words, never generic ones
        text = policy.describe(positive=positive)
        assert ("group F: threshold 0.400 with probability 0.500, 0.600 with probability "
                f"0.300, everybody {positive} with probability 0.200") in text
        assert (f"group M: threshold 0.500 with probability 0.600, nobody {positive} with "
                "probability 0.400") in text
    with pytest.raises(TypeError):  # no wording by default: each caller says which it is
        policy.describe()


def test_parts_are_kept_short():
    # a part of probability 0 is dropped; the same threshold twice is one part
    rule = GroupRule(0.4, 0.5, None, ((0.6, 0.0), (0.4, 0.2), (-math.inf, 0.3)))
    assert rule.parts == ((0.4, 0.7), (-math.inf, 0.3))
    # nothing else: the first threshold alone
    assert GroupRule(0.4, 1.0, None, ((0.6, 0.0),)) == GroupRule(0.4)


@pytest.mark.parametrize("entry, message", [
    ({"probability": 0.5, "else": [{"threshold": 0.6, "probability": 0.3}]},
     "must add up to 1; they add up to 0.8"),
    ({"probability": 0.5, "else": {"threshold": 0.6}}, "must list its other thresholds"),
    ({"probability": 0.5, "else": [{"probability": 0.5}]}, "must list its other thresholds"),
    ({"probability": 0.5, "else": [{"threshold": "inf", "probability": 0.5}]},
     "must be a finite number"),
    ({"probability": 0.5, "else": [{"threshold": 0.6, "probability": -0.5}], "everybody": 1.0},
     "A probability must lie between 0 and 1"),
    ({"probability": 0.5, "else": [], "everybody": "half"}, "must be a number"),
    ({"probability": 0.5, "else": []}, "lists no other threshold"),
    ({"probability": 0.5, "else_threshold": 0.6, "else": [], "nobody": 0.5},
     "either as 'else_threshold' or as 'else'"),
])
def test_a_malformed_rule_is_refused_in_one_sentence(entry, message):
    doc = {"feature": "sex", "thresholds": {"F": 0.4}, "mix": {"F": entry}}
    with pytest.raises(FaircardError, match=message) as info:
        DecisionPolicy.from_dict(doc)
    assert "\n" not in str(info.value)


def test_a_randomised_record_written_before_verifies_with_its_fingerprint(tmp_path, capsys):
    written = json.loads(OLD_POLICY.read_text())["policy"]
    assert written["mix"] == {"B": {"probability": 0.3758053783858351, "else_threshold": 0.347}}
    # read and written again: the same rule, the same words
    again = load_policy(OLD_POLICY).to_dict()
    assert again["mix"] == written["mix"] and again["thresholds"] == written["thresholds"]
    path = tmp_path / "audit.db"
    shutil.copy(OLD_STORE, path)
    with AuditStore(path, create=False) as store:
        result = store.verify()
        assert result.ok, result.problems
        assert store.get(1).fingerprint == OLD_FINGERPRINT
    assert main(["record", str(DATA / "left_out_small.csv"), "--target", "y", "--score",
                 "score", "--sensitive", "race", "--policy", str(OLD_POLICY), "--author",
                 "Ada New", "--title", "again", "--store", str(path)]) == 0
    assert f"fingerprint {OLD_FINGERPRINT}" in capsys.readouterr().out
    with AuditStore(path, create=False) as store:
        assert store.verify().ok


def test_the_card_states_each_part_in_the_words_of_the_favourable_outcome():
    import pandas as pd

    import faircard
    from faircard.card import build_card
    from faircard.render import render_markdown

    rng = np.random.default_rng(3)
    df = pd.DataFrame({"y": rng.random(400) < 0.4, "score": rng.random(400).round(2),
                       "sex": rng.choice(["F", "M"], 400)})
    policy = DecisionPolicy.per_group("sex", {"F": 0.4, "M": 0.5},
                                      mix={"F": THREE, "M": {"probability": 0.6, "else": [],
                                                             "nobody": 0.4}})
    a = faircard.assess(df, target="y", score="score", sensitive="sex", policy=policy,
                        favorable_outcome="negative", n_boot=0)
    md = render_markdown(build_card(a))
    assert ("group F: threshold 0.400 with probability 0.500, 0.600 with probability 0.300, "
            "everybody flagged with probability 0.200") in md
    assert "group M: threshold 0.500 with probability 0.600, nobody flagged with probability " \
           "0.400" in md
    # and the figures are the rows' expected values under it
    p = np.where(df["sex"] == "F", written_probability(df["score"], 0.4, THREE),
                 written_probability(df["score"], 0.5, {"probability": 0.6, "else": [],
                                                        "nobody": 0.4}))
    rows = a.by_group[(a.by_group.metric == "selection_rate")].set_index("group")["value"]
    for g in ("F", "M"):
        assert rows[g] == pytest.approx(p[df["sex"] == g].mean(), abs=1e-12)
