"""Native renderers and user templates in a child process.

The chart renderer (vl-convert, Rust) aborts the whole process on some inputs, WeasyPrint is a
large native stack, and a user's template can loop or allocate without bound. Each runs here in a
short-lived child (``python -I``, a minimal environment, CPU-time and memory limits, a wall-clock
timeout); a crash, signal or timeout comes back as a :class:`FaircardError` and the server keeps
serving. Jobs and results travel as JSON over stdin/stdout.

Cost (benchmarks/bench_render.py, a card with 3 charts and its PDF, both paths in the same run
on a loaded 2-core machine): 6.0 s in children against 2.6 s in-process (x2.3); each child pays
for a fresh interpreter, the renderer's import and its start-up (the chart renderer's JavaScript
engine, WeasyPrint's fonts).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

TIMEOUT_S = float(os.environ.get("FAIRCARD_RENDER_TIMEOUT", "600"))
"""Wall-clock limit of one rendering job (seconds); FAIRCARD_RENDER_TIMEOUT overrides it."""
MEMORY_MB = int(os.environ.get("FAIRCARD_RENDER_MEMORY_MB", "3072"))
"""Data-segment limit of the child (MB); FAIRCARD_RENDER_MEMORY_MB overrides it."""

_WHAT = {"charts": "the chart renderer", "pdf": "the PDF renderer",
         "template": "the template"}
_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "XDG_CACHE_HOME",
             "FONTCONFIG_FILE", "FONTCONFIG_PATH")
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])
# the child loads this file alone (importing the faircard package would cost pandas and
# scikit-learn); only template jobs import faircard, from the same source tree as the parent
_BOOT = ("import sys, importlib.util as u; sys.path.insert(0, sys.argv[1]); "
         "s = u.spec_from_file_location('faircard_render_child', sys.argv[2]); "
         "m = u.module_from_spec(s); s.loader.exec_module(m); sys.exit(m.child_main())")


def run_job(kind: str, payload: dict[str, Any], *, timeout_s: float | None = None,
            memory_mb: int | None = None) -> dict[str, Any]:
    """Run one job (``charts``, ``pdf`` or ``template``) in a child; its JSON result.

    Raises FaircardError naming what happened when the child fails, crashes or runs out of
    time or memory."""
    from .errors import FaircardError

    timeout_s = TIMEOUT_S if timeout_s is None else timeout_s
    memory_mb = MEMORY_MB if memory_mb is None else memory_mb
    what = _WHAT[kind]
    job = json.dumps({"kind": kind, "payload": payload, "cpu_s": int(timeout_s) + 1,
                      "memory_mb": memory_mb}, ensure_ascii=True)
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    try:
        proc = subprocess.run([sys.executable, "-I", "-c", _BOOT, _PACKAGE_ROOT, __file__],
                              input=job.encode("ascii"), capture_output=True,
                              timeout=timeout_s, env=env, close_fds=True)
    except subprocess.TimeoutExpired:
        raise FaircardError(f"{what.capitalize()} did not finish within {timeout_s:g} seconds "
                            "and was stopped.") from None
    if proc.returncode < 0:
        raise FaircardError(f"{what.capitalize()} crashed (signal {-proc.returncode}); the "
                            "card's text may hold something it cannot draw.")
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise FaircardError(f"{what.capitalize()} failed (exit {proc.returncode}: "
                            f"{detail[0][:300]}).") from None
    if "error" in result:
        raise FaircardError(result["error"])
    return result


# ---------------------------------------------------------------- child side


def child_main() -> int:
    job = json.loads(sys.stdin.buffer.read())
    _limit(job["cpu_s"], job["memory_mb"])
    kind = job["kind"]
    try:
        result = _TASKS[kind](job["payload"])
    except MemoryError:
        result = {"error": f"{_WHAT[kind].capitalize()} ran out of memory "
                           f"(limit {job['memory_mb']:,} MB)."}
    except RecursionError:
        result = {"error": f"{_WHAT[kind].capitalize()} nested too deeply."}
    except Exception as exc:  # a renderer's own failure, reported as one line
        result = {"error": f"{_WHAT[kind].capitalize()} failed: {type(exc).__name__}: "
                           f"{' '.join(str(exc).split())[:300]}"}
    sys.stdout.write(json.dumps(result, ensure_ascii=True))
    return 0


def _limit(cpu_s: int, memory_mb: int) -> None:
    import resource

    def lower(which: int, soft: int, hard: int) -> None:
        # a process may not raise a hard limit it inherited (ulimit -t, a CI job's limits):
        # keep the inherited one where it is lower, rather than fail every job
        _, inherited = resource.getrlimit(which)
        if inherited != resource.RLIM_INFINITY:
            soft, hard = min(soft, inherited), min(hard, inherited)
        resource.setrlimit(which, (soft, hard))

    lower(resource.RLIMIT_CPU, cpu_s, cpu_s + 1)
    # RLIMIT_DATA, not RLIMIT_AS: the chart renderer's JavaScript engine reserves large
    # address ranges it never touches
    limit = memory_mb * 1024 * 1024
    lower(resource.RLIMIT_DATA, limit, limit)


def _charts(payload: dict[str, Any]) -> dict[str, Any]:
    import vl_convert as vlc

    return {"png": [base64.b64encode(vlc.vegalite_to_png(spec, scale=payload["scale"])).decode()
                    for spec in payload["specs"]]}


PDF_SYSTEM_PACKAGES = (
    "PDF export needs the Pango text library, which this machine lacks: on Debian/Ubuntu "
    "install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 (apt-get install), on macOS "
    "pango (brew install pango); Markdown, HTML and JSON work without it."
)


def _pdf(payload: dict[str, Any]) -> dict[str, Any]:
    try:
        from weasyprint import HTML
    except ImportError:
        return {"error": "PDF export needs WeasyPrint, which is part of faircard's install: "
                         "pip install faircard (or pip install weasyprint)."}
    except OSError:  # WeasyPrint is there but cannot load Pango's shared libraries
        return {"error": PDF_SYSTEM_PACKAGES}
    pdf = HTML(string=payload["html"], url_fetcher=data_only_fetcher()).write_pdf()
    return {"pdf": base64.b64encode(pdf).decode()}


def data_only_fetcher():
    """A WeasyPrint URL fetcher that allows only ``data:`` URIs (no network, no files)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=["data"])


def _template(payload: dict[str, Any]) -> dict[str, Any]:
    from faircard.errors import FaircardError
    from faircard.render import render_template

    try:
        return {"text": render_template(payload["dir"], payload["name"], payload["context"])}
    except FaircardError as exc:
        return {"error": str(exc)}


_TASKS = {"charts": _charts, "pdf": _pdf, "template": _template}
