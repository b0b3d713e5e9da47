"""A record keeps its model card's authors' text: bounded, tied to the fingerprint, and found
changed by `verify` even when the chain's hashes are recomputed; the command line records it
with the per-cell counts; the default baseline is the newest record of the same model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import faircard
from faircard.card import build_card
from faircard.cli import main
from faircard.errors import FaircardError
from faircard.governance.chain import compute_hash
from faircard.governance.diff import default_baseline
from faircard.governance.recorded_card import (
    MAX_CARD_TEXT,
    card_document,
    recorded_card,
    text_problem,
)
from faircard.governance.records import CARD_TEXT_KEY, card_text_sha256, spec_of
from faircard.governance.share import assessment_from_cells, cells_of
from faircard.governance.signing import Keys
from faircard.governance.store import AuditStore
from faircard.render import render_json
from tests.conftest import make_dataset

TEXT = {"intended_use": {"primary_uses": "Second review of loan applications.",
                         "primary_users": "  "},
        "caveats": {"text": "Group C is small."}, "factors": {"why_these_factors": ""}}


@pytest.fixture(scope="module")
def run():
    df = make_dataset(3, n=600, n_features=2, with_missing=False, tiny_group=False,
                      no_positive_group=False)
    return faircard.assess(df, target="y", score="score", sensitive="sex", n_boot=0)


def _add(store, run, text=TEXT, card=None, **kw):
    return store.add(run, title="t", created_by="Ana Kim", dataset_name="d.csv",
                     dataset_sha256="a" * 64, spec=spec_of(run, card_text=text),
                     cells=cells_of(run), card=card_document(text) if card is None else card,
                     **kw)


def test_the_document_keeps_the_fingerprinted_text(run):
    doc = card_document(TEXT, model={"name": "m", "type": "LogisticRegression"},
                        metrics=["selection_rate"], personal_data=["email", "email"],
                        suppress_small_groups=True)
    assert doc["text"] == {"intended_use": {"primary_uses": "Second review of loan "
                                            "applications.", "primary_users": "  "},
                           "caveats": {"text": "Group C is small."}}
    assert card_text_sha256(doc["text"]) == spec_of(run, card_text=TEXT)[CARD_TEXT_KEY]
    assert doc["personal_data"] == ["email"] and doc["metrics"] == ["selection_rate"]
    assert text_problem(doc, spec_of(run, card_text=TEXT)) == ""
    assert "changed after it was recorded" in text_problem(doc, spec_of(run))


def test_the_text_is_bounded_with_a_clear_refusal():
    card_document({"caveats": {"text": "x" * MAX_CARD_TEXT}})
    with pytest.raises(FaircardError, match=r"100,001 characters long; a record keeps at most "
                       r"100,000\. Shorten"):
        card_document({"caveats": {"text": "x" * MAX_CARD_TEXT},
                       "factors": {"why_these_factors": "y"}})
    with pytest.raises(FaircardError, match="mapping"):
        card_document({"caveats": "just a string"})


def test_a_card_whose_text_is_not_the_fingerprinted_one_is_refused(run, tmp_path):
    with AuditStore(tmp_path / "a.db", keys=Keys()) as store:
        with pytest.raises(FaircardError, match="not the text the recorded choices fingerprint"):
            _add(store, run, card=card_document({"caveats": {"text": "other"}}))
        assert store.list() == []
        rec = _add(store, run)
        assert rec.has_card and store.card(rec.id)["text"] == card_document(TEXT)["text"]
        assert store.export(rec.id)["card"] == store.card(rec.id)


def test_the_recorded_card_is_the_card_built_from_the_assessment(run, tmp_path):
    """Rebuilt from the record's cells and stored document, the card says what the author's
    card said (everything but when it was generated)."""
    with AuditStore(tmp_path / "a.db", keys=Keys()) as store:
        rec = _add(store, run, card=card_document(
            TEXT, model={"name": "m", "type": "LogisticRegression", "sha256": "b" * 64},
            metrics=["selection_rate", "precision"], suppress_small_groups=True))
        shown = recorded_card(assessment_from_cells(store.cells(rec.id)), store.card(rec.id),
                              dataset_name="d.csv", dataset_sha256="a" * 64,
                              created_at=rec.created_at)
    author = build_card(run, text=TEXT, model={"name": "m", "type": "LogisticRegression",
                                               "sha256": "b" * 64},
                        dataset={"name": "d.csv", "sha256": "a" * 64},
                        metrics=["selection_rate", "precision"], suppress_small_groups=True,
                        generated_at=shown.provenance["generated_at"])
    assert json.loads(render_json(shown)) == json.loads(render_json(author))
    assert shown.provenance["generated_at"] == rec.created_at[:19] + "+00:00"


def test_a_rewritten_card_text_fails_verify_even_with_recomputed_hashes(run, tmp_path):
    """Without a signing key, rewriting the text and every hash after it leaves the chain
    consistent; the text no longer matches the fingerprint the approval covers."""
    path = tmp_path / "a.db"
    with AuditStore(path, keys=Keys()) as store:
        rec = _add(store, run)
        store.submit(rec.id, "Ana Kim")
        store.review(rec.id, "Ben Lee", "approve")
        assert store.verify().ok
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        row = dict(conn.execute(sa.text("SELECT * FROM records")).mappings().one())
        doc = json.loads(row["card"])
        doc["text"]["caveats"]["text"] = "No known caveats."
        row["card"] = json.dumps(doc)
        row["entry_hash"] = compute_hash(row, "records")
        conn.execute(sa.text("UPDATE records SET card = :card, entry_hash = :entry_hash"), row)
        prev = row["entry_hash"]
        for r in conn.execute(sa.text("SELECT * FROM reviews ORDER BY seq")).mappings().all():
            r = dict(r, prev_hash=prev)
            r["entry_hash"] = compute_hash(r, "reviews")
            conn.execute(sa.text("UPDATE reviews SET prev_hash = :prev_hash, entry_hash = "
                                 ":entry_hash WHERE id = :id"), r)
            prev = r["entry_hash"]
        conn.execute(sa.text("UPDATE meta SET value = :v WHERE key = 'head_hash'"), {"v": prev})
    engine.dispose()
    with AuditStore(path, keys=Keys()) as store:
        v = store.verify()
    assert not v.ok
    assert [str(p) for p in v.problems] == [
        "record 1: its model card text is not the text its fingerprint covers: the text was "
        "changed after it was recorded"]


def test_the_command_line_records_the_card_text_and_cells(tmp_path, capsys):
    df = make_dataset(5, n=700, n_features=2, with_missing=False, tiny_group=False,
                      no_positive_group=False)
    data = tmp_path / "loans.csv"
    df.to_csv(data, index=False)
    opts = ["--target", "y", "--prediction", "pred", "--sensitive", "sex", "--bootstrap", "0"]
    card = tmp_path / "card.json"
    result = faircard.assess(pd.read_csv(data), target="y", prediction="pred", sensitive="sex",
                             n_boot=0)
    card.write_text(render_json(build_card(result, text=TEXT)), encoding="utf-8")
    store = tmp_path / "a.db"
    assert main(["record", str(data), *opts, "--author", "ana", "--card-json", str(card),
                 "--store", str(store)]) == 0
    capsys.readouterr()
    with AuditStore(store, keys=Keys()) as s:
        rec = s.get(1)
        kept = s.card(1)
        again = assessment_from_cells(s.cells(1))
    assert rec.has_card and rec.has_cells
    assert kept["text"]["caveats"] == {"text": "Group C is small."}
    assert text_problem(kept, rec.spec) == ""
    pd.testing.assert_frame_equal(again.by_group[["feature", "group", "metric", "value"]],
                                  result.by_group[["feature", "group", "metric", "value"]])


def test_default_baseline_is_the_newest_record_of_the_same_model(run, tmp_path):
    with AuditStore(tmp_path / "a.db", keys=Keys()) as store:
        assert default_baseline(store.list(), "score") is None
        for _ in range(2):
            _add(store, run)
        store.add(run, title="m", created_by="Ana Kim", dataset_name="d.csv",
                  dataset_sha256="a" * 64, models=[{"name": "gbm.skops", "sha256": "c" * 64}])
        records = store.list()
    assert default_baseline(records, "score") == 2
    assert default_baseline(records, "gbm.skops") == 3
    assert default_baseline(records, "other") is None


def test_a_card_added_to_an_older_record_fails_verify(tmp_path):
    """An upgraded schema-2 record's hash does not cover a card: one written into it later,
    even with no text (which matches a record without a card text fingerprint), is found."""
    import shutil

    from faircard.governance.migrate import upgrade
    from tests.unit.test_migrations import FIXTURE_V2

    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURE_V2, path)
    keys = Keys.from_environment(environ={"FAIRCARD_SIGNING_KEY": "s" * 48})
    upgrade(path, keys=keys)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE records SET card = :c WHERE id = 2"), {"c": json.dumps(
            card_document({}, model={"name": "Approved by legal"}))})
    engine.dispose()
    with AuditStore(path, keys=keys) as store:
        v = store.verify()
    assert [str(p) for p in v.problems] == [
        "record 2: it has a model card, which its hash does not cover (it was written before "
        "records kept one): the card was added afterwards"]


def test_the_checklist_and_proxies_are_fingerprinted_with_the_text(run):
    """As the card's authors_text() gives them: a status changed in the stored checklist no
    longer matches the fingerprint."""
    checklist = [{"source": "measurement", "question": "Are labels measured alike?",
                  "evidence": ["zone predicts race"], "suggested_status": "concern",
                  "status": "concern", "note": "zone follows race"}]
    proxies = [{"sensitive_feature": "race", "feature": "zone", "group": None, "value": 0.41}]
    card = build_card(run, text=TEXT, bias_sources=checklist, proxies=proxies)
    spec = spec_of(run, card_text=card.authors_text())
    doc = card_document(TEXT, bias_sources=checklist, proxies=proxies)
    assert text_problem(doc, spec) == ""
    assert "changed after it was recorded" in text_problem(card_document(TEXT), spec)
    doc["bias_sources"][0]["status"] = "no concern"
    assert "changed after it was recorded" in text_problem(doc, spec)


def test_a_record_counted_with_duckdb_keeps_its_card_and_cells(tmp_path, capsys):
    """Counted next to the data, the record keeps the card text, the same fingerprint as with
    pandas, and per-cell counts that rebuild the same figures."""
    pytest.importorskip("duckdb")
    df = make_dataset(5, n=500, n_features=2, with_missing=False, tiny_group=False,
                      no_positive_group=False)
    data = tmp_path / "loans.csv"
    df.to_csv(data, index=False)
    store = tmp_path / "a.db"
    for engine in ("duckdb", "pandas"):
        assert main(["record", str(data), "--target", "y", "--score", "score", "--sensitive",
                     "sex", "--bootstrap", "0", "--author", "ana", "--store", str(store),
                     "--engine", engine]) == 0, capsys.readouterr().err
    with AuditStore(store, keys=Keys()) as s:
        duck, pandas_ = s.list()
        assert s.verify().ok
        rebuilt = [assessment_from_cells(s.cells(r.id)).by_group for r in (duck, pandas_)]
    assert duck.fingerprint == pandas_.fingerprint
    assert (duck.has_cells, duck.has_card, pandas_.has_cells) == (True, True, True)
    cols = ["feature", "group", "metric"]
    pd.testing.assert_frame_equal(rebuilt[0][cols], rebuilt[1][cols])
    np.testing.assert_allclose(rebuilt[0]["value"].to_numpy(float),
                               rebuilt[1]["value"].to_numpy(float), rtol=1e-12, atol=1e-15)
