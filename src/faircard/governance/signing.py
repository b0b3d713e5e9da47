"""Signatures on the audit chain: who holds the key can write entries; nobody else can.

A hash chain alone proves nothing against someone who can write to the database: they can
append a row and recompute every hash. So each entry's ``entry_hash`` is also signed, with a key
kept outside the database:

- **Ed25519** (recommended): a PEM private key (``faircard keygen``). The public key verifies;
  it can be handed to auditors and CI without letting them sign.
- **HMAC-SHA256**: a shared secret of at least 32 bytes. Whoever verifies can also sign.

Configuration (environment, or the same names in lower case from a mapping such as Streamlit's
``st.secrets["faircard"]``):

- ``FAIRCARD_SIGNING_KEY``: the key itself (PEM text, or the HMAC secret);
- ``FAIRCARD_SIGNING_KEY_FILE``: a file holding it;
- ``FAIRCARD_VERIFY_KEYS``: a file of further keys that verify old entries after a rotation:
  PEM public (or private) Ed25519 keys, and HMAC secrets one per line (``#`` starts a comment).

Each entry stores the ``key_id`` of the key that signed it, so after a rotation old entries are
checked with the old public key, listed in ``FAIRCARD_VERIFY_KEYS``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import FaircardError

SIGNING_KEY_ENV = "FAIRCARD_SIGNING_KEY"
SIGNING_KEY_FILE_ENV = "FAIRCARD_SIGNING_KEY_FILE"
VERIFY_KEYS_ENV = "FAIRCARD_VERIFY_KEYS"
MIN_HMAC_BYTES = 32
ED25519 = "ed25519"
HMAC_SHA256 = "hmac-sha256"
_DOMAIN = b"faircard-audit-entry\x00"
"""Prefix of every signed message, so a signature made here means nothing elsewhere."""
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.S)


def _message(entry_hash: str) -> bytes:
    return _DOMAIN + entry_hash.encode("ascii", "replace")


@dataclass(frozen=True)
class VerifyKey:
    """A key that checks signatures: an Ed25519 public key or an HMAC secret."""

    algorithm: str
    key_id: str
    material: Any = field(repr=False)

    def verify(self, entry_hash: str, signature: str) -> bool:
        try:
            raw = bytes.fromhex(signature)
        except (TypeError, ValueError):
            return False
        if self.algorithm == ED25519:
            try:
                self.material.verify(raw, _message(entry_hash))
            except InvalidSignature:
                return False
            return True
        expected = hmac.new(self.material, _message(entry_hash), hashlib.sha256).digest()
        return hmac.compare_digest(expected, raw)


@dataclass(frozen=True)
class SigningKey:
    """A key that signs entries (Ed25519 private key or HMAC secret)."""

    algorithm: str
    key_id: str
    material: Any = field(repr=False)

    def sign(self, entry_hash: str) -> str:
        """Hex signature of ``entry_hash``."""
        if self.algorithm == ED25519:
            return self.material.sign(_message(entry_hash)).hex()
        return hmac.new(self.material, _message(entry_hash), hashlib.sha256).hexdigest()

    def verify_key(self) -> VerifyKey:
        public = self.material.public_key() if self.algorithm == ED25519 else self.material
        return VerifyKey(self.algorithm, self.key_id, public)


class KeyRing:
    """The keys trusted to have signed entries, by key id."""

    def __init__(self, keys: Iterable[VerifyKey]):
        self.keys = {k.key_id: k for k in keys}

    def __bool__(self) -> bool:
        return bool(self.keys)

    def check(self, key_id: str | None, signature: str | None, entry_hash: str) -> str:
        """"" when ``signature`` is a valid signature of ``entry_hash`` by the trusted key
        ``key_id``; otherwise why not, in words."""
        if not signature or not key_id:
            return ("it is not signed: it was written or rewritten without the signing key")
        key = self.keys.get(key_id)
        if key is None:
            return (f"it is signed with the key {key_id}, which is not a trusted key (add the "
                    f"old public key to {VERIFY_KEYS_ENV} after a rotation)")
        if not key.verify(entry_hash, signature):
            return ("its signature does not match its content: it was written or changed "
                    "without the signing key")
        return ""


@dataclass(frozen=True)
class Keys:
    """The signing key (or None: entries are written unsigned) and the keys that verify."""

    signer: SigningKey | None = None
    ring: KeyRing | None = None

    @classmethod
    def from_environment(cls, config: Mapping[str, Any] | None = None,
                         environ: Mapping[str, str] | None = None) -> Keys:
        """The keys configured in ``config`` (e.g. Streamlit secrets; keys ``signing_key``,
        ``signing_key_file``, ``verify_keys``) or else the environment."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = (config or {}).get(name.removeprefix("FAIRCARD_").lower()) or env.get(name)
            return str(value) if value else None

        signer = None
        if get(SIGNING_KEY_ENV):
            signer = parse_signing_key(get(SIGNING_KEY_ENV) or "", SIGNING_KEY_ENV)
        elif get(SIGNING_KEY_FILE_ENV):
            path = get(SIGNING_KEY_FILE_ENV) or ""
            signer = parse_signing_key(_read(path, "signing key file"), path)
        verify = [signer.verify_key()] if signer else []
        if get(VERIFY_KEYS_ENV):
            path = get(VERIFY_KEYS_ENV) or ""
            verify += parse_verify_keys(_read(path, "verification keys file"), path)
        return cls(signer, KeyRing(verify) if verify else None)


