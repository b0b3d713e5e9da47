"""Thresholds page: slider updates the per-group table, constrained policy flows to state."""

from __future__ import annotations

import numpy as np

from tests.app.conftest import new, no_exception, seed_state, small_frame


def test_slider_updates_table_and_policy_is_kept():
    at = seed_state(new("app_pages/thresholds.py"), sensitive=("sex",))
    at.run()
    no_exception(at)
    at.slider(key="w_thr_slider").set_value(0.6).run()
    no_exception(at)
    table = at.dataframe[0].value
    df = small_frame()
    for g in ["Female", "Male"]:
        expected = np.mean(df.risk_score[df.sex == g] >= 0.6)
        assert abs(table.loc[g, "selection_rate"] - expected) < 1e-12
    at.selectbox(key="w_constraint").set_value("equal_opportunity").run()
    no_exception(at)
    assert any("meets equal opportunity" in s.value for s in at.success)
    at.button(key="use_policy").click().run()
    policy = at.session_state["fc_policy"]
    assert policy.chosen_for["constraint"] == "equal_opportunity"
    assert set(policy.thresholds) == {"Female", "Male"}
    assert any("unlawful" in w.value for w in at.warning)


def test_predictions_only_explains_that_scores_are_needed():
    at = seed_state(new("app_pages/thresholds.py"))
    at.session_state["fc_decision"] = "prediction"
    at.session_state["fc_pred_col"] = "decision"
    at.run()
    no_exception(at)
    assert any("need scores" in i.value for i in at.info)
