"""Signed audit chains: forgeries by someone with write access to the database but without the
key are found by verify() and refused by the gate; keys, rotation and the published head."""

from __future__ import annotations

import hashlib
import re
import sqlite3

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import faircard
from faircard.cli import main
from faircard.errors import FaircardError
from faircard.governance.chain import compute_hash
from faircard.governance.signing import KeyRing, Keys, generate_ed25519, parse_signing_key
from faircard.governance.store import AuditStore
from tests.conftest import make_dataset

HMAC_KEY = "k" * 40
OPTS = ["--target", "y", "--prediction", "pred", "--sensitive", "sex"]
TABLES = ("records", "reviews", "comments")


@pytest.fixture(scope="module")
def ed_pem():
    return generate_ed25519()


@pytest.fixture(params=["ed25519", "hmac"])
def keys(request, ed_pem):
    text = ed_pem[0] if request.param == "ed25519" else HMAC_KEY
    return Keys.from_environment(environ={"FAIRCARD_SIGNING_KEY": text})


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory):
    df = make_dataset(5, n=400, n_features=2, with_missing=False, tiny_group=False,
                      no_positive_group=False)
    path = tmp_path_factory.mktemp("data") / "loans.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def doc(data_csv):
    import pandas as pd
    return faircard.assess(pd.read_csv(data_csv), target="y", prediction="pred",
                           sensitive="sex", n_boot=0).to_dict()


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _in_review(path, keys, doc, data_csv) -> int:
    """A store with one record by alice, submitted; returns its id."""
    with AuditStore(path, keys=keys) as store:
        rec = store.add(doc, title="Loans", created_by="alice", dataset_name="loans.csv",
                        dataset_sha256=_sha(data_csv))
        store.submit(rec.id, "alice")
        store.comment(rec.id, "carol", "Which reference group?")
        return rec.id


def _rows(path) -> tuple[dict[str, list[dict]], dict[str, str]]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    tables = {t: [dict(r) for r in con.execute(f"SELECT * FROM {t} ORDER BY seq")]
              for t in TABLES}
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    con.close()
    return tables, meta


def _chain(tables):
    return sorted(((t, r) for t in TABLES for r in tables[t]), key=lambda e: e[1]["seq"])


def _rewrite(path, tables, *, rehash_from: int = 1) -> None:
    """Write ``tables`` back with every entry from seq ``rehash_from`` on rehashed and relinked
    (prev_hash), and the head moved: all that can be done without the key."""
    prev = "0" * 64
    entries = _chain(tables)
    for table, row in entries:
        if row["seq"] >= rehash_from:
            row["prev_hash"] = prev
            row["entry_hash"] = compute_hash(row, table)
        prev = row["entry_hash"]
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=OFF")
    for t in TABLES:
        con.execute(f"DELETE FROM {t}")
    for table, row in entries:
        cols = ", ".join(row)
        con.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()))
    con.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (prev,))
    con.execute("UPDATE meta SET value = ? WHERE key = 'event_count'", (str(len(entries)),))
    con.commit()
    con.close()


def _forge_approval(path, rid: int, *, copy_signature: bool) -> None:
    """The issue's reproduction: append an approval with a recomputed hash, set the status and
    move the head."""
    tables, meta = _rows(path)
    last = _chain(tables)[-1][1]
    row = {"id": max(r["id"] for r in tables["reviews"]) + 1, "seq": int(meta["event_count"]) + 1,
           "record_id": rid, "reviewer": "mallory", "role": "model risk", "decision": "approve",
           "comment": "", "at": "2026-01-01T00:00:00+00:00", "prev_hash": meta["head_hash"],
           "hash_version": 2, "reviewer_issuer": "unauthenticated", "reviewer_subject": "mallory",
           "key_id": last["key_id"] if copy_signature else None,
           "signature": last["signature"] if copy_signature else None}
    row["entry_hash"] = compute_hash(row, "reviews")
    tables["reviews"].append(row)
    for rec in tables["records"]:
        if rec["id"] == rid:
            rec["status"] = "approved"
    _rewrite(path, tables, rehash_from=row["seq"])


def _gate(data_csv, path, env, monkeypatch, capsys, *extra) -> tuple[int, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["gate", str(data_csv), *OPTS, "--bootstrap", "0", "--max-dpd", "1",
                 "--require-approved", "--store", str(path), *extra])
    return code, capsys.readouterr().out


# -- the forged approval ----------------------------------------------------------------------

@pytest.mark.parametrize("copy_signature", [False, True])
def test_forged_approval_fails_verify_and_the_gate(tmp_path, keys, doc, data_csv, monkeypatch,
                                                   capsys, copy_signature):
    path = tmp_path / "audit.db"
    rid = _in_review(path, keys, doc, data_csv)
    _forge_approval(path, rid, copy_signature=copy_signature)
    with AuditStore(path, keys=keys) as store:
        assert store.get(rid).status == "approved"  # the forgery looks complete...
        v = store.verify()
    assert not v.ok and v.first_broken.entry == "review 2"  # ...but is not signed by the key
    reason = "does not match its content" if copy_signature else "it is not signed"
    assert reason in v.first_broken.reason
    env = {"FAIRCARD_SIGNING_KEY": keys.signer.material.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode() if keys.signer.algorithm == "ed25519"
        else HMAC_KEY}
    code, out = _gate(data_csv, path, env, monkeypatch, capsys)
    assert code == 1 and "FAIL approved" in out and "failed verification" in out, out
    # the CLI verify says the same
    assert main(["verify", "--store", str(path)]) == 1
    assert "review 2: " in capsys.readouterr().out


