"""What the user chose: column roles, positive label, bins, reference groups.

An :class:`AssessmentSpec` is plain data (it round-trips through JSON) so the app, the CLI and the
model card all describe an assessment the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .decision import DecisionPolicy
from .errors import FaircardError
from .favorable import check_favorable

MISSING_GROUP = "(missing)"


@dataclass(frozen=True)
class Binning:
    """Named bands for a numeric sensitive feature.

    ``edges`` are the band boundaries in increasing order; band ``i`` holds values ``v`` with
    ``edges[i] <= v < edges[i + 1]`` (the last band also includes its upper edge). Use
    ``-inf``/``inf`` as outer edges for open bands. ``labels`` has one name per band.
    """

    edges: tuple[float, ...]
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        edges = tuple(float(e) for e in self.edges)
        labels = tuple(str(label) for label in self.labels)
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "labels", labels)
        if len(edges) < 2:
            raise FaircardError("A binning needs at least two edges (one band).")
        if any(not (a < b) for a, b in zip(edges, edges[1:], strict=False)):
            raise FaircardError(
                f"Bin edges must increase strictly; got {', '.join(fmt_edge(e) for e in edges)}."
            )
        if len(labels) != len(edges) - 1:
            raise FaircardError(
                f"There are {len(edges) - 1} bands but {len(labels)} names; give one name per band."
            )
        if len(set(labels)) != len(labels):
            raise FaircardError("Band names must be different from each other.")

    @property
    def outside_labels(self) -> tuple[str, str]:
        """Names of the values below the first edge and above the last one: ``"under 18"`` and
        ``"over 65"`` (a known value outside every band is never counted as missing)."""
        below, above = f"under {fmt_edge(self.edges[0])}", f"over {fmt_edge(self.edges[-1])}"
        return tuple(n if n not in self.labels else f"{n} (outside the bands)"
                     for n in (below, above))

    def describe_outside(self) -> str:
        """One sentence on where values outside the bands go."""
        below, above = self.outside_labels
        parts = [f"values under {fmt_edge(self.edges[0])} form the group '{below}'"
                 if np.isfinite(self.edges[0]) else "",
                 f"values over {fmt_edge(self.edges[-1])} form the group '{above}'"
                 if np.isfinite(self.edges[-1]) else "",
                 "a value that is not a number (such as 'unknown') forms a group of its own, "
                 "named as written"]
        said = "; ".join(p for p in parts if p)
        return f"Known values are never counted as missing: {said}; only empty values are " \
               "'(missing)'."

    def describe_edges(self) -> str:
        """Which values each band holds, edges included or not, as :meth:`apply` assigns
        them: a value on an edge goes to the band that starts there, and the last band also
        holds its upper edge."""
        parts = []
        last = len(self.labels) - 1
        for i, (name, a, b) in enumerate(zip(self.labels, self.edges, self.edges[1:],
                                             strict=False)):
            if np.isinf(a) and np.isinf(b):
                held = "every number"
            elif np.isinf(a):
                held = f"{fmt_edge(b)} or less" if i == last else f"under {fmt_edge(b)}"
            elif np.isinf(b):
                held = f"{fmt_edge(a)} or more"
            elif i == last:
                held = f"{fmt_edge(a)} to {fmt_edge(b)}, both included"
            else:
                held = f"{fmt_edge(a)} to under {fmt_edge(b)}"
            parts.append(f"'{name}' holds {held}")
        return "; ".join(parts) + "."

    def text_label(self, text: str) -> str:
        """The group name of a value that is not a number: the value as written, unless a band
        or an outside group has that name."""
        return text if text not in (*self.labels, *self.outside_labels) else \
            f"{text} (as written)"

    def apply(self, values: pd.Series) -> pd.Categorical:
        """Assign each value its band name. Numbers below the first edge or above the last one
        get :attr:`outside_labels` (their own groups); a value that is not a number (the text
        'unknown') is known, not missing: it gets :meth:`text_label`, a group of its own after
        the bands; missing values and blank text become NaN.
        """
        values = pd.Series(values).reset_index(drop=True)
        numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        edges = np.asarray(self.edges)
        idx = np.searchsorted(edges, numeric, side="right") - 1
        # the top edge belongs to the last band
        idx[numeric == edges[-1]] = len(self.labels) - 1
        # categories: below, the bands, above, the texts (unused ones are dropped when groups
        # are encoded)
        codes = np.where(np.isnan(numeric), -1, idx + 1)
        below, above = self.outside_labels
        categories = [below, *self.labels, above]
        text = np.isnan(numeric) & values.notna().to_numpy()
        if text.any():  # a blank text is empty, so missing
            text[text] = values[text].map(str).str.strip().ne("").to_numpy()
        if text.any():
            written = values[text].map(str)
            names = sorted(set(written))
            codes[text] = len(categories) + pd.Index(names).get_indexer(written)
            categories += [self.text_label(t) for t in names]
        return pd.Categorical.from_codes(codes, categories=categories)

    def to_dict(self) -> dict[str, Any]:
        return {"edges": [_json_float(e) for e in self.edges], "labels": list(self.labels)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Binning:
        return cls(edges=tuple(float(e) for e in d["edges"]), labels=tuple(d["labels"]))


def fmt_edge(x: float) -> str:
    """An edge to its last digit: ``:g`` where that is exact (18, 65.5, 1e+06), else all the
    digits it needs (``:g`` wrote 123456.7 as 123457, so that 123456.9 went to the group
    'over 123457', and 1234567 as 1.23457e+06)."""
    short = f"{x:g}"
    return short if float(short) == x else f"{x:.15g}"


def _json_float(x: float) -> float | str:
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(x)


@dataclass(frozen=True)
class AssessmentSpec:
    """The choices that define an assessment.

    Exactly one of ``prediction`` (a column of predicted labels) or ``score`` (a real-valued
    score) must be given. With a score, ``policy`` (a :class:`~faircard.decision.DecisionPolicy`
    or its dict) is the decision rule; without one, the rule is one ``threshold`` for everyone
    (a row is predicted positive when ``score >= threshold``). ``threshold`` always equals the
    policy's single threshold, and is NaN for a per-group policy.
    ``reference`` maps a sensitive feature to its reference group (default: the largest group).
    Groups with fewer than ``min_group_size`` rows are flagged as small and, unless
    ``include_small_groups`` is set, left out of between-group comparisons. ``n_boot``
    bootstrap replicates (0: Wilson intervals only) at level ``confidence``, seeded by
    ``random_state``, give the intervals. ``favorable_outcome`` says whether a positive
    prediction is good for the person (``"positive"``, e.g. a loan) or bad for them
    (``"negative"``, e.g. flagged as high risk); wording and the four-fifths rule follow it.
    """

    target: str
    sensitive: tuple[str, ...]
    prediction: str | None = None
    score: str | None = None
    threshold: float = 0.5
    pos_label: Any = None
    reference: dict[str, str] = field(default_factory=dict)
    bins: dict[str, Binning] = field(default_factory=dict)
    intersection: bool = True
    min_group_size: int = 30
    include_small_groups: bool = False
    n_boot: int = 1000
    confidence: float = 0.95
    random_state: int | None = 0
    policy: DecisionPolicy | None = None
    favorable_outcome: str = "positive"

    def __post_init__(self) -> None:
        sensitive = (self.sensitive,) if isinstance(self.sensitive, str) else tuple(self.sensitive)
        object.__setattr__(self, "sensitive", sensitive)
        object.__setattr__(self, "reference", dict(self.reference or {}))
        object.__setattr__(self, "bins", dict(self.bins or {}))
        if (self.prediction is None) == (self.score is None):
            raise FaircardError(
                "Give either a prediction column (predicted labels) or a score column "
                "(with a threshold), not both and not neither."
            )
        if not sensitive:
            raise FaircardError("Choose at least one sensitive feature (for example sex or race).")
        if len(set(sensitive)) != len(sensitive):
            raise FaircardError("A sensitive feature is listed twice; list each one once.")
        roles = [self.target, self.prediction or self.score]
        for s in sensitive:
            if s in roles:
                raise FaircardError(
                    f"Column '{s}' is used both as a sensitive feature and as the target or "
                    "prediction; choose a different column."
                )
        if self.target == (self.prediction or self.score):
            raise FaircardError("The target and the prediction/score must be different columns.")
        self._set_policy()
        if int(self.min_group_size) < 0:
            raise FaircardError("The minimum group size cannot be negative.")
        object.__setattr__(self, "min_group_size", int(self.min_group_size))
        object.__setattr__(self, "favorable_outcome", check_favorable(self.favorable_outcome))
        for name in self.bins:
            if name not in sensitive:
                raise FaircardError(
                    f"Bins were given for '{name}', which is not a chosen sensitive feature."
                )

    def _set_policy(self) -> None:
        policy = self.policy
        if isinstance(policy, dict):
            policy = DecisionPolicy.from_dict(policy)
        if policy is not None and not isinstance(policy, DecisionPolicy):
            raise FaircardError("The decision policy must be a DecisionPolicy or its dict.")
        if policy is not None and self.score is None:
            raise FaircardError("A decision policy applies thresholds to a score; choose a score "
                                "column (or a model with scores), not a prediction column.")
        if policy is None:
            try:
                threshold = float(self.threshold)
            except (TypeError, ValueError):
                raise FaircardError(
                    f"The threshold must be a number; got {self.threshold!r}.") from None
            if not np.isfinite(threshold):
                raise FaircardError("The threshold must be a finite number.")
            policy = DecisionPolicy.single(threshold) if self.score is not None else None
        else:
            threshold = policy.threshold if policy.is_single else float("nan")
            if policy.feature is not None and policy.feature not in self.partition_names():
                raise FaircardError(
                    f"The decision policy sets thresholds per group of '{policy.feature}', "
                    f"which is not assessed here (assessed: {', '.join(self.partition_names())})."
                    " Add it as a sensitive feature, or use a policy chosen for one of these.")
        object.__setattr__(self, "threshold", threshold)
        object.__setattr__(self, "policy", policy)

    def partition_names(self) -> list[str]:
        """The assessed partitions: each sensitive feature, then their intersection."""
        names = list(self.sensitive)
        if self.intersection and len(names) > 1:
            names.append(" & ".join(names))
        return names

    @property
    def uses_score(self) -> bool:
        return self.score is not None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sensitive"] = list(self.sensitive)
        d["bins"] = {k: b.to_dict() for k, b in self.bins.items()}
        d["pos_label"] = _plain(self.pos_label)
        single = self.uses_score and self.policy.is_single
        d["threshold"] = self.threshold if single else None
        d["policy"] = self.policy.to_dict() if self.policy is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AssessmentSpec:
        d = dict(d)
        d["sensitive"] = tuple(d["sensitive"])
        d["bins"] = {k: Binning.from_dict(v) for k, v in (d.get("bins") or {}).items()}
        if d.get("threshold") is None:
            d["threshold"] = 0.5
        if d.get("policy") is not None:
            d["policy"] = DecisionPolicy.from_dict(d["policy"])
        return cls(**d)


def _plain(value: Any) -> Any:
    """Turn numpy scalars into Python scalars so they serialise to JSON."""
    if isinstance(value, np.generic):
        return value.item()
    return value
