"""How the app feels with a big file: wall times in a real browser, every widget of every page.

Starts ``streamlit run app.py`` on a free port (with a fresh audit store), drives Debian's
chromium with Playwright and times each step:

    python benchmarks/bench_app.py [--by-path] [--trace] [ROWS ...]     (default: 1000000)

``--by-path``: the rows are a Parquet file in a folder the server allows (FAIRCARD_DATA_DIRS),
opened on the Data page by its path and counted by DuckDB, instead of an uploaded CSV.
``--trace``: after each step, what the server sent meanwhile (see :class:`Trace`) and the
wall and CPU time of the server's script runs for it and when the last one ended (logged by
``_server_clock``), and the CPU time of the browser's processes from the action to the end of
the clock (which, unlike the time its main thread was busy, does not grow while it waits for a
core); the table then gives them next to each step's wall time.

The clock of a step starts just before the action that changes something (a click on a link,
button, radio option, checkbox, toggle or expander, the key that commits a widget's new value,
a file) and stops when a script run that started after the action has finished and the page is
drawn. Opening a drop-down and typing into it change nothing on the server, so a choice is
timed from its Enter key, a text or number from the Enter (Ctrl+Enter in a text area) that
commits it, a slider from its arrow key (focused before), a click from the press of the mouse
on an element found ready for it before (see :class:`_Click`). Every page writes an end-of-run
marker last (``components.page_done``), carrying the number of its run, and so does a part of
a page that reruns alone (``components.fragment``, with the next run number). A step waits for
a marker numbered above the newest one on screen before the action, and for the browser to have
received the end of the run (Streamlit's ``script_finished`` message, read from the script
state on the app's root element, ``data-test-script-state="notRunning"``; only then does the
browser remove what the run no longer shows), then for two animation frames. Streamlit's status
widget is not used: it only appears after 500 ms of running. With ``--trace`` each step's line
starts with "whole run timed" when the server's last ``script_finished`` message of the step
arrived before the clock stopped (waiting for the marker alone, one run at 1e7 rows stopped
the clock of opening Thresholds before that message had arrived).

Steps, each with its kind (``widget``: a widget change on the page shown, which should take
under 300 ms; ``page``: opening a page; ``count``: a change that reads rows not counted yet;
``action``: recording or exporting, whose work is the point):
- Data & model: open (or upload) the dataset; favourable / adverse; the positive outcome; where
  the decisions come from; the score column; the decision threshold (each changed and back).
- Sensitive features: the first count; the chart's feature; the minimum group size; the
  intersections; later the reference group, dropping a feature and adding it back (from the
  counts), adding ``tenure_years`` (a numeric column counted for the first time, offered with
  bands), editing its band edges (by path from the counts of its values; an upload's rows are
  banded again) and dropping it (from the counts).
- Disparities: add a metric, the groups shown, remove the metric; open it with a new reference.
- Diagnostics (by path only: it says that it needs the rows; an upload would run them).
- Thresholds: the slider, the constraint, the groups shown, the objective, the tolerance, the
  randomised and all-or-nothing toggles, both costs and the volume, the confusion matrices and
  the trade-off expanders (opened and closed), "Use this policy" and the single threshold back.
  (The ROC curve has no control; its CSV and the policy's downloads are made on click and
  rerun nothing.)
- Model card: a text field, a text area, leaving small groups out; preparing HTML and PDF
  (Markdown and JSON are made with the page).
- Governance (no sign-in configured): record the assessment as a draft, verify the store.
Each line gives the runs that the step waited for.
"""
from __future__ import annotations

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


def _server(data_dir: Path | None = None, runs: Path | None = None, store: Path | None = None):
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
             **({"FAIRCARD_BENCH_RUNS": str(runs)} if runs else {}),
             # the Governance page's audit store: a fresh one, never the checkout's
             **({"FAIRCARD_STORE": str(store)} if store else {})})
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
# a marker of a run numbered above ``run`` is drawn, the browser has received the end of that
# run (Streamlit's script state on its root element: "notRunning" once the run's
# script_finished message arrived, which is when the browser also removes what the run no
# longer shows), and no widget's code is still loading
_DONE_AFTER = """(run) => [...document.querySelectorAll('[data-testid="fc-page-done"]')]
    .some(e => Number(e.dataset.run) > run)
    && document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState === "notRunning"
    && !document.querySelector('[data-testid="stSkeleton"]')"""
_TWO_FRAMES = """() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"""


