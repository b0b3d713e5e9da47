"""The model card states its truth: "approved" only while what it says matches the approved
record, "changed since approval" once its text or its choices differ; preparing the HTML and
PDF is not undone by the passing of time."""

from __future__ import annotations

import time

import pytest

from tests.app.conftest import new, no_exception, record_and_approve, seed_state
from tests.unit.test_pdf_dependency import no_pango  # noqa: F401  (a fixture)

CARD = "app_pages/model_card.py"


def _status(at):
    return " ".join(x.value for x in [*at.success, *at.warning, *at.caption]
                    if "Review status" in x.value)


def _preview(at):
    return " ".join(m.value for m in at.markdown)


def _record_and_approve(store_path, text=None):
    """Record what the Governance page shows (with the card's text) and approve it."""
    gov = seed_state(new("app_pages/governance.py"))
    if text:
        gov.session_state["fc_card_text"] = text
    return record_and_approve(gov, store_path)


def test_approved_until_the_card_text_changes(_private_audit_store):
    text = {"intended_use": {"primary_uses": "Pretrial risk screening"}}
    rid = _record_and_approve(_private_audit_store, text)
    at = seed_state(new(CARD))
    at.session_state["fc_card_text"] = text
    at.run()
    no_exception(at)
    assert "**approved**" in _status(at)
    assert "Status: approved, reviewer Ben Lee" in _preview(at)

    at.text_area(key="w_card_intended_use_primary_uses").input("Sentencing").run()
    no_exception(at)
    status = _status(at)
    assert "changed since approval" in status and f"record {rid}" in status
    assert "authors' text" in status
    assert "Status: changed since approval" in _preview(at)
    assert "Status: approved" not in _preview(at)

    at.text_area(key="w_card_intended_use_primary_uses").input("Pretrial risk screening").run()
    assert "**approved**" in _status(at), "the approved text is approved again"


def test_changing_the_favourable_setting_is_a_change_since_approval(_private_audit_store):
    _record_and_approve(_private_audit_store)
    at = seed_state(new(CARD))
    at.run()
    assert "**approved**" in _status(at)
    at.session_state["fc_favorable"] = "negative"
    at.run()
    no_exception(at)
    status = _status(at)
    assert "changed since approval" in status and "favourable or adverse" in status


def test_a_card_nobody_recorded_is_a_draft():
    at = seed_state(new(CARD))
    at.run()
    no_exception(at)
    assert "draft" in _status(at)


def test_prepared_html_and_pdf_stay_ready_when_the_page_reruns():
    at = seed_state(new(CARD))
    at.run()
    at.button(key="prepare_card").click().run()
    no_exception(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "HTML" in labels and "PDF" in labels
    time.sleep(1.1)  # a new second: the card's generation time differs on the next run
    at.run()  # what a click on the HTML download does
    labels = [b.proto.label for b in at.get("download_button")]
    assert "PDF" in labels and "HTML" in labels
    assert not any("prepare them again" in c.value for c in at.caption)


@pytest.mark.usefixtures("no_pango")
def test_missing_pango_is_one_line_and_html_is_still_offered():
    at = seed_state(new(CARD))
    at.run()
    at.button(key="prepare_card").click().run()
    no_exception(at)
    [error] = [e.value for e in at.error]
    assert error.startswith("PDF export needs") and "\n" not in error
    labels = [b.proto.label for b in at.get("download_button")]
    assert "HTML" in labels and "PDF" not in labels


def _card_with(**session):
    at = seed_state(new(CARD))
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    no_exception(at)
    return _preview(at).replace("\\", ""), at


def test_approved_until_the_card_is_shown_otherwise(_private_audit_store):
    from faircard.metrics import DEFAULT_METRICS

    rid = _record_and_approve(_private_audit_store)
    assert "Status: approved, reviewer Ben Lee" in _card_with()[0]
    # the default metrics chosen explicitly are the same card
    assert "Status: approved, reviewer Ben Lee" in _card_with(fc_metrics=list(DEFAULT_METRICS))[0]
    # one metric fewer: the approved card showed it
    dropped = [m for m in DEFAULT_METRICS if m != "false_positive_rate"]
    assert len(dropped) == len(DEFAULT_METRICS) - 1
    preview, _ = _card_with(fc_metrics=dropped)
    assert "Status: changed since approval" in preview and "Status: approved" not in preview
    assert f"Audit record {rid} was approved for this card shown differently" in preview
    assert "the metrics shown" in preview
    # small groups left out of the card after approval
    preview, at = _card_with(fc_card_suppress=True)
    assert at.checkbox(key="w_card_suppress").value is True
    assert "Status: changed since approval" in preview
    assert "whether small groups are left out" in preview
