"""A decision rule that selects nobody is shown as a problem on the pages, never as a success:
the Disparities page leads with an error, the Thresholds page warns at the slider's threshold."""

from __future__ import annotations

from faircard.decision import DecisionPolicy
from tests.app.conftest import new, no_exception, seed_state, small_frame, text_of


def _nobody(at):
    at.session_state["fc_policy"] = DecisionPolicy.single(1.5)  # above every score (<= 1)
    at.session_state["fc_policy_chosen"] = True
    return at


def test_disparities_leads_with_the_trivial_rule():
    assert small_frame()["risk_score"].max() <= 1
    at = _nobody(seed_state(new("app_pages/disparities.py"), sensitive=("sex",)))
    at.run()
    no_exception(at)
    errors = [text_of(e) for e in at.error]
    assert any("tells nobody apart: nobody is approved (0 of 1,200)" in e for e in errors)
    # said once, as an error, not repeated among the findings' bullets
    assert not any("tells nobody apart" in text_of(m) for m in at.markdown)


def test_disparities_has_no_such_error_for_a_real_rule():
    at = seed_state(new("app_pages/disparities.py"), sensitive=("sex",))
    at.run()
    no_exception(at)
    assert not any("tells nobody apart" in text_of(e) for e in at.error)


def test_thresholds_warns_when_the_slider_selects_nobody():
    at = _nobody(seed_state(new("app_pages/thresholds.py"), sensitive=("sex",)))
    at.run()
    no_exception(at)
    warnings = [text_of(w) for w in at.warning]
    assert any(w.startswith("At this threshold nobody is approved") for w in warnings)
    at.slider(key="w_thr_slider").set_value(0.5).run()
    no_exception(at)
    assert not any(text_of(w).startswith("At this threshold") for w in at.warning)


def test_thresholds_warning_claims_no_zero_gap_that_is_not():
    """Selecting nobody makes the selection and error rates of the groups equal, not their
    accuracies (each is the share of negative outcomes): the warning says only the first."""
    from sklearn.metrics import accuracy_score

    df = small_frame()
    acc = {g: accuracy_score(df.loc[df["sex"] == g, "outcome"], [0] * int((df["sex"] == g).sum()))
           for g in ("Female", "Male")}
    assert abs(acc["Female"] - acc["Male"]) > 0.01
    at = _nobody(seed_state(new("app_pages/thresholds.py"), sensitive=("sex",)))
    at.run()
    no_exception(at)
    [warning] = [text_of(w) for w in at.warning if text_of(w).startswith("At this threshold")]
    assert "every gap between groups is zero" not in warning
    assert "selection and error rates" in warning
