"""Schema 1: meta, records and reviews, as the first audit stores were created.

Frozen: this is the DDL those stores have; a store of schema 1 without an Alembic version is
stamped with this revision before it is upgraded.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "records",
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
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False, unique=True),
        sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id"), nullable=False,
                  index=True),
        sa.Column("reviewer", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=True),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
