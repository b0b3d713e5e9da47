"""New band edges of a numeric sensitive feature on a dataset opened by path: the CPU time of
the counts cube made from the grouped table DuckDB returned, against the same cube built on
every grouped row (as each new set of edges did before the table kept its combinations of
values, score ranks and per-combination counts), in the same run.

The rows are the benchmark's (``_data.make_rows``: score, outcome, sex with 2 groups, race
with 5) plus ``tenure_years`` (0-15), written once to Parquet and counted once by DuckDB with
sex, race and banded tenure_years (about 2 million grouped rows at 1e7 rows: the scores are on
a grid). Then, alternately, ``--reps`` times each: the cube of the next edges from the kept
table (its combinations warmed by the edges before, as in the app), and the cube of the same
edges from a copy told to build its group index on every row. Both cubes are checked equal.
The table gives the median process CPU time (all threads) and wall time, and the load average.

    PYTHONPATH=src python benchmarks/bench_bands.py 10000000
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _data import make_rows  # noqa: E402

from faircard.engine.grouped import cube_from_grouped  # noqa: E402
from faircard.engine.sources import count_duckdb  # noqa: E402
from faircard.spec import AssessmentSpec, Binning  # noqa: E402

EDGES = [(0, 5, 10, np.inf), (0, 2, 5, 10, np.inf), (1, 3, 8, 12), (-1, 4, 9, 20),
         (0, 1, 2, 3, 4, 6, 8, 16)]


def _spec(edges) -> AssessmentSpec:
    edges = tuple(float(e) for e in edges)
    return AssessmentSpec(target="y", sensitive=("sex", "race", "tenure_years"), score="score",
                          threshold=0.5, n_boot=0, bins={"tenure_years": Binning(
                              edges, tuple(f"b{i}" for i in range(len(edges) - 1)))})


def _row_by_row(counted):
    fresh = dataclasses.replace(counted)
    for n in range(1, 4):
        for f in itertools.permutations(("sex", "race", "tenure_years"), n):
            fresh.memo[("values", f)] = None
    return fresh


def _clock(fn):
    c, w = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c, time.perf_counter() - w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, nargs="?", default=1_000_000)
    ap.add_argument("--reps", type=int, default=4)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = make_rows(args.n).drop(columns=["pred"])
        rows["tenure_years"] = np.random.default_rng(1).integers(0, 16, args.n)
        path = os.path.join(tmp, "rows.parquet")
        rows.to_parquet(path)
        del rows
        counted = count_duckdb(path, _spec(EDGES[0]))
    cube_from_grouped(counted, _spec(EDGES[0]))  # the first cube: the app's count step
    load0 = os.getloadavg()[0]
    kept, plain = {"cpu": [], "wall": []}, {"cpu": [], "wall": []}
    for i in range(args.reps):
        spec = _spec(EDGES[1 + i % (len(EDGES) - 1)])
        a, cpu, wall = _clock(lambda: cube_from_grouped(counted, spec))  # noqa: B023
        kept["cpu"].append(cpu)
        kept["wall"].append(wall)
        b, cpu, wall = _clock(lambda: cube_from_grouped(_row_by_row(counted), spec))  # noqa: B023
        plain["cpu"].append(cpu)
        plain["wall"].append(wall)
        assert np.array_equal(a.cells, b.cells) and np.array_equal(a.scores.weight,
                                                                   b.scores.weight)
        assert a.memo[("score_metrics", True)]["tenure_years"]["roc_auc"].tobytes() == \
            b.memo[("score_metrics", True)]["tenure_years"]["roc_auc"].tobytes()
    load1 = os.getloadavg()[0]
    med = {k: {m: statistics.median(v[m]) for m in v} for k, v in
           (("kept", kept), ("plain", plain))}
    print(f"{args.n:,} rows, {len(counted.grouped):,} grouped rows (score step "
          f"{counted.score_step}), {args.reps} alternate pairs, load {load0:.1f} -> {load1:.1f}")
    print("| cube of new band edges | CPU s (median) | wall s (median) |")
    print("|---|---|---|")
    print(f"| from the kept combinations | {med['kept']['cpu']:.3f} | {med['kept']['wall']:.3f} |")
    print(f"| built on every grouped row | {med['plain']['cpu']:.3f} | "
          f"{med['plain']['wall']:.3f} |")
    print(f"| ratio | {med['plain']['cpu'] / med['kept']['cpu']:.1f}x | "
          f"{med['plain']['wall'] / med['kept']['wall']:.1f}x |")


if __name__ == "__main__":
    main()
