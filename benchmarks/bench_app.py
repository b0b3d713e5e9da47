"""How the app feels with a big file: wall times in a real browser, from upload to thresholds.

Starts ``streamlit run app.py`` on a free port, drives Debian's chromium with Playwright and
times each step:

    python benchmarks/bench_app.py [--by-path] [--trace] [ROWS ...]     (default: 1000000)

``--by-path``: the rows are a Parquet file in a folder the server allows (FAIRCARD_DATA_DIRS),
opened on the Data page by its path and counted by DuckDB, instead of an uploaded CSV.
``--trace``: after each step, what the server sent meanwhile (see :class:`Trace`) and the
wall and CPU time of the server's script runs for it (logged by ``_server_clock``).

The clock of a step starts just before the action that changes something (a click on a link
or button, the key that commits a widget's new value, a file) and stops when a script run that
started after the action has finished and the page is drawn. Opening a drop-down and typing
into it change nothing on the server, so a choice is timed from its Enter key, a slider from
its arrow key (focused before). Every page writes an end-of-run marker last
(``components.page_done``), carrying the number of its run, and so does a part of a page that
reruns alone (``components.fragment``, with the next run number), so a step waits for a
marker numbered above the newest one on screen before the action, then for two animation
frames. Streamlit's status widget is not used: it only appears after 500 ms of running.

Steps: upload a CSV until the roles are ready; open Sensitive features (first count); open
Disparities; add a metric; change a reference group; open Disparities again; open Thresholds
(first searches); move the threshold slider; change the constraint; change it back; show the
thresholds of another feature; go back to the first; drop a sensitive feature on Sensitive
features (derived from the counts made, no row read). Each line gives the runs that the step waited for.
"""

from __future__ import annotations

import functools
import os
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


