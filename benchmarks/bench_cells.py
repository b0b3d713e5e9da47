"""What the cells of an assessment cost: 10,000 and 100,000 combinations of two features'
groups (intersection off), with and without the bootstrap, through the Disparities page and
the model card. Each measurement runs in a fresh process, so its peak resident memory is its
own; the table gives wall time, peak memory and the load average (1 minute) at its start.

* assess: ``faircard.assess`` (pandas) on rows holding every combination three times;
* page: the Disparities page (Streamlit's AppTest, the same script the app runs) drawn from
  the same rows, its assessment's replicates as asked;
* card: ``faircard card --out card.html`` (the CLI: assessment, card, HTML) from a CSV file.

    python benchmarks/bench_cells.py [--cells 10000 100000] [--boot 0 1000] [--dir /tmp/fc]
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
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def rows(cells: int, copies: int = 3, seed: int = 0) -> pd.DataFrame:
    """Every combination of 'a' (1,000 groups at most) and 'b' ``copies`` times."""
    a_groups = min(1000, cells)
    combos = np.arange(cells)
    a = np.repeat(combos % a_groups, copies)
    b = np.repeat(combos // a_groups, copies)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, len(a))
    return pd.DataFrame({"outcome": y, "risk_score": np.clip(0.3 * y + rng.random(len(a)) * 0.7,
                                                             0, 1),
                         "a": [f"a{i:04d}" for i in a], "b": [f"b{i:03d}" for i in b]})


def _child(what: str, cells: int, n_boot: int, folder: str) -> dict:
    frame = rows(cells)
    if what == "assess":
        import faircard

        t = time.perf_counter()
        faircard.assess(frame, target="outcome", score="risk_score", sensitive=["a", "b"],
                        intersection=False, n_boot=n_boot)
        return {"seconds": time.perf_counter() - t}
    if what == "page":
        import dataclasses
        import hashlib

        from streamlit.testing.v1 import AppTest

        from faircard.ui import components

        real = components.spec_for
        components.spec_for = lambda *a, **k: dataclasses.replace(real(*a, **k), n_boot=n_boot)
        at = AppTest.from_file(str(ROOT / "app_pages" / "disparities.py"), default_timeout=3600)
        state = {"fc_data": frame, "fc_data_name": "cells.csv", "fc_target": "outcome",
                 "fc_pos_label": 1, "fc_decision": "score", "fc_score_col": "risk_score",
                 "fc_sensitive": ["a", "b"], "fc_intersection": False,
                 "fc_data_digest": "bench-" + hashlib.sha256(
                     str((cells, n_boot)).encode()).hexdigest()[:16]}
        for key, value in state.items():
            at.session_state[key] = value
        t = time.perf_counter()
        at.run()
        seconds = time.perf_counter() - t
        said = [e.value for e in at.error] + [e.value for e in at.exception]
        return {"seconds": seconds, "said": said[0][:120] if said else ""}
    csv = Path(folder) / f"cells_{cells}.csv"
    if not csv.exists():
        frame.to_csv(csv, index=False)
    out = Path(folder) / f"card_{cells}_{n_boot}.html"
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "faircard", "card", str(csv), "--engine",
                           "pandas", "--target", "outcome", "--score", "risk_score",
                           "--sensitive", "a", "--sensitive", "b", "--no-intersection",
                           "--allow-many-groups", "--bootstrap", str(n_boot), "--out", str(out)],
                          capture_output=True, text=True, check=False)
    return {"seconds": time.perf_counter() - t, "said": done.stderr.strip()[-120:],
            "bytes": out.stat().st_size if out.exists() else 0}


def measure(what: str, cells: int, n_boot: int, folder: str) -> dict:
    """One measurement in a fresh process (``/usr/bin/time`` gives its peak memory, the
    card's own child included)."""
    load = os.getloadavg()[0]
    code = (f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"from bench_cells import _child; "
            f"print(json.dumps(_child({what!r}, {cells}, {n_boot}, {folder!r})))")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-c", code],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    result = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else \
        {"seconds": float("nan"), "said": done.stderr.strip()[-200:]}
    peak_kb = [int(x) for x in done.stderr.split() if x.isdigit()]
    result.update(what=what, cells=cells, n_boot=n_boot, load=load,
                  peak_mb=peak_kb[-1] / 1024 if peak_kb else float("nan"))
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cells", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--boot", type=int, nargs="+", default=[0])
    p.add_argument("--what", nargs="+", default=["assess", "page", "card"])
    p.add_argument("--dir", default="/tmp/faircard-bench-cells")
    args = p.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    print(f"{'what':8} {'cells':>8} {'n_boot':>6} {'seconds':>8} {'peak MB':>8} {'load':>5}  said")
    for cells in args.cells:
        for n_boot in args.boot:
            for what in args.what:
                r = measure(what, cells, n_boot, args.dir)
                print(f"{r['what']:8} {r['cells']:>8,} {r['n_boot']:>6} {r['seconds']:>8.1f} "
                      f"{r['peak_mb']:>8.0f} {r['load']:>5.1f}  {r.get('said', '')}", flush=True)


if __name__ == "__main__":
    main()
