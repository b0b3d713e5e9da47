"""The CI gate: limits checked against fairlearn / scikit-learn on the same data, NaN handling,
per-feature overrides, rule files and the approved-record requirement."""

from __future__ import annotations

import hashlib

import pytest
from fairlearn.metrics import (
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
)
from sklearn.metrics import accuracy_score

import faircard
from faircard.errors import FaircardError
from faircard.governance.gate import GateRules, evaluate_gate, load_rules
from faircard.governance.records import assessment_fingerprint
from faircard.governance.store import AuditStore
from tests.conftest import make_dataset


@pytest.fixture(scope="module")
def clean():
    """Groups all large enough to be compared, so fairlearn sees exactly the same groups."""
    df = make_dataset(11, n=800, n_features=2, with_missing=False, tiny_group=False,
                      no_positive_group=False)
    df["race"] = df["race"].astype(str)
    return df


@pytest.fixture(scope="module")
def doc(clean):
    return faircard.assess(clean, target="y", prediction="pred", sensitive="sex",
                           n_boot=0).to_dict()


@pytest.fixture(scope="module")
def oracle(clean):
    y, p, s = clean["y"], clean["pred"], clean["sex"]
    return {
        "max_demographic_parity_difference": demographic_parity_difference(
            y, p, sensitive_features=s),
        "min_demographic_parity_ratio": demographic_parity_ratio(y, p, sensitive_features=s),
        "max_equalized_odds_difference": equalized_odds_difference(y, p, sensitive_features=s),
        "max_equal_opportunity_difference": equal_opportunity_difference(
            y, p, sensitive_features=s),
        "min_accuracy": accuracy_score(y, p),
    }


def _rules(**kw) -> GateRules:
    return GateRules.from_mapping(kw)


def _by(result, name, feature="sex"):
    return next(c for c in result.checks if c.name == name and c.feature == feature)


@pytest.mark.parametrize("key", ["max_demographic_parity_difference",
                                 "min_demographic_parity_ratio",
                                 "max_equalized_odds_difference",
                                 "max_equal_opportunity_difference", "min_accuracy"])
def test_limits_pass_and_fail_around_the_fairlearn_value(doc, oracle, key):
    truth = float(oracle[key])
    assert 0 < truth < 1
    loose = truth + 0.01 if key.startswith("max_") else truth - 0.01
    strict = truth - 0.01 if key.startswith("max_") else truth + 0.01
    name = key.split("_", 1)[1]
    feature = None if key == "min_accuracy" else "sex"
    ok = evaluate_gate(doc, _rules(**{key: loose}))
    assert ok.passed and _by(ok, name, feature).value == pytest.approx(truth, abs=1e-12)
    bad = evaluate_gate(doc, _rules(**{key: strict}))
    assert not bad.passed
    check = _by(bad, name, feature)
    assert not check.passed and check.limit == pytest.approx(strict)
    assert "outside the limit" in check.explanation
    assert check.line().startswith(f"FAIL {'[sex] ' if feature else ''}{name} = ")
    # exactly at the limit passes (limits are inclusive)
    assert evaluate_gate(doc, _rules(**{key: truth})).passed


def test_four_fifths_rule_matches_fairlearn(clean):
    for threshold in (0.3, 0.5, 0.7):
        frame = clean.assign(p=(clean["score"] >= threshold).astype(int))
        d = faircard.assess(frame, target="y", prediction="p", sensitive="race",
                            n_boot=0).to_dict()
        ratio = demographic_parity_ratio(frame["y"], frame["p"], sensitive_features=frame["race"])
        result = evaluate_gate(d, _rules(min_demographic_parity_ratio=0.8))
        assert result.passed == (ratio >= 0.8)
        assert _by(result, "demographic_parity_ratio", "race").value == pytest.approx(ratio)


def test_explanations_name_the_groups_furthest_apart(clean, doc):
    rates = clean.groupby("sex")["pred"].mean()
    check = _by(evaluate_gate(doc, _rules(max_demographic_parity_difference=0.0)),
                "demographic_parity_difference")
    assert f"'{rates.idxmin()}' ({rates.min():.3f})" in check.explanation
    assert f"'{rates.idxmax()}' ({rates.max():.3f})" in check.explanation


