"""The findings depend on the metrics chosen only through those with a gap sentence
(``GAP_METRICS``): the Disparities page keys its cached findings by them, so adding or dropping
any other metric must not change a sentence."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.findings import GAP_METRICS, findings
from faircard.metrics import LABELS


def _frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 3000
    g = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    y = (rng.random(n) < np.where(g == "a", 0.3, 0.5)).astype(int)
    score = np.clip(0.3 * y + rng.normal(np.where(g == "c", 0.45, 0.35), 0.2), 0, 1)
    return pd.DataFrame({"g": g, "y": y, "score": score})


@pytest.mark.parametrize("favorable", ["positive", "negative"])
def test_findings_follow_only_the_gap_metrics_chosen(favorable):
    a = faircard.assess(_frame(1), target="y", score="score", sensitive="g", n_boot=0,
                        favorable_outcome=favorable)
    others = [m for m in a.metrics if m not in GAP_METRICS and m != "count"]
    said = set()
    for gaps in itertools.chain.from_iterable(
            itertools.permutations(GAP_METRICS, k) for k in range(len(GAP_METRICS) + 1)):
        alone = findings(a, list(gaps))
        said.add(tuple(alone))
        for extra in (others, others[:3], others[::-2]):
            mixed = [*extra[:2], *gaps[:1], *extra[2:], *gaps[1:]]
            assert findings(a, mixed) == alone
    # the gap metrics do change what is said (so the test can tell a difference)
    if favorable == "positive":
        assert len(said) > 1
        assert any(LABELS["false_discovery_rate"].lower() in s for f in said for s in f)
