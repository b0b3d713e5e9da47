"""The decision policy: the one rule that turns scores into decisions.

A :class:`DecisionPolicy` is either one threshold for everyone, or one threshold per group of one
partition (a sensitive feature or an intersection). A row is a positive decision when its score
is at or above the threshold of its group. A per-group policy may be *randomised*: a group then
uses its threshold with a stated probability and another threshold otherwise, so people with the
same score in the same group may get different decisions; figures computed under such a policy
are expected values over the randomisation.

The policy is plain data (it round-trips through JSON, the file ``faircard thresholds --json``
writes) and is the only place the decision rule lives: the assessment, the card, the fingerprint
and the app all read it from the assessment's spec.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FaircardError
from .formatting import fmt_probability, fmt_threshold


@dataclass(frozen=True)
class GroupRule:
    """The decision rule of one group: ``score >= threshold`` with probability ``probability``,
    else ``score >= else_threshold`` (deterministic when ``probability`` is 1).

    A rule that mixes more than two thresholds, or gives everybody or nobody of the group a
    positive decision with some probability, lists its other parts in ``others`` instead of
    ``else_threshold``: ``(threshold, probability)`` pairs, ``-inf`` for everybody and ``+inf``
    for nobody, whose probabilities add up with ``probability`` to 1. (A rule of one threshold
    mixed with one other is always held, and written, as ``else_threshold``, as before.)"""

    threshold: float
    probability: float = 1.0
    else_threshold: float | None = None
    others: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        t = _finite(self.threshold, "threshold")
        p = _probability(self.probability, "probability")
        if self.others:
            if self.else_threshold is not None:
                raise FaircardError("A group rule lists its other thresholds either as "
                                    "'else_threshold' or as 'else', not both.")
            self._set_others(t, p)
            return
        other = None if self.else_threshold is None else _finite(self.else_threshold,
                                                                 "else threshold")
        if p < 1.0 and other is None:
            raise FaircardError("A randomised group rule needs the threshold used otherwise "
                                "(else_threshold).")
        if p == 1.0 or other == t:
            p, other = 1.0, None
        object.__setattr__(self, "threshold", t)
        object.__setattr__(self, "probability", p)
        object.__setattr__(self, "else_threshold", other)

    def _set_others(self, t: float, p: float) -> None:
        """Check ``others`` and keep the rule in its shortest form: parts of probability 0
        dropped, parts with the same threshold merged, one other finite threshold held as
        ``else_threshold``."""
        parts: dict[float, float] = {}
        for item in self.others:
            if not isinstance(item, tuple | list) or len(item) != 2:
                raise FaircardError("Each other part of a group rule is a threshold and its "
                                    "probability.")
            x = _number(item[0], "other threshold")
            if math.isnan(x):
                raise FaircardError("A threshold must be a number; got nan.")
            q = _probability(item[1], "probability of another threshold")
            if q > 0:
                parts[x] = parts.get(x, 0.0) + q
        total = p + sum(parts.values())
        if abs(total - 1.0) > 1e-9:
            raise FaircardError(f"The probabilities of a group rule must add up to 1; they add "
                                f"up to {total:.6g}.")
        if t in parts:
            p += parts.pop(t)
        finite = [x for x in parts if math.isfinite(x)]
        if not parts:
            p, other, rest = 1.0, None, ()
        elif len(parts) == 1 and finite:
            other, rest = finite[0], ()
        else:
            other, rest = None, tuple((x, q) for x, q in parts.items())
        object.__setattr__(self, "threshold", t)
        object.__setattr__(self, "probability", min(p, 1.0))
        object.__setattr__(self, "else_threshold", other)
        object.__setattr__(self, "others", rest)

    @property
    def is_randomized(self) -> bool:
        return self.probability < 1.0

    @property
    def parts(self) -> tuple[tuple[float, float], ...]:
        """Every ``(threshold, probability)`` of the rule, the first first; ``-inf`` is
        everybody, ``+inf`` nobody."""
        if self.else_threshold is not None:
            return ((self.threshold, self.probability),
                    (self.else_threshold, 1.0 - self.probability))
        return ((self.threshold, self.probability), *self.others)

    @property
    def finite_thresholds(self) -> tuple[float, ...]:
        """The rule's thresholds that are numbers (not everybody or nobody)."""
        return tuple(t for t, _ in self.parts if math.isfinite(t))

    def positive_probability(self, y_score: np.ndarray) -> np.ndarray:
        """Probability of a positive decision for each score (0/1 unless randomised)."""
        first = (y_score >= self.threshold).astype(np.float64)
        if not self.is_randomized:
            return first
        if self.else_threshold is not None:
            other = (y_score >= self.else_threshold).astype(np.float64)
            return self.probability * first + (1.0 - self.probability) * other
        out = self.probability * first
        for t, q in self.others:
            out += q * (y_score >= t)
        return out

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"threshold": self.threshold}
        if self.is_randomized:
            d.update(mix_entry(self))
        return d

    def describe_mix(self, positive: str, digits: int = 3) -> str:
        """A randomised rule in words, e.g. "threshold 0.400 with probability 0.500, else
        0.600", or "threshold 0.400 with probability 0.500, 0.600 with probability 0.300,
        everybody flagged with probability 0.200" (``positive``: what a positive decision
        is, in the decision's own words: :attr:`~faircard.favorable.Wording.positive_decision`,
        "flagged" or "approved")."""
        head = (f"threshold {fmt_threshold(self.threshold, digits)} with probability "
                f"{fmt_probability(self.probability)}")
        if self.else_threshold is not None:
            return f"{head}, else {fmt_threshold(self.else_threshold, digits)}"
        words = []
        for t, q in self.others:
            what = (fmt_threshold(t, digits) if math.isfinite(t)
                    else f"everybody {positive}" if t < 0 else f"nobody {positive}")
            words.append(f"{what} with probability {fmt_probability(q)}")
        return ", ".join([head, *words])


