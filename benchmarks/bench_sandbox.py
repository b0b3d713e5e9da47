"""Scoring in the sandboxed child vs scoring in this process, measured in one run.

Two models trained on Adult-like rows (4 numeric and 3 categorical columns): a Pipeline
(one-hot + scaling + logistic regression) and a HistGradientBoosting classifier. For each size
the same rows are scored with ``predict_proba`` in-process and with
``SandboxedModel.predict_scores`` (rows sent to the running child in chunks, scores back); the
child's start and the model's load are timed once, separately. The child runs its numeric
libraries on one thread (a small, predictable address space), so in-process scoring is timed on
one thread too. The child rebuilds text columns from their distinct values (that is how they
travel), so equal strings are one object there, which scikit-learn's encoders compare faster;
in-process scoring is therefore timed both on the frame as read and on the same rebuilt frame
(the ratio to the latter is the box's own cost: packing, sending, returning scores).

    python benchmarks/bench_sandbox.py [--sizes 100000 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).parent))
from _data import best_of  # noqa: E402

from faircard.io._load_worker import unpack_rows  # noqa: E402
from faircard.io.models import load_model  # noqa: E402
from faircard.io.sandbox import pack_rows  # noqa: E402

NUMERIC = ["age", "education_num", "hours_per_week", "capital_gain"]
CATEGORICAL = ["workclass", "occupation", "sex"]


def make_adult(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age": rng.integers(17, 90, n).astype(float),
        "education_num": rng.integers(1, 17, n).astype(float),
        "hours_per_week": rng.integers(1, 99, n).astype(float),
        "capital_gain": np.where(rng.random(n) < 0.1, rng.exponential(5000, n), 0.0),
        "workclass": rng.choice(np.array(["Private", "Self-emp", "Gov", "Other"], dtype=object), n),
        "occupation": rng.choice(np.array([f"occ{i}" for i in range(14)], dtype=object), n),
        "sex": rng.choice(np.array(["Female", "Male"], dtype=object), n),
    })
    logit = (0.04 * (df.age - 40) + 0.3 * (df.education_num - 10) + 0.5 * (df.sex == "Male")
             + 0.0002 * df.capital_gain - 1)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df, y


def models(X: pd.DataFrame, y: np.ndarray) -> dict:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    pipe = Pipeline([
        ("pre", ColumnTransformer([("num", StandardScaler(), NUMERIC),
                                   ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])),
        ("clf", LogisticRegression(max_iter=500)),
    ])
    hgb = Pipeline([
        ("pre", ColumnTransformer([("num", "passthrough", NUMERIC),
                                   ("cat", OrdinalEncoder(), CATEGORICAL)])),
        ("clf", HistGradientBoostingClassifier(max_iter=100, random_state=0)),
    ])
    return {"one-hot + logistic regression": pipe.fit(X, y),
            "histogram gradient boosting": hgb.fit(X, y)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    train, y = make_adult(20_000, seed=1)
    rows = []
    for name, est in models(train, y).items():
        t0 = time.perf_counter()
        boxed = load_model(pickle.dumps(est), filename="model.pkl")
        start = time.perf_counter() - t0
        for n in args.sizes:
            X, _ = make_adult(n, seed=2)
            inside = boxed.predict_scores(X)
            np.testing.assert_array_equal(inside, est.predict_proba(X)[:, 1])
            same = unpack_rows(pack_rows(X))
            with threadpool_limits(1):
                t_read = best_of(lambda: est.predict_proba(X), args.repeat)  # noqa: B023
                t_same = best_of(lambda: est.predict_proba(same), args.repeat)  # noqa: B023
            t_box = best_of(lambda: boxed.predict_scores(X), args.repeat)  # noqa: B023
            rows.append((name, n, t_read, t_same, t_box, start))
        boxed.close()
    print("| model | rows | in-process, frame as read (s) | in-process, rebuilt frame (s) | "
          "sandboxed child (s) | child / as read | child / rebuilt | child start + load, "
          "once (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, n, t_read, t_same, t_box, start in rows:
        print(f"| {name} | {n:,} | {t_read:.3f} | {t_same:.3f} | {t_box:.3f} | "
              f"{t_box / t_read:.2f}x | {t_box / t_same:.2f}x | {start:.2f} |")


if __name__ == "__main__":
    main()
