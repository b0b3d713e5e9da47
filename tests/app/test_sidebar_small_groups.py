"""The sidebar's one-line decision policy marks the groups too small to compare as the card
does, when a page has drawn the assessment of the current choices (the sidebar never counts)."""

from __future__ import annotations

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
