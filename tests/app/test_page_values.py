"""What each page shows equals the assessment's numbers, within display rounding: every cell of
the Sensitive features and Disparities tables and the criteria, compared with faircard.assess on
the same inputs (and the adjusted p-values with statsmodels' Holm)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.favorable import wording
from faircard.metrics import DEFAULT_METRICS
from tests.app.conftest import new, no_exception, seed_state, small_frame
from tests.conftest import holm_once_per_hypothesis

LABEL = wording("positive").label
"""Column names of the page: a favourable decision here (the seeded default)."""

NUM = r"(-?\d+(?:\.\d+)?|n/a)"


def _assess(df, sensitive, **kw):
    return faircard.assess(df, target="outcome", score="risk_score", threshold=0.5,
                           sensitive=list(sensitive), intersection=False, **kw)


def _close(shown: str, value: float, digits: int = 3) -> None:
    """``shown`` is ``value`` rounded to ``digits`` decimals (or n/a for an undefined value;
    "< 0.0001" for a p-value below that)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        assert shown == "n/a", shown
        return
    assert shown != "n/a", (shown, value)
    if shown.startswith("< "):
        assert value < float(shown[2:]), (shown, value)
        return
    assert abs(float(shown) - value) <= 0.5 * 10 ** -digits + 1e-12, (shown, value)


def _frame_with_small_group():
    df = small_frame(n=1500, seed=2)
    df.loc[df.index[:12], "race"] = "D"  # a small group, shown but not compared
    return df


def _seed(page: str, df: pd.DataFrame):
    at = seed_state(new(page), df=df)
    # the app caches assessments by this digest: this frame must not share one with other tests
    at.session_state["fc_data_digest"] = "page-values-small-group"
    return at


def test_sensitive_page_sizes_and_rates_equal_the_assessment():
    df = _frame_with_small_group()
    at = _seed("app_pages/sensitive.py", df)
    at.run()
    no_exception(at)
    table = at.dataframe[0].value.set_index(["feature", "group"])
    truth = _assess(df, ("sex", "race"), n_boot=0).by_group_wide().set_index(
        ["feature", "group"])
    assert set(table.index) == set(truth.index)
    for key, row in truth.iterrows():
        shown = table.loc[key]
        assert shown["people"] == row["n"]
        for col, metric in (("base rate (actual positives)", "prevalence"),
                            ("predicted positive rate", "selection_rate")):
            assert shown[col].endswith("%")
            _close(shown[col][:-1], 100 * row[metric], digits=1)
        assert (shown["note"] == "too small") == bool(row["is_small_group"])


@pytest.fixture(scope="module")
def disparities():
    df = _frame_with_small_group()
    at = _seed("app_pages/disparities.py", df)
    at.run()
    no_exception(at)
    return at, _assess(df, ("sex", "race"))


@pytest.mark.parametrize("feature", ["sex", "race"])
def test_disparities_group_table_equals_the_assessment(disparities, feature):
    at, truth = disparities
    if at.selectbox(key="w_feature").value != feature:
        at.selectbox(key="w_feature").set_value(feature).run()
        no_exception(at)
    table = at.dataframe[0].value
    bg = truth.by_group[truth.by_group["feature"] == feature].set_index(["group", "metric"])
    groups = list(dict.fromkeys(g for g, _ in bg.index))
    assert list(table.index) == groups
    for g in groups:
        assert table.loc[g, "people"] == f"{int(bg.loc[(g, 'count'), 'n']):,}"
        for m in DEFAULT_METRICS:
            cell = table.loc[g, LABEL(m)]
            row = bg.loc[(g, m)]
            match = re.fullmatch(NUM + r"(?:\s+\[" + NUM + ", " + NUM + r"\])?", cell)
            assert match, cell
            _close(match.group(1), row["value"])
            if not np.isnan(row["ci_low"]):
                _close(match.group(2), row["ci_low"])
                _close(match.group(3), row["ci_high"])
        small = bool(bg.loc[(g, "count"), "is_small_group"])
        assert (table.loc[g, "note"] != "") == small