def test_every_feature_including_the_intersection_is_checked(clean):
    d = faircard.assess(clean, target="y", prediction="pred", sensitive=["sex", "race"],
                        n_boot=0, min_group_size=5).to_dict()
    result = evaluate_gate(d, _rules(max_demographic_parity_difference=1.0))
    assert [c.feature for c in result.checks] == ["sex", "race", "sex & race"]
    inter = clean["sex"] + " & " + clean["race"]
    truth = demographic_parity_difference(clean["y"], clean["pred"], sensitive_features=inter)
    assert _by(result, "demographic_parity_difference", "sex & race").value == \
        pytest.approx(truth)


def test_per_feature_overrides_disable_and_skip(clean):
    d = faircard.assess(clean, target="y", prediction="pred", sensitive=["sex", "race"],
                        n_boot=0, min_group_size=5).to_dict()
    values = {f: c["demographic_parity_difference"] for f, c in d["criteria"].items()}
    strict = min(values.values()) - 0.01
    base = {"max_demographic_parity_difference": strict, "min_demographic_parity_ratio": 0.0}
    assert {c.feature for c in evaluate_gate(d, _rules(**base)).failures} == set(values)
    rules = _rules(**base, features={
        "sex": {"max_demographic_parity_difference": values["sex"] + 0.01},
        "race": {"max_demographic_parity_difference": False},
        "sex & race": {"skip": True},
    })
    result = evaluate_gate(d, rules)
    assert result.passed
    checked = [(c.name, c.feature) for c in result.checks]
    assert ("demographic_parity_difference", "race") not in checked
    assert ("demographic_parity_ratio", "race") in checked
    assert all(f != "sex & race" for _, f in checked)


def test_undefined_values_fail_with_the_reason_unless_allowed(clean):
    # every group too small to compare: the criteria are undefined
    d = faircard.assess(clean, target="y", prediction="pred", sensitive="sex", n_boot=0,
                        min_group_size=10_000).to_dict()
    check = _by(evaluate_gate(d, _rules(max_demographic_parity_difference=0.1)),
                "demographic_parity_difference")
    assert not check.passed and check.value is None
    assert "fewer than two groups have at least 10,000 rows" in check.explanation
    assert "= n/a" in check.line()
    allowed = evaluate_gate(d, _rules(max_demographic_parity_difference=0.1,
                                      fail_on_undefined=False))
    assert allowed.passed and "fail_on_undefined = false" in allowed.checks[0].explanation
    # no actual positives at all: true positive rates are undefined
    none_pos = clean.assign(y=0)
    d = faircard.assess(none_pos, target="y", prediction="pred", sensitive="sex", n_boot=0,
                        pos_label=1).to_dict()
    check = _by(evaluate_gate(d, _rules(max_equal_opportunity_difference=0.1)),
                "equal_opportunity_difference")
    assert not check.passed
    assert "true_positive_rate is undefined in every compared group" in check.explanation
    assert "no actual positives" in check.explanation
    # a score metric on an assessment of predicted labels
    check = evaluate_gate(doc_of(clean), _rules(min_roc_auc=0.7)).checks[0]
    assert not check.passed and "needs scores" in check.explanation


def doc_of(df):
    return faircard.assess(df, target="y", prediction="pred", sensitive="sex",
                           n_boot=0).to_dict()


def test_small_groups_left_out_fail_only_when_asked():
    df = make_dataset(2, n=600, n_features=1)
    d = faircard.assess(df, target="y", score="score", sensitive="sex", n_boot=0).to_dict()
    assert evaluate_gate(d, _rules(max_demographic_parity_difference=1.0)).passed
    strict = evaluate_gate(d, _rules(max_demographic_parity_difference=1.0,
                                     ignore_small_groups=False))
    check = _by(strict, "small_groups")
    assert not check.passed and check.value == 2
    assert "'tiny' (n=3)" in check.explanation and "'nopos' (n=22)" in check.explanation
    included = faircard.assess(df, target="y", score="score", sensitive="sex", n_boot=0,
                               include_small_groups=True).to_dict()
    assert evaluate_gate(included, _rules(ignore_small_groups=False)).passed


