"""`faircard record/records/show/submit/review/verify/gate`: the governance flow from a shell."""

from __future__ import annotations

import json
import re
import sqlite3

import pandas as pd
import pytest
import skops.io as sio
from fairlearn.metrics import demographic_parity_difference
from sklearn.linear_model import LogisticRegression

import faircard
from faircard.cli import main
from faircard.governance.records import assessment_fingerprint
from faircard.io import fingerprint as file_sha256
from tests.conftest import make_dataset

OPTS = ["--target", "y", "--prediction", "pred", "--sensitive", "sex"]


@pytest.fixture
def data_csv(tmp_path):
    df = make_dataset(5, n=700, n_features=2, with_missing=False, tiny_group=False,
                      no_positive_group=False)
    path = tmp_path / "loans.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "audit.db"


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _record(data_csv, store_path, capsys, *extra, author="alice"):
    code, out, err = _run(["record", data_csv, *OPTS, "--author", author, "--store", store_path,
                           "--bootstrap", "0", *extra], capsys)
    assert code == 0, err
    rid = int(re.search(r"^record (\d+) \(draft\)", out, re.M).group(1))
    fp = re.search(r"^fingerprint ([0-9a-f]{64})$", out, re.M).group(1)
    return rid, fp


def test_record_submit_review_show_verify(data_csv, store_path, capsys):
    rid, fp = _record(data_csv, store_path, capsys, "--title", "Loans v1")
    assert rid == 1
    api = faircard.assess(pd.read_csv(data_csv), target="y", prediction="pred",
                          sensitive="sex", n_boot=0)
    assert fp == assessment_fingerprint(api, dataset_sha256=file_sha256(data_csv))
    assert _record(data_csv, store_path, capsys)[1] == fp  # same input, same fingerprint

    code, out, _ = _run(["records", "--store", store_path], capsys)
    assert code == 0 and "Loans v1" in out and fp[:12] in out and "loans.csv" in out
    code, out, _ = _run(["records", "--store", store_path, "--json"], capsys)
    listed = json.loads(out)
    assert [r["id"] for r in listed] == [1, 2] and listed[0]["fingerprint"] == fp

    assert _run(["submit", rid, "--by", "alice", "--store", store_path], capsys)[:2] == \
        (0, f"record {rid} is now in_review\n")
    code, _, err = _run(["review", rid, "--reviewer", "Alice", "--approve", "--store",
                         store_path], capsys)
    assert code == 2 and err.count("\n") == 1 and "cannot approve it" in err
    code, _, err = _run(["review", rid, "--reviewer", "bob", "--request-changes", "--store",
                         store_path], capsys)
    assert code == 2 and "needs a comment" in err
    code, _, err = _run(["review", rid, "--reviewer", "bob", "--store", store_path], capsys)
    assert code == 2 and "one of the arguments" in err
    code, out, _ = _run(["review", rid, "--reviewer", "bob", "--role", "model risk",
                         "--approve", "--comment", "ok", "--store", store_path], capsys)
    assert code == 0 and out == f"record {rid} is now approved\n"

    code, out, _ = _run(["show", rid, "--store", store_path], capsys)
    assert code == 0
    assert "status       approved" in out and f"fingerprint  {fp}" in out
    assert "approved by bob (model risk)" in out and "submitted by alice" in out
    code, _, err = _run(["show", "7", "--store", store_path], capsys)
    assert code == 2 and "no record 7" in err

    code, out, _ = _run(["verify", "--store", store_path], capsys)
    assert code == 0 and "intact: 2 records, 2 review events" in out


def test_verify_exit_status_names_the_tampered_entry(data_csv, store_path, capsys):
    rid, _ = _record(data_csv, store_path, capsys)
    _run(["submit", rid, "--by", "alice", "--store", store_path], capsys)
    head = json.loads(_run(["verify", "--store", store_path, "--json"], capsys)[1])["head"]
    code, out, _ = _run(["verify", "--store", store_path, "--expect-head", head], capsys)
    assert code == 0
    _run(["review", rid, "--reviewer", "bob", "--comment-only", "--comment", "hm", "--store",
          store_path], capsys)
    # the published head is still in the chain after it grew; a head it never had is not
    code, out, _ = _run(["verify", "--store", store_path, "--expect-head", head], capsys)
    assert code == 0
    code, out, _ = _run(["verify", "--store", store_path, "--expect-head", "e" * 64], capsys)
    assert code == 1 and f"the published head {'e' * 64} is not in the chain" in out

    con = sqlite3.connect(store_path)
    con.execute("UPDATE records SET dataset_name = 'other.csv' WHERE id = ?", (rid,))
    con.commit()
    con.close()
    code, out, _ = _run(["verify", "--store", store_path], capsys)
    assert code == 1
    assert "the first at record 1" in out and "record 1: its content does not match" in out
    doc = json.loads(_run(["verify", "--store", store_path, "--json"], capsys)[1])
    assert doc["ok"] is False and doc["problems"][0]["entry"] == "record 1"


