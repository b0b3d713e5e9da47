"""Parts of a page that rerun alone (st.fragment) leave nothing stale, in a real browser on
generated data: a reference group chosen on Sensitive features reaches Disparities, and a
per-group policy searched on Thresholds, once used, is the policy that the page, the sidebar and
the model card state and compute under (checked against faircard.assess under that policy).
Each fragment's rerun must write its own end-of-run marker: the steps wait for it, and the page's
marker from the run before stays as it was, which shows that only the fragment ran."""

from __future__ import annotations

import json

import pytest

import faircard
from faircard.decision import DecisionPolicy
from faircard.formatting import fmt_threshold
from tests.app.conftest import small_frame
from tests.e2e.conftest import SENTINEL
from tests.e2e.test_journey import Journey, _first_number, _md_table

pytestmark = pytest.mark.e2e
SHOWN = 0.0005  # the app shows three decimals


def _markers(page) -> list[tuple[str, int]]:
    return [(m.get_attribute("data-page"), int(m.get_attribute("data-run")))
            for m in page.locator(SENTINEL).all()]


def _fragment_step(j: Journey, label: str, value: str, page_name: str) -> None:
    """Choose ``value`` in ``label`` (a widget inside a fragment) and check that only the
    fragment ran: one new marker, numbered above the page's, which is unchanged."""
    (before,) = _markers(j.page)
    j.choose(label, value)
    after = _markers(j.page)
    assert before in after and len(after) == 2, (before, after)
    (new,) = [m for m in after if m != before]
    assert new[0] == page_name and new[1] > before[1], (before, after)


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
    assert page.get_by_text("Data and decisions are ready.", exact=True).is_visible()

    # Sensitive features: the reference group is a fragment; Disparities uses the new one
    j.go("Next: choose sensitive features", "sensitive")
    smaller = df["sex"].value_counts().index[-1]  # the largest group is the default
    _fragment_step(j, "Reference for sex", smaller, "sensitive")
    j.go("Next: see the disparities", "disparities")
    assert page.get_by_text(f"reference group '{smaller}'", exact=False).first.is_visible()

    # Thresholds: the constraint is a fragment; "Use this policy" makes its policy everyone's
    j.go("Next: thresholds", "thresholds")
    j.choose("Groups of", "sex")
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
