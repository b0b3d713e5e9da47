"""The hash chain of the audit store, checked without a database.

Every record, every event (submission or review) and every comment is one entry of a single
chain: its
``entry_hash`` is the sha256 of the canonical JSON of its content (which includes the previous
entry's hash, ``prev_hash``). :func:`verify_chain` walks the entries in order and reports what
does not add up: a changed row, a removed or inserted entry, a fingerprint that does not match
its inputs, an event that breaks the status flow, a status column edited by hand, and (given
the keys) an entry whose signature is missing or wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import FaircardError
from ..formatting import counted
from .identity import UNAUTHENTICATED, same_person
from .recorded_card import text_problem
from .records import canonical_json, fingerprint_of, sha256_text, summary_of
from .stored_cube import cube_problem, has_cube

GENESIS_HASH = "0" * 64

HEAD_KEY_ID, HEAD_SIGNATURE = "head_key_id", "head_signature"
"""The store's meta entries holding the signature of its head (see :func:`head_message`)."""


def head_message(seq: int, head: str) -> str:
    """What a signed store signs about its head: how many entries the chain has and its newest
    entry's hash. Entries removed from the end of the chain leave a head whose signature no
    longer matches (only the signing key can sign the shorter chain's head)."""
    return f"head:{int(seq)}:{head}"


DECISIONS = ("approve", "request_changes", "reject", "comment")
SUBMIT = "submit"
STATUSES = ("draft", "in_review", "approved", "changes_requested", "rejected")
DECISION_STATUS = {"approve": "approved", "request_changes": "changes_requested",
                   "reject": "rejected"}
"""The status a decision moves a record in review to ("comment" does not move it)."""


@dataclass(frozen=True)
class ChainProblem:
    """Something :meth:`AuditStore.verify` found wrong with one entry (``table`` is "records",
    "reviews", "comments" or "meta"; ``seq`` the entry's position in the chain, 0 when unknown)."""

    table: str
    id: int | None
    seq: int
    reason: str

    @property
    def entry(self) -> str:
        """Human name of the entry, e.g. "record 3" or "review 7"."""
        if self.table == "meta":
            return "the store's head"
        return f"{self.table[:-1]} {self.id}"

    def __str__(self) -> str:
        return f"{self.entry}: {self.reason}"


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of :meth:`AuditStore.verify`: ``ok`` when every fingerprint, hash and status
    checks out; otherwise ``problems`` in chain order, the first broken entry first."""

    ok: bool
    n_records: int
    n_reviews: int
    head: str
    problems: list[ChainProblem] = field(default_factory=list)
    n_comments: int = 0
    n_signed: int = 0
    signatures_checked: bool = False

    @property
    def first_broken(self) -> ChainProblem | None:
        return self.problems[0] if self.problems else None

    @property
    def message(self) -> str:
        if self.ok:
            n_entries = self.n_records + self.n_reviews + self.n_comments
            if self.signatures_checked:
                signed = " Every entry's signature checks out."
            elif n_entries:
                signed = (" The entries are not signed: anyone who can write to the database "
                          "could rewrite them unnoticed; configure a signing key.")
            else:
                signed = ""
            return (f"The audit store is intact: {counted(self.n_records, 'record', 'records')}, "
                    f"{counted(self.n_reviews, 'review event', 'review events')}, "
                    f"{counted(self.n_comments, 'comment', 'comments')}, head "
                    f"{self.head}.{signed}")
        return (f"The audit store is broken: "
                f"{counted(len(self.problems), 'problem', 'problems')}, the first at "
                f"{self.problems[0].entry}.")

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "n_records": self.n_records, "n_reviews": self.n_reviews,
                "n_comments": self.n_comments, "n_signed": self.n_signed,
                "signatures_checked": self.signatures_checked,
                "head": self.head, "message": self.message,
                "problems": [{"table": p.table, "id": p.id, "seq": p.seq, "entry": p.entry,
                              "reason": p.reason} for p in self.problems]}


CHAIN_TABLES = ("records", "reviews", "comments")

HASHED_COLUMNS: dict[int, dict[str, tuple[str, ...]]] = {
    1: {
        "records": ("id", "seq", "created_at", "created_by", "title", "dataset_name",
                    "dataset_sha256", "n_rows", "models", "spec", "summary", "assessment",
                    "fingerprint", "supersedes", "prev_hash"),
        "reviews": ("id", "seq", "record_id", "reviewer", "role", "decision", "comment", "at",
                    "prev_hash"),
    },
    2: {
        "records": ("id", "seq", "created_at", "created_by", "title", "dataset_name",
                    "dataset_sha256", "n_rows", "models", "spec", "summary", "assessment",
                    "fingerprint", "supersedes", "prev_hash", "hash_version", "author_issuer",
                    "author_subject", "baseline_id", "cells"),
        "reviews": ("id", "seq", "record_id", "reviewer", "role", "decision", "comment", "at",
                    "prev_hash", "hash_version", "reviewer_issuer", "reviewer_subject"),
        "comments": ("id", "seq", "record_id", "section", "body", "reply_to", "author",
                     "author_issuer", "author_subject", "role", "at", "prev_hash",
                     "hash_version"),
    },
}
HASHED_COLUMNS[3] = {
    **HASHED_COLUMNS[2],
    "records": (*HASHED_COLUMNS[2]["records"], "card"),
}
"""The columns each entry's hash covers, by the entry's ``hash_version``. Frozen: a version's
list never changes, so entries written under an older schema keep verifying after a migration
(a new schema adds a new version). Left out: ``entry_hash`` itself, ``status`` (a cache of the
events, checked against them) and the signature columns (``key_id``, ``signature``), which sign
``entry_hash``."""
HASH_VERSION = max(HASHED_COLUMNS)


def is_authenticated(issuer: str | None, subject: str | None) -> bool:
    """Whether stored identity columns name a signed-in person (not a typed name)."""
    return bool(issuer) and issuer != UNAUTHENTICATED and bool(subject)


def entry_hash(row: Mapping[str, Any], columns: Iterable[str], table: str) -> str:
    """sha256 of the canonical JSON of ``row``'s ``columns`` (with ``prev_hash``) and its table."""
    return sha256_text(canonical_json({"table": table, **{c: row[c] for c in columns}}))


