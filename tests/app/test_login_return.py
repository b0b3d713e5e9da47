"""After sign-in Streamlit opens the start page in a new session; the app brings the person back
once to the page (and query, such as ?record=1) they clicked "Log in" on, recognising their
browser by the token of Streamlit's XSRF cookie (whose mask changes with every response)."""

from __future__ import annotations

import os
from unittest.mock import MagicMock

import pytest

from faircard.ui import auth
from tests.app.conftest import new, no_exception
from tests.app.test_share_view import AUTH, VIEWER


def _xsrf(token: bytes) -> str:
    """The cookie as Streamlit writes it: 2|mask|masked token|timestamp, a new mask each time."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(token))
    return f"2|{mask.hex()}|{masked.hex()}|1764130000"


@pytest.fixture
def browser(monkeypatch):
    """This test's browser: its XSRF token, sent with a fresh mask on every run."""
    token = os.urandom(16)
    cookies = {}
    monkeypatch.setattr(auth, "_cookies", lambda: cookies)
    # AppTest's secrets do not reach the check st.login makes: the provider's side is the
    # browser journey's (tests/e2e/test_login_journey.py)
    monkeypatch.setattr(auth.st, "login", lambda *args, **kwargs: None)

    def send(other: bytes | None = None) -> None:
        cookies[auth.XSRF_COOKIE] = _xsrf(other or token)

    send()
    return send


def _app(user, query=None):
    at = new("app.py")
    at.secrets["auth"] = AUTH
    at.user = dict(user)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    no_exception(at)
    return at


def _click_login(at):
    [button] = [b for b in at.button if b.key == "auth_login_page"]
    button.click().run()
    no_exception(at)


def test_sign_in_from_a_share_link_comes_back_to_it(browser):
    at = _app({"is_logged_in": False}, {"record": "1"})
    assert any("Sign in to continue" in i.value for i in at.info)
    _click_login(at)
    browser()  # the provider's round trip: the cookie comes back with another mask
    back = _app(VIEWER)
    assert [t.value for t in back.title] == ["Shared record"]
    assert back.query_params["record"] in ("1", ["1"])
    browser()
    again = _app(VIEWER)
    assert [t.value for t in again.title] != ["Shared record"], "only once"


def test_another_browser_or_no_cookie_lands_on_the_start_page(browser):
    _click_login(_app({"is_logged_in": False}, {"record": "2"}))
    browser(os.urandom(16))  # someone else's browser
    other = _app(VIEWER)
    assert "Shared record" not in [t.value for t in other.title]
    browser()  # the person's own browser still comes back
    assert [t.value for t in _app(VIEWER).title] == ["Shared record"]


def test_pending_returns_expire_and_are_taken_once():
    now = [0.0]
    pending = auth.PendingReturns(seconds=600, clock=lambda: now[0])
    pending.remember("a", "app_pages/record.py", {"record": "3"})
    pending.remember("b", "app_pages/governance.py", {})
    assert pending.take("a") == ("app_pages/record.py", {"record": "3"})
    assert pending.take("a") is None
    now[0] = 601
    assert pending.take("b") is None, "too late: the start page"


def test_browser_key_survives_a_new_mask_and_refuses_garbage():
    token = os.urandom(16)
    assert auth.browser_key({auth.XSRF_COOKIE: _xsrf(token)}) == \
        auth.browser_key({auth.XSRF_COOKIE: _xsrf(token)}) is not None
    assert auth.browser_key({auth.XSRF_COOKIE: _xsrf(os.urandom(16))}) != \
        auth.browser_key({auth.XSRF_COOKIE: _xsrf(token)})
    for raw in ("", "2|zz|11|1", "not hex", "2||ab|1"):
        assert auth.browser_key({auth.XSRF_COOKIE: raw}) is None
    assert auth.browser_key({}) is None
    assert auth.browser_key({auth.XSRF_COOKIE: MagicMock()}) is None, "AppTest's mock cookies"
