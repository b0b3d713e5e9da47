"""Sensitive features page: choice, bands for numeric features, groups, reference group."""

from __future__ import annotations

from tests.app.conftest import new, no_exception, seed_state, sent_charts, small_frame


def _groups(at):
    return at.dataframe[0].value


def test_groups_table_matches_data():
    at = seed_state(new("app_pages/sensitive.py"), sensitive=("sex",))
    at.run()
    no_exception(at)
    table = _groups(at)
    df = small_frame()
    assert list(table["group"]) == ["Female", "Male"]
    assert list(table["people"]) == [int((df.sex == "Female").sum()), int((df.sex == "Male").sum())]


def test_the_chart_of_another_feature_is_the_same_chart_with_its_groups():
    """Choosing the chart's feature sends the same two charts with other data (a browser then
    replaces their data instead of drawing them anew): the group sizes, titled with the
    feature, are each group's number of rows, and the rates each group's share of rows with
    the outcome and with a positive decision."""
    df = small_frame()
    at = seed_state(new("app_pages/sensitive.py"))
    at.run()
    no_exception(at)
    sex = sent_charts(at)
    at.selectbox(key="w_chart_feature").set_value("race").run()
    no_exception(at)
    race = sent_charts(at)
    assert [spec for _, spec, _ in race] == [spec for _, spec, _ in sex]
    for feature, charts in (("sex", sex), ("race", race)):
        (titles, spec, frames), (groups, _, rates) = charts
        assert titles == [f"Group sizes: {feature}"]
        assert groups == sorted(df[feature].unique())  # the rates' rows, one per group
        (rates,) = rates.values()
        sizes = frames[spec["data"]["name"]].set_index("group")["n"]
        assert sizes.to_dict() == df[feature].value_counts().to_dict()
        rates = rates.set_index(["group", "rate"])["value"]
        for g in df[feature].unique():
            rows = df[df[feature] == g]
            assert rates[(g, "base rate (actual)")] == rows.outcome.mean()
            assert rates[(g, "predicted positive rate")] == (rows.risk_score >= 0.5).mean()


def test_numeric_feature_gets_named_bands_and_edits_apply():
    at = seed_state(new("app_pages/sensitive.py"), sensitive=("age",))
    at.run()
    no_exception(at)
    assert list(_groups(at)["group"]) == ["18-24", "25-39", "40-64", "65+"]
    at.text_input(key="w_edges_age").set_value("18, 50, inf").run()
    at.text_input(key="w_labels_age").set_value("young, old").run()
    no_exception(at)
    assert list(_groups(at)["group"]) == ["young", "old"]
    assert at.session_state["fc_bins"]["age"].labels == ("young", "old")
    at.text_input(key="w_edges_age").set_value("18, x").run()
    assert any("numbers" in e.value for e in at.error)


def test_intersection_min_size_and_reference():
    at = seed_state(new("app_pages/sensitive.py"))
    at.run()
    at.checkbox(key="w_intersection").check().run()
    no_exception(at)
    assert "sex & race" in set(_groups(at)["feature"])
    at.number_input(key="w_min_size").set_value(500).run()
    notes = _groups(at).set_index(["feature", "group"])["note"]
    assert notes[("race", "C")] == "too small"
    at.selectbox(key="w_ref_sex").set_value("Female").run()
    assert at.session_state["fc_reference"]["sex"] == "Female"


def test_removing_a_feature_re_renders_from_the_counts_already_made(monkeypatch):
    """Counts of fewer features come from the counts made: no row is read again, the groups
    shown are those of a fresh count, and a feature never counted is counted."""
    import faircard
    from faircard.ui import cache

    calls = []
    real = cache.prepare
    monkeypatch.setattr(cache, "prepare", lambda *a, **k: calls.append(a[1].sensitive)
                        or real(*a, **k))
    df = small_frame(1500, seed=21)
    at = seed_state(new("app_pages/sensitive.py"), df=df, sensitive=("sex", "race"))
    at.run()
    no_exception(at)
    assert calls == [("sex", "race")]
    at.multiselect(key="w_sensitive").set_value(["race"]).run()
    no_exception(at)
    assert calls == [("sex", "race")]  # derived, not counted
    fresh = faircard.assess(df, target="outcome", score="risk_score", sensitive="race",
                            n_boot=0).counts_frame()
    table = _groups(at)
    assert list(table["group"]) == list(fresh["group"])
    assert list(table["people"]) == list(fresh["n"])
    at.multiselect(key="w_sensitive").set_value(["race", "sex"]).run()
    no_exception(at)
    assert calls == [("sex", "race")]  # another order of features already counted
    at.multiselect(key="w_sensitive").set_value(["race", "sex", "age"]).run()
    no_exception(at)
    assert calls[1:] == [("race", "sex", "age")]  # never counted: counted


def test_a_new_threshold_re_renders_from_the_rows_counted(monkeypatch):
    """The rows counted keep their scores: another threshold decides from them, without
    preparing the table again, and the page shows the rates of a fresh count."""
    from faircard.decision import DecisionPolicy
    from faircard.ui import cache

    calls = []
    real = cache.prepare
    monkeypatch.setattr(cache, "prepare", lambda *a, **k: calls.append(a[1].sensitive)
                        or real(*a, **k))
    df = small_frame(1500, seed=22)
    at = seed_state(new("app_pages/disparities.py"), df=df, sensitive=("sex",))
    at.session_state["fc_reference"] = {"sex": "Female"}
    at.run()
    no_exception(at)
    at.session_state["fc_policy"] = DecisionPolicy.single(0.3)
    at.run()
    no_exception(at)
    assert calls == [("sex",)]  # decided from the rows counted, not counted again
    rate = {g: (df.risk_score[df.sex == g] >= 0.3).mean() for g in ["Female", "Male"]}
    shown = at.dataframe[-2].value.loc["Male", "Selection rate (share approved)"]
    assert f"({rate['Male'] / rate['Female']:.3f}x)" in shown, shown


def test_ages_outside_the_bands_are_their_own_group_and_empty_combinations_are_named():
    import numpy as np
    import pandas as pd

    df = small_frame().astype({"age": float})
    df.loc[df["age"] > 60, "sex"] = "Male"  # nobody is over 60 and Female
    df.loc[df.index[:7], "age"] = np.nan
    at = seed_state(new("app_pages/sensitive.py"), df=df, sensitive=("age", "sex"))
    at.run()
    at.text_input(key="w_edges_age").set_value("30, 50, 60").run()
    at.text_input(key="w_labels_age").set_value("30-49, 50-60").run()
    at.checkbox(key="w_intersection").check().run()
    no_exception(at)
    table = _groups(at)
    ages = table[table["feature"] == "age"].set_index("group")["people"]
    band = pd.cut(df["age"], [-np.inf, 30, 50, 60, np.inf], right=False,
                  labels=["under 30", "30-49", "50-60", "over 60"]).astype(object)
    band[df["age"] == 60] = "50-60"  # the top edge belongs to the last band
    band = band.where(df["age"].notna(), "(missing)")
    assert dict(ages) == {k: int(v) for k, v in band.value_counts().items()}
    assert any("'under 30'" in c.value for c in at.caption)
    combos = pd.crosstab(band, df["sex"]).stack()
    empty = combos[combos == 0]
    assert list(empty.index) == [("over 60", "Female")]
    infos = [i.value for i in at.info if "No one in" in i.value]
    assert len(infos) == 1 and "over 60 & Female" in infos[0].replace("\\", "")
