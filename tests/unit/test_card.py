"""The model card: golden files, escaping, tables, YAML front matter, JSON round trip, PDF."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import faircard
from faircard.card import ModelCard, build_card
from faircard.render import render_html, render_json, render_markdown, render_pdf

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
UPDATE = os.environ.get("FAIRCARD_UPDATE_GOLDEN") == "1"
FIXED = {"generated_at": "2026-01-01T00:00:00+00:00", "versions": {"faircard-test": "1"}}
KOREAN = "이 모델은 대출 심사에 사용됩니다."
FULL_TEXT = {
    "model_details": {"name": "Loan approval model", "version": "1.2", "owners": "Risk team",
                      "license": "mit", "contact": "risk@example.org",
                      "description": "Scores loan applications."},
    "intended_use": {"primary_uses": "Support loan officers.", "primary_users": "Loan officers",
                     "out_of_scope": "Fully automated denials."},
    "factors": {"why_these_factors": "Protected attributes under lending law."},
    "metrics": {"why_these_metrics": "Wrongful denials harm applicants most."},
    "evaluation_data": {"description": "A held-out year of applications."},
    "training_data": {"description": "Three earlier years."},
    "ethical_considerations": {"text": KOREAN},
    "caveats": {"text": "Re-check after any policy change."},
}


def _frame(groups=("Female", "Male"), n=600, seed=0):
    rng = np.random.default_rng(seed)
    g = rng.choice(list(groups), n)
    y = (rng.random(n) < 0.45).astype(int)
    s = np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0, 1).round(3)
    return pd.DataFrame({"y": y, "s": s, "sex": g})


def _card(text=None, groups=("Female", "Male"), **kw):
    a = faircard.assess(_frame(groups), target="y", score="s", sensitive="sex", n_boot=100)
    return build_card(a, text=text, **FIXED, **kw)


def _golden(name: str, content: str, update: bool | None = None) -> None:
    """Compare ``content`` with the reviewed file tests/golden/NAME. Files are written only when
    FAIRCARD_UPDATE_GOLDEN=1; a missing file fails, so nothing unreviewed can pass."""
    path = GOLDEN / name
    if UPDATE if update is None else update:
        path.write_text(content, encoding="utf-8")
        return
    assert path.exists(), (f"tests/golden/{name} is missing: run with FAIRCARD_UPDATE_GOLDEN=1, "
                           "read the new file and commit it")
    assert content == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def test_a_missing_golden_fails_and_is_not_written(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.GOLDEN", tmp_path)
    with pytest.raises(AssertionError, match="is missing"):
        _golden("card_new.md", "text", update=False)
    assert not (tmp_path / "card_new.md").exists()
    _golden("card_new.md", "text", update=True)
    _golden("card_new.md", "text", update=False)
    with pytest.raises(AssertionError, match="differs"):
        _golden("card_new.md", "other", update=False)


@pytest.mark.parametrize("kind", ["minimal", "full"])
def test_golden_files(kind):
    card = _card(FULL_TEXT if kind == "full" else None)
    _golden(f"card_{kind}.md", render_markdown(card))
    _golden(f"card_{kind}.html", render_html(card, charts={}))
    _golden(f"card_{kind}.json", render_json(card))


def test_metrics_table_present_when_text_sections_are_empty():
    md = render_markdown(_card())
    assert "### By sex" in md and "| Female |" in md and "| Male |" in md
    assert "## Ethical considerations" in md and "Not stated." in md


def test_script_in_group_name_and_text_is_escaped():
    evil = "<script>alert(1)</script>"
    card = _card({"caveats": {"text": evil}}, groups=(evil, "B"))
    html = render_html(card, charts={})
    assert "<script>" not in html and "&lt;script&gt;" in html
    md = render_markdown(card)
    assert "<script>" not in md and "&lt;script&gt;" in md
    meta = yaml.safe_load(md.split("---\n")[1])
    assert evil in {r["group"] for r in meta["fairness"]}  # the data keeps the exact name


def test_review_sign_off_is_rendered_with_its_notes_escaped():
    card = _card()
    card.review.update(status="approved", reviewer="Ben Lee (model risk)",
                       notes="Audit record 3 (fingerprint 0123abcd): ok <img src=x onerror=1>")
    md = render_markdown(card)
    html = render_html(card, charts={})
    for out in (md, html):
        assert "Status: approved, reviewer Ben Lee (model risk). Audit record 3" in out
        assert "<img" not in out and "&lt;img" in out
    assert md.endswith("&gt;\n")


def test_pipe_and_newline_in_group_name_keep_the_table_intact():
    card = _card(groups=("a|b", "c\nd"))
    md = render_markdown(card)
    section = md[md.index("### By sex"):md.index("### Disparities")]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    widths = {len([c for c in line.replace("\\|", "").split("|")]) for line in rows}
    assert len(widths) == 1, rows  # every row has the same number of cells
    assert any("a\\|b" in line for line in rows)


def test_front_matter_is_valid_yaml_and_huggingface_model_index():
    from huggingface_hub import ModelCard as HFCard

    md = render_markdown(_card(FULL_TEXT))
    assert md.startswith("---\n")
    meta = yaml.safe_load(md.split("---\n")[1])
    assert meta["license"] == "mit" and meta["library_name"] == "sklearn"
    assert {r["group"] for r in meta["fairness"]} == {"Female", "Male"}
    hf = HFCard(md)
    results = hf.data.eval_results
    assert results and {r.metric_type for r in results} >= {"selection_rate", "accuracy"}
    assert hf.data.to_dict()["model-index"][0]["name"] == "Loan approval model"


def test_json_round_trip_is_exact():
    card = _card(FULL_TEXT)
    text = card.to_json()
    again = ModelCard.from_json(text)
    assert again.to_json() == text
    assert again == ModelCard.from_dict(json.loads(text))
    assert card.completeness()["intended_use"] == 1.0
    with pytest.raises(faircard.FaircardError):
        ModelCard.from_json("{not json")


@pytest.mark.parametrize("text, says", [
    ('{"model_details": "Loans"}', "must be objects"),
    ('{"model_details": {}, "intended_use": [1, 2]}', "intended_use"),
    ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
    ('{"model_details": {"name": "' + "x" * 5_000_001 + '"}}', "at most 5,000,000"),
    ('["model_details"]', "not a faircard model card"),
])
def test_malformed_card_json_is_refused_with_a_reason(text, says):
    with pytest.raises(faircard.FaircardError, match=says):
        ModelCard.from_json(text)


def test_personal_data_columns_never_appear(tmp_path):
    from faircard.cli import main

    df = _frame()
    df.insert(0, "name", [f"Secret Person {i}" for i in range(len(df))])
    df.insert(1, "dob", ["1980-02-03"] * len(df))
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    code = main(["card", str(path), "--target", "y", "--score", "s", "--sensitive", "sex",
                 "--out", str(tmp_path / "out"), "--formats", "md,html,json"])
    assert code == 0
    for f in ("model_card.md", "model_card.html", "model_card.json"):
        text = (tmp_path / "out" / f).read_text()
        assert "Secret Person" not in text and "1980-02-03" not in text


@pytest.fixture(scope="module")
def pdf_file(tmp_path_factory):
    card = _card(FULL_TEXT)
    path = tmp_path_factory.mktemp("pdf") / "card.pdf"
    path.write_bytes(render_pdf(card))
    return path


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_pdf_text_has_sections_groups_and_korean(pdf_file):
    text = subprocess.run(["pdftotext", str(pdf_file), "-"], capture_output=True, text=True,
                          check=True).stdout
    for heading in ["Model details", "Intended use", "Factors", "Metrics", "Evaluation data",
                    "Training data", "Quantitative analyses", "Ethical considerations",
                    "Caveats and recommendations", "Provenance", "Review"]:
        assert heading in text, heading
    assert "Female" in text and "Male" in text
    assert KOREAN in text
    assert "Page 1 of" in text


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils is not installed")
def test_pdf_first_page_is_not_blank_and_has_an_image(pdf_file, tmp_path):
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf_file),
                    str(tmp_path / "p")], check=True)
    png = next(tmp_path.glob("p*.png"))
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("L"), dtype=float)
    assert pixels.std() > 5  # text and tables, not an empty page
    images = subprocess.run(["pdfimages", "-list", str(pdf_file)], capture_output=True,
                            text=True, check=True).stdout.strip().splitlines()
    assert len(images) >= 3  # header lines + at least one embedded chart


def test_pdf_refuses_network_urls():
    from faircard.render import data_only_fetcher

    fetcher = data_only_fetcher()
    with pytest.raises(ValueError):
        fetcher.fetch("http://127.0.0.1:9/x.png")


def _rich_frame(n=900, seed=3):
    """Two features (sex, race) with an intersection, a small race group ("D", 18 people) and a
    race group with no actual positives ("E"), so some rates are undefined."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], n)
    race = rng.choice(["A", "B", "C"], n, p=[0.5, 0.3, 0.2]).astype(object)
    race[:18] = "D"
    race[18:58] = "E"
    y = (rng.random(n) < 0.35 + 0.1 * (sex == "Male") + 0.1 * (race == "A")).astype(int)
    y[18:58] = 0
    s = np.clip(0.35 * y + 0.05 * (race == "B") + rng.normal(0.33, 0.18, n), 0, 1).round(3)
    return pd.DataFrame({"y": y, "s": s, "sex": sex, "race": race})


