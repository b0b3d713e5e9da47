"""The Diagnostics page shows the numbers faircard.diagnose computes, and keeps the experts'
checklist answers."""

from __future__ import annotations

import numpy as np

from faircard.diagnostics import diagnose

from .conftest import new, no_exception, seed_state, small_frame


def _table(at, *columns):
    """The first dataframe on the page that has all ``columns`` (AppTest does not expose
    dataframe keys)."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def _frame():
    df = small_frame(n=1500, seed=4)
    rng = np.random.default_rng(9)
    df["zone"] = np.where(rng.random(len(df)) < 0.8, df["race"], "X")
    return df


def test_diagnostics_page_shows_the_computed_numbers_and_keeps_answers():
    df = _frame()
    at = seed_state(new("app_pages/diagnostics.py"), df)
    at.session_state["fc_diag_exclude"] = ["decision"]
    at.run()
    no_exception(at)
    expected = diagnose(df, target="outcome", score="risk_score", threshold=0.5, pos_label=1,
                        sensitive=["sex", "race"], exclude=["decision"])
    proxies = _table(at, "sensitive_feature", "measure")
    top = proxies[(proxies["sensitive_feature"] == "race") & (proxies["measure"] == "cv_auc")]
    want = expected.proxies[(expected.proxies["sensitive_feature"] == "race")
                            & (expected.proxies["measure"] == "cv_auc")]
    assert top["feature"].iloc[0] == "zone" == want["feature"].iloc[0]
    assert top["value"].iloc[0] == want["value"].iloc[0]
    cal = _table(at, "ece", "calibration_in_the_large")
    assert list(cal["ece"]) == list(expected.calibration["ece"])
    assert "decision" not in set(proxies["feature"])
    # the measurement item names the planted proxy
    markdown = " ".join(m.value for m in at.markdown)
    assert "'zone' alone tells" in markdown
    at.selectbox(key="w_check_measurement").set_value("concern").run()
    at.text_area(key="w_note_measurement").set_value("zone follows race").run()
    no_exception(at)
    answers = at.session_state["fc_diag_checklist"]
    assert answers["measurement"] == {"status": "concern", "note": "zone follows race"}
    # another session starts with no answers (the diagnostics are cached and shared)
    again = seed_state(new("app_pages/diagnostics.py"), df)
    again.session_state["fc_diag_exclude"] = ["decision"]
    again.run()
    assert again.selectbox(key="w_check_measurement").value == ""


def test_diagnostics_page_without_inputs_says_what_is_missing():
    at = new("app_pages/diagnostics.py")
    at.run()
    no_exception(at)
    assert "Choose the sensitive features first" in at.info[0].value
