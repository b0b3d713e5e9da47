"""Models side by side: the table says which rule decided for every model, and its figures are
those of that rule applied to each model's scores (pandas on the same rows)."""

from __future__ import annotations

import numpy as np

from faircard.decision import DecisionPolicy
from tests.app.conftest import new, no_exception, seed_state, small_frame


def test_models_side_by_side_state_the_rule_that_decided_for_each():
    df = small_frame()
    df["score: model A"] = df["risk_score"]
    df["score: model B"] = np.clip(df["risk_score"] + 0.1 * (df["sex"] == "Male"), 0, 1)
    policy = DecisionPolicy.per_group("sex", {"Female": 0.45, "Male": 0.55})
    at = seed_state(new("app_pages/disparities.py"), df=df, sensitive=("sex",))
    at.session_state["fc_decision"] = "model"
    at.session_state["fc_model_columns"] = {"model A": "score: model A",
                                            "model B": "score: model B"}
    at.session_state["fc_policy"] = policy
    at.run()
    no_exception(at)
    table = at.dataframe[0].value.set_index("model")
    cut = df["sex"].map({"Female": 0.45, "Male": 0.55})
    for name in ("model A", "model B"):
        chosen = df[f"score: {name}"] >= cut
        assert table.loc[name, "selection_rate"] == chosen.mean()
        assert table.loc[name, "accuracy"] == (chosen == df["outcome"].astype(bool)).mean()
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert ("Every model is decided by the same rule. Thresholds per group of sex: Female "
            "0.450; Male 0.550.") in captions, captions