_BUSY = {"TaskDuration": "all", "ScriptDuration": "script", "LayoutDuration": "layout",
         "RecalcStyleDuration": "style"}


def _browser_cpu() -> float:
    """CPU time (s, user + system) of the chromium processes this process started (through
    Playwright's driver): unlike the main thread's busy time, it does not grow while the
    processes wait for a core."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    cpu: dict[int, tuple[str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # ended meanwhile
            continue
        name, fields = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
        cpu[int(entry)] = (name, (int(fields[11]) + int(fields[12])) / tick)
    total, todo = 0.0, [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            name, seconds = cpu[child]
            total += seconds if name.startswith(("chrom", "headless")) else 0.0
            todo.append(child)
    return total


def _latest_run(page) -> int:
    return int(page.evaluate(_LATEST_RUN))


class Trace:
    """With ``--trace``: the messages the server sent during each step (Streamlit's
    ForwardMsg frames), to tell the server's time from the browser's: when the browser sent
    its first message of the step (the widget's new value), when the server's first and
    the last message (the end of the script run) arrived, when the server's script ended
    (a run's end that arrives long after it was held by the server), how many bytes, and which
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
                e => e.duration))).observe({type: "longtask", buffered: true});
            window.__fcInput = [];
            for (const kind of ["pointerdown", "keydown"])
                addEventListener(kind, e => window.__fcInput.push(e.timeStamp
                    + performance.timeOrigin), {capture: true});""")

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

    def _server_runs(self) -> list[tuple[float, float, float]]:
        """(wall, CPU, end) of each script run the server has finished, in order (s; the end
        on ``time.perf_counter``'s clock, the system's monotonic one in both processes)."""
        if self.runs is None or not self.runs.exists():
            return []
        return [tuple(map(float, line.split())) for line in self.runs.read_text().splitlines()]

    def mark(self) -> tuple:
        return (len(self.frames), int(self.page.evaluate("window.__fcLong.length")),
                len(self.sent), self._busy(), len(self._server_runs()),
                _browser_cpu(),
                int(self.page.evaluate("window.__fcInput.length")))

    def summary(self, start: tuple, t0: float, epoch0: float,
                total: float) -> tuple[str, tuple]:
        """The step's line, and the server's script (wall, CPU) and the browser's CPU in it
        (s). ``t0`` is the step's start on ``time.perf_counter``, ``epoch0`` on
        ``time.time``."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        browser = _browser_cpu()
        start, long_start, sent_start, busy_start, runs_start, cpu_start, input_start = start
        browser -= cpu_start
        # the first key or pointer press the page saw after the clock started (its own
        # timestamp, on the wall clock like ``epoch0``): a click reaches the page only once
        # Playwright has checked that the element is ready for it
        pressed = self.page.evaluate(f"window.__fcInput.slice({input_start})")
        pressed = f"{pressed[0] / 1e3 - epoch0:.2f}" if pressed else "-"
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
        wall, cpu = sum(r[0] for r in runs), sum(r[1] for r in runs)
        # when the last script run ended on the server: a run's end reaching the browser
        # long after it means the server held its last messages (or the network did)
        ended = f", ended {runs[-1][2] - t0:.2f} s" if runs else ""
        script = (f"server script {len(runs)} run(s): wall {wall:.3f} s, CPU {cpu:.3f} s"
                  f"{ended}; browser CPU {browser:.3f} s; ")
        # the check that the clock waits for the whole run: the server's end-of-run message
        # (the last of its runs for the step) arrived before the clock stopped
        whole = ("whole run timed" if finished is not None and finished <= total
                 else "CLOCK STOPPED BEFORE THE RUN'S END")
        return (f"{whole}; input at {pressed} s, request sent {asked} s, first message {first} s, run finished "
                f"{end} s, drawn {total:.2f} s; {script}browser busy (s): {main}; "
                f"long tasks {len(busy)}, {sum(busy) / 1e3:.2f} s; "
                f"{len(frames)} messages, {size / 1e3:.0f} kB: {parts}"), (wall, cpu, browser)


