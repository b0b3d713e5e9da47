"""A record keeps its model card's authors' text: the share link shows a viewer without the
dataset the card its author saw (same text, same figures), hostile text stays inert, a text
changed in the database after approval is shown as "changed since approval"; the Governance
page names a baseline, and the share link's changes equal `faircard diff`."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from faircard.cli import main
from faircard.governance.store import AuditStore
from tests.app.conftest import new, no_exception, seed_state, small_frame, text_of
from tests.app.test_share_view import AUTH, VIEWER

AUTHOR = {"is_logged_in": True, "iss": "https://login.example.org", "sub": "author-1",
          "name": "Ana Kim", "email": "ana@example.org", "roles": ["author"]}
HOSTILE = ('<script>alert("card")</script> <img src=x onerror=alert(1)> '
           '[click](javascript:alert(2)) ![i](https://evil.example/x.png)\n# Fake heading\n'
           '| a | b |\n|---|---|\n**bold** `code` ~~gone~~')
TEXT = {  # written on the Model card page, field by field
    "w_card_intended_use_primary_uses": "Ranking applications for a second human review.",
    "w_card_intended_use_out_of_scope": "Automatic refusals.",
    "w_card_caveats_text": HOSTILE,
    "w_card_ethical_considerations_text": "Group C is small; its rates are uncertain.",
}


def _signed_in(at, user):
    at.secrets["auth"] = AUTH
    at.user = dict(user)
    return at


def _card_markdown(at) -> str:
    """The card's Markdown on screen (the block that starts with its title), without the line
    that says when it was generated."""
    [body] = [m.value for m in at.markdown if m.value.lstrip().startswith("# Model card:")]
    return "\n".join(line for line in body.splitlines() if "Generated at" not in line)


DIAG_KEYS = ("fc_diag_checklist", "fc_diag_card", "fc_diag_exclude")


def _author_card(metrics=None, suppress=False, diagnostics=None):
    """The author's Model card page with the text typed in, and its state."""
    at = seed_state(new("app_pages/model_card.py"))
    if metrics:
        at.session_state["fc_metrics"] = metrics
    for key in DIAG_KEYS if diagnostics is not None else ():
        at.session_state[key] = diagnostics.session_state[key]
    at.run()
    no_exception(at)
    for key, value in TEXT.items():
        widget = at.text_area(key=key) if key in [w.key for w in at.text_area] \
            else at.text_input(key=key)
        widget.input(value)
    at.checkbox(key="w_card_suppress").set_value(suppress)
    at.run()
    no_exception(at)
    return at


def _record(author_card, user=AUTHOR, baseline="default"):
    """The Governance page of the same session records the assessment."""
    gov = _signed_in(seed_state(new("app_pages/governance.py")), user)
    for key in ("fc_card_text", "fc_card_suppress", "fc_metrics", *DIAG_KEYS):
        gov.session_state[key] = author_card.session_state[key]
    gov.run()
    no_exception(gov)
    if baseline != "default":
        gov.selectbox(key="w_gov_baseline").set_value(baseline)
    [button] = [b for b in gov.button if b.label == "Record as a draft"]
    button.click().run()
    no_exception(gov)
    assert any("Recorded as record" in s.value for s in gov.success), \
        [e.value for e in gov.error]
    return gov


def _share(record="1"):
    at = _signed_in(new("app.py"), VIEWER)
    at.query_params["record"] = record
    at.run()
    no_exception(at)
    assert at.session_state["fc_data"] is None, "no dataset in the viewer's session"
    return at


@pytest.mark.parametrize("metrics, suppress", [
    (None, False),
    (["selection_rate", "false_negative_rate", "precision"], True),
])
def test_the_share_link_shows_the_authors_card(_private_audit_store, metrics, suppress):
    author = _author_card(metrics, suppress)
    _record(author)
    author.run()  # the author's card now shows its record's review status
    no_exception(author)
    shared = _share()
    assert not shared.error, [e.value for e in shared.error]
    mine, theirs = _card_markdown(author), _card_markdown(shared)
    assert theirs == mine
    # the figures: every per-group row of the card's tables is there, from the cells
    assert "Ranking applications for a second human review" in theirs
    assert "Group C is small" in theirs
    with AuditStore(_private_audit_store, create=False) as store:
        rec = store.get(1)
        kept = store.card(1)
    assert rec.has_card and kept["suppress_small_groups"] is suppress
    assert kept["text"]["caveats"]["text"] == HOSTILE
    assert kept["metrics"] == (metrics if metrics else author.session_state["fc_metrics"])


def test_the_share_link_shows_the_checklist_the_card_stated(_private_audit_store):
    """The bias-sources checklist set on the Diagnostics page, and the proxies, are on the
    author's card; the record keeps them (its fingerprint covers them) and the share link shows
    them too."""
    diag = seed_state(new("app_pages/diagnostics.py"))
    diag.run()
    no_exception(diag)
    diag.selectbox(key="w_check_measurement").set_value("concern").run()
    diag.text_area(key="w_note_measurement").set_value("age <b>bands</b> follow race").run()
    no_exception(diag)
    author = _author_card(diagnostics=diag)
    assert "| Measurement bias | concern |" in _card_markdown(author)
    _record(author)
    author.run()
    shared = _share()
    assert not shared.error, [e.value for e in shared.error]
    assert _card_markdown(shared) == _card_markdown(author)
    assert "age &lt;b&gt;bands&lt;/b&gt; follow race" in _card_markdown(shared)
    with AuditStore(_private_audit_store, create=False) as store:
        kept = store.card(1)
        assert store.verify().ok
    assert [b["status"] for b in kept["bias_sources"] if b["source"] == "measurement"] == \
        ["concern"]


