"""Audit store commands: ``record``, ``records``, ``show``, ``submit``, ``review``,
``comment``, ``verify``, ``head``, ``keygen``, ``upgrade``.

Each opens the store given by ``--store`` (a file path or database URL; default
``$FAIRCARD_STORE`` or ``faircard-audit.db``) with the keys configured in the environment
(:mod:`faircard.governance.signing`). ``verify`` exits with status 1 when the store's chain,
fingerprints or signatures are broken.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import FaircardError
from ..formatting import fmt_num
from ..governance.recorded_card import card_document
from ..governance.records import spec_of
from ..governance.share import cells_of
from ..governance.store import DEFAULT_STORE, STATUSES, STORE_ENV, AuditStore
from ..safe_text import for_terminal, json_for_terminal
from . import common

_SHOWN_CRITERIA = (
    ("demographic_parity_difference", "DP diff"),
    ("demographic_parity_ratio", "DP ratio"),
    ("equalized_odds_difference", "EO diff"),
    ("equal_opportunity_difference", "EOpp diff"),
)

_VERBS = {"submit": "submitted", "approve": "approved", "request_changes": "changes requested",
          "reject": "rejected", "comment": "commented"}


def add_store_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="PATH|URL", default=None,
                   help=f"audit store: a SQLite file or a database URL (default: ${STORE_ENV} "
                   f"or {DEFAULT_STORE})")


def open_store(args: argparse.Namespace, *, create: bool = False) -> AuditStore:
    return AuditStore(args.store, create=create)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("record", help="assess DATA and record it in the audit store",
                       description="Assess DATA (as 'faircard assess') and add the result to the "
                       "audit store as a draft; prints its id and fingerprint.")
    common.add_data_options(p)
    common.add_model_options(
        p, "a scikit-learn model that scores DATA (.skops, .joblib, .pkl); repeat "
        "to record several models, one record each",
        "load joblib/pickle models the ordinary way (only for trusted files)")
    p.add_argument("--author", required=True, help="who made this assessment")
    p.add_argument("--title", help="a title (default: the dataset and model names)")
    p.add_argument("--supersedes", metavar="ID",
                   help="id of an older record this one replaces (a draft or a record in "
                   "review only by the person who recorded it)")
    p.add_argument("--baseline", metavar="ID",
                   help="id of an earlier record to compare this one with (faircard diff ID)")
    p.add_argument("--mlflow", action="store_true",
                   help="also log the assessment JSON, the model card and the fingerprint to an "
                   "MLflow run (MLFLOW_TRACKING_URI; needs faircard[mlflow])")
    common.add_card_text_option(p, "the model card JSON whose authors' text this record "
                                "covers (its fingerprint then changes when the text does)")
    add_store_option(p)
    p.set_defaults(func=run_record)

    p = sub.add_parser("records", help="list the records in the audit store",
                       description="List the recorded assessments, oldest first.")
    p.add_argument("--status", choices=STATUSES, help="only records with this status")
    p.add_argument("--author", help="only records by this author")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_store_option(p)
    p.set_defaults(func=run_records)

    p = sub.add_parser("show", help="show one record with its results and reviews",
                       description="Show one record: what was assessed, the fingerprint, the "
                       "fairness criteria and the history of submissions and reviews.")
    p.add_argument("id", metavar="ID", help="record id")
    p.add_argument("--json", action="store_true",
                   help="print the full export (record, assessment, history) as JSON")
    add_store_option(p)
    p.set_defaults(func=run_show)

    p = sub.add_parser("submit", help="send a draft record for review",
                       description="Send a draft record for review (draft -> in_review).")
    p.add_argument("id", metavar="ID", help="record id")
    p.add_argument("--by", required=True, metavar="NAME", help="who submits it")
    add_store_option(p)
    p.set_defaults(func=run_submit)

    p = sub.add_parser("review", help="approve, send back, reject or comment on a record",
                       description="Review a record in review. The author cannot approve their "
                       "own record; a comment is required except for an approval.")
    p.add_argument("id", metavar="ID", help="record id")
    p.add_argument("--reviewer", required=True, metavar="NAME", help="who reviews it")
    p.add_argument("--role", help="the reviewer's role (for example 'model risk')")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--approve", dest="decision", action="store_const", const="approve")
    g.add_argument("--request-changes", dest="decision", action="store_const",
                   const="request_changes")
    g.add_argument("--reject", dest="decision", action="store_const", const="reject")
    g.add_argument("--comment-only", dest="decision", action="store_const", const="comment",
                   help="add a comment without a decision")
    p.add_argument("--comment", default="", metavar="TEXT", help="the review's comment")
    add_store_option(p)
    p.set_defaults(func=run_review)

    p = sub.add_parser("comment", help="comment on a record (or answer a comment)",
                       description="Add a comment to a record, about the record as a whole or "
                       "one part of it; comments never change a record's status. The comment "
                       "is an entry of the audit chain, signed like every other entry when a "
                       "signing key is configured.")
    p.add_argument("id", metavar="ID", help="record id")
    p.add_argument("--by", required=True, metavar="NAME", help="who comments")
    p.add_argument("--text", required=True, metavar="TEXT", help="the comment")
    p.add_argument("--section", default="", metavar="S",
                   help="what it is about, as the share view names it: 'finding 2', "
                   "'disparities', 'decision policy', 'model card' (default: the record as a "
                   "whole)")
    p.add_argument("--role", help="the commenter's role (for example 'domain expert')")
    p.add_argument("--reply-to", metavar="COMMENT",
                   help="id of the comment on this record that this one answers")
    add_store_option(p)
    p.set_defaults(func=run_comment)

    p = sub.add_parser("verify", help="check the audit store's fingerprints and hash chain",
                       description="Recompute every fingerprint and the hash chain of the audit "
                       "store. Exit status 1 when something was changed outside faircard.")
    add_expect_head_option(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_store_option(p)
    p.set_defaults(func=run_verify)

    p = sub.add_parser("head", help="print the audit store's head hash (the anchor to publish)",
                       description="Print the hash of the newest entry of the audit store's "
                       "chain. Publish it (CI log, release notes, a ticket): 'faircard verify "
                       "--expect-head HASH' later fails if the chain no longer contains it.")
    p.add_argument("--json", action="store_true",
                   help="print the head, the number of entries and the time as JSON")
    add_store_option(p)
    p.set_defaults(func=run_head)

    p = sub.add_parser("keygen", help="create an Ed25519 key pair to sign the audit store",
                       description="Write a new Ed25519 private key (PEM, readable only by you) "
                       "and its public key next to it (.pub.pem). Point FAIRCARD_SIGNING_KEY_FILE "
                       "at the private key wherever entries are written; give the public key to "
                       "those who verify (FAIRCARD_VERIFY_KEYS).")
    p.add_argument("out", metavar="KEY.pem", help="where to write the private key")
    p.set_defaults(func=run_keygen)

    add_upgrade_parser(sub)


def add_upgrade_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("upgrade", help="upgrade the audit store to this faircard's schema",
                       description="Apply the audit store's schema migrations (Alembic). Back "
                       "the store up first. With a signing key configured, entries written "
                       "without a signature are then signed, after the chain was verified.")
    p.add_argument("--no-sign", action="store_true",
                   help="do not sign unsigned entries even when a signing key is configured")
    add_store_option(p)
    p.set_defaults(func=run_upgrade)


def add_expect_head_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--expect-head", metavar="HASH",
                   help="a head published earlier ('faircard head'); fails when the chain no "
                   "longer contains it (entries removed or the chain rewritten)")


@dataclass
class Assessed:
    """One assessment made from the command line: the model it is about (if any), its JSON
    document, the models' names and sha256s, and the assessment itself (for the card)."""

    name: str | None
    doc: dict[str, Any]
    models: list[dict[str, str]]
    assessment: Any = None


