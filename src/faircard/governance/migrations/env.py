"""Alembic environment of the audit store: runs on the connection faircard hands it
(``config.attributes["connection"]``), inside faircard's transaction."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
