"""Parts of a page that rerun alone (st.fragment) leave nothing stale, in a real browser on
generated data: a reference group chosen on Sensitive features reaches Disparities; a metric
added on Disparities shows its figures (checked against scikit-learn on each group's rows);
other groups chosen on Thresholds change every table there and the per-group search below them
(checked against scikit-learn); and a per-group policy searched on Thresholds, once used, is
the policy that the page, the sidebar and the model card state and compute under (checked
against faircard.assess under that policy). Each fragment's rerun must write its own
end-of-run marker: the steps wait for it, and the page's marker from the run before stays as
it was, which shows that only the fragment ran."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import expect
from sklearn.metrics import precision_score

import faircard
from faircard.decision import DecisionPolicy
from faircard.formatting import fmt_threshold
from tests.app.conftest import small_frame
from tests.e2e.conftest import SENTINEL, grid_rows
from tests.e2e.test_journey import Journey, _first_number, _md_table

pytestmark = pytest.mark.e2e
SHOWN = 0.0005  # the app shows three decimals


def _markers(page) -> list[tuple[str, int]]:
    return [(m.get_attribute("data-page"), int(m.get_attribute("data-run")))
            for m in page.locator(SENTINEL).all()]


def _fragment_step(j: Journey, label: str, value: str, page_name: str) -> None:
    """Choose ``value`` in ``label`` (a widget inside a fragment) and check that only the
    fragment ran: one new marker, numbered above every marker before, and the page's own
    marker (the oldest) unchanged."""
    before = _markers(j.page)
    j.choose(label, value)
    after = _markers(j.page)
    page_marker = min(before, key=lambda m: m[1])
    assert page_marker in after, (before, after)
    new = [m for m in after if m not in before]
    assert len(new) == 1, (before, after)
    assert new[0][0] == page_name and new[0][1] > max(r for _, r in before), (before, after)


def _settled(page, read, ok, timeout_s: float = 10.0):
    """``read()`` once ``ok`` of it holds (or after ``timeout_s``): the data grids' text
    (read here) follows their canvas a moment after the run's end-of-run marker; a grid that
    stays stale fails the checks that follow."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = read()
        if ok(value) or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(100)


def _grid_of(page, frame, groups: set[str]) -> list[list[str]]:
    """The cells of the st.dataframe ``frame`` once its rows are ``groups``."""
    rows = _settled(page, lambda: grid_rows(frame), lambda r: {x[0] for x in r[1:]} == groups)
    assert {r[0] for r in rows[1:]} == groups, (rows, groups)
    return rows


def _column(page, header: str):
    return page.locator("th[role=columnheader]", has_text=re.compile(f"^{re.escape(header)}$"))


def _selection_rates(df, feature: str, t: float) -> dict[str, float]:
    return {str(g): float((part.risk_score >= t).mean()) for g, part in df.groupby(feature)}


def test_fragment_choices_reach_other_pages_and_the_card(page, tmp_path):
    df = small_frame(n=3000, seed=11)
    csv = tmp_path / "applicants.csv"
    df.to_csv(csv, index=False)
    j = Journey(page)
    j.runs.act(lambda: page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(
        str(csv)), "data")
    j.choose("True outcome (two values)", "outcome")
    j.choose("Positive outcome", "1")
    j.radio("A score column")
    j.choose("Score column", "risk_score")
    expect(page.get_by_text("Data and decisions are ready.", exact=True)).to_be_visible()
    t = 0.5  # the policy in force until one is chosen
    assert f"at or above {fmt_threshold(t)}" in page.get_by_test_id("stSidebar").inner_text()

    # Sensitive features: the reference group is a fragment; Disparities uses the new one
    j.go("Next: choose sensitive features", "sensitive")
    smaller = df["sex"].value_counts().index[-1]  # the largest group is the default
    _fragment_step(j, "Reference for sex", smaller, "sensitive")
    j.go("Next: see the disparities", "disparities")
    expect(page.get_by_text(f"reference group '{smaller}'", exact=False).first).to_be_visible()

    # Disparities: the metrics are a fragment; a metric added shows its figures per group
    _fragment_step(j, "Metrics", "Precision", "disparities")
    page.keyboard.press("Escape")  # close the list of metrics (nothing is sent)
    shown = _settled(page, lambda: j.table("people"), lambda t: "Precision" in t.columns)
    assert "Precision" in shown.columns, list(shown.columns)
    for g, part in df.groupby("sex"):
        want = precision_score(part.outcome, part.risk_score >= t)
        assert abs(_first_number(shown.loc[g, "Precision"]) - want) <= SHOWN, g

    # Thresholds: the constraint is a fragment; "Use this policy" makes its policy everyone's
    j.go("Next: thresholds", "thresholds")
    # the groups shown are a fragment: every table below them, and the per-group search
    # nested in it, change to the new groups
    for feature in ("race", "sex"):
        _fragment_step(j, "Groups of", feature, "thresholds")
        want = _selection_rates(df, feature, t)
        rows = _grid_of(page, page.get_by_test_id("stDataFrame").first, set(want))
        # at the slider's threshold ("Selection rate (share approved)": it says what one is)
        rate = next(i for i, c in enumerate(rows[0]) if c.startswith("Selection rate"))
        for r in rows[1:]:
            assert abs(float(r[rate]) - want[r[0]]) <= SHOWN, (feature, r)
        policy_table = page.get_by_test_id("stDataFrame").filter(
            has=_column(page, "threshold"))
        _grid_of(page, policy_table, set(want))  # the per-group search, nested, follows
        searched = json.loads(j.download("Policy (JSON)", tmp_path / "p.json").read_text())
        assert set(searched["thresholds"]) == set(want), feature
    _fragment_step(j, "Constraint", "equal opportunity", "thresholds")
    j.click("Use this policy")
    policy = json.loads(j.download("Policy (JSON)", tmp_path / "policy.json").read_text())
    thresholds = {g: float(t) for g, t in policy["thresholds"].items()}
    assert set(thresholds) == set(df["sex"])
    words = [f"{g} {fmt_threshold(t)}" for g, t in thresholds.items()]
    in_force = page.get_by_test_id("stAlert").filter(has_text="Decision policy in force")
    sidebar = page.get_by_test_id("stSidebar").inner_text()
    for w in words:
        assert w in in_force.inner_text(), (w, in_force.inner_text())
        assert w in sidebar, (w, sidebar)

    # Model card: it states that policy and its figures are computed under it
    j.go("Next: the model card", "model_card")
    md = j.download("Markdown", tmp_path / "card.md").read_text(encoding="utf-8")
    for w in words:
        assert w in md, w
    truth = faircard.assess(df, target="outcome", score="risk_score", sensitive="sex",
                            policy=DecisionPolicy.per_group("sex", thresholds), n_boot=0)
    tb = truth.by_group[truth.by_group["feature"] == "sex"].set_index(["group", "metric"])
    table = _md_table(md, "### By sex")
    rate = next(c for c in table.columns if c.startswith("Selection rate"))
    for g in thresholds:
        for label, metric in ((rate, "selection_rate"),
                              ("True positive rate", "true_positive_rate")):
            shown = _first_number(table.loc[g, label])
            assert abs(shown - tb.loc[(g, metric), "value"]) <= SHOWN, (g, label, shown)