def assess_inputs(args: argparse.Namespace, *, n_boot: int | None = None) -> list[Assessed]:
    """Assess DATA with the shared data options: one assessment, or one per ``--model``."""
    from ..models_assess import check_sensitive_not_personal

    if args.model and common.engine_of(args) != "pandas":
        raise FaircardError("Models score the rows inside faircard; use --engine pandas "
                            "with --model.")
    flags, data = common.personal_data_of(args, "This command")
    check_sensitive_not_personal(args.sensitive, flags)
    personal = [{"column": f.column, "kind": f.kind} for f in flags]
    if not args.model:
        extra = {} if n_boot is None else {"n_boot": n_boot}
        result = common.assess_data(args, data, flags=flags, **extra)
        doc = result.to_dict()
        doc["personal_data_columns"] = personal
        return [Assessed(None, doc, [], result)]
    from ..models_assess import assess_models

    if args.prediction or args.score:
        raise FaircardError("Give --model or a --prediction/--score column, not both.")
    kwargs = {**common.model_kwargs(args),
              **({} if n_boot is None else {"n_boot": n_boot})}
    models = common.load_models(args)
    out = []
    for r in assess_models(data, models, model_positive_class=args.model_positive_class,
                           **kwargs):
        doc = r.assessment.to_dict()
        doc["model"] = {**r.info, "name": r.name, "warnings": list(r.warnings)}
        doc["personal_data_columns"] = personal
        out.append(Assessed(r.name, doc, [{"name": r.name, "sha256": r.info["sha256"]}],
                            r.assessment))
    return out