def _step(page, times: dict, runs: dict, name: str, action, prepare=None,
          trace: Trace | None = None, script: dict | None = None) -> None:
    """Time ``action`` until a run that began after it has finished and the page is drawn.
    ``prepare`` (opening a drop-down, typing, focusing) runs before the clock starts. With
    ``trace``, ``script[name]`` gets the server's script (wall, CPU) and the browser's CPU for
    the step."""
    for get_ready in (prepare, getattr(action, "prepare", None)):
        if get_ready is not None:
            get_ready()
    before = _latest_run(page)
    start = trace.mark() if trace else None
    t0, epoch0 = time.perf_counter(), time.time()
    action()
    page.wait_for_function(_DONE_AFTER, arg=before, polling="raf",
                           timeout=int(os.environ.get("BENCH_TIMEOUT_MS", "600000")))
    page.evaluate(_TWO_FRAMES)
    times[name] = time.perf_counter() - t0
    runs[name] = (before, _latest_run(page))
    if trace is not None:
        text, server = trace.summary(start, t0, epoch0, times[name])
        if script is not None:
            script[name] = server
        print(f"  {name}: {text}", flush=True)
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        raise SystemExit(f"{name}: the app raised {errors.first.inner_text()[:300]}")


# the texts of the options a drop-down's list shows now, and which one is highlighted
_OPTIONS = """() => { const o = [...document.querySelectorAll('[role="option"]')];
    return [o.map(e => e.innerText.trim()), o.findIndex(e => e.dataset.focused === "true")]; }"""


def _choose(page, label: str, option: str) -> dict:
    """Open the drop-down ``label`` and type ``option`` (not timed); Enter chooses it: the
    option of that text, or else the only one containing it. The list filtered by the text
    must highlight that option, not another one containing the text ("balanced accuracy" for
    "accuracy"): Enter on the value already chosen would change nothing, no run would come
    and the step would wait until its timeout."""
    def prepare():
        page.keyboard.press("Escape")  # a multiselect's list stays open after a choice
        box = page.get_by_role("combobox", name=label)
        box.click()
        box.fill(option)
        for _ in range(100):
            texts, lit = page.evaluate(_OPTIONS)
            wanted = ([i for i, t in enumerate(texts) if t == option]
                      or [i for i, t in enumerate(texts) if option in t])
            if len(wanted) == 1 and lit >= 0:
                break
            time.sleep(0.02)
        else:
            raise SystemExit(f"{label}: no one option {option!r} highlighted in {texts}")
        for _ in range(abs(wanted[0] - lit)):
            page.keyboard.press("ArrowDown" if wanted[0] > lit else "ArrowUp")
        if page.evaluate(_OPTIONS)[1] != wanted[0]:
            raise SystemExit(f"{label}: {option!r} could not be highlighted in {texts}")
    return {"prepare": prepare, "action": lambda: page.keyboard.press("Enter")}


def _type(page, label: str, value: str, commit: str = "Enter", exact: bool = True) -> dict:
    """Type ``value`` into the text or number input ``label`` (the start of it when not
    ``exact``; not timed: typing sends nothing); the key that commits it (Enter, or
    Control+Enter in a text area) is timed."""
    def prepare():
        box = page.get_by_label(label, exact=exact).first
        box.fill(value)
    return {"prepare": prepare, "action": lambda: page.keyboard.press(commit)}


class _Click:
    """A click on the element ``locate()`` finds. Its ``prepare`` (not timed) finds it,
    scrolls it into view and waits until Playwright finds it ready for a click (visible,
    stable, enabled, not covered): a user sees what they click before clicking it. On a long
    page Playwright's search by role and its scrolling took up to 0.35 s, and its checks
    inside ``click()`` put the press 0.02-0.10 s after the clock's start, while a key press
    reached the page at once. The timed action is the press and release of the mouse at the
    element's centre, as a user's click."""

    def __init__(self, locate):
        self.locate, self.page, self.at = locate, None, None

    def prepare(self) -> None:
        target = self.locate()
        self.page = target.page
        element = target.element_handle()
        element.scroll_into_view_if_needed()
        element.click(trial=True)  # the checks of a click, without clicking
        box = element.bounding_box()
        self.at = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    def __call__(self) -> None:
        self.page.mouse.click(*self.at)


def _click(page, text: str):
    """Click the visible text ``text``: a radio option, a checkbox's or toggle's label, an
    expander's header."""
    return _Click(lambda: page.get_by_text(text, exact=True).first)


def _link(page, name: str):
    return _Click(lambda: page.get_by_role("link", name=name))


def _nav(page, name: str):
    return _Click(lambda: page.locator('[data-testid="stSidebarNav"] a').filter(has_text=name))


def _button(page, name: str):
    return _Click(lambda: page.get_by_role("button", name=name, exact=True))


