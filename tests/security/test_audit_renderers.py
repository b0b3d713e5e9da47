"""Markup, template and TeX-like text in group names, column names, file names and the
authors' text, through every renderer of the card, checked with real parsers: the HTML card
parsed by html5lib has the same elements and attributes as a card of plain names, the
Markdown card parsed by markdown-it has no link, image or raw HTML, JSON keeps every value
exactly, and the PDF shows the text as written."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter

import html5lib
import numpy as np
import pandas as pd
import pytest
from markdown_it import MarkdownIt

import faircard
from faircard.card import TEXT_SECTIONS, build_card
from faircard.render import markdown_body, render_html, render_json, render_pdf

FIXED = {"generated_at": "2026-01-01T00:00:00+00:00", "versions": {"test": "1"}}
PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\" onmouseover=\"alert(1)\" x=\"",
    "' onfocus='alert(1)' autofocus='",
    "</td></tr></table><h1>forged</h1>",
    "<style>body{display:none}</style>",
    "<!-- unclosed comment",
    "]]><![CDATA[x",
    "<svg onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<iframe src=https://evil.example></iframe>",
    "{{ 7*7 }}{% raw %}",
    "{% for i in range(10**9) %}x{% endfor %}",
    "${7*7} #{7*7}",
    "\\input{/etc/passwd} $\\alpha$ \\\\",
    "&lt;b&gt;entity&lt;/b&gt; &amp;",
    "[x](javascript:alert(1)) ![p](https://evil.example/p.png)",
]
PLAIN = [f"plain group {i}" for i in range(len(PAYLOADS))]


def _card(groups, column="grp", text=None, model="model.pkl", dataset="data.csv"):
    n = len(groups) * 12
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({"y": y, "score": np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1),
                          column: np.array(groups, dtype=object)[np.arange(n) % len(groups)]})
    a = faircard.assess(frame, target="y", score="score", sensitive=column, n_boot=0,
                        min_group_size=5)
    return build_card(a, text=text, model={"name": model}, dataset={"name": dataset}, **FIXED)


def _everywhere(value: str) -> dict:
    return {s: {f: value for f in fields} for s, fields in TEXT_SECTIONS.items()}


@pytest.fixture(scope="module")
def cards():
    hostile = _card(PAYLOADS, column=PAYLOADS[0] + PAYLOADS[2],
                    text=_everywhere(" ".join(PAYLOADS)), model=PAYLOADS[1],
                    dataset=PAYLOADS[4])
    plain = _card(PLAIN, column="plain column", text=_everywhere("plain text"),
                  model="plain model", dataset="plain data")
    return hostile, plain


def _shape(html: str) -> tuple[Counter, Counter, list]:
    """Elements and attribute names of a parsed document, and any URL an attribute holds."""
    doc = html5lib.parse(html, namespaceHTMLElements=False)
    tags, attrs, urls = Counter(), Counter(), []
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue  # comments
        tags[el.tag] += 1
        for name, value in el.attrib.items():
            attrs[(el.tag, name)] += 1
            if name in ("src", "href", "action", "data", "srcset", "poster", "xlink:href"):
                urls.append(value)
    return tags, attrs, urls


def test_html_card_has_the_structure_of_a_card_with_plain_names(cards):
    hostile, plain = cards
    tags, attrs, urls = _shape(render_html(hostile, charts={}))
    plain_tags, plain_attrs, plain_urls = _shape(render_html(plain, charts={}))
    assert tags == plain_tags, (tags - plain_tags, plain_tags - tags)
    assert attrs == plain_attrs, (attrs - plain_attrs, plain_attrs - attrs)
    assert not any(name.startswith("on") for _, name in attrs)
    assert sorted(urls) == sorted(plain_urls)  # no URL came from the text


def test_html_card_shows_every_payload_as_text(cards):
    hostile, _ = cards
    doc = html5lib.parse(render_html(hostile, charts={}), namespaceHTMLElements=False)
    text = " ".join(" ".join(doc.itertext()).split())
    for p in PAYLOADS:
        assert " ".join(p.split()) in text, p  # template expressions shown, not evaluated


def test_markdown_card_makes_no_link_image_or_html(cards):
    hostile, plain = cards
    md = MarkdownIt("gfm-like")
    md.linkify.set({"fuzzy_link": False})

    def kinds(body):
        out = Counter()
        for tok in md.parse(body):
            for t in [tok, *(tok.children or [])]:
                out[t.type] += 1
        return out

    got, want = kinds(markdown_body(hostile)), kinds(markdown_body(plain))
    for bad in ("link_open", "image", "html_inline", "html_block", "fence", "code_block"):
        assert got[bad] == want[bad], (bad, got[bad])
    assert got["heading_open"] == want["heading_open"]
    assert got["tr_open"] == want["tr_open"]  # no row forged or lost
    tags, attrs, urls = _shape(md.render(markdown_body(hostile)))
    plain_tags, _, _ = _shape(md.render(markdown_body(plain)))
    assert not {"script", "img", "iframe", "svg", "style", "a"} & set(tags)
    assert tags["h1"] == plain_tags["h1"] == 1 and not urls
    assert not any(name.startswith("on") for _, name in attrs)


def test_json_card_keeps_every_value_exactly(cards):
    hostile, _ = cards
    doc = json.loads(render_json(hostile))
    groups = {r["group"] for r in doc["quantitative"]["by_group"]}
    assert groups == set(PAYLOADS)
    assert {r["feature"] for r in doc["quantitative"]["by_group"]} == {PAYLOADS[0] + PAYLOADS[2]}
    text = json.dumps(doc, ensure_ascii=False)
    assert json.dumps(" ".join(PAYLOADS), ensure_ascii=False)[1:-1] in text


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_pdf_card_shows_the_payloads_as_text(cards, tmp_path):
    hostile, _ = cards
    path = tmp_path / "card.pdf"
    path.write_bytes(render_pdf(hostile, html=render_html(hostile, charts={})))
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    flat = " ".join(text.split())
    for p in ("<script>alert(1)</script>", "{{ 7*7 }}", "\\input{/etc/passwd}",
              "</td></tr></table><h1>forged</h1>"):
        assert p in flat, p


def test_a_group_name_of_the_longest_allowed_is_drawn_short_and_named_whole_once():
    """Printed whole in every table, heading and finding, a 50,000-character group name made
    the PDF take three times as long; now they show its first characters (two names with the
    same start stay apart) and one table at the end of the card gives the start of each long
    name, its length and, as the cell's tooltip, the whole name. Group names are now at most
    1,000 characters (``prepare.MAX_GROUP_NAME``): names of that length are drawn short too."""
    from faircard.prepare import MAX_GROUP_NAME
    from faircard.safe_text import LABEL_CHARS

    long_a, long_b = "x" * MAX_GROUP_NAME, "x" * (MAX_GROUP_NAME - 1) + "y"
    feature = "f" * 300
    card = _card([long_a, long_b, "B"], column=feature)
    html = render_html(card, charts={})
    doc = html5lib.parse(html, namespaceHTMLElements=False)
    listed = {td.get("title"): "".join(td.itertext()) for td in doc.iter("td")
              if td.get("class") == "fullname"}
    assert set(listed) == {long_a, long_b, feature}
    assert listed[long_a] == "x" * 200 + "… (1,000 characters; the JSON card holds the whole name)"
    for name in (long_a, long_b, feature):
        assert html.count(name) == 1  # in the tooltip only
    for td in doc.iter("td"):
        if td.get("class") != "fullname":
            assert len("".join(td.itertext())) <= LABEL_CHARS + 30  # "(too small to trust)"
    group_cells = {"".join(tr[0].itertext()) for tr in doc.iter("tr")
                   if len(tr) > 2 and tr[0].tag == "td"}
    shown = {c for c in group_cells if c.startswith("x")}
    assert len(shown) == 2 and all(c.endswith(("… (1)", "… (2)")) for c in shown), shown
    md = markdown_body(card)
    assert "x" * 201 not in md and "f" * 301 not in md
    assert md.count("(1,000 characters; the JSON card holds the whole name)") == 2
    assert {r["group"] for r in json.loads(render_json(card))["quantitative"]["by_group"]} \
        == {long_a, long_b, "B"}
