"""More combinations of groups than the bootstrap resamples at the app's 1,000 replicates
(prepare.max_cells), fewer than faircard counts at all (prepare.MAX_CELLS): the pages show the
figures without the bootstrap's intervals and say so, instead of refusing with advice about a
command-line option the app does not have."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import recall_score

from faircard.prepare import MAX_CELLS, max_cells
from tests.app.conftest import new, no_exception, seed_state, text_of

A, B = 120, 100  # 12,000 combinations, every one present


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    a = np.repeat(np.arange(A), B * 2)
    b = np.tile(np.repeat(np.arange(B), 2), A)
    n = len(a)
    y = (rng.random(n) < 0.3 + 0.2 * (a % 2)).astype(int)
    score = np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0, 1).round(3)
    return pd.DataFrame({"outcome": y, "risk_score": score,
                         "a": [f"a{i:03d}" for i in a], "b": [f"b{j:03d}" for j in b]})


def _seeded(page: str) -> tuple:
    df = _frame()
    at = seed_state(new(page), df=df, sensitive=("a", "b"))
    at.session_state["fc_intersection"] = False
    at.run()
    no_exception(at)
    return at, df


def _said(at) -> list[str]:
    return [text_of(m) for m in [*at.error, *at.warning, *at.info]]


def test_limits_put_the_frame_between_the_bootstrap_and_the_ceiling():
    assert max_cells(1000) < A * B <= MAX_CELLS


def test_disparities_shows_figures_without_bootstrap_intervals_and_says_why():
    at, df = _seeded("app_pages/disparities.py")
    said = _said(at)
    assert not at.error, said
    assert not any("--bootstrap" in s or "fewer replicates" in s for s in said), said
    why = [s for s in said if "without bootstrap intervals" in s]
    assert len(why) == 1, said
    assert "12,000 combinations" in why[0] and "10,000" in why[0] and "'a' and 'b'" in why[0]
    assert "so balanced accuracy, F1 score, the gaps between groups" in why[0]
    assert "bin a feature into bands or choose fewer features" in why[0]
    # the figures are there: a group's true positive rate as scikit-learn computes it, with
    # its Wilson interval (a rate needs no bootstrap)
    at.multiselect(key="w_metrics").set_value(["true_positive_rate", "balanced_accuracy"]).run()
    no_exception(at)
    at.selectbox(key="w_feature").set_value("a").run()
    no_exception(at)
    table = next(d.value for d in at.dataframe if "True positive rate" in d.value.columns)
    m = (df["a"] == "a007").to_numpy()
    tpr = recall_score(df.outcome[m], df.risk_score[m] >= 0.5)
    shown = table.loc["a007", "True positive rate"]
    assert shown.startswith(f"{tpr:.3f}") and "[" in shown
    assert "[" not in table.loc["a007", "Balanced accuracy"]  # no interval claimed
    gaps = next(d.value for d in at.dataframe if "gap (max - min)" in d.value.columns)
    assert not gaps["gap (max - min)"].str.contains(r"\[").any()  # bootstrap intervals
    assert set(gaps["beyond chance"]) <= {"yes", "no", "n/a"}


@pytest.mark.parametrize("page", ["app_pages/model_card.py", "app_pages/governance.py"])
def test_card_and_record_pages_say_the_same_instead_of_refusing(page):
    at, _ = _seeded(page)
    said = _said(at)
    assert not at.error, said
    assert sum("without bootstrap intervals" in s for s in said) == 1, said


@pytest.mark.parametrize("page", ["app_pages/diagnostics.py", "app_pages/thresholds.py"])
def test_pages_without_bootstrap_intervals_do_not_refuse(page):
    at, _ = _seeded(page)
    said = _said(at)
    assert not any("combinations" in s for s in said), said
