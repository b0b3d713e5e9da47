"""What a positive decision means for the person: favourable (a loan) or adverse (a flag).

One setting, ``favorable_outcome``: ``"positive"`` when a positive prediction is good for the
person (granted, hired, approved) and ``"negative"`` when it is bad for them (flagged as high
risk, as in COMPAS), so that the good decision is the negative one. Every word faircard shows
about decisions, the "best group", the favourable rate and the four-fifths rule follow it;
this module is the one place those words and that rate are defined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import FaircardError

FAVORABLE_OUTCOMES = ("positive", "negative")
DEFAULT_FAVORABLE = "positive"
FAVORABLE_CHOICES = {
    "positive": "favourable (e.g. a loan is granted)",
    "negative": "adverse (e.g. flagged as high risk)",
}
"""How each setting is offered to a user."""


def check_favorable(value: object) -> str:
    """``value`` as ``"positive"`` or ``"negative"`` (None: the default), else FaircardError."""
    if value is None:
        return DEFAULT_FAVORABLE
    text = str(value).strip().lower()
    if text not in FAVORABLE_OUTCOMES:
        raise FaircardError(
            f"The favourable outcome must be 'positive' (a positive prediction is good for the "
            f"person, e.g. a loan) or 'negative' (it is bad for them, e.g. flagged as high "
            f"risk); got {value!r}."
        )
    return text


@dataclass(frozen=True)
class Wording:
    """The words for decisions under one ``favorable_outcome``."""

    favorable_outcome: str

    @property
    def is_adverse(self) -> bool:
        """True when a positive prediction is bad for the person."""
        return self.favorable_outcome == "negative"

    @property
    def kind(self) -> str:
        """"favourable" or "adverse": what a positive decision is for the person."""
        return "adverse" if self.is_adverse else "favourable"

    @property
    def positive_decision(self) -> str:
        """A positive decision, as a past participle: "flagged" or "approved"."""
        return "flagged" if self.is_adverse else "approved"

    @property
    def favorable_decision(self) -> str:
        """The decision that is good for the person."""
        return "not flagged" if self.is_adverse else "approved"

    @property
    def false_positive(self) -> str:
        """People with a negative outcome given a positive decision."""
        return "wrongly flagged" if self.is_adverse else "wrongly approved"

    @property
    def false_negative(self) -> str:
        """People with a positive outcome given a negative decision."""
        return "wrongly not flagged" if self.is_adverse else "wrongly denied"

    @property
    def selection_label(self) -> str:
        """Label of the selection rate that says what a selection is."""
        return f"Selection rate (share {self.positive_decision})"

    def label(self, metric: str) -> str:
        """The display name of ``metric``; the selection rate says what a selection is."""
        from .metrics import LABELS

        return self.selection_label if metric == "selection_rate" else LABELS.get(metric, metric)

    def describe(self) -> str:
        """One sentence for cards and screens."""
        if self.is_adverse:
            return ("A positive prediction is adverse for the person (for example flagged as "
                    "high risk), so the favourable decision is the negative one.")
        return ("A positive prediction is favourable for the person (for example a loan is "
                "granted).")


def wording(favorable_outcome: str | None) -> Wording:
    """The :class:`Wording` of ``favorable_outcome`` ("positive" or "negative")."""
    return Wording(check_favorable(favorable_outcome))


def favorable_rate(selection_rate, favorable_outcome: str):
    """Share of people given the favourable decision: the selection rate, or one minus it when
    a positive decision is adverse. Works on scalars and arrays; NaN stays NaN."""
    sr = np.asarray(selection_rate, dtype=np.float64)
    out = 1.0 - sr if check_favorable(favorable_outcome) == "negative" else sr
    return float(out) if out.ndim == 0 else out
