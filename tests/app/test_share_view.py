"""The share link (?record=ID): a signed-in viewer, with no dataset in the session, sees the same
figures as the author's Disparities page; viewers comment, cannot decide; no role, no view."""

from __future__ import annotations

import re

import numpy as np
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


def share_with_baseline(store_path, runs):
    """Records ``runs[0]`` and then ``runs[1]`` with the first as its baseline; the viewer's
    screen of the second."""
    from faircard.governance.share import cells_of

    with AuditStore(store_path) as store:
        first = store.add(runs[0], title="v1", created_by="Ana Kim", dataset_name="v1.csv",
                          dataset_sha256="a" * 64, cells=cells_of(runs[0]))
        store.add(runs[1], title="v2", created_by="Ana Kim", dataset_name="v2.csv",
                  dataset_sha256="b" * 64, baseline=first.id, cells=cells_of(runs[1]))
    return _share(VIEWER, record="2")


def test_share_view_shows_the_changes_since_the_baseline(_private_audit_store):
    """A record that names a baseline shows each criterion's and group's change, as
    faircard.governance.diff computes it."""
    import faircard
    from faircard.governance.diff import diff_assessments
    from tests.app.conftest import small_frame

    runs = [faircard.assess(small_frame(seed=s), target="outcome", score="risk_score",
                            sensitive=["sex", "race"], n_boot=200) for s in (0, 1)]
    at = share_with_baseline(_private_audit_store, runs)
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


# -- what if: another threshold, from the stored cube ---------------------------------------------

def _record_directly(store_path, *, favorable="negative", too_large=False, without_cube=False):
    """Record the small frame (COMPAS-like: a positive decision flags a person) straight into
    the store; the frame, for the oracle."""
    import faircard
    from faircard.governance import stored_cube
    from faircard.governance.share import cells_of
    from tests.app.conftest import small_frame

    data = small_frame()
    a = faircard.assess(data, target="outcome", score="risk_score", sensitive=["sex", "race"],
                        n_boot=0, favorable_outcome=favorable)
    bound = stored_cube.MAX_CUBE_BYTES
    try:
        if too_large:
            stored_cube.MAX_CUBE_BYTES = 100
        cells = cells_of(a)
    finally:
        stored_cube.MAX_CUBE_BYTES = bound
    if without_cube:
        del cells["cube"]  # as recorded before records kept the cube
    with AuditStore(store_path) as store:
        store.add(a, title="Risk v1", created_by="Ana Kim", dataset_name="small.csv",
                  dataset_sha256="a" * 64, cells=cells)
    return data


def _file_sha(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _not_what_if(at) -> list[str]:
    """Everything the page writes in Markdown and captions outside the what-if's own lines
    (without the clock time of a card whose record keeps no card text, dated when shown)."""
    return [re.sub(r"Generated at \S+", "", m.value) for m in [*at.markdown, *at.caption]
            if "What if: threshold" not in m.value]


def _oracle_rows(data, feature, t):
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_score, recall_score

    out = {}
    for group in sorted(data[feature].unique()):
        m = data[feature] == group
        y, pred = data["outcome"][m], (data["risk_score"][m] >= t).astype(int)
        tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
        out[group] = {"group size": m.sum(), "flagged": fp + tp, "wrongly flagged": fp,
                      "wrongly not flagged": fn,
                      "Selection rate (share flagged)": pred.mean(),
                      "Accuracy": accuracy_score(y, pred),
                      "Precision": precision_score(y, pred, zero_division=np.nan),
                      "True positive rate": recall_score(y, pred)}
    return out


def test_what_if_moves_the_threshold_and_writes_nothing(_private_audit_store):
    data = _record_directly(_private_audit_store)
    before = _file_sha(_private_audit_store)
    at = _share(VIEWER)
    slider = at.slider(key="w_share_what_if_threshold")
    assert slider.value == pytest.approx(0.5), "it starts at the recorded threshold"
    recorded = _not_what_if(at)
    rule = "One threshold for everyone: a score at or above 0.500 is a positive decision."
    from tests.app.conftest import text_of

    assert any(rule in text_of(c) and "recorded decision rule" in text_of(c)
               for c in at.caption)
    assert any("What if: threshold 0.500 for everyone" in m.value for m in at.markdown)
    for t in (0.3, 0.62):
        at.slider(key="w_share_what_if_threshold").set_value(t).run()
        no_exception(at)
        assert any(f"What if: threshold {t:.3f} for everyone" in m.value for m in at.markdown)
        at.selectbox(key="w_share_what_if_feature").set_value("race").run()
        shown = _table(at, "group size").set_index("group")
        assert "selected" not in " ".join(shown.columns) and "approved" not in \
            " ".join(shown.columns)
        expected = _oracle_rows(data, "race", t)
        assert sorted(shown.index) == sorted(expected)
        for group, figures in expected.items():
            for column, value in figures.items():
                cell = float(str(shown.loc[group, column]).replace(",", ""))
                assert cell == pytest.approx(float(value), abs=5e-4), (t, group, column)
        # the record's own figures, its card and its rule do not move
        assert _not_what_if(at) == recorded
    at.slider(key="w_share_what_if_threshold").set_value(0.0).run()
    assert any("What if:" in text_of(w) and "everybody is flagged" in text_of(w)
               for w in at.warning)
    assert _file_sha(_private_audit_store) == before, "the what-if wrote nothing"
    with AuditStore(_private_audit_store, create=False) as store:
        assert store.event_count() == 1 and store.verify().ok


def test_what_if_of_an_old_record_or_a_cube_too_large_says_why(_private_audit_store):
    _record_directly(_private_audit_store, without_cube=True)
    _record_directly(_private_audit_store, too_large=True)
    old = _share(VIEWER, record="1")
    assert any("keeps no counts cube" in i.value.replace("\\", "") for i in old.info)
    assert not old.slider and _table(old, "people") is not None  # the recorded figures stay
    big = _share(VIEWER, record="2")
    from tests.app.conftest import text_of

    assert any("MB compressed" in text_of(i) and "cannot show another threshold" in text_of(i)
               for i in big.info)
    assert not big.slider
