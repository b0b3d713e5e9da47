"""An approval covers what the card says: the record's fingerprint covers the favourable
setting and the card's text; a card is "approved" only while it matches the approved record;
the card's content does not include the time it was generated."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import faircard
from faircard.card import build_card
from faircard.cli import main
from faircard.governance.approval import CHANGED, card_review
from faircard.governance.records import (
    assessment_fingerprint,
    card_text_sha256,
    spec_of,
    summary_of,
)
from faircard.governance.store import AuditStore
from faircard.io import fingerprint as file_sha256
from tests.conftest import make_dataset

DATA_SHA = "d" * 64
TEXT = {"intended_use": {"primary_uses": "Screening loan applications", "out_of_scope": ""},
        "caveats": {"text": "Re-check yearly."}}


@pytest.fixture
def frame():
    return make_dataset(6, n=800, n_features=1, tiny_group=False, no_positive_group=False)


def _assess(df, **kw):
    return faircard.assess(df, target="y", score="score", sensitive="sex", n_boot=0, **kw)


def _fp(a, text=None):
    return assessment_fingerprint(a, dataset_sha256=DATA_SHA, spec=spec_of(a, card_text=text))


def test_fingerprint_covers_favourable_setting_and_card_text(frame):
    a = _assess(frame)
    adverse = _assess(frame, favorable_outcome="negative")
    assert spec_of(a)["favorable_outcome"] == "positive"
    assert _fp(a) != _fp(adverse)
    assert _fp(a, TEXT) != _fp(a)
    edited = {**TEXT, "caveats": {"text": "Re-check monthly."}}
    assert _fp(a, edited) != _fp(a, TEXT)
    # empty fields are no text: an unwritten card is fingerprinted like no card
    assert card_text_sha256({"caveats": {"text": "  "}, "factors": {}}) is None
    assert _fp(a, {"caveats": {"text": ""}}) == _fp(a)
    assert _fp(a, {**TEXT, "factors": {"why_these_factors": ""}}) == _fp(a, TEXT)


def _approve(store, a, text=None):
    rec = store.add(a, title="t", created_by="ana", dataset_name="d.csv",
                    dataset_sha256=DATA_SHA, spec=spec_of(a, card_text=text))
    store.submit(rec.id, "ana")
    store.review(rec.id, "ben", "approve", "fine", role="model risk")
    return rec


def _review(store, a, text=None):
    spec = spec_of(a, card_text=text)
    return card_review(store, fingerprint=_fp(a, text), dataset_sha256=DATA_SHA,
                       model_sha256s=[], spec=spec, summary=summary_of(a))


def test_card_is_approved_only_while_it_matches(tmp_path, frame):
    a = _assess(frame)
    with AuditStore(tmp_path / "s.db") as store:
        assert _review(store, a, TEXT) is None  # nothing recorded: a draft
        rec = _approve(store, a, TEXT)
        review = _review(store, a, TEXT)
        assert review["status"] == "approved" and review["reviewer"] == \
            "ben (model risk; name typed, not signed in)"
        assert f"Audit record {rec.id}" in review["notes"]

        edited = {**TEXT, "caveats": {"text": "Re-check monthly."}}
        changed = _review(store, a, edited)
        assert changed["status"] == CHANGED == "changed since approval"
        assert "authors' text" in changed["notes"] and f"record {rec.id}" in changed["notes"]
        assert changed["reviewer"] == ""

        moved = _review(store, _assess(frame, threshold=0.6), TEXT)
        assert moved["status"] == CHANGED
        assert "decision rule" in moved["notes"] and "results" in moved["notes"]
        flipped = _review(store, _assess(frame, favorable_outcome="negative"), TEXT)
        assert flipped["status"] == CHANGED and "favourable or adverse" in flipped["notes"]

        # another dataset's card is not "changed": it was never approved
        other = card_review(store, fingerprint=_fp(a, edited), dataset_sha256="e" * 64,
                            model_sha256s=[], spec=spec_of(a, card_text=edited),
                            summary=summary_of(a))
        assert other is None


def test_a_draft_record_of_the_edited_card_shows_its_own_status(tmp_path, frame):
    a = _assess(frame)
    edited = {"caveats": {"text": "New caveat"}}
    with AuditStore(tmp_path / "s.db") as store:
        _approve(store, a, TEXT)
        store.add(a, title="t2", created_by="ana", dataset_name="d.csv",
                  dataset_sha256=DATA_SHA, spec=spec_of(a, card_text=edited))
        assert _review(store, a, edited)["status"] == "draft"


def test_card_content_does_not_include_the_generation_time(frame):
    a = _assess(frame)
    one = build_card(a, generated_at="2026-01-01T00:00:00+00:00", versions={})
    two = build_card(a, generated_at="2026-06-30T12:34:56+00:00", versions={})
    assert one.to_json() != two.to_json()
    assert one.content_sha256() == two.content_sha256()
    three = build_card(a, text=TEXT, generated_at="2026-01-01T00:00:00+00:00", versions={})
    assert three.content_sha256() != one.content_sha256()


def test_cli_record_and_gate_cover_the_card_json(tmp_path, frame, capsys):
    data = tmp_path / "d.csv"
    frame.to_csv(data, index=False)
    card = tmp_path / "card.json"
    a = faircard.assess(pd.read_csv(data), target="y", score="score", sensitive="sex",
                        n_boot=0)
    card.write_text(build_card(a, text=TEXT).to_json(), encoding="utf-8")
    store = tmp_path / "s.db"
    opts = ["--target", "y", "--score", "score", "--sensitive", "sex", "--bootstrap", "0",
            "--store", str(store)]
    assert main(["record", str(data), *opts, "--author", "ana", "--card-json", str(card)]) == 0
    out = capsys.readouterr().out
    expected = assessment_fingerprint(a, dataset_sha256=file_sha256(data),
                                      spec=spec_of(a, card_text=TEXT))
    assert f"fingerprint {expected}" in out
    with AuditStore(store, create=False) as s:
        s.submit(1, "ana")
        s.review(1, "ben", "approve")
    gate = ["gate", str(data), *opts, "--require-approved"]
    assert main([*gate, "--card-json", str(card)]) == 0
    capsys.readouterr()
    assert main(gate) == 1, "without the card the approved record does not cover it"
    capsys.readouterr()
    edited = json.loads(card.read_text())
    edited["caveats"]["text"] = "Changed after approval"
    card.write_text(json.dumps(edited), encoding="utf-8")
    assert main([*gate, "--card-json", str(card)]) == 1


def test_display_changes_name_what_is_shown_differently():
    from faircard.governance.approval import display_changes
    from faircard.metrics import DEFAULT_METRICS

    available = [m for m in DEFAULT_METRICS if m != "roc_auc"]
    stored = {"metrics": None, "suppress_small_groups": False, "personal_data": ["b", "a"]}
    same = {"metrics": list(DEFAULT_METRICS), "suppress_small_groups": False,
            "personal_data": ["a", "b"]}
    assert display_changes(stored, same, available) == []
    assert display_changes(None, same, available) == []
    assert display_changes(stored, None, available) == []
    fewer = dict(same, metrics=available[1:])
    assert display_changes(stored, fewer, available) == ["the metrics shown"]
    both = dict(same, suppress_small_groups=True, personal_data=["a"])
    assert display_changes(stored, both, available) == [
        "whether small groups are left out", "the personal-data columns left out"]
