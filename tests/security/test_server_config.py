"""The app's server settings: no stack traces for users, localhost by default, XSRF on.

Read by Streamlit's own config loader from the repository's ``.streamlit/config.toml``.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def options(server_config):
    return server_config.get_option


def test_users_never_see_a_stack_trace(options):
    from streamlit.config import ShowErrorDetailsConfigOptions

    assert options("client.showErrorDetails") == ShowErrorDetailsConfigOptions.NONE.value


def test_server_listens_on_localhost_with_xsrf_protection(options):
    assert options("server.address") in ("localhost", "127.0.0.1")
    assert options("server.enableXsrfProtection") is True
    assert options("server.enableCORS") is True