def test_gate_exit_codes_against_fairlearn(data_csv, tmp_path, capsys):
    df = pd.read_csv(data_csv)
    dpd = demographic_parity_difference(df["y"], df["pred"], sensitive_features=df["sex"])
    code, out, _ = _run(["gate", data_csv, *OPTS, "--max-dpd", dpd + 0.005], capsys)
    assert code == 0 and "PASS [sex] demographic_parity_difference" in out
    assert "gate passed: 1 check passed" in out
    report = tmp_path / "gate.json"
    code, out, _ = _run(["gate", data_csv, *OPTS, "--max-dpd", dpd - 0.005, "--min-accuracy",
                         "0", "--json", report], capsys)
    assert code == 1
    fails = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert len(fails) == 1 and fails[0].startswith(
        f"FAIL [sex] demographic_parity_difference = {dpd:.4g} (limit <= {dpd - 0.005:g})")
    doc = json.loads(report.read_text())
    assert doc["passed"] is False
    assert doc["results"][0]["checks"][0]["value"] == pytest.approx(dpd)

    rules = tmp_path / "gate.toml"
    rules.write_text(f"max_demographic_parity_difference = {dpd + 0.005}\n"
                     "[features.sex]\nmin_demographic_parity_ratio = 0.0\n")
    assert _run(["gate", data_csv, *OPTS, "--rules", rules], capsys)[0] == 0
    # flags override the file
    assert _run(["gate", data_csv, *OPTS, "--rules", rules, "--max-dpd", "0"], capsys)[0] == 1
    assert _run(["gate", data_csv, *OPTS, "--limit", f"max_demographic_parity_difference={dpd}"],
                capsys)[0] == 0


@pytest.mark.parametrize("args,message", [
    (["--rules", "RULES"], "Unknown key 'max_dp'"),
    ([], "no gate rules"),
    (["--limit", "max_dpd=0.1"], "unknown limit 'max_dpd'"),
    (["--max-dpd", "0.1", "--target", "outcome"], "'outcome' is not in the dataset"),
])
def test_gate_input_errors_exit_2(data_csv, tmp_path, capsys, args, message):
    rules = tmp_path / "r.toml"
    rules.write_text("max_dp = 0.1\n")
    args = [str(rules) if a == "RULES" else a for a in args]
    code, out, err = _run(["gate", data_csv, *OPTS, *args], capsys)
    assert code == 2 and message in err and err.count("\n") == 1 and out == ""


def test_gate_require_approved(data_csv, store_path, capsys, monkeypatch):
    monkeypatch.setenv("FAIRCARD_STORE", str(store_path))
    gate = ["gate", data_csv, *OPTS, "--max-dpd", "1", "--require-approved"]
    code, _, err = _run(gate, capsys)
    assert code == 2 and "no audit store" in err
    rid, fp = _record(data_csv, store_path, capsys)
    code, out, _ = _run(gate, capsys)
    assert code == 1 and f"fingerprint {fp}" in out
    assert "FAIL approved: fingerprint" in out and "(draft), none approved" in out
    _run(["submit", rid, "--by", "alice"], capsys)
    _run(["review", rid, "--reviewer", "bob", "--approve"], capsys)
    code, out, _ = _run(gate, capsys)
    assert code == 0 and f"matches record {rid}, approved by bob" in out
    # the approval does not cover another threshold (a different spec and results)
    other = ["gate", data_csv, "--target", "y", "--score", "score", "--threshold", "0.6",
             "--sensitive", "sex", "--max-dpd", "1", "--require-approved"]
    assert _run(other, capsys)[0] == 1


def test_a_corrupt_store_is_an_input_error_and_is_left_unchanged(data_csv, tmp_path, capsys):
    bad = tmp_path / "audit.db"
    blob = b"\x00\xffnot a database\x13\x37" * 500
    bad.write_bytes(blob)
    for argv in (["records"], ["show", "1"], ["submit", "1", "--by", "x"],
                 ["review", "1", "--reviewer", "x", "--approve"], ["verify"],
                 ["record", data_csv, *OPTS, "--author", "a"],
                 ["gate", data_csv, *OPTS, "--max-dpd", "1", "--require-approved"]):
        code, out, err = _run([*argv, "--store", bad], capsys)
        assert code == 2, argv
        assert err.count("\n") == 1 and "not a SQLite database" in err
        assert bad.read_bytes() == blob
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.db", "loans.csv"]


