"""Signing keys and signatures of the audit chain, checked with the standard library's hmac and
hashlib (the documented construction) and exact messages; written to kill mutmut survivors."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from faircard.errors import FaircardError
from faircard.governance import signing as sg

DOMAIN = b"faircard-audit-entry\x00"
SECRET_A = "a" * 32          # exactly the minimum length
SECRET_B = "0123456789abcdef" * 4


def _hmac_id(secret: bytes) -> str:
    return "hmac-sha256:" + hashlib.sha256(b"faircard-key-id" + DOMAIN + secret).hexdigest()[:16]


def _message(fn, *args, **kw) -> str:
    with pytest.raises(FaircardError) as err:
        fn(*args, **kw)
    return str(err.value)


def test_hmac_lines_of_a_verification_keys_file():
    text = f"# old keys\n\n{SECRET_A}\n  {SECRET_B}  \n"
    keys = sg.parse_verify_keys(text, "keys.txt")
    assert [k.algorithm for k in keys] == ["hmac-sha256", "hmac-sha256"]
    assert [k.key_id for k in keys] == [_hmac_id(SECRET_A.encode()), _hmac_id(SECRET_B.encode())]
    assert keys[1].material == SECRET_B.encode()
    signature = hmac.new(SECRET_A.encode(), DOMAIN + b"abc", hashlib.sha256).hexdigest()
    assert keys[0].verify("abc", signature)
    assert not keys[1].verify("abc", signature)


def test_hmac_signing_key_matches_the_standard_construction():
    key = sg.parse_signing_key(SECRET_B, "SRC")
    assert key.algorithm == "hmac-sha256" and key.key_id == _hmac_id(SECRET_B.encode())
    assert key.sign("abc") == hmac.new(SECRET_B.encode(), DOMAIN + b"abc",
                                       hashlib.sha256).hexdigest()
    # a hash that is not ASCII is signed with "?" in place of each foreign character
    assert key.sign("ab\u00e9") == hmac.new(SECRET_B.encode(), DOMAIN + b"ab?",
                                             hashlib.sha256).hexdigest()


def test_hmac_secret_length_on_both_sides():
    assert sg.parse_signing_key(SECRET_A, "SRC").material == SECRET_A.encode()
    assert _message(sg.parse_signing_key, "b" * 31, "SRC") == (
        "The signing key in SRC is 31 bytes long; an HMAC key needs at least 32 (for example 64 "
        "hexadecimal characters from 'python -c \"import secrets; print(secrets.token_hex(32))\"')"
        ", or use an Ed25519 key from 'faircard keygen'.")


def test_unreadable_pem_signing_key_is_named():
    assert _message(sg.parse_signing_key, "-----BEGIN PRIVATE KEY-----\nxx\n"
                    "-----END PRIVATE KEY-----", "SRC") == (
        "The signing key in SRC is not a readable unencrypted PEM private key. Create one with "
        "'faircard keygen'.")


def test_private_and_public_blocks_of_a_verification_keys_file():
    private, _public, key_id = sg.generate_ed25519()
    _private2, public2, key_id2 = sg.generate_ed25519()
    keys = sg.parse_verify_keys(private + public2 + SECRET_A + "\n", "keys.pem")
    assert [k.key_id for k in keys] == [key_id, key_id2, _hmac_id(SECRET_A.encode())]
    signer = sg.parse_signing_key(private, "k")
    assert keys[0].verify("h", signer.sign("h"))


def test_bad_public_keys_are_refused_by_name():
    bad = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    assert _message(sg.parse_verify_keys, bad, "keys.pem") == \
        "A public key in keys.pem cannot be read as PEM."
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert _message(sg.parse_verify_keys, other, "keys.pem") == \
        "A public key in keys.pem is not an Ed25519 key."


def test_key_ring_truth_and_reasons():
    key = sg.parse_signing_key(SECRET_B, "SRC")
    assert not sg.KeyRing([])
    ring = sg.KeyRing([key.verify_key()])
    assert ring
    unsigned = "it is not signed: it was written or rewritten without the signing key"
    assert ring.check(None, "ab", "h") == unsigned
    assert ring.check(key.key_id, None, "h") == unsigned
    assert ring.check(key.key_id, key.sign("h"), "h") == ""
    assert ring.check(key.key_id, key.sign("h"), "g") == (
        "its signature does not match its content: it was written or changed without the "
        "signing key")
    assert ring.check(key.key_id, "not hex", "h") != ""
    assert key.verify_key().verify("h", "zz") is False


def test_keys_from_the_environment_name_their_source(tmp_path):
    assert sg.Keys.from_environment(environ={}).ring is None
    assert sg.Keys.from_environment(environ={}).signer is None
    assert _message(sg.Keys.from_environment, environ={"FAIRCARD_SIGNING_KEY": "short"}) \
        .startswith("The signing key in FAIRCARD_SIGNING_KEY is 5 bytes long")
    key_file = tmp_path / "key.txt"
    key_file.write_text("short", encoding="utf-8")
    assert _message(sg.Keys.from_environment,
                    environ={"FAIRCARD_SIGNING_KEY_FILE": str(key_file)}) \
        .startswith(f"The signing key in {key_file} is 5 bytes long")
    verify_file = tmp_path / "verify.txt"
    verify_file.write_text("short\n", encoding="utf-8")
    assert _message(sg.Keys.from_environment, environ={"FAIRCARD_VERIFY_KEYS": str(verify_file)}) \
        .startswith(f"The signing key in {verify_file} is 5 bytes long")
    missing = tmp_path / "none.txt"
    assert _message(sg.Keys.from_environment, environ={"FAIRCARD_VERIFY_KEYS": str(missing)}) \
        == f"Cannot read the verification keys file '{missing}': No such file or directory."
    verify_file.write_text(SECRET_A + "\n", encoding="utf-8")
    keys = sg.Keys.from_environment(environ={"FAIRCARD_VERIFY_KEYS": str(verify_file)})
    assert keys.signer is None and list(keys.ring.keys) == [_hmac_id(SECRET_A.encode())]


def test_unreadable_files_and_blocks_are_named(tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"\xff\xfe not text")
    assert _message(sg.Keys.from_environment, environ={"FAIRCARD_VERIFY_KEYS": str(latin)}) \
        .startswith(f"Cannot read the verification keys file '{latin}': 'utf-8' codec")
    broken = "-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----\n"
    assert _message(sg.parse_verify_keys, broken, "keys.pem").startswith(
        "The signing key in keys.pem is not a readable unencrypted PEM private key.")
