"""The sidebar's one-line decision policy marks the groups too small to compare as the card
does, from the first draw: from an assessment a page drew for the same rows and groups, or
counted for the sidebar when no page has drawn one."""

from __future__ import annotations

import pytest

from faircard.decision import DecisionPolicy
from tests.app.conftest import new, no_exception, seed_state, small_frame
from tests.app.test_sidebar import _sidebar


def _policy_line(at) -> str:
    return next(line for line in _sidebar(at).replace("\\", "").split("**Decision policy:** ")[1:])


def test_the_sidebar_marks_the_policys_groups_too_small_to_compare():
    df = small_frame(n=1500, seed=2)
    df.loc[df.index[:12], "race"] = "D"  # a group of 12 (pandas), below the minimum of 30
    sizes = df["race"].value_counts()
    small = {g for g, n in sizes.items() if n < 30}
    assert small == {"D"}
    at = seed_state(new("app.py"), df=df)
    at.session_state["fc_data_digest"] = "sidebar-small-group"
    thresholds = {"A": 0.45, "B": 0.5, "C": 0.55, "D": 0.6}
    at.session_state["fc_policy"] = DecisionPolicy.per_group("race", thresholds)
    at.session_state["fc_policy_chosen"] = True
    at.switch_page("app_pages/disparities.py").run()
    no_exception(at)
    line = _policy_line(at)
    for g in thresholds:
        mark = " (fewer than 30 people: not compared)" if g in small else ""
        assert f"{g} {thresholds[g]:.3f}{mark}" in line, (g, line)
    assert line.count("not compared") == len(small), line
    # a smaller minimum compares D: once a page draws that assessment, the mark goes
    at.session_state["fc_min_group_size"] = 10
    at.switch_page("app_pages/disparities.py").run()
    no_exception(at)
    assert "not compared" not in _policy_line(at), _policy_line(at)


def _per_group_state(df, digest: str):
    at = seed_state(new("app.py"), df=df)
    at.session_state["fc_data_digest"] = digest
    thresholds = {"A": 0.45, "B": 0.5, "C": 0.55, "D": 0.6}
    at.session_state["fc_policy"] = DecisionPolicy.per_group("race", thresholds)
    at.session_state["fc_policy_chosen"] = True
    return at, thresholds


def _small_frame_with_d(seed: int):
    df = small_frame(n=1500, seed=seed)
    df.loc[df.index[:12], "race"] = "D"
    return df


@pytest.mark.parametrize("page", ["app_pages/data.py", "app_pages/sensitive.py",
                                  "app_pages/thresholds.py", "app_pages/governance.py"])
def test_the_sidebar_marks_small_groups_from_the_first_draw(page):
    """No page has drawn the assessment of these choices before this run (or the page draws
    it with other intervals or rule): the sidebar still marks D, as the card does."""
    df = _small_frame_with_d(seed=3)
    at, thresholds = _per_group_state(df, f"sidebar-first-{page}")
    at.switch_page(page).run()
    no_exception(at)
    line = _policy_line(at)
    assert "D 0.600 (fewer than 30 people: not compared)" in line, line
    assert line.count("not compared") == 1, line
    for g in "ABC":
        assert f"{g} {thresholds[g]:.3f};" in line, line


def test_the_sidebar_follows_the_minimum_group_size_in_the_same_run():
    df = _small_frame_with_d(seed=4)
    at, _ = _per_group_state(df, "sidebar-min-size")
    at.switch_page("app_pages/sensitive.py").run()
    no_exception(at)
    assert "D 0.600 (fewer than 30 people: not compared)" in _policy_line(at)
    at.number_input(key="w_min_size").set_value(10).run()
    no_exception(at)
    assert "not compared" not in _policy_line(at), _policy_line(at)
    at.number_input(key="w_min_size").set_value(500).run()  # every group of race below 500
    no_exception(at)
    line = _policy_line(at)
    sizes = df["race"].value_counts()
    assert {g for g in "ABCD" if f"{g} " in line and
            "fewer than 500 people: not compared" in line.split(f"{g} ", 1)[1].split(";")[0]} \
        == {g for g, n in sizes.items() if n < 500}, (line, sizes.to_dict())


def test_a_group_small_for_one_model_only_is_marked_with_that_models_name():
    """Two models whose scores are missing for different rows: D keeps 40 people under the
    first and 20 under the second: the sidebar's one line says which model does not compare
    it."""
    import numpy as np

    df = small_frame(n=1500, seed=5)
    df.loc[df.index[:40], "race"] = "D"
    df["score: first"] = df.pop("risk_score")
    df["score: second"] = df["score: first"].where(~df.index.isin(df.index[:20]), np.nan)
    at, _ = _per_group_state(df, "sidebar-two-models")
    at.session_state["fc_decision"] = "model"
    at.session_state["fc_model_columns"] = {"first": "score: first", "second": "score: second"}
    at.switch_page("app_pages/data.py").run()
    no_exception(at)
    line = _policy_line(at)
    assert "D 0.600 (fewer than 30 people for second: not compared)" in line, line
    assert line.count("not compared") == 1, line


def test_a_model_of_predicted_labels_does_not_mark_the_policys_groups():
    """The policy decides the models that give scores; a model of predicted labels, which
    it does not decide, lacked its labels for 20 of D's 40 people and marked D as 'fewer than
    30 people for labels: not compared' in the policy's line."""
    import numpy as np

    df = small_frame(n=1500, seed=6)
    df.loc[df.index[:40], "race"] = "D"
    df["score: first"] = df.pop("risk_score")
    df["prediction: labels"] = df.pop("decision").astype(float)
    df.loc[df.index[:20], "prediction: labels"] = np.nan
    at, thresholds = _per_group_state(df, "sidebar-labels-model")
    at.session_state["fc_decision"] = "model"
    at.session_state["fc_model_columns"] = {"first": "score: first",
                                            "labels": "prediction: labels"}
    at.switch_page("app_pages/data.py").run()
    no_exception(at)
    line = _policy_line(at)
    assert "not compared" not in line and f"D {thresholds['D']:.3f}." in line, line
