"""The audit store's tables (SQLAlchemy Core), schema version 2, and the entries read from
them (:class:`Record`, :class:`Review`, :class:`Comment`).

Changes to these tables go with a new Alembic revision in ``migrations/versions`` and a new
:data:`SCHEMA_VERSION`; the columns each entry's hash covers are frozen per hash version in
:data:`faircard.governance.chain.HASHED_COLUMNS`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from .chain import is_authenticated
from .identity import UNAUTHENTICATED

SCHEMA_VERSION = 3
"""Version 1: records and reviews. Version 2 adds who acted as issuer + subject (records,
reviews, comments), the comments table, a record's baseline and per-cell counts (``cells``),
the hash version of each entry and its signature (``key_id``, ``signature``). Version 3 adds
the model card's authors' text and how the card was shown (``card``)."""

metadata = sa.MetaData()


def _chain_columns() -> list[sa.Column]:
    """Columns every chain entry has since schema 2 (see migrations/versions/0002)."""
    return [
        sa.Column("hash_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("key_id", sa.String(80), nullable=True),
        sa.Column("signature", sa.Text, nullable=True),
    ]


meta_table = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
records_table = sa.Table(
    "records", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False, unique=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("dataset_name", sa.Text, nullable=False),
    sa.Column("dataset_sha256", sa.String(64), nullable=False),
    sa.Column("n_rows", sa.Integer, nullable=False),
    sa.Column("models", sa.Text, nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("assessment", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False, index=True),
    sa.Column("supersedes", sa.Integer, sa.ForeignKey("records.id"), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    # schema 2 (the baseline's existence is checked by verify(), not by a foreign key, so
    # that the migration is a plain ADD COLUMN on every database)
    *_chain_columns(),
    sa.Column("author_issuer", sa.Text, nullable=False, server_default=UNAUTHENTICATED),
    sa.Column("author_subject", sa.Text, nullable=False, server_default=""),
    sa.Column("baseline_id", sa.Integer, nullable=True),
    sa.Column("cells", sa.Text, nullable=True),
    # schema 3
    sa.Column("card", sa.Text, nullable=True),
)
reviews_table = sa.Table(
    "reviews", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False, unique=True),
    sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id"), nullable=False, index=True),
    sa.Column("reviewer", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=True),
    sa.Column("decision", sa.String(32), nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    # schema 2
    *_chain_columns(),
    sa.Column("reviewer_issuer", sa.Text, nullable=False, server_default=UNAUTHENTICATED),
    sa.Column("reviewer_subject", sa.Text, nullable=False, server_default=""),
)
comments_table = sa.Table(
    "comments", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False, unique=True),
    sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id"), nullable=False, index=True),
    sa.Column("section", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("reply_to", sa.Integer, sa.ForeignKey("comments.id"), nullable=True),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("author_issuer", sa.Text, nullable=False),
    sa.Column("author_subject", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    *_chain_columns(),
)
alembic_version_table = sa.Table(
    "alembic_version", metadata,
    sa.Column("version_num", sa.String(32), primary_key=True),
)
ALEMBIC_HEAD = "0003"
"""The Alembic revision of :data:`SCHEMA_VERSION` (a new store is created at it)."""
CHAIN = {"records": records_table, "reviews": reviews_table, "comments": comments_table}


@dataclass(frozen=True)
class Record:
    """One recorded assessment (without the full assessment document, see
    :meth:`AuditStore.assessment`, nor its per-cell counts, see :meth:`AuditStore.cells`).

    ``created_by`` is the author's display name; ``author_issuer`` and ``author_subject`` who
    they are (the ID token's ``iss``/``sub``; for a typed name ``"unauthenticated"`` and the
    name's key; ``""`` for records written before schema 2). ``superseded_by`` lists newer
    records that replace it; ``baseline`` the record it is compared with; ``has_cells``
    whether per-cell counts are stored; ``has_card`` whether the model card's authors' text is
    stored (see :meth:`AuditStore.card`); ``signed`` whether the entry carries a signature.
    """

    id: int
    title: str
    created_at: str
    created_by: str
    dataset_name: str
    dataset_sha256: str
    n_rows: int
    models: list[dict[str, str]]
    spec: dict[str, Any]
    summary: dict[str, Any]
    fingerprint: str
    status: str
    supersedes: int | None
    superseded_by: tuple[int, ...]
    entry_hash: str
    author_issuer: str = UNAUTHENTICATED
    author_subject: str = ""
    baseline: int | None = None
    has_cells: bool = False
    has_card: bool = False
    key_id: str | None = None

    @property
    def signed(self) -> bool:
        return self.key_id is not None

    @property
    def authenticated(self) -> bool:
        """Whether the author signed in (rather than typing a name)."""
        return is_authenticated(self.author_issuer, self.author_subject)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field."""
        d = asdict(self)
        d["superseded_by"] = list(self.superseded_by)
        return d


@dataclass(frozen=True)
class Review:
    """One event on a record after its creation: a submission (``decision == "submit"``) or a
    review (approve, request_changes, reject, comment). ``at`` is UTC ISO 8601. ``reviewer``
    is the display name; ``reviewer_issuer``/``reviewer_subject`` as for :class:`Record`."""

    id: int
    record_id: int
    decision: str
    reviewer: str
    role: str | None
    comment: str
    at: str
    entry_hash: str
    reviewer_issuer: str = UNAUTHENTICATED
    reviewer_subject: str = ""
    key_id: str | None = None

    @property
    def authenticated(self) -> bool:
        """Whether the reviewer signed in (rather than typing a name)."""
        return is_authenticated(self.reviewer_issuer, self.reviewer_subject)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "authenticated": self.authenticated}


@dataclass(frozen=True)
class Comment:
    """A comment on a record by anyone allowed to read it (a domain expert, say), or an answer
    to one (``reply_to``: the comment's id). ``section`` names what it is about, e.g.
    ``"section:performance"`` or ``"finding:3"`` ("" for the record as a whole). ``author``
    is the display name; ``author_issuer``/``author_subject`` as for :class:`Record`."""

    id: int
    record_id: int
    section: str
    body: str
    reply_to: int | None
    author: str
    author_issuer: str
    author_subject: str
    role: str | None
    at: str
    entry_hash: str
    key_id: str | None = None

    @property
    def authenticated(self) -> bool:
        return is_authenticated(self.author_issuer, self.author_subject)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "authenticated": self.authenticated}
