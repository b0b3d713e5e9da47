"""The whole flow in a real browser on COMPAS, checking numbers: upload, roles, sensitive
features, the Disparities page against ProPublica's published error rates, a per-group policy,
the model card's Markdown and PDF against faircard.assess under that policy, governance.

Every step waits for the end-of-run marker of a run that began after the action (see
tests/e2e/conftest.py: Runs) and finds elements by exact role names or test ids."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect

import faircard
from faircard.formatting import fmt_threshold
from tests.e2e.conftest import ROOT, Runs, grid_rows, screenshot_dir

pytestmark = pytest.mark.e2e

COMPAS_NAME = "compas-scores-two-years.csv"
DATA_DIRS = [os.environ.get("FAIRCARD_DATA_DIR", ""), str(ROOT.parent / "shared" / "data"),
             "/work/shared/data"]
# ProPublica, "How We Analyzed the COMPAS Recidivism Algorithm" (2016): decile score >= 5
# ("medium or high risk") against two-year recidivism, all 7,214 defendants.
PUBLISHED = {("African-American", "False positive rate"): 0.449,
             ("Caucasian", "False positive rate"): 0.235,
             ("African-American", "False negative rate"): 0.280,
             ("Caucasian", "False negative rate"): 0.477}
SHOWN = 0.0005  # the app shows three decimals
PUBLISHED_ROUNDING = 0.0005  # the table gives one decimal of a percentage


def _compas() -> Path:
    for d in DATA_DIRS:
        if d and (Path(d) / COMPAS_NAME).is_file():
            return Path(d) / COMPAS_NAME
    pytest.skip(f"{COMPAS_NAME} is not in any of {', '.join(d for d in DATA_DIRS if d)} "
                "(set FAIRCARD_DATA_DIR)")


def _md_table(md: str, heading: str) -> pd.DataFrame:
    """The Markdown table under ``heading`` as text, indexed by its first column."""
    lines = md[md.index(heading):].splitlines()[1:]
    rows = []
    for line in lines:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
        elif rows:
            break
    header, body = rows[0], [r for r in rows[2:]]
    return pd.DataFrame(body, columns=header).set_index(header[0])


def _first_number(cell: str) -> float:
    m = re.match(r"\s*(-?\d+(?:\.\d+)?)", cell)
    assert m, cell
    return float(m.group(1))


class Journey:
    def __init__(self, page):
        self.page = page
        self.runs = Runs(page)
        self.runs.settle()

    def choose(self, label: str, value: str) -> None:
        """Pick ``value`` in the select box labelled ``label`` (nothing if already chosen)."""
        combo = self.page.get_by_role("combobox", name=label, exact=True)
        if combo.input_value() == value:
            return

        def pick():
            combo.click()
            combo.fill(value)
            self.page.get_by_role("option", name=value, exact=True).click()

        self.runs.act(pick)

    def radio(self, label: str) -> None:
        option = self.page.get_by_role("radio", name=label, exact=True)
        if not option.is_checked():
            self.runs.act(lambda: self.page.get_by_text(label, exact=True).click())

    def number(self, label: str, value: str) -> None:
        box = self.page.get_by_role("spinbutton", name=label, exact=True)
        if float(box.input_value()) == float(value):
            return
        self.runs.act(lambda: (box.fill(value), box.press("Enter")))

    def go(self, link: str, page_name: str) -> None:
        self.runs.act(lambda: self.page.get_by_role("link", name=link, exact=True).click(),
                      page_name)

    def click(self, button: str) -> None:
        self.runs.act(lambda: self.page.get_by_role("button", name=button, exact=True).click())

    def download(self, label: str, path: Path) -> Path:
        button = self.page.get_by_test_id("stDownloadButton").filter(
            has=self.page.get_by_role("button", name=label, exact=True))
        with self.page.expect_download() as dl:
            button.get_by_role("button").click()
        dl.value.save_as(path)
        return path

    def table(self, header: str, rows_of: set[str] | None = None) -> pd.DataFrame:
        """The st.dataframe that has a column ``header``, as text; with ``rows_of``, once
        those are its rows (a data grid's text follows its canvas a moment after the run's
        end-of-run marker, so it can still show the previous groups)."""
        heading = self.page.locator("th[role=columnheader]",
                                    has_text=re.compile(f"^{re.escape(header)}$"))
        frame = self.page.get_by_test_id("stDataFrame").filter(has=heading)
        frame.first.wait_for(state="attached")
        assert frame.count() == 1, f"{frame.count()} tables with a column '{header}'"
        deadline = time.monotonic() + 10
        rows = grid_rows(frame)
        while rows_of is not None and {r[0] for r in rows[1:]} != rows_of \
                and time.monotonic() < deadline:
            self.page.wait_for_timeout(100)
            rows = grid_rows(frame)
        return pd.DataFrame(rows[1:], columns=rows[0]).set_index(rows[0][0])


def test_journey_on_compas(page, tmp_path):
    compas = _compas()
    j = Journey(page)

    # Data & model: COMPAS, the decile score at 5 or above flags a person as higher risk
    j.runs.act(lambda: page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(
        str(compas)), "data")
    j.choose("True outcome (two values)", "two_year_recid")
    j.choose("Positive outcome", "1")
    j.radio("adverse (e.g. flagged as high risk)")  # being flagged is bad for the person
    j.radio("A score column")
    j.choose("Score column", "decile_score")
    j.number("Decision threshold: a score at or above it means a positive decision", "5")
    expect(page.get_by_text("Data and decisions are ready.", exact=True)).to_be_visible()

    # Sensitive features: race among the suggestions
    j.go("Next: choose sensitive features", "sensitive")
    sensitive = page.get_by_role("combobox", name="Sensitive features", exact=True)
    expect(sensitive).to_have_count(1)  # waits: a widget's code may load after the marker

    # Disparities: error rates by race equal ProPublica's table and faircard.assess
    j.go("Next: see the disparities", "disparities")
    j.choose("Groups of", "race")
    df = pd.read_csv(compas)
    shown = j.table("people", rows_of=set(df["race"].astype(str)))
    truth = faircard.assess(df.drop(columns=["name", "first", "last", "dob"]),
                            target="two_year_recid", score="decile_score", threshold=5,
                            sensitive="race", n_boot=0, favorable_outcome="negative")
    bg = truth.by_group[truth.by_group["feature"] == "race"].set_index(["group", "metric"])
    for (group, label), published in PUBLISHED.items():
        on_screen = _first_number(shown.loc[group, label])
        # both are rounded: they agree when their rounding intervals meet
        assert abs(on_screen - published) <= SHOWN + PUBLISHED_ROUNDING + 1e-9, (group, label)
        metric = label.lower().replace(" ", "_")
        assert abs(on_screen - bg.loc[(group, metric), "value"]) <= SHOWN, (group, label)
    assert int(shown.loc["African-American", "people"].replace(",", "")) == 3696
    # an adverse decision: the findings lead with the false positive rate gap
    texts = page.get_by_test_id("stMarkdownContainer").all_inner_texts()
    errors = [t for t in texts if re.search(r"the false (positive|negative|discovery) rate is", t)]
    assert errors and "the false positive rate is" in errors[0], errors[:3]
    page.screenshot(path=str(screenshot_dir(tmp_path) / "journey_disparities.png"))

    # Thresholds: one threshold per race group under equalized odds, used for the card
    j.go("Next: thresholds", "thresholds")
    j.choose("Groups of", "race")
    j.choose("Constraint", "equalized odds")
    j.click("Use this policy")
    policy = json.loads(j.download("Policy (JSON)", tmp_path / "policy.json").read_text())
    thresholds = {g: float(t) for g, t in policy["thresholds"].items()}
    assert set(thresholds) >= {"African-American", "Caucasian"}

    # Model card: Markdown and PDF state the chosen policy, and their figures are computed
    # under it (faircard.assess with the same per-group thresholds)
    from faircard.decision import DecisionPolicy

    chosen = DecisionPolicy.per_group("race", thresholds)
    under = faircard.assess(df.drop(columns=["name", "first", "last", "dob"]),
                            target="two_year_recid", score="decile_score", sensitive="race",
                            policy=chosen, n_boot=0, favorable_outcome="negative")
    ub = under.by_group[under.by_group["feature"] == "race"].set_index(["group", "metric"])
    j.go("Next: the model card", "model_card")
    md = j.download("Markdown", tmp_path / "card.md").read_text(encoding="utf-8")
    assert md.startswith("---") and "## Quantitative analyses" in md
    assert "adverse for the person" in md
    for group, t in thresholds.items():
        assert f"{group} {fmt_threshold(t)}" in md, (group, t)  # the policy in words
    card_table = _md_table(md, "### By race")
    figures = []
    selection = next(c for c in card_table.columns if c.startswith("Selection rate"))
    for group in ("African-American", "Caucasian", "Hispanic"):
        for label in (selection, "False positive rate", "False negative rate"):
            cell = card_table.loc[group, label]
            metric = "selection_rate" if label == selection else label.lower().replace(" ", "_")
            assert abs(_first_number(cell) - ub.loc[(group, metric), "value"]) <= SHOWN, (
                group, label, cell)
            figures.append(cell.split()[0])
    j.click("Prepare HTML and PDF")
    pdf = j.download("PDF", tmp_path / "card.pdf")
    assert pdf.read_bytes()[:4] == b"%PDF"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        flat = " ".join(text.split())
        assert "adverse for the person" in flat
        for group, t in thresholds.items():
            assert f"{group} {fmt_threshold(t)}" in flat, (group, t)
        race = flat[flat.index("By race"):]
        for figure in figures:
            assert figure in race, figure

    # Governance: record the assessment, send it for review, verify the store
    j.go("Next: record the assessment and sign it off", "governance")
    page.get_by_role("textbox", name="Your name").first.fill("Ana Kim")
    j.click("Record as a draft")
    expect(page.get_by_text("Recorded as record 1", exact=False).first).to_be_visible()
    page.get_by_role("textbox", name="Your name").nth(1).fill("Ana Kim")
    j.click("Submit for review")
    expect(page.get_by_text("Record 1 is now in review.").first).to_be_visible()
    j.click("Verify the store")
    expect(page.get_by_text("The audit store is intact", exact=False).first).to_be_visible()
