"""The Diagnostics page shows the numbers faircard.diagnose computes, and keeps the experts'
checklist answers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from faircard.diagnostics import diagnose

from .conftest import new, no_exception, record_and_approve, seed_state, small_frame, text_of


def _table(at, *columns):
    """The first dataframe on the page that has all ``columns`` (AppTest does not expose
    dataframe keys)."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def _frame():
    df = small_frame(n=1500, seed=4)
    rng = np.random.default_rng(9)
    df["zone"] = np.where(rng.random(len(df)) < 0.8, df["race"], "X")
    return df


def test_diagnostics_page_shows_the_computed_numbers_and_keeps_answers():
    df = _frame()
    at = seed_state(new("app_pages/diagnostics.py"), df)
    at.session_state["fc_diag_exclude"] = ["decision"]
    at.run()
    no_exception(at)
    expected = diagnose(df, target="outcome", score="risk_score", threshold=0.5, pos_label=1,
                        sensitive=["sex", "race"], exclude=["decision"])
    proxies = _table(at, "sensitive_feature", "measure")
    top = proxies[(proxies["sensitive_feature"] == "race") & (proxies["measure"] == "cv_auc")]
    want = expected.proxies[(expected.proxies["sensitive_feature"] == "race")
                            & (expected.proxies["measure"] == "cv_auc")]
    assert top["feature"].iloc[0] == "zone" == want["feature"].iloc[0]
    assert top["value"].iloc[0] == want["value"].iloc[0]
    cal = _table(at, "ece", "calibration_in_the_large")
    assert list(cal["ece"]) == list(expected.calibration["ece"])
    assert "decision" not in set(proxies["feature"])
    # the measurement item names the planted proxy
    markdown = " ".join(m.value for m in at.markdown)
    assert "'zone' alone tells" in markdown
    at.selectbox(key="w_check_measurement").set_value("concern").run()
    at.text_area(key="w_note_measurement").set_value("zone follows race").run()
    no_exception(at)
    answers = at.session_state["fc_diag_checklist"]
    assert answers["measurement"] == {"status": "concern", "note": "zone follows race"}
    # another session starts with no answers (the diagnostics are cached and shared)
    again = seed_state(new("app_pages/diagnostics.py"), df)
    again.session_state["fc_diag_exclude"] = ["decision"]
    again.run()
    assert again.selectbox(key="w_check_measurement").value == ""


def test_diagnostics_page_without_inputs_says_what_is_missing():
    at = new("app_pages/diagnostics.py")
    at.run()
    no_exception(at)
    assert "Choose the sensitive features first" in at.info[0].value


def _copy_session(src, dst, keys):
    """What the app keeps when the user goes to another page: the session's own keys."""
    for key in keys:
        dst.session_state[key] = src.session_state[key]
    return dst


def test_a_status_set_on_diagnostics_is_in_the_model_card_preview():
    df = _frame()
    diag = seed_state(new("app_pages/diagnostics.py"), df)
    diag.session_state["fc_diag_exclude"] = ["decision"]
    diag.run()
    no_exception(diag)
    assert any("Permutation importance needs the model itself" in i.value for i in diag.info)
    diag.selectbox(key="w_check_measurement").set_value("concern").run()
    diag.text_area(key="w_note_measurement").set_value("zone <i>follows</i> race").run()
    diag.selectbox(key="w_check_deployment").set_value("not applicable").run()
    no_exception(diag)
    card = _copy_session(diag, seed_state(new("app_pages/model_card.py"), df),
                         ["fc_diag_checklist", "fc_diag_card", "fc_diag_exclude"])
    card.run()
    no_exception(card)
    preview = " ".join(m.value for m in card.markdown)
    assert "| Measurement bias | concern | concern | zone &lt;i&gt;follows&lt;/i&gt; race |" \
        in preview
    assert "| Deployment bias | not applicable |" in preview
    assert "| Historical bias | not reviewed |" in preview
    # the top proxy is in the caveats
    caveats = preview[preview.index("## Caveats"):]
    assert "'zone' alone tells" in caveats and "it can stand in for race" in caveats
    # other choices than the diagnostics were made for: the card says where to get them
    other = _copy_session(diag, seed_state(new("app_pages/model_card.py"), df,
                                           sensitive=("sex",)),
                          ["fc_diag_checklist", "fc_diag_card"])
    other.run()
    no_exception(other)
    assert "Bias sources" not in " ".join(m.value for m in other.markdown)
    assert any("come from the Diagnostics page" in c.value for c in other.caption)


