"""``faircard diff A [B]``: what changed from record A to record B (per group, per criterion,
overall, with intervals). With one id, the record is compared with the baseline it names."""

from __future__ import annotations

import argparse
import math

from ..errors import FaircardError
from ..formatting import fmt_level
from ..governance.diff import diff_records
from ..safe_text import json_for_terminal
from .store_cmd import add_store_option, open_store, safe


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diff", help="compare two records of the audit store",
                       description="Show what changed from record A to record B: fairness "
                       "criteria per feature, metrics per group and overall, with each side's "
                       "interval and an interval of the change. With only A, compare A with "
                       "the baseline it names.")
    p.add_argument("a", metavar="A", help="the earlier record (or the only one: its baseline)")
    p.add_argument("b", metavar="B", nargs="?", help="the later record")
    p.add_argument("--metric", action="append", default=[], metavar="NAME",
                   help="per-group metrics to show (default: selection_rate, "
                   "true_positive_rate, false_positive_rate); repeat for several")
    p.add_argument("--json", action="store_true", help="print every table as JSON")
    add_store_option(p)
    p.set_defaults(func=run)


def _f(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.4f}"


def _ci(low: float, high: float) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f" [{low:.4f}, {high:.4f}]"


def _signed(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:+.4f}"


def _verdict(regression: float) -> str:
    """Which way a criterion moved: ``regression`` is how much less fair the new one is
    (the change of a difference, minus the change of a ratio)."""
    if not math.isfinite(regression):
        return ""
    if regression == 0:
        return " (unchanged)"
    return " (less fair)" if regression > 0 else " (fairer)"


def _levels(confidence: tuple, base_id: int, new_id: int) -> str:
    """What the brackets are: one level when both records were assessed at it, else each
    side's (a change's interval combines both)."""
    base, new = confidence
    if base is not None and base == new:
        return f"{fmt_level(base)} intervals"

    def said(c):
        return "an unstated level" if c is None else fmt_level(c)

    return (f"intervals, record {base_id}'s at {said(base)}, record {new_id}'s at {said(new)} "
            "and each change's combining both")


def run(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        if args.b is None:
            new = store.get(args.a)
            if new.baseline is None:
                raise FaircardError(f"Record {new.id} names no baseline; give two ids: "
                                    f"faircard diff BASE {new.id}.")
            base_id, new_id = new.baseline, new.id
        else:
            base_id, new_id = store.get(args.a).id, store.get(args.b).id
        result = diff_records(store, base_id, new_id)
    if args.json:
        base_level, new_level = result.confidence
        print(json_for_terminal({"base": base_id, "new": new_id,
                                 "confidence": {"base": base_level, "new": new_level},
                                 **result.to_dict()}))
        return 0
    print(f"record {base_id} -> record {new_id} (change = new - base; in brackets: "
          f"{_levels(result.confidence, base_id, new_id)})")
    print("criteria (a lower difference or a higher ratio is fairer):")
    for row in result.criteria.itertuples():
        print(f"  {safe(row.feature)}: {row.criterion}  {_f(row.base)}{_ci(row.base_ci_low, row.base_ci_high)}"
              f" -> {_f(row.new)}{_ci(row.new_ci_low, row.new_ci_high)}  change "
              f"{_signed(row.change)}{_ci(row.change_ci_low, row.change_ci_high)}"
              f"{_verdict(row.regression)}")
    metrics = args.metric or ["selection_rate", "true_positive_rate", "false_positive_rate"]
    unknown = sorted(set(metrics) - set(result.groups["metric"]))
    if unknown:
        raise FaircardError(f"Unknown metric(s) {', '.join(unknown)}; choose from "
                            f"{', '.join(sorted(set(result.groups['metric'])))}.")
    print("groups:")
    shown = result.groups[result.groups["metric"].isin(metrics)]
    for row in shown.itertuples():
        print(f"  {safe(row.feature)} = {safe(row.group)}: {row.metric}  {_f(row.base)}"
              f"{_ci(row.base_ci_low, row.base_ci_high)} (n={row.n_base}) -> {_f(row.new)}"
              f"{_ci(row.new_ci_low, row.new_ci_high)} (n={row.n_new})  change "
              f"{_signed(row.change)}{_ci(row.change_ci_low, row.change_ci_high)}")
    print("overall:")
    for row in result.overall.itertuples():
        if row.metric != "count":
            print(f"  {row.metric}  {_f(row.base)} -> {_f(row.new)}  change {_signed(row.change)}")
    for label, items in (("only in the base", result.only_base),
                         ("only in the new", result.only_new)):
        if items:
            print(f"{label}: " + ", ".join(safe(i) for i in items))
    return 0
