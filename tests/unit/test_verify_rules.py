"""``faircard verify`` re-checks the sign-off rules the store enforces when it writes an
approval: nobody approves their own record, nor their own work under another record (a version
the approved record replaces, or the same assessment recorded again), and nobody approves a
version that was already replaced. A store written by hand (SQL, or an older faircard) to hold
such an approval does not verify, and its record is not shown as approved.

Chains are built with the hand-written hashing of ``test_mut_chain``; the end-to-end test edits
a real store with SQL, as someone with write access to its database could."""

from __future__ import annotations

import sqlite3

import pytest

from faircard.cli import main as cli_main
from faircard.governance.approval import UNVERIFIED, card_review
from faircard.governance.chain import compute_hash
from faircard.governance.store import AuditStore
from tests.unit.test_mut_chain import Chain, _reasons

OTHER_SPEC = {"target": "repaid", "threshold": 0.6}  # another assessment: another fingerprint


def test_approving_a_corrected_version_of_ones_own_record_is_found():
    c = Chain()
    c.record(author="Alice Smith")
    c.record(author="Bob Jones", spec=OTHER_SPEC, supersedes=1)
    c.event(2, "submit", reviewer="Bob Jones")
    c.event(2, "approve", reviewer="alice smith")
    assert _reasons(c.verify())[0] == (
        "review 2: it approves record 2 by the author of record 1, which record 2 replaces: "
        "their own work under another record")


def test_approving_a_version_that_replaces_ones_own_further_back_is_found():
    c = Chain()
    c.record(author="Alice Smith")
    c.record(author="Bob Jones", spec=OTHER_SPEC, supersedes=1)
    c.record(author="Carol White", spec={"target": "repaid", "threshold": 0.7}, supersedes=2)
    c.event(3, "submit", reviewer="Carol White")
    c.event(3, "approve", reviewer="Alice Smith")
    assert "by the author of record 1, which record 3 replaces" in _reasons(c.verify())[0]


def test_approving_ones_own_assessment_recorded_again_by_someone_else_is_found():
    c = Chain()
    c.record(author="Alice Smith")
    c.record(author="Bob Jones")  # the same fingerprint
    c.event(2, "submit", reviewer="Bob Jones")
    c.event(2, "approve", reviewer="Alice Smith")
    assert _reasons(c.verify())[0] == (
        "review 2: it approves record 2 by the author of record 1, the same assessment: their "
        "own work under another record")


def test_approving_a_replaced_version_is_found():
    c = Chain()
    c.record(author="Alice Smith")
    c.event(1, "submit", reviewer="Alice Smith")
    c.record(author="Alice Smith", spec=OTHER_SPEC, supersedes=1)
    c.event(1, "approve", reviewer="Bob Jones")
    assert _reasons(c.verify())[0] == (
        "review 2: it approves record 1, which record 2 had already replaced (an outdated "
        "version)")


def test_what_came_after_an_approval_does_not_make_it_wrong():
    """Rules apply to what the chain held when the approval was written: a version recorded
    later, or the approver recording the same assessment later, is no self-approval."""
    c = Chain()
    c.record(author="Alice Smith")
    c.event(1, "submit", reviewer="Alice Smith")
    c.event(1, "approve", reviewer="Bob Jones")
    c.record(author="Bob Jones")  # Bob records the same assessment after approving it
    c.record(author="Alice Smith", spec=OTHER_SPEC, supersedes=1)
    assert c.verify().ok, _reasons(c.verify())


def test_other_people_may_approve_a_corrected_version():
    c = Chain()
    c.record(author="Alice Smith")
    c.record(author="Alice Smith", spec=OTHER_SPEC, supersedes=1)
    c.record(author="Bob Jones")  # Bob recorded Alice's first assessment again
    c.event(2, "submit", reviewer="Alice Smith")
    c.event(2, "approve", reviewer="Carol White")
    assert c.verify().ok, _reasons(c.verify())


# -- a real store edited by hand ----------------------------------------------------------------

def _rewrite_last_review(path, **values) -> None:
    """Change the newest review (the last entry of the chain) and rehash it, moving the head:
    what someone with SQL access to an unsigned store can do."""
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    row = dict(con.execute("SELECT * FROM reviews ORDER BY seq DESC LIMIT 1").fetchone())
    row.update(values)
    row["entry_hash"] = compute_hash(row, "reviews")
    sets = ", ".join(f"{k} = ?" for k in (*values, "entry_hash"))
    con.execute(f"UPDATE reviews SET {sets} WHERE id = ?",
                [*values.values(), row["entry_hash"], row["id"]])
    con.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (row["entry_hash"],))
    con.commit()
    con.close()


@pytest.fixture(scope="module")
def result():
    import faircard
    from tests.conftest import make_dataset

    return faircard.assess(make_dataset(3, n=200), target="y", score="score",
                           sensitive=["sex"], n_boot=0)


@pytest.mark.parametrize("how", ["same assessment", "corrected version"])
def test_a_store_edited_to_hold_a_self_approval_does_not_verify(how, tmp_path, result,
                                                               capsys):
    path = tmp_path / "a.db"
    kw = dict(dataset_name="loans.csv", dataset_sha256="b" * 64)
    with AuditStore(path) as store:
        store.add(result, title="v1", created_by="Ana Kim", **kw)
        store.submit(1, "Ana Kim")
        store.review(1, "Dana Fox", "request_changes", "Explain the threshold.")
        spec = None if how == "same assessment" else {**store.get(1).spec, "threshold": 0.6}
        rec = store.add(result, title="v2", created_by="Ben Lee", spec=spec,
                        supersedes=1 if how == "corrected version" else None, **kw)
        store.submit(rec.id, "Ben Lee")
        store.review(rec.id, "Carl Diaz", "approve")  # a real approval by another person
        assert store.verify().ok
    _rewrite_last_review(path, reviewer="Ana Kim", reviewer_subject="ana kim")
    with AuditStore(path) as store:
        verified = store.verify()
        assert not verified.ok
        expected = "by the author of record 1" + (
            ", the same assessment" if how == "same assessment"
            else ", which record 2 replaces")
        assert expected in str(verified.first_broken), verified.problems
        # the record's own check finds it too, so no card or share link says "approved"
        assert expected in store.problems(2)[0]
        rec = store.get(2)
        review = card_review(store, fingerprint=rec.fingerprint,
                             dataset_sha256=rec.dataset_sha256, model_sha256s=[],
                             spec=rec.spec, summary=rec.summary)
        assert review["status"] == UNVERIFIED
    assert cli_main(["verify", "--store", str(path)]) == 1
    assert expected in capsys.readouterr().out
