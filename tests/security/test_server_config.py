"""The app's server settings: no stack traces for users, localhost by default, XSRF on.

Read by Streamlit's own config loader from the repository's ``.streamlit/config.toml``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def options(monkeypatch):
    from streamlit import config

    monkeypatch.chdir(ROOT)  # Streamlit reads ./.streamlit/config.toml
    for name in list(os.environ):
        if name.startswith("STREAMLIT_"):
            monkeypatch.delenv(name)
    config.get_config_options(force_reparse=True)
    yield config.get_option
    config.get_config_options(force_reparse=True)


def test_users_never_see_a_stack_trace(options):
    from streamlit.config import ShowErrorDetailsConfigOptions

    assert options("client.showErrorDetails") == ShowErrorDetailsConfigOptions.NONE.value


def test_server_listens_on_localhost_with_xsrf_protection(options):
    assert options("server.address") in ("localhost", "127.0.0.1")
    assert options("server.enableXsrfProtection") is True
    assert options("server.enableCORS") is True
