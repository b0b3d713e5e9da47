"""Disparities page: metrics, per-group table with intervals, criteria, several models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import recall_score

from tests.app.conftest import new, no_exception, seed_state, sent_charts, small_frame


def test_table_follows_chosen_metrics_and_matches_sklearn():
    at = seed_state(new("app_pages/disparities.py"), sensitive=("sex",))
    at.run()
    no_exception(at)
    assert at.markdown, "findings are shown"
    at.multiselect(key="w_metrics").set_value(["true_positive_rate"]).run()
    no_exception(at)
    table = at.dataframe[-3].value
    assert list(table.columns) == ["people", "note", "True positive rate"]
    df = small_frame()
    for g in ["Female", "Male"]:
        m = (df.sex == g).to_numpy()
        tpr = recall_score(df.outcome[m], df.risk_score[m] >= 0.5)
        assert table.loc[g, "True positive rate"].startswith(f"{tpr:.3f}")
        assert "[" in table.loc[g, "True positive rate"]  # the interval is shown
    assert at.dataframe[-1].value.shape[0] == 1
    labels = [m.label for m in at.metric]
    assert "Four-fifths rule" in labels


def test_no_metric_asks_for_one_and_ends_the_page():
    """The metrics are chosen in a part of the page that reruns alone: with none chosen it
    asks for one and draws nothing that needs them; the page still ends (its marker)."""
    at = seed_state(new("app_pages/disparities.py"), sensitive=("sex",))
    at.run()
    at.multiselect(key="w_metrics").set_value([]).run()
    no_exception(at)
    assert any("Choose at least one metric." in i.value for i in at.info)
    assert not at.dataframe and not at.metric
    assert at.session_state["fc_metrics"] == []
    assert "fc-page-done" in at.get("html")[-1].proto.body


def test_several_models_side_by_side():
    df = small_frame()
    df["score: model A"] = df["risk_score"]
    df["score: model B"] = np.clip(df["risk_score"] + 0.1 * (df["sex"] == "Male"), 0, 1)
    at = seed_state(new("app_pages/disparities.py"), df=df, sensitive=("sex",))
    at.session_state["fc_decision"] = "model"
    at.session_state["fc_model_columns"] = {"model A": "score: model A",
                                            "model B": "score: model B"}
    at.run()
    no_exception(at)
    table = at.dataframe[0].value
    assert list(table["model"]) == ["model A", "model B"]
    sel_b = (df["score: model B"] >= 0.5).mean()
    assert table.set_index("model").loc["model B", "selection_rate"] == sel_b
    at.selectbox(key="w_focus").set_value("model B").run()
    no_exception(at)
    assert at.session_state["fc_focus_model"] == "model B"


def test_reference_table_compares_each_group_with_the_chosen_reference():
    df = small_frame()
    rate = {g: (df.risk_score[df.sex == g] >= 0.5).mean() for g in ["Female", "Male"]}
    at = seed_state(new("app_pages/disparities.py"), sensitive=("sex",))
    at.session_state["fc_reference"] = {"sex": "Female"}
    at.run()
    no_exception(at)
    table = at.dataframe[-2].value  # group table, reference table, disparities
    assert table.loc["Female", "Selection rate (share approved)"] == "reference"
    diff, ratio = rate["Male"] - rate["Female"], rate["Male"] / rate["Female"]
    shown = table.loc["Male", "Selection rate (share approved)"]
    assert shown.startswith(f"{'+' if diff >= 0 else '-'}{abs(diff):.3f}"), shown
    assert f"({ratio:.3f}x)" in shown, shown
    assert any("'Female'" in c.value for c in at.caption)
    # another reference flips the comparison
    at.session_state["fc_reference"] = {"sex": "Male"}
    at.run()
    table = at.dataframe[-2].value  # group table, reference table, disparities
    assert table.loc["Male", "Selection rate (share approved)"] == "reference"
    assert f"({1 / ratio:.3f}x)" in table.loc["Female", "Selection rate (share approved)"]


def test_a_ratio_to_a_reference_value_of_0_is_shown_as_undefined():
    """Nobody in the reference group is approved: a ratio to its rate of 0 has no value, so the
    table shows the difference and "n/a" with the reason, never "infx"."""
    df = small_frame()
    df.loc[df.sex == "Female", "risk_score"] = 0.0
    rate_male = (df.risk_score[df.sex == "Male"] >= 0.5).mean()
    assert rate_male > 0
    at = seed_state(new("app_pages/disparities.py"), df=df, sensitive=("sex",))
    at.session_state["fc_reference"] = {"sex": "Female"}
    at.run()
    no_exception(at)
    table = at.dataframe[-2].value  # group table, reference table, disparities
    assert table.loc["Female", "Selection rate (share approved)"] == "reference"
    shown = table.loc["Male", "Selection rate (share approved)"]
    assert shown == f"+{rate_male:.3f} (ratio n/a: the reference's value is 0)", shown
    assert not any("inf" in str(v) for v in table.to_numpy().ravel()), table


def _bars(at) -> dict[str, pd.DataFrame]:
    """The rows of each metric's bar chart the page drew, by the chart's title as drawn."""
    out = {}
    for titles, spec, frames in sent_charts(at):
        (title,) = titles
        out[title] = frames[spec["layer"][0]["data"]["name"]]
    return out


def test_another_reference_draws_the_same_bars_and_a_new_group_size_new_ones():
    """A metric's bars are known by the rows they draw: another reference group (which changes
    no group's value) draws the same charts, each bar the group's rate on its mask; a minimum
    group size that makes a group small draws it pale."""
    df = small_frame()
    at = seed_state(new("app_pages/disparities.py"), sensitive=("sex",))
    at.session_state["fc_metrics"] = ["selection_rate", "true_positive_rate"]
    at.session_state["fc_reference"] = {"sex": "Female"}
    at.run()
    no_exception(at)
    before = _bars(at)
    at.session_state["fc_reference"] = {"sex": "Male"}
    at.run()
    no_exception(at)
    after = _bars(at)
    assert before.keys() == after.keys() and len(after) == 2
    for title, rows in after.items():
        assert rows.equals(before[title])
        metric = "selection_rate" if title.startswith("Selection") else "true_positive_rate"
        for g, value in zip(rows["group"], rows["value"], strict=True):
            m = (df.sex == g).to_numpy()
            want = (df.risk_score[m] >= 0.5).mean() if metric == "selection_rate" else \
                recall_score(df.outcome[m], df.risk_score[m] >= 0.5)
            assert value == pytest.approx(want, abs=1e-12)
        assert set(rows["size"]) == {"ok"}
    sizes = df.sex.value_counts()
    small, large = sizes.idxmin(), sizes.idxmax()
    assert sizes[small] < sizes[large]
    at.session_state["fc_min_group_size"] = int(sizes[small]) + 1
    at.run()
    no_exception(at)
    for rows in _bars(at).values():
        assert dict(zip(rows["group"], rows["size"], strict=True)) == {
            small: "too small to trust", large: "ok"}


def test_another_features_groups_are_drawn_from_charts_made_with_the_page(monkeypatch):
    """Opening the page makes the other features' tables and charts too (they depend on
    nothing else on the page): showing the groups of race then builds no chart, and its bars
    are each group's rate on its mask."""
    import functools

    from faircard import charts

    built = []
    original = charts.metric_bars

    @functools.wraps(original)  # the page's cache finds a builder by its module and name
    def counting(*args, **kwargs):
        built.append(args[2])  # the feature
        return original(*args, **kwargs)

    monkeypatch.setattr(charts, "metric_bars", counting)
    df = small_frame(seed=11)  # rows no other test draws: no chart of them is cached yet
    at = seed_state(new("app_pages/disparities.py"), df=df, sensitive=("sex", "race"))
    at.session_state["fc_metrics"] = ["selection_rate"]
    at.run()
    no_exception(at)
    assert sorted(built) == ["race", "sex"]
    built.clear()
    sex = sent_charts(at)
    at.selectbox(key="w_feature").set_value("race").run()
    no_exception(at)
    assert built == []
    race = sent_charts(at)
    # the same chart with other data (a browser replaces the data instead of drawing the chart
    # anew), which names its feature in the title drawn
    assert [spec for _, spec, _ in race] == [spec for _, spec, _ in sex]
    assert [t for t, _, _ in sex] == [["Selection rate (share approved) by sex"]]
    assert [t for t, _, _ in race] == [["Selection rate (share approved) by race"]]
    (rows,) = _bars(at).values()
    assert sorted(rows["group"]) == ["A", "B", "C"]
    for g, value in zip(rows["group"], rows["value"], strict=True):
        m = (df.race == g).to_numpy()
        assert value == pytest.approx((df.risk_score[m] >= 0.5).mean(), abs=1e-12)
