"""Forged and self-granted approvals, tampered audit stores and hostile record ids.

The attacker here can type any name (local mode, the command line) and, in the store attacks,
write to the audit database with SQL (a shared SQLite file or PostgreSQL account) but does not
hold the signing key. What must never happen: the author approves their own record; the app,
the card or ``faircard show`` presents a status, a figure or a review that was changed in the
database as if it were recorded; a record id crashes a page or a command.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

import faircard
from faircard.cli import main as cli_main
from faircard.errors import FaircardError
from faircard.governance.approval import UNVERIFIED, card_review
from faircard.governance.chain import compute_hash
from faircard.governance.identity import identity_from_claims, parse_role_map, same_name
from faircard.governance.share import cells_of
from faircard.governance.signing import Keys
from faircard.governance.store import AuditStore
from tests.conftest import make_dataset

MODEL = {"name": "m.skops", "sha256": "a" * 64}
DATA_SHA = hashlib.sha256(b"loans").hexdigest()
SECRET = "k" * 40
HUGE_IDS = ["99999999999999999999", str(2**63), "-" + "9" * 25, "#" + str(10**30)]


@pytest.fixture(scope="module")
def result():
    return faircard.assess(make_dataset(3, n=300), target="y", score="score",
                           sensitive=["sex"], n_boot=0)


def _add(store, result, author="Ana Kim"):
    return store.add(result, title="Loans v1", created_by=author, dataset_name="loans.csv",
                     dataset_sha256=DATA_SHA, models=[MODEL], cells=cells_of(result))


def _sql(path, statement, *params):
    con = sqlite3.connect(path)
    con.execute(statement, params)
    con.commit()
    con.close()


def _in_review(tmp_path, result):
    """A store with Ana Kim's record 1, submitted for review."""
    with AuditStore(tmp_path / "a.db") as store:
        store.submit(_add(store, result).id, "Ana Kim")
    return tmp_path / "a.db"


def _review_of(store, rec):
    return card_review(store, fingerprint=rec.fingerprint, dataset_sha256=rec.dataset_sha256,
                       model_sha256s=[m["sha256"] for m in rec.models], spec=rec.spec,
                       summary=rec.summary)


# -- record ids ----------------------------------------------------------------------------------

@pytest.mark.parametrize("rid", HUGE_IDS)
def test_record_ids_beyond_a_database_integer_are_one_sentence(rid, tmp_path, result):
    with AuditStore(tmp_path / "a.db") as store:
        _add(store, result)
        for call in (store.get, store.history, store.comments, store.cells, store.problems,
                     lambda r: store.review(r, "Ben Lee", "approve"),
                     lambda r: store.comment(r, "Ben Lee", "hi"),
                     lambda r: store.comment(1, "Ben Lee", "hi", reply_to=r)):
            with pytest.raises(FaircardError, match="record|comment|whole number"):
                call(rid)


