"""Synthetic benchmark data: outcomes, scores and two sensitive features (sex x race)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_rows(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows: y (0/1), score in [0, 1], pred = score >= 0.5, sex (2), race (5)."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(np.array(["Female", "Male"], dtype=object), size=n)
    race = rng.choice(np.array(["Asian", "Black", "Hispanic", "Other", "White"], dtype=object),
                      size=n, p=[0.07, 0.16, 0.15, 0.04, 0.58])
    y = (rng.random(n) < 0.3 + 0.1 * (sex == "Male")).astype(np.int64)
    score = np.clip(0.35 * y + rng.normal(0.35, 0.2, n), 0, 1)
    return pd.DataFrame({"y": y, "score": score, "pred": (score >= 0.5).astype(np.int64),
                         "sex": sex, "race": race})


def best_of(fn, repeat: int = 3) -> float:
    """Smallest wall time of ``repeat`` calls, in seconds."""
    import time

    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
