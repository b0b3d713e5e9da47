"""faircard.assess vs fairlearn MetricFrame, measured in one run.

Both compute the same 7 metrics for sex, race and their intersection (three partitions:
fairlearn needs one MetricFrame per partition). faircard additionally computes every other
count metric and the disparities. A third column times reading the four used columns once
from a Parquet file, the floor any tool pays.

    python benchmarks/bench_engine.py [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import inspect
import sys
import tempfile
from pathlib import Path

import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score

sys.path.insert(0, str(Path(__file__).parent))
from _data import best_of, make_rows  # noqa: E402

import faircard  # noqa: E402

METRICS = {
    "count": count,
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "precision": lambda y, p: precision_score(y, p, zero_division=0),
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "false_negative_rate": false_negative_rate,
}
NO_BOOT = {"n_boot": 0} if "n_boot" in inspect.signature(faircard.assess).parameters else {}


def run_fairlearn(df: pd.DataFrame) -> None:
    for cols in (["sex"], ["race"], ["sex", "race"]):
        MetricFrame(metrics=METRICS, y_true=df["y"], y_pred=df["pred"],
                    sensitive_features=df[cols] if len(cols) > 1 else df[cols[0]])


def run_faircard(df: pd.DataFrame) -> None:
    faircard.assess(df, target="y", prediction="pred", sensitive=["sex", "race"], **NO_BOOT)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = ap.parse_args()
    print("| rows | fairlearn MetricFrame (s) | faircard.assess (s) | speed-up | "
          "read 4 columns from Parquet (s) | faircard / read |")
    print("|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            df = make_rows(n)
            path = Path(tmp) / f"rows{n}.parquet"
            df.to_parquet(path)
            read = best_of(lambda p=path: pd.read_parquet(p, columns=["y", "pred", "sex", "race"]))
            ours = best_of(lambda d=df: run_faircard(d))
            theirs = best_of(lambda d=df: run_fairlearn(d), repeat=1 if n >= 1_000_000 else 2)
            print(f"| {n:,} | {theirs:.3f} | {ours:.4f} | {theirs / ours:,.0f}x | "
                  f"{read:.4f} | {ours / read:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
