"""A decision rule that tells nobody apart (nobody or everybody selected, or each group
all-or-nothing) is never shown as a success: findings, the card in every format, the CI gate and
the per-group policy summary say what it does. Its perfect-looking gaps are checked here to be
zero, so the warning is what stands between them and a reader."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.card import build_card
from faircard.cli import main
from faircard.findings import findings
from faircard.governance.gate import GateRules, evaluate_gate
from faircard.policy import policy_from_counts
from faircard.render import render_html, render_markdown
from faircard.trivial import trivial_decision


def _frame(n=2000, seed=3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], n)
    y = (rng.random(n) < 0.4).astype(int)
    score = np.clip(0.3 * y + rng.normal(0.4, 0.2, n), 0.01, 0.99).round(4)
    return pd.DataFrame({"y": y, "score": score, "sex": sex})


def _assess(df, **kw):
    kw.setdefault("score", "score")
    return faircard.assess(df, target="y", sensitive="sex", n_boot=0, **kw)


@pytest.mark.parametrize(("threshold", "who"), [(1.0, "nobody"), (0.0, "everybody")])
@pytest.mark.parametrize(("favorable", "verb"), [("positive", "approved"), ("negative", "flagged")])
def test_nobody_or_everybody_selected_is_named_first(threshold, who, favorable, verb):
    df = _frame()
    a = _assess(df, threshold=threshold, favorable_outcome=favorable)
    # the gaps really are zero: what the warning is about
    assert a.criteria["sex"]["demographic_parity_difference"] == 0
    sentence = trivial_decision(a)
    assert sentence is not None
    count = "0" if who == "nobody" else "all"
    assert f"{who} is {verb} ({count} of {len(df):,})" in sentence
    assert findings(a)[0] == sentence
    # the document form (what the gate and records read) gives the same sentence
    assert trivial_decision(a.to_dict()) == sentence


def test_a_rule_that_uses_the_scores_is_not_trivial():
    a = _assess(_frame(), threshold=0.5)
    assert trivial_decision(a) is None
    assert not any("tells nobody apart" in s for s in findings(a))


def test_each_group_all_or_nothing_is_trivial_but_one_such_group_is_not():
    df = _frame()
    df["pred"] = (df["sex"] == "Male").astype(int)  # decided by the group alone
    a = _assess(df, score=None, prediction="pred")
    sentence = trivial_decision(a)
    assert "every group of 'sex' an all-or-nothing decision" in sentence
    assert "'Female': nobody approved; 'Male': everybody approved" in sentence
    df["pred"] = np.where(df["sex"] == "Male", 1, (df["score"] >= 0.5).astype(int))
    assert trivial_decision(_assess(df, score=None, prediction="pred")) is None


def test_a_small_group_does_not_make_or_break_the_rule():
    df = _frame()
    small = pd.DataFrame({"y": [0, 1] * 5, "score": [0.5] * 10, "sex": ["Other"] * 10})
    df = pd.concat([df, small], ignore_index=True)
    df["pred"] = (df["sex"] == "Male").astype(int)  # 'Other' (10 people) is all-or-nothing too
    a = _assess(df, score=None, prediction="pred", min_group_size=30)
    assert "'Other'" not in trivial_decision(a)
    df.loc[df.index[-5:], "pred"] = 1  # the small group mixes: the compared groups still don't
    assert trivial_decision(_assess(df, score=None, prediction="pred")) is not None


def test_the_card_warns_in_markdown_html_and_json():
    df = _frame()
    df.loc[df["sex"] == "Male", "sex"] = "<b>M</b>*x*"  # a hostile group name stays text
    df["pred"] = (df["sex"] == "Female").astype(int)
    a = _assess(df, score=None, prediction="pred")
    card = build_card(a)
    assert card.metrics["decision"]["trivial"] == trivial_decision(a)
    md = render_markdown(card)
    assert "**Warning: The decision rule gives every group of 'sex'" in md
    assert "<b>M</b>" not in md
    html = render_html(card)
    assert '<p class="warning"><strong>Warning: The decision rule' in html
    assert "&lt;b&gt;M&lt;/b&gt;" in html and "<b>M</b>" not in html
    assert json.loads(json.dumps(card.to_dict()))["metrics"]["decision"]["trivial"]
    assert "trivial" not in build_card(_assess(_frame(), threshold=0.5)).metrics["decision"]


def test_the_gate_fails_a_trivial_rule_unless_allowed():
    a = _assess(_frame(), threshold=1.0)
    rules = {"max_demographic_parity_difference": 0.1}
    result = evaluate_gate(a, GateRules.from_mapping(rules))
    assert not result.passed
    assert [c.name for c in result.failures] == ["decision_rule"]
    # the criterion itself passes with a gap of zero: the check above is what fails the gate
    dpd = next(c for c in result.checks if c.name == "demographic_parity_difference")
    assert dpd.passed and dpd.value == 0
    assert "the selection rates of every compared group are 0.000" in dpd.explanation
    allowed = evaluate_gate(a, GateRules.from_mapping({**rules, "allow_trivial": True}))
    assert allowed.passed and "Allowed by allow_trivial" in allowed.checks[0].explanation
    plain = evaluate_gate(_assess(_frame(), threshold=0.5), GateRules.from_mapping(rules))
    assert "decision_rule" not in [c.name for c in plain.checks]


def test_gate_cli_allow_trivial(tmp_path, capsys):
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    args = ["gate", str(path), "--target", "y", "--score", "score", "--sensitive", "sex",
            "--threshold", "0", "--max-dpd", "0.1"]
    assert main(args) == 1
    assert "FAIL decision_rule: The decision rule tells nobody apart: everybody is approved" \
        in capsys.readouterr().out
    assert main([*args, "--allow-trivial"]) == 0


def _policy(counts, **kw):
    return policy_from_counts(np.array(counts), ["A", "B"], {"A": 0.5, "B": 0.5},
                              included=np.ones(2, bool), feature="g", **kw)


def test_a_per_group_policy_of_all_or_nothing_groups_says_so():
    # (tn, fp, fn, tp): A everybody selected (tn = fn = 0), B nobody (fp = tp = 0)
    p = _policy([[0, 40, 0, 60], [70, 0, 30, 0]])
    assert not p.degenerate and p.group_only
    assert ("Every group gets an all-or-nothing decision (A: everybody approved; "
            "B: nobody approved)") in p.summary
    flagged = _policy([[0, 40, 0, 60], [70, 0, 30, 0]], favorable_outcome="negative")
    assert "A: everybody flagged; B: nobody flagged" in flagged.summary
    both_nobody = _policy([[60, 0, 40, 0], [70, 0, 30, 0]])
    assert both_nobody.degenerate and not both_nobody.group_only
    real = _policy([[30, 10, 20, 40], [70, 0, 30, 0]])
    assert not real.group_only and "all-or-nothing" not in real.summary


def test_the_gate_check_of_a_trivial_rule_in_full():
    a = _assess(_frame(), threshold=1.0)
    sentence = trivial_decision(a)
    for allowed, tail in [(False, " To accept it: allow_trivial = true (--allow-trivial)."),
                          (True, " Allowed by allow_trivial.")]:
        rules = GateRules.from_mapping({"max_demographic_parity_difference": 0.1,
                                        "allow_trivial": allowed})
        check = evaluate_gate(a, rules).checks[0]
        # what the JSON written by 'faircard gate --json' holds for it
        assert check.to_dict() == {"name": "decision_rule", "feature": None, "value": None,
                                   "limit": None, "comparison": "", "passed": allowed,
                                   "explanation": sentence + tail}


def _scores_tell_two_groups_nothing(tmp_path):
    """Three groups on scores 1-10 (a scored highest, c lowest), 400/300/200 people: equal
    false positive rates within 0.01 are most accurate with nobody flagged in a and b. Returns
    the rows written to a CSV file and the policy's JSON file."""
    from faircard.policy import choose_policy

    rng = np.random.default_rng(0)
    g = np.repeat([0, 1, 2], [400, 300, 200])
    s = np.clip(np.round(rng.normal(4 + np.array([2, 0, -1])[g], 2)), 1, 10)
    y = (rng.random(len(g)) < (s / 10) * 0.6).astype(int)
    names = np.array(["a", "b", "c"])
    df = pd.DataFrame({"y": y, "s": s, "race": names[g]})
    p = choose_policy(y, s, g, list(names), feature="race",
                      constraint="false_positive_rate_parity", tolerance=0.01,
                      min_group_size=0, favorable_outcome="negative")
    (tmp_path / "d.csv").write_text(df.to_csv(index=False))
    (tmp_path / "p.json").write_text(json.dumps(p.decision_policy().to_dict()))
    return df, p.decision_policy().to_dict()


