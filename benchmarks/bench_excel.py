"""Cost of opening a workbook in a child process instead of in the faircard process.

The same workbooks, the same run: pandas.read_excel (openpyxl) in-process against
faircard.io.read_table, which opens the workbook once in a child (``python -I``, time and
memory limits) and receives its columns as arrays. Prints the times and their ratios.

    PYTHONPATH=src python benchmarks/bench_excel.py
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd  # noqa: E402
from _data import best_of, make_rows  # noqa: E402

from faircard.io import read_table  # noqa: E402


def main() -> None:
    for n in (1_000, 20_000, 100_000):
        buf = io.BytesIO()
        make_rows(n).to_excel(buf, index=False, engine="openpyxl")
        raw = buf.getvalue()
        direct = best_of(lambda raw=raw: pd.read_excel(io.BytesIO(raw), engine="openpyxl"))
        child = best_of(lambda raw=raw: read_table(raw, filename="b.xlsx"))
        print(f"{n:>7,} rows ({len(raw) / 1024**2:.1f} MB): in-process {direct:.2f} s, "
              f"child {child:.2f} s, ratio {child / direct:.2f}")


if __name__ == "__main__":
    main()
