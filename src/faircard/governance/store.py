"""``faircard.governance.store``: an append-only audit store of assessments, reviews and sign-off.

Each recorded assessment keeps its fingerprint (:mod:`faircard.governance.records`), the choices, a summary
and the full assessment document; it never changes after it is written (a new assessment is a
new record, which may *supersede* an older one). Submissions and reviews are events on a record
and move its status::

    draft --submit--> in_review --approve--> approved
                                --request_changes--> changes_requested
                                --reject--> rejected

Every record and every event is one entry of a hash chain: its ``entry_hash`` is the sha256 of
its content together with the previous entry's hash (``prev_hash``). :meth:`AuditStore.verify`
recomputes every fingerprint and the chain, so a row edited after it was written is found.
(Someone who rewrites the whole chain is found only by comparing :meth:`AuditStore.head` with a
copy kept elsewhere, for example in CI logs.)

SQLAlchemy Core with SQLite by default; text from users is bound as parameters, never
formatted into SQL. Raises :class:`~faircard.errors.FaircardError` for anything a user can fix.
"""

from __future__ import annotations

import contextlib
import json
import numbers
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from ..errors import FaircardError
from .chain import (
    DECISION_STATUS,
    DECISIONS,
    GENESIS_HASH,
    HASH_VERSION,
    HASHED_COLUMNS,
    HEAD_KEY_ID,
    HEAD_SIGNATURE,
    RELATED_COLUMNS,
    STATUSES,
    SUBMIT,
    UNAUTHENTICATED,
    ChainProblem,
    Known,
    VerifyResult,
    entry_hash,
    head_message,
    is_authenticated,
    record_problems,
    verify_chain,
)
from .identity import name_key, same_person
from .recorded_card import card_json, text_problem
from .records import (
    as_document,
    bounded_json,
    canonical_json,
    canonical_value,
    check_sha256,
    fingerprint_of,
    normalize_models,
    spec_of,
    summary_of,
)
from .schema import (
    ALEMBIC_HEAD,
    CHAIN,
    SCHEMA_VERSION,
    Comment,
    Record,
    Review,
    alembic_version_table,
    comments_table,
    meta_table,
    metadata,
    records_table,
    reviews_table,
)
from .signing import KeyRing, Keys

__all__ = [
    "DECISIONS", "GENESIS_HASH", "SCHEMA_VERSION", "STATUSES", "UNAUTHENTICATED", "AuditStore",
    "ChainProblem", "Comment", "Record", "Review", "VerifyResult", "default_location", "exists",
]

PENDING = ("draft", "in_review")
"""The statuses of a record awaiting a decision: only its author may mark it as replaced."""
REPLACE_RULE = ("A record still awaiting a decision (a draft or in review) can be replaced "
                "only by the person who recorded it; once it is decided, anyone who records "
                "assessments can record a version replacing it.")
"""The replacement rule in one sentence, for the app and the command line."""
STORE_ENV = "FAIRCARD_STORE"
DEFAULT_STORE = "faircard-audit.db"
APP_ID = "faircard-audit"

MAX_NAME = 200
MAX_ROLE = 200
MAX_TITLE = 500
MAX_DATASET_NAME = 500
MAX_COMMENT = 10_000
MAX_SECTION = 500
MAX_CELLS = 20_000_000
"""Characters of a record's ``cells`` JSON (per-cell counts and histograms)."""

_SQLITE_MAGIC = b"SQLite format 3\x00"

_RECORD_LIST_COLS = [c for c in records_table.columns
                     if c.name not in ("assessment", "cells", "card")]


def default_location() -> str:
    """The store used when none is given: ``$FAIRCARD_STORE`` or ``faircard-audit.db``."""
    return os.environ.get(STORE_ENV) or DEFAULT_STORE


def exists(location: str | os.PathLike[str] | None = None) -> bool:
    """Whether there is a store to open at ``location`` (default :func:`default_location`):
    any database URL, or a file path that exists. Opening it may still fail."""
    loc = os.fspath(location) if location is not None else default_location()
    return "://" in loc or Path(loc).expanduser().exists()


def resolve_location(location: str | os.PathLike[str] | None, *,
                     create: bool) -> tuple[sa.engine.URL, str]:
    """The SQLAlchemy URL of a store location (a URL or a SQLite file path) and its name to
    show (password hidden). A SQLite file is checked without being touched."""
    loc = os.fspath(location) if location is not None else default_location()
    if not loc:
        raise FaircardError("Give the audit store as a file path or a database URL.")
    if "://" in loc:
        url = _parse_url(loc)
        path = Path(url.database) if url.get_backend_name() == "sqlite" and url.database \
            and url.database != ":memory:" else None
        shown = url.render_as_string(hide_password=True)
    else:
        path = Path(loc).expanduser()
        url = sa.engine.URL.create("sqlite", database=str(path))
        shown = str(path)
    if path is not None:
        _check_sqlite_file(path, create)
    return url, shown


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _text(value: Any, what: str, limit: int, *, required: bool = True) -> str:
    """Untrusted text: kept exactly as given, but it must be text and not too long."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise FaircardError(f"The {what} must be text; got {type(value).__name__}.")
    if required and not value.strip():
        raise FaircardError(f"The {what} is empty; give one.")
    if len(value) > limit:
        raise FaircardError(
            f"The {what} is {len(value):,} characters long; the limit is {limit:,}. Shorten it."
        )
    return value


_MOVES_TEXT = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068"
                       "\u2069\u2028\u2029")
"""Bidirectional controls and line or paragraph separators: around a name shown inside a
sentence they reorder or break the words next to it."""


def _one_line(text: str, what: str) -> str:
    """A typed name or role, shown inside a sentence (on the card: "reviewer NAME (ROLE; name
    typed, not signed in)"): on one line, without control characters, so that it cannot start
    a sentence of its own, such as another reviewer's approval."""
    bad = next((ch for ch in text if ch in _MOVES_TEXT or unicodedata.category(ch) == "Cc"),
               None)
    if bad is not None:
        raise FaircardError(
            f"The {what} contains a line break or a control character (U+{ord(bad):04X}). It "
            "is shown inside a sentence, so type it on one line without control characters."
        )
    return text


