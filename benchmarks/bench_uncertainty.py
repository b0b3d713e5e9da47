"""faircard's counts bootstrap vs fairlearn MetricFrame(n_boot=...), measured in one run.

Both give 95% intervals for the same metrics of sex, race and their intersection. fairlearn's
time for 1,000 replicates is estimated from --fairlearn-boot replicates (it grows linearly
with the number of replicates: each one recomputes the MetricFrame on resampled rows).

    python benchmarks/bench_uncertainty.py [--sizes 10000 100000] [--fairlearn-boot 10]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
from sklearn.metrics import accuracy_score

sys.path.insert(0, str(Path(__file__).parent))
from _data import best_of, make_rows  # noqa: E402

import faircard  # noqa: E402
from faircard.uncertainty import estimate_uncertainty  # noqa: E402

METRICS = {"selection_rate": selection_rate, "accuracy": accuracy_score,
           "true_positive_rate": true_positive_rate, "false_positive_rate": false_positive_rate}
N_BOOT = 1000


def run_fairlearn(df, n_boot):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cols in (["sex"], ["race"], ["sex", "race"]):
            MetricFrame(metrics=METRICS, y_true=df["y"], y_pred=df["pred"],
                        sensitive_features=df[cols] if len(cols) > 1 else df[cols[0]],
                        n_boot=n_boot, ci_quantiles=[0.025, 0.975] if n_boot else None,
                        random_state=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--fairlearn-boot", type=int, default=10)
    args = ap.parse_args()
    print(f"| rows | fairlearn, {N_BOOT} replicates (s, estimated from {args.fairlearn_boot}) | "
          f"faircard bootstrap, {N_BOOT} replicates (s) | speed-up |")
    print("|---:|---:|---:|---:|")
    for n in args.sizes:
        df = make_rows(n)
        base = faircard.assess(df, target="y", prediction="pred", sensitive=["sex", "race"],
                               n_boot=0)
        ours = best_of(lambda b=base: estimate_uncertainty(
            b.cube, b.spec, b.counts, b.by_group, b.disparities, N_BOOT, 0.95, 0))
        k = args.fairlearn_boot
        t0 = best_of(lambda d=df: run_fairlearn(d, None), repeat=1)
        tk = best_of(lambda d=df, k=k: run_fairlearn(d, k), repeat=1)
        theirs = t0 + (tk - t0) * N_BOOT / k  # base work once, replicates scale linearly
        print(f"| {n:,} | {theirs:,.1f} | {ours:.3f} | {theirs / ours:,.0f}x |", flush=True)


if __name__ == "__main__":
    main()
