"""What the pages show is true under the choices they state: the Diagnostics page under a
policy set per group of an intersection, and the card's checklist only from diagnostics made
under the card's own choices."""

from __future__ import annotations

import numpy as np
import pytest

from faircard.decision import DecisionPolicy

from .conftest import new, no_exception, seed_state, small_frame, text_of


def _with_a_small_group():
    """race C has 24 rows: small at the default minimum size of 30, compared at 20."""
    df = small_frame(n=900, seed=11)
    rng = np.random.default_rng(12)
    df["race"] = np.where(np.arange(len(df)) < 24, "C", rng.choice(["A", "B"], len(df)))
    return df


def test_the_card_takes_no_checklist_made_under_another_minimum_group_size():
    """The card took the checklist the Diagnostics page made with a minimum group size of 30
    ('C' small, left out of its comparisons) after the size was lowered to 20, so the card
    compared 'C' while its evidence said 'C' was too small to compare."""
    df = _with_a_small_group()
    diag = seed_state(new("app_pages/diagnostics.py"), df, sensitive=("race",))
    diag.run()
    no_exception(diag)
    assert any("'C' has only 24 rows" in text_of(m) for m in diag.markdown)
    card = seed_state(new("app_pages/model_card.py"), df, sensitive=("race",))
    for key in ("fc_diag_checklist", "fc_diag_card"):
        card.session_state[key] = diag.session_state[key]
    card.run()
    no_exception(card)
    assert "Bias sources" in " ".join(m.value for m in card.markdown)  # same choices: taken
    card.session_state["fc_min_group_size"] = 20
    card.run()
    no_exception(card)
    assert "Bias sources" not in " ".join(m.value for m in card.markdown)
    assert any("come from the Diagnostics page" in c.value for c in card.caption)


def test_diagnostics_under_a_policy_per_group_of_the_intersection_and_a_trivial_rule():
    """A policy chosen on the Thresholds page for the groups of 'sex & race' made the
    Diagnostics page fail with 'not assessed here ... add it as a sensitive feature'; and a
    rule that flags nobody in any group is said above the tabs, not only under Calibration."""
    groups = [f"{s} & {r}" for s in ("Female", "Male") for r in "ABC"]
    at = seed_state(new("app_pages/diagnostics.py"))
    at.session_state["fc_intersection"] = True
    at.session_state["fc_policy"] = DecisionPolicy.per_group(
        "sex & race", dict(zip(groups, (0.3, 0.4, 0.5, 0.45, 0.5, 0.55), strict=True)))
    at.session_state["fc_policy_chosen"] = True
    at.run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    at.session_state["fc_policy"] = DecisionPolicy.per_group("sex & race",
                                                             dict.fromkeys(groups, 2.0))
    at.run()
    no_exception(at)
    assert any("The decision rule tells nobody apart: nobody is approved" in text_of(e)
               for e in at.error), [e.value for e in at.error]


def _two_models(flat: float):
    df = small_frame()
    df["score: good"], df["score: flat"] = df["risk_score"], flat
    at = seed_state(new("app_pages/disparities.py"), df)
    at.session_state["fc_decision"] = "model"
    at.session_state["fc_model_columns"] = {"good.skops": "score: good",
                                            "flat.skops": "score: flat"}
    return at


def test_models_side_by_side_never_show_a_rule_that_tells_nobody_apart_as_the_fairest():
    """A model whose scores all lie below the threshold approves nobody: its demographic
    parity and equalized odds differences are 0.000 by construction, and the side-by-side
    table and chart showed it as the fairest model with no word (the error was shown only for
    the model in focus). Its row now says what the rule does and its point is not drawn."""
    from fairlearn.metrics import demographic_parity_difference

    at = _two_models(0.1)
    at.run()
    no_exception(at)
    table = at.dataframe[0].value.set_index("model")
    df = at.session_state["fc_data"]
    for name, col in (("good.skops", "score: good"), ("flat.skops", "score: flat")):
        want = demographic_parity_difference(df["outcome"], df[col] >= 0.5,
                                             sensitive_features=df["sex"])
        assert table.loc[name, "demographic_parity_difference"] == pytest.approx(want,
                                                                                 abs=1e-12)
    assert table.loc["flat.skops", "decision rule"] == \
        "nobody approved: its gaps say nothing about fairness"
    assert table.loc["good.skops", "decision rule"] == ""
    assert any("Not drawn: flat.skops (nobody approved" in text_of(c) for c in at.caption)
    everybody = _two_models(0.9)  # everybody approved: the same
    everybody.run()
    no_exception(everybody)
    assert everybody.dataframe[0].value.set_index("model").loc[
        "flat.skops", "decision rule"] == "everybody approved: its gaps say nothing about " \
        "fairness"


def test_the_disparity_table_marks_a_base_rates_lowest_and_highest_group():
    df = small_frame()
    at = seed_state(new("app_pages/disparities.py"), df, sensitive=("race",))
    at.session_state["fc_metrics"] = ["prevalence", "false_negative_rate"]
    at.run()
    no_exception(at)
    table = next(d.value for d in at.dataframe if "worst group" in d.value.columns)
    base = df.groupby("race")["outcome"].mean()
    row = table[table["metric"] == "Prevalence (base rate)"].iloc[0]
    assert (row["worst group"], row["best group"]) == (f"{base.idxmin()} (lowest)",
                                                       f"{base.idxmax()} (highest)")
    fnr = table[table["metric"] == "False negative rate"].iloc[0]
    assert "(lowest)" not in fnr["worst group"] and fnr["worst group"]
