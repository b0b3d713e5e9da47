"""``python -m faircard`` runs the same command line as the installed ``faircard`` script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-m", "faircard", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_python_dash_m_faircard_prints_the_commands():
    done = _run("--help")
    assert done.returncode == 0, done.stderr
    for command in ("assess", "thresholds", "card", "gate"):
        assert command in done.stdout


def test_python_dash_m_faircard_exits_with_the_commands_status():
    done = _run("assess", "no-such-file.csv", "--target", "y", "--sensitive", "g",
                "--score", "s")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "no-such-file.csv" in done.stderr + done.stdout