def _read(path: str, what: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FaircardError(f"Cannot read the {what} '{path}': "
                            f"{getattr(exc, 'strerror', None) or exc}.") from None


def _ed25519_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"{ED25519}:{hashlib.sha256(raw).hexdigest()[:16]}"


def _hmac_id(secret: bytes) -> str:
    return f"{HMAC_SHA256}:{hashlib.sha256(b'faircard-key-id' + _DOMAIN + secret).hexdigest()[:16]}"


def _hmac_secret(text: str, source: str) -> bytes:
    secret = text.strip().encode("utf-8")
    if len(secret) < MIN_HMAC_BYTES:
        raise FaircardError(
            f"The signing key in {source} is {len(secret)} bytes long; an HMAC key needs at "
            f"least {MIN_HMAC_BYTES} (for example 64 hexadecimal characters from "
            "'python -c \"import secrets; print(secrets.token_hex(32))\"'), or use an Ed25519 "
            "key from 'faircard keygen'."
        )
    return secret


def parse_signing_key(text: str, source: str) -> SigningKey:
    """A signing key from text: a PEM Ed25519 private key, or else an HMAC secret."""
    if "-----BEGIN" in text:
        try:
            key = serialization.load_pem_private_key(text.strip().encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError):
            raise FaircardError(
                f"The signing key in {source} is not a readable unencrypted PEM private key. "
                "Create one with 'faircard keygen'."
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise FaircardError(
                f"The signing key in {source} is a {type(key).__name__.removesuffix('Key')} "
                "key; faircard signs with Ed25519 keys. Create one with 'faircard keygen'."
            )
        return SigningKey(ED25519, _ed25519_id(key.public_key()), key)
    secret = _hmac_secret(text, source)
    return SigningKey(HMAC_SHA256, _hmac_id(secret), secret)


def parse_verify_keys(text: str, source: str) -> list[VerifyKey]:
    """Keys from a verification keys file: PEM Ed25519 public or private keys, and HMAC secrets
    one per line outside PEM blocks (blank lines and lines starting with ``#`` are skipped)."""
    keys: list[VerifyKey] = []
    for match in _PEM_BLOCK.finditer(text):
        block = match.group(0)
        if "PRIVATE" in match.group(1):
            keys.append(parse_signing_key(block, source).verify_key())
            continue
        try:
            public = serialization.load_pem_public_key(block.encode("ascii"))
        except (ValueError, TypeError, UnicodeEncodeError):
            raise FaircardError(f"A public key in {source} cannot be read as PEM.") from None
        if not isinstance(public, Ed25519PublicKey):
            raise FaircardError(f"A public key in {source} is not an Ed25519 key.")
        keys.append(VerifyKey(ED25519, _ed25519_id(public), public))
    for line in _PEM_BLOCK.sub("", text).splitlines():
        if line.strip() and not line.strip().startswith("#"):
            secret = _hmac_secret(line, source)
            keys.append(VerifyKey(HMAC_SHA256, _hmac_id(secret), secret))
    return keys


def generate_ed25519() -> tuple[str, str, str]:
    """A new Ed25519 key: ``(private PEM, public PEM, key id)``."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    return private, public, _ed25519_id(key.public_key())
