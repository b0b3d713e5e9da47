"""Hand-worked outputs of faircard.safe_text, written to kill mutmut survivors, plus a real
Markdown renderer (markdown-it-py) as the oracle that escaped text reads as what was written."""

from __future__ import annotations

import html
import json

import pytest
from markdown_it import MarkdownIt

from faircard import safe_text as st


@pytest.mark.parametrize("raw, want", [
    ("B\x0bC", "B\\x0bC"),
    ("\x00\x08\x0c\x0e\x1f", "\\x00\\x08\\x0c\\x0e\\x1f"),
    ("\x7f\x80\x9f", "\\x7f\\x80\\x9f"),
    ("\ufffe\uffff", "\\ufffe\\uffff"),
    ("\ud800", "\\ud800"),
    ("a\rb", "a\\x0db"),
    ("a\r\nb", "a\nb"),
    ("tab\tand\nnewline", "tab\tand\nnewline"),
    ("\xa0 \x20 ~ \u0100 \u200d \u2070", "\xa0 \x20 ~ \u0100 \u200d \u2070"),
    # the bidirectional controls, which reorder the text around them
    ("\u061c\u200e\u200f\u202a\u202e\u2066\u2069",
     "\\u061c\\u200e\\u200f\\u202a\\u202e\\u2066\\u2069"),
])
def test_visible(raw, want):
    assert st.visible(raw) == want


def test_visible_of_none_and_numbers():
    assert st.visible(None) == ""
    assert st.visible(12) == "12"


def test_has_unsafe():
    assert st.has_unsafe("a\r\nb") is False
    assert st.has_unsafe("plain") is False
    assert st.has_unsafe("a\rb") is True
    assert st.has_unsafe("x\x1by") is True


@pytest.mark.parametrize("raw, one_line, multi_line", [
    ("\x1b[2J", "\\x1b[2J", "\\x1b[2J"),
    ("a\nb", "a\\x0ab", "a\nb"),
    ("a\tb", "a\\x09b", "a\tb"),
    ("a\x0bb", "a\\x0bb", "a\\x0bb"),
    ("x\x85y", "x\\x85y", "x\\x85y"),
    ("\u061c\u200e\u200f\u202a\u202e\u2066\u2069", "\\u061c\\u200e\\u200f\\u202a\\u202e"
     "\\u2066\\u2069", "\\u061c\\u200e\\u200f\\u202a\\u202e\\u2066\\u2069"),
    ("\u202f\u2065\u206a\u200d", "\u202f\u2065\u206a\u200d", "\u202f\u2065\u206a\u200d"),
    ("\ufffe", "\\ufffe", "\\ufffe"),
    ("\ud800", "\\ud800", "\\ud800"),
    ("ok", "ok", "ok"),
])
def test_for_terminal(raw, one_line, multi_line):
    assert st.for_terminal(raw) == one_line
    assert st.for_terminal(raw, keep_newlines=False) == one_line
    assert st.for_terminal(raw, keep_newlines=True) == multi_line


def test_for_terminal_of_a_number():
    assert st.for_terminal(3.5) == "3.5"


def test_json_for_terminal_escapes_what_a_terminal_acts_on_and_stays_json():
    doc = {"group": "é\u202e\x85", "n": 3}
    text = st.json_for_terminal(doc)
    assert text == '{\n  "group": "é\\u202e\\u0085",\n  "n": 3\n}'
    assert json.loads(text) == doc


@pytest.mark.parametrize("raw, want", [
    ("a|b", "a\\|b"),
    ("x\ny", "x y"),
    ("x\r\ny", "x  y"),
    ("x\ry", "x y"),
    ("# Title", "\\# Title"),
    ("\t# Title", "\t\\# Title"),
    ("<b>&", "&lt;b&gt;&amp;"),
    ("[a](b)", "[a\\](b)"),
    ("[a][b]", "[a\\][b]"),
    ("[a]: b", "[a\\]: b"),
    ("a ]b", "a ]b"),
    ("www.x.org", "www\\.x.org"),
    ("WWW.X.ORG", "WWW\\.X.ORG"),
    ("http://x", "http\\:\\/\\/x"),
    ("mailto:me", "mailto\\:me"),
    ("a: b", "a: b"),
    ("- item", "\\- item"),
    ("+ item", "\\+ item"),
    ("* item", "\\* item"),
    ("1. item", "1\\. item"),
    ("2) item", "2\\) item"),
    ("123456789. x", "123456789\\. x"),
    ("1234567890. x", "1234567890. x"),
    ("5.", "5\\."),
    ("-0.05", "-0.05"),
    ("***", "\\*\\*\\*"),
    ("**b** and _i_", "\\*\\*b\\*\\* and \\_i\\_"),
    ("a_b", "a\\_b"),
    ("$x$", "\\$x\\$"),
    ("===", "\\==="),
    ("_ _", "\\_ \\_"),
    ("-", "\\-"),
    ("`code`", "\\`code\\`"),
    ("~~~", "\\~\\~\\~"),
    ("a@b", "a\\@b"),
    ("back\\slash", "back\\\\slash"),
    ("B\x0bC", "B\\\\x0bC"),
    (None, ""),
    (7, "7"),
])
def test_md_cell(raw, want):
    assert st.md_cell(raw) == want


@pytest.mark.parametrize("raw, want", [
    ("  # h\n    code\n\nnext", "\\# h\ncode\n\nnext"),
    ("a\n# b", "a\n\\# b"),
    ("a\n- b\n2. c", "a\n\\- b\n2\\. c"),
    ("x|y\r\nz", "x\\|y\nz"),
    ("Xylophone\n  XX", "Xylophone\nXX"),          # only spaces and tabs are trimmed
    ("\u00a0non-breaking", "\u00a0non-breaking"),   # not other white space
    (None, ""),
])
def test_md_text(raw, want):
    assert st.md_text(raw) == want


def _gfm():
    md = MarkdownIt("gfm-like")
    md.linkify.set({"fuzzy_link": False})
    return md


@pytest.mark.parametrize("raw", [
    "# Title", "[a](http://x.org)", "![img](x.png)", "<script>x</script>", "a|b", "`c`",
    "www.example.org", "https://example.org/a", "- item", "12. item", "***", "@user",
    "a & b < c", "back\\slash", "=== ", "~~strike~~",
])
def test_a_real_renderer_shows_an_md_cell_as_the_text_written(raw):
    rendered = _gfm().render(st.md_cell(raw))
    assert rendered.strip() == "<p>" + html.escape(raw.strip(), quote=False) + "</p>"