def hashed_columns(row: Mapping[str, Any], table: str) -> tuple[str, ...]:
    """The columns ``row``'s hash covers (by its ``hash_version``; version 1 when absent)."""
    version = _as_int(row.get("hash_version", 1) or 1)
    columns = HASHED_COLUMNS.get(version, {}).get(table)
    if columns is None:
        raise ValueError(f"no hash version {version} for {table}")
    return columns


def compute_hash(row: Mapping[str, Any], table: str) -> str:
    """The entry hash ``row`` should have, by its hash version."""
    return entry_hash(row, hashed_columns(row, table), table)


class SignatureCheck(Protocol):
    """Checks an entry's signature (see :mod:`faircard.governance.signing`)."""

    def check(self, key_id: str | None, signature: str | None, entry_hash: str) -> str:
        """"" when the signature is valid, else the reason it is not."""
        ...  # pragma: no cover


def verify_chain(tables: Mapping[str, Sequence[Mapping[str, Any]]], meta: Mapping[str, str],
                 keys: SignatureCheck | None = None,
                 expect_head: str | None = None, *, signatures: bool = True) -> VerifyResult:
    """Check the rows of the chained ``tables`` ("records", "reviews", "comments") and the
    store's ``meta`` entries (``head_hash``, ``event_count``).

    ``keys``: checks every entry's signature (an entry without a valid signature by a trusted
    key is a problem); without it, signed entries cannot be checked, which is a problem too.
    ``expect_head``: a head published earlier; the chain must contain it (entries removed from
    the end are found this way). ``signatures=False``: hashes, links and the status flow
    only (used before signing entries that were written unsigned).
    """
    entries = sorted([(t, r) for t in CHAIN_TABLES for r in tables.get(t, ())],
                     key=lambda e: (_as_int(e[1]["seq"]), e[0], _as_int(e[1]["id"])))
    problems: list[ChainProblem] = []
    status: dict[Any, str] = {}
    known = Known()
    comments: dict[Any, Any] = {}
    hashes: set[str] = {GENESIS_HASH}
    n_signed = 0
    first_signed: tuple[str, Any, int] | None = None
    prev = GENESIS_HASH
    for i, (table, row) in enumerate(entries, start=1):
        seq = _as_int(row["seq"])

        def bad(reason: str, table: str = table, row: Mapping[str, Any] = row,
                seq: int = seq) -> None:
            problems.append(ChainProblem(table, row["id"], seq, reason))

        if seq != i:
            bad(f"it is event {seq} of the chain where event {i} was expected: an entry was "
                "removed or inserted")
        if row["prev_hash"] != prev:
            bad("its prev_hash does not match the entry before it: an earlier entry was "
                "removed, inserted or rewritten")
        try:
            digest: str | None = compute_hash(row, table)
        except (FaircardError, ValueError, KeyError):
            digest = None  # never equal to a stored hash, not even an empty one
        if digest is None or digest != row["entry_hash"]:
            bad("its content does not match its entry_hash: it was changed after it was "
                "written")
        signature = row.get("signature")
        if signature:
            n_signed += 1
            first_signed = first_signed or (table, row["id"], seq)
        if signatures and keys is not None:
            reason = keys.check(row.get("key_id"), signature, str(row["entry_hash"]))
            if reason:
                bad(reason)
        reason = uncovered_problem(row, table)
        if reason:
            bad(reason)
        if table == "records":
            reason = _check_record(row) or _refers_back(row, status)
            if reason:
                bad(reason)
            status[row["id"]] = "draft"
            known.add(row)
        elif table == "reviews":
            reason = _replay(row, status, known)
            if reason:
                bad(reason)
        else:
            reason = _check_comment(row, status, comments)
            if reason:
                bad(reason)
            comments[row["id"]] = row["record_id"]
        hashes.add(str(row["entry_hash"]))
        prev = row["entry_hash"]
    if signatures and keys is None and first_signed is not None:
        table, rid, seq = first_signed
        problems.append(ChainProblem(
            table, rid, seq, f"{n_signed} entries are signed but no verification key is "
            "configured, so their signatures cannot be checked: set FAIRCARD_SIGNING_KEY or "
            "FAIRCARD_VERIFY_KEYS"))
    if signatures and keys is not None and first_signed is not None:
        reason = keys.check(meta.get(HEAD_KEY_ID), meta.get(HEAD_SIGNATURE),
                            head_message(_as_int(meta.get("event_count")),
                                         str(meta.get("head_hash"))))
        if reason:
            problems.append(ChainProblem(
                "meta", None, len(entries) + 1,
                f"its signature (over the newest entry and the number of entries) does not "
                f"check out ({reason}): entries may have been removed from the end "
                "of the chain. A store last written by an older faircard has no such "
                "signature yet: sign it with 'faircard upgrade' and the signing key"))
    # a status that disagrees with the events comes after the chain's own problems: when
    # an event was removed, the removal (not the status it leaves behind) is the first break
    for table, row in entries:
        if table == "records" and row["status"] != status.get(row["id"]):
            problems.append(ChainProblem(
                "records", row["id"], _as_int(row["seq"]),
                f"its status is '{row['status']}' but its reviews give "
                f"'{status.get(row['id'])}': the status was edited"))
    if meta.get("head_hash") != prev or meta.get("event_count") != str(len(entries)):
        problems.append(ChainProblem(
            "meta", None, len(entries) + 1,
            f"the store says it has {meta.get('event_count')} entries ending in "
            f"{meta.get('head_hash')}, but the chain has {len(entries)} ending in {prev}: "
            "entries were removed or added outside faircard"))
    if expect_head is not None and expect_head not in hashes:
        problems.append(ChainProblem(
            "meta", None, len(entries) + 1,
            f"the published head {expect_head} is not in the chain: entries were removed or "
            "the chain was rewritten since it was published"))
    counts = {t: len(tables.get(t, ())) for t in CHAIN_TABLES}
    return VerifyResult(ok=not problems, n_records=counts["records"],
                        n_reviews=counts["reviews"], head=prev, problems=problems,
                        n_comments=counts["comments"], n_signed=n_signed,
                        signatures_checked=keys is not None)