def _actor(who: Any, what: str) -> tuple[str, str, str]:
    """``(issuer, subject, display name)`` of ``who``: an identity (anything with ``issuer``,
    ``subject`` and ``display_name``, such as :class:`faircard.governance.identity.Identity`)
    or a typed name (local mode: issuer ``"unauthenticated"``, subject the name's key)."""
    if isinstance(who, str):
        name = _one_line(_text(who, what, MAX_NAME), what)
        return UNAUTHENTICATED, name_key(name), name
    try:
        issuer, subject, name = who.issuer, who.subject, who.display_name
    except AttributeError:
        raise FaircardError(
            f"The {what} must be text (a name) or a signed-in identity; got {type(who).__name__}."
        ) from None
    return (_text(issuer, f"{what} (issuer)", MAX_NAME), _text(subject, f"{what} (subject)",
            MAX_NAME), _text(name, what, MAX_NAME))


MAX_ID = 2**63 - 1
"""The largest id a database integer column holds (SQLite and PostgreSQL ``bigint``)."""


_ID_TEXT = re.compile(r"\s*#?\s*([0-9]+)\s*", re.ASCII)
"""A record id as people type it: ASCII digits, optionally after '#'. Not '1_0' (Python reads
10), not other scripts' digits ('٣' is 3 to Python), so one record has one share link."""


def _record_id(value: Any) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        number = int(value)
    else:
        found = _ID_TEXT.fullmatch(value) if isinstance(value, str) else None
        if found is None:
            raise FaircardError(f"A record id is a whole number such as 3; got {value!r}.")
        digits = found.group(1).lstrip("0") or "0"
        number = int(digits) if len(digits) <= 19 else MAX_ID + 1
    if not -MAX_ID <= number <= MAX_ID:
        # the database cannot even look such a number up (SQLite raises OverflowError)
        shown = value.strip()[:40] if isinstance(value, str) else number
        raise FaircardError(f"There is no record {shown}: record ids are whole numbers from 1 "
                            f"to {MAX_ID:,}.")
    return number