def test_without_a_key_the_same_forgery_passes_which_is_why_stores_are_signed(
        tmp_path, doc, data_csv):
    path = tmp_path / "audit.db"
    rid = _in_review(path, Keys(), doc, data_csv)
    _forge_approval(path, rid, copy_signature=False)
    with AuditStore(path, keys=Keys()) as store:
        v = store.verify()
    assert v.ok and "not signed" in v.message


def test_a_signed_store_cannot_be_verified_or_written_without_its_key(tmp_path, keys, doc,
                                                                      data_csv):
    path = tmp_path / "audit.db"
    rid = _in_review(path, keys, doc, data_csv)
    with AuditStore(path, keys=Keys()) as store:
        v = store.verify()
        assert not v.ok and "no verification key is configured" in str(v.problems[0])
        with pytest.raises(FaircardError, match="entries .* are signed.*FAIRCARD_SIGNING_KEY"):
            store.review(rid, "bob", "approve")
    with AuditStore(path, keys=keys) as store:
        v = store.verify()
        assert v.ok and v.n_signed == 3 and "signature checks out" in v.message


# -- careful tampering, deletion, reordering, rewriting -----------------------------------------

def test_rewritten_entry_rehashed_and_relinked_fails(tmp_path, keys, doc, data_csv):
    path = tmp_path / "audit.db"
    _in_review(path, keys, doc, data_csv)
    tables, _ = _rows(path)
    tables["comments"][0]["body"] = "Approved informally by the board."
    seq = tables["comments"][0]["seq"]
    _rewrite(path, tables, rehash_from=seq)  # rehash it and patch the next prev_hash
    with AuditStore(path, keys=keys) as store:
        v = store.verify()
    assert not v.ok and v.first_broken.entry == "comment 1"
    assert "signature does not match" in v.first_broken.reason
    assert [p for p in v.problems if "prev_hash" in p.reason] == []  # the links were patched


def test_deleting_the_last_entries_is_found_with_the_published_head(tmp_path, keys, doc,
                                                                   data_csv, monkeypatch, capsys):
    path = tmp_path / "audit.db"
    rid = _in_review(path, keys, doc, data_csv)
    with AuditStore(path, keys=keys) as store:
        store.review(rid, "bob", "approve")
        published = store.head()
        assert store.verify(expect_head=published).ok
        store.comment(rid, "carol", "Thanks.")  # growth after publication is fine
        assert store.verify(expect_head=published).ok
    tables, _ = _rows(path)
    tables["reviews"] = [r for r in tables["reviews"] if r["decision"] != "approve"]
    tables["comments"] = tables["comments"][:1]
    for rec in tables["records"]:
        rec["status"] = "in_review"
    _rewrite(path, tables, rehash_from=10**6)  # nothing rehashed: a clean cut of the end
    with AuditStore(path, keys=keys) as store:
        # every remaining entry is genuine and signed, but the head's signature is of the
        # longer chain: found without the published head too
        [cut] = store.verify().problems
        assert cut.entry == "the store's head" and "removed from the end" in cut.reason
        v = store.verify(expect_head=published)
    assert not v.ok and "published head" in str(v.problems[-1])
    monkeypatch.setenv("FAIRCARD_SIGNING_KEY", HMAC_KEY if keys.signer.algorithm != "ed25519"
                       else keys.signer.material.private_bytes(
                           serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption()).decode())
    assert main(["verify", "--store", str(path), "--expect-head", published]) == 1
    assert "published head" in capsys.readouterr().out
    code = main(["gate", str(data_csv), *OPTS, "--bootstrap", "0", "--max-dpd", "1",
                 "--store", str(path), "--expect-head", published])
    assert code == 1 and "FAIL audit_store" in capsys.readouterr().out


def test_reordering_entries_fails(tmp_path, keys, doc, data_csv):
    path = tmp_path / "audit.db"
    _in_review(path, keys, doc, data_csv)
    tables, _ = _rows(path)
    submit, comment = tables["reviews"][0], tables["comments"][0]
    submit["seq"], comment["seq"] = comment["seq"], submit["seq"]
    _rewrite(path, tables, rehash_from=min(submit["seq"], comment["seq"]))
    with AuditStore(path, keys=keys) as store:
        v = store.verify()
    assert not v.ok
    assert any("signature does not match" in p.reason for p in v.problems)


