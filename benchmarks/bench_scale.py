"""Counting next to the data at 1e6-1e8 rows: time and peak memory of each engine against a
bare DuckDB GROUP BY on the same file (the floor) and fairlearn.

Each size is one generated Parquet file (score, outcome, sex with 2 groups, race with 5: 10
cells). Every measurement runs in a fresh process, so its peak resident memory is its own.
Imports are done before each clock starts. The clock stops when the assessment (or MetricFrame)
exists, which is what a caller waits for.

* floor: DuckDB counts rows per (sex, race, outcome, decision) and nothing else;
* faircard duckdb: ``faircard assess FILE --engine duckdb`` as a function call (the first
  rows and the footers' score range, then the grouped table with the score grid and score
  sums, which checks them; the plain way when they do not hold), then the full assessment
  with 1,000 bootstrap replicates from the counts;
* faircard pandas: read the four columns with pandas, then ``faircard.assess`` (up to 1e7 rows);
* fairlearn: MetricFrame with 4 metrics for sex, race and sex x race, at the smallest size only
  (larger sizes extrapolated linearly, marked "est.");
* CSV (``--csv``): the same rows written as a CSV file; the floor is DuckDB's ``read_csv``
  (its own sampled typing) with the same GROUP BY, against ``faircard assess FILE.csv --engine
  duckdb`` (every column typed by faircard's CSV rule from every row into a temporary Parquet
  copy, whose size the table gives, then counted);
* spark (``--spark``): the same assessment with Spark ``local[*]`` at the smallest size, checked
  equal.

The floor and faircard duckdb are measured ``--reps`` times each (default 3), alternately
(floor, faircard, floor, faircard, ...), so both see the same machine; the table gives the
median time with the range in brackets, the highest peak memory, the ratio of the medians with
the range of the ratios of each alternate pair, and the load average (1 minute) at the start and
end of each size (and, on stderr, the median CPU time of all threads, which the load changes
less). The others run once.

    python benchmarks/bench_scale.py [--sizes 1000000 10000000 100000000] [--dir /tmp/fc]
                                     [--reps 3] [--no-pandas] [--no-fairlearn] [--spark] [--csv]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

THRESHOLD = 0.5


def generate(path: Path, n: int, seed: int = 0, chunk: int = 5_000_000) -> None:
    """``n`` rows written in row groups of ``chunk`` rows (bounded memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    writer = None
    sexes = pa.array(["Female", "Male"])
    races = pa.array(["Asian", "Black", "Hispanic", "Other", "White"])
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        sex = rng.integers(0, 2, m, dtype=np.int8)
        race = rng.choice(5, m, p=[0.07, 0.16, 0.15, 0.04, 0.58]).astype(np.int8)
        y = (rng.random(m) < 0.3 + 0.1 * sex).astype(np.int8)
        score = np.clip(0.35 * y + rng.normal(0.35, 0.2, m), 0, 1)
        table = pa.table({
            "y": y, "score": score,
            "sex": pa.DictionaryArray.from_arrays(pa.array(sex), sexes),
            "race": pa.DictionaryArray.from_arrays(pa.array(race), races),
        })
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def write_csv(parquet: Path, path: Path) -> None:
    """The rows of ``parquet`` as a CSV file with a header."""
    import duckdb

    duckdb.sql(f"COPY (SELECT * FROM read_parquet('{parquet}')) TO '{path}' (HEADER)")


def child(task: str, path: str) -> dict:
    """One measurement; imports happen before the clock starts (a running app has them)."""
    import resource

    import duckdb  # noqa: F401
    import pandas  # noqa: F401

    import faircard  # noqa: F401
    import faircard.engine.sources  # noqa: F401
    import faircard.uncertainty  # noqa: F401

    if task == "fairlearn":
        import fairlearn.metrics  # noqa: F401
    t0, cpu0 = time.perf_counter(), time.process_time()
    out: dict = {}
    if task == "floor":
        import duckdb

        read = "read_csv" if path.endswith(".csv") else "read_parquet"
        rows = duckdb.sql(
            f"SELECT sex, race, y, score >= {THRESHOLD} AS p, COUNT(*) FROM {read}('{path}')"
            " GROUP BY ALL").fetchall()
        out["cells"] = len(rows)
    elif task in ("duckdb", "spark"):
        from faircard.engine import assess_source
        from faircard.spec import AssessmentSpec

        spec = AssessmentSpec(target="y", score="score", sensitive=("sex", "race"),
                              threshold=THRESHOLD, n_boot=1000)
        a = assess_source(path, spec, engine=task)
        out["counts"] = a.counts_frame().to_dict(orient="list")
        out["selection_rate"] = a.overall["selection_rate"]
        if path.endswith(".csv"):  # the typed Parquet copy on the temporary disk
            from faircard.engine import csv_spill

            out["spill_mb"] = sum(f.stat().st_size for folder in csv_spill._FOLDER
                                  for f in folder.iterdir()) / 1e6
    elif task == "pandas":
        import pandas as pd

        import faircard

        data = pd.read_parquet(path, columns=["y", "score", "sex", "race"])
        a = faircard.assess(data, target="y", score="score", sensitive=["sex", "race"],
                            threshold=THRESHOLD, n_boot=1000)
        out["counts"] = a.counts_frame().to_dict(orient="list")
    elif task == "fairlearn":
        import pandas as pd
        from fairlearn.metrics import (
            MetricFrame,
            false_positive_rate,
            selection_rate,
            true_positive_rate,
        )
        from sklearn.metrics import accuracy_score

        data = pd.read_parquet(path, columns=["y", "score", "sex", "race"])
        y_pred = (data["score"] >= THRESHOLD).astype(int)
        metrics = {"selection_rate": selection_rate, "accuracy": accuracy_score,
                   "tpr": true_positive_rate, "fpr": false_positive_rate}
        for features in (data["sex"], data["race"], data[["sex", "race"]]):
            MetricFrame(metrics=metrics, y_true=data["y"], y_pred=y_pred,
                        sensitive_features=features)
    out["seconds"] = time.perf_counter() - t0
    out["cpu_seconds"] = time.process_time() - cpu0  # every thread's, less sensitive to load
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def measure(task: str, path: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", task, str(path)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{task} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median(values: list[float]) -> float:
    return float(np.median(values))


def _timing(runs: list[dict]) -> str:
    """Median seconds (range) / highest peak MB of repeated runs."""
    t = [r["seconds"] for r in runs]
    mb = max(r["peak_rss_mb"] for r in runs)
    spread = f" ({min(t):.2f}-{max(t):.2f})" if len(t) > 1 else ""
    return f"{_median(t):.2f}{spread} / {mb:,.0f}"


def _cpu_note(n: int, floors: list[dict], ducks: list[dict]) -> None:
    """The median CPU time of all threads, on stderr (the load changes it less)."""
    cpu = [_median([r["cpu_seconds"] for r in runs]) for runs in (floors, ducks)]
    print(f"(CPU time of all threads at {n:,} rows, medians: floor {cpu[0]:.2f} s, faircard "
          f"duckdb {cpu[1]:.2f} s, {cpu[1] / cpu[0]:.1f}x)", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+",
                        default=[1_000_000, 10_000_000, 100_000_000])
    parser.add_argument("--dir", default="/tmp/faircard-bench-scale")
    parser.add_argument("--reps", type=int, default=3,
                        help="alternate runs of the floor and of faircard duckdb per size")
    parser.add_argument("--no-pandas", action="store_true", help="skip faircard pandas")
    parser.add_argument("--no-fairlearn", action="store_true", help="skip fairlearn")
    parser.add_argument("--child", nargs=2, metavar=("TASK", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--spark", action="store_true", help="also time Spark local[*]")
    parser.add_argument("--csv", action="store_true",
                        help="only the same rows as a CSV file: the floor and faircard duckdb")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    if args.csv:
        csv_table(folder, args.sizes, args.reps)
        return
    fairlearn_per_row = None
    print(f"floor and faircard duckdb: median of {args.reps} alternate runs (range); "
          "MB: highest peak RSS")
    print("| rows | floor: DuckDB GROUP BY (s / MB) | faircard duckdb (s / MB) | x floor "
          "(pairs) | faircard pandas (s / MB) | fairlearn (s) | fairlearn / faircard duckdb | "
          "load average |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for n in args.sizes:
        path = folder / f"rows_{n}.parquet"
        if not path.exists():
            generate(path, n)
        load_start = os.getloadavg()[0]
        floors, ducks = [], []
        for _ in range(max(1, args.reps)):
            floors.append(measure("floor", path))
            ducks.append(measure("duckdb", path))
        load_end = os.getloadavg()[0]
        assert all(d["counts"] == ducks[0]["counts"] for d in ducks), "DuckDB runs differ"
        duck_s = _median([d["seconds"] for d in ducks])
        ratio = duck_s / _median([f["seconds"] for f in floors])
        pairs = [d["seconds"] / f["seconds"] for f, d in zip(floors, ducks, strict=True)]
        ratio_cell = f"{ratio:.1f}x" + (f" ({min(pairs):.1f}-{max(pairs):.1f})"
                                        if len(pairs) > 1 else "")
        pandas_cell = "-"
        if n <= 10_000_000 and not args.no_pandas:
            pd_run = measure("pandas", path)
            assert pd_run["counts"] == ducks[0]["counts"], "pandas and DuckDB counts differ"
            pandas_cell = f"{pd_run['seconds']:.2f} / {pd_run['peak_rss_mb']:,.0f}"
        fl_cell, versus = "-", "-"
        if not args.no_fairlearn:
            if fairlearn_per_row is None:
                fl = measure("fairlearn", path)
                fairlearn_per_row = fl["seconds"] / n
                fl_cell = f"{fl['seconds']:.1f}"
            else:
                fl_cell = f"{fairlearn_per_row * n:,.0f} (est.)"
            versus = f"{fairlearn_per_row * n / duck_s:,.0f}x"
        if args.spark and n == args.sizes[0]:
            sp = measure("spark", path)
            assert sp["counts"] == ducks[0]["counts"], "Spark and DuckDB counts differ"
            print(f"(spark local[*] at {n:,} rows: {sp['seconds']:.1f} s, same counts as DuckDB)")
        print(f"| {n:,} | {_timing(floors)} | {_timing(ducks)} | {ratio_cell} | {pandas_cell} | "
              f"{fl_cell} | {versus} | {load_start:.1f} to {load_end:.1f} |", flush=True)
        _cpu_note(n, floors, ducks)


def csv_table(folder: Path, sizes: list[int], reps: int) -> None:
    """The floor (DuckDB's read_csv and GROUP BY) against faircard duckdb on CSV files."""
    print(f"CSV: median of {reps} alternate runs (range); MB: highest peak RSS")
    print("| rows | floor: DuckDB read_csv GROUP BY (s / MB) | faircard duckdb (s / MB) | "
          "x floor (pairs) | typed copy on disk (MB) | load average |")
    print("|---:|---:|---:|---:|---:|---|")
    for n in sizes:
        parquet, path = folder / f"rows_{n}.parquet", folder / f"rows_{n}.csv"
        if not parquet.exists():
            generate(parquet, n)
        if not path.exists():
            write_csv(parquet, path)
        load_start = os.getloadavg()[0]
        floors, ducks = [], []
        for _ in range(max(1, reps)):
            floors.append(measure("floor", path))
            ducks.append(measure("duckdb", path))
        load_end = os.getloadavg()[0]
        assert all(d["counts"] == ducks[0]["counts"] for d in ducks), "DuckDB runs differ"
        ratio = _median([d["seconds"] for d in ducks]) / _median([f["seconds"] for f in floors])
        pairs = [d["seconds"] / f["seconds"] for f, d in zip(floors, ducks, strict=True)]
        spread = f" ({min(pairs):.1f}-{max(pairs):.1f})" if len(pairs) > 1 else ""
        disk = max(d["spill_mb"] for d in ducks)
        print(f"| {n:,} | {_timing(floors)} | {_timing(ducks)} | {ratio:.1f}x{spread} | "
              f"{disk:,.0f} | {load_start:.1f} to {load_end:.1f} |", flush=True)
        _cpu_note(n, floors, ducks)


if __name__ == "__main__":
    main()
