"""The CI gate (:mod:`faircard.governance.gate`) on small assessment documents written here by
hand, whose criteria and rates are simple enough to check by eye (a selection rate of 0.3
against 0.6 differs by 0.3 and has a ratio of 0.5), and on a stand-in audit store whose
verification and records each test sets. Every bound is tested on both sides; a gate must
never pass on a store that fails verification or on a record that is not approved. Written to
kill mutmut survivors."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest

from faircard.errors import FaircardError
from faircard.governance import gate as g

CRITERIA = ("demographic_parity_difference", "demographic_parity_ratio",
            "disparate_impact_ratio", "equalized_odds_difference", "equalized_odds_ratio",
            "equal_opportunity_difference", "equal_opportunity_ratio")


def _doc(**extra) -> dict:
    """Two features. sex: women selected at 0.3, men at 0.6; TPR 0.5 vs 0.7; FPR 0.1 vs 0.4.
    age: every criterion undefined (fewer than two groups large enough)."""
    sex = {"demographic_parity_difference": 0.3, "demographic_parity_ratio": 0.5,
           "disparate_impact_ratio": 0.5, "equalized_odds_difference": 0.3,
           "equalized_odds_ratio": 0.25, "equal_opportunity_difference": 0.2,
           "equal_opportunity_ratio": 0.5 / 0.7}
    doc = {
        "target": "y", "sensitive_features": ["sex", "age"], "features": ["sex", "age"],
        "n_rows": 200, "n_dropped": 0, "favorable_outcome": "positive", "min_group_size": 30,
        "include_small_groups": False,
        "overall": {"accuracy": 0.8, "selection_rate": 0.45, "true_positive_rate": None,
                    "log_loss": 0.5},
        "criteria": {"sex": sex, "age": {c: None for c in CRITERIA}},
        "disparities": [
            {"feature": "sex", "metric": "selection_rate", "difference": 0.3, "ratio": 0.5,
             "worst_group": "f", "worst_value": 0.3, "best_group": "m", "best_value": 0.6},
            {"feature": "sex", "metric": "true_positive_rate", "difference": 0.2,
             "ratio": 0.5 / 0.7, "worst_group": "f", "worst_value": 0.5, "best_group": "m",
             "best_value": 0.7},
            # lower is better for FPR: the "worst" group has the higher rate
            {"feature": "sex", "metric": "false_positive_rate", "difference": 0.3,
             "ratio": 0.25, "worst_group": "m", "worst_value": 0.4, "best_group": "f",
             "best_value": 0.1},
        ],
        "by_group": [
            {"feature": "sex", "group": "f", "n": 100, "is_small_group": False,
             "undefined": {}},
            {"feature": "sex", "group": "m", "n": 100, "is_small_group": False,
             "undefined": {}},
            {"feature": "age", "group": "<25", "n": 10, "is_small_group": True,
             "undefined": {"true_positive_rate": "no actual positives in this group"}},
            {"feature": "age", "group": "25+", "n": 190, "is_small_group": False,
             "undefined": {}},
        ],
        "notes": ["'age': fewer than two groups have at least 30 rows, so groups are not "
                  "compared."],
    }
    doc.update(extra)
    return doc


def _rules(**kw) -> g.GateRules:
    return g.GateRules.from_mapping(kw)


def _message(fn, *args, **kw) -> str:
    with pytest.raises(FaircardError) as err:
        fn(*args, **kw)
    return str(err.value)


def _only(result: g.GateResult, name: str, feature: str | None = "sex") -> g.GateCheck:
    found = [c for c in result.checks if c.name == name and c.feature == feature]
    assert len(found) == 1, [c.line() for c in result.checks]
    return found[0]


# -- rules -----------------------------------------------------------------------------------

def test_defaults_of_the_flags():
    r = _rules(min_accuracy=0.5)
    assert (r.require_approved, r.require_authenticated, r.ignore_small_groups,
            r.fail_on_undefined, r.allow_empty, r.max_regression) == (
        False, False, True, True, False, None)
    assert r.limits == {"min_accuracy": 0.5} and r.feature_limits == {}
    assert r.skip_features == frozenset()


def test_every_flag_is_read():
    r = _rules(require_approved=True, require_authenticated=True, ignore_small_groups=False,
               fail_on_undefined=False, allow_empty=True, max_regression=0)
    assert (r.require_approved, r.require_authenticated, r.ignore_small_groups,
            r.fail_on_undefined, r.allow_empty, r.max_regression) == (
        True, True, False, False, True, 0.0)


@pytest.mark.parametrize("key", sorted(g.FLAGS))
def test_a_flag_must_be_true_or_false(key):
    assert _message(g.GateRules.from_mapping, {key: 1}, "'gate.toml'") == (
        f"In 'gate.toml', '{key}' must be true or false; got 1.")


def test_limits_must_be_finite_numbers():
    for bad in (True, "0.1", float("nan"), float("inf"), None, [0.1]):
        assert _message(_rules, max_demographic_parity_difference=bad) == (
            f"In the gate rules, 'max_demographic_parity_difference' must be a number; got "
            f"{bad!r}.")
    r = _rules(max_demographic_parity_difference=0, min_accuracy=1)
    assert r.limits == {"max_demographic_parity_difference": 0.0, "min_accuracy": 1.0}
    assert all(type(v) is float for v in r.limits.values())


@pytest.mark.parametrize("key", [k for k in g.CRITERION_LIMITS if k.endswith("_difference")])
def test_a_difference_limit_is_not_negative(key):
    assert _rules(**{key: 0.0}).limits[key] == 0.0
    assert _rules(**{key: 2.0}).limits[key] == 2.0   # differences have no upper bound here
    assert _message(_rules, **{key: -0.01}) == (
        f"In the gate rules, '{key}' is a difference and cannot be negative.")


@pytest.mark.parametrize("key", [k for k in g.CRITERION_LIMITS if k.endswith("_ratio")])
def test_a_ratio_limit_is_between_0_and_1_inclusive(key):
    assert _rules(**{key: 0}).limits[key] == 0.0
    assert _rules(**{key: 1}).limits[key] == 1.0
    for bad in (-0.01, 1.01):
        assert _message(_rules, **{key: bad}) == (
            f"In the gate rules, '{key}' is a ratio between 0 and 1; got {bad:g}.")


def test_metric_limits_are_in_the_metrics_range():
    assert _rules(min_accuracy=0, max_accuracy=1).limits == {"min_accuracy": 0.0,
                                                            "max_accuracy": 1.0}
    assert _message(_rules, min_accuracy=1.5) == (
        "In the gate rules, 'min_accuracy' limits accuracy, which is between 0 and 1; got 1.5.")
    assert _message(_rules, max_false_positive_rate=-0.5) == (
        "In the gate rules, 'max_false_positive_rate' limits false positive rate, which is "
        "between 0 and 1; got -0.5.")
    # log loss is unbounded above, not below
    assert _rules(max_log_loss=3.5).limits == {"max_log_loss": 3.5}
    assert _rules(max_log_loss=0).limits == {"max_log_loss": 0.0}
    assert _message(_rules, max_log_loss=-0.1) == (
        "In the gate rules, 'max_log_loss' limits log loss, which cannot be negative; got -0.1.")


def test_count_cannot_be_limited():
    assert "min_count" not in g.METRIC_LIMITS and "max_count" not in g.METRIC_LIMITS
    assert {"min_accuracy", "max_accuracy", "min_roc_auc", "max_log_loss"} <= set(g.METRIC_LIMITS)
    assert g.METRIC_LIMITS["min_selection_rate"] == "selection_rate"
    assert g.METRIC_LIMITS["max_selection_rate"] == "selection_rate"


def test_max_regression():
    assert _rules(max_regression=0.02).max_regression == 0.02
    assert _rules(max_regression=0).max_regression == 0.0
    assert _message(_rules, max_regression=-0.01) == (
        "In the gate rules, 'max_regression' cannot be negative; 0 allows no regression at "
        "all.")
    assert _message(g.GateRules.from_mapping, {"max_regression": "0.1"}, "'gate.toml'") == (
        "In 'gate.toml', 'max_regression' must be a number; got '0.1'.")


def test_per_feature_limits_skip_and_disable():
    r = _rules(features={"sex": {"max_demographic_parity_difference": 0.2,
                                 "min_demographic_parity_ratio": False},
                         "age": {"skip": True}, "race": {"skip": False}})
    assert r.feature_limits == {"sex": {"max_demographic_parity_difference": 0.2,
                                        "min_demographic_parity_ratio": None},
                                "age": {}, "race": {}}
    assert r.skip_features == frozenset({"age"})


def test_per_feature_errors_name_the_table():
    where = "In 'gate.toml' [features.sex]"

    def msg(table):
        return _message(g.GateRules.from_mapping, {"features": {"sex": table}}, "'gate.toml'")

    assert msg([1]) == f"{where}: expected a table of limits."
    assert msg({"skip": "yes"}) == f"{where}, 'skip' must be true or false; got 'yes'."
    assert msg({"max_equalized_odds_difference": -1}) == (
        f"{where}, 'max_equalized_odds_difference' is a difference and cannot be negative.")
    assert msg({"min_demographic_parity_ratio": True}) == (
        f"{where}, 'min_demographic_parity_ratio' must be a number; got True.")
    assert msg({"min_accuracy": 0.5}) == (
        f"{where}: 'min_accuracy' limits an overall metric and cannot be set per feature; "
        "move it to the top of the file.")
    assert msg({"skipp": True}) == "Unknown key 'skipp' in 'gate.toml' [features.sex]. " \
                                   "Did you mean 'skip'?"
    assert _message(g.GateRules.from_mapping, {"features": 3}, "'gate.toml'") == (
        "In 'gate.toml', 'features' must be a table of features.")


def test_unknown_keys_suggest_the_closest_or_list_the_known_ones():
    assert _message(_rules, min_acuracy=0.5) == (
        "Unknown key 'min_acuracy' in the gate rules. Did you mean 'min_accuracy'?")
    assert _message(_rules, feature={}) == (
        "Unknown key 'feature' in the gate rules. Did you mean 'features'?")
    assert _message(_rules, max_regresion=0.1) == (
        "Unknown key 'max_regresion' in the gate rules. Did you mean 'max_regression'?")
    known = [*g.FLAGS, *g.CRITERION_LIMITS][:12]
    assert _message(_rules, zzz=1) == (
        f"Unknown key 'zzz' in the gate rules. Known keys: {', '.join(known)}, ...")
    assert known[0] == "require_approved" and len(known) == 12


@pytest.mark.parametrize("kw,empty", [
    ({}, True),
    ({"allow_empty": True, "fail_on_undefined": False}, True),
    ({"features": {"sex": {"max_demographic_parity_difference": False}}}, True),
    ({"features": {"sex": {"skip": True}}}, True),
    ({"features": {"sex": {"max_demographic_parity_difference": 0.1}}}, False),
    ({"min_accuracy": 0.5}, False),
    ({"require_approved": True}, False),
    ({"require_authenticated": True}, False),
    ({"max_regression": 0}, False),
    ({"ignore_small_groups": False}, False),
])
def test_is_empty(kw, empty):
    assert _rules(**kw).is_empty is empty


# -- rules files ---------------------------------------------------------------------------------

def test_a_rules_file_with_overrides(tmp_path):
    path = tmp_path / "gate.toml"
    path.write_text("# règles\nmin_accuracy = 0.5\nmax_regression = 0.1\n"
                    "[features.sex]\nmin_demographic_parity_ratio = 0.8\n", encoding="utf-8")
    r = g.load_rules(path, {"min_accuracy": None, "max_regression": 0.2,
                            "require_approved": True})
    assert r.limits == {"min_accuracy": 0.5} and r.max_regression == 0.2
    assert r.require_approved is True
    assert r.feature_limits == {"sex": {"min_demographic_parity_ratio": 0.8}}
    assert g.load_rules(None, {"min_accuracy": 0.25}).limits == {"min_accuracy": 0.25}
    assert _message(g.load_rules, path, {"min_accuracy": 2}) == (
        "In 'gate.toml', 'min_accuracy' limits accuracy, which is between 0 and 1; got 2.")
    assert _message(g.load_rules, None, {"min_accuracy": 2}).startswith("In the gate rules, ")


def test_rules_file_size_limit_on_both_sides(tmp_path):
    path = tmp_path / "gate.toml"
    line = "min_accuracy = 0.5\n"
    path.write_text(line + "#" * (g.MAX_RULES_BYTES - len(line) - 1) + "\n")
    assert path.stat().st_size == g.MAX_RULES_BYTES == 1_000_000
    assert g.load_rules(path).limits == {"min_accuracy": 0.5}
    path.write_text(line + "#" * (g.MAX_RULES_BYTES - len(line)) + "\n")
    assert _message(g.load_rules, path) == (
        f"The rules file '{path}' is 1,000,001 bytes; gate rules are at most 1,000,000. Is it "
        "the right file?")


def test_unreadable_rules_files(tmp_path):
    missing = tmp_path / "nope.toml"
    assert _message(g.load_rules, missing) == f"The rules file '{missing}' does not exist."
    latin = tmp_path / "latin.toml"
    latin.write_bytes("# r\xe8gles\n".encode("latin-1"))
    assert _message(g.load_rules, latin).startswith(f"Cannot read the rules file '{latin}': ")
    assert _message(g.load_rules, tmp_path).startswith(f"Cannot read the rules file "
                                                       f"'{tmp_path}': ")
    bad = tmp_path / "bad.toml"
    bad.write_text("min_accuracy = \n")
    assert _message(g.load_rules, bad).startswith(f"The rules file '{bad}' is not valid TOML: ")
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert _message(g.load_rules, deep) == (
        f"The rules file '{deep}' nests too deeply to be gate rules.")
    long = tmp_path / "long.toml"
    long.write_text("min_accuracy = " + "1" * 5000 + "\n")
    assert _message(g.load_rules, long) == (
        f"The rules file '{long}' holds a number too long to read (more than 4,300 digits).")


# -- checks and results ----------------------------------------------------------------------------

def test_check_lines():
    c = g.GateCheck("accuracy", None, 0.81234, 0.75, ">=", True, "fine")
    assert c.line() == "PASS accuracy = 0.8123 (limit >= 0.75): fine"
    c = g.GateCheck("demographic_parity_difference", "sex", None, 0.1, "<=", False, "why")
    assert c.line() == "FAIL [sex] demographic_parity_difference = n/a (limit <= 0.1): why"
    c = g.GateCheck("approved", None, None, None, "", True, "ok")
    assert c.line() == "PASS approved: ok"
    assert c.to_dict() == {"name": "approved", "feature": None, "value": None, "limit": None,
                           "comparison": "", "passed": True, "explanation": "ok"}


def test_results_and_summaries():
    ok = g.GateCheck("a", None, 1.0, 1.0, "<=", True, "")
    bad = g.GateCheck("b", None, 2.0, 1.0, "<=", False, "")
    r = g.GateResult([ok, bad, ok], fingerprint="f" * 64)
    assert not r.passed and r.failures == [bad]
    assert r.summary == "gate FAILED: 1 of 3 checks failed"
    assert r.to_dict() == {"passed": False, "summary": r.summary, "fingerprint": "f" * 64,
                           "checks": [ok.to_dict(), bad.to_dict(), ok.to_dict()],
                           "all_or_nothing_groups": []}
    r = g.GateResult([ok, ok])
    assert r.passed and r.summary == "gate passed: 2 checks passed" and r.failures == []
    assert r.to_dict()["fingerprint"] is None
    none = g.GateResult([])
    assert not none.passed
    assert none.summary == ("gate FAILED: no checks ran (every feature was skipped or had "
                            "nothing to check); give limits that apply, or allow_empty = true "
                            "(--allow-empty)")
    allowed = g.GateResult([], allow_empty=True)
    assert allowed.passed and allowed.summary == ("gate passed: no checks ran (allowed by "
                                                  "allow_empty)")
    assert not g.GateResult([bad], allow_empty=True).passed


# -- evaluate_gate: criteria -------------------------------------------------------------------------

def test_no_rules_and_unknown_features_are_errors():
    assert _message(g.evaluate_gate, _doc(), g.GateRules()) == (
        "There are no gate rules; give limits such as max_demographic_parity_difference = 0.1 "
        "(or --max-dpd 0.1).")
    rules = _rules(min_accuracy=0.5, features={"race": {"skip": True},
                                               "gender": {"max_equalized_odds_difference": 0.1},
                                               "sex": {"skip": True}})
    assert _message(g.evaluate_gate, _doc(), rules) == (
        "The rules name feature(s) gender, race that the assessment does not have. Its "
        "features are: sex, age.")


def test_every_criterion_is_checked_per_feature_in_order():
    limits = {k: (1.0 if k.startswith("max_") else 0.0) for k in g.CRITERION_LIMITS}
    result = g.evaluate_gate(_doc(), _rules(**limits, min_accuracy=0.5,
                                            fail_on_undefined=False))
    assert [(c.name, c.feature) for c in result.checks] == [
        *[(c, "sex") for c in g.CRITERION_LIMITS.values()],
        *[(c, "age") for c in g.CRITERION_LIMITS.values()],
        ("accuracy", None)]
    assert result.passed
    assert [c.comparison for c in result.checks[:7]] == [
        "<=", ">=", ">=", "<=", ">=", "<=", ">="]


def test_features_come_from_the_criteria_when_the_document_does_not_list_them():
    doc = _doc()
    del doc["features"]
    result = g.evaluate_gate(doc, _rules(max_demographic_parity_difference=1.0))
    assert [c.feature for c in result.checks] == ["sex", "age"]
    doc["features"] = []
    result = g.evaluate_gate(doc, _rules(max_demographic_parity_difference=1.0))
    assert [c.feature for c in result.checks] == ["sex", "age"]


@pytest.mark.parametrize("key,value", [
    ("max_demographic_parity_difference", 0.3), ("min_demographic_parity_ratio", 0.5),
    ("min_disparate_impact_ratio", 0.5), ("max_equalized_odds_difference", 0.3),
    ("min_equalized_odds_ratio", 0.25), ("max_equal_opportunity_difference", 0.2),
])
def test_criterion_limits_are_inclusive_with_a_tolerance_of_1e_9(key, value):
    name = g.CRITERION_LIMITS[key]
    sign = 1 if key.startswith("max_") else -1

    def check(limit):
        return _only(g.evaluate_gate(_doc(), _rules(**{key: limit},
                                                    features={"age": {"skip": True}})), name)

    at = check(value)
    assert at.passed and at.value == value and at.limit == value
    assert at.explanation.startswith("within the limit; ")
    # 0.3 computed as 0.30000000000000004 still meets a limit of 0.3 ...
    assert check(value - sign * 5e-10).passed
    # ... but a value beyond the tolerance does not
    beyond = check(value - sign * 2e-9)
    assert not beyond.passed and beyond.explanation.startswith("outside the limit; ")


def test_explanations_name_the_groups_furthest_apart():
    def expl(key, limit, **doc_kw):
        return _only(g.evaluate_gate(_doc(**doc_kw), _rules(**{key: limit},
                                     features={"age": {"skip": True}})),
                     g.CRITERION_LIMITS[key]).explanation

    assert expl("max_demographic_parity_difference", 0.5) == (
        "within the limit; the selection rates of 'f' (0.300) and 'm' (0.600) differ by 0.300")
    assert expl("min_demographic_parity_ratio", 0.6) == (
        "outside the limit; the lowest of the selection rates, 'f' (0.300), is 0.500 times the "
        "highest, 'm' (0.600)")
    # equalized odds: the larger difference (FPR 0.3 > TPR 0.2), lowest rate first
    assert expl("max_equalized_odds_difference", 0.5) == (
        "within the limit; the false positive rates of 'f' (0.100) and 'm' (0.400) differ by "
        "0.300")
    # ... and the smaller ratio (FPR 0.25 < TPR 0.71)
    assert expl("min_equalized_odds_ratio", 0.1) == (
        "within the limit; the lowest of the false positive rates, 'f' (0.100), is 0.250 times "
        "the highest, 'm' (0.400)")
    assert expl("max_equal_opportunity_difference", 0.1) == (
        "outside the limit; the true positive rates of 'f' (0.500) and 'm' (0.700) differ by "
        "0.200")
    assert expl("min_disparate_impact_ratio", 0.8) == (
        "outside the limit; the lowest of the shares of people approved, 'f' (0.300), is 0.500 "
        "times the highest, 'm' (0.600)")


def test_equalized_odds_picks_the_true_positive_rates_when_they_are_further_apart():
    doc = _doc()
    doc["disparities"][1].update(difference=0.35, ratio=0.2, worst_value=0.1, best_value=0.45)
    check = _only(g.evaluate_gate(doc, _rules(max_equalized_odds_difference=0.5,
                                              min_equalized_odds_ratio=0.1,
                                              features={"age": {"skip": True}})),
                  "equalized_odds_difference")
    assert check.explanation == ("within the limit; the true positive rates of 'f' (0.100) and "
                                 "'m' (0.450) differ by 0.350")


def test_disparate_impact_reads_favourable_decisions_when_a_positive_is_adverse():
    # selected 0.3 and 0.6 -> not flagged 0.7 and 0.4: the lowest share is now the men's
    doc = _doc(favorable_outcome="negative")
    check = _only(g.evaluate_gate(doc, _rules(min_disparate_impact_ratio=0.5,
                                              features={"age": {"skip": True}})),
                  "disparate_impact_ratio")
    assert check.explanation == (
        "within the limit; the lowest of the shares of people not flagged, 'm' (0.400), is "
        "0.500 times the highest, 'f' (0.700)")
    # demographic parity is about selection rates, whichever decision is favourable
    check = _only(g.evaluate_gate(doc, _rules(max_demographic_parity_difference=0.5,
                                              features={"age": {"skip": True}})),
                  "demographic_parity_difference")
    assert "the selection rates of 'f' (0.300) and 'm' (0.600)" in check.explanation


def test_explanations_without_the_groups_fall_back_to_the_value():
    rules = _rules(max_demographic_parity_difference=0.5, features={"age": {"skip": True}})
    for disparities in (None, [], [{"feature": "race", "metric": "selection_rate",
                                    "difference": 0.1}],
                        [{"feature": "sex", "metric": "true_positive_rate", "difference": 0.1}],
                        [{"feature": "sex", "metric": "selection_rate", "difference": None}],
                        [{"feature": "sex", "metric": "selection_rate", "difference": 0.3,
                          "worst_group": "f", "worst_value": None, "best_group": "m",
                          "best_value": 0.6}],
                        [{"feature": "sex", "metric": "selection_rate", "difference": 0.3,
                          "worst_group": "f", "worst_value": 0.3, "best_group": "m"}]):
        check = _only(g.evaluate_gate(_doc(disparities=disparities), rules),
                      "demographic_parity_difference")
        assert check.explanation == ("within the limit; demographic parity difference is 0.3"), \
            disparities


def test_a_zero_rate_is_a_value_not_a_missing_one():
    doc = _doc()
    doc["disparities"][0].update(worst_value=0.0, difference=0.6)
    doc["criteria"]["sex"]["demographic_parity_difference"] = 0.6
    check = _only(g.evaluate_gate(doc, _rules(max_demographic_parity_difference=0.5,
                                              features={"age": {"skip": True}})),
                  "demographic_parity_difference")
    assert check.explanation == ("outside the limit; the selection rates of 'f' (0.000) and "
                                 "'m' (0.600) differ by 0.600")


def test_the_lower_rate_is_named_first_whichever_group_is_worst():
    doc = _doc()
    doc["disparities"][0].update(worst_group="m", worst_value=0.6, best_group="f",
                                 best_value=0.3)
    check = _only(g.evaluate_gate(doc, _rules(max_demographic_parity_difference=0.5,
                                              features={"age": {"skip": True}})),
                  "demographic_parity_difference")
    assert "'f' (0.300) and 'm' (0.600) differ by 0.300" in check.explanation


def test_undefined_criteria_fail_with_the_reason_unless_allowed():
    rules = _rules(max_demographic_parity_difference=0.5, features={"sex": {"skip": True}})
    check = _only(g.evaluate_gate(_doc(), rules), "demographic_parity_difference", "age")
    assert (check.passed, check.value, check.limit, check.comparison) == (False, None, 0.5, "<=")
    assert check.explanation == "undefined: fewer than two groups have at least 30 rows, so " \
                                "groups are not compared"
    rules = _rules(min_demographic_parity_ratio=0.5, fail_on_undefined=False,
                   features={"sex": {"skip": True}})
    check = _only(g.evaluate_gate(_doc(), rules), "demographic_parity_ratio", "age")
    assert (check.passed, check.value, check.comparison) == (True, None, ">=")
    assert check.explanation == (
        "undefined (fewer than two groups have at least 30 rows, so groups are not compared); "
        "not counted because fail_on_undefined = false")


def test_a_note_about_another_feature_is_not_its_reason():
    doc = _doc(notes=["'sex': fewer than two groups have at least 30 rows."])
    rules = _rules(max_demographic_parity_difference=0.5, features={"sex": {"skip": True}})
    check = _only(g.evaluate_gate(doc, rules), "demographic_parity_difference", "age")
    assert check.explanation == "undefined: the assessment could not compute it"


def test_reasons_from_the_compared_groups():
    doc = _doc(notes=None)
    doc["by_group"] = [
        {"feature": "age", "group": "<25", "n": 40, "is_small_group": False,
         "undefined": {"true_positive_rate": "no actual positives in this group"}},
        {"feature": "age", "group": "25+", "n": 160, "is_small_group": False,
         "undefined": {"true_positive_rate": "no actual positives in this group",
                       "false_positive_rate": "no actual negatives in this group"}},
        {"feature": "age", "group": "65+", "n": 5, "is_small_group": True, "undefined": {}},
        {"feature": "sex", "group": "f", "n": 100, "is_small_group": False, "undefined": {}},
    ]
    rules = _rules(max_equal_opportunity_difference=0.5, max_equalized_odds_difference=0.5,
                   max_demographic_parity_difference=0.5, features={"sex": {"skip": True}})
    result = g.evaluate_gate(doc, rules)
    # the small group is left out of the comparison, so every compared group lacks positives
    assert _only(result, "equal_opportunity_difference", "age").explanation == (
        "undefined: true_positive_rate is undefined in every compared group (no actual "
        "positives in this group)")
    # FPR is defined in one compared group only: it has no gap either
    assert _only(result, "equalized_odds_difference", "age").explanation == (
        "undefined: true_positive_rate is undefined in every compared group (no actual "
        "positives in this group); false_positive_rate is defined in only one compared "
        "group (undefined in '25+': no actual negatives in this group)")
    assert _only(result, "demographic_parity_difference", "age").explanation == (
        "undefined: the assessment could not compute it")
    # with small groups included, the defined small group is compared too: alone
    result = g.evaluate_gate({**doc, "include_small_groups": True}, rules)
    assert _only(result, "equal_opportunity_difference", "age").explanation == (
        "undefined: true_positive_rate is defined in only one compared group (undefined in "
        "'<25': no actual positives in this group; '25+': no actual positives in this group)")


def test_both_rates_undefined_are_both_named_with_their_reasons_sorted():
    doc = _doc(notes=[])
    doc["by_group"] = [
        {"feature": "age", "group": "a", "n": 40, "is_small_group": False,
         "undefined": {"true_positive_rate": "no actual positives in this group",
                       "false_positive_rate": "no actual negatives in this group"}},
        {"feature": "age", "group": "b", "n": 40, "is_small_group": False,
         "undefined": {"true_positive_rate": "a reason that sorts first",
                       "false_positive_rate": "no actual negatives in this group"}},
    ]
    rules = _rules(max_equalized_odds_difference=0.5, features={"sex": {"skip": True}})
    assert _only(g.evaluate_gate(doc, rules), "equalized_odds_difference", "age").explanation == (
        "undefined: true_positive_rate is undefined in every compared group (a reason that "
        "sorts first; no actual positives in this group); false_positive_rate is undefined in "
        "every compared group (no actual negatives in this group)")


def test_a_listed_feature_without_criteria_is_named():
    doc = _doc(features=["sex", "age", "region"], notes=[])
    rules = _rules(max_demographic_parity_difference=0.5,
                   features={"sex": {"skip": True}, "age": {"skip": True}})
    check = _only(g.evaluate_gate(doc, rules), "demographic_parity_difference", "region")
    assert check.explanation == "undefined: the assessment has no criteria for 'region'"


def test_per_feature_overrides_replace_and_disable_the_global_limit():
    rules = _rules(max_demographic_parity_difference=0.1, min_demographic_parity_ratio=0.4,
                   features={"sex": {"max_demographic_parity_difference": 0.35,
                                     "min_demographic_parity_ratio": False},
                             "age": {"skip": True}})
    result = g.evaluate_gate(_doc(), rules)
    assert [(c.name, c.limit, c.passed) for c in result.checks] == [
        ("demographic_parity_difference", 0.35, True)]
    # another feature keeps the global limits
    result = g.evaluate_gate(_doc(), _rules(
        max_demographic_parity_difference=0.1,
        features={"age": {"max_demographic_parity_difference": 0.9}},
        fail_on_undefined=False))
    assert [(c.feature, c.limit) for c in result.checks] == [("sex", 0.1), ("age", 0.9)]


def test_a_limit_of_zero_is_checked():
    result = g.evaluate_gate(_doc(), _rules(max_equal_opportunity_difference=0.0,
                                            features={"age": {"skip": True}}))
    assert [(c.name, c.limit, c.passed) for c in result.checks] == [
        ("equal_opportunity_difference", 0.0, False)]


def test_an_undefined_criterion_value_reads_as_a_number_when_given_as_an_integer():
    doc = _doc()
    doc["criteria"]["sex"]["demographic_parity_difference"] = 0
    check = _only(g.evaluate_gate(doc, _rules(max_demographic_parity_difference=0.0,
                                              features={"age": {"skip": True}})),
                  "demographic_parity_difference")
    assert check.passed and check.value == 0.0 and isinstance(check.value, float)


# -- small groups --------------------------------------------------------------------------------

def test_small_groups_left_out_fail_only_when_asked():
    assert g.evaluate_gate(_doc(), _rules(min_accuracy=0.5)).passed
    result = g.evaluate_gate(_doc(), _rules(ignore_small_groups=False))
    assert [(c.name, c.feature, c.value, c.limit, c.comparison, c.passed)
            for c in result.checks] == [("small_groups", "sex", 0.0, 0.0, "<=", True),
                                        ("small_groups", "age", 1.0, 0.0, "<=", False)]
    assert result.checks[0].explanation == "no group was left out of the comparison"
    assert result.checks[1].explanation == (
        "1 group with fewer than 30 rows was left out of the comparison: '<25' (n=10); "
        "assess with --include-small-groups or a lower --min-group-size, or set "
        "ignore_small_groups = true")
    included = g.evaluate_gate(_doc(include_small_groups=True), _rules(ignore_small_groups=False))
    assert included.passed
    assert _only(included, "small_groups", "age").explanation == (
        "small groups were included in the comparison")
    assert _only(included, "small_groups", "age").value == 0.0


@pytest.mark.parametrize("n_small,more", [(5, ""), (6, " and 1 more"), (8, " and 3 more")])
def test_at_most_five_small_groups_are_named(n_small, more):
    doc = _doc()
    doc["by_group"] = [{"feature": "age", "group": f"g{i}", "n": i, "is_small_group": True}
                       for i in range(n_small)]
    check = _only(g.evaluate_gate(doc, _rules(ignore_small_groups=False,
                                              features={"sex": {"skip": True}})),
                  "small_groups", "age")
    shown = ", ".join(f"'g{i}' (n={i})" for i in range(5))
    assert check.value == float(n_small) and not check.passed
    assert check.explanation.startswith(
        f"{n_small} groups with fewer than 30 rows were left out of the comparison: "
        f"{shown}{more}; assess")


def test_small_groups_are_checked_after_the_criteria_of_their_feature():
    result = g.evaluate_gate(_doc(), _rules(max_demographic_parity_difference=1.0,
                                            ignore_small_groups=False, fail_on_undefined=False))
    assert [(c.name, c.feature) for c in result.checks] == [
        ("demographic_parity_difference", "sex"), ("small_groups", "sex"),
        ("demographic_parity_difference", "age"), ("small_groups", "age")]


# -- overall metrics -------------------------------------------------------------------------------

def test_metric_limits_are_inclusive_with_the_tolerance():
    def check(**kw):
        return g.evaluate_gate(_doc(), _rules(**kw)).checks

    (c,) = check(min_accuracy=0.8)
    assert (c.name, c.feature, c.value, c.limit, c.comparison, c.passed) == (
        "accuracy", None, 0.8, 0.8, ">=", True)
    assert c.explanation == "within the limit; overall accuracy is 0.8000"
    assert check(min_accuracy=0.8 + 5e-10)[0].passed
    (c,) = check(min_accuracy=0.8 + 2e-9)
    assert not c.passed and c.explanation == "outside the limit; overall accuracy is 0.8000"
    (c,) = check(max_selection_rate=0.45)
    assert c.passed and c.comparison == "<="
    assert c.explanation == "within the limit; overall selection rate is 0.4500"
    assert check(max_selection_rate=0.45 - 5e-10)[0].passed
    assert not check(max_selection_rate=0.45 - 2e-9)[0].passed
    assert not check(max_log_loss=0.4)[0].passed and check(max_log_loss=0.5)[0].passed


def test_undefined_metrics_say_why():
    def only(**kw):
        (c,) = g.evaluate_gate(_doc(), _rules(**kw)).checks
        return c

    c = only(min_roc_auc=0.7)
    assert (c.name, c.value, c.passed, c.comparison) == ("roc_auc", None, False, ">=")
    assert c.explanation == "undefined: it needs scores; this assessment used predicted labels"
    assert only(max_precision=0.7).explanation == (
        "undefined: the assessment does not report it")
    assert only(min_true_positive_rate=0.7).explanation == "undefined: no actual positives"
    doc = _doc()
    doc["overall"]["accuracy"] = None
    (c,) = g.evaluate_gate(doc, _rules(min_accuracy=0.7)).checks
    assert c.explanation == "undefined: undefined"
    (c,) = g.evaluate_gate(doc, _rules(min_accuracy=0.7, fail_on_undefined=False)).checks
    assert c.passed and c.explanation == ("undefined (undefined); not counted because "
                                          "fail_on_undefined = false")


def test_criterion_limits_do_not_become_metric_checks():
    result = g.evaluate_gate(_doc(), _rules(max_demographic_parity_difference=1.0,
                                            min_accuracy=0.5, features={"age": {"skip": True}}))
    assert [(c.name, c.feature) for c in result.checks] == [
        ("demographic_parity_difference", "sex"), ("accuracy", None)]


# -- regression against a baseline -------------------------------------------------------------------

def _with(doc: dict, feature: str, **criteria) -> dict:
    doc = copy.deepcopy(doc)
    doc["criteria"][feature].update(criteria)
    return doc


def test_regression_needs_a_baseline():
    assert _message(g.evaluate_gate, _doc(), _rules(max_regression=0.1)) == (
        "max_regression compares with a baseline record; give it (--baseline ID).")


def test_the_worst_regression_per_feature_against_its_limit():
    base = _doc()
    # sex: DP difference 0.3 -> 0.35 (+0.05, worse), DP ratio 0.5 -> 0.4 (worse by 0.1)
    new = _with(base, "sex", demographic_parity_difference=0.35, demographic_parity_ratio=0.4)
    result = g.evaluate_gate(new, _rules(max_regression=0.1), baseline=base)
    sex, age = result.checks
    assert (sex.name, sex.feature, sex.limit, sex.comparison) == ("regression", "sex", 0.1, "<=")
    assert sex.value == pytest.approx(0.1) and sex.passed
    assert sex.explanation == (
        "within the limit; demographic parity ratio went from 0.5000 to 0.4000 (-0.1000), "
        "0.1000 less fair than the baseline")
    assert (age.feature, age.value, age.passed) == ("age", None, False)
    assert age.explanation == "undefined: no criterion is defined in both assessments"
    # just beyond the limit and its tolerance
    worse = g.evaluate_gate(new, _rules(max_regression=0.1 - 2e-9), baseline=base).checks[0]
    assert not worse.passed and worse.explanation.startswith("outside the limit; ")
    assert g.evaluate_gate(new, _rules(max_regression=0.1 - 1e-11), baseline=base).checks[0] \
        .passed


def test_a_worse_difference_shows_a_plus_sign():
    base = _doc()
    new = _with(base, "sex", equalized_odds_difference=0.5)
    (sex,) = g.evaluate_gate(new, _rules(max_regression=0.1, features={"age": {"skip": True}}),
                             baseline=base).checks
    assert not sex.passed and sex.value == pytest.approx(0.2)
    assert sex.explanation == (
        "outside the limit; equalized odds difference went from 0.3000 to 0.5000 (+0.2000), "
        "0.2000 less fair than the baseline")


def test_no_regression_and_improvements_pass_at_a_limit_of_zero():
    base = _doc()
    same = g.evaluate_gate(base, _rules(max_regression=0, features={"age": {"skip": True}}),
                           baseline=base).checks[0]
    assert same.passed and same.value == 0.0 and same.limit == 0.0
    assert same.explanation == ("within the limit; no criterion is less fair than in the "
                                "baseline")
    better = _with(base, "sex", demographic_parity_difference=0.1,
                   equalized_odds_difference=0.2, equal_opportunity_difference=0.1,
                   demographic_parity_ratio=0.9, equalized_odds_ratio=0.5,
                   equal_opportunity_ratio=0.9)
    check = g.evaluate_gate(better, _rules(max_regression=0, features={"age": {"skip": True}}),
                            baseline=base).checks[0]
    assert check.passed and check.value < 0
    assert check.explanation.endswith("no criterion is less fair than in the baseline")


def test_regression_of_skipped_features_is_not_checked_and_comes_after_metrics():
    base = _doc()
    new = _with(base, "sex", demographic_parity_difference=0.9)
    result = g.evaluate_gate(new, _rules(max_regression=0.0, min_accuracy=0.5,
                                         features={"sex": {"skip": True}},
                                         fail_on_undefined=False), baseline=base)
    assert [(c.name, c.feature) for c in result.checks] == [("accuracy", None),
                                                           ("regression", "age")]


# -- approvals and the audit store ------------------------------------------------------------------

FP = "ab" * 32


@dataclass
class Rec:
    id: int
    status: str
    fingerprint: str = FP
    superseded_by: tuple = ()


@dataclass
class Event:
    decision: str
    reviewer: str
    at: str
    authenticated: bool = False


@dataclass
class Verified:
    ok: bool
    problems: list
    message: str = "The audit store is intact."


class Store:
    """Stands in for AuditStore: find_by_fingerprint(fp, status=...), history(id), verify()."""

    def __init__(self, records=(), history=None, ok=True, problems=()):
        self.records = list(records)
        self.events = history or {}
        self.verified = Verified(ok, list(problems))
        self.heads = []

    def verify(self, expect_head=None):
        self.heads.append(expect_head)
        return self.verified

    def find_by_fingerprint(self, fingerprint, *, status=None):
        return [r for r in self.records if r.fingerprint == fingerprint
                and (status is None or r.status == status)]

    def history(self, record_id):
        return list(self.events.get(record_id, ()))


def _approval(store, fingerprint=FP, authenticated=False, expect_head=None):
    rules = _rules(require_approved=True, require_authenticated=authenticated)
    result = g.evaluate_gate(_doc(), rules, store, fingerprint=fingerprint,
                             expect_head=expect_head)
    (check,) = result.checks
    assert (check.name, check.feature, check.value, check.limit, check.comparison) == (
        "approved", None, None, None, "")
    assert result.passed is check.passed
    return check


def _approved_store(**kw) -> Store:
    return Store(records=[Rec(1, "approved")],
                 history={1: [Event("submit", "alice", "2026-11-20T10:00:00"),
                              Event("approve", "bob", "2026-11-21T09:30:00", **kw)]})


def test_an_approved_record_passes_and_names_its_reviewer():
    check = _approval(_approved_store())
    assert check.passed
    assert check.explanation == ("fingerprint abababababab matches record 1, approved by bob on "
                                 "2026-11-21")


def test_the_latest_approval_of_the_latest_approved_record_is_named():
    store = Store(records=[Rec(1, "approved"), Rec(2, "approved", superseded_by=(4, 5)),
                           Rec(3, "in_review")],
                  history={1: [Event("approve", "bob", "2026-11-01T00:00:00")],
                           2: [Event("approve", "carol", "2026-11-02T00:00:00"),
                               Event("comment", "erin", "2026-11-04T00:00:00"),
                               Event("approve", "dave", "2026-11-03T00:00:00")]})
    check = _approval(store)
    assert check.passed
    assert check.explanation == ("fingerprint abababababab matches record 2, approved by dave on "
                                 "2026-11-03; note: superseded by records 4, 5")


def test_an_approved_record_without_an_approval_event_names_no_one():
    store = Store(records=[Rec(1, "approved")],
                  history={1: [Event("comment", "erin", "2026-11-04T00:00:00")]})
    assert _approval(store).explanation == "fingerprint abababababab matches record 1, approved"
    check = _approval(store, authenticated=True)
    assert not check.passed
    assert check.explanation == (
        "fingerprint abababababab matches record 1, approved without signing in (a typed name)"
        "; require_authenticated needs an approval by someone signed in")


def test_require_authenticated_needs_a_signed_in_approver():
    check = _approval(_approved_store(), authenticated=True)
    assert not check.passed
    assert check.explanation == (
        "fingerprint abababababab matches record 1, approved by bob on 2026-11-21 without "
        "signing in (a typed name); require_authenticated needs an approval by someone signed "
        "in")
    assert _approval(_approved_store(authenticated=True), authenticated=True).passed
    # require_authenticated alone also requires an approval
    result = g.evaluate_gate(_doc(), _rules(require_authenticated=True), Store(),
                             fingerprint=FP)
    assert not result.passed and result.checks[0].name == "approved"


def test_records_in_other_statuses_do_not_pass():
    store = Store(records=[Rec(1, "in_review"), Rec(2, "rejected"),
                           Rec(3, "approved", fingerprint="cd" * 32)],
                  history={3: [Event("approve", "bob", "2026-11-21T09:30:00")]})
    check = _approval(store)
    assert not check.passed
    assert check.explanation == ("fingerprint abababababab matches records 1 (in_review), 2 "
                                 "(rejected), none approved")
    check = _approval(Store())
    assert not check.passed
    assert check.explanation == ("no record in the audit store has fingerprint abababababab; "
                                 "record this assessment and have it approved")


def test_a_store_that_fails_verification_cannot_vouch_for_an_approval():
    store = _approved_store()
    store.verified = Verified(False, ["review 2: its content does not match its entry_hash",
                                      "record 1: its status was edited"])
    check = _approval(store)
    assert not check.passed
    assert check.explanation == (
        "the audit store failed verification (review 2: its content does not match its "
        "entry_hash), so its approvals cannot be trusted; run 'faircard verify'")


def test_a_published_head_is_passed_to_the_verification():
    store = _approved_store()
    assert _approval(store, expect_head="12" * 32).passed
    assert store.heads == ["12" * 32]
    # without require_approved, a published head is still checked
    result = g.evaluate_gate(_doc(), _rules(min_accuracy=0.5), store, expect_head="34" * 32)
    assert store.heads == ["12" * 32, "34" * 32]
    check = result.checks[-1]
    assert result.passed and (check.name, check.feature, check.value, check.limit,
                              check.comparison, check.passed) == (
        "audit_store", None, None, None, "", True)
    assert check.explanation == "The audit store is intact."
    store.verified = Verified(False, ["the store's head: the published head is not in the chain"])
    result = g.evaluate_gate(_doc(), _rules(min_accuracy=0.5), store, expect_head="34" * 32)
    assert not result.passed
    assert result.checks[-1].explanation == (
        "the audit store failed verification (the store's head: the published head is not in "
        "the chain)")


def test_no_head_and_no_approval_rule_leaves_the_store_alone():
    store = _approved_store()
    result = g.evaluate_gate(_doc(), _rules(min_accuracy=0.5), store)
    assert [c.name for c in result.checks] == ["accuracy"] and store.heads == []


def test_approval_needs_the_store_and_the_fingerprint():
    rules = _rules(require_approved=True)
    assert _message(g.evaluate_gate, _doc(), rules, None, fingerprint=FP) == (
        "require_approved (and expect_head) needs the audit store with the approvals; give it "
        "(--store PATH or FAIRCARD_STORE).")
    assert _message(g.evaluate_gate, _doc(), _rules(min_accuracy=0.5), None,
                    expect_head=FP).startswith("require_approved (and expect_head) needs")
    for missing in (None, ""):
        assert _message(g.evaluate_gate, _doc(), rules, _approved_store(),
                        fingerprint=missing) == (
            "require_approved needs the assessment's fingerprint (its dataset and model "
            "sha256s).")


def test_the_result_carries_the_fingerprint_and_allow_empty():
    result = g.evaluate_gate(_doc(), _rules(require_approved=True), _approved_store(),
                             fingerprint=FP)
    assert result.fingerprint == FP and result.allow_empty is False
    result = g.evaluate_gate(_doc(), _rules(max_demographic_parity_difference=0.1,
                                            allow_empty=True, features={"sex": {"skip": True},
                                                                        "age": {"skip": True}}))
    assert result.checks == [] and result.allow_empty is True and result.passed
    assert result.fingerprint is None


# -- bounds and odd documents ------------------------------------------------------------------------

def test_a_value_exactly_at_the_limit_plus_the_tolerance_passes():
    # the tolerance is inclusive too: limit + 1e-9 itself still meets the limit
    tol = g.TOLERANCE
    assert tol == 1e-9
    doc = _with(_doc(), "sex", demographic_parity_difference=0.3 + tol,
                demographic_parity_ratio=0.5 - tol)
    rules = _rules(max_demographic_parity_difference=0.3, min_demographic_parity_ratio=0.5,
                   features={"age": {"skip": True}})
    assert [c.passed for c in g.evaluate_gate(doc, rules).checks] == [True, True]
    doc["overall"]["accuracy"] = 0.8 - tol
    doc["overall"]["selection_rate"] = 0.45 + tol
    assert g.evaluate_gate(doc, _rules(min_accuracy=0.8, max_selection_rate=0.45)).passed


def test_a_regression_exactly_at_the_limit_plus_the_tolerance_passes():
    base = _with(_doc(), "sex", demographic_parity_difference=0.25)
    new = _with(base, "sex", demographic_parity_difference=0.5)
    limit = 0.25 - g.TOLERANCE
    assert limit + g.TOLERANCE == 0.5 - 0.25   # the regression, exactly
    (check,) = g.evaluate_gate(new, _rules(max_regression=limit,
                                           features={"age": {"skip": True}}),
                               baseline=base).checks
    assert check.passed and check.value == 0.25


def test_an_undefined_regression_reports_its_limit_and_does_not_end_the_checks():
    # age (all undefined) comes first here: the features after it are still checked
    base = _doc()
    base["criteria"] = {"age": base["criteria"]["age"], "sex": base["criteria"]["sex"]}
    new = _with(base, "sex", demographic_parity_difference=0.9)
    result = g.evaluate_gate(new, _rules(max_regression=0.1), baseline=base)
    assert [(c.feature, c.value, c.limit, c.comparison, c.passed) for c in result.checks] == [
        ("age", None, 0.1, "<=", False), ("sex", pytest.approx(0.6), 0.1, "<=", False)]


def test_groups_are_ordered_by_rate_not_by_name():
    doc = _doc()
    doc["disparities"][0].update(worst_group="z", worst_value=0.3, best_group="a",
                                 best_value=0.6)
    check = _only(g.evaluate_gate(doc, _rules(max_demographic_parity_difference=0.5,
                                              features={"age": {"skip": True}})),
                  "demographic_parity_difference")
    assert check.explanation.endswith("the selection rates of 'z' (0.300) and 'a' (0.600) "
                                      "differ by 0.300")


def test_a_group_without_a_label_is_still_ordered_by_its_rate():
    doc = _doc()
    doc["disparities"][0].update(worst_group=None)
    check = _only(g.evaluate_gate(doc, _rules(max_demographic_parity_difference=0.5,
                                              features={"age": {"skip": True}})),
                  "demographic_parity_difference")
    assert check.explanation.endswith("of 'None' (0.300) and 'm' (0.600) differ by 0.300")


@pytest.mark.parametrize("favorable", [None, ""])
def test_disparate_impact_without_a_stated_outcome_reads_positive_as_favourable(favorable):
    doc = _doc(favorable_outcome=favorable)
    check = _only(g.evaluate_gate(doc, _rules(min_disparate_impact_ratio=0.5,
                                              features={"age": {"skip": True}})),
                  "disparate_impact_ratio")
    assert check.explanation == (
        "within the limit; the lowest of the shares of people approved, 'f' (0.300), is 0.500 "
        "times the highest, 'm' (0.600)")


@pytest.mark.parametrize("feature", ["sex & race", "Q3: income band", "region X"])
def test_the_reason_of_a_feature_too_small_to_compare_whatever_its_name(feature):
    doc = _doc(features=[feature], notes=[
        "'other': fewer than two groups have at least 5 rows, so groups are not compared.",
        f"'{feature}': fewer than two groups have at least 30 rows, so groups are not "
        "compared."])
    doc["criteria"] = {feature: {c: None for c in CRITERIA}}
    check = g.evaluate_gate(doc, _rules(max_demographic_parity_difference=0.1)).checks[0]
    assert check.explanation == ("undefined: fewer than two groups have at least 30 rows, so "
                                 "groups are not compared")


def test_a_compared_group_without_undefined_values_listed_counts_as_defined():
    doc = _doc(notes=[])
    doc["by_group"] = [
        {"feature": "age", "group": "a", "n": 40, "is_small_group": False,
         "undefined": {"true_positive_rate": "no actual positives in this group"}},
        {"feature": "age", "group": "b", "n": 40, "is_small_group": False},
    ]
    rules = _rules(max_equal_opportunity_difference=0.5, features={"sex": {"skip": True}})
    assert _only(g.evaluate_gate(doc, rules), "equal_opportunity_difference", "age") \
        .explanation == ("undefined: true_positive_rate is defined in only one compared group "
                         "(undefined in 'a': no actual positives in this group)")


def test_undefined_metric_checks_keep_their_name_limit_and_comparison():
    doc = _doc()
    doc["overall"]["accuracy"] = None
    for key, metric in (("min_roc_auc", "roc_auc"), ("max_precision", "precision"),
                        ("min_accuracy", "accuracy"), ("max_accuracy", "accuracy")):
        (c,) = g.evaluate_gate(doc, _rules(**{key: 0.7})).checks
        assert (c.name, c.feature, c.value, c.limit, c.comparison, c.passed) == (
            metric, None, None, 0.7, key[:3].replace("min", ">=").replace("max", "<="), False)
