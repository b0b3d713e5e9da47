"""Sign in through Streamlit's native OpenID Connect login against a test identity provider:
an author records and submits, cannot approve her own record (decided by subject, although a
second person has the same display name), and a reviewer signs it off from the share link, to
which the app brings them back after signing in."""

from __future__ import annotations

import pytest

from faircard.governance.store import AuditStore
from tests.e2e.conftest import ROOT, Runs, _free_port, run_app
from tests.oidc_provider import secrets_toml, start_provider

pytestmark = pytest.mark.e2e

USERS = {
    "alice": {"sub": "5f0c-alice", "name": "Alice Author", "email": "alice@example.org",
              "email_verified": True, "roles": ["author", "approver"]},
    # same display name as the author, another person: may approve
    "alice2": {"sub": "9b41-other-alice", "name": "Alice Author",
               "email": "alice.author@example.net", "email_verified": True,
               "roles": ["reviewer", "approver"]},
    "bob": {"sub": "77aa-bob", "name": "Bob Reviewer", "email": "bob@example.org",
            "email_verified": True, "roles": ["reviewer"]},
}


@pytest.fixture(scope="module")
def oidc_app(tmp_path_factory):
    """The app with an [auth] section pointing at the test provider (the secrets file is in a
    temp folder, given with --secrets.files, never in the repository); yields (url, store path,
    provider)."""
    provider, idp = start_provider(USERS)
    base = tmp_path_factory.mktemp("oidc")
    secrets = base / "secrets.toml"
    port = _free_port()
    secrets.write_text(secrets_toml(provider, port), encoding="utf-8")
    try:
        with run_app(base, "--secrets.files", str(secrets), app_args=("--demo",),
                     port=port) as url:
            yield url, base / "audit.db", provider
    finally:
        idp.shutdown()
        idp.server_close()
    assert not (ROOT / ".streamlit" / "secrets.toml").exists()


def _sign_in(browser, url: str, who: str, path: str = ""):
    """A new browser signed in as ``who`` through the provider's page, at ``path``; returns
    (context, page, runs)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url + path)
    runs = Runs(page)
    runs.settle()
    sidebar = page.locator('[data-testid="stSidebar"]')
    if path:  # the share link asks to sign in first
        page.get_by_text("Sign in to continue").wait_for()
    sidebar.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name=f"Sign in as {USERS[who]['name']} ({who})").click()
    page.wait_for_url(lambda u: u.startswith(url))
    runs = Runs(page)
    runs.settle()
    if path:  # Streamlit returns to the app's root; the app brings the person back to the link
        page.get_by_role("heading", name="Shared record").wait_for()
        assert page.url.endswith(path), page.url  # Streamlit itself returned to "/"
    sidebar.get_by_text(USERS[who]["name"]).first.wait_for()
    return context, page, runs


def _click(runs, locator) -> None:
    runs.act(lambda: locator.click())


def test_author_and_reviewer_sign_in_and_self_approval_is_refused_by_subject(browser, oidc_app):
    url, store_path, provider = oidc_app
    # nobody signed in: the governance page asks to sign in and shows nothing else
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_text("Nobody is signed in.").wait_for()
    context.close()

    # the author signs in, records the demo assessment and submits it
    context, page, runs = _sign_in(browser, url, "alice")
    page.locator('[data-testid="stSidebar"]').get_by_text("Roles: author, approver").wait_for()
    _click(runs, page.locator('[data-testid="stSidebarNav"]').get_by_text("Governance",
                                                                        exact=True))
    page.get_by_text("Recorded as Alice Author (signed in).").wait_for()
    _click(runs, page.get_by_role("button", name="Record as a draft"))
    page.get_by_text("Recorded as record 1").wait_for()
    _click(runs, page.get_by_role("button", name="Submit for review"))
    page.get_by_text("Record 1 is now in review.").wait_for()
    with AuditStore(store_path, create=False) as store:
        rec = store.get(1)
    assert (rec.author_issuer, rec.author_subject) == (provider.issuer, USERS["alice"]["sub"])
    assert rec.created_by == "Alice Author" and rec.authenticated

    # she holds the approver role, yet cannot approve her own record
    page.get_by_text("Approve (sign off)").first.click()  # inside a form: no run
    _click(runs, page.get_by_role("button", name="Add review"))
    page.get_by_text("cannot approve it").wait_for()
    context.close()

    # another person with the same display name (another subject) may approve it
    context, page, runs = _sign_in(browser, url, "alice2", "/?record=1")
    page.get_by_text("Shared record").first.wait_for()
    page.get_by_role("tab", name="Review and comments").click()
    _click(runs, page.get_by_role("button", name="Record the decision"))
    page.get_by_text("Record 1 is now approved.").wait_for()
    context.close()

    # a reviewer (no approver role) signs in and comments through the share link
    context, page, runs = _sign_in(browser, url, "bob", "/?record=1")
    page.get_by_role("tab", name="Review and comments").click()
    page.get_by_label("Comment", exact=True).fill("Please add the age bands to the card.")
    _click(runs, page.get_by_role("button", name="Add comment"))
    page.get_by_text("Please add the age bands to the card.").wait_for()
    context.close()

    with AuditStore(store_path, create=False) as store:
        history = store.history(1)
        comments = store.comments(1)
        assert store.verify().ok
    approvals = [h for h in history if h.decision == "approve"]
    assert [(h.reviewer, h.reviewer_subject) for h in approvals] == [
        ("Alice Author", USERS["alice2"]["sub"])]
    assert [(c.author, c.author_subject) for c in comments] == [
        ("Bob Reviewer", USERS["bob"]["sub"])]
    assert any(line.startswith('"POST /token') for line in provider.log)
