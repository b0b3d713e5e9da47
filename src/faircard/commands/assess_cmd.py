"""``faircard assess``: per-group metrics, disparities and criteria for one dataset."""

from __future__ import annotations

import argparse

from ..assess import Assessment, assess
from ..formatting import fmt_num
from . import common

SUMMARY_METRICS = (
    "selection_rate",
    "accuracy",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "precision",
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "assess",
        help="per-group metrics, disparities and fairness criteria",
        description="Assess a binary classifier's decisions across groups.",
    )
    common.add_data_options(p)
    p.add_argument("--json", metavar="OUT.json", help="write the full assessment as JSON")
    p.add_argument("--csv", metavar="OUT.csv", help="write per-group metrics as CSV")
    p.add_argument("--quiet", action="store_true", help="do not print the summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data = common.read_data(args.data)
    result = assess(data, **common.spec_kwargs(args))
    if args.json:
        common.write_json(args.json, result.to_dict())
    if args.csv:
        common.write_csv(args.csv, result.by_group_wide())
    if not args.quiet:
        print(summary_text(result))
    return 0


def summary_text(result: Assessment) -> str:
    """A readable plain-text summary: overall line, per-group table, criteria."""
    lines = []
    kept = result.n_rows - result.n_dropped
    lines.append(f"faircard assessment: {kept:,} rows assessed"
                 + (f" ({result.n_dropped:,} dropped)" if result.n_dropped else ""))
    wide = result.by_group_wide()
    cols = [m for m in SUMMARY_METRICS if m in wide.columns]
    header = ["feature", "group", "n"] + cols
    rows = [header]
    rows.append(["(overall)", "", f"{kept:,}"] + [fmt_num(result.overall[m]) for m in cols])
    for _, r in wide.iterrows():
        flag = " *" if r["is_small_group"] else ""
        rows.append([r["feature"], str(r["group"]) + flag, f"{int(r['n']):,}"]
                    + [fmt_num(r[m]) for m in cols])
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    for i, row in enumerate(rows):
        lines.append("  ".join(str(c).ljust(w) if j < 2 else str(c).rjust(w)
                               for j, (c, w) in enumerate(zip(row, widths, strict=True))))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    if wide["is_small_group"].any():
        lines.append(f"* fewer than {result.spec.min_group_size} rows: too small to trust")
    lines.append("")
    lines.append("Fairness criteria (between groups):")
    for feature, crit in result.criteria.items():
        ff = crit.get("passes_four_fifths")
        flag = "n/a" if ff is None else ("passes" if ff else "FAILS")
        lines.append(
            f"  {feature}: demographic parity difference {fmt_num(crit['demographic_parity_difference'])}, "
            f"ratio {fmt_num(crit['demographic_parity_ratio'])} (four-fifths rule: {flag}); "
            f"equalized odds difference {fmt_num(crit['equalized_odds_difference'])}"
        )
    for note in result.notes:
        lines.append(f"Note: {note}")
    return "\n".join(lines)
