"""Schema 2: who acted (issuer, subject), comments, a record's baseline and per-cell counts,
each entry's hash version and signature.

Existing entries get hash version 1, so they keep verifying with the columns their hashes
cover; their issuer is "unauthenticated" with an empty subject (they were typed names).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _chain_columns() -> list[sa.Column]:
    return [
        sa.Column("hash_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("key_id", sa.String(80), nullable=True),
        sa.Column("signature", sa.Text, nullable=True),
    ]


def upgrade() -> None:
    # plain ADD COLUMNs (no table rebuild on SQLite): the rows and their hashes stay as they are
    for column in [*_chain_columns(),
                   sa.Column("author_issuer", sa.Text, nullable=False,
                             server_default="unauthenticated"),
                   sa.Column("author_subject", sa.Text, nullable=False, server_default=""),
                   sa.Column("baseline_id", sa.Integer, nullable=True),
                   sa.Column("cells", sa.Text, nullable=True)]:
        op.add_column("records", column)
    for column in [*_chain_columns(),
                   sa.Column("reviewer_issuer", sa.Text, nullable=False,
                             server_default="unauthenticated"),
                   sa.Column("reviewer_subject", sa.Text, nullable=False, server_default="")]:
        op.add_column("reviews", column)
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False, unique=True),
        sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id"), nullable=False,
                  index=True),
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
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="2"))