def test_untrusted_text_round_trips_verbatim(data_csv, store_path, capsys):
    title = "<img src=x onerror=alert(1)> Loans"
    comment = "<script>fetch('//evil')</script>\n'); DROP TABLE reviews;--\x1b[31mred\x1b[0m"
    rid, _ = _record(data_csv, store_path, capsys, "--title", title, author="Zoë O'Neil")
    code, _, err = _run(["review", rid, "--reviewer", "Robert'); --", "--comment-only",
                         "--comment", comment, "--store", store_path], capsys)
    assert code == 0, err
    exported = json.loads(_run(["show", rid, "--store", store_path, "--json"], capsys)[1])
    assert exported["record"]["title"] == title
    assert exported["record"]["created_by"] == "Zoë O'Neil"
    assert exported["history"][0]["comment"] == comment
    assert exported["history"][0]["reviewer"] == "Robert'); --"
    text = _run(["show", rid, "--store", store_path], capsys)[1]
    assert "\x1b" not in text and "\\x1b[31mred" in text  # terminal escapes are shown, not run
    assert "<script>fetch('//evil')</script>" in text
    assert _run(["verify", "--store", store_path], capsys)[0] == 0


def test_record_and_gate_with_a_model_file(tmp_path, store_path, capsys):
    df = make_dataset(6, n=600, n_features=1, with_missing=False, tiny_group=False,
                      no_positive_group=False)
    feats = ["band", "score"]
    data_csv = tmp_path / "d.csv"
    df[["y", "sex", *feats]].to_csv(data_csv, index=False)
    for name, c in (("m1.skops", 1.0), ("m2.skops", 0.01)):
        model = LogisticRegression(C=c).fit(df[feats], df["y"])
        (tmp_path / name).write_bytes(sio.dumps(model))
    opts = ["--target", "y", "--sensitive", "sex"]
    code, out, err = _run(["record", data_csv, *opts, "--model", tmp_path / "m1.skops",
                           "--author", "alice", "--store", store_path, "--bootstrap", "0"],
                          capsys)
    assert code == 0, err
    exported = json.loads(_run(["show", "1", "--store", store_path, "--json"], capsys)[1])
    assert exported["record"]["models"] == [
        {"name": "m1.skops", "sha256": file_sha256(tmp_path / "m1.skops")}]
    _run(["submit", "1", "--by", "alice", "--store", store_path], capsys)
    _run(["review", "1", "--reviewer", "bob", "--approve", "--store", store_path], capsys)
    gate = ["gate", data_csv, *opts, "--max-dpd", "1", "--require-approved", "--store",
            store_path]
    code, out, _ = _run([*gate, "--model", tmp_path / "m1.skops"], capsys)
    assert code == 0 and "[m1.skops] PASS approved" in out
    code, out, _ = _run([*gate, "--model", tmp_path / "m2.skops"], capsys)
    assert code == 1 and "[m2.skops] FAIL approved" in out


def test_show_states_the_recorded_decision_rule(data_csv, store_path, tmp_path, capsys):
    """A record made under one threshold per group was shown as "score 'score' >= None":
    'faircard show' now states the recorded policy as the record's card does (in the words
    of the favourable outcome), and a single threshold to three decimals."""
    from faircard.decision import DecisionPolicy

    thresholds = {"female": 0.45, "male": 0.6, "non-binary": 0.5}
    policy = DecisionPolicy.per_group("sex", thresholds)
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(policy.to_dict()))
    score = ["--target", "y", "--score", "score", "--sensitive", "sex"]
    code, out, err = _run(["record", data_csv, *score, "--policy", policy_file,
                           "--favorable", "negative", "--author", "alice", "--store",
                           store_path, "--bootstrap", "0"], capsys)
    assert code == 0, err
    code, out, err = _run(["record", data_csv, *score, "--threshold", "0.55", "--author",
                           "alice", "--store", store_path, "--bootstrap", "0"], capsys)
    assert code == 0, err
    code, out, _ = _run(["show", "1", "--store", store_path], capsys)
    assert code == 0 and "None" not in out, out
    assert (f"  assessed     target 'y', score 'score' under the recorded policy "
            f"({policy.describe(positive='flagged')}), sensitive sex\n") in out, out
    code, out, _ = _run(["show", "2", "--store", store_path], capsys)
    assert "  assessed     target 'y', score 'score' >= 0.550, sensitive sex\n" in out, out
