"""``faircard assess``: per-group metrics, disparities and criteria for one dataset."""

from __future__ import annotations

import argparse
import sys

from ..assess import Assessment
from ..card import small_group_notes
from ..errors import FaircardError
from ..favorable import wording
from ..findings import findings
from ..formatting import fmt_disparate_impact, fmt_num
from ..prepare import vanished_of
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
    common.add_engine_options(p)
    common.add_model_options(
        p, "a scikit-learn model (.skops, .joblib, .pkl) that scores DATA; repeat to "
        "compare several models on the same data",
        "load joblib/pickle models the ordinary way (runs any code inside the "
        "file): only for trusted local files")
    p.add_argument("--json", metavar="OUT.json", help="write the full assessment as JSON")
    p.add_argument("--csv", metavar="OUT.csv", help="write per-group metrics as CSV")
    p.add_argument("--quiet", action="store_true", help="do not print the summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.model:
        if args.engine not in ("auto", "pandas"):
            raise FaircardError("Models score the rows inside faircard; use --engine pandas "
                                "with --model.")
        return run_models(args, common.read_data(args))
    result = common.assess_data(args)
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
    policy = result.spec.policy  # the rule every figure below was computed under
    if policy is None:
        rule = f"the predicted labels in column '{result.spec.prediction}'."
    else:  # a small group's threshold marked as the table's " *" marks its row
        rule = policy.describe(notes=None if policy.is_single
                               else small_group_notes(policy.feature, result),
                               positive=wording(result.spec.favorable_outcome).positive_decision)
    lines.append(f"Decision: {rule}")
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
    words = wording(result.spec.favorable_outcome)
    lines.append(f"Fairness criteria (between groups; a positive decision is {words.kind} for "
                 "the person):")
    for feature, crit in result.criteria.items():
        ff = crit.get("passes_four_fifths")
        flag = "n/a" if ff is None else ("passes" if ff else "FAILS")
        lines.append(
            f"  {feature}: demographic parity difference {fmt_num(crit['demographic_parity_difference'])}, "
            f"ratio {fmt_num(crit['demographic_parity_ratio'])}; disparate impact ratio "
            f"{fmt_disparate_impact(crit)} (four-fifths rule: {flag}); "
            f"equalized odds difference {fmt_num(crit['equalized_odds_difference'])}"
        )
    stated = findings(result)
    if stated:
        lines.append("")
        lines.append("Findings:")
        lines += [f"  - {sentence}" for sentence in stated]
    vanished = vanished_of(result.cube, result.spec)
    for note in result.notes:
        if note != rule:  # a randomised policy's note is the rule stated above
            lines.append(f"Note: {note}")
        if " left out (" in note:  # the groups those rows emptied, as the pages name them
            lines += [f"Note: {sentence}" for sentence in vanished]
    return "\n".join(lines)


def run_models(args: argparse.Namespace, data) -> int:
    """``--model`` given: score DATA with each model and assess each one."""
    from ..errors import FaircardError
    from ..models_assess import assess_models, check_sensitive_not_personal
    from ..privacy import detect_personal_data

    if args.prediction or args.score:
        raise FaircardError("Give --model or a --prediction/--score column, not both.")
    kwargs = common.model_kwargs(args)
    flags = detect_personal_data(data)
    check_sensitive_not_personal(kwargs["sensitive"], flags)
    models = common.load_models(args)
    results = assess_models(data, models, model_positive_class=args.model_positive_class,
                            **kwargs)
    personal = [{"column": f.column, "kind": f.kind} for f in flags]
    if len(results) == 1:
        doc = results[0].assessment.to_dict()
        doc["model"] = results[0].to_dict()
        for key in ("overall", "by_group", "disparities", "criteria", "notes", "threshold",
                    "policy", "n_rows", "n_dropped", "dropped_reasons"):
            doc["model"].pop(key, None)
    else:
        first = results[0].assessment.to_dict()
        doc = {k: first[k] for k in ("schema_version", "n_rows", "target", "pos_label",
                                     "favorable_outcome", "sensitive_features", "features",
                                     "bins", "min_group_size")}
        doc["models"] = [r.to_dict() for r in results]
    doc["personal_data_columns"] = personal
    if args.json:
        common.write_json(args.json, doc)
    if args.csv:
        import pandas as pd

        frames = [r.assessment.by_group_wide().assign(model=r.name) for r in results]
        common.write_csv(args.csv, pd.concat(frames, ignore_index=True))
    if not args.quiet:
        for r in results:
            for w in r.warnings:
                print(f"faircard: warning ({r.name}): {w}", file=sys.stderr)
            print(f"== model: {r.name} ({r.info['type']}, sha256 {r.info['sha256'][:12]})")
            print(summary_text(r.assessment))
        if personal:
            cols = ", ".join(f["column"] for f in personal)
            print(f"Personal data columns flagged and kept out of the report: {cols}")
    return 0
