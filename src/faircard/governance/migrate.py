"""Upgrading an audit store to the current schema with Alembic (``faircard upgrade``).

The migrations live in ``faircard/governance/migrations`` and ship with the package. A store of
schema 1 (created before faircard used Alembic) is stamped with revision ``0001`` first. Every
entry keeps the hash version it was written with, so ``verify`` passes after an upgrade.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import exc as sa_exc

from ..errors import FaircardError
from .signing import Keys
from .store import APP_ID, SCHEMA_VERSION, AuditStore, engine_for, resolve_location

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION_OF_SCHEMA = {1: "0001", 2: "0002", 3: "0003"}


@dataclass(frozen=True)
class UpgradeResult:
    """What :func:`upgrade` did: the schema before and after, and how many entries it signed."""

    location: str
    from_version: int
    to_version: int
    signed: int

    @property
    def message(self) -> str:
        done = (f"upgraded from schema {self.from_version} to {self.to_version}"
                if self.from_version != self.to_version
                else f"already at schema {self.to_version}")
        signed = f"; signed {self.signed} unsigned entries" if self.signed else ""
        return f"The audit store '{self.location}' was {done}{signed}."


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """The Alembic configuration of the audit store's migrations (on ``connection``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision of the packaged migrations."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def upgrade(location: str | os.PathLike[str] | None = None, *, keys: Keys | None = None,
            sign: bool = True) -> UpgradeResult:
    """Bring the store at ``location`` to :data:`~faircard.governance.store.SCHEMA_VERSION`.

    With a signing key in ``keys`` (default: the environment) and ``sign``, entries that carry
    no signature (those written before signing was configured) are then signed, after the
    chain was verified intact; a broken chain is never signed.
    """
    url, shown = resolve_location(location, create=False)
    engine = engine_for(url, shown)
    try:
        with engine.begin() as conn:
            before = _schema_version(conn, shown)
            if before > SCHEMA_VERSION:
                raise FaircardError(
                    f"The audit store '{shown}' was written by a newer faircard (schema version "
                    f"{before}); upgrade faircard instead."
                )
            config = alembic_config(conn)
            if not sa.inspect(conn).has_table("alembic_version"):
                command.stamp(config, _REVISION_OF_SCHEMA[before])
            command.upgrade(config, "head")
    except sa_exc.DBAPIError as exc:
        detail = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise FaircardError(f"The audit store '{shown}' could not be upgraded ({detail}); it "
                            "was left as it was.") from None
    finally:
        engine.dispose()
    signed = 0
    with AuditStore(location, create=False, keys=keys) as store:
        if sign and store.keys.signer is not None:
            signed = store.sign_unsigned()
    return UpgradeResult(shown, before, SCHEMA_VERSION, signed)


def _schema_version(conn: sa.Connection, shown: str) -> int:
    inspector = sa.inspect(conn)
    if not inspector.has_table("meta"):
        raise FaircardError(f"'{shown}' is not a faircard audit store (it has no meta table); "
                            "nothing was changed.")
    meta = dict(conn.execute(sa.text("SELECT key, value FROM meta")).all())
    version = str(meta.get("schema_version", ""))
    if meta.get("app") != APP_ID or not version.isdigit() \
            or int(version) not in _REVISION_OF_SCHEMA and int(version) <= SCHEMA_VERSION:
        raise FaircardError(f"'{shown}' is not a faircard audit store with a known schema "
                            "version; nothing was changed.")
    return int(version)
