"""`faircard comment ID --section S --text T --by NAME`: a comment from a shell is the same
chain entry as a comment in the app's share view (signed when a key is configured), refused for
a record or a comment that does not exist, and listed by `faircard show`."""

from __future__ import annotations

import pytest

import faircard
from faircard.cli import main
from faircard.governance.identity import name_key
from faircard.governance.signing import SIGNING_KEY_ENV, Keys
from faircard.governance.store import AuditStore
from tests.conftest import make_dataset

SECRET = "s" * 48


@pytest.fixture
def store_path(tmp_path, monkeypatch):
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)
    df = make_dataset(1, n=400, n_features=1, with_missing=False, tiny_group=False,
                      no_positive_group=False)
    run = faircard.assess(df, target="y", prediction="pred", sensitive="sex", n_boot=0)
    path = tmp_path / "audit.db"
    with AuditStore(path, keys=Keys()) as store:
        for title in ("v1", "v2"):
            store.add(run, title=title, created_by="Ana Kim", dataset_name="d.csv",
                      dataset_sha256="a" * 64)
    return path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_comment_is_a_chain_entry_like_the_apps(store_path, capsys):
    code, out, err = _run(capsys, "comment", "1", "--section", "finding 2", "--text",
                          "Is group B's data complete?", "--by", "Vera Domain", "--role",
                          "domain expert", "--store", store_path)
    assert code == 0, err
    assert out.strip() == "comment 1 on record 1 on finding 2 by Vera Domain"
    code, out, err = _run(capsys, "comment", "#1", "--text", "Yes: see the data sheet.",
                          "--by", "Ana Kim", "--reply-to", "1", "--store", store_path)
    assert code == 0 and "answering comment 1" in out, err
    with AuditStore(store_path, create=False, keys=Keys()) as store:
        first, answer = store.comments(1)
        app = store.comment(1, "Vera Domain", "Same text, from the app's share view.",
                            section="finding 2")
        assert store.verify().ok and store.get(1).status == "draft"
    assert (first.author, first.author_issuer, first.author_subject, first.section,
            first.body, first.role) == ("Vera Domain", "unauthenticated",
                                        name_key("Vera Domain"), "finding 2",
                                        "Is group B's data complete?", "domain expert")
    assert answer.reply_to == first.id and answer.section == ""
    assert (first.author_issuer, first.author_subject) == (app.author_issuer,
                                                           app.author_subject)
    code, out, _ = _run(capsys, "show", "1", "--store", store_path)
    assert "comment 1 on finding 2 by Vera Domain" in out
    assert "Is group B's data complete?" in out and "answering 1 by Ana Kim" in out


def test_a_comment_is_signed_with_the_configured_key(store_path, capsys, monkeypatch):
    monkeypatch.setenv(SIGNING_KEY_ENV, SECRET)
    keys = Keys.from_environment(environ={SIGNING_KEY_ENV: SECRET})
    assert main(["upgrade", "--store", str(store_path)]) == 0  # signs the two records
    code, out, err = _run(capsys, "comment", "2", "--text", "Looks fine.", "--by", "Ben Lee",
                          "--store", store_path)
    assert code == 0 and out.strip().endswith("(signed)"), err
    with AuditStore(store_path, create=False, keys=keys) as store:
        [c] = store.comments(2)
        v = store.verify()
    assert c.key_id == keys.signer.key_id and v.ok and v.n_signed == 3
    monkeypatch.delenv(SIGNING_KEY_ENV)
    code, _, err = _run(capsys, "comment", "2", "--text", "Unsigned?", "--by", "Eve",
                        "--store", store_path)
    assert code == 2 and "are signed, and no signing key is configured here" in err


@pytest.mark.parametrize("argv, message", [
    (["comment", "9", "--text", "Hello", "--by", "Vera"], "There is no record 9"),
    (["comment", "x", "--text", "Hello", "--by", "Vera"], "A record id is a whole number"),
    (["comment", "1", "--text", "   ", "--by", "Vera"], "The comment is empty"),
    (["comment", "1", "--text", "Hello", "--by", ""], "The commenter's name is empty"),
    (["comment", "2", "--text", "Hello", "--by", "Vera", "--reply-to", "1"],
     "There is no comment 1 on record 2 to answer"),
    (["comment", "1", "--text", "x" * 10_001, "--by", "Vera"], "the limit is 10,000"),
])
def test_refusals_write_nothing(store_path, capsys, argv, message):
    with AuditStore(store_path, create=False, keys=Keys()) as store:
        store.comment(1, "Vera Domain", "First.")
        before = store.head()
    code, _, err = _run(capsys, *argv, "--store", store_path)
    assert code == 2 and message in err, err
    with AuditStore(store_path, create=False, keys=Keys()) as store:
        assert store.head() == before and store.verify().ok