def safe(text: Any) -> str:
    """Untrusted text for a terminal: control characters shown as escapes."""
    return for_terminal(text)


def run_record(args: argparse.Namespace) -> int:
    from ..io import fingerprint

    if args.supersedes and len(args.model) > 1:
        raise FaircardError("--supersedes applies to one record; record one model at a time.")
    assessed = assess_inputs(args)
    card_text = common.read_card_text(args.card_json)
    dataset = Path(args.data).name
    sha = fingerprint(args.data)
    with open_store(args, create=True) as store:
        for a in assessed:
            title = args.title or f"{dataset}" + (f" / {a.name}" if a.name else "")
            if args.title and len(assessed) > 1:
                title = f"{args.title} ({a.name})"
            personal = [p["column"] for p in a.doc.get("personal_data_columns") or []]
            cells = cells_of(a.assessment)
            rec = store.add(a.doc, title=title, created_by=args.author, dataset_name=dataset,
                            dataset_sha256=sha, models=a.models, supersedes=args.supersedes,
                            spec=spec_of(a.doc, card_text=card_text),
                            baseline=args.baseline,
                            cells=cells,
                            card=card_document(card_text, model=a.doc.get("model"),
                                               personal_data=personal))
            print(f"record {rec.id} ({rec.status}): {safe(rec.title)}")
            if cells.get("cube_note"):
                print(f"note: {cells['cube_note']}")
            print(f"fingerprint {rec.fingerprint}")
            if args.mlflow:
                run_id = _log_mlflow(a, rec, store.location, args.data)
                print(f"mlflow run {run_id}")
        print(f"next: faircard submit {rec.id} --by NAME")
    return 0


def _log_mlflow(a: Assessed, rec: Any, location: str, data: str) -> str:
    from ..card import build_card
    from ..governance.tracking import log_assessment
    from ..render import render_markdown

    personal = [p["column"] for p in a.doc.get("personal_data_columns") or []]
    card = build_card(a.assessment, personal_data=personal,
                      model=a.doc.get("model"),
                      dataset={"name": rec.dataset_name, "sha256": rec.dataset_sha256})
    return log_assessment(a.doc, fingerprint=rec.fingerprint, card_markdown=render_markdown(card),
                          record_id=rec.id, store=location, run_name=rec.title)


