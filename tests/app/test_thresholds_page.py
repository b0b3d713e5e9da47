"""Thresholds page: slider updates the per-group table, constrained policy flows to state."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pytest

from tests.app.conftest import new, no_exception, seed_state, small_frame, text_of


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


def test_confusion_matrices_are_drawn_only_when_opened():
    """The expander's table is left out while it is closed (one grid fewer to draw on every
    change); opened, it holds each group's counts at the slider's threshold."""
    df = small_frame()
    at = seed_state(new("app_pages/thresholds.py"), sensitive=("sex",))
    at.session_state["fc_data_digest"] = "thr-page-matrices"
    at.run()
    no_exception(at)
    assert not [d for d in at.dataframe if "actual yes, predicted yes" in d.value.columns]
    assert [e.label for e in at.expander] == ["Confusion matrices",
                                              "Trade-off: objective vs disparity"]
    at.session_state["w_cm_open"] = True
    at.slider(key="w_thr_slider").set_value(0.6).run()
    no_exception(at)
    (cm,) = [d.value for d in at.dataframe if "actual yes, predicted yes" in d.value.columns]
    for g in ("Female", "Male"):
        part = df[df.sex == g]
        assert cm.loc[g, "actual yes, predicted yes"] == ((part.risk_score >= 0.6)
                                                          & (part.outcome == 1)).sum()
        assert cm.loc[g].sum() == len(part)


def test_the_groups_shown_change_every_table_and_the_search_below_them():
    """"Groups of" (a part of the page that reruns alone in the browser) changes the table
    at the slider's threshold, the per-group search and its table, while the slider and the
    policy in force (above it) stay."""
    df = small_frame()
    at = seed_state(new("app_pages/thresholds.py"), sensitive=("sex", "race"))
    at.session_state["fc_data_digest"] = "thr-page-groups"
    at.run()
    at.slider(key="w_thr_slider").set_value(0.45).run()
    policy = at.session_state["fc_policy"]
    at.selectbox(key="w_thr_feature").set_value("race").run()
    no_exception(at)
    assert at.session_state["fc_policy"] == policy
    assert at.slider(key="w_thr_slider").value == 0.45
    first, *_, searched = [d.value for d in at.dataframe]
    assert list(first.index) == list(searched.index) == ["A", "B", "C"]
    for g in ("A", "B", "C"):
        assert abs(first.loc[g, "selection_rate"]
                   - np.mean(df.risk_score[df.race == g] >= 0.45)) < 1e-12
        assert first.loc[g, "count"] == (df.race == g).sum()


def test_a_search_is_kept_and_shows_progress_only_when_it_runs():
    """The per-group search and its trade-off front run once per choices; a rerun that
    finds them kept enters no progress indicator (a spinner costs a thread and a message)."""
    import contextlib

    import faircard
    from faircard.policy import choose_policy_from_sweep
    from faircard.thresholds import sweep_assessment
    from faircard.ui import cache

    df = small_frame()
    a = faircard.assess(df, target="outcome", score="risk_score", sensitive="sex", n_boot=0)
    entered = []

    @contextlib.contextmanager
    def computing():
        entered.append(1)
        yield

    choices = {"constraint": "equal_opportunity", "tolerance": 0.02}
    for _ in range(3):
        p = cache.policy_search("kept-search", a, "sex", computing=computing, **choices)
    assert len(entered) == 1
    direct = choose_policy_from_sweep(sweep_assessment(a, "sex"), feature="sex", **choices)
    assert p.thresholds == direct.thresholds
    for _ in range(2):
        front = cache.tradeoff_front("kept-search", a, "sex", chosen=p, computing=computing,
                                     constraint="equal_opportunity")
    assert len(entered) == 2
    assert front["is_chosen"].sum() == 1


def test_the_trade_off_is_traced_and_drawn_only_when_opened():
    """Closed (the default), the trade-off's searches do not run and no chart is sent: a new
    constraint or other groups then search only the policy. Opened, the chart holds the
    chosen policy's point."""
    from faircard.ui import cache

    at = seed_state(new("app_pages/thresholds.py"), sensitive=("sex",))
    at.session_state["fc_data_digest"] = "thr-page-trade-off"
    at.run()
    no_exception(at)
    assert not [c for c in at.get("vega_lite_chart") if "Trade-off" in c.proto.spec]
    fronts = [k for k in cache._search_store() if "thr-page-trade-off" in k and '"front"' in k]
    assert not fronts
    at.session_state["w_tradeoff_open"] = True
    at.selectbox(key="w_constraint").set_value("equal_opportunity").run()
    no_exception(at)
    (chart,) = [c for c in at.get("vega_lite_chart") if "Trade-off" in c.proto.spec]
    (data,) = chart.proto.datasets
    rows = pa.ipc.open_stream(io.BytesIO(data.data.data)).read_pandas()
    assert list(rows["policy"]).count("chosen policy") == 1


