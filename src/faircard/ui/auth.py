"""Who is using the app: Streamlit's native OpenID Connect login, or local single-user mode.

With an ``[auth]`` section in Streamlit's secrets, people sign in with ``st.login`` and
:func:`current_identity` is built from ``st.user`` (the ID token's claims) and the roles file.
Without it the app runs in local single-user mode: nobody signs in, forms ask for a typed name,
and records say "unauthenticated".
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from ..errors import FaircardError
from ..governance import AuditStore
from ..governance.identity import (
    ROLES,
    ROLES_ENV,
    Identity,
    identity_from_claims,
    load_role_map,
    local_identity,
)
from ..governance.signing import Keys
from . import cache, components, state

LOCAL_MODE_NOTE = ("Local single-user mode: nobody signs in, so names are typed and records "
                   "say \"unauthenticated\". Configure OpenID Connect in Streamlit's secrets "
                   "([auth]) to sign people in.")


def _secrets_section(name: str) -> dict:
    try:
        section = st.secrets.get(name)
    except (StreamlitSecretNotFoundError, FileNotFoundError):
        return {}
    return dict(section) if section else {}


def oidc_configured() -> bool:
    """Whether Streamlit's secrets have an ``[auth]`` section (then people sign in)."""
    return bool(_secrets_section("auth"))


def current_identity() -> Identity | None:
    """The signed-in person (OIDC), or None when nobody is signed in or in local mode.

    Raises :class:`FaircardError` when the provider's answer or the roles file is unusable.
    """
    if not oidc_configured() or not st.user.is_logged_in:
        return None
    settings = _secrets_section("faircard")
    role_map = load_role_map(settings.get("roles_file"))
    return identity_from_claims(st.user.to_dict(), role_map)


def store_keys() -> Keys:
    """The audit store's signing and verification keys: ``signing_key``,
    ``signing_key_file`` and ``verify_keys`` under ``[faircard]`` in Streamlit's secrets, each
    falling back to the environment (``FAIRCARD_SIGNING_KEY`` ...). Raises
    :class:`FaircardError` for a key that cannot be read."""
    return Keys.from_environment(_secrets_section("faircard"))


def open_store(location: str | None = None, *, create: bool = False) -> AuditStore:
    """The audit store at ``location`` (default: ``$FAIRCARD_STORE``) with the app's keys
    (:func:`store_keys`)."""
    return AuditStore(location, create=create, keys=store_keys())


def local_user(name: str) -> Identity:
    """Local mode: the typed ``name`` as an unauthenticated identity with every role."""
    return local_identity(name, ROLES)


def sidebar_identity() -> Identity | None:
    """Show who is signed in (with log in / log out) in the sidebar; returns the identity."""
    with st.sidebar:
        st.markdown("### Signed in")
        if not oidc_configured():
            st.caption(LOCAL_MODE_NOTE)
            return None
        if not st.user.is_logged_in:
            st.caption("Nobody is signed in.")
            if st.button("Log in", key="auth_login", icon=":material/login:"):
                login()
            return None
        try:
            who = current_identity()
        except FaircardError as exc:
            components.error(exc)
            who = None
        if who is not None:
            roles = ", ".join(r for r in ROLES if r in who.roles) or "no role"
            st.markdown(f"**{_escape(who.display_name)}**  \n{_escape(who.email or '')}")
            st.caption(f"Roles: {roles}")
        if st.button("Log out", key="auth_logout", icon=":material/logout:"):
            st.logout()
        return who


def require(action: str, page: str = "") -> Identity | None:
    """For a page: the signed-in identity allowed to ``action``; stops the page with the reason
    otherwise. In local mode returns None (the page asks for a typed name)."""
    if not oidc_configured():
        return None
    if not st.user.is_logged_in:
        st.info("Sign in to continue: this faircard checks who records, reviews and comments.")
        if st.button("Log in", key="auth_login_page", type="primary"):
            login()
        components.stop(page)
    try:
        who = current_identity()
        if who is None:
            components.stop(page)
        who.require(action)
    except FaircardError as exc:
        components.error(exc)
        st.caption(f"Roles come from the 'roles' claim of your sign-in or the roles file "
                   f"(${ROLES_ENV} or [faircard] roles_file in the secrets).")
        components.stop(page)
    return who


# -- coming back after sign-in ---------------------------------------------------------------
# Streamlit's sign-in leaves the app for the provider and comes back to the start page in a new
# session: the page, its query (?record=3) and the session state are gone. What survives is the
# browser's XSRF cookie: its token stays the same across the round trip (only its mask changes
# with every response). So the page is remembered in this process under a hash of that token.

XSRF_COOKIE = "_streamlit_xsrf"
RETURN_SECONDS = 600
"""How long after clicking "Log in" the app still brings someone back to their page."""
MAX_PENDING = 10_000


class PendingReturns:
    """The page (and its query) each browser was on when it clicked "Log in", kept for
    :data:`RETURN_SECONDS` and taken once. One per server process."""

    def __init__(self, seconds: float = RETURN_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self._seconds, self._clock = seconds, clock
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, str, dict[str, Any]]] = {}

    def remember(self, browser: str, page: str, query: Mapping[str, Any]) -> None:
        now = self._clock()
        with self._lock:
            for key in [k for k, v in self._items.items() if v[0] < now]:
                del self._items[key]
            while len(self._items) >= MAX_PENDING:
                del self._items[next(iter(self._items))]
            self._items[browser] = (now + self._seconds, page, dict(query))

    def take(self, browser: str) -> tuple[str, dict[str, Any]] | None:
        with self._lock:
            item = self._items.pop(browser, None)
        if item is None or item[0] < self._clock():
            return None
        return item[1], item[2]


def browser_key(cookies: Mapping[str, str]) -> str | None:
    """A key for this browser that survives the sign-in round trip (a hash of the token in
    Streamlit's XSRF cookie), or None when there is no such cookie."""
    raw = cookies.get(XSRF_COOKIE)
    token = None
    if isinstance(raw, str) and raw:
        parts = raw.split("|")
        try:
            if parts[0] == "2" and len(parts) == 4:  # 2|mask|masked token|timestamp
                mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
                token = bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked)) \
                    if mask else None
            else:  # version 1: the token in hex
                token = bytes.fromhex(raw)
        except ValueError:
            token = None
    return hashlib.sha256(b"faircard-return\0" + token).hexdigest() if token else None


def _cookies() -> Mapping[str, str]:
    return st.context.cookies


def login() -> None:
    """Start Streamlit's sign-in, remembering the page this browser is on (and its query) to
    come back to (see :func:`return_after_login`)."""
    page = state.get(state.CURRENT_PAGE)
    key = browser_key(_cookies())
    if page and key:
        cache.pending_returns().remember(key, page, st.query_params.to_dict())
    st.login()


def return_after_login() -> None:
    """Right after sign-in, Streamlit opens the start page: switch once to the page this
    browser signed in from, with its query (within :data:`RETURN_SECONDS`)."""
    if not oidc_configured() or not st.user.is_logged_in:
        return
    key = browser_key(_cookies())
    target = cache.pending_returns().take(key) if key else None
    if target is not None and target[0] != state.get(state.CURRENT_PAGE):
        st.switch_page(target[0], query_params=target[1])


def _escape(text: str) -> str:
    return components.escape(text)
