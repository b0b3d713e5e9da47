"""What the pages show, read through AppTest and checked against outside oracles: words the
page must not show, counts written with thousands separators, and agreement in number."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, demographic_parity_ratio, true_positive_rate
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Title

from faircard.decision import DecisionPolicy
from tests.app.conftest import new, no_exception, seed_state, small_frame, text_of
from tests.app.test_card_values import _table
from tests.app.test_policy_flow import _carry


def test_thresholds_page_opens_with_its_title_and_shows_no_stray_text():
    """A bare string in a page script is shown by Streamlit's magic: the Thresholds page once
    opened with a code note ("The columns of the confusion matrices ...") above its title."""
    at = seed_state(new("app_pages/thresholds.py"), df=small_frame(n=300, seed=3),
                    sensitive=("sex",))
    at.session_state["fc_data_digest"] = "audit-stray-text"
    at.run()
    no_exception(at)
    first = next(iter(at.main.children.values()))
    assert isinstance(first, Title) and first.value == "Thresholds", first
    assert not [m.value for m in at.markdown if "confusion matrices" in m.value]


def _sized_frame() -> pd.DataFrame:
    """Groups of known sizes above a thousand: race A 2,100, B 1,500, C 700, D 800; sex from
    a seeded draw; a score that depends on the outcome."""
    rng = np.random.default_rng(7)
    race = np.repeat(["A", "B", "C", "D"], [2100, 1500, 700, 800])
    n = race.size
    sex = rng.choice(["Female", "Male"], n)
    y = (rng.random(n) < 0.4).astype(int)
    score = np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0, 1).round(3)
    return pd.DataFrame({"outcome": y, "risk_score": score, "sex": sex, "race": race,
                         "age": rng.integers(18, 80, n), "decision": (score >= 0.5).astype(int)})


def _seed_sized(page: str) -> AppTest:
    at = seed_state(new(page), df=_sized_frame())
    at.session_state["fc_data_digest"] = "audit-thousands"
    at.session_state["fc_min_group_size"] = 1000
    return at


def test_counts_of_a_thousand_and_more_have_separators_and_plurals_agree():
    """The card, its findings and caveats and the pages write counts of 1,000 and more with a
    separator (never "5100 rows"), and plurals agree ("2 groups", never "group(s)"); the
    counts themselves are pandas' counts of the rows."""
    df = _sized_frame()
    race = df["race"].value_counts()
    small = race[race < 1000]

    card = _seed_sized("app_pages/model_card.py")
    card.run()
    no_exception(card)
    preview = "\n".join(m.value for m in card.markdown)
    assert f"{len(df):,} rows (0 left out)" in preview
    for g, n in race.items():
        cell = f"| {g} | {n:,}" + (" (small)" if n < 1000 else "") + " |"
        assert cell in preview, cell
    for g, n in df["sex"].value_counts().items():
        assert f"| {g} | {n:,} |" in preview
    assert (f"{len(small)} groups have fewer than 1,000 people and are shown but not "
            "compared.") in preview
    listed = ", ".join(f"'{g}' ({n:,})" for g, n in small.sort_index().items())
    assert f"(fewer than 1,000 people): {listed}." in preview

    dis = _seed_sized("app_pages/disparities.py")
    dis.run()
    no_exception(dis)
    captions = [text_of(c) for c in dis.caption]
    assert (f"'race': {len(small)} groups with fewer than 1,000 rows are left out of "
            f"comparisons: {', '.join(sorted(small.index))}.") in captions, captions
    assert not [c for c in captions if "(s)" in c]

    sens = _seed_sized("app_pages/sensitive.py")
    sens.run()
    no_exception(sens)
    assert "Groups with fewer than 1,000 people are greyed out and not compared." in [
        i.value for i in sens.info]


def _column_config(element) -> dict:
    return json.loads(element.proto.columns)


def test_thresholds_table_says_what_a_selection_is_and_sensitive_page_separates_thousands():
    """With a positive decision adverse, the Thresholds page's table labels the selection rate
    "share flagged" as every other page does; the Sensitive features page shows group sizes
    with a thousands separator, as the Disparities page does."""
    thr = _seed_sized("app_pages/thresholds.py")
    thr.session_state["fc_favorable"] = "negative"
    thr.run()
    no_exception(thr)
    config = _column_config(thr.dataframe[0])
    assert config["selection_rate"]["label"] == "Selection rate (share flagged)"

    sens = _seed_sized("app_pages/sensitive.py")
    sens.run()
    no_exception(sens)
    table = sens.dataframe[0]
    assert table.value["people"].max() >= 1000
    assert _column_config(table)["people"]["type_config"]["format"] == "localized"