def test_require_approved_fails_before_and_passes_after_approval(tmp_path, clean, doc):
    sha = hashlib.sha256(clean.to_csv(index=False).encode()).hexdigest()
    fp = assessment_fingerprint(doc, dataset_sha256=sha)
    rules = _rules(max_demographic_parity_difference=1.0, require_approved=True)
    with AuditStore(tmp_path / "audit.db") as store:
        check = evaluate_gate(doc, rules, store, fingerprint=fp).checks[-1]
        assert check.name == "approved" and not check.passed
        assert "no record in the audit store" in check.explanation
        rec = store.add(doc, title="t", created_by="alice", dataset_name="d.csv",
                        dataset_sha256=sha)
        assert rec.fingerprint == fp
        store.submit(rec.id, "alice")
        check = evaluate_gate(doc, rules, store, fingerprint=fp).checks[-1]
        assert not check.passed and f"{rec.id} (in_review), none approved" in check.explanation
        store.review(rec.id, "bob", "approve")
        result = evaluate_gate(doc, rules, store, fingerprint=fp)
        assert result.passed and "approved by bob" in result.checks[-1].explanation
        # another dataset's fingerprint is not covered by this approval
        other = assessment_fingerprint(doc, dataset_sha256="f" * 64)
        assert not evaluate_gate(doc, rules, store, fingerprint=other).passed
    # a tampered store cannot vouch for anything
    import sqlite3

    con = sqlite3.connect(tmp_path / "audit.db")
    con.execute("UPDATE reviews SET reviewer = 'carol' WHERE decision = 'approve'")
    con.commit()
    con.close()
    with AuditStore(tmp_path / "audit.db") as store:
        check = evaluate_gate(doc, rules, store, fingerprint=fp).checks[-1]
        assert not check.passed and "failed verification" in check.explanation
    with pytest.raises(FaircardError, match="needs the audit store"):
        evaluate_gate(doc, rules, None, fingerprint=fp)


def test_rules_file_and_overrides(tmp_path, doc, oracle):
    path = tmp_path / "gate.toml"
    path.write_text(
        "max_demographic_parity_difference = 0.0\n"
        "min_demographic_parity_ratio = 0.8\n"
        "min_accuracy = 0.5\n"
        "fail_on_undefined = true\n"
        "[features.sex]\nmax_equalized_odds_difference = 0.9\n"
    )
    rules = load_rules(path)
    assert rules.limits["min_demographic_parity_ratio"] == 0.8
    assert rules.feature_limits == {"sex": {"max_equalized_odds_difference": 0.9}}
    assert not evaluate_gate(doc, rules).passed
    loosened = load_rules(path, {"max_demographic_parity_difference": 1.0,
                                 "min_demographic_parity_ratio": 0.0, "min_accuracy": None})
    assert loosened.limits["min_accuracy"] == 0.5  # None leaves the file's value
    assert evaluate_gate(doc, loosened).passed == (oracle["max_equalized_odds_difference"] <= 0.9)


@pytest.mark.parametrize("text,message", [
    ("max_demographic_parity_diference = 0.1\n",
     "Unknown key 'max_demographic_parity_diference'.*Did you mean "
     "'max_demographic_parity_difference'"),
    ("colour = 'red'\n", "Unknown key 'colour'"),
    ("[features.sex]\nmax_dpd = 0.1\n", r"Unknown key 'max_dpd' in 'gate.toml' \[features.sex\]"),
    ("[features.sex]\nmin_accuracy = 0.1\n", "overall metric and cannot be set per feature"),
    ("min_demographic_parity_ratio = 1.5\n", "ratio between 0 and 1"),
    ("max_demographic_parity_difference = -0.1\n", "cannot be negative"),
    ("max_demographic_parity_difference = '0.1'\n", "must be a number"),
    ("require_approved = 'yes'\n", "must be true or false"),
    ("max_demographic_parity_difference = \n", "not valid TOML"),
])
def test_bad_rules_files_are_errors_naming_the_problem(tmp_path, text, message):
    path = tmp_path / "gate.toml"
    path.write_text(text)
    with pytest.raises(FaircardError, match=message):
        load_rules(path)


def test_other_rule_errors(tmp_path, doc):
    with pytest.raises(FaircardError, match="does not exist"):
        load_rules(tmp_path / "nope.toml")
    with pytest.raises(FaircardError, match="no gate rules"):
        evaluate_gate(doc, GateRules())
    with pytest.raises(FaircardError, match="feature\\(s\\) gender that the assessment"):
        evaluate_gate(doc, _rules(max_demographic_parity_difference=0.1,
                                  features={"gender": {"skip": True}}))


def test_result_serialises(doc):
    result = evaluate_gate(doc, _rules(max_demographic_parity_difference=0.0, min_accuracy=0.0))
    out = result.to_dict()
    assert out["passed"] is False and len(out["checks"]) == 2
    assert out["summary"] == "gate FAILED: 1 of 2 checks failed"
    assert {"name", "feature", "value", "limit", "comparison", "passed", "explanation"} == \
        set(out["checks"][0])
    assert [c["passed"] for c in out["checks"]] == [False, True]
