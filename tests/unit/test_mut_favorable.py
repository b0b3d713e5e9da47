"""What the favourable/adverse setting is called where a user chooses it. The labels are
module constants, which mutmut does not mutate; a label that called a positive prediction
"adverse" under the setting ``"positive"`` would make every later sentence the opposite of
what the user meant."""

from __future__ import annotations

import numpy as np

from faircard.favorable import (
    FAVORABLE_CHOICES,
    FAVORABLE_OUTCOMES,
    check_favorable,
    favorable_rate,
    wording,
)


def test_each_choice_is_offered_with_the_kind_of_decision_it_sets():
    assert set(FAVORABLE_CHOICES) == set(FAVORABLE_OUTCOMES)
    # "positive": a positive prediction is good for the person (the module's definition)
    assert FAVORABLE_CHOICES["positive"].startswith("favourable")
    assert FAVORABLE_CHOICES["negative"].startswith("adverse")
    for setting, label in FAVORABLE_CHOICES.items():
        assert check_favorable(setting) == setting
        assert label.split()[0] == wording(setting).kind
    assert "granted" in FAVORABLE_CHOICES["positive"]
    assert "flagged" in FAVORABLE_CHOICES["negative"]


def test_the_sentence_that_states_the_setting():
    adverse, favourable = wording("negative").describe(), wording("positive").describe()
    assert adverse.startswith("A positive prediction is adverse for the person (")
    assert "flagged as high risk" in adverse
    assert adverse.endswith("so the favourable decision is the negative one.")
    assert favourable.startswith("A positive prediction is favourable for the person (")
    assert favourable.endswith("a loan is granted).")
    assert "adverse" not in favourable and "favourable decision" not in favourable


def test_metric_labels_and_the_selection_label():
    for setting, share in (("positive", "approved"), ("negative", "flagged")):
        w = wording(setting)
        assert w.label("selection_rate") == f"Selection rate (share {share})"
        # every other metric keeps its plain name: the key's words, capitalised
        for key in ("false_positive_rate", "true_negative_rate", "accuracy"):
            assert w.label(key) == key.replace("_", " ").capitalize()
        assert w.label("a_metric_of_my_own") == "a_metric_of_my_own"


def test_the_favourable_rate_is_a_float_for_scalars_and_float_arrays_otherwise():
    assert favorable_rate(0.25, "negative") == 0.75
    assert isinstance(favorable_rate(0.25, "positive"), float)
    assert isinstance(favorable_rate(np.float32(0.25), "negative"), float)
    for setting, want in (("positive", [0.0, 1.0, 0.25]), ("negative", [1.0, 0.0, 0.75])):
        # rates read from a JSON document: whole numbers as ints, undefined as None
        out = favorable_rate([0, 1, 0.25, None], setting)
        assert out.dtype == np.float64
        assert out[:3].tolist() == want and np.isnan(out[3])
