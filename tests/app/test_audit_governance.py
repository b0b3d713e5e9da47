"""Audit of sign-off through the app: nobody approves their own work, whatever record it sits
under, and no approval of one version is taken for another."""

from __future__ import annotations

from faircard.governance.store import AuditStore
from tests.app.conftest import new, no_exception, seed_state, text_of
from tests.app.test_share_view import AUTH, ISS, VIEWER

ANA = {"is_logged_in": True, "iss": ISS, "sub": "ana-1", "name": "Ana Kim",
       "email": "ana@example.org", "roles": ["author", "approver"]}
BEN = {"is_logged_in": True, "iss": ISS, "sub": "ben-2", "name": "Ben Lee",
       "email": "ben@example.org", "roles": ["author"]}
VERA = {"is_logged_in": True, "iss": ISS, "sub": "vera-3", "name": "Vera Domain",
        "email": "vera@example.org", "roles": ["approver"]}


def _as(at, user):
    at.secrets["auth"] = AUTH
    at.user = dict(user)
    return at


def _record(user) -> int:
    """``user`` records the seeded assessment on the Governance page and submits it; the new
    record's id."""
    gov = _as(seed_state(new("app_pages/governance.py")), user)
    gov.run()
    no_exception(gov)
    [button] = [b for b in gov.button if b.label == "Record as a draft"]
    button.click().run()
    no_exception(gov)
    [done] = [s.value for s in gov.success if "Recorded as record" in s.value]
    rid = int(done.split("record ")[1].split(" ")[0])
    [submit] = [b for b in gov.button if b.label == "Submit for review"]
    submit.click().run()
    no_exception(gov)
    return rid


def _decide(user, rid: int, decision: str = "approve"):
    """``user`` decides on record ``rid`` on its share view; the page."""
    at = _as(new("app.py"), user)
    at.query_params["record"] = str(rid)
    at.run()
    no_exception(at)
    at.radio(key="w_share_decision").set_value(decision)
    if decision != "approve":
        at.text_area(key="w_share_note").input("The threshold is not justified.")
    [button] = [b for b in at.button if b.label == "Record the decision"]
    button.click().run()
    no_exception(at)
    return at


def _status(store_path, rid: int) -> str:
    with AuditStore(store_path, create=False) as store:
        return store.get(rid).status


def _record_again(store_path, user, supersedes=None) -> int:
    """``user`` (signed in) records record 1's assessment again, as the Governance page would
    with the same data loaded, and submits it; the new record's id."""
    from faircard.governance.identity import identity_from_claims

    who = identity_from_claims(user)
    with AuditStore(store_path, create=False) as store:
        old = store.get(1)
        rec = store.add(store.assessment(1), title="again", created_by=who,
                        dataset_name=old.dataset_name, dataset_sha256=old.dataset_sha256,
                        models=old.models, spec=old.spec, supersedes=supersedes,
                        cells=store.cells(1), card=store.card(1))
        store.submit(rec.id, who)
        return rec.id


def test_no_approval_of_ones_own_work_under_another_record(_private_audit_store):
    first = _record(ANA)
    _decide(VERA, first, "request_changes")
    assert _status(_private_audit_store, first) == "changes_requested"
    # Ben records a corrected version of Ana's record: Ana cannot sign off her own work
    corrected = _record_again(_private_audit_store, BEN, supersedes=first)
    at = _decide(ANA, corrected)
    assert any("Ana Kim created record 1, which record 2 replaces" in text_of(e)
               for e in at.error), [e.value for e in at.error]
    assert _status(_private_audit_store, corrected) == "in_review"
    # nor the same assessment recorded again by Ben (same fingerprint as her record 1)
    again = _record_again(_private_audit_store, BEN)
    at = _decide(ANA, again)
    assert any("the same assessment as record 3" in text_of(e) for e in at.error)
    assert _status(_private_audit_store, again) == "in_review"
    # an outdated version is not approved by anyone (Ben replaced his record 3), the newest
    # one is, by another person
    newest = _record_again(_private_audit_store, BEN, supersedes=again)
    at = _decide(VERA, again)
    assert any(f"was replaced by record {newest}" in text_of(e) for e in at.error)
    assert _status(_private_audit_store, again) == "in_review"
    _decide(VERA, corrected)
    assert _status(_private_audit_store, corrected) == "approved"
    with AuditStore(_private_audit_store, create=False) as store:
        assert store.verify().ok


