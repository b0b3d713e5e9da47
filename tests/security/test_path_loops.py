"""A dataset folder on the server holding links back to itself: '**' (and a folder, read as
'folder/**/*.parquet') followed them without end (two links 'a -> .' and 'b -> .' give 2**40
paths), and so did '*/*/.../x' (3**depth). Now such a path is one sentence; a glob of the
files in one folder, and a file, still open."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from faircard.engine.paths import DATA_DIRS_ENV

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def looped(tmp_path):
    folder = tmp_path / "allowed" / "d"
    folder.mkdir(parents=True)
    pd.DataFrame({"y": [0, 1], "g": ["a", "b"]}).to_parquet(folder / "x.parquet")
    (folder / "a").symlink_to(".")
    (folder / "b").symlink_to(".")
    (folder / "inner").mkdir()
    (folder / "inner" / "up").symlink_to("..")
    return tmp_path / "allowed"


def _resolve(allowed: Path, path: str) -> str:
    """``resolve_data_path(path)`` in a child process given 60 s: what it returned, or the
    error's message (a path that never resolves fails the test instead of hanging it)."""
    code = ("import sys\nfrom faircard.engine.paths import resolve_data_path\n"
            "from faircard.errors import FaircardError\n"
            "try:\n    print('ok', resolve_data_path(sys.argv[1]))\n"
            "except FaircardError as exc:\n    print('refused', exc)\n")
    env = {**os.environ, DATA_DIRS_ENV: str(allowed), "PYTHONPATH": SRC}
    done = subprocess.run([sys.executable, "-c", code, path], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


@pytest.mark.parametrize("path", ["d/**/*.parquet", "**", "d", "d/" + "*/" * 30 + "x.parquet"])
def test_a_path_that_goes_down_links_back_up_is_one_sentence(looped, path):
    out = _resolve(looped, path)
    assert out.startswith(f"refused '{path}' reaches ")
    assert out.endswith("a link back to a folder that holds it, so the folders below it never "
                        "end. Remove the link or choose a path that does not go through it.")


@pytest.mark.parametrize("path, expected", [("d/*.parquet", "d/*.parquet"),
                                            ("d/x.parquet", "d/x.parquet")])
def test_paths_that_do_not_go_down_still_open(looped, path, expected):
    assert _resolve(looped, path) == f"ok {looped.resolve() / expected}"
