"""Bidirectional controls in names (U+202E RIGHT-TO-LEFT OVERRIDE and its kin) cannot reorder
the text around them in any renderer of the card or on the app's pages.

Found: a group named 'Group \\u202eA' made the PDF draw the rest of each finding that named it
backwards ("vs 30.6% for 'Group B' (a gap of 22.3 points)" as ":(stniop 3.22 fo pag a) 'B
puorG' rof %6.03 sv"), and read as 'Group A' in the tables. The controls are now shown as
escapes (``\\u202e``) wherever a name is drawn, as other control characters are; the JSON card
keeps the name exactly."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import html5lib
import numpy as np
import pandas as pd
import pytest
from markdown_it import MarkdownIt

import faircard
from faircard.card import build_card
from faircard.charts import metric_bars
from faircard.render import render_html, render_json, render_markdown, render_pdf
from faircard.safe_text import short_labels

CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
NAME = "Group \u202eA"
SHOWN = "Group \\u202eA"  # what a reader sees


@pytest.fixture(scope="module")
def card():
    rng = np.random.default_rng(0)
    n = 2000
    group = rng.choice([NAME, "Group B"], n)
    frame = pd.DataFrame({"y": (rng.random(n) < 0.5).astype(int),
                          "score": np.clip(rng.random(n) + 0.2 * (group == "Group B"), 0, 1),
                          "g": group})
    a = faircard.assess(frame, target="y", score="score", sensitive=["g"], n_boot=0)
    return build_card(a, generated_at="2026-01-01T00:00:00+00:00", versions={"test": "1"})


def _no_controls(text: str) -> bool:
    return not set(CONTROLS) & set(text)


def test_markdown_and_html_cards_show_the_control_as_an_escape(card):
    shown = MarkdownIt("gfm-like").render(render_markdown(card))
    page = html5lib.parse(render_html(card), namespaceHTMLElements=False)
    html_text = "".join(page.itertext())
    for text in (shown, html_text):
        assert _no_controls(text)
        assert SHOWN in text


def test_json_card_keeps_the_name_exactly(card):
    assert NAME in json.dumps(json.loads(render_json(card)), ensure_ascii=False)


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_pdf_findings_keep_their_figures_in_reading_order(card, tmp_path):
    """Every percentage the Markdown findings give appears as written in the PDF's text (read
    in drawing order by pdftotext): under the override, '30.6%' was drawn '%6.03'."""
    findings = [line for line in render_markdown(card).splitlines()
                if line.startswith("- g:") and "%" in line]
    figures = {f for line in findings for f in re.findall(r"\d+(?:\.\d+)?%", line)}
    assert len(figures) >= 4
    path = tmp_path / "card.pdf"
    path.write_bytes(render_pdf(card))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout
    assert _no_controls(text)
    assert {f for f in figures if f not in text} == set()
    assert SHOWN in text


def test_chart_labels_show_the_control_as_an_escape():
    labels = short_labels([NAME, "Group A", "x\u2067y\u2069z"])
    assert labels[NAME] == SHOWN and labels["Group A"] == "Group A"
    assert all(_no_controls(v) for v in labels.values())
    bars = pd.DataFrame({"feature": "g", "metric": "selection_rate", "group": [NAME, "Group A"],
                         "value": [0.4, 0.6], "n": [10, 10],
                         "is_small_group": False, "ci_low": np.nan, "ci_high": np.nan})
    spec = metric_bars(bars, "selection_rate", "g", 0.5).to_dict()
    drawn = json.dumps(spec, ensure_ascii=False)  # axis labels and tooltips
    assert _no_controls(drawn) and SHOWN.replace("\\", "\\\\") in drawn


@pytest.mark.parametrize("control", list(CONTROLS))
def test_page_text_shows_every_bidirectional_control_as_an_escape(control):
    from faircard.ui.components import escape

    text = escape(f"the selection rate of 'a{control}b' is 30.6%")
    assert _no_controls(text)
    assert f"\\\\u{ord(control):04x}" in text  # a literal backslash, then the code
