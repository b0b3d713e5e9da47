"""Features with many groups are listed in the HTML/PDF card's appendix as plain-text tables
(a 3,000-row card took 43 s of CPU to print as HTML tables). No figure may go missing: the
PDF's text (pdftotext) holds every group's size and metrics, checked against pandas and
scikit-learn on the group's rows. The number of groups laid out as a table is an option
(``table_groups``, ``faircard card --table-groups``, the Model card page; default 100),
lowered here so a small card has an appendix."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, recall_score

import faircard
from faircard import render
from faircard.card import build_card
from faircard.policy import choose_policy_from_sweep
from faircard.text_table import plain_table, text_width
from faircard.thresholds import sweep_assessment

CSV = Path(__file__).parent / "data" / "left_out_small.csv"
METRICS = ["selection_rate", "accuracy", "true_positive_rate", "false_positive_rate",
           "false_negative_rate"]


def test_a_wide_table_continues_in_blocks_that_repeat_the_leading_columns():
    headers = ["Group", "People"] + [f"Metric number {i}" for i in range(8)]
    rows = [["a" * 45, "12"] + [f"0.{i}00 [0.{i}01-0.{i}02]" for i in range(8)],
            ["b", "3,004"] + ["n/a"] * 8]
    blocks = plain_table(headers, rows, width=80)
    assert len(blocks) > 1
    for b in blocks:
        assert all(text_width(line) <= 80 for line in b.splitlines())
    text = "\n".join(blocks)
    for i in range(8):
        assert f"0.{i}00 [0.{i}01-0.{i}02]" in text
    # the 45-character name is wrapped in its 30-column cell, whole when put together
    first = blocks[0].splitlines()
    start = next(i for i, line in enumerate(first) if line.startswith("a"))
    assert (first[start][:30] + first[start + 1][:30]).strip() == "a" * 45
    assert all(b.count("3,004") == 1 for b in blocks)


def test_wide_characters_take_two_columns_and_stay_aligned():
    blocks = plain_table(["Group", "People", "Rate"], [["서울", "1", "0.500"],
                                                       ["Busan", "22", "0.250"]])
    lines = blocks[0].splitlines()
    ends = {text_width(line) for line in lines if "0." in line}
    assert len(ends) == 1  # right-aligned numbers end in the same column


def _card():
    data = pd.read_csv(CSV)
    a = faircard.assess(data, target="y", score="score", sensitive="race", n_boot=0)
    p = choose_policy_from_sweep(sweep_assessment(a, "race"), feature="race",
                                 constraint="equal_opportunity", tolerance=0.02,
                                 min_group_size=a.spec.min_group_size)
    b = faircard.assess(data, target="y", score="score", sensitive="race", n_boot=0,
                        policy=p.decision_policy())
    return data, p, build_card(b, metrics=METRICS)


def test_a_card_under_the_limit_keeps_its_html_tables():
    data, _, card = _card()
    html = render.render_html(card, charts={})
    row = f'<td>A</td><td class="num">{(data["race"] == "A").sum():,}</td>'
    assert "Appendix" not in html and row in html


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_the_pdf_appendix_holds_every_figure(tmp_path):
    data, policy, card = _card()
    html = render.render_html(card, charts={}, table_groups=3)
    row = f'<td>A</td><td class="num">{(data["race"] == "A").sum():,}</td>'
    assert row not in html  # the table moved to the appendix
    pdf = tmp_path / "card.pdf"
    pdf.write_bytes(render.render_pdf(card, html=html))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    flat = re.sub(r"\s+", " ", text)
    assert "The 4 groups of race are listed with all their figures in the appendix" in flat
    assert "Appendix: every group of race" in flat
    # the constraint's left-out groups, with their sizes counted by pandas
    sizes = data["race"].value_counts()
    assert (f"so never held to it: C ({sizes['C']} people), D ({sizes['D']} people).") in flat
    appendix = text[text.index("Appendix: every group of race"):]
    decided = data["score"].to_numpy() >= data["race"].map(policy.thresholds).to_numpy()
    y = data["y"].to_numpy().astype(bool)
    for g in ["A", "B", "C", "D"]:
        m = (data["race"] == g).to_numpy()
        lines = " ".join(line for line in appendix.replace("\f", "").splitlines()
                         if re.match(rf"{g}\s", line))
        want = {"people": f"{int(m.sum()):,}",
                "selection_rate": decided[m].mean(),
                "accuracy": accuracy_score(y[m], decided[m]),
                "true_positive_rate": recall_score(y[m], decided[m]),
                "false_positive_rate": decided[m & ~y].mean(),
                "false_negative_rate": 1 - recall_score(y[m], decided[m])}
        for key, v in want.items():
            shown = v if isinstance(v, str) else f"{v:.3f}"
            assert re.search(rf"(^|\s){re.escape(shown)}(\s|$)", lines), (g, key, shown, lines)
        assert ("(small)" in lines) is bool(m.sum() < 30)
    assert np.unique(data["race"]).tolist() == ["A", "B", "C", "D"]


APPENDIX = "Appendix: every group of race"


def test_the_number_of_groups_laid_out_as_a_table_is_an_option():
    """4 groups of race: laid out as a table up to a setting of 4, in the appendix below."""
    data, _, card = _card()
    assert render.PLAIN_TABLE_GROUPS == 100
    row = f'<td>A</td><td class="num">{(data["race"] == "A").sum():,}</td>'
    n = data["race"].nunique()
    for limit in (None, 100, n):
        html = render.render_html(card, charts={}, table_groups=limit)
        assert row in html and APPENDIX not in html, limit
    for limit in (n - 1, 0):
        html = render.render_html(card, charts={}, table_groups=limit)
        assert row not in html and APPENDIX in html, limit
        assert f"The {n} groups of race are listed with all their figures" in html
    # the Markdown card keeps its tables whatever the setting
    assert "| A |" in render.render_markdown(card)


@pytest.mark.parametrize("bad", [-1, 2.5, "3", True, float("nan")])
def test_a_bad_number_of_groups_is_refused_in_one_sentence(bad):
    _, _, card = _card()
    with pytest.raises(faircard.FaircardError) as e:
        render.render_html(card, charts={}, table_groups=bad)
    assert "\n" not in str(e.value) and "at least 0" in str(e.value)


def test_the_cli_sets_it_and_refuses_a_bad_one(tmp_path, capsys):
    from faircard.cli import main

    args = ["card", str(CSV), "--target", "y", "--score", "score", "--sensitive", "race",
            "--formats", "html", "--bootstrap", "0"]
    assert main([*args, "--out", str(tmp_path / "default")]) == 0
    assert APPENDIX not in (tmp_path / "default" / "model_card.html").read_text()
    assert main([*args, "--out", str(tmp_path / "three"), "--table-groups", "3"]) == 0
    assert APPENDIX in (tmp_path / "three" / "model_card.html").read_text()
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "bad"), "--table-groups", "-2"]) != 0
    err = capsys.readouterr().err
    assert "at least 0" in err and "Traceback" not in err
    assert not (tmp_path / "bad").exists()  # refused before anything is written
