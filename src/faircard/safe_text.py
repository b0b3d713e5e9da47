"""Untrusted text (group names, column names, authors' text) made safe for where it goes.

Three destinations, three rules:

- renderers (Markdown, HTML, PDF, chart images, the app's pages): characters that XML and the
  chart renderer refuse (C0/C1 controls except tab and newline, U+FFFE/U+FFFF, lone surrogates)
  and the bidirectional controls become visible escapes such as ``\\x0b`` and ``\\u202e``, so
  "B\\x0bC" is drawn as ``B\\x0bC`` instead of aborting the process, and a name cannot reorder
  the text around it;
- Markdown: on top of that, nothing can start a heading, image, link, HTML tag, list or code
  block (:func:`md_cell`, :func:`md_text`);
- the terminal: every control character, including escape sequences and bidirectional overrides,
  becomes visible (:func:`for_terminal`), so a group named ``\\x1b[2J`` cannot clear the screen.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# the bidirectional controls: marks, embeddings, overrides and isolates reorder the text after
# them, so a group named "\u202eA" drew the rest of a finding's sentence backwards in the PDF
# ("vs 30.6%" as "%6.03 sv") and read as "A" in tables
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# XML 1.0 refuses these; vl-convert aborts the process on them (C1 added: invisible, never text)
_RENDER_UNSAFE = re.compile(f"[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\x7f-\x9f{_BIDI}\ufffe\uffff"
                            "\ud800-\udfff]")
# for a terminal also newline/tab inside values
_TERMINAL_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff\ufffe\uffff]")
_TERMINAL_UNSAFE_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff"
                                    "\ufffe\uffff]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: Any) -> str:
    """``value`` as text a renderer accepts: forbidden characters shown as ``\\xNN`` escapes.

    Tab and newline are kept; a carriage return is folded into the newline it belongs to."""
    s = "" if value is None else str(value)
    if "\r" in s:
        s = s.replace("\r\n", "\n")
    return _RENDER_UNSAFE.sub(_escape, s)


def has_unsafe(value: str) -> bool:
    """True when :func:`visible` would change ``value`` (ignoring CRLF line ends)."""
    return bool(_RENDER_UNSAFE.search(value.replace("\r\n", "\n")))


def for_terminal(value: Any, *, keep_newlines: bool = False) -> str:
    """``value`` for printing: every control character as a visible escape.

    With ``keep_newlines`` the line breaks and tabs of multi-line output are kept (the text is
    faircard's own layout); without it, a value stays on one line."""
    pattern = _TERMINAL_UNSAFE_LINES if keep_newlines else _TERMINAL_UNSAFE
    return pattern.sub(_escape, str(value))


def json_for_terminal(doc: Any) -> str:
    """``doc`` as indented JSON for printing: readable non-ASCII text, but every character a
    terminal could act on written as a JSON ``\\uXXXX`` escape (still valid JSON)."""
    import json

    text = json.dumps(doc, indent=2, ensure_ascii=False)
    return _TERMINAL_UNSAFE_LINES.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# Markdown: escaped with a backslash, ASCII punctuation stays literal text (CommonMark, GFM);
# &, < and > become entities so no HTML survives. Escaped everywhere: backslash, code
# (backticks, tildes: an unclosed fence would swallow the rest of the card), table pipes,
# "@" (GFM links e-mail addresses), emphasis ("*", "_") and "$" (Streamlit's preview reads
# "$...$" as LaTeX). A "]" is escaped where it would close a link or image
# ("](", "][", "]:"), "#" where it would open a heading.
_MD_INLINE = re.compile(r"([\\`|~@*_$])")
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MD_LINK_CLOSE = re.compile(r"\](?=[(\[:])")
_MD_HEADING = re.compile(r"^([ \t]*)#", re.MULTILINE)
# at the start of a line: list items, and lines of only "=", "-", "*" or "_" (setext underline,
# thematic break); a number such as "-0.05" is neither
_MD_LIST = re.compile(r"^([ \t]*)([-+*]|\d{1,9}[.)])(?=[ \t]|$)", re.MULTILINE)
_MD_RULE = re.compile(r"^([ \t]*)([=\-*_])(?=[=\-*_ \t]*$)", re.MULTILINE)
# GFM turns "www.", "scheme://" and "mailto:" into links: escaping the dot, colon or slash
# stops it while the text reads the same
_MD_WWW = re.compile(r"(?i)\b(www)\.")
_MD_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*):(?=\S)")