def test_with_a_model_the_page_shows_its_permutation_importance():
    from faircard.demo import load_demo
    from faircard.io.sandbox import InProcessModel

    demo = load_demo(2400)
    handle = InProcessModel(demo.model, name="demo model", filename="demo", sha256="1" * 64)
    df = demo.data.drop(columns=[demo.score, demo.prediction])
    df["score: demo model"] = demo.model.predict_proba(df)[:, 1]
    at = seed_state(new("app_pages/diagnostics.py"), df)
    at.session_state["fc_target"] = demo.target
    at.session_state["fc_decision"] = "model"
    at.session_state["fc_models"] = [handle]
    at.session_state["fc_model_columns"] = {"demo model": "score: demo model"}
    at.run()
    no_exception(at)
    shown = _table(at, "importance", "importance_std")
    expected = diagnose(df, target=demo.target, score="score: demo model", pos_label=1,
                        sensitive=["sex", "race"], model=handle,
                        model_exclude=["score: demo model"], n_boot=0).importance
    assert list(shown["column"]) == list(expected["column"])
    assert list(shown["importance"]) == list(expected["importance"])
    assert set(shown["group"]) == {"(all)", *df["sex"].unique(), *df["race"].unique()}
    captions = " ".join(c.value for c in at.caption)
    assert "Permutation importance: the drop in ROC AUC" in captions


def test_an_approval_covers_the_checklist_on_the_card(_private_audit_store):

    df = _frame()
    diag = seed_state(new("app_pages/diagnostics.py"), df)
    diag.session_state["fc_diag_exclude"] = ["decision"]
    diag.run()
    diag.selectbox(key="w_check_measurement").set_value("concern").run()
    diag.text_area(key="w_note_measurement").set_value("zone follows race").run()
    no_exception(diag)
    keys = ["fc_diag_checklist", "fc_diag_card", "fc_diag_exclude"]
    gov = _copy_session(diag, seed_state(new("app_pages/governance.py"), df), keys)
    record_and_approve(gov, _private_audit_store)
    card = _copy_session(diag, seed_state(new("app_pages/model_card.py"), df), keys)
    card.run()
    no_exception(card)
    assert "Status: approved, reviewer Ben Lee" in " ".join(m.value for m in card.markdown)
    # the experts change a note after the approval: the card is no longer the approved one
    diag.text_area(key="w_note_measurement").set_value("zone follows race closely").run()
    no_exception(diag)
    card = _copy_session(diag, seed_state(new("app_pages/model_card.py"), df), keys)
    card.run()
    preview = " ".join(m.value for m in card.markdown)
    assert "zone follows race closely" in preview
    assert "Status: changed since approval" in preview and "Status: approved" not in preview


def test_one_band_and_its_count_agree():
    # two equally calibrated groups except in one score band, where 'B' always has the outcome
    rng = np.random.default_rng(3)
    n = 4000
    race = rng.choice(["A", "B"], n)
    score = rng.random(n).round(4)
    y = (rng.random(n) < score).astype(int)
    band = (score > 0.5) & (score <= 0.6)
    y[band & (race == "B")] = 1
    df = pd.DataFrame({"outcome": y, "risk_score": score, "sex": rng.choice(["F", "M"], n),
                       "race": race})
    at = seed_state(new("app_pages/diagnostics.py"), df)
    at.run()
    no_exception(at)
    warning = " ".join(text_of(w) for w in at.warning)
    assert "different risks for different groups in 1 score band;" in warning
    caption = " ".join(text_of(c) for c in at.caption)
    found = re.search(r"([\d,]+) (subgroups?) tried .*?; (\d+) (differs?) from the rest",
                      caption)
    tried, noun, significant, verb = found.groups()
    assert (noun == "subgroup") == (tried == "1")
    assert (verb == "differs") == (significant == "1")


@pytest.mark.parametrize("change, expected", [
    (dict(policy=("race", {"A": 0.4, "B": 0.5, "C": 0.6})),
     "The decision policy sets thresholds per group of 'race', which is not assessed here"),
    (dict(policy=("sex", {"Female": 0.4})),
     "The decision policy has no threshold for the group 'Male' of 'sex'"),
    (dict(score=np.nan), "No row has both a target and a prediction/score value"),
    (dict(score="x"), "Score column 'risk_score' has text values such as 'x'"),
])
def test_choices_the_rows_refuse_are_said_in_one_line_not_a_traceback(change, expected):
    """A per-group policy for a feature no longer chosen (the features were switched after
    choosing it), a policy without a threshold for a group, scores all missing or text: the
    Diagnostics page raised the error to the user as an app failure; it now says it as the
    other pages do and draws nothing else."""
    from faircard.decision import DecisionPolicy

    df = small_frame(n=600, seed=3)
    if "score" in change:
        df["risk_score"] = change["score"]
    at = seed_state(new("app_pages/diagnostics.py"), df=df, sensitive=("sex",))
    at.session_state["fc_data_digest"] = f"diag-refused-{expected[:30]}"
    if "policy" in change:
        feature, thresholds = change["policy"]
        at.session_state["fc_policy"] = DecisionPolicy.per_group(feature, thresholds)
    at.run()
    no_exception(at)
    assert [text_of(e) for e in at.error] and expected in text_of(at.error[0]), \
        [text_of(e) for e in at.error]
    assert not at.subheader and not at.dataframe
