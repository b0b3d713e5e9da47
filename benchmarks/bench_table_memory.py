"""Peak memory of reading a table: a ~92 MB CSV and a tiny Parquet file of 150 million rows.

Each read runs in a fresh child process and reports its peak resident set size (``VmHWM`` in
``/proc/self/status``; ``ru_maxrss`` would carry over the parent's peak across exec), so the
figures include the interpreter, the imports and everything the read allocates; the resident
size after the imports is reported too, and the peak above it as a multiple of the file's size.
The CSV is read from its path and as the app reads an upload (its bytes in memory, then
parsed). The files are generated in a temporary folder.

    python benchmarks/bench_table_memory.py [--rows 1650000] [--bomb-rows 150000000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from faircard.errors import FaircardError
    from faircard.io import read_table

    def vm(key):
        return int(open("/proc/self/status").read().split(key + ":")[1].split()[0]) / 1024

    base = vm("VmRSS")  # the interpreter and the imports
    t0 = time.perf_counter()
    try:
        if sys.argv[2] == "upload":  # as the app: the file's bytes in memory, then parsed
            raw = Path(sys.argv[1]).read_bytes()
            df = read_table(raw, filename=Path(sys.argv[1]).name).frame
        else:
            df = read_table(sys.argv[1]).frame
        outcome = f"read {df.shape[0]:,} x {df.shape[1]}"
    except FaircardError as exc:
        outcome = "refused: " + str(exc)[:90]
    print(f"{vm('VmHWM'):.0f}|{base:.0f}|{time.perf_counter() - t0:.2f}|{outcome}")
""")


def make_csv(path: Path, n: int, seed: int = 0) -> None:
    """A loan-like table with text and numbers, ~92 bytes a row."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "id": np.arange(n),
        "age": rng.integers(17, 90, n),
        "sex": rng.choice(["Female", "Male"], n),
        "race": rng.choice(["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo",
                            "Other"], n),
        "education": rng.choice(["Bachelors", "HS-grad", "Some-college", "Masters"], n),
        "hours": rng.integers(1, 99, n),
        "income": rng.choice([">50K", "<=50K"], n),
        "score": rng.random(n).round(6),
        "pred": rng.integers(0, 2, n),
    })
    df.to_csv(path, index=False)


def make_parquet_bomb(path: Path, n: int) -> None:
    """``n`` identical rows in a few kilobytes (run-length encoded)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"a": pa.repeat(pa.scalar(1, pa.int64()), n)})
    pq.write_table(table, path, row_group_size=n, compression="zstd")


def measure(path: Path, src: str, mode: str = "path") -> str:
    env = {"PYTHONPATH": src, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), mode], capture_output=True,
                         text=True, env=env, check=False)
    if out.returncode != 0:
        return f"crashed ({out.returncode}): {out.stderr.strip().splitlines()[-1:]}"
    peak, base, secs, outcome = out.stdout.strip().split("|", 3)
    size = path.stat().st_size / 1e6
    above = (float(peak) - float(base)) / size
    return (f"| {path.name} ({mode}) | {size:,.1f} MB | {peak} MB | {base} MB | {above:.1f}x | "
            f"{secs} s | {outcome} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_650_000)
    ap.add_argument("--bomb-rows", type=int, default=150_000_000)
    ap.add_argument("--src", default=str(Path(__file__).resolve().parents[1] / "src"),
                    help="faircard source folder to measure (default: this checkout)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "table.csv"
        bomb = Path(tmp) / "bomb.parquet"
        make_csv(csv_path, args.rows)
        make_parquet_bomb(bomb, args.bomb_rows)
        print("| file (read from) | size | peak RSS | after imports | (peak - imports) / size "
              "| time | outcome |")
        print("|---|---:|---:|---:|---:|---:|---|")
        print(measure(csv_path, args.src), flush=True)
        print(measure(csv_path, args.src, "upload"), flush=True)
        print(measure(bomb, args.src), flush=True)


if __name__ == "__main__":
    main()