def _replace_options(user) -> list[str]:
    gov = _as(seed_state(new("app_pages/governance.py")), user)
    gov.run()
    no_exception(gov)
    return list(gov.selectbox(key="w_gov_supersedes").options)


def test_only_its_author_replaces_a_record_awaiting_a_decision(_private_audit_store):
    """A replaced record can no longer be approved, so another author marking a pending
    record as replaced would stop its approval: refused until a reviewer decided on it."""
    from faircard.errors import FaircardError

    first = _record(ANA)
    assert [o for o in _replace_options(BEN) if o.startswith("1:")] == []
    assert [o for o in _replace_options(ANA) if o.startswith("1:")] != []
    try:
        _record_again(_private_audit_store, BEN, supersedes=first)
        raise AssertionError("Ben replaced Ana's record in review")
    except FaircardError as exc:
        assert "Record 1 is in review and was recorded by Ana Kim; only they can mark it " \
            "as replaced" in str(exc)
    with AuditStore(_private_audit_store, create=False) as store:
        assert [r.id for r in store.list()] == [first]  # nothing was recorded
    _decide(VERA, first)  # still approvable, and approved
    assert _status(_private_audit_store, first) == "approved"
    assert [o for o in _replace_options(BEN) if o.startswith("1:")] != []  # decided: anyone
    assert _record_again(_private_audit_store, BEN, supersedes=first) == 2


def test_per_cell_counts_of_another_assessment_are_not_verified(_private_audit_store):
    """A record whose per-cell counts (what the share view draws) are another assessment's:
    the two sexes swapped, which leaves every overall figure and gap, so the fingerprint, as
    recorded. The share view must not show them as the record's, nor let them be approved."""
    import faircard
    from faircard.governance.share import cells_of
    from tests.app.conftest import small_frame

    df = small_frame()
    ref = {"sex": "Male", "race": "A", "sex & race": "Male & A"}
    kw = dict(target="outcome", score="risk_score", sensitive=["sex", "race"], n_boot=0,
              reference=ref)
    real = faircard.assess(df, **kw)
    swapped = faircard.assess(df.assign(sex=df["sex"].map({"Female": "Male",
                                                           "Male": "Female"})), **kw)
    assert real.to_dict()["criteria"] == swapped.to_dict()["criteria"]
    female = (df["sex"] == "Female").to_numpy()
    assert swapped.by_group_wide().set_index(["feature", "group"]).loc[
        ("sex", "Female"), "n"] == (~female).sum()  # the forged table's Female are the men
    with AuditStore(_private_audit_store) as store:
        rec = store.add(real, title="Risk v1", created_by="Ana Kim", dataset_name="small.csv",
                        dataset_sha256="a" * 64, cells=cells_of(swapped))
        store.submit(rec.id, "Ana Kim")
        assert not store.verify().ok
        [problem] = store.problems(rec.id)
        assert "per-cell counts give sex 'Female' another n" in problem
    at = new("app.py")
    at.query_params["record"] = str(rec.id)
    at.run()
    no_exception(at)
    assert any("does not verify" in text_of(e) for e in at.error)
    assert any("status **not verified**" in m.value for m in at.markdown)
    at.text_input(key="w_share_reviewer").input("Vera Domain")
    at.radio(key="w_share_decision").set_value("approve")
    [button] = [b for b in at.button if b.label == "Record the decision"]
    button.click().run()
    assert any("cannot be approved" in text_of(e) for e in at.error)
    assert _status(_private_audit_store, rec.id) == "in_review"


