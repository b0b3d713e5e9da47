"""PDF from the main install: WeasyPrint is a core dependency, and a machine without Pango
gets one line saying what to install instead of a traceback (library and CLI)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

import faircard
from faircard.card import build_card
from faircard.cli import main
from faircard.errors import FaircardError
from faircard.render import render_pdf
from tests.conftest import make_dataset

ROOT = Path(__file__).resolve().parents[2]


class _NoPango:
    """An import hook that fails like WeasyPrint does when Pango's libraries are missing."""

    def find_spec(self, name, path=None, target=None):
        if name == "weasyprint" or name.startswith("weasyprint."):
            raise OSError("cannot load library 'libpango-1.0-0': error 0x7e")
        return None


@pytest.fixture
def no_pango(monkeypatch):
    """WeasyPrint fails to import as without Pango; the PDF job (normally in a child process)
    runs here, where that failure is simulated, and its error ends as run_job's does."""
    from faircard import render, render_worker

    for mod in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(sys, "meta_path", [_NoPango(), *sys.meta_path])
    real = render.run_job

    def run_job(kind, payload, **kw):
        if kind != "pdf":
            return real(kind, payload, **kw)
        result = render_worker._pdf(payload)
        if "error" in result:
            raise FaircardError(result["error"])
        return result

    monkeypatch.setattr(render, "run_job", run_job)


def test_weasyprint_is_a_core_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(d.replace(" ", "").startswith("weasyprint>=") for d in project["dependencies"])
    readme = (ROOT / "README.md").read_text()
    assert "libpango-1.0-0" in readme and "brew install pango" in readme


def test_missing_pango_is_one_sentence(no_pango):
    df = make_dataset(7, n=300, n_features=1)
    card = build_card(faircard.assess(df, target="y", score="score", sensitive="sex",
                                      n_boot=0), generated_at="x", versions={})
    with pytest.raises(FaircardError) as info:
        render_pdf(card, html="<html><body>x</body></html>")
    message = str(info.value)
    assert "\n" not in message and "libpango-1.0-0" in message and "brew install pango" in message


def test_cli_writes_the_other_formats_and_says_what_is_missing(tmp_path, capsys, no_pango):
    df = make_dataset(7, n=300, n_features=1)
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    code = main(["card", str(data), "--target", "y", "--score", "score", "--sensitive", "sex",
                 "--bootstrap", "0", "--out", str(tmp_path / "card")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("faircard: error: PDF export needs")
    assert "Traceback" not in err
    for fmt in ("md", "html", "json"):
        assert (tmp_path / "card" / f"model_card.{fmt}").stat().st_size > 0
    assert not (tmp_path / "card" / "model_card.pdf").exists()