def _korean_frame(n=500, seed=4):
    rng = np.random.default_rng(seed)
    region = rng.choice(["서울", "부산", "대구"], n, p=[0.5, 0.3, 0.2])
    y = (rng.random(n) < 0.4 + 0.1 * (region == "서울")).astype(int)
    s = np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0, 1).round(3)
    return pd.DataFrame({"결과": y, "점수": s, "지역": region})


KOREAN_TEXT = {
    "model_details": {"name": "대출 승인 모델", "owners": "위험관리팀",
                      "description": "대출 신청서를 평가합니다."},
    "intended_use": {"primary_uses": "대출 담당자의 판단을 돕습니다."},
    "ethical_considerations": {"text": KOREAN},
}


def test_golden_several_features_small_group_and_undefined_values():
    a = faircard.assess(_rich_frame(), target="y", score="s", sensitive=["sex", "race"],
                        n_boot=200, random_state=0)
    card = build_card(a, **FIXED)
    _golden("card_features.md", render_markdown(card))
    _golden("card_features.json", render_json(card))


def test_golden_korean_text_and_group_names():
    a = faircard.assess(_korean_frame(), target="결과", score="점수", sensitive="지역",
                        n_boot=200, random_state=0)
    card = build_card(a, text=KOREAN_TEXT, **FIXED)
    _golden("card_korean.md", render_markdown(card))
    _golden("card_korean.html", render_html(card, charts={}))


