"""The app signs audit entries with the key in Streamlit's secrets ([faircard] signing_key or
signing_key_file), not only with one from the environment; a signed store then refuses an app
without the key, and a key that cannot be used is said so."""

from __future__ import annotations

import pytest

from faircard.governance.signing import SIGNING_KEY_ENV, SIGNING_KEY_FILE_ENV, Keys
from faircard.governance.store import AuditStore
from tests.app.conftest import new, no_exception, seed_state, text_of

SECRET = "a-secret-of-forty-characters-for-hmac-1"


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch):
    for name in (SIGNING_KEY_ENV, SIGNING_KEY_FILE_ENV, "FAIRCARD_VERIFY_KEYS"):
        monkeypatch.delenv(name, raising=False)


def _governance(secrets=None):
    at = seed_state(new("app_pages/governance.py"))
    if secrets is not None:
        at.secrets["faircard"] = secrets
    at.run()
    no_exception(at)
    return at


def _record(at, name="Ana Kim"):
    at.text_input(key="w_gov_author").input(name)
    [button] = [b for b in at.button if b.label == "Record as a draft"]
    button.click().run()
    no_exception(at)
    return at


def test_entries_are_signed_with_the_key_in_the_secrets(_private_audit_store):
    keys = Keys.from_environment(environ={SIGNING_KEY_ENV: SECRET})
    at = _governance({"signing_key": SECRET})
    assert any(keys.signer.key_id in c.value for c in at.caption)
    _record(at)
    assert any("Recorded as record 1" in s.value for s in at.success), \
        [e.value for e in at.error]
    with AuditStore(_private_audit_store, create=False, keys=keys) as store:
        assert store.get(1).key_id == keys.signer.key_id
        assert store.verify().ok
    with AuditStore(_private_audit_store, create=False, keys=Keys()) as store:
        assert not store.verify().ok, "signed: checking needs the key"
    [verify] = [b for b in at.button if b.label == "Verify the store"]
    verify.click().run()
    no_exception(at)
    assert any("Every entry's signature checks out" in s.value for s in at.success)

    unsigned = _governance()  # no key anywhere: the signed store refuses unsigned entries
    assert any("New entries are not signed" in c.value for c in unsigned.caption)
    _record(unsigned, "Ben Lee")
    assert any("are signed, and no signing key is configured here" in text_of(e)
               and "[faircard]" in text_of(e) for e in unsigned.error)
    with AuditStore(_private_audit_store, create=False, keys=keys) as store:
        assert len(store.list()) == 1


def test_an_ed25519_key_file_named_in_the_secrets(tmp_path, _private_audit_store):
    from faircard.governance.signing import generate_ed25519

    private, public, key_id = generate_ed25519()
    (tmp_path / "k.pem").write_text(private)
    at = _record(_governance({"signing_key_file": str(tmp_path / "k.pem")}))
    assert not at.error, [e.value for e in at.error]
    with AuditStore(_private_audit_store, create=False,
                    keys=Keys.from_environment(environ={SIGNING_KEY_FILE_ENV:
                                                        str(tmp_path / "k.pem")})) as store:
        assert store.get(1).key_id == key_id and store.verify().ok


def test_an_unusable_key_in_the_secrets_is_explained(_private_audit_store):
    at = _governance({"signing_key": "short"})
    assert any("5 bytes long; an HMAC key needs at least 32" in text_of(e) for e in at.error)
    _record(at)
    assert not any("Recorded as record" in s.value for s in at.success)