@pytest.mark.parametrize("feature, thresholds, why", [
    ("race", {"A": 0.4, "B": 0.5, "C": 0.6},
     "The decision policy sets thresholds per group of 'race', which is not assessed here"),
    ("sex", {"Female": 0.4}, "The decision policy has no threshold for the group 'Male'"),
])
def test_a_policy_the_other_pages_cannot_apply_is_not_said_to_be_used(feature, thresholds,
                                                                      why):
    """A per-group policy for a feature no longer chosen (or without a threshold for a group):
    the page said 'Decision policy in force (every page and the model card use it)' while the
    Disparities page and the model card stopped on it; it now says they cannot apply it, and
    why, as they do."""
    from faircard.decision import DecisionPolicy

    at = seed_state(new("app_pages/thresholds.py"), sensitive=("sex",))
    at.session_state["fc_policy"] = DecisionPolicy.per_group(feature, thresholds)
    at.session_state["fc_policy_chosen"] = True
    at.run()
    no_exception(at)
    assert not [i for i in at.info if "every page and the model card use it" in i.value]
    said = [text_of(w) for w in at.warning if "cannot apply it" in text_of(w)]
    assert len(said) == 1 and why in said[0], [text_of(w) for w in at.warning]
    disparities = seed_state(new("app_pages/disparities.py"), sensitive=("sex",))
    disparities.session_state["fc_policy"] = at.session_state["fc_policy"]
    disparities.run()
    assert [e for e in disparities.error if why in text_of(e)]
    # one threshold for everyone is a policy every page applies
    at.session_state["fc_policy"] = DecisionPolicy.single(0.5)
    at.run()
    assert [i for i in at.info if "every page and the model card use it" in i.value]


def test_threshold_widgets_show_the_threshold_in_force_to_its_last_digit():
    """A threshold of 0.57153 (between the scores 0.5715 and 0.5716) was shown as 0.572 by the
    Data page's box and the Thresholds page's slider ("%.3f"), a threshold that decides
    otherwise for a score of 0.5716; both now write it as the sidebar and the card do."""
    from faircard.decision import DecisionPolicy
    from faircard.formatting import fmt_threshold

    df = small_frame(n=900, seed=1)
    scores = np.sort(df["risk_score"].unique())
    low = scores[scores < 0.5716].max()
    threshold = 0.57153
    assert low < threshold < 0.5716 and float(f"{threshold:.3f}") != threshold
    at = seed_state(new("app.py"), df=df, sensitive=("sex",))
    at.session_state["fc_policy"] = DecisionPolicy.single(threshold)
    at.switch_page("app_pages/data.py").run()
    no_exception(at)
    box = at.number_input(key="w_threshold")
    assert box.value == threshold and box.proto.format % box.value == fmt_threshold(threshold)
    at.switch_page("app_pages/thresholds.py").run()
    no_exception(at)
    slider = at.slider(key="w_thr_slider")
    assert at.session_state["fc_policy"].threshold == slider.value
    assert slider.proto.format % slider.value == fmt_threshold(slider.value)
    assert float(slider.proto.format % slider.value) == slider.value
