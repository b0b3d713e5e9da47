"""The bias-sources checklist in the model card: in Markdown, HTML, PDF and JSON, the experts'
notes escaped like all card text, the top proxies in the caveats, and an approval that covers
the checklist."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.card import CHECKLIST_SECTION, ModelCard, build_card, checklist_text
from faircard.diagnostics import SOURCES, diagnose
from faircard.governance.records import card_text_sha256, spec_of
from faircard.render import render_html, render_json, render_markdown, render_pdf

KOREAN_NOTE = "지역 변수가 인종을 대신합니다"
HOSTILE_NOTE = ("# Approved\n<script>alert(1)</script> [click](https://evil.example) "
                "| a | b |\n```\n![x](http://x/y.png)")
FIXED = {"generated_at": "2026-01-01T00:00:00+00:00", "versions": {"faircard-test": "1"}}


def _frame(n=1500, seed=2):
    rng = np.random.default_rng(seed)
    race = rng.choice(["A", "<b>B</b>"], n, p=[0.6, 0.4])
    zone = np.where(rng.random(n) < 0.85, race, rng.choice(["A", "<b>B</b>"], n))
    score = rng.random(n).round(3)
    y = (rng.random(n) < score).astype(int)
    return pd.DataFrame({"y": y, "score": score, "race": race,
                         "zone": [f"z-{v}" for v in zone], "x": rng.normal(size=n)})


ANSWERS = {"measurement": {"status": "concern", "note": KOREAN_NOTE},
           "historical": {"status": "checked", "note": HOSTILE_NOTE},
           "deployment": {"status": "not applicable", "note": ""}}


@pytest.fixture(scope="module")
def made():
    df = _frame()
    d = diagnose(df, target="y", score="score", sensitive="race", n_boot=0, max_conditions=1)
    a = faircard.assess(df, target="y", score="score", sensitive="race", n_boot=0)
    for_card = d.for_card(ANSWERS)
    card = build_card(a, **FIXED, **for_card)
    return d, a, for_card, card


@pytest.fixture(scope="module")
def rendered(made):
    card = made[3]
    html = render_html(card, charts={})
    return {"md": render_markdown(card), "html": html, "json": render_json(card),
            "pdf": render_pdf(card, html=html)}


def test_every_format_states_each_source_with_its_status_and_note(made, rendered):
    _, _, _, card = made
    md, html = rendered["md"], rendered["html"]
    ethics_md = md[md.index("## Ethical considerations"):md.index("## Caveats")]
    ethics_html = html[html.index("<h2>Ethical considerations"):html.index("<h2>Caveats")]
    for source in SOURCES:
        assert f"{source.capitalize()} bias" in ethics_md and f"{source.capitalize()} bias" \
            in ethics_html
    assert "| Measurement bias | concern |" in ethics_md
    assert "| Deployment bias | not applicable |" in ethics_md
    assert "| Representation bias | not reviewed |" in ethics_md
    assert KOREAN_NOTE in ethics_md and KOREAN_NOTE in ethics_html
    assert "<td>concern</td>" in ethics_html and "<td>not applicable</td>" in ethics_html
    # the evidence sentences are there too
    measurement = next(i for i in card.ethical_considerations["bias_sources"]
                       if i["source"] == "measurement")
    assert measurement["evidence"] and "'zone' alone tells" in measurement["evidence"][0]
    doc = ModelCard.from_json(rendered["json"]).to_dict()
    items = {i["source"]: i for i in doc["ethical_considerations"]["bias_sources"]}
    assert list(items) == list(SOURCES)
    assert items["measurement"]["status"] == "concern"
    assert items["measurement"]["note"] == KOREAN_NOTE
    assert items["historical"]["note"] == HOSTILE_NOTE  # the data keeps the exact text
    assert items["measurement"]["evidence"] == measurement["evidence"]


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_pdf_has_the_checklist_with_korean_notes(rendered, tmp_path):
    path = tmp_path / "card.pdf"
    path.write_bytes(rendered["pdf"])
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    text = " ".join(text.split())  # table cells wrap their words over lines
    assert "Bias sources" in text and "Measurement bias" in text
    assert KOREAN_NOTE in text
    assert "not applicable" in text and "concern" in text
    assert "alone tells" in text


def test_notes_and_evidence_cannot_inject_markup(rendered):
    md, html = rendered["md"], rendered["html"]
    for out in (md, html):
        assert "<script>" not in out and "<b>B</b>" not in out
        assert "&lt;script&gt;" in out
    ethics_md = md[md.index("## Ethical considerations"):md.index("## Caveats")]
    lines = ethics_md.splitlines()
    assert "# Approved" not in lines and not any(line.startswith("```") for line in lines)
    assert "](https://" not in ethics_md and "![x](" not in ethics_md
    table = [line for line in lines if line.startswith("| ")]
    assert len({line.replace("\\|", "").count("|") for line in table}) == 1, table
    assert "<img" not in html and "<a " not in html


def test_top_proxies_are_named_in_the_caveats(made, rendered):
    d, _, for_card, card = made
    top = d.top_proxies()
    assert list(top["feature"]) == ["zone"]
    assert card.caveats["proxies"] == for_card["proxies"]
    value = f"{top['value'].iloc[0]:.3f}"
    md = rendered["md"]
    caveats = md[md.index("## Caveats"):md.index("## Provenance")]
    assert "'zone' alone tells '&lt;b&gt;B&lt;/b&gt;' apart from the other groups of race" \
        in caveats and value in caveats
    html = rendered["html"]
    low, high = (f"{top[k].iloc[0]:.3f}" for k in ("ci_low", "ci_high"))
    assert f"(cross-validated AUC {value}, 95% interval {low}-{high})" in \
        html[html.index("<h2>Caveats"):]


def test_the_approval_fingerprint_covers_the_checklist(made):
    d, a, for_card, card = made
    text = card.authors_text()
    assert text[CHECKLIST_SECTION] == checklist_text(**for_card)  # the app's path
    again = ModelCard.from_json(card.to_json()).authors_text()  # the command line's path
    assert again == text
    base = card_text_sha256(text)
    for source, field, value in [("measurement", "note", KOREAN_NOTE + "."),
                                 ("measurement", "status", "checked"),
                                 ("learning", "status", "concern")]:
        answers = {k: dict(v) for k, v in ANSWERS.items()}
        answers.setdefault(source, {"status": "", "note": ""})[field] = value
        other = build_card(a, **FIXED, **d.for_card(answers))
        assert card_text_sha256(other.authors_text()) != base, (source, field)
        assert spec_of(a, card_text=other.authors_text()) != spec_of(a, card_text=text)
    plain = build_card(a, **FIXED)
    assert CHECKLIST_SECTION not in plain.authors_text()
    assert "bias_sources" not in plain.ethical_considerations
    assert "proxies" not in plain.caveats


def test_a_card_leaving_small_groups_out_names_them_nowhere_in_its_checklist():
    """With small groups left out, the checklist's evidence and the proxies no longer name
    them ('race: 'Tiny' has only 12 rows.' read so in the card), while the card without the
    option still does; an approval covers the checklist as the card states it, whether it is
    fingerprinted from the page's choices, from a record's card document or from the card's
    JSON (the command line)."""
    from faircard.card import card_checklist, hidden_groups
    from faircard.governance.recorded_card import card_document, fingerprinted_text

    df = _frame()
    df.loc[:11, "race"] = "Tiny"  # 12 rows, below the minimum size of 30
    truth = df["race"].value_counts()
    assert truth["Tiny"] == 12 < 30
    d = diagnose(df, target="y", score="score", sensitive="race", n_boot=0, max_conditions=1)
    a = faircard.assess(df, target="y", score="score", sensitive="race", n_boot=0)
    for_card = d.for_card(ANSWERS)
    evidence = [e for item in for_card["bias_sources"] for e in item["evidence"]]
    assert any("'Tiny'" in e for e in evidence)  # the diagnostics name it as small
    named = build_card(a, **FIXED, **for_card)
    assert "Tiny" in render_markdown(named)
    left_out = build_card(a, **FIXED, suppress_small_groups=True, **for_card)
    for text in (render_markdown(left_out), render_json(left_out),
                 render_html(left_out, charts={})):
        assert "Tiny" not in text
    stated = [e for item in left_out.ethical_considerations["bias_sources"]
              for e in item["evidence"]]
    assert any("a group left out of this card has only 12 rows" in e for e in stated)
    # one text for the approval, however it is fingerprinted
    hidden = hidden_groups(a, True)
    assert hidden == {("race", "Tiny")}
    from_page = checklist_text(**for_card, hidden=hidden)
    assert from_page == left_out.checked_text()
    doc = card_document({}, suppress_small_groups=True, **card_checklist(**for_card,
                                                                        hidden=hidden))
    assert fingerprinted_text(doc)[CHECKLIST_SECTION] == from_page
    card_json = json.loads(render_json(left_out))
    again = checklist_text(card_json["ethical_considerations"]["bias_sources"],
                           card_json["caveats"].get("proxies"))
    assert again == from_page
