"""Rendering in a child process under limits a parent inherited: a process started with a
lower hard CPU-time or memory limit (``ulimit -t``, a CI job, a batch scheduler) cannot raise
it, and the renderer's child must keep the lower limit instead of failing every chart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")

_CHILD = """
import base64, json, resource, sys
resource.setrlimit(resource.RLIMIT_CPU, (200, 201))
resource.setrlimit(resource.RLIMIT_DATA, (2500 << 20, 2500 << 20))
sys.path.insert(0, sys.argv[1])
from faircard.render_worker import run_job
spec = {"data": {"values": [{"x": 1, "y": 2}]}, "mark": "point",
        "encoding": {"x": {"field": "x", "type": "quantitative"},
                     "y": {"field": "y", "type": "quantitative"}}}
png = base64.b64decode(run_job("charts", {"specs": [spec], "scale": 1})["png"][0])
print(json.dumps({"png": png[:8].hex()}))
"""


def test_charts_render_under_lower_inherited_hard_limits():
    # the child asks for a CPU limit of timeout + 1 s (601 s) and 3,072 MB by default
    proc = subprocess.run([sys.executable, "-c", _CHILD, SRC], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["png"] == b"\x89PNG\r\n\x1a\n".hex()