WIDGET, PAGE, COUNT, ACTION = "widget", "page", "count", "action"
"""What a step is: a widget change on the page shown (the 300 ms target), opening a page, a
widget change that reads rows never counted (a count by DuckDB), or an action whose work is
the point (recording, exporting)."""


def _rows(n: int):
    """The benchmark's rows without the prediction column, plus ``tenure_years`` (0-15): a
    numeric column that no name rule takes for a sensitive feature, offered with bands when a
    user adds it."""
    import numpy as np

    rows = make_rows(n).drop(columns=["pred"])
    rows["tenure_years"] = np.random.default_rng(1).integers(0, 16, n)
    return rows


def run(n: int, browser, url: str, workdir: Path, by_path: bool = False,
        tracing: bool = False, runs: Path | None = None) -> tuple[dict, dict, dict, dict]:
    """Time every step at ``n`` rows: (seconds per step, runs waited for per step, the kind
    of each step, the server's script (wall, CPU) and the browser's CPU per step with
    ``tracing``)."""
    path = workdir / (f"rows_{n}.parquet" if by_path else f"rows_{n}.csv")
    rows = _rows(n)
    if by_path:
        rows.to_parquet(path)
    else:
        rows.to_csv(path, index=False)
    del rows
    size_mb = path.stat().st_size / 1e6
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    trace = Trace(page, runs) if tracing else None
    page.set_default_timeout(int(os.environ.get("BENCH_TIMEOUT_MS", "600000")))
    page.goto(url)
    page.wait_for_selector('[data-testid="fc-page-done"]', state="attached")
    times: dict[str, float] = {"csv_mb": size_mb}
    runs_waited: dict = {}
    kinds: dict[str, str] = {}
    script: dict[str, tuple[float, float, float]] = {}

    def step(kind: str, name: str, action, prepare=None) -> None:
        kinds[name] = kind
        _step(page, times, runs_waited, name, action, prepare, trace, script)

    def untimed(name: str, action, prepare=None) -> None:
        _step(page, {}, {}, name, action, prepare, trace)

    if by_path:  # the Data page's "Open a large dataset on the server"
        page.get_by_text("Open a large dataset on the server").click()

        def type_path():
            page.get_by_label("Path on the server").fill(path.name)
            page.keyboard.press("Enter")
        untimed("type the path", type_path)  # not timed: the run it starts
        step(COUNT, "open by path to roles ready", _button(page, "Open"))
    else:
        upload = page.locator('input[type="file"]').first
        step(COUNT, "upload to roles ready", lambda: upload.set_input_files(str(path)))
    ready = page.get_by_text("Data and decisions are ready.").first
    if not ready.is_visible():  # the score column was not guessed: say where decisions are
        step(WIDGET, "choose the score column", _click(page, "A score column"))
        ready.wait_for(timeout=1000)

    # Data & model: every choice, then back (the Data page reads no count)
    step(WIDGET, "data: favourable -> adverse", _click(page, "adverse (e.g. flagged as high risk)"))
    step(WIDGET, "data: back to favourable", _click(page, "favourable (e.g. a loan is granted)"))
    step(WIDGET, "data: positive outcome 1 -> 0", **_choose(page, "Positive outcome", "0"))
    step(WIDGET, "data: positive outcome back to 1", **_choose(page, "Positive outcome", "1"))
    step(WIDGET, "data: decisions from a prediction column", _click(page, "A prediction column"))
    step(WIDGET, "data: back to a score column", _click(page, "A score column"))
    step(WIDGET, "data: score column -> tenure_years",
         **_choose(page, "Score column", "tenure_years"))
    step(WIDGET, "data: score column back to score", **_choose(page, "Score column", "score"))
    threshold = "Decision threshold: a score at or above it means a positive decision"
    step(WIDGET, "data: decision threshold 0.5 -> 0.55", **_type(page, threshold, "0.55"))
    step(WIDGET, "data: decision threshold back to 0.5", **_type(page, threshold, "0.5"))
    ready.wait_for(timeout=1000)

    # Sensitive features
    step(COUNT, "open Sensitive features (first count)",
         _link(page, "Next: choose sensitive features"))
    step(WIDGET, "sensitive: chart of race", **_choose(page, "Chart", "race"))
    step(WIDGET, "sensitive: minimum group size 30 -> 100",
         **_type(page, "Minimum group size to trust", "100"))
    step(WIDGET, "sensitive: minimum group size back to 30",
         **_type(page, "Minimum group size to trust", "30"))
    step(WIDGET, "sensitive: intersections on",
         _click(page, "Also compare intersections (e.g. race & sex)"))
    step(WIDGET, "sensitive: intersections off",
         _click(page, "Also compare intersections (e.g. race & sex)"))

    # Disparities
    step(PAGE, "open Disparities", _link(page, "Next: see the disparities"))
    step(WIDGET, "metric: add Precision", **_choose(page, "Metrics", "Precision"))
    page.get_by_text("Precision by sex").first.wait_for(timeout=1000)
    step(WIDGET, "disparities: groups of race", **_choose(page, "Groups of", "race"))
    step(WIDGET, "disparities: groups of sex", **_choose(page, "Groups of", "sex"))
    step(WIDGET, "metric: remove Precision",
         prepare=page.get_by_role("combobox", name="Metrics").click,
         action=lambda: page.keyboard.press("Backspace"))
    step(PAGE, "open Sensitive features", _nav(page, "Sensitive features"))
    # the other group than the reference shown (the largest group by default): choosing the
    # one shown would change nothing, and no run would come
    shown_ref = page.get_by_role("combobox", name="Reference for sex").input_value()
    other = "Male" if shown_ref == "Female" else "Female"
    step(WIDGET, "reference: sex -> the other group",
         **_choose(page, "Reference for sex", other))
    step(PAGE, "open Disparities (new reference)", _link(page, "Next: see the disparities"))
    page.get_by_text(f"reference group '{other}'").first.wait_for(timeout=1000)
    if by_path:  # an upload would run the diagnostics on its rows: not a step of this bench
        step(PAGE, "open Diagnostics (by path: says why not)", _nav(page, "Diagnostics"))

    # Thresholds
    step(PAGE, "open Thresholds (first searches)", _nav(page, "Thresholds"))
    shown = page.locator('[data-testid="stSliderThumbValue"]').first
    before = shown.inner_text()
    slide = {"prepare": lambda: page.get_by_role("slider").first.focus(),
             "action": lambda: page.keyboard.press("ArrowRight")}
    step(WIDGET, "slider: threshold one step up", **slide)
    if shown.inner_text() == before:
        raise SystemExit("the slider did not move")
    step(WIDGET, "constraint: equal opportunity (first)",
         **_choose(page, "Constraint", "equal opportunity"))
    step(WIDGET, "constraint: back to demographic parity",
         **_choose(page, "Constraint", "demographic parity"))
    step(WIDGET, "slider: another step up", **slide)
    step(WIDGET, "groups of: race (first)", **_choose(page, "Groups of", "race"))
    step(WIDGET, "groups of: back to sex", **_choose(page, "Groups of", "sex"))
    step(WIDGET, "objective: balanced accuracy", **_choose(page, "Objective", "balanced"))
    step(WIDGET, "objective: back to accuracy", **_choose(page, "Objective", "accuracy"))
    tolerance = "Tolerance (largest gap allowed)"
    step(WIDGET, "tolerance: 0.01 -> 0.02", **_type(page, tolerance, "0.02"))
    step(WIDGET, "tolerance: back to 0.01", **_type(page, tolerance, "0.01"))
    step(WIDGET, "randomised thresholds: on", _click(page, "Randomised thresholds"))
    step(WIDGET, "randomised thresholds: off", _click(page, "Randomised thresholds"))
    step(WIDGET, "all-or-nothing policies: allowed",
         _click(page, "Allow all-or-nothing policies"))
    step(WIDGET, "all-or-nothing policies: hidden", _click(page, "Allow all-or-nothing policies"))
    step(WIDGET, "cost of a false positive: 1 -> 2",
         **_type(page, "Cost of a false positive", "2", exact=False))
    step(WIDGET, "cost of a false negative: 1 -> 3",
         **_type(page, "Cost of a false negative", "3", exact=False))
    step(WIDGET, "decisions expected: 1000 -> 5000", **_type(page, "Decisions expected", "5000"))
    step(WIDGET, "confusion matrices: open", _click(page, "Confusion matrices"))
    step(WIDGET, "confusion matrices: close", _click(page, "Confusion matrices"))
    step(WIDGET, "trade-off: open (first: traces the front)",
         _click(page, "Trade-off: objective vs disparity"))
    step(WIDGET, "trade-off: close", _click(page, "Trade-off: objective vs disparity"))
    step(WIDGET, "use this policy (per group)", _button(page, "Use this policy"))
    step(WIDGET, "use the single threshold instead",
         _button(page, "Use the single threshold instead"))

    # Model card
    step(PAGE, "open Model card", _link(page, "Next: the model card"))
    step(WIDGET, "card: version (Enter)", **_type(page, "Version", "1.2"))
    step(WIDGET, "card: description (Ctrl+Enter)",
         **_type(page, "Description", "Scores loan applications.", commit="Control+Enter"))
    step(WIDGET, "card: leave small groups out",
         _click(page, "Leave groups below the minimum size out of the card"))
    step(ACTION, "card: prepare HTML and PDF", _button(page, "Prepare HTML and PDF"))

    # Governance (no sign-in configured: names are typed)
    step(PAGE, "open Governance", _link(page, "Next: record the assessment and sign it off"))
    step(ACTION, "governance: record as a draft", _button(page, "Record as a draft"),
         prepare=lambda: page.get_by_label("Your name").first.fill("Bench"))
    step(ACTION, "governance: verify the store", _button(page, "Verify the store"))

    # Sensitive features: features from the counts made, then one never counted
    step(PAGE, "open Sensitive features again", _nav(page, "Sensitive features"))
    step(WIDGET, "features: drop one (from the counts)",
         prepare=page.get_by_role("combobox", name="Sensitive features").click,
         action=lambda: page.keyboard.press("Backspace"))
    step(WIDGET, "features: add race back (from the counts)",
         **_choose(page, "Sensitive features", "race"))
    step(COUNT, "features: add tenure_years (a new count)",
         **_choose(page, "Sensitive features", "tenure_years"))
    # DuckDB counts a banded feature by its values, so that its bands change from the counts;
    # the rows of an upload are banded as they are counted, and read again for new bands
    step(*((WIDGET, "bands: tenure_years edges (from the counts)") if by_path else
           (COUNT, "bands: tenure_years edges (rows banded again)")),
         **_type(page, "Band edges (lowest first; 'inf' for open-ended)", "0, 2, 5, 10, inf"))
    step(WIDGET, "features: drop tenure_years (from the counts)",
         prepare=page.get_by_role("combobox", name="Sensitive features").click,
         action=lambda: page.keyboard.press("Backspace"))
    page.close()
    return times, runs_waited, kinds, script


