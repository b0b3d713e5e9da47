"""Who is using the app: Streamlit's native OpenID Connect login, or local single-user mode.

With an ``[auth]`` section in Streamlit's secrets, people sign in with ``st.login`` and
:func:`current_identity` is built from ``st.user`` (the ID token's claims) and the roles file.
Without it the app runs in local single-user mode: nobody signs in, forms ask for a typed name,
and records say "unauthenticated".
"""

from __future__ import annotations

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
from . import components

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
                st.login()
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
            st.login()
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


def _escape(text: str) -> str:
    return components.escape(text)