def _approved_then_withdrawn(store_path):
    """Record 1 approved; record 2, the same assessment, rejected (the approval withdrawn).
    The head published after the withdrawal."""
    import faircard
    from faircard.governance.share import cells_of
    from tests.app.conftest import small_frame

    a = faircard.assess(small_frame(), target="outcome", score="risk_score",
                        sensitive=["sex"], n_boot=0)
    with AuditStore(store_path) as store:
        for rid, author, reviewer, decision in ((1, "Ana Kim", "Ben Lee", "approve"),
                                                (2, "Carl Diaz", "Dana Fox", "reject")):
            store.add(a, title=f"Risk v{rid}", created_by=author, dataset_name="small.csv",
                      dataset_sha256="a" * 64, cells=cells_of(a))
            store.submit(rid, author)
            store.review(rid, reviewer, decision, "" if decision == "approve" else "No.")
        return store.head()


def _cut_the_withdrawal(store_path) -> None:
    """Remove record 2 and its reviews from the end of the chain, and point the store's head
    at the entry before them, as someone with write access to the database could."""
    import sqlite3

    con = sqlite3.connect(store_path)
    con.execute("DELETE FROM reviews WHERE record_id = 2")
    con.execute("DELETE FROM records WHERE id = 2")
    entry, seq = con.execute("SELECT entry_hash, seq FROM reviews ORDER BY seq DESC "
                             "LIMIT 1").fetchone()
    con.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (entry,))
    con.execute("UPDATE meta SET value = ? WHERE key = 'event_count'", (str(seq),))
    con.commit()
    con.close()


def _verify_on_page(expected: str = ""):
    gov = new("app_pages/governance.py")
    gov.run()
    no_exception(gov)
    if expected:
        gov.text_input(key="w_gov_expect_head").input(expected)
    gov.button(key="gov_verify").click().run()
    no_exception(gov)
    return gov


def test_a_cut_end_of_a_signed_store_is_found_without_a_published_head(_private_audit_store,
                                                                       monkeypatch):
    from faircard.errors import FaircardError

    monkeypatch.setenv("FAIRCARD_SIGNING_KEY", "a-long-hmac-secret-for-the-audit-test-0123")
    _approved_then_withdrawn(_private_audit_store)
    _cut_the_withdrawal(_private_audit_store)
    # the approval of record 1 is in force again as far as its own entries go ...
    with AuditStore(_private_audit_store, create=False) as store:
        assert store.get(1).status == "approved" and len(store.list()) == 1
        [problem] = store.problems(1)
        assert "newest entries may have been removed" in problem
        # ... and no key holder's write vouches for the cut
        try:
            store.comment(1, "Eve", "All fine.")
            raise AssertionError("a write after the cut was accepted")
        except FaircardError as exc:
            assert "Nothing was added" in str(exc)
    at = new("app.py")
    at.query_params["record"] = "1"
    at.run()
    no_exception(at)
    assert any("status **not verified**" in m.value for m in at.markdown)
    assert any("newest entries may have been removed" in text_of(e) for e in at.error)
    gov = _verify_on_page()
    assert any("The audit store is broken" in text_of(e) for e in gov.error)
    assert any("removed from the end" in text_of(m) for m in gov.markdown)
    assert not any("not signed" in text_of(w) for w in gov.warning)


def test_an_unsigned_store_says_it_cannot_see_a_cut_end_and_checks_a_published_head(
        _private_audit_store):
    published = _approved_then_withdrawn(_private_audit_store)
    before = _verify_on_page()
    assert any(published in m.value for m in before.markdown), "the head to publish is shown"
    _cut_the_withdrawal(_private_audit_store)
    gov = _verify_on_page()
    assert any("not signed" in text_of(w) and "remove its newest entries" in text_of(w)
               for w in gov.warning)
    assert any("intact" in text_of(s) for s in gov.success)  # the store alone cannot tell
    gov = _verify_on_page(published)
    assert any("The audit store is broken" in text_of(e) for e in gov.error)
    assert any("published head" in text_of(m) for m in gov.markdown)
    at = new("app.py")
    at.query_params["record"] = "1"
    at.run()
    no_exception(at)
    assert any("not signed" in text_of(c) for c in at.caption)


