"""Schema 2 of the audit store: who acted (issuer, subject, display name), comments, a record's
baseline and per-cell counts; all of them chained and checked by verify()."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

import numpy as np
import pytest

from faircard.errors import FaircardError
from faircard.governance.chain import UNAUTHENTICATED
from faircard.governance.store import AuditStore
from tests.unit.test_store import _add, _assess, _sql


@dataclass(frozen=True)
class Person:
    issuer: str
    subject: str
    display_name: str


ALICE = Person("https://idp.example", "sub-alice", "Alice Smith")
ALICE_RENAMED = Person("https://idp.example", "sub-alice", "Bob Jones")  # same subject
BOB = Person("https://idp.example", "sub-bob", "Alice Smith")  # same name, other person


@pytest.fixture(scope="module")
def data():
    from tests.conftest import make_dataset
    return make_dataset(3, n=300)


@pytest.fixture(scope="module")
def result(data):
    return _assess(data)


def test_identity_columns_are_stored_and_self_approval_is_decided_by_subject(
        tmp_path, data, result):
    with AuditStore(tmp_path / "a.db") as store:
        rec = _add(store, result, data, created_by=ALICE)
        assert (rec.created_by, rec.author_issuer, rec.author_subject) == \
            ("Alice Smith", ALICE.issuer, "sub-alice")
        assert rec.authenticated
        store.submit(rec.id, ALICE)
        with pytest.raises(FaircardError, match="cannot approve it"):
            store.review(rec.id, ALICE_RENAMED, "approve")
        # another subject may approve even under the same display name
        after = store.review(rec.id, BOB, "approve")
        assert after.status == "approved"
        last = store.history(rec.id)[-1]
        assert (last.reviewer, last.reviewer_issuer, last.reviewer_subject) == \
            ("Alice Smith", ALICE.issuer, "sub-bob")
        assert last.authenticated and last.to_dict()["authenticated"] is True
        assert store.verify().ok


def test_typed_names_are_stored_as_unauthenticated(tmp_path, data, result):
    with AuditStore(tmp_path / "a.db") as store:
        rec = _add(store, result, data, created_by="  Alice ")
        assert rec.author_issuer == UNAUTHENTICATED and not rec.authenticated
        store.submit(rec.id, "alice")
        with pytest.raises(FaircardError, match="cannot approve it"):
            store.review(rec.id, "ALICE", "approve")
        assert store.history(rec.id)[0].reviewer_issuer == UNAUTHENTICATED


def test_forged_self_approval_under_another_name_is_found_by_verify(tmp_path, data, result):
    """A row that says a different name but carries the author's subject is a self-approval."""
    path = tmp_path / "a.db"
    with AuditStore(path) as store:
        rec = _add(store, result, data, created_by=ALICE)
        store.submit(rec.id, ALICE)
    # rewriting reviewer_subject breaks the entry's hash, so the check is on the stored row
    from faircard.governance.chain import verify_chain
    with AuditStore(path) as store:
        store.review(rec.id, BOB, "approve")
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    tables = {t: [dict(r) for r in con.execute(f"SELECT * FROM {t}")]
              for t in ("records", "reviews", "comments")}
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    con.close()
    tables["reviews"][-1]["reviewer_subject"] = "sub-alice"
    v = verify_chain(tables, meta)
    reasons = [str(p) for p in v.problems]
    assert "review 2: it approves record 1 by its own author" in reasons


def test_comments_are_chained_answerable_and_verified(tmp_path, data, result):
    path = tmp_path / "a.db"
    with AuditStore(path) as store:
        rec = _add(store, result, data, created_by=ALICE)
        first = store.comment(rec.id, BOB, "Why is the reference group 'male'?",
                              section="finding:1", role="viewer")
        answer = store.comment(rec.id, ALICE, "It is the largest group.", reply_to=first.id)
        assert (first.section, first.author, first.author_subject) == \
            ("finding:1", "Alice Smith", "sub-bob")
        assert answer.reply_to == first.id
        assert [c.id for c in store.comments(rec.id)] == [first.id, answer.id]
        assert store.get(rec.id).status == "draft"  # comments do not move the status
        with pytest.raises(FaircardError, match="no comment 99 on record 1"):
            store.comment(rec.id, BOB, "hm", reply_to=99)
        with pytest.raises(FaircardError, match="comment is empty"):
            store.comment(rec.id, BOB, "   ")
        v = store.verify()
        assert v.ok and v.n_comments == 2
        assert [c["id"] for c in store.export(rec.id)["comments"]] == [1, 2]
    _sql(path, "UPDATE comments SET body = 'Looks fine.' WHERE id = 1")
    with AuditStore(path) as store:
        v = store.verify()
    assert not v.ok and v.first_broken.entry == "comment 1"


def test_cells_and_baseline_are_stored_and_hashed(tmp_path, data, result):
    path = tmp_path / "a.db"
    cells = {"features": ["sex"], "cells": [["female", 10, 3, 2, 5]],
             "histogram_edges": list(np.linspace(0, 1, 3)), "counts": np.arange(3)}
    with AuditStore(path) as store:
        base = _add(store, result, data)
        assert not base.has_cells and store.cells(base.id) is None
        rec = _add(store, result, data, baseline=base.id, cells=cells)
        assert rec.baseline == base.id and rec.has_cells
        assert store.cells(rec.id) == {"features": ["sex"], "cells": [["female", 10, 3, 2, 5]],
                                       "histogram_edges": [0.0, 0.5, 1.0],
                                       "counts": [0, 1, 2]}
        with pytest.raises(FaircardError, match="no record 42"):
            _add(store, result, data, baseline=42)
        with pytest.raises(FaircardError, match="must be a JSON object"):
            _add(store, result, data, cells=[1, 2])
        assert store.verify().ok
    tampered = json.dumps({"features": ["sex"], "cells": [["female", 10, 3, 2, 6]]})
    _sql(path, "UPDATE records SET cells = ? WHERE id = 2", tampered)
    with AuditStore(path) as store:
        v = store.verify()
    assert not v.ok and v.first_broken.entry == "record 2"


def test_a_schema_1_store_asks_to_be_upgraded_and_is_left_unchanged(tmp_path):
    from pathlib import Path
    src = Path(__file__).parent / "data" / "store_schema1.sqlite3"
    path = tmp_path / "old.db"
    path.write_bytes(src.read_bytes())
    with pytest.raises(FaircardError, match="schema version 1.*faircard upgrade"):
        AuditStore(path)
    assert path.read_bytes() == src.read_bytes()


@pytest.mark.parametrize("approver,passes", [(BOB, True), ("bob", False)])
def test_gate_require_authenticated_refuses_typed_name_approvals(tmp_path, data, result,
                                                                  approver, passes):
    from faircard.governance.gate import GateRules, evaluate_gate

    with AuditStore(tmp_path / "a.db") as store:
        rec = _add(store, result, data, created_by=ALICE)
        store.submit(rec.id, ALICE)
        store.review(rec.id, approver, "approve")
        approved_only = GateRules.from_mapping({"require_approved": True})
        strict = GateRules.from_mapping({"require_authenticated": True})
        assert evaluate_gate(result, approved_only, store, fingerprint=rec.fingerprint).passed
        check = evaluate_gate(result, strict, store, fingerprint=rec.fingerprint).checks[-1]
    assert check.name == "approved" and check.passed is passes
    if not passes:
        assert "without signing in" in check.explanation