def record_problems(record: Mapping[str, Any], reviews: Sequence[Mapping[str, Any]],
                    keys: SignatureCheck | None = None,
                    related: Iterable[Mapping[str, Any]] = ()) -> list[str]:
    """What is wrong with one record's own entries, in words (empty when nothing is): the
    record's row (its hash, fingerprint and card) and its submissions and reviews (their
    hashes, the status flow they give and, with ``keys``, every signature), and whether the
    record's status is the one they give.

    This is the part of :func:`verify_chain` that concerns one record, cheap enough to run
    before showing or approving it: a status, a figure or a review edited in the database
    is found here. It does not walk the whole chain (entries removed from it, or a chain
    rewritten with new hashes in a store without signatures, need :func:`verify_chain`).

    ``related``: the other records an approval of this one depends on (:data:`RELATED_COLUMNS`
    of the versions it replaces, of the records of the same fingerprint and of the records
    replacing it), so that an approval of the approver's own work under another record, or
    of a version already replaced, is found too; their own entries are not checked here."""
    problems: list[str] = []
    status: dict[Any, str] = {}
    known = Known()
    rid = record["id"]
    entries = [("records", record), *(("reviews", r) for r in reviews),
               *(("related", r) for r in related if r["id"] != rid)]
    for table, row in sorted(entries, key=lambda e: _as_int(e[1]["seq"])):
        if table == "related":
            known.add(row)
            continue
        name = f"record {rid}" if table == "records" else f"review {row['id']}"
        try:
            digest: str | None = compute_hash(row, table)
        except (FaircardError, ValueError, KeyError):
            digest = None
        if digest is None or digest != row["entry_hash"]:
            problems.append(f"{name} was changed after it was written (its content does not "
                            "match its entry_hash)")
        if keys is not None:
            reason = keys.check(row.get("key_id"), row.get("signature"), str(row["entry_hash"]))
            if reason:
                problems.append(f"{name}: {reason}")
        reason = uncovered_problem(row, table)
        if reason:
            problems.append(f"{name}: {reason}")
        if table == "records":
            reason = _check_record(row)
            status[rid] = "draft"
            known.add(row)
        else:
            reason = _replay(row, status, known)
        if reason:
            problems.append(f"{name}: {reason}")
    if record["status"] != status.get(rid):
        problems.append(f"record {rid}'s status is '{record['status']}' but its reviews give "
                        f"'{status.get(rid)}': the status was edited")
    return problems


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


