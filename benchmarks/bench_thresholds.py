"""Threshold sweep and constrained search vs fairlearn, measured in one run.

* A 1,001-threshold sweep of 5 metrics per race group: faircard's one-pass sweep vs calling
  MetricFrame at each threshold (estimated from --loop thresholds, scaled to 1,001).
* Demographic-parity thresholds: faircard's deterministic search vs ThresholdOptimizer.fit
  (prefit, accuracy objective).
* Randomised equalized odds (tolerance 0 and 0.002): faircard's search (up to three parts per
  group) vs ThresholdOptimizer.fit, with both policies' expected accuracy on the rows.

    python benchmarks/bench_thresholds.py [--sizes 100000 1000000] [--loop 3] [--only-randomised]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score, precision_score

sys.path.insert(0, str(Path(__file__).parent))
from _data import best_of, make_rows  # noqa: E402

from faircard.policy import choose_policy  # noqa: E402
from faircard.thresholds import grid_thresholds, sweep  # noqa: E402

METRICS = {"selection_rate": selection_rate, "accuracy": accuracy_score,
           "precision": lambda y, p: precision_score(y, p, zero_division=0),
           "true_positive_rate": true_positive_rate, "false_positive_rate": false_positive_rate}


class ScoreColumn(ClassifierMixin, BaseEstimator):
    """Lets ThresholdOptimizer use a given score column as a prefit model."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        self.fitted_ = True
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--loop", type=int, default=3, help="MetricFrame calls timed per size")
    ap.add_argument("--only-randomised", action="store_true",
                    help="only the randomised equalized-odds table")
    args = ap.parse_args()
    if not args.only_randomised:
        sweeps_table(args)
    print("| rows | distinct scores | equalized odds: ThresholdOptimizer.fit (s) | faircard "
          "randomised, tolerance 0 / 0.002 (s) | speed-up | expected accuracy: fairlearn / "
          "faircard at 0 / 0.002 |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        print(measure_equalized_odds(n), flush=True)


def sweeps_table(args) -> None:
    """The sweep and demographic-parity table."""
    print("| rows | 1,001-threshold sweep: MetricFrame loop (s, estimated) | faircard (s) | "
          "speed-up | constrained search: ThresholdOptimizer.fit (s) | faircard (s) | speed-up |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        print(measure(n, args.loop), flush=True)
    print()


def measure(n: int, loop_k: int) -> str:
    """One table row for ``n`` rows."""
    df = make_rows(n)
    y = df["y"].to_numpy().astype(bool)
    s = df["score"].to_numpy()
    groups, g = np.unique(df["race"].to_numpy(dtype=str), return_inverse=True)
    groups = list(groups)
    thresholds = grid_thresholds(s, 1001)[:1001]
    ours_sweep = best_of(lambda: sweep(y, s, g, groups, thresholds))
    picks = thresholds[np.linspace(0, len(thresholds) - 1, loop_k).astype(int)]

    def loop():
        for t in picks:
            MetricFrame(metrics=METRICS, y_true=df["y"], y_pred=(s >= t).astype(int),
                        sensitive_features=df["race"])

    theirs_sweep = best_of(loop, repeat=1) * len(thresholds) / len(picks)
    ours_policy = best_of(lambda: choose_policy(y, s, g, groups, constraint="demographic_parity",
                                                tolerance=0.01), repeat=2)
    X = pd.DataFrame({"score": s})

    def fit_to():
        to = ThresholdOptimizer(estimator=ScoreColumn().fit(X, y),
                                constraints="demographic_parity", objective="accuracy_score",
                                prefit=True, predict_method="predict")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            to.fit(X, y.astype(int), sensitive_features=df["race"])

    theirs_policy = best_of(fit_to, repeat=1)
    return (f"| {n:,} | {theirs_sweep:,.1f} | {ours_sweep:.3f} | "
            f"{theirs_sweep / ours_sweep:,.0f}x | {theirs_policy:.2f} | {ours_policy:.3f} | "
            f"{theirs_policy / ours_policy:,.0f}x |")


def measure_equalized_odds(n: int) -> str:
    """One row of the randomised equalized-odds table for ``n`` rows."""
    df = make_rows(n)
    y = df["y"].to_numpy().astype(bool)
    s = df["score"].to_numpy()
    groups, g = np.unique(df["race"].to_numpy(dtype=str), return_inverse=True)
    groups = list(groups)
    found = {}

    def ours(tol):
        found[tol] = choose_policy(y, s, g, groups, constraint="equalized_odds",
                                   tolerance=tol, randomized=True)

    ours_0 = best_of(lambda: ours(0.0), repeat=2)
    ours_2 = best_of(lambda: ours(0.002), repeat=2)
    X = pd.DataFrame({"score": s})
    fitted = {}

    def fit_to():
        to = ThresholdOptimizer(estimator=ScoreColumn().fit(X, y), constraints="equalized_odds",
                                objective="accuracy_score", prefit=True,
                                predict_method="predict")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted["to"] = to.fit(X, y.astype(int), sensitive_features=df["race"])

    theirs = best_of(fit_to, repeat=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = fitted["to"]._pmf_predict(X, sensitive_features=df["race"])[:, 1]
    their_accuracy = float(np.mean(np.where(y, p, 1 - p)))
    return (f"| {n:,} | {len(np.unique(s)):,} | {theirs:.2f} | {ours_0:.3f} / {ours_2:.3f} | "
            f"{theirs / ours_0:,.0f}x / {theirs / ours_2:,.0f}x | {their_accuracy:.6f} / "
            f"{found[0.0].objective_value:.6f} / {found[0.002].objective_value:.6f} |")


if __name__ == "__main__":
    main()
