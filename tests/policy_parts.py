"""A randomised group rule read straight from its written form (the policy JSON's ``mix``),
without faircard's reader: the tests' own account of what a written rule means."""

from __future__ import annotations

import numpy as np


def written_parts(threshold: float, entry: dict | None) -> list[tuple[float, float]]:
    """A group's (threshold, probability) parts: ``entry`` is ``None`` (the threshold alone),
    ``{"probability": p, "else_threshold": b}``, or ``{"probability": p, "else":
    [{"threshold": t, "probability": q}, ...], "everybody": r, "nobody": s}`` (everybody as
    -inf, nobody as +inf)."""
    if entry is None:
        return [(threshold, 1.0)]
    parts = [(threshold, entry["probability"])]
    if "else_threshold" in entry:
        return parts + [(entry["else_threshold"], 1 - entry["probability"])]
    parts += [(o["threshold"], o["probability"]) for o in entry["else"]]
    return parts + [(bound, entry[key]) for key, bound in (("everybody", -np.inf),
                                                           ("nobody", np.inf)) if key in entry]


def written_probability(scores, threshold: float, entry: dict | None) -> np.ndarray:
    """Each score's probability of a positive decision under the written rule."""
    s = np.asarray(scores, dtype=np.float64)
    parts = written_parts(threshold, entry)
    assert abs(sum(p for _, p in parts) - 1.0) <= 1e-9, parts
    return sum(p * (s >= t) for t, p in parts) + np.zeros(len(s))