_IDENTITY_COLUMNS = {"records": ("author_issuer", "author_subject"),
                     "reviews": ("reviewer_issuer", "reviewer_subject"),
                     "comments": ("author_issuer", "author_subject")}


def uncovered_problem(row: Mapping[str, Any], table: str) -> str:
    """Why ``row`` holds something its hash does not cover ("" when it does not). An entry
    written before faircard stored who signed in (hash version 1) was upgraded with a typed
    name's identity and no baseline, neither covered by its hash or signature: a signed-in
    issuer and subject there (which would make a typed-name approval pass
    ``require_authenticated``, or let someone approve their own record under another identity)
    or a baseline was written afterwards."""
    try:
        covered = set(hashed_columns(row, table))
    except ValueError:
        return ""  # an unknown hash version: its hash does not match, reported as such
    issuer, subject = _IDENTITY_COLUMNS[table]
    if issuer not in covered and is_authenticated(row.get(issuer), row.get(subject)):
        return ("it names a signed-in person, which its hash does not cover (it was written "
                "before faircard stored who signed in): the identity was written afterwards")
    if table == "records" and "baseline_id" not in covered and row.get("baseline_id") is not None:
        return ("it names a baseline, which its hash does not cover (it was written before "
                "records named one): the baseline was written afterwards")
    return ""


def _check_record(row: Mapping[str, Any]) -> str:
    try:
        models = json.loads(row["models"])
        spec = json.loads(row["spec"])
        summary = json.loads(row["summary"])
        doc = json.loads(row["assessment"])
        expected = fingerprint_of(dataset_sha256=row["dataset_sha256"],
                                  model_sha256s=[m["sha256"] for m in models], spec=spec,
                                  summary=summary)
        same_summary = canonical_json(summary_of(doc)) == canonical_json(summary)
    except (TypeError, ValueError, KeyError, FaircardError):
        return "its stored JSON cannot be read"
    if expected != row["fingerprint"]:
        return "its fingerprint does not match its data, models, spec and results"
    if not same_summary:
        return "its summary does not match its full assessment"
    reason = _check_cells(row, summary, spec, doc)
    if reason:
        return reason
    if row.get("card") is not None:
        version = _as_int(row.get("hash_version", 1) or 1)
        if "card" not in HASHED_COLUMNS.get(version, {}).get("records", ()):
            return ("it has a model card, which its hash does not cover (it was written before "
                    "records kept one): the card was added afterwards")
        try:
            card = json.loads(row["card"])
        except (TypeError, ValueError):
            return "its stored model card cannot be read"
        return text_problem(card, spec)
    return ""


def _check_cells(row: Mapping[str, Any], summary: Mapping[str, Any],
                 spec: Mapping[str, Any], doc: Mapping[str, Any]) -> str:
    """Why the per-cell counts (and the counts cube) stored with a record do not belong to it
    ("" when they do or there are none): they must state the record's choices and give its
    groups' figures (:func:`faircard.governance.share.cells_problem`), and the cube must give
    the per-cell counts and the fingerprinted results."""
    from .share import cells_problem

    text = row.get("cells")
    if text is None:
        return ""
    try:
        cells = json.loads(text)
    except (TypeError, ValueError):
        return "its stored per-cell counts cannot be read"
    reason = cells_problem(cells, dict(spec), dict(doc))
    if reason or not has_cube(cells):
        return reason
    version = _as_int(row.get("hash_version", 1) or 1)
    if "cells" not in HASHED_COLUMNS.get(version, {}).get("records", ()):
        return ("it has a counts cube, which its hash does not cover (it was written before "
                "records kept one): the cube was added afterwards")
    return cube_problem(cells, summary)


