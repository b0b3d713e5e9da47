"""Schema 3: a record keeps the model card's authors' text and how the card was shown
(``records.card``, JSON), so a share link shows the card its author saw.

A plain ADD COLUMN: existing rows keep their content and their hash version, so they keep
verifying; their ``card`` is empty (the share view then says the text was not kept).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("records", sa.Column("card", sa.Text, nullable=True))
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="3"))
