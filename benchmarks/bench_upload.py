"""Peak memory of uploading a CSV in the app: the real server, a real browser, then step by step.

1. **The app.** Starts ``streamlit run app.py``, opens the Data page in Debian's chromium
   (Playwright), resets the server process's peak resident size (``/proc/PID/clear_refs``), uploads
   the CSV with the file picker and waits until a script run that started after the upload has
   finished and drawn the page (the end-of-run marker every page writes last). The server's
   ``VmHWM`` then is the peak of everything the upload cost: Streamlit receiving and holding the
   bytes, taking them over (fingerprint, compressed copy), parsing, caching, the personal-data
   check and the Data page drawn from the frame. ``VmHWM`` is the kernel's own high-water mark
   of the process's resident size, so no peak between samples is missed; it is read once the
   page is drawn and again two seconds later (work still under way would raise it).
   Reported above the server's resident size just before the upload, and as a multiple of the
   file's size.
2. **The steps**, in a fresh child process that runs what the app runs in the same order, with
   the peak reset before each step: the file's bytes held (as Streamlit holds an upload),
   taken over by the Data page (``ui.loaders.take_upload``: fingerprinted and compressed,
   then the bytes are let go), read through the app's cached reader (``ui.cache.read_upload``,
   from the compressed copy), the personal-data check, the role guesses the Data page makes. Each line gives the step's peak and what stays resident after it, above the child's
   size after its imports.

Memory is in MB of 10**6 bytes, like the file's size.

The CSV is the loan-like table of ``bench_table_memory.py`` (text and numbers, ~57 bytes a row).

    python benchmarks/bench_upload.py [--rows 1650000] [--steps-only]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from bench_app import CHROMIUM_ARGS, ROOT, _server, _step
from bench_table_memory import make_csv


def _status(pid: int | str, key: str) -> float:
    """A ``/proc/PID/status`` memory field (kB there), in MB (10**6 bytes, as the file size)."""
    text = Path(f"/proc/{pid}/status").read_text()
    return int(text.split(key + ":")[1].split()[0]) * 1024 / 1e6


def _reset_peak(pid: int | str) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS


def measure_app(path: Path) -> tuple[float, float, float]:
    """(resident before the upload, peak during it, resident after), in MB, of the server."""
    from playwright.sync_api import sync_playwright

    # this checkout's code, not an installed faircard
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                             os.environ.get("PYTHONPATH")]))
    proc, url = _server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(600_000)
            page.goto(url)
            page.wait_for_selector('[data-testid="fc-page-done"]', state="attached")
            time.sleep(1.0)  # let the first run's garbage go
            before = _status(proc.pid, "VmRSS")
            _reset_peak(proc.pid)
            upload = page.locator('input[type="file"]').first
            _step(page, {}, {}, "upload", lambda: upload.set_input_files(str(path)))
            page.get_by_text("Column roles").first.wait_for()
            drawn = _status(proc.pid, "VmHWM")
            time.sleep(2.0)
            peak, after = _status(proc.pid, "VmHWM"), _status(proc.pid, "VmRSS")
            if peak > drawn:
                print(f"(the peak rose by {peak - drawn:.0f} MB after the page was drawn)")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return before, peak, after


STEPS = textwrap.dedent("""
    import sys, time
    from pathlib import Path

    import streamlit  # noqa: F401  (imported by the app before any upload)
    from faircard.privacy import detect_personal_data
    from faircard.roles import guess_prediction, guess_target, score_candidates
    from faircard.io import fingerprint
    from faircard.io.held import HeldBytes
    from faircard.ui import cache

    def status(key):  # MB (10**6 bytes)
        return int(open("/proc/self/status").read().split(key + ":")[1].split()[0]) * 1024 / 1e6

    base = status("VmRSS")
    held = {}

    def step(name, fn):
        open("/proc/self/clear_refs", "w").write("5")
        t0 = time.perf_counter()
        held[name] = fn()
        secs = time.perf_counter() - t0
        print(f"{name}|{status('VmHWM') - base:.0f}|{status('VmRSS') - base:.0f}|{secs:.2f}",
              flush=True)

    step("bytes held (as Streamlit holds the upload)", lambda: Path(sys.argv[1]).read_bytes())
    raw = held.pop("bytes held (as Streamlit holds the upload)")
    step("taken: fingerprint, compressed copy (ui.loaders.take_upload)",
         lambda: (fingerprint(raw), HeldBytes(raw)))
    digest, kept = held["taken: fingerprint, compressed copy (ui.loaders.take_upload)"]
    del raw  # Streamlit lets the bytes go (the upload manager and the widget's state)
    step("read from the compressed copy (ui.cache.read_upload)",
         lambda: cache.read_upload(digest, kept, "upload.csv").frame)
    df = held["read from the compressed copy (ui.cache.read_upload)"]
    step("personal-data check", lambda: detect_personal_data(df))
    step("role guesses (Data page)",
         lambda: (guess_target(df), score_candidates(df), guess_prediction(df, None)))
""")


def measure_steps(path: Path) -> list[tuple[str, float, float, float]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", STEPS, str(path)],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    rows = []
    for line in out.stdout.splitlines():
        if line.count("|") == 3:
            name, peak, after, secs = line.split("|")
            rows.append((name, float(peak), float(after), float(secs)))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_650_000)
    ap.add_argument("--steps-only", action="store_true", help="skip the browser measurement")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.csv"
        make_csv(path, args.rows)
        size = path.stat().st_size / 1e6
        load = os.getloadavg()[0]
        print(f"CSV: {args.rows:,} rows x 9 columns, {size:.1f} MB; load average {load:.1f}")
        print("| step (child process) | peak above imports | resident after | peak / size "
              "| time |")
        print("|---|---:|---:|---:|---:|")
        for name, peak, after, secs in measure_steps(path):
            print(f"| {name} | {peak:.0f} MB | {after:.0f} MB | {peak / size:.2f}x | {secs:.2f} s |")
        if not args.steps_only:
            before, peak, after = measure_app(path)
            print(f"\nThe app (streamlit server, chromium upload), load average "
                  f"{os.getloadavg()[0]:.1f}: resident {before:.0f} MB before the upload, peak "
                  f"{peak:.0f} MB, {after:.0f} MB after; the upload cost a peak of "
                  f"{peak - before:.0f} MB = {(peak - before) / size:.2f}x the file's size.")


if __name__ == "__main__":
    main()
