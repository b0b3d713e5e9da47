"""``faircard gate``: pass/fail fairness checks for CI.

Exit status 0 when every check passes, 1 when a check fails (each check is printed on one
line), 2 for problems with the input (data, options, rules file, store).
"""

from __future__ import annotations

import argparse

from ..errors import FaircardError
from ..governance.gate import CRITERION_LIMITS, METRIC_LIMITS, evaluate_gate, load_rules
from ..governance.records import assessment_fingerprint, spec_of
from . import common
from .store_cmd import add_expect_head_option, add_store_option, assess_inputs, open_store, safe

_SHORT_FLAGS = (
    ("--max-dpd", "max_demographic_parity_difference"),
    ("--min-dpr", "min_demographic_parity_ratio"),
    ("--min-dir", "min_disparate_impact_ratio"),
    ("--max-eod", "max_equalized_odds_difference"),
    ("--min-eor", "min_equalized_odds_ratio"),
    ("--max-eopd", "max_equal_opportunity_difference"),
    ("--min-eopr", "min_equal_opportunity_ratio"),
    ("--min-accuracy", "min_accuracy"),
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gate",
        help="fail (exit 1) when an assessment breaks fairness limits; for CI",
        description="Assess DATA and check it against limits from --rules FILE (TOML) and/or "
                    "flags. Exit 0 when every check passes, 1 when one fails, 2 on input errors.",
    )
    common.add_data_options(p)
    common.add_engine_options(p)
    common.add_model_options(
        p, "a scikit-learn model that scores DATA; repeat to check several",
        "load joblib/pickle models the ordinary way (only for trusted files)")
    p.add_argument("--rules", metavar="FILE", help="gate rules as TOML (flags override it)")
    for flag, key in _SHORT_FLAGS:
        p.add_argument(flag, dest=key, type=float, default=None, metavar="X",
                       help=f"sets {key}")
    p.add_argument("--limit", action="append", default=[], metavar="KEY=VALUE",
                   help="any limit of the rules file, e.g. min_roc_auc=0.7")
    p.add_argument("--require-approved", action="store_true", default=None,
                   help="the assessment's fingerprint must match an approved record in --store")
    p.add_argument("--require-authenticated", action="store_true", default=None,
                   help="as --require-approved, and the approval must come from someone who "
                   "signed in (not a typed name)")
    add_expect_head_option(p)
    p.add_argument("--baseline", metavar="ID",
                   help="a record in --store to compare with (needs --max-regression)")
    p.add_argument("--max-regression", dest="max_regression", type=float, default=None,
                   metavar="X", help="no fairness criterion may be less fair than the "
                   "baseline's by more than X (for ratios: lower by more than X)")
    p.add_argument("--ignore-small-groups", action=argparse.BooleanOptionalAction, default=None,
                   help="whether groups left out of comparisons as too small are accepted "
                   "(default: yes)")
    p.add_argument("--allow-undefined", action="store_true",
                   help="undefined values (n/a) do not fail a check")
    p.add_argument("--allow-empty", action="store_true", default=None,
                   help="pass when no check applies (by default a gate that checks nothing "
                   "fails: 'no checks ran')")
    p.add_argument("--allow-trivial", action="store_true", default=None,
                   help="pass a decision rule that selects nobody or everybody, or gives each "
                   "group an all-or-nothing decision (by default it fails: its zero gaps say "
                   "nothing about fairness)")
    p.add_argument("--json", metavar="OUT.json", help="write the checks as JSON")
    common.add_card_text_option(p, "with --require-approved: the model card JSON the approved "
                                "record covers (as given to 'faircard record --card-json')")
    add_store_option(p)
    p.set_defaults(func=run)


def _overrides(args: argparse.Namespace) -> dict:
    out: dict = {key: getattr(args, key) for _, key in _SHORT_FLAGS}
    for item in args.limit:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise FaircardError(f"--limit '{item}' must look like min_roc_auc=0.7.")
        if key not in CRITERION_LIMITS and key not in METRIC_LIMITS:
            raise FaircardError(f"--limit: unknown limit '{key}'.")
        try:
            out[key] = float(value)
        except ValueError:
            raise FaircardError(f"--limit '{item}': the value must be a number.") from None
    out["require_approved"] = args.require_approved
    out["require_authenticated"] = args.require_authenticated
    out["max_regression"] = args.max_regression
    out["ignore_small_groups"] = args.ignore_small_groups
    out["allow_empty"] = args.allow_empty
    out["allow_trivial"] = args.allow_trivial
    if args.allow_undefined:
        out["fail_on_undefined"] = False
    return out


def run(args: argparse.Namespace) -> int:
    rules = load_rules(args.rules, _overrides(args))
    if rules.is_empty:
        raise FaircardError("There are no gate rules; give --rules FILE or limits such as "
                            "--max-dpd 0.1.")
    if (rules.max_regression is None) != (args.baseline is None):
        raise FaircardError("--baseline ID and --max-regression X go together (max_regression "
                            "may also come from the rules file).")
    needs_store = (rules.require_approved or rules.require_authenticated or args.expect_head
                   or args.baseline)
    store = open_store(args) if needs_store else None
    try:
        # intervals are not checked and not fingerprinted, so skip the bootstrap
        assessed = assess_inputs(args, n_boot=0)
        card_text = common.read_card_text(args.card_json)
        dataset_name, dataset_sha = common.dataset_identity(args)
        baseline = store.assessment(args.baseline) if args.baseline is not None else None
        results = []
        for a in assessed:
            fp = assessment_fingerprint(a.doc, dataset_sha256=dataset_sha, models=a.models,
                                        spec=spec_of(a.doc, card_text=card_text))
            results.append((a, evaluate_gate(a.doc, rules, store, fingerprint=fp,
                                             expect_head=args.expect_head,
                                             baseline=baseline)))
    finally:
        if store is not None:
            store.close()
    doc = {"passed": all(r.passed for _, r in results), "data": dataset_name,
           "results": [{"model": a.name, **r.to_dict()} for a, r in results]}
    if args.json:
        common.write_json(args.json, doc)
    for a, result in results:
        prefix = f"[{safe(a.name)}] " if a.name else ""
        print(f"{prefix}fingerprint {result.fingerprint}")
        for check in result.checks:
            print(prefix + safe(check.line()))
        for note in result.notes:
            print(prefix + safe(note))
        print(prefix + result.summary)
    return 0 if doc["passed"] else 1
