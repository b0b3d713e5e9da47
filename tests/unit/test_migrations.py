"""Schema migrations (Alembic): stores written by older faircards upgrade to the current schema
and keep verifying, on SQLite and on PostgreSQL.

``data/store_schema1.sqlite3`` was written by faircard at schema 1 (``faircard.store`` before the
governance package): two records by alice, the first sent back by bob, the second (superseding
it) commented on by carol and approved by bob.

``data/store_schema2.sqlite3`` was written by faircard at schema 2 (before records kept the
card's text), signed with the HMAC key ``"s" * 48``: record 1 by alice with a card text
fingerprint and per-cell counts, submitted and approved by bob; record 2 naming record 1 as its
baseline, commented on by carol.
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
from tests.unit.postgres import POSTGRESQL

FIXTURE = Path(__file__).parent / "data" / "store_schema1.sqlite3"
HEAD_V1 = "ececd705352cc7332ff77ffc104d8259d34700cf86ba3c4622ea640f896da4e7"
FIXTURE_V2 = Path(__file__).parent / "data" / "store_schema2.sqlite3"
HEAD_V2 = "72fc3e8a5b99aec3dfdcf2d4562ace06d7ebaa6b1828f9d9d3e4872a8a085ce2"
KEYS = Keys.from_environment(environ={"FAIRCARD_SIGNING_KEY": "s" * 48})


def _schema1_copy(tmp_path) -> Path:
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURE, path)
    return path


def _schema1_on(url: str) -> None:
    """A schema-1 store at ``url``: the frozen revision 0001, filled with the fixture's rows."""
    _fill(url, FIXTURE, "0001", ("meta", "records", "reviews"), alembic=False)


def _fill(url: str, fixture: Path, revision: str, tables: tuple[str, ...], *,
          alembic: bool) -> None:
    """The tables of ``revision`` at ``url``, filled with the rows of the SQLite ``fixture``
    (``alembic=False``: without the alembic_version table, as stores before Alembic)."""
    target = sa.create_engine(url)
    source = sa.create_engine(f"sqlite:///{fixture}")
    with target.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
        if not alembic:
            conn.execute(sa.text("DROP TABLE alembic_version"))
        with source.connect() as src:
            for table in tables:
                rows = [dict(r) for r in src.execute(sa.text(f"SELECT * FROM {table}")).mappings()]
                cols = list(rows[0])
                conn.execute(sa.text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                                     f"({', '.join(':' + c for c in cols)})"), rows)
    target.dispose()
    source.dispose()


@pytest.fixture(params=["sqlite", POSTGRESQL])
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
    assert f"upgraded from schema 1 to {SCHEMA_VERSION}" in capsys.readouterr().out
    assert main(["verify", "--store", str(path)]) == 0
    other = tmp_path / "other.db"
    engine = sa.create_engine(f"sqlite:///{other}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE customers (name TEXT)"))
    engine.dispose()
    assert main(["upgrade", "--store", str(other)]) == 2
    assert "not a faircard audit store" in capsys.readouterr().err


def _schema2_on(url: str) -> None:
    """A schema-2 store at ``url``: the frozen revision 0002, filled with the fixture's rows."""
    _fill(url, FIXTURE_V2, "0002", ("meta", "records", "reviews", "comments"), alembic=True)


@pytest.fixture(params=["sqlite", POSTGRESQL])
def schema2_store(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "v2.db"
        shutil.copyfile(FIXTURE_V2, path)
        return str(path)
    url = request.getfixturevalue("pg_url")
    _schema2_on(url)
    return url


def test_the_schema_2_fixture():
    engine = sa.create_engine(f"sqlite:///{FIXTURE_V2}")
    with engine.connect() as conn:
        meta = dict(conn.execute(sa.text("SELECT key, value FROM meta")).all())
        columns = {c["name"] for c in sa.inspect(conn).get_columns("records")}
        [version] = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
    engine.dispose()
    assert meta["schema_version"] == "2" and meta["head_hash"] == HEAD_V2 and version == "0002"
    assert "cells" in columns and "card" not in columns


def test_upgrade_from_schema_2_keeps_verify_and_signatures_passing(schema2_store):
    """The old entries keep their hashes and signatures; the old records have no card text
    and still open; new records keep theirs, and the chain still verifies."""
    import faircard
    from faircard.governance.recorded_card import card_document
    from faircard.governance.records import spec_of
    from tests.app.conftest import small_frame

    with pytest.raises(FaircardError, match="schema version 2"):
        AuditStore(schema2_store, keys=KEYS)
    done = upgrade(schema2_store, keys=KEYS)
    assert (done.from_version, done.to_version, done.signed) == (2, SCHEMA_VERSION, 0)
    with AuditStore(schema2_store, keys=KEYS) as store:
        v = store.verify()
        assert v.ok, v.problems
        assert (v.n_records, v.n_reviews, v.n_comments, v.n_signed, v.head) == (
            2, 2, 1, 5, HEAD_V2)
        old = store.get(1)
        assert old.status == "approved" and not old.has_card and store.card(1) is None
        assert old.has_cells and store.get(2).baseline == 1
        text = {"caveats": {"text": "Not for people under 21."}}
        run = faircard.assess(small_frame(n=300, seed=2), target="outcome", score="risk_score",
                              sensitive=["sex"], n_boot=0)
        new = store.add(run, title="v3", created_by="alice", dataset_name="loans3.csv",
                        dataset_sha256="c" * 64, baseline=2, spec=spec_of(run, card_text=text),
                        card=card_document(text))
        assert new.has_card and store.card(new.id)["text"] == text
        v = store.verify()
        assert v.ok and v.n_records == 3 and v.n_signed == 6, v.problems
    again = upgrade(schema2_store, keys=KEYS)
    assert again.from_version == again.to_version == SCHEMA_VERSION
