"""``faircard diagnose``: where disparities come from (proxies, calibration, drift, subgroups)
and the bias-sources checklist."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..diagnostics import apply_answers, diagnose
from ..diagnostics.importance import DEFAULT_MAX_ROWS, DEFAULT_REPEATS
from ..diagnostics.made_for import describe_rule
from ..errors import FaircardError, missing_column
from ..favorable import DEFAULT_FAVORABLE, FAVORABLE_OUTCOMES
from . import common


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "diagnose",
        help="representation, proxies, calibration, drift, worst subgroups, bias checklist",
        description="Look for where a model's disparities come from.",
    )
    p.add_argument("data", metavar="DATA", help="evaluation dataset: CSV, Parquet or Excel")
    p.add_argument("--target", required=True, help="column with the true outcome (two values)")
    common.add_reading_options(p)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--score", help="column with a real-valued score")
    g.add_argument("--prediction", help="column with the predicted label")
    common.add_model_options(
        p, "a scikit-learn model (.skops, .joblib, .pkl) that scores DATA (opened in a "
        "sandboxed process); adds permutation importance overall and per group",
        "load a joblib/pickle model the ordinary way (runs any code inside the file, still in "
        "the sandboxed process): only for trusted local files", group=g, repeat=False)
    p.add_argument("--importance-repeats", type=int, default=DEFAULT_REPEATS, metavar="N",
                   help=f"shuffles per column for permutation importance (default "
                   f"{DEFAULT_REPEATS})")
    p.add_argument("--importance-rows", type=int, default=DEFAULT_MAX_ROWS, metavar="N",
                   help="rows scored per shuffle; larger data is sampled at random (default "
                   f"{DEFAULT_MAX_ROWS:,})")
    p.add_argument("--threshold", type=float, default=None,
                   help="decision threshold for --score (default 0.5; with --model, the model's "
                   "own cut: 0.5 on probabilities, 0 on a decision function)")
    p.add_argument("--policy", metavar="POLICY.json", default=None,
                   help="decision policy file (one threshold per group, as written by "
                   "'faircard thresholds --json') instead of --threshold")
    p.add_argument("--min-group-size", type=int, default=30,
                   help="groups smaller than this are named as small and left out of the "
                   "comparisons between groups (default 30)")
    p.add_argument("--include-small-groups", action="store_true",
                   help="compare small groups too")
    p.add_argument("--sensitive", action="append", required=True, metavar="COL",
                   help="sensitive feature column; repeat for several")
    p.add_argument("--pos-label", dest="pos_label", default=None,
                   help="the target value that is the positive outcome")
    p.add_argument("--bins", action="append", default=[], metavar="COL=E0,E1,...[:L1,...]",
                   help="bin a numeric sensitive feature (as in 'faircard assess')")
    p.add_argument("--reference-data", metavar="TRAIN",
                   help="reference (training) dataset: drift and population shares")
    p.add_argument("--reference-share", action="append", default=[],
                   metavar="COL=GROUP:SHARE,...",
                   help="population share of each group, e.g. race=White:0.6,Black:0.13")
    p.add_argument("--exclude", action="append", default=[], metavar="COL",
                   help="a column to leave out of proxies, drift and subgroups (e.g. another "
                   "model's output); repeatable")
    p.add_argument("--max-conditions", type=int, default=3, choices=(1, 2, 3),
                   help="most conditions in a searched subgroup (default 3)")
    p.add_argument("--min-subgroup-size", type=int, default=30,
                   help="smallest subgroup reported (default 30)")
    p.add_argument("--favorable", choices=FAVORABLE_OUTCOMES, default=DEFAULT_FAVORABLE,
                   dest="favorable_outcome",
                   help="whether a positive decision is good for the person (positive, e.g. a "
                   "loan) or bad (negative, e.g. flagged as high risk): ranks the subgroups "
                   "by selection rate (default positive)")
    p.add_argument("--subgroup-metric", default="error_rate",
                   choices=("error_rate", "selection_rate", "false_positive_rate",
                            "false_negative_rate"),
                   help="what the subgroup search compares (default error_rate)")
    p.add_argument("--checklist", metavar="ANSWERS.json",
                   help="the experts' answers: {source: {status, note}}")
    p.add_argument("--seed", type=int, default=0, help="random seed (cross-validation folds, rows sampled and shuffled for importance)")
    p.add_argument("--json", metavar="OUT.json", help="write every diagnostic as JSON")
    p.add_argument("--quiet", action="store_true", help="do not print the summary")
    p.set_defaults(func=run)


def parse_shares(items: list[str]) -> dict[str, dict[str, float]]:
    """``COL=GROUP:SHARE,...`` -> {COL: {GROUP: SHARE}}; shares in [0, 1]."""
    out: dict[str, dict[str, float]] = {}
    for item in items:
        col, sep, rest = item.partition("=")
        if not sep or not rest:
            raise FaircardError(f"--reference-share '{item}' must look like "
                                "race=White:0.6,Black:0.13.")
        shares = {}
        for part in rest.split(","):
            group, sep, value = part.rpartition(":")
            try:
                share = float(value)
            except ValueError:
                share = float("nan")
            if not sep or not group or not 0 <= share <= 1:
                raise FaircardError(f"--reference-share '{item}': each entry must be "
                                    "GROUP:SHARE with a share between 0 and 1.")
            shares[group] = share
        out[col.strip()] = shares
    return out


def run(args: argparse.Namespace) -> int:
    data = common.read_data(args)
    reference = common.read_data(args.reference_data) if args.reference_data else None
    if args.importance_repeats < 1 or args.importance_rows < 2:
        raise FaircardError("--importance-repeats must be at least 1 and --importance-rows at "
                            "least 2.")
    decision = {"score": args.score, "prediction": args.prediction}
    policy = None
    if args.policy:
        from ..decision import load_policy

        if args.threshold is not None:
            raise FaircardError("Give --threshold or --policy, not both: the policy file holds "
                                "the thresholds.")
        policy = load_policy(args.policy)
    threshold = 0.5 if args.threshold is None else args.threshold
    model = None
    if args.model:
        model, decision = _score_with_model(args, data)
        data = data.assign(**{decision.get("score") or decision["prediction"]:
                              decision.pop("values")})
        if args.threshold is None and not model.facts.has_proba:
            threshold = 0.0  # where the model's own predictions change, as 'assess' cuts it
    result = diagnose(
        data, target=args.target, sensitive=args.sensitive, **decision,
        threshold=threshold, policy=policy, pos_label=args.pos_label,
        min_group_size=args.min_group_size, include_small_groups=args.include_small_groups,
        bins=common.parse_bins(args.bins), reference_data=reference,
        reference_shares=parse_shares(args.reference_share), exclude=args.exclude,
        max_conditions=args.max_conditions, min_subgroup_size=args.min_subgroup_size,
        subgroup_metric=args.subgroup_metric, favorable_outcome=args.favorable_outcome,
        seed=args.seed, model=model,
        model_positive_class=args.model_positive_class,
        importance_repeats=args.importance_repeats, importance_max_rows=args.importance_rows)
    if args.checklist:
        apply_answers(result.checklist, _read_answers(args.checklist))
    # the card checks that the checklist it carries was made for its own data and decisions
    result.made_for["dataset_sha256"] = common.dataset_sha256(args.data)
    if model is not None:
        result.made_for["model_sha256"] = model.sha256
    if args.json:
        common.write_json(args.json, result.to_dict())
    if not args.quiet:
        print(summary_text(result))
    return 0


def _score_with_model(args: argparse.Namespace, data) -> tuple:
    """Open ``--model`` in its sandboxed process and score DATA with it: (model, the decision
    keyword arguments with the column's ``values``)."""
    from ..models_assess import PREDICTION_COLUMN, SCORE_COLUMN, model_decision
    from ..prepare import resolve_pos_label

    if args.target not in data.columns:
        raise missing_column(args.target, data.columns, "Target column")
    pos = resolve_pos_label(data[args.target].dropna(), args.target, args.pos_label)
    model = common.load_models(args)[0]
    values, kind, check = model_decision(model, data, target=args.target, pos_label=pos,
                                         exclude=[args.target],
                                         model_positive_class=args.model_positive_class)
    for w in list(model.warnings) + check.warnings:
        common.warn(f"{model.name}: {w}")
    column = SCORE_COLUMN if kind == "score" else PREDICTION_COLUMN
    return model, {kind: column, "prediction" if kind == "score" else "score": None,
                   "values": values}


def _read_answers(path: str) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
        answers = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise FaircardError(f"Cannot read the checklist answers '{path}': {exc}.") from None
    if not isinstance(answers, dict) or not all(isinstance(v, dict) for v in answers.values()):
        raise FaircardError("The checklist answers must be a JSON object "
                            "{source: {\"status\": ..., \"note\": ...}}.")
    return answers


def summary_text(d) -> str:
    """Plain-text summary: the checklist's evidence, source by source."""
    lines = ["faircard diagnostics", ""]
    rule = d.made_for.get("decision_rule")
    if rule:  # every error and selection rate below was computed under it
        lines.append("Decision: " + _sentence(describe_rule(
            rule, d.made_for.get("favorable_outcome"), d.made_for.get("decision_column"))) + ".")
    if d.trivial_rule:
        lines.append(d.trivial_rule)
    sub = d.subgroups
    lines.append(f"Subgroups tested: {sub.attrs.get('n_tested', len(sub)):,}; "
                 f"significant after Holm correction: {int(sub['significant'].sum()):,}.")
    for item in d.checklist:
        status = item.status or (f"suggested: {item.suggested_status}"
                                 if item.suggested_status else "to review")
        lines.append(f"- {item.source} bias ({status})")
        for sentence in item.evidence:
            lines.append(f"    {sentence}")
    imp = d.importance
    if imp is not None and len(imp):
        top = imp[imp["group"] == "(all)"].sort_values("rank").head(5)
        what = "ROC AUC" if imp.attrs["metric"] == "roc_auc" else "accuracy"
        lines.append(f"Permutation importance (drop in {what}, mean +/- sd over "
                     f"{imp.attrs['n_repeats']} shuffles): "
                     + "; ".join(f"{r['column']} {r['importance']:.4f} +/- "
                                 f"{r['importance_std']:.4f}" for _, r in top.iterrows()) + ".")
    for note in d.notes:
        if note != d.trivial_rule:  # said first
            lines.append(f"Note: {note}")
    return "\n".join(lines)


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] if text else text
