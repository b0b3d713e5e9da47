"""Thresholds page: a policy that meets its constraint only because some groups get one
decision whatever their score is not shown as a success."""

from __future__ import annotations

import pandas as pd

from tests.app.conftest import new, no_exception, seed_state, text_of
from tests.unit.test_policy_claims import _scores_ignored_in_two_groups


def test_a_policy_that_ignores_the_scores_of_some_groups_is_a_warning():
    y, s, g, groups = _scores_ignored_in_two_groups()
    df = pd.DataFrame({"outcome": y.astype(int), "risk_score": s,
                       "grp": [groups[j] for j in g]})
    at = seed_state(new("app_pages/thresholds.py"), df=df, sensitive=("grp",))
    at.run()
    at.selectbox(key="w_constraint").set_value("false_positive_rate_parity").run()
    no_exception(at)
    said = "Nobody is approved in a and b (700 people)"
    assert not any("false positive rate parity" in text_of(x) for x in at.success)
    assert any(said in text_of(w) and "meets false positive rate parity" in text_of(w)
               for w in at.warning)
    # the table beside it shows the same: nobody selected in a and b
    table = at.dataframe[-1].value
    assert table.loc["a", "selection_rate"] == 0 and table.loc["b", "selection_rate"] == 0
