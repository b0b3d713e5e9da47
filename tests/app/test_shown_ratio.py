"""The Disparities page's four-fifths tiles: a failing ratio is never written as 0.800."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.app.conftest import new, no_exception, seed_state


def test_a_just_failing_disparate_impact_ratio_reads_below_0_8():
    n = 10_000
    rows = [(g, 0.9 if i < k else 0.1, int(i % 2 == 0)) for g, k in (("A", 5_000), ("B", 3_999))
            for i in range(n)]
    df = pd.DataFrame(rows, columns=["sex", "risk_score", "outcome"])
    share = {g: np.mean(df.loc[df["sex"] == g, "risk_score"] >= 0.5) for g in ("A", "B")}
    assert share["B"] / share["A"] < 0.8
    at = seed_state(new("app_pages/disparities.py"), df, sensitive=("sex",))
    at.run()
    no_exception(at)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Four-fifths rule"] == "fails"
    assert float(tiles["Disparate impact ratio"]) < 0.8, tiles
