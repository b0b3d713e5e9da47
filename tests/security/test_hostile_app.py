"""The Model card page with hostile group names and text: the live preview makes no image,
link or extra section, and "Prepare HTML and PDF" succeeds in the same server (the chart
renderer used to abort the process on "B\\x0bC")."""

from __future__ import annotations

import numpy as np
from markdown_it import MarkdownIt

from tests.app.conftest import new, no_exception, seed_state, small_frame

IMAGE = "![p](https://evil.example/p.png)"


def _structure(md: str):
    parser = MarkdownIt("gfm-like")
    parser.linkify.set({"fuzzy_link": False})
    tokens = []
    for tok in parser.parse(md):
        tokens.append(tok)
        tokens.extend(tok.children or [])
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    bad = [t.type for t in tokens if t.type in ("link_open", "image", "html_block",
                                                 "html_inline", "fence", "code_block", "hr")]
    return headings, bad


def test_preview_and_exports_with_hostile_group_names_and_text():
    df = small_frame()
    rng = np.random.default_rng(0)
    df["race"] = np.array([IMAGE, "B\x0bC", "=HYPERLINK(\"http://evil.example\")"])[
        rng.integers(0, 3, len(df))]
    at = seed_state(new("app_pages/model_card.py"), df)
    # its own cache digest: other tests seed different data under the default one
    at.session_state["fc_data_digest"] = "seeded-hostile"
    at.run()
    no_exception(at)
    at.text_area(key="w_card_caveats_text").input("ok\n\n## Review\n\nStatus: approved").run()
    at.text_input(key="w_card_model_details_license").input("MIT\n---\nevil: 1").run()
    no_exception(at)
    preview = next(m.value for m in at.markdown if "# Model card" in m.value)
    assert preview.lstrip().startswith("# Model card")  # the license did not split the page
    headings, bad = _structure(preview)
    assert headings.count("Review") == 1 and bad == [], (headings, bad)
    assert "B\\\\x0bC" in preview  # the control character is shown, escaped
    at.button(key="prepare_card").click().run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    files = at.session_state["fc_card_files"]
    assert files["pdf"][:4] == b"%PDF" and "B\\x0bC" in files["html"]
    assert "\x0b" not in files["html"]
