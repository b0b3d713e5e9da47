"""Adversarial checks of the diagnostics against outside computations (scipy, scikit-learn,
statsmodels, pandas by hand) on crafted edge cases; each guards a figure or sentence that was
once wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

from faircard.diagnostics import diagnose
from faircard.diagnostics.drift import column_drift
from faircard.spec import Binning


def _psi_by_hand(ref: pd.Series, cur: pd.Series, eps: float = 1e-4) -> float:
    """PSI over the levels, counted by value (not by text) with pandas."""
    e = ref.dropna().value_counts(normalize=True)
    a = cur.dropna().value_counts(normalize=True)
    levels = e.index.union(a.index)
    e = np.maximum(e.reindex(levels, fill_value=0).to_numpy(), eps)
    a = np.maximum(a.reindex(levels, fill_value=0).to_numpy(), eps)
    return float(((a - e) * np.log(a / e)).sum())


def test_drift_of_whole_numbers_does_not_change_when_one_value_is_missing():
    # the same integer column read from a file with one blank cell is float: 13.0, not 13
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"level": rng.integers(1, 6, 800)})
    cur = pd.DataFrame({"level": rng.integers(1, 5, 600).astype(float)})
    cur.loc[3, "level"] = np.nan
    row = column_drift(ref, cur, ["level"]).iloc[0]
    assert row["kind"] == "categorical"
    assert row["psi"] == pytest.approx(_psi_by_hand(ref["level"], cur["level"]), abs=1e-12)
    e = ref["level"].value_counts().reindex(range(1, 6), fill_value=0)
    a = cur["level"].value_counts().reindex([1.0, 2.0, 3.0, 4.0, 5.0], fill_value=0)
    assert row["js"] == pytest.approx(jensenshannon(e, a, base=2) ** 2, abs=1e-12)


def test_drift_within_groups_of_a_numeric_code_and_of_bands():
    rng = np.random.default_rng(1)
    n = 900
    ref = pd.DataFrame({"grp": rng.integers(1, 3, n), "age": rng.integers(18, 80, n),
                        "x": rng.integers(0, 4, n)})
    cur = pd.DataFrame({"grp": rng.integers(1, 3, n).astype(float),
                        "age": rng.integers(18, 80, n), "x": rng.integers(0, 4, n)})
    cur.loc[cur["grp"] == 2, "x"] = rng.integers(0, 2, int((cur["grp"] == 2).sum()))
    cur.loc[0, "grp"] = np.nan
    out = column_drift(ref, cur, ["x"], sensitive="grp")
    got = out.set_index("group")["psi"]
    assert {"1", "2"} <= set(got.index)
    for g in (1, 2):
        assert got[str(g)] == pytest.approx(_psi_by_hand(ref.loc[ref["grp"] == g, "x"],
                                                         cur.loc[cur["grp"] == g, "x"]),
                                            abs=1e-12)
    bands = Binning(edges=(-np.inf, 40, np.inf), labels=("under 40", "40 and over"))
    out = column_drift(ref, cur, ["x"], sensitive="age", bins=bands)
    got = out.set_index("group")["psi"]
    assert set(got.index) == {"(all)", "under 40", "40 and over"}
    young_r, young_c = ref["age"] < 40, cur["age"] < 40
    assert got["under 40"] == pytest.approx(
        _psi_by_hand(ref.loc[young_r, "x"], cur.loc[young_c, "x"]), abs=1e-12)
    assert got["40 and over"] == pytest.approx(
        _psi_by_hand(ref.loc[~young_r, "x"], cur.loc[~young_c, "x"]), abs=1e-12)


def test_diagnose_drift_is_within_the_sensitive_bands():
    rng = np.random.default_rng(2)
    n = 400
    d = pd.DataFrame({"age": rng.integers(18, 80, n), "x": rng.normal(size=n),
                      "y": rng.integers(0, 2, n), "s": rng.random(n)})
    bands = Binning(edges=(-np.inf, 40, np.inf), labels=("young", "old"))
    r = diagnose(d, target="y", score="s", sensitive="age", bins={"age": bands},
                 reference_data=d.sample(300, random_state=1), n_boot=0, max_conditions=1)
    assert set(r.drift["group"]) == {"(all)", "young", "old"}