def test_hostile_card_text_stays_inert_in_the_share_view(_private_audit_store):
    _record(_author_card())
    shared = _share()
    card = _card_markdown(shared)
    for raw in ("<script", "<img", "](javascript:", "![i](", "\n# Fake", "\n| a | b |",
                "`code`"):
        assert raw not in card, raw
    assert "&lt;script&gt;alert" in card and "\\# Fake heading" in card
    assert not any(m.proto.allow_html for m in shared.markdown)
    assert not any("alert" in h.proto.body for h in shared.get("html")), \
        "no card text in a raw HTML element"


def test_card_text_changed_after_approval_is_shown_as_changed(_private_audit_store):
    _record(_author_card())
    with AuditStore(_private_audit_store, create=False) as store:
        store.submit(1, "Ana Kim")
        store.review(1, "Ben Lee", "approve")
    shared = _share()
    assert "Status: approved, reviewer Ben Lee" in _card_markdown(shared)
    engine = sa.create_engine(f"sqlite:///{_private_audit_store}")
    with engine.begin() as conn:
        doc = json.loads(conn.execute(sa.text("SELECT card FROM records WHERE id = 1")).scalar())
        doc["text"]["intended_use"]["primary_uses"] = "Automatic refusals of credit."
        conn.execute(sa.text("UPDATE records SET card = :c WHERE id = 1"),
                     {"c": json.dumps(doc)})
    engine.dispose()
    shared = _share()
    card = _card_markdown(shared)
    assert "Status: changed since approval" in card and "Status: approved" not in card
    assert any("not the text its fingerprint covers" in text_of(e) for e in shared.error)
    with AuditStore(_private_audit_store, create=False) as store:
        v = store.verify()
    assert not v.ok
    assert any("model card text is not the text its fingerprint covers" in str(p)
               for p in v.problems)


def test_the_governance_page_names_a_baseline_and_the_share_link_shows_the_diff(
        _private_audit_store, capsys):
    first = _record(_author_card())  # nothing earlier: recorded without a baseline
    assert first.selectbox(key="w_gov_baseline").value == 1, "the next one: record 1"
    # a new version of the data: the default baseline is the latest record of this model
    gov = _signed_in(seed_state(new("app_pages/governance.py"), small_frame(seed=1)), AUTHOR)
    gov.run()
    no_exception(gov)
    assert gov.selectbox(key="w_gov_baseline").value == 1
    [button] = [b for b in gov.button if b.label == "Record as a draft"]
    button.click().run()
    no_exception(gov)
    with AuditStore(_private_audit_store, create=False) as store:
        assert store.get(2).baseline == 1 and store.get(1).baseline is None
    [table] = [d.value for d in gov.dataframe if "baseline" in d.value.columns]
    assert list(table["baseline"]) == ["", "1"]

    assert main(["diff", "1", "2", "--json", "--store", str(_private_audit_store)]) == 0
    cli = json.loads(capsys.readouterr().out)
    shared = _share(record="2")
    assert any("Changes since the baseline, record 1" in e.label for e in shared.expander)
    [criteria] = [d.value for d in shared.dataframe if "criterion" in d.value.columns]
    [groups] = [d.value for d in shared.dataframe if "n_base" in d.value.columns]
    expected = cli["criteria"]
    assert len(criteria) == len(expected) > 0
    for row, want in zip(criteria.to_dict(orient="records"), expected, strict=True):
        assert (row["feature"], row["criterion"]) == (want["feature"], want["criterion"])
        for key in ("base", "new", "change", "change_ci_low", "change_ci_high"):
            assert row[key] == pytest.approx(want[key], nan_ok=True) if want[key] is not None \
                else row[key] != row[key], key
    assert len(groups) == len(cli["groups"]) > 0
    for row, want in zip(groups.to_dict(orient="records"), cli["groups"], strict=True):
        assert (row["feature"], str(row["group"]), row["metric"]) == (
            want["feature"], str(want["group"]), want["metric"])
        assert row["change"] == pytest.approx(want["change"], nan_ok=True) \
            if want["change"] is not None else row["change"] != row["change"]
    # choosing "none" records no baseline
    third = _record(_author_card(), baseline=None)
    assert third.selectbox(key="w_gov_baseline").value == 3, "the default follows the store"
    with AuditStore(_private_audit_store, create=False) as store:
        assert store.get(3).baseline is None


def test_a_record_from_before_schema_3_still_opens(tmp_path, monkeypatch):
    """An upgraded schema-2 store: the old record's share link shows its figures, and says
    that its card text was not kept."""
    import shutil

    from faircard.governance.migrate import upgrade
    from faircard.governance.signing import Keys
    from tests.unit.test_migrations import FIXTURE_V2

    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURE_V2, path)
    monkeypatch.setenv("FAIRCARD_STORE", str(path))
    monkeypatch.setenv("FAIRCARD_SIGNING_KEY", "s" * 48)
    upgrade(path, keys=Keys.from_environment())
    shared = _share()
    assert not shared.error, [e.value for e in shared.error]
    assert any("does not keep the model card's text" in i.value for i in shared.info)
    assert "Status: approved, reviewer bob (model risk; name typed, not signed in)" in \
        _card_markdown(shared)
    assert any("people" in d.value.columns for d in shared.dataframe)