def main(argv: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    by_path = "--by-path" in argv
    tracing = "--trace" in argv
    sizes = [int(float(a)) for a in argv if not a.startswith("--")] or [1_000_000]
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "server_runs.txt" if tracing else None
        proc, url = _server(Path(tmp) if by_path else None, runs,
                            store=Path(tmp) / "audit.db")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=CHROMIUM_ARGS)
                rows, waited, kinds, script = {}, {}, {}, {}
                for n in sizes:
                    rows[n], waited[n], kinds, script[n] = run(
                        n, browser, url, Path(tmp), by_path, tracing, runs)
                browser.close()
        finally:
            proc.terminate()
    for n in sizes:
        print(f"{n:,} rows: each step waited for a finished run numbered above the newest "
              "before its action: " + "; ".join(f"{k} {a}->{b}" for k, (a, b) in
                                                 waited[n].items()))
    print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the start, "
          "{:.1f} / {:.1f} / {:.1f} at the end".format(*os.getloadavg()))
    steps = [k for k in next(iter(rows.values())) if k != "csv_mb"]
    kind = "Parquet, opened by path" if by_path else "CSV"
    cpu = " (server script: wall / CPU; browser CPU)" if tracing else ""
    print("| step | kind | " + " | ".join(
        f"{n:,} rows ({rows[n]['csv_mb']:.0f} MB {kind}){cpu}" for n in sizes) + " |")
    print("|---|---|" + "---:|" * len(sizes))
    for s in steps:
        cells = []
        for n in sizes:
            cell = f"{rows[n][s]:.2f} s"
            if s in script[n]:
                cell += " ({:.3f} / {:.3f} s; {:.2f} s)".format(*script[n][s])
            cells.append(cell)
        print(f"| {s} | {kinds[s]} | " + " | ".join(cells) + " |")
    over = [s for s in steps if kinds[s] == WIDGET and any(
        rows[n][s] > 0.3 or script[n].get(s, (0, 0))[1] > 0.3 for n in sizes)]
    print(f"widget changes over 300 ms (wall or script CPU): {', '.join(over) or 'none'}")


if __name__ == "__main__":
    main(sys.argv[1:])