def run_records(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        recs = store.list(status=args.status, created_by=args.author)
    if args.json:
        print(json_for_terminal([r.to_dict() for r in recs]))
        return 0
    if not recs:
        print("no records")
        return 0
    rows = [["id", "status", "created (UTC)", "author", "fingerprint", "title"]]
    for r in recs:
        title = safe(r.title) + (f" [superseded by {', '.join(map(str, r.superseded_by))}]"
                                 if r.superseded_by else "")
        rows.append([str(r.id), safe(r.status), safe(r.created_at[:16].replace("T", " ")),
                     safe(r.created_by), safe(r.fingerprint[:12]), title])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


def _decision(spec: dict[str, Any]) -> str:
    """The recorded decision rule in words: the score with its one threshold, or with the
    recorded per-group policy as the record's card states it ('>= None' was shown for a
    policy with one threshold per group), or the prediction column."""
    from ..decision import DecisionPolicy
    from ..favorable import check_favorable, wording
    from ..formatting import fmt_threshold

    if not spec.get("score"):
        return f"prediction '{safe(spec.get('prediction'))}'"
    score = f"score '{safe(spec.get('score'))}'"
    try:
        policy = (DecisionPolicy.from_dict(spec["policy"]) if spec.get("policy") is not None
                  else DecisionPolicy.single(float(spec.get("threshold"))))
        positive = wording(check_favorable(spec.get("favorable_outcome") or "positive"))
    except (FaircardError, KeyError, TypeError, ValueError):
        return f"{score} under a decision rule this faircard cannot read"
    if policy.is_single:
        return f"{score} >= {fmt_threshold(policy.threshold)}"
    said = policy.describe(positive=positive.positive_decision)
    return f"{score} under the recorded policy ({safe(said)})"


def run_show(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        if args.json:
            print(json_for_terminal(store.export(args.id)))
            return 0
        rec = store.get(args.id)
        history = store.history(rec.id)
        comments = store.comments(rec.id)
        problems = store.problems(rec.id)
    status = safe(rec.status) + (f" -- NOT VERIFIED: {safe(problems[0])}; run 'faircard "
                                 "verify'" if problems else "")
    lines = [f"record {rec.id}: {safe(rec.title)}",
             f"  status       {status}",
             f"  author       {safe(rec.created_by)}, {safe(rec.created_at)}",
             f"  dataset      {safe(rec.dataset_name)} (sha256 {rec.dataset_sha256}), "
             f"{rec.n_rows:,} rows"]
    for m in rec.models:
        lines.append(f"  model        {safe(m['name'])} (sha256 {m['sha256']})")
    spec = rec.spec
    lines.append(f"  assessed     target '{safe(spec.get('target'))}', {_decision(spec)}, "
                 f"sensitive {', '.join(safe(s) for s in spec.get('sensitive_features') or [])}")
    lines.append(f"  fingerprint  {rec.fingerprint}")
    if rec.supersedes is not None:
        lines.append(f"  supersedes   record {rec.supersedes}")
    if rec.baseline is not None:
        lines.append(f"  baseline     record {rec.baseline} (faircard diff {rec.id})")
    if rec.superseded_by:
        lines.append(f"  superseded   by record {', '.join(map(str, rec.superseded_by))}")
    overall = rec.summary.get("overall") or {}
    lines.append(f"  overall      accuracy {fmt_num(overall.get('accuracy'))}, selection rate "
                 f"{fmt_num(overall.get('selection_rate'))}")
    lines.append("  criteria:")
    criteria = rec.summary.get("criteria") or {}
    order = [f for f in spec.get("features") or [] if f in criteria]
    for feature in order + [f for f in criteria if f not in order]:
        crit = criteria[feature]
        parts = [f"{label} {fmt_num(crit.get(key))}" for key, label in _SHOWN_CRITERIA]
        ff = crit.get("passes_four_fifths")
        parts.append("four-fifths " + ("n/a" if ff is None else "passes" if ff else "FAILS"))
        lines.append(f"    {safe(feature)}: " + ", ".join(parts))
    lines.append("  history:")
    lines.append(f"    {safe(rec.created_at[:19])}  recorded by {safe(rec.created_by)}")
    for e in history:
        who = safe(e.reviewer) + (f" ({safe(e.role)})" if e.role else "")
        verb = _VERBS.get(e.decision, e.decision)
        lines.append(f"    {safe(e.at[:19])}  {safe(verb)} by {who}")
        for text_line in e.comment.splitlines():
            lines.append(f"        {safe(text_line)}")
    if comments:
        lines.append("  comments:")
    for c in comments:
        about = f" on {safe(c.section)}" if c.section else ""
        answer = f" answering {c.reply_to}" if c.reply_to is not None else ""
        lines.append(f"    {safe(c.at[:19])}  comment {c.id}{about}{answer} by {safe(c.author)}")
        for text_line in c.body.splitlines():
            lines.append(f"        {safe(text_line)}")
    print("\n".join(lines))
    return 0


def run_submit(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        rec = store.submit(args.id, args.by)
    print(f"record {rec.id} is now {rec.status}")
    return 0


def run_review(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        rec = store.review(args.id, args.reviewer, args.decision, args.comment, role=args.role)
    print(f"record {rec.id} is now {rec.status}")
    return 0


def run_comment(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        c = store.comment(args.id, args.by, args.text, section=args.section,
                          reply_to=args.reply_to, role=args.role)
    about = f" on {safe(c.section)}" if c.section else ""
    answer = f", answering comment {c.reply_to}" if c.reply_to is not None else ""
    print(f"comment {c.id} on record {c.record_id}{about}{answer} by {safe(c.author)}"
          + (" (signed)" if c.key_id else ""))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        result = store.verify(expect_head=args.expect_head)
    if args.json:
        print(json_for_terminal(result.to_dict()))
    else:
        print(result.message)
        for problem in result.problems:
            print(f"  {safe(problem)}")
    return 0 if result.ok else 1


def run_head(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    with open_store(args) as store:
        head, count = store.head(), store.event_count()
    if args.json:
        print(json_for_terminal({"head": head, "event_count": count, "store": store.location,
                                 "at": datetime.now(UTC).isoformat(timespec="seconds")}))
    else:
        print(head)
    return 0


def run_upgrade(args: argparse.Namespace) -> int:
    from ..governance.migrate import upgrade

    print(upgrade(args.store, sign=not args.no_sign).message)
    return 0


def run_keygen(args: argparse.Namespace) -> int:
    import os

    from ..governance.signing import generate_ed25519

    out = Path(args.out)
    public_path = out.with_name(out.name.removesuffix(".pem") + ".pub.pem")
    for path in (out, public_path):
        if path.exists():
            raise FaircardError(f"'{path}' already exists; give a new file name (a key is "
                                "never overwritten).")
    if not out.parent.is_dir():
        raise FaircardError(f"The folder '{out.parent}' does not exist; create it first.")
    private, public, key_id = generate_ed25519()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(private)
    public_path.write_text(public, encoding="ascii")
    print(f"private key {out} (keep it secret; mode 600)")
    print(f"public key  {public_path}")
    print(f"key id      {key_id}")
    print(f"next: export FAIRCARD_SIGNING_KEY_FILE={out}")
    return 0
