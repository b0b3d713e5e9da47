"""How the app feels with a big file: wall times in a real browser, from upload to disparities.

Starts ``streamlit run app.py`` on a free port, drives Debian's chromium with Playwright and
times each step until what the user waits for is on screen:

    python benchmarks/bench_app.py [ROWS ...]     (default: 1000000)

Steps: upload a CSV until the roles are ready; open Sensitive features until the group table
is drawn; open Disparities until the charts are drawn; add a metric until its chart appears;
change a reference group and open Disparities until the comparison names the new reference; move
the threshold slider on Thresholds until the new value is drawn and the run is finished.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _data import make_rows

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("streamlit did not start")


def _finished(page) -> None:
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=300_000)


def run(n: int, browser, url: str, workdir: Path) -> dict[str, float]:
    path = workdir / f"rows_{n}.csv"
    make_rows(n).drop(columns=["pred"]).to_csv(path, index=False)
    size_mb = path.stat().st_size / 1e6
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(120_000)
    page.goto(url)
    page.get_by_text("Data & model").first.wait_for()
    times: dict[str, float] = {"csv_mb": size_mb}

    t0 = time.perf_counter()
    page.locator('input[type="file"]').first.set_input_files(str(path))
    page.get_by_text(path.name).first.wait_for()
    page.get_by_text("A score column", exact=True).click()
    page.get_by_text("Data and decisions are ready.").first.wait_for()
    _finished(page)
    times["upload to roles ready"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    page.get_by_role("link", name="Next: choose sensitive features").click()
    page.get_by_role("heading", name="Reference groups").wait_for()
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    _finished(page)
    times["group table"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    page.get_by_role("link", name="Next: see the disparities").click()
    page.get_by_role("heading", name="Differences and ratios between groups").wait_for()
    page.locator(".vega-embed").first.wait_for()
    _finished(page)
    times["disparities"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    box = page.get_by_role("combobox", name="Metrics")
    box.click()
    box.fill("Precision")
    page.keyboard.press("Enter")
    page.get_by_text("Precision by sex").first.wait_for()
    _finished(page)
    times["add a metric"] = time.perf_counter() - t0

    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Sensitive features").click()
    page.get_by_role("heading", name="Reference groups").wait_for()
    _finished(page)
    t0 = time.perf_counter()
    ref = page.get_by_role("combobox", name="Reference for sex")
    ref.click()
    ref.fill("Female")
    page.keyboard.press("Enter")
    _finished(page)
    page.get_by_role("link", name="Next: see the disparities").click()
    page.get_by_text("reference group 'Female'").first.wait_for()
    _finished(page)
    times["new reference, disparities"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    page.get_by_role("link", name="Next: thresholds").click()
    page.get_by_role("heading", name="One threshold for everyone").wait_for()
    _finished(page)
    times["thresholds page"] = time.perf_counter() - t0

    shown = page.locator('[data-testid="stSliderThumbValue"]').first
    before = shown.inner_text()
    t0 = time.perf_counter()
    page.get_by_role("slider").first.focus()
    page.keyboard.press("ArrowRight")
    while shown.inner_text() == before:
        time.sleep(0.01)
    page.wait_for_timeout(50)
    _finished(page)
    times["move the threshold"] = time.perf_counter() - t0
    page.close()
    return times


def main(argv: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    sizes = [int(float(a)) for a in argv] or [1_000_000]
    proc, url = _server()
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            rows = {n: run(n, browser, url, Path(tmp)) for n in sizes}
            browser.close()
    finally:
        proc.terminate()
    steps = [k for k in next(iter(rows.values())) if k != "csv_mb"]
    print("| step | " + " | ".join(f"{n:,} rows ({rows[n]['csv_mb']:.0f} MB CSV)" for n in sizes)
          + " |")
    print("|---|" + "---:|" * len(sizes))
    for s in steps:
        print(f"| {s} | " + " | ".join(f"{rows[n][s]:.2f} s" for n in sizes) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