def mix_entry(rule: GroupRule) -> dict[str, Any]:
    """How a randomised group rule is written in a policy's ``mix``: ``{"probability": p,
    "else_threshold": b}`` for one threshold mixed with one other (as always), else
    ``{"probability": p, "else": [{"threshold": t, "probability": q}, ...]}`` with the
    probabilities of everybody and nobody as ``"everybody"`` and ``"nobody"`` when the rule
    has them. (A reader that knows only ``else_threshold`` refuses the second form: it has no
    ``else_threshold``.)"""
    if rule.else_threshold is not None:
        return {"probability": rule.probability, "else_threshold": rule.else_threshold}
    d: dict[str, Any] = {"probability": rule.probability,
                         "else": [{"threshold": t, "probability": q}
                                  for t, q in rule.others if math.isfinite(t)]}
    for t, q in rule.others:
        if not math.isfinite(t):
            d["everybody" if t < 0 else "nobody"] = q
    return d


@dataclass(frozen=True)
class DecisionPolicy:
    """One threshold for everyone (``threshold``), or one rule per group of ``feature``.

    ``feature`` is the partition's name as shown in an assessment (``"race"``, or
    ``"race & sex"`` for an intersection); ``rules`` maps each group label to its
    :class:`GroupRule`. ``chosen_for`` records how the policy was chosen (constraint,
    objective, tolerance), for the card; it does not change decisions.
    """

    threshold: float | None = None
    feature: str | None = None
    rules: Mapping[str, GroupRule] = field(default_factory=dict)
    chosen_for: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rules = {str(g): r if isinstance(r, GroupRule) else _rule(r, g)
                 for g, r in dict(self.rules or {}).items()}
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "chosen_for", dict(self.chosen_for or {}))
        if self.threshold is not None:
            if rules or self.feature:
                raise FaircardError("A decision policy has either one threshold for everyone "
                                    "or one threshold per group, not both.")
            object.__setattr__(self, "threshold", _finite(self.threshold, "threshold"))
        else:
            if not self.feature or not rules:
                raise FaircardError("A per-group decision policy needs the feature its groups "
                                    "belong to and a threshold for each group.")
            object.__setattr__(self, "feature", str(self.feature))

    # -------------------------------------------------------------- construction
    @classmethod
    def single(cls, threshold: float) -> DecisionPolicy:
        """One threshold for everyone."""
        return cls(threshold=threshold)

    @classmethod
    def per_group(cls, feature: str, thresholds: Mapping[str, float],
                  mix: Mapping[str, tuple[float, float]] | None = None,
                  chosen_for: Mapping[str, Any] | None = None) -> DecisionPolicy:
        """One threshold per group; ``mix`` gives randomised groups ``(probability,
        else_threshold)`` or their entry as :func:`mix_entry` writes it."""
        mix = mix or {}
        rules = {g: _rule({"threshold": t, **mix[g]}, g) if isinstance(mix.get(g), Mapping)
                 else GroupRule(t, *(mix[g] if g in mix else (1.0, None)))
                 for g, t in thresholds.items()}
        return cls(feature=feature, rules=rules, chosen_for=chosen_for or {})

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DecisionPolicy:
        """Read a policy from its :meth:`to_dict` form, or from the JSON document written by
        ``faircard thresholds --json`` (or downloaded from the Thresholds page)."""
        if not isinstance(d, Mapping):
            raise FaircardError("A decision policy must be a JSON object.")
        if "policy" in d and isinstance(d["policy"], Mapping):
            d = d["policy"]
        chosen = {k: d[k] for k in ("constraint", "objective", "tolerance") if k in d}
        if d.get("left_out") and chosen.get("constraint", "none") != "none":
            # the file of 'faircard thresholds --json' (or the page's download)
            chosen.update(left_out_record(d["left_out"], d.get("min_group_size")))
        if not isinstance(d.get("chosen_for") or {}, Mapping):
            raise FaircardError("The policy's 'chosen_for' must be an object.")
        chosen.update(d.get("chosen_for") or {})
        if "left_out" in chosen:  # checked, and kept only when some group was left out
            chosen.update(left_out_record(chosen.pop("left_out"),
                                          chosen.pop("min_group_size", None)))
        if d.get("thresholds"):
            if not isinstance(d["thresholds"], Mapping):
                raise FaircardError("The policy's 'thresholds' must map each group to a number.")
            mix = d.get("mix") or {}
            if not isinstance(mix, Mapping):
                raise FaircardError("The policy's 'mix' must map groups to their randomisation.")
            rules = {}
            for g, t in d["thresholds"].items():
                m = mix.get(g) or {}
                rules[str(g)] = _rule({"threshold": t, **m}, g)
            return cls(feature=d.get("feature"), rules=rules, chosen_for=chosen)
        if d.get("threshold") is not None:
            return cls(threshold=d["threshold"])
        raise FaircardError("This file is not a decision policy: it has neither 'thresholds' "
                            "(one per group) nor 'threshold'. Use the file written by "
                            "'faircard thresholds --json' or downloaded from the Thresholds page.")

    # -------------------------------------------------------------- reading
    @property
    def is_single(self) -> bool:
        return self.threshold is not None

    @property
    def is_randomized(self) -> bool:
        return any(r.is_randomized for r in self.rules.values())

    @property
    def thresholds(self) -> dict[str, float]:
        """Each group's (first) threshold; empty for a single threshold."""
        return {g: r.threshold for g, r in self.rules.items()}

    def positive_probability(self, y_score: np.ndarray, group: np.ndarray | None = None,
                             groups: tuple[str, ...] | list[str] | None = None) -> np.ndarray:
        """Probability of a positive decision per row (float64; 0/1 unless randomised).

        ``group`` (int index per row into ``groups``) is needed for a per-group policy; every
        group must have a rule.
        """
        y_score = np.asarray(y_score, dtype=np.float64)
        if self.is_single:
            return (y_score >= self.threshold).astype(np.float64)
        if group is None or groups is None:
            raise FaircardError(f"This policy sets thresholds per group of '{self.feature}'; "
                                "the groups of each row are needed to apply it.")
        self.check_groups(groups)
        out = np.empty(len(y_score), dtype=np.float64)
        group = np.asarray(group, dtype=np.int64)
        for j, g in enumerate(groups):
            rows = group == j
            out[rows] = self.rules[g].positive_probability(y_score[rows])
        return out

    def decide(self, y_score, group=None, groups=None) -> np.ndarray:
        """Boolean decisions of a deterministic policy (raises for a randomised one)."""
        if self.is_randomized:
            raise FaircardError("A randomised policy has no fixed decision for every row; use "
                                "its probabilities (expected values) instead.")
        return self.positive_probability(y_score, group, groups) > 0.5

    def check_groups(self, groups) -> None:
        """Every group of the data has a rule (else a :class:`FaircardError` naming them)."""
        missing = [g for g in groups if g not in self.rules]
        if missing:
            shown = ", ".join(repr(g) for g in missing[:10])
            known = ", ".join(repr(g) for g in list(self.rules)[:10])
            raise FaircardError(
                f"The decision policy has no threshold for the "
                f"{'group' if len(missing) == 1 else 'groups'} {shown} of "
                f"'{self.feature}' (it has thresholds for {known}). Choose the policy again on "
                "these data, or add those groups to the policy file."
            )

    def describe(self, digits: int = 3, notes: Mapping[str, str] | None = None, *,
                 positive: str) -> str:
        """The rule in words, e.g. ``"Thresholds per group of race: A 0.400, B 0.520."``;
        ``notes`` ({group: text}) follow their group's rule in brackets (e.g. why a group is
        not compared: every group's rule is stated, so the rule stays reproducible);
        ``positive``: what a positive decision is, in the decision's own words, for a
        randomised rule's parts ("everybody flagged with probability 0.2"; see
        :attr:`~faircard.favorable.Wording.positive_decision`)."""
        notes = notes or {}

        def f(x: float) -> str:
            return fmt_threshold(x, digits)

        if self.is_single:
            return f"One threshold for everyone: a score at or above {f(self.threshold)} is a " \
                   "positive decision."
        parts = []
        for g, r in self.rules.items():
            if r.is_randomized:
                parts.append(f"group {g}: {r.describe_mix(positive, digits)}")
            else:
                parts.append(f"{g} {f(r.threshold)}")
            if notes.get(g):
                parts[-1] += f" ({notes[g]})"
        text = f"Thresholds per group of {self.feature}: " + "; ".join(parts) + "."
        if self.is_randomized:
            text = ("Randomised: people with the same score in the same group may get different "
                    "decisions, and the figures are expected values over the randomisation. "
                    + text)
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (numbers only; :meth:`from_dict` reads it back)."""
        if self.is_single:
            d: dict[str, Any] = {"kind": "single", "threshold": self.threshold}
        else:
            d = {"kind": "per_group", "feature": self.feature,
                 "thresholds": self.thresholds, "randomized": self.is_randomized}
            if self.is_randomized:
                d["mix"] = {g: mix_entry(r) for g, r in self.rules.items() if r.is_randomized}
        if self.chosen_for:
            d["chosen_for"] = dict(self.chosen_for)
        return d


def left_out_record(left_out: Mapping[str, Any], min_group_size: Any) -> dict[str, Any]:
    """How a policy's choice records the groups it left out of its constraint as smaller
    than ``min_group_size``: ``{"min_group_size": m, "left_out": {group: people}}``, or
    nothing when it left none out (so a policy that left none out is recorded, and
    fingerprinted, as before groups were recorded)."""
    if not isinstance(left_out, Mapping):
        raise FaircardError("The policy's 'left_out' must map each group left out of the "
                            "constraint to its number of people.")
    sizes = {}
    for g, n in left_out.items():
        if isinstance(n, bool) or not isinstance(n, int | float) or not math.isfinite(n) \
                or n < 0 or n != int(n):
            raise FaircardError(f"The policy's 'left_out' gives group '{g}' {n!r} people; "
                                "expected a whole number.")
        sizes[str(g)] = int(n)
    if not sizes:
        return {}
    m = min_group_size
    if isinstance(m, bool) or not isinstance(m, int | float) or not math.isfinite(m) \
            or m != int(m) or not all(n < m for n in sizes.values()):
        raise FaircardError("The policy's groups left out of the constraint need the minimum "
                            "group size they fell below ('min_group_size', a whole number "
                            "above each of their sizes).")
    return {"min_group_size": int(m), "left_out": sizes}


def load_policy(path: str | Path) -> DecisionPolicy:
    """Read a policy JSON file (``faircard thresholds --json``, or the app's download)."""
    p = Path(path)
    if not p.is_file():
        raise FaircardError(f"The policy file '{p}' does not exist.")
    if p.stat().st_size > 5_000_000:
        raise FaircardError(f"The policy file '{p}' is larger than 5 MB; is it the right file?")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FaircardError(f"The policy file '{p}' is not valid JSON ({exc}).") from None
    return DecisionPolicy.from_dict(doc)


def shortest_between(low: float, high: float) -> float:
    """The shortest decimal number in ``(low, high]``: with ``low`` the highest score below a
    threshold ``high``, it makes the same decisions as ``high`` and can be written down exactly
    in a few digits. ``high`` itself when nothing is below it (``low`` is -inf)."""
    high = float(high)
    if not (math.isfinite(low) and math.isfinite(high)):
        return high
    for digits in range(0, 17):
        c = float(f"{high:.{digits}f}")
        if c > high:  # rounded up: take the number one step below
            c = float(f"{c - 10.0 ** -digits:.{digits}f}")
        if low < c <= high:
            return c
    return high


def short_threshold(threshold: float, low: float) -> float:
    """``threshold`` written in a few digits with the same decisions (see
    :func:`shortest_between`; ``low``: the highest score below it). A threshold with three
    decimals or fewer (one a person typed) is kept as it is."""
    t = float(threshold)
    if math.isfinite(t) and float(f"{t:.3f}") == t:
        return t
    return shortest_between(low, t)


def threshold_above(max_score: float) -> float:
    """A short finite number above ``max_score``: the threshold at which nobody is selected."""
    x = float(max_score)
    for digits in range(2, 17):
        t = float(f"{x:.{digits}g}")
        step = 10 ** (math.floor(math.log10(abs(t))) - digits + 1) if t else 10.0 ** -digits
        cand = t + step
        if cand > x and float(f"{cand:.{digits}g}") > x:
            return float(f"{cand:.{digits}g}")
    return float(np.nextafter(x, np.inf))


def _rule(value: Any, group: Any) -> GroupRule:
    if isinstance(value, Mapping):
        if "threshold" not in value:
            raise FaircardError(f"The rule of group '{group}' has no threshold.")
        threshold = _finite(value["threshold"], f"threshold of group '{group}'")
        if any(k in value for k in ("else", "everybody", "nobody")):
            return GroupRule(threshold, value.get("probability", 1.0),
                             value.get("else_threshold"), _others(value, group))
        return GroupRule(threshold, value.get("probability", 1.0), value.get("else_threshold"))
    return GroupRule(_finite(value, f"threshold of group '{group}'"))


def _others(value: Mapping[str, Any], group: Any) -> tuple[tuple[float, float], ...]:
    """The other parts of a group rule written as :func:`mix_entry` writes them."""
    listed = value.get("else", [])
    if not isinstance(listed, list) or not all(isinstance(x, Mapping) and "threshold" in x
                                               for x in listed):
        raise FaircardError(f"The rule of group '{group}' must list its other thresholds as "
                            "'else': [{\"threshold\": t, \"probability\": p}, ...].")
    out = [(_finite(x["threshold"], f"other threshold of group '{group}'"),
            _probability(x.get("probability"), f"probability of a threshold of group '{group}'"))
           for x in listed]
    for key, bound in (("everybody", -math.inf), ("nobody", math.inf)):
        if key in value:
            out.append((bound, _probability(value[key], f"probability of '{key}' in group "
                                                        f"'{group}'")))
    if not out:
        raise FaircardError(f"The rule of group '{group}' lists no other threshold in 'else'.")
    return tuple(out)


def _probability(value: Any, what: str) -> float:
    p = _number(value, what)
    if not 0.0 <= p <= 1.0:
        raise FaircardError(f"A probability must lie between 0 and 1; got {p:g}.")
    return p


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise FaircardError(f"The {what} must be a number; got {value!r}.")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise FaircardError(f"The {what} must be a number; got {value!r}.") from None


def _finite(value: Any, what: str) -> float:
    x = _number(value, what)
    if not math.isfinite(x):
        raise FaircardError(f"The {what} must be a finite number; got {value!r}. To select "
                            "nobody, use a number above every score.")
    return x