def _server(data_dir: Path | None = None, runs: Path | None = None):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        env={**os.environ,
             # this checkout's faircard, not whichever one the environment has installed
             "PYTHONPATH": os.pathsep.join(filter(None, [
                 str(Path(__file__).parent / "_server_clock") if runs else None,
                 str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
             **({"FAIRCARD_DATA_DIRS": str(data_dir)} if data_dir else {}),
             **({"FAIRCARD_BENCH_RUNS": str(runs)} if runs else {})})
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("streamlit did not start")


_LATEST_RUN = """() => Math.max(0, ...[...document.querySelectorAll('[data-testid="fc-page-done"]')]
                                   .map(e => Number(e.dataset.run)))"""
_DONE_AFTER = """(run) => [...document.querySelectorAll('[data-testid="fc-page-done"]')]
    .some(e => Number(e.dataset.run) > run)
    && !document.querySelector('[data-testid="stSkeleton"]')"""  # no widget's code still loading
_TWO_FRAMES = """() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"""


_BUSY = {"TaskDuration": "all", "ScriptDuration": "script", "LayoutDuration": "layout",
         "RecalcStyleDuration": "style"}


def _latest_run(page) -> int:
    return int(page.evaluate(_LATEST_RUN))


class Trace:
    """With ``--trace``: the messages the server sent during each step (Streamlit's
    ForwardMsg frames), to tell the server's time from the browser's: when the browser sent
    its first message of the step (the widget's new value), when the server's first and
    the last message (the end of the script run) arrived, how many bytes, and which
    elements were sent (each kind with its count and bytes; a cached message re-sent by
    reference counts as ``ref``), how long the browser's main thread was busy in all
    (Chrome's own task, script, layout and style times: drawing, Vega, data grids) and in
    tasks of 50 ms or more (its long tasks)."""

    def __init__(self, page, runs: Path | None = None):
        self.page = page
        self.runs = runs
        self.frames: list[tuple[float, bytes]] = []
        self.sent: list[float] = []
        page.on("websocket", self._socket)
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Performance.enable")
        page.add_init_script("""window.__fcLong = [];
            new PerformanceObserver(l => window.__fcLong.push(...l.getEntries().map(
                e => e.duration))).observe({type: "longtask", buffered: true});""")

    def _socket(self, ws) -> None:
        ws.on("framereceived", self._received)
        ws.on("framesent", lambda payload: self.sent.append(time.perf_counter()))

    def _received(self, payload) -> None:
        if isinstance(payload, bytes):
            self.frames.append((time.perf_counter(), payload))

    def _busy(self) -> dict[str, float]:
        """Chrome's running totals of the main thread's time (s), by kind."""
        metrics = self.cdp.send("Performance.getMetrics")["metrics"]
        return {m["name"]: m["value"] for m in metrics if m["name"] in _BUSY}

    def _server_runs(self) -> list[tuple[float, float]]:
        """(wall, CPU) of each script run the server has finished, in order."""
        if self.runs is None or not self.runs.exists():
            return []
        return [tuple(map(float, line.split())) for line in self.runs.read_text().splitlines()]

    def mark(self) -> tuple:
        return (len(self.frames), int(self.page.evaluate("window.__fcLong.length")),
                len(self.sent), self._busy(), len(self._server_runs()))

    def summary(self, start: tuple, t0: float, total: float) -> str:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        start, long_start, sent_start, busy_start, runs_start = start
        for _ in range(100):  # the run logs itself as it ends, just after its last message
            runs = self._server_runs()[runs_start:]
            if runs or self.runs is None:
                break
            time.sleep(0.02)
        sent = self.sent[sent_start:]
        busy_end = self._busy()
        main = ", ".join(f"{_BUSY[k]} {busy_end[k] - busy_start[k]:.2f}" for k in _BUSY)
        busy = self.page.evaluate(f"window.__fcLong.slice({long_start})")

        kinds: dict[str, list[int]] = {}
        finished = None
        frames = self.frames[start:]
        for t, payload in frames:
            msg = ForwardMsg()
            msg.ParseFromString(payload)
            kind = msg.WhichOneof("type")
            if kind == "delta":
                d = msg.delta
                kind = d.WhichOneof("type")
                if kind == "new_element":
                    kind = d.new_element.WhichOneof("type")
            elif kind == "script_finished":
                finished = t - t0
            entry = kinds.setdefault(kind or "?", [0, 0])
            entry[0] += 1
            entry[1] += len(payload)
        size = sum(len(p) for _, p in frames)
        asked = f"{sent[0] - t0:.2f}" if sent else "-"
        first = f"{frames[0][0] - t0:.2f}" if frames else "-"
        end = f"{finished:.2f}" if finished is not None else "-"
        parts = ", ".join(f"{k} {n}x{b / 1e3:.0f}kB" for k, (n, b) in
                          sorted(kinds.items(), key=lambda kv: -kv[1][1]))
        script = (f"server script {len(runs)} run(s): wall {sum(w for w, _ in runs):.3f} s, "
                  f"CPU {sum(c for _, c in runs):.3f} s; ")
        return (f"request sent {asked} s, first message {first} s, run finished {end} s, "
                f"drawn {total:.2f} s; {script}browser busy (s): {main}; "
                f"long tasks {len(busy)}, {sum(busy) / 1e3:.2f} s; "
                f"{len(frames)} messages, {size / 1e3:.0f} kB: {parts}")


def _step(page, times: dict, runs: dict, name: str, action, prepare=None,
          trace: Trace | None = None) -> None:
    """Time ``action`` until a run that began after it has finished and the page is drawn.
    ``prepare`` (opening a drop-down, typing, focusing) runs before the clock starts."""
    if prepare is not None:
        prepare()
    before = _latest_run(page)
    start = trace.mark() if trace else None
    t0 = time.perf_counter()
    action()
    page.wait_for_function(_DONE_AFTER, arg=before, timeout=600_000, polling="raf")
    page.evaluate(_TWO_FRAMES)
    times[name] = time.perf_counter() - t0
    runs[name] = (before, _latest_run(page))
    if trace is not None:
        print(f"  {name}: {trace.summary(start, t0, times[name])}", flush=True)
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        raise SystemExit(f"{name}: the app raised {errors.first.inner_text()[:300]}")


def _choose(page, label: str, option: str) -> dict:
    """Open the drop-down ``label`` and type ``option`` (not timed); Enter chooses it."""
    def prepare():
        box = page.get_by_role("combobox", name=label)
        box.click()
        box.fill(option)
    return {"prepare": prepare, "action": lambda: page.keyboard.press("Enter")}


def _link(page, name: str):
    return lambda: page.get_by_role("link", name=name).click()


def _nav(page, name: str):
    return lambda: page.locator('[data-testid="stSidebarNav"] a').filter(has_text=name).click()


def run(n: int, browser, url: str, workdir: Path, by_path: bool = False,
        tracing: bool = False, runs: Path | None = None) -> tuple[dict[str, float], dict]:
    path = workdir / (f"rows_{n}.parquet" if by_path else f"rows_{n}.csv")
    rows = make_rows(n).drop(columns=["pred"])
    if by_path:
        rows.to_parquet(path)
    else:
        rows.to_csv(path, index=False)
    del rows
    size_mb = path.stat().st_size / 1e6
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    step = functools.partial(_step, page, trace=Trace(page, runs) if tracing else None)
    page.set_default_timeout(int(os.environ.get("BENCH_TIMEOUT_MS", "600000")))
    page.goto(url)
    page.wait_for_selector('[data-testid="fc-page-done"]', state="attached")
    times: dict[str, float] = {"csv_mb": size_mb}
    runs: dict = {}

    if by_path:  # the Data page's "Open a large dataset on the server"
        page.get_by_text("Open a large dataset on the server").click()

        def type_path():
            page.get_by_label("Path on the server").fill(path.name)
            page.keyboard.press("Enter")
        step({}, {}, "type the path", type_path)  # not timed: the run it starts
        step(times, runs, "open by path to roles ready",
              lambda: page.get_by_role("button", name="Open", exact=True).click())
    else:
        upload = page.locator('input[type="file"]').first
        step(times, runs, "upload to roles ready",
              lambda: upload.set_input_files(str(path)))
    ready = page.get_by_text("Data and decisions are ready.").first
    if not ready.is_visible():  # the score column was not guessed: say where decisions are
        step(times, runs, "choose the score column",
              lambda: page.get_by_text("A score column", exact=True).click())
        ready.wait_for(timeout=1000)

    step(times, runs, "open Sensitive features (first count)",
          _link(page, "Next: choose sensitive features"))
    step(times, runs, "open Disparities", _link(page, "Next: see the disparities"))
    step(times, runs, "metric: add Precision", **_choose(page, "Metrics", "Precision"))
    page.get_by_text("Precision by sex").first.wait_for(timeout=1000)
    step(times, runs, "open Sensitive features", _nav(page, "Sensitive features"))
    step(times, runs, "reference: sex -> Female",
          **_choose(page, "Reference for sex", "Female"))
    step(times, runs, "open Disparities (new reference)",
          _link(page, "Next: see the disparities"))
    page.get_by_text("reference group 'Female'").first.wait_for(timeout=1000)
    step(times, runs, "open Thresholds (first searches)", _link(page, "Next: thresholds"))

    shown = page.locator('[data-testid="stSliderThumbValue"]').first
    before = shown.inner_text()

    slide = {"prepare": lambda: page.get_by_role("slider").first.focus(),
             "action": lambda: page.keyboard.press("ArrowRight")}
    step(times, runs, "slider: threshold one step up", **slide)
    if shown.inner_text() == before:
        raise SystemExit("the slider did not move")
    step(times, runs, "constraint: equal opportunity (first)",
          **_choose(page, "Constraint", "equal opportunity"))
    step(times, runs, "constraint: back to demographic parity",
          **_choose(page, "Constraint", "demographic parity"))
    step(times, runs, "slider: another step up", **slide)
    step(times, runs, "groups of: race (first)", **_choose(page, "Groups of", "race"))
    step(times, runs, "groups of: back to sex", **_choose(page, "Groups of", "sex"))
    step(times, runs, "open Sensitive features again", _nav(page, "Sensitive features"))

    step(times, runs, "features: drop one (from the counts)",
          prepare=page.get_by_role("combobox", name="Sensitive features").click,
          action=lambda: page.keyboard.press("Backspace"))
    page.close()
    return times, runs


def main(argv: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    by_path = "--by-path" in argv
    tracing = "--trace" in argv
    sizes = [int(float(a)) for a in argv if not a.startswith("--")] or [1_000_000]
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "server_runs.txt" if tracing else None
        proc, url = _server(Path(tmp) if by_path else None, runs)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=CHROMIUM_ARGS)
                rows, waited = {}, {}
                for n in sizes:
                    rows[n], waited[n] = run(n, browser, url, Path(tmp), by_path, tracing,
                                             runs)
                browser.close()
        finally:
            proc.terminate()
    for n in sizes:
        print(f"{n:,} rows: each step waited for a finished run numbered above the newest "
              "before its action: " + "; ".join(f"{k} {a}->{b}" for k, (a, b) in
                                                 waited[n].items()))
    steps = [k for k in next(iter(rows.values())) if k != "csv_mb"]
    kind = "Parquet, opened by path" if by_path else "CSV"
    print("| step | " + " | ".join(f"{n:,} rows ({rows[n]['csv_mb']:.0f} MB {kind})"
                                   for n in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for s in steps:
        print(f"| {s} | " + " | ".join(f"{rows[n][s]:.2f} s" for n in sizes) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
