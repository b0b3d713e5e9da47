"""One decision policy: assess(policy=...), --policy on every command, the card and the
fingerprint all use the rule the figures were computed under (oracle: scikit-learn on the
masks ``score >= threshold of the row's group``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, precision_score, recall_score

import faircard
from faircard.card import build_card
from faircard.cli import main
from faircard.decision import DecisionPolicy, GroupRule, load_policy, threshold_above
from faircard.errors import FaircardError
from faircard.governance.records import assessment_fingerprint, spec_of

SHA = "0" * 64


def _frame(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    sex = rng.choice(["F", "M"], n)
    y = rng.random(n) < np.select([g == "a", g == "b"], [0.3, 0.5], 0.4)
    s = np.clip(0.35 * y + rng.normal(0.35, 0.2, n), 0, 1).round(3)
    return pd.DataFrame({"y": y.astype(int), "s": s, "g": g, "sex": sex})


THRESHOLDS = {"a": 0.45, "b": 0.6, "c": 0.52}


def _oracle(df, thresholds, feature="g"):
    out = {}
    for grp, t in thresholds.items():
        part = df[df[feature] == grp]
        pred = (part.s >= t).astype(int)
        out[grp] = {"selection_rate": pred.mean(), "accuracy": accuracy_score(part.y, pred),
                    "true_positive_rate": recall_score(part.y, pred),
                    "false_positive_rate": 1 - recall_score(part.y, pred, pos_label=0),
                    "precision": precision_score(part.y, pred)}
    return out


def _check_by_group(rows, want, feature="g"):
    rows = [r for r in rows if r["feature"] == feature]
    assert {r["group"] for r in rows} == set(want)
    for r in rows:
        values = r.get("values", r)
        shown = [m for m in want[r["group"]] if m in values]
        assert len(shown) >= 4
        for m in shown:
            assert values[m] == pytest.approx(want[r["group"]][m], abs=1e-12), (r["group"], m)


def test_assess_with_per_group_policy_matches_sklearn_on_group_masks():
    df = _frame()
    policy = DecisionPolicy.per_group("g", THRESHOLDS)
    a = faircard.assess(df, target="y", score="s", sensitive=["g", "sex"], policy=policy,
                        n_boot=0)
    doc = a.to_dict()
    _check_by_group(doc["by_group"], _oracle(df, THRESHOLDS))
    assert doc["policy"]["thresholds"] == THRESHOLDS and doc["threshold"] is None
    # the other partitions are computed under the same decisions
    pred = df.s >= df.g.map(THRESHOLDS)
    for r in doc["by_group"]:
        if r["feature"] == "sex":
            m = df.sex == r["group"]
            assert r["selection_rate"] == pytest.approx(pred[m].mean(), abs=1e-12)
    assert doc["overall"]["accuracy"] == pytest.approx(accuracy_score(df.y, pred), abs=1e-12)


def test_threshold_keyword_is_the_single_threshold_policy():
    df = _frame()
    one = faircard.assess(df, target="y", score="s", sensitive="g", threshold=0.55, n_boot=0)
    same = faircard.assess(df, target="y", score="s", sensitive="g", n_boot=0,
                           policy=DecisionPolicy.single(0.55))
    assert one.spec.policy == DecisionPolicy.single(0.55)
    assert one.to_dict() == same.to_dict()
    _check_by_group(one.to_dict()["by_group"], _oracle(df, dict.fromkeys("abc", 0.55)))


def test_policy_json_round_trip_and_errors(tmp_path):
    p = DecisionPolicy.per_group("g", THRESHOLDS, mix={"b": (0.25, 0.7)},
                                 chosen_for={"constraint": "demographic_parity"})
    doc = json.loads(json.dumps(p.to_dict()))
    assert DecisionPolicy.from_dict(doc) == p
    assert DecisionPolicy.from_dict({"policy": doc, "by_group": []}) == p
    with pytest.raises(FaircardError, match="finite number"):
        DecisionPolicy.from_dict({"feature": "g", "thresholds": {"a": "inf"}})
    with pytest.raises(FaircardError, match="not a decision policy"):
        DecisionPolicy.from_dict({"hello": 1})
    with pytest.raises(FaircardError, match="between 0 and 1"):
        GroupRule(0.5, 1.5, 0.6)
    bad = tmp_path / "p.json"
    bad.write_text("{nope")
    with pytest.raises(FaircardError, match="not valid JSON"):
        load_policy(bad)
    df = _frame()
    with pytest.raises(FaircardError, match="no threshold for the group"):
        faircard.assess(df, target="y", score="s", sensitive="g", n_boot=0,
                        policy=DecisionPolicy.per_group("g", {"a": 0.5, "b": 0.5}))
    with pytest.raises(FaircardError, match="not assessed here"):
        faircard.assess(df, target="y", score="s", sensitive="g", n_boot=0,
                        policy=DecisionPolicy.per_group("sex", {"F": 0.5, "M": 0.5}))
    with pytest.raises(FaircardError, match="score"):
        faircard.assess(df.assign(p=(df.s > 0.5).astype(int)), target="y", prediction="p",
                        sensitive="g", policy=DecisionPolicy.single(0.5))


@pytest.mark.parametrize("x", [0.999, 1.0, 10.0, 0.123456789, 977.0, 1e-9, -0.5])
def test_threshold_above_is_short_and_above(x):
    t = threshold_above(x)
    assert t > x and len(f"{t:g}") <= 12


def test_randomised_policy_counts_are_exact_expected_values():
    df = _frame()
    mix = {"a": (0.3, 0.6)}  # group a: threshold 0.45 with probability 0.3, else 0.6
    policy = DecisionPolicy.per_group("g", THRESHOLDS, mix=mix)
    a = faircard.assess(df, target="y", score="s", sensitive="g", policy=policy, n_boot=0)
    rows = {r["group"]: r for r in a.to_dict()["by_group"]}
    first, other = _oracle(df, {"a": 0.45}), _oracle(df, {"a": 0.6})
    # selection rate and TPR are linear in the counts: the mix of the two thresholds' values
    for m in ("selection_rate", "true_positive_rate", "accuracy"):
        want = 0.3 * first["a"][m] + 0.7 * other["a"][m]
        assert rows["a"][m] == pytest.approx(want, abs=1e-12)
    _check_by_group([rows["b"], rows["c"]], _oracle(df, {"b": 0.6, "c": 0.52}))
    assert any("Randomised" in n and "expected values" in n for n in a.notes)
    # a Monte-Carlo of the randomised decisions agrees with the expected selection rate
    rng = np.random.default_rng(1)
    part = df[df.g == "a"]
    draws = [np.mean(np.where(rng.random(len(part)) < 0.3, part.s >= 0.45, part.s >= 0.6))
             for _ in range(400)]
    assert abs(np.mean(draws) - rows["a"]["selection_rate"]) < 0.003


def test_fingerprint_covers_the_policy():
    df = _frame()
    p1 = DecisionPolicy.per_group("g", THRESHOLDS)
    p2 = DecisionPolicy.per_group("g", {**THRESHOLDS, "c": 0.53})
    fps = []
    for p in (p1, p1, p2):
        a = faircard.assess(df, target="y", score="s", sensitive="g", policy=p, n_boot=0)
        fps.append(assessment_fingerprint(a, dataset_sha256=SHA))
        assert spec_of(a)["policy"]["thresholds"]["c"] == p.thresholds["c"]
    assert fps[0] == fps[1] != fps[2]


def test_card_states_the_policy_its_figures_were_computed_under():
    df = _frame()
    policy = DecisionPolicy.per_group("g", THRESHOLDS,
                                      chosen_for={"constraint": "demographic_parity",
                                                  "tolerance": 0.01})
    a = faircard.assess(df, target="y", score="s", sensitive="g", policy=policy, n_boot=0)
    card = build_card(a, generated_at="x", versions={})
    decision = card.metrics["decision"]["policy"]
    assert DecisionPolicy.from_dict(decision) == policy
    assert "chosen for demographic parity within 0.01" in decision["summary"]
    _check_by_group(card.quantitative["by_group"], _oracle(df, THRESHOLDS))
    crit = card.quantitative["criteria"]["g"]
    rates = [v["selection_rate"] for v in _oracle(df, THRESHOLDS).values()]
    assert crit["demographic_parity_difference"] == pytest.approx(max(rates) - min(rates),
                                                                  abs=1e-12)


@pytest.fixture
def files(tmp_path):
    df = _frame()
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    return df, data


def test_thresholds_json_drives_assess_and_card(files, tmp_path):
    df, data = files
    pol = tmp_path / "policy.json"
    assert main(["thresholds", str(data), "--target", "y", "--score", "s", "--sensitive", "g",
                 "--constraint", "demographic_parity", "--tolerance", "0.02", "--json",
                 str(pol)]) == 0
    chosen = json.loads(pol.read_text())["policy"]["thresholds"]
    assert all(isinstance(t, float) for t in chosen.values())
    assert len(set(chosen.values())) > 1  # really one threshold per group
    out = tmp_path / "card"
    assert main(["card", str(data), "--target", "y", "--score", "s", "--sensitive", "g",
                 "--policy", str(pol), "--out", str(out), "--formats", "json,md",
                 "--bootstrap", "0"]) == 0
    card = json.loads((out / "model_card.json").read_text())
    assert card["metrics"]["decision"]["policy"]["thresholds"] == chosen
    _check_by_group(card["quantitative"]["by_group"], _oracle(df, chosen))
    assert "Thresholds per group of g" in (out / "model_card.md").read_text()
    aj = tmp_path / "a.json"
    assert main(["assess", str(data), "--target", "y", "--score", "s", "--sensitive", "g",
                 "--policy", str(pol), "--json", str(aj), "--bootstrap", "0", "--quiet"]) == 0
    _check_by_group(json.loads(aj.read_text())["by_group"], _oracle(df, chosen))


def test_policy_flag_on_record_and_gate_changes_the_fingerprint(files, tmp_path, capsys):
    _, data = files
    store = str(tmp_path / "audit.db")
    pol = tmp_path / "p.json"
    pol.write_text(json.dumps(DecisionPolicy.per_group("g", THRESHOLDS).to_dict()))
    base = ["--target", "y", "--score", "s", "--sensitive", "g", "--bootstrap", "0"]
    assert main(["record", str(data), *base, "--policy", str(pol), "--author", "ann",
                 "--store", store]) == 0
    recorded = capsys.readouterr().out.split("fingerprint ")[1].split()[0]
    assert main(["gate", str(data), *base, "--policy", str(pol), "--max-dpd", "1"]) == 0
    gated = capsys.readouterr().out.split("fingerprint ")[1].split()[0]
    assert main(["gate", str(data), *base, "--max-dpd", "1"]) == 0
    plain = capsys.readouterr().out.split("fingerprint ")[1].split()[0]
    assert recorded == gated != plain


def test_policy_and_threshold_together_is_refused(files, tmp_path, capsys):
    _, data = files
    pol = tmp_path / "p.json"
    pol.write_text(json.dumps(DecisionPolicy.single(0.5).to_dict()))
    code = main(["assess", str(data), "--target", "y", "--score", "s", "--sensitive", "g",
                 "--policy", str(pol), "--threshold", "0.4"])
    assert code == 2 and "not both" in capsys.readouterr().err
