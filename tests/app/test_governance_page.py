"""Governance page: record, submit, review and sign off, verify; the CLI gate finds the record;
the model card shows the sign-off."""

from __future__ import annotations

import json
import sqlite3

from faircard.cli import main
from faircard.governance.store import AuditStore
from tests.app.conftest import new, no_exception, seed_state, small_frame

PAGE = "app_pages/governance.py"
GATE = ["--target", "outcome", "--score", "risk_score", "--sensitive", "sex", "--sensitive",
        "race", "--no-intersection", "--bootstrap", "0", "--require-approved"]


def _press(at, label):
    [button] = [b for b in at.button if b.label == label]
    return button.click().run()


def _errors(at):
    return [e.value for e in at.error]


def test_record_review_sign_off_and_verify(tmp_path, _private_audit_store, capsys):
    store_path = _private_audit_store
    csv = tmp_path / "small.csv"
    csv.write_bytes(small_frame().to_csv(index=False).encode("utf-8"))

    at = seed_state(new(PAGE))
    at.run()
    no_exception(at)
    assert not at.error
    assert any("No records yet" in c.value for c in at.caption)
    assert not store_path.exists(), "opening the page creates nothing"

    # an author is required; nothing is written without one
    _press(at, "Record as a draft")
    no_exception(at)
    assert any("author" in e for e in _errors(at)), _errors(at)
    with AuditStore(store_path, create=False) as store:
        assert store.list() == []

    at.text_input(key="w_gov_author").input("Ana Kim")
    _press(at, "Record as a draft")
    no_exception(at)
    assert any("Recorded as record 1" in s.value for s in at.success)
    with AuditStore(store_path, create=False) as store:
        [rec] = store.list()
    assert rec.status == "draft" and rec.created_by == "Ana Kim"
    table = at.dataframe[0].value
    assert list(table["id"]) == [1] and list(table["on screen"]) == ["yes"]

    # the CLI gate recomputes the fingerprint from the CSV file: not approved yet -> exit 1
    assert main(["gate", str(csv), *GATE, "--store", str(store_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL approved" in out and "none approved" in out, out
    assert f"fingerprint {rec.fingerprint}" in out, "the CLI and the app agree on the fingerprint"

    at.text_input(key="w_gov_submitter").input("Ana Kim")
    _press(at, "Submit for review")
    no_exception(at)
    assert any("in review" in s.value for s in at.success)

    # the author cannot sign off her own assessment; a refusal needs a reason
    at.text_input(key="w_gov_reviewer").input("ana kim")
    at.radio(key="w_gov_decision").set_value("approve")
    _press(at, "Add review")
    assert any("cannot approve" in e for e in _errors(at)), _errors(at)
    at.text_input(key="w_gov_reviewer").input("Ben Lee")
    at.radio(key="w_gov_decision").set_value("reject")
    _press(at, "Add review")
    assert any("needs a comment" in e for e in _errors(at)), _errors(at)
    with AuditStore(store_path, create=False) as store:
        assert store.get(1).status == "in_review" and len(store.history(1)) == 1

    at.text_input(key="w_gov_role").input("model risk")
    at.radio(key="w_gov_decision").set_value("approve")
    at.text_area(key="w_gov_comment").input("Checked the <b>intervals</b>")
    _press(at, "Add review")
    no_exception(at)
    assert any("approved" in s.value for s in at.success), _errors(at)
    with AuditStore(store_path, create=False) as store:
        assert store.get(1).status == "approved"
        assert [h.decision for h in store.history(1)] == ["submit", "approve"]

    # the gate run on the same file now finds the approved record
    assert main(["gate", str(csv), *GATE, "--store", str(store_path)]) == 0
    out = capsys.readouterr().out
    assert "PASS approved" in out and "approved by Ben Lee" in out, out

    assert [b.proto.label for b in at.get("download_button")] == ["Download the record (JSON)"]
    with AuditStore(store_path, create=False) as store:
        exported = json.loads(json.dumps(store.export(1)))
    assert exported["record"]["status"] == "approved"
    assert exported["history"][-1]["comment"] == "Checked the <b>intervals</b>"

    _press(at, "Verify the store")
    assert any("intact" in s.value for s in at.success), _errors(at)

    # the model card of the same assessment carries the sign-off
    card = seed_state(new("app_pages/model_card.py"))
    card.run()
    no_exception(card)
    preview = " ".join(m.value for m in card.markdown)
    assert "Status: approved, reviewer Ben Lee \\(model risk; name typed, not signed in\\)" \
        in preview or "Status: approved, reviewer Ben Lee (model risk; name typed, not signed " \
        "in)" in preview, preview[-600:]
    assert "&lt;b&gt;intervals&lt;/b&gt;" in preview

    # an entry edited behind the store's back is found
    with sqlite3.connect(store_path) as conn:
        conn.execute("UPDATE records SET title = 'edited' WHERE id = 1")
    _press(at, "Verify the store")
    assert any("broken" in e for e in _errors(at)), _errors(at)


def test_a_file_that_is_not_a_store_is_refused_and_left_alone(_private_audit_store):
    _private_audit_store.write_bytes(b"not a database")
    at = seed_state(new(PAGE))
    at.run()
    no_exception(at)
    assert any("not a faircard audit store" in e.value for e in at.error)
    assert _private_audit_store.read_bytes() == b"not a database"


def test_page_without_data_lists_existing_records(_private_audit_store):
    from faircard import assess

    df = small_frame()
    a = assess(df, target="outcome", score="risk_score", sensitive=["sex"])
    with AuditStore(_private_audit_store) as store:
        store.add(a, title="Loans <i>v1</i>", created_by="Ana", dataset_name="small.csv",
                  dataset_sha256="ab" * 32)
    at = new(PAGE)
    at.run()
    no_exception(at)
    assert list(at.dataframe[0].value["title"]) == ["Loans <i>v1</i>"]
    assert not [b for b in at.button if b.label == "Record as a draft"]
    assert any("sensitive features to record" in i.value for i in at.info)
