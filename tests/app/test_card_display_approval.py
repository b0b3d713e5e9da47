"""An approval covers how the card is shown: dropping a metric from the card or leaving small
groups out after approval makes the card "changed since approval"."""

from __future__ import annotations

from faircard.metrics import DEFAULT_METRICS

from .conftest import new, no_exception, seed_state, small_frame


def _approved_record(df, store_path):
    from faircard.governance.store import AuditStore

    gov = seed_state(new("app_pages/governance.py"), df)
    gov.run()
    gov.text_input(key="w_gov_author").input("Ana Kim")
    [button] = [b for b in gov.button if b.label == "Record as a draft"]
    button.click().run()
    no_exception(gov)
    with AuditStore(store_path, create=False) as store:
        rid = store.list()[-1].id
        store.submit(rid, "Ana Kim")
        store.review(rid, "Ben Lee", "approve", "Looks right")
    return rid


def _card(df, **session):
    card = seed_state(new("app_pages/model_card.py"), df)
    for key, value in session.items():
        card.session_state[key] = value
    card.run()
    no_exception(card)
    return " ".join(m.value for m in card.markdown), card


def test_the_card_shown_otherwise_after_approval_is_changed_since_approval(_private_audit_store):
    df = small_frame(n=1500, seed=11)
    rid = _approved_record(df, _private_audit_store)
    preview, _ = _card(df)
    assert "Status: approved, reviewer Ben Lee" in preview
    # the default metrics chosen explicitly are the same card
    preview, _ = _card(df, fc_metrics=list(DEFAULT_METRICS))
    assert "Status: approved, reviewer Ben Lee" in preview
    # one metric fewer: the approved card showed it
    dropped = [m for m in DEFAULT_METRICS if m != "false_positive_rate"]
    assert len(dropped) == len(DEFAULT_METRICS) - 1
    preview, _ = _card(df, fc_metrics=dropped)
    assert "Status: changed since approval" in preview and "Status: approved" not in preview
    assert f"Audit record {rid} was approved for this card shown differently" in \
        preview.replace("\\", "")
    assert "the metrics shown" in preview
    # small groups left out of the card after approval
    preview, card = _card(df, fc_card_suppress=True)
    assert card.checkbox(key="w_card_suppress").value is True
    assert "Status: changed since approval" in preview
    assert "whether small groups are left out" in preview