def test_disparities_table_and_criteria_equal_the_assessment(disparities):
    at, truth = disparities
    at.selectbox(key="w_feature").set_value("race").run()
    no_exception(at)
    table = at.dataframe[-1].value.set_index("metric")
    d = truth.disparities[truth.disparities["feature"] == "race"].set_index("metric")
    for m in DEFAULT_METRICS:
        shown, row = table.loc[LABEL(m)], d.loc[m]
        match = re.fullmatch(NUM + r" \[" + NUM + ", " + NUM + r"\]",
                             shown["gap (max - min)"])
        assert match, shown["gap (max - min)"]
        _close(match.group(1), row["difference"])
        _close(match.group(2), row["difference_ci_low"])
        _close(match.group(3), row["difference_ci_high"])
        _close(shown["ratio (min / max)"], row["ratio"])
        assert (shown["worst group"], shown["best group"]) == (row["worst_group"],
                                                                row["best_group"])
        assert "D" not in (shown["worst group"], shown["best group"])  # small: not compared
        _close(shown["adjusted p"], row["p_adjusted"], digits=4)
    # the adjusted p-values are statsmodels' Holm over every feature x metric hypothesis (a
    # rate and its complement between the same two groups are one)
    holm = pd.Series(holm_once_per_hypothesis(truth.disparities),
                     index=truth.disparities.index)
    race = (truth.disparities["feature"] == "race").to_numpy()
    for m, adj in zip(truth.disparities["metric"][race], holm[race], strict=True):
        if LABEL(m) not in table.index:
            continue  # a metric not shown on the page (the Holm family has every metric)
        _close(table.loc[LABEL(m), "adjusted p"], adj, digits=4)
    crit = truth.criteria["race"]
    metrics = {m.label: m.value for m in at.metric}
    _close(metrics["Parity difference"], crit["demographic_parity_difference"])
    _close(metrics["Parity ratio"], crit["demographic_parity_ratio"])
    _close(metrics["Equalized odds"], crit["equalized_odds_difference"])
    _close(metrics["Disparate impact ratio"], crit["disparate_impact_ratio"])
    assert metrics["Four-fifths rule"] == {True: "passes", False: "fails"}[
        crit["passes_four_fifths"]]


def test_sensitive_page_names_a_group_left_with_no_row():
    """All of race 'C' lacks a score: the page named only the rows left out; it now names the
    group and how many rows it had (counted by pandas)."""
    df = small_frame(n=900, seed=4)
    df["risk_score"] = df["risk_score"].astype(float)
    df.loc[df.race == "C", "risk_score"] = np.nan
    at = _seed("app_pages/sensitive.py", df)
    at.session_state["fc_data_digest"] = "page-values-lost-group"
    at.run()
    no_exception(at)
    said = " ".join(i.value.replace("\\", "") for i in at.info)
    n = int((df.race == "C").sum())
    assert f"race: 'C' has no row left: its {n:,} rows lack a score." in said, said
    assert "'A' has no row left" not in said and "'B' has no row left" not in said
    # the Disparities page names it next to its count of the rows left out
    disp = _seed("app_pages/disparities.py", df)
    disp.session_state["fc_data_digest"] = "page-values-lost-group"
    disp.run()
    no_exception(disp)
    captions = [c.value.replace("\\", "") for c in disp.caption]
    assert f"race: 'C' has no row left: its {n:,} rows lack a score." in captions, captions


def test_pages_name_a_group_left_with_no_row_when_duckdb_counts_the_file(tmp_path):
    """The same rows opened by their path: DuckDB counts them where they are, and both pages
    name the group with the upload's sentence (counted by pandas here)."""
    df = small_frame(n=900, seed=4)
    df["risk_score"] = df["risk_score"].astype(float)
    df.loc[df.race == "C", "risk_score"] = np.nan
    df.loc[df.index[:3], "outcome"] = np.nan  # elsewhere: a reason, not a lost group
    path = tmp_path / "lost.parquet"
    df.to_parquet(path, index=False)
    c = (df.race == "C").to_numpy()
    n, n_y = int(c.sum()), int((c & df["outcome"].isna().to_numpy()).sum())
    lack = "a score" if n_y == 0 else f"an outcome ({n_y:,}) or a score ({n - n_y:,})"
    sentence = f"race: 'C' has no row left: its {n:,} rows lack {lack}."
    for page, shown in (("app_pages/sensitive.py", lambda at: at.info),
                        ("app_pages/disparities.py", lambda at: at.caption)):
        at = _seed(page, df.head(100))  # the sample a path's page offers its columns from
        at.session_state["fc_source"] = {"path": str(path), "rows": len(df)}
        at.session_state["fc_data_digest"] = "page-values-lost-group-by-path"
        at.run()
        no_exception(at)
        said = " ".join(e.value.replace("\\", "") for e in shown(at))
        assert sentence in said, (page, said)
        assert "'A' has no row left" not in said and "'B' has no row left" not in said