def test_the_gate_names_groups_that_get_one_decision_whatever_their_score(tmp_path, capsys):
    df, policy = _scores_tell_two_groups_nothing(tmp_path)
    # the decisions the policy makes on the rows, computed here from its thresholds
    cuts = policy["thresholds"]  # one number per group: a deterministic policy
    assert sorted(cuts) == ["a", "b", "c"] and all(isinstance(t, float) for t in cuts.values())
    flagged = df.s.to_numpy() >= df.race.map(cuts).to_numpy()
    rates = pd.Series(flagged).groupby(df.race.to_numpy()).mean()
    assert rates["a"] == 0 and rates["b"] == 0 and 0 < rates["c"] < 1
    sizes = df.race.value_counts()
    base = ["gate", str(tmp_path / "d.csv"), "--target", "y", "--score", "s", "--sensitive",
            "race", "--favorable", "negative", "--bootstrap", "0", "--min-group-size", "0"]
    out = tmp_path / "gate.json"
    # the policy meets its constraint, is not trivial (c is told apart), so the gate passes;
    # before, it passed without a word on the 700 people the scores decided nothing for
    assert main([*base, "--policy", str(tmp_path / "p.json"), "--max-dpd", "1",
                 "--json", str(out)]) == 0
    text = capsys.readouterr().out
    people = int(sizes["a"] + sizes["b"])
    line = (f"NOTE [race] nobody is flagged in 'a' and 'b' ({people:,} people): each gets the "
            "same decision there, so the scores tell none of them apart; this does not fail "
            "the gate")
    assert people == 700 and line in text.splitlines()
    assert "FAIL" not in text and "gate passed: 1 check passed" in text
    (result,) = json.loads(out.read_text())["results"]
    assert result["passed"] and [c["name"] for c in result["checks"]] == \
        ["demographic_parity_difference"]
    assert result["all_or_nothing_groups"] == [{
        "feature": "race", "verb": "flagged", "people": 700,
        "groups": [{"group": "a", "decision": "nobody", "n": int(sizes["a"])},
                   {"group": "b", "decision": "nobody", "n": int(sizes["b"])}],
        "note": line.removeprefix("NOTE ")}]
    # a skipped feature is not looked at
    rules = tmp_path / "r.toml"
    rules.write_text("max_accuracy = 1\n[features.race]\nskip = true\n")
    assert main([*base, "--policy", str(tmp_path / "p.json"), "--rules", str(rules)]) == 0
    assert "NOTE" not in capsys.readouterr().out
    # one threshold that flags somebody and not everybody in every group: no note
    assert main([*base, "--threshold", "5", "--max-dpd", "1", "--json", str(out)]) == 0
    assert "NOTE" not in capsys.readouterr().out
    assert json.loads(out.read_text())["results"][0]["all_or_nothing_groups"] == []
    # every group all or nothing: the failing decision_rule check says it, not a note
    assert main([*base, "--threshold", "11", "--max-dpd", "1"]) == 1
    text = capsys.readouterr().out
    assert "FAIL decision_rule" in text and "NOTE" not in text