class AuditStore:
    """An audit store at a SQLAlchemy URL or a SQLite file path.

    ``location``: a URL (``sqlite:///audit.db``, ``postgresql://...``) or a file path; default
    :func:`default_location`. With ``create=False`` a missing file is an error instead of a new
    store. Use as a context manager or call :meth:`close`.

    ``keys``: the signing key and the keys that verify (:class:`~faircard.governance.signing.Keys`);
    default: as configured in the environment (``FAIRCARD_SIGNING_KEY`` ...). With a signing
    key every new entry is signed; a store whose entries are signed refuses unsigned writes.
    """

    def __init__(self, location: str | os.PathLike[str] | None = None, *, create: bool = True,
                 keys: Keys | None = None):
        self.keys = Keys.from_environment() if keys is None else keys
        url, self.location = resolve_location(location, create=create)
        self._engine = engine_for(url, self.location)
        if self._engine.dialect.name == "sqlite":
            sa.event.listen(self._engine, "connect", _sqlite_pragmas)
        try:
            self._open(create)
        except BaseException:
            self._engine.dispose()
            raise

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AuditStore({self.location!r})"

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sa_exc.DBAPIError as exc:
            detail = str(getattr(exc, "orig", exc)).splitlines()[0] if str(exc) else "unknown"
            raise FaircardError(
                f"The audit store '{self.location}' cannot be read or written ({detail}). "
                "It may be damaged or in use; restore it from a backup or give another store."
            ) from None

    def _open(self, create: bool) -> None:
        with self._errors():
            names = set(sa.inspect(self._engine).get_table_names())
            if not names:
                if not create:
                    raise FaircardError(
                        f"The audit store '{self.location}' is empty. Record an assessment "
                        "first with 'faircard record'."
                    )
                with self._engine.begin() as conn:
                    metadata.create_all(conn)
                    conn.execute(sa.insert(alembic_version_table).values(
                        version_num=ALEMBIC_HEAD))
                    conn.execute(sa.insert(meta_table), [
                        {"key": "app", "value": APP_ID},
                        {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                        {"key": "created_at", "value": _now()},
                        {"key": "head_hash", "value": GENESIS_HASH},
                        {"key": "event_count", "value": "0"},
                    ])
                return
            with self._engine.connect() as conn:
                meta = self._meta(conn) if "meta" in names else {}
        if meta.get("app") != APP_ID or not {"records", "reviews"} <= names:
            shown = ", ".join(sorted(names)[:10])
            raise FaircardError(
                f"'{self.location}' is a database but not a faircard audit store (it has the "
                f"tables {shown}). Give another store path; the file was left unchanged."
            )
        version = meta.get("schema_version", "")
        if not version.isdigit():
            raise FaircardError(
                f"The audit store '{self.location}' has no valid schema version; it may be "
                "damaged. Restore it from a backup."
            )
        if int(version) > SCHEMA_VERSION:
            raise FaircardError(
                f"The audit store '{self.location}' was written by a newer faircard (schema "
                f"version {version}; this faircard reads version {SCHEMA_VERSION}). Upgrade "
                "faircard to use it."
            )
        if int(version) < SCHEMA_VERSION:
            raise FaircardError(
                f"The audit store '{self.location}' uses schema version {version}; this "
                f"faircard uses version {SCHEMA_VERSION}. Back it up, then upgrade it with "
                f"'faircard upgrade --store {self.location}' (its entries keep verifying)."
            )

    @staticmethod
    def _meta(conn: sa.Connection) -> dict[str, str]:
        return {k: v for k, v in conn.execute(sa.select(meta_table.c.key, meta_table.c.value))}

    @contextlib.contextmanager
    def _append(self, check_head: bool = True) -> Iterator[tuple[sa.Connection, str, int]]:
        """A write transaction holding the store's write lock; yields (conn, head, last seq).

        The first statement writes the head row, which takes the database's write lock before
        anything is read, so two writers cannot fork the chain. In a signed store the head
        must check out first (``check_head``): signing a new entry after a cut end would
        vouch for the cut.
        """
        with self._errors(), self._engine.begin() as conn:
            conn.execute(sa.update(meta_table).where(meta_table.c.key == "head_hash")
                         .values(value=meta_table.c.value))
            meta = self._meta(conn)
            if meta.get("signed") and self.keys.signer is None:
                raise FaircardError(
                    f"The entries of the audit store '{self.location}' are signed, and no "
                    "signing key is configured here. Set FAIRCARD_SIGNING_KEY or "
                    "FAIRCARD_SIGNING_KEY_FILE (in the app also signing_key under [faircard] "
                    "in Streamlit's secrets) to the store's key to add to it."
                )
            if check_head and meta.get("signed"):
                signer = self.keys.signer
                ring = self.keys.ring or KeyRing([signer.verify_key()])
                for problem in self._head_problems(conn, ring):
                    raise FaircardError(
                        f"Nothing was added to the audit store '{self.location}': {problem}. "
                        "Run 'faircard verify' and restore the store from a backup; a store "
                        "last written by an older faircard gets its head signed by 'faircard "
                        "upgrade' with the signing key."
                    )
            yield conn, meta["head_hash"], int(meta["event_count"])

    @staticmethod
    def _advance(conn: sa.Connection, entry_hash: str, seq: int) -> None:
        for key, value in (("head_hash", entry_hash), ("event_count", str(seq))):
            conn.execute(sa.update(meta_table).where(meta_table.c.key == key)
                         .values(value=value))

    # -- writing ---------------------------------------------------------------------------

    def add(self, assessment: Any, *, title: str, created_by: Any, dataset_name: str,
            dataset_sha256: str, models: Iterable[Any] | None = None,
            spec: Mapping[str, Any] | None = None, supersedes: int | None = None,
            baseline: int | None = None, cells: Mapping[str, Any] | None = None,
            card: Mapping[str, Any] | None = None) -> Record:
        """Record ``assessment`` (an :class:`~faircard.assess.Assessment` or its ``to_dict()``)
        as a new draft and return it.

        ``created_by``: the author, a typed name or a signed-in identity (see :func:`_actor`);
        ``dataset_sha256``: sha256 of the dataset file's bytes (:func:`faircard.io.fingerprint`);
        ``models``: ``[{"name", "sha256"}]`` or loaded models; ``spec`` defaults to
        :func:`faircard.governance.records.spec_of` (keep the default so that the gate finds
        the record); ``supersedes``: id of an older record this one replaces (while that one
        is a draft or in review, only by its author: see :meth:`_check_replacement`);
        ``baseline``: id of an earlier record to compare this one with (``faircard diff``);
        ``cells``: the assessment's per-cell counts and per-cell score histograms as a JSON object (group
        aggregates only, never rows or personal data), so that a read-only view can draw the
        tables and charts without the dataset; ``card``: the model card's authors' text and how
        the card was shown (:func:`faircard.governance.recorded_card.card_document`), whose
        text must be the one ``spec`` fingerprints, so that a share link shows the author's card.
        """
        doc = as_document(assessment)
        title = _text(title, "title", MAX_TITLE)
        issuer, subject, created_by = _actor(created_by, "author's name")
        dataset_name = _text(dataset_name, "dataset name", MAX_DATASET_NAME)
        dataset_sha256 = check_sha256(dataset_sha256, "dataset")
        model_list = normalize_models(models)
        spec_doc = canonical_value(dict(spec)) if spec is not None else spec_of(doc)
        summary = summary_of(doc)
        fingerprint = fingerprint_of(dataset_sha256=dataset_sha256,
                                     model_sha256s=[m["sha256"] for m in model_list],
                                     spec=spec_doc, summary=summary)
        row: dict[str, Any] = {
            "created_at": _now(),
            "created_by": created_by,
            "author_issuer": issuer,
            "author_subject": subject,
            "title": title,
            "dataset_name": dataset_name,
            "dataset_sha256": dataset_sha256,
            "n_rows": int(doc["n_rows"]),
            "models": canonical_json(model_list),
            "spec": canonical_json(spec_doc),
            "summary": canonical_json(summary),
            "assessment": json.dumps(canonical_value(doc, None), ensure_ascii=False,
                                     allow_nan=False),
            "fingerprint": fingerprint,
            "supersedes": None if supersedes is None else _record_id(supersedes),
            "baseline_id": None if baseline is None else _record_id(baseline),
            "cells": None if cells is None else _cells_json(cells),
            "card": None if card is None else _card_json(card, spec_doc),
            "status": "draft",
        }
        with self._append() as (conn, head, seq):
            for other in (row["supersedes"], row["baseline_id"]):
                if other is not None:
                    self._row(conn, other)  # must exist
            if row["supersedes"] is not None:
                self._check_replacement(conn, row["supersedes"], (issuer, subject, created_by))
            row["id"] = self._next_id(conn, "records")
            self._chain(conn, "records", row, head, seq)
        return self.get(row["id"])

    def _check_replacement(self, conn: sa.Connection, old: int,
                           actor: tuple[str, str, str]) -> None:
        """Refuse to mark record ``old`` as replaced by someone else while it awaits a decision
        (a draft or in review): a replaced record can no longer be approved, so anyone who may
        record could otherwise stop any pending approval. Once it is decided (approved, sent
        back or rejected) anyone who may record can record the version replacing it."""
        rec = self._row(conn, old)
        if is_authenticated(rec["author_issuer"], rec["author_subject"]):
            # a permission, not a refusal: a typed name is not the signed-in author
            theirs = (actor[0], actor[1]) == (rec["author_issuer"], rec["author_subject"])
        else:
            theirs = same_person(*actor, rec["author_issuer"], rec["author_subject"],
                                 rec["created_by"])
        if rec["status"] in PENDING and not theirs:
            status = rec["status"].replace("_", " ")
            raise FaircardError(
                f"Record {old} is {status} and was recorded by {rec['created_by']}; only they "
                "can mark it as replaced until a reviewer decides on it, because a replaced "
                f"record can no longer be approved. Record this assessment without replacing "
                f"record {old} (name it as the baseline to compare with), or ask for a "
                f"decision on record {old} first."
            )

    def submit(self, record_id: int | str, by: Any) -> Record:
        """Send a draft for review (``draft`` -> ``in_review``); ``by`` is who submits it (a
        name or an identity)."""
        actor = _actor(by, "submitter's name")
        rid = _record_id(record_id)
        with self._append() as (conn, head, seq):
            rec = self._row(conn, rid)
            if rec["status"] != "draft":
                raise FaircardError(
                    f"Record {rid} is {rec['status']}; only a draft can be submitted. Its "
                    "content cannot change: record the new assessment (superseding this one) "
                    "and submit that."
                )
            self._add_event(conn, head, seq, rid, SUBMIT, actor, None, "")
            self._set_status(conn, rid, "in_review")
        return self.get(rid)

    def review(self, record_id: int | str, reviewer: Any, decision: str, comment: str = "",
               role: str | None = None) -> Record:
        """Add a review to a record and return the record with its new status.

        ``reviewer``: a name or an identity. ``decision``: "approve", "request_changes",
        "reject" (the record must be in review) or "comment" (any time). A comment is required
        except for an approval. The record's author cannot approve it: signed-in people are
        compared by issuer and subject, typed names by name.
        """
        if decision not in DECISIONS:
            raise FaircardError(
                f"Unknown review decision {decision!r}; choose one of: {', '.join(DECISIONS)}."
            )
        actor = _actor(reviewer, "reviewer's name")
        role = _one_line(_text(role, "reviewer's role", MAX_ROLE, required=False),
                         "reviewer's role") or None
        if decision != "approve" and (not isinstance(comment, str) or not comment.strip()):
            raise FaircardError("A comment needs some text; give one." if decision == "comment"
                                else f"A '{decision}' review needs a comment saying why; "
                                "give one.")
        comment = _text(comment, "comment", MAX_COMMENT, required=False)
        rid = _record_id(record_id)
        with self._append() as (conn, head, seq):
            rec = self._row(conn, rid)
            if decision != "comment":
                if rec["status"] != "in_review":
                    hint = " Submit it first." if rec["status"] == "draft" else ""
                    raise FaircardError(
                        f"Record {rid} is {rec['status']}; only a record in review can be "
                        f"approved, sent back or rejected.{hint}"
                    )
                if decision == "approve":
                    self._check_approval(conn, rid, rec, actor)
                problems = self._problems(conn, rid) if decision == "approve" else []
                if problems:
                    raise FaircardError(
                        f"Record {rid} cannot be approved: {problems[0]}. An approval must "
                        "cover what was recorded; run 'faircard verify' to see every problem "
                        "of the store."
                    )
            self._add_event(conn, head, seq, rid, decision, actor, role, comment)
            if decision in DECISION_STATUS:
                self._set_status(conn, rid, DECISION_STATUS[decision])
        return self.get(rid)

    def comment(self, record_id: int | str, author: Any, body: str, *, section: str = "",
                reply_to: int | str | None = None, role: str | None = None) -> Comment:
        """Comment on a record (any status), or answer the comment ``reply_to``, and return the
        comment. ``section`` names what it is about (e.g. ``"finding:2"``); ``author`` is a
        name or an identity. Comments do not change a record's status."""
        issuer, subject, name = _actor(author, "commenter's name")
        body = _text(body, "comment", MAX_COMMENT)
        section = _text(section, "section", MAX_SECTION, required=False)
        role = _one_line(_text(role, "commenter's role", MAX_ROLE, required=False),
                         "commenter's role") or None
        rid = _record_id(record_id)
        answered = None if reply_to is None else _record_id(reply_to)
        row: dict[str, Any] = {"record_id": rid, "section": section, "body": body,
                               "reply_to": answered, "author": name, "author_issuer": issuer,
                               "author_subject": subject, "role": role, "at": _now()}
        with self._append() as (conn, head, seq):
            self._row(conn, rid)
            if answered is not None:
                on = conn.execute(sa.select(comments_table.c.record_id)
                                  .where(comments_table.c.id == answered)).scalar()
                if on != rid:
                    raise FaircardError(
                        f"There is no comment {answered} on record {rid} to answer."
                    )
            row["id"] = self._next_id(conn, "comments")
            self._chain(conn, "comments", row, head, seq)
        return self._comment(row)

    def _add_event(self, conn: sa.Connection, head: str, seq: int, rid: int, decision: str,
                   actor: tuple[str, str, str], role: str | None, comment: str) -> None:
        issuer, subject, name = actor
        row: dict[str, Any] = {"id": self._next_id(conn, "reviews"), "record_id": rid,
                               "reviewer": name, "reviewer_issuer": issuer,
                               "reviewer_subject": subject, "role": role,
                               "decision": decision, "comment": comment, "at": _now()}
        self._chain(conn, "reviews", row, head, seq)

    def _check_approval(self, conn: sa.Connection, rid: int, rec: Mapping[str, Any],
                        actor: tuple[str, str, str]) -> None:
        """Refuse an approval that would sign off the approver's own work under another
        record: a version this record replaces (directly or further back) or the same
        assessment (same fingerprint) recorded by the approver; and refuse approving a record
        that a newer version already replaced. (:meth:`verify` checks the same rules.)"""
        found = Known([rec, *self._related(conn, rec)]).approval_conflict(rid, *actor)
        if found is None:
            return
        kind, other = found
        if kind == "author":
            raise FaircardError(f"{actor[2]} created record {rid} and cannot approve it; "
                                "another person must approve it.")
        if kind == "replaced":
            raise FaircardError(
                f"Record {rid} was replaced by record {other}, so approving it would sign "
                f"off an outdated version; review record {other} instead."
            )
        what = (f"record {other}, which record {rid} replaces" if kind == "replaces"
                else f"record {other}, the same assessment as record {rid}")
        raise FaircardError(
            f"{actor[2]} created {what}, and cannot approve their own work under "
            "another record; another person must approve it."
        )

    @staticmethod
    def _next_id(conn: sa.Connection, table: str) -> int:
        last = conn.execute(sa.select(sa.func.max(CHAIN[table].c.id))).scalar()
        return (last or 0) + 1

    def _chain(self, conn: sa.Connection, table: str, row: dict[str, Any], head: str,
               seq: int) -> None:
        """Append ``row`` to ``table`` as the chain's next entry: seq, prev_hash, hash version,
        entry hash and (with a signing key) signature; then move the head."""
        row.update(seq=seq + 1, prev_hash=head, hash_version=HASH_VERSION)
        row["entry_hash"] = entry_hash(row, HASHED_COLUMNS[HASH_VERSION][table], table)
        signer = self.keys.signer
        row["key_id"] = signer.key_id if signer else None
        row["signature"] = signer.sign(row["entry_hash"]) if signer else None
        conn.execute(sa.insert(CHAIN[table]).values(**row))
        self._advance(conn, row["entry_hash"], row["seq"])
        if signer is not None:
            self._set_meta(conn, "signed", "1")
            self._sign_head(conn, row["entry_hash"], row["seq"])

    def _sign_head(self, conn: sa.Connection, head: str, seq: int) -> None:
        """Sign the chain's head (its newest entry and number of entries), so that entries
        removed from the end of a signed chain are found without a published head."""
        signer = self.keys.signer
        assert signer is not None
        self._set_meta(conn, HEAD_KEY_ID, signer.key_id)
        self._set_meta(conn, HEAD_SIGNATURE, signer.sign(head_message(seq, head)))

    @staticmethod
    def _set_meta(conn: sa.Connection, key: str, value: str) -> None:
        done = conn.execute(sa.update(meta_table).where(meta_table.c.key == key)
                            .values(value=value)).rowcount
        if not done:
            conn.execute(sa.insert(meta_table).values(key=key, value=value))

    @staticmethod
    def _set_status(conn: sa.Connection, rid: int, status: str) -> None:
        conn.execute(sa.update(records_table).where(records_table.c.id == rid)
                     .values(status=status))

    # -- reading ---------------------------------------------------------------------------

    def _row(self, conn: sa.Connection, rid: int) -> Mapping[str, Any]:
        row = conn.execute(sa.select(*_RECORD_LIST_COLS).where(records_table.c.id == rid)) \
            .mappings().first()
        if row is None:
            raise FaircardError(
                f"There is no record {rid} in the audit store '{self.location}'. List the "
                "records with 'faircard records'."
            )
        return row

    def _records(self, where: list[Any], limit: int | None = None) -> list[Record]:
        with self._errors(), self._engine.connect() as conn:
            query = sa.select(*_RECORD_LIST_COLS,
                              records_table.c.cells.is_not(None).label("has_cells"),
                              records_table.c.card.is_not(None).label("has_card")
                              ).where(*where).order_by(records_table.c.id)
            if limit is not None:
                query = query.limit(limit)
            rows = conn.execute(query).mappings().all()
            pairs = conn.execute(sa.select(records_table.c.supersedes, records_table.c.id)
                                 .where(records_table.c.supersedes.is_not(None))).all()
        newer: dict[int, list[int]] = {}
        for old, new in pairs:
            newer.setdefault(old, []).append(new)
        return [self._to_record(r, tuple(sorted(newer.get(r["id"], ())))) for r in rows]

    def _to_record(self, r: Mapping[str, Any], superseded_by: tuple[int, ...]) -> Record:
        try:
            models, spec, summary = (json.loads(r[k]) for k in ("models", "spec", "summary"))
        except (TypeError, ValueError):
            raise FaircardError(
                f"Record {r['id']} in '{self.location}' is damaged (its stored JSON cannot be "
                "read). Run 'faircard verify'."
            ) from None
        return Record(id=r["id"], title=r["title"], created_at=r["created_at"],
                      created_by=r["created_by"], dataset_name=r["dataset_name"],
                      dataset_sha256=r["dataset_sha256"], n_rows=r["n_rows"], models=models,
                      spec=spec, summary=summary, fingerprint=r["fingerprint"],
                      status=r["status"], supersedes=r["supersedes"],
                      superseded_by=superseded_by, entry_hash=r["entry_hash"],
                      author_issuer=r["author_issuer"], author_subject=r["author_subject"],
                      baseline=r["baseline_id"], has_cells=bool(r["has_cells"]),
                      has_card=bool(r["has_card"]), key_id=r["key_id"])

    def get(self, record_id: int | str) -> Record:
        """The record with this id (a :class:`FaircardError` names an unknown id)."""
        rid = _record_id(record_id)
        found = self._records([records_table.c.id == rid])
        if not found:
            with self._errors(), self._engine.connect() as conn:
                self._row(conn, rid)  # raises the unknown-id error
        return found[0]

    def list(self, *, status: str | None = None, created_by: str | None = None,
             limit: int | None = None) -> list[Record]:
        """Records in id order, optionally only those with ``status`` or by ``created_by``."""
        where = []
        if status is not None:
            if status not in STATUSES:
                raise FaircardError(
                    f"Unknown status {status!r}; choose one of: {', '.join(STATUSES)}."
                )
            where.append(records_table.c.status == status)
        if created_by is not None:
            where.append(records_table.c.created_by == created_by)
        return self._records(where, limit)

    def find_by_fingerprint(self, fingerprint: str, *, status: str | None = None) -> list[Record]:
        """Records whose fingerprint is ``fingerprint`` (optionally with ``status``)."""
        fp = check_sha256(fingerprint, "fingerprint")
        where = [records_table.c.fingerprint == fp]
        if status is not None:
            where.append(records_table.c.status == status)
        return self._records(where)

    def assessment(self, record_id: int | str) -> dict[str, Any]:
        """The full assessment document stored with a record (as ``Assessment.to_dict()``)."""
        rid = _record_id(record_id)
        with self._errors(), self._engine.connect() as conn:
            self._row(conn, rid)
            text = conn.execute(sa.select(records_table.c.assessment)
                                .where(records_table.c.id == rid)).scalar_one()
        try:
            return json.loads(text)
        except (TypeError, ValueError):
            raise FaircardError(f"Record {rid}'s assessment is damaged; run 'faircard verify'.") \
                from None

    def history(self, record_id: int | str) -> list[Review]:
        """Submissions and reviews of a record, oldest first."""
        rid = _record_id(record_id)
        with self._errors(), self._engine.connect() as conn:
            self._row(conn, rid)
            rows = conn.execute(sa.select(reviews_table).where(reviews_table.c.record_id == rid)
                                .order_by(reviews_table.c.seq)).mappings().all()
        return [Review(id=r["id"], record_id=r["record_id"], decision=r["decision"],
                       reviewer=r["reviewer"], role=r["role"], comment=r["comment"], at=r["at"],
                       entry_hash=r["entry_hash"], reviewer_issuer=r["reviewer_issuer"],
                       reviewer_subject=r["reviewer_subject"], key_id=r["key_id"])
                for r in rows]

    def comments(self, record_id: int | str) -> list[Comment]:
        """Comments on a record and their answers, oldest first."""
        rid = _record_id(record_id)
        with self._errors(), self._engine.connect() as conn:
            self._row(conn, rid)
            rows = conn.execute(sa.select(comments_table)
                                .where(comments_table.c.record_id == rid)
                                .order_by(comments_table.c.seq)).mappings().all()
        return [self._comment(r) for r in rows]

    @staticmethod
    def _comment(r: Mapping[str, Any]) -> Comment:
        return Comment(id=r["id"], record_id=r["record_id"], section=r["section"],
                       body=r["body"], reply_to=r["reply_to"], author=r["author"],
                       author_issuer=r["author_issuer"], author_subject=r["author_subject"],
                       role=r["role"], at=r["at"], entry_hash=r["entry_hash"],
                       key_id=r["key_id"])

    def cells(self, record_id: int | str) -> dict[str, Any] | None:
        """The per-cell counts and histograms stored with a record (as given to :meth:`add`),
        or None when the record has none."""
        return self._json_column(record_id, records_table.c.cells, "per-cell counts")

    def card(self, record_id: int | str) -> dict[str, Any] | None:
        """The model card's authors' text and how the card was shown, as stored with a record
        (see :meth:`add`), or None when the record has none (recorded before schema 3, or
        without a card)."""
        return self._json_column(record_id, records_table.c.card, "model card")

    def _json_column(self, record_id: int | str, column: sa.Column,
                     what: str) -> dict[str, Any] | None:
        rid = _record_id(record_id)
        with self._errors(), self._engine.connect() as conn:
            self._row(conn, rid)
            text = conn.execute(sa.select(column).where(records_table.c.id == rid)).scalar_one()
        if text is None:
            return None
        try:
            return json.loads(text)
        except (TypeError, ValueError):
            raise FaircardError(f"Record {rid}'s {what} is damaged; run 'faircard verify'.") \
                from None

    def problems(self, record_id: int | str) -> list[str]:
        """What is wrong with one record's own entries, in words; empty when its row, its
        reviews, their signatures (with verification keys) and its status check out (see
        :func:`faircard.governance.chain.record_problems`). Run before trusting a record's
        status or figures without verifying the whole store."""
        rid = _record_id(record_id)
        with self._errors(), self._engine.connect() as conn:
            self._row(conn, rid)
            return self._problems(conn, rid)

    def _problems(self, conn: sa.Connection, rid: int) -> list[str]:
        row = conn.execute(sa.select(records_table).where(records_table.c.id == rid)) \
            .mappings().one()
        reviews = conn.execute(sa.select(reviews_table).where(reviews_table.c.record_id == rid)) \
            .mappings().all()
        related = self._related(conn, row) if any(r["decision"] == "approve"
                                                  for r in reviews) else []
        return record_problems(row, reviews, self.keys.ring, related) + \
            self._head_problems(conn, self.keys.ring)

    @staticmethod
    def _related(conn: sa.Connection, row: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The records an approval of ``row`` depends on (see
        :func:`faircard.governance.chain.record_problems`): the versions it replaces, the
        records of the same fingerprint and the records replacing it."""
        t = records_table
        cols = [t.c[c] for c in RELATED_COLUMNS]
        out = list(conn.execute(sa.select(*cols).where(sa.or_(
            t.c.fingerprint == row["fingerprint"], t.c.supersedes == row["id"]))
            .order_by(t.c.id)).mappings())
        seen, other = {row["id"]}, row["supersedes"]
        while other is not None and other not in seen:
            seen.add(other)
            found = conn.execute(sa.select(*cols).where(t.c.id == other)).mappings().first()
            if found is None:
                break
            out.append(found)
            other = found["supersedes"]
        return out

    @staticmethod
    def _head_problems(conn: sa.Connection, ring: KeyRing | None) -> list[str]:
        """In a signed store, with verification keys: why its head cannot be trusted (empty when
        it can): the newest entry is not the head the store signed, so entries were removed
        from the end (for example a rejection that withdrew an approval). Cheap: one signature
        and the newest entry, not the whole chain."""
        reason = ""
        for _attempt in range(3):  # a writer may commit between reading the head and the rows
            meta = AuditStore._meta(conn)
            if not meta.get("signed") or ring is None:
                return []
            head, seq = str(meta.get("head_hash")), str(meta.get("event_count"))
            reason = ring.check(meta.get(HEAD_KEY_ID), meta.get(HEAD_SIGNATURE),
                                head_message(seq if seq.isdigit() else -1, head))
            if reason:
                break
            newest = max(((r[0], r[1]) for t in CHAIN.values() for r in conn.execute(
                sa.select(t.c.seq, t.c.entry_hash).order_by(t.c.seq.desc()).limit(1))),
                default=(0, GENESIS_HASH))
            if (str(newest[0]), newest[1]) == (seq, head):
                return []
            reason = "the newest entry of the chain is not the head the store signed"
        return [f"the store's head does not check out ({reason}): its newest entries may have "
                "been removed, so no status in it can be trusted"]

    def head(self) -> str:
        """The hash of the newest entry (64 zeros for an empty store); keep a copy elsewhere to
        detect a rewritten chain."""
        with self._errors(), self._engine.connect() as conn:
            return self._meta(conn)["head_hash"]

    def is_signed(self) -> bool:
        """Whether the store's entries are signed (then it refuses unsigned writes, and
        verifying needs a verification key)."""
        with self._errors(), self._engine.connect() as conn:
            return bool(self._meta(conn).get("signed"))

    def event_count(self) -> int:
        """How many entries the chain has (records, reviews and comments)."""
        with self._errors(), self._engine.connect() as conn:
            return int(self._meta(conn)["event_count"])

    def export(self, record_id: int | str) -> dict[str, Any]:
        """One record as a self-contained JSON-ready dict: its fields, the full assessment and
        its history, with the hashes that tie them to the chain."""
        rec = self.get(record_id)
        return {
            "format": "faircard-audit-record",
            "schema_version": SCHEMA_VERSION,
            "store": self.location,
            "record": rec.to_dict(),
            "assessment": self.assessment(rec.id),
            "history": [r.to_dict() for r in self.history(rec.id)],
            "comments": [c.to_dict() for c in self.comments(rec.id)],
            "cells": self.cells(rec.id),
            "card": self.card(rec.id),
        }

    # -- verification ----------------------------------------------------------------------

    def verify(self, expect_head: str | None = None) -> VerifyResult:
        """Recompute every fingerprint, entry hash and status, walk the chain and (with
        verification keys) check every entry's signature.

        ``expect_head``: a head published earlier (:meth:`head`); the chain must still contain
        it, which finds entries removed from the end. Returns a :class:`VerifyResult`; never
        raises for a broken chain (only for a store that cannot be read at all).
        """
        if expect_head is not None:
            expect_head = check_sha256(expect_head, "expected head")
        with self._errors(), self._engine.connect() as conn:
            tables = _entries(conn)
            meta = self._meta(conn)
        return verify_chain(tables, meta, self.keys.ring, expect_head)

    def sign_unsigned(self) -> int:
        """Sign every entry that has no signature (written before a signing key was
        configured) with the configured key, and sign the store's head (stores written by an
        older faircard have no head signature); returns how many entries it signed. Refuses a
        chain whose hashes, links or statuses do not verify: a broken chain must not be
        vouched for."""
        signer = self.keys.signer
        if signer is None:
            raise FaircardError("No signing key is configured; set FAIRCARD_SIGNING_KEY or "
                                "FAIRCARD_SIGNING_KEY_FILE.")
        with self._append(check_head=False) as (conn, _head, _seq):
            tables = _entries(conn)
            result = verify_chain(tables, self._meta(conn), signatures=False)
            if not result.ok:
                raise FaircardError(
                    f"The audit store '{self.location}' does not verify "
                    f"({result.problems[0]}); its entries were not signed. Restore it from a "
                    "backup."
                )
            n = 0
            for name, rows in tables.items():
                table = CHAIN[name]
                for row in rows:
                    if row["signature"] is None:
                        conn.execute(sa.update(table).where(table.c.id == row["id"]).values(
                            key_id=signer.key_id, signature=signer.sign(row["entry_hash"])))
                        n += 1
            meta = self._meta(conn)
            if n or meta.get("signed"):
                self._set_meta(conn, "signed", "1")
                self._sign_head(conn, meta["head_hash"], int(meta["event_count"]))
        return n


def _entries(conn: sa.Connection) -> dict[str, list[Mapping[str, Any]]]:
    return {name: list(conn.execute(sa.select(table)).mappings().all())
            for name, table in CHAIN.items()}


def _cells_json(cells: Mapping[str, Any]) -> str:
    if not isinstance(cells, Mapping):
        raise FaircardError("The per-cell counts must be a JSON object (a mapping).")
    return bounded_json(cells, MAX_CELLS, "The per-cell counts are",
                        "Use fewer groups or fewer histogram bins.")


def _card_json(card: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    text = card_json(card)
    if text_problem(card, spec):
        raise FaircardError(
            "The model card's text to record is not the text the recorded choices fingerprint "
            "(their card_text_sha256); record the card text the fingerprint was made from."
        )
    return text


def _parse_url(text: str) -> sa.engine.URL:
    try:
        return sa.engine.make_url(text)
    except (sa_exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        scheme = text.split("://", 1)[0][:40]
        raise FaircardError(f"The audit store '{scheme}://...' is not a database URL faircard "
                            "can read. Give a SQLite file path, sqlite:///FILE or "
                            "postgresql://USER@HOST/DATABASE.") from None


def engine_for(url: sa.engine.URL, shown: str) -> sa.engine.Engine:
    """The SQLAlchemy engine; an unknown database or a missing driver is a FaircardError.
    SQLite writers wait (up to 60 s) for the write lock instead of failing at once."""
    try:
        return sa.create_engine(
            url, connect_args={"timeout": 60} if url.get_backend_name() == "sqlite" else {})
    except sa_exc.NoSuchModuleError:
        raise FaircardError(f"The audit store '{shown}' names the database type "
                            f"'{url.drivername}', which faircard does not know. Give a SQLite "
                            "file path, sqlite:///FILE or postgresql://USER@HOST/DATABASE."
                            ) from None
    except ImportError as exc:
        raise FaircardError(f"The audit store '{shown}' needs the database driver "
                            f"'{exc.name or url.drivername}', which is not installed. Install "
                            "it, or use SQLite or PostgreSQL.") from None
    except sa_exc.ArgumentError as exc:
        raise FaircardError(f"The audit store '{shown}' is not a usable database URL "
                            f"({' '.join(str(exc).split())[:200]}).") from None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _check_sqlite_file(path: Path, create: bool) -> None:
    """Refuse, without touching it, a path that is not a SQLite database (or not there)."""
    if path.is_dir():
        raise FaircardError(f"The audit store '{path}' is a folder; give a file path.")
    if not path.exists():
        if not create:
            raise FaircardError(
                f"There is no audit store at '{path}'. Record an assessment first with "
                "'faircard record', or give the store with --store (or FAIRCARD_STORE)."
            )
        if not path.parent.is_dir():
            raise FaircardError(
                f"The folder '{path.parent}' of the audit store does not exist; create it first."
            )
        return
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise FaircardError(f"Cannot read the audit store '{path}': {exc.strerror or exc}.") \
            from None
    if head and head != _SQLITE_MAGIC:
        raise FaircardError(
            f"'{path}' is not a faircard audit store: it is not a SQLite database. Give another "
            "store path; the file was left unchanged."
        )
    if not head and not create:
        raise FaircardError(
            f"The audit store '{path}' is empty. Record an assessment first with "
            "'faircard record'."
        )
