"""Scoring in the sandboxed child vs scoring in this process, measured in one run.

Two models trained on Adult-like rows (4 numeric and 3 categorical columns): a Pipeline
(one-hot + scaling + logistic regression) and a HistGradientBoosting classifier. For each size
the same rows are scored with ``predict_proba`` in-process and with
``SandboxedModel.predict_scores`` (rows sent to the running child in chunks, scores back); the
child's start and the model's load are timed once, separately. The child runs its numeric
libraries on one thread (a small, predictable address space), so in-process scoring is timed on
one thread too. The child rebuilds text columns of Python strings from their distinct values
(that is how they travel), so equal strings are one object there, which scikit-learn's encoders
compare faster; in-process scoring is therefore timed both on the frame as read and on the same
rebuilt frame (the ratio to the latter is the box's own cost: encoding, sending, returning scores).

``--transport N`` times the rows' journey alone on an N-row frame of 10 columns of the kinds a
table read by faircard has (floats with and without NaN, integers, booleans, nullable integers,
a categorical, pandas text with and without missing values, Python-string text, datetimes): the
chunks the sandbox sends, encoded, copied into one buffer as the child reads it, and decoded;
then the same frame scored through the child by a model that reads two columns, against that
model in this process.

    python benchmarks/bench_sandbox.py [--sizes 100000 1000000] [--repeat 3]
    python benchmarks/bench_sandbox.py --transport 1000000
"""

from __future__ import annotations

import argparse
import os
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

from faircard.io import sandbox  # noqa: E402
from faircard.io.models import load_model  # noqa: E402
from faircard.io.rows import decode_rows, encode_rows  # noqa: E402

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


def as_the_child_reads(X: pd.DataFrame) -> bytearray:
    """The body of ``X`` in one buffer, as the child reads it from its pipe."""
    parts = encode_rows(X)
    body = bytearray(sum(len(p) for p in parts))
    at = 0
    for part in parts:
        body[at:at + len(part)] = part
        at += len(part)
    return body


def make_wide(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    text = rng.choice(np.array([f"occupation {i}" for i in range(14)], dtype=object), n)
    gaps = rng.choice(np.array(["acme", "globex", "initech"], dtype=object), n)
    gaps[rng.random(n) < 0.05] = None
    return pd.DataFrame({
        "age": rng.integers(17, 90, n).astype(float),
        "income": np.where(rng.random(n) < 0.1, np.nan, rng.exponential(5e4, n)),
        "hours": rng.integers(1, 99, n),
        "married": rng.random(n) < 0.5,
        "children": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(0, 5, n)),
                             dtype="Int64"),
        "region": pd.Categorical(rng.choice(["n", "e", "s", "w", "c"], n)),
        "workclass": pd.array(rng.choice(["Private", "Self-emp", "Gov", "Other"], n),
                              dtype="str"),
        "employer": pd.array(gaps, dtype="str"),
        "occupation": pd.Series(text, dtype=object),
        "since": pd.to_datetime("2000-01-01") + pd.to_timedelta(rng.integers(0, 8000, n),
                                                                unit="D"),
    })


def transport(n: int, repeat: int) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    X = make_wide(n)
    step = max(1_000, sandbox.CHUNK_CELLS // X.shape[1])

    def journey() -> None:
        for lo in range(0, len(X), step):
            decode_rows(as_the_child_reads(X.iloc[lo:lo + step]))

    head = X.iloc[:5_000]
    pd.testing.assert_frame_equal(decode_rows(as_the_child_reads(head)), head, check_exact=True)
    y = (head["age"] > 50).to_numpy().astype(int)
    est = Pipeline([("pre", ColumnTransformer([("num", "passthrough", ["age", "hours"])])),
                    ("clf", LogisticRegression())]).fit(head, y)
    boxed = load_model(pickle.dumps(est), filename="model.pkl")
    np.testing.assert_array_equal(boxed.predict_scores(X), est.predict_proba(X)[:, 1])
    t_rows = best_of(journey, repeat)
    t_box = best_of(lambda: boxed.predict_scores(X), repeat)
    with threadpool_limits(1):
        t_in = best_of(lambda: est.predict_proba(X), repeat)
    boxed.close()
    size = sum(len(as_the_child_reads(X.iloc[lo:lo + step])) for lo in range(0, len(X), step))
    print("| rows x columns | encode + copy + decode (s) | bytes sent | scored through the "
          "child (s) | scored in-process (s) |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {n:,} x {X.shape[1]} | {t_rows:.3f} | {size / 1e6:.1f} MB | {t_box:.3f} | "
          f"{t_in:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--transport", type=int, metavar="N",
                    help="time only the rows' journey to the child, on N rows x 10 columns")
    args = ap.parse_args()
    if args.transport:
        print(f"load average at start: {os.getloadavg()}")
        transport(args.transport, args.repeat)
        print(f"load average at end: {os.getloadavg()}")
        return
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
            same = decode_rows(as_the_child_reads(X))
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