def test_cli_show_of_a_huge_record_id_is_one_line(tmp_path, result, capsys):
    with AuditStore(tmp_path / "a.db") as store:
        _add(store, result)
    rc = cli_main(["show", HUGE_IDS[0], "--store", str(tmp_path / "a.db")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("faircard: error: There is no record") \
        and err.count("\n") == 1, err


# -- a database writer without the signing key ---------------------------------------------------

def test_status_edited_to_approved_is_not_shown_as_approved(tmp_path, result, capsys):
    path = _in_review(tmp_path, result)
    _sql(path, "UPDATE records SET status = 'approved' WHERE id = 1")
    with AuditStore(path) as store:
        assert store.get(1).status == "approved"  # what the column says
        problems = store.problems(1)
        assert problems and "the status was edited" in problems[-1], problems
        review = _review_of(store, store.get(1))
        assert review["status"] == UNVERIFIED and "does not verify" in review["notes"]
        assert not store.verify().ok
    assert cli_main(["show", "1", "--store", str(path)]) == 0
    out = capsys.readouterr().out
    assert "NOT VERIFIED" in out and "status was edited" in out, out


def test_figures_edited_after_approval_are_found(tmp_path, result):
    path = _in_review(tmp_path, result)
    with AuditStore(path) as store:
        store.review(1, "Ben Lee", "approve")
        assert store.problems(1) == [] and _review_of(store, store.get(1))["status"] == "approved"
    cells = cells_of(result)
    cells["counts"] = [[0, 0, 0, sum(c)] for c in cells["counts"]]  # everybody a true positive
    _sql(path, "UPDATE records SET cells = ? WHERE id = 1", json.dumps(cells))
    with AuditStore(path) as store:
        problems = store.problems(1)
        assert any("changed after it was written" in p for p in problems), problems
        assert _review_of(store, store.get(1))["status"] == UNVERIFIED


def test_a_record_changed_while_in_review_cannot_be_approved(tmp_path, result):
    path = _in_review(tmp_path, result)
    _sql(path, "UPDATE records SET title = 'Loans v2 (fixed)' WHERE id = 1")
    with AuditStore(path) as store:
        with pytest.raises(FaircardError, match="cannot be approved: record 1 was changed"):
            store.review(1, "Ben Lee", "approve")
        # asking for changes is still possible, and nothing was written by the refusal
        store.review(1, "Ben Lee", "request_changes", "the title changed after recording")
        assert store.get(1).status == "changes_requested"


def _signed(path):
    return AuditStore(path, keys=Keys.from_environment(environ={"FAIRCARD_SIGNING_KEY": SECRET}))


def _forge_approval(path, signature=None, key_id=None):
    """Append an approval by 'Ben Lee' as faircard would, but without the key: the row's hash
    recomputed, the head moved, the status set; optionally with another entry's signature."""
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    head = con.execute("SELECT value FROM meta WHERE key = 'head_hash'").fetchone()[0]
    seq = int(con.execute("SELECT value FROM meta WHERE key = 'event_count'").fetchone()[0])
    row = {"id": 99, "record_id": 1, "reviewer": "Ben Lee", "reviewer_issuer": "unauthenticated",
           "reviewer_subject": "ben lee", "role": None, "decision": "approve", "comment": "",
           "at": "2026-01-01T00:00:00.000000+00:00", "seq": seq + 1, "prev_hash": head,
           "hash_version": 3}
    row["entry_hash"] = compute_hash(row, "reviews")
    row["key_id"], row["signature"] = key_id, signature
    cols = ", ".join(row)
    con.execute(f"INSERT INTO reviews ({cols}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()))
    con.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (row["entry_hash"],))
    con.execute("UPDATE meta SET value = ? WHERE key = 'event_count'", (str(seq + 1),))
    con.execute("UPDATE records SET status = 'approved' WHERE id = 1")
    con.commit()
    con.close()


@pytest.mark.parametrize("how", ["unsigned", "signature of the submission"])
def test_forged_approval_in_a_signed_store_is_not_trusted(how, tmp_path, result):
    path = tmp_path / "a.db"
    with _signed(path) as store:
        rec = _add(store, result)
        store.submit(rec.id, "Ana Kim")
        [submit] = store.history(1)
    with sqlite3.connect(path) as con:
        sig, key_id = con.execute("SELECT signature, key_id FROM reviews WHERE id = ?",
                                  (submit.id,)).fetchone()
    _forge_approval(path, *((None, None) if how == "unsigned" else (sig, key_id)))
    with _signed(path) as store:
        assert store.get(1).status == "approved"
        problems = store.problems(1)
        assert any(("not signed" if how == "unsigned" else "signature does not match") in p
                   for p in problems), problems
        assert _review_of(store, store.get(1))["status"] == UNVERIFIED
        assert not store.verify().ok


# -- the share link ------------------------------------------------------------------------------

def _share(store_path, monkeypatch, record):
    from tests.app.conftest import new, no_exception

    monkeypatch.setenv("FAIRCARD_STORE", str(store_path))
    at = new("app.py")
    at.query_params["record"] = record
    at.run()
    no_exception(at)
    return at


def test_share_link_of_a_record_whose_status_was_edited(tmp_path, result, monkeypatch):
    path = _in_review(tmp_path, result)
    _sql(path, "UPDATE records SET status = 'approved' WHERE id = 1")
    at = _share(path, monkeypatch, "1")
    errors = [e.value for e in at.error]
    assert any("does not verify" in e and "status was edited" in e for e in errors), errors
    shown = "\n".join(m.value for m in at.markdown)
    assert "status **not verified**" in shown and "status **approved**" not in shown


def test_share_link_shows_a_hostile_comment_section_as_text(tmp_path, result, monkeypatch):
    from tests.security.test_hostile_text import MARKDOWN

    path = tmp_path / "a.db"
    with AuditStore(path) as store:
        # the command line lets anyone name any section
        store.comment(_add(store, result).id, "Eve", "see above", section=MARKDOWN["image"])
    shown = "\n".join(m.value for m in _share(path, monkeypatch, "1").markdown)
    assert "](https://evil.example" not in shown.replace("\\]\\(", ""), shown
    assert "!\\[pixel\\]" in shown  # the section's words are shown, escaped


@pytest.mark.parametrize("record", [HUGE_IDS[0], "1; DROP TABLE records", "<script>"])
def test_share_link_with_a_hostile_record_id_is_a_sentence(record, tmp_path, result,
                                                          monkeypatch):
    path = tmp_path / "a.db"
    with AuditStore(path) as store:
        _add(store, result)
    at = _share(path, monkeypatch, record)
    assert [e.value for e in at.error] and any(
        "no record" in e.value or "whole number" in e.value for e in at.error)
    with AuditStore(path) as store:
        assert store.verify().ok and store.get(1).status == "draft"


# -- typed names: the author under another spelling ----------------------------------------------

AUTHOR_SPELLINGS = ["Ana Kim.", "Ana Kim,", "'Ana Kim'", "\"Ana Kim\"", "Ana-Kim", "Ana_Kim",
                    "Ana.Kim", "Ana;Kim", "Ana/Kim", "Ana\u00b7Kim", "AnaKim", "Ana\u200bKim",
                    "Ana\u00adKim", "Ana K i m", "Ana K\u00edm", "A\u0301na Kim",
                    "Ana Kim (author)", "Dr. Ana Kim", "Ana Kim, PhD", "\u212bna Kim"]


@pytest.mark.parametrize("name", AUTHOR_SPELLINGS, ids=ascii)
def test_the_author_under_another_spelling_cannot_approve(name, tmp_path, result):
    path = _in_review(tmp_path, result)
    with AuditStore(path) as store:
        with pytest.raises(FaircardError, match="created record 1 and cannot approve it"):
            store.review(1, name, "approve")
        assert store.get(1).status == "in_review"


def test_other_people_can_still_approve(tmp_path, result):
    path = _in_review(tmp_path, result)
    with AuditStore(path) as store:
        for name in ("Kim", "Ana", "Ben Lee", "Ana Kimura"):
            assert not same_name("Ana Kim", name), name
        assert store.review(1, "Ana Kimura", "approve").status == "approved"


def test_verify_finds_an_approval_under_another_spelling_written_before(tmp_path, result):
    """An approval written by an older faircard under a spelling it did not catch is found."""
    path = _in_review(tmp_path, result)
    with AuditStore(path) as store:
        store.review(1, "Ben Lee", "approve")
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    row = dict(con.execute("SELECT * FROM reviews WHERE decision = 'approve'").fetchone())
    row["reviewer"] = "Ana-Kim"
    new_hash = compute_hash(row, "reviews")
    con.execute("UPDATE reviews SET reviewer = ?, entry_hash = ? WHERE id = ?",
                ("Ana-Kim", new_hash, row["id"]))
    con.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (new_hash,))
    con.commit()
    con.close()
    with AuditStore(path) as store:
        v = store.verify()
        assert not v.ok and "approves record 1 by its own author" in str(v.first_broken)


# -- roles: granted by nobody but the roles file and the provider --------------------------------

ROLES_FILE = {"default": ["viewer"], "users": {"kim@example.org": ["approver"],
                                               "Sam@Example.org": ["approver"]}}


@pytest.mark.parametrize("claims", [
    {"email": "kim@example.org"},  # no email_verified (Entra ID): anyone may have typed it
    {"email": "kim@example.org", "email_verified": False},
    {"email": "kim@example.org", "email_verified": "no"},
    {"email": "\u212aim@example.org", "email_verified": True},  # KELVIN SIGN folds to "k"
    {"email": "\u017fam@example.org", "email_verified": True},  # LONG S folds to "s"
    {"email": "kim@example.org\u200b", "email_verified": True},
    {"email": ["kim@example.org"], "email_verified": True},
    {"email": "eve@example.org", "email_verified": True, "groups": "approver"},
], ids=["unverified", "verified false", "verified no", "kelvin sign", "long s", "zero width",
        "a list", "group named like a role"])
def test_an_e_mail_address_someone_chose_gives_no_role(claims):
    role_map = parse_role_map(ROLES_FILE)
    claims = {"iss": "https://idp", "sub": "eve", "name": "Eve", **claims}
    who = identity_from_claims(claims, role_map)
    expected = {"viewer", "approver"} if claims["email"] == "kim@example.org" and \
        claims.get("email_verified") is True else {"viewer"}
    assert who.roles == expected and not (expected == {"viewer"} and who.can("approve"))


def test_a_verified_address_gives_its_roles_whatever_the_case_of_its_ascii_letters():
    role_map = parse_role_map(ROLES_FILE)
    for email in ("KIM@example.org", "sam@EXAMPLE.ORG", " Sam@example.org "):
        who = identity_from_claims({"iss": "i", "sub": "s", "email": email,
                                    "email_verified": True}, role_map)
        assert who.can("approve"), email


def test_governance_page_of_a_record_whose_status_was_edited(tmp_path, result, monkeypatch):
    from tests.app.conftest import new, no_exception

    path = _in_review(tmp_path, result)
    _sql(path, "UPDATE records SET status = 'approved](https://evil.example)' WHERE id = 1")
    monkeypatch.setenv("FAIRCARD_STORE", str(path))
    at = new("app_pages/governance.py")
    at.run()
    no_exception(at)
    assert any("does not verify" in e.value and "status was edited" in e.value
               for e in at.error), [e.value for e in at.error]
    shown = "\n".join(m.value for m in at.markdown)
    assert "**Status:** not verified" in shown and "](https://evil" not in shown


def test_a_later_rejection_of_the_same_assessment_withdraws_its_approval(tmp_path, result):
    from faircard.governance.gate import _approved_check

    path = _in_review(tmp_path, result)
    with AuditStore(path) as store:
        rec = store.review(1, "Ben Lee", "approve")
        assert _approved_check(store, rec.fingerprint, None, False).passed
        again = _add(store, result)  # the same assessment recorded again, and rejected
        assert again.fingerprint == rec.fingerprint
        store.submit(again.id, "Ana Kim")
        store.review(again.id, "Vera Domain", "reject", "group B is missing half its rows")
        check = _approved_check(store, rec.fingerprint, None, False)
        assert not check.passed and "rejected later by Vera Domain" in check.explanation
