"""Errors, warnings and notes that carry a user's names are shown as literal text: a column,
group or file named like Markdown (a link, an image, a heading, HTML, LaTeX, a Streamlit
colour directive) is not interpreted. Each message body is rendered by an independent
CommonMark renderer (markdown-it-py, with tables, strikethrough and autolinks) and must come
out as the same text with no markup."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from faircard.ui.components import escape
from tests.app.conftest import new, no_exception, seed_state, small_frame

CRAFTED = ["[x](http://evil)", "![i](http://e/i.png)", "# H", "<b>bold</b>", "$x^2$",
           ":red[alarm]", "**loud** _it_ `code` ~~gone~~", "- item", "1. first", "> quote",
           "a | b", "&amp; &lt;", "www.evil.com", "x@evil.com", "===", "    indented"]
MD = MarkdownIt("commonmark", {"linkify": True}).enable(["table", "strikethrough", "linkify"])
MARKUP = re.compile(r"<(?!/?p>)[a-z!/][^>]*>")
ROOT = Path(__file__).resolve().parents[2]


def _rendered_text(body: str) -> tuple[str, list[str]]:
    """What a Markdown renderer shows for ``body``: its text, and any markup other than the
    paragraphs."""
    out = MD.render(body)
    tags = MARKUP.findall(out)
    text = html.unescape(re.sub(r"</?p>", "", out)).strip()
    return text, tags


def _assert_literal(body: str, name: str) -> None:
    text, tags = _rendered_text(body)
    assert not tags, (body, tags)
    assert name.strip() in text, (name, text)
    # Streamlit's own syntax beyond CommonMark (LaTeX, :colour[...] directives) is escaped too
    assert escape(name) in body, body


@pytest.mark.parametrize("name", CRAFTED)
def test_escaped_text_renders_as_itself(name):
    text, tags = _rendered_text(escape(f"Column '{name}' is wrong."))
    assert not tags and text == f"Column '{name}' is wrong."
    text, tags = _rendered_text(escape(name))  # at the start of a line
    assert not tags and text == name.lstrip()
    assert not re.search(r"(?<!\\)[$:]", escape(name))  # LaTeX and directives


def test_data_page_error_about_a_crafted_outcome_column_is_literal():
    name = "[x](http://evil) ![i](http://e/i.png)"
    df = small_frame()
    df[name] = ["a", "b", "c"] * (len(df) // 3)
    at = seed_state(new("app_pages/data.py"), df=df)
    at.session_state["fc_data_digest"] = "errors-crafted-target"
    at.run()
    at.selectbox(key="w_target").set_value(name).run()
    no_exception(at)
    (err,) = [e for e in at.error if "more than two values" in e.value]
    _assert_literal(err.value, name)


def test_data_page_error_about_a_crafted_file_name_is_literal():
    at = new("app_pages/data.py")
    at.run()
    name = "# H <b>x</b> [x](http://evil).csv"
    at.file_uploader(key="upload_data").upload(name, b"", "text/csv").run()
    no_exception(at)
    (err,) = [e for e in at.error if "is empty" in e.value]
    _assert_literal(err.value, name)


@pytest.mark.parametrize("page", ["app_pages/disparities.py", "app_pages/thresholds.py",
                                  "app_pages/model_card.py"])
def test_an_assessment_error_naming_a_crafted_group_is_literal(page):
    group = "![i](http://e/i.png) :red[x] $y$"
    at = seed_state(new(page), sensitive=("sex",))
    at.session_state["fc_reference"] = {"sex": group}
    at.run()
    no_exception(at)
    (err,) = [e for e in at.error if "does not exist" in e.value]
    _assert_literal(err.value, group)


def test_a_crafted_feature_name_in_notes_and_warnings_is_literal():
    feature = "# [many](http://evil)"
    df = small_frame(n=1500)
    df[feature] = [f"g{i % 60}" for i in range(len(df))]  # more than 50 groups
    at = seed_state(new("app_pages/sensitive.py"), df=df, sensitive=(feature,))
    at.session_state["fc_data_digest"] = "errors-many-groups"
    at.run()
    no_exception(at)
    (warn,) = [w for w in at.warning if "groups (more than" in w.value]
    _assert_literal(warn.value, feature)
    (info,) = [i for i in at.info if "Confirm the" in i.value]
    text, tags = _rendered_text(info.value)
    assert not tags and feature in text


def test_a_crafted_record_number_in_the_share_link_is_literal(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRCARD_STORE", str(tmp_path / "none.db"))
    at = new("app_pages/record.py")
    at.query_params["record"] = "[x](http://evil)"
    at.run()
    no_exception(at)
    (err,) = [e for e in at.error if "cannot be opened" in e.value]
    _assert_literal(err.value.split(" so record ")[1], "[x](http://evil)")


def test_pages_show_errors_and_notes_only_through_the_escaping_helpers():
    """No page hands an exception's or a note's text to Streamlit unescaped."""
    raw = re.compile(r"st\.(error|warning|info|caption|success)\((str\(exc\)|msg|note)\)")
    for path in [*sorted((ROOT / "app_pages").glob("*.py")), ROOT / "app.py",
                 *sorted((ROOT / "src/faircard/ui").glob("*.py"))]:
        found = raw.findall(path.read_text(encoding="utf-8"))
        assert not found, (path.name, found)