@pytest.mark.parametrize("how", ["unsigned", "own key"])
def test_rewriting_the_whole_chain_without_the_key_fails(tmp_path, keys, doc, data_csv, how):
    path = tmp_path / "audit.db"
    _in_review(path, keys, doc, data_csv)
    tables, _ = _rows(path)
    tables["records"][0]["title"] = "Loans (approved by the board)"
    attacker = parse_signing_key("m" * 40, "attacker") if how == "own key" else None
    prev = "0" * 64
    for table, row in _chain(tables):
        row["prev_hash"] = prev
        row["entry_hash"] = prev = compute_hash(row, table)
        row["key_id"] = attacker.key_id if attacker else None
        row["signature"] = attacker.sign(row["entry_hash"]) if attacker else None
    _rewrite(path, tables, rehash_from=10**6)
    with AuditStore(path, keys=keys) as store:
        v = store.verify()
    assert not v.ok and v.first_broken.entry == "record 1"
    word = "not a trusted key" if attacker else "not signed"
    assert all(word in str(p) for p in v.problems if p.table != "meta"), v.problems


# -- keys ----------------------------------------------------------------------------------

def test_key_rotation_keeps_old_entries_verifiable(tmp_path, doc, data_csv):
    old_private, old_public, old_id = generate_ed25519()
    new_private, _, new_id = generate_ed25519()
    old = Keys.from_environment(environ={"FAIRCARD_SIGNING_KEY": old_private})
    path = tmp_path / "audit.db"
    rid = _in_review(path, old, doc, data_csv)
    (tmp_path / "old.pub.pem").write_text(old_public)
    rotated = Keys.from_environment(environ={"FAIRCARD_SIGNING_KEY": new_private,
                                             "FAIRCARD_VERIFY_KEYS": str(tmp_path / "old.pub.pem")})
    with AuditStore(path, keys=rotated) as store:
        store.review(rid, "bob", "approve")
        assert store.history(rid)[-1].key_id == new_id
        assert store.get(rid).key_id == old_id
        assert store.verify().ok
    # without the old public key the old entries cannot be trusted
    new_only = Keys.from_environment(environ={"FAIRCARD_SIGNING_KEY": new_private})
    with AuditStore(path, keys=new_only) as store:
        v = store.verify()
    assert not v.ok and "not a trusted key" in v.first_broken.reason
    # a verifier with only public keys checks without being able to sign
    (tmp_path / "both.pem").write_text(old_public + generate_ed25519()[1])
    public_only = Keys.from_environment(environ={"FAIRCARD_VERIFY_KEYS":
                                                 str(tmp_path / "both.pem")})
    assert public_only.signer is None and len(public_only.ring.keys) == 2


def test_key_configuration_errors(tmp_path):
    with pytest.raises(FaircardError, match="at least 32"):
        Keys.from_environment(environ={"FAIRCARD_SIGNING_KEY": "short"})
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    with pytest.raises(FaircardError, match="RSAPrivate key; faircard signs with Ed25519"):
        parse_signing_key(rsa_pem, "test")
    with pytest.raises(FaircardError, match="not a readable unencrypted PEM"):
        parse_signing_key("-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----", "t")
    with pytest.raises(FaircardError, match="Cannot read the signing key file"):
        Keys.from_environment(environ={"FAIRCARD_SIGNING_KEY_FILE": str(tmp_path / "none")})
    # Streamlit-style secrets take precedence over the environment
    keys = Keys.from_environment({"signing_key": HMAC_KEY},
                                 environ={"FAIRCARD_SIGNING_KEY": "x" * 40})
    assert keys.signer.key_id == parse_signing_key(HMAC_KEY, "t").key_id
    assert KeyRing([]).check(None, None, "0" * 64).startswith("it is not signed")


def test_keygen_head_and_signed_cli_flow(tmp_path, data_csv, monkeypatch, capsys):
    key = tmp_path / "signing.pem"
    assert main(["keygen", str(key)]) == 0
    out = capsys.readouterr().out
    key_id = re.search(r"key id\s+(ed25519:[0-9a-f]{16})", out).group(1)
    assert (key.stat().st_mode & 0o777) == 0o600 and (tmp_path / "signing.pub.pem").exists()
    assert main(["keygen", str(key)]) == 2  # never overwritten
    capsys.readouterr()
    monkeypatch.setenv("FAIRCARD_SIGNING_KEY_FILE", str(key))
    store = str(tmp_path / "audit.db")
    assert main(["record", str(data_csv), *OPTS, "--author", "alice", "--store", store,
                 "--bootstrap", "0"]) == 0
    assert main(["head", "--store", store]) == 0
    head = capsys.readouterr().out.strip().splitlines()[-1]
    with AuditStore(store) as s:
        assert s.head() == head and s.get(1).key_id == key_id
    assert main(["verify", "--store", store, "--expect-head", head]) == 0
    assert "signature checks out" in capsys.readouterr().out
    # a verifier holding only the public key
    monkeypatch.delenv("FAIRCARD_SIGNING_KEY_FILE")
    monkeypatch.setenv("FAIRCARD_VERIFY_KEYS", str(tmp_path / "signing.pub.pem"))
    assert main(["verify", "--store", store]) == 0
