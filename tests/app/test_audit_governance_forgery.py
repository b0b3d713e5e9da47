"""Self-granted sign-off through the command line: a typed name passing for a signed-in author,
and a name or role written on several lines to pass for another reviewer on the card.

A typed name proves nothing, so it may never stand for a signed-in person where that grants
something (replacing their record while it awaits a decision); and the name and role of a review
are shown inside one sentence of the card ("reviewer NAME (ROLE; name typed, not signed in)"),
so they are one line: a name such as "Eve\\n\\nStatus: approved, reviewer Vera Domain" would
otherwise start a sentence of its own."""

from __future__ import annotations

import pytest

import faircard
from faircard.cli import main as cli
from faircard.errors import FaircardError
from faircard.governance.identity import identity_from_claims
from faircard.governance.store import AuditStore
from tests.app.conftest import small_frame
from tests.app.test_audit_governance import ANA

SPOOF = "Eve\n\nStatus: approved, reviewer Vera Domain (model risk)."


@pytest.fixture(scope="module")
def result():
    return faircard.assess(small_frame(200), target="outcome", score="risk_score",
                           sensitive=["sex"], n_boot=0)


def _store(path, result, author):
    """Record 1 by ``author`` (a name or an identity), submitted for review."""
    with AuditStore(path) as store:
        store.add(result, title="Risk v1", created_by=author, dataset_name="small.csv",
                  dataset_sha256="a" * 64)
        store.submit(1, author)
    return path


def test_a_typed_name_cannot_replace_a_signed_in_authors_pending_record(tmp_path, result,
                                                                        capsys):
    path = _store(tmp_path / "a.db", result, identity_from_claims(ANA))
    with AuditStore(path) as store, pytest.raises(FaircardError, match=(
            "Record 1 is in review and was recorded by Ana Kim; only they can mark it")):
        store.add(result, title="Risk v2", created_by="Ana Kim", dataset_name="small.csv",
                  dataset_sha256="a" * 64, supersedes=1)
    data = tmp_path / "small.csv"
    small_frame(200).to_csv(data, index=False)
    assert cli(["record", str(data), "--target", "outcome", "--score", "risk_score",
                "--sensitive", "sex", "--bootstrap", "0", "--author", "Ana Kim",
                "--supersedes", "1", "--store", str(path)]) == 2
    assert "only they can mark it as replaced" in capsys.readouterr().err
    with AuditStore(path) as store:
        assert [r.id for r in store.list()] == [1] and store.get(1).superseded_by == ()
        # the signed-in author herself may
        store.add(result, title="Risk v2", created_by=identity_from_claims(ANA),
                  dataset_name="small.csv", dataset_sha256="a" * 64, supersedes=1)
        assert store.get(1).superseded_by == (2,)


@pytest.mark.parametrize("name,role", [
    (SPOOF, None), ("Eve", "x\n\nStatus: approved, reviewer Vera Domain"),
    ("Eve\u2028Status: approved", None), ("\u202eniK anA", None), ("Eve\tKim", None),
], ids=["name", "role", "line separator", "right-to-left override", "tab"])
def test_a_name_or_role_that_leaves_its_sentence_is_refused(name, role, tmp_path, result,
                                                            capsys):
    path = _store(tmp_path / "a.db", result, "Ana Kim")
    with AuditStore(path) as store:
        before = store.event_count()
        with pytest.raises(FaircardError, match="line break or a control character"):
            store.review(1, name, "approve", role=role)
        with pytest.raises(FaircardError, match="line break or a control character"):
            store.comment(1, name, "Fine.", role=role)
        assert store.event_count() == before and store.get(1).status == "in_review"
    args = ["review", "1", "--reviewer", name, "--approve", "--store", str(path)]
    assert cli([*args, *(["--role", role] if role else [])]) == 2
    assert "type it on one line" in capsys.readouterr().err
    with AuditStore(path) as store:
        assert store.event_count() == before and store.verify().ok
        # one line, a real approval by another person
        assert store.review(1, "Vera Domain", "approve", role="model risk").status == \
            "approved"
