"""When a positive decision is adverse (flagged as high risk), no sentence that faircard writes
calls it favourable: nobody is "selected", "approved" or "granted" for being flagged, in the
thresholds summary, the assessment's text, the gate's lines or the model card."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from faircard.cli import main

FAVOURABLE_WORDS = re.compile(r"\b(selected|selects|approved|approves|granted|denied|hired)\b",
                              re.I)


@pytest.fixture(scope="module")
def disjoint(tmp_path_factory):
    """Two groups whose scores never meet: their shares flagged, k/40 and j/41, are equal only
    when nobody or everybody is flagged."""
    path = tmp_path_factory.mktemp("adverse") / "risk.csv"
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"g": ["a"] * 40 + ["b"] * 41,
                       "s": np.r_[np.arange(1, 41), np.arange(41, 82)] / 100,
                       "y": rng.integers(0, 2, 81)})
    df.to_csv(path, index=False)
    return path, df


OPTS = ["--target", "y", "--score", "s", "--sensitive", "g", "--favorable", "negative"]


def test_an_all_or_nothing_policy_says_who_is_flagged(disjoint, capsys):
    path, df = disjoint
    assert main(["thresholds", str(path), *OPTS, "--constraint", "demographic_parity",
                 "--tolerance", "0", "--allow-degenerate"]) == 0
    out = capsys.readouterr().out
    # the oracle: the only policies with equal shares flag nobody or everybody
    shares = {(k, j) for k in range(41) for j in range(42) if k * 41 == j * 40}
    assert shares == {(0, 0), (40, 41)}
    assert re.search(r"Degenerate: every group gets the same decision \((nobody|everybody) is "
                     r"flagged\)", out), out
    assert not FAVOURABLE_WORDS.search(out), out


def test_no_favourable_word_for_a_flag(disjoint, tmp_path, capsys):
    path, _ = disjoint
    texts = []
    for threshold in ("0.3", "0.9"):  # a real choice; nobody flagged
        rule = ["--threshold", threshold, "--bootstrap", "0", "--min-group-size", "10"]
        main(["assess", str(path), *OPTS, *rule])
        main(["gate", str(path), *OPTS, *rule, "--max-dpd", "0.1", "--min-dir", "0.8"])
        main(["card", str(path), *OPTS, *rule, "--out", str(tmp_path), "--formats", "md"])
        texts.append(capsys.readouterr().out + (tmp_path / "model_card.md").read_text())
    for text in texts:
        found = FAVOURABLE_WORDS.findall(text)
        assert not found, found
    assert "nobody is flagged" in texts[1]


GENERIC = "given a positive decision"


def test_a_randomised_rules_everybody_and_nobody_parts_are_flagged(tmp_path, capsys):
    """A randomised policy whose groups mix in everybody (and nobody): the assessment's notes,
    its text, the card and the diagnostics state each part in the decision's own words
    ("everybody flagged with probability ..."), never as a generic or favourable decision."""
    import json

    from faircard import assess
    from faircard.decision import DecisionPolicy
    from tests.unit.test_policy_tolerance_oracle import _deciles

    y, s, g, groups = _deciles(2)  # its policy at 0.002 mixes everybody into a group's rule
    df = pd.DataFrame({"y": y.astype(int), "s": s, "g": np.array(groups)[g]})
    data = tmp_path / "risk.csv"
    df.to_csv(data, index=False)
    opts = ["--target", "y", "--score", "s", "--sensitive", "g", "--favorable", "negative"]
    policy = tmp_path / "policy.json"
    assert main(["thresholds", str(data), *opts, "--constraint", "equalized_odds",
                 "--tolerance", "0.002", "--randomized", "--min-group-size", "0",
                 "--json", str(policy)]) == 0
    doc = json.loads(policy.read_text())["policy"]
    rule = DecisionPolicy.from_dict(doc)
    assert any(t == -np.inf for r in rule.rules.values() for t, _q in r.parts)
    capsys.readouterr()
    common = [*opts, "--policy", str(policy), "--min-group-size", "0"]
    assert main(["assess", str(data), *common, "--bootstrap", "0"]) == 0
    assert main(["card", str(data), *common, "--bootstrap", "0", "--out", str(tmp_path),
                 "--formats", "md"]) == 0
    assert main(["diagnose", str(data), *common]) == 0
    texts = {"cli": capsys.readouterr().out,
             "card": (tmp_path / "model_card.md").read_text(),
             "notes": " ".join(assess(df, target="y", score="s", sensitive=["g"],
                                      policy=rule, favorable_outcome="negative",
                                      min_group_size=0, n_boot=0).notes)}
    for where, text in texts.items():
        assert "everybody flagged with probability" in text, where
        assert GENERIC not in text, where
        assert not FAVOURABLE_WORDS.search(text), (where, FAVOURABLE_WORDS.findall(text))
    # and where a positive decision is favourable, the same rule's parts are approvals
    favourable = " ".join(assess(df, target="y", score="s", sensitive=["g"], policy=rule,
                                 min_group_size=0, n_boot=0).notes)
    assert "everybody approved with probability" in favourable and GENERIC not in favourable
