"""The Sensitive features page says when its groups hold fewer people than the dataset has
rows, and states each band's edges as they are applied."""

from __future__ import annotations

import numpy as np

from tests.app.conftest import new, no_exception, seed_state, small_frame


def test_groups_that_leave_rows_out_say_how_many_and_why():
    """Rows without a score are left out of every group: the people shown added up to 1,155 of
    1,200 rows with no word on the page about the 45 others."""
    df = small_frame()
    df.loc[df.index[:45], "risk_score"] = np.nan
    df.loc[df.index[45:50], "outcome"] = np.nan
    at = seed_state(new("app_pages/sensitive.py"), df=df, sensitive=("sex",))
    at.run()
    no_exception(at)
    table = at.dataframe[0].value
    kept = df.dropna(subset=["risk_score", "outcome"])
    assert list(table["people"]) == [int((kept.sex == g).sum()) for g in table["group"]]
    assert ("The groups hold the 1,150 of 1,200 rows that have an outcome and a decision; the "
            "other 50 are left out (5 with missing target, 45 with missing score).") in [
        i.value for i in at.info]


def test_bands_say_which_band_a_value_on_an_edge_joins():
    at = seed_state(new("app_pages/sensitive.py"), sensitive=("age",))
    at.run()
    at.text_input(key="w_edges_age").set_value("18, 50, 80").run()
    at.text_input(key="w_labels_age").set_value("young, old").run()
    no_exception(at)
    # the caption is escaped for Markdown (a full stop after a number starts a list)
    assert any(c.value.replace("\\", "").startswith(
        "'young' holds 18 to under 50; 'old' holds 50 to 80, both included.")
        for c in at.caption), [c.value for c in at.caption]