def test_a_signed_store_from_before_head_signatures_is_signed_by_upgrade(_private_audit_store):
    import sqlite3

    from faircard.errors import FaircardError
    from faircard.governance.migrate import upgrade
    from faircard.governance.signing import Keys

    keys = Keys.from_environment(environ={
        "FAIRCARD_SIGNING_KEY": "a-long-hmac-secret-for-the-audit-test-0123"})
    published = _approved_then_withdrawn(_private_audit_store)
    with AuditStore(_private_audit_store, keys=keys) as store:
        assert store.sign_unsigned() == 6  # a store written unsigned, so far
        assert store.verify().ok and store.head() == published
    con = sqlite3.connect(_private_audit_store)  # as written by a faircard before this one
    con.execute("DELETE FROM meta WHERE key IN ('head_signature', 'head_key_id')")
    con.commit()
    con.close()
    with AuditStore(_private_audit_store, keys=keys) as store:
        [problem] = store.verify().problems
        assert "faircard upgrade" in problem.reason
        try:
            store.comment(1, "Eve", "Fine?")
            raise AssertionError("a write on an unsigned head was accepted")
        except FaircardError as exc:
            assert "faircard upgrade" in str(exc)
    upgrade(_private_audit_store, keys=keys)
    with AuditStore(_private_audit_store, keys=keys) as store:
        assert store.verify().ok
        store.comment(1, "Eve", "Fine?")
        assert store.verify(expect_head=published).ok


def test_a_share_link_names_one_record_in_one_way(_private_audit_store):
    """Only ASCII digits (optionally after '#') name a record: '1_0' is not record 10 and an
    Arabic-Indic '٣' is not record 3, so one record has one share link."""
    _approved_then_withdrawn(_private_audit_store)
    for raw, opens in (("2", True), ("٢", False), ("0_2", False)):
        at = new("app.py")
        at.query_params["record"] = raw
        at.run()
        no_exception(at)
        shown = any("**Record 2**" in m.value for m in at.markdown)
        assert shown == opens, raw
        if not opens:
            assert any("whole number such as 3" in text_of(e) for e in at.error), raw


def _card_text(at) -> str:
    return " ".join(text_of(m) for m in at.markdown if "Status:" in m.value)


def test_a_typed_name_approval_is_not_shown_as_a_signed_in_one(_private_audit_store):
    """With sign-in configured, an approval written with a typed name (the command line) is
    shown on the shared card as such; one by a signed-in approver is not."""
    def card_of(rid: int) -> str:
        at = _as(new("app.py"), VIEWER)
        at.query_params["record"] = str(rid)
        at.run()
        no_exception(at)
        return _card_text(at)

    assert _record(ANA) == 1
    with AuditStore(_private_audit_store) as store:
        store.review(1, "Ben Lee", "approve", role="model risk")  # faircard review --reviewer
    assert "reviewer Ben Lee (model risk; name typed, not signed in)." in card_of(1)
    assert _record_again(_private_audit_store, ANA) == 2
    _decide(VERA, 2)
    assert "reviewer Vera Domain." in card_of(2)


def test_the_card_goes_by_the_latest_decision_on_its_content_as_the_gate_does(
        _private_audit_store):
    """Two records of the same assessment: record 2 approved, then record 1 rejected. The
    latest decision on this content is a rejection (the gate fails it), so no card of it may
    say "approved", whichever record's share link shows it."""
    import faircard
    from faircard.governance.gate import _approved_check
    from faircard.governance.share import cells_of
    from tests.app.conftest import small_frame

    a = faircard.assess(small_frame(), target="outcome", score="risk_score",
                        sensitive=["sex"], n_boot=0)
    with AuditStore(_private_audit_store) as store:
        for rid in (1, 2):
            store.add(a, title=f"Risk v{rid}", created_by="Ana Kim", dataset_name="small.csv",
                      dataset_sha256="a" * 64, cells=cells_of(a))
            store.submit(rid, "Ana Kim")
        store.review(2, "Ben Lee", "approve")
        store.review(1, "Dana Fox", "reject", "The threshold is wrong.")
        fingerprint = store.get(1).fingerprint
        gate = _approved_check(store, fingerprint, None, False)
    assert not gate.passed and "rejected later by Dana Fox" in gate.explanation
    for rid in (1, 2):
        at = new("app.py")
        at.query_params["record"] = str(rid)
        at.run()
        no_exception(at)
        card = _card_text(at)
        assert "Status: rejected, reviewer Dana Fox" in card, (rid, card)
        assert "Status: approved" not in card
