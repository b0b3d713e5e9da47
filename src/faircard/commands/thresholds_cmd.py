"""``faircard thresholds``: a deterministic decision policy per group under a constraint."""

from __future__ import annotations

import argparse
import json

from ..errors import FaircardError
from ..policy import CONSTRAINTS, LEGAL_NOTE, OBJECTIVES, choose_policy_from_sweep
from ..thresholds import sweep_assessment
from . import common


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "thresholds",
        help="choose thresholds (one per group) under a fairness constraint",
        description="Choose one threshold per group that optimises an objective subject to a "
                    "fairness constraint. A row is positive when its score is at or above its "
                    "group's threshold.",
    )
    common.add_data_options(p, score_required=True, policy=False)
    common.add_engine_options(p)
    p.add_argument("--constraint", default="none", choices=list(CONSTRAINTS),
                   help="fairness constraint (default none)")
    p.add_argument("--tolerance", type=float, default=0.01,
                   help="largest allowed gap between groups (default 0.01)")
    p.add_argument("--objective", default="accuracy", choices=list(OBJECTIVES),
                   help="what to optimise (default accuracy)")
    p.add_argument("--fp-cost", type=float, default=1.0, help="cost of a false positive")
    p.add_argument("--fn-cost", type=float, default=1.0, help="cost of a false negative")
    p.add_argument("--volume", type=int, default=None, help="expected number of decisions")
    p.add_argument("--randomized", action="store_true",
                   help="allow each group to mix thresholds (and everybody or nobody) with "
                   "stated probabilities "
                   "(people with the same score in the same group may get different decisions; "
                   "figures are expected values)")
    p.add_argument("--allow-degenerate", action="store_true",
                   help="allow policies in which every group gets the same all-positive or "
                   "all-negative decision (flagged degenerate)")
    p.add_argument("--json", metavar="OUT.json",
                   help="write the policy as JSON (read it back with --policy)")
    p.add_argument("--csv", metavar="OUT.csv", help="write per-group results as CSV")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.fp_cost < 0 or args.fn_cost < 0:
        raise FaircardError("Costs cannot be negative.")
    # counted by the chosen engine; the search reads only the partition's threshold sweep
    a = common.assess_data(args, n_boot=0)
    feature = a.features[-1]  # the intersection when several features are given
    policy = choose_policy_from_sweep(
        sweep_assessment(a, feature), feature=feature, constraint=args.constraint,
        objective=args.objective, tolerance=args.tolerance, fp_cost=args.fp_cost,
        fn_cost=args.fn_cost, volume=args.volume, min_group_size=a.spec.min_group_size,
        include_small_groups=a.spec.include_small_groups,
        allow_degenerate=args.allow_degenerate, randomized=args.randomized,
        favorable_outcome=args.favorable_outcome)
    doc = {"schema_version": 2, "n_rows": a.n_rows, "n_dropped": a.n_dropped,
           "target": args.target, "score": args.score, "sensitive_features": args.sensitive,
           "favorable_outcome": args.favorable_outcome,
           "policy": {k: v for k, v in policy.to_dict().items() if k != "by_group"},
           "by_group": policy.by_group, "note": LEGAL_NOTE}
    if args.json:
        common.write_json(args.json, doc)
    if args.csv:
        import pandas as pd

        # a rule's further parts as JSON text in one cell, as the policy file writes them
        common.write_csv(args.csv, pd.DataFrame([
            {**r, "else": json.dumps(r["else"])} if "else" in r else r
            for r in policy.by_group]))
    print(policy.summary)
    if policy.constraint != "none" and not policy.feasible:
        print(f"Not met: no policy found meets {policy.constraint.replace('_', ' ')} within "
              f"{policy.tolerance:g}; the policy above is the closest one found.")
    if len(set(policy.thresholds.values())) > 1 or policy.randomized:  # groups told apart
        print(f"Note: {LEGAL_NOTE}")
    return 0
