"""The hash chain of the audit store, checked without a database.

Every record and every event (submission or review) is one entry of a single chain: its
``entry_hash`` is the sha256 of the canonical JSON of its content (which includes the previous
entry's hash, ``prev_hash``). :func:`verify_chain` walks the entries in order and reports what
does not add up: a changed row, a removed or inserted entry, a fingerprint that does not match
its inputs, an event that breaks the status flow, a status column edited by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import FaircardError
from .identity import same_name
from .records import canonical_json, fingerprint_of, sha256_text, summary_of

GENESIS_HASH = "0" * 64

DECISIONS = ("approve", "request_changes", "reject", "comment")
SUBMIT = "submit"
STATUSES = ("draft", "in_review", "approved", "changes_requested", "rejected")
DECISION_STATUS = {"approve": "approved", "request_changes": "changes_requested",
                   "reject": "rejected"}
"""The status a decision moves a record in review to ("comment" does not move it)."""


@dataclass(frozen=True)
class ChainProblem:
    """Something :meth:`AuditStore.verify` found wrong with one entry (``table`` is "records",
    "reviews" or "meta"; ``seq`` the entry's position in the chain, 0 when unknown)."""

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

    @property
    def first_broken(self) -> ChainProblem | None:
        return self.problems[0] if self.problems else None

    @property
    def message(self) -> str:
        if self.ok:
            return (f"The audit store is intact: {self.n_records} record(s), "
                    f"{self.n_reviews} review event(s), head {self.head}.")
        return (f"The audit store is broken: {len(self.problems)} problem(s), the first at "
                f"{self.problems[0].entry}.")

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "n_records": self.n_records, "n_reviews": self.n_reviews,
                "head": self.head, "message": self.message,
                "problems": [{"table": p.table, "id": p.id, "seq": p.seq, "entry": p.entry,
                              "reason": p.reason} for p in self.problems]}


def same_person(a: str, b: str) -> bool:
    """Whether two typed names are the same person's: NFKC, invisible characters removed,
    compared by confusable skeleton, "Surname, Given name" as "Given name Surname"
    (:func:`faircard.governance.identity.same_name`)."""
    return same_name(a, b)


def entry_hash(row: Mapping[str, Any], columns: Iterable[str], table: str) -> str:
    """sha256 of the canonical JSON of ``row``'s ``columns`` (with ``prev_hash``) and its table."""
    return sha256_text(canonical_json({"table": table, **{c: row[c] for c in columns}}))


def verify_chain(records: Sequence[Mapping[str, Any]], reviews: Sequence[Mapping[str, Any]],
                 meta: Mapping[str, str], record_columns: Iterable[str],
                 review_columns: Iterable[str]) -> VerifyResult:
    """Check rows of the ``records`` and ``reviews`` tables and the store's ``meta`` entries
    (``head_hash``, ``event_count``). ``*_columns`` are the columns each entry hash covers."""
    record_columns, review_columns = tuple(record_columns), tuple(review_columns)
    entries = sorted([("records", r) for r in records] + [("reviews", r) for r in reviews],
                     key=lambda e: (_as_int(e[1]["seq"]), e[0], _as_int(e[1]["id"])))
    problems: list[ChainProblem] = []
    status: dict[Any, str] = {}
    authors: dict[Any, str] = {}
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
        columns = record_columns if table == "records" else review_columns
        try:
            digest = entry_hash(row, columns, table)
        except (FaircardError, ValueError):
            digest = ""
        if digest != row["entry_hash"]:
            bad("its content does not match its entry_hash: it was changed after it was "
                "written")
        if table == "records":
            reason = _check_record(row)
            if reason:
                bad(reason)
            status[row["id"]] = "draft"
            authors[row["id"]] = str(row["created_by"])
        else:
            reason = _replay(row, status, authors)
            if reason:
                bad(reason)
        prev = row["entry_hash"]
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
    return VerifyResult(ok=not problems, n_records=len(records), n_reviews=len(reviews),
                        head=prev, problems=problems)


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


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
    return ""


def _replay(row: Mapping[str, Any], status: dict[Any, str], authors: dict[Any, str]) -> str:
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
        if decision == "approve" and same_person(str(row["reviewer"]), authors[rid]):
            return f"it approves record {rid} by its own author"
        status[rid] = DECISION_STATUS[decision]
    elif decision != "comment":
        return f"its decision {decision!r} is not a known decision"
    return ""
