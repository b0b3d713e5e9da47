"""``faircard demo``: write the built-in demo dataset (and its model) to files."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import FaircardError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="write the synthetic demo dataset and model to a folder",
        description="Write demo_loans.csv (with the model's score) and demo_model.skops.",
    )
    p.add_argument("--out", default=".", help="folder to write to (default: current folder)")
    p.add_argument("--rows", type=int, default=40_000, help="applicants to generate (half train)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..demo import load_demo

    if args.rows < 200:
        raise FaircardError("--rows must be at least 200.")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FaircardError(f"Cannot create folder '{out}': {exc.strerror or exc}.") from None
    demo = load_demo(args.rows)
    data_path = out / "demo_loans.csv"
    demo.data.to_csv(data_path, index=False)
    written = [data_path]
    try:
        import skops.io as sio

        model_path = out / "demo_model.skops"
        sio.dump(demo.model, model_path)
        written.append(model_path)
    except ImportError:  # skops is a dependency; keep the data even if it is absent
        pass
    for p in written:
        print(p)
    return 0
