"""All diagnostics at scale, against the disparity table's time, measured in one run.

The data are the demo's synthetic applicants (numeric and categorical features, a proxy column,
sex, race, age) scored by the demo model; half of another draw is the reference (training)
data, so drift is computed too. "Disparity table" is ``faircard.assess`` without bootstrap
intervals (what the Disparities page needs first); "diagnostics" is ``faircard.diagnose`` with
every part: representation, proxies (with their AUC intervals), calibration by group, drift
within race, and the subgroup search over conjunctions of up to three conditions.

Permutation importance is timed on its own line (``--importance-sizes``, default 100,000 rows):
the demo model saved as .skops and opened in its sandboxed process, as an uploaded model is,
then ``faircard.diagnose`` importance with its defaults (5 shuffles per column, a random
sample of 20,000 rows, groups of sex and race), against the disparity table of the same rows.

    python benchmarks/bench_diagnostics.py [--sizes 100000 1000000] [--importance-sizes 100000]
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import pandas as pd

import faircard
from faircard.demo import FEATURES_CATEGORICAL, FEATURES_NUMERIC, make_applicants, train_model
from faircard.diagnostics import diagnose
from faircard.diagnostics.core import importance_note

log = logging.getLogger("bench_diagnostics")


def scored(n: int, model, seed: int):
    df = make_applicants(n, seed)
    df["score"] = np.round(model.predict_proba(
        df[list(FEATURES_CATEGORICAL + FEATURES_NUMERIC)])[:, 1], 6)
    return df


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--importance-sizes", type=int, nargs="*", default=[100_000])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model = train_model(make_applicants(20_000, 1))
    if args.sizes:
        # CPU time too: on a busy machine the wall clock mostly measures the other processes
        print("| rows | disparity table, wall / CPU (s) | all diagnostics, wall / CPU (s) | "
              "diagnostics / table, wall / CPU |")
        print("|---:|---:|---:|---:|")
    for n in args.sizes:
        data = scored(n, model, 2)
        reference = scored(n // 2, model, 3)
        t0, c0 = time.perf_counter(), time.process_time()
        faircard.assess(data, target="repaid", score="score", sensitive=["sex", "race"],
                        n_boot=0)
        t_table, c_table = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        d = diagnose(data, target="repaid", score="score", sensitive=["sex", "race"],
                     reference_data=reference)
        t_diag, c_diag = time.perf_counter() - t0, time.process_time() - c0
        # the clock stops when every table the page shows exists
        log.info("n=%d: %d subgroups tested, %d proxy rows, %d drift rows, checklist %d items",
                 n, d.subgroups.attrs["n_tested"], len(d.proxies), len(d.drift),
                 len(d.checklist))
        print(f"| {n:,} | {t_table:.3f} / {c_table:.3f} | {t_diag:.2f} / {c_diag:.2f} | "
              f"{t_diag / t_table:.0f}x / {c_diag / c_table:.0f}x |", flush=True)
    if args.importance_sizes:
        time_importance(model, args.importance_sizes)


def time_importance(model, sizes: list[int]) -> None:
    """Permutation importance through the sandbox, against the disparity table (wall clock
    only: the model runs in the sandbox's own process, whose CPU time this one does not
    see)."""
    import skops.io as sio

    from faircard.diagnostics.importance import permutation_importance
    from faircard.io.models import check_model, load_model, model_inputs

    handle = load_model(sio.dumps(model), filename="demo.skops")
    print()
    print("| rows | disparity table (s) | importance (s) | importance / table |")
    print("|---:|---:|---:|---:|")
    try:
        for n in sizes:
            data = scored(n, model, 2)
            t0 = time.perf_counter()
            faircard.assess(data, target="repaid", score="score", sensitive=["sex", "race"],
                            n_boot=0)
            t_table = time.perf_counter() - t0
            t0 = time.perf_counter()
            check = check_model(handle, data, pos_label=1)
            X = model_inputs(handle, data)
            groups = []
            for f in ("sex", "race"):
                codes, labels = pd.factorize(data[f].astype(str), sort=True)
                groups.append((f, codes, tuple(labels)))
            table = permutation_importance(handle, X, data["repaid"].to_numpy(), groups=groups,
                                           positive_index=int(check.positive_class_index))
            t_imp = time.perf_counter() - t0
            log.info("n=%d: %s %d model calls.", n, importance_note(table),
                     table.attrs["model_calls"])
            print(f"| {n:,} | {t_table:.3f} | {t_imp:.2f} | {t_imp / t_table:.0f}x |",
                  flush=True)
    finally:
        handle.close()


if __name__ == "__main__":
    main()
