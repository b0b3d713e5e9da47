"""The whole flow in a real browser: demo, upload, sensitive features, disparities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.e2e.conftest import screenshot_dir, wait_idle

pytestmark = pytest.mark.e2e


def _csv(tmp_path):
    rng = np.random.default_rng(0)
    n = 2000
    sex = rng.choice(["Female", "Male"], n)
    race = rng.choice(["A", "B", "C"], n)
    y = (rng.random(n) < 0.4 + 0.1 * (sex == "Male")).astype(int)
    score = np.clip(0.3 * y + 0.1 * (race == "A") + rng.normal(0.35, 0.2, n), 0, 1).round(4)
    path = tmp_path / "decisions.csv"
    pd.DataFrame({"outcome": y, "risk_score": score, "sex": sex, "race": race}).to_csv(
        path, index=False)
    return path


def test_journey(page, tmp_path):
    page.get_by_role("button", name="Load demo").click()
    page.get_by_text("Data and decisions are ready.").first.wait_for()
    assert page.get_by_text("demo logistic regression").first.is_visible()

    page.locator('input[type="file"]').first.set_input_files(str(_csv(tmp_path)))
    page.get_by_text("decisions.csv").first.wait_for()
    page.get_by_text("A score column", exact=True).click()
    page.get_by_text("Data and decisions are ready.").first.wait_for()
    wait_idle(page)

    page.get_by_role("link", name="Next: choose sensitive features").click()
    page.get_by_text("Reference groups").first.wait_for()
    wait_idle(page)
    # sex and race are suggested from their names
    assert page.get_by_text("Reference for sex").first.is_visible()
    assert page.get_by_text("Reference for race").first.is_visible()

    page.get_by_role("link", name="Next: see the disparities").click()
    page.get_by_text("Differences and ratios between groups").first.wait_for()
    wait_idle(page)
    page.locator(".vega-embed").first.wait_for()
    assert page.locator(".vega-embed").count() >= 1
    assert page.get_by_text("Four-fifths rule").first.is_visible()
    page.screenshot(path=str(screenshot_dir(tmp_path) / "screenshot.png"), full_page=False)

    # thresholds: move the slider with the keyboard, then pick a constrained policy
    page.get_by_role("link", name="Next: thresholds").click()
    page.get_by_role("heading", name="One threshold for everyone").wait_for()
    wait_idle(page)
    shown = page.locator('[data-testid="stSliderThumbValue"]').first
    before = shown.inner_text()
    page.get_by_role("slider").first.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    wait_idle(page)
    assert shown.inner_text() != before
    page.get_by_text("meets demographic parity").first.wait_for()
    combo = page.get_by_role("combobox", name="Constraint")
    combo.click()
    combo.fill("equalized odds")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_text("meets equalized odds").first.wait_for()
    page.get_by_role("button", name="Use this policy in the model card").click()
    page.get_by_text("Chosen for the model card").first.wait_for()

    # the model card: write a sentence, download the Markdown and the PDF
    page.get_by_role("link", name="Next: the model card").click()
    page.get_by_text("Preview").first.wait_for()
    wait_idle(page)
    box = page.get_by_role("textbox", name="Description").first
    box.fill("이 모델은 대출 심사에 사용됩니다.")
    box.press("Tab")
    wait_idle(page)
    def download(label):
        return page.locator('[data-testid="stDownloadButton"]').filter(
            has_text=label).locator("button")

    with page.expect_download() as dl:
        download("Markdown").click()
    md_path = tmp_path / "card.md"
    dl.value.save_as(md_path)
    md = md_path.read_text(encoding="utf-8")
    assert md.startswith("---") and "## Quantitative analyses" in md
    page.get_by_role("button", name="Prepare HTML and PDF").click()
    download("PDF").wait_for(timeout=120_000)
    with page.expect_download() as dl:
        download("PDF").click()
    pdf_path = tmp_path / "card.pdf"
    dl.value.save_as(pdf_path)
    assert pdf_path.read_bytes()[:4] == b"%PDF"

    # governance: record the assessment, send it for review, check the trail
    page.get_by_role("link", name="Next: record the assessment and sign it off").click()
    page.get_by_role("heading", name="Governance").wait_for()
    wait_idle(page)
    page.get_by_role("textbox", name="Your name").first.fill("Ana Kim")
    page.get_by_role("button", name="Record as a draft").click()
    page.get_by_text("Recorded as record 1").first.wait_for()
    wait_idle(page)
    page.get_by_role("textbox", name="Your name").nth(1).fill("Ana Kim")
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text("Record 1 is now in review.").first.wait_for()
    page.get_by_role("button", name="Verify the store").click()
    page.get_by_text("The audit store is intact").first.wait_for()
