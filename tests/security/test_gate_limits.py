"""The CI gate cannot be passed by checking nothing, and its rules are checked like input.

A gate with zero checks fails ("no checks ran", exit 1) unless allowed; limits outside the
range their quantity can take are refused; malformed TOML (huge numbers, deep nesting, huge
files, binary) ends in exit 2 with one line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.cli import main as cli_main
from faircard.errors import FaircardError
from faircard.governance.gate import (
    CRITERION_LIMITS,
    METRIC_LIMITS,
    GateRules,
    evaluate_gate,
    load_rules,
)

BOUNDED = sorted(k for k, m in METRIC_LIMITS.items() if m != "log_loss")


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    rng = np.random.default_rng(3)
    n = 400
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({"y": y, "score": np.clip(0.4 * y + rng.random(n) * 0.6, 0, 1),
                          "sex": np.array(["F", "M"])[np.arange(n) % 2],
                          "race": np.array(["A", "B", "C"])[np.arange(n) % 3]})
    path = tmp_path_factory.mktemp("gate") / "d.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def doc(data_file):
    return faircard.assess(pd.read_csv(data_file), target="y", score="score",
                           sensitive=["sex", "race"], n_boot=0).to_dict()


def _gate(data_file, capsys, *args):
    rc = cli_main(["gate", str(data_file), "--target", "y", "--score", "score", "--sensitive",
                   "sex", "--sensitive", "race", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


# ----------------------------------------------------------------- empty gate


def test_skipping_every_feature_is_no_checks_ran(doc):
    rules = GateRules.from_mapping({"max_demographic_parity_difference": 1.0, "features": {
        f: {"skip": True} for f in ("sex", "race", "sex & race")}})
    result = evaluate_gate(doc, rules)
    assert result.checks == [] and result.passed is False
    assert "no checks ran" in result.summary
    allowed = GateRules.from_mapping({**{"allow_empty": True},
                                      "max_demographic_parity_difference": 1.0,
                                      "features": {f: {"skip": True}
                                                   for f in ("sex", "race", "sex & race")}})
    assert evaluate_gate(doc, allowed).passed is True


def test_every_limit_disabled_per_feature_is_no_checks_ran(doc):
    rules = GateRules.from_mapping({"min_demographic_parity_ratio": 0.0, "features": {
        f: {"min_demographic_parity_ratio": False} for f in ("sex", "race", "sex & race")}})
    assert evaluate_gate(doc, rules).passed is False


def test_cli_empty_gate_exits_1_unless_allowed(data_file, tmp_path, capsys):
    rules = tmp_path / "gate.toml"
    rules.write_text("max_demographic_parity_difference = 1.0\n"
                     "[features.sex]\nskip = true\n[features.race]\nskip = true\n"
                     '[features."sex & race"]\nskip = true\n', encoding="utf-8")
    rc, out, err = _gate(data_file, capsys, "--rules", rules)
    assert rc == 1 and "gate FAILED: no checks ran" in out, (out, err)
    rc, out, err = _gate(data_file, capsys, "--rules", rules, "--allow-empty")
    assert rc == 0 and "gate passed: no checks ran" in out, (out, err)


def test_a_gate_with_checks_still_passes(data_file, capsys):
    rc, out, _ = _gate(data_file, capsys, "--max-dpd", 1.0)
    assert rc == 0 and "gate passed: 3 checks passed" in out


# ----------------------------------------------------------------- ranges


@pytest.mark.parametrize("key", sorted(k for k in CRITERION_LIMITS if k.endswith("_ratio")))
@pytest.mark.parametrize("value", [-0.01, 1.01, 80])
def test_ratio_limits_are_in_0_1(key, value):
    with pytest.raises(FaircardError, match="between 0 and 1"):
        GateRules.from_mapping({key: value})


@pytest.mark.parametrize("key", sorted(k for k in CRITERION_LIMITS if k.endswith("_difference")))
def test_difference_limits_are_not_negative(key):
    with pytest.raises(FaircardError, match="cannot be negative"):
        GateRules.from_mapping({key: -0.1})
    assert GateRules.from_mapping({key: 0.0}).limits[key] == 0.0
    assert GateRules.from_mapping({key: 1.0}).limits[key] == 1.0


@pytest.mark.parametrize("key", BOUNDED)
@pytest.mark.parametrize("value", [-0.5, 1.5, 75])
def test_metric_limits_are_in_0_1(key, value):
    with pytest.raises(FaircardError, match="between 0 and 1"):
        GateRules.from_mapping({key: value})


@pytest.mark.parametrize("key", BOUNDED[:4])
@pytest.mark.parametrize("value", [0, 0.0, 0.75, 1])
def test_metric_limits_inside_the_range_are_kept(key, value):
    assert GateRules.from_mapping({key: value}).limits[key] == float(value)


def test_log_loss_limits_need_only_be_non_negative():
    assert GateRules.from_mapping({"max_log_loss": 3.5}).limits["max_log_loss"] == 3.5
    with pytest.raises(FaircardError, match="cannot be negative"):
        GateRules.from_mapping({"max_log_loss": -1})


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "0.8", True, [0.8]])
def test_limits_must_be_finite_numbers(value):
    with pytest.raises(FaircardError, match="must be a number"):
        GateRules.from_mapping({"min_demographic_parity_ratio": value})


@pytest.mark.parametrize("args, says", [
    (["--min-accuracy", "75"], "between 0 and 1"),
    (["--min-dpr", "1.2"], "between 0 and 1"),
    (["--max-dpd", "-0.1"], "cannot be negative"),
    (["--max-dpd", "nan"], "must be a number"),
    (["--limit", "min_roc_auc=2"], "between 0 and 1"),
    (["--limit", "max_log_loss=-1"], "cannot be negative"),
])
def test_cli_out_of_range_limits_exit_2(args, says, data_file, capsys):
    rc, out, err = _gate(data_file, capsys, *args)
    assert rc == 2 and says in err and err.count("\n") == 1, err


# ----------------------------------------------------------------- malformed TOML


MALFORMED = {
    "5000-digit integer": "max_demographic_parity_difference = " + "9" * 5000 + "\n",
    "huge float": "max_demographic_parity_difference = 1e999\n",
    "5000-deep array": "max_demographic_parity_difference = " + "[" * 5000 + "]" * 5000 + "\n",
    "deep inline tables": "features = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n",
    "binary": "\x00\x01\x02\xff",
    "not utf-8": None,
    "unterminated string": 'max_demographic_parity_difference = "0.1\n',
    "duplicate key": "max_demographic_parity_difference = 0.1\n"
                     "max_demographic_parity_difference = 0.2\n",
    "array of limits": "max_demographic_parity_difference = [0.1, 0.2]\n",
    "huge file": "# " + "x" * 2_000_000 + "\n",
}


@pytest.mark.parametrize("text", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_rules_files_end_in_one_line(text, tmp_path, data_file, capsys):
    path = tmp_path / "gate.toml"
    if text is None:
        path.write_bytes(b"max_demographic_parity_difference = 0.1 # \xe9\xff\n")
    else:
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
    with pytest.raises(FaircardError):
        load_rules(path)
    rc, out, err = _gate(data_file, capsys, "--rules", path)
    assert rc == 2, (out, err)
    assert err.startswith("faircard: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
