"""Reading a hostile file in a child process with a memory limit: a reader that tries to build
something huge fails there (and the test with it), not the test run."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.app.conftest import ROOT

_CODE = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}));"
         "from faircard.io import read_table; from faircard.errors import FaircardError\n"
         "try: read_table(sys.stdin.buffer.read(), filename={name!r})\n"
         "except FaircardError as e: print('refused:', e)")


def read_in_child(raw: bytes, filename: str, memory: int = 3 << 30) -> str:
    """What ``read_table(raw, filename=filename)`` printed in a child limited to ``memory``
    bytes: 'refused: <sentence>' or nothing; fails when the child did not end normally."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.run([sys.executable, "-c", _CODE.format(limit=memory, name=filename)],
                          input=raw, capture_output=True, timeout=120, env=env)
    out = proc.stdout.decode()
    assert proc.returncode == 0, (proc.returncode, out, proc.stderr[-500:])
    return out