def test_golden_chosen_per_group_policy():
    from faircard.decision import DecisionPolicy

    # chosen by hand: a lower threshold for Female (0.45) than for Male (0.55)
    policy = DecisionPolicy.per_group("sex", {"Female": 0.45, "Male": 0.55})
    a = faircard.assess(_frame(), target="y", score="s", sensitive="sex", policy=policy,
                        n_boot=200, random_state=0)
    card = build_card(a, **FIXED)
    _golden("card_policy.md", render_markdown(card))


def _adverse_frame(n=800, seed=5):
    """A risk screen: a positive prediction flags the person (adverse). 'Group B' is flagged
    more often, mostly wrongly (a higher false positive rate)."""
    rng = np.random.default_rng(seed)
    race = rng.choice(["Group A", "Group B"], n, p=[0.55, 0.45])
    y = (rng.random(n) < 0.40 + 0.05 * (race == "Group B")).astype(int)
    s = np.clip(0.3 * y + 0.1 * (race == "Group B") + rng.normal(0.33, 0.18, n), 0, 1).round(3)
    return pd.DataFrame({"reoffended": y, "risk": s, "race": race})


ADVERSE_TEXT = {"model_details": {"name": "Pretrial risk screen"},
                "intended_use": {"primary_uses": "Flag people for a closer review."}}


