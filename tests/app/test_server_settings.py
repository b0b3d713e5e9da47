"""The app server's settings that decide how soon a run's last messages reach the browser.

Read by Streamlit's own config loader from the repository's ``.streamlit/config.toml``, and
checked on a real ``AppSession`` (the server's object for one browser tab).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _session_watches_sources() -> bool:
    """Whether an AppSession made under the current config watches the app's source files
    (Streamlit then looks at every loaded module after each run that imported a new one)."""
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.script_data import ScriptData
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache

    async def make() -> bool:
        session = AppSession(ScriptData(str(ROOT / "app.py")),
                             MemoryUploadedFileManager("/_stcore/upload_file"), ScriptCache(),
                             None, {})
        try:
            assert hasattr(session, "_local_sources_watcher"), \
                "Streamlit's AppSession no longer keeps its source watcher there: update this test"
            return session._local_sources_watcher is not None
        finally:
            session.shutdown()

    # in a thread of its own: a test run earlier in this process may have left an event loop
    # running in this one, where asyncio.run refuses to start
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, make()).result()


def test_no_source_watching_after_runs(server_config):
    """Turning on "Randomised thresholds" imported one module of faircard for the first time;
    Streamlit's source watcher then examined all ~2,200 loaded modules on the server's event
    loop before it sent the run's last messages (0.3-0.5 s; opening a page the first time,
    0.2-1.0 s). The repository's config turns the watcher off."""
    assert server_config.get_option("server.fileWatcherType") == "none"
    assert not _session_watches_sources()


def test_the_session_check_sees_a_watcher_when_one_is_configured(server_config):
    """The check above can fail: Streamlit's default ("auto") makes a watcher."""
    server_config.set_option("server.fileWatcherType", "auto")
    assert _session_watches_sources()