@pytest.mark.parametrize("favorable", ["positive", "negative"])
def test_a_rule_that_selects_nobody_never_passes_the_four_fifths_rule(favorable):
    """A threshold above every score selects nobody (checked on the scores): the favourable
    rates of all groups are then equal by construction, so the Disparities tile and the card's
    criteria table say n/a instead of "passes", and no group is named the worst or the best of
    rates that are all equal. A rule that tells people apart is still judged by fairlearn's
    ratio of favourable rates."""
    df = small_frame(n=600, seed=4)
    for t, trivial in ((float(df.risk_score.max()) + 0.01, True), (0.5, False)):
        assert ((df.risk_score >= t).sum() == 0) == trivial
        dis = seed_state(new("app_pages/disparities.py"), df=df, sensitive=("sex",))
        dis.session_state["fc_data_digest"] = f"audit-nobody-{t}"
        dis.session_state["fc_policy"] = DecisionPolicy.single(t)
        dis.session_state["fc_favorable"] = favorable
        dis.run()
        no_exception(dis)
        tile = {m.label: m.value for m in dis.metric}["Four-fifths rule"]
        card = _carry(dis, "app_pages/model_card.py")
        card.run()
        no_exception(card)
        preview = "\n".join(m.value for m in card.markdown)
        (row,) = _table(preview, "### Fairness criteria")
        if trivial:
            assert tile == "n/a" and row["Four-fifths rule"] == "n/a"
            assert "passes" not in preview.split("### Fairness criteria", 1)[1]
            # every group's selection rate is 0: no group is the worst or the best
            label = "Selection rate (share " + ("approved" if favorable == "positive"
                                                else "flagged") + ")"
            shown = dis.dataframe[-1].value.set_index("metric").loc[label]
            carded = next(r for r in _table(preview, "### Disparities") if r["Metric"] == label)
            assert (shown["worst group"], shown["best group"]) == ("", "")
            assert (carded["Worst group"], carded["Best group"]) == ("", "")
            continue
        pred = (df.risk_score >= t).astype(int)
        fav = pred if favorable == "positive" else 1 - pred
        ratio = demographic_parity_ratio(df.outcome, fav, sensitive_features=df.sex)
        want = "passes" if ratio >= 0.8 else "fails"
        assert tile == want and row["Four-fifths rule"] == want


def test_card_of_another_model_says_the_policy_misses_the_constraint_it_was_chosen_for():
    """A per-group policy chosen on one model's scores applies to every model. The card of
    the other model stated "It was chosen for equal opportunity within 0.01" although on its
    scores the gap in true positive rates (fairlearn) is larger: it now says so."""
    df = small_frame(n=1200, seed=6)
    rng = np.random.default_rng(6)
    df["score: first"] = df.pop("risk_score")
    df["score: second"] = np.clip(df["score: first"] + 0.15 * (df.sex == "Male")
                                  + rng.normal(0, 0.1, len(df)), 0, 1).round(4)
    at = seed_state(new("app_pages/thresholds.py"), df=df, sensitive=("sex",))
    at.session_state["fc_data_digest"] = "audit-two-models"
    at.session_state["fc_decision"] = "model"
    at.session_state["fc_model_columns"] = {"first": "score: first", "second": "score: second"}
    at.run()
    assert at.selectbox(key="w_thr_model").value == "first"
    at.selectbox(key="w_constraint").set_value("equal_opportunity").run()
    at.number_input(key="w_tolerance").set_value(0.01).run()
    at.button(key="use_policy").click().run()
    no_exception(at)
    thresholds = at.session_state["fc_policy"].thresholds
    for model, column in (("first", "score: first"), ("second", "score: second")):
        pred = (df[column] >= df.sex.map(thresholds)).astype(int)
        gap = MetricFrame(metrics=true_positive_rate, y_true=df.outcome, y_pred=pred,
                          sensitive_features=df.sex).difference()
        at.session_state["fc_focus_model"] = model
        card = _carry(at, "app_pages/model_card.py")
        card.run()
        no_exception(card)
        policy_line = next(line for line in "\n".join(m.value for m in card.markdown)
                           .splitlines() if line.startswith("Decision policy:"))
        assert "It was chosen for equal opportunity within 0.01" in policy_line
        missed = f"it does not meet it: the largest gap is {gap:.3f}."
        assert (missed in policy_line) == (gap > 0.01), (model, gap, policy_line)
        assert (gap > 0.01) == (model == "second")


def test_html_card_leaves_no_worst_group_blank_not_none():
    """No worst or best group (all rates equal, or too few groups to compare) is an empty cell
    in the HTML card, as in the Markdown one, not the word 'None'."""
    from faircard import assess
    from faircard.card import build_card
    from faircard.render import render_html

    df = small_frame(n=400, seed=9)
    nobody = float(df.risk_score.max()) + 0.01
    assert (df.risk_score >= nobody).sum() == 0
    a = assess(df, target="outcome", score="risk_score", sensitive=["sex"], n_boot=0,
               policy=DecisionPolicy.single(nobody))
    html = render_html(build_card(a), charts={})
    assert ">None<" not in html
    assert re.search(r"<td>Selection rate \(share approved\)</td><td class=\"num\">0\.000</td>"
                     r"<td class=\"num\">n/a</td><td></td><td></td>", html)
