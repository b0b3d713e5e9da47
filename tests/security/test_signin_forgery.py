"""Forging a signed-in approval in a signed store an attacker can write to.

A store written before faircard stored who signed in (schema 1) is upgraded with the typed
names' identity ("unauthenticated", no subject) and signed; those entries' hashes (hash
version 1) do not cover the identity columns. Writing a signed-in issuer and subject there
must not turn a typed-name approval into one that passes ``require_authenticated``, nor
change whose record it is."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from faircard.governance.gate import _approved_check
from faircard.governance.migrate import upgrade
from faircard.governance.signing import Keys
from faircard.governance.store import AuditStore

FIXTURE = Path(__file__).parents[1] / "unit" / "data" / "store_schema1.sqlite3"
KEYS = Keys.from_environment(environ={"FAIRCARD_SIGNING_KEY": "s" * 48})
IDP = "https://login.example.org"


@pytest.fixture
def upgraded(tmp_path) -> Path:
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURE, path)
    upgrade(str(path), keys=KEYS)
    return path


def _sql(path: Path, statement: str) -> None:
    con = sqlite3.connect(path)
    with con:
        con.execute(statement)
    con.close()


def test_the_upgraded_store_verifies_and_its_approval_is_a_typed_name(upgraded):
    with AuditStore(upgraded, keys=KEYS) as store:
        assert store.verify().ok
        rec = store.get(2)
        approval = [e for e in store.history(2) if e.decision == "approve"]
        assert [(e.reviewer, e.authenticated) for e in approval] == [("bob", False)]
        check = _approved_check(store, rec.fingerprint, None, True)
        assert not check.passed and "without signing in" in check.explanation


@pytest.mark.parametrize("statement,entry,rid", [
    # bob's typed-name approval of record 2 made to read as a signed-in approval
    (f"UPDATE reviews SET reviewer_issuer = '{IDP}', reviewer_subject = 'bob-sub' WHERE id = 5",
     "review 5", 2),
    # alice's record made to belong to a signed-in person, whom a typed "alice" is not
    (f"UPDATE records SET author_issuer = '{IDP}', author_subject = 'x' WHERE id = 2",
     "record 2", 2),
])
def test_a_signed_in_identity_written_onto_an_old_entry_is_found(upgraded, statement, entry,
                                                                 rid):
    _sql(upgraded, statement)
    with AuditStore(upgraded, keys=KEYS) as store:
        v = store.verify()
        assert not v.ok and v.first_broken.entry == entry
        assert "signed-in person" in v.first_broken.reason
        assert any("signed-in person" in p for p in store.problems(rid))
        check = _approved_check(store, store.get(rid).fingerprint, None, True)
    assert not check.passed and "failed verification" in check.explanation


def test_a_baseline_written_onto_an_old_record_is_found(upgraded):
    _sql(upgraded, "UPDATE records SET baseline_id = 1 WHERE id = 2")
    with AuditStore(upgraded, keys=KEYS) as store:
        v = store.verify()
    assert not v.ok and "baseline" in v.first_broken.reason


def test_a_typed_name_identity_on_an_old_entry_is_not_a_problem(upgraded):
    # NULL issuer (as some databases migrate it) or another typed-name subject changes nothing
    _sql(upgraded, "UPDATE reviews SET reviewer_subject = 'bob' WHERE id = 5")
    with AuditStore(upgraded, keys=KEYS) as store:
        assert store.verify().ok


# -- a signed approval copied to another record or another store ------------------------------

def _approved_and_pending(tmp_path):
    """Store a: Ana Kim's record approved by Ben Lee. Store b (same key): Ana Kim's record of
    the same assessment, in review. Both signed with the same key."""
    import faircard
    from tests.conftest import make_dataset
    from tests.security.test_hostile_governance import _add, _signed

    result = faircard.assess(make_dataset(3, n=300), target="y", score="score",
                             sensitive=["sex"], n_boot=0)
    for name in ("a.db", "b.db"):
        with _signed(tmp_path / name) as store:
            rec = _add(store, result)
            store.submit(rec.id, "Ana Kim")
            if name == "a.db":
                store.review(rec.id, "Ben Lee", "approve")
    return tmp_path / "a.db", tmp_path / "b.db"


def _copy_approval(source: Path, target: Path, record_id: int) -> None:
    """Copy the approval row of ``source`` (hash and signature as they are) into ``target`` as
    an approval of ``record_id``, moving the head and the status as faircard would."""
    src = sqlite3.connect(source)
    src.row_factory = sqlite3.Row
    row = dict(src.execute("SELECT * FROM reviews WHERE decision = 'approve'").fetchone())
    src.close()
    con = sqlite3.connect(target)
    seq = int(con.execute("SELECT value FROM meta WHERE key = 'event_count'").fetchone()[0])
    row.update(id=row["id"] + 100, record_id=record_id, seq=seq + 1)
    con.execute(f"INSERT INTO reviews ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()))
    con.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (row["entry_hash"],))
    con.execute("UPDATE meta SET value = ? WHERE key = 'event_count'", (str(seq + 1),))
    con.execute("UPDATE records SET status = 'approved' WHERE id = ?", (record_id,))
    con.commit()
    con.close()


def test_a_signed_approval_copied_into_another_store_does_not_verify(tmp_path):
    a, b = _approved_and_pending(tmp_path)
    _copy_approval(a, b, 1)
    from tests.security.test_hostile_governance import _signed

    with _signed(b) as store:
        assert store.get(1).status == "approved"
        v = store.verify()
        assert not v.ok and v.first_broken.entry.startswith("review")
        assert "prev_hash" in v.first_broken.reason  # bound to the entry before it
        check = _approved_check(store, store.get(1).fingerprint, None, False)
    assert not check.passed and "failed verification" in check.explanation


def test_a_signed_approval_moved_to_another_record_does_not_verify(tmp_path):
    a, _ = _approved_and_pending(tmp_path)
    from tests.security.test_hostile_governance import _signed

    with _signed(a) as store:  # record 2 of the same assessment by Ana Kim, in review
        rec = store.get(1)
        store.submit(store.add(store.assessment(1), title="Loans v2", created_by="Ana Kim",
                               dataset_name="loans.csv", dataset_sha256=rec.dataset_sha256,
                               models=rec.models).id, "Ana Kim")
    _copy_approval(a, a, 2)
    with _signed(a) as store:
        problems = store.problems(2)
        assert any("changed after it was written" in p for p in problems), problems
        assert not store.verify().ok


# -- roles and identity from sign-in claims --------------------------------------------------------

KEYCLOAK = {"claim": "realm_access.roles", "groups": {"model-risk": ["approver"]}}


@pytest.mark.parametrize("claims,roles", [
    ({"realm_access": {"roles": ["approver"]}}, {"approver"}),
    ({"realm_access": {"roles": "approver"}}, {"approver"}),   # one name as a string
    ({"realm_access": "approver"}, set()),                     # not the nested claim
    ({"realm_access.roles": ["approver"]}, set()),             # a top-level claim of that name
    ({"roles": ["approver"]}, set()),                          # not the configured claim
    ({"realm_access": {"roles": ["Approver", ["approver"]]}}, set()),  # case, nested list
    ({"groups": ["Model-Risk"]}, set()),                       # group names are exact
    ({"groups": "model-risk"}, {"approver"}),
], ids=["nested list", "nested string", "parent as string", "dotted top-level", "default claim",
        "case and nesting", "group case", "group as string"])
def test_roles_come_only_from_the_configured_claim_path(claims, roles):
    from faircard.governance.identity import identity_from_claims, parse_role_map

    who = identity_from_claims({"iss": IDP, "sub": "eve", **claims}, parse_role_map(KEYCLOAK))
    assert who.roles == frozenset(roles)


def test_a_signed_in_person_is_their_issuer_and_subject_never_their_name_or_address():
    from faircard.governance.identity import identity_from_claims, same_person

    ana = identity_from_claims({"iss": IDP, "sub": "ana-1", "name": "Ana Kim",
                                "email": "ana@example.org", "email_verified": True})
    twin = identity_from_claims({"iss": IDP, "sub": "mallory-9", "name": "Ana Kim",
                                 "email": "ana@example.org", "email_verified": True})
    assert not ana.is_same_person(twin) and not twin.is_same_person(ana)
    # a subject differing only in case, or the same subject at another issuer, is another person
    assert not same_person(IDP, "ANA-1", "Ana Kim", IDP, "ana-1", "Ana Kim")
    assert not same_person(IDP + "/other", "ana-1", "Ana Kim", IDP, "ana-1", "Ana Kim")
    # the same subject under another display name is the same person
    assert same_person(IDP, "ana-1", "Mallory", IDP, "ana-1", "Ana Kim")
    # a typed name next to a signed-in one is compared by name, confusables included
    assert same_person("unauthenticated", "", "\u0410na Kim", IDP, "ana-1", "Ana Kim")


def test_an_imported_card_json_carries_its_text_but_never_an_approval(tmp_path, monkeypatch):
    """A card JSON edited to say "approved" and imported on the Model card page gives its
    authors' text only: the review status comes from the audit store (none here: draft)."""
    import json

    from tests.app.conftest import new, no_exception, seed_state

    monkeypatch.setenv("FAIRCARD_STORE", str(tmp_path / "none.db"))
    at = seed_state(new("app_pages/model_card.py"))
    at.run()
    forged = {"model_details": {"name": "Imported model"},
              "review": {"status": "approved", "reviewer": "Ben Lee (model risk)",
                         "notes": "Audit record 1"}}
    at.file_uploader(key="upload_card").upload("card.json", json.dumps(forged).encode()).run()
    no_exception(at)
    assert at.session_state["fc_card_text"]["model_details"]["name"] == "Imported model"
    shown = " ".join(m.value for m in [*at.markdown, *at.caption, *at.success])
    assert "Review status: draft" in shown
    assert "Status: draft." in shown  # the card's Review section
    assert "Status: approved" not in shown and "Ben Lee" not in shown
    assert "from the audit store" not in shown
