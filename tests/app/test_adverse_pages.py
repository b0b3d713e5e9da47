"""With a positive decision adverse (flagged as high risk), the Thresholds, Disparities and
Model card pages never call a flag a selection or an approval: not in their text, their
warnings or the help of their controls."""

from __future__ import annotations

import re

import pytest

from tests.app.conftest import new, no_exception, seed_state, small_frame

FAVOURABLE_WORDS = re.compile(r"\b(selected|selects|approved|approves|granted|denied|hired)\b",
                              re.I)


def _texts(at) -> list[str]:
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "subheader"):
        out += [str(el.value) for el in getattr(at, kind)]
    for kind in ("toggle", "checkbox", "number_input", "selectbox", "slider", "radio"):
        out += [f"{el.label} {getattr(el, 'help', '') or ''}" for el in getattr(at, kind)]
    return out


@pytest.mark.parametrize("page", ["app_pages/thresholds.py", "app_pages/disparities.py",
                                  "app_pages/model_card.py"])
def test_no_favourable_word_for_a_flag(page):
    at = seed_state(new(page), sensitive=("sex",))
    at.session_state["fc_favorable"] = "negative"
    at.run()
    no_exception(at)
    found = [t for t in _texts(at) if FAVOURABLE_WORDS.search(t)]
    assert not found, found


def test_the_lowest_cost_note_says_nobody_is_flagged():
    """False positives 50 times as costly as false negatives: on these data no threshold
    that flags anybody costs less than flagging nobody (checked here from the rows)."""
    df = small_frame()
    y, s = df["outcome"].to_numpy(), df["risk_score"].to_numpy()
    fp_cost, fn_cost = 50.0, 1.0
    nobody = fn_cost * y.sum()
    assert all(fp_cost * ((s >= t) & (y == 0)).sum() + fn_cost * ((s < t) & (y == 1)).sum()
               > nobody for t in set(s))
    at = seed_state(new("app_pages/thresholds.py"), sensitive=("sex",))
    at.session_state["fc_favorable"] = "negative"
    at.run()
    at.number_input(key="w_fp_cost").set_value(fp_cost).run()
    no_exception(at)
    [note] = [w.value for w in at.warning if "lowest expected cost" in w.value]
    assert "It flags nobody" in note
    assert not FAVOURABLE_WORDS.search(note), note


@pytest.mark.parametrize("favorable, fp, fn", [
    ("negative", "wrongly flagged", "wrongly not flagged"),
    ("positive", "wrongly approved", "wrongly denied")])
def test_the_costs_say_which_mistake_each_is(favorable, fp, fn):
    """A false positive is a person wrongly flagged (or wrongly approved): the cost inputs say
    so in the words of the rest of the page, whose summaries count the same mistakes."""
    at = seed_state(new("app_pages/thresholds.py"), sensitive=("sex",))
    at.session_state["fc_favorable"] = favorable
    at.run()
    no_exception(at)
    assert at.number_input(key="w_fp_cost").label == f"Cost of a false positive ({fp})"
    assert at.number_input(key="w_fn_cost").label == f"Cost of a false negative ({fn})"


def _randomised_policy():
    from faircard.decision import DecisionPolicy

    return DecisionPolicy.per_group("sex", {"Female": 0.4, "Male": 0.5}, mix={
        "Female": {"probability": 0.5, "else": [{"threshold": 0.6, "probability": 0.3}],
                   "everybody": 0.2},
        "Male": {"probability": 0.6, "else": [], "nobody": 0.4}})


@pytest.mark.parametrize("page", ["app_pages/data.py", "app_pages/thresholds.py",
                                  "app_pages/disparities.py", "app_pages/model_card.py"])
def test_a_randomised_rules_everybody_and_nobody_are_flagged(page):
    """The rule in force mixes everybody into one group and nobody into the other: wherever a
    page or the sidebar states it, those parts are flagged, in the decision's own words."""
    at = seed_state(new("app.py"), sensitive=("sex",))
    at.session_state["fc_favorable"] = "negative"
    at.session_state["fc_policy"] = _randomised_policy()
    at.session_state["fc_policy_chosen"] = True
    at.switch_page(page).run()
    no_exception(at)
    texts = [t.replace("\\", "") for t in _texts(at)]
    stated = [t for t in texts if "with probability 0.200" in t]
    assert stated, texts
    for t in stated:
        assert "everybody flagged with probability 0.200" in t, t
        assert "nobody flagged with probability 0.400" in t, t
    assert not [t for t in texts if "given a positive decision" in t]
    found = [t for t in stated if FAVOURABLE_WORDS.search(t)]  # (the Data page's help
    assert not found, found                                      # explains both settings)
