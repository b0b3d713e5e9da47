"""The share link (?record=ID): a signed-in viewer, with no dataset in the session, sees the same
figures as the author's Disparities page; viewers comment, cannot decide; no role, no view."""

from __future__ import annotations

import re

import pytest

from faircard.governance.store import AuditStore
from tests.app.conftest import new, no_exception, seed_state

AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_id": "faircard-test", "client_secret": "s3cret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
ISS = "https://login.example.org"
AUTHOR = {"is_logged_in": True, "iss": ISS, "sub": "author-1", "name": "Ana Kim",
          "email": "ana@example.org", "roles": ["author"]}
VIEWER = {"is_logged_in": True, "iss": ISS, "sub": "viewer-7", "name": "Vera Domain",
          "email": "vera@example.org", "roles": ["viewer"]}
NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")


def _numbers(frame) -> list[list[float]]:
    """Every number in every cell of a table, row by row (with the row's group)."""
    out = []
    for group, row in frame.iterrows():
        nums = [float(x.replace(",", "")) for cell in row for x in NUMBER.findall(str(cell))]
        out.append([str(group), *nums])
    return out


def _table(at, column: str):
    """The one table on screen with ``column`` (the group table: "people")."""
    [frame] = [d.value for d in at.dataframe if column in d.value.columns]
    return frame


def _signed_in(at, user):
    at.secrets["auth"] = AUTH
    at.user = dict(user)
    return at


def _record_as_author():
    """The author's screen: the Governance page records the seeded assessment; the Disparities
    page shows its tables."""
    gov = _signed_in(seed_state(new("app_pages/governance.py")), AUTHOR)
    gov.run()
    no_exception(gov)
    [button] = [b for b in gov.button if b.label == "Record as a draft"]
    button.click().run()
    no_exception(gov)
    assert any("Recorded as record 1" in s.value for s in gov.success), \
        [e.value for e in gov.error]
    disp = seed_state(new("app_pages/disparities.py"))
    disp.run()
    no_exception(disp)
    return disp


@pytest.fixture
def author_screen(_private_audit_store):
    return _record_as_author()


def _share(user, record="1"):
    at = _signed_in(new("app.py"), user)
    at.query_params["record"] = record
    at.run()
    no_exception(at)
    return at


def test_viewer_sees_the_authors_figures_without_the_dataset(author_screen,
                                                             _private_audit_store):
    at = _share(VIEWER)
    assert at.session_state["fc_data"] is None, "no dataset in the viewer's session"
    assert not at.error, [e.value for e in at.error]
    assert any("Model card" in m.value or "model card" in m.value.lower() for m in at.markdown)
    assert any(t.value == "Shared record" for t in at.title)
    with AuditStore(_private_audit_store, create=False) as store:
        rec = store.get(1)
    assert (rec.author_issuer, rec.author_subject) == (ISS, "author-1")

    features = author_screen.selectbox(key="w_feature").options
    assert at.selectbox(key="w_share_feature").options == features
    for feature in features:
        author_screen.selectbox(key="w_feature").set_value(feature).run()
        at.selectbox(key="w_share_feature").set_value(feature).run()
        no_exception(at)
        mine, shared = _table(author_screen, "people"), _table(at, "people")
        assert list(shared.columns) == list(mine.columns)
        numbers = _numbers(shared)
        assert numbers == _numbers(mine)
        assert sum(len(r) for r in numbers) > 5 * len(numbers), "the tables hold figures"
        mine_d = _table(author_screen, "gap (max - min)")
        shared_d = _table(at, "gap (max - min)")
        assert _numbers(shared_d.set_index("metric")) == _numbers(mine_d.set_index("metric"))
        assert [m.value for m in at.metric] == [m.value for m in author_screen.metric]


def test_viewer_comments_but_cannot_decide(author_screen, _private_audit_store):
    with AuditStore(_private_audit_store, create=False) as store:
        store.submit(1, _identity(AUTHOR))
    at = _share(VIEWER)
    assert not [b for b in at.button if b.label == "Record the decision"]
    approver = _share({**VIEWER, "sub": "approver-2", "roles": ["approver"]})
    assert [b for b in approver.button if b.label == "Record the decision"]
    at.selectbox(key="w_share_section").set_value("finding 1")
    at.text_area(key="w_share_body").input("Group B looks under-served; is the data complete?")
    [send] = [b for b in at.button if b.label == "Add comment"]
    send.click().run()
    no_exception(at)
    with AuditStore(_private_audit_store, create=False) as store:
        [c] = store.comments(1)
        assert store.get(1).status == "in_review"
    assert (c.author, c.author_issuer, c.author_subject, c.section) == (
        "Vera Domain", ISS, "viewer-7", "finding 1")
    assert any("is the data complete" in m.value for m in at.markdown)


def test_no_role_or_not_signed_in_shows_nothing(author_screen):
    at = _share({**VIEWER, "roles": []})
    assert any("may not open records" in e.value for e in at.error)
    assert not at.dataframe
    at = _share({"is_logged_in": False})
    assert any("Sign in" in i.value for i in at.info)
    assert not at.dataframe


def test_unknown_record_and_local_mode(author_screen):
    at = _share(VIEWER, record="99")
    assert any("no record 99" in e.value for e in at.error)
    local = new("app.py")
    local.query_params["record"] = "1"
    local.run()
    no_exception(local)
    assert any("Local single-user mode" in c.value for c in local.caption)
    assert any("(unauthenticated)" not in m.value and "Ana Kim" in m.value
               for m in local.markdown)


def _identity(user):
    from faircard.governance.identity import identity_from_claims

    return identity_from_claims(user)


def test_share_view_shows_the_changes_since_the_baseline(_private_audit_store):
    """A record that names a baseline shows each criterion's and group's change, as
    faircard.governance.diff computes it."""
    import faircard
    from faircard.governance.diff import diff_assessments
    from faircard.governance.share import cells_of
    from tests.app.conftest import small_frame

    runs = [faircard.assess(small_frame(seed=s), target="outcome", score="risk_score",
                            sensitive=["sex", "race"], n_boot=200) for s in (0, 1)]
    with AuditStore(_private_audit_store) as store:
        first = store.add(runs[0], title="v1", created_by="Ana Kim", dataset_name="v1.csv",
                          dataset_sha256="a" * 64, cells=cells_of(runs[0]))
        store.add(runs[1], title="v2", created_by="Ana Kim", dataset_name="v2.csv",
                  dataset_sha256="b" * 64, baseline=first.id, cells=cells_of(runs[1]))
    at = _share(VIEWER, record="2")
    assert any("Changes since the baseline, record 1" in e.label for e in at.expander)
    shown = _table(at, "criterion")
    expected = diff_assessments(runs[0].to_dict(), runs[1].to_dict()).criteria
    assert list(shown["criterion"]) == list(expected["criterion"])
    assert shown["change"].to_numpy() == pytest.approx(expected["change"].to_numpy(),
                                                       nan_ok=True)
    groups = _table(at, "n_base")
    assert len(groups) > 0 and set(groups["feature"]) >= {"sex", "race"}
    plain = _share(VIEWER, record="1")
    assert not any("Changes since the baseline" in e.label for e in plain.expander)
