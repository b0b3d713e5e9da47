"""A real faircard server and a real browser (Debian's chromium) for journey tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def run_app(base: Path, *options: str, app_args: tuple[str, ...] = (), port: int | None = None):
    """``streamlit run app.py`` on ``port`` (default: a free one) of localhost with its own audit
    store in ``base`` and extra Streamlit ``options``; yields its URL and stops it afterwards."""
    port = port or _free_port()
    store = base / "audit.db"
    log = (base / "streamlit.log").open("wb")  # read it when the server misbehaves
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false", *options,
         *(["--", *app_args] if app_args else [])],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "FAIRCARD_STORE": str(store)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("streamlit did not start within 60 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """``streamlit run app.py`` on a free localhost port, with its own audit store; yields its
    URL."""
    with run_app(tmp_path_factory.mktemp("server")) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(server)
    pg.wait_for_selector(SENTINEL, state="attached")
    yield pg
    context.close()


def screenshot_dir(tmp_path: Path) -> Path:
    """Where journey screenshots go: FAIRCARD_SCREENSHOT_DIR (e.g. docs/) or a temp dir."""
    d = Path(os.environ.get("FAIRCARD_SCREENSHOT_DIR") or tmp_path)
    d.mkdir(parents=True, exist_ok=True)
    return d


SENTINEL = '[data-testid="fc-page-done"]'
_LATEST_RUN = """() => Math.max(0, ...[...document.querySelectorAll('[data-testid="fc-page-done"]')]
                                   .map(e => Number(e.dataset.run)))"""
# An element whose code is still loading (Streamlit loads each widget's code on first use) is a
# skeleton: the marker can be on screen before it, so a finished run also means none is left.
_DONE_AFTER = """([run, page]) => [...document.querySelectorAll('[data-testid="fc-page-done"]')]
    .some(e => Number(e.dataset.run) > run && (!page || e.dataset.page === page))
    && !document.querySelector('[data-testid="stSkeleton"]')"""


def latest_run(page) -> int:
    """Number of the newest finished script run whose end-of-run marker is on screen."""
    return int(page.evaluate(_LATEST_RUN))


class Runs:
    """Waits for the app: every page writes an end-of-run marker last (components.page_done)
    carrying the number of its run; after an action, wait for the marker of a run that began
    after it, then check that the run raised no exception."""

    def __init__(self, page, timeout_ms: int = 90_000):
        self.page = page
        self.timeout_ms = timeout_ms
        self.last = 0

    def settle(self, page_name: str = "", after: int | None = None) -> int:
        """Wait for a finished run numbered above ``after`` (default: the last one seen)."""
        after = self.last if after is None else after
        self.page.wait_for_function(_DONE_AFTER, arg=[after, page_name],
                                    timeout=self.timeout_ms)
        self.last = latest_run(self.page)
        errors = self.page.locator('[data-testid="stException"]')
        assert errors.count() == 0, errors.first.inner_text()
        return self.last

    def act(self, action, page_name: str = "") -> int:
        """Do ``action`` (a callable), then wait for a run that started after it."""
        before = latest_run(self.page)
        action()
        return self.settle(page_name, after=before)


def grid_rows(frame) -> list[list[str]]:
    """The cells of an st.dataframe (a locator of one stDataFrame), row by row with the header
    first, read from the grid's accessible table rather than its canvas."""
    grid = frame.locator("[role=grid]")
    grid.wait_for(state="attached")
    return grid.evaluate("""g => [...g.querySelectorAll('[role=row]')].map(
        r => [...r.querySelectorAll('[role=columnheader],[role=gridcell]')].map(
            c => c.textContent.trim()))""")
