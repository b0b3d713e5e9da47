"""Schema migrations (Alembic): a schema-1 store written by the faircard before identities and
signatures upgrades to schema 2 and keeps verifying, on SQLite and on PostgreSQL.

``data/store_schema1.sqlite3`` was written by faircard at schema 1 (``faircard.store`` before the
governance package): two records by alice, the first sent back by bob, the second (superseding
it) commented on by carol and approved by bob.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from faircard.cli import main
from faircard.errors import FaircardError
from faircard.governance.migrate import alembic_config, head_revision, upgrade
from faircard.governance.signing import Keys
from faircard.governance.store import ALEMBIC_HEAD, SCHEMA_VERSION, AuditStore
from tests.unit.postgres import pg_server, pg_url  # noqa: F401 (fixtures)

FIXTURE = Path(__file__).parent / "data" / "store_schema1.sqlite3"
HEAD_V1 = "ececd705352cc7332ff77ffc104d8259d34700cf86ba3c4622ea640f896da4e7"
KEYS = Keys.from_environment(environ={"FAIRCARD_SIGNING_KEY": "s" * 48})


def _schema1_copy(tmp_path) -> Path:
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURE, path)
    return path


def _schema1_on(url: str) -> None:
    """A schema-1 store at ``url``: the frozen revision 0001, filled with the fixture's rows."""
    target = sa.create_engine(url)
    source = sa.create_engine(f"sqlite:///{FIXTURE}")
    with target.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(sa.text("DROP TABLE alembic_version"))  # schema-1 stores had none
        with source.connect() as src:
            for table in ("meta", "records", "reviews"):
                rows = [dict(r) for r in src.execute(sa.text(f"SELECT * FROM {table}")).mappings()]
                cols = list(rows[0])
                conn.execute(sa.text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                                     f"({', '.join(':' + c for c in cols)})"), rows)
    target.dispose()
    source.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def schema1_store(request, tmp_path):
    if request.param == "sqlite":
        return str(_schema1_copy(tmp_path))
    url = request.getfixturevalue("pg_url")
    _schema1_on(url)
    return url


def test_the_fixture_is_a_schema_1_store():
    engine = sa.create_engine(f"sqlite:///{FIXTURE}")
    with engine.connect() as conn:
        meta = dict(conn.execute(sa.text("SELECT key, value FROM meta")).all())
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert meta["schema_version"] == "1" and meta["head_hash"] == HEAD_V1
    assert tables == {"meta", "records", "reviews"}


def test_upgrade_from_schema_1_keeps_verify_passing(schema1_store):
    with pytest.raises(FaircardError, match="schema version 1"):
        AuditStore(schema1_store, keys=Keys())
    done = upgrade(schema1_store, keys=Keys())
    assert (done.from_version, done.to_version, done.signed) == (1, SCHEMA_VERSION, 0)
    with AuditStore(schema1_store, keys=Keys()) as store:
        v = store.verify()
        assert v.ok, v.problems
        assert (v.n_records, v.n_reviews, v.head) == (2, 5, HEAD_V1)
        old = store.get(2)
        assert old.status == "approved" and old.supersedes == 1
        assert (old.author_issuer, old.author_subject) == ("unauthenticated", "")
        # the old approval still counts, and the old author still cannot approve
        store.submit(store.add(store.assessment(2), title="v3", created_by="alice",
                               dataset_name="loans.csv", dataset_sha256=old.dataset_sha256,
                               supersedes=2).id, "alice")
        with pytest.raises(FaircardError, match="cannot approve"):
            store.review(3, "Alice", "approve")
        store.comment(3, "carol", "New numbers?")
        v = store.verify()
        assert v.ok and v.n_records == 3 and v.n_comments == 1
    again = upgrade(schema1_store, keys=Keys())
    assert again.from_version == again.to_version == SCHEMA_VERSION


def test_upgrade_with_a_key_signs_the_old_entries(schema1_store):
    done = upgrade(schema1_store, keys=KEYS)
    assert done.signed == 7 and "signed 7 unsigned entries" in done.message
    with AuditStore(schema1_store, keys=KEYS) as store:
        v = store.verify()
        assert v.ok and v.n_signed == 7 and v.head == HEAD_V1
    with AuditStore(schema1_store, keys=Keys()) as store:
        assert not store.verify().ok  # signed now: checking needs the key


def test_a_damaged_schema_1_store_is_upgraded_but_never_signed(tmp_path):
    path = _schema1_copy(tmp_path)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE reviews SET reviewer = 'eve' WHERE decision = 'approve'"))
    engine.dispose()
    with pytest.raises(FaircardError, match="does not verify .*were not signed"):
        upgrade(path, keys=KEYS)
    with AuditStore(path, keys=Keys()) as store:
        v = store.verify()
    assert not v.ok and v.n_signed == 0


def test_new_stores_match_the_migrations(tmp_path):
    """create_all() of a new store and the migrations from nothing give the same schema."""
    assert head_revision() == ALEMBIC_HEAD
    AuditStore(tmp_path / "new.db", keys=Keys()).close()
    migrated = sa.create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    with migrated.begin() as conn:
        command.upgrade(alembic_config(conn), "head")

    def shape(path):
        engine = sa.create_engine(f"sqlite:///{path}")
        inspector = sa.inspect(engine)
        out = {t: sorted((c["name"], str(c["type"]), c["nullable"])
                         for c in inspector.get_columns(t))
               for t in inspector.get_table_names()}
        engine.dispose()
        return out

    migrated.dispose()
    assert shape(tmp_path / "new.db") == shape(tmp_path / "migrated.db")


def test_upgrade_command(tmp_path, capsys):
    path = _schema1_copy(tmp_path)
    assert main(["verify", "--store", str(path)]) == 2
    assert "faircard upgrade" in capsys.readouterr().err
    assert main(["upgrade", "--store", str(path)]) == 0
    assert "upgraded from schema 1 to 2" in capsys.readouterr().out
    assert main(["verify", "--store", str(path)]) == 0
    other = tmp_path / "other.db"
    engine = sa.create_engine(f"sqlite:///{other}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE customers (name TEXT)"))
    engine.dispose()
    assert main(["upgrade", "--store", str(other)]) == 2
    assert "not a faircard audit store" in capsys.readouterr().err