def _refers_back(row: Mapping[str, Any], status: Mapping[Any, str]) -> str:
    for column, what in (("supersedes", "supersedes"), ("baseline_id", "names as its baseline")):
        other = row.get(column)
        if other is not None and other not in status:
            return f"it {what} record {other}, which does not exist before it in the chain"
    return ""


def _check_comment(row: Mapping[str, Any], status: Mapping[Any, str],
                   comments: Mapping[Any, Any]) -> str:
    rid = row["record_id"]
    if rid not in status:
        return f"it refers to record {rid}, which does not exist before it in the chain"
    reply_to = row.get("reply_to")
    if reply_to is not None and comments.get(reply_to) != rid:
        return (f"it answers comment {reply_to}, which is not an earlier comment on record "
                f"{rid}")
    return ""


RELATED_COLUMNS = ("id", "seq", "supersedes", "fingerprint", "created_by", "author_issuer",
                   "author_subject")
"""The columns of a record the approval rules read (:class:`Known`)."""


class Known:
    """What the chain says, up to an entry, about each record the approval rules read
    (:data:`RELATED_COLUMNS`): its author, the record it replaces, its fingerprint and the
    records that replaced it."""

    def __init__(self, rows: Iterable[Mapping[str, Any]] = ()) -> None:
        self.rows: dict[Any, Mapping[str, Any]] = {}
        self.replaced_by: dict[Any, list[Any]] = {}
        self.by_fingerprint: dict[str, list[Any]] = {}
        for row in rows:
            self.add(row)

    def add(self, row: Mapping[str, Any]) -> None:
        self.rows[row["id"]] = row
        self.by_fingerprint.setdefault(str(row["fingerprint"]), []).append(row["id"])
        if row.get("supersedes") is not None:
            self.replaced_by.setdefault(row["supersedes"], []).append(row["id"])

    def approval_conflict(self, rid: Any, issuer: Any, subject: Any,
                          name: str) -> tuple[str, Any] | None:
        """Why an approval of record ``rid`` by this person breaks the rules the store
        enforces when it writes one, or None: ``("author", rid)`` they recorded it;
        ``("replaced", newest)`` it was already replaced; ``("replaces", other)`` they recorded
        a version it replaces; ``("same", other)`` they recorded the same assessment (same
        fingerprint) as another record."""
        def by(other: Any) -> bool:
            row = self.rows[other]
            return same_person(issuer, subject, name, row.get("author_issuer"),
                               row.get("author_subject"), str(row["created_by"]))

        record = self.rows[rid]
        if by(rid):
            return "author", rid
        if self.replaced_by.get(rid):
            return "replaced", self.replaced_by[rid][-1]
        seen, other = {rid}, record.get("supersedes")
        while other is not None and other in self.rows and other not in seen:
            if by(other):
                return "replaces", other
            seen.add(other)
            other = self.rows[other].get("supersedes")
        for other in self.by_fingerprint.get(str(record["fingerprint"]), ()):
            if other != rid and by(other):
                return "same", other
        return None


def _approval_problem(rid: Any, row: Mapping[str, Any], known: Known) -> str:
    """:meth:`Known.approval_conflict` of the approval ``row`` (a review), in words."""
    found = known.approval_conflict(rid, row.get("reviewer_issuer"),
                                    row.get("reviewer_subject"), str(row["reviewer"]))
    if found is None:
        return ""
    kind, other = found
    if kind == "author":
        return f"it approves record {rid} by its own author"
    if kind == "replaced":
        return (f"it approves record {rid}, which record {other} had already replaced (an "
                "outdated version)")
    what = (f"record {other}, which record {rid} replaces" if kind == "replaces"
            else f"record {other}, the same assessment")
    return (f"it approves record {rid} by the author of {what}: their own work under another "
            "record")


def _replay(row: Mapping[str, Any], status: dict[Any, str], known: Known) -> str:
    rid = row["record_id"]
    current = status.get(rid)
    decision = row["decision"]
    if current is None:
        return f"it refers to record {rid}, which does not exist before it in the chain"
    if decision == SUBMIT:
        if current != "draft":
            return f"it submits record {rid}, which was {current}, not a draft"
        status[rid] = "in_review"
    elif decision in DECISION_STATUS:
        if current != "in_review":
            return f"it decides on record {rid}, which was {current}, not in review"
        if decision == "approve":
            reason = _approval_problem(rid, row, known)
            if reason:
                return reason
        status[rid] = DECISION_STATUS[decision]
    elif decision != "comment":
        return f"its decision {decision!r} is not a known decision"
    return ""