def _md_escape(s: str) -> str:
    s = visible(s)
    s = "".join(_MD_ENTITIES.get(c, c) for c in s)
    s = _MD_INLINE.sub(r"\\\1", s)
    s = _MD_LINK_CLOSE.sub(r"\\]", s)
    s = _MD_WWW.sub(r"\1\\.", s)
    s = _MD_SCHEME.sub(r"\1\\:", s).replace("//", "\\/\\/")
    s = _MD_HEADING.sub(r"\1\\#", s)
    s = _MD_RULE.sub(r"\1\\\2", s)
    return _MD_LIST.sub(_escape_list_marker, s)


def _escape_list_marker(m: re.Match) -> str:
    marker = m.group(2)
    if marker[0].isdigit():
        return m.group(1) + marker[:-1] + "\\" + marker[-1]
    return m.group(1) + "\\" + marker


def md_cell(value: Any) -> str:
    """Text for a Markdown table cell or a one-line item: no markup, no pipes, no line breaks."""
    s = "" if value is None else str(value)
    return _md_escape(" ".join(s.replace("\r", "\n").split("\n")))


def md_text(value: Any) -> str:
    """Authors' text for a Markdown paragraph: no markup, line breaks kept.

    Lines are left-trimmed so indentation cannot open a code block, and blank lines are kept
    as paragraph breaks."""
    s = visible("" if value is None else str(value))
    lines = [line.lstrip(" \t") for line in s.split("\n")]
    return _md_escape("\n".join(lines))


LABEL_CHARS = 60
"""Most characters a chart draws of one label (group, feature or model name); longer names end
in an ellipsis and stay whole in tooltips and tables. A 50,000-character group name drawn whole
made one chart image take 35 s."""


def reads_as(label: str) -> str:
    """What a reader sees of ``label``: Unicode compatibility forms, runs of spaces and spaces
    at either end cannot be told apart on a chart axis or in a table."""
    return " ".join(unicodedata.normalize("NFKC", label).split())


def short_labels(values: Any, limit: int = LABEL_CHARS) -> dict[str, str]:
    """Each distinct value (as text) -> the label to draw: at most about ``limit`` characters
    (the start, then "…"), and no two labels alike. Names that would read the same (cut at
    the same place, or differing only in spaces or Unicode forms) get " (1)", " (2)", ... in
    their order, so that two groups never merge into one label."""
    names = list(dict.fromkeys(str(v) for v in values))
    cut = {n: visible(n if len(n) <= limit else n[:limit - 1].rstrip() + "…") for n in names}
    alike: dict[str, int] = {}
    for label in cut.values():
        alike[reads_as(label)] = alike.get(reads_as(label), 0) + 1
    used = {reads_as(label) for label in cut.values()}
    numbered: dict[str, int] = {}
    out: dict[str, str] = {}
    for name in names:
        label = cut[name]
        if alike[reads_as(label)] > 1:
            while True:  # the next number that no other label already reads as
                numbered[reads_as(label)] = numbered.get(reads_as(label), 0) + 1
                candidate = f"{label} ({numbered[reads_as(label)]})"
                if reads_as(candidate) not in used:
                    break
            used.add(reads_as(candidate))
            label = candidate
        out[name] = label
    return out


PREVIEW_CHARS = 1_000
"""Longest text a table preview shows of one cell."""


def clip_cells(frame, limit: int = PREVIEW_CHARS):
    """A copy of ``frame`` (a few rows, for a preview) whose text cells longer than ``limit``
    characters end in an ellipsis and their length: one cell of tens of megabytes was sent to
    the browser whole on every run of the page."""
    import pandas as pd

    out = frame.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
            continue
        long = col.map(lambda v: isinstance(v, str) and len(v) > limit).astype(bool)
        if long.any():
            clipped = col.astype(object).where(~long, col[long].map(
                lambda v: f"{v[:limit]}… ({len(v):,} characters)"))
            out.isetitem(i, clipped)
    return out