def test_golden_adverse_decision():
    a = faircard.assess(_adverse_frame(), target="reoffended", score="risk", sensitive="race",
                        favorable_outcome="negative", n_boot=200, random_state=0)
    card = build_card(a, text=ADVERSE_TEXT, **FIXED)
    _golden("card_adverse.md", render_markdown(card))
    _golden("card_adverse.html", render_html(card, charts={}))
    _golden("card_adverse.json", render_json(card))


def test_adverse_card_states_its_figures_on_the_favourable_outcome():
    """The adverse golden's figures, checked against scikit-learn on group masks: what is
    reviewed by eye in tests/golden/card_adverse.* is also true."""
    from sklearn.metrics import confusion_matrix

    df = _adverse_frame()
    a = faircard.assess(df, target="reoffended", score="risk", sensitive="race",
                        favorable_outcome="negative", n_boot=200, random_state=0)
    built = build_card(a, text=ADVERSE_TEXT, **FIXED)
    card, md = json.loads(render_json(built)), render_markdown(built)
    flagged, fpr, not_flagged = {}, {}, {}
    for g, part in df.groupby("race"):
        pred = (part["risk"] >= 0.5).astype(int)
        tn, fp, fn, tp = confusion_matrix(part["reoffended"], pred, labels=[0, 1]).ravel()
        flagged[g] = pred.mean()
        not_flagged[g] = 1 - pred.mean()
        fpr[g] = fp / (fp + tn)
    assert card["metrics"]["favorable_outcome"] == "negative"
    assert "adverse for the person" in card["metrics"]["decision_meaning"]
    assert "Selection rate (share flagged)" in md and "approved" not in md and "denied" not in md
    crit = card["quantitative"]["criteria"]["race"]
    dir_oracle = min(not_flagged.values()) / max(not_flagged.values())
    assert crit["disparate_impact_ratio"] == pytest.approx(dir_oracle, abs=1e-12)
    assert crit["demographic_parity_ratio"] == pytest.approx(
        min(flagged.values()) / max(flagged.values()), abs=1e-12)
    assert crit["passes_four_fifths"] is bool(dir_oracle >= 0.8)
    found = card["quantitative"]["findings"]
    hi, lo = max(fpr, key=fpr.get), min(fpr, key=fpr.get)
    assert found[0].startswith(f"race: the false positive rate is {100 * fpr[hi]:.1f}% for "
                               f"'{hi}' vs {100 * fpr[lo]:.1f}% for '{lo}'")
    low, high = min(not_flagged, key=not_flagged.get), max(not_flagged, key=not_flagged.get)
    rule = next(s for s in found if "four-fifths" in s)
    assert rule.startswith(f"race: the share of people not flagged is "
                           f"{100 * not_flagged[low]:.1f}% in '{low}' vs "
                           f"{100 * not_flagged[high]:.1f}% in '{high}' ({dir_oracle:.2f}x)")


def test_golden_policy_whose_constraint_left_small_groups_out():
    """Chosen for equal opportunity on data with two groups below the minimum size: the card
    names them with their sizes (tests/unit/test_left_out_groups.py checks the sizes)."""
    from faircard.policy import choose_policy_from_sweep
    from faircard.thresholds import sweep_assessment

    data = pd.read_csv(Path(__file__).parent / "data" / "left_out_small.csv")
    a = faircard.assess(data, target="y", score="score", sensitive="race", n_boot=0)
    p = choose_policy_from_sweep(sweep_assessment(a, "race"), feature="race",
                                 constraint="equal_opportunity", tolerance=0.02,
                                 min_group_size=a.spec.min_group_size)
    b = faircard.assess(data, target="y", score="score", sensitive="race", n_boot=0,
                        policy=p.decision_policy())
    card = build_card(b, **FIXED)
    _golden("card_left_out.md", render_markdown(card))
    _golden("card_left_out.html", render_html(card, charts={}))
    _golden("card_left_out.json", render_json(card))
