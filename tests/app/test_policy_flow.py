"""The decision policy is one value in the session: the Data page threshold, the Thresholds
slider and "Use this policy" write it, and the Disparities and Model card pages show numbers
computed under it (checked against scikit-learn on the masks ``score >= threshold``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import recall_score

from faircard.decision import DecisionPolicy
from faircard.ui.state import DEFAULTS
from tests.app.conftest import coarse_two_groups, new, no_exception, seed_state, small_frame
from tests.policy_parts import written_probability


def _carry(src, page: str):
    """A fresh run of ``page`` with the session of ``src`` (as when the user navigates)."""
    at = new(page)
    for key in DEFAULTS:
        if key in src.session_state:
            at.session_state[key] = src.session_state[key]
    return at


def _expected(df: pd.DataFrame, thresholds: dict[str, float], feature="sex"):
    out = {}
    for g, t in thresholds.items():
        part = df[df[feature] == g]
        pred = part.risk_score >= t
        out[g] = {"selection_rate": float(pred.mean()),
                  "true_positive_rate": recall_score(part.outcome, pred)}
    return out


def _first_number(cell: str) -> float:
    return float(str(cell).split()[0])


def _disparities_numbers(at) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "note" in d.value.columns)


def _card_rows(at, feature="sex") -> dict[str, list[str]]:
    preview = "\n".join(m.value for m in at.markdown)
    block = preview.split(f"### By {feature}", 1)[1].split("###", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in block.splitlines() if line.startswith("|")]
    header, body = rows[0], rows[2:]
    return {r[0]: dict(zip(header, r, strict=True)) for r in body}


def _check_pages(at, thresholds):
    df = small_frame()
    want = _expected(df, thresholds)
    dis = _carry(at, "app_pages/disparities.py")
    dis.run()
    no_exception(dis)
    table = _disparities_numbers(dis)
    for g, vals in want.items():
        assert abs(_first_number(table.loc[g, "Selection rate (share approved)"]) - vals["selection_rate"]) < 5e-4
    card = _carry(at, "app_pages/model_card.py")
    card.run()
    no_exception(card)
    rows = _card_rows(card)
    for g, vals in want.items():
        assert abs(_first_number(rows[g]["Selection rate (share approved)"]) - vals["selection_rate"]) < 5e-4
        assert abs(_first_number(rows[g]["True positive rate"])
                   - vals["true_positive_rate"]) < 5e-4
    return card


def test_slider_sets_the_policy_used_by_disparities_and_card():
    at = seed_state(new("app_pages/thresholds.py"), sensitive=("sex",))
    at.run()
    no_exception(at)
    at.slider(key="w_thr_slider").set_value(0.62).run()
    no_exception(at)
    policy = at.session_state["fc_policy"]
    assert policy == DecisionPolicy.single(0.62)
    card = _check_pages(at, {"Female": 0.62, "Male": 0.62})
    assert any("0.62" in m.value for m in card.markdown)


def test_use_this_policy_makes_per_group_thresholds_the_rule_everywhere():
    at = seed_state(new("app_pages/thresholds.py"), sensitive=("sex",))
    at.run()
    at.selectbox(key="w_constraint").set_value("demographic_parity").run()
    at.button(key="use_policy").click().run()
    no_exception(at)
    policy = at.session_state["fc_policy"]
    assert not policy.is_single and policy.feature == "sex"
    assert len(set(policy.thresholds.values())) == 2  # the groups really differ here
    card = _check_pages(at, policy.thresholds)
    preview = "\n".join(m.value for m in card.markdown)
    assert "Thresholds per group of sex" in preview
    # the Data page shows the per-group policy instead of a single threshold
    data = _carry(at, "app_pages/data.py")
    data.run()
    no_exception(data)
    assert any("Thresholds per group of sex" in i.value for i in data.info)
    assert data.session_state["fc_policy"] == policy


def test_data_page_threshold_writes_the_policy_and_a_rejected_outcome_keeps_it():
    df = small_frame()
    df["grade"] = np.resize(["a", "b", "c"], len(df))  # three values: not a yes/no outcome
    at = new("app_pages/data.py")
    at.run()
    at.file_uploader(key="upload_data").upload("d.csv", df.to_csv(index=False).encode(),
                                               "text/csv").run()
    no_exception(at)
    at.number_input(key="w_threshold").set_value(0.35).run()
    assert at.session_state["fc_policy"] == DecisionPolicy.single(0.35)
    at.selectbox(key="w_target").set_value("grade").run()
    no_exception(at)
    assert any("more than two values" in e.value for e in at.error)
    assert at.session_state["fc_policy"] == DecisionPolicy.single(0.35)
    # a browser may send the hidden widget back empty: that must not change the policy either
    at.session_state["w_threshold"] = None
    at.selectbox(key="w_target").set_value("outcome").run()
    no_exception(at)
    assert at.number_input(key="w_threshold").value == 0.35
    assert at.session_state["fc_policy"] == DecisionPolicy.single(0.35)


def test_randomised_toggle_is_labelled_and_flows_as_expected_values():
    at = seed_state(new("app_pages/thresholds.py"), sensitive=("sex",))
    at.run()
    at.selectbox(key="w_constraint").set_value("demographic_parity").run()
    at.number_input(key="w_tolerance").set_value(0.0).run()
    at.toggle(key="w_randomized").set_value(True).run()
    no_exception(at)
    assert any("people with the same score in the same group may get different decisions"
               in w.value for w in at.warning)
    at.button(key="use_policy").click().run()
    policy = at.session_state["fc_policy"]
    assert policy.is_randomized
    df = small_frame()
    want = {}
    for g, rule in policy.rules.items():
        part = df[df.sex == g]
        entry = policy.to_dict().get("mix", {}).get(g)
        want[g] = float(written_probability(part.risk_score, rule.threshold, entry).mean())
    assert abs(want["Female"] - want["Male"]) < 1e-6  # exact parity in expectation
    dis = _carry(at, "app_pages/disparities.py")
    dis.run()
    no_exception(dis)
    table = _disparities_numbers(dis)
    for g, v in want.items():
        assert abs(_first_number(table.loc[g, "Selection rate (share approved)"]) - v) < 5e-4
    card = _carry(at, "app_pages/model_card.py")
    card.run()
    no_exception(card)
    preview = "\n".join(m.value for m in card.markdown)
    assert "Randomised" in preview and "with probability" in preview


def test_degenerate_policy_is_never_shown_as_success():
    # coarse scores: only "nobody" or "everybody" gives equal selection rates
    df = coarse_two_groups([30, 60, 60, 60, 60, 60, 60, 60, 60, 90])
    at = seed_state(new("app_pages/thresholds.py"), df=df, sensitive=("sex",))
    at.session_state["fc_data_digest"] = "coarse"  # cached results are keyed by the data
    at.run()
    at.selectbox(key="w_constraint").set_value("demographic_parity").run()
    no_exception(at)
    assert not any("demographic parity" in x.value for x in at.success)
    assert any("No policy found meets the constraint" in e.value for e in at.error)
    at.toggle(key="w_allow_degenerate").set_value(True).run()
    no_exception(at)
    assert any("Degenerate" in e.value for e in at.error)
    assert not any("Degenerate" in x.value for x in at.success)
