"""Every page ends its run with the end-of-run marker the browser journey waits on, also when
it stops early: its last statement is components.page_done(<its name>), and it stops only
through components.stop / components.need (which write the marker first)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PAGES = sorted((Path(__file__).resolve().parents[2] / "app_pages").glob("*.py"))


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_page_writes_the_marker_last_and_never_stops_without_it(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    last = tree.body[-1]
    assert isinstance(last, ast.Expr) and isinstance(last.value, ast.Call), path.name
    assert ast.unparse(last.value) == f"components.page_done('{path.stem}')", path.name
    bare = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call)
            and ast.unparse(n.func) == "st.stop"]
    assert not bare, f"{path.name}: st.stop() at lines {bare}; use components.stop()"


def test_there_are_pages():
    assert len(PAGES) >= 6
